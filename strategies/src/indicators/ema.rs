//! Exponential moving average.

use super::error::{IndicatorError, check_period};

/// Exponential moving average, seeded with the first input:
///
/// `EMA_0 = x_0`, `EMA_t = α·x_t + (1 − α)·EMA_{t−1}`, with `α = 2 / (n + 1)` for
/// [`Ema::new`]`(n)` or a given `α` for [`Ema::with_alpha`].
///
/// Because it is seeded with the first value, the EMA has a value from the first update on
/// ([`Ema::is_ready`] is true after one update). The early values lean heavily on the seed;
/// strategies that want a "warm" EMA should wait until [`Ema::count`] reaches the period.
///
/// **Non-finite inputs:** the EMA has infinite memory, so a NaN input makes every later value
/// NaN, and an infinite input makes later values infinite or NaN, until [`Ema::reset`].
#[derive(Debug, Clone)]
pub struct Ema {
    alpha: f64,
    one_minus_alpha: f64,
    period: Option<usize>,
    /// The latest EMA; meaningful once `count > 0`.
    value: f64,
    count: u64,
}

impl Ema {
    /// Creates an EMA with `α = 2 / (period + 1)`. Errors if `period` is 0.
    pub fn new(period: usize) -> Result<Self, IndicatorError> {
        Self::named("Ema", period)
    }

    /// Constructor used by composite indicators so errors name the outer indicator.
    pub(crate) fn named(indicator: &'static str, period: usize) -> Result<Self, IndicatorError> {
        let period = check_period(indicator, period)?;
        let alpha = 2.0 / (period as f64 + 1.0);
        Ok(Self::from_parts(alpha, Some(period)))
    }

    /// Creates an EMA with an explicit smoothing factor `α ∈ (0, 1]` (`α = 1` tracks the input
    /// exactly). Errors with [`IndicatorError::InvalidAlpha`] otherwise.
    pub fn with_alpha(alpha: f64) -> Result<Self, IndicatorError> {
        if !(alpha.is_finite() && alpha > 0.0 && alpha <= 1.0) {
            return Err(IndicatorError::InvalidAlpha { alpha });
        }
        Ok(Self::from_parts(alpha, None))
    }

    fn from_parts(alpha: f64, period: Option<usize>) -> Self {
        Self {
            alpha,
            one_minus_alpha: 1.0 - alpha,
            period,
            value: 0.0,
            count: 0,
        }
    }

    /// Feeds one value and returns the new EMA (always `Some`: the EMA is defined from the
    /// first value on).
    #[inline]
    pub fn update(&mut self, x: f64) -> Option<f64> {
        Some(self.next(x))
    }

    /// [`Ema::update`] without the `Option`, for composite indicators.
    #[inline]
    pub(crate) fn next(&mut self, x: f64) -> f64 {
        let ema = if self.count == 0 {
            x
        } else {
            self.alpha * x + self.one_minus_alpha * self.value
        };
        self.value = ema;
        self.count = self.count.saturating_add(1);
        ema
    }

    /// The latest EMA, `None` before the first update.
    pub fn value(&self) -> Option<f64> {
        (self.count > 0).then_some(self.value)
    }

    /// True once at least one value has been seen.
    pub fn is_ready(&self) -> bool {
        self.count > 0
    }

    /// Number of values seen since construction or the last reset.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Clears all state, as if freshly constructed.
    pub fn reset(&mut self) {
        self.value = 0.0;
        self.count = 0;
    }

    /// The period `n` this EMA was built with, or `None` when built with
    /// [`Ema::with_alpha`].
    pub fn period(&self) -> Option<usize> {
        self.period
    }

    /// The smoothing factor `α`.
    pub fn alpha(&self) -> f64 {
        self.alpha
    }
}
