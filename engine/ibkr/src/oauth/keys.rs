//! Loading the consumer's key material: RSA private keys (PEM, PKCS#1 or PKCS#8) and the
//! Diffie-Hellman prime and generator from `dhparam.pem` (PKCS#3).

use std::fmt;
use std::path::Path;

use num_bigint::BigUint;
use rsa::PrivateKey;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::DecodePrivateKey;

use super::error::OAuthError;

/// Read and decode an RSA private key file. `what` names the key in errors
/// (`"signature key"`, `"encryption key"`).
pub fn load_private_key(path: &Path, what: &'static str) -> Result<PrivateKey, OAuthError> {
    let text = std::fs::read(path).map_err(|source| OAuthError::ReadFile {
        what,
        path: path.to_owned(),
        source,
    })?;
    parse_private_key_pem(&text).map_err(|message| OAuthError::Key {
        what,
        path: path.to_owned(),
        message,
    })
}

/// Decode a PEM RSA private key: `RSA PRIVATE KEY` (PKCS#1) or `PRIVATE KEY` (PKCS#8).
/// Encrypted keys are refused. The error text never contains key material.
pub fn parse_private_key_pem(pem_text: &[u8]) -> Result<PrivateKey, String> {
    let block = pem::parse(pem_text).map_err(|e| format!("not a PEM file ({e})"))?;
    match block.tag() {
        "RSA PRIVATE KEY" => PrivateKey::from_pkcs1_der(block.contents())
            .map_err(|e| format!("bad PKCS#1 RSA private key ({e})")),
        "PRIVATE KEY" => PrivateKey::from_pkcs8_der(block.contents())
            .map_err(|e| format!("bad PKCS#8 private key ({e})")),
        "ENCRYPTED PRIVATE KEY" => {
            Err("encrypted private keys are not supported; export it without a passphrase".into())
        }
        other => Err(format!(
            "PEM block is {other:?}, expected \"RSA PRIVATE KEY\" or \"PRIVATE KEY\""
        )),
    }
}

/// Diffie-Hellman group: prime `p` and generator `g`.
#[derive(Clone, PartialEq, Eq)]
pub struct DhParams {
    prime: BigUint,
    generator: BigUint,
}

impl fmt::Debug for DhParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DhParams")
            .field("prime_bits", &self.prime.bits())
            .field("generator", &self.generator)
            .finish()
    }
}

impl DhParams {
    /// Build from prime and generator; refuses a prime below 512 bits or a generator outside
    /// `2 ..= p - 2`.
    pub fn new(prime: BigUint, generator: BigUint) -> Result<Self, String> {
        if prime.bits() < 512 {
            return Err(format!(
                "prime has {} bits, at least 512 expected",
                prime.bits()
            ));
        }
        let two = BigUint::from(2u32);
        if generator < two || generator > &prime - &two {
            return Err("generator out of range".into());
        }
        Ok(DhParams { prime, generator })
    }

    /// Read and decode a `dhparam.pem` file.
    pub fn load(path: &Path) -> Result<Self, OAuthError> {
        let text = std::fs::read(path).map_err(|source| OAuthError::ReadFile {
            what: "Diffie-Hellman parameter file",
            path: path.to_owned(),
            source,
        })?;
        Self::from_pem(&text).map_err(|message| OAuthError::DhParams {
            path: path.to_owned(),
            message,
        })
    }

    /// Decode a PEM `DH PARAMETERS` block:
    /// `DHParameter ::= SEQUENCE { prime INTEGER, base INTEGER, privateValueLength INTEGER OPTIONAL }`.
    pub fn from_pem(pem_text: &[u8]) -> Result<Self, String> {
        let block = pem::parse(pem_text).map_err(|e| format!("not a PEM file ({e})"))?;
        if block.tag() != "DH PARAMETERS" {
            return Err(format!(
                "PEM block is {:?}, expected \"DH PARAMETERS\"",
                block.tag()
            ));
        }
        Self::from_der(block.contents())
    }

