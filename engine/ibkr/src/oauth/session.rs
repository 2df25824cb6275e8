//! [`OAuthSession`]: holds the consumer's material, obtains the live session token on first use,
//! renews it before it expires and signs every request with it.

use std::fmt;
use std::path::Path;
use std::time::Duration;

use rsa::PrivateKey;
use serde::Deserialize;
use tokio::sync::Mutex;
use url::Url;

use super::config::OAuthConfig;
use super::error::OAuthError;
use super::exchange::{DEFAULT_USER_AGENT, post_signed};
use super::keys::{DhParams, load_private_key};
use super::lst::{
    DhRandom, LiveSessionToken, Prepend, compute_live_session_token, decrypt_access_token_secret,
    dh_challenge, validate_lst,
};
use super::signature::{
    Identity, Stamp, hmac_request_header, lst_request_header, unix_time_millis,
};

/// Endpoint name used in errors and logs.
const LST_ENDPOINT: &str = "POST /oauth/live_session_token";

/// Default time before expiry at which the live session token is renewed.
pub const DEFAULT_RENEW_MARGIN: Duration = Duration::from_secs(10 * 60);

/// A live session token and when it expires (epoch ms).
#[derive(Clone)]
struct ActiveToken {
    token: LiveSessionToken,
    expires_ms: i64,
}

/// The body of `POST /oauth/live_session_token`.
#[derive(Deserialize)]
struct LstResponse {
    /// `B` in hex. The spec's schema calls it `diffie_hellman_challenge`; real responses use
    /// `diffie_hellman_response`.
    #[serde(alias = "diffie_hellman_challenge")]
    diffie_hellman_response: String,
    live_session_token_signature: String,
    live_session_token_expiration: i64,
}

/// A first-party OAuth 1.0a session: signs requests with HMAC-SHA256 using a live session
/// token it obtains and renews itself. Share it behind an `Arc`; all methods take `&self`.
pub struct OAuthSession {
    consumer_key: String,
    access_token: String,
    realm: String,
    base_url: Url,
    signature_key: PrivateKey,
    prepend: Prepend,
    dh: DhParams,
    user_agent: String,
    renew_margin: Duration,
    lst: Mutex<Option<ActiveToken>>,
}

impl fmt::Debug for OAuthSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthSession")
            .field("consumer_key", &self.consumer_key)
            .field("access_token", &"<redacted>")
            .field("realm", &self.realm)
            .field("base_url", &self.base_url.as_str())
            .field("dh", &self.dh)
            .field("renew_margin", &self.renew_margin)
            .finish_non_exhaustive()
    }
}

impl OAuthSession {
    /// Load the keys and Diffie-Hellman parameters named by `config` and decrypt the access
    /// token secret. No network traffic happens until the first signed request.
    pub fn from_config(config: OAuthConfig) -> Result<Self, OAuthError> {
        let signature_key = load_private_key(&config.signature_key_path, "signature key")?;
        let encryption_key = load_private_key(&config.encryption_key_path, "encryption key")?;
        let dh = DhParams::load(&config.dh_param_path)?;
        let prepend = decrypt_access_token_secret(&encryption_key, &config.access_token_secret)?;
        Ok(OAuthSession {
            consumer_key: config.consumer_key,
            access_token: config.access_token,
            realm: config.realm,
            base_url: config.base_url,
            signature_key,
            prepend,
            dh,
            user_agent: DEFAULT_USER_AGENT.to_owned(),
            renew_margin: DEFAULT_RENEW_MARGIN,
            lst: Mutex::new(None),
        })
    }

    /// [`OAuthConfig::from_file`] followed by [`OAuthSession::from_config`].
    pub fn from_config_file(path: &Path) -> Result<Self, OAuthError> {
        Self::from_config(OAuthConfig::from_file(path)?)
    }

    /// Renew the live session token once it is within `margin` of its expiry (default 10 min).
    pub fn with_renew_margin(mut self, margin: Duration) -> Self {
        self.renew_margin = margin;
        self
    }

    /// The `User-Agent` sent with the live session token request.
    pub fn with_user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// The Web API base URL, e.g. `https://api.ibkr.com/v1/api`.
    pub fn base_url(&self) -> &Url {
        &self.base_url
    }

    /// The access token (`oauth_token`), also needed for the websocket URL.
    pub fn access_token(&self) -> &str {
        &self.access_token
    }

    /// The consumer key.
    pub fn consumer_key(&self) -> &str {
        &self.consumer_key
    }

    /// The realm used in `Authorization` headers.
    pub fn realm(&self) -> &str {
        &self.realm
    }

