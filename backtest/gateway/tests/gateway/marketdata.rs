//! Snapshot (pre-flight, field formatting), history, unsubscribe.

use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn snapshot_preflight_then_values() {
    let gw = Gw::ready(manual()).await;
    let path = "/v1/api/iserver/marketdata/snapshot?conids=265598,495512563&fields=31,84,86,85,88,7059,55,87,7295";
    let (s, v) = gw.get(path).await;
    assert_eq!(s, 200);
    assert_eq!(
        v,
        json!([{"conid": AAPL, "conidEx": "265598"}, {"conid": ES, "conidEx": "495512563"}])
    );
    let (_, v) = gw.get(path).await;
    let a = &v[0];
    for f in ["31", "84", "86", "85", "88", "7059", "55", "87", "7295"] {
        assert!(a[f].is_string(), "field {f} must be a string: {a}");
    }
    assert_eq!(a["55"], "AAPL");
    assert_eq!(a["6509"], "RpB");
    assert_eq!(a["server_id"], a["6119"]);
    let last: f64 = a["31"].as_str().unwrap().parse().unwrap();
    let bid: f64 = a["84"].as_str().unwrap().parse().unwrap();
    let ask: f64 = a["86"].as_str().unwrap().parse().unwrap();
    assert!(
        bid <= last && last <= ask && ask - bid < 0.011,
        "{bid} {last} {ask}"
    );
    assert_eq!(
        a["31"].as_str().unwrap().split('.').nth(1).unwrap().len(),
        2,
        "two decimals"
    );
    assert_eq!(
        v[1]["31"]
            .as_str()
            .unwrap()
            .split('.')
            .nth(1)
            .unwrap()
            .len(),
        2,
        "ES on the 0.25 tick"
    );
    let before = a["_updated"].as_i64().unwrap();
    gw.step(3).await;
    let (_, v) = gw
        .get("/v1/api/iserver/marketdata/snapshot?conids=265598")
        .await;
    assert_eq!(
        v[0]["_updated"].as_i64().unwrap(),
        before + 3_000,
        "three one-second steps"
    );
    assert!(v[0]["7295"].is_string(), "fields requested earlier stick");

    let (s, v) = gw
        .post(
            "/v1/api/iserver/marketdata/unsubscribe",
            json!({"conid": AAPL}),
        )
        .await;
    assert_eq!((s, v), (200, json!({"success": true})));
    assert_eq!(
        gw.post(
            "/v1/api/iserver/marketdata/unsubscribe",
            json!({"conid": AAPL})
        )
        .await
        .1,
        json!({"success": false})
    );
    assert_eq!(
        gw.get(path).await.1[0],
        json!({"conid": AAPL, "conidEx": "265598"}),
        "pre-flight again"
    );
    assert_eq!(
        gw.get("/v1/api/iserver/marketdata/unsubscribeall").await.1,
        json!({"unsubscribed": true})
    );
    assert_eq!(
        gw.get(path).await.1[1],
        json!({"conid": ES, "conidEx": "495512563"})
    );
    gw.stop().await;
}

#[tokio::test]
async fn history_bars_sizes_and_rth() {
    let gw = Gw::ready(manual()).await;
    let (s, v) = gw
        .get("/v1/api/iserver/marketdata/history?conid=265598&period=1d&bar=5min")
        .await;
    assert_eq!(s, 200);
    let data = v["data"].as_array().unwrap();
    // The last regular session before 2024-01-02 09:30 is 2024-01-01 (holidays are not modelled).
    assert_eq!(data.len(), 78, "6.5 hours of 5-minute bars");
    assert_eq!(v["points"], data.len() - 1);
    assert_eq!(v["symbol"], "AAPL");
    assert_eq!(v["barLength"], 300);
    let mut prev = 0;
    for b in data {
        let t = b["t"].as_i64().unwrap();
        assert_eq!(t % 300_000, 0);
        assert!(t > prev);
        prev = t;
        let (o, h, l, c) = (
            b["o"].as_f64().unwrap(),
            b["h"].as_f64().unwrap(),
            b["l"].as_f64().unwrap(),
            b["c"].as_f64().unwrap(),
        );
        assert!(l <= o.min(c) && h >= o.max(c));
    }
    let (_, v) = gw
        .get("/v1/api/iserver/marketdata/history?conid=265598&period=1d&bar=1h&outsideRth=true")
        .await;
    assert_eq!(
        v["data"].as_array().unwrap().len(),
        25,
        "round the clock with outsideRth: 09:00 Jan 1 to 09:00 Jan 2"
    );
    let (_, v) = gw
        .get("/v1/api/iserver/marketdata/history?conid=265598&period=1w&bar=1d")
        .await;
    assert_eq!(
        v["data"].as_array().unwrap().len(),
        5,
        "a week of daily bars (Dec 26-29 and Jan 1), most from the deep history before the two stored days"
    );
    let (_, v) = gw
        .get("/v1/api/iserver/marketdata/history?conid=12087792&period=2h&bar=30min")
        .await;
    assert_eq!(v["data"].as_array().unwrap().len(), 4);
    // Live steps extend the history.
    gw.step(120).await;
    let (_, v) = gw
        .get("/v1/api/iserver/marketdata/history?conid=265598&period=5min&bar=1min")
        .await;
    let data = v["data"].as_array().unwrap();
    assert_eq!(data.len(), 2, "09:30 and 09:31 of the live session");
    assert_eq!(data[0]["t"], 1_704_205_800_000_i64);
    let (_, v) = gw.get("/v1/api/iserver/marketdata/history?conid=265598&period=1d&bar=1min&startTime=20230101-00:00:00").await;
    assert_eq!(v, json!({"error": "No data."}));
    gw.stop().await;
}
