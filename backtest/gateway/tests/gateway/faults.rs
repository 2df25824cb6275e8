//! Every fault switch: pacing (429 + penalty box), injected 500s, latency, session expiry,
//! competing session / forced logout, websocket disconnects, stale feed, scheduled faults,
//! history concurrency.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::common::*;
use tickline_gateway::faults::{FaultAction, ScheduledFault};

#[tokio::test]
async fn per_endpoint_limits_and_the_penalty_box() {
    let gw = Gw::ready(ready()).await;
    gw.faults(json!({"rate_limits": true, "penalty_violations": 3, "global_rate": 0, "session_timeout_secs": 0})).await;
    assert_eq!(gw.get("/v1/api/iserver/account/orders").await.0, 200);
    let (s, v) = gw.get("/v1/api/iserver/account/orders").await;
    assert_eq!(
        (s, v["error"].as_str()),
        (429, Some("Too many requests")),
        "1 request / 5 s"
    );
    assert_eq!(
        gw.get("/v1/api/iserver/accounts").await.0,
        200,
        "other endpoints are not limited"
    );
    gw.get("/v1/api/iserver/account/orders").await;
    gw.get("/v1/api/iserver/account/orders").await;
    // Three violations: every endpoint is refused for the penalty period.
    assert_eq!(gw.get("/v1/api/iserver/accounts").await.0, 429);
    assert!(gw.state().await["penalty_left_ms"].as_u64().unwrap() > 590_000);
    assert_eq!(
        gw.get("/control/state").await.0,
        200,
        "the control endpoint is never limited"
    );
    gw.post("/control/clock/advance", json!({"secs": 601}))
        .await;
    assert_eq!(gw.post("/v1/api/tickle", json!({})).await.0, 200);
    assert_eq!(gw.get("/v1/api/iserver/account/orders").await.0, 200);
    gw.faults(json!({"rate_limits": false})).await;
    for _ in 0..5 {
        assert_eq!(gw.get("/v1/api/iserver/account/orders").await.0, 200);
    }
    gw.stop().await;
}

#[tokio::test]
async fn global_rate_limit() {
    let gw = Gw::ready(ready()).await;
    gw.faults(json!({"rate_limits": true, "global_rate": 1, "penalty_violations": 0}))
        .await;
    assert_eq!(gw.get("/v1/api/iserver/accounts").await.0, 200);
    assert_eq!(gw.get("/v1/api/trsrv/stocks?symbols=AAPL").await.0, 429);
    gw.stop().await;
}

#[tokio::test]
async fn injected_errors_are_seeded() {
    async fn pattern(seed: u64) -> Vec<u16> {
        let mut cfg = ready();
        cfg.seed = seed;
        cfg.faults.error_rate = 0.5;
        let gw = Gw::start(cfg).await;
        let mut out = Vec::new();
        for _ in 0..24 {
            let (s, v) = gw.get("/v1/api/iserver/auth/status").await;
            if s == 500 {
                assert_eq!(v["error"], "Internal Server Error (injected fault)");
            }
            out.push(s);
        }
        gw.stop().await;
        out
    }
    let a = pattern(11).await;
    assert!(a.contains(&500) && a.contains(&200), "{a:?}");
    assert_eq!(a, pattern(11).await, "same seed, same faults");
    assert_ne!(a, pattern(12).await);
    let gw = Gw::ready(ready()).await;
    gw.faults(json!({"error_rate": 1.0})).await;
    assert_eq!(gw.get("/v1/api/iserver/accounts").await.0, 500);
    gw.faults(json!({"error_rate": 0.0})).await;
    assert_eq!(gw.get("/v1/api/iserver/accounts").await.0, 200);
    gw.stop().await;
}

#[tokio::test]
async fn added_latency() {
    let gw = Gw::ready(ready()).await;
    gw.faults(json!({"latency_ms": 250})).await;
    let t = Instant::now();
    assert_eq!(gw.get("/v1/api/iserver/accounts").await.0, 200);
    assert!(t.elapsed() >= Duration::from_millis(250));
    gw.stop().await;
}

