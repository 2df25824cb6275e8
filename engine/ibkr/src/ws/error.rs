//! Websocket client errors. URLs in messages never include their query (the OAuth token).

/// What can go wrong with the websocket client itself (frame parse problems are events, see
/// [`WsEvent::Malformed`](super::WsEvent::Malformed)).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WsError {
    /// The URL cannot be used for a websocket.
    #[error("invalid websocket URL: {0}")]
    InvalidUrl(String),
    /// A header value (cookie, user agent) is not valid in an HTTP header.
    #[error("invalid {0} header value")]
    InvalidHeader(&'static str),
    /// TLS could not be set up.
    #[error("TLS set-up failed: {0}")]
    Tls(String),
    /// Connecting (TCP, TLS or upgrade) failed.
    #[error("cannot connect to {url}: {message}")]
    Connect {
        /// The URL without query.
        url: String,
        /// What failed.
        message: String,
    },
    /// The client's background task has stopped (closed, or reconnection gave up).
    #[error("the websocket client is closed")]
    Closed,
}
