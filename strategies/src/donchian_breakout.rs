//! `donchian_breakout`: Donchian channel breakout with an ATR protective stop.
//!
//! Rules (exact, so results can be compared with other engines):
//! * Channels exclude the current bar: the entry channel is the highest high / lowest low of
//!   the previous `entry` bars (default 20), the exit channel the same over the previous
//!   `exit` bars (default 10). ATR is Wilder's ATR over `atr_period` bars (default 14; see
//!   [`Atr`]) including the current bar.
//! * A bar can act once both channels and the ATR are defined, i.e. from the bar with 0-based
//!   index `max(entry, exit, atr_period − 1)` on.
//! * What happens on a bar depends on the position in the instrument (`ctx.position`):
//!   * flat: close > entry-channel high → buy `quantity` (default 100); otherwise, when
//!     `allow_short` (default true), close < entry-channel low → sell `quantity`.
//!     A protective stop left over from an earlier position is cancelled first;
//!   * long: close < exit-channel low → exit; short: close > exit-channel high → exit;
//!   * otherwise, with `trail` (default false), the stop is trailed (below).
//!
//!   One action per bar: an exit never opens the opposite position on the same bar.
//!   Comparisons are strict: a close equal to a channel edge does nothing.
//! * Entries and exits are market orders. While an entry or exit order is open, the
//!   instrument takes no new entry or exit; the indicators keep updating.
//! * Protective stop: when the entry order is done (filled, or cancelled/expired after a
//!   partial fill), a GTC stop order for the whole position is placed on the opposite side
//!   at `avg fill price − atr_mult × ATR` for a long, `+` for a short (default
//!   `atr_mult = 2.0`; ATR as of the signal bar), rounded to the instrument's tick. A long
//!   stop that would not be positive is not placed (logged).
//! * Trailing (`trail = true`): on each bar in a position without an exit, the candidate
//!   stop is `close ∓ atr_mult × ATR` (current ATR, rounded to the tick); when it is above
//!   the working stop's price for a long (below for a short) the stop is moved there with
//!   `ctx.modify`. Only a stop that is `Working` or `PartiallyFilled` is moved.
//! * Exit: the stop is cancelled and the whole position is sent as a market order. If the
//!   exit order fails (denied, rejected, cancelled or expired) while a position remains, the
//!   stop is placed again at its last price for the remaining position once the old one is
//!   gone. When the stop fills while an exit order is open, that exit order is cancelled.
//! * Failures: a denied or rejected entry frees the instrument (a later breakout can
//!   trade); a stop that ends without filling and without being cancelled by the strategy
//!   (denied, rejected, expired, cancelled by someone else) is logged and not placed again;
//!   the channel exit still applies.
//!
//! Parameters: `entry`, `exit`, `atr_period` (periods), `atr_mult` (> 0), `trail`,
//! `allow_short`, `quantity` (> 0), `symbols` (optional list; default every instrument).

use rust_decimal::Decimal;
use tickline_engine::domain::{
    Bar, InstrumentId, OrderId, OrderModify, OrderRequest, Side, TimeInForce,
};
use tickline_engine::order::{OrderState, OrderUpdate};
use tickline_engine::params::{ParamError, Params};
use tickline_engine::strategy::{Ctx, LogLevel, Strategy};

use crate::indicators::{Atr, Highest, Lowest};
use crate::registry::StrategyInfo;

/// Registry entry.
pub const INFO: StrategyInfo = StrategyInfo {
    name: "donchian_breakout",
    summary: "Donchian channel breakout with an ATR protective stop, exit on the opposite exit channel",
    params: "entry = 20, exit = 10, atr_period = 14, atr_mult = 2.0, trail = false, \
             allow_short = true, quantity = 100, symbols = [] (all)",
    build: |p| Ok(Box::new(DonchianBreakout::from_params(p)?)),
};

/// An entry order in flight.
#[derive(Clone, Copy, Debug)]
struct Entry {
    id: OrderId,
    side: Side,
    /// ATR of the signal bar (sets the stop distance).
    atr: f64,
    filled: Decimal,
    /// Σ quantity × price of the fills, for the average fill price.
    notional: Decimal,
}

/// The protective stop order.
#[derive(Clone, Copy, Debug)]
struct Stop {
    id: OrderId,
    /// A cancel was requested by the strategy.
    cancelling: bool,
}

