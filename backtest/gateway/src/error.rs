//! The crate's typed error for start-up and serving (bad config, data, TLS, sockets).
//!
//! Request-level problems never become a [`GatewayError`]: they are answered with IBKR-style
//! error bodies by the API layer (see `api::error`).

use std::path::PathBuf;

/// Everything that can stop the emulator from starting or serving.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// The configuration file could not be read.
    #[error("{}: cannot read config: {source}", path.display())]
    ConfigRead {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The configuration is not valid TOML or has unknown / mistyped keys.
    #[error("{origin}: invalid config: {message}")]
    ConfigParse { origin: String, message: String },
    /// The configuration parsed but a value is unusable (names the key).
    #[error("invalid config: {key}: {message}")]
    ConfigValue { key: String, message: String },
    /// A bar file given for replay could not be loaded.
    #[error("replay data: {0}")]
    Data(#[from] tickline_data::DataError),
    /// A replay file holds a symbol that is not in the instrument universe.
    #[error("replay data: {path}: symbol {symbol} is not a configured instrument (known: {known})")]
    UnknownReplaySymbol {
        path: PathBuf,
        symbol: String,
        known: String,
    },
    /// Generating the self-signed certificate or building the TLS config failed.
    #[error("tls: {0}")]
    Tls(String),
    /// The OAuth directory could not be read, written or generated.
    #[error("oauth: {}: {message}", path.display())]
    OAuth { path: PathBuf, message: String },
    /// Binding or serving the socket failed.
    #[error("io: {context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

impl GatewayError {
    pub(crate) fn value(key: impl Into<String>, message: impl Into<String>) -> GatewayError {
        GatewayError::ConfigValue {
            key: key.into(),
            message: message.into(),
        }
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> GatewayError {
        GatewayError::Io {
            context: context.into(),
            source,
        }
    }
}
