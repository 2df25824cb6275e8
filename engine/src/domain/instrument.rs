//! Instruments: what is traded, with the tick, lot and multiplier every order is rounded to.

use rust_decimal::prelude::*;
use serde::{Deserialize, Serialize};

/// Index of an instrument in the run's instrument table (dense, starting at 0).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
pub struct InstrumentId(pub u32);

impl InstrumentId {
    #[inline]
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// IBKR security types (`secType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum SecType {
    #[default]
    Stk,
    Fut,
    Opt,
    Cash,
    Ind,
    Cfd,
    Bond,
    Crypto,
}

impl SecType {
    pub fn as_str(self) -> &'static str {
        match self {
            SecType::Stk => "STK",
            SecType::Fut => "FUT",
            SecType::Opt => "OPT",
            SecType::Cash => "CASH",
            SecType::Ind => "IND",
            SecType::Cfd => "CFD",
            SecType::Bond => "BOND",
            SecType::Crypto => "CRYPTO",
        }
    }
}

/// Why an instrument definition is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InstrumentError {
    #[error("instrument {symbol}: {field} must be positive, got {value}")]
    NotPositive {
        symbol: String,
        field: &'static str,
        value: Decimal,
    },
    #[error("instrument {symbol}: tick size {tick} has more than 12 decimal places")]
    TickTooFine { symbol: String, tick: Decimal },
    #[error("instrument: symbol must not be empty")]
    EmptySymbol,
}

/// A tradable instrument.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Instrument {
    /// Position in the run's instrument table; assigned by the engine.
    #[serde(skip)]
    pub id: InstrumentId,
    pub symbol: String,
    /// IBKR contract id, when known.
    #[serde(default)]
    pub conid: Option<i64>,
    #[serde(default)]
    pub sec_type: SecType,
    #[serde(default = "default_exchange")]
    pub exchange: String,
    #[serde(default = "default_currency")]
    pub currency: String,
    /// Minimum price increment.
    #[serde(default = "default_tick")]
    pub tick_size: Decimal,
    /// Minimum quantity increment.
    #[serde(default = "default_one")]
    pub lot_size: Decimal,
    /// Contract multiplier (1 for stocks, 50 for ES).
    #[serde(default = "default_one")]
    pub multiplier: Decimal,
    /// Exchange time zone (IANA name), for sessions and naive timestamps.
    #[serde(default = "default_tz")]
    pub timezone: String,
    /// Initial margin per contract (futures), in the account currency. Without it a margin
    /// account holds `[risk] initial_margin` of the position's value.
    #[serde(default)]
    pub initial_margin: Option<Decimal>,
    /// `10^price_scale` as f64: converts an f64 price to a Decimal mantissa in O(1).
    #[serde(skip)]
    price_factor: f64,
    #[serde(skip)]
    price_scale: u32,
    /// `Some(k)` when the tick is exactly 10⁻ᵏ (rounding is then a cheap `round_dp`).
    #[serde(skip)]
    tick_dp: Option<u32>,
    /// `Some(k)` when the lot is exactly 10⁻ᵏ.
    #[serde(skip)]
    lot_dp: Option<u32>,
}

/// `Some(k)` when `inc` is exactly 10⁻ᵏ (k ≥ 0).
fn pow10_dp(inc: Decimal) -> Option<u32> {
    let n = inc.normalize();
    (n.mantissa() == 1).then(|| n.scale())
}

fn default_exchange() -> String {
    "SMART".into()
}
fn default_currency() -> String {
    "USD".into()
}
fn default_tick() -> Decimal {
    Decimal::new(1, 2)
}
fn default_one() -> Decimal {
    Decimal::ONE
}
fn default_tz() -> String {
    "America/New_York".into()
}

