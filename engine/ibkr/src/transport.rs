//! HTTP transport: the reqwest client (rustls, cookie jar), base URLs, authentication
//! (gateway cookies or OAuth 1.0a signatures), pacing and retries.
//!
//! Retries: a request refused with 429 is retried after `Retry-After` (or an exponential
//! backoff with jitter, at least [`RetryPolicy::rate_limited_min_delay`], IBKR's "stop that
//! endpoint for at least 15 s") and the endpoint's bucket is blocked meanwhile; every such
//! wait is logged at WARN with the endpoint and its length. [`RetryPolicy::penalty_after`]
//! 429s in a row, or 429s that outlast a 429 pause ([`RetryPolicy::penalty_after_wait`],
//! nothing else answered between them), mean IBKR's penalty box: the client stops sending
//! for [`RetryPolicy::penalty_pause`] and answers [`IbkrError::PenaltyBox`] at once
//! meanwhile; then one request probes, and another 429 starts another pause.
//! 503, timeouts and dropped connections are retried only for requests marked
//! [`RetryMode::Idempotent`]. Order placement uses [`RetryMode::Never`], so an ambiguous
//! failure is reported to the order layer, which looks the order up before resubmitting.
//! The number of attempts is always bounded, and so is the time: each attempt by
//! [`ClientConfig::request_timeout`], all attempts and waits of one request together by
//! [`RetryPolicy::total_timeout`].
//!
//! Nothing here logs or reports headers, cookies, bodies or query strings.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};
use reqwest::cookie::{CookieStore, Jar};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, DATE, HeaderValue, RETRY_AFTER};
use tokio::time::Instant;
use url::Url;

use crate::catalog::{Base, EndpointSpec, HttpMethod};
use crate::error::{EndpointRef, IbkrError, transport_error};
use crate::ratelimit::{RateLimiter, RateLimits};
use crate::secret::Secret;
use crate::venue_time::{VenueTime, parse_http_date};

/// Default base URL of a local Client Portal Gateway.
pub const DEFAULT_GATEWAY_URL: &str = "https://localhost:5000/v1/api";
/// Production base URL for OAuth.
pub const PRODUCTION_URL: &str = "https://api.ibkr.com/v1/api";

/// Install rustls' ring crypto provider for the process (reqwest is built without one).
/// Safe to call many times.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// How a client authenticates.
#[derive(Clone, Debug)]
pub enum Auth {
    /// A Client Portal Gateway holds the session; the client keeps its cookies.
    Gateway,
    /// First-party OAuth 1.0a: every request is signed.
    OAuth(Arc<crate::oauth::OAuthSession>),
}

/// Retry settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per request, the first one included.
    pub max_attempts: u32,
    /// Backoff before the second attempt; doubles after each failure.
    pub base_delay: Duration,
    /// Largest backoff.
    pub max_delay: Duration,
    /// Least wait after a 429 without `Retry-After` (IBKR: stop the endpoint ≥ 15 s).
    pub rate_limited_min_delay: Duration,
    /// Largest `Retry-After` honoured; longer values give up instead.
    pub max_retry_after: Duration,
    /// Bound on one request with all its attempts and waits (`None` = only the attempts
    /// bound it). A caller's own deadline is kept by dropping the future.
    pub total_timeout: Option<Duration>,
    /// This many 429 answers in a row (any endpoint) mean IBKR's penalty box.
    pub penalty_after: u32,
    /// So do 429s that go on this long with no other answer between them: the pacing
    /// buckets refill within seconds, so refusals that outlast a 429 pause are the box.
    pub penalty_after_wait: Duration,
    /// How long the client then sends nothing (IBKR: about 10 minutes).
    pub penalty_pause: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            rate_limited_min_delay: Duration::from_secs(15),
            max_retry_after: Duration::from_secs(15 * 60),
            total_timeout: Some(Duration::from_secs(45)),
            penalty_after: 6,
            penalty_after_wait: Duration::from_secs(15),
            penalty_pause: Duration::from_secs(10 * 60),
        }
    }
}

/// What the transport reports about pacing (the client turns these into session events).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RateNotice {
    /// A 429: the endpoint is paused for `wait`.
    Throttled { endpoint: String, wait: Duration },
    /// Repeated 429s: IBKR's penalty box; nothing is sent for `pause`.
    PenaltyBox { endpoint: String, pause: Duration },
    /// The penalty pause is over and a request went through.
    PenaltyOver,
}

/// Receives [`RateNotice`]s.
pub type RateNotifier = Arc<dyn Fn(RateNotice) + Send + Sync>;

