//! Trading › Session: auth status, `ssodh/init`, reauthenticate, logout, SSO validation,
//! tickle, and the start-up sequence.

use crate::catalog;
use crate::client::Client;
use crate::error::IbkrError;
use crate::models::{
    AuthStatus, IserverAccounts, LogoutResponse, ReauthenticateResponse, SsoValidate,
    SsodhInitRequest, Tickle,
};
use crate::session::{self, SessionState};
use crate::transport::ApiRequest;

impl Client {
    /// `POST /iserver/auth/ssodh/init`: start (or with `compete`, take over) the brokerage
    /// session. Priming is reset: `/iserver/accounts` is called again before the next
    /// `/iserver` request.
    pub async fn ssodh_init(&self, publish: bool, compete: bool) -> Result<AuthStatus, IbkrError> {
        let req = ApiRequest::new(&catalog::SSODH_INIT, &[])?
            .json(&SsodhInitRequest { publish, compete })?;
        self.unprime();
        let status: AuthStatus = self.call(req).await.inspect_err(|e| self.note_401(e))?;
        self.observe_auth(&status);
        Ok(status)
    }

    /// `POST /iserver/auth/status`: the brokerage session state.
    pub async fn auth_status(&self) -> Result<AuthStatus, IbkrError> {
        let req = ApiRequest::new(&catalog::AUTH_STATUS, &[])?;
        let status: AuthStatus = self.call(req).await.inspect_err(|e| self.note_401(e))?;
        self.observe_auth(&status);
        Ok(status)
    }

    /// `GET /iserver/reauthenticate` (legacy gateway call; prefer [`Client::ssodh_init`]).
    /// The re-login happens asynchronously: poll [`Client::auth_status`].
    pub async fn reauthenticate(&self) -> Result<ReauthenticateResponse, IbkrError> {
        let req = ApiRequest::new(&catalog::REAUTHENTICATE, &[])?;
        self.unprime();
        self.call(req).await
    }

    /// `POST /logout`: end the Web API session (cookies become useless).
    pub async fn logout(&self) -> Result<LogoutResponse, IbkrError> {
        let req = ApiRequest::new(&catalog::LOGOUT, &[])?;
        let resp: LogoutResponse = self.call(req).await?;
        self.unprime();
        self.hub().set_state(SessionState::NoSession, None);
        Ok(resp)
    }

    /// `GET /sso/validate`: the read-only session and its remaining lifetime.
    pub async fn sso_validate(&self) -> Result<SsoValidate, IbkrError> {
        self.call(ApiRequest::new(&catalog::SSO_VALIDATE, &[])?)
            .await
    }

    /// An `sts` frame of the websocket: the fields it carries (often only `competing`, or
    /// `authenticated`) laid over the last known status, published at once instead of at
    /// the next `/tickle`.
    pub fn observe_stream_status(&self, sts: &crate::ws::AuthStatus) {
        let mut status = self.hub().current().auth.unwrap_or_default();
        if let Some(a) = sts.authenticated {
            status.authenticated = a;
        }
        if let Some(c) = sts.competing {
            status.competing = c;
        }
        if let Some(c) = sts.connected {
            status.connected = c;
        }
        if let Some(e) = sts.established {
            status.established = e;
        }
        if let Some(m) = &sts.message {
            status.message.clone_from(m);
        }
        if let Some(f) = &sts.fail {
            status.fail.clone_from(f);
        }
        self.observe_auth(&status);
    }

    /// `POST /tickle`: keep-alive. Remembers the websocket session id and publishes the
    /// nested brokerage status.
    pub async fn tickle(&self) -> Result<Tickle, IbkrError> {
        let req = ApiRequest::new(&catalog::TICKLE, &[])?;
        let tickle: Tickle = self.call(req).await.inspect_err(|e| self.note_401(e))?;
        self.remember_ws_session(tickle.session.clone());
        if let Some(status) = tickle.auth_status() {
            self.observe_auth(status);
        }
        Ok(tickle)
    }

    /// The start-up sequence (reference §2.2): for OAuth, obtain the live session token and
    /// call `ssodh/init`; for the gateway, call `ssodh/init` only when the brokerage session is
    /// not authenticated; wait until it is; then prime `/iserver/accounts`. Transient
    /// failures (connection refused, timeouts, 5xx, 429, a session that is not ready yet —
    /// IBKR's `ssodh/init` often needs a few tries) are retried with backoff
    /// ([`SessionConfig::startup_attempts`](crate::SessionConfig)); permanent ones (401, 4xx,
    /// bad OAuth material, a competing session) are returned at once.
    pub async fn connect(&self) -> Result<IserverAccounts, IbkrError> {
        let config = self.session_config().clone();
        let attempts = config.startup_attempts.max(1);
        let mut delay = config.startup_backoff;
        let mut attempt = 1;
        loop {
            match self.connect_once(&config).await {
                Ok(accounts) => return Ok(accounts),
                Err(e) if e.is_transient() && attempt < attempts => {
                    tracing::warn!(
                        attempt,
                        retry_in_ms = delay.as_millis() as u64,
                        error = %e,
                        "IBKR start-up failed; retrying"
                    );
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(config.startup_max_backoff.max(delay));
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn connect_once(
        &self,
        config: &crate::SessionConfig,
    ) -> Result<IserverAccounts, IbkrError> {
        if let Some(oauth) = self.oauth_session() {
            oauth
                .ensure_live_session_token(self.transport().http())
                .await?;
        }
        let s = self.auth_status().await?;
        if s.competing && !config.take_over_competing && !s.authenticated {
            return Err(IbkrError::Competing { message: s.message });
        }
        let compete = config.compete && (config.take_over_competing || !s.competing);
        let status = if s.authenticated && s.connected && !self.is_oauth() {
            s
        } else if s.authenticated && s.connected && s.competing {
            // OAuth, working but another platform logged in: keep it, do not take it over.
            s
        } else {
            self.ssodh_init(true, compete).await?
        };
        if !(status.authenticated && status.connected) {
            session::wait_authenticated(self, config.reauth_polls, config.reauth_poll_interval)
                .await?;
        }
        self.prime().await
    }

    fn note_401(&self, e: &IbkrError) {
        if e.is_unauthorized() {
            self.unprime();
            self.hub().set_state(SessionState::NoSession, None);
        }
    }
}
