//! Pure OAuth 1.0a signing functions, IBKR flavour (reference §11.3–11.4).
//!
//! Everything here is deterministic given its inputs (nonce, timestamp, keys), which is what the
//! test vectors drive. The async session in `session.rs` only adds fresh nonces, the clock and
//! HTTP.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{KeyInit, Mac};
use rand::Rng;
use rsa::PrivateKey;
use sha2::Sha256;

use super::encoding::{hex_bytes, percent_encode};
use super::error::OAuthError;
use super::lst::{LiveSessionToken, Prepend};

/// `oauth_signature_method` for requests signed with the RSA signature key.
pub const RSA_SHA256: &str = "RSA-SHA256";
/// `oauth_signature_method` for requests signed with the live session token.
pub const HMAC_SHA256: &str = "HMAC-SHA256";

/// Who signs: consumer key, the `oauth_token` (absent for `request_token`) and the realm.
#[derive(Clone, Copy)]
pub struct Identity<'a> {
    /// The consumer key (`oauth_consumer_key`).
    pub consumer_key: &'a str,
    /// The access (or request) token (`oauth_token`), if the request carries one.
    pub token: Option<&'a str>,
    /// The realm (`limited_poa`, or `test_realm` for IBKR's `TESTCONS` consumer).
    pub realm: &'a str,
}

impl fmt::Debug for Identity<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("consumer_key", &self.consumer_key)
            .field("token", &self.token.map(|_| "<redacted>"))
            .field("realm", &self.realm)
            .finish()
    }
}

/// Nonce and timestamp of one signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stamp {
    /// `oauth_nonce`: 32 lowercase hex characters (128 random bits) when fresh.
    pub nonce: String,
    /// `oauth_timestamp`: epoch seconds.
    pub timestamp: u64,
}

impl Stamp {
    /// A stamp with the given values (tests, vectors).
    pub fn new(nonce: impl Into<String>, timestamp: u64) -> Self {
        Stamp {
            nonce: nonce.into(),
            timestamp,
        }
    }

    /// A fresh random nonce and the current wall-clock time.
    pub fn fresh() -> Self {
        let mut bytes = [0u8; 16];
        rand::rng().fill_bytes(&mut bytes);
        Stamp {
            nonce: hex_bytes(&bytes),
            timestamp: unix_time_secs(),
        }
    }
}

/// Wall-clock time in epoch seconds (OAuth timestamps must be real time).
pub fn unix_time_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Wall-clock time in epoch milliseconds (compared with `live_session_token_expiration`).
pub fn unix_time_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The params string: `key=value` pairs sorted by key (bytewise), joined with `&`. Values are
/// **not** individually percent-encoded (IBKR's reference code does not; all values are hex or
/// alphanumeric in practice).
pub fn params_string(params: &[(&str, &str)]) -> String {
    let mut sorted: Vec<&(&str, &str)> = params.iter().collect();
    sorted.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut out = String::with_capacity(
        params
            .iter()
            .map(|(k, v)| k.len() + v.len() + 2)
            .sum::<usize>(),
    );
    for (i, (k, v)) in sorted.into_iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out
}

/// The signature base string:
/// `[hex(prepend)] + METHOD + "&" + pct(url) + "&" + pct(params_string)`.
///
/// `url` is the exact URL the request goes to, query string included (IBKR signs it as part of
/// the URL and does not merge query parameters into the params string). `prepend` is given only
/// for the live session token request.
pub fn base_string(
    prepend: Option<&Prepend>,
    method: &str,
    url: &str,
    params: &[(&str, &str)],
) -> String {
    let mut out = String::new();
    if let Some(p) = prepend {
        out.push_str(&p.hex());
    }
    out.push_str(&method.to_ascii_uppercase());
    out.push('&');
    out.push_str(&percent_encode(url));
    out.push('&');
    out.push_str(&percent_encode(&params_string(params)));
    out
}

/// `b64(RSA-PKCS#1 v1.5-SHA256(signature key, utf8(base string)))`.
pub fn rsa_sha256_signature(key: &PrivateKey, base_string: &str) -> Result<String, OAuthError> {
    let sig = key
        .pkcs1v15_sign::<Sha256>(base_string.as_bytes())
        .map_err(|e| OAuthError::Crypto {
            step: "RSA-SHA256 signing",
            message: e.to_string(),
        })?;
    Ok(B64.encode(sig))
}