/// Consecutive 429s and the penalty pause.
#[derive(Debug, Default)]
struct PenaltyState {
    consecutive: u32,
    /// When the current run of 429s began.
    first_refusal: Option<Instant>,
    until: Option<Instant>,
    /// The pause ended; the next answer tells whether it is over.
    probing: bool,
}

/// Whether a request may be repeated after an ambiguous failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetryMode {
    /// Safe to repeat: retried on 429, 503, timeouts and connection failures.
    Idempotent,
    /// Must not be repeated blindly (orders, transfers): retried only when the request was
    /// certainly not processed (429, connection refused).
    Never,
}

/// Client settings.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// Base URL of the Trading API (`…/v1/api`). Account Management paths are resolved
    /// against the same host's root.
    pub base_url: Url,
    /// Accept any TLS certificate (the gateway's self-signed one). Default false.
    pub insecure_tls: bool,
    /// Sent on every request (IBKR rejects requests without one).
    pub user_agent: String,
    /// Timeout of each attempt (`None` = none); see also [`RetryPolicy::total_timeout`].
    pub request_timeout: Option<Duration>,
    /// Connect timeout (`None` = none).
    pub connect_timeout: Option<Duration>,
    /// Retry settings.
    pub retry: RetryPolicy,
    /// Pacing.
    pub limits: RateLimits,
    /// Seed for the backoff jitter (tests); `None` seeds from the OS.
    pub jitter_seed: Option<u64>,
    /// OAuth 2.0 bearer token for Account Management / Echo endpoints, when used.
    pub bearer_token: Option<Secret>,
    /// Venue seconds per wall second of the venue's clock (1 for IBKR; an emulator's market
    /// may run faster): the `Date` of its answers is carried forward at this pace
    /// ([`crate::venue_time`]).
    pub venue_time_scale: f64,
}

impl ClientConfig {
    /// Settings for a Client Portal Gateway at `base_url`.
    pub fn gateway(base_url: Url) -> Self {
        ClientConfig {
            base_url,
            insecure_tls: false,
            user_agent: concat!("tickline/", env!("CARGO_PKG_VERSION")).to_string(),
            request_timeout: Some(Duration::from_secs(15)),
            connect_timeout: Some(Duration::from_secs(10)),
            retry: RetryPolicy::default(),
            limits: RateLimits::gateway(),
            jitter_seed: None,
            bearer_token: None,
            venue_time_scale: 1.0,
        }
    }

    /// Settings for OAuth 1.0a against `base_url` (50 req/s).
    pub fn oauth(base_url: Url) -> Self {
        ClientConfig {
            limits: RateLimits::oauth(),
            ..ClientConfig::gateway(base_url)
        }
    }

    /// Parse a base URL, reporting what is wrong with it.
    pub fn parse_base_url(s: &str) -> Result<Url, IbkrError> {
        let url = Url::parse(s.trim()).map_err(|e| IbkrError::InvalidInput {
            what: "base URL",
            reason: format!("{s:?}: {e}"),
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(IbkrError::InvalidInput {
                what: "base URL",
                reason: format!("{s:?}: scheme must be http or https"),
            });
        }
        if url.host_str().is_none() {
            return Err(IbkrError::InvalidInput {
                what: "base URL",
                reason: format!("{s:?}: no host"),
            });
        }
        Ok(url)
    }
}

/// The two roots requests are resolved against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiUrls {
    /// Trading API root (`…/v1/api`), no trailing slash.
    pub trading: Url,
    /// Host root for `/gw/api/...` and `/oauth2/...`.
    pub root: Url,
}

impl ApiUrls {
    /// Derive both roots from a base URL:
    /// * path ending in `/v1/api` → that is the trading root, the host root is the rest;
    /// * empty path (`https://qa.interactivebrokers.com`) → trading root = base + `/v1/api`;
    /// * any other path (an emulator prefix) → trading root = base, host root = origin.
    pub fn from_base(base: &Url) -> ApiUrls {
        let mut clean = base.clone();
        clean.set_query(None);
        clean.set_fragment(None);
        let path = clean.path().trim_end_matches('/').to_string();
        let mut trading = clean.clone();
        let mut root = clean.clone();
        if let Some(prefix) = path.strip_suffix("/v1/api") {
            trading.set_path(&path);
            root.set_path(prefix);
        } else if path.is_empty() {
            trading.set_path("/v1/api");
            root.set_path("");
        } else {
            trading.set_path(&path);
            root.set_path("");
        }
        ApiUrls { trading, root }
    }

