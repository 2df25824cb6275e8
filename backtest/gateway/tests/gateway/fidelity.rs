//! The ways real IBKR misbehaves, each as a fault switch or default behaviour (sources in
//! backtest/gateway/README.md): maintenance windows, 503 on order creation, a stuck
//! brokerage session, `ssodh/init` that needs retries, competing while authenticated, `smd`
//! lapse, `PendingCancel`, refused cancels and modifications, `WarnState`, the `p12` server
//! prompt, `ntf`/`blt`, the live-orders quirks, history of the requested period, late
//! commissions.

use serde_json::{Value, json};

use crate::common::*;
use tickline_gateway::prompts::{PromptRule, PromptTrigger};

fn lmt(price: f64, coid: &str) -> Value {
    json!({"acctId": ACCT, "conid": AAPL, "orderType": "LMT", "price": price, "side": "BUY", "tif": "GTC", "quantity": 10, "cOID": coid})
}

fn order_id(ack: &Value) -> String {
    ack[0]["order_id"]
        .as_str()
        .unwrap_or_else(|| panic!("not an ack: {ack}"))
        .to_string()
}

async fn status(gw: &Gw, id: &str) -> String {
    gw.order_status(id).await["order_status"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn maintenance_window_takes_iserver_down_and_resets_the_session() {
    let mut cfg = ready();
    // Wednesday 2024-01-03 00:14 New York, one simulated minute per step.
    cfg.market.start = Some("2024-01-03T05:14:00Z".into());
    cfg.market.step_ms = 60_000;
    cfg.faults.maintenance = tickline_gateway::faults::MaintenanceRegion::NorthAmerica;
    cfg.faults.session_timeout_secs = 0;
    let gw = Gw::ready(cfg).await;
    let mut ws = gw.ws().await;
    ws.hello().await;
    assert!(gw.state().await["maintenance"].is_null());
    // Answers are dated by the market clock (IBKR's servers date theirs with the venue's
    // time), and the account belongs to the region's entity: a client finds its windows.
    let r = gw.post_raw("/v1/api/tickle", json!({})).await;
    assert_eq!(
        r.headers()["date"].to_str().unwrap(),
        "Wed, 03 Jan 2024 05:14:00 GMT"
    );
    let (_, accounts) = gw.get("/v1/api/portfolio/accounts").await;
    assert_eq!(accounts[0]["ibEntity"], "IBLLC-US");
    gw.step(1).await; // 00:15 New York
    let st = gw.state().await;
    assert_eq!(st["maintenance"]["kind"], "daily");
    assert_eq!(st["maintenance"]["end"], "2024-01-03T06:45:00+00:00");
    let sts = ws.next_topic("sts").await.unwrap();
    assert_eq!(
        sts["args"],
        json!({"authenticated": false, "message": "maintenance"})
    );
    let (s, v) = gw.get("/v1/api/iserver/accounts").await;
    assert_eq!(s, 503, "{v}");
    assert!(v["error"].as_str().unwrap().contains("maintenance"), "{v}");
    assert_eq!(
        gw.post("/v1/api/iserver/auth/ssodh/init", json!({}))
            .await
            .0,
        503,
        "logins are refused during the window"
    );
    assert_eq!(gw.state().await["maintenance_logins"], 1, "counted");
    assert_eq!(
        gw.get(&format!("/v1/api/portfolio/{ACCT}/summary")).await.0,
        503
    );
    let (s, v) = gw.post("/v1/api/iserver/auth/status", json!({})).await;
    assert_eq!(
        (s, &v["authenticated"], &v["message"]),
        (200, &json!(false), &json!("maintenance"))
    );
    assert_eq!(gw.get("/v1/api/trsrv/stocks?symbols=AAPL").await.0, 200);
    assert_eq!(gw.post("/v1/api/tickle", json!({})).await.0, 200);

    gw.step(90).await; // 01:45: over
    assert!(gw.state().await["maintenance"].is_null());
    let (s, v) = gw.get("/v1/api/iserver/account/orders").await;
    assert_eq!(
        (s, v["error"].as_str()),
        (400, Some("Bad Request: no bridge")),
        "the brokerage session was reset: ssodh/init again"
    );
    let (_, v) = gw.post("/v1/api/iserver/auth/ssodh/init", json!({})).await;
    assert_eq!(v["authenticated"], true);
    gw.prime().await;
    assert_eq!(gw.get("/v1/api/iserver/account/orders").await.0, 200);
    gw.stop().await;
}

#[tokio::test]
async fn maintenance_follows_the_configured_region() {
    let mut cfg = ready();
    cfg.market.start = Some("2024-01-03T05:14:00Z".into());
    cfg.market.step_ms = 60_000;
    cfg.faults.maintenance = tickline_gateway::faults::MaintenanceRegion::Europe;
    let gw = Gw::ready(cfg).await;
    let (_, accounts) = gw.get("/v1/api/portfolio/accounts").await;
    assert_eq!(accounts[0]["ibEntity"], "IBIE", "a European entity");
    gw.step(2).await; // 00:16 New York = 06:16 Zug: no window for Europe yet
    assert_eq!(gw.get("/v1/api/iserver/accounts").await.0, 200);
    gw.step(10).await; // 06:26 Zug
    assert_eq!(gw.get("/v1/api/iserver/accounts").await.0, 503);
    gw.faults(json!({"maintenance": "off"})).await;
    gw.step(1).await;
    assert!(gw.state().await["maintenance"].is_null());
    gw.stop().await;
}

#[tokio::test]
async fn placement_503_with_the_order_created_or_not() {
    let gw = Gw::ready(ready()).await;
    gw.faults(json!({"order_503_rate": 1.0, "order_503_outcome": "created"}))
        .await;
    let resp = gw
        .post_raw(
            &format!("/v1/api/iserver/account/{ACCT}/orders"),
            json!({"orders": [lmt(150.0, "c503-a")]}),
        )
        .await;
    assert_eq!(resp.status().as_u16(), 503);
    assert_eq!(
        resp.headers()
            .get("x-response-time")
            .and_then(|v| v.to_str().ok()),
        Some("10000ms")
    );
    assert_eq!(resp.text().await.unwrap(), "", "IBKR's 503 has no body");
    let orders = gw.get("/control/orders").await.1;
    assert!(
        orders
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["order_ref"] == "c503-a" && o["status"] == "Submitted"),
        "{orders}"
    );
    gw.faults(json!({"order_503_rate": 0.0})).await;
    let (_, v) = gw.place(lmt(150.0, "c503-a")).await;
    assert!(
        v["error"].as_str().unwrap().contains("already registered"),
        "the same cOID cannot make a second order: {v}"
    );

    gw.faults(json!({"order_503_rate": 1.0, "order_503_outcome": "not-created"}))
        .await;
    assert_eq!(gw.place(lmt(150.0, "c503-b")).await.0, 503);
    let orders = gw.get("/control/orders").await.1;
    assert!(
        !orders
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["order_ref"] == "c503-b")
    );
    gw.faults(json!({"order_503_rate": 0.0})).await;
    let (_, v) = gw.place(lmt(150.0, "c503-b")).await;
    assert_eq!(
        v[0]["order_status"], "Submitted",
        "the resubmission is the only order"
    );
    gw.stop().await;
}

