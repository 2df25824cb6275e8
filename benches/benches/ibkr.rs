//! IBKR Web API client: request signing (OAuth 1.0a) and websocket message parsing.
//!
//! * `oauth/hmac_sha256_request_header`: the `Authorization` header of one API request
//!   (params, base string, HMAC-SHA256 with the live session token, header formatting).
//! * `oauth/rsa_sha256_lst_request_header`: the RSA-2048 signed live session token request.
//! * `oauth/live_session_token`: Diffie-Hellman shared secret (2048-bit prime, 256-bit
//!   exponent) and the HMAC-SHA1 token derivation.
//! * `ws/parse_smd`, `ws/parse_sor`: one sample frame (`ibkr-samples/ws_smd.json`,
//!   `ws_sor.json`) into its typed message.
//!
//! * `rest/*`: REST answers (snapshot, live order, order reply, history) — see the IBKR-A
//!   section.
//!
//! Keys and DH parameters are the throwaway test fixtures of `engine/ibkr/tests/fixtures/oauth`.

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};

// ===== IBKR-B section: OAuth signing and websocket parsing =====

use tickline_ibkr::oauth::{
    DhParams, DhRandom, Identity, LiveSessionToken, Prepend, Stamp, compute_live_session_token,
    dh_challenge, hmac_request_header, load_private_key, lst_request_header,
};
use tickline_ibkr::ws::WsMessage;

/// The first `ws_smd.json` sample frame.
const SMD_FRAME: &str = r#"{"31":"168.42","84":"168.41","85":"600","86":"168.42","88":"1,300","7059":"100","6119":"q0","6509":"RpB","server_id":"q0","conidEx":"265598","conid":265598,"_updated":1712596911593,"topic":"smd+265598"}"#;

/// The first `ws_sor.json` sample frame (a full order).
const SOR_FRAME: &str = r##"{"topic":"sor","args":[{"acct":"DU1234567","conid":265598,"conidex":"265598","orderId":922048212,"cashCcy":"USD","sizeAndFills":"0/100","orderDesc":"Buy 100 Limit 372.00 GTC","description1":"AAPL","ticker":"AAPL","secType":"STK","listingExchange":"NASDAQ.NMS","remainingQuantity":100.0,"filledQuantity":0.0,"totalSize":100.0,"companyName":"APPLE INC","status":"Submitted","order_ccp_status":"Submitted","origOrderType":"LIMIT","supportsTaxOpt":"1","lastExecutionTime":"200708173551","lastExecutionTime_r":1594229751000,"orderType":"Limit","order_ref":"my-coid-1","side":"BUY","timeInForce":"GTC","price":372,"bgColor":"#000000","fgColor":"#00F000"}]}"##;

fn oauth_fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../engine/ibkr/tests/fixtures/oauth")
        .join(name)
}

fn bench_oauth(c: &mut Criterion) {
    let id = Identity {
        consumer_key: "TICKLINE1",
        token: Some("0f1e2d3c4b5a69788796"),
        realm: "limited_poa",
    };
    let lst = LiveSessionToken::from_base64("e/6ZX0RwKEkUE/6WqjSteifiOtQ=").expect("token");
    let stamp = Stamp::new("9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b", 1_714_489_502);
    let url =
        "https://api.ibkr.com/v1/api/iserver/marketdata/snapshot?conids=265598&fields=31,84,86";
    let mut g = c.benchmark_group("oauth");
    g.bench_function("hmac_sha256_request_header", |b| {
        b.iter(|| hmac_request_header(id, &lst, "GET", black_box(url), &stamp))
    });

    let key = load_private_key(&oauth_fixture("signature_key_pkcs1.pem"), "signature key")
        .expect("fixture key");
    let dh = DhParams::load(&oauth_fixture("dhparam.pem")).expect("fixture dhparam");
    let prepend = Prepend::from_hex("00067cf2fb4b09ab3957fda531cea2e6ca0a4725").expect("hex");
    let a = DhRandom::from_hex("1f2e3d4c5b6a79880123456789abcdef0fedcba98765432100112233445566ff")
        .expect("hex");
    let challenge = dh_challenge(&dh, &a);
    let lst_url = "https://api.ibkr.com/v1/api/oauth/live_session_token";
    g.bench_function("rsa_sha256_lst_request_header", |b| {
        b.iter(|| {
            lst_request_header(id, &key, &prepend, lst_url, black_box(&challenge), &stamp)
                .expect("signs")
        })
    });
    // Stand-in for IBKR's answer: any valid group element works for the timing.
    let response = dh_challenge(
        &dh,
        &DhRandom::from_hex("6b8f3a9c1d2e4f5061728394a5b6c7d8e9f00112233445566778899aabbccdde")
            .expect("hex"),
    );
    g.bench_function("live_session_token", |b| {
        b.iter(|| compute_live_session_token(&dh, &a, black_box(&response), &prepend).expect("lst"))
    });
    g.finish();
}

fn bench_ws_parsing(c: &mut Criterion) {
    let mut g = c.benchmark_group("ws");
    g.bench_function("parse_smd", |b| {
        b.iter(|| WsMessage::parse(black_box(SMD_FRAME)).expect("smd"))
    });
    g.bench_function("parse_sor", |b| {
        b.iter(|| WsMessage::parse(black_box(SOR_FRAME)).expect("sor"))
    });
    g.finish();
}

// ===== end IBKR-B section =====

