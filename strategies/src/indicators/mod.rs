//! Streaming technical indicators with O(1) (amortised) updates.
//!
//! Every indicator is a small state machine fed one value (or bar) at a time:
//!
//! * `new(period)` validates parameters and allocates any window buffer once, returning
//!   [`IndicatorError`] for a zero period (or other invalid parameter);
//! * `update(x)` never allocates and returns `Some(output)` once the indicator is warm,
//!   `None` before (except [`Ema`], which is defined from its first input);
//! * `value()`, `is_ready()`, `reset()` and `period()` behave the same way everywhere.
//!
//! All math is `f64`. Non-finite inputs never panic; each type documents how they
//! propagate. Windowed indicators ([`Sma`], [`RollingStd`], [`Bollinger`], [`Highest`],
//! [`Lowest`]) recover once the offending value leaves the window; recursive ones
//! ([`Ema`], [`Rsi`], [`Atr`], [`Macd`]) stay NaN until `reset()`.

mod atr;
mod bollinger;
mod ema;
mod error;
mod highest;
mod lowest;
mod macd;
mod monotonic;
mod ring;
mod rolling_std;
mod rsi;
mod sma;
mod tally;

pub use atr::Atr;
pub use bollinger::{Bollinger, BollingerValue};
pub use ema::Ema;
pub use error::IndicatorError;
pub use highest::Highest;
pub use lowest::Lowest;
pub use macd::{Macd, MacdValue};
pub use rolling_std::RollingStd;
pub use rsi::Rsi;
pub use sma::Sma;
