//! `sma_bracket`: an SMA crossover on every instrument, long only, sized as a fraction of
//! equity, each entry a bracket with a take profit and a stop loss (the backtrader
//! `buy_bracket` + `order_target_percent` example, in Tickline's API).
//!
//! Rules, per instrument:
//! * Two SMAs of the close, `fast` (default 10) and `slow` (default 30); a cross up is the
//!   previous `fast − slow` ≤ 0 < the current one, a cross down the previous ≥ 0 > current.
//!   The first bar with both SMAs only records the difference.
//! * A cross up, flat, nothing working on the instrument, and the close at least the highest
//!   close of the previous `high_bars` bars (default 20; `0` turns the filter off) → buy
//!   what `fraction` (default 0.1) of the equity buys at the close, whole lots, as a bracket:
//!   a GTC take profit at `close × (1 + take_profit)` (default 0.04) and a GTC stop at
//!   `close × (1 − stop_loss)` (default 0.02), rounded to the tick. Fewer than one lot: no
//!   trade.
//! * A cross down while long → close the position (the bracket's exits are cancelled).
//!
//! Parameters: `fast` < `slow` (periods), `high_bars` (≥ 0), `fraction` in (0, 1],
//! `take_profit` and `stop_loss` in (0, 1).

use rust_decimal::Decimal;
use tickline_engine::domain::{Bar, OrderRequest, Side};
use tickline_engine::params::Params;
use tickline_engine::strategy::{Ctx, Strategy};

use crate::indicators::Sma;
use crate::registry::StrategyInfo;

pub const INFO: StrategyInfo = StrategyInfo {
    name: "sma_bracket",
    summary: "SMA crossover, long only, a fraction of equity per entry, each a bracket with take profit and stop loss",
    params: "fast = 10, slow = 30, high_bars = 20, fraction = 0.1, take_profit = 0.04, stop_loss = 0.02",
    build: |table| {
        let p = Params::new("sma_bracket", table);
        let fast = p.usize("fast", 10)?;
        let slow = p.usize("slow", 30)?;
        let high_bars = p.usize_or_zero("high_bars", 20)?;
        let fraction = p.fraction("fraction", Decimal::new(1, 1))?;
        let take_profit = p.decimal("take_profit", Decimal::new(4, 2))?;
        let stop_loss = p.decimal("stop_loss", Decimal::new(2, 2))?;
        if fast >= slow {
            return Err(p.invalid("fast", format!("must be below slow ({slow}), got {fast}")));
        }
        Sma::new(slow).map_err(|e| p.invalid("slow", e.to_string()))?;
        for (name, v) in [("take_profit", take_profit), ("stop_loss", stop_loss)] {
            if v <= Decimal::ZERO || v >= Decimal::ONE {
                return Err(p.invalid(name, format!("must be in (0, 1), got {v}")));
            }
        }
        p.finish()?;
        Ok(Box::new(SmaBracket {
            fast,
            slow,
            high_bars,
            fraction,
            take_profit,
            stop_loss,
            legs: Vec::new(),
        }))
    },
};

struct Leg {
    fast: Sma,
    slow: Sma,
    prev_diff: Option<f64>,
}

pub struct SmaBracket {
    fast: usize,
    slow: usize,
    high_bars: usize,
    fraction: Decimal,
    take_profit: Decimal,
    stop_loss: Decimal,
    legs: Vec<Leg>,
}

impl Strategy for SmaBracket {
    fn on_start(&mut self, ctx: &mut dyn Ctx) {
        if self.high_bars > 0 {
            ctx.keep_history(self.high_bars + 1);
        }
        self.legs = ctx
            .instruments()
            .iter()
            .filter_map(|_| {
                Some(Leg {
                    fast: Sma::new(self.fast).ok()?,
                    slow: Sma::new(self.slow).ok()?,
                    prev_diff: None,
                })
            })
            .collect();
    }

    fn on_bar(&mut self, bar: &Bar, ctx: &mut dyn Ctx) {
        let i = bar.instrument;
        let Some(leg) = self.legs.get_mut(i.index()) else {
            return;
        };
        let (Some(fast), Some(slow)) = (leg.fast.update(bar.close), leg.slow.update(bar.close))
        else {
            return;
        };
        let diff = fast - slow;
        let Some(prev) = leg.prev_diff.replace(diff) else {
            return;
        };
        let pos = ctx.position(i);
        if prev >= 0.0 && diff < 0.0 && pos > Decimal::ZERO {
            ctx.close_position(i);
            return;
        }
        let cross_up = prev <= 0.0 && diff > 0.0;
        if !cross_up || !pos.is_zero() || ctx.has_open_orders(i) {
            return;
        }
        if self.high_bars > 0 {
            let bars = ctx.history(i, self.high_bars + 1);
            if bars.len() <= self.high_bars {
                return;
            }
            let high = bars
                .iter()
                .rev()
                .skip(1)
                .map(|b| b.close)
                .fold(f64::MIN, f64::max);
            if bar.close < high {
                return;
            }
        }
        let Some(inst) = ctx.instruments().get(i.index()) else {
            return;
        };
        let Some(close) = inst.price_from_f64(bar.close) else {
            return;
        };
        let take_profit = inst.round_price(close * (Decimal::ONE + self.take_profit));
        let stop_loss = inst.round_price(close * (Decimal::ONE - self.stop_loss));
        let Some(quantity) = ctx.quantity_for_value(i, ctx.equity() * self.fraction) else {
            return;
        };
        if quantity <= Decimal::ZERO || stop_loss <= Decimal::ZERO {
            return;
        }
        let entry = OrderRequest::market(i, Side::Buy, quantity);
        ctx.bracket(entry, take_profit, stop_loss);
    }
}
