//! Fault injection: the switches (set in config, changed at run time through
//! `/control/faults`), IBKR's pacing limits as token buckets with a penalty box, and the
//! scheduled one-shot faults (forced logout, competing session, ...).

use std::collections::{HashMap, VecDeque};

use serde::{Deserialize, Serialize};

use crate::clock::Millis;
use crate::rng::Rng;

/// The fault switches. All off by default except the session idle timeout, which the real
/// gateway always has.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Enforce IBKR's pacing: the global bucket and the per-endpoint table (HTTP 429).
    pub rate_limits: bool,
    /// Global requests per second (10 through the CP gateway, 50 for OAuth); 0 = no global limit.
    pub global_rate: u32,
    /// After this many 429s within `penalty_window_secs`, refuse everything for
    /// `penalty_secs` (IBKR's penalty box); 0 = no penalty box.
    pub penalty_violations: u32,
    pub penalty_window_secs: u64,
    pub penalty_secs: u64,
    /// Fraction (0–1) of `/v1/api` requests answered with an injected HTTP 500.
    pub error_rate: f64,
    /// Added latency per `/v1/api` request, plus a seeded uniform jitter in [0, jitter].
    pub latency_ms: u64,
    pub latency_jitter_ms: u64,
    /// The session ends after this many seconds without a request (0 = never).
    pub session_timeout_secs: u64,
    /// Stale feed: market data stays subscribed but goes silent (no `smd` frames, frozen
    /// snapshots); orders still match against the live market.
    pub stale_feed: bool,
    /// Drop every websocket connection every this many seconds (0 = never).
    pub ws_disconnect_secs: u64,
    /// One-shot faults at fixed times after start-up (service clock).
    pub schedule: Vec<ScheduledFault>,
    /// IBKR's nightly and weekend maintenance of this data-centre region, on the market
    /// clock: `off`, `north-america`, `europe`, `asia`.
    pub maintenance: MaintenanceRegion,
    /// Fraction (0–1) of order creations (a submission without questions, or the reply that
    /// confirms the last question) answered `503` with an empty body after IBKR's 10 s
    /// backend timeout.
    pub order_503_rate: f64,
    /// Whether such a 503'd order exists anyway: `created`, `not-created`, `random`.
    pub order_503_outcome: Order503,
    /// The brokerage session stays `authenticated: false, connected: true`; `ssodh/init`
    /// and `reauthenticate` do not help while this is on.
    pub stuck_brokerage: bool,
    /// The next this many `ssodh/init` calls leave the session unauthenticated (counted
    /// down; each failure decrements it).
    pub ssodh_init_failures: u32,
    /// An `smd` subscription not renewed (sent again) for this long goes silent (0 = never).
    pub smd_lapse_secs: u64,
    /// Cancels stay `PendingCancel` this long on the service clock before they take effect;
    /// the order can still fill meanwhile (0 = at once).
    pub cancel_delay_ms: u64,
    /// Fraction (0–1) of cancel requests refused.
    pub cancel_reject_rate: f64,
    /// Fraction (0–1) of modify requests refused.
    pub modify_reject_rate: f64,
    /// Fraction (0–1) of new working orders put in `WarnState` (working, with a warning).
    pub warn_state_rate: f64,
    /// `/iserver/account/orders` as IBKR serves it: the first call of a brokerage session
    /// answers an empty list, and `filters` stop `sor` order updates until a `force=true`
    /// call (`force=true` itself always answers an empty list).
    pub orders_quirks: bool,
    /// Outside US regular trading hours (market clock) the live-orders list is a stale
    /// cache of the first after-hours answer until a `force=true` call.
    pub orders_stale_after_hours: bool,
    /// The commission of an execution arrives in a second `str` frame this much later on
    /// the service clock (0 = in the execution's own frame).
    pub late_commission_ms: u64,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            rate_limits: false,
            global_rate: 10,
            penalty_violations: 10,
            penalty_window_secs: 60,
            penalty_secs: 600,
            error_rate: 0.0,
            latency_ms: 0,
            latency_jitter_ms: 0,
            session_timeout_secs: 360,
            stale_feed: false,
            ws_disconnect_secs: 0,
            schedule: Vec::new(),
            maintenance: MaintenanceRegion::Off,
            order_503_rate: 0.0,
            order_503_outcome: Order503::Random,
            stuck_brokerage: false,
            ssodh_init_failures: 0,
            smd_lapse_secs: 900,
            cancel_delay_ms: 0,
            cancel_reject_rate: 0.0,
            modify_reject_rate: 0.0,
            warn_state_rate: 0.0,
            orders_quirks: true,
            orders_stale_after_hours: false,
            late_commission_ms: 0,
        }
    }
}

