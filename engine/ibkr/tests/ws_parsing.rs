//! Typed parsing of the reference websocket samples (`ibkr-samples/ws_*.json`) and of the
//! command texts they show, without a network.

use std::path::PathBuf;

use proptest::prelude::*;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use tickline_ibkr::ws::{HistoryParams, Subscription, SystemMessage, Topic, WsMessage};

fn sample(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/reference/ibkr-samples")
        .join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("bad JSON {}: {e}", path.display()))
}

fn frames(name: &str) -> Vec<WsMessage> {
    sample(name)["receive"]
        .as_array()
        .expect("receive array")
        .iter()
        .map(|f| WsMessage::parse(&f.to_string()).unwrap_or_else(|e| panic!("{name}: {e}")))
        .collect()
}

fn dec(s: &str) -> Option<Decimal> {
    Some(s.parse().expect("decimal literal"))
}

#[test]
fn smd_sample() {
    let s = sample("ws_smd.json");
    assert_eq!(
        Subscription::market_data(265_598, [31, 84, 85, 86, 88, 7059]).command(),
        s["send"].as_str().expect("send")
    );
    assert_eq!(
        Topic::MarketData(265_598)
            .unsubscribe_command(None)
            .as_deref(),
        s["unsubscribe"].as_str()
    );
    let msgs = frames("ws_smd.json");
    let WsMessage::MarketData(first) = &msgs[0] else {
        panic!("expected market data, got {:?}", msgs[0]);
    };
    assert_eq!(first.conid, 265_598);
    assert_eq!(first.updated_ms, Some(1_712_596_911_593));
    assert_eq!(first.conid_ex(), Some("265598"));
    assert_eq!(first.server_id(), Some("q0"));
    // The frames are re-serialised from `serde_json::Value` here, so compare sorted.
    let mut fields: Vec<(u32, &str)> = first.fields().collect();
    fields.sort();
    assert_eq!(
        fields,
        vec![
            (31, "168.42"),
            (84, "168.41"),
            (85, "600"),
            (86, "168.42"),
            (88, "1,300"),
            (6119, "q0"),
            (6509, "RpB"),
            (7059, "100"),
        ]
    );
    assert!(first.extra.is_empty());
    let WsMessage::MarketData(second) = &msgs[1] else {
        panic!("expected market data");
    };
    assert_eq!(second.get(31), Some("168.43"));
    assert_eq!(second.get(7059), Some("200"));
    assert_eq!(second.get(84), None, "a delta does not clear absent fields");
    assert_eq!(msgs[1].data_topic(), Some(Topic::MarketData(265_598)));
}

#[test]
fn sor_sample() {
    let s = sample("ws_sor.json");
    assert_eq!(
        Subscription::Orders { filters: vec![] }.command(),
        s["send"].as_str().expect("send")
    );
    assert_eq!(
        Topic::Orders.unsubscribe_command(None).as_deref(),
        s["unsubscribe"].as_str()
    );
    let msgs = frames("ws_sor.json");
    let WsMessage::Order(full) = &msgs[0] else {
        panic!("expected orders");
    };
    let o = &full[0];
    assert_eq!(o.order_id, 922_048_212);
    assert_eq!(o.acct.as_deref(), Some("DU1234567"));
    assert_eq!(o.conid, Some(265_598));
    assert_eq!(o.conid_ex.as_deref(), Some("265598"));
    assert_eq!(o.status.as_deref(), Some("Submitted"));
    assert_eq!(o.side.as_deref(), Some("BUY"));
    assert_eq!(o.ticker.as_deref(), Some("AAPL"));
    assert_eq!(o.order_type.as_deref(), Some("Limit"));
    assert_eq!(o.time_in_force.as_deref(), Some("GTC"));
    assert_eq!(o.price, dec("372"));
    assert_eq!(o.remaining_quantity, dec("100"));
    assert_eq!(o.filled_quantity, dec("0"));
    assert_eq!(o.total_size, dec("100"));
    assert_eq!(o.order_ref.as_deref(), Some("my-coid-1"));
    assert_eq!(o.last_execution_time.as_deref(), Some("200708173551"));
    assert_eq!(o.last_execution_time_ms, Some(1_594_229_751_000));
    assert_eq!(o.extra["bgColor"], json!("#000000"));
    assert_eq!(o.extra["description1"], json!("AAPL"));

    let WsMessage::Order(statuses) = &msgs[1] else {
        panic!("expected orders");
    };
    let seen: Vec<&str> = statuses
        .iter()
        .filter_map(|o| o.status.as_deref())
        .collect();
    assert_eq!(seen, ["PendingSubmit", "PreSubmitted", "Submitted"]);
    assert!(statuses.iter().all(|o| o.order_id == 352_055_828));

    let WsMessage::Order(fills) = &msgs[2] else {
        panic!("expected orders");
    };
    assert_eq!(fills[0].avg_price, dec("382.45"));
    assert_eq!(fills[0].filled_quantity, dec("100"));
    assert_eq!(fills[0].remaining_quantity, dec("622"));
    assert_eq!(fills[1].status.as_deref(), Some("Filled"));
    assert_eq!(fills[1].price, dec("382.4"));
    assert_eq!(fills[1].filled_quantity, dec("722"));
}

