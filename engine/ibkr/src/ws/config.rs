//! Websocket client settings.

use std::fmt;
use std::time::Duration;

use rand::RngExt;
use url::Url;

use super::error::WsError;

/// Exponential backoff with jitter for reconnection attempts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// Delay before the first retry (before jitter).
    pub base: Duration,
    /// Upper bound of the delay.
    pub max: Duration,
    /// Attempts before giving up (0 = never reconnect).
    pub max_attempts: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: Duration::from_millis(500),
            max: Duration::from_secs(30),
            max_attempts: 10,
        }
    }
}

impl Backoff {
    /// The capped exponential delay before attempt `attempt` (1-based), without jitter:
    /// `min(max, base · 2^(attempt-1))`.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let factor = 1u32
            .checked_shl(attempt.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.max)
    }

    /// The jittered delay before attempt `attempt`: uniformly in `[ceiling/2, ceiling]`
    /// ("equal jitter"), so reconnecting clients spread out but never retry at once.
    pub fn delay(&self, attempt: u32) -> Duration {
        let ceiling = self.ceiling(attempt);
        let half = ceiling / 2;
        let span = u64::try_from((ceiling - half).as_nanos()).unwrap_or(u64::MAX);
        let jitter = if span == 0 {
            0
        } else {
            rand::rng().random_range(0..=span)
        };
        half + Duration::from_nanos(jitter)
    }
}

/// Settings of a [`WsClient`](super::WsClient). `Debug` redacts the cookie and the token.
#[derive(Clone)]
pub struct WsConfig {
    /// The socket URL, e.g. `wss://localhost:5000/v1/api/ws`.
    pub url: Url,
    /// `Cookie` header value sent with the upgrade (gateway: the session cookies, or
    /// `api=<session from /tickle>`).
    pub cookie: Option<String>,
    /// OAuth 1.0a access token, sent as `?oauth_token=` on the URL.
    pub oauth_token: Option<String>,
    /// Accept any server certificate (the gateway's self-signed one). Handshake signatures are
    /// still verified. Default false: the system's roots are required.
    pub insecure_tls: bool,
    /// How often the client sends `tic` (IBKR wants one at least every minute).
    pub heartbeat_interval: Duration,
    /// A streaming subscription (market data, P&L, book) silent this long is reported as a
    /// dead feed and re-subscribed once.
    pub dead_feed_after: Duration,
    /// No frame at all (data, heartbeat, echo) for this long means the connection is dead; it
    /// is dropped and re-established. The server's `system` heartbeat comes every ~10 s.
    pub idle_timeout: Duration,
    /// Time allowed for TCP + TLS + upgrade.
    pub connect_timeout: Duration,
    /// Reconnection backoff.
    pub backoff: Backoff,
    /// `User-Agent` of the upgrade request.
    pub user_agent: String,
    /// Capacity of the event channel; a slow consumer pushes back on the socket reader.
    pub event_capacity: usize,
}

impl fmt::Debug for WsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WsConfig")
            .field("url", &redacted_url(&self.url))
            .field("cookie", &self.cookie.as_ref().map(|_| "<redacted>"))
            .field(
                "oauth_token",
                &self.oauth_token.as_ref().map(|_| "<redacted>"),
            )
            .field("insecure_tls", &self.insecure_tls)
            .field("heartbeat_interval", &self.heartbeat_interval)
            .field("dead_feed_after", &self.dead_feed_after)
            .field("idle_timeout", &self.idle_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("backoff", &self.backoff)
            .field("user_agent", &self.user_agent)
            .field("event_capacity", &self.event_capacity)
            .finish()
    }
}