/// The data-centre region whose maintenance windows apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MaintenanceRegion {
    /// No maintenance windows.
    #[default]
    Off,
    NorthAmerica,
    Europe,
    Asia,
}

/// Whether an order answered with an injected 503 exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Order503 {
    Created,
    NotCreated,
    /// Seeded coin flip per order.
    #[default]
    Random,
}

/// A one-shot fault at `at_secs` after start-up.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduledFault {
    pub at_secs: u64,
    pub action: FaultAction,
}

/// Session and connection faults that happen at a moment (control endpoint or schedule).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultAction {
    /// Forced logout: the session ends (`NO_SESSION`), websockets are told and closed.
    Logout,
    /// Another platform takes the brokerage session: `competing:true`, back to read-only.
    Compete,
    /// Nightly reset: the brokerage session drops to read-only (re-run ssodh/init + accounts).
    Reset,
    /// The idle timeout fires now.
    ExpireSession,
    /// Drop every websocket connection.
    DisconnectWebsockets,
    /// Log the user back in (brokerage session, not primed).
    Login,
    /// Another platform logs in but this session keeps working for now:
    /// `authenticated: true, competing: true` (until `ssodh/init` with `compete` or a login).
    CompeteAuthenticated,
}

impl Faults {
    /// Check ranges; returns the offending key and why.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        for (key, rate) in [
            ("error_rate", self.error_rate),
            ("order_503_rate", self.order_503_rate),
            ("cancel_reject_rate", self.cancel_reject_rate),
            ("modify_reject_rate", self.modify_reject_rate),
            ("warn_state_rate", self.warn_state_rate),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return Err((key, format!("must be within 0..1, got {rate}")));
            }
        }
        if self.latency_ms > 60_000 || self.latency_jitter_ms > 60_000 {
            return Err((
                "latency_ms",
                "latency and jitter are at most 60000 ms each".into(),
            ));
        }
        if self.penalty_violations > 0 && self.penalty_window_secs == 0 {
            return Err((
                "penalty_window_secs",
                "must be positive when the penalty box is on".into(),
            ));
        }
        Ok(())
    }

    /// Apply a JSON object of changed switches (unknown keys and bad types are errors).
    pub fn patch(&mut self, patch: &serde_json::Value) -> Result<(), String> {
        let serde_json::Value::Object(changes) = patch else {
            return Err("body must be a JSON object of fault switches".into());
        };
        let mut current = serde_json::to_value(&*self).map_err(|e| e.to_string())?;
        if let serde_json::Value::Object(map) = &mut current {
            for (k, v) in changes {
                if !map.contains_key(k) {
                    return Err(format!("unknown fault switch {k:?}"));
                }
                map.insert(k.clone(), v.clone());
            }
        }
        let next: Faults = serde_path_to_error::deserialize(current)
            .map_err(|e| format!("{}: {}", e.path(), e.inner()))?;
        next.validate().map_err(|(k, m)| format!("{k}: {m}"))?;
        *self = next;
        Ok(())
    }
}

/// A token bucket on the service clock.
#[derive(Clone, Debug)]
struct Bucket {
    capacity: f64,
    tokens: f64,
    per_ms: f64,
    last: Millis,
}

impl Bucket {
    fn new(capacity: f64, period_ms: f64, now: Millis) -> Bucket {
        Bucket {
            capacity,
            tokens: capacity,
            per_ms: capacity / period_ms,
            last: now,
        }
    }

