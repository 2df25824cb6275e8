//! Session and account endpoints and the session state machine.

use serde_json::json;

use crate::common::*;
use tickline_gateway::config::{AccountConfig, InitialSession};

#[tokio::test]
async fn brokerage_session_needs_priming() {
    let gw = Gw::start(manual()).await;
    let (s, v) = gw.post("/v1/api/iserver/auth/status", json!({})).await;
    assert_eq!(s, 200);
    assert_eq!(
        (
            v["authenticated"].clone(),
            v["connected"].clone(),
            v["competing"].clone()
        ),
        (json!(true), json!(true), json!(false))
    );
    assert_eq!(v["fail"], "");
    let (s, v) = gw.get("/v1/api/iserver/account/orders").await;
    assert_eq!(
        (s, v["error"].as_str()),
        (400, Some("Bad Request: Please query /accounts first"))
    );
    assert_eq!(v["statusCode"], 400);
    let (s, v) = gw.get(&format!("/v1/api/portfolio/{ACCT}/summary")).await;
    assert_eq!(
        (s, v["error"].as_str()),
        (
            400,
            Some("Bad Request: Please query /portfolio/accounts first")
        )
    );

    let (s, v) = gw.get("/v1/api/iserver/accounts").await;
    assert_eq!(s, 200);
    assert_eq!(v["accounts"], json!([ACCT]));
    assert_eq!(v["selectedAccount"], ACCT);
    assert_eq!(v["isPaper"], true);
    assert!(v["acctProps"][ACCT].is_object());
    assert_eq!(gw.get("/v1/api/iserver/account/orders").await.0, 200);
    let (s, v) = gw.get("/v1/api/portfolio/accounts").await;
    assert_eq!(s, 200);
    assert_eq!(v[0]["accountId"], ACCT);
    assert_eq!(v[0]["type"], "DEMO");
    assert_eq!(
        gw.get(&format!("/v1/api/portfolio/{ACCT}/summary")).await.0,
        200
    );
    assert_eq!(
        gw.get(&format!("/v1/api/portfolio/{ACCT}/meta")).await.1["accountId"],
        ACCT
    );
    assert_eq!(gw.get("/v1/api/portfolio/subaccounts").await.0, 200);
    gw.stop().await;
}

#[tokio::test]
async fn tickle_validate_and_get_variants() {
    let gw = Gw::start(manual()).await;
    let (s, v) = gw.post("/v1/api/tickle", json!({})).await;
    assert_eq!(s, 200);
    let session = v["session"].as_str().unwrap();
    assert_eq!(session.len(), 32);
    assert!(session.chars().all(|c| c.is_ascii_hexdigit()));
    assert!(v["ssoExpires"].as_u64().unwrap() > 300_000);
    assert_eq!(v["collission"], false);
    assert_eq!(v["iserver"]["authStatus"]["authenticated"], true);
    assert_eq!(v["hmds"]["error"], "no bridge");
    // GET is accepted too, and clients' stray slashes are tolerated.
    assert_eq!(gw.get("/v1/api/tickle").await.1["session"], session);
    assert_eq!(gw.get("/v1/api/iserver/auth/status").await.0, 200);
    let (s, v) = gw.get("/v1/api//sso/validate").await;
    assert_eq!(s, 200);
    assert_eq!(v["RESULT"], true);
    assert_eq!(v["USER_NAME"], "user1234");
    assert_eq!(v["LOGIN_TYPE"], 2);
    gw.stop().await;
}

#[tokio::test]
async fn logout_ends_the_session_until_login() {
    let gw = Gw::ready(manual()).await;
    let old = gw.session_id().await;
    let (s, v) = gw.post("/v1/api/logout", json!({})).await;
    assert_eq!((s, v), (200, json!({"status": true})));
    for path in [
        "/v1/api/iserver/auth/status",
        "/v1/api/tickle",
        "/v1/api/portfolio/accounts",
    ] {
        let (s, v) = gw.get(path).await;
        assert_eq!((s, v.as_str()), (401, Some("access denied")), "{path}");
    }
    assert_eq!(
        gw.post(
            "/v1/api/iserver/auth/ssodh/init",
            json!({"publish": true, "compete": true})
        )
        .await
        .0,
        401
    );
    let (s, _) = gw.post("/control/session/login", json!({})).await;
    assert_eq!(s, 200);
    assert_ne!(gw.session_id().await, old, "a new login is a new session");
    let (_, v) = gw.get("/v1/api/iserver/account/orders").await;
    assert_eq!(v["error"], "Bad Request: Please query /accounts first");
    gw.stop().await;
}

