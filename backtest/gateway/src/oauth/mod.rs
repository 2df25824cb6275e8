//! OAuth 1.0a verification, as IBKR's `api.ibkr.com` does it (reference §11), written for
//! the emulator alone — nothing is shared with the client's signing code.
//!
//! * `POST /v1/api/oauth/live_session_token`: RSA-SHA256 over
//!   `hex(secret) + "POST&" + pct(url) + "&" + pct(params)` with the consumer's public
//!   signature key; the Diffie-Hellman challenge `A` is answered with `B = g^b mod p`, and the
//!   live session token is `HMAC-SHA1(toByteArray(A^b mod p), secret)` (Java's
//!   `BigInteger.toByteArray`: a `0x00` byte in front when the top bit is set).
//! * Every other request: HMAC-SHA256 with that token over `METHOD&pct(url)&pct(params)`,
//!   the URL with or without its query string (IBKR's own code signs it with, ibind without).
//! * Every request: realm, consumer key, access token, signature method, timestamp within
//!   ±300 s (seconds, not milliseconds), nonce never seen before. A failure is a 401 whose
//!   `error` says which check failed.

mod dh;
mod material;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard, PoisonError};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{KeyInit, Mac};
use num_bigint::BigUint;
use rand::Rng;
use serde_json::{Value, json};
use sha1::Sha1;
use sha2::Sha256;

pub use dh::DhGroup;
pub use material::{Material, load_or_create};

/// Accepted clock skew of `oauth_timestamp`.
pub const MAX_SKEW_SECS: i64 = 300;
/// Lifetime of a live session token (IBKR: about 24 h).
pub const LST_LIFETIME_MS: i64 = 24 * 3_600_000;
/// IBKR's text for an unknown consumer key.
const INVALID_CONSUMER: &str = "id: 3931, error: invalid consumer";

/// The current live session token and the one a client would derive if it got the `0x00`
/// rule for K wrong (to name that mistake when a signature fails).
struct Lst {
    key: Vec<u8>,
    wrong_prefix: Vec<u8>,
    expires_ms: i64,
}

/// Verification state: the consumer's material, the live session token, seen nonces.
pub struct OAuthState {
    m: Material,
    lst: Option<Lst>,
    /// Nonce → timestamp (s) of its request; pruned past the skew window.
    nonces: HashMap<String, i64>,
    /// Requests accepted / refused (for `/control/state`).
    pub accepted: u64,
    pub refused: u64,
}

/// Lock the state (a panicked holder does not poison it).
pub fn lock(m: &Mutex<OAuthState>) -> MutexGuard<'_, OAuthState> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// RFC 3986 percent-encoding of every byte but `A-Z a-z 0-9 - . _ ~` (uppercase hex).
pub fn pct(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3 / 2);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decode `%XX` escapes (and `+` as a space, as form encoders write it).
fn unpct(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (escaped, bytes[i]) {
            (Some(b), _) => {
                out.push(b);
                i += 3;
                continue;
            }
            (None, b'+') => out.push(b' '),
            (None, b) => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The parameters of an `Authorization: OAuth k="v", …` header, values decoded.
pub fn parse_header(header: &str) -> Result<BTreeMap<String, String>, String> {
    let rest = header
        .trim()
        .strip_prefix("OAuth ")
        .ok_or("the Authorization header is not an OAuth 1.0a header (`OAuth k=\"v\", …`)")?;
    let mut out = BTreeMap::new();
    for part in rest.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, v) = part
            .split_once('=')
            .ok_or_else(|| format!("malformed OAuth parameter {part:?}"))?;
        let v = v.trim();
        let v = v
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .ok_or_else(|| format!("OAuth parameter {} is not quoted", k.trim()))?;
        if out.insert(k.trim().to_string(), unpct(v)).is_some() {
            return Err(format!("OAuth parameter {} appears twice", k.trim()));
        }
    }
    Ok(out)
}