// ===== IBKR-A section: REST client (add bench functions above `criterion_group!`) =====
//
// * `rest/parse_snapshot`: `marketdata_snapshot.json` (two conids) into typed snapshots, then
//   reading last/bid/ask/sizes of each.
// * `rest/parse_live_orders`: the first `ws_sor.json` frame's order into the REST/`sor` order
//   model (`LiveOrder`, decimals for prices and sizes).
// * `rest/order_reply_{ack,question,reject_prompt}`: the order answer discriminated into a
//   `PlaceOutcome`.
// * `rest/history_to_series`: a 390-bar one-minute history answer into an engine `BarSeries`.

use tickline_ibkr::marketdata::{history_to_series, parse_snapshots};
use tickline_ibkr::models::{HistoryResponse, LiveOrder, parse};
use tickline_ibkr::prompts::parse_place_response;

/// `marketdata_snapshot.json`.
const SNAPSHOT_BODY: &str = r#"[{"31":"168.42","55":"AAPL","6119":"q1","6509":"RpB","7059":"100","84":"168.41","85":"600","86":"168.42","88":"1,300","7295":"167.90","70":"169.10","71":"167.55","82":"+0.52","83":"+0.31","87":"21.4M","7762":"21412987","_updated":1712596911593,"conid":265598,"conidEx":"265598","server_id":"q1"},{"31":"C189.60","55":"IBM","6119":"q2","6509":"DpB","7059":"100","84":"189.56","85":"500","86":"189.61","88":"200","_updated":1712596911593,"conid":8314,"conidEx":"8314","server_id":"q2"}]"#;

/// The order of the first `ws_sor.json` frame.
const SOR_ORDER: &str = r##"{"acct":"DU1234567","conid":265598,"conidex":"265598","orderId":922048212,"cashCcy":"USD","sizeAndFills":"0/100","orderDesc":"Buy 100 Limit 372.00 GTC","description1":"AAPL","ticker":"AAPL","secType":"STK","listingExchange":"NASDAQ.NMS","remainingQuantity":100.0,"filledQuantity":0.0,"totalSize":100.0,"companyName":"APPLE INC","status":"Submitted","order_ccp_status":"Submitted","origOrderType":"LIMIT","supportsTaxOpt":"1","lastExecutionTime":"200708173551","lastExecutionTime_r":1594229751000,"orderType":"Limit","order_ref":"my-coid-1","side":"BUY","timeInForce":"GTC","price":372,"bgColor":"#000000","fgColor":"#00F000"}"##;

/// `orders_place_success.json`, `orders_place_question.json`, `orders_place_reject_prompt.json`.
const ACK_BODY: &str =
    r#"[{"order_id":"1370093239","order_status":"PreSubmitted","encrypt_message":"1"}]"#;
const QUESTION_BODY: &str = r#"[{"id":"07a13a5a-4a48-44a5-bb25-5ab37b79186c","message":["The following order \"BUY 100 AAPL NASDAQ.NMS @ 165.0\" price exceeds \nthe Percentage constraint of 3%.\nAre you sure you want to submit this order?"],"isSuppressed":false,"messageIds":["o163"]}]"#;
const REJECT_PROMPT_BODY: &str = r#"{"orderId":123456789,"reqId":"22170","dismissable":[],"text":"If your order is not immediately executable, our systems may reject it.\nUse the Price Management Algo?","options":["Use on this order","Always use","Do not use"],"type":"M","messageId":"p12","prompt":true}"#;

fn history_body(bars: usize) -> String {
    let mut data = String::from("[");
    for i in 0..bars {
        if i > 0 {
            data.push(',');
        }
        let t = 1_747_229_400_000i64 + i as i64 * 60_000;
        let p = 212.0 + (i % 17) as f64 * 0.05;
        data.push_str(&format!(
            r#"{{"o":{p:.2},"h":{:.2},"l":{:.2},"c":{:.2},"v":{}.5,"t":{t}}}"#,
            p + 0.1,
            p - 0.1,
            p + 0.02,
            1000 + i
        ));
    }
    data.push(']');
    format!(
        r#"{{"serverId":"1","symbol":"AAPL","text":"APPLE INC","priceFactor":100,"barLength":60,"mdAvailability":"S","points":{},"data":{data}}}"#,
        bars - 1
    )
}

fn bench_rest_parsing(c: &mut Criterion) {
    let mut g = c.benchmark_group("rest");
    g.bench_function("parse_snapshot", |b| {
        b.iter(|| {
            let snaps = parse_snapshots(black_box(SNAPSHOT_BODY.as_bytes())).expect("snapshot");
            for s in &snaps {
                black_box((s.last(), s.bid(), s.ask(), s.bid_size(), s.ask_size()));
            }
            snaps
        })
    });
    g.bench_function("parse_live_orders", |b| {
        b.iter(|| parse::<LiveOrder>(black_box(SOR_ORDER.as_bytes())).expect("order"))
    });
    for (name, body) in [
        ("order_reply_ack", ACK_BODY),
        ("order_reply_question", QUESTION_BODY),
        ("order_reply_reject_prompt", REJECT_PROMPT_BODY),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| parse_place_response(black_box(body.as_bytes())).expect("answer"))
        });
    }
    let history: HistoryResponse = parse(history_body(390).as_bytes()).expect("history body");
    g.bench_function("history_to_series", |b| {
        b.iter(|| history_to_series(black_box(&history), "AAPL").expect("series"))
    });
    g.finish();
}

// ===== end IBKR-A section =====

criterion_group!(benches, bench_oauth, bench_ws_parsing, bench_rest_parsing);
criterion_main!(benches);
