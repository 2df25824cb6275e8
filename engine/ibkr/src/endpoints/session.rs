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
        self.hub().observe_auth(&status, self.is_primed());
        Ok(status)
    }

    /// `POST /iserver/auth/status`: the brokerage session state.
    pub async fn auth_status(&self) -> Result<AuthStatus, IbkrError> {
        let req = ApiRequest::new(&catalog::AUTH_STATUS, &[])?;
        let status: AuthStatus = self.call(req).await.inspect_err(|e| self.note_401(e))?;
        self.hub().observe_auth(&status, self.is_primed());
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

    /// `POST /tickle`: keep-alive. Remembers the websocket session id and publishes the
    /// nested brokerage status.
    pub async fn tickle(&self) -> Result<Tickle, IbkrError> {
        let req = ApiRequest::new(&catalog::TICKLE, &[])?;
        let tickle: Tickle = self.call(req).await.inspect_err(|e| self.note_401(e))?;
        self.remember_ws_session(tickle.session.clone());
        if let Some(status) = tickle.auth_status() {
            self.hub().observe_auth(status, self.is_primed());
        }
        Ok(tickle)
    }

    /// The start-up sequence (reference §2.2): for OAuth, obtain the live session token and
    /// call `ssodh/init`; for the gateway, call `ssodh/init` only when the brokerage session is
    /// not authenticated; wait until it is; then prime `/iserver/accounts`.
    pub async fn connect(&self) -> Result<IserverAccounts, IbkrError> {
        let config = self.session_config().clone();
        let status = if let Some(oauth) = self.oauth_session() {
            oauth
                .ensure_live_session_token(self.transport().http())
                .await?;
            self.ssodh_init(true, config.compete).await?
        } else {
            let s = self.auth_status().await?;
            if s.authenticated && s.connected {
                s
            } else {
                self.ssodh_init(true, config.compete).await?
            }
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
