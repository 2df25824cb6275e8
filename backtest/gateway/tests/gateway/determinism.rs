//! Same seed, same requests → same prices and fills.

use serde_json::{Value, json};

use crate::common::*;

async fn session(seed: u64) -> (Vec<Value>, f64) {
    let mut cfg = ready();
    cfg.seed = seed;
    let gw = Gw::ready(cfg).await;
    for k in 0..20 {
        let side = if k % 2 == 0 { "BUY" } else { "SELL" };
        gw.place(json!({"conid": SPY, "orderType": "MKT", "side": side, "tif": "DAY", "quantity": 10 + k})).await;
        let last = gw.last(SPY).await;
        let px = (last * 100.0).round() / 100.0 - 0.05;
        gw.place(json!({"conid": SPY, "orderType": "LMT", "price": px, "side": "BUY", "tif": "GTC", "quantity": 5})).await;
        gw.step(7).await;
    }
    let (_, trades) = gw.get("/v1/api/iserver/account/trades?days=7").await;
    let fills: Vec<Value> = trades
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            json!([
                t["order_id"],
                t["side"],
                t["size"],
                t["price"],
                t["trade_time_r"],
                t["commission"],
                t["execution_id"]
            ])
        })
        .collect();
    let last = gw.last(SPY).await;
    gw.stop().await;
    (fills, last)
}

#[tokio::test]
async fn same_seed_same_fills() {
    let a = session(7).await;
    let b = session(7).await;
    assert!(
        a.0.len() > 20,
        "market orders and some limits filled: {}",
        a.0.len()
    );
    assert_eq!(a, b);
    let c = session(8).await;
    assert_ne!(a.1, c.1, "another seed moves prices differently");
}