#[test]
fn str_sample() {
    let s = sample("ws_str.json");
    assert_eq!(
        Subscription::Trades {
            realtime_updates_only: false,
            days: Some(1)
        }
        .command(),
        s["send"].as_str().expect("send")
    );
    assert_eq!(
        Topic::Trades.unsubscribe_command(None).as_deref(),
        s["unsubscribe"].as_str()
    );
    let msgs = frames("ws_str.json");
    let WsMessage::Trade(execs) = &msgs[0] else {
        panic!("expected trades");
    };
    let e = &execs[0];
    assert_eq!(e.execution_id, "00025b49.6a4ffd74.01.01");
    assert_eq!(e.symbol.as_deref(), Some("SPY"));
    assert_eq!(e.side.as_deref(), Some("B"));
    assert_eq!(e.size, dec("1"));
    assert_eq!(e.price, dec("740.90"));
    assert_eq!(e.commission, dec("1.0"));
    assert_eq!(e.net_amount, dec("740.9"));
    assert_eq!(e.order_ref.as_deref(), Some("submit-174550-7a5e"));
    assert_eq!(e.account.as_deref(), Some("DU1234567"));
    assert_eq!(e.conid, Some(756_733));
    assert_eq!(e.order_id, Some(345_375_760));
    assert_eq!(e.trade_time.as_deref(), Some("20260702-14:30:05"));
    assert_eq!(e.trade_time_ms, Some(1_783_002_605_000));
    assert_eq!(e.position, dec("48"));
    assert_eq!(e.extra["clearing_id"], json!("IB"));
}

#[test]
fn spl_sample() {
    let s = sample("ws_spl.json");
    assert_eq!(
        Subscription::Pnl.command(),
        s["send"].as_str().expect("send")
    );
    assert_eq!(
        Topic::Pnl.unsubscribe_command(None).as_deref(),
        s["unsubscribe"].as_str()
    );
    let msgs = frames("ws_spl.json");
    let WsMessage::Pnl(rows) = &msgs[0] else {
        panic!("expected pnl");
    };
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].key, "DU1234567.Core");
    assert_eq!(rows[0].account(), "DU1234567");
    let r = &rows[0].row;
    assert_eq!(r.row_type, Some(1));
    assert_eq!(r.dpl, dec("-57520"));
    assert_eq!(r.nl, dec("1290000"));
    assert_eq!(r.upl, dec("972100"));
    assert_eq!(r.uel, dec("824600"));
    assert_eq!(r.mv, dec("1700000"));
}