    /// Absolute URL of `path` (already filled) under the root for `base`, plus a query.
    pub fn url_for(&self, base: Base, path: &str, query: &[(String, String)]) -> Url {
        let root = match base {
            Base::Trading => &self.trading,
            Base::Root => &self.root,
        };
        let mut url = root.clone();
        let joined = format!("{}{}", root.path().trim_end_matches('/'), path);
        url.set_path(&joined);
        if query.is_empty() {
            url.set_query(None);
        } else {
            url.set_query(Some(&encode_query(query)));
        }
        url
    }

    /// Websocket URL: the trading root with `ws`/`wss` and `/ws` appended.
    pub fn websocket(&self) -> Url {
        let mut url = self.trading.clone();
        let scheme = if url.scheme() == "https" { "wss" } else { "ws" };
        // http→ws and https→wss are both allowed scheme changes for special schemes.
        let _ = url.set_scheme(scheme);
        let path = format!("{}/ws", url.path().trim_end_matches('/'));
        url.set_path(&path);
        url
    }
}

/// Query characters left as they are: unreserved plus `,` `;` `:` `@` `/` `*` (IBKR's own
/// examples send `fields=31,84,86` and `algos=Adaptive;Vwap` unencoded, and the OAuth
/// signature covers the URL as sent).
const QUERY_VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b',')
    .remove(b';')
    .remove(b':')
    .remove(b'@')
    .remove(b'/')
    .remove(b'*');

/// Encode query pairs as `k=v&k2=v2`.
pub fn encode_query(query: &[(String, String)]) -> String {
    let mut out = String::new();
    for (i, (k, v)) in query.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.extend(percent_encoding::utf8_percent_encode(k, QUERY_VALUE));
        out.push('=');
        out.extend(percent_encoding::utf8_percent_encode(v, QUERY_VALUE));
    }
    out
}

/// A request body.
#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    /// No body; POST/PUT/PATCH send `{}` (some proxies want a length).
    None,
    /// A JSON document.
    Json(serde_json::Value),
    /// `application/x-www-form-urlencoded` pairs.
    Form(Vec<(String, String)>),
    /// A signed JWT (`application/jwt`).
    Jwt(String),
}

/// One request to send.
#[derive(Clone, Debug)]
pub struct ApiRequest {
    /// The endpoint (method, template path, base).
    pub spec: &'static EndpointSpec,
    /// The filled path.
    pub path: String,
    /// Query parameters.
    pub query: Vec<(String, String)>,
    /// Body.
    pub body: Body,
    /// Retry behaviour.
    pub retry: RetryMode,
}

impl ApiRequest {
    /// A request to `spec` with its path filled from `params`, no query and no body; the
    /// retry mode is [`default_retry_mode`].
    pub fn new(spec: &'static EndpointSpec, params: &[(&str, &str)]) -> Result<Self, IbkrError> {
        Ok(ApiRequest {
            spec,
            path: spec.fill(params)?,
            query: Vec::new(),
            body: Body::None,
            retry: default_retry_mode(spec),
        })
    }

    /// Add a query parameter.
    pub fn query(mut self, key: &str, value: impl Into<String>) -> Self {
        self.query.push((key.to_string(), value.into()));
        self
    }

    /// Add free-form query parameters.
    pub fn query_params(mut self, params: &crate::models::QueryParams) -> Self {
        self.query.extend(params.0.iter().cloned());
        self
    }

    /// Add a query parameter when the value is present.
    pub fn query_opt<T: ToString>(mut self, key: &str, value: Option<T>) -> Self {
        if let Some(v) = value {
            self.query.push((key.to_string(), v.to_string()));
        }
        self
    }

    /// Set a JSON body.
    pub fn json<T: serde::Serialize + ?Sized>(mut self, body: &T) -> Result<Self, IbkrError> {
        let value = serde_json::to_value(body).map_err(|e| IbkrError::InvalidInput {
            what: "request body",
            reason: format!("{}: {e}", self.spec.path),
        })?;
        self.body = Body::Json(value);
        Ok(self)
    }

    /// Set the body.
    pub fn body(mut self, body: Body) -> Self {
        self.body = body;
        self
    }

    /// Override the retry mode.
    pub fn retry(mut self, mode: RetryMode) -> Self {
        self.retry = mode;
        self
    }

    /// The endpoint reference used in errors.
    pub fn endpoint(&self) -> EndpointRef {
        EndpointRef::new(self.spec.method, self.path.clone())
    }
}

