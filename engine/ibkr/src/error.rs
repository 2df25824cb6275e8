//! The crate's error type.
//!
//! Every error that comes from a request names the endpoint (method and path, never the query
//! string) and carries IBKR's own message when there is one. Errors never contain tokens,
//! cookies, keys or signatures: request headers are not recorded anywhere, reqwest errors are
//! stripped of their URL, and decode errors drop the string values serde would quote.

use std::fmt;
use std::time::Duration;

use crate::catalog::HttpMethod;

/// The endpoint a failed request was sent to: method plus the concrete path (path parameters
/// filled in, no query string).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndpointRef {
    /// HTTP method.
    pub method: HttpMethod,
    /// Path as sent, relative to the API root it belongs to (e.g. `/iserver/accounts`).
    pub path: String,
}

impl EndpointRef {
    /// Build an endpoint reference.
    pub fn new(method: HttpMethod, path: impl Into<String>) -> Self {
        EndpointRef {
            method,
            path: path.into(),
        }
    }
}

impl fmt::Display for EndpointRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

/// What went wrong below HTTP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransportErrorKind {
    /// The connection could not be established (nothing was sent).
    Connect,
    /// The request or the response timed out (the server may have acted on it).
    Timeout,
    /// The connection failed while the request was in flight (the server may have acted on it).
    Request,
    /// Reading the response body failed.
    Body,
    /// Anything else reqwest reports (builder, redirect, TLS set-up).
    Other,
}

impl fmt::Display for TransportErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TransportErrorKind::Connect => "connect",
            TransportErrorKind::Timeout => "timeout",
            TransportErrorKind::Request => "request",
            TransportErrorKind::Body => "response body",
            TransportErrorKind::Other => "transport",
        })
    }
}

/// Errors of the IBKR client.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IbkrError {
    /// HTTP 400: validation failure detected by IBKR.
    #[error("{endpoint}: 400 Bad Request: {message}")]
    BadRequest {
        endpoint: EndpointRef,
        message: String,
    },
    /// HTTP 401: not authenticated (gateway not logged in, live session token invalid).
    #[error("{endpoint}: 401 Unauthorized: {message}")]
    Unauthorized {
        endpoint: EndpointRef,
        message: String,
    },
    /// HTTP 403: no permission (account, feature, IP allow-list, missing User-Agent).
    #[error("{endpoint}: 403 Forbidden: {message}")]
    Forbidden {
        endpoint: EndpointRef,
        message: String,
    },
    /// HTTP 404: unknown path or resource.
    #[error("{endpoint}: 404 Not Found: {message}")]
    NotFound {
        endpoint: EndpointRef,
        message: String,
    },
    /// HTTP 429 on every allowed attempt.
    #[error("{endpoint}: 429 Too Many Requests (gave up after {attempts} attempt(s))")]
    RateLimited {
        endpoint: EndpointRef,
        attempts: u32,
        /// The last `Retry-After` the server sent, if any.
        retry_after: Option<Duration>,
    },
    /// Repeated 429s put the client in IBKR's penalty box; nothing is sent for `retry_in`.
    #[error(
        "{endpoint}: not sent: IBKR penalty box after repeated 429s (paused for another {}s)",
        retry_in.as_secs()
    )]
    PenaltyBox {
        endpoint: EndpointRef,
        retry_in: Duration,
    },
    /// HTTP 500: accepted but failed inside IBKR.
    #[error("{endpoint}: 500 Internal Server Error: {message}")]
    ServerError {
        endpoint: EndpointRef,
        message: String,
    },
    /// HTTP 503: backend unavailable, session not ready or nightly reset.
    #[error("{endpoint}: 503 Service Unavailable (after {attempts} attempt(s)): {message}")]
    Unavailable {
        endpoint: EndpointRef,
        message: String,
        attempts: u32,
    },
    /// Any other unexpected HTTP status (410 Gone, 411 Length Required, 502, …).
    #[error("{endpoint}: HTTP {status}: {message}")]
    Status {
        endpoint: EndpointRef,
        status: u16,
        message: String,
    },
    /// HTTP 200 whose body is IBKR's `{"error": "..."}`.
    #[error("{endpoint}: IBKR error: {message}")]
    Api {
        endpoint: EndpointRef,
        message: String,
    },
    /// The request did not complete at the HTTP level.
    #[error("{endpoint}: {kind} failure: {message}")]
    Transport {
        endpoint: EndpointRef,
        kind: TransportErrorKind,
        message: String,
    },
    /// The response body did not have the expected shape.
    #[error("{endpoint}: could not decode the response: {message}")]
    Decode {
        endpoint: EndpointRef,
        message: String,
    },
    /// OAuth 1.0a failure (configuration, keys, live session token).
    #[error("OAuth: {0}")]
    OAuth(#[from] crate::oauth::OAuthError),
    /// Websocket failure.
    #[error("websocket: {0}")]
    Websocket(#[from] crate::ws::WsError),
    /// A caller-supplied value is unusable.
    #[error("invalid {what}: {reason}")]
    InvalidInput { what: &'static str, reason: String },
    /// Client configuration is unusable.
    #[error("configuration error: {0}")]
    Config(String),
    /// An order's question chain did not end within the allowed number of replies.
    #[error("order prompt chain did not finish within {limit} replies (last reply id {reply_id})")]
    PromptChainTooLong { limit: usize, reply_id: String },
    /// After an ambiguous failure the order could neither be found by its client order id nor
    /// safely resubmitted.
    #[error(
        "order with cOID {coid}: state unknown after an ambiguous failure ({cause}); not resubmitted, check live orders"
    )]
    OrderStateUnknown { coid: String, cause: Box<IbkrError> },
    /// The brokerage session could not be brought up.
    #[error("brokerage session not ready: {0}")]
    SessionNotReady(String),
    /// Another platform holds the brokerage session and `take_over_competing` is off, so the
    /// client does not take it over (that would log out the user's TWS or mobile app).
    #[error(
        "another platform holds the brokerage session (competing: {message}); not taken over because take_over_competing is false"
    )]
    Competing { message: String },
    /// Local I/O (CLI output, files).
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

