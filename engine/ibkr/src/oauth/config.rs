//! The OAuth settings file (TOML) and how it is found.
//!
//! ```toml
//! consumer_key        = "TICKLINE1"
//! access_token        = "0f1e2d3c4b5a69788796"
//! access_token_secret = "base64 of the encrypted secret"
//! signature_key_path  = "private_signature.pem"   # relative to this file
//! encryption_key_path = "private_encryption.pem"
//! dh_param_path       = "dhparam.pem"
//! realm               = "limited_poa"             # default; "test_realm" for TESTCONS
//! base_url            = "https://api.ibkr.com/v1/api"
//! ```
//!
//! The file is named by `--oauth-config FILE` or the environment variable `IBKR_OAUTH_CONFIG`;
//! `IBKR_BASE_URL` overrides `base_url`.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use url::Url;

use super::error::{OAuthError, unquote_values};

/// Environment variable naming the OAuth configuration file.
pub const ENV_OAUTH_CONFIG: &str = "IBKR_OAUTH_CONFIG";
/// Environment variable overriding the configured base URL.
pub const ENV_BASE_URL: &str = "IBKR_BASE_URL";
/// Production base URL for OAuth 1.0a.
pub const PRODUCTION_BASE_URL: &str = "https://api.ibkr.com/v1/api";
/// The realm of every consumer except IBKR's demo consumer.
pub const DEFAULT_REALM: &str = "limited_poa";
/// IBKR's demo consumer key, which requires realm `test_realm`.
pub const TEST_CONSUMER: &str = "TESTCONS";

/// First-party OAuth 1.0a settings. `Debug` redacts the access token and its secret.
#[derive(Clone, Deserialize)]
#[serde(try_from = "RawConfig")]
pub struct OAuthConfig {
    /// Consumer key (9 characters A–Z for self-service consumers).
    pub consumer_key: String,
    /// Access token (`oauth_token`), 20 hex characters.
    pub access_token: String,
    /// Base64 of the access token secret, encrypted with the consumer's public encryption key.
    pub access_token_secret: String,
    /// PEM private signature key (PKCS#1 or PKCS#8).
    pub signature_key_path: PathBuf,
    /// PEM private encryption key (PKCS#1 or PKCS#8).
    pub encryption_key_path: PathBuf,
    /// PEM `DH PARAMETERS` file (PKCS#3).
    pub dh_param_path: PathBuf,
    /// OAuth realm: `limited_poa` by default, `test_realm` for the `TESTCONS` consumer.
    pub realm: String,
    /// Web API base URL, e.g. `https://api.ibkr.com/v1/api`.
    pub base_url: Url,
}

impl fmt::Debug for OAuthConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthConfig")
            .field("consumer_key", &self.consumer_key)
            .field("access_token", &"<redacted>")
            .field("access_token_secret", &"<redacted>")
            .field("signature_key_path", &self.signature_key_path)
            .field("encryption_key_path", &self.encryption_key_path)
            .field("dh_param_path", &self.dh_param_path)
            .field("realm", &self.realm)
            .field("base_url", &self.base_url.as_str())
            .finish()
    }
}

/// The file as written: every key optional, so that the third-party flow (which has no access
/// token yet) can read the same file.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConfig {
    pub consumer_key: Option<String>,
    pub access_token: Option<String>,
    pub access_token_secret: Option<String>,
    pub signature_key_path: Option<PathBuf>,
    pub encryption_key_path: Option<PathBuf>,
    pub dh_param_path: Option<PathBuf>,
    pub realm: Option<String>,
    pub base_url: Option<String>,
}

impl RawConfig {
    /// Parse TOML text; errors never quote values from the file.
    pub(crate) fn parse(text: &str, path: &Path) -> Result<Self, OAuthError> {
        toml::from_str::<RawConfig>(text).map_err(|e| {
            let line = e.span().map(|span| {
                let end = span.start.min(text.len());
                text.as_bytes()[..end]
                    .iter()
                    .filter(|b| **b == b'\n')
                    .count()
                    + 1
            });
            let raw_message = e.message().trim();
            // Unknown/missing-field messages quote key names, which are safe to show; every
            // other message may quote a value, which could be a secret.
            let message = if raw_message.starts_with("unknown field")
                || raw_message.starts_with("missing field")
            {
                raw_message.to_owned()
            } else {
                unquote_values(raw_message)
            };
            OAuthError::Config {
                path: path.to_owned(),
                message: match line {
                    Some(line) => format!("line {line}: {message}"),
                    None => message,
                },
            }
        })
    }

