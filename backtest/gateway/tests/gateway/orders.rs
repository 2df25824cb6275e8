//! Orders through the simulated broker: statuses, fills, modify / cancel, prompts (chains,
//! suppression, expiry), brackets and OCA groups, what-if, trades.

use serde_json::{Value, json};

use crate::common::*;
use tickline_gateway::prompts::{PromptRule, PromptTrigger};

fn lmt(side: &str, qty: u32, price: f64) -> Value {
    json!({"acctId": ACCT, "conid": AAPL, "orderType": "LMT", "price": price, "side": side, "tif": "GTC", "quantity": qty})
}

fn id_of(ack: &Value) -> String {
    ack[0]["order_id"]
        .as_str()
        .unwrap_or_else(|| panic!("not an ack: {ack}"))
        .to_string()
}

#[tokio::test]
async fn limit_order_lifecycle_and_cancel() {
    let gw = Gw::ready(ready()).await;
    let (s, v) = gw.place(lmt("BUY", 10, 150.0)).await;
    assert_eq!(s, 200);
    assert_eq!(v[0]["order_status"], "Submitted");
    assert_eq!(v[0]["encrypt_message"], "1");
    let id = id_of(&v);
    let st = gw.order_status(&id).await;
    assert_eq!(
        (
            st["order_status"].clone(),
            st["side"].clone(),
            st["order_type"].clone()
        ),
        (json!("Submitted"), json!("B"), json!("LIMIT"))
    );
    assert_eq!(st["limit_price"], "150.00");
    assert_eq!(st["size"], "10.0");
    // The first live-orders call of a session answers an empty list (see the quirks test).
    gw.get("/v1/api/iserver/account/orders").await;
    let (_, live) = gw.get("/v1/api/iserver/account/orders").await;
    let o = &live["orders"][0];
    assert_eq!(o["orderId"].as_u64().unwrap().to_string(), id);
    assert_eq!(o["orderDesc"], "Buy 10 Limit 150.00, GTC");
    assert_eq!(o["sizeAndFills"], "0/10");
    assert_eq!(o["price"], "150.00");
    assert_eq!(live["snapshot"], true);
    gw.step(5).await;
    assert_eq!(
        gw.order_status(&id).await["order_status"],
        "Submitted",
        "far below the market: no fill"
    );
    let (s, v) = gw
        .delete(&format!("/v1/api/iserver/account/{ACCT}/order/{id}"))
        .await;
    assert_eq!(s, 200);
    assert_eq!(v["msg"], "Request was submitted");
    assert_eq!(v["conid"], AAPL);
    assert_eq!(gw.order_status(&id).await["order_status"], "Cancelled");
    let (_, v) = gw
        .delete(&format!("/v1/api/iserver/account/{ACCT}/order/{id}"))
        .await;
    assert!(v["error"].as_str().unwrap().contains("Cancelled"), "{v}");
    assert_eq!(
        gw.get("/v1/api/iserver/account/orders?filters=cancelled")
            .await
            .1["orders"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        gw.get("/v1/api/iserver/account/orders?filters=submitted")
            .await
            .1["orders"],
        json!([])
    );
    assert_eq!(
        gw.get("/v1/api/iserver/account/orders?force=true").await.1,
        json!({"orders": []})
    );
    gw.stop().await;
}

#[tokio::test]
async fn market_order_fills_at_once_and_books_a_trade() {
    let gw = Gw::ready(ready()).await;
    let last = gw.last(AAPL).await;
    let (_, v) = gw
        .place(json!({"conid": AAPL, "orderType": "MKT", "side": "BUY", "tif": "DAY", "quantity": 100, "cOID": "mkt-1"}))
        .await;
    assert_eq!(v[0]["order_status"], "Filled");
    let id = id_of(&v);
    let st = gw.order_status(&id).await;
    assert_eq!(st["cum_fill"], "100.0");
    assert_eq!(st["average_price"], format!("{last:.2}"));
    assert_eq!(st["order_description"], "Bought 100 Market, Day");
    let (_, t) = gw.get("/v1/api/iserver/account/trades").await;
    let t = &t[0];
    assert_eq!(
        (t["side"].clone(), t["size"].clone(), t["order_ref"].clone()),
        (json!("B"), json!(100.0), json!("mkt-1"))
    );
    assert_eq!(t["price"], format!("{last:.2}"));
    assert_eq!(
        t["commission"], "1",
        "IBKR fixed: 100 × 0.005 → the 1.00 minimum"
    );
    assert_eq!(t["order_id"].as_u64().unwrap().to_string(), id);
    assert!(
        t["trade_time"]
            .as_str()
            .unwrap()
            .starts_with("20240102-14:30")
    );
    assert_eq!(
        gw.get("/v1/api/iserver/account/trades?days=7")
            .await
            .1
            .as_array()
            .unwrap()
            .len(),
        1
    );
    gw.stop().await;
}

#[tokio::test]
async fn limit_fills_when_a_bar_crosses_and_modify_moves_it() {
    let gw = Gw::ready(ready()).await;
    let (_, v) = gw.place(lmt("BUY", 10, 185.0)).await;
    let id = id_of(&v);
    // Modify the price (full ticket); the quantity may go up too.
    let (s, v) = gw
        .post(&format!("/v1/api/iserver/account/{ACCT}/order/{id}"), json!({"conid": AAPL, "orderType": "LMT", "price": 186.5, "side": "BUY", "tif": "GTC", "quantity": 20}))
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(id_of(&v), id);
    let st = gw.order_status(&id).await;
    assert_eq!(
        (st["limit_price"].clone(), st["total_size"].clone()),
        (json!("186.50"), json!("20.0"))
    );
    // A bar that trades down through 186.50 fills the order at its limit.
    gw.bar(AAPL, 188.0, 188.2, 186.0, 187.0).await;
    let st = gw.order_status(&id).await;
    assert_eq!(st["order_status"], "Filled", "{st}");
    assert_eq!(st["average_price"], "186.50");
    let (_, v) = gw
        .post(&format!("/v1/api/iserver/account/{ACCT}/order/{id}"), json!({"conid": AAPL, "orderType": "LMT", "price": 186.0, "side": "BUY", "tif": "GTC", "quantity": 20}))
        .await;
    assert!(v["error"].as_str().unwrap().contains("Filled"), "{v}");
    gw.stop().await;
}

#[tokio::test]
async fn stop_orders_trigger_and_cancel_all() {
    let gw = Gw::ready(ready()).await;
    let (_, v) = gw
        .place(json!({"conid": AAPL, "orderType": "STP", "price": 191.0, "side": "BUY", "tif": "GTC", "quantity": 5}))
        .await;
    assert_eq!(
        v[0]["order_status"], "PreSubmitted",
        "a stop waits for its trigger"
    );
    let stop = id_of(&v);
    let (_, v) = gw.place(lmt("BUY", 1, 100.0)).await;
    let other = id_of(&v);
    gw.bar(AAPL, 190.0, 192.0, 189.9, 191.5).await;
    let st = gw.order_status(&stop).await;
    assert_eq!(st["order_status"], "Filled");
    assert_eq!(st["average_price"], "191.00");
    let (_, v) = gw
        .delete(&format!("/v1/api/iserver/account/{ACCT}/order/-1"))
        .await;
    assert_eq!(v["msg"], "Request was submitted");
    assert_eq!(gw.order_status(&other).await["order_status"], "Cancelled");
    gw.stop().await;
}

fn prompts(rules: &[(&str, PromptTrigger, Option<i64>)]) -> tickline_gateway::GatewayConfig {
    let mut cfg = ready();
    cfg.prompts = rules
        .iter()
        .map(|(id, when, t)| PromptRule {
            message_id: id.to_string(),
            when: *when,
            threshold: t.map(Into::into),
            text: None,
            style: None,
        })
        .collect();
    cfg
}

#[tokio::test]
async fn chained_prompts_then_ack() {
    let gw = Gw::ready(prompts(&[
        ("o163", PromptTrigger::PriceAwayPct, Some(3)),
        ("o451", PromptTrigger::OrderValueAbove, Some(100_000)),
    ]))
    .await;
    let (s, q1) = gw.place(lmt("BUY", 1000, 150.0)).await;
    assert_eq!(s, 200);
    assert_eq!(q1[0]["messageIds"], json!(["o163"]));
    assert_eq!(q1[0]["isSuppressed"], false);
    assert!(
        q1[0]["message"][0]
            .as_str()
            .unwrap()
            .contains("Percentage constraint of 3%")
    );
    let r1 = q1[0]["id"].as_str().unwrap().to_string();
    assert_eq!(r1.len(), 36);
    assert_eq!(
        gw.get("/v1/api/iserver/account/orders").await.1["orders"],
        json!([]),
        "no order before confirmation"
    );
    let (_, q2) = gw
        .post(
            &format!("/v1/api/iserver/reply/{r1}"),
            json!({"confirmed": true}),
        )
        .await;
    assert_eq!(q2[0]["messageIds"], json!(["o451"]));
    let r2 = q2[0]["id"].as_str().unwrap().to_string();
    assert_ne!(r1, r2);
    // A used reply id is gone.
    let (s, v) = gw
        .post(
            &format!("/v1/api/iserver/reply/{r1}"),
            json!({"confirmed": true}),
        )
        .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (400, Some(format!("reply id not found: '{r1}'").as_str()))
    );
    let (_, ack) = gw
        .post(
            &format!("/v1/api/iserver/reply/{r2}"),
            json!({"confirmed": true}),
        )
        .await;
    assert_eq!(ack[0]["order_status"], "Submitted");
    assert_eq!(
        gw.get("/v1/api/iserver/account/orders").await.1["orders"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // Declining abandons the order.
    let (_, q) = gw.place(lmt("BUY", 1, 150.0)).await;
    let r = q[0]["id"].as_str().unwrap();
    let (s, v) = gw
        .post(
            &format!("/v1/api/iserver/reply/{r}"),
            json!({"confirmed": false}),
        )
        .await;
    assert_eq!((s, v), (200, json!({"error": "Order not confirmed "})));
    assert_eq!(
        gw.get("/v1/api/iserver/account/orders").await.1["orders"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    gw.stop().await;
}

#[tokio::test]
async fn suppression_and_reset() {
    let gw = Gw::ready(prompts(&[
        ("o163", PromptTrigger::PriceAwayPct, Some(3)),
        ("o10331", PromptTrigger::StopOrder, None),
    ]))
    .await;
    let (s, v) = gw
        .post(
            "/v1/api/iserver/questions/suppress",
            json!({"messageIds": ["o163"]}),
        )
        .await;
    assert_eq!((s, v), (200, json!({"status": "submitted"})));
    assert_eq!(
        gw.place(lmt("BUY", 1, 150.0)).await.1[0]["order_status"],
        "Submitted",
        "suppressed: no question"
    );
    let (_, q) = gw
        .place(json!({"conid": AAPL, "orderType": "STP", "price": 150.0, "side": "SELL", "tif": "GTC", "quantity": 1}))
        .await;
    assert_eq!(
        q[0]["messageIds"],
        json!(["o10331"]),
        "only the unsuppressed question"
    );
    // Suppressing while a question is pending skips it at reply time.
    gw.post(
        "/v1/api/iserver/questions/suppress",
        json!({"messageIds": ["o163", "o10331"]}),
    )
    .await;
    let r = q[0]["id"].as_str().unwrap();
    let (_, ack) = gw
        .post(
            &format!("/v1/api/iserver/reply/{r}"),
            json!({"confirmed": true}),
        )
        .await;
    assert_eq!(ack[0]["order_status"], "PreSubmitted");
    assert_eq!(
        gw.post("/v1/api/iserver/questions/suppress/reset", json!({}))
            .await
            .1,
        json!({"status": "submitted"})
    );
    assert_eq!(
        gw.place(lmt("BUY", 1, 150.0)).await.1[0]["messageIds"],
        json!(["o163"])
    );
    gw.stop().await;
}

#[tokio::test]
async fn reply_ids_expire() {
    let gw = Gw::ready(prompts(&[("o163", PromptTrigger::PriceAwayPct, Some(3))])).await;
    let (_, q) = gw.place(lmt("BUY", 1, 150.0)).await;
    let r = q[0]["id"].as_str().unwrap();
    gw.post("/control/clock/advance", json!({"secs": 31})).await;
    let (s, v) = gw
        .post(
            &format!("/v1/api/iserver/reply/{r}"),
            json!({"confirmed": true}),
        )
        .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (400, Some(format!("reply id not found: '{r}'").as_str()))
    );
    assert_eq!(
        gw.get("/v1/api/iserver/account/orders").await.1["orders"],
        json!([])
    );
    gw.stop().await;
}

#[tokio::test]
async fn market_order_outside_regular_hours_asks() {
    let mut cfg = prompts(&[("o10151", PromptTrigger::MarketOutsideRth, None)]);
    cfg.market.start = Some("2024-01-02T23:00:00Z".into());
    let gw = Gw::ready(cfg).await;
    let mkt = json!({"conid": AAPL, "orderType": "MKT", "side": "BUY", "tif": "DAY", "quantity": 1, "outsideRTH": true});
    let (_, q) = gw.place(mkt.clone()).await;
    assert_eq!(q[0]["messageIds"], json!(["o10151"]));
    assert!(
        q[0]["message"][0].as_str().unwrap().contains(
            "A Market Order is an instruction to trade your order at any available price"
        )
    );
    // EUR.USD trades around the clock: no question.
    let mut fx = mkt;
    fx["conid"] = json!(EURUSD);
    fx["quantity"] = json!(20000);
    assert_eq!(gw.place(fx).await.1[0]["order_status"], "Filled");
    gw.stop().await;
}

#[tokio::test]
async fn modify_can_prompt_too() {
    let gw = Gw::ready(prompts(&[("o163", PromptTrigger::PriceAwayPct, Some(3))])).await;
    let (_, v) = gw.place(lmt("BUY", 1, 189.0)).await;
    let id = id_of(&v);
    let (_, q) = gw
        .post(&format!("/v1/api/iserver/account/{ACCT}/order/{id}"), json!({"conid": AAPL, "orderType": "LMT", "price": 150.0, "side": "BUY", "tif": "GTC", "quantity": 1}))
        .await;
    assert_eq!(q[0]["messageIds"], json!(["o163"]));
    assert_eq!(
        gw.order_status(&id).await["limit_price"],
        "189.00",
        "unchanged until confirmed"
    );
    let r = q[0]["id"].as_str().unwrap();
    gw.post(
        &format!("/v1/api/iserver/reply/{r}"),
        json!({"confirmed": true}),
    )
    .await;
    assert_eq!(gw.order_status(&id).await["limit_price"], "150.00");
    gw.stop().await;
}

#[tokio::test]
async fn bracket_children_wait_for_the_parent_then_one_cancels_the_other() {
    let gw = Gw::ready(ready()).await;
    let body = json!({"orders": [
        {"acctId": ACCT, "conid": AAPL, "cOID": "BRK-1", "orderType": "LMT", "price": 189.0, "side": "BUY", "tif": "GTC", "quantity": 50},
        {"acctId": ACCT, "conid": AAPL, "parentId": "BRK-1", "orderType": "STP", "price": 185.0, "side": "SELL", "tif": "GTC", "quantity": 50},
        {"acctId": ACCT, "conid": AAPL, "parentId": "BRK-1", "orderType": "LMT", "price": 195.0, "side": "SELL", "tif": "GTC", "quantity": 50}
    ]});
    let (s, v) = gw
        .post(&format!("/v1/api/iserver/account/{ACCT}/orders"), body)
        .await;
    assert_eq!(s, 200, "{v}");
    let ids: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["order_id"].as_str().unwrap().to_string())
        .collect();
    let statuses: Vec<_> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["order_status"].clone())
        .collect();
    assert_eq!(
        statuses,
        [
            json!("Submitted"),
            json!("PreSubmitted"),
            json!("PreSubmitted")
        ]
    );
    // The children do not trade before the parent fills, even if the market reaches them.
    gw.bar(AAPL, 190.0, 196.0, 189.5, 195.5).await;
    assert_eq!(
        gw.order_status(&ids[2]).await["order_status"],
        "PreSubmitted"
    );
    assert_eq!(
        gw.order_status(&ids[2]).await["parent_order_id"]
            .as_u64()
            .unwrap()
            .to_string(),
        ids[0]
    );
    // Parent fills → children go live.
    gw.bar(AAPL, 190.0, 190.5, 188.5, 189.5).await;
    assert_eq!(gw.order_status(&ids[0]).await["order_status"], "Filled");
    assert_eq!(
        gw.order_status(&ids[1]).await["order_status"],
        "PreSubmitted",
        "stop armed"
    );
    assert_eq!(
        gw.order_status(&ids[2]).await["order_status"],
        "Submitted",
        "take-profit working"
    );
    // Take-profit fills → the stop is cancelled.
    gw.bar(AAPL, 190.0, 195.5, 189.8, 195.2).await;
    assert_eq!(gw.order_status(&ids[2]).await["order_status"], "Filled");
    assert_eq!(gw.order_status(&ids[1]).await["order_status"], "Cancelled");
    let st = gw.state().await;
    assert_eq!(
        st["accounts"][0]["positions"],
        json!([]),
        "flat after the bracket"
    );
    assert_eq!(st["orders"]["at_broker"], 0);
    gw.stop().await;
}

#[tokio::test]
async fn cancelling_a_bracket_parent_cancels_its_children() {
    let gw = Gw::ready(ready()).await;
    let body = json!({"orders": [
        {"conid": AAPL, "cOID": "P", "orderType": "LMT", "price": 150.0, "side": "BUY", "tif": "GTC", "quantity": 5},
        {"conid": AAPL, "parentId": "P", "orderType": "LMT", "price": 200.0, "side": "SELL", "tif": "GTC", "quantity": 5}
    ]});
    let (_, v) = gw
        .post(&format!("/v1/api/iserver/account/{ACCT}/orders"), body)
        .await;
    let (parent, child) = (
        v[0]["order_id"].as_str().unwrap().to_string(),
        v[1]["order_id"].as_str().unwrap().to_string(),
    );
    gw.delete(&format!("/v1/api/iserver/account/{ACCT}/order/{parent}"))
        .await;
    assert_eq!(gw.order_status(&child).await["order_status"], "Cancelled");
    gw.stop().await;
}

#[tokio::test]
async fn oca_group_first_fill_cancels_the_rest() {
    let gw = Gw::ready(ready()).await;
    let body = json!({"orders": [
        {"conid": AAPL, "orderType": "LMT", "price": 188.0, "side": "BUY", "tif": "GTC", "quantity": 10, "isSingleGroup": true},
        {"conid": MSFT, "orderType": "LMT", "price": 300.0, "side": "BUY", "tif": "GTC", "quantity": 10, "isSingleGroup": true}
    ]});
    let (s, v) = gw
        .post(&format!("/v1/api/iserver/account/{ACCT}/orders"), body)
        .await;
    assert_eq!(s, 200, "{v}");
    let (a, m) = (
        v[0]["order_id"].as_str().unwrap().to_string(),
        v[1]["order_id"].as_str().unwrap().to_string(),
    );
    gw.bar(AAPL, 189.0, 189.5, 187.5, 188.5).await;
    assert_eq!(gw.order_status(&a).await["order_status"], "Filled");
    assert_eq!(gw.order_status(&m).await["order_status"], "Cancelled");
    gw.stop().await;
}

#[tokio::test]
async fn duplicate_client_ids_are_refused() {
    let gw = Gw::ready(ready()).await;
    let mut t = lmt("BUY", 1, 150.0);
    t["cOID"] = json!("dup-1");
    assert_eq!(gw.place(t.clone()).await.1[0]["order_status"], "Submitted");
    let (s, v) = gw.place(t).await;
    assert_eq!(
        (s, v),
        (
            200,
            json!({"error": "Order couldn't be submitted: Local order ID=dup-1 is already registered."})
        )
    );
    gw.stop().await;
}

#[tokio::test]
async fn whatif_previews_without_placing() {
    let gw = Gw::ready(ready()).await;
    let (s, v) = gw
        .post(
            &format!("/v1/api/iserver/account/{ACCT}/orders/whatif"),
            json!({"orders": [lmt("BUY", 10, 189.0)]}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["amount"]["amount"], "1,890.00 USD (10 Shares)");
    assert_eq!(v["amount"]["commission"], "1 USD");
    assert_eq!(v["amount"]["total"], "1,891.00 USD");
    assert_eq!(
        v["position"],
        json!({"current": "0", "change": "10", "after": "10"})
    );
    assert_eq!(v["equity"]["current"], "1,000,000");
    assert!(
        v["warn"].as_str().unwrap().starts_with("21/"),
        "no market data subscribed"
    );
    assert!(v["error"].is_null());
    assert_eq!(
        gw.get("/v1/api/iserver/account/orders").await.1["orders"],
        json!([])
    );
    gw.stop().await;
}
