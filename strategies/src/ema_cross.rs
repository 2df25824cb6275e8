//! `ema_cross`: a moving-average crossover that is always in the market after the first cross.
//!
//! Rules (exact, so results can be compared with other engines):
//! * Two EMAs of the close with alpha = 2 / (n + 1), each seeded with the first close
//!   (defaults: `fast = 10`, `slow = 30`).
//! * A signal is possible from the bar at which the slow EMA has seen `slow` closes (0-based
//!   index `slow − 1`) on; that first eligible bar only records the difference fast − slow.
//! * Cross up when the previous difference ≤ 0 < current difference; cross down when the
//!   previous difference ≥ 0 > current difference.
//! * On a cross up the target position is `+quantity`, on a cross down `−quantity`
//!   (default `quantity = 100`); the order quantity is target − current position, sent as a
//!   market order. (Working orders count as part of the current position, which only matters
//!   live, where a fill may still be outstanding at the next cross.)
//!
//! Parameters: `fast`, `slow` (periods, fast < slow), `quantity`, `symbols` (optional list;
//! default every instrument).

use rust_decimal::Decimal;
use tickline_engine::domain::{Bar, InstrumentId};
use tickline_engine::params::{ParamError, Params};
use tickline_engine::strategy::{Ctx, LogLevel, Strategy};

use crate::indicators::Ema;
use crate::registry::StrategyInfo;

pub const INFO: StrategyInfo = StrategyInfo {
    name: "ema_cross",
    summary: "EMA(fast) / EMA(slow) crossover, always in the market: long above, short below",
    params: "fast = 10, slow = 30, quantity = 100, symbols = [] (all)",
    build: |p| Ok(Box::new(EmaCross::from_params(p)?)),
};

#[derive(Clone, Debug)]
struct Leg {
    fast: Ema,
    slow: Ema,
    prev_diff: Option<f64>,
    enabled: bool,
}

/// See the module documentation for the rules.
#[derive(Clone, Debug)]
pub struct EmaCross {
    fast: usize,
    slow: usize,
    quantity: Decimal,
    symbols: Vec<String>,
    legs: Vec<Leg>,
}

impl EmaCross {
    /// Build with explicit parameters. Periods must satisfy `0 < fast < slow` and the
    /// quantity must be positive (the same checks as [`EmaCross::from_params`]).
    pub fn new(fast: usize, slow: usize, quantity: Decimal) -> Result<EmaCross, ParamError> {
        let mut t = toml::Table::new();
        t.insert(
            "fast".into(),
            toml::Value::Integer(fast.min(i64::MAX as usize) as i64),
        );
        t.insert(
            "slow".into(),
            toml::Value::Integer(slow.min(i64::MAX as usize) as i64),
        );
        t.insert("quantity".into(), toml::Value::String(quantity.to_string()));
        EmaCross::from_params(&t)
    }

    pub fn from_params(table: &toml::Table) -> Result<EmaCross, ParamError> {
        let p = Params::new("ema_cross", table);
        let fast = p.usize("fast", 10)?;
        let slow = p.usize("slow", 30)?;
        let quantity = p.decimal("quantity", Decimal::from(100))?;
        let symbols = p.strings("symbols")?;
        if fast >= slow {
            return Err(p.invalid(
                "fast",
                format!("({fast}) must be smaller than slow ({slow})"),
            ));
        }
        if quantity <= Decimal::ZERO {
            return Err(p.invalid("quantity", format!("must be positive, got {quantity}")));
        }
        p.finish()?;
        Ok(EmaCross {
            fast,
            slow,
            quantity,
            symbols,
            legs: Vec::new(),
        })
    }

    fn leg(&self, enabled: bool) -> Leg {
        Leg {
            // Periods were validated as non-zero.
            fast: Ema::new(self.fast).expect("fast period > 0"),
            slow: Ema::new(self.slow).expect("slow period > 0"),
            prev_diff: None,
            enabled,
        }
    }
}

impl Strategy for EmaCross {
    fn check(&self, instruments: &[tickline_engine::domain::Instrument]) -> Result<(), String> {
        crate::lots::check_quantity(INFO.name, self.quantity, &self.symbols, instruments)
    }

    fn on_start(&mut self, ctx: &mut dyn Ctx) {
        for sym in &self.symbols {
            if ctx.instrument_id(sym).is_none() {
                ctx.log(
                    LogLevel::Warn,
                    &format!("ema_cross: symbol {sym} in `symbols` is not an instrument of this run; ignored"),
                );
            }
        }
        let legs: Vec<Leg> = ctx
            .instruments()
            .iter()
            .map(|i| self.leg(self.symbols.is_empty() || self.symbols.contains(&i.symbol)))
            .collect();
        self.legs = legs;
    }

    #[inline]
    fn on_bar(&mut self, bar: &Bar, ctx: &mut dyn Ctx) {
        let Some(leg) = self.legs.get_mut(bar.instrument.index()) else {
            return;
        };
        if !leg.enabled {
            return;
        }
        let (Some(f), Some(s)) = (leg.fast.update(bar.close), leg.slow.update(bar.close)) else {
            return;
        };
        if leg.slow.count() < self.slow as u64 {
            return;
        }
        let diff = f - s;
        let Some(prev) = leg.prev_diff.replace(diff) else {
            return; // first eligible bar: record only
        };
        if prev <= 0.0 && diff > 0.0 {
            self.go_to(bar.instrument, self.quantity, ctx);
        } else if prev >= 0.0 && diff < 0.0 {
            self.go_to(bar.instrument, -self.quantity, ctx);
        }
    }
}

impl EmaCross {
    /// Order the difference between `target` and the position plus the working orders (so a
    /// cross that arrives before an earlier order filled, live, does not over-trade). Kept
    /// out of line: crosses are rare, and inlined this would make every bar pay for its
    /// registers.
    #[inline(never)]
    fn go_to(&self, instrument: InstrumentId, target: Decimal, ctx: &mut dyn Ctx) {
        ctx.order_target(instrument, target);
    }
}