    fn take(&mut self, now: Millis) -> bool {
        let dt = now.saturating_sub(self.last) as f64;
        self.last = now.max(self.last);
        self.tokens = (self.tokens + dt * self.per_ms).min(self.capacity);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// IBKR's per-endpoint pacing table (§3): key, requests, period in ms.
fn endpoint_limit(method: &str, path: &str) -> Option<(&'static str, f64, f64)> {
    const SEC: f64 = 1_000.0;
    let limit = match (method, path) {
        ("GET", "iserver/marketdata/snapshot") => ("snapshot", 10.0, SEC),
        ("GET", "iserver/scanner/params") => ("scanner/params", 1.0, 900.0 * SEC),
        ("POST", "iserver/scanner/run") => ("scanner/run", 1.0, SEC),
        ("GET", "iserver/account/trades") => ("trades", 1.0, 5.0 * SEC),
        ("GET", "iserver/account/orders") => ("orders", 1.0, 5.0 * SEC),
        ("GET", "iserver/account/pnl/partitioned") => ("pnl", 1.0, 5.0 * SEC),
        ("GET", "portfolio/accounts") => ("portfolio/accounts", 1.0, 5.0 * SEC),
        ("GET", "portfolio/subaccounts") => ("portfolio/subaccounts", 1.0, 5.0 * SEC),
        ("POST", "pa/performance") => ("pa/performance", 1.0, 900.0 * SEC),
        ("POST", "pa/summary") => ("pa/summary", 1.0, 900.0 * SEC),
        ("POST", "pa/transactions") => ("pa/transactions", 1.0, 900.0 * SEC),
        (_, "tickle") => ("tickle", 1.0, SEC),
        ("GET", "sso/validate") => ("sso/validate", 1.0, 60.0 * SEC),
        (_, p) if p.starts_with("fyi/") => ("fyi", 1.0, SEC),
        _ => return None,
    };
    Some(limit)
}

/// What the limiter says about one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    /// Over a bucket: HTTP 429.
    Limited,
    /// In the penalty box: HTTP 429 until it ends.
    Penalty,
}

/// The global bucket, the per-endpoint buckets and the penalty box.
#[derive(Debug, Default)]
pub struct RateLimiter {
    global: Option<Bucket>,
    global_rate: u32,
    endpoints: HashMap<&'static str, Bucket>,
    violations: VecDeque<Millis>,
    penalty_until: Option<Millis>,
}

impl RateLimiter {
    /// Judge a `/v1/api` request (`path` without the `/v1/api/` prefix, normalised).
    pub fn check(&mut self, faults: &Faults, method: &str, path: &str, now: Millis) -> Verdict {
        if !faults.rate_limits {
            return Verdict::Allow;
        }
        if let Some(until) = self.penalty_until {
            if now < until {
                return Verdict::Penalty;
            }
            self.penalty_until = None;
            self.violations.clear();
        }
        if self.global_rate != faults.global_rate {
            self.global_rate = faults.global_rate;
            self.global = (faults.global_rate > 0)
                .then(|| Bucket::new(f64::from(faults.global_rate), 1_000.0, now));
        }
        let mut ok = self.global.as_mut().is_none_or(|b| b.take(now));
        if ok && let Some((key, n, period)) = endpoint_limit(method, path) {
            ok = self
                .endpoints
                .entry(key)
                .or_insert_with(|| Bucket::new(n, period, now))
                .take(now);
        }
        if ok {
            return Verdict::Allow;
        }
        self.violation(faults, now);
        Verdict::Limited
    }

    fn violation(&mut self, faults: &Faults, now: Millis) {
        if faults.penalty_violations == 0 {
            return;
        }
        let window = faults.penalty_window_secs.saturating_mul(1_000);
        self.violations.push_back(now);
        while self
            .violations
            .front()
            .is_some_and(|t| now.saturating_sub(*t) > window)
        {
            self.violations.pop_front();
        }
        if self.violations.len() >= faults.penalty_violations as usize {
            self.penalty_until =
                Some(now.saturating_add(faults.penalty_secs.saturating_mul(1_000)));
        }
    }