/// Per-instrument state.
#[derive(Clone, Debug)]
struct Leg {
    enabled: bool,
    entry_high: Highest,
    entry_low: Lowest,
    exit_high: Highest,
    exit_low: Lowest,
    atr: Atr,
    entry: Option<Entry>,
    exit: Option<OrderId>,
    stop: Option<Stop>,
    /// Price of the protective stop the position should have (`None`: no stop wanted).
    stop_price: Option<Decimal>,
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
            entry: None,
            exit: None,
            stop: None,
            stop_price: None,
        }
    }
}

/// `x` as a price of `instrument`, rounded to its tick (`None` if not finite).
fn to_price(ctx: &dyn Ctx, instrument: InstrumentId, x: f64) -> Option<Decimal> {
    let inst = ctx.instruments().get(instrument.index())?;
    inst.price_from_f64(x).map(|p| inst.round_price(p))
}

/// Exit the whole position `pos`: cancel the stop, send a market order.
fn exit(leg: &mut Leg, instrument: InstrumentId, pos: Decimal, ctx: &mut dyn Ctx) {
    if let Some(stop) = leg.stop.as_mut()
        && !stop.cancelling
    {
        ctx.cancel(stop.id);
        stop.cancelling = true;
    }
    leg.exit = Some(ctx.submit(OrderRequest::market_signed(instrument, -pos)));
}

/// Move the stop of position `pos` to `candidate` when that is in the position's favour.
fn trail(leg: &mut Leg, pos: Decimal, candidate: Decimal, ctx: &mut dyn Ctx) {
    let Some(stop) = leg.stop else {
        return;
    };
    if stop.cancelling {
        return;
    }
    let Some(order) = ctx.order(stop.id) else {
        return;
    };
    if !matches!(
        order.state,
        OrderState::Working | OrderState::PartiallyFilled
    ) {
        return;
    }
    let Some(current) = order.request.stop_price else {
        return;
    };
    let better = if pos > Decimal::ZERO {
        candidate > current
    } else {
        candidate < current
    };
    if better && candidate > Decimal::ZERO {
        ctx.modify(
            stop.id,
            OrderModify {
                stop_price: Some(candidate),
                ..OrderModify::default()
            },
        );
        leg.stop_price = Some(candidate);
    }
}

/// Place the protective stop when the position should have one and nothing is in the way
/// (no entry or exit order open, no old stop still alive).
fn ensure_stop(leg: &mut Leg, instrument: InstrumentId, ctx: &mut dyn Ctx) {
    let pos = ctx.position(instrument);
    if pos.is_zero() {
        leg.stop_price = None;
        return;
    }
    if leg.entry.is_some() || leg.exit.is_some() || leg.stop.is_some() {
        return;
    }
    let Some(price) = leg.stop_price else {
        return;
    };
    let side = if pos > Decimal::ZERO {
        Side::Sell
    } else {
        Side::Buy
    };
    let request = OrderRequest::stop(instrument, side, pos.abs(), price).with_tif(TimeInForce::Gtc);
    leg.stop = Some(Stop {
        id: ctx.submit(request),
        cancelling: false,
    });
}

/// Text for a failed order: the risk refusal or the broker's reason.
fn failure_reason(update: &OrderUpdate, ctx: &dyn Ctx) -> String {
    match (&update.refusal, ctx.order(update.order_id)) {
        (Some(r), _) => r.to_string(),
        (None, Some(o)) => o.reason.clone().unwrap_or_default(),
        (None, None) => String::new(),
    }
}

/// An update of the entry order: collect fills; once it is done, place the stop.
fn on_entry_update(leg: &mut Leg, atr_mult: f64, update: &OrderUpdate, ctx: &mut dyn Ctx) {
    let Some(entry) = leg.entry.as_mut() else {
        return;
    };
    if let Some(fill) = update.fill {
        entry.filled += fill.quantity;
        entry.notional += fill.quantity * fill.price;
    }
    if !update.state.is_terminal() {
        return;
    }
    let entry = *entry;
    leg.entry = None;
    if entry.filled.is_zero() {
        if matches!(update.state, OrderState::Denied | OrderState::Rejected) {
            let why = failure_reason(update, ctx);
            ctx.log(
                LogLevel::Warn,
                &format!(
                    "donchian_breakout: entry order {} {}: {why}",
                    update.order_id,
                    update.state.as_str()
                ),
            );
        }
        return;
    }
    let avg = entry.notional / entry.filled;
    let offset = to_price(ctx, update.instrument, atr_mult * entry.atr);
    let price = offset.and_then(|off| {
        let px = match entry.side {
            Side::Buy => avg - off,
            Side::Sell => avg + off,
        };
        let inst = ctx.instruments().get(update.instrument.index())?;
        Some(inst.round_price(px))
    });
    match price {
        Some(px) if px > Decimal::ZERO => {
            leg.stop_price = Some(px);
            ensure_stop(leg, update.instrument, ctx);
        }
        _ => {
            leg.stop_price = None;
            ctx.log(
                LogLevel::Warn,
                &format!(
                    "donchian_breakout: no protective stop for entry {} (average price {avg}, \
                         ATR {}): the stop price would not be positive",
                    update.order_id, entry.atr
                ),
            );
        }
    }
}

