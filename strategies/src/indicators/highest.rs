//! Rolling maximum.

use super::error::IndicatorError;
use super::monotonic::{Extreme, RollingExtreme};

/// Maximum of the last `period` inputs: `Highest_t = max(x_{t−n+1}, …, x_t)`.
///
/// Kept with a monotonic deque (amortised O(1) per update) stored in a ring buffer
/// allocated once in [`Highest::new`]; updates never allocate.
///
/// **Non-finite inputs:** infinities are ordinary values here. A NaN makes the output NaN
/// while it is inside the window; the indicator recovers once it leaves.
#[derive(Debug, Clone)]
pub struct Highest {
    inner: RollingExtreme,
}

impl Highest {
    /// Creates a rolling maximum over `period` values. Errors if `period` is 0.
    pub fn new(period: usize) -> Result<Self, IndicatorError> {
        Ok(Self {
            inner: RollingExtreme::new("Highest", Extreme::Max, period)?,
        })
    }

    /// Feeds one value; returns the maximum once `period` values have been seen, else `None`.
    pub fn update(&mut self, x: f64) -> Option<f64> {
        self.inner.update(x)
    }

    /// The latest maximum, `None` until `period` values have been seen.
    pub fn value(&self) -> Option<f64> {
        self.inner.value()
    }

    /// True once `period` values have been seen.
    pub fn is_ready(&self) -> bool {
        self.inner.is_ready()
    }

    /// Clears all state, as if freshly constructed.
    pub fn reset(&mut self) {
        self.inner.reset();
    }

    /// The window length.
    pub fn period(&self) -> usize {
        self.inner.period()
    }
}