#[tokio::test]
async fn reply_503_creates_the_confirmed_order() {
    let mut cfg = ready();
    cfg.prompts = tickline_gateway::prompts::PromptRule::defaults();
    let gw = Gw::ready(cfg).await;
    let (_, q) = gw.place(lmt(100.0, "r503")).await; // far from the market: o163
    let reply = q[0]["id"].as_str().unwrap().to_string();
    gw.faults(json!({"order_503_rate": 1.0, "order_503_outcome": "created"}))
        .await;
    let (s, _) = gw
        .post(
            &format!("/v1/api/iserver/reply/{reply}"),
            json!({"confirmed": true}),
        )
        .await;
    assert_eq!(s, 503);
    let orders = gw.get("/control/orders").await.1;
    assert_eq!(
        orders
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| o["order_ref"] == "r503")
            .count(),
        1
    );
    gw.stop().await;
}

#[tokio::test]
async fn stuck_brokerage_session_and_ssodh_init_that_needs_retries() {
    let gw = Gw::ready(ready()).await;
    gw.faults(json!({"stuck_brokerage": true})).await;
    let (_, v) = gw.post("/v1/api/iserver/auth/status", json!({})).await;
    assert_eq!(
        (&v["authenticated"], &v["connected"]),
        (&json!(false), &json!(true))
    );
    for _ in 0..3 {
        let (_, v) = gw
            .post("/v1/api/iserver/auth/ssodh/init", json!({"compete": true}))
            .await;
        assert_eq!(v["authenticated"], false, "init does not help: {v}");
    }
    assert_eq!(gw.get("/v1/api/iserver/account/orders").await.0, 400);
    gw.faults(json!({"stuck_brokerage": false, "ssodh_init_failures": 2}))
        .await;
    for left in [1, 0] {
        let (_, v) = gw.post("/v1/api/iserver/auth/ssodh/init", json!({})).await;
        assert_eq!(v["authenticated"], false);
        assert!(v["fail"].as_str().unwrap().contains("retry"), "{v}");
        assert_eq!(
            gw.get("/control/faults").await.1["ssodh_init_failures"],
            left
        );
    }
    let (_, v) = gw.post("/v1/api/iserver/auth/ssodh/init", json!({})).await;
    assert_eq!(v["authenticated"], true, "the third init works");
    gw.stop().await;
}

