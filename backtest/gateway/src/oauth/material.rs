//! The OAuth directory of `tickline gateway --oauth DIR`: what IBKR's self-service portal
//! and the consumer hold between them, generated on first use and reused afterwards.
//!
//! | file | what |
//! |---|---|
//! | `private_signature.pem`, `public_signature.pem` | the consumer's RSA-2048 signature key pair (the emulator verifies with the public one) |
//! | `private_encryption.pem`, `public_encryption.pem` | the encryption key pair (the access token secret is encrypted to the public one) |
//! | `dhparam.pem` | the Diffie-Hellman group (RFC 3526 group 14 unless one is placed there) |
//! | `gateway_oauth.toml` | the emulator's record: consumer key, access token, encrypted secret and its plaintext |
//! | `ibkr_oauth.toml` | the client's settings (`--oauth-config`), rewritten on every start with the base URL |
//! | `ibind.env` | the same for ibind's OAuth mode (`IBIND_*` variables) |

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use rand::RngExt;
use rsa::pkcs8::{
    DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding,
};
use rsa::{PrivateKey, PublicKey};
use serde::{Deserialize, Serialize};

use super::dh::DhGroup;
use crate::error::GatewayError;

/// Everything the verifier needs.
#[derive(Clone)]
pub struct Material {
    pub consumer_key: String,
    pub access_token: String,
    pub realm: String,
    /// The plaintext access token secret (its hex form is the LST base-string prepend).
    pub prepend: Vec<u8>,
    pub signature_key: PublicKey,
    pub dh: DhGroup,
}

impl std::fmt::Debug for Material {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Material")
            .field("consumer_key", &self.consumer_key)
            .field("realm", &self.realm)
            .finish_non_exhaustive()
    }
}

/// `gateway_oauth.toml`.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Record {
    consumer_key: String,
    access_token: String,
    /// Base64 of the secret encrypted to `public_encryption.pem` (what the client holds).
    access_token_secret: String,
    /// The plaintext secret in hex (what IBKR holds).
    secret_hex: String,
    realm: String,
}

fn err(path: &Path, message: impl Into<String>) -> GatewayError {
    GatewayError::OAuth {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

fn read(path: &Path) -> Result<Option<String>, GatewayError> {
    match std::fs::read_to_string(path) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(err(path, e.to_string())),
    }
}

fn write(path: &Path, text: &str, private: bool) -> Result<(), GatewayError> {
    std::fs::write(path, text).map_err(|e| err(path, e.to_string()))?;
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| err(path, e.to_string()))?;
    }
    #[cfg(not(unix))]
    let _ = private;
    Ok(())
}

fn private_key(text: &str) -> Result<PrivateKey, String> {
    use rsa::pkcs1::DecodeRsaPrivateKey;
    PrivateKey::from_pkcs8_pem(text)
        .or_else(|_| PrivateKey::from_pkcs1_pem(text))
        .map_err(|e| format!("not an RSA private key in PEM ({e})"))
}

fn public_key(text: &str) -> Result<PublicKey, String> {
    use rsa::pkcs1::DecodeRsaPublicKey;
    PublicKey::from_public_key_pem(text)
        .or_else(|_| PublicKey::from_pkcs1_pem(text))
        .map_err(|e| format!("not an RSA public key in PEM ({e})"))
}

/// The public half of the key pair `name` (`signature`, `encryption`), generating the pair
/// when neither file exists.
fn key_pair(dir: &Path, name: &str) -> Result<PublicKey, GatewayError> {
    let private_path = dir.join(format!("private_{name}.pem"));
    let public_path = dir.join(format!("public_{name}.pem"));
    if let Some(text) = read(&public_path)? {
        return public_key(&text).map_err(|m| err(&public_path, m));
    }
    let key = match read(&private_path)? {
        Some(text) => private_key(&text).map_err(|m| err(&private_path, m))?,
        None => {
            tracing::info!(key = name, "generating an RSA-2048 key pair");
            let key = PrivateKey::new(&mut rand::rng(), 2048)
                .map_err(|e| err(&private_path, format!("RSA key generation: {e}")))?;
            let pem = key
                .to_pkcs8_pem(LineEnding::LF)
                .map_err(|e| err(&private_path, e.to_string()))?;
            write(&private_path, &pem, true)?;
            key
        }
    };
    let public = key.to_public_key();
    let pem = public
        .to_public_key_pem(LineEnding::LF)
        .map_err(|e| err(&public_path, e.to_string()))?;
    write(&public_path, &pem, false)?;
    Ok(public)
}