/// Reads are idempotent; so are the POSTs that only query or (re)set state. Everything that
/// creates something (orders, replies, alerts, transfers, watchlists, …) is not.
pub fn default_retry_mode(spec: &EndpointSpec) -> RetryMode {
    use HttpMethod::*;
    let idempotent = match spec.method {
        Get => true,
        Delete => matches!(
            spec.path,
            "/iserver/account/{accountId}/order/{orderId}" | "/iserver/watchlist"
        ),
        Post | Put | Patch => matches!(
            spec.path,
            "/iserver/auth/status"
                | "/iserver/auth/ssodh/init"
                | "/tickle"
                | "/iserver/secdef/search"
                | "/iserver/contract/rules"
                | "/iserver/scanner/run"
                | "/hmds/scanner/run"
                | "/iserver/marketdata/unsubscribe"
                | "/iserver/questions/suppress"
                | "/iserver/questions/suppress/reset"
                | "/portfolio/{accountId}/positions/invalidate"
                | "/iserver/account"
                | "/iserver/dynaccount"
                | "/iserver/account/{accountId}/orders/whatif"
                | "/iserver/account/allocation/group/single"
                | "/pa/allperiods"
                | "/pa/performance"
                | "/pa/transactions"
                | "/pa/allocation"
                | "/fa/fa-preset/get"
                | "/fa/model/list"
                | "/fa/model/summary"
                | "/fa/model/positions"
                | "/fa/model/accounts-details"
                | "/fa/model/invest-divest-positions"
                | "/gw/api/v1/bank-instructions/query"
                | "/gw/api/v1/external-cash-transfers/query"
                | "/gw/api/v1/instructions/query"
        ),
    };
    if idempotent {
        RetryMode::Idempotent
    } else {
        RetryMode::Never
    }
}

/// A raw HTTP response with a success status.
#[derive(Clone, Debug)]
pub struct RawResponse {
    /// HTTP status (2xx).
    pub status: u16,
    /// `Content-Type`, if sent.
    pub content_type: Option<String>,
    /// Body bytes.
    pub body: Vec<u8>,
}

/// The HTTP layer shared by all requests of a client.
pub struct Transport {
    http: reqwest::Client,
    jar: Arc<Jar>,
    urls: ApiUrls,
    auth: Auth,
    limiter: RateLimiter,
    retry: RetryPolicy,
    user_agent: String,
    insecure_tls: bool,
    bearer: Option<Secret>,
    rng: Mutex<SmallRng>,
    penalty: Mutex<PenaltyState>,
    notifier: Mutex<Option<RateNotifier>>,
    venue_time: VenueTime,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("urls", &self.urls)
            .field(
                "auth",
                &match self.auth {
                    Auth::Gateway => "gateway",
                    Auth::OAuth(_) => "oauth",
                },
            )
            .finish_non_exhaustive()
    }
}

impl Transport {
    /// Build the transport (installs the crypto provider first).
    pub fn new(config: &ClientConfig, auth: Auth) -> Result<Self, IbkrError> {
        install_crypto_provider();
        let jar = Arc::new(Jar::default());
        let mut builder = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .user_agent(config.user_agent.clone())
            .tls_danger_accept_invalid_certs(config.insecure_tls)
            .no_proxy();
        if let Some(t) = config.request_timeout {
            builder = builder.timeout(t);
        }
        if let Some(t) = config.connect_timeout {
            builder = builder.connect_timeout(t);
        }
        let http = builder
            .build()
            .map_err(|e| IbkrError::Config(format!("HTTP client: {}", e.without_url())))?;
        let rng = match config.jitter_seed {
            Some(seed) => SmallRng::seed_from_u64(seed),
            None => rand::make_rng::<SmallRng>(),
        };
        Ok(Transport {
            http,
            jar,
            urls: ApiUrls::from_base(&config.base_url),
            auth,
            limiter: RateLimiter::new(config.limits.clone()),
            retry: config.retry.clone(),
            user_agent: config.user_agent.clone(),
            insecure_tls: config.insecure_tls,
            bearer: config.bearer_token.clone(),
            rng: Mutex::new(rng),
            penalty: Mutex::new(PenaltyState::default()),
            notifier: Mutex::new(None),
            venue_time: VenueTime::new(config.venue_time_scale),
        })
    }

    /// Where pacing notices go (the client's session events).
    pub fn set_notifier(&self, notifier: RateNotifier) {
        *self.notifier.lock().unwrap_or_else(PoisonError::into_inner) = Some(notifier);
    }

    fn notify(&self, notice: RateNotice) {
        let n = self
            .notifier
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if let Some(n) = n {
            n(notice);
        }
    }

    /// Time left in the penalty box, if in it.
    pub fn penalty_left(&self) -> Option<Duration> {
        let p = self.penalty.lock().unwrap_or_else(PoisonError::into_inner);
        p.until
            .and_then(|u| u.checked_duration_since(Instant::now()))
            .filter(|d| !d.is_zero())
    }

