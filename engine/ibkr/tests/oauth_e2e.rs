//! End to end: an OAuth 1.0a-verifying server on 127.0.0.1 (axum) with its own Diffie-Hellman
//! side and signature checks, written here directly against the crypto crates, and the crate's
//! `OAuthSession` / third-party functions talking to it.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{KeyInit, Mac};
use num_bigint::BigUint;
use rsa::sha2::Sha256;
use rsa::{PrivateKey, PublicKey};
use serde_json::json;
use tickline_ibkr::oauth::{
    self, Consumer, Identity, LiveSessionToken, OAuthConfig, OAuthError, OAuthSession, Stamp,
};
use url::Url;

const REQUEST_TOKEN: &str = "e0d75b4c5c1d2c0f2af7";
const VERIFIER: &str = "5f2b7c9d1e3a";
const GRANTED_TOKEN: &str = "a1b2c3d4e5f6a7b8c9d0";

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/oauth")
}

fn key(name: &str) -> PrivateKey {
    oauth::load_private_key(&fixtures().join(name), "test key").expect("fixture key")
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// How the test server behaves.
#[derive(Clone, Copy, Default)]
struct Mode {
    /// Live session token lifetime granted (ms); default 24 h.
    expiry_ms: Option<i64>,
    /// Answer the LST request with a wrong `live_session_token_signature`.
    corrupt_lst_signature: bool,
    /// Reject the LST request with a message that echoes the token and the signature.
    echo_secrets_in_rejection: bool,
}

struct ServerState {
    base: String,
    consumer_key: String,
    access_token: String,
    prepend: Vec<u8>,
    signature_key: PublicKey,
    prime: BigUint,
    generator: BigUint,
    mode: Mode,
    lst: Option<Vec<u8>>,
    lst_requests: u32,
    lst_expiry_ms: i64,
    /// "METHOD path variant" of every verified request.
    verified: Vec<String>,
}

#[derive(Clone)]
struct Shared(Arc<Mutex<ServerState>>);

impl Shared {
    fn lock(&self) -> MutexGuard<'_, ServerState> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// RFC 3986 percent-encoding, written independently of the crate's.
fn pct(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hmac_sha1(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut m = <hmac::Hmac<sha1::Sha1> as KeyInit>::new_from_slice(key).expect("hmac key");
    m.update(msg);
    m.finalize().into_bytes().to_vec()
}

fn hmac_sha256_b64(key: &[u8], msg: &[u8]) -> String {
    let mut m = <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("hmac key");
    m.update(msg);
    B64.encode(m.finalize().into_bytes())
}

/// `OAuth k="v", …` → decoded map.
fn parse_oauth_header(headers: &HeaderMap) -> Option<BTreeMap<String, String>> {
    let value = headers.get("authorization")?.to_str().ok()?;
    let rest = value.strip_prefix("OAuth ")?;
    let mut out = BTreeMap::new();
    for part in rest.split(", ") {
        let (k, v) = part.split_once('=')?;
        let v = v.strip_prefix('"')?.strip_suffix('"')?;
        let decoded = percent_encoding::percent_decode_str(v)
            .decode_utf8()
            .ok()?
            .into_owned();
        out.insert(k.to_owned(), decoded);
    }
    Some(out)
}

/// The signed params string: everything except `oauth_signature` and `realm`, sorted.
fn signed_params(params: &BTreeMap<String, String>) -> String {
    params
        .iter()
        .filter(|(k, _)| k.as_str() != "oauth_signature" && k.as_str() != "realm")
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

fn unauthorized(message: &str) -> Response {
    (
        StatusCode::UNAUTHORIZED,
        axum::Json(json!({"error": message, "statusCode": 401})),
    )
        .into_response()
}

fn verify_rsa(state: &ServerState, params: &BTreeMap<String, String>, base: &str) -> bool {
    let Some(sig) = params.get("oauth_signature") else {
        return false;
    };
    let Ok(sig) = B64.decode(sig) else {
        return false;
    };
    params.get("oauth_signature_method").map(String::as_str) == Some("RSA-SHA256")
        && params.get("oauth_consumer_key") == Some(&state.consumer_key)
        && params.get("realm").map(String::as_str) == Some("limited_poa")
        && params
            .get("oauth_timestamp")
            .and_then(|t| t.parse::<i64>().ok())
            .is_some_and(|t| (now_secs() - t).abs() <= 300)
        && state
            .signature_key
            .pkcs1v15_verify::<Sha256>(base.as_bytes(), &sig)
            .is_ok()
}

async fn live_session_token(State(shared): State<Shared>, headers: HeaderMap) -> Response {
    let mut state = shared.lock();
    if headers.get("user-agent").is_none() {
        return (StatusCode::FORBIDDEN, "User-Agent required").into_response();
    }
    let Some(params) = parse_oauth_header(&headers) else {
        return unauthorized("missing OAuth header");
    };
    let url = format!("{}/v1/api/oauth/live_session_token", state.base);
    let base = format!(
        "{}POST&{}&{}",
        hex(&state.prepend),
        pct(&url),
        pct(&signed_params(&params))
    );
    if state.mode.echo_secrets_in_rejection {
        let message = format!(
            "id: 3931, error: invalid consumer (token {}, signature {})",
            params.get("oauth_token").cloned().unwrap_or_default(),
            params.get("oauth_signature").cloned().unwrap_or_default()
        );
        return unauthorized(&message);
    }
    if params.get("oauth_token") != Some(&state.access_token) || !verify_rsa(&state, &params, &base)
    {
        return unauthorized("id: 3932, error: invalid signature");
    }
    let Some(a) = params
        .get("diffie_hellman_challenge")
        .and_then(|h| BigUint::parse_bytes(h.as_bytes(), 16))
    else {
        return unauthorized("bad diffie_hellman_challenge");
    };
    state.lst_requests += 1;
    // A different server secret per request, so renewals really change the token.
    let b = BigUint::from(0x6b8f_3a9c_1d2e_4f50u64) * BigUint::from(state.lst_requests + 7);
    let k = a.modpow(&b, &state.prime);
    let mut k_bytes = k.to_bytes_be();
    if k_bytes.first().is_some_and(|x| x & 0x80 != 0) {
        k_bytes.insert(0, 0);
    }
    let lst = hmac_sha1(&k_bytes, &state.prepend);
    let mut lst_signature = hex(&hmac_sha1(&lst, state.consumer_key.as_bytes()));
    if state.mode.corrupt_lst_signature {
        // Change the first hex digit: always a different signature, whatever the digits.
        let first = if lst_signature.starts_with('0') {
            "1"
        } else {
            "0"
        };
        lst_signature.replace_range(..1, first);
    }
    let expiry = now_secs() * 1000 + state.mode.expiry_ms.unwrap_or(86_400_000);
    state.lst = Some(lst);
    state.lst_expiry_ms = expiry;
    axum::Json(json!({
        "diffie_hellman_response": state.generator.modpow(&b, &state.prime).to_str_radix(16),
        "live_session_token_signature": lst_signature,
        "live_session_token_expiration": expiry,
    }))
    .into_response()
}

async fn request_token(State(shared): State<Shared>, headers: HeaderMap) -> Response {
    let state = shared.lock();
    let Some(params) = parse_oauth_header(&headers) else {
        return unauthorized("missing OAuth header");
    };
    let url = format!("{}/v1/api/oauth/request_token", state.base);
    let base = format!("POST&{}&{}", pct(&url), pct(&signed_params(&params)));
    if params.get("oauth_callback").map(String::as_str) != Some("oob")
        || params.contains_key("oauth_token")
        || !verify_rsa(&state, &params, &base)
    {
        return unauthorized("invalid request token request");
    }
    axum::Json(json!({ "oauth_token": REQUEST_TOKEN })).into_response()
}

async fn access_token(State(shared): State<Shared>, headers: HeaderMap) -> Response {
    let state = shared.lock();
    let Some(params) = parse_oauth_header(&headers) else {
        return unauthorized("missing OAuth header");
    };
    let url = format!("{}/v1/api/oauth/access_token", state.base);
    let base = format!("POST&{}&{}", pct(&url), pct(&signed_params(&params)));
    if params.get("oauth_token").map(String::as_str) != Some(REQUEST_TOKEN)
        || params.get("oauth_verifier").map(String::as_str) != Some(VERIFIER)
        || !verify_rsa(&state, &params, &base)
    {
        return unauthorized("invalid access token request");
    }
    axum::Json(json!({
        "is_paper": true,
        "oauth_token": GRANTED_TOKEN,
        "oauth_token_secret": "c2VjcmV0LXNlY3JldA==",
    }))
    .into_response()
}

/// Every other path: verify the HMAC-SHA256 signature (URL with or without query) and answer.
async fn api(
    State(shared): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let mut state = shared.lock();
    let Some(params) = parse_oauth_header(&headers) else {
        return unauthorized("missing OAuth header");
    };
    let Some(lst) = state.lst.clone() else {
        return unauthorized("no live session token");
    };
    let fresh = params
        .get("oauth_timestamp")
        .and_then(|t| t.parse::<i64>().ok())
        .is_some_and(|t| (now_secs() - t).abs() <= 300);
    if !fresh
        || params.get("oauth_signature_method").map(String::as_str) != Some("HMAC-SHA256")
        || params.get("oauth_consumer_key") != Some(&state.consumer_key)
        || params.get("oauth_token") != Some(&state.access_token)
        || params.contains_key("diffie_hellman_challenge")
    {
        return unauthorized("invalid oauth parameters");
    }
    let signature = params.get("oauth_signature").cloned().unwrap_or_default();
    let path = uri.path().to_owned();
    let with_query = format!("{}{}", state.base, uri);
    let without_query = format!("{}{}", state.base, path);
    let mut matched = None;
    for (variant, url) in [
        ("with query", &with_query),
        ("without query", &without_query),
    ] {
        let base = format!(
            "{}&{}&{}",
            method.as_str(),
            pct(url),
            pct(&signed_params(&params))
        );
        if hmac_sha256_b64(&lst, base.as_bytes()) == signature {
            matched = Some(variant);
            break;
        }
    }
    let Some(variant) = matched else {
        return unauthorized("invalid signature");
    };
    state.verified.push(format!("{method} {path} {variant}"));
    axum::Json(json!({"accounts": ["DU1234567"], "selectedAccount": "DU1234567"})).into_response()
}

struct TestServer {
    addr: SocketAddr,
    shared: Shared,
}

impl TestServer {
    async fn start(mode: Mode) -> Self {
        Self::start_with_key(mode, key("signature_key_pkcs8.pem").to_public_key()).await
    }

    async fn start_with_key(mode: Mode, signature_key: PublicKey) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let vectors: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(fixtures().join("vectors.json")).expect("vectors"),
        )
        .expect("json");
        let prepend_hex = vectors["prepend_hex"].as_str().expect("prepend");
        let prepend = (0..prepend_hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&prepend_hex[i..i + 2], 16).expect("hex"))
            .collect();
        let dh = oauth::DhParams::load(&fixtures().join("dhparam.pem")).expect("dh");
        let shared = Shared(Arc::new(Mutex::new(ServerState {
            base: format!("http://{addr}"),
            consumer_key: "TICKLINE1".into(),
            access_token: "0f1e2d3c4b5a69788796".into(),
            prepend,
            signature_key,
            prime: dh.prime().clone(),
            generator: dh.generator().clone(),
            mode,
            lst: None,
            lst_requests: 0,
            lst_expiry_ms: 0,
            verified: Vec::new(),
        })));
        let app = Router::new()
            .route("/v1/api/oauth/live_session_token", post(live_session_token))
            .route("/v1/api/oauth/request_token", post(request_token))
            .route("/v1/api/oauth/access_token", post(access_token))
            .fallback(api)
            .with_state(shared.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        TestServer { addr, shared }
    }

    fn base_url(&self) -> Url {
        Url::parse(&format!("http://{}/v1/api", self.addr)).expect("url")
    }

    fn lst_requests(&self) -> u32 {
        self.shared.lock().lst_requests
    }

    fn verified(&self) -> Vec<String> {
        self.shared.lock().verified.clone()
    }
}

fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .user_agent("tickline-test")
        .build()
        .expect("client")
}

fn session_for(server: &TestServer) -> OAuthSession {
    let mut cfg = OAuthConfig::from_file(&fixtures().join("config.toml")).expect("config");
    cfg.base_url = server.base_url();
    OAuthSession::from_config(cfg).expect("session")
}

async fn signed_call(
    session: &OAuthSession,
    http: &reqwest::Client,
    method: Method,
    url: &str,
) -> Result<(u16, String), OAuthError> {
    let url = Url::parse(url).expect("url");
    let header = session.authorization_header(http, &method, &url).await?;
    let response = http
        .request(method, url)
        .header("authorization", header)
        .send()
        .await
        .expect("request sent");
    let status = response.status().as_u16();
    Ok((status, response.text().await.expect("body")))
}

#[tokio::test]
async fn handshake_then_signed_requests_are_accepted() {
    let server = TestServer::start(Mode::default()).await;
    let session = session_for(&server);
    let http = http();
    assert_eq!(session.live_session_token_expiry().await, None);
    let base = server.base_url();

    let (status, body) = signed_call(
        &session,
        &http,
        Method::GET,
        &format!("{base}/iserver/accounts"),
    )
    .await
    .expect("signed");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("DU1234567"));

    let (status, body) = signed_call(
        &session,
        &http,
        Method::GET,
        &format!("{base}/iserver/marketdata/snapshot?conids=265598&fields=31,84,86"),
    )
    .await
    .expect("signed");
    assert_eq!(status, 200, "{body}");
    let (status, body) = signed_call(
        &session,
        &http,
        Method::POST,
        &format!("{base}/iserver/auth/ssodh/init"),
    )
    .await
    .expect("signed");
    assert_eq!(status, 200, "{body}");

    assert_eq!(
        server.lst_requests(),
        1,
        "one live session token for all requests"
    );
    assert_eq!(
        server.verified(),
        vec![
            "GET /v1/api/iserver/accounts with query".to_owned(),
            "GET /v1/api/iserver/marketdata/snapshot with query".to_owned(),
            "POST /v1/api/iserver/auth/ssodh/init with query".to_owned(),
        ]
    );
    let expiry = session.live_session_token_expiry().await.expect("expiry");
    assert_eq!(expiry, server.shared.lock().lst_expiry_ms);
}

