//! Tokens, cookies and keys never appear in errors (`Display` or `Debug`) or in logs, even when
//! the server echoes them back in error bodies or values of the wrong type.

mod common;

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use common::{MockServer, Reply};
use serde_json::json;
use tickline_ibkr::models::{LiveOrdersQuery, QueryParams};
use tickline_ibkr::oauth::{OAuthConfig, OAuthSession};
use tickline_ibkr::{Client, IbkrError, Secret};

const COOKIE: &str = "SECRETCOOKIE0123456789abcdef0123";
const SESSION: &str = "SECRETSESSIONfedcba9876543210fedc";
const BEARER: &str = "SECRETBEARERtokentokentoken";
/// The access token of the fixture OAuth configuration.
const ACCESS_TOKEN: &str = "0f1e2d3c4b5a69788796";

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("lock")).into_owned()
    }
}

fn assert_clean(what: &str, text: &str) {
    for secret in [COOKIE, SESSION, BEARER, ACCESS_TOKEN] {
        assert!(!text.contains(secret), "{what} leaks a secret: {text}");
    }
}

fn check(err: &IbkrError) {
    assert_clean("Display", &err.to_string());
    assert_clean("Debug", &format!("{err:?}"));
}

#[tokio::test]
async fn errors_and_logs_never_contain_secrets() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = MockServer::start().await;
    let cookie = format!("x-sess-uuid={COOKIE}; Path=/");
    server.route_reply(
        "POST",
        "/v1/api/iserver/auth/status",
        Reply::sample("iserver_auth_status.json").header("set-cookie", &cookie),
    );
    server.route_reply(
        "POST",
        "/v1/api/tickle",
        Reply::value(
            json!({"session": SESSION, "ssoExpires": 1000, "collission": false,
            "iserver": {"authStatus": {"authenticated": true, "connected": true}}}),
        ),
    );
    server.route_sample("GET", "/v1/api/iserver/accounts", "iserver_accounts.json");
    // The server echoes the secrets back in every kind of failure.
    server.route_reply(
        "GET",
        "/v1/api/iserver/account/orders",
        Reply::value(json!({"orders": [{"orderId": SESSION}]})),
    );
    server.route_reply(
        "GET",
        "/v1/api/iserver/account/pnl/partitioned",
        Reply::value(json!({"upnl": COOKIE})),
    );
    server.route_reply(
        "GET",
        "/v1/api/iserver/account/trades",
        Reply::json(format!("{{\"broken\": \"{COOKIE}")),
    );
    server.route_reply(
        "GET",
        "/gw/api/v1/echo/https",
        Reply::text(403, "forbidden"),
    );
    server.route_reply(
        "POST",
        "/v1/api/iserver/reply/r1",
        Reply::text(401, "access denied"),
    );

    let mut config = common::test_config(&server);
    config.bearer_token = Some(Secret::new(BEARER));
    let client = Client::builder(config, tickline_ibkr::Auth::Gateway)
        .auto_recover(false)
        .build()
        .expect("client");
    client.auth_status().await.expect("status sets the cookie");
    client.tickle().await.expect("tickle");
    // The jar did keep the cookie, and the websocket settings carry it (redacted in Debug).
    let ws = client.ws_config();
    assert!(ws.cookie.as_deref().is_some_and(|c| c.contains(COOKIE)));
    assert_clean("ws config Debug", &format!("{ws:?}"));
    assert_clean("client Debug", &format!("{client:?}"));
    assert_clean(
        "session Debug",
        &format!("{:?}", client.websocket_session()),
    );

    let errors = vec![
        client
            .live_orders(&LiveOrdersQuery::default())
            .await
            .expect_err("orderId is not a number"),
        client
            .pnl_partitioned()
            .await
            .expect_err("upnl is not a map"),
        client.trades(None).await.expect_err("truncated"),
        client
            .echo_https(&QueryParams::new())
            .await
            .expect_err("403"),
        client.reply("r1", true).await.expect_err("401"),
    ];
    for e in &errors {
        check(e);
    }
    // The server did receive the secrets (so the test is not vacuous).
    let echo = &server.requests_to("GET", "/gw/api/v1/echo/https")[0];
    assert_eq!(
        echo.header("authorization"),
        Some(format!("Bearer {BEARER}"))
    );
    let orders = &server.requests_to("GET", "/v1/api/iserver/account/orders")[0];
    assert!(orders.header("cookie").is_some_and(|c| c.contains(COOKIE)));

    let logs = captured.text();
    assert!(
        logs.contains("IBKR request"),
        "logging was captured: {logs}"
    );
    assert_clean("logs", &logs);
}

#[tokio::test]
async fn oauth_errors_never_contain_the_token() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = MockServer::start().await;
    server.route_reply(
        "POST",
        "/v1/api/oauth/live_session_token",
        Reply::status(
            401,
            format!(r#"{{"error":"id: 3931, error: invalid consumer {ACCESS_TOKEN}"}}"#),
        ),
    );
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/oauth");
    let mut config = OAuthConfig::from_file(&fixtures.join("config.toml")).expect("config");
    config.base_url = url::Url::parse(&server.base_url()).expect("url");
    let session = OAuthSession::from_config(config).expect("session");
    let client = Client::oauth(common::test_config(&server), Arc::new(session)).expect("client");
    let err = client
        .tickle()
        .await
        .expect_err("live session token refused");
    check(&err);
    assert!(
        err.to_string().contains("invalid consumer"),
        "IBKR's message is kept: {err}"
    );
    let err = client.connect().await.expect_err("handshake refused");
    check(&err);
    assert_clean("client Debug", &format!("{client:?}"));
    assert_clean("logs", &captured.text());
}
