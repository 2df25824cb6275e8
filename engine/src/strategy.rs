//! The [`Strategy`] trait and the [`Ctx`] it works through.
//!
//! A strategy implements a handful of hooks. Each hook receives `&mut dyn Ctx`, which reads
//! state (clock, positions, portfolio, open orders) and *buffers* commands (submit / modify /
//! cancel / timers). The kernel carries out the buffer after the hook returns, so a strategy
//! never observes half-applied state, and the same code runs in backtest, paper and live.

use rust_decimal::Decimal;

use crate::connectivity::Connectivity;
use crate::domain::{
    Bar, Instrument, InstrumentId, OrderId, OrderModify, OrderRequest, Tick, TimeInForce, Ts,
};
use crate::history::BarWindow;
use crate::order::{BracketState, Order, OrderUpdate};
use crate::portfolio::Portfolio;
use crate::resample::Timeframe;
use crate::risk::KillSwitchState;

/// Identifies a timer set with [`Ctx::set_timer`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TimerId(pub u64);

/// The three orders of a bracket ([`Ctx::bracket`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BracketIds {
    pub entry: OrderId,
    pub take_profit: OrderId,
    pub stop_loss: OrderId,
}

/// A timer firing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timer {
    pub id: TimerId,
    /// When it was due.
    pub at: Ts,
    /// The strategy's own tag, given when the timer was set.
    pub tag: u64,
}

/// Severity of a strategy log line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogLevel {
    Debug,
    Info,
    Warn,
    Error,
}

/// What a strategy can see and do. Reads are immediate; writes are buffered until the hook
/// returns.
pub trait Ctx {
    /// Current time (UTC ns): the close time of the bar being shown, the tick time, or the
    /// wall clock live.
    fn now(&self) -> Ts;
    /// Every instrument of the run (index = `InstrumentId`).
    fn instruments(&self) -> &[Instrument];
    /// Look an instrument up by symbol.
    fn instrument_id(&self, symbol: &str) -> Option<InstrumentId>;
    /// Signed position in `instrument`.
    fn position(&self, instrument: InstrumentId) -> Decimal;
    /// The whole account.
    fn portfolio(&self) -> &Portfolio;
    /// One order by id (any state).
    fn order(&self, id: OrderId) -> Option<&Order>;
    /// Ids of the open orders, oldest first.
    fn open_orders(&self) -> &[OrderId];
    /// Kill-switch state of the risk layer.
    fn kill_switch(&self) -> KillSwitchState;
    /// What new positions may still take under `[risk] account` (a margin account's free
    /// equity at its initial-margin rate; a cash account's free cash); `None` when no
    /// account is configured.
    fn buying_power(&self) -> Option<Decimal> {
        None
    }
    /// The live link (always [`Connectivity::UP`] in backtests).
    fn connectivity(&self) -> Connectivity {
        Connectivity::UP
    }
    /// True while a live run feeds historical bars to warm indicators up: orders asked for
    /// now are ignored (the bars are old), so trade only when this is false.
    fn is_warming_up(&self) -> bool {
        false
    }

    /// The last `n` closed bars of `instrument`, oldest first, the bar being shown last; at
    /// most as many as [`Ctx::keep_history`] asked the kernel to keep (none before).
    fn history(&self, instrument: InstrumentId, n: usize) -> BarWindow<'_>;
    /// Keep the last `bars` bars of every instrument for [`Ctx::history`] from now on (call it
    /// in `on_start`; at most [`crate::history::MAX_KEPT_BARS`]). Each bar is then copied
    /// once into a ring sized here: no allocation per bar.
    fn keep_history(&mut self, bars: usize);
    /// Build bars of `timeframe` for every instrument from the bars the run is fed, and
    /// deliver each through [`Strategy::on_resampled`] once complete (call it in `on_start`;
    /// see [`crate::resample`] for when a bar is complete — never before its last part was
    /// shown).
    fn resample(&mut self, timeframe: Timeframe);

