//! The websocket: hello frames, session handshake, smd / sor / str / spl, tic, echo, errors.

use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn hello_frames_and_session_message() {
    let gw = Gw::ready(ready()).await;
    let mut ws = gw.ws().await;
    let sys = ws.next().await.unwrap();
    assert_eq!(
        (
            sys["topic"].clone(),
            sys["success"].clone(),
            sys["isPaper"].clone()
        ),
        (json!("system"), json!("user1234"), json!(true))
    );
    let act = ws.next().await.unwrap();
    assert_eq!(act["topic"], "act");
    assert_eq!(act["args"]["selectedAccount"], ACCT);
    let sts = ws.next().await.unwrap();
    assert_eq!(
        (sts["topic"].clone(), sts["args"]["authenticated"].clone()),
        (json!("sts"), json!(true))
    );
    assert!(sts["args"].get("competing").is_none(), "{sts}");
    let sts = ws.next().await.unwrap();
    assert_eq!(sts, json!({"topic": "sts", "args": {"competing": false}}));
    ws.send("tic").await;
    let tic = ws.next_topic("tic").await.unwrap();
    assert!(tic["lastAccessed"].as_i64().unwrap() > 0);
    ws.send("ech+hb").await;
    assert_eq!(ws.next().await.unwrap(), json!("ech+hb"));
    ws.send("zzz+1").await;
    let e = ws.next().await.unwrap();
    assert_eq!(e["code"], 1);
    assert!(e["error"].as_str().unwrap().contains("Topic unknown"));

    // Without the cookie: "waiting for session" until {"session": id}.
    let (mut raw, _) = tokio_tungstenite::connect_async(format!("ws://{}/v1/api/ws", gw.addr))
        .await
        .unwrap();
    let mut plain = Ws { s: raw };
    assert_eq!(
        plain.next().await.unwrap(),
        json!({"message": "waiting for session"})
    );
    plain.send("spl+{}").await;
    assert_eq!(
        plain.next().await.unwrap(),
        json!({"message": "waiting for session"})
    );
    plain
        .send(&json!({"session": gw.session_id().await}).to_string())
        .await;
    assert_eq!(plain.next().await.unwrap()["success"], "user1234");
    raw = plain.s;
    drop(raw);
    gw.stop().await;
}