/// `METHOD&pct(url)&pct(k=v&…)` over the signed parameters (everything but `realm` and
/// `oauth_signature`, sorted by key), with `prepend` in front for the LST request.
pub fn base_string(
    prepend: Option<&[u8]>,
    method: &str,
    url: &str,
    params: &BTreeMap<String, String>,
) -> String {
    let joined: Vec<String> = params
        .iter()
        .filter(|(k, _)| *k != "realm" && *k != "oauth_signature")
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let mut out = String::new();
    if let Some(p) = prepend {
        for b in p {
            out.push_str(&format!("{b:02x}"));
        }
    }
    out.push_str(&method.to_ascii_uppercase());
    out.push('&');
    out.push_str(&pct(url));
    out.push('&');
    out.push_str(&pct(&joined.join("&")));
    out
}

fn hmac_sha1(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut mac = <hmac::Hmac<Sha1> as KeyInit>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(msg);
    mac.finalize().into_bytes().to_vec()
}

fn hmac_sha256_b64(key: &[u8], msg: &[u8]) -> String {
    let mut mac = <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(msg);
    B64.encode(mac.finalize().into_bytes())
}

/// Java's `BigInteger.toByteArray` of a positive number: minimal big-endian magnitude with a
/// `0x00` in front when the top bit is set.
pub fn java_bytes(x: &BigUint) -> Vec<u8> {
    let mut mag = x.to_bytes_be();
    if mag.first().is_some_and(|b| b & 0x80 != 0) {
        mag.insert(0, 0);
    }
    mag
}

/// Which request is being verified.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `POST /oauth/live_session_token` (RSA-SHA256 with the prepend).
    LiveSessionToken,
    /// Anything else (HMAC-SHA256 with the live session token).
    Api,
}

impl OAuthState {
    pub fn new(m: Material) -> OAuthState {
        OAuthState {
            m,
            lst: None,
            nonces: HashMap::new(),
            accepted: 0,
            refused: 0,
        }
    }

    pub fn material(&self) -> &Material {
        &self.m
    }

    /// Whether a live session token is held and current.
    pub fn has_token(&self, now_ms: i64) -> bool {
        self.lst.as_ref().is_some_and(|l| l.expires_ms > now_ms)
    }

    /// Verify one request. `urls` are the URLs the client may have signed (origins × with and
    /// without the query). Returns the signed parameters; the nonce is recorded only then.
    pub fn verify(
        &mut self,
        kind: Kind,
        method: &str,
        urls: &[String],
        header: Option<&str>,
        now_ms: i64,
    ) -> Result<BTreeMap<String, String>, String> {
        let result = self.check(kind, method, urls, header, now_ms);
        match &result {
            Ok(p) => {
                self.accepted += 1;
                if let (Some(n), Some(ts)) = (p.get("oauth_nonce"), p.get("oauth_timestamp")) {
                    self.nonces
                        .insert(n.clone(), ts.parse().unwrap_or_default());
                }
            }
            Err(reason) => {
                self.refused += 1;
                tracing::info!(%reason, "OAuth request refused");
            }
        }
        result
    }