impl Instrument {
    /// A US stock with a 0.01 tick, lot 1, multiplier 1, routed SMART in USD.
    pub fn stock(symbol: &str) -> Instrument {
        let mut i = Instrument {
            id: InstrumentId(0),
            symbol: symbol.to_string(),
            conid: None,
            sec_type: SecType::Stk,
            exchange: default_exchange(),
            currency: default_currency(),
            tick_size: default_tick(),
            lot_size: Decimal::ONE,
            multiplier: Decimal::ONE,
            timezone: default_tz(),
            initial_margin: None,
            price_factor: 0.0,
            price_scale: 0,
            tick_dp: None,
            lot_dp: None,
        };
        i.prepare().expect("built-in stock definition is valid");
        i
    }

    /// Validate the definition and precompute the price conversion factors. Called by the
    /// engine for every configured instrument; call it yourself after editing fields.
    pub fn prepare(&mut self) -> Result<(), InstrumentError> {
        if self.symbol.trim().is_empty() {
            return Err(InstrumentError::EmptySymbol);
        }
        for (field, value) in [
            ("tick_size", self.tick_size),
            ("lot_size", self.lot_size),
            ("multiplier", self.multiplier),
        ] {
            if value <= Decimal::ZERO {
                return Err(InstrumentError::NotPositive {
                    symbol: self.symbol.clone(),
                    field,
                    value,
                });
            }
        }
        let scale = self.tick_size.normalize().scale();
        if scale > 12 {
            return Err(InstrumentError::TickTooFine {
                symbol: self.symbol.clone(),
                tick: self.tick_size,
            });
        }
        // Keep two extra digits so off-tick market data is not distorted when marked to market.
        self.price_scale = (scale + 2).min(14);
        self.price_factor = 10f64.powi(self.price_scale as i32);
        self.tick_dp = pow10_dp(self.tick_size);
        self.lot_dp = pow10_dp(self.lot_size);
        Ok(())
    }

    /// Builder: set the IBKR contract id.
    pub fn with_conid(mut self, conid: i64) -> Self {
        self.conid = Some(conid);
        self
    }

    /// Builder: set tick size, lot size and multiplier.
    pub fn with_specs(mut self, tick: Decimal, lot: Decimal, multiplier: Decimal) -> Self {
        self.tick_size = tick;
        self.lot_size = lot;
        self.multiplier = multiplier;
        self.prepare().expect("valid specs");
        self
    }

    /// Decimal places of the prices [`Self::price_from_f64`] produces (tick decimals + 2).
    #[inline]
    pub fn price_scale(&self) -> u32 {
        self.price_scale
    }

    /// A market-data price as an integer mantissa at [`Self::price_scale`] decimals, rounded
    /// half away from zero; `None` for non-finite prices or beyond ±9·10¹⁸ units.
    #[inline]
    pub fn price_mantissa_from_f64(&self, px: f64) -> Option<i64> {
        let x = px * self.price_factor;
        // NaN fails the comparison, ±∞ exceeds the bound.
        if x.abs() < 9.0e18 {
            // Round half away from zero without a libm call: add ±0.5, truncate.
            Some((x + 0.5f64.copysign(x)) as i64)
        } else {
            None
        }
    }

    /// Convert a market-data price to `Decimal` (fixed scale = tick decimals + 2), in O(1)
    /// without going through strings. Non-finite input gives `None`.
    #[inline]
    pub fn price_from_f64(&self, px: f64) -> Option<Decimal> {
        if !px.is_finite() {
            return None;
        }
        if let Some(m) = self.price_mantissa_from_f64(px) {
            return Some(crate::money::decimal_from_i64(m, self.price_scale));
        }
        let m = (px * self.price_factor).round();
        if m.abs() >= 7.9e28 {
            return None;
        }
        Some(Decimal::from_i128_with_scale(m as i128, self.price_scale))
    }

    /// `Some(k)` when the tick size is exactly 10⁻ᵏ.
    #[inline]
    pub fn tick_decimals(&self) -> Option<u32> {
        self.tick_dp
    }

