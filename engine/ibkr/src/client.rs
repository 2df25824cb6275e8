//! The client: transport plus session handling. Endpoint methods live in
//! [`crate::endpoints`], one module per reference group.
//!
//! Every request goes through [`Client::execute`], which
//! * primes `/iserver/accounts` before the first `/iserver` call that needs it,
//! * on 401 (or `no bridge`) re-authenticates once (single flight) and repeats the request,
//! * on `Please query /accounts first` primes and repeats the request.
//!
//! All three repeats are safe for orders: the server refused the first request.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use tokio::sync::{broadcast, watch};

use crate::catalog;
use crate::error::{EndpointRef, IbkrError, decode_error};
use crate::models::IserverAccounts;
use crate::secret::Secret;
use crate::session::{
    self, SessionConfig, SessionEvent, SessionHub, SessionState, SessionStatus, SupervisorHandle,
};
use crate::transport::{ApiRequest, ApiUrls, Auth, ClientConfig, RawResponse, Transport};

/// Settings for the order-safety logic of [`Client::place_orders`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderSafety {
    /// Live-order lookups by `cOID` after an ambiguous failure, before deciding.
    pub lookups: u32,
    /// Pause between lookups (the endpoint's own 1 req / 5 s pacing also applies).
    pub lookup_interval: Duration,
    /// Resubmissions allowed once the order was not found.
    pub max_resubmits: u32,
    /// Bound on the question chain when confirming prompts.
    pub max_prompt_replies: usize,
}

impl Default for OrderSafety {
    fn default() -> Self {
        OrderSafety {
            lookups: 2,
            lookup_interval: Duration::from_secs(1),
            max_resubmits: 1,
            max_prompt_replies: 20,
        }
    }
}

struct Inner {
    transport: Transport,
    hub: SessionHub,
    primed: AtomicBool,
    /// A live-orders call was answered in this brokerage session (IBKR answers the first
    /// one with an empty list).
    orders_warm: AtomicBool,
    prime_lock: tokio::sync::Mutex<()>,
    portfolio_primed: AtomicBool,
    /// Incremented by every successful re-authentication (single-flight recovery).
    generation: AtomicU64,
    recover_lock: tokio::sync::Mutex<()>,
    accounts: Mutex<Option<IserverAccounts>>,
    /// The data-centre region of the account (`ibEntity`), once `/portfolio/accounts` was read.
    region: Mutex<Option<crate::session::Region>>,
    /// `/portfolio/accounts` was asked once for the region.
    region_asked: AtomicBool,
    ws_session: Mutex<Option<Secret>>,
    suppressed: Mutex<Vec<String>>,
    order_gate: tokio::sync::Mutex<()>,
    order_safety: OrderSafety,
    session_config: SessionConfig,
    auto_recover: bool,
}

/// An IBKR Web API client. Cheap to clone; clones share the connection pool, cookies,
/// limiter and session state.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("transport", &self.inner.transport)
            .finish_non_exhaustive()
    }
}

/// Builder for a [`Client`].
#[derive(Debug)]
pub struct ClientBuilder {
    config: ClientConfig,
    auth: Auth,
    order_safety: OrderSafety,
    session: SessionConfig,
    auto_recover: bool,
}

impl ClientBuilder {
    /// Order-safety settings.
    pub fn order_safety(mut self, safety: OrderSafety) -> Self {
        self.order_safety = safety;
        self
    }

    /// Session settings used by automatic recovery and the supervisor.
    pub fn session_config(mut self, config: SessionConfig) -> Self {
        self.session = config;
        self
    }

    /// Re-authenticate automatically on 401 / `no bridge` (default true).
    pub fn auto_recover(mut self, on: bool) -> Self {
        self.auto_recover = on;
        self
    }