#[tokio::test]
async fn concurrent_first_use_fetches_one_token() {
    let server = TestServer::start(Mode::default()).await;
    let session = session_for(&server);
    let http = http();
    let url = Url::parse(&format!("{}/iserver/accounts", server.base_url())).expect("url");
    let (a, b, c) = tokio::join!(
        session.authorization_header(&http, &Method::GET, &url),
        session.authorization_header(&http, &Method::GET, &url),
        session.authorization_header(&http, &Method::GET, &url),
    );
    let headers = [a.expect("a"), b.expect("b"), c.expect("c")];
    assert_eq!(server.lst_requests(), 1);
    // Fresh nonces: no two headers alike.
    assert_ne!(headers[0], headers[1]);
    assert_ne!(headers[1], headers[2]);
}

#[tokio::test]
async fn token_is_renewed_before_it_expires() {
    // The server grants 5 minutes; the default margin is 10 minutes, so every use renews.
    let server = TestServer::start(Mode {
        expiry_ms: Some(5 * 60 * 1000),
        ..Mode::default()
    })
    .await;
    let session = session_for(&server);
    let http = http();
    let url = format!("{}/iserver/accounts", server.base_url());
    for round in 1..=3 {
        let (status, body) = signed_call(&session, &http, Method::GET, &url)
            .await
            .expect("signed");
        assert_eq!(status, 200, "round {round}: {body}");
        assert_eq!(server.lst_requests(), round);
    }

    // With a 1-minute margin the same 5-minute token is kept.
    let server = TestServer::start(Mode {
        expiry_ms: Some(5 * 60 * 1000),
        ..Mode::default()
    })
    .await;
    let session = session_for(&server).with_renew_margin(Duration::from_secs(60));
    let url = format!("{}/iserver/accounts", server.base_url());
    for _ in 0..3 {
        let (status, _) = signed_call(&session, &http, Method::GET, &url)
            .await
            .expect("signed");
        assert_eq!(status, 200);
    }
    assert_eq!(server.lst_requests(), 1);

    // Invalidation forces a new token.
    session.invalidate_live_session_token().await;
    assert_eq!(session.live_session_token_expiry().await, None);
    let (status, _) = signed_call(&session, &http, Method::GET, &url)
        .await
        .expect("signed");
    assert_eq!(status, 200);
    assert_eq!(server.lst_requests(), 2);
}

