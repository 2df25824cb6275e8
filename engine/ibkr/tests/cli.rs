//! `tickline ibkr …` against a local server: tables and JSON, confirmations on stdin, history
//! to CSV, and the OAuth handshake behind `accounts`.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use clap::Parser;
use common::{MockServer, Recorded, Reply};
use hmac::{KeyInit, Mac};
use serde_json::json;
use tickline_ibkr::IbkrError;
use tickline_ibkr::cli::{IbkrArgs, run_with_input};
use tickline_ibkr::oauth::{
    self, DhParams, DhRandom, LiveSessionToken, Prepend, base_string, hmac_sha256_signature,
};

#[derive(Parser, Debug)]
struct Cli {
    #[command(flatten)]
    ibkr: IbkrArgs,
}

/// Parse `args` (after the program name) with the server's base URL and no OAuth file, so the
/// environment cannot change the outcome.
fn args(server: &MockServer, args: &[&str]) -> IbkrArgs {
    let mut all = vec!["tickline-ibkr", "--base-url"];
    let base = server.base_url();
    all.push(&base);
    all.extend_from_slice(args);
    let mut parsed = Cli::try_parse_from(all).expect("arguments parse").ibkr;
    parsed.oauth_config = None;
    parsed
}

async fn run(a: IbkrArgs, input: &str) -> (Result<(), IbkrError>, String) {
    let mut out = Vec::new();
    let mut input = input.as_bytes();
    let r = run_with_input(a, &mut input, &mut out).await;
    (r, String::from_utf8(out).expect("utf8 output"))
}

#[tokio::test]
async fn endpoints_table_needs_no_server() {
    let server = MockServer::start().await;
    let (r, out) = run(args(&server, &["endpoints"]), "").await;
    r.expect("endpoints");
    assert!(out.contains("/v1/api/iserver/account/{accountId}/orders"));
    assert!(out.contains("193 endpoints"));
    assert!(server.requests().is_empty());
    let (r, out) = run(args(&server, &["--json", "endpoints"]), "").await;
    r.expect("json");
    let rows: Vec<serde_json::Value> = serde_json::from_str(&out).expect("JSON");
    assert_eq!(rows.len(), 193);
    assert!(
        rows.iter()
            .any(|r| r["path"] == "/gw/api/v1/echo/https" && r["typing"] == "raw")
    );
}

#[tokio::test]
async fn read_commands_print_tables_and_json() {
    let server = MockServer::with_session().await;
    server.route_sample("GET", "/v1/api/iserver/secdef/search", "secdef_search.json");
    server.route_reply(
        "GET",
        "/v1/api/iserver/contract/265598/info",
        Reply::value(json!({"con_id": 265598, "symbol": "AAPL", "company_name": "APPLE INC"})),
    );
    server.route_sample("GET", "/v1/api/iserver/account/orders", "live_orders.json");
    server.route_sample(
        "GET",
        "/v1/api/portfolio/DU1234567/positions/0",
        "portfolio_positions.json",
    );
    server.route_sample(
        "GET",
        "/v1/api/iserver/account/pnl/partitioned",
        "pnl_partitioned.json",
    );
    server.route_seq(
        "GET",
        "/v1/api/iserver/marketdata/snapshot",
        vec![
            Reply::sample("marketdata_snapshot_preflight.json"),
            Reply::sample("marketdata_snapshot.json"),
        ],
    );

    let (r, out) = run(args(&server, &["status"]), "").await;
    r.expect("status");
    assert!(
        out.contains("authenticated") && out.contains("true"),
        "{out}"
    );
    assert!(!out.contains("ce109cbeb462"), "session id printed: {out}");

    let (r, out) = run(args(&server, &["accounts"]), "").await;
    r.expect("accounts");
    assert!(out.contains("DU1234567"), "{out}");
    let (r, out) = run(args(&server, &["--json", "accounts"]), "").await;
    r.expect("accounts json");
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["selectedAccount"], "DU1234567");

    let (r, out) = run(args(&server, &["search", "IBM"]), "").await;
    r.expect("search");
    assert!(
        out.contains("8314") && out.contains("INTL BUSINESS MACHINES"),
        "{out}"
    );

    let (r, out) = run(args(&server, &["contract", "265598"]), "").await;
    r.expect("contract");
    assert!(out.contains("APPLE INC"), "{out}");

    let (r, out) = run(
        args(
            &server,
            &["snapshot", "265598", "8314", "--interval-ms", "1"],
        ),
        "",
    )
    .await;
    r.expect("snapshot");
    assert!(out.contains("168.42") && out.contains("C189.60"), "{out}");

    let (r, out) = run(args(&server, &["orders"]), "").await;
    r.expect("orders");
    assert!(
        out.contains("1210386759") && out.contains("Order123"),
        "{out}"
    );

    let (r, out) = run(args(&server, &["positions"]), "").await;
    r.expect("positions");
    assert!(out.contains("IBM") && out.contains("1412"), "{out}");

    let (r, out) = run(args(&server, &["--json", "pnl"]), "").await;
    r.expect("pnl");
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["upnl"]["DU1234567.Core"]["dpl"], "-12510");
}

