//! Bollinger bands.

use super::error::IndicatorError;
use super::rolling_std::RollingStd;

/// One Bollinger bands reading.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BollingerValue {
    /// `middle + k·σ`.
    pub upper: f64,
    /// The simple moving average of the window.
    pub middle: f64,
    /// `middle − k·σ`.
    pub lower: f64,
}

/// Bollinger bands over `n` values with width multiplier `k`:
///
/// `middle = SMA_n`, `upper = middle + k·σ_n`, `lower = middle − k·σ_n`, where `σ_n` is the
/// population standard deviation of the same window (see [`RollingStd`] for how it is kept
/// accurate in O(1)).
///
/// **Non-finite inputs:** as for [`RollingStd`]: while a NaN or infinity is in the window the
/// bands are NaN (the middle follows naive-sum rules: NaN or `±inf`); the indicator recovers
/// once the value leaves the window.
#[derive(Debug, Clone)]
pub struct Bollinger {
    stats: RollingStd,
    k: f64,
}

impl Bollinger {
    /// Creates Bollinger bands over `period` values with multiplier `k` (commonly 20 and 2.0).
    /// Errors if `period` is 0 or `k` is negative or not finite.
    pub fn new(period: usize, k: f64) -> Result<Self, IndicatorError> {
        if !(k.is_finite() && k >= 0.0) {
            return Err(IndicatorError::InvalidMultiplier {
                indicator: "Bollinger",
                k,
            });
        }
        Ok(Self {
            stats: RollingStd::named("Bollinger", period)?,
            k,
        })
    }

    /// Feeds one value; returns the bands once `period` values have been seen, else `None`.
    pub fn update(&mut self, x: f64) -> Option<BollingerValue> {
        self.stats.update(x);
        self.value()
    }

    /// The latest bands, `None` until `period` values have been seen.
    pub fn value(&self) -> Option<BollingerValue> {
        let middle = self.stats.mean()?;
        let width = self.k * self.stats.value()?;
        Some(BollingerValue {
            upper: middle + width,
            middle,
            lower: middle - width,
        })
    }

    /// True once `period` values have been seen.
    pub fn is_ready(&self) -> bool {
        self.stats.is_ready()
    }

    /// Clears all state, as if freshly constructed.
    pub fn reset(&mut self) {
        self.stats.reset();
    }

    /// The window length.
    pub fn period(&self) -> usize {
        self.stats.period()
    }

    /// The band-width multiplier `k`.
    pub fn k(&self) -> f64 {
        self.k
    }
}