#[tokio::test]
async fn history_allows_five_concurrent_requests() {
    let gw = Gw::ready(ready()).await;
    gw.faults(json!({"latency_ms": 1500})).await;
    let reqs = (0..7)
        .map(|_| gw.get("/v1/api/iserver/marketdata/history?conid=265598&period=1h&bar=5min"));
    let statuses: Vec<u16> = futures_util::future::join_all(reqs)
        .await
        .into_iter()
        .map(|r| r.0)
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        5,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        2,
        "{statuses:?}"
    );
    gw.stop().await;
}

#[tokio::test]
async fn session_expiry_and_forced_logout_reach_the_websocket() {
    let gw = Gw::ready(ready()).await;
    let mut ws = gw.ws().await;
    ws.hello().await;
    gw.post("/control/session/compete", json!({})).await;
    // Separate frames, as IBKR sends them: authenticated first, then competing.
    let sts = ws.next_topic("sts").await.unwrap();
    assert_eq!(sts["args"], json!({"authenticated": false}));
    let sts = ws.next_topic("sts").await.unwrap();
    assert_eq!(sts["args"], json!({"competing": true}));
    gw.post("/v1/api/iserver/auth/ssodh/init", json!({"compete": true}))
        .await;
    assert_eq!(
        ws.next_topic("sts").await.unwrap()["args"]["authenticated"],
        true
    );
    assert_eq!(
        ws.next_topic("sts").await.unwrap()["args"],
        json!({"competing": false})
    );
    gw.post("/control/clock/advance", json!({"secs": 400}))
        .await;
    let sts = ws.next_topic("sts").await.unwrap();
    assert_eq!(sts["args"]["authenticated"], false);
    assert!(
        ws.next().await.is_none(),
        "the socket is closed when the session ends"
    );
    assert_eq!(gw.get("/v1/api/iserver/auth/status").await.0, 401);
    gw.stop().await;
}

#[tokio::test]
async fn websocket_disconnects_on_demand_and_periodically() {
    let gw = Gw::ready(ready()).await;
    let mut ws = gw.ws().await;
    ws.hello().await;
    gw.post("/control/ws/disconnect", json!({})).await;
    assert!(ws.next().await.is_none());
    gw.faults(json!({"ws_disconnect_secs": 30})).await;
    let mut ws = gw.ws().await;
    ws.hello().await;
    gw.post("/control/clock/advance", json!({"secs": 31})).await;
    assert!(ws.next().await.is_none());
    gw.stop().await;
}

#[tokio::test]
async fn stale_feed_is_subscribed_but_silent() {
    let gw = Gw::ready(ready()).await;
    let mut ws = gw.ws().await;
    ws.send(r#"smd+265598+{"fields":["31","84","86"]}"#).await;
    assert!(ws.next_topic("smd+265598").await.is_some());
    let snap = "/v1/api/iserver/marketdata/snapshot?conids=265598&fields=31";
    gw.get(snap).await;
    gw.faults(json!({"stale_feed": true})).await;
    let frozen = gw.get(snap).await.1[0].clone();
    gw.step(20).await;
    assert!(ws.silent_for(600).await, "no smd frames while stale");
    assert_eq!(gw.get(snap).await.1[0], frozen, "snapshots frozen");
    gw.faults(json!({"stale_feed": false})).await;
    gw.step(5).await;
    assert!(
        ws.next_topic("smd+265598").await.is_some(),
        "the feed resumes"
    );
    assert_ne!(gw.get(snap).await.1[0]["_updated"], frozen["_updated"]);
    gw.stop().await;
}

#[tokio::test]
async fn scheduled_faults_fire_on_the_service_clock() {
    let mut cfg = ready();
    cfg.faults.schedule = vec![
        ScheduledFault {
            at_secs: 60,
            action: FaultAction::Compete,
        },
        ScheduledFault {
            at_secs: 120,
            action: FaultAction::Logout,
        },
    ];
    let gw = Gw::ready(cfg).await;
    gw.post("/control/clock/advance", json!({"secs": 61})).await;
    assert_eq!(
        gw.get("/v1/api/iserver/auth/status").await.1["competing"],
        true
    );
    gw.post("/control/clock/advance", json!({"secs": 60})).await;
    assert_eq!(gw.get("/v1/api/iserver/auth/status").await.0, 401);
    let (s, v) = gw
        .post("/control/faults/trigger", json!({"action": "login"}))
        .await;
    assert_eq!((s, v["session"].as_str()), (200, Some("brokerage")));
    gw.stop().await;
}