#[tokio::test]
async fn history_writes_csv_and_refuses_parquet() {
    let server = MockServer::with_session().await;
    server.route_sample(
        "GET",
        "/v1/api/iserver/marketdata/history",
        "marketdata_history.json",
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("aapl.csv");
    let file_arg = file.display().to_string();
    let (r, out) = run(
        args(
            &server,
            &[
                "history", "265598", "--bar", "1d", "--period", "1w", "--out", &file_arg,
            ],
        ),
        "",
    )
    .await;
    r.expect("history");
    assert!(out.contains("wrote 4 bars"), "{out}");
    let csv = std::fs::read_to_string(&file).expect("csv written");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "ts,open,high,low,close,volume");
    assert_eq!(
        lines[1],
        "2025-05-14T13:30:00Z,212.43,213.94,210.58,212.33,266616.18"
    );
    assert_eq!(lines.len(), 5);
    let q = server.requests_to("GET", "/v1/api/iserver/marketdata/history")[0]
        .query
        .clone();
    assert_eq!(q.as_deref(), Some("conid=265598&period=1w&bar=1d"));

    server.clear_log();
    let parquet = dir.path().join("aapl.parquet").display().to_string();
    let (r, _) = run(args(&server, &["history", "265598", "--out", &parquet]), "").await;
    let err = r.expect_err("parquet is refused");
    assert!(err.to_string().contains("use a .csv file"), "{err}");
    assert!(server.requests().is_empty(), "refused before any request");

    let (r, _) = run(args(&server, &["history", "265598", "--bar", "7min"]), "").await;
    assert!(matches!(
        r,
        Err(IbkrError::InvalidInput { what: "--bar", .. })
    ));
    let (r, _) = run(
        args(&server, &["history", "265598", "--period", "99min"]),
        "",
    )
    .await;
    assert!(matches!(
        r,
        Err(IbkrError::InvalidInput {
            what: "--period",
            ..
        })
    ));
}

const PLACE: &str = "/v1/api/iserver/account/DU1234567/orders";

#[tokio::test]
async fn place_asks_before_sending() {
    let server = MockServer::with_session().await;
    server.route_sample("POST", PLACE, "orders_place_question.json");
    server.route_sample(
        "POST",
        "/v1/api/iserver/reply/07a13a5a-4a48-44a5-bb25-5ab37b79186c",
        "reply_success.json",
    );
    let place = [
        "place", "--conid", "265598", "--side", "buy", "--qty", "100", "--price", "165", "--coid",
        "cli-1",
    ];
    let (r, out) = run(args(&server, &place), "n\n").await;
    r.expect("declined");
    assert!(out.contains("not placed"), "{out}");
    assert_eq!(server.count("POST", PLACE), 0);

    let (r, out) = run(args(&server, &place), "y\ny\n").await;
    r.expect("placed");
    assert!(
        out.contains("Percentage constraint"),
        "question shown: {out}"
    );
    assert!(out.contains("1370093239"), "{out}");
    let sent = server.requests_to("POST", PLACE)[0].json();
    assert_eq!(sent["orders"][0]["cOID"], "cli-1");
    assert_eq!(sent["orders"][0]["acctId"], "DU1234567");
    assert_eq!(sent["orders"][0]["price"], json!(165.0));

    // Non-interactive: a question outside --accept is declined and reported as an error.
    server.route_reply(
        "POST",
        "/v1/api/iserver/reply/07a13a5a-4a48-44a5-bb25-5ab37b79186c",
        Reply::value(json!({"error": "Order not confirmed "})),
    );
    let mut yes = place.to_vec();
    yes.push("--yes");
    let (r, _) = run(args(&server, &yes), "").await;
    match r {
        Err(IbkrError::Api { message, .. }) => assert_eq!(message, "Order not confirmed "),
        other => panic!("{other:?}"),
    }
    let last = server
        .requests_to(
            "POST",
            "/v1/api/iserver/reply/07a13a5a-4a48-44a5-bb25-5ab37b79186c",
        )
        .pop()
        .expect("reply sent");
    assert_eq!(last.json(), json!({"confirmed": false}));
    let (r, _) = run(
        args(
            &server,
            &[
                "place", "--conid", "1", "--side", "hold", "--qty", "1", "--yes",
            ],
        ),
        "",
    )
    .await;
    assert!(matches!(
        r,
        Err(IbkrError::InvalidInput { what: "--side", .. })
    ));
}

