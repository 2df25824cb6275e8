//! `rsi_reversion`: RSI mean reversion — buy weakness, get out when it has passed.
//!
//! Rules (exact, so results can be compared with other engines):
//! * Wilder's RSI of the close over `period` changes (default 14; see [`Rsi`]). The first
//!   RSI value (at the bar with 0-based index `period`) only records; signals need the
//!   previous and the current RSI.
//! * "Crosses below L" means previous RSI ≥ L > current RSI; "crosses above L" means
//!   previous RSI ≤ L < current RSI.
//! * Optional trend filter `trend_sma` (default 0 = off): an SMA of the close over
//!   `trend_sma` bars including the current one. With the filter on, a long entry needs
//!   close > SMA and a short entry close < SMA; while the SMA is not yet defined no entry is
//!   made. Exits ignore the filter.
//! * What happens on a bar depends on the position in the instrument (`ctx.position`):
//!   * flat: RSI crosses below `oversold` (default 30) and the filter allows a long → buy
//!     `quantity` (default 100); otherwise, when `allow_short` (default false), RSI crosses
//!     above `overbought` (default 70) and the filter allows a short → sell `quantity`;
//!   * long: RSI crosses above `exit` (default 50) → sell the whole position;
//!   * short: RSI crosses below `exit` → buy the whole position back.
//!
//!   One action per bar: an exit never opens the opposite position on the same bar.
//! * All orders are market orders. While an order of this strategy is open in an instrument
//!   (submitted and not yet filled, cancelled, rejected or denied) the instrument gets no new
//!   order; the RSI keeps updating. A denied or rejected order is logged and frees the
//!   instrument again, so a later signal can trade.
//!
//! Parameters: `period`, `oversold`, `exit`, `overbought` (levels with
//! 0 < oversold < exit < overbought < 100), `allow_short`, `trend_sma` (0 or a period),
//! `quantity` (> 0), `symbols` (optional list; default every instrument).

use rust_decimal::Decimal;
use tickline_engine::domain::{Bar, OrderId, OrderRequest};
use tickline_engine::order::{OrderState, OrderUpdate};
use tickline_engine::params::{ParamError, Params};
use tickline_engine::strategy::{Ctx, LogLevel, Strategy};

use crate::indicators::{Rsi, Sma};
use crate::registry::StrategyInfo;

/// Registry entry.
pub const INFO: StrategyInfo = StrategyInfo {
    name: "rsi_reversion",
    summary: "RSI mean reversion: long when RSI crosses below oversold, flat when it crosses above exit",
    params: "period = 14, oversold = 30, exit = 50, overbought = 70, allow_short = false, \
             trend_sma = 0 (off), quantity = 100, symbols = [] (all)",
    build: |p| Ok(Box::new(RsiReversion::from_params(p)?)),
};

/// Per-instrument state.
#[derive(Clone, Debug)]
struct Leg {
    rsi: Rsi,
    trend: Option<Sma>,
    prev_rsi: Option<f64>,
    /// The open order of this instrument, if any.
    pending: Option<OrderId>,
    enabled: bool,
}

/// See the module documentation for the rules.
#[derive(Clone, Debug)]
pub struct RsiReversion {
    period: usize,
    oversold: f64,
    exit: f64,
    overbought: f64,
    allow_short: bool,
    trend_sma: usize,
    quantity: Decimal,
    symbols: Vec<String>,
    legs: Vec<Leg>,
}

/// A period where 0 means "off". [`Params::usize`] rejects 0, so 0 is recognised here first.
pub(crate) fn period_or_off(
    p: &Params,
    table: &toml::Table,
    key: &'static str,
) -> Result<usize, ParamError> {
    match table.get(key) {
        Some(toml::Value::Integer(i)) if *i <= 0 => {
            // Reading the key through a getter marks it as known for `finish`.
            p.decimal(key, Decimal::ZERO)?;
            if *i == 0 {
                Ok(0)
            } else {
                Err(p.invalid(
                    key,
                    format!("must be 0 (off) or a positive integer, got {i}"),
                ))
            }
        }
        _ => p.usize(key, 0),
    }
}

/// Checks that an RSI level lies strictly between 0 and 100.
fn check_level(p: &Params, key: &str, value: f64) -> Result<(), ParamError> {
    if value > 0.0 && value < 100.0 {
        Ok(())
    } else {
        Err(p.invalid(key, format!("must be above 0 and below 100, got {value}")))
    }
}

impl RsiReversion {
    /// Build from `[strategy.params]`, validating every value (see the module docs).
    pub fn from_params(table: &toml::Table) -> Result<RsiReversion, ParamError> {
        let p = Params::new(INFO.name, table);
        let period = p.usize("period", 14)?;
        let oversold = p.f64("oversold", 30.0)?;
        let exit = p.f64("exit", 50.0)?;
        let overbought = p.f64("overbought", 70.0)?;
        let allow_short = p.bool("allow_short", false)?;
        let trend_sma = period_or_off(&p, table, "trend_sma")?;
        let quantity = p.decimal("quantity", Decimal::from(100))?;
        let symbols = p.strings("symbols")?;
        check_level(&p, "oversold", oversold)?;
        check_level(&p, "exit", exit)?;
        check_level(&p, "overbought", overbought)?;
        if oversold >= exit {
            return Err(p.invalid(
                "oversold",
                format!("({oversold}) must be below exit ({exit})"),
            ));
        }
        if exit >= overbought {
            return Err(p.invalid(
                "exit",
                format!("({exit}) must be below overbought ({overbought})"),
            ));
        }
        if quantity <= Decimal::ZERO {
            return Err(p.invalid("quantity", format!("must be positive, got {quantity}")));
        }
        p.finish()?;
        Ok(RsiReversion {
            period,
            oversold,
            exit,
            overbought,
            allow_short,
            trend_sma,
            quantity,
            symbols,
            legs: Vec::new(),
        })
    }

