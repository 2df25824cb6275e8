//! `donchian_breakout`: Donchian channel breakout, entered as a bracket whose exit is an ATR
//! stop (fixed or trailing) held at the broker.
//!
//! Rules (exact, so results can be compared with other engines):
//! * Channels exclude the current bar: the entry channel is the highest high / lowest low of
//!   the previous `entry` bars (default 20), the exit channel the same over the previous
//!   `exit` bars (default 10). ATR is Wilder's ATR over `atr_period` bars (default 14; see
//!   [`Atr`]) including the current bar.
//! * A bar can act once both channels and the ATR are defined, i.e. from the bar with 0-based
//!   index `max(entry, exit, atr_period − 1)` on. While an entry or closing order of the
//!   instrument is open (`ctx.open_quantity` ≠ 0) the bar takes no action.
//! * Flat: close > entry-channel high → buy `quantity` (default 100); otherwise, when
//!   `allow_short` (default true), close < entry-channel low → sell `quantity`. The entry is
//!   a market order sent as a bracket ([`Ctx::submit_bracket`]) with one exit, a GTC stop
//!   for the same quantity the other way at `close ∓ atr_mult × ATR` of the signal bar
//!   (default `atr_mult = 2.0`), rounded to the tick. With `trail = true` the exit is a
//!   trailing stop instead: trailing amount `atr_mult × ATR` of the signal bar (rounded to
//!   the tick), first stop at the same level; the broker moves it along each bar's path
//!   and never back. The exit waits at the broker until the entry fills and is sized by
//!   what it filled. A long entry whose stop would not be positive is not sent (logged).
//! * Long: close < exit-channel low → [`Ctx::close_position`] (the stop is cancelled, the
//!   position sent as a market order); short: close > exit-channel high, the same.
//!   Comparisons are strict: a close equal to a channel edge does nothing. One action per
//!   bar: an exit never opens the opposite position on the same bar.
//! * A position with no order working on the instrument (its stop was rejected, cancelled
//!   by someone else, or a closing order failed) gets a new stop by the entry rule, from the
//!   bar's close and ATR; logged.
//! * A fill that leaves the position flat (the stop, while a closing order is on its way)
//!   cancels the closing orders still open, which would otherwise reverse the position.
//! * A denied or rejected order is logged with the reason.
//!
//! Parameters: `entry`, `exit`, `atr_period` (periods), `atr_mult` (> 0), `trail`,
//! `allow_short`, `quantity` (> 0), `symbols` (optional list; default every instrument).

use rust_decimal::Decimal;
use tickline_engine::domain::{Bar, InstrumentId, OrderRequest, Side, TimeInForce, Trail};
use tickline_engine::order::{OrderState, OrderUpdate};
use tickline_engine::params::{ParamError, Params};
use tickline_engine::strategy::{Ctx, LogLevel, Strategy};

use crate::indicators::{Atr, Highest, Lowest};
use crate::registry::StrategyInfo;

/// Registry entry.
pub const INFO: StrategyInfo = StrategyInfo {
    name: "donchian_breakout",
    summary: "Donchian channel breakout entered as a bracket with an ATR stop (fixed or trailing), exit on the opposite exit channel",
    params: "entry = 20, exit = 10, atr_period = 14, atr_mult = 2.0, trail = false, \
             allow_short = true, quantity = 100, symbols = [] (all)",
    build: |p| Ok(Box::new(DonchianBreakout::from_params(p)?)),
};

/// Per-instrument state: the indicators (orders live at the broker and in `ctx`).
#[derive(Clone, Debug)]
struct Leg {
    enabled: bool,
    entry_high: Highest,
    entry_low: Lowest,
    exit_high: Highest,
    exit_low: Lowest,
    atr: Atr,
}

/// See the module documentation for the rules.
#[derive(Clone, Debug)]
pub struct DonchianBreakout {
    entry: usize,
    exit: usize,
    atr_period: usize,
    atr_mult: f64,
    trail: bool,
    allow_short: bool,
    quantity: Decimal,
    symbols: Vec<String>,
    legs: Vec<Leg>,
}

impl DonchianBreakout {
    /// Build from `[strategy.params]`, validating every value (see the module docs).
    pub fn from_params(table: &toml::Table) -> Result<DonchianBreakout, ParamError> {
        let p = Params::new(INFO.name, table);
        let entry = p.usize("entry", 20)?;
        let exit = p.usize("exit", 10)?;
        let atr_period = p.usize("atr_period", 14)?;
        let atr_mult = p.f64("atr_mult", 2.0)?;
        let trail = p.bool("trail", false)?;
        let allow_short = p.bool("allow_short", true)?;
        let quantity = p.decimal("quantity", Decimal::from(100))?;
        let symbols = p.strings("symbols")?;
        if atr_mult <= 0.0 {
            return Err(p.invalid("atr_mult", format!("must be positive, got {atr_mult}")));
        }
        if quantity <= Decimal::ZERO {
            return Err(p.invalid("quantity", format!("must be positive, got {quantity}")));
        }
        p.finish()?;
        Ok(DonchianBreakout {
            entry,
            exit,
            atr_period,
            atr_mult,
            trail,
            allow_short,
            quantity,
            symbols,
            legs: Vec::new(),
        })
    }

