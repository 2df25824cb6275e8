//! `pct_breakout`: a breakout with percent-of-equity sizing, on every instrument of the run.
//!
//! Rules, per instrument, on each closed bar:
//! * Entry, when flat and no order of the instrument is working: the close is above the
//!   highest close of the previous `lookback` bars (default 20) → buy to a position worth
//!   `fraction` of the equity (default 0.1 = 10 %) at that close, rounded down to whole lots.
//! * Exit, when long: the close is below the lowest close of the previous `exit_lookback`
//!   bars (default 10) → cancel the instrument's open orders and sell the whole position.
//! * Nothing happens until `max(lookback, exit_lookback)` previous bars exist.
//!
//! Parameters: `lookback` (≥ 1), `exit_lookback` (≥ 1), `fraction` (in (0, 1]).

use tickline::StrategyInfo;
use tickline::engine::domain::Bar;
use tickline::engine::params::Params;
use tickline::engine::strategy::{Ctx, Strategy};
use tickline::rust_decimal::Decimal;

/// The registry entry: name, what it does, parameters, and how to build it from
/// `[strategy.params]` (unknown or bad keys are errors naming the key).
pub const INFO: StrategyInfo = StrategyInfo {
    name: "pct_breakout",
    summary: "Long a fraction of equity above the N-bar high close, flat below the M-bar low close",
    params: "lookback = 20, exit_lookback = 10, fraction = 0.1",
    build: |table| {
        let p = Params::new("pct_breakout", table);
        let lookback = p.usize("lookback", 20)?;
        let exit_lookback = p.usize("exit_lookback", 10)?;
        let fraction = p.fraction("fraction", Decimal::new(1, 1))?;
        if lookback == 0 {
            return Err(p.invalid("lookback", "must be at least 1"));
        }
        if exit_lookback == 0 {
            return Err(p.invalid("exit_lookback", "must be at least 1"));
        }
        p.finish()?;
        Ok(Box::new(PctBreakout {
            lookback,
            exit_lookback,
            fraction,
        }))
    },
};

pub struct PctBreakout {
    lookback: usize,
    exit_lookback: usize,
    fraction: Decimal,
}

impl Strategy for PctBreakout {
    fn on_start(&mut self, ctx: &mut dyn Ctx) {
        // The previous bars plus the one being shown.
        ctx.keep_history(self.lookback.max(self.exit_lookback) + 1);
    }

    fn on_bar(&mut self, bar: &Bar, ctx: &mut dyn Ctx) {
        let i = bar.instrument;
        let needed = self.lookback.max(self.exit_lookback);
        let bars = ctx.history(i, needed + 1);
        if bars.len() <= needed || !ctx.open_quantity(i).is_zero() {
            return;
        }
        // The previous bars, newest first (the last one in the window is this bar).
        let previous = || bars.iter().rev().skip(1);
        let high = previous()
            .take(self.lookback)
            .map(|b| b.close)
            .fold(f64::MIN, f64::max);
        let low = previous()
            .take(self.exit_lookback)
            .map(|b| b.close)
            .fold(f64::MAX, f64::min);
        let position = ctx.position(i);
        if position.is_zero() && bar.close > high {
            ctx.order_target_percent(i, self.fraction);
        } else if position > Decimal::ZERO && bar.close < low {
            ctx.close_position(i);
        }
    }
}