    fn leg(&self, enabled: bool) -> Leg {
        Leg {
            // Periods were validated as non-zero (trend_sma 0 means no filter).
            rsi: Rsi::new(self.period).expect("validated period > 0"),
            trend: (self.trend_sma > 0)
                .then(|| Sma::new(self.trend_sma).expect("validated trend_sma > 0")),
            prev_rsi: None,
            pending: None,
            enabled,
        }
    }

    /// The signed order quantity for this bar, if any (see the module docs).
    fn decide(&self, prev: f64, rsi: f64, pos: Decimal, trend: Trend) -> Option<Decimal> {
        if pos > Decimal::ZERO {
            (prev <= self.exit && rsi > self.exit).then_some(-pos)
        } else if pos < Decimal::ZERO {
            (prev >= self.exit && rsi < self.exit).then_some(-pos)
        } else if prev >= self.oversold && rsi < self.oversold && trend.allows_long() {
            Some(self.quantity)
        } else if self.allow_short
            && prev <= self.overbought
            && rsi > self.overbought
            && trend.allows_short()
        {
            Some(-self.quantity)
        } else {
            None
        }
    }
}

/// The trend filter's verdict on one bar.
#[derive(Clone, Copy, Debug)]
enum Trend {
    Off,
    Undefined,
    Sma { close: f64, sma: f64 },
}

impl Trend {
    fn allows_long(self) -> bool {
        match self {
            Trend::Off => true,
            Trend::Undefined => false,
            Trend::Sma { close, sma } => close > sma,
        }
    }

    fn allows_short(self) -> bool {
        match self {
            Trend::Off => true,
            Trend::Undefined => false,
            Trend::Sma { close, sma } => close < sma,
        }
    }
}

impl Strategy for RsiReversion {
    fn check(&self, instruments: &[tickline_engine::domain::Instrument]) -> Result<(), String> {
        crate::lots::check_quantity(INFO.name, self.quantity, &self.symbols, instruments)
    }

    fn on_start(&mut self, ctx: &mut dyn Ctx) {
        let legs: Vec<Leg> = ctx
            .instruments()
            .iter()
            .map(|i| self.leg(self.symbols.is_empty() || self.symbols.contains(&i.symbol)))
            .collect();
        self.legs = legs;
        for s in &self.symbols {
            if ctx.instrument_id(s).is_none() {
                ctx.log(
                    LogLevel::Warn,
                    &format!("rsi_reversion: symbol {s} is not an instrument of this run; ignored"),
                );
            }
        }
    }

    #[inline]
    fn on_bar(&mut self, bar: &Bar, ctx: &mut dyn Ctx) {
        let Some(leg) = self.legs.get_mut(bar.instrument.index()) else {
            return;
        };
        if !leg.enabled {
            return;
        }
        let trend = match leg.trend.as_mut().map(|s| s.update(bar.close)) {
            None => Trend::Off,
            Some(None) => Trend::Undefined,
            Some(Some(sma)) => Trend::Sma {
                close: bar.close,
                sma,
            },
        };
        let Some(rsi) = leg.rsi.update(bar.close) else {
            return;
        };
        let Some(prev) = leg.prev_rsi.replace(rsi) else {
            return; // first RSI: record only
        };
        if leg.pending.is_some() {
            return;
        }
        let pos = ctx.position(bar.instrument);
        if let Some(qty) = self.decide(prev, rsi, pos, trend) {
            let id = ctx.submit(OrderRequest::market_signed(bar.instrument, qty));
            // `decide` borrows `self`, so the leg is looked up again (no allocation).
            if let Some(leg) = self.legs.get_mut(bar.instrument.index()) {
                leg.pending = Some(id);
            }
        }
    }

    fn on_order(&mut self, update: &OrderUpdate, ctx: &mut dyn Ctx) {
        let Some(leg) = self.legs.get_mut(update.instrument.index()) else {
            return;
        };
        if leg.pending != Some(update.order_id) || !update.state.is_terminal() {
            return;
        }
        leg.pending = None;
        if matches!(update.state, OrderState::Denied | OrderState::Rejected) {
            let why = match (&update.refusal, ctx.order(update.order_id)) {
                (Some(r), _) => r.to_string(),
                (None, Some(o)) => o.reason.clone().unwrap_or_default(),
                (None, None) => String::new(),
            };
            ctx.log(
                LogLevel::Warn,
                &format!(
                    "rsi_reversion: order {} {}: {why}",
                    update.order_id,
                    update.state.as_str()
                ),
            );
        }
    }
}