    /// Signed remaining quantity of the open orders on `instrument` (what the position
    /// becomes, added to it, if they all fill). Bracket exits are not counted: they close
    /// what their parent opens.
    fn open_quantity(&self, instrument: InstrumentId) -> Decimal {
        open_orders_of(self, instrument)
            .filter(|o| !o.request.is_exit())
            .map(Order::signed_remaining)
            .sum()
    }
    /// Average entry price of the position in `instrument` (`None` when flat).
    fn position_avg_price(&self, instrument: InstrumentId) -> Option<Decimal> {
        self.portfolio()
            .position(instrument)
            .filter(|p| !p.is_flat())
            .map(|p| p.avg_price)
    }
    /// The last price `instrument` was marked at (the last bar's close or tick).
    fn last_price(&self, instrument: InstrumentId) -> Option<Decimal> {
        self.portfolio().last_price(instrument)
    }
    /// Cash of the account.
    fn cash(&self) -> Decimal {
        self.portfolio().cash()
    }
    /// Equity: cash plus the positions at their last prices.
    fn equity(&self) -> Decimal {
        self.portfolio().equity()
    }
    /// Whether any order of `instrument` is open (entries, exits, anything).
    fn has_open_orders(&self, instrument: InstrumentId) -> bool {
        open_orders_of(self, instrument).next().is_some()
    }

    /// Whether bracket exits work on `instrument`.
    fn has_exits(&self, instrument: InstrumentId) -> bool {
        open_orders_of(self, instrument).any(|o| o.request.is_exit())
    }

    /// A market order for what takes `instrument` to a signed position of `target`, counting
    /// the open orders as if they fill (so a signal repeated before a fill does not trade
    /// twice), rounded toward zero to whole lots. `None` when nothing is to be done. A target
    /// of zero is [`Ctx::close_position`]: the instrument's orders, bracket exits included,
    /// are cancelled so nothing reopens the position.
    fn order_target(&mut self, instrument: InstrumentId, target: Decimal) -> Option<OrderId> {
        if target.is_zero() && self.has_exits(instrument) {
            return self.close_position(instrument);
        }
        let inst = self.instruments().get(instrument.index())?;
        let delta =
            inst.round_qty(target - self.position(instrument) - self.open_quantity(instrument));
        (!delta.is_zero()).then(|| self.submit(OrderRequest::market_signed(instrument, delta)))
    }
    /// [`Ctx::order_target`] for a position worth `value` (signed, in the account currency) at
    /// the last price and the instrument's multiplier. `None` without a price.
    fn order_target_value(&mut self, instrument: InstrumentId, value: Decimal) -> Option<OrderId> {
        let target = self.quantity_for_value(instrument, value)?;
        self.order_target(instrument, target)
    }

    /// The quantity of `instrument` worth `value` at its last price (× multiplier), rounded
    /// toward zero to whole lots (signed like `value`); `None` without a positive last
    /// price.
    fn quantity_for_value(&self, instrument: InstrumentId, value: Decimal) -> Option<Decimal> {
        let inst = self.instruments().get(instrument.index())?;
        let unit = self.last_price(instrument)? * inst.multiplier;
        if unit <= Decimal::ZERO {
            return None;
        }
        Some(inst.round_qty(value / unit))
    }
    /// [`Ctx::order_target_value`] for `fraction` of the equity (`0.1` = 10 %, negative:
    /// short).
    fn order_target_percent(
        &mut self,
        instrument: InstrumentId,
        fraction: Decimal,
    ) -> Option<OrderId> {
        let value = self.equity() * fraction;
        self.order_target_value(instrument, value)
    }
    /// Cancel the open orders of `instrument` and flatten its position with a market order.
    fn close_position(&mut self, instrument: InstrumentId) -> Option<OrderId> {
        self.cancel_all(Some(instrument));
        let q = self.position(instrument);
        (!q.is_zero()).then(|| self.submit(OrderRequest::market_signed(instrument, -q)))
    }
    /// Submit `entry` with `exits` as its bracket: each exit gets the entry as its parent
    /// and, when there are several, one OCA group named by the entry's id. The exits wait
    /// until the entry fills and are sized by what it filled; the first to fill reduces the
    /// others by its quantity and, once complete, cancels them. Returns the entry's id.
    fn submit_bracket(&mut self, entry: OrderRequest, exits: &[OrderRequest]) -> OrderId {
        let parent = self.submit(entry);
        let group = (exits.len() > 1).then_some(parent);
        for exit in exits {
            self.submit(exit_of(*exit, parent, group));
        }
        parent
    }

    /// A bracket with the usual two exits: a GTC limit at `take_profit` and a GTC stop at
    /// `stop_loss`, both for the entry's quantity the other way.
    fn bracket(
        &mut self,
        entry: OrderRequest,
        take_profit: Decimal,
        stop_loss: Decimal,
    ) -> BracketIds {
        let (i, side, q) = (entry.instrument, entry.side.opposite(), entry.quantity);
        let parent = self.submit(entry);
        let exit = |r: OrderRequest| exit_of(r.with_tif(TimeInForce::Gtc), parent, Some(parent));
        BracketIds {
            entry: parent,
            take_profit: self.submit(exit(OrderRequest::limit(i, side, q, take_profit))),
            stop_loss: self.submit(exit(OrderRequest::stop(i, side, q, stop_loss))),
        }
    }

