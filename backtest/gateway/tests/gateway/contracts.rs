//! Contract endpoints.

use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn secdef_search_and_info() {
    let gw = Gw::ready(manual()).await;
    let (s, v) = gw.get("/v1/api/iserver/secdef/search?symbol=AAPL").await;
    assert_eq!(s, 200);
    assert_eq!(v[0]["conid"], "265598", "conid is a string here");
    assert_eq!(v[0]["companyName"], "APPLE INC");
    assert_eq!(v[0]["sections"][0]["secType"], "STK");
    let (_, p) = gw
        .post("/v1/api/iserver/secdef/search", json!({"symbol": "aapl"}))
        .await;
    assert_eq!(p, v);
    let (_, v) = gw
        .get("/v1/api/iserver/secdef/search?symbol=apple&name=true")
        .await;
    assert_eq!(v[0]["symbol"], "AAPL");
    assert_eq!(
        gw.get("/v1/api/iserver/secdef/search?symbol=NOPE").await.1,
        json!([])
    );
    // A future is found through its underlying index, with the contract months.
    let (_, v) = gw.get("/v1/api/iserver/secdef/search?symbol=ES").await;
    assert_eq!(v[0]["conid"], "11004968");
    assert_eq!(
        v[0]["sections"][1],
        json!({"secType": "FUT", "months": "MAR24", "exchange": "CME"})
    );
    let (_, v) = gw
        .get("/v1/api/iserver/secdef/info?conid=11004968&sectype=FUT&month=MAR24")
        .await;
    assert_eq!(v[0]["conid"], ES);
    assert_eq!(v[0]["maturityDate"], "20240315");
    assert_eq!(v[0]["multiplier"], "50");
    let (_, v) = gw
        .get("/v1/api/iserver/secdef/strikes?conid=265598&sectype=OPT&month=JAN25")
        .await;
    assert_eq!(v, json!({"call": [], "put": []}));
    gw.stop().await;
}

#[tokio::test]
async fn contract_info_rules_and_trsrv() {
    let gw = Gw::ready(manual()).await;
    let (_, v) = gw.get("/v1/api/iserver/contract/265598/info").await;
    assert_eq!(
        (
            v["con_id"].clone(),
            v["symbol"].clone(),
            v["instrument_type"].clone()
        ),
        (json!(AAPL), json!("AAPL"), json!("STK"))
    );
    let (_, v) = gw
        .get("/v1/api/iserver/contract/495512563/info-and-rules?isBuy=true")
        .await;
    assert_eq!(v["local_symbol"], "ESH4");
    assert_eq!(v["rules"]["increment"], 0.25);
    assert_eq!(v["rules"]["incrementRules"][0]["increment"], 0.25);
    let (s, v) = gw
        .post(
            "/v1/api/iserver/contract/rules",
            json!({"conid": EURUSD, "isBuy": true}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(v["incrementDigits"], 5);
    assert!(
        v["orderTypes"]
            .as_array()
            .unwrap()
            .contains(&json!("limit"))
    );
    assert_eq!(
        gw.get("/v1/api/iserver/contract/265598/algos").await.1,
        json!({"algos": []})
    );

    let (_, v) = gw.get("/v1/api/trsrv/stocks?symbols=AAPL,MSFT,NOPE").await;
    assert_eq!(
        v["AAPL"][0]["contracts"][0],
        json!({"conid": AAPL, "exchange": "NASDAQ", "isUS": true})
    );
    assert_eq!(v["MSFT"][0]["contracts"][0]["conid"], MSFT);
    assert_eq!(v["NOPE"], json!([]));
    let (_, v) = gw.get("/v1/api/trsrv/futures?symbols=ES").await;
    assert_eq!(v["ES"][0]["conid"], ES);
    assert_eq!(v["ES"][0]["underlyingConid"], 11004968);
    assert_eq!(v["ES"][0]["expirationDate"], 20240315);
    let (_, v) = gw.get("/v1/api/trsrv/secdef?conids=265598,756733").await;
    assert_eq!(v["secdef"][1]["ticker"], "SPY");
    assert_eq!(v["secdef"][0]["incrementRules"][0]["increment"], 0.01);
    let (_, v) = gw
        .post("/v1/api/trsrv/secdef", json!({"conids": [ES]}))
        .await;
    assert_eq!(v["secdef"][0]["multiplier"], 50.0);
    let (_, v) = gw.get("/v1/api/trsrv/all-conids?exchange=NASDAQ").await;
    let tickers: Vec<_> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["ticker"].as_str().unwrap())
        .collect();
    assert_eq!(tickers, ["AAPL", "MSFT", "QQQ"]);
    gw.stop().await;
}

#[tokio::test]
async fn schedules_rates_and_pairs() {
    let gw = Gw::ready(manual()).await;
    let (s, v) = gw
        .get("/v1/api/trsrv/secdef/schedule?assetClass=STK&symbol=AAPL")
        .await;
    assert_eq!(s, 200);
    let day = &v[0]["schedules"][1];
    assert_eq!(day["tradingScheduleDate"], "20240102");
    assert_eq!(
        day["sessions"][0],
        json!({"openingTime": "0930", "closingTime": "1600", "prop": "LIQUID"})
    );
    assert_eq!(day["tradingtimes"][0]["openingTime"], "0400");
    let (_, v) = gw
        .get("/v1/api/contract/trading-schedule?conid=495512563")
        .await;
    assert_eq!(v["exchange_time_zone"], "America/Chicago");
    let d = &v["schedules"]["20240102"];
    assert_eq!(
        d["liquid_hours"][0]["opening"], 1_704_205_800,
        "08:30 Chicago"
    );
    assert_eq!(
        d["extended_hours"][0]["opening"], 1_704_150_000,
        "17:00 the day before"
    );
    let (_, v) = gw
        .get("/v1/api/iserver/exchangerate?source=EUR&target=USD")
        .await;
    let r = v["rate"].as_f64().unwrap();
    assert!((r - 1.1).abs() < 0.01, "{r}");
    let (_, v) = gw
        .get("/v1/api/iserver/exchangerate?source=USD&target=EUR")
        .await;
    assert!((v["rate"].as_f64().unwrap() * r - 1.0).abs() < 1e-9);
    let (_, v) = gw.get("/v1/api/iserver/currency/pairs?currency=USD").await;
    assert_eq!(
        v["USD"],
        json!([{"symbol": "EUR.USD", "conid": EURUSD, "ccyPair": "EUR"}])
    );
    gw.stop().await;
}
