//! Rolling population standard deviation.

use super::error::IndicatorError;
use super::ring::Ring;
use super::tally::NonFiniteTally;

/// Population standard deviation over the last `period` inputs:
///
/// `mean = Σx / n`, `σ = sqrt(Σ(x − mean)² / n)`
///
/// Maintained with Welford-style add/remove updates of the mean and of
/// `M2 = Σ(x − mean)²` (no catastrophic `Σx² − n·mean²` cancellation), O(1) per update.
/// The updates work on `x − shift`, where `shift` is the window mean at the last exact
/// recomputation, so rounding error scales with the spread of the data rather than with
/// the price level. Every `period` updates the shift, mean and `M2` are recomputed exactly
/// with a two-pass sum over the window (amortised O(1)), so rounding error cannot
/// accumulate however many updates are made.
///
/// **Non-finite inputs:** while a NaN or infinity is in the window the standard deviation is
/// NaN (as a naive computation would give) and [`RollingStd::mean`] follows the rules of a
/// naive sum (NaN, or `±inf`). The indicator recovers once those values leave the window.
#[derive(Debug, Clone)]
pub struct RollingStd {
    window: Ring,
    /// Number of finite values in the window.
    finite: usize,
    /// Reference point subtracted from every value before the Welford updates.
    shift: f64,
    /// Mean of the shifted finite values in the window (window mean = `shift + mean`).
    mean: f64,
    /// Sum of squared deviations of the finite values from their mean.
    m2: f64,
    non_finite: NonFiniteTally,
}

impl RollingStd {
    /// Creates a rolling standard deviation over `period` values. Errors if `period` is 0.
    pub fn new(period: usize) -> Result<Self, IndicatorError> {
        Self::named("RollingStd", period)
    }

    /// Constructor used by composite indicators so errors name the outer indicator.
    pub(crate) fn named(indicator: &'static str, period: usize) -> Result<Self, IndicatorError> {
        Ok(Self {
            window: Ring::new(indicator, period)?,
            finite: 0,
            shift: 0.0,
            mean: 0.0,
            m2: 0.0,
            non_finite: NonFiniteTally::default(),
        })
    }

    /// Feeds one value; returns σ once `period` values have been seen, else `None`.
    pub fn update(&mut self, x: f64) -> Option<f64> {
        if self.non_finite.enter(x) {
            self.add(x);
        }
        if let Some(old) = self.window.push(x)
            && self.non_finite.leave(old)
        {
            self.remove(old);
        }
        if self.window.wrapped() {
            self.recompute();
        }
        self.value()
    }

    /// Welford insertion of a finite value.
    fn add(&mut self, x: f64) {
        if self.finite == 0 {
            self.shift = x;
            self.mean = 0.0;
            self.m2 = 0.0;
        }
        let y = x - self.shift;
        self.finite += 1;
        let delta = y - self.mean;
        self.mean += delta / self.finite as f64;
        self.m2 += delta * (y - self.mean);
    }

    /// Inverse Welford step: removes a finite value that is in the window.
    fn remove(&mut self, x: f64) {
        self.finite = self.finite.saturating_sub(1);
        if self.finite == 0 {
            self.mean = 0.0;
            self.m2 = 0.0;
            return;
        }
        let y = x - self.shift;
        let delta = y - self.mean;
        self.mean -= delta / self.finite as f64;
        self.m2 -= delta * (y - self.mean);
        if self.m2 < 0.0 {
            self.m2 = 0.0;
        }
    }

    /// Exact recomputation over the finite window values: the shift becomes the window mean,
    /// then the (corrected) two-pass algorithm gives the shifted mean and `m2`.
    fn recompute(&mut self) {
        let values = self.window.values();
        let finite = || values.iter().copied().filter(|v| v.is_finite());
        let (count, sum) = finite().fold((0usize, 0.0), |(c, s), v| (c + 1, s + v));
        self.finite = count;
        if count == 0 {
            self.shift = 0.0;
            self.mean = 0.0;
            self.m2 = 0.0;
            return;
        }
        let shift = sum / count as f64;
        let mean = finite().map(|v| v - shift).sum::<f64>() / count as f64;
        self.shift = shift;
        self.mean = mean;
        self.m2 = finite().map(|v| (v - shift - mean).powi(2)).sum();
    }

    /// The latest σ, `None` until `period` values have been seen.
    pub fn value(&self) -> Option<f64> {
        self.variance().map(f64::sqrt)
    }

    /// Population variance `σ² = M2 / n` of the window, `None` until `period` values have
    /// been seen (NaN while a non-finite value is in the window).
    pub fn variance(&self) -> Option<f64> {
        if !self.window.is_full() {
            return None;
        }
        if self.non_finite.count() > 0 {
            return Some(f64::NAN);
        }
        Some(self.m2 / self.window.capacity() as f64)
    }

    /// Mean of the window (the SMA), `None` until `period` values have been seen.
    pub fn mean(&self) -> Option<f64> {
        if !self.window.is_full() {
            return None;
        }
        Some(
            self.non_finite
                .sum_override()
                .unwrap_or(self.shift + self.mean),
        )
    }

    /// True once `period` values have been seen.
    pub fn is_ready(&self) -> bool {
        self.window.is_full()
    }

    /// Clears all state, as if freshly constructed.
    pub fn reset(&mut self) {
        self.window.clear();
        self.finite = 0;
        self.shift = 0.0;
        self.mean = 0.0;
        self.m2 = 0.0;
        self.non_finite.clear();
    }

    /// The window length.
    pub fn period(&self) -> usize {
        self.window.capacity()
    }
}