    /// Count a response: 429s in a row, or for longer than a 429 pause, lead into the
    /// penalty box.
    fn record_answer(&self, req: &ApiRequest, rate_limited: bool) {
        let mut notice = None;
        {
            let mut p = self.penalty.lock().unwrap_or_else(PoisonError::into_inner);
            if !rate_limited {
                p.consecutive = 0;
                p.first_refusal = None;
                if std::mem::take(&mut p.probing) {
                    notice = Some(RateNotice::PenaltyOver);
                }
            } else {
                p.consecutive += 1;
                let now = Instant::now();
                let since = now - *p.first_refusal.get_or_insert(now);
                if p.probing
                    || since >= self.retry.penalty_after_wait
                    || p.consecutive >= self.retry.penalty_after.max(1)
                {
                    p.probing = false;
                    p.consecutive = 0;
                    p.first_refusal = None;
                    p.until = Some(Instant::now() + self.retry.penalty_pause);
                    notice = Some(RateNotice::PenaltyBox {
                        endpoint: req.endpoint().to_string(),
                        pause: self.retry.penalty_pause,
                    });
                }
            }
        }
        match notice {
            Some(RateNotice::PenaltyBox { endpoint, pause }) => {
                tracing::warn!(
                    %endpoint,
                    pause_s = pause.as_secs(),
                    "IBKR penalty box: repeated 429s; sending nothing until the pause is over"
                );
                self.notify(RateNotice::PenaltyBox { endpoint, pause });
            }
            Some(other) => {
                tracing::info!("IBKR penalty pause over");
                self.notify(other);
            }
            None => {}
        }
    }

