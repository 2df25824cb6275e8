//! Moving average convergence/divergence.

use super::ema::Ema;
use super::error::IndicatorError;

/// One MACD reading.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MacdValue {
    /// `EMA_fast − EMA_slow`.
    pub macd: f64,
    /// EMA of the MACD line over the signal period.
    pub signal: f64,
    /// `macd − signal`.
    pub histogram: f64,
}

/// MACD with periods `(fast, slow, signal)` (commonly 12, 26, 9):
///
/// `macd = EMA_fast(x) − EMA_slow(x)`, `signal = EMA_signal(macd)`,
/// `histogram = macd − signal`.
///
/// All three EMAs are [`Ema`]s seeded with their first input (so the signal EMA is seeded
/// with the first MACD value, 0). Every input updates them, but readings are withheld until
/// the slow EMA has seen `slow` values and the signal EMA has then had `signal − 1` more,
/// i.e. the first reading comes with input number `slow + signal − 1`.
///
/// **Non-finite inputs:** the EMAs have infinite memory, so a NaN input makes every later
/// reading NaN (infinities give infinite or NaN readings) until [`Macd::reset`].
#[derive(Debug, Clone)]
pub struct Macd {
    fast: Ema,
    slow: Ema,
    signal: Ema,
    fast_period: usize,
    slow_period: usize,
    signal_period: usize,
    /// Number of inputs needed before the first reading.
    warmup: u64,
    latest: Option<MacdValue>,
}

impl Macd {
    /// Creates a MACD. Errors if any period is 0 or `fast >= slow`.
    pub fn new(fast: usize, slow: usize, signal: usize) -> Result<Self, IndicatorError> {
        let fast_ema = Ema::named("Macd(fast)", fast)?;
        let slow_ema = Ema::named("Macd(slow)", slow)?;
        let signal_ema = Ema::named("Macd(signal)", signal)?;
        if fast >= slow {
            return Err(IndicatorError::MacdPeriodOrder { fast, slow });
        }
        let warmup = (slow as u64).saturating_add(signal as u64 - 1);
        Ok(Self {
            fast: fast_ema,
            slow: slow_ema,
            signal: signal_ema,
            fast_period: fast,
            slow_period: slow,
            signal_period: signal,
            warmup,
            latest: None,
        })
    }

    /// Feeds one value; returns the reading once `slow + signal − 1` values have been seen,
    /// else `None`.
    pub fn update(&mut self, x: f64) -> Option<MacdValue> {
        let macd = self.fast.next(x) - self.slow.next(x);
        let signal = self.signal.next(macd);
        self.latest = Some(MacdValue {
            macd,
            signal,
            histogram: macd - signal,
        });
        self.value()
    }

    /// The latest reading, `None` until `slow + signal − 1` values have been seen.
    pub fn value(&self) -> Option<MacdValue> {
        if self.is_ready() { self.latest } else { None }
    }

    /// True once `slow + signal − 1` values have been seen.
    pub fn is_ready(&self) -> bool {
        self.slow.count() >= self.warmup
    }

    /// Clears all state, as if freshly constructed.
    pub fn reset(&mut self) {
        self.fast.reset();
        self.slow.reset();
        self.signal.reset();
        self.latest = None;
    }

    /// The periods as `(fast, slow, signal)`.
    pub fn period(&self) -> (usize, usize, usize) {
        (self.fast_period, self.slow_period, self.signal_period)
    }
}