impl IbkrError {
    /// The HTTP status the error stands for, if it came from an HTTP response.
    pub fn status(&self) -> Option<u16> {
        match self {
            IbkrError::BadRequest { .. } => Some(400),
            IbkrError::Unauthorized { .. } => Some(401),
            IbkrError::Forbidden { .. } => Some(403),
            IbkrError::NotFound { .. } => Some(404),
            IbkrError::RateLimited { .. } | IbkrError::PenaltyBox { .. } => Some(429),
            IbkrError::ServerError { .. } => Some(500),
            IbkrError::Unavailable { .. } => Some(503),
            IbkrError::Status { status, .. } => Some(*status),
            IbkrError::Api { .. } => Some(200),
            _ => None,
        }
    }

    /// The endpoint the failing request went to.
    pub fn endpoint(&self) -> Option<&EndpointRef> {
        match self {
            IbkrError::BadRequest { endpoint, .. }
            | IbkrError::Unauthorized { endpoint, .. }
            | IbkrError::Forbidden { endpoint, .. }
            | IbkrError::NotFound { endpoint, .. }
            | IbkrError::RateLimited { endpoint, .. }
            | IbkrError::PenaltyBox { endpoint, .. }
            | IbkrError::ServerError { endpoint, .. }
            | IbkrError::Unavailable { endpoint, .. }
            | IbkrError::Status { endpoint, .. }
            | IbkrError::Api { endpoint, .. }
            | IbkrError::Transport { endpoint, .. }
            | IbkrError::Decode { endpoint, .. } => Some(endpoint),
            _ => None,
        }
    }

    /// IBKR's own message, when the error carries one.
    pub fn ibkr_message(&self) -> Option<&str> {
        match self {
            IbkrError::BadRequest { message, .. }
            | IbkrError::Unauthorized { message, .. }
            | IbkrError::Forbidden { message, .. }
            | IbkrError::NotFound { message, .. }
            | IbkrError::ServerError { message, .. }
            | IbkrError::Unavailable { message, .. }
            | IbkrError::Status { message, .. }
            | IbkrError::Api { message, .. } => Some(message),
            _ => None,
        }
    }

    /// True when the server may or may not have acted on the request: a timeout, a connection
    /// lost mid-request, or a 5xx. Order placement must look the order up before resubmitting.
    pub fn is_ambiguous(&self) -> bool {
        match self {
            IbkrError::Transport { kind, .. } => matches!(
                kind,
                TransportErrorKind::Timeout
                    | TransportErrorKind::Request
                    | TransportErrorKind::Body
            ),
            IbkrError::ServerError { .. } | IbkrError::Unavailable { .. } => true,
            IbkrError::Status { status, .. } => (500..600).contains(status),
            _ => false,
        }
    }