#[test]
fn system_sample() {
    let msgs = frames("ws_system.json");
    assert_eq!(msgs.len(), 7);
    assert_eq!(
        msgs[0],
        WsMessage::System(SystemMessage::Welcome {
            username: "user1234".into(),
            is_ft: Some(false),
            is_paper: Some(true),
        })
    );
    let WsMessage::Account(act) = &msgs[1] else {
        panic!("expected act");
    };
    assert_eq!(act.accounts, ["DU1234567"]);
    assert_eq!(act.selected_account.as_deref(), Some("DU1234567"));
    assert_eq!(act.session_id.as_deref(), Some("65ee8a41.0000001e"));
    assert_eq!(act.is_paper, Some(true));
    assert_eq!(act.is_ft, Some(false));
    assert_eq!(act.extra["serverInfo"]["serverName"], json!("JifC11113"));
    let WsMessage::AuthStatus(sts) = &msgs[2] else {
        panic!("expected sts");
    };
    assert_eq!(sts.authenticated, Some(true));
    assert_eq!(sts.competing, Some(false));
    assert_eq!(sts.server_name.as_deref(), Some("JifC11113"));
    assert_eq!(sts.username.as_deref(), Some("user1234"));
    assert_eq!(
        msgs[3],
        WsMessage::System(SystemMessage::Heartbeat {
            server_time_ms: 1_712_596_920_001
        })
    );
    let WsMessage::Notification(ntf) = &msgs[4] else {
        panic!("expected ntf");
    };
    assert_eq!(ntf[0].id.as_deref(), Some("INDICATIVE_DATA_SUGGESTION"));
    assert_eq!(ntf[0].title.as_deref(), Some("Warning"));
    assert!(
        ntf[0]
            .text
            .as_deref()
            .is_some_and(|t| t.starts_with("CFD quotes"))
    );
    let WsMessage::Bulletin(blt) = &msgs[5] else {
        panic!("expected blt");
    };
    assert_eq!(blt[0].id.as_deref(), Some("bulletin-1"));
    assert_eq!(
        blt[0].message.as_deref(),
        Some("Exchange status message text")
    );
    assert_eq!(msgs[6], WsMessage::Message("waiting for session".into()));
    assert!(msgs.iter().all(|m| m.data_topic().is_none()));
}

#[test]
fn smh_frame_from_the_history_sample() {
    let mut frame = sample("marketdata_history.json");
    frame["topic"] = json!("smh+265598");
    let WsMessage::History(h) = WsMessage::parse(&frame.to_string()).expect("parses") else {
        panic!("expected history");
    };
    assert_eq!(h.conid, Some(265_598));
    assert_eq!(h.server_id.as_deref(), Some("4155816"));
    assert_eq!(h.symbol.as_deref(), Some("AAPL"));
    assert_eq!(h.bar_length, Some(86_400));
    assert_eq!(h.outside_rth, Some(false));
    assert_eq!(h.bars.len(), 4);
    assert_eq!(h.bars[0].start_ms, 1_747_229_400_000);
    assert_eq!(h.bars[0].open, 212.43);
    assert_eq!(h.bars[0].close, 212.33);
    assert_eq!(h.bars[3].volume, 267_569.89);
    assert_eq!(h.extra["priceFactor"], json!(100));
    let sub = Subscription::History {
        conid: 265_598,
        params: HistoryParams {
            exchange: None,
            period: "1w".into(),
            bar: "1d".into(),
            outside_rth: false,
            source: None,
            format: None,
        },
    };
    assert_eq!(
        sub.command(),
        r#"smh+265598+{"period":"1w","bar":"1d","outsideRth":false}"#
    );
}

