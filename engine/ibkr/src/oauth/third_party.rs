//! The third-party token dance (reference §11.2): request token → the user authorises it on
//! IBKR's page → access token. First-party consumers skip this and start from the live session
//! token.

use std::fmt;
use std::path::Path;

use rsa::PrivateKey;
use serde::Deserialize;
use url::Url;

use super::config::{ENV_BASE_URL, ENV_OAUTH_CONFIG, RawConfig};
use super::error::OAuthError;
use super::exchange::{DEFAULT_USER_AGENT, post_signed};
use super::keys::load_private_key;
use super::session::endpoint_url;
use super::signature::{Identity, Stamp, rsa_request_header};

/// IBKR's page where a user authorises a request token.
pub const AUTHORIZE_PAGE: &str = "https://www.interactivebrokers.com/authorize";

/// A consumer before it holds an access token: key, realm, base URL and signature key.
pub struct Consumer {
    consumer_key: String,
    realm: String,
    base_url: Url,
    signature_key: PrivateKey,
    user_agent: String,
}

impl fmt::Debug for Consumer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Consumer")
            .field("consumer_key", &self.consumer_key)
            .field("realm", &self.realm)
            .field("base_url", &self.base_url.as_str())
            .finish_non_exhaustive()
    }
}

impl Consumer {
    /// Build from parts.
    pub fn new(
        consumer_key: impl Into<String>,
        realm: impl Into<String>,
        base_url: Url,
        signature_key: PrivateKey,
    ) -> Self {
        Consumer {
            consumer_key: consumer_key.into(),
            realm: realm.into(),
            base_url,
            signature_key,
            user_agent: DEFAULT_USER_AGENT.to_owned(),
        }
    }

    /// Read the consumer part (`consumer_key`, `signature_key_path`, optional `realm` and
    /// `base_url`) of an OAuth configuration file; token keys may be absent.
    pub fn from_file(path: &Path) -> Result<Self, OAuthError> {
        Self::from_raw(RawConfig::load(path)?, path, None)
    }

    /// As [`Consumer::from_file`], with the file from `path` or `IBKR_OAUTH_CONFIG` and the
    /// base URL overridable by `IBKR_BASE_URL`.
    pub fn from_env_or_file(path: Option<&Path>) -> Result<Self, OAuthError> {
        Self::from_env_or_file_with(path, |name| std::env::var(name).ok())
    }

    /// As [`Consumer::from_env_or_file`], reading variables through `env`.
    pub fn from_env_or_file_with(
        path: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, OAuthError> {
        let file = match path {
            Some(p) => p.to_owned(),
            None => env(ENV_OAUTH_CONFIG)
                .filter(|s| !s.trim().is_empty())
                .map(Into::into)
                .ok_or(OAuthError::NoConfig)?,
        };
        let base_override = env(ENV_BASE_URL).filter(|s| !s.trim().is_empty());
        Self::from_raw(RawConfig::load(&file)?, &file, base_override.as_deref())
    }

    fn from_raw(
        raw: RawConfig,
        path: &Path,
        base_override: Option<&str>,
    ) -> Result<Self, OAuthError> {
        let consumer_key = RawConfig::require(&raw.consumer_key, "consumer_key", path)?;
        let key_path = RawConfig::require(&raw.signature_key_path, "signature_key_path", path)?;
        let signature_key = load_private_key(&key_path, "signature key")?;
        Ok(Consumer::new(
            consumer_key.trim(),
            raw.realm_for(consumer_key.trim()),
            raw.base_url(base_override)?,
            signature_key,
        ))
    }

    /// The consumer key.
    pub fn consumer_key(&self) -> &str {
        &self.consumer_key
    }

    /// The base URL.
    pub fn base_url(&self) -> &Url {
        &self.base_url
    }

    /// The realm.
    pub fn realm(&self) -> &str {
        &self.realm
    }

    /// The RSA signature key.
    pub fn signature_key(&self) -> &PrivateKey {
        &self.signature_key
    }

    fn identity<'a>(&'a self, token: Option<&'a str>) -> Identity<'a> {
        Identity {
            consumer_key: &self.consumer_key,
            token,
            realm: &self.realm,
        }
    }
}

/// What `POST /oauth/access_token` grants. `Debug` redacts the token and its secret.
#[derive(Clone, Deserialize)]
pub struct AccessTokenGrant {
    /// The access token (`oauth_token`).
    #[serde(rename = "oauth_token")]
    pub access_token: String,
    /// The encrypted access token secret (base64), to be stored as `access_token_secret`.
    #[serde(rename = "oauth_token_secret")]
    pub access_token_secret: String,
    /// Whether the account is a paper account (the spec's schema misnames it `is_true`).
    #[serde(default, alias = "is_true")]
    pub is_paper: Option<bool>,
}

impl fmt::Debug for AccessTokenGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessTokenGrant")
            .field("access_token", &"<redacted>")
            .field("access_token_secret", &"<redacted>")
            .field("is_paper", &self.is_paper)
            .finish()
    }
}

