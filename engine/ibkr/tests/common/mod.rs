//! Test helpers: a scriptable IBKR stand-in on `127.0.0.1:0` (axum), the reference samples,
//! and client settings for tests. The server's wire handling is written here, independent of
//! the client's types.

#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;
use tickline_ibkr::{Client, ClientConfig};

/// The text of a reference sample.
pub fn sample(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/reference/ibkr-samples")
        .join(name);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reference sample {} unreadable: {e}", path.display()))
}

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: String,
    /// `tokio::time::Instant` of arrival.
    pub at: tokio::time::Instant,
}

impl Recorded {
    /// The body as JSON (`Null` when empty or not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
}

/// What the server answers.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub body: String,
    pub content_type: &'static str,
    pub headers: Vec<(String, String)>,
    pub delay: Option<Duration>,
}

impl Reply {
    /// 200 with a JSON body.
    pub fn json(body: impl Into<String>) -> Reply {
        Reply {
            status: 200,
            body: body.into(),
            content_type: "application/json",
            headers: Vec::new(),
            delay: None,
        }
    }

    /// 200 with a JSON value.
    pub fn value(v: serde_json::Value) -> Reply {
        Reply::json(v.to_string())
    }

    /// 200 with a reference sample.
    pub fn sample(name: &str) -> Reply {
        Reply::json(sample(name))
    }

    /// Any status with a JSON body.
    pub fn status(status: u16, body: impl Into<String>) -> Reply {
        Reply {
            status,
            ..Reply::json(body)
        }
    }

    /// Any status with a text body.
    pub fn text(status: u16, body: impl Into<String>) -> Reply {
        Reply {
            status,
            body: body.into(),
            content_type: "text/plain",
            headers: Vec::new(),
            delay: None,
        }
    }

    /// Add a header.
    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// Answer only after `d`.
    pub fn delayed(mut self, d: Duration) -> Reply {
        self.delay = Some(d);
        self
    }
}

type RouteFn = Arc<dyn Fn(&Recorded) -> Reply + Send + Sync>;

#[derive(Default)]
struct Inner {
    routes: Mutex<HashMap<(String, String), RouteFn>>,
    fallback: Mutex<Option<RouteFn>>,
    log: Mutex<Vec<Recorded>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A scriptable server. Routes are keyed by method and full path (`/v1/api/...`).
#[derive(Clone)]
pub struct MockServer {
    inner: Arc<Inner>,
    pub addr: SocketAddr,
}

impl MockServer {
    /// Bind `127.0.0.1:0` and serve.
    pub async fn start() -> MockServer {
        let inner = Arc::new(Inner::default());
        let router = Router::new().fallback(dispatch).with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        MockServer { inner, addr }
    }

    /// A server answering the session basics from the samples: auth status, tickle,
    /// `/iserver/accounts`, `/portfolio/accounts`.
    pub async fn with_session() -> MockServer {
        let s = MockServer::start().await;
        s.route_sample(
            "POST",
            "/v1/api/iserver/auth/status",
            "iserver_auth_status.json",
        );
        s.route_sample("POST", "/v1/api/tickle", "tickle.json");
        s.route_sample("GET", "/v1/api/iserver/accounts", "iserver_accounts.json");
        s.route_sample(
            "GET",
            "/v1/api/portfolio/accounts",
            "portfolio_accounts.json",
        );
        s.route_sample(
            "POST",
            "/v1/api/iserver/auth/ssodh/init",
            "iserver_auth_status.json",
        );
        s
    }

    /// Base URL of the Trading API.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1/api", self.addr)
    }

    /// Answer `method path` with `f`.
    pub fn route(
        &self,
        method: &str,
        path: &str,
        f: impl Fn(&Recorded) -> Reply + Send + Sync + 'static,
    ) {
        lock(&self.inner.routes).insert((method.to_string(), path.to_string()), Arc::new(f));
    }

    /// Answer `method path` with a fixed reply.
    pub fn route_reply(&self, method: &str, path: &str, reply: Reply) {
        self.route(method, path, move |_| reply.clone());
    }

    /// Answer `method path` with a sample.
    pub fn route_sample(&self, method: &str, path: &str, name: &str) {
        self.route_reply(method, path, Reply::sample(name));
    }

    /// Answer `method path` with the replies in turn, repeating the last one.
    pub fn route_seq(&self, method: &str, path: &str, replies: Vec<Reply>) {
        let queue = Mutex::new(replies);
        self.route(method, path, move |_| {
            let mut q = lock(&queue);
            if q.len() > 1 {
                q.remove(0)
            } else {
                q[0].clone()
            }
        });
    }

    /// Answer every unrouted request with `f`.
    pub fn fallback(&self, f: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) {
        *lock(&self.inner.fallback) = Some(Arc::new(f));
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.inner.log).clone()
    }

    /// Requests to `method path`.
    pub fn requests_to(&self, method: &str, path: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == method && r.path == path)
            .collect()
    }

    /// Number of requests to `method path`.
    pub fn count(&self, method: &str, path: &str) -> usize {
        self.requests_to(method, path).len()
    }

    /// Forget recorded requests.
    pub fn clear_log(&self) {
        lock(&self.inner.log).clear();
    }
}

async fn dispatch(
    State(inner): State<Arc<Inner>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let rec = Recorded {
        method: method.as_str().to_string(),
        path: uri.path().to_string(),
        query: uri.query().map(str::to_string),
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
        at: tokio::time::Instant::now(),
    };
    lock(&inner.log).push(rec.clone());
    let route = lock(&inner.routes)
        .get(&(rec.method.clone(), rec.path.clone()))
        .cloned()
        .or_else(|| lock(&inner.fallback).clone());
    let reply = match route {
        Some(f) => f(&rec),
        None => Reply::text(404, "not found"),
    };
    if let Some(d) = reply.delay {
        tokio::time::sleep(d).await;
    }
    let mut resp = Response::new(Body::from(reply.body));
    *resp.status_mut() =
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static(reply.content_type),
    );
    for (k, v) in reply.headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(k), HeaderValue::try_from(v)) {
            resp.headers_mut().append(name, value);
        }
    }
    resp
}

/// Client settings for tests: deterministic jitter, short backoff, no request timeout (so
/// tests under `tokio::time::pause()` are not cut short).
pub fn test_config(server: &MockServer) -> ClientConfig {
    tickline_ibkr::install_crypto_provider();
    let mut c =
        ClientConfig::gateway(ClientConfig::parse_base_url(&server.base_url()).expect("base url"));
    c.request_timeout = None;
    c.connect_timeout = None;
    c.jitter_seed = Some(7);
    c.retry.base_delay = Duration::from_millis(100);
    c.retry.max_delay = Duration::from_secs(2);
    c.retry.rate_limited_min_delay = Duration::from_millis(500);
    c.limits.global = tickline_ibkr::ratelimit::Limit::per_second(1000);
    c.limits.per_endpoint = false;
    c
}

/// A gateway client for `server` with [`test_config`].
pub fn client(server: &MockServer) -> Client {
    Client::gateway(test_config(server)).expect("client")
}
