//! Bad input gets a 4xx IBKR-style error body naming the problem — never a 5xx, never a
//! panic — and the server keeps serving.

use proptest::prelude::*;
use serde_json::{Value, json};

use crate::common::*;

/// (method, path, body, expected status, expected fragment of the error).
fn cases() -> Vec<(
    &'static str,
    String,
    Option<&'static str>,
    u16,
    &'static str,
)> {
    let o = format!("/v1/api/iserver/account/{ACCT}/orders");
    let ord = |body: &'static str| ("POST", o.clone(), Some(body), 400u16);
    vec![
        (
            "GET",
            "/v1/api/nope".into(),
            None,
            404,
            "Not Found: /v1/api/nope",
        ),
        (
            "DELETE",
            "/v1/api/tickle".into(),
            None,
            405,
            "Method Not Allowed",
        ),
        ("GET", "/nothing/here".into(), None, 404, "Not Found"),
        (
            "GET",
            "/control/market/step".into(),
            None,
            405,
            "Method Not Allowed",
        ),
        // Malformed / missing bodies and fields.
        {
            let c = ord("{not json");
            (c.0, c.1, c.2, c.3, "malformed JSON body")
        },
        {
            let c = ord("");
            (c.0, c.1, c.2, c.3, "body can't be empty")
        },
        {
            let c = ord(r#"{"orders": []}"#);
            (c.0, c.1, c.2, c.3, "orders must not be empty")
        },
        {
            let c = ord(r#"{"orders": 5}"#);
            (c.0, c.1, c.2, c.3, "orders: expected an array")
        },
        {
            let c = ord(r#"{"order": []}"#);
            (c.0, c.1, c.2, c.3, "orders is required")
        },
        {
            let c =
                ord(r#"{"orders":[{"orderType":"MKT","side":"BUY","tif":"DAY","quantity":1}]}"#);
            (c.0, c.1, c.2, c.3, "orders[0].conid: is required")
        },
        {
            let c = ord(
                r#"{"orders":[{"conid":1,"orderType":"MKT","side":"BUY","tif":"DAY","quantity":1}]}"#,
            );
            (c.0, c.1, c.2, c.3, "orders[0].conid: unknown contract 1")
        },
        {
            let c =
                ord(r#"{"orders":[{"conid":265598,"orderType":"MKT","side":"BUY","tif":"DAY"}]}"#);
            (c.0, c.1, c.2, c.3, "orders[0].quantity: is required")
        },
        {
            let c = ord(
                r#"{"orders":[{"conid":265598,"orderType":"MKT","side":"BUY","tif":"DAY","quantity":0}]}"#,
            );
            (c.0, c.1, c.2, c.3, "must be positive")
        },
        {
            let c = ord(
                r#"{"orders":[{"conid":265598,"orderType":"LMT","price":"abc","side":"BUY","tif":"DAY","quantity":1}]}"#,
            );
            (c.0, c.1, c.2, c.3, "orders[0].price")
        },
        {
            let c = ord(
                r#"{"orders":[{"conid":495512563,"orderType":"LMT","price":4750.1,"side":"BUY","tif":"DAY","quantity":1}]}"#,
            );
            (c.0, c.1, c.2, c.3, "minimum price variation 0.25")
        },
        {
            let c = ord(
                r#"{"orders":[{"conid":265598,"orderType":"LMT","price":1,"side":"LONG","tif":"DAY","quantity":1}]}"#,
            );
            (c.0, c.1, c.2, c.3, "orders[0].side")
        },
        {
            let c = ord(
                r#"{"orders":[{"conid":265598,"orderType":"REL","side":"BUY","tif":"DAY","quantity":1}]}"#,
            );
            (c.0, c.1, c.2, c.3, "unsupported order type")
        },
        {
            let c = ord(
                r#"{"orders":[{"conid":265598,"orderType":"MKT","side":"BUY","tif":"DAY","quantity":1,"acctId":"DU0000001"}]}"#,
            );
            (c.0, c.1, c.2, c.3, "does not match the account")
        },
        {
            let c = ord(
                r#"{"orders":[{"conid":265598,"orderType":"MKT","side":"BUY","tif":"DAY","quantity":1},{"conid":265598,"orderType":"MKT","side":"BUY","tif":"DAY","quantity":1}]}"#,
            );
            (c.0, c.1, c.2, c.3, "only one order per request")
        },
        {
            let c = ord(
                r#"{"orders":[{"conid":265598,"parentId":"ghost","orderType":"MKT","side":"SELL","tif":"DAY","quantity":1}]}"#,
            );
            (c.0, c.1, c.2, c.3, "orders[0].parentId")
        },
        (
            "POST",
            "/v1/api/iserver/account/U999/orders".into(),
            Some(r#"{"orders":[]}"#),
            400,
            "accountId is not valid: U999",
        ),
        // Unknown ids.
        (
            "POST",
            format!("/v1/api/iserver/account/{ACCT}/order/123"),
            Some(r#"{"conid":265598}"#),
            400,
            "OrderID 123 doesn't exist",
        ),
        (
            "DELETE",
            format!("/v1/api/iserver/account/{ACCT}/order/123"),
            None,
            400,
            "OrderID 123 doesn't exist",
        ),
        (
            "DELETE",
            format!("/v1/api/iserver/account/{ACCT}/order/abc"),
            None,
            400,
            "is not a valid order id",
        ),
        (
            "GET",
            "/v1/api/iserver/account/order/status/999".into(),
            None,
            400,
            "OrderID 999 doesn't exist",
        ),
        (
            "POST",
            "/v1/api/iserver/reply/nope".into(),
            Some(r#"{"confirmed":true}"#),
            400,
            "reply id not found: 'nope'",
        ),
        (
            "POST",
            "/v1/api/iserver/reply/nope".into(),
            Some(r#"{}"#),
            400,
            "confirmed is required",
        ),
        (
            "POST",
            "/v1/api/iserver/reply/nope".into(),
            Some(r#"{"confirmed":"yes"}"#),
            400,
            "confirmed: expected true or false",
        ),
        // Market data.
        (
            "GET",
            "/v1/api/iserver/marketdata/snapshot".into(),
            None,
            400,
            "conids is required",
        ),
        (
            "GET",
            "/v1/api/iserver/marketdata/snapshot?conids=42".into(),
            None,
            400,
            "conid 42 is not a known contract",
        ),
        (
            "GET",
            "/v1/api/iserver/marketdata/snapshot?conids=x".into(),
            None,
            400,
            "is not a valid conid",
        ),
        (
            "GET",
            "/v1/api/iserver/marketdata/snapshot?conids=265598&fields=31,abc".into(),
            None,
            400,
            "is not a field id",
        ),
        (
            "GET",
            "/v1/api/iserver/marketdata/history?bar=1min".into(),
            None,
            400,
            "conid is required",
        ),
        (
            "GET",
            "/v1/api/iserver/marketdata/history?conid=265598&period=99y".into(),
            None,
            400,
            "period",
        ),
        (
            "GET",
            "/v1/api/iserver/marketdata/history?conid=265598&bar=7x".into(),
            None,
            400,
            "bar: unknown unit",
        ),
        (
            "GET",
            "/v1/api/iserver/marketdata/history?conid=265598&bar=30secs".into(),
            None,
            400,
            "history resolution",
        ),
        (
            "GET",
            "/v1/api/iserver/marketdata/history?conid=265598&direction=2".into(),
            None,
            400,
            "direction",
        ),
        (
            "GET",
            "/v1/api/iserver/marketdata/history?conid=265598&startTime=yesterday".into(),
            None,
            400,
            "startTime",
        ),
        (
            "GET",
            "/v1/api/iserver/marketdata/history?conid=265598&outsideRth=perhaps".into(),
            None,
            400,
            "outsideRth",
        ),
        (
            "POST",
            "/v1/api/iserver/marketdata/unsubscribe".into(),
            Some(r#"{"conid":"x"}"#),
            400,
            "is not a valid conid",
        ),
        // Contracts.
        (
            "GET",
            "/v1/api/iserver/secdef/search".into(),
            None,
            400,
            "symbol is required",
        ),
        (
            "GET",
            "/v1/api/iserver/contract/abc/info".into(),
            None,
            400,
            "is not a valid conid",
        ),
        (
            "GET",
            "/v1/api/iserver/contract/42/info".into(),
            None,
            400,
            "conid 42 is not a known contract",
        ),
        (
            "POST",
            "/v1/api/iserver/contract/rules".into(),
            Some(r#"{"isBuy":true}"#),
            400,
            "conid is required",
        ),
        (
            "GET",
            "/v1/api/trsrv/secdef?conids=265598,42".into(),
            None,
            400,
            "unknown conids: 42",
        ),
        (
            "GET",
            "/v1/api/trsrv/stocks".into(),
            None,
            400,
            "symbols is required",
        ),
        (
            "GET",
            "/v1/api/trsrv/secdef/schedule?assetClass=STK&symbol=NOPE".into(),
            None,
            400,
            "no STK contract NOPE",
        ),
        (
            "GET",
            "/v1/api/iserver/exchangerate?source=USD".into(),
            None,
            400,
            "target is required",
        ),
        (
            "GET",
            "/v1/api/iserver/exchangerate?source=USD&target=JPY".into(),
            None,
            400,
            "no exchange rate",
        ),
        // Accounts, portfolio, suppression.
        (
            "POST",
            "/v1/api/iserver/account".into(),
            Some(r#"{}"#),
            400,
            "acctId is required",
        ),
        (
            "POST",
            "/v1/api/iserver/questions/suppress".into(),
            Some(r#"{"messageIds":"o163"}"#),
            400,
            "messageIds: expected an array",
        ),
        (
            "POST",
            "/v1/api/iserver/questions/suppress".into(),
            Some(r#"{"messageIds":[1]}"#),
            400,
            "messageIds[0]",
        ),
        (
            "GET",
            format!("/v1/api/portfolio/{ACCT}/positions/x"),
            None,
            400,
            "pageId",
        ),
        (
            "GET",
            "/v1/api/portfolio/U1/summary".into(),
            None,
            400,
            "accountId is not valid: U1",
        ),
        (
            "GET",
            format!("/v1/api/portfolio/{ACCT}/position/42"),
            None,
            400,
            "conid 42 is not a known contract",
        ),
        (
            "GET",
            "/v1/api/iserver/account/trades?days=9".into(),
            None,
            400,
            "days: must be within 1..7",
        ),
        (
            "GET",
            "/v1/api/iserver/account/orders?filters=bogus".into(),
            None,
            400,
            "unknown filter",
        ),
        (
            "POST",
            "/v1/api/iserver/auth/ssodh/init".into(),
            Some(r#"{"compete":"maybe"}"#),
            400,
            "compete",
        ),
        // Control endpoint.
        (
            "POST",
            "/control/market/step".into(),
            Some(r#"{"steps":0}"#),
            400,
            "steps",
        ),
        (
            "POST",
            "/control/market/bar".into(),
            Some(r#"{"conid":265598,"open":10,"high":9,"low":8,"close":9}"#),
            400,
            "low <= open",
        ),
        (
            "POST",
            "/control/faults".into(),
            Some(r#"{"no_such_switch":true}"#),
            400,
            "no_such_switch",
        ),
        (
            "POST",
            "/control/faults".into(),
            Some(r#"{"error_rate":"lots"}"#),
            400,
            "error_rate",
        ),
        (
            "POST",
            "/control/faults/trigger".into(),
            Some(r#"{"action":"explode"}"#),
            400,
            "unknown action",
        ),
        (
            "POST",
            "/control/clock/advance".into(),
            Some(r#"{"secs":-1}"#),
            400,
            "secs",
        ),
    ]
}

#[tokio::test]
async fn every_bad_input_gets_a_4xx_with_a_reason() {
    let gw = Gw::ready(ready()).await;
    for (method, path, body, status, fragment) in cases() {
        let url = format!("{}{path}", gw.base);
        let mut req = match method {
            "GET" => gw.http.get(&url),
            "POST" => gw.http.post(&url),
            "DELETE" => gw.http.delete(&url),
            _ => unreachable!(),
        };
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b);
        }
        let resp = req.send().await.unwrap();
        let got = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        assert_eq!(got, status, "{method} {path} {body:?} → {text}");
        let v: Value = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("{method} {path}: not JSON: {text}"));
        let err = v["error"]
            .as_str()
            .unwrap_or_else(|| panic!("{method} {path}: no error: {v}"));
        assert!(
            err.contains(fragment),
            "{method} {path}: {err:?} lacks {fragment:?}"
        );
        if err.starts_with("Bad Request") {
            assert_eq!(v["statusCode"], 400);
        }
    }
    assert_eq!(
        gw.post("/v1/api/tickle", json!({})).await.0,
        200,
        "still serving"
    );
    gw.stop().await;
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Arbitrary JSON-ish bodies to the order endpoints never produce a 5xx.
    #[test]
    fn arbitrary_order_bodies_never_break_the_server(
        conid in prop_oneof![Just(json!(265598)), Just(json!("265598")), Just(json!(-1)), Just(json!(null)), Just(json!([1])), Just(json!(1e300))],
        qty in prop_oneof![Just(json!(1)), Just(json!(0)), Just(json!(-3)), Just(json!("1e40")), Just(json!("1e27")), Just(json!(1.5)), Just(json!({}))],
        price in prop_oneof![Just(json!(190.0)), Just(json!(0.001)), Just(json!("NaN")), Just(json!(null)), Just(json!(1e308)), Just(json!("7e28"))],
        side in prop_oneof![Just("BUY"), Just("sell"), Just(""), Just("🙂")],
        order_type in prop_oneof![Just("LMT"), Just("MKT"), Just("STP"), Just("STOP_LIMIT"), Just("TRAIL"), Just("x")],
        tif in prop_oneof![Just("DAY"), Just("GTC"), Just("IOC"), Just("FOK")],
        noise in "[ -~]{0,40}",
    ) {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        rt.block_on(async {
            let gw = Gw::ready(ready()).await;
            let ticket = json!({"conid": conid, "quantity": qty, "price": price, "auxPrice": price, "side": side,
                                "orderType": order_type, "tif": tif, "cOID": noise});
            for (path, body) in [
                (format!("/v1/api/iserver/account/{ACCT}/orders"), json!({"orders": [ticket.clone()]})),
                (format!("/v1/api/iserver/account/{ACCT}/orders/whatif"), json!({"orders": [ticket.clone()]})),
                (format!("/v1/api/iserver/account/{ACCT}/order/1"), ticket.clone()),
            ] {
                let (s, v) = gw.post(&path, body).await;
                prop_assert!(s < 500, "{path}: {s} {v}");
                prop_assert!(v.is_object() || v.is_array(), "{path}: {v}");
            }
            let (s, _) = gw.post(&format!("/v1/api/iserver/account/{ACCT}/orders"), json!({"orders": [noise]})).await;
            prop_assert!(s < 500);
            prop_assert_eq!(gw.post("/v1/api/tickle", json!({})).await.0, 200);
            gw.stop().await;
            Ok(())
        })?;
    }
}