#[tokio::test]
async fn wrong_signature_key_is_rejected_with_ibkrs_message() {
    // The server knows another public key than the one the client signs with.
    let server = TestServer::start_with_key(
        Mode::default(),
        key("encryption_key_pkcs1.pem").to_public_key(),
    )
    .await;
    let session = session_for(&server);
    let url = Url::parse(&format!("{}/iserver/accounts", server.base_url())).expect("url");
    let err = session
        .authorization_header(&http(), &Method::GET, &url)
        .await
        .expect_err("rejected");
    match &err {
        OAuthError::Rejected {
            endpoint,
            status,
            message,
        } => {
            assert_eq!(endpoint, "POST /oauth/live_session_token");
            assert_eq!(*status, 401);
            assert_eq!(message, "id: 3932, error: invalid signature");
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
    assert_no_secrets(&err.to_string());
    assert_no_secrets(&format!("{err:?}"));
    assert_eq!(server.lst_requests(), 0);
}

#[tokio::test]
async fn secrets_echoed_by_the_server_are_scrubbed() {
    let server = TestServer::start(Mode {
        echo_secrets_in_rejection: true,
        ..Mode::default()
    })
    .await;
    let session = session_for(&server);
    let url = Url::parse(&format!("{}/iserver/accounts", server.base_url())).expect("url");
    let err = session
        .authorization_header(&http(), &Method::GET, &url)
        .await
        .expect_err("rejected");
    let text = err.to_string();
    assert!(text.contains("invalid consumer"), "{text}");
    assert!(text.contains("token <redacted>"), "{text}");
    assert!(text.contains("signature <redacted>"), "{text}");
    assert_no_secrets(&text);
}

#[tokio::test]
async fn lst_that_does_not_validate_is_refused() {
    let server = TestServer::start(Mode {
        corrupt_lst_signature: true,
        ..Mode::default()
    })
    .await;
    let session = session_for(&server);
    let url = Url::parse(&format!("{}/iserver/accounts", server.base_url())).expect("url");
    let err = session
        .authorization_header(&http(), &Method::GET, &url)
        .await
        .expect_err("invalid");
    assert!(matches!(err, OAuthError::LstValidation), "{err:?}");
    assert_eq!(session.live_session_token_expiry().await, None);
}

#[tokio::test]
async fn server_rejects_tampered_or_wrongly_keyed_requests() {
    let server = TestServer::start(Mode::default()).await;
    let session = session_for(&server);
    let http = http();
    let signed_for = Url::parse(&format!("{}/iserver/accounts", server.base_url())).expect("url");
    let header = session
        .authorization_header(&http, &Method::GET, &signed_for)
        .await
        .expect("header");
    // Same header, another path: the server's check must fail.
    let response = http
        .get(format!("{}/portfolio/accounts", server.base_url()))
        .header("authorization", &header)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status().as_u16(), 401);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["error"], "invalid signature");
    // A header signed with some other token is refused too.
    let bogus = LiveSessionToken::from_bytes(vec![7u8; 20]);
    let header = oauth::hmac_request_header(
        Identity {
            consumer_key: "TICKLINE1",
            token: Some("0f1e2d3c4b5a69788796"),
            realm: "limited_poa",
        },
        &bogus,
        "GET",
        signed_for.as_str(),
        &Stamp::fresh(),
    );
    let response = http
        .get(signed_for.clone())
        .header("authorization", header)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status().as_u16(), 401);
    assert!(server.verified().is_empty());
}

