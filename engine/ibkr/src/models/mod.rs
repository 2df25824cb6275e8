//! Typed request and response structures. Everything the engine uses is typed here; the long
//! tail of endpoints returns `serde_json::Value`.
//!
//! IBKR's JSON drifts between strings and numbers for the same field; the deserialisers in
//! [`lenient`] accept both. Money, prices and quantities are `rust_decimal::Decimal`; bar
//! values are `f64`.

pub mod accounts;
pub mod contracts;
pub mod lenient;
pub mod market_data;
pub mod misc;
pub mod orders;
pub mod portfolio;
pub mod session;

pub use accounts::*;
pub use contracts::*;
pub use lenient::StringOrNumber;
pub use market_data::*;
pub use misc::*;
pub use orders::*;
pub use portfolio::*;
pub use session::*;

/// Decode a JSON body into one of these models (no IBKR error-body check; the client's
/// endpoint methods do that).
pub fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, serde_json::Error> {
    serde_json::from_slice(body)
}
