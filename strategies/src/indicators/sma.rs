//! Simple moving average.

use super::error::IndicatorError;
use super::ring::Ring;
use super::tally::NonFiniteTally;

/// Simple moving average over the last `period` inputs:
///
/// `SMA_t = (x_{t-n+1} + … + x_t) / n`
///
/// Kept as a running sum (add the new value, subtract the evicted one) for O(1) updates. To
/// stop floating-point drift from accumulating over millions of updates, the sum is
/// recomputed exactly from the window every `period` updates (amortised O(1)).
///
/// **Non-finite inputs:** the output is what a naive sum over the window would give — NaN
/// while a NaN (or both `+inf` and `-inf`) is in the window, `±inf` while only infinities of
/// one sign are — and the SMA recovers once those values leave the window.
#[derive(Debug, Clone)]
pub struct Sma {
    window: Ring,
    /// Sum of the finite values in the window.
    sum: f64,
    non_finite: NonFiniteTally,
    value: Option<f64>,
}

impl Sma {
    /// Creates an SMA over `period` values. Errors if `period` is 0 (or too large to allocate).
    pub fn new(period: usize) -> Result<Self, IndicatorError> {
        Ok(Self {
            window: Ring::new("Sma", period)?,
            sum: 0.0,
            non_finite: NonFiniteTally::default(),
            value: None,
        })
    }

    /// Feeds one value; returns the SMA once `period` values have been seen, else `None`.
    pub fn update(&mut self, x: f64) -> Option<f64> {
        if self.non_finite.enter(x) {
            self.sum += x;
        }
        if let Some(old) = self.window.push(x)
            && self.non_finite.leave(old)
        {
            self.sum -= old;
        }
        if self.window.wrapped() {
            self.sum = self.window.values().iter().filter(|v| v.is_finite()).sum();
        }
        self.value = if self.window.is_full() {
            Some(
                self.non_finite
                    .sum_override()
                    .unwrap_or(self.sum / self.window.capacity() as f64),
            )
        } else {
            None
        };
        self.value
    }

    /// The latest SMA, `None` until `period` values have been seen.
    pub fn value(&self) -> Option<f64> {
        self.value
    }

    /// True once `period` values have been seen.
    pub fn is_ready(&self) -> bool {
        self.window.is_full()
    }

    /// Clears all state, as if freshly constructed.
    pub fn reset(&mut self) {
        self.window.clear();
        self.sum = 0.0;
        self.non_finite.clear();
        self.value = None;
    }

    /// The window length.
    pub fn period(&self) -> usize {
        self.window.capacity()
    }
}
