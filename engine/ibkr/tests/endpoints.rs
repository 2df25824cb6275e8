//! Endpoint families against a server answering with the reference sample shapes: session,
//! accounts, portfolio, orders, market data, contracts, and the raw long tail.

mod common;

use std::time::Duration;

use common::{MockServer, Reply, sample};
use rust_decimal::dec;
use serde_json::json;
use tickline_ibkr::marketdata::{Field, LastKind};
use tickline_ibkr::models::*;
use tickline_ibkr::{Client, ClientConfig, IbkrError, SessionState};

#[tokio::test]
async fn session_family() {
    let server = MockServer::with_session().await;
    server.route_reply(
        "GET",
        "/v1/api/sso/validate",
        Reply::value(
            json!({"USER_ID": 1, "USER_NAME": "u", "RESULT": true, "EXPIRES": 50000,
            "loginType": 2}),
        ),
    );
    server.route_reply(
        "POST",
        "/v1/api/logout",
        Reply::value(json!({"status": true})),
    );
    server.route_reply(
        "GET",
        "/v1/api/iserver/reauthenticate",
        Reply::value(json!({"message": "triggered"})),
    );
    let client = common::client(&server);

    let status = client.auth_status().await.expect("auth status");
    assert!(status.is_healthy());
    assert_eq!(
        client.session_status().state,
        SessionState::BrokerageNotPrimed
    );

    let tickle = client.tickle().await.expect("tickle");
    assert_eq!(tickle.sso_expires_ms, Some(585695));
    assert_eq!(
        client.websocket_session().map(|s| s.expose().to_string()),
        Some("ce109cbeb462a76dc3f6f4182c830cc1".into())
    );

    let sso = client.sso_validate().await.expect("sso");
    assert!(sso.result);
    assert_eq!(sso.login_type, Some(2));

    let init = client.ssodh_init(true, false).await.expect("ssodh");
    assert!(init.authenticated);
    let body = server.requests_to("POST", "/v1/api/iserver/auth/ssodh/init")[0].json();
    assert_eq!(body, json!({"publish": true, "compete": false}));

    let accounts = client.connect().await.expect("connect");
    assert_eq!(accounts.default_account(), Some("DU1234567"));
    assert_eq!(client.session_status().state, SessionState::Ready);

    assert_eq!(
        client.reauthenticate().await.expect("reauth").message,
        "triggered"
    );
    assert!(client.logout().await.expect("logout").status);
    assert_eq!(client.session_status().state, SessionState::NoSession);

    // Every request carried a User-Agent; POSTs without parameters sent `{}`.
    for r in server.requests() {
        assert!(
            r.header("user-agent")
                .is_some_and(|u| u.starts_with("tickline/"))
        );
        if r.method == "POST" && r.path == "/v1/api/tickle" {
            assert_eq!(r.body, "{}");
        }
    }

    // The websocket settings carry the gateway session.
    let ws = client.ws_config();
    assert_eq!(ws.url.as_str(), format!("ws://{}/v1/api/ws", server.addr));
    assert_eq!(ws.oauth_token, None);
    assert!(ws.cookie.is_some());
}