#[derive(Deserialize)]
struct RequestTokenResponse {
    oauth_token: String,
}

/// Step 1: `POST {base}/oauth/request_token`, RSA-SHA256 signed with `oauth_callback`
/// (`"oob"` or a URL). Returns the request token.
pub async fn request_token(
    http: &reqwest::Client,
    consumer: &Consumer,
    callback: &str,
) -> Result<String, OAuthError> {
    let url = endpoint_url(&consumer.base_url, "oauth/request_token")?;
    let header = rsa_request_header(
        consumer.identity(None),
        &consumer.signature_key,
        "POST",
        url.as_str(),
        &[("oauth_callback", callback)],
        &Stamp::fresh(),
    )?;
    let response: RequestTokenResponse = post_signed(
        http,
        &url,
        "POST /oauth/request_token",
        &header,
        &consumer.user_agent,
        &[],
    )
    .await?;
    Ok(response.oauth_token)
}

/// Step 2: the page where the user authorises `request_token`; IBKR then shows or redirects
/// with an `oauth_verifier`.
pub fn authorization_url(request_token: &str) -> Result<Url, OAuthError> {
    Url::parse_with_params(AUTHORIZE_PAGE, [("oauth_token", request_token)]).map_err(|e| {
        OAuthError::BaseUrl {
            url: AUTHORIZE_PAGE.to_owned(),
            message: e.to_string(),
        }
    })
}

/// Step 3: `POST {base}/oauth/access_token` with the authorised request token and the
/// verifier, RSA-SHA256 signed. Returns the access token and its encrypted secret.
pub async fn access_token(
    http: &reqwest::Client,
    consumer: &Consumer,
    request_token: &str,
    verifier: &str,
) -> Result<AccessTokenGrant, OAuthError> {
    let url = endpoint_url(&consumer.base_url, "oauth/access_token")?;
    let header = rsa_request_header(
        consumer.identity(Some(request_token)),
        &consumer.signature_key,
        "POST",
        url.as_str(),
        &[("oauth_verifier", verifier)],
        &Stamp::fresh(),
    )?;
    post_signed(
        http,
        &url,
        "POST /oauth/access_token",
        &header,
        &consumer.user_agent,
        &[request_token, verifier],
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorization_url_carries_the_token() {
        let url = authorization_url("e0d75b4c5c1d2c0f2af7").expect("url");
        assert_eq!(
            url.as_str(),
            "https://www.interactivebrokers.com/authorize?oauth_token=e0d75b4c5c1d2c0f2af7"
        );
    }

    #[test]
    fn grant_debug_is_redacted_and_accepts_schema_name() {
        let g: AccessTokenGrant = serde_json::from_str(
            r#"{"is_true":true,"oauth_token":"0123456789abcdef0123","oauth_token_secret":"c2VjcmV0"}"#,
        )
        .expect("grant");
        assert_eq!(g.is_paper, Some(true));
        let dbg = format!("{g:?}");
        assert!(!dbg.contains("0123456789") && !dbg.contains("c2VjcmV0"));
    }
}
