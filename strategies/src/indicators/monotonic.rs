//! Rolling maximum / minimum with a monotonic deque stored in a fixed ring buffer.

use super::error::{IndicatorError, check_period};
use super::ring::alloc_filled;

/// Which extreme a [`RollingExtreme`] tracks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Extreme {
    Max,
    Min,
}

/// Rolling max or min of the last `period` inputs.
///
/// The deque holds `(sequence number, value)` candidates whose values are monotonic from
/// front to back (decreasing for max, increasing for min); the front is the answer. Each
/// input is pushed once and popped at most once, so updates are amortised O(1). At most
/// `period` candidates are ever live, so the ring buffer allocated in `new` never grows.
///
/// NaN inputs are not stored as candidates; instead the sequence number of the latest NaN is
/// remembered and the output is NaN while that NaN is inside the window.
#[derive(Debug, Clone)]
pub(crate) struct RollingExtreme {
    kind: Extreme,
    period: usize,
    slots: Vec<(u64, f64)>,
    /// Slot index of the deque front.
    front: usize,
    /// Number of live candidates.
    len: usize,
    /// Number of inputs seen; the next input gets this sequence number.
    seen: u64,
    last_nan: Option<u64>,
}

impl RollingExtreme {
    pub(crate) fn new(
        indicator: &'static str,
        kind: Extreme,
        period: usize,
    ) -> Result<Self, IndicatorError> {
        let period = check_period(indicator, period)?;
        Ok(Self {
            kind,
            period,
            slots: alloc_filled(indicator, period, (0, 0.0))?,
            front: 0,
            len: 0,
            seen: 0,
            last_nan: None,
        })
    }

    fn slot(&self, offset: usize) -> usize {
        let i = self.front + offset;
        if i >= self.period { i - self.period } else { i }
    }

    /// True when candidate `old` can never be the answer again once `new` is in the window.
    fn dominated(&self, old: f64, new: f64) -> bool {
        match self.kind {
            Extreme::Max => old <= new,
            Extreme::Min => old >= new,
        }
    }

    pub(crate) fn update(&mut self, x: f64) -> Option<f64> {
        let seq = self.seen;
        self.seen = self.seen.saturating_add(1);
        // Oldest sequence number still inside the window after this input.
        let oldest = (seq + 1).saturating_sub(self.period as u64);
        while self.len > 0 && self.slots[self.front].0 < oldest {
            self.front = self.slot(1);
            self.len -= 1;
        }
        if x.is_nan() {
            self.last_nan = Some(seq);
        } else {
            while self.len > 0 && self.dominated(self.slots[self.slot(self.len - 1)].1, x) {
                self.len -= 1;
            }
            let back = self.slot(self.len);
            self.slots[back] = (seq, x);
            self.len += 1;
        }
        self.value()
    }

    pub(crate) fn value(&self) -> Option<f64> {
        if !self.is_ready() {
            return None;
        }
        let oldest = self.seen.saturating_sub(self.period as u64);
        if self.last_nan.is_some_and(|nan| nan >= oldest) {
            return Some(f64::NAN);
        }
        // Every non-NaN input enters the deque and the window holds at least one input, so
        // the deque is non-empty unless the whole window is NaN (handled above).
        (self.len > 0).then(|| self.slots[self.front].1)
    }

    pub(crate) fn is_ready(&self) -> bool {
        self.seen >= self.period as u64
    }

    pub(crate) fn reset(&mut self) {
        self.front = 0;
        self.len = 0;
        self.seen = 0;
        self.last_nan = None;
    }

    pub(crate) fn period(&self) -> usize {
        self.period
    }
}