#[tokio::test]
async fn tickle_failure_branch_is_an_api_error() {
    let server = MockServer::start().await;
    server.route_reply(
        "POST",
        "/v1/api/tickle",
        Reply::value(json!({"error": "failed to process request"})),
    );
    let client = common::client(&server);
    match client.tickle().await {
        Err(IbkrError::Api { message, endpoint }) => {
            assert_eq!(message, "failed to process request");
            assert_eq!(endpoint.path, "/tickle");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn accounts_family_primes_iserver_once() {
    let server = MockServer::with_session().await;
    server.route_sample(
        "GET",
        "/v1/api/iserver/account/pnl/partitioned",
        "pnl_partitioned.json",
    );
    server.route_reply(
        "POST",
        "/v1/api/iserver/account",
        Reply::value(json!({"set": true, "acctId": "DU1234567"})),
    );
    server.route_reply(
        "GET",
        "/v1/api/iserver/account/DU1234567/summary",
        Reply::value(json!({"accountType": "INDIVIDUAL", "balance": 825208})),
    );
    let client = common::client(&server);
    let pnl = client.pnl_partitioned().await.expect("pnl");
    assert_eq!(pnl.upnl["DU1234567.Core"].nl, Some(dec!(1290000)));
    let switched = client.switch_account("DU1234567").await.expect("switch");
    assert_eq!(switched.set, Some(true));
    assert_eq!(
        server.requests_to("POST", "/v1/api/iserver/account")[0].json(),
        json!({"acctId": "DU1234567"})
    );
    let summary = client.account_summary("DU1234567").await.expect("summary");
    assert_eq!(summary["balance"], 825208);
    // `/iserver/accounts` was called once, before the first `/iserver` request.
    assert_eq!(server.count("GET", "/v1/api/iserver/accounts"), 1);
    let first = &server.requests()[0];
    assert_eq!(first.path, "/v1/api/iserver/accounts");
    assert!(matches!(
        client.switch_account("  ").await,
        Err(IbkrError::InvalidInput { .. })
    ));
}

#[tokio::test]
async fn please_query_accounts_first_is_handled() {
    let server = MockServer::with_session().await;
    server.route_seq(
        "GET",
        "/v1/api/iserver/account/orders",
        vec![
            Reply::status(
                400,
                r#"{"error":"Bad Request: Please query /accounts first","statusCode":400}"#,
            ),
            Reply::sample("live_orders.json"),
        ],
    );
    let client = common::client(&server);
    let orders = client
        .live_orders(&LiveOrdersQuery::default())
        .await
        .expect("orders after priming");
    assert_eq!(orders.orders.len(), 2);
    // Primed before the first call, and again after IBKR asked for it.
    assert_eq!(server.count("GET", "/v1/api/iserver/accounts"), 2);
}

#[tokio::test]
async fn please_query_portfolio_accounts_first_is_handled() {
    // A login at the gateway starts a new session the client did not open: IBKR forgets
    // the portfolio priming and asks for it again.
    let server = MockServer::with_session().await;
    server.route_seq(
        "GET",
        "/v1/api/portfolio/DU1234567/ledger",
        vec![
            Reply::sample("ledger.json"),
            Reply::status(
                400,
                r#"{"error":"Bad Request: Please query /portfolio/accounts first","statusCode":400}"#,
            ),
            Reply::sample("ledger.json"),
        ],
    );
    let client = common::client(&server);
    client.ledger("DU1234567").await.expect("first ledger");
    client
        .ledger("DU1234567")
        .await
        .expect("ledger after priming again");
    assert_eq!(server.count("GET", "/v1/api/portfolio/accounts"), 2);
    assert_eq!(server.count("GET", "/v1/api/portfolio/DU1234567/ledger"), 3);
}

#[tokio::test]
async fn portfolio_family() {
    let server = MockServer::with_session().await;
    // Page 0 holds 100 positions, page 1 the remaining 3.
    let one: serde_json::Value =
        serde_json::from_str(&sample("portfolio_positions.json")).expect("positions");
    let hundred: Vec<serde_json::Value> = (0..100).map(|_| one[2].clone()).collect();
    server.route_reply(
        "GET",
        "/v1/api/portfolio/DU1234567/positions/0",
        Reply::value(json!(hundred)),
    );
    server.route_sample(
        "GET",
        "/v1/api/portfolio/DU1234567/positions/1",
        "portfolio_positions.json",
    );
    server.route_sample(
        "GET",
        "/v1/api/portfolio/DU1234567/summary",
        "portfolio_summary.json",
    );
    server.route_sample("GET", "/v1/api/portfolio/DU1234567/ledger", "ledger.json");
    server.route_reply(
        "POST",
        "/v1/api/portfolio/DU1234567/positions/invalidate",
        Reply::value(json!({"message": "success"})),
    );
    server.route_reply(
        "GET",
        "/v1/api/portfolio/positions/8314",
        Reply::value(json!({"DU1234567": [one[2].clone()]})),
    );
    let client = common::client(&server);
    let all = client.all_positions("DU1234567").await.expect("positions");
    assert_eq!(all.len(), 103);
    assert_eq!(all[100].position, Some(dec!(0.00365831)));
    // `/portfolio/accounts` was called once first.
    assert_eq!(server.requests()[0].path, "/v1/api/portfolio/accounts");
    assert_eq!(server.count("GET", "/v1/api/portfolio/accounts"), 1);

    let summary = client
        .portfolio_summary("DU1234567")
        .await
        .expect("summary");
    assert_eq!(summary["accountcode"].value.as_deref(), Some("DU1234567"));
    let ledger = client.ledger("DU1234567").await.expect("ledger");
    assert_eq!(ledger["BASE"].netliquidationvalue, Some(dec!(1034222.25)));
    assert_eq!(
        client
            .invalidate_positions("DU1234567")
            .await
            .expect("invalidate")
            .message,
        "success"
    );
    let by_conid = client.positions_by_conid(8314).await.expect("by conid");
    assert_eq!(by_conid["DU1234567"][0].conid, Some(8314));
    let accounts = client.portfolio_accounts().await.expect("accounts");
    assert_eq!(accounts[0].account(), Some("DU1234567"));
}

#[tokio::test]
async fn orders_family() {
    let server = MockServer::with_session().await;
    server.route_sample("GET", "/v1/api/iserver/account/orders", "live_orders.json");
    server.route_sample(
        "GET",
        "/v1/api/iserver/account/order/status/1799796559",
        "order_status.json",
    );
    server.route_sample("GET", "/v1/api/iserver/account/trades", "trades.json");
    server.route_sample(
        "POST",
        "/v1/api/iserver/account/DU1234567/orders/whatif",
        "order_whatif.json",
    );
    server.route_sample(
        "DELETE",
        "/v1/api/iserver/account/DU1234567/order/1370093239",
        "order_cancel.json",
    );
    server.route_reply(
        "DELETE",
        "/v1/api/iserver/account/DU1234567/order/2",
        Reply::value(json!([{"msg": "Request was submitted", "order_id": "2",
            "order_status": "PendingCancel", "encrypt_message": "1"}])),
    );
    server.route_reply(
        "DELETE",
        "/v1/api/iserver/account/DU1234567/order/3",
        Reply::value(json!({"error": "OrderID 3 doesn't exist"})),
    );
    server.route_reply(
        "POST",
        "/v1/api/iserver/notification",
        Reply::json("\"Request was submitted\""),
    );
    let client = common::client(&server);

    let orders = client
        .live_orders(&LiveOrdersQuery {
            filters: vec!["submitted".into(), "filled".into()],
            force: true,
            account_id: None,
        })
        .await
        .expect("orders");
    assert_eq!(orders.orders[0].order_id, Some(1210386759));
    let q = server.requests_to("GET", "/v1/api/iserver/account/orders")[0]
        .query
        .clone();
    assert_eq!(q.as_deref(), Some("filters=submitted,filled&force=true"));

    let found = client
        .find_orders_by_coid("Order123")
        .await
        .expect("lookup");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].order_id, Some(1799796559));

    let status = client.order_status(1799796559).await.expect("status");
    assert_eq!(status.order_status.as_deref(), Some("Filled"));
    let trades = client.trades(Some(7)).await.expect("trades");
    assert_eq!(trades[0].commission, Some(dec!(1.01)));
    assert!(matches!(
        client.trades(Some(8)).await,
        Err(IbkrError::InvalidInput { .. })
    ));

    let ticket = OrderTicket::limit(265598, Side::Buy, dec!(10), dec!(197.76));
    let whatif = client
        .what_if("DU1234567", &[ticket])
        .await
        .expect("whatif");
    assert_eq!(
        whatif.equity.and_then(|e| e.after).as_deref(),
        Some("123,455")
    );
    let sent =
        server.requests_to("POST", "/v1/api/iserver/account/DU1234567/orders/whatif")[0].json();
    assert_eq!(sent["orders"][0]["price"], json!(197.76));
    assert_eq!(sent["orders"][0]["orderType"], "LMT");

    let c1 = client
        .cancel_order("DU1234567", 1370093239)
        .await
        .expect("cancel");
    assert_eq!(c1.order_id, Some(1370093239));
    let c2 = client
        .cancel_order("DU1234567", 2)
        .await
        .expect("cancel array");
    assert_eq!(c2.order_status.as_deref(), Some("PendingCancel"));
    match client.cancel_order("DU1234567", 3).await {
        Err(IbkrError::Api { message, .. }) => assert_eq!(message, "OrderID 3 doesn't exist"),
        other => panic!("{other:?}"),
    }

    let text = client
        .answer_notification(&NotificationAnswer {
            order_id: 123456789,
            req_id: "22170".into(),
            text: "Do not use".into(),
        })
        .await
        .expect("notification");
    assert_eq!(text, "Request was submitted");
    assert_eq!(
        server.requests_to("POST", "/v1/api/iserver/notification")[0].json(),
        json!({"orderId": 123456789, "reqId": "22170", "text": "Do not use"})
    );
}

#[tokio::test(start_paused = true)]
async fn market_data_family() {
    let server = MockServer::with_session().await;
    server.route_seq(
        "GET",
        "/v1/api/iserver/marketdata/snapshot",
        vec![
            Reply::sample("marketdata_snapshot_preflight.json"),
            Reply::sample("marketdata_snapshot.json"),
        ],
    );
    server.route_seq(
        "GET",
        "/v1/api/iserver/marketdata/history",
        vec![
            Reply::sample("marketdata_history.json"),
            Reply::value(json!({"error": "No data."})),
        ],
    );
    server.route_reply(
        "POST",
        "/v1/api/iserver/marketdata/unsubscribe",
        Reply::value(json!({"success": true})),
    );
    server.route_reply(
        "GET",
        "/v1/api/iserver/marketdata/unsubscribeall",
        Reply::value(json!({"unsubscribed": true})),
    );
    let client = common::client(&server);
    let snaps = client
        .snapshot_ready(
            &[265598, 8314],
            &[Field::Last, Field::Bid, Field::Ask],
            5,
            Duration::from_millis(500),
        )
        .await
        .expect("snapshot");
    assert_eq!(
        server.count("GET", "/v1/api/iserver/marketdata/snapshot"),
        2
    );
    assert_eq!(snaps[0].bid(), Some(dec!(168.41)));
    assert_eq!(snaps[1].last().map(|l| l.kind), Some(LastKind::PriorClose));
    let q = server.requests_to("GET", "/v1/api/iserver/marketdata/snapshot")[0]
        .query
        .clone();
    assert_eq!(q.as_deref(), Some("conids=265598,8314&fields=31,84,86"));

    let mut req = HistoryRequest::new(265598, "1w", "1d");
    req.outside_rth = Some(false);
    let series = client
        .history_series(&req, tickline_ibkr::HistoryPaging::default(), "AAPL")
        .await
        .expect("history");
    assert_eq!(series.len(), 4);
    assert_eq!(series.interval, 86_400 * 1_000_000_000);
    let q = server.requests_to("GET", "/v1/api/iserver/marketdata/history")[0]
        .query
        .clone();
    assert_eq!(
        q.as_deref(),
        Some("conid=265598&period=1w&bar=1d&outsideRth=false")
    );
    match client.history(&req).await {
        Err(IbkrError::Api { message, .. }) => assert_eq!(message, "No data."),
        other => panic!("{other:?}"),
    }
    assert!(
        client
            .unsubscribe_market_data(265598)
            .await
            .expect("unsub")
            .success
    );
    assert!(
        client
            .unsubscribe_all_market_data()
            .await
            .expect("unsub all")
            .unsubscribed
    );
    assert!(matches!(
        client.snapshot(&[], &[]).await,
        Err(IbkrError::InvalidInput { .. })
    ));
}

#[tokio::test]
async fn contracts_family() {
    let server = MockServer::with_session().await;
    server.route_sample("GET", "/v1/api/iserver/secdef/search", "secdef_search.json");
    server.route_sample(
        "POST",
        "/v1/api/iserver/secdef/search",
        "secdef_search.json",
    );
    server.route_reply(
        "GET",
        "/v1/api/iserver/contract/265598/info",
        Reply::value(
            json!({"con_id": 265598, "symbol": "AAPL", "instrument_type": "STK",
            "multiplier": "", "r_t_h": true, "valid_exchanges": "SMART,NASDAQ"}),
        ),
    );
    server.route_reply(
        "POST",
        "/v1/api/iserver/contract/rules",
        Reply::value(json!({"orderTypes": ["limit", "market"], "increment": 0.01,
            "incrementRules": [{"lowerEdge": 0.0, "increment": 0.01}], "defaultSize": 100})),
    );
    server.route_reply(
        "GET",
        "/v1/api/iserver/secdef/strikes",
        Reply::value(json!({"call": [185.0, "190"], "put": [185.0]})),
    );
    server.route_reply(
        "GET",
        "/v1/api/trsrv/stocks",
        Reply::value(
            json!({"IBM": [{"name": "INTL BUSINESS MACHINES CORP", "assetClass": "STK",
            "contracts": [{"conid": 8314, "exchange": "NYSE", "isUS": true}]}]}),
        ),
    );
    server.route_reply(
        "GET",
        "/v1/api/trsrv/futures",
        Reply::value(json!({"ES": [{"symbol": "ES", "conid": 495512557,
            "underlyingConid": 11004968, "expirationDate": 20241220, "ltd": 20241219}]})),
    );
    server.route("GET", "/v1/api/trsrv/secdef", |r| {
        let n = r
            .query
            .as_deref()
            .and_then(|q| q.strip_prefix("conids="))
            .map(|l| l.split(',').count())
            .unwrap_or(0);
        let items: Vec<serde_json::Value> =
            (0..n).map(|i| json!({"conid": i, "ticker": "X"})).collect();
        Reply::value(json!({ "secdef": items }))
    });
    server.route_reply(
        "GET",
        "/v1/api/iserver/exchangerate",
        Reply::value(json!({"rate": 0.91324199})),
    );
    let client = common::client(&server);
    let found = client
        .search_contracts(&SecdefSearchRequest::symbol("IBM"))
        .await
        .expect("search");
    assert_eq!(found[0].conid, Some(8314));
    let posted = client
        .search_contracts_post(&SecdefSearchRequest {
            name: Some(true),
            ..SecdefSearchRequest::symbol("INTL")
        })
        .await
        .expect("search post");
    assert_eq!(posted.len(), 3);
    assert_eq!(
        server.requests_to("POST", "/v1/api/iserver/secdef/search")[0].json(),
        json!({"symbol": "INTL", "name": true})
    );
    let info = client.contract_info(265598).await.expect("info");
    assert_eq!(info.symbol.as_deref(), Some("AAPL"));
    assert_eq!(info.multiplier, None);
    let rules = client
        .contract_rules(&ContractRulesRequest {
            conid: 265598,
            is_buy: Some(true),
            modify_order: None,
            order_id: None,
        })
        .await
        .expect("rules");
    assert_eq!(rules.tick_for(dec!(100)), Some(dec!(0.01)));
    let strikes = client
        .strikes(&StrikesQuery {
            conid: 265598,
            sectype: "OPT".into(),
            month: "JAN25".into(),
            exchange: None,
        })
        .await
        .expect("strikes");
    assert_eq!(strikes.call, vec![dec!(185), dec!(190)]);
    let stocks = client.stocks(&["IBM"]).await.expect("stocks");
    assert_eq!(stocks["IBM"][0].contracts[0].conid, Some(8314));
    let futs = client.futures(&["ES"], Some("CME")).await.expect("futures");
    assert_eq!(futs["ES"][0].expiration_date, Some(20241220));
    // 450 conids go out as three requests of at most 200.
    let conids: Vec<i64> = (1..=450).collect();
    let defs = client.secdef(&conids).await.expect("secdef");
    assert_eq!(defs.secdef.len(), 450);
    assert_eq!(server.count("GET", "/v1/api/trsrv/secdef"), 3);
    let rate = client.exchange_rate("USD", "EUR").await.expect("rate");
    assert_eq!(rate.rate, Some(dec!(0.91324199)));
    assert!(matches!(
        client.stocks(&[]).await,
        Err(IbkrError::InvalidInput { .. })
    ));
}

#[tokio::test]
async fn long_tail_families_return_raw_json() {
    let server = MockServer::with_session().await;
    server.route_reply(
        "GET",
        "/v1/api/iserver/account/DU1234567/alerts",
        Reply::value(json!([{"order_id": 9, "alert_name": "a", "alert_active": 1}])),
    );
    server.route_reply(
        "GET",
        "/v1/api/fyi/unreadnumber",
        Reply::value(json!({"BN": 4})),
    );
    server.route_reply(
        "GET",
        "/v1/api/iserver/watchlists",
        Reply::value(json!({"data": {"user_lists": []}, "action": "content", "MID": "1"})),
    );
    server.route_reply(
        "DELETE",
        "/v1/api/fyi/deliveryoptions/dev1",
        Reply::json(""),
    );
    server.route_reply(
        "GET",
        "/gw/api/v1/echo/https",
        Reply::value(json!({"requestMethod": "GET", "queryParameters": {"a": "1"}})),
    );
    server.route_reply(
        "GET",
        "/gw/api/v1/tax-vouchers/req1/download",
        Reply::text(200, "%PDF-1.4 …"),
    );
    let mut config = common::test_config(&server);
    config.bearer_token = Some(tickline_ibkr::Secret::new("bearer-xyz"));
    let client = Client::gateway(config).expect("client");
    let alerts = client.alerts("DU1234567").await.expect("alerts");
    assert_eq!(alerts[0]["order_id"], 9);
    assert_eq!(client.fyi_unread_count().await.expect("fyi").count, Some(4));
    let lists = client
        .watchlists(Some("USER_WATCHLIST"))
        .await
        .expect("lists");
    assert_eq!(lists["MID"], "1");
    assert_eq!(
        server.requests_to("GET", "/v1/api/iserver/watchlists")[0]
            .query
            .as_deref(),
        Some("SC=USER_WATCHLIST")
    );
    assert_eq!(
        client.fyi_delete_device("dev1").await.expect("delete"),
        serde_json::Value::Null
    );
    let echo = client
        .echo_https(&QueryParams::new().with("a", "1"))
        .await
        .expect("echo");
    assert_eq!(echo["queryParameters"]["a"], "1");
    // Account Management paths are served from the host root, with the bearer token.
    let echo_req = &server.requests_to("GET", "/gw/api/v1/echo/https")[0];
    assert_eq!(
        echo_req.header("authorization").as_deref(),
        Some("Bearer bearer-xyz")
    );
    // Trading requests never carry it.
    let trading = &server.requests_to("GET", "/v1/api/fyi/unreadnumber")[0];
    assert_eq!(trading.header("authorization"), None);
    let doc = client.tax_voucher_download("req1").await.expect("document");
    assert_eq!(doc, serde_json::Value::String("%PDF-1.4 …".into()));
    assert!(matches!(
        client
            .fyi_notifications(&FyiNotificationsQuery {
                max: 11,
                include: None,
                exclude: None,
                id: None
            })
            .await,
        Err(IbkrError::InvalidInput { .. })
    ));
    assert!(matches!(
        client
            .create_watchlist(&WatchlistRequest {
                id: "abc".into(),
                name: "x".into(),
                rows: vec![]
            })
            .await,
        Err(IbkrError::InvalidInput { .. })
    ));
}

#[tokio::test]
async fn base_url_without_api_prefix() {
    let server = MockServer::with_session().await;
    let mut config = common::test_config(&server);
    config.base_url =
        ClientConfig::parse_base_url(&format!("http://{}", server.addr)).expect("url");
    let client = Client::gateway(config).expect("client");
    client
        .auth_status()
        .await
        .expect("auth status under /v1/api");
    assert!(ClientConfig::parse_base_url("ftp://x").is_err());
    assert!(ClientConfig::parse_base_url("not a url").is_err());
}

/// A history answer of `n` one-minute bars, the newest starting at `last_ms`.
fn minute_page(n: usize, last_ms: i64) -> Reply {
    let data: Vec<_> = (0..n as i64)
        .rev()
        .map(|k| {
            let t = last_ms - k * 60_000;
            json!({"o": 1.0, "h": 2.0, "l": 0.5, "c": 1.5, "v": 10, "t": t})
        })
        .collect();
    Reply::value(json!({"symbol": "AAPL", "barLength": 60, "points": n - 1, "data": data}))
}

#[tokio::test]
async fn history_pages_back_past_the_per_answer_limit() {
    const PATH: &str = "/v1/api/iserver/marketdata/history";
    // 2024-01-02 15:00 UTC, and the oldest bar of each full page.
    let now = 1_704_207_600_000_i64;
    let page1_oldest = now - 999 * 60_000;
    // The second page overlaps the first by one bar (whether IBKR's end is inclusive or
    // not), so it adds 999.
    let page2_oldest = page1_oldest - 999 * 60_000;
    let server = MockServer::with_session().await;
    server.route_seq(
        "GET",
        PATH,
        vec![
            minute_page(1000, now),
            minute_page(1000, page1_oldest),
            minute_page(300, page2_oldest - 60_000),
        ],
    );
    let client = common::client(&server);
    let req = HistoryRequest::new(265598, "5d", "1min");

    // Everything there is: three pages, oldest first, no bar twice.
    let all = client
        .history_paged(
            &req,
            tickline_ibkr::HistoryPaging {
                max_bars: Some(10_000),
                ..tickline_ibkr::HistoryPaging::default()
            },
        )
        .await
        .expect("paged history");
    assert_eq!(all.data.len(), 2299);
    assert!(all.data.windows(2).all(|w| w[1].t - w[0].t == 60_000));
    assert_eq!(all.data.last().unwrap().t, now);
    assert_eq!(all.points, Some(2298));
    let queries: Vec<String> = server
        .requests_to("GET", PATH)
        .iter()
        .map(|r| r.query.clone().unwrap_or_default())
        .collect();
    assert_eq!(queries.len(), 3, "the short third page ends the read");
    assert_eq!(queries[0], "conid=265598&period=5d&bar=1min");
    // 2024-01-02 15:00 - 999 min = 2024-01-01 22:21 UTC.
    assert!(
        queries[1].contains("startTime=20240101-22:21:00") && queries[1].contains("direction=-1"),
        "{queries:?}"
    );

    // Enough bars: the read stops there and keeps the newest.
    let server = MockServer::with_session().await;
    server.route_seq(
        "GET",
        PATH,
        vec![
            minute_page(1000, now),
            minute_page(1000, page1_oldest - 60_000),
        ],
    );
    let client = common::client(&server);
    let some = client
        .history_paged(
            &req,
            tickline_ibkr::HistoryPaging {
                max_bars: Some(1500),
                ..tickline_ibkr::HistoryPaging::default()
            },
        )
        .await
        .expect("paged history");
    assert_eq!(some.data.len(), 1500);
    assert_eq!(some.data.last().unwrap().t, now);
    assert_eq!(server.count("GET", PATH), 2);

    // A window: bars before `since` are dropped; "No data." further back ends the read.
    let server = MockServer::with_session().await;
    server.route_seq(
        "GET",
        PATH,
        vec![
            minute_page(1000, now),
            minute_page(1000, now),
            Reply::value(json!({"error": "No data."})),
        ],
    );
    let client = common::client(&server);
    let since = now - 500 * 60_000;
    let window = client
        .history_paged(
            &req,
            tickline_ibkr::HistoryPaging {
                since_ms: Some(since),
                ..tickline_ibkr::HistoryPaging::default()
            },
        )
        .await
        .expect("window");
    assert_eq!(window.data.len(), 501);
    assert_eq!(window.data[0].t, since);
    assert_eq!(
        server.count("GET", PATH),
        1,
        "the window was covered by page one"
    );
    let deeper = client
        .history_paged(
            &req,
            tickline_ibkr::HistoryPaging {
                max_bars: Some(5000),
                ..tickline_ibkr::HistoryPaging::default()
            },
        )
        .await
        .expect("no data further back is the end, not an error");
    assert_eq!(deeper.data.len(), 1000);

    // A window anchored on the newest bar (not on a clock): one day of minutes back from
    // the end of the newest bar, over two pages.
    let server = MockServer::with_session().await;
    server.route_seq(
        "GET",
        PATH,
        vec![minute_page(1000, now), minute_page(1000, page1_oldest)],
    );
    let client = common::client(&server);
    let day = client
        .history_paged(
            &req,
            tickline_ibkr::HistoryPaging {
                window: Some("1d".parse().unwrap()),
                ..tickline_ibkr::HistoryPaging::default()
            },
        )
        .await
        .expect("window");
    assert_eq!(day.data.len(), 1440);
    assert_eq!(day.data[0].t, now + 60_000 - 86_400_000);
}