    /// Milliseconds of penalty left, if in the penalty box.
    pub fn penalty_left(&self, now: Millis) -> Option<Millis> {
        self.penalty_until.filter(|u| *u > now).map(|u| u - now)
    }

    /// Forget all buckets and the penalty box (after the switches change).
    pub fn reset(&mut self) {
        *self = RateLimiter::default();
    }
}

/// Seeded draws for injected errors and latency.
#[derive(Debug)]
pub struct FaultDice {
    rng: Rng,
}

impl FaultDice {
    pub fn new(seed: u64) -> FaultDice {
        FaultDice {
            rng: Rng::derive(seed, 0xFA17),
        }
    }

    /// Should this request get an injected 500?
    pub fn error(&mut self, faults: &Faults) -> bool {
        self.chance(faults.error_rate)
    }

    /// True with probability `rate` (no draw when the rate is 0, so switched-off faults do
    /// not shift the seeded sequence of the others).
    pub fn chance(&mut self, rate: f64) -> bool {
        rate > 0.0 && self.rng.next_f64() < rate
    }

    /// Latency to add to this request, in ms.
    pub fn latency(&mut self, faults: &Faults) -> u64 {
        faults
            .latency_ms
            .saturating_add(self.rng.range(0, faults.latency_jitter_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on() -> Faults {
        Faults {
            rate_limits: true,
            penalty_violations: 3,
            ..Faults::default()
        }
    }

    #[test]
    fn endpoint_bucket_refills() {
        let f = on();
        let mut rl = RateLimiter::default();
        assert_eq!(
            rl.check(&f, "GET", "iserver/account/orders", 0),
            Verdict::Allow
        );
        assert_eq!(
            rl.check(&f, "GET", "iserver/account/orders", 100),
            Verdict::Limited
        );
        assert_eq!(
            rl.check(&f, "GET", "iserver/account/orders", 5_200),
            Verdict::Allow
        );
        // Other endpoints are not affected.
        assert_eq!(
            rl.check(&f, "GET", "iserver/accounts", 5_300),
            Verdict::Allow
        );
    }

    #[test]
    fn global_bucket_and_penalty_box() {
        let f = on();
        let mut rl = RateLimiter::default();
        for _ in 0..10 {
            assert_eq!(rl.check(&f, "GET", "iserver/accounts", 0), Verdict::Allow);
        }
        assert_eq!(rl.check(&f, "GET", "iserver/accounts", 0), Verdict::Limited);
        assert_eq!(rl.check(&f, "GET", "iserver/accounts", 0), Verdict::Limited);
        assert_eq!(rl.check(&f, "GET", "iserver/accounts", 0), Verdict::Limited);
        // Third violation: penalty box, even after the bucket refilled.
        assert_eq!(
            rl.check(&f, "GET", "iserver/accounts", 5_000),
            Verdict::Penalty
        );
        assert_eq!(rl.penalty_left(5_000), Some(595_000));
        assert_eq!(
            rl.check(&f, "GET", "iserver/accounts", 600_001),
            Verdict::Allow
        );
    }

    #[test]
    fn off_means_allow() {
        let f = Faults::default();
        let mut rl = RateLimiter::default();
        for _ in 0..100 {
            assert_eq!(
                rl.check(&f, "GET", "iserver/marketdata/snapshot", 0),
                Verdict::Allow
            );
        }
    }

    #[test]
    fn patch_changes_named_switches_only() {
        let mut f = Faults::default();
        f.patch(&serde_json::json!({"error_rate": 0.5, "stale_feed": true}))
            .unwrap();
        assert_eq!(f.error_rate, 0.5);
        assert!(f.stale_feed);
        assert!(
            f.patch(&serde_json::json!({"nope": 1}))
                .unwrap_err()
                .contains("nope")
        );
        assert!(
            f.patch(&serde_json::json!({"error_rate": 2.0}))
                .unwrap_err()
                .contains("error_rate")
        );
        assert!(f.patch(&serde_json::json!({"latency_ms": "x"})).is_err());
        assert_eq!(f.error_rate, 0.5, "a failed patch changes nothing");
    }
}