    /// Decode the DER `DHParameter` sequence.
    pub fn from_der(der: &[u8]) -> Result<Self, String> {
        let (tag, body, rest) = read_tlv(der)?;
        if tag != 0x30 {
            return Err(format!("expected a SEQUENCE, found tag 0x{tag:02x}"));
        }
        if !rest.is_empty() {
            return Err("trailing bytes after the SEQUENCE".into());
        }
        let (prime, body) = read_unsigned_integer(body, "prime")?;
        let (generator, body) = read_unsigned_integer(body, "generator")?;
        if !body.is_empty() {
            // privateValueLength is optional and irrelevant here; anything else is not.
            let (_, rest) = read_unsigned_integer(body, "privateValueLength")?;
            if !rest.is_empty() {
                return Err("unexpected fields after privateValueLength".into());
            }
        }
        Self::new(prime, generator)
    }

    /// The prime `p`.
    pub fn prime(&self) -> &BigUint {
        &self.prime
    }

    /// The generator `g`.
    pub fn generator(&self) -> &BigUint {
        &self.generator
    }
}

/// Read one definite-length DER TLV: returns (tag, content, rest).
fn read_tlv(input: &[u8]) -> Result<(u8, &[u8], &[u8]), String> {
    let (&tag, after_tag) = input.split_first().ok_or("truncated DER: missing tag")?;
    let (&first, after_len) = after_tag
        .split_first()
        .ok_or("truncated DER: missing length")?;
    let (len, after_len) = if first < 0x80 {
        (usize::from(first), after_len)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 {
            return Err(format!("unsupported DER length form 0x{first:02x}"));
        }
        if after_len.len() < count {
            return Err("truncated DER length".into());
        }
        let (len_bytes, rest) = after_len.split_at(count);
        let len = len_bytes
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, rest)
    };
    if after_len.len() < len {
        return Err(format!(
            "truncated DER: {len} content bytes announced, {} present",
            after_len.len()
        ));
    }
    let (content, rest) = after_len.split_at(len);
    Ok((tag, content, rest))
}

fn read_unsigned_integer<'a>(input: &'a [u8], name: &str) -> Result<(BigUint, &'a [u8]), String> {
    let (tag, content, rest) = read_tlv(input)?;
    if tag != 0x02 {
        return Err(format!(
            "{name}: expected an INTEGER, found tag 0x{tag:02x}"
        ));
    }
    match content.first() {
        None => Err(format!("{name}: empty INTEGER")),
        Some(b) if b & 0x80 != 0 => Err(format!("{name}: negative INTEGER")),
        Some(_) => Ok((BigUint::from_bytes_be(content), rest)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn der_int(bytes: &[u8]) -> Vec<u8> {
        let mut v = vec![0x02, u8::try_from(bytes.len()).unwrap_or(0)];
        v.extend_from_slice(bytes);
        v
    }

    #[test]
    fn der_parsing_handles_long_lengths_and_rejects_truncation() {
        let mut prime = vec![0x00];
        prime.extend(std::iter::repeat_n(0xff, 64));
        let mut body = vec![0x02, 0x41];
        body.extend_from_slice(&prime);
        body.extend(der_int(&[0x02]));
        let mut der = vec![0x30, 0x81, u8::try_from(body.len()).unwrap_or(0)];
        der.extend_from_slice(&body);
        let params = DhParams::from_der(&der).expect("valid");
        assert_eq!(params.prime().bits(), 512);
        assert_eq!(params.generator(), &BigUint::from(2u32));
        assert!(DhParams::from_der(&der[..der.len() - 1]).is_err());
        assert!(DhParams::from_der(&[0x31, 0x00]).is_err());
    }

    #[test]
    fn small_primes_and_bad_generators_are_refused() {
        assert!(DhParams::new(BigUint::from(23u32), BigUint::from(2u32)).is_err());
        let p = BigUint::from(1u32) << 600usize;
        assert!(DhParams::new(p.clone(), BigUint::from(1u32)).is_err());
        assert!(DhParams::new(p, BigUint::from(2u32)).is_ok());
    }
}
