//! Typed errors returned by indicator constructors.

use thiserror::Error;

/// Why an indicator could not be constructed.
///
/// Constructors validate their parameters up front so that `update` never has to fail:
/// once an indicator exists, every input is accepted (see each type's docs for how
/// non-finite inputs are handled).
#[derive(Debug, Clone, Copy, PartialEq, Error)]
pub enum IndicatorError {
    /// A look-back period of zero was requested. `indicator` names the indicator (and, for
    /// composite indicators such as MACD, which of its periods) that was zero.
    #[error("{indicator}: period must be at least 1, got 0")]
    ZeroPeriod {
        /// Indicator (or indicator component) whose period was zero, e.g. `"Sma"`, `"Macd(slow)"`.
        indicator: &'static str,
    },
    /// The ring buffer for the requested period could not be allocated (the period is larger
    /// than the address space or the allocator refused).
    #[error("{indicator}: cannot allocate a window of {period} values")]
    PeriodTooLarge {
        /// Indicator whose window could not be allocated.
        indicator: &'static str,
        /// The requested period.
        period: usize,
    },
    /// An EMA smoothing factor outside `(0, 1]` (or not finite) was requested.
    #[error("Ema: smoothing factor alpha must be finite and in (0, 1], got {alpha}")]
    InvalidAlpha {
        /// The rejected smoothing factor.
        alpha: f64,
    },
    /// A band-width multiplier that is negative or not finite was requested.
    #[error("{indicator}: band multiplier k must be finite and >= 0, got {k}")]
    InvalidMultiplier {
        /// Indicator whose multiplier was rejected.
        indicator: &'static str,
        /// The rejected multiplier.
        k: f64,
    },
    /// MACD's fast period must be strictly shorter than its slow period.
    #[error("Macd: fast period ({fast}) must be shorter than slow period ({slow})")]
    MacdPeriodOrder {
        /// The requested fast EMA period.
        fast: usize,
        /// The requested slow EMA period.
        slow: usize,
    },
}

/// Rejects a zero period for `indicator`.
pub(crate) fn check_period(
    indicator: &'static str,
    period: usize,
) -> Result<usize, IndicatorError> {
    if period == 0 {
        Err(IndicatorError::ZeroPeriod { indicator })
    } else {
        Ok(period)
    }
}