    /// Fail fast inside the penalty box.
    fn check_penalty(&self, req: &ApiRequest) -> Result<(), IbkrError> {
        let mut p = self.penalty.lock().unwrap_or_else(PoisonError::into_inner);
        match p.until {
            Some(u) if u > Instant::now() => Err(IbkrError::PenaltyBox {
                endpoint: req.endpoint(),
                retry_in: u - Instant::now(),
            }),
            Some(_) => {
                p.until = None;
                p.probing = true;
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// The underlying reqwest client (shared with the OAuth session).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Base URLs.
    pub fn urls(&self) -> &ApiUrls {
        &self.urls
    }

    /// Authentication mode.
    pub fn auth(&self) -> &Auth {
        &self.auth
    }

    /// The limiter.
    pub fn limiter(&self) -> &RateLimiter {
        &self.limiter
    }

    /// The venue's clock, as its answers' `Date` headers tell it.
    pub fn venue_time(&self) -> &VenueTime {
        &self.venue_time
    }

    /// True when any TLS certificate is accepted.
    pub fn insecure_tls(&self) -> bool {
        self.insecure_tls
    }

    /// The User-Agent sent on every request.
    pub fn user_agent(&self) -> &str {
        &self.user_agent
    }

    /// The `Cookie` header the jar would send to the trading root (the gateway session),
    /// as a secret.
    pub fn session_cookie(&self) -> Option<Secret> {
        self.jar
            .cookies(&self.urls.trading)
            .and_then(|v| v.to_str().ok().map(Secret::new))
    }

    /// Send a request: pace it, sign it, retry per its mode, and map failures to errors.
    pub async fn send(&self, req: &ApiRequest) -> Result<RawResponse, IbkrError> {
        let max_attempts = self.retry.max_attempts.max(1);
        let deadline = self.retry.total_timeout.map(|t| Instant::now() + t);
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            self.check_penalty(req)?;
            let outcome = match deadline {
                Some(d) => match tokio::time::timeout_at(d, self.attempt(req)).await {
                    Ok(o) => o,
                    Err(_) => Attempt::TransportFailed(self.total_timeout_error(req)),
                },
                None => self.attempt(req).await,
            };
            match &outcome {
                Attempt::RateLimited { .. } => {
                    self.record_answer(req, true);
                    // That 429 may have been the one that showed the penalty box: then no
                    // endpoint pause, the box's own pause applies.
                    self.check_penalty(req)?;
                }
                Attempt::Done(_) | Attempt::Failed(_) | Attempt::Unavailable { .. } => {
                    self.record_answer(req, false)
                }
                Attempt::TransportFailed(_) => {}
            }
            let delay = match &outcome {
                Attempt::Done(_) | Attempt::Failed(_) => None,
                Attempt::RateLimited { retry_after, .. } => {
                    let backoff = self.backoff(attempt).max(self.retry.rate_limited_min_delay);
                    match retry_after {
                        Some(ra) if *ra > self.retry.max_retry_after => None,
                        Some(ra) => Some(*ra),
                        None => Some(backoff),
                    }
                }
                Attempt::Unavailable { retry_after, .. } => {
                    if req.retry == RetryMode::Idempotent {
                        Some(
                            retry_after
                                .filter(|ra| *ra <= self.retry.max_retry_after)
                                .unwrap_or_else(|| self.backoff(attempt)),
                        )
                    } else {
                        None
                    }
                }
                Attempt::TransportFailed(err) => {
                    let not_sent = matches!(
                        err,
                        IbkrError::Transport {
                            kind: crate::error::TransportErrorKind::Connect,
                            ..
                        }
                    );
                    let out_of_time = deadline.is_some_and(|d| Instant::now() >= d);
                    if !out_of_time && (not_sent || req.retry == RetryMode::Idempotent) {
                        Some(self.backoff(attempt))
                    } else {
                        None
                    }
                }
            };
            // A wait that would outlast the request's time budget is not started.
            let delay = delay.filter(|d| deadline.is_none_or(|dl| Instant::now() + *d < dl));
            match (outcome, delay) {
                (Attempt::Done(resp), _) => return Ok(resp),
                (Attempt::Failed(err), _) => return Err(err),
                (outcome, Some(delay)) if attempt < max_attempts => {
                    let endpoint = req.endpoint();
                    let delay_ms = delay.as_millis() as u64;
                    if let Attempt::RateLimited { retry_after } = &outcome {
                        tracing::warn!(
                            %endpoint,
                            wait_ms = delay_ms,
                            retry_after_s = retry_after.map(|d| d.as_secs()),
                            attempt,
                            "IBKR answered 429: pausing this endpoint"
                        );
                        self.notify(RateNotice::Throttled {
                            endpoint: endpoint.to_string(),
                            wait: delay,
                        });
                        self.limiter.block_until(req.spec, Instant::now() + delay);
                    } else {
                        tracing::warn!(
                            %endpoint,
                            wait_ms = delay_ms,
                            attempt,
                            error = %outcome.describe(),
                            "IBKR request failed; retrying"
                        );
                        tokio::time::sleep(delay).await;
                    }
                }
                (outcome, _) => return Err(outcome.into_error(req, attempt)),
            }
        }
    }

    fn total_timeout_error(&self, req: &ApiRequest) -> IbkrError {
        IbkrError::Transport {
            endpoint: req.endpoint(),
            kind: crate::error::TransportErrorKind::Timeout,
            message: format!(
                "no answer within the request budget of {:?} (RetryPolicy::total_timeout)",
                self.retry.total_timeout.unwrap_or_default()
            ),
        }
    }

    /// Exponential backoff with equal jitter: half the delay fixed, half random.
    fn backoff(&self, attempt: u32) -> Duration {
        let exp = attempt.saturating_sub(1).min(20);
        let raw = self
            .retry
            .base_delay
            .saturating_mul(1u32 << exp)
            .min(self.retry.max_delay);
        let half = raw / 2;
        let jitter_ms = {
            let mut rng = self.rng.lock().unwrap_or_else(PoisonError::into_inner);
            let max = half.as_millis() as u64;
            if max == 0 {
                0
            } else {
                rng.random_range(0..=max)
            }
        };
        half + Duration::from_millis(jitter_ms)
    }

    async fn attempt(&self, req: &ApiRequest) -> Attempt {
        let endpoint = req.endpoint();
        let _permit = self.limiter.acquire(req.spec).await;
        let url = self.urls.url_for(req.spec.base, &req.path, &req.query);
        let method = req.spec.method.to_reqwest();
        let mut builder = self.http.request(method.clone(), url.clone());
        builder = match &req.body {
            Body::None => match req.spec.method {
                HttpMethod::Post | HttpMethod::Put | HttpMethod::Patch => {
                    builder.header(CONTENT_TYPE, "application/json").body("{}")
                }
                HttpMethod::Get | HttpMethod::Delete => builder,
            },
            Body::Json(v) => builder.json(v),
            Body::Form(pairs) => builder.form(pairs),
            Body::Jwt(jwt) => builder
                .header(CONTENT_TYPE, "application/jwt")
                .body(jwt.clone()),
        };
        match self.authorization(req.spec.base, &method, &url).await {
            Ok(Some(value)) => builder = builder.header(AUTHORIZATION, value),
            Ok(None) => {}
            Err(err) => return Attempt::Failed(err),
        }
        tracing::debug!(method = %req.spec.method, path = %req.path, "IBKR request");
        let resp = match builder.send().await {
            Ok(r) => r,
            Err(e) => return Attempt::TransportFailed(transport_error(endpoint, e)),
        };
        let status = resp.status().as_u16();
        let date = resp
            .headers()
            .get(DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| self.venue_time.observe_header(v));
        let retry_after = resp
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| parse_retry_after(v, date));
        let content_type = resp
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = match resp.bytes().await {
            Ok(b) => b.to_vec(),
            Err(e) => return Attempt::TransportFailed(transport_error(endpoint, e)),
        };
        tracing::debug!(method = %req.spec.method, path = %req.path, status, "IBKR response");
        match status {
            200..=299 => Attempt::Done(RawResponse {
                status,
                content_type,
                body,
            }),
            429 => Attempt::RateLimited { retry_after },
            503 => Attempt::Unavailable {
                retry_after,
                message: error_message(&body),
            },
            _ => Attempt::Failed(status_error(endpoint, status, &body)),
        }
    }

    async fn authorization(
        &self,
        base: Base,
        method: &reqwest::Method,
        url: &Url,
    ) -> Result<Option<HeaderValue>, IbkrError> {
        if base == Base::Root
            && let Some(token) = &self.bearer
        {
            let mut v = HeaderValue::from_str(&format!("Bearer {}", token.expose()))
                .map_err(|_| IbkrError::Config("bearer token is not a valid header".into()))?;
            v.set_sensitive(true);
            return Ok(Some(v));
        }
        match &self.auth {
            Auth::Gateway => Ok(None),
            Auth::OAuth(session) => {
                let header = session
                    .authorization_header(&self.http, method, url)
                    .await?;
                let mut v = HeaderValue::from_str(&header).map_err(|_| {
                    IbkrError::Config("OAuth authorization header is not a valid header".into())
                })?;
                v.set_sensitive(true);
                Ok(Some(v))
            }
        }
    }
}

enum Attempt {
    Done(RawResponse),
    Failed(IbkrError),
    RateLimited {
        retry_after: Option<Duration>,
    },
    Unavailable {
        retry_after: Option<Duration>,
        message: String,
    },
    TransportFailed(IbkrError),
}

impl Attempt {
    /// A short description for logs (no bodies, no secrets).
    fn describe(&self) -> String {
        match self {
            Attempt::Done(r) => format!("HTTP {}", r.status),
            Attempt::Failed(e) | Attempt::TransportFailed(e) => e.to_string(),
            Attempt::RateLimited { .. } => "HTTP 429".into(),
            Attempt::Unavailable { .. } => "HTTP 503".into(),
        }
    }

