//! Request pacing: one global bucket per session plus IBKR's per-endpoint limits
//! (reference §3), and a cap on concurrent history calls (IBKR allows five; four is what
//! third-party clients found safe, and the default). A pacing wait longer than
//! [`RateLimits::warn_wait`] is logged at WARN with the endpoint and its length.
//!
//! The buckets are GCRA schedulers on `tokio::time::Instant`: a caller reserves the next free
//! slot under a short lock and then sleeps until it, so callers are served in arrival order
//! and tests under `tokio::time::pause()` are deterministic.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use crate::catalog::{EndpointSpec, HttpMethod};

/// `requests` per `per`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    pub requests: u32,
    pub per: Duration,
}

impl Limit {
    /// `n` requests per second.
    pub const fn per_second(n: u32) -> Limit {
        Limit {
            requests: n,
            per: Duration::from_secs(1),
        }
    }

    /// One request every `d`.
    pub const fn one_every(d: Duration) -> Limit {
        Limit {
            requests: 1,
            per: d,
        }
    }

    /// Time between two requests at the steady rate.
    pub fn interval(&self) -> Duration {
        if self.requests == 0 {
            self.per
        } else {
            self.per / self.requests
        }
    }
}

/// Limiter settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateLimits {
    /// The per-session limit: 10 req/s through the gateway, 50 req/s with OAuth.
    pub global: Limit,
    /// Requests allowed back to back before pacing starts (1 = strictly paced).
    pub global_burst: u32,
    /// Apply IBKR's per-endpoint table.
    pub per_endpoint: bool,
    /// Concurrent `/iserver/marketdata/history` (and `/hmds/history`) requests.
    pub history_concurrency: usize,
    /// Pacing waits at least this long are logged at WARN (a stalled endpoint shows up).
    pub warn_wait: Duration,
}

impl RateLimits {
    /// CP Gateway defaults: 10 req/s.
    pub fn gateway() -> Self {
        RateLimits {
            global: Limit::per_second(10),
            global_burst: 1,
            per_endpoint: true,
            history_concurrency: 4,
            warn_wait: Duration::from_secs(6),
        }
    }

    /// OAuth (direct) defaults: 50 req/s.
    pub fn oauth() -> Self {
        RateLimits {
            global: Limit::per_second(50),
            ..RateLimits::gateway()
        }
    }
}

/// IBKR's published per-endpoint limit for a method and reference path.
pub fn endpoint_limit(method: HttpMethod, path: &str) -> Option<Limit> {
    use HttpMethod::*;
    const FIVE_S: Duration = Duration::from_secs(5);
    const FIFTEEN_MIN: Duration = Duration::from_secs(15 * 60);
    match (method, path) {
        (Get, "/iserver/marketdata/snapshot") => Some(Limit::per_second(10)),
        (Get, "/iserver/scanner/params") => Some(Limit::one_every(FIFTEEN_MIN)),
        (Post, "/iserver/scanner/run") => Some(Limit::per_second(1)),
        (Get, "/iserver/account/trades")
        | (Get, "/iserver/account/orders")
        | (Get, "/iserver/account/pnl/partitioned")
        | (Get, "/portfolio/accounts")
        | (Get, "/portfolio/subaccounts") => Some(Limit::one_every(FIVE_S)),
        (Post, "/pa/performance") | (Post, "/pa/transactions") => {
            Some(Limit::one_every(FIFTEEN_MIN))
        }
        (Get, "/fyi/unreadnumber")
        | (Get, "/fyi/settings")
        | (Post, "/fyi/settings/{typecode}")
        | (Get, "/fyi/disclaimer/{typecode}")
        | (Put, "/fyi/disclaimer/{typecode}")
        | (Get, "/fyi/deliveryoptions")
        | (Put, "/fyi/deliveryoptions/email")
        | (Post, "/fyi/deliveryoptions/device")
        | (Delete, "/fyi/deliveryoptions/{deviceId}")
        | (Get, "/fyi/notifications")
        | (Put, "/fyi/notifications/{notificationId}") => Some(Limit::per_second(1)),
        (Post, "/tickle") | (Get, "/tickle") => Some(Limit::per_second(1)),
        (Get, "/sso/validate") => Some(Limit::one_every(Duration::from_secs(60))),
        _ => None,
    }
}

/// A GCRA scheduler: hands out start instants at most `burst` ahead of the steady rate.
#[derive(Debug)]
struct Bucket {
    interval: Duration,
    tolerance: Duration,
    /// Theoretical arrival time of the next request.
    tat: Option<Instant>,
}

impl Bucket {
    fn new(limit: Limit, burst: u32) -> Self {
        let interval = limit.interval();
        Bucket {
            interval,
            tolerance: interval * burst.saturating_sub(1),
            tat: None,
        }
    }

    /// Reserve the next slot at or after `now`; returns when it starts.
    fn reserve(&mut self, now: Instant) -> Instant {
        let tat = self.tat.map_or(now, |t| t.max(now));
        let earliest = tat.checked_sub(self.tolerance).unwrap_or(now);
        let start = earliest.max(now);
        self.tat = Some(tat.max(start) + self.interval);
        start
    }

