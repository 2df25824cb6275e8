//! Failure handling: 429 storms (pacing kept, bounded retries, eventual success), 503
//! retries, 401 → re-authentication (single flight, suppression re-sent), malformed bodies →
//! typed errors without panics.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{MockServer, Reply};
use serde_json::json;
use tickline_ibkr::marketdata::Field;
use tickline_ibkr::models::{LiveOrdersQuery, OrderTicket, SecdefSearchRequest, Side};
use tickline_ibkr::ratelimit::Limit;
use tickline_ibkr::{Client, IbkrError, SessionEvent, TransportErrorKind};
use tokio::time::Instant;

const SNAPSHOT: &str = "/v1/api/iserver/marketdata/snapshot";

/// Answer 429 to the first `n` requests, then `ok`.
fn storm(
    server: &MockServer,
    method: &str,
    path: &str,
    n: usize,
    retry_after: Option<&str>,
    ok: Reply,
) -> Arc<AtomicUsize> {
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    let retry_after = retry_after.map(str::to_string);
    server.route(method, path, move |_| {
        let i = c.fetch_add(1, Ordering::SeqCst);
        if i < n {
            let r = Reply::status(429, r#"{"error":"Too many requests"}"#);
            match &retry_after {
                Some(ra) => r.header("retry-after", ra),
                None => r,
            }
        } else {
            ok.clone()
        }
    });
    count
}

#[tokio::test(start_paused = true)]
async fn rate_limited_call_succeeds_after_backoff() {
    let server = MockServer::with_session().await;
    let count = storm(
        &server,
        "GET",
        SNAPSHOT,
        3,
        None,
        Reply::sample("marketdata_snapshot.json"),
    );
    let client = common::client(&server);
    client.prime().await.expect("prime");
    let t0 = Instant::now();
    let snaps = client
        .snapshot(&[265598], &[Field::Last])
        .await
        .expect("eventually succeeds");
    assert_eq!(snaps.len(), 2);
    assert_eq!(count.load(Ordering::SeqCst), 4, "three 429s, then success");
    // Each 429 stops the endpoint for at least the configured minimum (500 ms in tests).
    assert!(Instant::now() - t0 >= Duration::from_millis(1500));
    let at: Vec<Instant> = server
        .requests_to("GET", SNAPSHOT)
        .iter()
        .map(|r| r.at)
        .collect();
    for w in at.windows(2) {
        assert!(
            w[1] - w[0] >= Duration::from_millis(500),
            "retried too early"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn retry_after_is_honoured() {
    let server = MockServer::with_session().await;
    let count = storm(
        &server,
        "GET",
        "/v1/api/iserver/secdef/search",
        2,
        Some("7"),
        Reply::sample("secdef_search.json"),
    );
    let client = common::client(&server);
    client.prime().await.expect("prime");
    let t0 = Instant::now();
    client
        .search_contracts(&SecdefSearchRequest::symbol("IBM"))
        .await
        .expect("succeeds");
    assert_eq!(count.load(Ordering::SeqCst), 3);
    assert!(Instant::now() - t0 >= Duration::from_secs(14));
}

#[tokio::test(start_paused = true)]
async fn endless_429_gives_up_after_bounded_attempts() {
    let server = MockServer::with_session().await;
    let count = storm(
        &server,
        "GET",
        SNAPSHOT,
        usize::MAX,
        None,
        Reply::json("[]"),
    );
    let client = common::client(&server);
    client.prime().await.expect("prime");
    match client.snapshot(&[265598], &[]).await {
        Err(IbkrError::RateLimited {
            attempts, endpoint, ..
        }) => {
            assert_eq!(attempts, 5);
            assert_eq!(endpoint.path, "/iserver/marketdata/snapshot");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(count.load(Ordering::SeqCst), 5);
}

#[tokio::test(start_paused = true)]
async fn storm_under_load_keeps_the_global_rate() {
    let server = MockServer::with_session().await;
    // Every fourth request is refused.
    let n = Arc::new(AtomicUsize::new(0));
    let c = n.clone();
    server.route("GET", SNAPSHOT, move |_| {
        if c.fetch_add(1, Ordering::SeqCst) % 4 == 3 {
            Reply::status(429, "")
        } else {
            Reply::sample("marketdata_snapshot.json")
        }
    });
    let mut config = common::test_config(&server);
    config.limits.global = Limit::per_second(10);
    config.limits.per_endpoint = true;
    let client = Client::gateway(config).expect("client");
    client.prime().await.expect("prime");
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let c = client.clone();
        tasks.push(tokio::spawn(async move {
            c.snapshot(&[265598], &[Field::Bid]).await
        }));
    }
    for t in tasks {
        t.await
            .expect("task")
            .expect("every call eventually succeeds");
    }
    let at: Vec<Instant> = server
        .requests_to("GET", SNAPSHOT)
        .iter()
        .map(|r| r.at)
        .collect();
    assert!(at.len() >= 20);
    // Never more than 10 requests within any one-second window (+1 for the window edge).
    for (i, start) in at.iter().enumerate() {
        let within = at[i..]
            .iter()
            .filter(|t| **t - *start < Duration::from_secs(1))
            .count();
        assert!(within <= 11, "{within} requests within 1 s");
    }
}

#[tokio::test(start_paused = true)]
async fn unavailable_is_retried_for_reads_only() {
    let server = MockServer::with_session().await;
    server.route_seq(
        "GET",
        "/v1/api/iserver/account/orders",
        vec![
            Reply::status(503, r#"{"error":"Service Unavailable","statusCode":503}"#),
            Reply::status(503, ""),
            Reply::sample("live_orders.json"),
        ],
    );
    let client = common::client(&server);
    let orders = client
        .live_orders(&LiveOrdersQuery::default())
        .await
        .expect("read retried");
    assert_eq!(orders.orders.len(), 2);
    assert_eq!(server.count("GET", "/v1/api/iserver/account/orders"), 3);

    // A reply to an order question is never repeated.
    server.route_reply("POST", "/v1/api/iserver/reply/x", Reply::status(503, ""));
    match client.reply("x", true).await {
        Err(e) => {
            assert!(e.is_ambiguous());
            assert_eq!(e.status(), Some(503));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.count("POST", "/v1/api/iserver/reply/x"), 1);
}

#[tokio::test]
async fn unauthorized_triggers_one_reauthentication() {
    let server = MockServer::with_session().await;
    let initialised = Arc::new(AtomicUsize::new(0));
    let i = initialised.clone();
    server.route("POST", "/v1/api/iserver/auth/ssodh/init", move |_| {
        i.fetch_add(1, Ordering::SeqCst);
        Reply::sample("iserver_auth_status.json")
    });
    let i = initialised.clone();
    server.route("GET", "/v1/api/iserver/account/orders", move |_| {
        if i.load(Ordering::SeqCst) == 0 {
            Reply::text(401, "access denied")
        } else {
            Reply::sample("live_orders.json")
        }
    });
    server.route_sample(
        "POST",
        "/v1/api/iserver/questions/suppress",
        "questions_suppress.json",
    );
    let client = common::client(&server);
    client
        .suppress(&["o163".to_string()])
        .await
        .expect("suppress");
    let mut events = client.session_events();

    let mut tasks = Vec::new();
    for _ in 0..5 {
        let c = client.clone();
        tasks.push(tokio::spawn(async move {
            c.live_orders(&LiveOrdersQuery::default()).await
        }));
    }
    for t in tasks {
        let orders = t.await.expect("task").expect("recovered");
        assert_eq!(orders.orders.len(), 2);
    }
    assert_eq!(
        initialised.load(Ordering::SeqCst),
        1,
        "single-flight recovery"
    );
    let init = &server.requests_to("POST", "/v1/api/iserver/auth/ssodh/init")[0];
    assert_eq!(init.json(), json!({"publish": true, "compete": true}));
    // Suppression was re-sent after the new brokerage session came up.
    let suppress = server.requests_to("POST", "/v1/api/iserver/questions/suppress");
    assert_eq!(suppress.len(), 2);
    assert_eq!(suppress[1].json(), json!({"messageIds": ["o163"]}));
    let mut seen = Vec::new();
    while let Ok(e) = events.try_recv() {
        seen.push(e);
    }
    assert!(seen.contains(&SessionEvent::Reauthenticated), "{seen:?}");
}

#[tokio::test]
async fn unrecoverable_unauthorized_reports_the_original_error() {
    let server = MockServer::start().await;
    server.fallback(|_| Reply::text(401, "access denied"));
    let client = common::client(&server);
    match client.live_orders(&LiveOrdersQuery::default()).await {
        Err(IbkrError::Unauthorized { endpoint, message }) => {
            assert_eq!(endpoint.path, "/iserver/accounts");
            assert_eq!(message, "access denied");
        }
        other => panic!("{other:?}"),
    }
    match client.portfolio_accounts().await {
        Err(e) => {
            assert!(e.is_unauthorized());
            assert_eq!(e.ibkr_message(), Some("access denied"));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn status_codes_map_to_typed_errors() {
    let server = MockServer::with_session().await;
    let cases: [(u16, &str); 6] = [
        (
            400,
            r#"{"error":"Bad Request: accountId is not valid: 11110000","statusCode":400}"#,
        ),
        (403, "Forbidden"),
        (404, r#"{"error":"not found"}"#),
        (500, r#"{"error":"Invalid account ID"}"#),
        (410, "Gone"),
        (411, ""),
    ];
    let client = common::client(&server);
    client.portfolio_accounts().await.expect("prime portfolio");
    for (status, body) in cases {
        server.route_reply(
            "GET",
            "/v1/api/portfolio/DU1234567/ledger",
            Reply::status(status, body),
        );
        let err = client.ledger("DU1234567").await.expect_err("error status");
        assert_eq!(err.status(), Some(status), "{err}");
        assert_eq!(
            err.endpoint().map(|e| e.path.as_str()),
            Some("/portfolio/DU1234567/ledger")
        );
        let shown = err.to_string();
        assert!(shown.contains("GET /portfolio/DU1234567/ledger"), "{shown}");
        match status {
            400 => {
                assert!(matches!(err, IbkrError::BadRequest { .. }));
                assert!(shown.contains("accountId is not valid"));
            }
            403 => assert!(matches!(err, IbkrError::Forbidden { .. })),
            404 => assert!(matches!(err, IbkrError::NotFound { .. })),
            500 => {
                assert!(matches!(err, IbkrError::ServerError { .. }));
                assert_eq!(err.ibkr_message(), Some("Invalid account ID"));
            }
            _ => assert!(matches!(err, IbkrError::Status { .. })),
        }
    }
}

#[tokio::test]
async fn connection_refused_is_a_transport_error() {
    let server = MockServer::start().await;
    let mut config = common::test_config(&server);
    // A port nobody listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    config.base_url =
        tickline_ibkr::ClientConfig::parse_base_url(&format!("http://127.0.0.1:{port}/v1/api"))
            .expect("url");
    config.retry.max_attempts = 2;
    let client = Client::gateway(config).expect("client");
    match client.tickle().await {
        Err(IbkrError::Transport { kind, endpoint, .. }) => {
            assert_eq!(kind, TransportErrorKind::Connect);
            assert_eq!(endpoint.path, "/tickle");
        }
        other => panic!("{other:?}"),
    }
}

/// Bodies no endpoint returns.
const GARBAGE: &[&str] = &[
    "{broken",
    "\"just a string\"",
    "<html><body>Gateway</body></html>",
    "null",
    "\u{0}\u{1}\u{2}",
    "99999999999999999999999999999999",
    "{\"accounts\": 42}",
];

type Call = fn(
    &Client,
) -> std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<(), IbkrError>> + Send + '_>,
>;

/// Typed endpoints with a body of the right JSON kind but wrong field types.
fn typed_calls() -> Vec<(&'static str, &'static str, Call)> {
    vec![
        (
            "/v1/api/iserver/account/pnl/partitioned",
            r#"{"upnl":{"DU1.Core":{"dpl":"lots"}}}"#,
            |c| Box::pin(async move { c.pnl_partitioned().await.map(drop) }),
        ),
        (
            "/v1/api/iserver/account/orders",
            r#"{"orders":[{"orderId":"not a number"}]}"#,
            |c| Box::pin(async move { c.live_orders(&LiveOrdersQuery::default()).await.map(drop) }),
        ),
        (SNAPSHOT, r#"[{"conid":{"nested":true}}]"#, |c| {
            Box::pin(async move { c.snapshot(&[1], &[Field::Last]).await.map(drop) })
        }),
        (
            "/v1/api/iserver/marketdata/history",
            r#"{"data":[{"t":"yesterday"}]}"#,
            |c| {
                Box::pin(async move {
                    c.history(&tickline_ibkr::models::HistoryRequest::new(1, "1d", "1min"))
                        .await
                        .map(drop)
                })
            },
        ),
        (
            "/v1/api/portfolio/DU1234567/ledger",
            r#"{"USD":{"cashbalance":"lots"}}"#,
            |c| Box::pin(async move { c.ledger("DU1234567").await.map(drop) }),
        ),
        (
            "/v1/api/iserver/contract/1/info",
            r#"{"con_id":"x1","symbol":"A"}"#,
            |c| Box::pin(async move { c.contract_info(1).await.map(drop) }),
        ),
        (
            "/v1/api/iserver/account/DU1234567/orders",
            r#"[{"foo":1}]"#,
            |c| {
                Box::pin(async move {
                    c.place_order(
                        "DU1234567",
                        &OrderTicket::market(1, Side::Buy, rust_decimal::dec!(1)).with_coid("m"),
                    )
                    .await
                    .map(drop)
                })
            },
        ),
        (
            "/v1/api/iserver/account/trades",
            r#"[{"size":"many"}]"#,
            |c| Box::pin(async move { c.trades(None).await.map(drop) }),
        ),
        ("/v1/api/iserver/secdef/search", r#"[{"conid":[1]}]"#, |c| {
            Box::pin(async move {
                c.search_contracts(&SecdefSearchRequest::symbol("X"))
                    .await
                    .map(drop)
            })
        }),
        (
            "/v1/api/iserver/auth/status",
            r#"{"authenticated":"perhaps"}"#,
            |c| Box::pin(async move { c.auth_status().await.map(drop) }),
        ),
    ]
}

#[tokio::test]
async fn malformed_bodies_give_typed_errors_not_panics() {
    let server = MockServer::with_session().await;
    let client = common::client(&server);
    client.prime().await.expect("prime");
    client.portfolio_accounts().await.expect("portfolio prime");
    for (path, wrong_types, call) in typed_calls() {
        let method = if path.ends_with("/orders") && path.contains("DU1234567")
            || path.ends_with("/auth/status")
        {
            "POST"
        } else {
            "GET"
        };
        for body in GARBAGE.iter().copied().chain(std::iter::once(wrong_types)) {
            server.route_reply(method, path, Reply::json(body));
            match call(&client).await {
                Err(IbkrError::Decode { endpoint, message }) => {
                    assert!(!message.is_empty(), "{endpoint}");
                    assert!(path.ends_with(&endpoint.path), "{path} vs {endpoint}");
                }
                other => panic!("{method} {path} with {body:?}: {other:?}"),
            }
        }
    }
}

#[tokio::test]
async fn refused_priming_is_recovered_too() {
    let server = MockServer::with_session().await;
    let initialised = Arc::new(AtomicUsize::new(0));
    let i = initialised.clone();
    server.route("POST", "/v1/api/iserver/auth/ssodh/init", move |_| {
        i.fetch_add(1, Ordering::SeqCst);
        Reply::sample("iserver_auth_status.json")
    });
    let i = initialised.clone();
    server.route("GET", "/v1/api/iserver/accounts", move |_| {
        if i.load(Ordering::SeqCst) == 0 {
            Reply::status(
                400,
                r#"{"error":"Bad Request: no bridge","statusCode":400}"#,
            )
        } else {
            Reply::sample("iserver_accounts.json")
        }
    });
    server.route_sample("GET", "/v1/api/iserver/account/orders", "live_orders.json");
    let client = common::client(&server);
    let orders = client
        .live_orders(&LiveOrdersQuery::default())
        .await
        .expect("recovered from the refused priming call");
    assert_eq!(orders.orders.len(), 2);
    assert_eq!(initialised.load(Ordering::SeqCst), 1);
    assert!(client.is_primed());
}

/// Drain the session events seen so far.
fn events_now(rx: &mut tokio::sync::broadcast::Receiver<SessionEvent>) -> Vec<SessionEvent> {
    let mut seen = Vec::new();
    while let Ok(e) = rx.try_recv() {
        seen.push(e);
    }
    seen
}

fn penalty_boxes(seen: &[SessionEvent]) -> usize {
    seen.iter()
        .filter(|e| matches!(e, SessionEvent::PenaltyBox { .. }))
        .count()
}

/// 429s in a row (any endpoints) put the client in the penalty box: nothing reaches the
/// server for the pause, then one probe; a success ends it.
#[tokio::test(start_paused = true)]
async fn refusals_in_a_row_enter_the_penalty_box_and_a_probe_ends_it() {
    let server = MockServer::with_session().await;
    let refused = storm(&server, "GET", SNAPSHOT, 3, None, Reply::json("[]"));
    let mut config = common::test_config(&server);
    config.retry.penalty_after = 3;
    config.retry.penalty_pause = Duration::from_secs(60);
    let client = Client::gateway(config).expect("client");
    client.prime().await.expect("prime");
    let mut events = client.session_events();
    match client.snapshot(&[265598], &[]).await {
        Err(IbkrError::PenaltyBox { endpoint, retry_in }) => {
            assert_eq!(endpoint.path, "/iserver/marketdata/snapshot");
            assert!(retry_in > Duration::from_secs(50), "{retry_in:?}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        refused.load(Ordering::SeqCst),
        3,
        "no 4th request in the box"
    );
    assert_eq!(penalty_boxes(&events_now(&mut events)), 1);
    assert!(client.penalty_left().is_some());
    // Every endpoint fails fast without being sent.
    let before = server.requests().len();
    match client.live_orders(&LiveOrdersQuery::default()).await {
        Err(IbkrError::PenaltyBox { .. }) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(server.requests().len(), before, "sent while in the box");
    // After the pause the next request is a probe; its success ends the box.
    tokio::time::advance(Duration::from_secs(61)).await;
    client.snapshot(&[265598], &[]).await.expect("probe passes");
    assert!(client.penalty_left().is_none());
    assert!(
        events_now(&mut events)
            .iter()
            .any(|e| matches!(e, SessionEvent::PenaltyOver)),
        "no PenaltyOver"
    );
}

/// A probe refused again means the box is still on: another full pause.
#[tokio::test(start_paused = true)]
async fn a_refused_probe_means_another_pause() {
    let server = MockServer::with_session().await;
    let refused = storm(&server, "GET", SNAPSHOT, 4, None, Reply::json("[]"));
    let mut config = common::test_config(&server);
    config.retry.penalty_after = 3;
    config.retry.penalty_pause = Duration::from_secs(60);
    let client = Client::gateway(config).expect("client");
    client.prime().await.expect("prime");
    let mut events = client.session_events();
    assert!(client.snapshot(&[265598], &[]).await.is_err());
    tokio::time::advance(Duration::from_secs(61)).await;
    match client.snapshot(&[265598], &[]).await {
        Err(IbkrError::PenaltyBox { .. }) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(refused.load(Ordering::SeqCst), 4, "one probe only");
    assert_eq!(penalty_boxes(&events_now(&mut events)), 2);
    tokio::time::advance(Duration::from_secs(61)).await;
    client.snapshot(&[265598], &[]).await.expect("box over");
}

/// 429s that go on for `penalty_after_wait` with nothing else between them are the penalty
/// box at once, without waiting for `penalty_after` refusals; a shorter run is not.
#[tokio::test(start_paused = true)]
async fn a_429_after_a_long_pause_is_the_penalty_box() {
    for (wait, boxed) in [
        (Duration::from_millis(500), true),
        (Duration::from_secs(1), false),
    ] {
        let server = MockServer::with_session().await;
        let refused = storm(&server, "GET", SNAPSHOT, 2, None, Reply::json("[]"));
        let mut config = common::test_config(&server);
        config.retry.penalty_after_wait = wait;
        let client = Client::gateway(config).expect("client");
        client.prime().await.expect("prime");
        let mut events = client.session_events();
        let r = client.snapshot(&[265598], &[]).await;
        assert_eq!(
            matches!(r, Err(IbkrError::PenaltyBox { .. })),
            boxed,
            "penalty_after_wait {wait:?}: {r:?}"
        );
        assert_eq!(penalty_boxes(&events_now(&mut events)), usize::from(boxed));
        let sent = if boxed { 2 } else { 3 };
        assert_eq!(refused.load(Ordering::SeqCst), sent, "requests sent");
    }
}