    fn into_error(self, req: &ApiRequest, attempts: u32) -> IbkrError {
        match self {
            Attempt::Done(_) => IbkrError::Config("internal: success treated as error".into()),
            Attempt::Failed(e) | Attempt::TransportFailed(e) => e,
            Attempt::RateLimited { retry_after } => IbkrError::RateLimited {
                endpoint: req.endpoint(),
                attempts,
                retry_after,
            },
            Attempt::Unavailable { message, .. } => IbkrError::Unavailable {
                endpoint: req.endpoint(),
                message,
                attempts,
            },
        }
    }
}

/// `Retry-After` as delta-seconds or an HTTP date, the latter read against the answer's own
/// `Date` (`date`; the host's clock without one), so a venue whose clock is not the host's is
/// waited on for as long as it asked.
fn parse_retry_after(
    v: &HeaderValue,
    date: Option<chrono::DateTime<chrono::Utc>>,
) -> Option<Duration> {
    let s = v.to_str().ok()?.trim();
    if let Ok(secs) = s.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = parse_http_date(s)?;
    let delta = when - date.unwrap_or_else(chrono::Utc::now);
    Some(delta.to_std().unwrap_or(Duration::ZERO))
}

/// Largest error text kept from a non-JSON body.
const MAX_TEXT_MESSAGE: usize = 300;

/// IBKR's message from an error body: `error` (or `message`) of a JSON object, else the
/// beginning of a text body.
pub(crate) fn error_message(body: &[u8]) -> String {
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_slice::<serde_json::Value>(body) {
        for key in ["error", "message", "title", "text"] {
            if let Some(serde_json::Value::String(s)) = map.get(key)
                && !s.is_empty()
            {
                return s.clone();
            }
        }
        return String::new();
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.starts_with('<') {
        // An HTML error page says nothing useful and can be long.
        return String::new();
    }
    let mut end = text.len().min(MAX_TEXT_MESSAGE);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

/// Map a non-success status to its error.
fn status_error(endpoint: EndpointRef, status: u16, body: &[u8]) -> IbkrError {
    let message = error_message(body);
    match status {
        400 => IbkrError::BadRequest { endpoint, message },
        401 => IbkrError::Unauthorized { endpoint, message },
        403 => IbkrError::Forbidden { endpoint, message },
        404 => IbkrError::NotFound { endpoint, message },
        500 => IbkrError::ServerError { endpoint, message },
        503 => IbkrError::Unavailable {
            endpoint,
            message,
            attempts: 1,
        },
        _ => IbkrError::Status {
            endpoint,
            status,
            message,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).expect("url")
    }

    #[test]
    fn roots_from_gateway_url() {
        let u = ApiUrls::from_base(&url("https://localhost:5000/v1/api"));
        assert_eq!(u.trading.as_str(), "https://localhost:5000/v1/api");
        assert_eq!(u.root.as_str(), "https://localhost:5000/");
        assert_eq!(
            u.url_for(Base::Trading, "/iserver/accounts", &[]).as_str(),
            "https://localhost:5000/v1/api/iserver/accounts"
        );
        assert_eq!(
            u.url_for(Base::Root, "/gw/api/v1/echo/https", &[]).as_str(),
            "https://localhost:5000/gw/api/v1/echo/https"
        );
        assert_eq!(u.websocket().as_str(), "wss://localhost:5000/v1/api/ws");
    }

    #[test]
    fn roots_from_host_only_url() {
        let u = ApiUrls::from_base(&url("https://qa.interactivebrokers.com"));
        assert_eq!(
            u.trading.as_str(),
            "https://qa.interactivebrokers.com/v1/api"
        );
        let u = ApiUrls::from_base(&url("http://127.0.0.1:8080/v1/api/"));
        assert_eq!(u.trading.as_str(), "http://127.0.0.1:8080/v1/api");
        assert_eq!(u.websocket().as_str(), "ws://127.0.0.1:8080/v1/api/ws");
    }

    #[test]
    fn query_keeps_commas() {
        let u = ApiUrls::from_base(&url("https://api.ibkr.com/v1/api"));
        let full = u.url_for(
            Base::Trading,
            "/iserver/marketdata/snapshot",
            &[
                ("conids".into(), "265598".into()),
                ("fields".into(), "31,84,86".into()),
            ],
        );
        assert_eq!(
            full.as_str(),
            "https://api.ibkr.com/v1/api/iserver/marketdata/snapshot?conids=265598&fields=31,84,86"
        );
        assert_eq!(
            encode_query(&[("symbol".into(), "A&B =".into())]),
            "symbol=A%26B%20%3D"
        );
    }

    #[test]
    fn error_messages() {
        assert_eq!(
            error_message(br#"{"error":"Bad Request: no bridge","statusCode":400}"#),
            "Bad Request: no bridge"
        );
        assert_eq!(error_message(b"access denied"), "access denied");
        assert_eq!(error_message(b"<html>...</html>"), "");
        assert_eq!(error_message(&[0xff, 0xfe]), "\u{fffd}\u{fffd}");
    }

    #[test]
    fn retry_modes() {
        use crate::catalog;
        assert_eq!(default_retry_mode(&catalog::PLACE_ORDERS), RetryMode::Never);
        assert_eq!(default_retry_mode(&catalog::REPLY), RetryMode::Never);
        assert_eq!(default_retry_mode(&catalog::MODIFY_ORDER), RetryMode::Never);
        assert_eq!(
            default_retry_mode(&catalog::AM_EXTERNAL_CASH_TRANSFER),
            RetryMode::Never
        );
        assert_eq!(
            default_retry_mode(&catalog::ACCOUNTS),
            RetryMode::Idempotent
        );
        assert_eq!(
            default_retry_mode(&catalog::CANCEL_ORDER),
            RetryMode::Idempotent
        );
        assert_eq!(default_retry_mode(&catalog::TICKLE), RetryMode::Idempotent);
    }

    #[test]
    fn retry_after_parsing() {
        let date = |s| Some(parse_http_date(s).expect("date"));
        let cases: [(&str, Option<_>, Option<Duration>); 5] = [
            ("7", None, Some(Duration::from_secs(7))),
            // An HTTP date is read against the answer's own Date, not the host's clock.
            (
                "Wed, 21 Oct 2015 07:28:30 GMT",
                date("Wed, 21 Oct 2015 07:28:00 GMT"),
                Some(Duration::from_secs(30)),
            ),
            (
                "Wed, 21 Oct 2015 07:28:00 GMT",
                date("Wed, 21 Oct 2015 07:29:00 GMT"),
                Some(Duration::ZERO),
            ),
            // Without one, the host's clock: long past.
            ("Wed, 21 Oct 2015 07:28:00 GMT", None, Some(Duration::ZERO)),
            ("soon", None, None),
        ];
        for (value, at, want) in cases {
            assert_eq!(
                parse_retry_after(&HeaderValue::from_static(value), at),
                want,
                "{value}"
            );
        }
    }
}