    /// Read and parse a file, resolving relative paths against its directory.
    pub(crate) fn load(path: &Path) -> Result<Self, OAuthError> {
        let text = std::fs::read_to_string(path).map_err(|source| OAuthError::ReadFile {
            what: "OAuth configuration",
            path: path.to_owned(),
            source,
        })?;
        let mut raw = Self::parse(&text, path)?;
        let dir = path.parent().unwrap_or(Path::new(""));
        for p in [
            &mut raw.signature_key_path,
            &mut raw.encryption_key_path,
            &mut raw.dh_param_path,
        ]
        .into_iter()
        .flatten()
        {
            if p.is_relative() {
                *p = dir.join(&*p);
            }
        }
        Ok(raw)
    }

    /// The realm: as configured, else by consumer key.
    pub(crate) fn realm_for(&self, consumer_key: &str) -> String {
        match &self.realm {
            Some(r) if !r.trim().is_empty() => r.trim().to_owned(),
            _ if consumer_key == TEST_CONSUMER => "test_realm".to_owned(),
            _ => DEFAULT_REALM.to_owned(),
        }
    }

    /// The base URL: `IBKR_BASE_URL` when given, else as configured, else production.
    pub(crate) fn base_url(&self, env_override: Option<&str>) -> Result<Url, OAuthError> {
        let text = env_override
            .map(str::to_owned)
            .or_else(|| self.base_url.clone())
            .unwrap_or_else(|| PRODUCTION_BASE_URL.to_owned());
        parse_base_url(&text)
    }

    pub(crate) fn require<T: Clone>(
        value: &Option<T>,
        key: &str,
        path: &Path,
    ) -> Result<T, OAuthError> {
        value.clone().ok_or_else(|| OAuthError::Config {
            path: path.to_owned(),
            message: format!("missing key `{key}`"),
        })
    }
}