    /// Submit `orders` as one OCA group (one-cancels-all: a fill reduces the others by its
    /// quantity, a complete fill cancels them), named by the first order's id, which is
    /// returned.
    fn submit_oca(&mut self, orders: &[OrderRequest]) -> Option<OrderId> {
        let group = self.next_order_id();
        let mut first = None;
        for order in orders {
            let id = self.submit(OrderRequest {
                oca_group: Some(group),
                ..*order
            });
            first.get_or_insert(id);
        }
        first
    }

    /// Submit an order; returns its id at once. The outcome (risk refusal, acceptance, fills,
    /// rejection) arrives later through [`Strategy::on_order`].
    fn submit(&mut self, request: OrderRequest) -> OrderId;

    /// Where the bracket whose entry is `entry` stands (`None` for an unknown order).
    fn bracket_state(&self, entry: OrderId) -> Option<BracketState>;

    /// The id the next [`Ctx::submit`] will return.
    fn next_order_id(&self) -> OrderId;
    /// Change quantity / prices of a working order.
    fn modify(&mut self, id: OrderId, change: OrderModify);
    /// Cancel an order.
    fn cancel(&mut self, id: OrderId);
    /// Cancel every open order (of one instrument, or all).
    fn cancel_all(&mut self, instrument: Option<InstrumentId>);
    /// Call [`Strategy::on_timer`] at `at` (UTC ns) with `tag`.
    fn set_timer(&mut self, at: Ts, tag: u64) -> TimerId;
    fn cancel_timer(&mut self, id: TimerId);
    /// Log a line under the strategy's name.
    fn log(&mut self, level: LogLevel, message: &str);
}

/// A trading strategy. Only `on_bar` is required. Hooks run on the kernel's thread, one at a
/// time, in event-time order.
pub trait Strategy: Send {
    /// Check the strategy against the run's instruments before anything runs (a fixed size
    /// that rounds to zero lots, say): an error stops the run at start-up with this text.
    fn check(&self, _instruments: &[Instrument]) -> Result<(), String> {
        Ok(())
    }
    /// Called once before the first event.
    fn on_start(&mut self, _ctx: &mut dyn Ctx) {}
    /// A bar has closed (`ctx.now() == bar.ts_end`).
    fn on_bar(&mut self, bar: &Bar, ctx: &mut dyn Ctx);
    /// A bar of a timeframe asked for with [`Ctx::resample`] is complete. A bar that the
    /// bar just shown completes arrives after that bar's `on_bar`; one that a gap or a new
    /// day ended arrives before the next `on_bar`.
    fn on_resampled(&mut self, _timeframe: Timeframe, _bar: &Bar, _ctx: &mut dyn Ctx) {}
    /// A quote / trade tick.
    fn on_tick(&mut self, _tick: &Tick, _ctx: &mut dyn Ctx) {}
    /// An order changed state or was filled.
    fn on_order(&mut self, _update: &OrderUpdate, _ctx: &mut dyn Ctx) {}
    /// A timer is due.
    fn on_timer(&mut self, _timer: &Timer, _ctx: &mut dyn Ctx) {}
    /// The live link changed (session lost or back, feed stale or flowing, entries paused or
    /// resumed). Never called in backtests.
    fn on_connectivity(&mut self, _state: &Connectivity, _ctx: &mut dyn Ctx) {}
    /// Called once after the last event.
    fn on_stop(&mut self, _ctx: &mut dyn Ctx) {}
}

/// The open orders of `instrument`, as `ctx` reads them.
fn open_orders_of<C: Ctx + ?Sized>(
    ctx: &C,
    instrument: InstrumentId,
) -> impl Iterator<Item = &Order> {
    ctx.open_orders()
        .iter()
        .filter_map(|id| ctx.order(*id))
        .filter(move |o| o.request.instrument == instrument)
}

/// `exit` as a bracket exit of `parent`, in OCA group `group`.
fn exit_of(exit: OrderRequest, parent: OrderId, group: Option<OrderId>) -> OrderRequest {
    OrderRequest {
        parent: Some(parent),
        oca_group: group,
        ..exit
    }
}
