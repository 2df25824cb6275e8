//! `mtf_breakout`: a breakout on the bars the run is fed, taken only with the trend of a
//! higher timeframe the kernel builds from them (two timeframes, percent-of-equity sizing).
//!
//! Rules, per instrument:
//! * The kernel builds `trend_minutes` bars (default 60) from the run's bars
//!   ([`Ctx::resample`]). On each completed one, the trend is *up* when its close is above
//!   the SMA of the last `trend_sma` (default 10) such closes, *down* otherwise; no trend
//!   until `trend_sma` of them exist. A trend bar that turns the trend down while long
//!   closes the position (market) at once.
//! * On each bar of the run: when the trend is up, the position is flat and no order of the
//!   instrument is working, a close above the highest close of the previous `entry` bars
//!   (default 20) buys to a position worth `fraction` (default 0.1) of the equity, rounded
//!   down to whole lots.
//! * A trend bar is only known once complete, so entries use the trend of the last
//!   completed one: no look-ahead.
//!
//! Parameters: `trend_minutes` (≥ 1), `trend_sma` (≥ 1), `entry` (≥ 1), `fraction` in (0, 1].

use rust_decimal::Decimal;
use tickline_engine::domain::Bar;
use tickline_engine::params::Params;
use tickline_engine::resample::Timeframe;
use tickline_engine::strategy::{Ctx, Strategy};

use crate::indicators::Sma;
use crate::registry::StrategyInfo;

pub const INFO: StrategyInfo = StrategyInfo {
    name: "mtf_breakout",
    summary: "Breakout of the N-bar high close, only while a higher timeframe's close is above its SMA; percent sizing",
    params: "trend_minutes = 60, trend_sma = 10, entry = 20, fraction = 0.1",
    build: |table| {
        let p = Params::new("mtf_breakout", table);
        let trend_minutes = p.usize("trend_minutes", 60)?;
        let trend_sma = p.usize("trend_sma", 10)?;
        let entry = p.usize("entry", 20)?;
        let fraction = p.fraction("fraction", Decimal::new(1, 1))?;
        let minutes = u32::try_from(trend_minutes)
            .ok()
            .filter(|m| (1..=24 * 60).contains(m))
            .ok_or_else(|| p.invalid("trend_minutes", "must be 1 to 1440"))?;
        Sma::new(trend_sma).map_err(|e| p.invalid("trend_sma", e.to_string()))?;
        if entry == 0 {
            return Err(p.invalid("entry", "must be at least 1"));
        }
        p.finish()?;
        Ok(Box::new(MtfBreakout {
            frame: Timeframe::minutes(minutes),
            trend_sma,
            entry,
            fraction,
            legs: Vec::new(),
        }))
    },
};

struct Leg {
    sma: Sma,
    trend_up: Option<bool>,
}

pub struct MtfBreakout {
    frame: Timeframe,
    trend_sma: usize,
    entry: usize,
    fraction: Decimal,
    legs: Vec<Leg>,
}

impl Strategy for MtfBreakout {
    fn on_start(&mut self, ctx: &mut dyn Ctx) {
        ctx.resample(self.frame);
        ctx.keep_history(self.entry + 1);
        self.legs = ctx
            .instruments()
            .iter()
            .filter_map(|_| {
                Some(Leg {
                    sma: Sma::new(self.trend_sma).ok()?,
                    trend_up: None,
                })
            })
            .collect();
    }

    fn on_resampled(&mut self, timeframe: Timeframe, bar: &Bar, ctx: &mut dyn Ctx) {
        let Some(leg) = self.legs.get_mut(bar.instrument.index()) else {
            return;
        };
        if timeframe != self.frame {
            return;
        }
        let Some(sma) = leg.sma.update(bar.close) else {
            return;
        };
        let up = bar.close > sma;
        leg.trend_up = Some(up);
        if !up && ctx.position(bar.instrument) > Decimal::ZERO {
            ctx.close_position(bar.instrument);
        }
    }

    fn on_bar(&mut self, bar: &Bar, ctx: &mut dyn Ctx) {
        let i = bar.instrument;
        let Some(leg) = self.legs.get(i.index()) else {
            return;
        };
        if leg.trend_up != Some(true)
            || !ctx.position(i).is_zero()
            || !ctx.open_quantity(i).is_zero()
        {
            return;
        }
        let bars = ctx.history(i, self.entry + 1);
        if bars.len() <= self.entry {
            return;
        }
        // The previous `entry` closes: all but the bar being shown.
        let high = bars
            .iter()
            .rev()
            .skip(1)
            .map(|b| b.close)
            .fold(f64::MIN, f64::max);
        if bar.close > high {
            ctx.order_target_percent(i, self.fraction);
        }
    }
}