#[tokio::test]
async fn cancel_asks_unless_yes() {
    let server = MockServer::with_session().await;
    let path = "/v1/api/iserver/account/DU1234567/order/1370093239";
    server.route_sample("DELETE", path, "order_cancel.json");
    let (r, out) = run(args(&server, &["cancel", "1370093239"]), "no\n").await;
    r.expect("declined");
    assert!(out.contains("not cancelled"));
    assert_eq!(server.count("DELETE", path), 0);
    let (r, out) = run(args(&server, &["cancel", "1370093239", "--yes"]), "").await;
    r.expect("cancelled");
    assert!(out.contains("Request was submitted"), "{out}");
    assert_eq!(server.count("DELETE", path), 1);
}

// ---- OAuth: a server that runs the Diffie-Hellman exchange and verifies HMAC signatures ----

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/oauth")
}

fn oauth_params(r: &Recorded) -> BTreeMap<String, String> {
    let header = r.header("authorization").unwrap_or_default();
    let mut map = BTreeMap::new();
    for part in header.trim_start_matches("OAuth ").split(", ") {
        if let Some((k, v)) = part.split_once('=') {
            let v = v.trim_matches('"');
            let v = percent_encoding::percent_decode_str(v)
                .decode_utf8_lossy()
                .into_owned();
            map.insert(k.to_string(), v);
        }
    }
    map
}

struct OAuthServer {
    server: MockServer,
    lst: Arc<Mutex<Option<LiveSessionToken>>>,
    verified: Arc<Mutex<Vec<String>>>,
}