impl WsConfig {
    /// Defaults for `url`: heartbeat 30 s, dead feed 60 s, idle timeout 45 s, connect timeout
    /// 10 s, backoff 0.5 s → 30 s over 10 attempts, strict TLS.
    pub fn new(url: Url) -> Self {
        WsConfig {
            url,
            cookie: None,
            oauth_token: None,
            insecure_tls: false,
            heartbeat_interval: Duration::from_secs(30),
            dead_feed_after: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(45),
            connect_timeout: Duration::from_secs(10),
            backoff: Backoff::default(),
            user_agent: concat!("tickline/", env!("CARGO_PKG_VERSION")).to_owned(),
            event_capacity: 1024,
        }
    }

    /// The socket of a Web API base URL: `https://host/v1/api` → `wss://host/v1/api/ws`
    /// (`http` → `ws`).
    pub fn from_base_url(base: &Url) -> Result<Self, WsError> {
        Ok(Self::new(websocket_url(base)?))
    }

    /// The socket of an OAuth 1.0a session: [`WsConfig::from_base_url`] plus the access token.
    pub fn for_oauth(base: &Url, access_token: &str) -> Result<Self, WsError> {
        let mut cfg = Self::from_base_url(base)?;
        cfg.oauth_token = Some(access_token.to_owned());
        Ok(cfg)
    }

    /// The URL actually dialled: `url` with `oauth_token` appended when set.
    pub fn connect_url(&self) -> Url {
        let mut url = self.url.clone();
        if let Some(token) = &self.oauth_token {
            url.query_pairs_mut().append_pair("oauth_token", token);
        }
        url
    }
}

/// `{base}/ws` with the scheme switched to `ws`/`wss`.
pub fn websocket_url(base: &Url) -> Result<Url, WsError> {
    let scheme = match base.scheme() {
        "https" | "wss" => "wss",
        "http" | "ws" => "ws",
        other => {
            return Err(WsError::InvalidUrl(format!(
                "scheme {other:?} is not http(s) or ws(s)"
            )));
        }
    };
    let host = base
        .host_str()
        .ok_or_else(|| WsError::InvalidUrl("no host".into()))?;
    let port = base.port().map(|p| format!(":{p}")).unwrap_or_default();
    let path = base.path().trim_end_matches('/');
    Url::parse(&format!("{scheme}://{host}{port}{path}/ws"))
        .map_err(|e| WsError::InvalidUrl(e.to_string()))
}

/// The URL without query and fragment (which may carry the OAuth token), for logs and errors.
pub fn redacted_url(url: &Url) -> String {
    let mut u = url.clone();
    u.set_query(None);
    u.set_fragment(None);
    u.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_caps_and_jitters_within_bounds() {
        let b = Backoff {
            base: Duration::from_millis(100),
            max: Duration::from_millis(1000),
            max_attempts: 5,
        };
        assert_eq!(b.ceiling(1), Duration::from_millis(100));
        assert_eq!(b.ceiling(3), Duration::from_millis(400));
        assert_eq!(b.ceiling(10), Duration::from_millis(1000));
        assert_eq!(b.ceiling(200), Duration::from_millis(1000));
        for attempt in 1..8 {
            let d = b.delay(attempt);
            assert!(
                d >= b.ceiling(attempt) / 2 && d <= b.ceiling(attempt),
                "{d:?}"
            );
        }
    }

    #[test]
    fn websocket_urls() {
        let base = Url::parse("https://localhost:5000/v1/api").expect("url");
        assert_eq!(
            websocket_url(&base).expect("ws").as_str(),
            "wss://localhost:5000/v1/api/ws"
        );
        let cfg = WsConfig::for_oauth(
            &Url::parse("https://api.ibkr.com/v1/api/").expect("url"),
            "0f1e2d3c4b5a69788796",
        )
        .expect("cfg");
        assert_eq!(
            cfg.connect_url().as_str(),
            "wss://api.ibkr.com/v1/api/ws?oauth_token=0f1e2d3c4b5a69788796"
        );
        let dbg = format!("{cfg:?}");
        assert!(!dbg.contains("0f1e2d3c"), "{dbg}");
        assert!(websocket_url(&Url::parse("ftp://x/").expect("url")).is_err());
    }
}