/// An update of the exit order.
fn on_exit_update(leg: &mut Leg, update: &OrderUpdate, ctx: &mut dyn Ctx) {
    if !update.state.is_terminal() {
        return;
    }
    leg.exit = None;
    if update.state != OrderState::Filled {
        let why = failure_reason(update, ctx);
        ctx.log(
            LogLevel::Warn,
            &format!(
                "donchian_breakout: exit order {} {}: {why}",
                update.order_id,
                update.state.as_str()
            ),
        );
    }
    // A failed exit leaves a position: protect it again (once the old stop is gone).
    ensure_stop(leg, update.instrument, ctx);
}

/// An update of the current protective stop.
fn on_stop_update(leg: &mut Leg, stop: Stop, update: &OrderUpdate, ctx: &mut dyn Ctx) {
    if update.previous == OrderState::PendingCancel
        && matches!(
            update.state,
            OrderState::Working | OrderState::PartiallyFilled
        )
    {
        // The cancel was refused: the stop is alive again.
        leg.stop = Some(Stop {
            cancelling: false,
            ..stop
        });
        return;
    }
    if !update.state.is_terminal() {
        return;
    }
    leg.stop = None;
    match update.state {
        OrderState::Filled => {
            if let Some(exit) = leg.exit {
                // The stop closed the position first; the exit order would reverse it.
                ctx.cancel(exit);
            }
            leg.stop_price = None;
        }
        OrderState::Cancelled if stop.cancelling => {
            ensure_stop(leg, update.instrument, ctx);
        }
        state => {
            leg.stop_price = None;
            let why = failure_reason(update, ctx);
            ctx.log(
                LogLevel::Warn,
                &format!(
                    "donchian_breakout: protective stop {} {}: {why}; the position has no \
                         stop, the channel exit still applies",
                    update.order_id,
                    state.as_str()
                ),
            );
        }
    }
}

impl Strategy for DonchianBreakout {
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
        if leg.entry.is_some() || leg.exit.is_some() {
            return;
        }
        let instrument = bar.instrument;
        let pos = ctx.position(instrument);
        let close = bar.close;
        if pos.is_zero() {
            if let Some(stop) = leg.stop.as_mut()
                && !stop.cancelling
            {
                // Nothing left to protect.
                ctx.cancel(stop.id);
                stop.cancelling = true;
            }
            leg.stop_price = None;
            let side = if close > entry_high {
                Side::Buy
            } else if self.allow_short && close < entry_low {
                Side::Sell
            } else {
                return;
            };
            let id = ctx.submit(OrderRequest::market(instrument, side, self.quantity));
            leg.entry = Some(Entry {
                id,
                side,
                atr,
                filled: Decimal::ZERO,
                notional: Decimal::ZERO,
            });
        } else if (pos > Decimal::ZERO && close < exit_low)
            || (pos < Decimal::ZERO && close > exit_high)
        {
            exit(leg, instrument, pos, ctx);
        } else if self.trail {
            let distance = self.atr_mult * atr;
            let raw = if pos > Decimal::ZERO {
                close - distance
            } else {
                close + distance
            };
            if let Some(candidate) = to_price(ctx, instrument, raw) {
                trail(leg, pos, candidate, ctx);
            }
        }
    }

    fn on_order(&mut self, update: &OrderUpdate, ctx: &mut dyn Ctx) {
        let atr_mult = self.atr_mult;
        let Some(leg) = self.legs.get_mut(update.instrument.index()) else {
            return;
        };
        let id = update.order_id;
        if leg.entry.is_some_and(|e| e.id == id) {
            on_entry_update(leg, atr_mult, update, ctx);
        } else if leg.exit == Some(id) {
            on_exit_update(leg, update, ctx);
        } else if let Some(stop) = leg.stop
            && stop.id == id
        {
            on_stop_update(leg, stop, update, ctx);
        }
    }
}