#[tokio::test]
async fn smd_full_frame_then_deltas_then_unsubscribe() {
    let gw = Gw::ready(ready()).await;
    let mut ws = gw.ws().await;
    ws.send(r#"smd+265598+{"fields":["31","84","86","7059","55","7051"]}"#)
        .await;
    let f = ws.next_topic("smd+265598").await.unwrap();
    for k in [
        "31",
        "84",
        "86",
        "7059",
        "55",
        "7051",
        "conid",
        "conidEx",
        "_updated",
        "6119",
        "6509",
        "server_id",
    ] {
        assert!(f.get(k).is_some(), "{k} missing in {f}");
    }
    assert_eq!(f["conid"], AAPL);
    assert_eq!(f["55"], "AAPL");
    gw.bar(AAPL, 190.0, 191.0, 189.0, 190.57).await;
    let d = ws.next_topic("smd+265598").await.unwrap();
    assert_eq!(d["31"], "190.57");
    assert!(
        d.get("55").is_none() && d.get("7051").is_none(),
        "unchanged fields are not repeated: {d}"
    );
    assert!(d["_updated"].as_i64().unwrap() > f["_updated"].as_i64().unwrap());
    // The websocket stream also opens the snapshot stream (no pre-flight needed).
    let (_, snap) = gw
        .get("/v1/api/iserver/marketdata/snapshot?conids=265598")
        .await;
    assert_eq!(snap[0]["31"], "190.57");
    ws.send("umd+265598+{}").await;
    ws.sync().await;
    gw.step(3).await;
    assert!(ws.silent_for(500).await);
    ws.send("smd+99+{}").await;
    let e = ws.next().await.unwrap();
    assert!(e["error"].as_str().unwrap().contains("conid 99"));
    gw.stop().await;
}

#[tokio::test]
async fn sor_str_and_spl() {
    let gw = Gw::ready(ready()).await;
    let mut ws = gw.ws().await;
    ws.send("sor+{}").await;
    assert_eq!(ws.next_topic("sor").await.unwrap()["args"], json!([]));
    ws.send(r#"str+{"realtimeUpdatesOnly":true}"#).await;
    assert_eq!(ws.next_topic("str").await.unwrap()["args"], json!([]));
    ws.send("spl+{}").await;
    let spl = ws.next_topic("spl").await.unwrap();
    assert_eq!(spl["args"][format!("{ACCT}.Core")]["nl"], 1_000_000.0);
    assert!(spl["args"][format!("{ACCT}.Core")]["uel"].is_number());

    let (_, v) = gw
        .place(json!({"conid": AAPL, "orderType": "LMT", "price": 150.0, "side": "BUY", "tif": "GTC", "quantity": 3, "cOID": "ws-1"}))
        .await;
    let id: u64 = v[0]["order_id"].as_str().unwrap().parse().unwrap();
    let sor = ws.next_topic("sor").await.unwrap();
    let o = &sor["args"][0];
    assert_eq!(
        (
            o["orderId"].as_u64(),
            o["status"].clone(),
            o["order_ref"].clone()
        ),
        (Some(id), json!("Submitted"), json!("ws-1"))
    );
    assert_eq!(o["ticker"], "AAPL");
    gw.delete(&format!("/v1/api/iserver/account/{ACCT}/order/{id}"))
        .await;
    let delta = &ws.next_topic("sor").await.unwrap()["args"][0];
    assert_eq!(delta["status"], "Cancelled");
    assert_eq!(delta["acct"], ACCT);
    assert!(
        delta.get("ticker").is_none(),
        "deltas carry changed fields only: {delta}"
    );

    gw.place(
        json!({"conid": AAPL, "orderType": "MKT", "side": "BUY", "tif": "DAY", "quantity": 7}),
    )
    .await;
    let tr = ws.next_topic("str").await.unwrap();
    let e = &tr["args"][0];
    assert_eq!(
        (e["side"].clone(), e["size"].clone(), e["position"].clone()),
        (json!("B"), json!(7.0), json!("7"))
    );
    assert!(e["execution_id"].as_str().unwrap().ends_with(".01.01"));
    gw.step(1).await;
    let spl = ws.next_topic("spl").await.unwrap();
    assert!(spl["args"][format!("{ACCT}.Core")]["mv"].as_f64().unwrap() > 0.0);
    ws.send("upl+{}").await;
    ws.send("uor+{}").await;
    ws.send("utr").await;
    ws.sync().await;
    gw.post("/control/clock/advance", json!({"ms": 2000})).await;
    gw.place(
        json!({"conid": AAPL, "orderType": "MKT", "side": "SELL", "tif": "DAY", "quantity": 7}),
    )
    .await;
    gw.step(1).await;
    assert!(ws.silent_for(500).await, "unsubscribed topics are silent");
    gw.stop().await;
}

#[tokio::test]
async fn websocket_refused_without_a_session() {
    let mut cfg = ready();
    cfg.session.initial = tickline_gateway::config::InitialSession::None;
    let gw = Gw::start(cfg).await;
    let err = tokio_tungstenite::connect_async(format!("ws://{}/v1/api/ws", gw.addr))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("401"), "{err}");
    gw.stop().await;
}

#[tokio::test]
async fn account_summary_and_ledger_topics() {
    let gw = Gw::ready(ready()).await;
    let mut ws = gw.ws().await;
    ws.send(&format!(r#"ssd+{ACCT}+{{"keys":["AccountCode","NetLiquidation"],"fields":["currency","monetaryValue","value"]}}"#)).await;
    let f = ws.next_topic(&format!("ssd+{ACCT}")).await.unwrap();
    let r = f["result"].as_array().unwrap();
    assert_eq!(r.len(), 2);
    assert_eq!(r[0]["value"], ACCT);
    assert_eq!(
        (
            r[1]["key"].clone(),
            r[1]["monetaryValue"].clone(),
            r[1]["currency"].clone()
        ),
        (json!("NetLiquidation"), json!(1_000_000.0), json!("USD"))
    );
    assert!(r[1].get("severity").is_none(), "fields filter applies");
    ws.send(&format!("sld+{ACCT}+{{}}")).await;
    let f = ws.next_topic(&format!("sld+{ACCT}")).await.unwrap();
    assert_eq!(f["result"][0]["key"], "LedgerListBASE");
    assert_eq!(f["result"][0]["acctCode"], ACCT);
    assert_eq!(f["result"][1]["cashbalance"], 1_000_000.0);
    ws.send(&format!("usd+{ACCT}+{{}}")).await;
    assert_eq!(
        ws.next().await.unwrap(),
        json!({"result": "unsubscribed from summary"})
    );
    ws.send(&format!("uld+{ACCT}")).await;
    assert_eq!(
        ws.next().await.unwrap(),
        json!({"result": "unsubscribed from ledger"})
    );
    ws.send("ssd+U000+{}").await;
    assert!(
        ws.next().await.unwrap()["error"]
            .as_str()
            .unwrap()
            .contains("U000")
    );
    gw.stop().await;
}

#[tokio::test]
async fn a_client_that_falls_behind_loses_no_execution() {
    // One update of room, and a ladder of resting limit orders filled over 400 steps taken
    // in one call: the connection falls behind (it waits for the lock the steps hold while
    // the updates pile up) and is sent the current orders and executions again. Every
    // execution the broker made reaches the client, and every order's last status is right.
    let mut cfg = ready();
    cfg.websocket.push_buffer = 1;
    let gw = Gw::ready(cfg).await;
    let mut ws = gw.ws().await;
    ws.send("sor+{}").await;
    assert_eq!(ws.next_topic("sor").await.unwrap()["args"], json!([]));
    ws.send(r#"str+{"realtimeUpdatesOnly":true}"#).await;
    assert_eq!(ws.next_topic("str").await.unwrap()["args"], json!([]));
    let last = gw.last(AAPL).await;
    for k in 1..=10 {
        for (side, price) in [
            ("BUY", last - 0.1 * k as f64),
            ("SELL", last + 0.1 * k as f64),
        ] {
            let (status, v) = gw
                .place(json!({"conid": AAPL, "orderType": "LMT", "price": (price * 100.0).round() / 100.0,
                    "side": side, "tif": "GTC", "quantity": 1, "cOID": format!("lag-{side}-{k}")}))
                .await;
            assert_eq!(status, 200, "{v}");
        }
    }
    ws.sync().await;
    gw.step(400).await;
    let mut execs = std::collections::BTreeSet::new();
    let mut status = std::collections::BTreeMap::new();
    while let Some(f) = ws.next_within(1500).await {
        for a in f["args"].as_array().into_iter().flatten() {
            match f["topic"].as_str() {
                Some("str") => {
                    execs.insert(a["execution_id"].as_str().unwrap().to_string());
                }
                Some("sor") if a.get("status").is_some() => {
                    status.insert(a["orderId"].to_string(), a["status"].clone());
                }
                _ => {}
            }
        }
    }
    let broker: std::collections::BTreeSet<String> = gw
        .get("/control/executions")
        .await
        .1
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["execution_id"].as_str().unwrap().to_string())
        .collect();
    assert!(
        broker.len() >= 3,
        "too few fills to fall behind: {broker:?}"
    );
    assert_eq!(execs, broker, "executions lost to the lag");
    for o in gw.get("/control/orders").await.1.as_array().unwrap() {
        let id = o["orderId"].to_string();
        if o["status"] == "Filled" {
            assert_eq!(status.get(&id), Some(&json!("Filled")), "order {id}: {o}");
        }
    }
    gw.stop().await;
}