    /// No slot starts before `until`.
    fn block_until(&mut self, until: Instant) {
        let floor = until + self.tolerance;
        self.tat = Some(self.tat.map_or(floor, |t| t.max(floor)));
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The limiter shared by every request of a client.
#[derive(Debug)]
pub struct RateLimiter {
    config: RateLimits,
    global: Mutex<Bucket>,
    endpoints: Mutex<HashMap<(HttpMethod, &'static str), Bucket>>,
    history: Arc<Semaphore>,
}

/// Held while a request is in flight (keeps a history-concurrency permit when one was
/// needed).
#[derive(Debug)]
pub struct Permit {
    _history: Option<OwnedSemaphorePermit>,
}

impl RateLimiter {
    /// A limiter with these settings.
    pub fn new(config: RateLimits) -> Self {
        RateLimiter {
            global: Mutex::new(Bucket::new(config.global, config.global_burst.max(1))),
            endpoints: Mutex::new(HashMap::new()),
            history: Arc::new(Semaphore::new(config.history_concurrency.max(1))),
            config,
        }
    }

    /// The settings.
    pub fn config(&self) -> &RateLimits {
        &self.config
    }

    /// Wait until a request to `spec` may be sent.
    pub async fn acquire(&self, spec: &EndpointSpec) -> Permit {
        let history = if is_history(spec) {
            // The semaphore is never closed, so acquiring cannot fail.
            self.history.clone().acquire_owned().await.ok()
        } else {
            None
        };
        if self.config.per_endpoint
            && let Some(limit) = endpoint_limit(spec.method, spec.path)
        {
            let start = {
                let mut map = lock(&self.endpoints);
                map.entry((spec.method, spec.path))
                    .or_insert_with(|| Bucket::new(limit, 1))
                    .reserve(Instant::now())
            };
            self.wait(spec, start).await;
        }
        let start = lock(&self.global).reserve(Instant::now());
        self.wait(spec, start).await;
        Permit { _history: history }
    }

    async fn wait(&self, spec: &EndpointSpec, start: Instant) {
        let wait = start.saturating_duration_since(Instant::now());
        if wait >= self.config.warn_wait {
            tracing::warn!(
                endpoint = %format_args!("{} {}", spec.method, spec.path),
                wait_ms = wait.as_millis() as u64,
                "IBKR pacing: request held back"
            );
        }
        tokio::time::sleep_until(start).await;
    }

    /// After a 429: no request to this endpoint (or, for endpoints without their own limit,
    /// no request at all) starts before `until`.
    pub fn block_until(&self, spec: &EndpointSpec, until: Instant) {
        if self.config.per_endpoint
            && let Some(limit) = endpoint_limit(spec.method, spec.path)
        {
            lock(&self.endpoints)
                .entry((spec.method, spec.path))
                .or_insert_with(|| Bucket::new(limit, 1))
                .block_until(until);
        } else {
            lock(&self.global).block_until(until);
        }
    }
}

fn is_history(spec: &EndpointSpec) -> bool {
    spec.method == HttpMethod::Get
        && (spec.path == "/iserver/marketdata/history" || spec.path == "/hmds/history")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog;

    #[tokio::test(start_paused = true)]
    async fn global_rate_is_kept() {
        let limiter = RateLimiter::new(RateLimits::gateway());
        let t0 = Instant::now();
        let mut starts = Vec::new();
        for _ in 0..25 {
            let _p = limiter.acquire(&catalog::ACCOUNTS).await;
            starts.push(Instant::now() - t0);
        }
        for w in starts.windows(2) {
            assert!(w[1] - w[0] >= Duration::from_millis(100), "{starts:?}");
        }
        assert_eq!(starts[24], Duration::from_millis(2400));
    }

    #[tokio::test(start_paused = true)]
    async fn endpoint_limit_applies_per_endpoint() {
        let limiter = RateLimiter::new(RateLimits::oauth());
        let t0 = Instant::now();
        let _a = limiter.acquire(&catalog::LIVE_ORDERS).await;
        let _b = limiter.acquire(&catalog::ACCOUNTS).await;
        assert!(Instant::now() - t0 < Duration::from_millis(100));
        let _c = limiter.acquire(&catalog::LIVE_ORDERS).await;
        assert!(Instant::now() - t0 >= Duration::from_secs(5));
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_callers_are_spaced() {
        let limiter = Arc::new(RateLimiter::new(RateLimits::gateway()));
        let t0 = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..10 {
            let l = limiter.clone();
            tasks.push(tokio::spawn(async move {
                let _p = l.acquire(&catalog::SNAPSHOT).await;
                Instant::now() - t0
            }));
        }
        let mut times = Vec::new();
        for t in tasks {
            times.push(t.await.expect("task"));
        }
        times.sort();
        for w in times.windows(2) {
            assert!(w[1] - w[0] >= Duration::from_millis(100), "{times:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn block_until_delays_next_request() {
        let limiter = RateLimiter::new(RateLimits::gateway());
        let t0 = Instant::now();
        limiter.block_until(&catalog::ACCOUNTS, t0 + Duration::from_secs(15));
        let _p = limiter.acquire(&catalog::ACCOUNTS).await;
        assert!(Instant::now() - t0 >= Duration::from_secs(15));
    }

    #[tokio::test(start_paused = true)]
    async fn history_concurrency_is_capped() {
        let limiter = Arc::new(RateLimiter::new(RateLimits::oauth()));
        assert_eq!(limiter.config().history_concurrency, 4);
        let mut permits = Vec::new();
        for _ in 0..4 {
            permits.push(limiter.acquire(&catalog::HISTORY).await);
        }
        let l = limiter.clone();
        let fifth = tokio::spawn(async move { l.acquire(&catalog::HISTORY).await });
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert!(!fifth.is_finished());
        permits.pop();
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(fifth.is_finished());
    }

    #[test]
    fn burst_allows_back_to_back() {
        let mut b = Bucket::new(Limit::per_second(10), 3);
        let now = Instant::now();
        assert_eq!(b.reserve(now), now);
        assert_eq!(b.reserve(now), now);
        assert_eq!(b.reserve(now), now);
        assert_eq!(b.reserve(now), now + Duration::from_millis(100));
    }
}