#[tokio::test]
async fn competing_session_and_ssodh_init() {
    let gw = Gw::ready(manual()).await;
    gw.post("/control/session/compete", json!({})).await;
    let v = gw.get("/v1/api/iserver/auth/status").await.1;
    assert_eq!(
        (v["authenticated"].clone(), v["competing"].clone()),
        (json!(false), json!(true))
    );
    let (s, v) = gw.get("/v1/api/iserver/accounts").await;
    assert_eq!(
        (s, v["error"].as_str()),
        (400, Some("Bad Request: no bridge"))
    );
    // Read-only endpoints keep working.
    assert_eq!(gw.get("/v1/api/portfolio/accounts").await.0, 200);
    assert_eq!(gw.get("/v1/api/trsrv/stocks?symbols=AAPL").await.0, 200);
    let v = gw
        .post(
            "/v1/api/iserver/auth/ssodh/init",
            json!({"publish": true, "compete": false}),
        )
        .await
        .1;
    assert_eq!(
        (v["authenticated"].clone(), v["competing"].clone()),
        (json!(false), json!(true))
    );
    let v = gw
        .post(
            "/v1/api/iserver/auth/ssodh/init",
            json!({"publish": true, "compete": true}),
        )
        .await
        .1;
    assert_eq!(
        (v["authenticated"].clone(), v["competing"].clone()),
        (json!(true), json!(false))
    );
    let (_, v) = gw.get("/v1/api/iserver/account/trades").await;
    assert_eq!(
        v["error"], "Bad Request: Please query /accounts first",
        "re-prime after taking the session back"
    );
    gw.prime().await;
    assert_eq!(gw.get("/v1/api/iserver/account/trades").await.0, 200);
    gw.stop().await;
}

#[tokio::test]
async fn readonly_start_reauthenticate_and_nightly_reset() {
    let mut cfg = manual();
    cfg.session.initial = InitialSession::Readonly;
    let gw = Gw::start(cfg).await;
    assert_eq!(
        gw.get("/v1/api/iserver/auth/status").await.1["authenticated"],
        false
    );
    assert_eq!(
        gw.get("/v1/api/iserver/secdef/search?symbol=AAPL").await.1["error"],
        "Bad Request: no bridge"
    );
    let (s, v) = gw.post("/v1/api/iserver/reauthenticate", json!({})).await;
    assert_eq!((s, v), (200, json!({"message": "triggered"})));
    assert_eq!(
        gw.get("/v1/api/iserver/auth/status").await.1["authenticated"],
        true
    );
    gw.prime().await;
    gw.post("/control/session/reset", json!({})).await;
    let v = gw.get("/v1/api/iserver/auth/status").await.1;
    assert_eq!(
        (v["authenticated"].clone(), v["competing"].clone()),
        (json!(false), json!(false))
    );
    assert_eq!(
        gw.post("/v1/api/iserver/auth/ssodh/init", json!({}))
            .await
            .1["authenticated"],
        true
    );
    gw.stop().await;
}

#[tokio::test]
async fn idle_expiry_and_tickle_keepalive() {
    let gw = Gw::ready(manual()).await;
    for _ in 0..3 {
        let (s, v) = gw
            .post("/control/clock/advance", json!({"secs": 300}))
            .await;
        assert_eq!((s, v["session"].as_str()), (200, Some("ready")));
        assert_eq!(gw.post("/v1/api/tickle", json!({})).await.0, 200);
    }
    let (_, v) = gw
        .post("/control/clock/advance", json!({"secs": 361}))
        .await;
    assert_eq!(v["session"], "no-session");
    assert_eq!(gw.get("/v1/api/iserver/auth/status").await.0, 401);
    gw.stop().await;
}

#[tokio::test]
async fn account_switch_and_pnl_preflight() {
    let mut cfg = manual();
    cfg.accounts.push(AccountConfig {
        id: "DU7654321".into(),
        cash: 250_000.into(),
        ..AccountConfig::default()
    });
    let gw = Gw::ready(cfg).await;
    assert_eq!(
        gw.get("/v1/api/iserver/accounts").await.1["accounts"],
        json!([ACCT, "DU7654321"])
    );
    let (s, v) = gw
        .post("/v1/api/iserver/account", json!({"acctId": "DU7654321"}))
        .await;
    assert_eq!((s, v), (200, json!({"set": true, "acctId": "DU7654321"})));
    assert_eq!(
        gw.get("/v1/api/iserver/accounts").await.1["selectedAccount"],
        "DU7654321"
    );
    let (s, v) = gw
        .post("/v1/api/iserver/account", json!({"acctId": "U999"}))
        .await;
    assert_eq!((s, v["error"].as_str()), (400, Some("Invalid account ID")));
    assert_eq!(
        gw.get("/v1/api/portfolio/accounts")
            .await
            .1
            .as_array()
            .unwrap()
            .len(),
        2
    );

    let (_, first) = gw.get("/v1/api/iserver/account/pnl/partitioned").await;
    assert_eq!(first, json!({"upnl": {}}), "the first call is a pre-flight");
    let (_, v) = gw.get("/v1/api/iserver/account/pnl/partitioned").await;
    let row = &v["upnl"]["DU7654321.Core"];
    assert_eq!(row["rowType"], 1);
    assert_eq!(row["nl"], 250_000.0);
    for k in ["dpl", "upl", "el", "mv"] {
        assert!(row[k].is_number(), "{k}: {row}");
    }
    let (s, v) = gw
        .get(&format!("/v1/api/iserver/account/{ACCT}/summary"))
        .await;
    assert_eq!(s, 200);
    assert_eq!(v["netLiquidationValue"], 1_000_000.0);
    gw.stop().await;
}