/// Parse and check a base URL (`http` or `https`, with a host); a trailing `/` is removed.
pub fn parse_base_url(text: &str) -> Result<Url, OAuthError> {
    let bad = |message: &str| OAuthError::BaseUrl {
        url: text.to_owned(),
        message: message.to_owned(),
    };
    let mut url = Url::parse(text.trim()).map_err(|e| bad(&e.to_string()))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(bad("scheme must be http or https"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("no host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("a base URL takes no query or fragment"));
    }
    let trimmed = url.path().trim_end_matches('/').to_owned();
    url.set_path(&trimmed);
    Ok(url)
}

impl TryFrom<RawConfig> for OAuthConfig {
    type Error = String;

    fn try_from(raw: RawConfig) -> Result<Self, String> {
        OAuthConfig::from_raw(raw, Path::new(""), None).map_err(|e| e.to_string())
    }
}

impl OAuthConfig {
    /// Find the configuration: `path` (from `--oauth-config`) if given, else the file named by
    /// `IBKR_OAUTH_CONFIG`; `IBKR_BASE_URL` overrides `base_url`.
    pub fn from_env_or_file(path: Option<&Path>) -> Result<Self, OAuthError> {
        Self::from_env_or_file_with(path, |name| std::env::var(name).ok())
    }

    /// As [`OAuthConfig::from_env_or_file`], reading variables through `env` (tests pass a
    /// closure instead of mutating the process environment).
    pub fn from_env_or_file_with(
        path: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, OAuthError> {
        let file = match path {
            Some(p) => p.to_owned(),
            None => env(ENV_OAUTH_CONFIG)
                .filter(|s| !s.trim().is_empty())
                .map(PathBuf::from)
                .ok_or(OAuthError::NoConfig)?,
        };
        let base_override = env(ENV_BASE_URL).filter(|s| !s.trim().is_empty());
        let raw = RawConfig::load(&file)?;
        Self::from_raw(raw, &file, base_override.as_deref())
    }

    /// Read a configuration file (no environment lookups); relative key paths are resolved
    /// against the file's directory.
    pub fn from_file(path: &Path) -> Result<Self, OAuthError> {
        let raw = RawConfig::load(path)?;
        Self::from_raw(raw, path, None)
    }

    /// Parse TOML text; relative key paths are resolved against `base_dir`.
    pub fn from_toml_str(text: &str, base_dir: &Path) -> Result<Self, OAuthError> {
        let mut raw = RawConfig::parse(text, Path::new(""))?;
        for p in [
            &mut raw.signature_key_path,
            &mut raw.encryption_key_path,
            &mut raw.dh_param_path,
        ]
        .into_iter()
        .flatten()
        {
            if p.is_relative() {
                *p = base_dir.join(&*p);
            }
        }
        Self::from_raw(raw, Path::new(""), None)
    }

    fn from_raw(
        raw: RawConfig,
        path: &Path,
        base_override: Option<&str>,
    ) -> Result<Self, OAuthError> {
        let consumer_key = RawConfig::require(&raw.consumer_key, "consumer_key", path)?;
        let access_token = RawConfig::require(&raw.access_token, "access_token", path)?;
        let access_token_secret =
            RawConfig::require(&raw.access_token_secret, "access_token_secret", path)?;
        for (key, value) in [
            ("consumer_key", &consumer_key),
            ("access_token", &access_token),
            ("access_token_secret", &access_token_secret),
        ] {
            if value.trim().is_empty() {
                return Err(OAuthError::Config {
                    path: path.to_owned(),
                    message: format!("`{key}` is empty"),
                });
            }
        }
        Ok(OAuthConfig {
            realm: raw.realm_for(&consumer_key),
            base_url: raw.base_url(base_override)?,
            signature_key_path: RawConfig::require(
                &raw.signature_key_path,
                "signature_key_path",
                path,
            )?,
            encryption_key_path: RawConfig::require(
                &raw.encryption_key_path,
                "encryption_key_path",
                path,
            )?,
            dh_param_path: RawConfig::require(&raw.dh_param_path, "dh_param_path", path)?,
            consumer_key: consumer_key.trim().to_owned(),
            access_token: access_token.trim().to_owned(),
            access_token_secret,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = r#"
consumer_key = "TESTCONS"
access_token = "abcdef0123456789abcd"
access_token_secret = "c2VjcmV0"
signature_key_path = "sig.pem"
encryption_key_path = "/abs/enc.pem"
dh_param_path = "dh.pem"
"#;

    #[test]
    fn defaults_and_relative_paths() {
        let cfg = OAuthConfig::from_toml_str(FULL, Path::new("/etc/tickline")).expect("valid");
        assert_eq!(cfg.realm, "test_realm");
        assert_eq!(cfg.base_url.as_str(), PRODUCTION_BASE_URL);
        assert_eq!(cfg.signature_key_path, Path::new("/etc/tickline/sig.pem"));
        assert_eq!(cfg.encryption_key_path, Path::new("/abs/enc.pem"));
    }

    #[test]
    fn debug_redacts_secrets() {
        let cfg = OAuthConfig::from_toml_str(FULL, Path::new("/x")).expect("valid");
        let dbg = format!("{cfg:?}");
        assert!(!dbg.contains("abcdef0123456789abcd"));
        assert!(!dbg.contains("c2VjcmV0"));
        assert!(dbg.contains("TESTCONS"));
    }

    #[test]
    fn parse_errors_do_not_quote_values() {
        let text = FULL.replace("\"c2VjcmV0\"", "42");
        let err = OAuthConfig::from_toml_str(&text, Path::new("/x")).expect_err("type error");
        assert!(!err.to_string().contains("42"), "{err}");
        let err = OAuthConfig::from_toml_str("consumer_key = \"A\"\nbogus = 1", Path::new("/x"))
            .expect_err("unknown key");
        assert!(err.to_string().contains("line 2"), "{err}");
        assert!(err.to_string().contains("bogus"), "{err}");
    }

    #[test]
    fn missing_keys_are_named() {
        let text = FULL.replace("dh_param_path = \"dh.pem\"", "");
        let err = OAuthConfig::from_toml_str(&text, Path::new("/x")).expect_err("missing");
        assert!(err.to_string().contains("dh_param_path"), "{err}");
    }

    #[test]
    fn base_urls_are_checked() {
        assert!(parse_base_url("ftp://x/v1/api").is_err());
        assert!(parse_base_url("http://127.0.0.1:5000/v1/api?x=1").is_err());
        let u = parse_base_url("http://127.0.0.1:5000/v1/api/").expect("valid");
        assert_eq!(u.as_str(), "http://127.0.0.1:5000/v1/api");
    }
}