fn random_upper(n: usize) -> String {
    let mut rng = rand::rng();
    (0..n)
        .map(|_| char::from(b'A' + rng.random_range(0..26u8)))
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

fn record(dir: &Path, encryption: &PublicKey) -> Result<Record, GatewayError> {
    let path = dir.join("gateway_oauth.toml");
    if let Some(text) = read(&path)? {
        let r: Record = toml::from_str(&text).map_err(|e| err(&path, e.to_string()))?;
        if unhex(&r.secret_hex).is_none_or(|b| b.is_empty()) {
            return Err(err(&path, "secret_hex is not hex"));
        }
        return Ok(r);
    }
    let mut secret = [0u8; 20];
    rand::rng().fill(&mut secret);
    let cipher = encryption
        .pkcs1v15_encrypt(&secret)
        .map_err(|e| err(&path, format!("encrypting the access token secret: {e}")))?;
    let consumer_key = random_upper(9);
    let access_token = hex(&rand::rng().random::<[u8; 10]>());
    let r = Record {
        realm: "limited_poa".into(),
        consumer_key,
        access_token,
        access_token_secret: B64.encode(cipher),
        secret_hex: hex(&secret),
    };
    let text = toml::to_string(&r).map_err(|e| err(&path, e.to_string()))?;
    write(
        &path,
        &format!(
            "# Tickline gateway emulator: OAuth 1.0a consumer record (the IBKR side).\n{text}"
        ),
        true,
    )?;
    Ok(r)
}

/// Load the directory (creating it and whatever is missing), then write the client files
/// for `base_url` (`http(s)://127.0.0.1:PORT/v1/api`).
pub fn load_or_create(dir: &Path, base_url: &str) -> Result<Material, GatewayError> {
    std::fs::create_dir_all(dir).map_err(|e| err(dir, e.to_string()))?;
    let signature_key = key_pair(dir, "signature")?;
    let encryption = key_pair(dir, "encryption")?;
    let dh_path = dir.join("dhparam.pem");
    let dh = match read(&dh_path)? {
        Some(text) => DhGroup::from_pem(&text).map_err(|m| err(&dh_path, m))?,
        None => {
            let g = DhGroup::rfc3526();
            write(&dh_path, &g.to_pem(), false)?;
            g
        }
    };
    let r = record(dir, &encryption)?;
    write_client_files(dir, &r, &dh, base_url)?;
    Ok(Material {
        prepend: unhex(&r.secret_hex).unwrap_or_default(),
        consumer_key: r.consumer_key,
        access_token: r.access_token,
        realm: r.realm,
        signature_key,
        dh,
    })
}

fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn write_client_files(
    dir: &Path,
    r: &Record,
    dh: &DhGroup,
    base_url: &str,
) -> Result<(), GatewayError> {
    let client = format!(
        "# OAuth 1.0a settings written by `tickline gateway --oauth {dir}` (rewritten on every start).\n\
         # Use: tickline ibkr --oauth-config {path} accounts\n\
         consumer_key = {ck}\naccess_token = {at}\naccess_token_secret = {ats}\n\
         signature_key_path = \"private_signature.pem\"\nencryption_key_path = \"private_encryption.pem\"\n\
         dh_param_path = \"dhparam.pem\"\nrealm = {realm}\nbase_url = {base}\n",
        dir = dir.display(),
        path = dir.join("ibkr_oauth.toml").display(),
        ck = toml_str(&r.consumer_key),
        at = toml_str(&r.access_token),
        ats = toml_str(&r.access_token_secret),
        realm = toml_str(&r.realm),
        base = toml_str(base_url),
    );
    write(&dir.join("ibkr_oauth.toml"), &client, true)?;
    let abs = |name: &str| -> PathBuf {
        let p = dir.join(name);
        std::fs::canonicalize(&p).unwrap_or(p)
    };
    let ws = base_url
        .replacen("https://", "wss://", 1)
        .replacen("http://", "ws://", 1);
    let env = format!(
        "IBIND_USE_OAUTH=True\nIBIND_OAUTH1A_REST_URL={base_url}/\nIBIND_OAUTH1A_WS_URL={ws}/ws\n\
         IBIND_OAUTH1A_CONSUMER_KEY={}\nIBIND_OAUTH1A_ACCESS_TOKEN={}\nIBIND_OAUTH1A_ACCESS_TOKEN_SECRET={}\n\
         IBIND_OAUTH1A_SIGNATURE_KEY_FP={}\nIBIND_OAUTH1A_ENCRYPTION_KEY_FP={}\n\
         IBIND_OAUTH1A_DH_PRIME={}\nIBIND_OAUTH1A_REALM={}\n",
        r.consumer_key,
        r.access_token,
        r.access_token_secret,
        abs("private_signature.pem").display(),
        abs("private_encryption.pem").display(),
        dh.prime_hex(),
        r.realm,
    );
    write(&dir.join("ibind.env"), &env, true)
}
