//! Portfolio endpoints agree with each other after fills.

use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn positions_summary_ledger_allocation_agree() {
    let gw = Gw::ready(ready()).await;
    for (conid, qty, side) in [(AAPL, 100, "BUY"), (MSFT, 10, "SELL"), (ES, 2, "BUY")] {
        let (_, v) = gw
            .place(json!({"conid": conid, "orderType": "MKT", "side": side, "tif": "DAY", "quantity": qty}))
            .await;
        assert_eq!(v[0]["order_status"], "Filled", "{v}");
    }
    gw.step(10).await;
    let (s, rows) = gw
        .get(&format!("/v1/api/portfolio/{ACCT}/positions/0"))
        .await;
    assert_eq!(s, 200);
    let rows = rows.as_array().unwrap().clone();
    assert_eq!(rows.len(), 3);
    let names: Vec<_> = rows.iter().map(|r| r["name"].as_str().unwrap()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "sorted by name by default");
    let aapl = rows.iter().find(|r| r["conid"] == AAPL).unwrap();
    assert_eq!(aapl["position"], 100.0);
    assert_eq!(aapl["assetClass"], "STK");
    assert_eq!(aapl["acctId"], ACCT);
    let mv = aapl["mktValue"].as_f64().unwrap();
    assert!((mv - 100.0 * aapl["mktPrice"].as_f64().unwrap()).abs() < 0.01);
    let msft = rows.iter().find(|r| r["conid"] == MSFT).unwrap();
    assert_eq!(msft["position"], -10.0);
    let es = rows.iter().find(|r| r["conid"] == ES).unwrap();
    assert_eq!(es["multiplier"], 50.0);
    assert_eq!(
        es["avgCost"].as_f64().unwrap(),
        es["avgPrice"].as_f64().unwrap() * 50.0
    );
    let (_, desc) = gw
        .get(&format!(
            "/v1/api/portfolio/{ACCT}/positions/0?sort=position&direction=d"
        ))
        .await;
    assert_eq!(desc[0]["conid"], AAPL);
    assert_eq!(
        gw.get(&format!("/v1/api/portfolio/{ACCT}/positions/1"))
            .await
            .1,
        json!([])
    );

    let (_, one) = gw
        .get(&format!("/v1/api/portfolio/{ACCT}/position/{AAPL}"))
        .await;
    assert_eq!(one[0]["position"], 100.0);
    assert_eq!(
        gw.get(&format!("/v1/api/portfolio/{ACCT}/position/{SPY}"))
            .await
            .1,
        json!([])
    );
    let (_, all) = gw.get(&format!("/v1/api/portfolio/positions/{AAPL}")).await;
    assert_eq!(all[ACCT][0]["position"], 100.0);

    let (_, sum) = gw.get(&format!("/v1/api/portfolio/{ACCT}/summary")).await;
    let nlv = sum["netliquidation"]["amount"].as_f64().unwrap();
    assert_eq!(sum["netliquidation"]["currency"], "USD");
    assert_eq!(sum["accountcode"]["value"], ACCT);
    let cash = sum["totalcashvalue"]["amount"].as_f64().unwrap();
    let upl_es = es["unrealizedPnl"].as_f64().unwrap();
    let expect = cash + mv + msft["mktValue"].as_f64().unwrap() + upl_es;
    assert!(
        (nlv - expect).abs() < 0.02,
        "nlv {nlv} = cash {cash} + stocks + futures P&L ({expect})"
    );
    let (_, ledger) = gw.get(&format!("/v1/api/portfolio/{ACCT}/ledger")).await;
    assert_eq!(ledger["USD"]["netliquidationvalue"].as_f64().unwrap(), nlv);
    assert_eq!(ledger["BASE"]["cashbalance"].as_f64().unwrap(), cash);
    assert_eq!(ledger["USD"]["endofbundle"], 1);
    gw.get("/v1/api/iserver/account/pnl/partitioned").await;
    let (_, pnl) = gw.get("/v1/api/iserver/account/pnl/partitioned").await;
    assert_eq!(
        pnl["upnl"][format!("{ACCT}.Core")]["nl"].as_f64().unwrap(),
        nlv
    );
    let (_, alloc) = gw
        .get(&format!("/v1/api/portfolio/{ACCT}/allocation"))
        .await;
    assert!(alloc["assetClass"]["long"]["STK"].as_f64().unwrap() > 0.0);
    assert!(alloc["assetClass"]["short"]["STK"].as_f64().unwrap() < 0.0);
    assert_eq!(
        gw.post(
            &format!("/v1/api/portfolio/{ACCT}/positions/invalidate"),
            json!({})
        )
        .await
        .1,
        json!({"message": "success"})
    );
    // Commissions: 100 AAPL → 1.00, 10 MSFT → 1.00, 2 ES → 1.70.
    let st = gw.state().await;
    assert_eq!(st["accounts"][0]["commissions"], "3.70");
    gw.stop().await;
}
