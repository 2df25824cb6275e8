//! Wilder's average true range.

use super::error::{IndicatorError, check_period};

/// Wilder's average true range over `n` bars.
///
/// True range: `TR_0 = high − low` for the first bar, afterwards
/// `TR_t = max(high − low, |high − close_{t−1}|, |low − close_{t−1}|)`.
/// The first ATR is the simple mean of the first `n` true ranges (produced by the `n`-th
/// bar); afterwards `ATR_t = (ATR_{t−1}·(n − 1) + TR_t) / n`.
///
/// Inputs are not validated: bars are expected to satisfy `low <= high` (the engine's bar
/// loaders check this). A first bar with `high < low` gives a negative first true range.
///
/// **Non-finite inputs:** a NaN in any of high/low/close makes that (or the next) true range
/// NaN, and — because of the infinite-memory smoothing — every later ATR NaN until
/// [`Atr::reset`]. Infinite prices likewise make the ATR infinite or NaN.
#[derive(Debug, Clone)]
pub struct Atr {
    period: usize,
    prev_close: Option<f64>,
    /// Number of bars seen, saturating at `period`.
    bars: usize,
    /// Sum of true ranges during warm-up, the ATR afterwards.
    acc: f64,
    value: Option<f64>,
}

impl Atr {
    /// Creates an ATR over `period` bars. Errors if `period` is 0.
    pub fn new(period: usize) -> Result<Self, IndicatorError> {
        Ok(Self {
            period: check_period("Atr", period)?,
            prev_close: None,
            bars: 0,
            acc: 0.0,
            value: None,
        })
    }

    /// Feeds one bar; returns the ATR once `period` bars have been seen, else `None`.
    pub fn update(&mut self, high: f64, low: f64, close: f64) -> Option<f64> {
        let tr = true_range(high, low, self.prev_close.replace(close));
        let n = self.period as f64;
        if self.bars < self.period {
            self.acc += tr;
            self.bars += 1;
            if self.bars < self.period {
                return None;
            }
            self.acc /= n;
        } else {
            self.acc = (self.acc * (n - 1.0) + tr) / n;
        }
        self.value = Some(self.acc);
        self.value
    }

    /// The latest ATR, `None` until `period` bars have been seen.
    pub fn value(&self) -> Option<f64> {
        self.value
    }

    /// True once an ATR value is available.
    pub fn is_ready(&self) -> bool {
        self.value.is_some()
    }

    /// Clears all state, as if freshly constructed.
    pub fn reset(&mut self) {
        self.prev_close = None;
        self.bars = 0;
        self.acc = 0.0;
        self.value = None;
    }

    /// The number of bars averaged.
    pub fn period(&self) -> usize {
        self.period
    }
}

/// True range of a bar given the previous close (`None` for the first bar). NaN-propagating,
/// unlike `f64::max`, which would silently ignore a NaN operand.
fn true_range(high: f64, low: f64, prev_close: Option<f64>) -> f64 {
    let range = high - low;
    match prev_close {
        None => range,
        Some(pc) => nan_max(nan_max(range, (high - pc).abs()), (low - pc).abs()),
    }
}

fn nan_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.max(b)
    }
}