/// `b64(HMAC-SHA256(key = live session token, utf8(base string)))`.
pub fn hmac_sha256_signature(lst: &LiveSessionToken, base_string: &str) -> String {
    // HMAC accepts keys of any length, so keying cannot fail.
    let mut mac = <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(lst.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(base_string.as_bytes());
    B64.encode(mac.finalize().into_bytes())
}

/// The `Authorization` header value: `OAuth ` + `key="pct(value)"` pairs sorted by key, joined
/// by `", "`, containing the signed parameters, `oauth_signature` and `realm`.
pub fn format_authorization_header(
    params: &[(&str, &str)],
    signature_b64: &str,
    realm: &str,
) -> String {
    let mut all: Vec<(&str, &str)> = Vec::with_capacity(params.len() + 2);
    all.extend_from_slice(params);
    all.push(("oauth_signature", signature_b64));
    all.push(("realm", realm));
    all.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut out = String::from("OAuth ");
    for (i, (k, v)) in all.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(k);
        out.push_str("=\"");
        out.push_str(&percent_encode(v));
        out.push('"');
    }
    out
}

/// The `Authorization` header of an ordinary API request, signed HMAC-SHA256 with the live
/// session token (§11.4).
pub fn hmac_request_header(
    id: Identity<'_>,
    lst: &LiveSessionToken,
    method: &str,
    url: &str,
    stamp: &Stamp,
) -> String {
    let timestamp = stamp.timestamp.to_string();
    let mut params: Vec<(&str, &str)> = vec![
        ("oauth_consumer_key", id.consumer_key),
        ("oauth_nonce", &stamp.nonce),
        ("oauth_signature_method", HMAC_SHA256),
        ("oauth_timestamp", &timestamp),
    ];
    if let Some(token) = id.token {
        params.push(("oauth_token", token));
    }
    let base = base_string(None, method, url, &params);
    let signature = hmac_sha256_signature(lst, &base);
    format_authorization_header(&params, &signature, id.realm)
}

/// The `Authorization` header of the `POST /oauth/live_session_token` request: RSA-SHA256 over
/// the prepend-prefixed base string, with `diffie_hellman_challenge` among the parameters.
pub fn lst_request_header(
    id: Identity<'_>,
    signature_key: &PrivateKey,
    prepend: &Prepend,
    url: &str,
    dh_challenge_hex: &str,
    stamp: &Stamp,
) -> Result<String, OAuthError> {
    let timestamp = stamp.timestamp.to_string();
    let mut params: Vec<(&str, &str)> = vec![
        ("diffie_hellman_challenge", dh_challenge_hex),
        ("oauth_consumer_key", id.consumer_key),
        ("oauth_nonce", &stamp.nonce),
        ("oauth_signature_method", RSA_SHA256),
        ("oauth_timestamp", &timestamp),
    ];
    if let Some(token) = id.token {
        params.push(("oauth_token", token));
    }
    let base = base_string(Some(prepend), "POST", url, &params);
    let signature = rsa_sha256_signature(signature_key, &base)?;
    Ok(format_authorization_header(&params, &signature, id.realm))
}

/// The `Authorization` header of an RSA-SHA256-signed request without prepend (third-party
/// `request_token` / `access_token`); `extra` holds `oauth_callback` or `oauth_verifier`.
pub fn rsa_request_header(
    id: Identity<'_>,
    signature_key: &PrivateKey,
    method: &str,
    url: &str,
    extra: &[(&str, &str)],
    stamp: &Stamp,
) -> Result<String, OAuthError> {
    let timestamp = stamp.timestamp.to_string();
    let mut params: Vec<(&str, &str)> = vec![
        ("oauth_consumer_key", id.consumer_key),
        ("oauth_nonce", &stamp.nonce),
        ("oauth_signature_method", RSA_SHA256),
        ("oauth_timestamp", &timestamp),
    ];
    if let Some(token) = id.token {
        params.push(("oauth_token", token));
    }
    params.extend_from_slice(extra);
    let base = base_string(None, method, url, &params);
    let signature = rsa_sha256_signature(signature_key, &base)?;
    Ok(format_authorization_header(&params, &signature, id.realm))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_are_sorted_bytewise_and_not_encoded() {
        let s = params_string(&[("b", "2/3"), ("a", "1"), ("B", "x")]);
        assert_eq!(s, "B=x&a=1&b=2/3");
    }

    #[test]
    fn header_sorts_realm_in_and_encodes_signature() {
        let h = format_authorization_header(&[("oauth_nonce", "n")], "a+b/c=", "limited_poa");
        assert_eq!(
            h,
            "OAuth oauth_nonce=\"n\", oauth_signature=\"a%2Bb%2Fc%3D\", realm=\"limited_poa\""
        );
    }

    #[test]
    fn fresh_stamps_differ() {
        let a = Stamp::fresh();
        let b = Stamp::fresh();
        assert_eq!(a.nonce.len(), 32);
        assert_ne!(a.nonce, b.nonce);
        assert!(a.timestamp > 1_700_000_000);
    }
}
