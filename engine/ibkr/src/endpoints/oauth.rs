//! Trading › OAuth 1.0a: the three token endpoints. The cryptography lives in
//! [`crate::oauth`]; these methods run it over this client's HTTP connection.

use crate::client::Client;
use crate::error::IbkrError;
use crate::oauth::{AccessTokenGrant, Consumer};

impl Client {
    /// `POST /oauth/request_token` (third party, step 1; RSA-SHA256 signed). `callback` is
    /// `oob` or a URL. Returns the request token to authorise at
    /// [`crate::oauth::authorization_url`].
    pub async fn oauth_request_token(
        &self,
        consumer: &Consumer,
        callback: &str,
    ) -> Result<String, IbkrError> {
        Ok(crate::oauth::request_token(self.transport().http(), consumer, callback).await?)
    }

    /// `POST /oauth/access_token` (third party, step 3): exchange the authorised request token
    /// and its verifier for an access token and its encrypted secret.
    pub async fn oauth_access_token(
        &self,
        consumer: &Consumer,
        request_token: &str,
        verifier: &str,
    ) -> Result<AccessTokenGrant, IbkrError> {
        Ok(
            crate::oauth::access_token(self.transport().http(), consumer, request_token, verifier)
                .await?,
        )
    }

    /// `POST /oauth/live_session_token`: obtain a fresh live session token (Diffie-Hellman)
    /// for this client's OAuth session, replacing the current one. Returns its expiry (epoch
    /// ms). Requests obtain one automatically; call this to force a renewal.
    pub async fn oauth_live_session_token(&self) -> Result<i64, IbkrError> {
        let session = self.oauth_session().ok_or_else(|| {
            IbkrError::Config("the live session token needs an OAuth client".into())
        })?;
        session.invalidate_live_session_token().await;
        Ok(session
            .ensure_live_session_token(self.transport().http())
            .await?)
    }
}
