//! Clocks. The kernel reads time only through [`Clock`]: a data-driven clock in backtests,
//! the system clock live, a manual clock in tests.

use crate::domain::Ts;

/// A source of "now" in UTC nanoseconds.
pub trait Clock: Send {
    fn now(&self) -> Ts;
    /// Event time has reached `ts`. A simulated clock moves there (never backwards); the
    /// live clock ignores it.
    fn advance_to(&mut self, ts: Ts);
    /// [`Self::advance_to`], then [`Self::now`], in one call (the kernel's per-event path).
    fn advance(&mut self, ts: Ts) -> Ts {
        self.advance_to(ts);
        self.now()
    }
}

/// Time driven by the data: `now` is the time of the latest event processed.
#[derive(Debug, Default, Clone)]
pub struct SimClock {
    now: Ts,
}

impl SimClock {
    pub fn new(start: Ts) -> Self {
        SimClock { now: start }
    }
}

impl Clock for SimClock {
    #[inline]
    fn now(&self) -> Ts {
        self.now
    }
    #[inline]
    fn advance_to(&mut self, ts: Ts) {
        if ts > self.now {
            self.now = ts;
        }
    }
}

/// Wall-clock time, for live and paper trading.
#[derive(Debug, Default, Clone, Copy)]
pub struct LiveClock;

impl Clock for LiveClock {
    fn now(&self) -> Ts {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        d.as_nanos().min(i64::MAX as u128) as i64
    }
    fn advance_to(&mut self, _ts: Ts) {}
}

/// A clock tests move by hand; shares its time through an `Arc` so a test can hold a handle.
#[derive(Debug, Default, Clone)]
pub struct ManualClock {
    now: std::sync::Arc<std::sync::atomic::AtomicI64>,
}

impl ManualClock {
    pub fn new(start: Ts) -> Self {
        ManualClock {
            now: std::sync::Arc::new(std::sync::atomic::AtomicI64::new(start)),
        }
    }
    pub fn set(&self, ts: Ts) {
        self.now.store(ts, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Ts {
        self.now.load(std::sync::atomic::Ordering::SeqCst)
    }
    fn advance_to(&mut self, _ts: Ts) {}
}