#[tokio::test]
async fn competing_while_authenticated() {
    let gw = Gw::ready(ready()).await;
    let mut ws = gw.ws().await;
    ws.hello().await;
    let (s, v) = gw
        .post(
            "/control/faults/trigger",
            json!({"action": "compete-authenticated"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        ws.next_topic("sts").await.unwrap()["args"],
        json!({"competing": true}),
        "only the competing flag changes"
    );
    let (_, v) = gw.post("/v1/api/iserver/auth/status", json!({})).await;
    assert_eq!(
        (&v["authenticated"], &v["competing"]),
        (&json!(true), &json!(true))
    );
    assert_eq!(gw.place(lmt(150.0, "comp-1")).await.0, 200, "still trading");
    let (_, v) = gw
        .post("/v1/api/iserver/auth/ssodh/init", json!({"compete": false}))
        .await;
    assert_eq!(v["competing"], true, "not taken back without compete");
    let (_, v) = gw
        .post("/v1/api/iserver/auth/ssodh/init", json!({"compete": true}))
        .await;
    assert_eq!(
        (&v["authenticated"], &v["competing"]),
        (&json!(true), &json!(false))
    );
    assert_eq!(
        ws.next_topic("sts").await.unwrap()["args"],
        json!({"competing": false})
    );
    gw.stop().await;
}

#[tokio::test]
async fn smd_lapses_unless_renewed() {
    let mut cfg = ready();
    cfg.faults.smd_lapse_secs = 60;
    cfg.faults.session_timeout_secs = 0;
    let gw = Gw::ready(cfg).await;
    let mut ws = gw.ws().await;
    let sub = r#"smd+265598+{"fields":["31","84","86"]}"#;
    ws.send(sub).await;
    assert!(ws.next_topic("smd+265598").await.is_some());
    gw.step(3).await;
    assert!(ws.next_topic("smd+265598").await.is_some(), "streaming");
    gw.advance_secs(61).await;
    gw.step(5).await;
    assert!(
        ws.silent_for(600).await,
        "lapsed: silent, no error, no frame"
    );
    ws.send(sub).await;
    assert!(
        ws.next_topic("smd+265598").await.is_some(),
        "a new request renews it"
    );
    gw.step(2).await;
    assert!(ws.next_topic("smd+265598").await.is_some());
    gw.stop().await;
}

#[tokio::test]
async fn pending_cancel_delay_allows_a_late_fill() {
    let mut cfg = ready();
    cfg.faults.cancel_delay_ms = 5_000;
    cfg.faults.session_timeout_secs = 0;
    let gw = Gw::ready(cfg).await;
    let mut ws = gw.ws().await;
    ws.send("sor+{}").await;
    ws.next_topic("sor").await.unwrap();
    let (_, v) = gw.place(lmt(150.0, "pc-1")).await;
    let id = order_id(&v);
    let (_, v) = gw
        .delete(&format!("/v1/api/iserver/account/{ACCT}/order/{id}"))
        .await;
    assert_eq!(v["msg"], "Request was submitted");
    assert_eq!(status(&gw, &id).await, "PendingCancel");
    loop {
        let f = ws.next_topic("sor").await.unwrap();
        if f["args"][0]["status"] == "PendingCancel" {
            break;
        }
    }
    // The market trades through the limit before the cancel takes effect.
    gw.bar(AAPL, 190.0, 190.0, 149.0, 189.0).await;
    assert_eq!(
        status(&gw, &id).await,
        "Filled",
        "late fill after the cancel request"
    );
    let execs = gw.get("/control/executions").await.1;
    assert_eq!(execs.as_array().unwrap().len(), 1);
    gw.advance_secs(6).await;
    assert_eq!(
        status(&gw, &id).await,
        "Filled",
        "a filled order stays filled"
    );

    let (_, v) = gw.place(lmt(150.0, "pc-2")).await;
    let id = order_id(&v);
    gw.delete(&format!("/v1/api/iserver/account/{ACCT}/order/{id}"))
        .await;
    assert_eq!(status(&gw, &id).await, "PendingCancel");
    let (_, v) = gw
        .post(
            &format!("/v1/api/iserver/account/{ACCT}/order/{id}"),
            lmt(151.0, "pc-2"),
        )
        .await;
    assert!(
        v["error"].as_str().unwrap().contains("PendingCancel"),
        "no modification while the cancel is pending: {v}"
    );
    gw.advance_secs(6).await;
    assert_eq!(status(&gw, &id).await, "Cancelled");
    gw.stop().await;
}

#[tokio::test]
async fn refused_cancels_and_modifications() {
    let gw = Gw::ready(ready()).await;
    let (_, v) = gw.place(lmt(150.0, "rj-1")).await;
    let id = order_id(&v);
    gw.faults(json!({"cancel_reject_rate": 1.0, "modify_reject_rate": 1.0}))
        .await;
    let (s, v) = gw
        .delete(&format!("/v1/api/iserver/account/{ACCT}/order/{id}"))
        .await;
    assert_eq!(s, 200);
    assert!(v["error"].as_str().unwrap().contains("rejected"), "{v}");
    let (_, v) = gw
        .post(
            &format!("/v1/api/iserver/account/{ACCT}/order/{id}"),
            lmt(151.0, "rj-1"),
        )
        .await;
    assert!(v["error"].as_str().unwrap().contains("rejected"), "{v}");
    let st = gw.order_status(&id).await;
    assert_eq!(
        (&st["order_status"], &st["limit_price"]),
        (&json!("Submitted"), &json!("150.00"))
    );
    gw.faults(json!({"cancel_reject_rate": 0.0})).await;
    gw.delete(&format!("/v1/api/iserver/account/{ACCT}/order/{id}"))
        .await;
    assert_eq!(status(&gw, &id).await, "Cancelled");
    gw.stop().await;
}

#[tokio::test]
async fn warn_state_orders_keep_working() {
    let gw = Gw::ready(ready()).await;
    gw.faults(json!({"warn_state_rate": 1.0})).await;
    let (_, v) = gw.place(lmt(150.0, "ws-1")).await;
    let id = order_id(&v);
    let st = gw.order_status(&id).await;
    assert_eq!(st["order_status"], "WarnState");
    assert!(st["warning_message"].as_str().unwrap().contains("warning"));
    gw.live_orders("").await;
    let listed = gw.live_orders("?filters=warn_state").await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["status"], "WarnState");
    gw.bar(AAPL, 190.0, 190.0, 149.0, 189.0).await;
    assert_eq!(status(&gw, &id).await, "Filled");
    gw.stop().await;
}

fn p12_config() -> tickline_gateway::GatewayConfig {
    let mut cfg = ready();
    cfg.prompts = vec![PromptRule {
        message_id: "p12".into(),
        when: PromptTrigger::Always,
        threshold: None,
        text: None,
        style: None,
    }];
    cfg
}

#[tokio::test]
async fn p12_server_prompt_is_answered_through_the_notification_endpoint() {
    let gw = Gw::ready(p12_config()).await;
    let mut ws = gw.ws().await;
    ws.hello().await;
    let (_, p) = gw.place(lmt(150.0, "p12-a")).await;
    assert_eq!(
        (&p["messageId"], &p["prompt"], &p["type"]),
        (&json!("p12"), &json!(true), &json!("M"))
    );
    assert_eq!(
        p["options"],
        json!(["Use on this order", "Always use", "Do not use"])
    );
    assert!(
        p["text"]
            .as_str()
            .unwrap()
            .ends_with("Use the Price Management Algo?")
    );
    let id = p["orderId"].as_u64().unwrap();
    let req = p["reqId"].as_str().unwrap().to_string();
    let ntf = ws.next_topic("ntf").await.unwrap();
    assert_eq!(ntf["args"], p, "the same prompt arrives on the websocket");
    assert_eq!(status(&gw, &id.to_string()).await, "PendingSubmit");
    let (s, v) = gw
        .post(
            "/v1/api/iserver/notification",
            json!({"orderId": id, "reqId": req, "text": "Maybe"}),
        )
        .await;
    assert_eq!(s, 400);
    assert!(
        v["error"].as_str().unwrap().contains("Use on this order"),
        "{v}"
    );
    let resp = gw
        .post_raw(
            "/v1/api/iserver/notification",
            json!({"orderId": id, "reqId": req, "text": "Use on this order"}),
        )
        .await;
    assert_eq!(resp.status().as_u16(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    assert!(resp.text().await.unwrap().contains("submitted"));
    assert_eq!(status(&gw, &id.to_string()).await, "Submitted");
    let (s, _) = gw
        .post(
            "/v1/api/iserver/notification",
            json!({"orderId": id, "reqId": req, "text": "Use on this order"}),
        )
        .await;
    assert_eq!(s, 400, "a prompt is answered once");

    // "Do not use": rejected.
    let (_, p) = gw.place(lmt(150.0, "p12-b")).await;
    let id = p["orderId"].as_u64().unwrap();
    gw.post(
        "/v1/api/iserver/notification",
        json!({"orderId": id, "reqId": p["reqId"], "text": "Do not use"}),
    )
    .await;
    let st = gw.order_status(&id.to_string()).await;
    assert_eq!(st["order_status"], "Inactive");
    // Not answered in time: rejected too.
    let (_, p) = gw.place(lmt(150.0, "p12-c")).await;
    let id = p["orderId"].as_u64().unwrap();
    gw.advance_secs(31).await;
    assert_eq!(status(&gw, &id.to_string()).await, "Inactive");
    // "Always use": no more prompts this session.
    let (_, p) = gw.place(lmt(150.0, "p12-d")).await;
    gw.post(
        "/v1/api/iserver/notification",
        json!({"orderId": p["orderId"], "reqId": p["reqId"], "text": "Always use"}),
    )
    .await;
    let (_, v) = gw.place(lmt(150.0, "p12-e")).await;
    assert_eq!(v[0]["order_status"], "Submitted", "{v}");
    gw.stop().await;
}

#[tokio::test]
async fn ntf_and_blt_are_pushed() {
    let gw = Gw::ready(ready()).await;
    let mut ws = gw.ws().await;
    ws.hello().await;
    assert_eq!(gw.post("/control/ws/ntf", json!({})).await.0, 200);
    let f = ws.next_topic("ntf").await.unwrap();
    assert_eq!(f["args"]["id"], "INDICATIVE_DATA_SUGGESTION");
    gw.post(
        "/control/ws/blt",
        json!({"id": "B7", "message": "NYSE delayed"}),
    )
    .await;
    let f = ws.next_topic("blt").await.unwrap();
    assert_eq!(f["args"], json!({"id": "B7", "message": "NYSE delayed"}));
    assert_eq!(gw.post("/control/ws/zzz", json!({})).await.0, 404);
    gw.stop().await;
}

#[tokio::test]
async fn live_orders_quirks() {
    let gw = Gw::ready(ready()).await;
    gw.place(lmt(150.0, "q-1")).await;
    assert!(
        gw.live_orders("").await.is_empty(),
        "the first call of a session answers nothing useful"
    );
    assert_eq!(gw.live_orders("").await.len(), 1, "the second does");
    assert_eq!(
        gw.get("/v1/api/iserver/account/orders?force=true").await.1,
        json!({"orders": []}),
        "force=true clears the cache and answers an empty list"
    );
    // Filters stop sor order updates until force=true.
    let mut ws = gw.ws().await;
    ws.send("sor+{}").await;
    ws.next_topic("sor").await.unwrap();
    gw.live_orders("?filters=submitted").await;
    gw.place(lmt(150.0, "q-2")).await;
    assert!(ws.silent_for(500).await, "no sor after a filtered call");
    gw.live_orders("?force=true").await;
    gw.place(lmt(150.0, "q-3")).await;
    let f = ws.next_topic("sor").await.unwrap();
    assert_eq!(f["args"][0]["order_ref"], "q-3");
    // A new brokerage session is cold again.
    gw.post("/control/session/reset", json!({})).await;
    gw.post("/v1/api/iserver/auth/ssodh/init", json!({})).await;
    gw.prime().await;
    assert!(gw.live_orders("").await.is_empty());
    assert_eq!(gw.live_orders("").await.len(), 3);
    gw.stop().await;
}

#[tokio::test]
async fn live_orders_are_stale_after_hours_until_forced() {
    let mut cfg = ready();
    cfg.market.start = Some("2024-01-02T22:00:00Z".into()); // 17:00 New York
    cfg.faults.orders_stale_after_hours = true;
    let gw = Gw::ready(cfg).await;
    gw.live_orders("").await; // warm
    gw.place(lmt(150.0, "ah-1")).await;
    assert_eq!(gw.live_orders("").await.len(), 1);
    gw.place(lmt(150.0, "ah-2")).await;
    assert_eq!(gw.live_orders("").await.len(), 1, "stale cache after hours");
    gw.live_orders("?force=true").await;
    assert_eq!(gw.live_orders("").await.len(), 2, "fresh after force=true");
    gw.stop().await;
}

#[tokio::test]
async fn history_covers_the_requested_period() {
    let gw = Gw::ready(ready()).await;
    let hist = |q: &str| format!("/v1/api/iserver/marketdata/history?conid={AAPL}&{q}");
    let (_, v) = gw.get(&hist("period=1y&bar=1d")).await;
    let data = v["data"].as_array().unwrap();
    // 2023-01-02 .. 2024-01-01 weekdays (holidays are not modelled).
    assert!((255..=262).contains(&data.len()), "{}", data.len());
    let first = data[0]["t"].as_i64().unwrap();
    let last = data[data.len() - 1]["t"].as_i64().unwrap();
    assert!(last - first > 360 * 86_400_000, "a year apart");
    assert_eq!(v["barLength"], 86_400);
    for w in data.windows(2) {
        assert!(w[1]["t"].as_i64() > w[0]["t"].as_i64());
    }
    let (_, v) = gw.get(&hist("period=5y&bar=1w")).await;
    let n = v["data"].as_array().unwrap().len();
    assert!((255..=262).contains(&n), "{n} weekly bars in 5 years");
    let (_, v) = gw.get(&hist("period=1m&bar=1h")).await;
    let n = v["data"].as_array().unwrap().len();
    assert!(
        (140..=170).contains(&n),
        "{n} hourly bars in a month of sessions"
    );
    let (_, v) = gw.get(&hist("period=15y&bar=1d")).await;
    assert_eq!(
        v["data"].as_array().unwrap().len(),
        1_000,
        "at most 1000 bars per request: page with startTime"
    );
    let (_, v) = gw.get(&hist("period=30d&bar=1min")).await;
    assert!(
        v["data"].as_array().unwrap().len() <= 2 * 390,
        "minute bars only where the emulator stores them"
    );
    // The same seed gives the same deep history, whatever was asked before.
    let again = Gw::ready(ready()).await;
    let a = gw.get(&hist("period=1y&bar=1d")).await.1;
    let b = again.get(&hist("period=1y&bar=1d")).await.1;
    assert_eq!(a["data"], b["data"]);
    again.stop().await;
    gw.stop().await;
}

#[tokio::test]
async fn late_commission_arrives_in_a_second_str_frame() {
    let mut cfg = ready();
    cfg.faults.late_commission_ms = 1_000;
    cfg.faults.session_timeout_secs = 0;
    let gw = Gw::ready(cfg).await;
    let mut ws = gw.ws().await;
    ws.send(r#"str+{"realtimeUpdatesOnly":true}"#).await;
    ws.next_topic("str").await.unwrap();
    gw.place(json!({"conid": AAPL, "orderType": "MKT", "side": "BUY", "tif": "DAY", "quantity": 100, "cOID": "lc-1"}))
        .await;
    let first = ws.next_topic("str").await.unwrap();
    let exec = &first["args"][0];
    assert!(exec.get("commission").is_none(), "{exec}");
    let id = exec["execution_id"].clone();
    gw.advance_secs(2).await;
    let second = ws.next_topic("str").await.unwrap();
    assert_eq!(second["args"][0]["execution_id"], id);
    assert_eq!(second["args"][0]["commission"], "1");
    let trades = gw.get("/v1/api/iserver/account/trades").await.1;
    assert_eq!(trades[0]["commission"], "1", "REST has it at once");
    gw.stop().await;
}

#[tokio::test]
async fn control_executions_list_every_execution() {
    let gw = Gw::ready(ready()).await;
    for (coid, side) in [("ex-1", "BUY"), ("ex-2", "SELL")] {
        gw.place(json!({"conid": AAPL, "orderType": "MKT", "side": side, "tif": "DAY", "quantity": 10, "cOID": coid}))
            .await;
    }
    gw.place(
        json!({"conid": AAPL, "orderType": "MKT", "side": "BUY", "tif": "DAY", "quantity": 5}),
    )
    .await;
    let execs = gw.get("/control/executions").await.1;
    let execs = execs.as_array().unwrap();
    assert_eq!(execs.len(), 3);
    for (e, coid, side, size) in [
        (&execs[0], json!("ex-1"), "B", 10.0),
        (&execs[1], json!("ex-2"), "S", 10.0),
        (&execs[2], json!(null), "B", 5.0),
    ] {
        assert!(e["execution_id"].as_str().is_some_and(|s| !s.is_empty()));
        assert_eq!(e["coid"], coid);
        assert!(e["order_id"].as_u64().is_some());
        assert_eq!(e["side"], side);
        assert_eq!(e["size"].as_f64(), Some(size));
        assert!(e["price"].as_str().unwrap().parse::<f64>().unwrap() > 100.0);
        assert_eq!(e["commission"], "1");
    }
    gw.stop().await;
}

#[tokio::test]
async fn every_new_switch_is_patchable_and_validated() {
    let gw = Gw::start(manual()).await;
    let (s, v) = gw
        .post(
            "/control/faults",
            json!({"maintenance": "asia", "order_503_rate": 0.5, "order_503_outcome": "not-created",
                   "smd_lapse_secs": 30, "cancel_delay_ms": 100, "warn_state_rate": 0.2,
                   "orders_quirks": false, "late_commission_ms": 10, "stuck_brokerage": false,
                   "ssodh_init_failures": 1, "cancel_reject_rate": 0.1, "modify_reject_rate": 0.1,
                   "orders_stale_after_hours": true}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["maintenance"], "asia");
    let (s, v) = gw
        .post("/control/faults", json!({"maintenance": "mars"}))
        .await;
    assert_eq!(s, 400, "{v}");
    let (s, v) = gw
        .post("/control/faults", json!({"warn_state_rate": 3}))
        .await;
    assert!(
        s == 400 && v["error"].as_str().unwrap().contains("warn_state_rate"),
        "{v}"
    );
    let cfg = tickline_gateway::GatewayConfig::from_toml_str(
        "[faults]\nmaintenance = \"europe\"\norder_503_rate = 0.1\n",
        "t",
    )
    .unwrap();
    assert_eq!(cfg.faults.order_503_rate, 0.1);
    gw.stop().await;
}