    /// Expiry of the current live session token (epoch ms), if one has been obtained.
    pub async fn live_session_token_expiry(&self) -> Option<i64> {
        self.lst.lock().await.as_ref().map(|t| t.expires_ms)
    }

    /// Forget the live session token, so the next request obtains a new one (after IBKR
    /// answered 401 or 410 for a token it no longer knows).
    pub async fn invalidate_live_session_token(&self) {
        *self.lst.lock().await = None;
    }

    /// `{base_url}/oauth/live_session_token`.
    pub fn live_session_token_url(&self) -> Result<Url, OAuthError> {
        endpoint_url(&self.base_url, "oauth/live_session_token")
    }

    /// The `Authorization` header for `method url` (query string included in the signature).
    /// Obtains the live session token first if there is none or it is about to expire.
    pub async fn authorization_header(
        &self,
        http: &reqwest::Client,
        method: &reqwest::Method,
        url: &Url,
    ) -> Result<String, OAuthError> {
        let active = self.current_token(http).await?;
        Ok(hmac_request_header(
            self.identity(),
            &active.token,
            method.as_str(),
            url.as_str(),
            &Stamp::fresh(),
        ))
    }

    /// Make sure a live session token is held (obtaining or renewing it as needed) and return
    /// its expiry (epoch ms).
    pub async fn ensure_live_session_token(
        &self,
        http: &reqwest::Client,
    ) -> Result<i64, OAuthError> {
        Ok(self.current_token(http).await?.expires_ms)
    }

    fn identity(&self) -> Identity<'_> {
        Identity {
            consumer_key: &self.consumer_key,
            token: Some(&self.access_token),
            realm: &self.realm,
        }
    }

    async fn current_token(&self, http: &reqwest::Client) -> Result<ActiveToken, OAuthError> {
        let mut guard = self.lst.lock().await;
        let margin_ms = i64::try_from(self.renew_margin.as_millis()).unwrap_or(i64::MAX);
        if let Some(active) = guard.as_ref()
            && active.expires_ms.saturating_sub(unix_time_millis()) > margin_ms
        {
            return Ok(active.clone());
        }
        let renewing = guard.is_some();
        let active = self.fetch_live_session_token(http).await?;
        tracing::info!(
            renewing,
            expires_ms = active.expires_ms,
            "obtained OAuth live session token"
        );
        *guard = Some(active.clone());
        Ok(active)
    }

    async fn fetch_live_session_token(
        &self,
        http: &reqwest::Client,
    ) -> Result<ActiveToken, OAuthError> {
        let url = self.live_session_token_url()?;
        let random = DhRandom::generate();
        let challenge = dh_challenge(&self.dh, &random);
        let header = lst_request_header(
            self.identity(),
            &self.signature_key,
            &self.prepend,
            url.as_str(),
            &challenge,
            &Stamp::fresh(),
        )?;
        let prepend_hex = self.prepend.hex();
        let response: LstResponse = post_signed(
            http,
            &url,
            LST_ENDPOINT,
            &header,
            &self.user_agent,
            &[&self.access_token, &prepend_hex],
        )
        .await?;
        let token = compute_live_session_token(
            &self.dh,
            &random,
            &response.diffie_hellman_response,
            &self.prepend,
        )?;
        validate_lst(
            &token,
            &self.consumer_key,
            &response.live_session_token_signature,
        )?;
        Ok(ActiveToken {
            token,
            expires_ms: response.live_session_token_expiration,
        })
    }
}

/// `{base}/{path}` (the base keeps its own path, e.g. `/v1/api`).
pub(crate) fn endpoint_url(base: &Url, path: &str) -> Result<Url, OAuthError> {
    let text = format!(
        "{}/{}",
        base.as_str().trim_end_matches('/'),
        path.trim_start_matches('/')
    );
    Url::parse(&text).map_err(|e| OAuthError::BaseUrl {
        url: base.to_string(),
        message: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_urls_keep_the_base_path() {
        let base = Url::parse("https://api.ibkr.com/v1/api").expect("url");
        assert_eq!(
            endpoint_url(&base, "oauth/live_session_token")
                .expect("url")
                .as_str(),
            "https://api.ibkr.com/v1/api/oauth/live_session_token"
        );
        let base = Url::parse("http://127.0.0.1:5000/v1/api/").expect("url");
        assert_eq!(
            endpoint_url(&base, "/oauth/request_token")
                .expect("url")
                .as_str(),
            "http://127.0.0.1:5000/v1/api/oauth/request_token"
        );
    }
}
