//! The live session token (LST) computation, reference §11.3: decrypt the access token secret,
//! Diffie-Hellman challenge, shared secret, HMAC-SHA1 token and its validation.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{KeyInit, Mac};
use num_bigint::BigUint;
use rand::Rng;
use rsa::PrivateKey;
use sha1::Sha1;

use super::encoding::{hex_bytes, hex_uint, java_byte_array, parse_hex_uint};
use super::error::OAuthError;
use super::keys::DhParams;

/// The decrypted access token secret ("prepend"): raw bytes, hex-encoded byte by byte when put
/// in front of the LST base string. `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Prepend(Vec<u8>);

impl Prepend {
    /// Wrap raw secret bytes.
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Prepend(bytes)
    }

    /// Parse the hex form (as printed in test vectors).
    pub fn from_hex(hex: &str) -> Option<Self> {
        let hex = hex.trim();
        if !hex.len().is_multiple_of(2) {
            return None;
        }
        let mut out = Vec::with_capacity(hex.len() / 2);
        for pair in hex.as_bytes().chunks_exact(2) {
            let s = std::str::from_utf8(pair).ok()?;
            out.push(u8::from_str_radix(s, 16).ok()?);
        }
        Some(Prepend(out))
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Lowercase hex, two digits per byte (leading zero bytes kept).
    pub fn hex(&self) -> String {
        hex_bytes(&self.0)
    }
}

impl fmt::Debug for Prepend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Prepend(<redacted, {} bytes>)", self.0.len())
    }
}

/// The client's Diffie-Hellman random exponent `a`. `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct DhRandom(BigUint);

impl DhRandom {
    /// 256 fresh random bits (what IBKR's reference code uses).
    pub fn generate() -> Self {
        loop {
            let mut bytes = [0u8; 32];
            rand::rng().fill_bytes(&mut bytes);
            let a = BigUint::from_bytes_be(&bytes);
            if a > BigUint::from(1u32) {
                return DhRandom(a);
            }
        }
    }

    /// A fixed exponent from hex (tests, vectors).
    pub fn from_hex(hex: &str) -> Option<Self> {
        parse_hex_uint(hex).map(DhRandom)
    }

    /// The exponent.
    pub fn value(&self) -> &BigUint {
        &self.0
    }
}

impl fmt::Debug for DhRandom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DhRandom(<redacted>)")
    }
}

/// The live session token: the 20-byte HMAC-SHA1 output that keys every request signature.
/// `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct LiveSessionToken(Vec<u8>);

impl LiveSessionToken {
    /// Wrap raw token bytes.
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        LiveSessionToken(bytes)
    }

    /// Decode the base64 form; `None` if it is not valid base64 or empty.
    pub fn from_base64(text: &str) -> Option<Self> {
        let bytes = B64.decode(text.trim()).ok()?;
        (!bytes.is_empty()).then_some(LiveSessionToken(bytes))
    }

    /// The base64 form (how IBKR and its examples print the token).
    pub fn to_base64(&self) -> String {
        B64.encode(&self.0)
    }

    /// The raw key bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for LiveSessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LiveSessionToken(<redacted>)")
    }
}

/// Step 1: `RSA-PKCS#1 v1.5-decrypt(encryption key, b64decode(access_token_secret))`.
///
/// rsa 0.10 uses implicit rejection: a ciphertext made for another key "decrypts" to
/// pseudo-random bytes instead of failing. Such a mismatch surfaces later as
/// [`OAuthError::LstValidation`].
pub fn decrypt_access_token_secret(
    encryption_key: &PrivateKey,
    secret_b64: &str,
) -> Result<Prepend, OAuthError> {
    let cleaned: String = secret_b64.chars().filter(|c| !c.is_whitespace()).collect();
    let ciphertext = B64.decode(cleaned.as_bytes()).map_err(|e| {
        OAuthError::AccessTokenSecret(format!("access_token_secret is not base64 ({e})"))
    })?;
    let plain = encryption_key
        .pkcs1v15_decrypt(&ciphertext)
        .map_err(|e| OAuthError::AccessTokenSecret(e.to_string()))?;
    Ok(Prepend(plain))
}

/// Step 2: `hex(g^a mod p)`, the `diffie_hellman_challenge` parameter.
pub fn dh_challenge(dh: &DhParams, random: &DhRandom) -> String {
    hex_uint(&dh.generator().modpow(random.value(), dh.prime()))
}

/// Steps 9–11: `K = B^a mod p`, `LST = HMAC-SHA1(key = toByteArray(K), msg = prepend)`.
///
/// `B` (IBKR's `diffie_hellman_response`) must lie in `2 ..= p - 2`; anything else is refused
/// as an invalid response rather than producing a degenerate shared secret.
pub fn compute_live_session_token(
    dh: &DhParams,
    random: &DhRandom,
    dh_response_hex: &str,
    prepend: &Prepend,
) -> Result<LiveSessionToken, OAuthError> {
    let invalid = |message: &str| OAuthError::InvalidResponse {
        endpoint: "POST /oauth/live_session_token".into(),
        message: message.into(),
    };
    let b = parse_hex_uint(dh_response_hex)
        .ok_or_else(|| invalid("diffie_hellman_response is not hex"))?;
    let two = BigUint::from(2u32);
    if b < two || b > dh.prime() - &two {
        return Err(invalid("diffie_hellman_response is out of range"));
    }
    let k = b.modpow(random.value(), dh.prime());
    let k_bytes = java_byte_array(&k);
    Ok(LiveSessionToken(hmac_sha1(&k_bytes, prepend.as_bytes())))
}

/// Step 12: `hex(HMAC-SHA1(key = LST, msg = consumer_key))` must equal IBKR's
/// `live_session_token_signature` (compared case-insensitively, in constant time).
pub fn validate_lst(
    lst: &LiveSessionToken,
    consumer_key: &str,
    signature_hex: &str,
) -> Result<(), OAuthError> {
    let ours = hex_bytes(&hmac_sha1(lst.as_bytes(), consumer_key.as_bytes()));
    let theirs = signature_hex.trim().to_ascii_lowercase();
    if constant_time_eq(ours.as_bytes(), theirs.as_bytes()) {
        Ok(())
    } else {
        Err(OAuthError::LstValidation)
    }
}

fn hmac_sha1(key: &[u8], msg: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length, so keying cannot fail.
    let mut mac = <hmac::Hmac<Sha1> as KeyInit>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(msg);
    mac.finalize().into_bytes().to_vec()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_secrets() {
        let p = Prepend::from_hex("00ff").expect("hex");
        assert_eq!(p.hex(), "00ff");
        assert!(!format!("{p:?}").contains("ff"));
        let lst = LiveSessionToken::from_base64("e/6ZX0RwKEkUE/6WqjSteifiOtQ=").expect("b64");
        assert!(!format!("{lst:?}").contains("e/6Z"));
        assert!(!format!("{:?}", DhRandom::generate()).contains('0'));
    }

    #[test]
    fn prepend_hex_rejects_odd_or_non_hex() {
        assert!(Prepend::from_hex("abc").is_none());
        assert!(Prepend::from_hex("zz").is_none());
    }

    #[test]
    fn constant_time_eq_compares() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