async fn oauth_server(reject: bool) -> OAuthServer {
    let server = MockServer::start().await;
    let vectors: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixtures().join("vectors.json")).expect("vectors"),
    )
    .expect("vectors JSON");
    let prepend =
        Prepend::from_hex(vectors["prepend_hex"].as_str().expect("prepend")).expect("hex");
    let consumer_key = vectors["consumer_key"]
        .as_str()
        .expect("consumer key")
        .to_string();
    let dh = DhParams::load(&fixtures().join("dhparam.pem")).expect("dhparam");
    let b = DhRandom::from_hex("6b8f3a9c1d2e4f5061728394a5b6c7d8e9f00112233445566778899aabbccdde")
        .expect("random");
    let lst = Arc::new(Mutex::new(None));
    let verified = Arc::new(Mutex::new(Vec::new()));

    let l = lst.clone();
    server.route("POST", "/v1/api/oauth/live_session_token", move |r| {
        if reject {
            return Reply::status(
                401,
                r#"{"error":"id: 3931, error: invalid consumer","statusCode":401}"#,
            );
        }
        let params = oauth_params(r);
        let Some(a) = params.get("diffie_hellman_challenge") else {
            return Reply::status(400, r#"{"error":"no challenge"}"#);
        };
        // K = A^b mod p; the LST derivation is symmetric in the two DH randoms.
        let Ok(token) = oauth::compute_live_session_token(&dh, &b, a, &prepend) else {
            return Reply::status(400, r#"{"error":"bad challenge"}"#);
        };
        let mut mac = <hmac::Hmac<sha1::Sha1> as KeyInit>::new_from_slice(token.as_bytes())
            .expect("hmac key");
        mac.update(consumer_key.as_bytes());
        let signature = oauth::hex_bytes(&mac.finalize().into_bytes());
        *l.lock().expect("lock") = Some(token);
        Reply::value(json!({
            "diffie_hellman_response": oauth::dh_challenge(&dh, &b),
            "live_session_token_signature": signature,
            "live_session_token_expiration": 4102444800000i64,
        }))
    });

    let (l, v, addr) = (lst.clone(), verified.clone(), server.addr);
    server.fallback(move |r: &Recorded| {
        let Some(token) = l.lock().expect("lock").clone() else {
            return Reply::status(401, r#"{"error":"no live session token","statusCode":401}"#);
        };
        let params = oauth_params(r);
        let signed: Vec<(&str, &str)> = params
            .iter()
            .filter(|(k, _)| k.as_str() != "oauth_signature" && k.as_str() != "realm")
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let url = match &r.query {
            Some(q) => format!("http://{addr}{}?{q}", r.path),
            None => format!("http://{addr}{}", r.path),
        };
        let expected = hmac_sha256_signature(&token, &base_string(None, &r.method, &url, &signed));
        if params.get("oauth_signature") != Some(&expected) {
            return Reply::status(401, r#"{"error":"invalid signature","statusCode":401}"#);
        }
        v.lock()
            .expect("lock")
            .push(format!("{} {}", r.method, r.path));
        match r.path.as_str() {
            "/v1/api/iserver/auth/ssodh/init" | "/v1/api/iserver/auth/status" => {
                Reply::sample("iserver_auth_status.json")
            }
            "/v1/api/iserver/accounts" => Reply::sample("iserver_accounts.json"),
            _ => Reply::status(404, r#"{"error":"not found"}"#),
        }
    });
    OAuthServer {
        server,
        lst,
        verified,
    }
}

fn oauth_args(server: &MockServer, extra: &[&str]) -> IbkrArgs {
    let base = server.base_url();
    let config = fixtures().join("config.toml").display().to_string();
    let mut all = vec![
        "tickline-ibkr",
        "--base-url",
        &base,
        "--oauth-config",
        &config,
    ];
    all.extend_from_slice(extra);
    Cli::try_parse_from(all).expect("arguments parse").ibkr
}

#[tokio::test]
async fn oauth_accounts_runs_the_whole_handshake() {
    let s = oauth_server(false).await;
    let (r, out) = run(oauth_args(&s.server, &["accounts"]), "").await;
    r.expect("accounts over OAuth");
    assert!(out.contains("DU1234567"), "{out}");
    assert!(
        s.lst.lock().expect("lock").is_some(),
        "live session token negotiated"
    );
    let verified = s.verified.lock().expect("lock").clone();
    assert_eq!(
        verified,
        vec![
            "POST /v1/api/iserver/auth/status".to_string(),
            "POST /v1/api/iserver/auth/ssodh/init".to_string(),
            "GET /v1/api/iserver/accounts".to_string(),
        ],
        "every request after the handshake carried a valid HMAC-SHA256 signature"
    );
    let init = &s
        .server
        .requests_to("POST", "/v1/api/iserver/auth/ssodh/init")[0];
    assert!(init.header("user-agent").is_some());
    assert_eq!(init.json(), json!({"publish": true, "compete": true}));
}

#[tokio::test]
async fn oauth_rejection_fails_with_ibkrs_message() {
    let s = oauth_server(true).await;
    let (r, _) = run(oauth_args(&s.server, &["accounts"]), "").await;
    let err = r.expect_err("rejected");
    assert!(err.to_string().contains("invalid consumer"), "{err}");
    assert!(s.verified.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn oauth_401_renews_the_live_session_token() {
    let s = oauth_server(false).await;
    let client = tickline_ibkr::cli::build_client(&oauth_args(&s.server, &["accounts"]))
        .expect("OAuth client");
    client.connect().await.expect("handshake");
    assert_eq!(
        s.server.count("POST", "/v1/api/oauth/live_session_token"),
        1
    );
    // The server forgets the token (expiry, restart): the next request is refused with 401.
    *s.lst.lock().expect("lock") = None;
    let accounts = client
        .accounts()
        .await
        .expect("recovered after a new token");
    assert_eq!(accounts.default_account(), Some("DU1234567"));
    assert_eq!(
        s.server.count("POST", "/v1/api/oauth/live_session_token"),
        2
    );
    let verified = s.verified.lock().expect("lock").clone();
    assert_eq!(
        verified.last().map(String::as_str),
        Some("GET /v1/api/iserver/accounts")
    );
    assert!(verified.contains(&"POST /v1/api/iserver/auth/ssodh/init".to_string()));
}