    fn check(
        &mut self,
        kind: Kind,
        method: &str,
        urls: &[String],
        header: Option<&str>,
        now_ms: i64,
    ) -> Result<BTreeMap<String, String>, String> {
        let header = header.ok_or(
            "missing Authorization header: every request must be signed (OAuth 1.0a, HMAC-SHA256 with the live session token)",
        )?;
        let p = parse_header(header)?;
        let get = |k: &str| -> Result<&String, String> {
            p.get(k)
                .ok_or_else(|| format!("missing OAuth parameter {k}"))
        };
        let realm = get("realm")?;
        let expected_realm = if self.m.consumer_key == "TESTCONS" {
            "test_realm"
        } else {
            self.m.realm.as_str()
        };
        if realm != expected_realm {
            return Err(format!(
                "invalid realm {realm:?}: this consumer's realm is {expected_realm:?}"
            ));
        }
        let consumer = get("oauth_consumer_key")?;
        if *consumer != self.m.consumer_key {
            return Err(format!(
                "{INVALID_CONSUMER} (oauth_consumer_key {consumer:?} is not registered)"
            ));
        }
        let token = get("oauth_token")?;
        if *token != self.m.access_token {
            return Err("invalid oauth_token: not the access token of this consumer".into());
        }
        let method_expected = match kind {
            Kind::LiveSessionToken => "RSA-SHA256",
            Kind::Api => "HMAC-SHA256",
        };
        let sig_method = get("oauth_signature_method")?;
        if sig_method != method_expected {
            return Err(format!(
                "oauth_signature_method {sig_method:?}: this request must be signed {method_expected}"
            ));
        }
        let ts_text = get("oauth_timestamp")?;
        let ts: i64 = ts_text
            .parse()
            .map_err(|_| format!("oauth_timestamp {ts_text:?} is not epoch seconds"))?;
        let now_s = now_ms.div_euclid(1_000);
        if ts > 100_000_000_000 {
            return Err(format!(
                "oauth_timestamp {ts} is in milliseconds; IBKR expects epoch seconds"
            ));
        }
        if (ts - now_s).abs() > MAX_SKEW_SECS {
            return Err(format!(
                "oauth_timestamp {ts} is {} s away from the server clock (at most ±{MAX_SKEW_SECS} s)",
                (ts - now_s).abs()
            ));
        }
        let nonce = get("oauth_nonce")?;
        if nonce.is_empty() {
            return Err("oauth_nonce is empty".into());
        }
        self.nonces
            .retain(|_, t| (now_s - *t).abs() <= 2 * MAX_SKEW_SECS);
        if self.nonces.contains_key(nonce.as_str()) {
            return Err(format!(
                "oauth_nonce {nonce:?} was already used (nonces must never repeat)"
            ));
        }
        let signature = get("oauth_signature")?;
        match kind {
            Kind::LiveSessionToken => self.check_rsa(method, urls, &p, signature)?,
            Kind::Api => self.check_hmac(method, urls, &p, signature, now_ms)?,
        }
        Ok(p)
    }

    fn check_rsa(
        &self,
        method: &str,
        urls: &[String],
        p: &BTreeMap<String, String>,
        signature: &str,
    ) -> Result<(), String> {
        let sig = B64
            .decode(signature.trim())
            .map_err(|_| "oauth_signature is not base64".to_string())?;
        let ok = urls.iter().any(|u| {
            let base = base_string(Some(&self.m.prepend), method, u, p);
            self.m
                .signature_key
                .pkcs1v15_verify::<Sha256>(base.as_bytes(), &sig)
                .is_ok()
        });
        if ok {
            Ok(())
        } else {
            Err("invalid signature: the RSA-SHA256 signature over the prepended base string does not verify with the consumer's public signature key".into())
        }
    }

    fn check_hmac(
        &self,
        method: &str,
        urls: &[String],
        p: &BTreeMap<String, String>,
        signature: &str,
        now_ms: i64,
    ) -> Result<(), String> {
        let lst = self
            .lst
            .as_ref()
            .ok_or("no live session token: call POST /oauth/live_session_token first")?;
        if lst.expires_ms <= now_ms {
            return Err(format!(
                "live session token expired at {} (epoch ms); request a new one",
                lst.expires_ms
            ));
        }
        let signed_with = |key: &[u8]| {
            urls.iter().any(|u| {
                let base = base_string(None, method, u, p);
                let ours = hmac_sha256_b64(key, base.as_bytes());
                ours.len() == signature.len()
                    && ours
                        .bytes()
                        .zip(signature.bytes())
                        .fold(0u8, |a, (x, y)| a | (x ^ y))
                        == 0
            })
        };
        if signed_with(&lst.key) {
            return Ok(());
        }
        if signed_with(&lst.wrong_prefix) {
            return Err("invalid signature: signed with a live session token derived from K without Java's BigInteger.toByteArray rule (a 0x00 byte in front of K exactly when its top bit is set)".into());
        }
        Err("invalid signature: the HMAC-SHA256 over the base string does not match (wrong live session token, or a changed method, URL or parameter)".into())
    }