    fn leg(&self, enabled: bool) -> Leg {
        // Periods were validated as non-zero.
        Leg {
            enabled,
            entry_high: Highest::new(self.entry).expect("validated entry > 0"),
            entry_low: Lowest::new(self.entry).expect("validated entry > 0"),
            exit_high: Highest::new(self.exit).expect("validated exit > 0"),
            exit_low: Lowest::new(self.exit).expect("validated exit > 0"),
            atr: Atr::new(self.atr_period).expect("validated atr_period > 0"),
        }
    }

    /// The stop exit of a position on `side` opened at `close` with `atr`, for `quantity`:
    /// fixed or trailing (see the rules). `None` when a long's stop would not be positive.
    fn stop_exit(
        &self,
        ctx: &dyn Ctx,
        instrument: InstrumentId,
        side: Side,
        quantity: Decimal,
        (close, atr): (f64, f64),
    ) -> Option<OrderRequest> {
        let distance = to_price(ctx, instrument, self.atr_mult * atr)?;
        let close = to_price(ctx, instrument, close)?;
        let stop = match side {
            Side::Buy => close - distance,
            Side::Sell => close + distance,
        };
        if stop <= Decimal::ZERO || distance <= Decimal::ZERO {
            return None;
        }
        let exit = side.opposite();
        let request = if self.trail {
            OrderRequest::trailing_stop(instrument, exit, quantity, Trail::Amount(distance))
                .with_stop(stop)
        } else {
            OrderRequest::stop(instrument, exit, quantity, stop)
        };
        Some(request.with_tif(TimeInForce::Gtc))
    }
}

/// `x` as a price of `instrument`, rounded to its tick (`None` if not finite).
fn to_price(ctx: &dyn Ctx, instrument: InstrumentId, x: f64) -> Option<Decimal> {
    let inst = ctx.instruments().get(instrument.index())?;
    inst.price_from_f64(x).map(|p| inst.round_price(p))
}

/// Text for a failed order: the risk refusal or the broker's reason.
fn failure_reason(update: &OrderUpdate, ctx: &dyn Ctx) -> String {
    match (&update.refusal, ctx.order(update.order_id)) {
        (Some(r), _) => r.to_string(),
        (None, Some(o)) => o.reason.clone().unwrap_or_default(),
        (None, None) => String::new(),
    }
}

impl Strategy for DonchianBreakout {
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
                    &format!(
                        "donchian_breakout: symbol {s} is not an instrument of this run; ignored"
                    ),
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
        // Channels of the previous bars, then take in the current one.
        let channels = (
            leg.entry_high.value(),
            leg.entry_low.value(),
            leg.exit_high.value(),
            leg.exit_low.value(),
        );
        leg.entry_high.update(bar.high);
        leg.entry_low.update(bar.low);
        leg.exit_high.update(bar.high);
        leg.exit_low.update(bar.low);
        let atr = leg.atr.update(bar.high, bar.low, bar.close);
        let ((Some(entry_high), Some(entry_low), Some(exit_high), Some(exit_low)), Some(atr)) =
            (channels, atr)
        else {
            return;
        };
        let instrument = bar.instrument;
        if !ctx.open_quantity(instrument).is_zero() {
            return;
        }
        let pos = ctx.position(instrument);
        let close = bar.close;
        if pos.is_zero() {
            let side = if close > entry_high {
                Side::Buy
            } else if self.allow_short && close < entry_low {
                Side::Sell
            } else {
                return;
            };
            match self.stop_exit(ctx, instrument, side, self.quantity, (close, atr)) {
                Some(stop) => {
                    let entry = OrderRequest::market(instrument, side, self.quantity);
                    ctx.submit_bracket(entry, &[stop]);
                }
                None => ctx.log(
                    LogLevel::Warn,
                    &format!(
                        "donchian_breakout: breakout at {close} not taken: a stop {} × ATR \
                         {atr} away would not be positive",
                        self.atr_mult
                    ),
                ),
            }
        } else if (pos > Decimal::ZERO && close < exit_low)
            || (pos < Decimal::ZERO && close > exit_high)
        {
            ctx.close_position(instrument);
        } else if !ctx.has_open_orders(instrument) {
            let side = if pos > Decimal::ZERO {
                Side::Buy
            } else {
                Side::Sell
            };
            if let Some(stop) = self.stop_exit(ctx, instrument, side, pos.abs(), (close, atr)) {
                ctx.log(
                    LogLevel::Warn,
                    &format!("donchian_breakout: position {pos} had no stop; placing one"),
                );
                ctx.submit(stop);
            }
        }
    }

    fn on_order(&mut self, update: &OrderUpdate, ctx: &mut dyn Ctx) {
        if let Some(fill) = update.fill
            && ctx.position(update.instrument).is_zero()
        {
            // The stop closed the position first: a closing order still open would reverse
            // it. (By index: nothing here allocates.)
            let mut k = 0;
            while let Some(&id) = ctx.open_orders().get(k) {
                k += 1;
                let closing = ctx.order(id).is_some_and(|o| {
                    o.request.instrument == update.instrument
                        && o.request.side == fill.side
                        && !o.request.is_exit()
                        && o.state != OrderState::PendingCancel
                });
                if closing {
                    ctx.cancel(id);
                }
            }
        }
        if matches!(update.state, OrderState::Denied | OrderState::Rejected) {
            let why = failure_reason(update, ctx);
            ctx.log(
                LogLevel::Warn,
                &format!(
                    "donchian_breakout: order {} {}: {why}",
                    update.order_id,
                    update.state.as_str()
                ),
            );
        }
    }
}
