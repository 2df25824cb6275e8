//! Wilder's relative strength index.

use super::error::{IndicatorError, check_period};

/// Wilder's RSI over `n` price changes.
///
/// For each close after the first, `gain = max(Δ, 0)` and `loss = max(−Δ, 0)` with
/// `Δ = close_t − close_{t−1}`. The first averages are the simple means of the first `n`
/// gains and losses; afterwards Wilder smoothing applies:
/// `avg_t = (avg_{t−1}·(n − 1) + x_t) / n`. Then `RS = avg_gain / avg_loss` and
/// `RSI = 100 − 100 / (1 + RS)`, with `RSI = 100` when `avg_loss = 0` (and `50` when both
/// averages are 0, i.e. a flat market).
///
/// The first RSI is produced by the `n + 1`-th close.
///
/// **Non-finite inputs:** a NaN close makes the averages NaN, so every later RSI is NaN;
/// infinite closes make the averages infinite (RSI 100, then NaN). The smoothing has
/// infinite memory, so only [`Rsi::reset`] recovers.
#[derive(Debug, Clone)]
pub struct Rsi {
    period: usize,
    prev_close: Option<f64>,
    /// Number of changes seen, saturating at `period`.
    changes: usize,
    avg_gain: f64,
    avg_loss: f64,
    value: Option<f64>,
}

impl Rsi {
    /// Creates an RSI over `period` changes. Errors if `period` is 0.
    pub fn new(period: usize) -> Result<Self, IndicatorError> {
        Ok(Self {
            period: check_period("Rsi", period)?,
            prev_close: None,
            changes: 0,
            avg_gain: 0.0,
            avg_loss: 0.0,
            value: None,
        })
    }

    /// Feeds one close; returns the RSI once `period + 1` closes have been seen, else `None`.
    pub fn update(&mut self, close: f64) -> Option<f64> {
        // The first close only seeds `prev_close`.
        let prev = self.prev_close.replace(close)?;
        let (gain, loss) = split_change(close - prev);
        let n = self.period as f64;
        if self.changes < self.period {
            // Warm-up: accumulate sums, turn them into simple means at the n-th change.
            self.avg_gain += gain;
            self.avg_loss += loss;
            self.changes += 1;
            if self.changes < self.period {
                return None;
            }
            self.avg_gain /= n;
            self.avg_loss /= n;
        } else {
            self.avg_gain = (self.avg_gain * (n - 1.0) + gain) / n;
            self.avg_loss = (self.avg_loss * (n - 1.0) + loss) / n;
        }
        let rsi = rsi_from_averages(self.avg_gain, self.avg_loss);
        self.value = Some(rsi);
        self.value
    }

    /// The latest RSI, `None` until `period + 1` closes have been seen.
    pub fn value(&self) -> Option<f64> {
        self.value
    }

    /// True once an RSI value is available.
    pub fn is_ready(&self) -> bool {
        self.value.is_some()
    }

    /// Clears all state, as if freshly constructed.
    pub fn reset(&mut self) {
        self.prev_close = None;
        self.changes = 0;
        self.avg_gain = 0.0;
        self.avg_loss = 0.0;
        self.value = None;
    }

    /// The number of changes averaged.
    pub fn period(&self) -> usize {
        self.period
    }
}

/// Splits a price change into `(gain, loss)`, both >= 0; a NaN change gives `(NaN, NaN)`.
fn split_change(delta: f64) -> (f64, f64) {
    if delta > 0.0 {
        (delta, 0.0)
    } else if delta < 0.0 {
        (0.0, -delta)
    } else if delta == 0.0 {
        (0.0, 0.0)
    } else {
        (f64::NAN, f64::NAN)
    }
}

/// `100 − 100 / (1 + avg_gain / avg_loss)` with the zero-loss conventions (100, or 50 when
/// both averages are zero).
fn rsi_from_averages(avg_gain: f64, avg_loss: f64) -> f64 {
    if avg_loss == 0.0 {
        if avg_gain == 0.0 { 50.0 } else { 100.0 }
    } else {
        100.0 - 100.0 / (1.0 + avg_gain / avg_loss)
    }
}
