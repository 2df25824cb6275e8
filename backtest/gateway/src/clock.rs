//! The service clock: monotonic milliseconds since start-up plus a manual offset.
//!
//! Session idle expiry, reply-id expiry, rate-limit buckets, the penalty box and scheduled
//! faults all read this clock. The control endpoint can move it forward
//! (`POST /control/clock/advance`), so tests exercise time-outs without sleeping.

use std::sync::atomic::{AtomicU64, Ordering};

use tokio::time::Instant;

/// Milliseconds on the service clock.
pub type Millis = u64;

#[derive(Debug)]
pub struct ServiceClock {
    start: Instant,
    offset_ms: AtomicU64,
}

impl ServiceClock {
    pub fn new() -> ServiceClock {
        ServiceClock {
            start: Instant::now(),
            offset_ms: AtomicU64::new(0),
        }
    }

    /// Milliseconds since start-up, including any manual advance.
    pub fn now_ms(&self) -> Millis {
        let real = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        real.saturating_add(self.offset_ms.load(Ordering::Relaxed))
    }

    /// Milliseconds added by [`ServiceClock::advance`].
    pub fn offset_ms(&self) -> Millis {
        self.offset_ms.load(Ordering::Relaxed)
    }

    /// Move the clock forward by `ms`.
    pub fn advance(&self, ms: Millis) {
        self.offset_ms.fetch_add(ms, Ordering::Relaxed);
    }
}

impl Default for ServiceClock {
    fn default() -> Self {
        ServiceClock::new()
    }
}

/// Wall-clock epoch milliseconds, for informational timestamps only (heartbeats,
/// `lastAccessed`); nothing the emulator decides depends on it.
pub fn wall_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
