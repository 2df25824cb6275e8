//! OAuth 1.0a for the IBKR Web API (reference §11).
//!
//! * First party: [`OAuthSession`] loads the consumer's keys and `dhparam.pem`
//!   ([`OAuthConfig`]), obtains the live session token through a Diffie-Hellman exchange on
//!   first use, renews it before it expires and returns the HMAC-SHA256 `Authorization` header
//!   of each request ([`OAuthSession::authorization_header`]).
//! * Third party: [`request_token`] → [`authorization_url`] → [`access_token`].
//!
//! The cryptographic steps are small pure functions ([`base_string`], [`rsa_sha256_signature`],
//! [`decrypt_access_token_secret`], [`dh_challenge`], [`compute_live_session_token`],
//! [`validate_lst`], [`hmac_sha256_signature`]) that tests drive with fixed nonces, timestamps
//! and Diffie-Hellman randoms. Secrets (token secret, live session token, DH random, keys) have
//! redacting `Debug` impls and never appear in [`OAuthError`]s.

mod config;
mod encoding;
mod error;
mod exchange;
mod keys;
mod lst;
mod session;
mod signature;
mod third_party;

pub use config::{
    DEFAULT_REALM, ENV_BASE_URL, ENV_OAUTH_CONFIG, OAuthConfig, PRODUCTION_BASE_URL, TEST_CONSUMER,
    parse_base_url,
};
pub use encoding::{hex_bytes, java_byte_array, percent_encode};
pub use error::OAuthError;
pub use exchange::DEFAULT_USER_AGENT;
pub use keys::{DhParams, load_private_key, parse_private_key_pem};
pub use lst::{
    DhRandom, LiveSessionToken, Prepend, compute_live_session_token, decrypt_access_token_secret,
    dh_challenge, validate_lst,
};
pub use session::{DEFAULT_RENEW_MARGIN, OAuthSession};
pub use signature::{
    HMAC_SHA256, Identity, RSA_SHA256, Stamp, base_string, format_authorization_header,
    hmac_request_header, hmac_sha256_signature, lst_request_header, params_string,
    rsa_request_header, rsa_sha256_signature,
};
pub use third_party::{
    AUTHORIZE_PAGE, AccessTokenGrant, Consumer, access_token, authorization_url, request_token,
};
