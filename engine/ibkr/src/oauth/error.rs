//! The OAuth error type.
//!
//! No variant ever holds a token, a token secret, a key, the live session token or a
//! signature: messages name the step, the file or the endpoint, and text that comes back from
//! IBKR is scrubbed of the session's secrets before it is stored (see [`scrub`]).

use std::path::PathBuf;

/// Everything that can go wrong while loading OAuth material, obtaining the live session token
/// or signing a request.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    /// Neither `--oauth-config FILE` nor `IBKR_OAUTH_CONFIG` named a configuration file.
    #[error("no OAuth configuration: pass --oauth-config FILE or set IBKR_OAUTH_CONFIG")]
    NoConfig,
    /// A file (config, key, dhparam) could not be read.
    #[error("cannot read {what} {path}: {source}")]
    ReadFile {
        /// What the file was meant to hold.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The TOML configuration is malformed or incomplete.
    #[error("invalid OAuth configuration {path}: {message}")]
    Config {
        /// The configuration file (empty when parsed from a string).
        path: PathBuf,
        /// What is wrong (never a value from the file).
        message: String,
    },
    /// A private key file could not be decoded.
    #[error("invalid {what} in {path}: {message}")]
    Key {
        /// `signature key` or `encryption key`.
        what: &'static str,
        /// The key file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// The Diffie-Hellman parameter file could not be decoded.
    #[error("invalid Diffie-Hellman parameters in {path}: {message}")]
    DhParams {
        /// The `dhparam.pem` file (empty when parsed from memory).
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// A base URL is not a usable `http(s)` URL.
    #[error("invalid base URL {url:?}: {message}")]
    BaseUrl {
        /// The URL as given.
        url: String,
        /// Why it was refused.
        message: String,
    },
    /// The access token secret is not valid base64 or does not decrypt with the encryption key.
    #[error("cannot decrypt the access token secret: {0}")]
    AccessTokenSecret(String),
    /// A cryptographic primitive failed (RSA signing, HMAC keying).
    #[error("{step} failed: {message}")]
    Crypto {
        /// The step that failed.
        step: &'static str,
        /// The library's message.
        message: String,
    },
    /// The request could not be sent or its response could not be read.
    #[error("{endpoint}: transport error: {message}")]
    Transport {
        /// Method and path.
        endpoint: String,
        /// The transport's message (URL stripped).
        message: String,
    },
    /// IBKR refused the request (wrong signature, unknown consumer, expired token, ...).
    #[error("{endpoint} rejected with HTTP {status}: {message}")]
    Rejected {
        /// Method and path.
        endpoint: String,
        /// HTTP status code.
        status: u16,
        /// IBKR's message (its `error` field, or the body text), scrubbed of secrets.
        message: String,
    },
    /// The response had an unexpected shape or values.
    #[error("{endpoint}: unexpected response: {message}")]
    InvalidResponse {
        /// Method and path.
        endpoint: String,
        /// What was wrong.
        message: String,
    },
    /// The live session token computed locally does not match IBKR's signature of it: the
    /// keys, the access token secret or the Diffie-Hellman prime do not belong together.
    #[error(
        "the live session token does not validate against IBKR's signature (wrong keys, \
         access token secret or dhparam?)"
    )]
    LstValidation,
}

/// Replace every occurrence of a secret in `text` by `<redacted>`; secrets shorter than four
/// characters are ignored (they would match by accident).
pub fn scrub(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_owned();
    for secret in secrets {
        if secret.len() >= 4 && out.contains(secret) {
            out = out.replace(secret, "<redacted>");
        }
    }
    out
}

/// Replace quoted fragments (`"..."`, `'...'` and `` `...` ``) by `…`. Used on parser messages
/// (TOML, serde), which quote offending values that may be secrets.
pub fn unquote_values(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut open: Option<char> = None;
    for c in message.chars() {
        match open {
            Some(q) if c == q => {
                out.push('…');
                out.push(c);
                open = None;
            }
            Some(_) => {}
            None if c == '"' || c == '`' || c == '\'' => {
                out.push(c);
                open = Some(c);
            }
            None => out.push(c),
        }
    }
    if open.is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_replaces_secrets_and_ignores_tiny_ones() {
        let s = scrub("token abcd1234 and ab", &["abcd1234", "ab"]);
        assert_eq!(s, "token <redacted> and ab");
    }

    #[test]
    fn unquote_drops_quoted_values() {
        assert_eq!(
            unquote_values("invalid type: string \"s3cret\", expected u64"),
            "invalid type: string \"…\", expected u64"
        );
        assert_eq!(unquote_values("integer `42` and 'x"), "integer `…` and '…");
    }
}