    /// Build the client.
    pub fn build(self) -> Result<Client, IbkrError> {
        let transport = Transport::new(&self.config, self.auth)?;
        let hub = SessionHub::new();
        let events = hub.event_sender();
        transport.set_notifier(Arc::new(move |notice| {
            let event = match notice {
                crate::transport::RateNotice::Throttled { endpoint, wait } => {
                    SessionEvent::RateLimited { endpoint, wait }
                }
                crate::transport::RateNotice::PenaltyBox { endpoint, pause } => {
                    SessionEvent::PenaltyBox { endpoint, pause }
                }
                crate::transport::RateNotice::PenaltyOver => SessionEvent::PenaltyOver,
            };
            let _ = events.send(event);
        }));
        Ok(Client {
            inner: Arc::new(Inner {
                transport,
                hub,
                primed: AtomicBool::new(false),
                orders_warm: AtomicBool::new(false),
                prime_lock: tokio::sync::Mutex::new(()),
                portfolio_primed: AtomicBool::new(false),
                generation: AtomicU64::new(0),
                recover_lock: tokio::sync::Mutex::new(()),
                accounts: Mutex::new(None),
                region: Mutex::new(None),
                region_asked: AtomicBool::new(false),
                ws_session: Mutex::new(None),
                suppressed: Mutex::new(Vec::new()),
                order_gate: tokio::sync::Mutex::new(()),
                order_safety: self.order_safety,
                session_config: self.session,
                auto_recover: self.auto_recover,
            }),
        })
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Client {
    /// Start building a client with these settings and authentication.
    pub fn builder(config: ClientConfig, auth: Auth) -> ClientBuilder {
        ClientBuilder {
            config,
            auth,
            order_safety: OrderSafety::default(),
            session: SessionConfig::default(),
            auto_recover: true,
        }
    }

    /// A client for a Client Portal Gateway.
    pub fn gateway(config: ClientConfig) -> Result<Client, IbkrError> {
        Client::builder(config, Auth::Gateway).build()
    }

    /// A client that signs every request with OAuth 1.0a.
    pub fn oauth(
        config: ClientConfig,
        session: Arc<crate::oauth::OAuthSession>,
    ) -> Result<Client, IbkrError> {
        Client::builder(config, Auth::OAuth(session)).build()
    }

    pub(crate) fn hub(&self) -> &SessionHub {
        &self.inner.hub
    }

    pub(crate) fn transport(&self) -> &Transport {
        &self.inner.transport
    }

    /// Time left in IBKR's penalty box (repeated 429s), if the client is in it: requests
    /// fail with [`IbkrError::PenaltyBox`] without being sent meanwhile.
    pub fn penalty_left(&self) -> Option<std::time::Duration> {
        self.inner.transport.penalty_left()
    }

    pub(crate) fn session_config(&self) -> &SessionConfig {
        &self.inner.session_config
    }

    pub(crate) fn order_safety(&self) -> &OrderSafety {
        &self.inner.order_safety
    }

    pub(crate) fn order_gate(&self) -> &tokio::sync::Mutex<()> {
        &self.inner.order_gate
    }

    pub(crate) fn inner_suppressed(&self) -> &Mutex<Vec<String>> {
        &self.inner.suppressed
    }

    /// The question ids currently suppressed through this client.
    pub fn suppressed_ids(&self) -> Vec<String> {
        lock(&self.inner.suppressed).clone()
    }

    /// The base URLs in use.
    pub fn urls(&self) -> &ApiUrls {
        self.inner.transport.urls()
    }

    /// True when requests are OAuth-signed.
    pub fn is_oauth(&self) -> bool {
        matches!(self.inner.transport.auth(), Auth::OAuth(_))
    }

    /// The OAuth session, in OAuth mode.
    pub fn oauth_session(&self) -> Option<&Arc<crate::oauth::OAuthSession>> {
        match self.inner.transport.auth() {
            Auth::OAuth(s) => Some(s),
            Auth::Gateway => None,
        }
    }

    /// The current session status.
    pub fn session_status(&self) -> SessionStatus {
        self.inner.hub.current()
    }

    /// Follow the session status.
    pub fn watch_session(&self) -> watch::Receiver<SessionStatus> {
        self.inner.hub.subscribe_status()
    }

    /// Receive session events.
    pub fn session_events(&self) -> broadcast::Receiver<SessionEvent> {
        self.inner.hub.subscribe_events()
    }

    /// Start the session supervisor (tickle, auth monitoring, re-authentication, competing
    /// session and nightly-reset handling) with the builder's session settings.
    pub fn spawn_supervisor(&self) -> SupervisorHandle {
        session::spawn(self.clone(), self.inner.session_config.clone())
    }

    /// Start the supervisor with explicit settings.
    pub fn spawn_supervisor_with(&self, config: SessionConfig) -> SupervisorHandle {
        session::spawn(self.clone(), config)
    }

    /// True once `/iserver/accounts` was called in the current brokerage session.
    pub fn is_primed(&self) -> bool {
        self.inner.primed.load(Ordering::Acquire)
    }

    /// The accounts seen by the last priming call.
    pub fn cached_accounts(&self) -> Option<IserverAccounts> {
        lock(&self.inner.accounts).clone()
    }

    /// The websocket session id from the last `/tickle`.
    pub fn websocket_session(&self) -> Option<Secret> {
        lock(&self.inner.ws_session).clone()
    }

    pub(crate) fn remember_ws_session(&self, session: Option<Secret>) {
        if let Some(s) = session.filter(|s| !s.is_empty()) {
            *lock(&self.inner.ws_session) = Some(s);
        }
    }

    pub(crate) fn remember_accounts(&self, accounts: &IserverAccounts) {
        *lock(&self.inner.accounts) = Some(accounts.clone());
        self.inner.primed.store(true, Ordering::Release);
        let status = self.inner.hub.current();
        if matches!(
            status.state,
            SessionState::BrokerageNotPrimed | SessionState::Unknown
        ) {
            let state = match &status.auth {
                Some(a) => SessionState::from_auth(a, true),
                None => SessionState::Ready,
            };
            self.inner.hub.set_state(state, None);
        }
    }

    /// Forget priming (after the brokerage session was re-established).
    pub(crate) fn unprime(&self) {
        self.inner.primed.store(false, Ordering::Release);
        self.inner.orders_warm.store(false, Ordering::Release);
        self.inner.portfolio_primed.store(false, Ordering::Release);
    }

    /// Mark the live-orders cache of this brokerage session warm; returns whether it was.
    pub(crate) fn warm_orders(&self) -> bool {
        self.inner.orders_warm.swap(true, Ordering::AcqRel)
    }

    /// Call `/iserver/accounts` once (concurrent callers share the call).
    pub async fn prime(&self) -> Result<IserverAccounts, IbkrError> {
        let _g = self.inner.prime_lock.lock().await;
        if self.is_primed()
            && let Some(a) = self.cached_accounts()
        {
            return Ok(a);
        }
        let req = ApiRequest::new(&catalog::ACCOUNTS, &[])?;
        let resp = self.inner.transport.send(&req).await?;
        let accounts: IserverAccounts = decode_json(&req.endpoint(), &resp)?;
        self.remember_accounts(&accounts);
        Ok(accounts)
    }

    /// Call `/portfolio/accounts` once, as IBKR requires before other `/portfolio` calls.
    pub async fn prime_portfolio(&self) -> Result<(), IbkrError> {
        if self.inner.portfolio_primed.load(Ordering::Acquire) {
            return Ok(());
        }
        let _g = self.inner.prime_lock.lock().await;
        if self.inner.portfolio_primed.load(Ordering::Acquire) {
            return Ok(());
        }
        let req = ApiRequest::new(&catalog::PORTFOLIO_ACCOUNTS, &[])?;
        let resp = self.inner.transport.send(&req).await?;
        let accounts: Vec<crate::models::PortfolioAccount> = decode_json(&req.endpoint(), &resp)?;
        self.remember_region(&accounts);
        self.inner.portfolio_primed.store(true, Ordering::Release);
        Ok(())
    }

    /// Note the data-centre region of the (first) account's IBKR entity.
    pub(crate) fn remember_region(&self, accounts: &[crate::models::PortfolioAccount]) {
        if let Some(region) = accounts
            .iter()
            .filter_map(|a| a.ib_entity.as_deref())
            .find_map(crate::session::Region::from_ib_entity)
        {
            *lock(&self.inner.region) = Some(region);
        }
    }

    /// The region whose maintenance windows apply under `config`: the configured one, or
    /// the account's (read from `/portfolio/accounts` once; North America until known).
    pub async fn maintenance_region(
        &self,
        config: &SessionConfig,
    ) -> Option<crate::session::Region> {
        if config.maintenance == crate::session::Maintenance::Auto
            && lock(&self.inner.region).is_none()
            && !self.inner.region_asked.swap(true, Ordering::AcqRel)
            && let Err(e) = self.prime_portfolio().await
        {
            tracing::debug!(error = %e, "account region unknown; assuming North America");
        }
        self.known_maintenance_region(config)
    }

    /// [`Client::maintenance_region`] as far as it is known, without asking.
    fn known_maintenance_region(&self, config: &SessionConfig) -> Option<crate::session::Region> {
        use crate::session::{Maintenance, Region};
        match config.maintenance {
            Maintenance::Off => None,
            Maintenance::Region(r) => Some(r),
            Maintenance::Auto => Some(lock(&self.inner.region).unwrap_or(Region::NorthAmerica)),
        }
    }

    /// The venue's time now: the `Date` of its latest answer carried forward (the host's
    /// clock before the first one); see [`crate::venue_time`].
    pub fn venue_now(&self) -> DateTime<Utc> {
        self.inner.transport.venue_time().now()
    }

    /// The maintenance window open on the venue's clock now, by this client's settings and
    /// the region known so far.
    pub fn maintenance_now(&self) -> Option<crate::session::MaintenanceWindow> {
        self.maintenance_now_under(&self.inner.session_config)
    }

    /// Publish a brokerage status. A session that drops inside a maintenance window (the
    /// venue's clock says so, whether the supervisor has looked yet or not) is the planned
    /// pause, not a lost session.
    pub(crate) fn observe_auth(&self, status: &crate::models::AuthStatus) {
        if !status.authenticated
            && let Some(window) = self.maintenance_now()
        {
            self.inner.hub.set_maintenance(Some(window));
        }
        self.inner.hub.observe_auth(status, self.is_primed());
    }

    /// [`Client::maintenance_now`] under other session settings (the supervisor's).
    pub(crate) fn maintenance_now_under(
        &self,
        config: &SessionConfig,
    ) -> Option<crate::session::MaintenanceWindow> {
        self.known_maintenance_region(config)?
            .pause_at(self.venue_now(), self.pause_margin())
    }

    /// How far around a published maintenance window the client pauses:
    /// [`crate::session::PAUSE_MARGIN`] plus the uncertainty of its venue clock.
    pub(crate) fn pause_margin(&self) -> chrono::Duration {
        crate::session::PAUSE_MARGIN + self.inner.transport.venue_time().uncertainty()
    }

    pub(crate) fn mark_portfolio_primed(&self) {
        self.inner.portfolio_primed.store(true, Ordering::Release);
    }

    /// Send a request with priming and one recovery attempt (see the module docs).
    pub(crate) async fn execute(&self, req: &ApiRequest) -> Result<RawResponse, IbkrError> {
        let generation = self.inner.generation.load(Ordering::Acquire);
        self.ensure_prerequisites(req, generation).await?;
        match self.inner.transport.send(req).await {
            Err(e) if self.inner.auto_recover && is_session_endpoint(req) => Err(e),
            Err(e) if self.recoverable(&e) => {
                tracing::info!(endpoint = %req.endpoint(), "re-authenticating after {}", short(&e));
                // Boxed: recovery sends requests through `execute` itself.
                Box::pin(self.recover_once(generation))
                    .await
                    .map_err(|re| {
                        tracing::warn!(error = %re, "re-authentication failed");
                        e
                    })?;
                self.inner.transport.send(req).await
            }
            Err(e) if e.needs_accounts_priming() => {
                self.unprime();
                self.prime().await?;
                self.inner.transport.send(req).await
            }
            // A new brokerage session the client did not open itself (a login at the
            // gateway) forgets the portfolio priming too.
            Err(e) if e.needs_portfolio_priming() => {
                self.inner.portfolio_primed.store(false, Ordering::Release);
                self.prime_portfolio().await?;
                self.inner.transport.send(req).await
            }
            other => other,
        }
    }

    /// Prime `/iserver/accounts` and `/portfolio/accounts` when `req` needs them; a priming
    /// call refused for lack of a session triggers the same single recovery.
    async fn ensure_prerequisites(
        &self,
        req: &ApiRequest,
        generation: u64,
    ) -> Result<(), IbkrError> {
        if req.spec.needs_brokerage() && !self.is_primed() {
            match self.prime().await {
                Ok(_) => {}
                Err(e) if self.recoverable(&e) => {
                    // Recovery primes the accounts itself.
                    Box::pin(self.recover_once(generation))
                        .await
                        .map_err(|_| e)?;
                }
                Err(e) => return Err(e),
            }
        }
        if needs_portfolio_accounts(req.spec) {
            self.prime_portfolio().await?;
        }
        Ok(())
    }

    /// Re-authentication is not attempted inside a maintenance window (a planned pause),
    /// whether the supervisor has noticed it yet or not.
    fn recoverable(&self, e: &IbkrError) -> bool {
        self.inner.auto_recover
            && (e.is_unauthorized() || e.is_no_bridge())
            && !self.inner.hub.current().in_maintenance()
            && self.maintenance_now().is_none()
    }

    /// Re-authenticate unless another task already did since `generation` was read.
    async fn recover_once(&self, generation: u64) -> Result<(), IbkrError> {
        let _g = self.inner.recover_lock.lock().await;
        if self.inner.generation.load(Ordering::Acquire) != generation {
            return Ok(());
        }
        let config = self.inner.session_config.clone();
        self.reauthenticate_inner(config.compete, &config).await
    }

    /// Bring the brokerage session back: (OAuth: renew the live session token,) `ssodh/init`,
    /// poll auth status (falling back to the legacy `reauthenticate`), prime accounts and
    /// re-send question suppression. Emits `Reauthenticated` or returns the failure.
    pub async fn reauthenticate_with(
        &self,
        compete: bool,
        config: &SessionConfig,
    ) -> Result<(), IbkrError> {
        let _g = self.inner.recover_lock.lock().await;
        self.reauthenticate_inner(compete, config).await
    }

    async fn reauthenticate_inner(
        &self,
        compete: bool,
        config: &SessionConfig,
    ) -> Result<(), IbkrError> {
        if let Some(oauth) = self.oauth_session() {
            oauth.invalidate_live_session_token().await;
            oauth
                .ensure_live_session_token(self.inner.transport.http())
                .await?;
        }
        // Never take a session over from another platform unless configured: that would log
        // out the user's TWS or mobile app.
        let status = self.auth_status().await?;
        if status.competing && !config.take_over_competing {
            tracing::warn!(message = %status.message, "competing session: not taken over");
            return Err(IbkrError::Competing {
                message: status.message,
            });
        }
        self.unprime();
        let init = self.ssodh_init(true, compete).await;
        let authenticated = match init {
            Ok(s) if s.authenticated && s.connected => true,
            Ok(_) => wait_quietly(self, config).await,
            Err(e) if e.is_unauthorized() => return Err(e),
            Err(e) => {
                tracing::warn!(error = %e, "ssodh/init failed; trying reauthenticate");
                false
            }
        };
        if !authenticated && !self.is_oauth() {
            // Legacy gateway call; the re-login happens asynchronously.
            if let Err(e) = self.reauthenticate().await {
                tracing::debug!(error = %e, "legacy reauthenticate failed");
            }
        }
        if !authenticated {
            session::wait_authenticated(self, config.reauth_polls, config.reauth_poll_interval)
                .await?;
        }
        self.prime().await?;
        self.resend_suppression().await?;
        self.inner.generation.fetch_add(1, Ordering::AcqRel);
        self.inner.hub.emit(SessionEvent::Reauthenticated);
        Ok(())
    }

    async fn resend_suppression(&self) -> Result<(), IbkrError> {
        let ids = lock(&self.inner.suppressed).clone();
        if !ids.is_empty() {
            self.suppress(&ids).await?;
        }
        Ok(())
    }

    /// Send a request and decode a typed JSON answer (IBKR error bodies become
    /// [`IbkrError::Api`]).
    pub(crate) async fn call<T: DeserializeOwned>(&self, req: ApiRequest) -> Result<T, IbkrError> {
        let resp = self.execute(&req).await?;
        decode_json(&req.endpoint(), &resp)
    }

    /// Like [`Client::call`] but an empty body (204) gives `T::default()`.
    pub(crate) async fn call_or_default<T: DeserializeOwned + Default>(
        &self,
        req: ApiRequest,
    ) -> Result<T, IbkrError> {
        let resp = self.execute(&req).await?;
        if is_blank(&resp.body) {
            return Ok(T::default());
        }
        decode_json(&req.endpoint(), &resp)
    }

    /// Send a request and return the raw JSON (`null` for an empty body, a string for a
    /// non-JSON document).
    pub(crate) async fn call_raw(&self, req: ApiRequest) -> Result<serde_json::Value, IbkrError> {
        let resp = self.execute(&req).await?;
        decode_raw(&req.endpoint(), &resp)
    }

    /// Send a request whose answer is text (e.g. `/iserver/notification`).
    pub(crate) async fn call_text(&self, req: ApiRequest) -> Result<String, IbkrError> {
        let resp = self.execute(&req).await?;
        check_api_error(&req.endpoint(), &resp.body)?;
        match serde_json::from_slice::<serde_json::Value>(&resp.body) {
            Ok(serde_json::Value::String(s)) => Ok(s),
            Ok(other) => Ok(other.to_string()),
            Err(_) => Ok(String::from_utf8_lossy(&resp.body).trim().to_string()),
        }
    }

    /// The websocket settings for this session: `ws(s)://…/v1/api/ws`, the gateway cookies
    /// (or `api=<tickle session>`), or the OAuth access token plus `api=<session>`.
    pub fn ws_config(&self) -> crate::ws::WsConfig {
        let url = self.urls().websocket();
        let tickle_cookie = self
            .websocket_session()
            .map(|s| format!("api={}", s.expose()));
        let (cookie, oauth_token) = match self.oauth_session() {
            Some(oauth) => (tickle_cookie, Some(oauth.access_token().to_string())),
            None => (
                self.inner
                    .transport
                    .session_cookie()
                    .map(|c| c.expose().to_string())
                    .or(tickle_cookie),
                None,
            ),
        };
        let mut config = crate::ws::WsConfig::new(url);
        config.cookie = cookie;
        config.oauth_token = oauth_token;
        config.insecure_tls = self.inner.transport.insecure_tls();
        config.user_agent = self.inner.transport.user_agent().to_string();
        config
    }
}

async fn wait_quietly(client: &Client, config: &SessionConfig) -> bool {
    session::wait_authenticated(client, config.reauth_polls, config.reauth_poll_interval)
        .await
        .is_ok()
}

/// Per-account `/portfolio` endpoints need `/portfolio/accounts` first.
fn needs_portfolio_accounts(spec: &catalog::EndpointSpec) -> bool {
    spec.base == catalog::Base::Trading
        && (spec.path.starts_with("/portfolio/") || spec.path.starts_with("/portfolio2/"))
        && !matches!(
            spec.path,
            "/portfolio/accounts" | "/portfolio/subaccounts" | "/portfolio/subaccounts2"
        )
}

/// The session endpoints themselves are never recovered (recovery calls them).
fn is_session_endpoint(req: &ApiRequest) -> bool {
    let p = req.spec.path;
    p.starts_with("/iserver/auth/")
        || p == "/iserver/reauthenticate"
        || p == "/tickle"
        || p == "/logout"
        || p.starts_with("/oauth/")
}

fn short(e: &IbkrError) -> String {
    match e.status() {
        Some(s) => format!("HTTP {s}"),
        None => "an error".to_string(),
    }
}

fn is_blank(body: &[u8]) -> bool {
    body.iter().all(u8::is_ascii_whitespace)
}

/// True when the body contains the bytes `"error"` (cheap pre-check).
fn mentions_error(body: &[u8]) -> bool {
    body.windows(7).any(|w| w == b"\"error\"")
}

/// Keys of IBKR's error bodies (`errorResponse`, `errorOnlyResponse`).
const ERROR_BODY_KEYS: [&str; 6] = [
    "error",
    "statusCode",
    "code",
    "message",
    "status",
    "success",
];

/// Turn `{"error": "..."}` (200 with an error body) into [`IbkrError::Api`].
pub(crate) fn check_api_error(endpoint: &EndpointRef, body: &[u8]) -> Result<(), IbkrError> {
    if !mentions_error(body) {
        return Ok(());
    }
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_slice::<serde_json::Value>(body)
        && let Some(serde_json::Value::String(msg)) = map.get("error")
        && !msg.is_empty()
        && map.keys().all(|k| ERROR_BODY_KEYS.contains(&k.as_str()))
    {
        return Err(IbkrError::Api {
            endpoint: endpoint.clone(),
            message: msg.clone(),
        });
    }
    Ok(())
}

/// Decode a typed answer.
pub(crate) fn decode_json<T: DeserializeOwned>(
    endpoint: &EndpointRef,
    resp: &RawResponse,
) -> Result<T, IbkrError> {
    check_api_error(endpoint, &resp.body)?;
    if is_blank(&resp.body) {
        return Err(IbkrError::Decode {
            endpoint: endpoint.clone(),
            message: format!("empty body (HTTP {})", resp.status),
        });
    }
    serde_json::from_slice(&resp.body).map_err(|e| decode_error(endpoint.clone(), &e))
}

/// Decode a raw answer.
pub(crate) fn decode_raw(
    endpoint: &EndpointRef,
    resp: &RawResponse,
) -> Result<serde_json::Value, IbkrError> {
    check_api_error(endpoint, &resp.body)?;
    if is_blank(&resp.body) {
        return Ok(serde_json::Value::Null);
    }
    match serde_json::from_slice(&resp.body) {
        Ok(v) => Ok(v),
        Err(e) => {
            let is_json = resp
                .content_type
                .as_deref()
                .is_some_and(|c| c.contains("json"));
            if is_json {
                Err(decode_error(endpoint.clone(), &e))
            } else {
                Ok(serde_json::Value::String(
                    String::from_utf8_lossy(&resp.body).into_owned(),
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::HttpMethod;

    fn ep() -> EndpointRef {
        EndpointRef::new(HttpMethod::Get, "/x")
    }

    #[test]
    fn error_bodies_are_recognised() {
        assert!(check_api_error(&ep(), br#"{"error":"No data."}"#).is_err());
        assert!(check_api_error(&ep(), br#"{"error":"Bad Request","statusCode":400}"#).is_err());
        // A what-if with `"error": null` and data is not an error body.
        assert!(check_api_error(&ep(), br#"{"amount":{},"error":null}"#).is_ok());
        // Data that merely contains an error field is decoded normally.
        assert!(check_api_error(&ep(), br#"{"orderTypes":[],"error":"x"}"#).is_ok());
        assert!(check_api_error(&ep(), br#"[{"order_id":"1"}]"#).is_ok());
    }

    #[test]
    fn raw_decoding() {
        let r = |body: &[u8], ct: Option<&str>| RawResponse {
            status: 200,
            content_type: ct.map(str::to_owned),
            body: body.to_vec(),
        };
        assert_eq!(
            decode_raw(&ep(), &r(b"", None)).ok(),
            Some(serde_json::Value::Null)
        );
        assert_eq!(
            decode_raw(&ep(), &r(b"%PDF-1.4", Some("application/pdf"))).ok(),
            Some(serde_json::Value::String("%PDF-1.4".into()))
        );
        assert!(decode_raw(&ep(), &r(b"{broken", Some("application/json"))).is_err());
    }
}