#[tokio::test]
async fn third_party_token_dance() {
    let server = TestServer::start(Mode::default()).await;
    let consumer = Consumer::new(
        "TICKLINE1",
        "limited_poa",
        server.base_url(),
        key("signature_key_pkcs1.pem"),
    );
    let http = http();
    let token = oauth::request_token(&http, &consumer, "oob")
        .await
        .expect("request token");
    assert_eq!(token, REQUEST_TOKEN);
    let page = oauth::authorization_url(&token).expect("url");
    assert!(
        page.as_str()
            .ends_with(&format!("?oauth_token={REQUEST_TOKEN}"))
    );
    let grant = oauth::access_token(&http, &consumer, &token, VERIFIER)
        .await
        .expect("access token");
    assert_eq!(grant.access_token, GRANTED_TOKEN);
    assert_eq!(grant.is_paper, Some(true));
    // A wrong verifier is rejected with the server's message.
    let err = oauth::access_token(&http, &consumer, &token, "wrong")
        .await
        .expect_err("rejected");
    assert!(
        matches!(&err, OAuthError::Rejected { status: 401, message, .. } if message == "invalid access token request"),
        "{err:?}"
    );
}

/// Neither the access token, its secret (encrypted or decrypted) nor the consumer's key
/// material may show up.
fn assert_no_secrets(text: &str) {
    let vectors = std::fs::read_to_string(fixtures().join("vectors.json")).expect("vectors");
    let v: serde_json::Value = serde_json::from_str(&vectors).expect("json");
    for secret in [
        v["access_token"].as_str().expect("token"),
        v["access_token_secret_base64"].as_str().expect("secret"),
        v["prepend_hex"].as_str().expect("prepend"),
    ] {
        assert!(!text.contains(secret), "secret leaked into {text:?}");
    }
    assert!(!text.contains("PRIVATE KEY"));
}
