//! Diffie-Hellman group of the OAuth consumer: `dhparam.pem` (PEM `DH PARAMETERS`, DER
//! `SEQUENCE { prime INTEGER, generator INTEGER }`), read and written by the emulator's
//! own small DER code.

use num_bigint::BigUint;

/// RFC 3526 group 14: the 2048-bit MODP safe prime, generator 2. Written when the OAuth
/// directory has no `dhparam.pem` (a fresh 2048-bit safe prime takes `openssl dhparam`
/// minutes; any `dhparam.pem` placed there is used instead).
pub const RFC3526_GROUP14_HEX: &str = concat!(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74",
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437",
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED",
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05",
    "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB",
    "9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B",
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718",
    "3995497CEA956AE515D2261898FA051015728E5A8AACAA68FFFFFFFFFFFFFFFF",
);

/// Prime and generator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DhGroup {
    pub p: BigUint,
    pub g: BigUint,
}

impl DhGroup {
    /// RFC 3526 group 14.
    pub fn rfc3526() -> DhGroup {
        DhGroup {
            p: BigUint::parse_bytes(RFC3526_GROUP14_HEX.as_bytes(), 16).unwrap_or_default(),
            g: BigUint::from(2u32),
        }
    }

    /// Parse PEM `DH PARAMETERS`.
    pub fn from_pem(text: &str) -> Result<DhGroup, String> {
        let block = pem::parse(text).map_err(|e| format!("not a PEM file ({e})"))?;
        if block.tag() != "DH PARAMETERS" {
            return Err(format!(
                "PEM block is {:?}, expected \"DH PARAMETERS\"",
                block.tag()
            ));
        }
        let (tag, body, _) = tlv(block.contents())?;
        if tag != 0x30 {
            return Err("expected a DER SEQUENCE".into());
        }
        let (t1, p, rest) = tlv(body)?;
        let (t2, g, _) = tlv(rest)?;
        if t1 != 0x02 || t2 != 0x02 {
            return Err("expected two DER INTEGERs (prime, generator)".into());
        }
        let group = DhGroup {
            p: BigUint::from_bytes_be(p),
            g: BigUint::from_bytes_be(g),
        };
        if group.p.bits() < 512 || group.g < BigUint::from(2u32) || group.g >= group.p {
            return Err("prime below 512 bits or generator out of range".into());
        }
        Ok(group)
    }

    /// PEM `DH PARAMETERS` of this group.
    pub fn to_pem(&self) -> String {
        let mut body = der_uint(&self.p);
        body.extend(der_uint(&self.g));
        let mut der = vec![0x30];
        der.extend(der_len(body.len()));
        der.extend(body);
        pem::encode(&pem::Pem::new("DH PARAMETERS", der))
    }

    /// The prime in lowercase hex (ibind's `IBIND_OAUTH1A_DH_PRIME`).
    pub fn prime_hex(&self) -> String {
        self.p.to_str_radix(16)
    }
}

fn der_len(n: usize) -> Vec<u8> {
    if n < 0x80 {
        return vec![n as u8];
    }
    let bytes: Vec<u8> = n
        .to_be_bytes()
        .into_iter()
        .skip_while(|b| *b == 0)
        .collect();
    let mut out = vec![0x80 | bytes.len() as u8];
    out.extend(bytes);
    out
}

fn der_uint(x: &BigUint) -> Vec<u8> {
    let mut mag = x.to_bytes_be();
    if mag.first().is_some_and(|b| b & 0x80 != 0) {
        mag.insert(0, 0);
    }
    let mut out = vec![0x02];
    out.extend(der_len(mag.len()));
    out.extend(mag);
    out
}

/// One definite-length DER TLV: (tag, content, rest).
fn tlv(input: &[u8]) -> Result<(u8, &[u8], &[u8]), String> {
    let (&tag, rest) = input.split_first().ok_or("truncated DER")?;
    let (&first, rest) = rest.split_first().ok_or("truncated DER length")?;
    let (len, rest) = if first < 0x80 {
        (first as usize, rest)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 || rest.len() < n {
            return Err("bad DER length".into());
        }
        let len = rest[..n].iter().fold(0usize, |a, b| (a << 8) | *b as usize);
        (len, &rest[n..])
    };
    if rest.len() < len {
        return Err("truncated DER content".into());
    }
    Ok((tag, &rest[..len], &rest[len..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_round_trip() {
        let g = DhGroup::rfc3526();
        assert_eq!(g.p.bits(), 2048);
        let back = DhGroup::from_pem(&g.to_pem()).unwrap();
        assert_eq!(back, g);
        assert!(DhGroup::from_pem("nonsense").is_err());
    }
}