    /// True for failures worth trying again later: the connection, timeouts, 5xx, 429 (and
    /// the penalty box), and a brokerage session that is not ready yet. Permanent refusals
    /// — 4xx such as `400` for an unknown contract, `401`, `403`, IBKR error bodies, bad
    /// input or configuration — are not.
    pub fn is_transient(&self) -> bool {
        match self {
            IbkrError::Transport { kind, .. } => !matches!(kind, TransportErrorKind::Other),
            IbkrError::RateLimited { .. }
            | IbkrError::PenaltyBox { .. }
            | IbkrError::ServerError { .. }
            | IbkrError::Unavailable { .. }
            | IbkrError::SessionNotReady(_) => true,
            IbkrError::Status { status, .. } => (500..600).contains(status) || *status == 429,
            _ => false,
        }
    }

    /// True for 401 responses (and 410 Gone, which OAuth uses for a vanished session).
    pub fn is_unauthorized(&self) -> bool {
        matches!(
            self,
            IbkrError::Unauthorized { .. } | IbkrError::Status { status: 410, .. }
        )
    }

    /// True when IBKR asks for `/iserver/accounts` to be called first.
    pub fn needs_accounts_priming(&self) -> bool {
        self.ibkr_message()
            .is_some_and(|m| m.contains("Please query /accounts first"))
    }

    /// True when IBKR asks for `/portfolio/accounts` before a per-account `/portfolio` call.
    pub fn needs_portfolio_priming(&self) -> bool {
        self.ibkr_message()
            .is_some_and(|m| m.contains("Please query /portfolio/accounts first"))
    }

    /// True when IBKR reports that the brokerage bridge is down (`ssodh/init` needed).
    pub fn is_no_bridge(&self) -> bool {
        self.ibkr_message().is_some_and(|m| m.contains("no bridge"))
    }
}

/// Convert a reqwest error into a transport error without its URL (the URL may carry query
/// parameters; headers are never part of reqwest's error text).
pub(crate) fn transport_error(endpoint: EndpointRef, err: reqwest::Error) -> IbkrError {
    let kind = if err.is_timeout() {
        TransportErrorKind::Timeout
    } else if err.is_connect() {
        TransportErrorKind::Connect
    } else if err.is_body() || err.is_decode() {
        TransportErrorKind::Body
    } else if err.is_request() {
        TransportErrorKind::Request
    } else {
        TransportErrorKind::Other
    };
    let err = err.without_url();
    let mut message = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    IbkrError::Transport {
        endpoint,
        kind,
        message,
    }
}

/// A serde_json error message with the quoted string values removed (they could be anything
/// the server sent, including session ids). Field names, which serde writes in backticks, and
/// the line/column position are kept.
pub(crate) fn sanitize_decode_message(err: &serde_json::Error) -> String {
    let raw = err.to_string();
    let mut out = String::with_capacity(raw.len());
    let mut in_quotes = false;
    for ch in raw.chars() {
        if ch == '"' {
            if in_quotes {
                out.push_str("…\"");
            } else {
                out.push('"');
            }
            in_quotes = !in_quotes;
        } else if !in_quotes {
            out.push(ch);
        }
    }
    out
}

/// Build a decode error for `endpoint` from a serde_json error.
pub(crate) fn decode_error(endpoint: EndpointRef, err: &serde_json::Error) -> IbkrError {
    IbkrError::Decode {
        endpoint,
        message: sanitize_decode_message(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_message_drops_string_values() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct T {
            n: u64,
        }
        let err = serde_json::from_str::<T>(r#"{"n":"ce109cbeb462a76dc3f6f4182c830cc1"}"#)
            .expect_err("string is not a u64");
        let msg = sanitize_decode_message(&err);
        assert!(!msg.contains("ce109cbeb462"), "{msg}");
        assert!(msg.contains("invalid type"), "{msg}");
        assert!(msg.contains("line 1"), "{msg}");
    }

    #[test]
    fn decode_message_keeps_field_names() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct T {
            conid: u64,
        }
        let err = serde_json::from_str::<T>("{}").expect_err("missing field");
        assert!(sanitize_decode_message(&err).contains("`conid`"));
    }

    #[test]
    fn ambiguity_classification() {
        let ep = EndpointRef::new(HttpMethod::Post, "/iserver/account/DU1/orders");
        let timeout = IbkrError::Transport {
            endpoint: ep.clone(),
            kind: TransportErrorKind::Timeout,
            message: "timed out".into(),
        };
        let connect = IbkrError::Transport {
            endpoint: ep.clone(),
            kind: TransportErrorKind::Connect,
            message: "refused".into(),
        };
        let bad = IbkrError::BadRequest {
            endpoint: ep.clone(),
            message: "x".into(),
        };
        let gw = IbkrError::Status {
            endpoint: ep,
            status: 502,
            message: String::new(),
        };
        assert!(timeout.is_ambiguous());
        assert!(!connect.is_ambiguous());
        assert!(!bad.is_ambiguous());
        assert!(gw.is_ambiguous());
    }
}
