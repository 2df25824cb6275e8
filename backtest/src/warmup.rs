//! Indicator warm-up without trading.
//!
//! A walk-forward out-of-sample window must not start with cold indicators (an EMA(80)
//! seeded at the window's first bar would trade on noise for 80 bars), nor trade on bars that
//! belong to the in-sample window. [`WarmUp`] wraps a strategy for the first `n` bars of a
//! run: the strategy sees those bars (and any timers) as usual and updates its state, but every
//! command it issues — submit, modify, cancel, timers — is discarded before it reaches the
//! kernel, so no order exists, nothing is audited, and the account is untouched. Logging,
//! [`Ctx::keep_history`] and [`Ctx::resample`] pass through; a higher-timeframe bar completed
//! by the last warm-up bar is muted too. `on_start` runs in the same muted way except that its timers are kept (a strategy
//! that schedules itself at start would otherwise never be called). `submit` returns ids from a range the kernel never hands out (counting down from
//! `u64::MAX`); `ctx.order(id)` is `None` for them. From bar `n + 1` on the wrapper forwards
//! everything unchanged.

use rust_decimal::Decimal;

use tickline_engine::domain::{
    Bar, Instrument, InstrumentId, OrderId, OrderModify, OrderRequest, Tick, Ts,
};
use tickline_engine::history::BarWindow;
use tickline_engine::order::{BracketState, Order, OrderUpdate};
use tickline_engine::portfolio::Portfolio;
use tickline_engine::resample::Timeframe;
use tickline_engine::risk::KillSwitchState;
use tickline_engine::strategy::{Ctx, LogLevel, Strategy, Timer, TimerId};

/// A strategy whose first `remaining` bars are warm-up (see the module docs).
pub struct WarmUp {
    inner: Box<dyn Strategy>,
    remaining: u64,
    discarded: u64,
    /// `ctx.now()` at the last warm-up bar: higher-timeframe bars delivered at that same
    /// moment are part of the warm-up too.
    muted_until: Ts,
}

impl WarmUp {
    pub fn new(inner: Box<dyn Strategy>, bars: u64) -> Self {
        WarmUp {
            inner,
            remaining: bars,
            discarded: 0,
            muted_until: Ts::MIN,
        }
    }

    fn warming(&self) -> bool {
        self.remaining > 0
    }
}

/// A [`Ctx`] that reads through and discards commands.
struct Muted<'a> {
    ctx: &'a mut dyn Ctx,
    discarded: &'a mut u64,
    keep_timers: bool,
}

impl Muted<'_> {
    fn fake_id(&mut self) -> u64 {
        *self.discarded += 1;
        u64::MAX - *self.discarded
    }
}

impl Ctx for Muted<'_> {
    fn now(&self) -> Ts {
        self.ctx.now()
    }
    fn instruments(&self) -> &[Instrument] {
        self.ctx.instruments()
    }
    fn instrument_id(&self, symbol: &str) -> Option<InstrumentId> {
        self.ctx.instrument_id(symbol)
    }
    fn position(&self, instrument: InstrumentId) -> Decimal {
        self.ctx.position(instrument)
    }
    fn portfolio(&self) -> &Portfolio {
        self.ctx.portfolio()
    }
    fn order(&self, id: OrderId) -> Option<&Order> {
        self.ctx.order(id)
    }
    fn open_orders(&self) -> &[OrderId] {
        self.ctx.open_orders()
    }
    fn kill_switch(&self) -> KillSwitchState {
        self.ctx.kill_switch()
    }
    fn buying_power(&self) -> Option<Decimal> {
        self.ctx.buying_power()
    }
    fn history(&self, instrument: InstrumentId, n: usize) -> BarWindow<'_> {
        self.ctx.history(instrument, n)
    }
    fn keep_history(&mut self, bars: usize) {
        // Kept: the warm-up bars are what the history is for.
        self.ctx.keep_history(bars);
    }
    fn resample(&mut self, timeframe: Timeframe) {
        // Kept too: higher timeframes warm up like the rest.
        self.ctx.resample(timeframe);
    }
    fn submit(&mut self, _request: OrderRequest) -> OrderId {
        OrderId(self.fake_id())
    }
    fn bracket_state(&self, entry: OrderId) -> Option<BracketState> {
        self.ctx.bracket_state(entry)
    }
    fn next_order_id(&self) -> OrderId {
        OrderId(u64::MAX - (*self.discarded + 1))
    }
    fn modify(&mut self, _id: OrderId, _change: OrderModify) {
        *self.discarded += 1;
    }
    fn cancel(&mut self, _id: OrderId) {
        *self.discarded += 1;
    }
    fn cancel_all(&mut self, _instrument: Option<InstrumentId>) {
        *self.discarded += 1;
    }
    fn set_timer(&mut self, at: Ts, tag: u64) -> TimerId {
        if self.keep_timers {
            return self.ctx.set_timer(at, tag);
        }
        TimerId(self.fake_id())
    }
    fn cancel_timer(&mut self, id: TimerId) {
        if self.keep_timers {
            return self.ctx.cancel_timer(id);
        }
        *self.discarded += 1;
    }
    fn log(&mut self, level: LogLevel, message: &str) {
        self.ctx.log(level, message);
    }
}

impl WarmUp {
    fn call(&mut self, ctx: &mut dyn Ctx, f: impl FnOnce(&mut dyn Strategy, &mut dyn Ctx)) {
        self.call_keeping(ctx, false, f);
    }

    fn call_keeping(
        &mut self,
        ctx: &mut dyn Ctx,
        keep_timers: bool,
        f: impl FnOnce(&mut dyn Strategy, &mut dyn Ctx),
    ) {
        if self.warming() {
            let mut muted = Muted {
                ctx,
                discarded: &mut self.discarded,
                keep_timers,
            };
            f(self.inner.as_mut(), &mut muted);
        } else {
            f(self.inner.as_mut(), ctx);
        }
    }
}

impl Strategy for WarmUp {
    fn on_start(&mut self, ctx: &mut dyn Ctx) {
        self.call_keeping(ctx, true, |s, c| s.on_start(c));
    }
    fn on_bar(&mut self, bar: &Bar, ctx: &mut dyn Ctx) {
        if self.warming() {
            self.muted_until = ctx.now();
        }
        self.call(ctx, |s, c| s.on_bar(bar, c));
        self.remaining = self.remaining.saturating_sub(1);
    }
    fn on_resampled(&mut self, timeframe: Timeframe, bar: &Bar, ctx: &mut dyn Ctx) {
        if !self.warming() && ctx.now() <= self.muted_until {
            // Completed by the last warm-up bar, at its close: still warm-up.
            let mut muted = Muted {
                ctx,
                discarded: &mut self.discarded,
                keep_timers: false,
            };
            return self.inner.on_resampled(timeframe, bar, &mut muted);
        }
        self.call(ctx, |s, c| s.on_resampled(timeframe, bar, c));
    }
    fn on_tick(&mut self, tick: &Tick, ctx: &mut dyn Ctx) {
        self.call(ctx, |s, c| s.on_tick(tick, c));
    }
    fn on_order(&mut self, update: &OrderUpdate, ctx: &mut dyn Ctx) {
        self.call(ctx, |s, c| s.on_order(update, c));
    }
    fn on_timer(&mut self, timer: &Timer, ctx: &mut dyn Ctx) {
        self.call(ctx, |s, c| s.on_timer(timer, c));
    }
    fn on_stop(&mut self, ctx: &mut dyn Ctx) {
        self.inner.on_stop(ctx);
    }
}