    /// Answer a verified live-session-token request: draw `b`, derive the token from the
    /// challenge `A` and remember it. Returns the response body.
    pub fn issue(&mut self, p: &BTreeMap<String, String>, now_ms: i64) -> Result<Value, String> {
        let challenge = p
            .get("diffie_hellman_challenge")
            .ok_or("missing OAuth parameter diffie_hellman_challenge")?;
        let a = BigUint::parse_bytes(challenge.as_bytes(), 16)
            .ok_or("diffie_hellman_challenge is not hex")?;
        let two = BigUint::from(2u32);
        let dh = &self.m.dh;
        if a < two || a > &dh.p - &two {
            return Err("diffie_hellman_challenge is out of range (2 ..= p-2)".into());
        }
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let b = BigUint::from_bytes_be(&bytes) | BigUint::from(1u32);
        let big_b = dh.g.modpow(&b, &dh.p);
        let k = a.modpow(&b, &dh.p);
        let right = java_bytes(&k);
        let wrong = match right.split_first() {
            Some((0, rest)) => rest.to_vec(),
            _ => [&[0u8][..], &right].concat(),
        };
        let key = hmac_sha1(&right, &self.m.prepend);
        let signature: String = hmac_sha1(&key, self.m.consumer_key.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let expires_ms = now_ms + LST_LIFETIME_MS;
        self.lst = Some(Lst {
            wrong_prefix: hmac_sha1(&wrong, &self.m.prepend),
            key,
            expires_ms,
        });
        Ok(json!({
            "diffie_hellman_response": big_b.to_str_radix(16),
            "live_session_token_signature": signature,
            "live_session_token_expiration": expires_ms,
        }))
    }

    /// The websocket's `?oauth_token=`: the access token, with a live session token held.
    pub fn websocket_token(&self, token: &str, now_ms: i64) -> Result<(), String> {
        if token != self.m.access_token {
            return Err(
                "invalid oauth_token on the websocket: not the access token of this consumer"
                    .into(),
            );
        }
        if !self.has_token(now_ms) {
            return Err(
                "no live session token: call POST /oauth/live_session_token before the websocket"
                    .into(),
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_parsing_and_encoding() {
        let p = parse_header(
            r#"OAuth realm="limited_poa", oauth_nonce="abc", oauth_signature="a%2Bb%2Fc%3D""#,
        )
        .unwrap();
        assert_eq!(p["oauth_signature"], "a+b/c=");
        assert_eq!(p["realm"], "limited_poa");
        assert!(parse_header("Bearer x").is_err());
        assert!(parse_header(r#"OAuth a=1"#).is_err());
        assert!(parse_header(r#"OAuth a="1", a="2""#).is_err());
        assert_eq!(
            pct("https://a.b/c?d=1,2"),
            "https%3A%2F%2Fa.b%2Fc%3Fd%3D1%2C2"
        );
        assert_eq!(pct("AZaz09-._~"), "AZaz09-._~");
        assert_eq!(unpct("a%2Bb+c%zz"), "a+b c%zz");
    }

    #[test]
    fn java_byte_array_rule() {
        assert_eq!(java_bytes(&BigUint::from(0x7fu32)), vec![0x7f]);
        assert_eq!(java_bytes(&BigUint::from(0x80u32)), vec![0x00, 0x80]);
        assert_eq!(java_bytes(&BigUint::from(0x0100u32)), vec![0x01, 0x00]);
    }
}