    /// Round a price to the nearest tick (half away from zero).
    pub fn round_price(&self, px: Decimal) -> Decimal {
        match self.tick_dp {
            // Already on the grid (at most `dp` decimals): nothing to round.
            Some(dp) if px.scale() <= dp => px,
            Some(dp) => px.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero),
            None => round_to_increment(px, self.tick_size, RoundingStrategy::MidpointAwayFromZero),
        }
    }

    /// Round a price to the tick in the direction that is worse for the trader:
    /// up for buys, down for sells (used for slippage).
    pub fn round_price_adverse(&self, px: Decimal, buy: bool) -> Decimal {
        let strategy = if buy {
            RoundingStrategy::ToPositiveInfinity
        } else {
            RoundingStrategy::ToNegativeInfinity
        };
        match self.tick_dp {
            Some(dp) if px.scale() <= dp => px,
            Some(dp) => px.round_dp_with_strategy(dp, strategy),
            None => round_to_increment(px, self.tick_size, strategy),
        }
    }

    /// Round a quantity down (toward zero) to a whole number of lots.
    pub fn round_qty(&self, qty: Decimal) -> Decimal {
        match self.lot_dp {
            Some(dp) if qty.scale() <= dp => qty,
            Some(dp) => qty.round_dp_with_strategy(dp, RoundingStrategy::ToZero),
            None => round_to_increment(qty, self.lot_size, RoundingStrategy::ToZero),
        }
    }

    /// True when `px` is a whole number of ticks.
    pub fn is_on_tick(&self, px: Decimal) -> bool {
        match self.tick_dp {
            Some(dp) => px.scale() <= dp || px.round_dp(dp) == px,
            None => (px % self.tick_size).is_zero(),
        }
    }

    /// True when `qty` is a whole number of lots.
    pub fn is_on_lot(&self, qty: Decimal) -> bool {
        match self.lot_dp {
            Some(dp) => qty.scale() <= dp || qty.round_dp(dp) == qty,
            None => (qty % self.lot_size).is_zero(),
        }
    }
}

/// Round `value` to a multiple of `inc` using `strategy`.
pub(crate) fn round_to_increment(
    value: Decimal,
    inc: Decimal,
    strategy: RoundingStrategy,
) -> Decimal {
    if inc.is_zero() {
        return value;
    }
    let units = (value / inc).round_dp_with_strategy(0, strategy);
    (units * inc).normalize()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::dec;

    #[test]
    fn rounds_prices_and_quantities() {
        let es = Instrument::stock("ES").with_specs(dec!(0.25), dec!(1), dec!(50));
        assert_eq!(es.round_price(dec!(4500.12)), dec!(4500));
        assert_eq!(es.round_price(dec!(4500.13)), dec!(4500.25));
        assert_eq!(es.round_price_adverse(dec!(4500.01), true), dec!(4500.25));
        assert_eq!(es.round_price_adverse(dec!(4500.24), false), dec!(4500));
        assert_eq!(es.round_qty(dec!(2.9)), dec!(2));
        assert_eq!(es.round_qty(dec!(-2.9)), dec!(-2));
        assert!(es.is_on_tick(dec!(4500.75)));
        assert!(!es.is_on_tick(dec!(4500.10)));
    }

    #[test]
    fn converts_f64_prices_exactly_at_scale() {
        let s = Instrument::stock("SPY");
        assert_eq!(s.price_from_f64(123.45), Some(dec!(123.4500)));
        assert_eq!(s.price_from_f64(0.1 + 0.2), Some(dec!(0.3000)));
        assert_eq!(s.price_from_f64(f64::NAN), None);
    }

    #[test]
    fn rejects_bad_specs() {
        let mut s = Instrument::stock("X");
        s.tick_size = dec!(0);
        assert!(matches!(
            s.prepare(),
            Err(InstrumentError::NotPositive {
                field: "tick_size",
                ..
            })
        ));
    }
}