#[test]
fn sbd_and_other_frames() {
    let m = WsMessage::parse(
        r#"{"topic":"sbd+DU1234567+265598","data":[{"row":0,"focus":0,"price":"168.45","ask":"400"},{"row":1,"focus":1,"price":"168.42","bid":"1,200"}]}"#,
    )
    .expect("parses");
    let WsMessage::Book(book) = &m else {
        panic!("expected book");
    };
    assert_eq!(book.account.as_deref(), Some("DU1234567"));
    assert_eq!(book.conid, Some(265_598));
    assert_eq!(book.rows.len(), 2);
    assert_eq!(book.rows[0].price, dec("168.45"));
    assert_eq!(book.rows[0].ask, dec("400"));
    assert_eq!(book.rows[0].bid, None);
    assert_eq!(book.rows[1].focus, Some(true));
    assert_eq!(book.rows[1].bid, dec("1200"));
    assert_eq!(
        m.data_topic(),
        Some(Topic::Book {
            account: "DU1234567".into()
        })
    );

    // Order ids beyond 2^53 stay exact.
    let m = WsMessage::parse(
        r#"{"topic":"sor","args":[{"acct":"DU1","orderId":9007199254740993,"status":"Submitted"}]}"#,
    )
    .expect("parses");
    let WsMessage::Order(o) = m else {
        panic!("expected orders");
    };
    assert_eq!(o[0].order_id, 9_007_199_254_740_993);

    // ntf args may be an array; sts can be partial.
    let m = WsMessage::parse(r#"{"topic":"ntf","args":[{"id":"a"},{"id":"b"}]}"#).expect("ntf");
    assert!(matches!(m, WsMessage::Notification(ref n) if n.len() == 2));
    let m = WsMessage::parse(r#"{"topic":"sts","args":{"competing":true}}"#).expect("sts");
    assert!(
        matches!(m, WsMessage::AuthStatus(ref s) if s.competing == Some(true) && s.authenticated.is_none())
    );
    // An error frame with a topic.
    let m = WsMessage::parse(r#"{"topic":"smd+1","error":"no market data permissions","code":10}"#)
        .expect("error");
    assert_eq!(
        m,
        WsMessage::Error {
            topic: Some("smd+1".into()),
            message: "no market data permissions".into(),
            code: Some(10)
        }
    );
    // tic answers.
    let m = WsMessage::parse(r#"{"topic":"tic","alive":true,"lastAccessed":1712596920001}"#)
        .expect("tic");
    assert!(matches!(m, WsMessage::Tic(ref t) if t.last_accessed == Some(1_712_596_920_001)));
}

proptest! {
    #[test]
    fn parsing_never_panics(text in "\\PC{0,200}") {
        let _ = WsMessage::parse(&text);
    }

    #[test]
    fn parsing_json_shaped_garbage_never_panics(
        keys in proptest::collection::vec("[a-z0-9_]{1,6}", 0..6),
        topic in prop_oneof![Just("smd+1"), Just("sor"), Just("str"), Just("spl"), Just("sbd+A+1"), Just("smh+1"), Just("system"), Just("sts"), Just("act"), Just("zzz")],
        value in prop_oneof![Just(json!(1)), Just(json!("x")), Just(json!(null)), Just(json!([1, {"a": 2}])), Just(json!({"b": [true]}))],
    ) {
        let mut obj = serde_json::Map::new();
        obj.insert("topic".into(), json!(topic));
        for k in keys {
            obj.insert(k, value.clone());
        }
        obj.insert("args".into(), value.clone());
        let _ = WsMessage::parse(&Value::Object(obj).to_string());
    }

    #[test]
    fn market_data_values_round_trip(
        fields in proptest::collection::btree_map(1u32..10_000, "[ -~]{0,12}", 0..20),
        conid in 1u64..10_000_000_000,
    ) {
        let mut obj = serde_json::Map::new();
        for (id, v) in &fields {
            obj.insert(id.to_string(), json!(v));
        }
        obj.insert("conid".into(), json!(conid));
        obj.insert("topic".into(), json!(format!("smd+{conid}")));
        let parsed = WsMessage::parse(&Value::Object(obj).to_string()).expect("parses");
        let WsMessage::MarketData(md) = parsed else {
            return Err(TestCaseError::fail("not market data"));
        };
        prop_assert_eq!(md.conid, conid);
        prop_assert_eq!(md.len(), fields.len());
        for (id, v) in &fields {
            prop_assert_eq!(md.get(*id), Some(v.as_str()));
        }
    }
}
