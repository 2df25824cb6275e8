//! Replaying bar files instead of simulating.

use std::io::Write;

use serde_json::json;
use tokio::net::TcpListener;

use crate::common::*;
use tickline_gateway::{GatewayError, run};

fn write_csv(
    dir: &std::path::Path,
    name: &str,
    rows: &[(&str, f64, f64, f64, f64)],
) -> std::path::PathBuf {
    let path = dir.join(name);
    let mut f = std::fs::File::create(&path).unwrap();
    writeln!(f, "ts,open,high,low,close,volume").unwrap();
    for (ts, o, h, l, c) in rows {
        writeln!(f, "{ts},{o},{h},{l},{c},1000").unwrap();
    }
    path
}

#[tokio::test]
async fn replays_files_step_by_step_and_fills_against_them() {
    let dir = tempfile::tempdir().unwrap();
    let spy = write_csv(
        dir.path(),
        "SPY_1m.csv",
        &[
            ("2024-03-01T14:30:00Z", 500.0, 501.0, 499.5, 500.5),
            ("2024-03-01T14:31:00Z", 500.5, 502.0, 500.0, 501.5),
            ("2024-03-01T14:32:00Z", 501.5, 501.6, 498.0, 498.5),
        ],
    );
    let mut cfg = ready();
    cfg.market.data = vec![spy];
    cfg.market.replay_warmup = 1;
    let gw = Gw::ready(cfg).await;
    assert_eq!(gw.last(SPY).await, 500.5, "the warm-up bar is history");
    let (_, v) = gw.get("/control/state").await;
    assert_eq!(v["market"]["source"], "replay");
    assert_eq!(v["market"]["replay_remaining"], 2);
    let (_, q) = gw.place(json!({"conid": SPY, "orderType": "LMT", "price": 499.0, "side": "BUY", "tif": "GTC", "quantity": 1})).await;
    let id = q[0]["order_id"].as_str().unwrap().to_string();
    let v = gw.step(1).await;
    assert_eq!(v["market"]["now"], "2024-03-01T14:32:00+00:00");
    assert_eq!(gw.last(SPY).await, 501.5);
    assert_eq!(gw.order_status(&id).await["order_status"], "Submitted");
    gw.step(1).await;
    assert_eq!(
        gw.order_status(&id).await["average_price"],
        "499.00",
        "the third bar trades down to 498"
    );
    let (_, v) = gw.post("/control/market/step", json!({"steps": 5})).await;
    assert_eq!(
        (v["steps"].clone(), v["exhausted"].clone()),
        (json!(0), json!(true))
    );
    let (_, h) = gw.get("/v1/api/iserver/marketdata/history?conid=756733&period=1h&bar=1min&startTime=20240301-15:00:00").await;
    assert_eq!(h["data"].as_array().unwrap().len(), 3);
    // Instruments without data have no quotes.
    let (_, v) = gw
        .get("/v1/api/iserver/marketdata/snapshot?conids=265598")
        .await;
    assert_eq!(v[0], json!({"conid": AAPL, "conidEx": "265598"}));
    assert!(
        gw.get("/v1/api/iserver/marketdata/snapshot?conids=265598")
            .await
            .1[0]
            .get("31")
            .is_none()
    );
    gw.stop().await;
}

#[tokio::test]
async fn unknown_replay_symbols_stop_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_csv(
        dir.path(),
        "ZZZZ_1m.csv",
        &[("2024-03-01T14:30:00Z", 1.0, 1.0, 1.0, 1.0)],
    );
    let mut cfg = ready();
    cfg.market.data = vec![path];
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let err = run(listener, cfg, async {}).await.unwrap_err();
    assert!(
        matches!(err, GatewayError::UnknownReplaySymbol { ref symbol, .. } if symbol == "ZZZZ"),
        "{err}"
    );
    assert!(err.to_string().contains("ZZZZ"));
    let missing = dir.path().join("nope.csv");
    let mut cfg = ready();
    cfg.market.data = vec![missing];
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    assert!(matches!(
        run(listener, cfg, async {}).await,
        Err(GatewayError::Data(_))
    ));
}
