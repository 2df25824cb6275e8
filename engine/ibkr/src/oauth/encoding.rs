//! Text encodings used by OAuth 1.0a: RFC 3986 percent-encoding, lowercase hex, and Java's
//! `BigInteger.toByteArray()` for the Diffie-Hellman shared secret.

use num_bigint::{BigInt, BigUint};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Every byte except the RFC 3986 unreserved set `A-Z a-z 0-9 - . _ ~` is encoded.
const OAUTH_ENCODE_SET: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encode `s` as OAuth requires: UTF-8 bytes, everything but the RFC 3986 unreserved
/// characters encoded, uppercase hex digits (`/` → `%2F`, space → `%20`, `+` → `%2B`).
pub fn percent_encode(s: &str) -> String {
    utf8_percent_encode(s, OAUTH_ENCODE_SET).to_string()
}

/// Lowercase hex of `bytes`, two digits per byte (leading zero bytes are kept).
pub fn hex_bytes(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// Parse a hex string (either case, even or odd length) into a big unsigned integer.
pub fn parse_hex_uint(hex: &str) -> Option<BigUint> {
    let trimmed = hex.trim();
    if trimmed.is_empty() || !trimmed.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    BigUint::parse_bytes(trimmed.as_bytes(), 16)
}

/// Lowercase hex of an integer, no `0x`, no leading zeros (`0` → `"0"`).
pub fn hex_uint(n: &BigUint) -> String {
    n.to_str_radix(16)
}

/// Java `BigInteger.toByteArray()` of a non-negative integer: minimal big-endian two's
/// complement, i.e. the magnitude bytes with a `0x00` in front whenever the top bit of the
/// first magnitude byte is set (bit length a multiple of 8).
pub fn java_byte_array(n: &BigUint) -> Vec<u8> {
    BigInt::from(n.clone()).to_signed_bytes_be()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreserved_characters_pass_through() {
        assert_eq!(percent_encode("AZaz09-._~"), "AZaz09-._~");
        assert_eq!(percent_encode("a b+c/d=e&f,g"), "a%20b%2Bc%2Fd%3De%26f%2Cg");
    }

    #[test]
    fn hex_keeps_leading_zero_bytes() {
        assert_eq!(hex_bytes(&[0x00, 0x0a, 0xff]), "000aff");
    }

    #[test]
    fn java_bytes_adds_sign_byte_only_when_top_bit_set() {
        assert_eq!(java_byte_array(&BigUint::from(0x80u32)), vec![0x00, 0x80]);
        assert_eq!(java_byte_array(&BigUint::from(0x7fu32)), vec![0x7f]);
        assert_eq!(java_byte_array(&BigUint::from(0x0100u32)), vec![0x01, 0x00]);
    }

    #[test]
    fn hex_parsing_rejects_garbage() {
        assert!(parse_hex_uint("").is_none());
        assert!(parse_hex_uint("0x12").is_none());
        assert_eq!(parse_hex_uint("FF"), Some(BigUint::from(255u32)));
    }
}
