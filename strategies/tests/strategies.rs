//! The example strategies driven through a fake [`Ctx`] on hand-made bars: exact orders at
//! exact bars, order-update handling, parameter errors, the registry, invariants over random
//! bar paths (proptest, with a tiny simulated venue) and a no-allocation check of the hooks.

use proptest::prelude::*;
use proptest::strategy::Strategy as Strategy2;
use rust_decimal::Decimal;
use rust_decimal::dec;
use tickline_engine::domain::{
    Bar, ClientOrderId, ExecId, Fill, Instrument, InstrumentId, OrderId, OrderModify, OrderRequest,
    OrderType, Side, TimeInForce, Trail, Ts,
};
use tickline_engine::history::{BarHistory, BarWindow};
use tickline_engine::order::{BracketState, Order, OrderState, OrderUpdate, bracket_state};
use tickline_engine::portfolio::Portfolio;
use tickline_engine::resample::Timeframe;
use tickline_engine::risk::{KillSwitchState, Refusal, RefusalReason};
use tickline_engine::strategy::{Ctx, LogLevel, Strategy, TimerId};
use tickline_strategies::donchian_breakout::DonchianBreakout;
use tickline_strategies::ema_cross::EmaCross;
use tickline_strategies::rsi_reversion::RsiReversion;
use tickline_strategies::{REGISTRY, Registry, StrategyError};

fn build(name: &str, params: &toml::Table) -> Result<Box<dyn Strategy>, StrategyError> {
    Registry::bundled().build(name, params)
}

// ================================================================ counting allocator

mod common;
use common::allocations;

// ================================================================ fake context

/// What a strategy asked the context to do.
#[derive(Clone, Debug, PartialEq)]
enum Action {
    Submit(OrderId, OrderRequest),
    Modify(OrderId, OrderModify),
    Cancel(OrderId),
    CancelAll(Option<InstrumentId>),
    SetTimer(Ts, u64),
    CancelTimer(TimerId),
}

/// A `Ctx` that records commands and lets the test own positions and order states.
/// Orders submitted start `PendingSubmit`; a cancel marks them `PendingCancel`; a modify is
/// applied at once (as if acknowledged). Capacity is reserved up front so the recording
/// itself does not allocate.
struct FakeCtx {
    now: Ts,
    instruments: Vec<Instrument>,
    portfolio: Portfolio,
    positions: Vec<Decimal>,
    orders: Vec<Order>,
    open: Vec<OrderId>,
    actions: Vec<Action>,
    logs: Vec<(LogLevel, String)>,
    next_timer: u64,
    /// Allocations counted inside strategy hooks run through [`on_bar`] / [`deliver`].
    hook_allocations: u64,
    /// Bars shown through [`on_bar`], as the kernel keeps them.
    history: BarHistory,
}

const CAPACITY: usize = 4096;

impl FakeCtx {
    fn new(symbols: &[&str]) -> FakeCtx {
        let instruments: Vec<Instrument> = symbols
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let mut inst = Instrument::stock(s);
                inst.id = InstrumentId(i as u32);
                inst
            })
            .collect();
        FakeCtx {
            now: 0,
            portfolio: Portfolio::new(dec!(100000), &instruments),
            positions: vec![Decimal::ZERO; instruments.len()],
            instruments,
            orders: Vec::with_capacity(CAPACITY),
            open: Vec::with_capacity(CAPACITY),
            actions: Vec::with_capacity(CAPACITY),
            logs: Vec::with_capacity(CAPACITY),
            next_timer: 1,
            hook_allocations: 0,
            history: BarHistory::default(),
        }
    }

    fn set_position(&mut self, instrument: InstrumentId, qty: Decimal) {
        self.positions[instrument.index()] = qty;
    }

    fn take_actions(&mut self) -> Vec<Action> {
        let out = self.actions.clone();
        self.actions.clear();
        out
    }

    fn get(&self, id: OrderId) -> &Order {
        &self.orders[(id.0 - 1) as usize]
    }

    fn get_mut(&mut self, id: OrderId) -> &mut Order {
        &mut self.orders[(id.0 - 1) as usize]
    }

    /// Move `id` to `state`; returns the update the strategy would be told.
    fn transition(&mut self, id: OrderId, state: OrderState) -> OrderUpdate {
        let o = self.get_mut(id);
        let previous = o.state;
        o.state = state;
        let instrument = o.request.instrument;
        if state.is_terminal() {
            self.open.retain(|x| *x != id);
        }
        OrderUpdate {
            order_id: id,
            instrument,
            previous,
            state,
            fill: None,
            refusal: None,
        }
    }

    /// The broker acknowledged `id`.
    fn ack(&mut self, id: OrderId) -> OrderUpdate {
        self.transition(id, OrderState::Working)
    }

    /// `id` filled `qty` at `price`: position and order are updated first (as the kernel
    /// does), then the update is returned.
    fn fill(&mut self, id: OrderId, qty: Decimal, price: Decimal) -> OrderUpdate {
        let o = self.get_mut(id);
        let side = o.request.side;
        let instrument = o.request.instrument;
        o.avg_fill_price = if o.filled_qty.is_zero() {
            price
        } else {
            (o.avg_fill_price * o.filled_qty + price * qty) / (o.filled_qty + qty)
        };
        o.filled_qty += qty;
        let state = if o.filled_qty >= o.request.quantity {
            OrderState::Filled
        } else {
            OrderState::PartiallyFilled
        };
        self.positions[instrument.index()] += side.sign() * qty;
        let mut u = self.transition(id, state);
        u.fill = Some(Fill {
            order_id: id,
            instrument,
            side,
            quantity: qty,
            price,
            commission: Decimal::ZERO,
            ts: self.now,
            exec_id: ExecId::NONE,
        });
        u
    }

    /// The risk layer refused `id`.
    fn deny(&mut self, id: OrderId) -> OrderUpdate {
        let refusal = Refusal {
            check: "max_order_quantity",
            reason: RefusalReason::MaxOrderQuantity {
                quantity: self.get(id).request.quantity,
                limit: dec!(10),
            },
        };
        let o = self.get_mut(id);
        o.refusal = Some(Box::new(refusal));
        o.reason = Some(refusal.to_string());
        let mut u = self.transition(id, OrderState::Denied);
        u.previous = OrderState::Denied;
        u.refusal = Some(refusal);
        u
    }

    /// The broker rejected `id` (or it ended in another terminal state) for `reason`.
    fn end(&mut self, id: OrderId, state: OrderState, reason: &str) -> OrderUpdate {
        self.get_mut(id).reason = Some(reason.to_string());
        self.transition(id, state)
    }

    fn warnings(&self) -> Vec<&str> {
        self.logs
            .iter()
            .filter(|(l, _)| *l == LogLevel::Warn)
            .map(|(_, m)| m.as_str())
            .collect()
    }
}

impl Ctx for FakeCtx {
    fn now(&self) -> Ts {
        self.now
    }
    fn instruments(&self) -> &[Instrument] {
        &self.instruments
    }
    fn instrument_id(&self, symbol: &str) -> Option<InstrumentId> {
        self.instruments
            .iter()
            .find(|i| i.symbol == symbol)
            .map(|i| i.id)
    }
    fn position(&self, instrument: InstrumentId) -> Decimal {
        self.positions
            .get(instrument.index())
            .copied()
            .unwrap_or_default()
    }
    fn portfolio(&self) -> &Portfolio {
        &self.portfolio
    }
    fn order(&self, id: OrderId) -> Option<&Order> {
        self.orders.get(id.0.checked_sub(1)? as usize)
    }
    fn open_orders(&self) -> &[OrderId] {
        &self.open
    }
    fn kill_switch(&self) -> KillSwitchState {
        KillSwitchState::Active
    }
    fn history(&self, instrument: InstrumentId, n: usize) -> BarWindow<'_> {
        self.history.window(instrument, n)
    }
    fn keep_history(&mut self, bars: usize) {
        self.history.keep(self.instruments.len(), bars);
    }
    fn resample(&mut self, timeframe: Timeframe) {
        self.logs
            .push((LogLevel::Debug, format!("resample {}", timeframe.label())));
    }
    fn bracket_state(&self, entry: OrderId) -> Option<BracketState> {
        let e = self.order(entry)?;
        Some(bracket_state(
            e,
            &self.orders,
            self.position(e.request.instrument),
        ))
    }
    fn next_order_id(&self) -> OrderId {
        OrderId(self.orders.len() as u64 + 1)
    }
    fn submit(&mut self, request: OrderRequest) -> OrderId {
        let id = self.next_order_id();
        self.orders.push(Order {
            id,
            client_order_id: ClientOrderId::with_number("T-", id.0),
            request,
            state: OrderState::PendingSubmit,
            filled_qty: Decimal::ZERO,
            avg_fill_price: Decimal::ZERO,
            commission: Decimal::ZERO,
            created: self.now,
            updated: self.now,
            broker_order_id: None,
            reason: None,
            refusal: None,
            pending_modify: None,
            prompts: 0,
        });
        self.open.push(id);
        self.actions.push(Action::Submit(id, request));
        id
    }
    fn modify(&mut self, id: OrderId, change: OrderModify) {
        if let Some(o) = self.orders.get_mut((id.0 - 1) as usize) {
            if let Some(q) = change.quantity {
                o.request.quantity = q;
            }
            if change.limit_price.is_some() {
                o.request.limit_price = change.limit_price;
            }
            if change.stop_price.is_some() {
                o.request.stop_price = change.stop_price;
            }
        }
        self.actions.push(Action::Modify(id, change));
    }
    fn cancel(&mut self, id: OrderId) {
        if let Some(o) = self.orders.get_mut((id.0 - 1) as usize)
            && o.state.is_open()
        {
            o.state = OrderState::PendingCancel;
        }
        self.actions.push(Action::Cancel(id));
    }
    fn cancel_all(&mut self, instrument: Option<InstrumentId>) {
        for id in &self.open {
            let o = &mut self.orders[(id.0 - 1) as usize];
            if instrument.is_none_or(|i| o.request.instrument == i) {
                o.state = OrderState::PendingCancel;
            }
        }
        self.actions.push(Action::CancelAll(instrument));
    }
    fn set_timer(&mut self, at: Ts, tag: u64) -> TimerId {
        self.actions.push(Action::SetTimer(at, tag));
        self.next_timer += 1;
        TimerId(self.next_timer - 1)
    }
    fn cancel_timer(&mut self, id: TimerId) {
        self.actions.push(Action::CancelTimer(id));
    }
    fn log(&mut self, level: LogLevel, message: &str) {
        self.logs.push((level, message.to_string()));
    }
}

// ================================================================ helpers

const MINUTE: i64 = 60_000_000_000;
const I0: InstrumentId = InstrumentId(0);

/// Bar number `i` of instrument 0 (one-minute bars).
fn bar(i: i64, open: f64, high: f64, low: f64, close: f64) -> Bar {
    Bar {
        instrument: I0,
        ts: i * MINUTE,
        ts_end: (i + 1) * MINUTE,
        open,
        high,
        low,
        close,
        volume: 1000.0,
    }
}

/// A bar that opens, closes and ranges at `close` (for close-only strategies).
fn flat_bar(i: i64, close: f64) -> Bar {
    bar(i, close, close, close, close)
}

/// Show one bar to the strategy; returns what it did.
fn on_bar(s: &mut dyn Strategy, ctx: &mut FakeCtx, b: &Bar) -> Vec<Action> {
    ctx.now = b.ts_end;
    ctx.history.push(b);
    if let Ok(px) = Decimal::try_from(b.close) {
        ctx.portfolio.mark(b.instrument, px);
    }
    let before = allocations();
    s.on_bar(b, ctx);
    ctx.hook_allocations += allocations() - before;
    ctx.take_actions()
}

/// Tell the strategy about an order update; returns what it did.
fn deliver(s: &mut dyn Strategy, ctx: &mut FakeCtx, u: OrderUpdate) -> Vec<Action> {
    let before = allocations();
    s.on_order(&u, ctx);
    ctx.hook_allocations += allocations() - before;
    ctx.take_actions()
}

/// Feed closes as flat bars from index 0; returns the actions per bar.
fn feed_closes(s: &mut dyn Strategy, ctx: &mut FakeCtx, closes: &[f64]) -> Vec<Vec<Action>> {
    closes
        .iter()
        .enumerate()
        .map(|(i, c)| on_bar(s, ctx, &flat_bar(i as i64, *c)))
        .collect()
}

fn table(src: &str) -> toml::Table {
    toml::from_str(src).expect("test TOML parses")
}

fn market(id: u64, side: Side, qty: Decimal) -> Action {
    Action::Submit(OrderId(id), OrderRequest::market(I0, side, qty))
}

fn stop_gtc(id: u64, side: Side, qty: Decimal, price: Decimal) -> Action {
    Action::Submit(
        OrderId(id),
        OrderRequest::stop(I0, side, qty, price).with_tif(TimeInForce::Gtc),
    )
}

/// Indices of the bars that produced any action.
fn active_bars(per_bar: &[Vec<Action>]) -> Vec<usize> {
    per_bar
        .iter()
        .enumerate()
        .filter(|(_, a)| !a.is_empty())
        .map(|(i, _)| i)
        .collect()
}

fn rsi(src: &str, ctx: &mut FakeCtx) -> RsiReversion {
    let mut s = RsiReversion::from_params(&table(src)).expect("valid parameters");
    s.on_start(ctx);
    s
}

fn donchian(src: &str, ctx: &mut FakeCtx) -> DonchianBreakout {
    let mut s = DonchianBreakout::from_params(&table(src)).expect("valid parameters");
    s.on_start(ctx);
    s
}

fn param_error<T>(r: Result<T, tickline_engine::params::ParamError>) -> String {
    match r {
        Ok(_) => panic!("expected a parameter error"),
        Err(e) => e.to_string(),
    }
}

// ================================================================ rsi_reversion

#[test]
fn rsi_long_entry_and_exit_at_exact_bars() {
    let mut ctx = FakeCtx::new(&["SPY"]);
    let mut s = rsi("period = 2", &mut ctx);
    // RSI(2): bar 2 = 100 (first value, record only); bar 3 (Δ −3): gains 0.5, losses 1.5
    // -> 25, crosses below 30 -> buy 100.
    let per_bar = feed_closes(&mut s, &mut ctx, &[10.0, 11.0, 12.0, 9.0]);
    assert_eq!(active_bars(&per_bar), vec![3]);
    assert_eq!(per_bar[3], vec![market(1, Side::Buy, dec!(100))]);
    let u = ctx.ack(OrderId(1));
    assert!(deliver(&mut s, &mut ctx, u).is_empty());
    let u = ctx.fill(OrderId(1), dec!(100), dec!(9.5));
    assert!(deliver(&mut s, &mut ctx, u).is_empty());
    // Bar 4 (Δ +0.5): 0.5 / 0.75 -> 40, no exit. Bar 5 (Δ +1): 0.75 / 0.375 -> 66.7,
    // crosses above 50 -> sell the position.
    assert!(on_bar(&mut s, &mut ctx, &flat_bar(4, 9.5)).is_empty());
    assert_eq!(
        on_bar(&mut s, &mut ctx, &flat_bar(5, 10.5)),
        vec![market(2, Side::Sell, dec!(100))]
    );
    assert!(ctx.logs.is_empty());
}

#[test]
fn rsi_exit_sells_the_actual_position() {
    let mut ctx = FakeCtx::new(&["SPY"]);
    let mut s = rsi("period = 2", &mut ctx);
    feed_closes(&mut s, &mut ctx, &[10.0, 11.0, 12.0, 9.0]);
    let u = ctx.fill(OrderId(1), dec!(100), dec!(9.5));
    deliver(&mut s, &mut ctx, u);
    ctx.set_position(I0, dec!(40)); // something else changed the position
    on_bar(&mut s, &mut ctx, &flat_bar(4, 9.5));
    assert_eq!(
        on_bar(&mut s, &mut ctx, &flat_bar(5, 10.5)),
        vec![market(2, Side::Sell, dec!(40))]
    );
}

#[test]
fn rsi_crossing_uses_equality_on_the_previous_side_only() {
    // Period 1: RSI is 100 after a rise, 0 after a fall, 50 when unchanged.
    let mut ctx = FakeCtx::new(&["SPY"]);
    let mut s = rsi("period = 1", &mut ctx);
    // bar 1: 100 (record); bar 2: 0 -> 100 >= 30 > 0 -> buy.
    let per_bar = feed_closes(&mut s, &mut ctx, &[10.0, 11.0, 10.0]);
    assert_eq!(active_bars(&per_bar), vec![2]);
    let u = ctx.fill(OrderId(1), dec!(100), dec!(10));
    deliver(&mut s, &mut ctx, u);
    // bar 3: 50: prev 0 <= 50 but 50 < 50 is false -> no exit (equality on the current side).
    assert!(on_bar(&mut s, &mut ctx, &flat_bar(3, 10.0)).is_empty());
    // bar 4: 100: prev 50 <= 50 < 100 -> exit (equality on the previous side).
    assert_eq!(
        on_bar(&mut s, &mut ctx, &flat_bar(4, 11.0)),
        vec![market(2, Side::Sell, dec!(100))]
    );

    // Entry side: oversold 50. bar 2: 50 -> 100 >= 50 > 50 false; bar 3: 0 -> 50 >= 50 > 0.
    let mut ctx = FakeCtx::new(&["SPY"]);
    let mut s = rsi("period = 1\noversold = 50\nexit = 60", &mut ctx);
    let per_bar = feed_closes(&mut s, &mut ctx, &[10.0, 11.0, 11.0, 10.0]);
    assert_eq!(active_bars(&per_bar), vec![3]);
    assert_eq!(per_bar[3], vec![market(1, Side::Buy, dec!(100))]);
}

#[test]
fn rsi_short_side_is_off_by_default_and_mirrors_when_on() {
    // RSI(2): bar 2 = 0 (record); bar 3 (Δ +3): 1.5 / 0.5 -> 75 crosses above 70;
    // bar 4 (Δ −0.5): 0.75 / 0.5 -> 60; bar 5 (Δ −1): 0.375 / 0.75 -> 33.3 crosses below 50.
    let closes = [10.0, 9.0, 8.0, 11.0, 10.5, 9.5];
    let mut ctx = FakeCtx::new(&["SPY"]);
    let mut s = rsi("period = 2", &mut ctx);
    assert!(active_bars(&feed_closes(&mut s, &mut ctx, &closes)).is_empty());

    let mut ctx = FakeCtx::new(&["SPY"]);
    let mut s = rsi("period = 2\nallow_short = true", &mut ctx);
    let per_bar = feed_closes(&mut s, &mut ctx, &closes[..4]);
    assert_eq!(active_bars(&per_bar), vec![3]);
    assert_eq!(per_bar[3], vec![market(1, Side::Sell, dec!(100))]);
    let u = ctx.fill(OrderId(1), dec!(100), dec!(11));
    deliver(&mut s, &mut ctx, u);
    assert!(on_bar(&mut s, &mut ctx, &flat_bar(4, 10.5)).is_empty());
    assert_eq!(
        on_bar(&mut s, &mut ctx, &flat_bar(5, 9.5)),
        vec![market(2, Side::Buy, dec!(100))]
    );
}

#[test]
fn rsi_trend_filter_gates_entries() {
    // RSI(2) crosses below 30 at bar 7 (Δ −4: gains 0.6875, losses 2 -> 25.6).
    let closes = [5.0, 5.0, 5.0, 5.0, 10.0, 11.0, 12.0, 8.0];
    // SMA(8) at bar 7 = 61 / 8 = 7.625 < close 8: long allowed.
    let mut ctx = FakeCtx::new(&["SPY"]);
    let mut s = rsi("period = 2\ntrend_sma = 8", &mut ctx);
    let per_bar = feed_closes(&mut s, &mut ctx, &closes);
    assert_eq!(active_bars(&per_bar), vec![7]);
    assert_eq!(per_bar[7], vec![market(1, Side::Buy, dec!(100))]);
    // SMA(3) = (11 + 12 + 8) / 3 = 10.33 > 8: blocked.
    let mut ctx = FakeCtx::new(&["SPY"]);
    let mut s = rsi("period = 2\ntrend_sma = 3", &mut ctx);
    assert!(active_bars(&feed_closes(&mut s, &mut ctx, &closes)).is_empty());
    // SMA(9) not yet defined at bar 7: no entry.
    let mut ctx = FakeCtx::new(&["SPY"]);
    let mut s = rsi("period = 2\ntrend_sma = 9", &mut ctx);
    assert!(active_bars(&feed_closes(&mut s, &mut ctx, &closes)).is_empty());
    // Filter off (explicit 0): same as no filter.
    let mut ctx = FakeCtx::new(&["SPY"]);
    let mut s = rsi("period = 2\ntrend_sma = 0", &mut ctx);
    assert_eq!(
        active_bars(&feed_closes(&mut s, &mut ctx, &closes)),
        vec![7]
    );

    // Shorts: RSI(2) crosses above 70 at bar 7 (Δ +4: 2 / 0.6875 -> 74.4).
    let closes = [15.0, 15.0, 15.0, 15.0, 10.0, 9.0, 8.0, 12.0];
    // SMA(8) = 99 / 8 = 12.375 > close 12: short allowed.
    let mut ctx = FakeCtx::new(&["SPY"]);
    let mut s = rsi("period = 2\nallow_short = true\ntrend_sma = 8", &mut ctx);
    let per_bar = feed_closes(&mut s, &mut ctx, &closes);
    assert_eq!(active_bars(&per_bar), vec![7]);
    assert_eq!(per_bar[7], vec![market(1, Side::Sell, dec!(100))]);
    // SMA(3) = (9 + 8 + 12) / 3 = 9.67 < 12: blocked.
    let mut ctx = FakeCtx::new(&["SPY"]);
    let mut s = rsi("period = 2\nallow_short = true\ntrend_sma = 3", &mut ctx);
    assert!(active_bars(&feed_closes(&mut s, &mut ctx, &closes)).is_empty());
}

#[test]
fn rsi_waits_for_open_orders_and_recovers_after_denial() {
    let mut ctx = FakeCtx::new(&["SPY"]);
    let mut s = rsi("period = 1\nquantity = 25", &mut ctx);
    // Crosses below 30 at bars 2 and 4; the first order is still open at bar 4.
    let per_bar = feed_closes(&mut s, &mut ctx, &[10.0, 11.0, 10.0, 11.0, 10.0]);
    assert_eq!(active_bars(&per_bar), vec![2]);
    assert_eq!(per_bar[2], vec![market(1, Side::Buy, dec!(25))]);
    let u = ctx.ack(OrderId(1));
    deliver(&mut s, &mut ctx, u);
    let u = ctx.deny(OrderId(1));
    assert!(deliver(&mut s, &mut ctx, u).is_empty());
    assert_eq!(
        ctx.warnings(),
        vec![
            "rsi_reversion: order 1 Denied: refused by max_order_quantity: order quantity 25 exceeds \
             the limit 10"
        ]
    );
    // Free again: the next cross trades.
    assert!(on_bar(&mut s, &mut ctx, &flat_bar(5, 11.0)).is_empty());
    assert_eq!(
        on_bar(&mut s, &mut ctx, &flat_bar(6, 10.0)),
        vec![market(2, Side::Buy, dec!(25))]
    );
    // A broker rejection frees it as well and logs the broker's reason.
    let u = ctx.end(OrderId(2), OrderState::Rejected, "no trading permissions");
    deliver(&mut s, &mut ctx, u);
    assert_eq!(
        ctx.warnings()[1],
        "rsi_reversion: order 2 Rejected: no trading permissions"
    );
    on_bar(&mut s, &mut ctx, &flat_bar(7, 11.0));
    assert_eq!(
        on_bar(&mut s, &mut ctx, &flat_bar(8, 10.0)),
        vec![market(3, Side::Buy, dec!(25))]
    );
}

#[test]
fn rsi_only_trades_listed_symbols_and_warns_about_unknown_ones() {
    let mut ctx = FakeCtx::new(&["SPY", "QQQ"]);
    let mut s = rsi("period = 1\nsymbols = [\"QQQ\", \"NOPE\"]", &mut ctx);
    assert_eq!(
        ctx.warnings(),
        vec!["rsi_reversion: symbol NOPE is not an instrument of this run; ignored"]
    );
    let closes = [10.0, 11.0, 10.0];
    assert!(active_bars(&feed_closes(&mut s, &mut ctx, &closes)).is_empty());
    let mut actions = Vec::new();
    for (i, c) in closes.iter().enumerate() {
        let mut b = flat_bar(i as i64, *c);
        b.instrument = InstrumentId(1);
        actions = on_bar(&mut s, &mut ctx, &b);
    }
    assert_eq!(
        actions,
        vec![Action::Submit(
            OrderId(1),
            OrderRequest::market(InstrumentId(1), Side::Buy, dec!(100))
        )]
    );
}

#[test]
fn rsi_parameter_errors() {
    let e = |src: &str| param_error(RsiReversion::from_params(&table(src)));
    assert_eq!(
        e("oversold = 50"),
        "strategy rsi_reversion: parameter `oversold` (50) must be below exit (50)"
    );
    assert_eq!(
        e("exit = 75"),
        "strategy rsi_reversion: parameter `exit` (75) must be below overbought (70)"
    );
    assert_eq!(
        e("oversold = 0"),
        "strategy rsi_reversion: parameter `oversold` must be above 0 and below 100, got 0"
    );
    assert_eq!(
        e("overbought = 100.5"),
        "strategy rsi_reversion: parameter `overbought` must be above 0 and below 100, got 100.5"
    );
    assert_eq!(
        e("period = \"x\""),
        "strategy rsi_reversion: parameter `period` must be a positive integer, got string \"x\""
    );
    assert_eq!(
        e("period = 0"),
        "strategy rsi_reversion: parameter `period` must be a positive integer, got integer 0"
    );
    assert_eq!(
        e("allow_short = 1"),
        "strategy rsi_reversion: parameter `allow_short` must be true or false, got integer 1"
    );
    assert_eq!(
        e("trend_sma = -5"),
        "strategy rsi_reversion: parameter `trend_sma` must be 0 (off) or a positive integer, got -5"
    );
    assert_eq!(
        e("trend_sma = 2.5"),
        "strategy rsi_reversion: parameter `trend_sma` must be a positive integer, got float 2.5"
    );
    assert_eq!(
        e("quantity = 0"),
        "strategy rsi_reversion: parameter `quantity` must be positive, got 0"
    );
    assert_eq!(
        e("perod = 3"),
        "strategy rsi_reversion: unknown parameter `perod` (valid: allow_short, exit, \
         overbought, oversold, period, quantity, symbols, trend_sma)"
    );
    assert!(RsiReversion::from_params(&table("trend_sma = 0\nquantity = \"0.5\"")).is_ok());
}

// ================================================================ donchian_breakout

/// entry 3, exit 2, ATR(2), 2 × ATR.
const DONCHIAN: &str = "entry = 3\nexit = 2\natr_period = 2\natr_mult = 2.0";

/// Bars 0–2 build the channels (high 11, low 9; ATR 2). Bar 3 closes 12.5 above the entry
/// high 11 (ATR (2 + 3) / 2 = 2.5) -> buy.
fn long_setup() -> [Bar; 4] {
    [
        bar(0, 10.0, 11.0, 9.0, 10.0),
        bar(1, 10.0, 11.0, 9.0, 10.0),
        bar(2, 10.0, 11.0, 9.0, 10.0),
        bar(3, 10.0, 13.0, 10.0, 12.5),
    ]
}

/// A bracket exit of order `parent` (no OCA group: a bracket with one exit).
fn exit_of(parent: u64, mut r: OrderRequest) -> OrderRequest {
    r.parent = Some(OrderId(parent));
    r
}

/// Run the long setup: the entry goes out as a bracket with its stop; fill the entry and
/// acknowledge both.
fn long_position(params: &str) -> (DonchianBreakout, FakeCtx) {
    let mut ctx = FakeCtx::new(&["ES"]);
    let mut s = donchian(params, &mut ctx);
    let bars = long_setup();
    for b in &bars[..3] {
        assert!(on_bar(&mut s, &mut ctx, b).is_empty());
    }
    let actions = on_bar(&mut s, &mut ctx, &bars[3]);
    assert_eq!(actions.len(), 2, "{actions:?}");
    assert_eq!(actions[0], market(1, Side::Buy, dec!(100)));
    for id in [1, 2] {
        let u = ctx.ack(OrderId(id));
        assert!(deliver(&mut s, &mut ctx, u).is_empty());
    }
    let u = ctx.fill(OrderId(1), dec!(100), dec!(12.6));
    assert!(deliver(&mut s, &mut ctx, u).is_empty());
    (s, ctx)
}

/// Bars after the long entry: 4 and 5 stay above the exit channel (lows 9, then 10);
/// bar 6 closes 9.8 below the exit low 11 -> exit. ATR: bar 4 2.0, bar 5 2.0.
fn long_followup() -> [Bar; 3] {
    [
        bar(4, 12.5, 13.5, 12.0, 13.0),
        bar(5, 13.0, 13.0, 11.0, 11.5),
        bar(6, 11.5, 11.8, 9.5, 9.8),
    ]
}

#[test]
fn donchian_long_entry_is_a_bracket_with_its_stop_and_exits_on_the_channel() {
    let mut ctx = FakeCtx::new(&["ES"]);
    let mut s = donchian(DONCHIAN, &mut ctx);
    let bars = long_setup();
    for b in &bars[..3] {
        on_bar(&mut s, &mut ctx, b);
    }
    // Stop at 12.5 − 2 × 2.5 = 7.5 (signal close and ATR), GTC, an exit of the entry.
    assert_eq!(
        on_bar(&mut s, &mut ctx, &bars[3]),
        vec![
            market(1, Side::Buy, dec!(100)),
            Action::Submit(
                OrderId(2),
                exit_of(1, OrderRequest::stop(I0, Side::Sell, dec!(100), dec!(7.5)))
                    .with_tif(TimeInForce::Gtc)
            ),
        ]
    );
    let (mut s, mut ctx) = long_position(DONCHIAN);
    let [b4, b5, b6] = long_followup();
    assert!(on_bar(&mut s, &mut ctx, &b4).is_empty());
    assert!(on_bar(&mut s, &mut ctx, &b5).is_empty());
    // The channel exit closes the position: the stop is cancelled with everything else.
    assert_eq!(
        on_bar(&mut s, &mut ctx, &b6),
        vec![
            Action::CancelAll(Some(I0)),
            market(3, Side::Sell, dec!(100))
        ]
    );
    assert!(ctx.logs.is_empty());
}

#[test]
fn donchian_close_equal_to_the_channel_does_not_trade() {
    let mut ctx = FakeCtx::new(&["ES"]);
    let mut s = donchian(DONCHIAN, &mut ctx);
    let bars = long_setup();
    for b in &bars[..3] {
        on_bar(&mut s, &mut ctx, b);
    }
    // Close exactly at the entry high 11 (and the low exactly 9): no entry.
    assert!(on_bar(&mut s, &mut ctx, &bar(3, 10.0, 11.0, 9.0, 11.0)).is_empty());
    assert!(on_bar(&mut s, &mut ctx, &bar(4, 10.0, 11.0, 9.0, 9.0)).is_empty());
    // Still nothing before the channels are defined: a fresh strategy at bar 2.
    let mut ctx = FakeCtx::new(&["ES"]);
    let mut s = donchian(DONCHIAN, &mut ctx);
    on_bar(&mut s, &mut ctx, &bars[0]);
    on_bar(&mut s, &mut ctx, &bars[1]);
    assert!(on_bar(&mut s, &mut ctx, &bar(2, 10.0, 20.0, 9.0, 19.0)).is_empty());
}

#[test]
fn donchian_trail_sends_a_trailing_stop_the_broker_moves() {
    let mut ctx = FakeCtx::new(&["ES"]);
    let mut s = donchian(&format!("{DONCHIAN}\ntrail = true"), &mut ctx);
    let bars = long_setup();
    for b in &bars[..3] {
        on_bar(&mut s, &mut ctx, b);
    }
    // Trailing amount 2 × 2.5 = 5, first stop 7.5; no modify from the strategy after.
    let trailing = OrderRequest::trailing_stop(I0, Side::Sell, dec!(100), Trail::Amount(dec!(5)))
        .with_stop(dec!(7.5))
        .with_tif(TimeInForce::Gtc);
    assert_eq!(
        on_bar(&mut s, &mut ctx, &bars[3]),
        vec![
            market(1, Side::Buy, dec!(100)),
            Action::Submit(OrderId(2), exit_of(1, trailing))
        ]
    );
    let (mut s, mut ctx) = long_position(&format!("{DONCHIAN}\ntrail = true"));
    let [b4, b5, _] = long_followup();
    assert!(on_bar(&mut s, &mut ctx, &b4).is_empty());
    assert!(on_bar(&mut s, &mut ctx, &b5).is_empty());
}

#[test]
fn donchian_short_side_mirrors_and_can_be_switched_off() {
    let setup = [
        bar(0, 10.0, 11.0, 9.0, 10.0),
        bar(1, 10.0, 11.0, 9.0, 10.0),
        bar(2, 10.0, 11.0, 9.0, 10.0),
        // Close 7.5 below the entry low 9; ATR (2 + 3) / 2 = 2.5.
        bar(3, 10.0, 10.0, 7.0, 7.5),
    ];
    let mut ctx = FakeCtx::new(&["ES"]);
    let mut s = donchian(&format!("{DONCHIAN}\nallow_short = false"), &mut ctx);
    for b in &setup {
        assert!(on_bar(&mut s, &mut ctx, b).is_empty());
    }

    let mut ctx = FakeCtx::new(&["ES"]);
    let mut s = donchian(DONCHIAN, &mut ctx);
    for b in &setup[..3] {
        on_bar(&mut s, &mut ctx, b);
    }
    // Stop above: 7.5 + 2 × 2.5 = 12.5.
    assert_eq!(
        on_bar(&mut s, &mut ctx, &setup[3]),
        vec![
            market(1, Side::Sell, dec!(100)),
            Action::Submit(
                OrderId(2),
                exit_of(1, OrderRequest::stop(I0, Side::Buy, dec!(100), dec!(12.5)))
                    .with_tif(TimeInForce::Gtc)
            ),
        ]
    );
    let u = ctx.fill(OrderId(1), dec!(100), dec!(7.4));
    assert!(deliver(&mut s, &mut ctx, u).is_empty());
    let u = ctx.ack(OrderId(2));
    deliver(&mut s, &mut ctx, u);
    // Bars 4, 5 stay under the exit high; bar 6 closes 10.2 above max(8, 9) = 9 -> exit.
    assert!(on_bar(&mut s, &mut ctx, &bar(4, 7.5, 8.0, 6.5, 7.0)).is_empty());
    assert!(on_bar(&mut s, &mut ctx, &bar(5, 7.0, 9.0, 7.0, 8.5)).is_empty());
    assert_eq!(
        on_bar(&mut s, &mut ctx, &bar(6, 8.5, 10.5, 8.4, 10.2)),
        vec![Action::CancelAll(Some(I0)), market(3, Side::Buy, dec!(100))]
    );
}

#[test]
fn donchian_stop_fill_frees_the_instrument() {
    let (mut s, mut ctx) = long_position(DONCHIAN);
    let u = ctx.fill(OrderId(2), dec!(100), dec!(7.5));
    assert!(deliver(&mut s, &mut ctx, u).is_empty());
    // Bar 4 closes 13, not above the entry high 13.
    let [b4, ..] = long_followup();
    assert!(on_bar(&mut s, &mut ctx, &b4).is_empty());
    // Bar 5 closes 13.8 above max(11, 13, 13.5) = 13.5 -> a new bracket.
    let actions = on_bar(&mut s, &mut ctx, &bar(5, 13.0, 14.0, 12.5, 13.8));
    assert_eq!(actions[0], market(3, Side::Buy, dec!(100)));
    assert_eq!(actions.len(), 2);
}

#[test]
fn donchian_entry_denial_logs_and_a_later_breakout_tries_again() {
    let mut ctx = FakeCtx::new(&["ES"]);
    let mut s = donchian(DONCHIAN, &mut ctx);
    for b in &long_setup() {
        on_bar(&mut s, &mut ctx, b);
    }
    let u = ctx.deny(OrderId(1));
    assert!(deliver(&mut s, &mut ctx, u).is_empty());
    let u = ctx.deny(OrderId(2));
    assert!(deliver(&mut s, &mut ctx, u).is_empty());
    assert_eq!(
        ctx.warnings()[0],
        "donchian_breakout: order 1 Denied: refused by max_order_quantity: order quantity 100 \
         exceeds the limit 10"
    );
    // Bar 4 closes 13.2 above the entry high max(11, 11, 13) = 13 -> tries again.
    let actions = on_bar(&mut s, &mut ctx, &bar(4, 12.5, 13.5, 12.0, 13.2));
    assert_eq!(actions[0], market(3, Side::Buy, dec!(100)));
}

#[test]
fn donchian_entry_open_blocks_new_signals() {
    let mut ctx = FakeCtx::new(&["ES"]);
    let mut s = donchian(DONCHIAN, &mut ctx);
    for b in &long_setup() {
        on_bar(&mut s, &mut ctx, b);
    }
    // Order 1 never filled; bar 4 breaks out again but nothing is sent.
    assert!(on_bar(&mut s, &mut ctx, &bar(4, 12.5, 14.0, 12.0, 13.9)).is_empty());
}

#[test]
fn donchian_a_position_left_without_a_stop_gets_one() {
    let (mut s, mut ctx) = long_position(DONCHIAN);
    let u = ctx.end(OrderId(2), OrderState::Rejected, "stop price too far");
    assert!(deliver(&mut s, &mut ctx, u).is_empty());
    assert_eq!(
        ctx.warnings(),
        vec!["donchian_breakout: order 2 Rejected: stop price too far"]
    );
    // Bar 4: close 13, ATR 2.0 -> a plain stop at 13 − 4 = 9 for the position.
    let [b4, ..] = long_followup();
    assert_eq!(
        on_bar(&mut s, &mut ctx, &b4),
        vec![stop_gtc(3, Side::Sell, dec!(100), dec!(9))]
    );
    assert_eq!(ctx.warnings().len(), 2);
}

#[test]
fn donchian_a_stop_that_fills_while_closing_cancels_the_closing_order() {
    let (mut s, mut ctx) = long_position(DONCHIAN);
    let [b4, b5, b6] = long_followup();
    on_bar(&mut s, &mut ctx, &b4);
    on_bar(&mut s, &mut ctx, &b5);
    on_bar(&mut s, &mut ctx, &b6); // cancel all, close with order 3
    let u = ctx.fill(OrderId(2), dec!(100), dec!(7.5));
    assert_eq!(
        deliver(&mut s, &mut ctx, u),
        vec![Action::Cancel(OrderId(3))]
    );
}

#[test]
fn donchian_skips_a_long_whose_stop_would_not_be_positive() {
    let mut ctx = FakeCtx::new(&["ES"]);
    // 2 × ATR 2.5 = 5 > the close 1.25: no stop possible, no entry.
    let mut s = donchian(DONCHIAN, &mut ctx);
    for k in 0..3 {
        on_bar(&mut s, &mut ctx, &bar(k, 1.0, 1.1, 0.9, 1.0));
    }
    assert!(on_bar(&mut s, &mut ctx, &bar(3, 1.0, 8.0, 0.9, 1.25)).is_empty());
    assert_eq!(ctx.warnings().len(), 1, "{:?}", ctx.warnings());
}

#[test]
fn donchian_parameter_errors() {
    let e = |src: &str| param_error(DonchianBreakout::from_params(&table(src)));
    assert_eq!(
        e("atr_mult = 0"),
        "strategy donchian_breakout: parameter `atr_mult` must be positive, got 0"
    );
    assert_eq!(
        e("atr_mult = -1.5"),
        "strategy donchian_breakout: parameter `atr_mult` must be positive, got -1.5"
    );
    assert_eq!(
        e("entry = 0"),
        "strategy donchian_breakout: parameter `entry` must be a positive integer, got integer 0"
    );
    assert_eq!(
        e("trail = \"yes\""),
        "strategy donchian_breakout: parameter `trail` must be true or false, got string \"yes\""
    );
    assert_eq!(
        e("quantity = -5"),
        "strategy donchian_breakout: parameter `quantity` must be positive, got -5"
    );
    assert_eq!(
        e("stop = 2"),
        "strategy donchian_breakout: unknown parameter `stop` (valid: allow_short, atr_mult, \
         atr_period, entry, exit, quantity, symbols, trail)"
    );
}

// ================================================================ registry

#[test]
fn registry_lists_every_strategy_and_rejects_unknown_names() {
    let names: Vec<&str> = REGISTRY.iter().map(|s| s.name).collect();
    assert_eq!(
        names,
        vec![
            "ema_cross",
            "rsi_reversion",
            "donchian_breakout",
            "channel",
            "mtf_breakout",
            "sma_bracket"
        ]
    );
    for name in names {
        assert!(
            build(name, &toml::Table::new()).is_ok(),
            "{name} builds with defaults"
        );
    }
    match build("turtle", &toml::Table::new()) {
        Err(e) => assert_eq!(
            e.to_string(),
            "unknown strategy `turtle` (valid: ema_cross, rsi_reversion, donchian_breakout, channel, mtf_breakout, sma_bracket)"
        ),
        Ok(_) => panic!("unknown strategy built"),
    }
    match build("donchian_breakout", &table("entry = -2")) {
        Err(StrategyError::Params(e)) => assert_eq!(
            e.to_string(),
            "strategy donchian_breakout: parameter `entry` must be a positive integer, got integer -2"
        ),
        Err(e) => panic!("wrong error {e}"),
        Ok(_) => panic!("bad parameters accepted"),
    }
}

// ================================================================ ema_cross

#[test]
fn ema_cross_exact_rules() {
    let mut ctx = FakeCtx::new(&["SPY"]);
    let mut s = EmaCross::from_params(&table("fast = 2\nslow = 3")).expect("valid");
    s.on_start(&mut ctx);
    // Constant closes: difference 0 on the first eligible bar (2), recorded only; bar 3 is
    // still 0: 0 <= 0 < 0 is false, no cross.
    let per_bar = feed_closes(&mut s, &mut ctx, &[10.0, 10.0, 10.0, 10.0]);
    assert!(active_bars(&per_bar).is_empty());
    // Bar 4 close 13: fast 10 + 2/3 × 3 = 12, slow 11.5; prev 0 <= 0 < 0.5 -> cross up,
    // target +100 − position 30 = buy 70.
    ctx.set_position(I0, dec!(30));
    assert_eq!(
        on_bar(&mut s, &mut ctx, &flat_bar(4, 13.0)),
        vec![market(1, Side::Buy, dec!(70))]
    );
    // The buy fills: 30 + 70 = 100. Bar 5 close 7: fast 8.67, slow 9.25 -> cross down,
    // target −100 − 100 = sell 200.
    ctx.fill(OrderId(1), dec!(70), dec!(13));
    assert_eq!(
        on_bar(&mut s, &mut ctx, &flat_bar(5, 7.0)),
        vec![market(2, Side::Sell, dec!(200))]
    );
    // Further down: no new cross.
    assert!(on_bar(&mut s, &mut ctx, &flat_bar(6, 6.0)).is_empty());

    // Rising from the first bar: the first eligible bar (2) has difference > 0 but only
    // records it, so a steady rise never trades.
    let mut ctx = FakeCtx::new(&["SPY"]);
    let mut s = EmaCross::from_params(&table("fast = 2\nslow = 3")).expect("valid");
    s.on_start(&mut ctx);
    assert!(active_bars(&feed_closes(&mut s, &mut ctx, &[1.0, 2.0, 3.0, 4.0, 5.0])).is_empty());

    // A working order counts as position: buy 100 still open, then a cross down targets
    // −100 − (0 + 100) = sell 200 (live fills can lag a bar).
    let mut ctx = FakeCtx::new(&["SPY"]);
    let mut s = EmaCross::from_params(&table("fast = 2\nslow = 3")).expect("valid");
    s.on_start(&mut ctx);
    feed_closes(&mut s, &mut ctx, &[10.0, 10.0, 10.0]);
    assert_eq!(
        on_bar(&mut s, &mut ctx, &flat_bar(3, 13.0)),
        vec![market(1, Side::Buy, dec!(100))]
    );
    assert_eq!(
        on_bar(&mut s, &mut ctx, &flat_bar(4, 7.0)),
        vec![market(2, Side::Sell, dec!(200))]
    );

    // A cross while the position already equals the target sends nothing.
    let mut ctx = FakeCtx::new(&["SPY"]);
    let mut s = EmaCross::from_params(&table("fast = 2\nslow = 3")).expect("valid");
    s.on_start(&mut ctx);
    ctx.set_position(I0, dec!(100));
    assert!(active_bars(&feed_closes(&mut s, &mut ctx, &[10.0, 10.0, 10.0, 13.0])).is_empty());
}

#[test]
fn ema_cross_parameter_errors() {
    let e = |src: &str| param_error(EmaCross::from_params(&table(src)));
    assert_eq!(
        e("fast = 30"),
        "strategy ema_cross: parameter `fast` (30) must be smaller than slow (30)"
    );
    assert_eq!(
        e("slow = 2.5"),
        "strategy ema_cross: parameter `slow` must be a positive integer, got float 2.5"
    );
}

// ================================================================ simulation invariants

/// Random bars: a walk between 50 and 150 with highs/lows around open and close.
fn bars_strategy(len: usize) -> impl Strategy2<Value = Vec<Bar>> {
    prop::collection::vec((-4.0f64..4.0, 0.0f64..3.0, 0.0f64..3.0), len).prop_map(|steps| {
        let mut close = 100.0;
        steps
            .iter()
            .enumerate()
            .map(|(i, (d, up, down))| {
                let open = close;
                close = (close + d).clamp(50.0, 150.0);
                let high = open.max(close) + up;
                let low = (open.min(close) - down).max(45.0);
                bar(i as i64, open, high, low, close)
            })
            .collect()
    })
}

/// A tiny venue: acknowledges and cancels at once, fills market orders at the next bar's
/// open and stops when the bar reaches them (at the worse of open and stop).
fn simulate(
    s: &mut dyn Strategy,
    ctx: &mut FakeCtx,
    bars: &[Bar],
    mut check: impl FnMut(&FakeCtx),
) {
    let mut queue: Vec<Action> = Vec::new();
    for b in bars {
        let open_ids: Vec<OrderId> = ctx.open.clone();
        for id in open_ids {
            let o = ctx.get(id).clone();
            if !matches!(o.state, OrderState::Working | OrderState::PartiallyFilled) {
                continue;
            }
            let px = match (o.request.order_type, o.request.side, o.request.stop_price) {
                (OrderType::Market, _, _) => Some(b.open),
                (OrderType::Stop, Side::Sell, Some(sp)) => {
                    let sp = f64::try_from(sp).expect("stop price fits f64");
                    (b.low <= sp).then_some(b.open.min(sp))
                }
                (OrderType::Stop, Side::Buy, Some(sp)) => {
                    let sp = f64::try_from(sp).expect("stop price fits f64");
                    (b.high >= sp).then_some(b.open.max(sp))
                }
                _ => None,
            };
            if let Some(px) = px {
                let price = ctx.instruments[0].price_from_f64(px).expect("finite price");
                let u = ctx.fill(id, o.remaining(), price);
                queue.extend(deliver(s, ctx, u));
                settle(s, ctx, &mut queue);
            }
        }
        queue.extend(on_bar(s, ctx, b));
        settle(s, ctx, &mut queue);
        check(ctx);
    }
}

/// Carry out the strategy's commands (ack submits, confirm cancels) until none are left.
fn settle(s: &mut dyn Strategy, ctx: &mut FakeCtx, queue: &mut Vec<Action>) {
    while !queue.is_empty() {
        let batch = std::mem::take(queue);
        for a in batch {
            let update = match a {
                Action::Submit(id, _) => ctx.ack(id),
                Action::Cancel(id) if ctx.get(id).state == OrderState::PendingCancel => {
                    ctx.end(id, OrderState::Cancelled, "")
                }
                Action::CancelAll(_) => {
                    let pending: Vec<OrderId> = ctx
                        .open
                        .iter()
                        .copied()
                        .filter(|id| ctx.get(*id).state == OrderState::PendingCancel)
                        .collect();
                    for id in pending {
                        let u = ctx.end(id, OrderState::Cancelled, "");
                        queue.extend(deliver(s, ctx, u));
                    }
                    continue;
                }
                _ => continue,
            };
            queue.extend(deliver(s, ctx, update));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    /// RSI reversion: the position is always 0 or ±quantity (short only when allowed) and
    /// every order is a market order that is filled by the next bar.
    #[test]
    fn rsi_position_is_flat_or_one_unit(
        bars in bars_strategy(200),
        period in 1usize..10,
        allow_short in any::<bool>(),
        trend_sma in 0usize..20,
    ) {
        let mut ctx = FakeCtx::new(&["SPY"]);
        let params = format!(
            "period = {period}\nallow_short = {allow_short}\ntrend_sma = {trend_sma}\nquantity = 7"
        );
        let mut s = rsi(&params, &mut ctx);
        simulate(&mut s, &mut ctx, &bars, |ctx| {
            let pos = ctx.position(I0);
            assert!(pos.is_zero() || pos == dec!(7) || (allow_short && pos == dec!(-7)), "position {pos}");
            assert!(ctx.open.len() <= 1);
        });
        assert!(ctx.orders.iter().all(|o| o.request.order_type == OrderType::Market));
        assert_eq!(ctx.hook_allocations, 0, "hooks allocated");
    }
}

#[test]
fn counting_allocator_sees_allocations() {
    // Guards the allocation checks against a counter that never moves.
    let before = allocations();
    let v: Vec<u64> = std::hint::black_box(Vec::with_capacity(16));
    drop(v);
    assert!(allocations() > before);
}

#[test]
fn hooks_do_not_allocate_on_a_trending_path() {
    // A deterministic zig-zag trend that makes both strategies trade many times.
    let bars: Vec<Bar> = (0..2000)
        .map(|i| {
            let t = i as f64;
            let c = 100.0 + 20.0 * (t / 37.0).sin() + 5.0 * (t / 5.0).sin();
            bar(i, c - 0.3, c + 1.0, c - 1.0, c)
        })
        .collect();
    let mut ctx = FakeCtx::new(&["ES"]);
    let mut s = donchian(
        "entry = 10\nexit = 5\natr_period = 5\ntrail = true",
        &mut ctx,
    );
    simulate(&mut s, &mut ctx, &bars, |_| {});
    assert!(ctx.orders.len() > 20, "only {} orders", ctx.orders.len());
    assert_eq!(ctx.hook_allocations, 0);

    let mut ctx = FakeCtx::new(&["ES"]);
    let mut s = rsi("period = 5\nallow_short = true\ntrend_sma = 20", &mut ctx);
    simulate(&mut s, &mut ctx, &bars, |_| {});
    assert!(ctx.orders.len() > 20, "only {} orders", ctx.orders.len());
    assert_eq!(ctx.hook_allocations, 0);
}

/// `mtf_breakout`: entries only while the higher timeframe's trend is up, sized at a
/// fraction of equity; a trend bar turning down closes the position.
#[test]
fn mtf_breakout_trades_breakouts_with_the_higher_timeframe_trend() {
    let mut t = toml::Table::new();
    for (k, v) in [("trend_sma", 3), ("entry", 3)] {
        t.insert(k.into(), toml::Value::Integer(v));
    }
    let mut s = build("mtf_breakout", &t).unwrap();
    let mut ctx = FakeCtx::new(&["SPY"]);
    s.on_start(&mut ctx);
    assert_eq!(ctx.logs, [(LogLevel::Debug, "resample 1h".to_string())]);
    let hour = Timeframe::hours(1);
    let trend = |s: &mut Box<dyn Strategy>, ctx: &mut FakeCtx, k: i64, close: f64| {
        s.on_resampled(hour, &flat_bar(k, close), ctx);
        ctx.take_actions()
    };
    // A breakout without a trend yet: nothing.
    for (k, c) in [(0, 100.0), (1, 100.0), (2, 100.0)] {
        assert!(on_bar(&mut *s, &mut ctx, &flat_bar(k, c)).is_empty());
    }
    assert!(
        on_bar(&mut *s, &mut ctx, &flat_bar(3, 101.0)).is_empty(),
        "no trend yet"
    );
    // Three rising hourly closes: the trend is up (close above its SMA).
    for (k, c) in [(0, 90.0), (1, 95.0), (2, 100.0)] {
        assert!(trend(&mut s, &mut ctx, k, c).is_empty());
    }
    assert!(
        on_bar(&mut *s, &mut ctx, &flat_bar(4, 101.0)).is_empty(),
        "not above 101"
    );
    let acts = on_bar(&mut *s, &mut ctx, &flat_bar(5, 102.0));
    // 10 % of 100,000 at 102: 98 shares.
    assert!(
        matches!(acts.as_slice(), [Action::Submit(_, r)] if r.side == Side::Buy && r.quantity == dec!(98)),
        "{acts:?}"
    );
    // Long now; an hourly close below its SMA closes the position.
    ctx.set_position(InstrumentId(0), dec!(98));
    ctx.open.clear();
    let acts = trend(&mut s, &mut ctx, 3, 80.0);
    assert!(
        matches!(acts.as_slice(), [Action::CancelAll(Some(_)), Action::Submit(_, r)] if r.side == Side::Sell && r.quantity == dec!(98)),
        "{acts:?}"
    );
}

/// `sma_bracket`: a cross up at a new high buys a tenth of the equity as a bracket with its
/// take profit and stop; a cross down closes the position; the high filter holds entries back.
#[test]
fn sma_bracket_enters_as_a_sized_bracket_and_exits_on_the_cross_down() {
    let build = |ctx: &mut FakeCtx, high_bars: usize| {
        let params = format!("fast = 2\nslow = 3\nhigh_bars = {high_bars}");
        let mut s = (tickline_strategies::sma_bracket::INFO.build)(&table(&params)).unwrap();
        s.on_start(ctx);
        s
    };
    let mut ctx = FakeCtx::new(&["SPY"]);
    let mut s = build(&mut ctx, 2);
    // Closes 10, 9, 8 (diff −0.5 recorded at bar 2), then 12: SMA2 10 > SMA3 9.67, a cross
    // up at a close above the previous two (9, 8).
    let per_bar = feed_closes(s.as_mut(), &mut ctx, &[10.0, 9.0, 8.0, 12.0]);
    assert!(per_bar[..3].iter().all(Vec::is_empty));
    let tp = OrderRequest::limit(I0, Side::Sell, dec!(833), dec!(12.48)).with_tif(TimeInForce::Gtc);
    let sl = OrderRequest::stop(I0, Side::Sell, dec!(833), dec!(11.76)).with_tif(TimeInForce::Gtc);
    let exit = |r: OrderRequest| OrderRequest {
        parent: Some(OrderId(1)),
        oca_group: Some(OrderId(1)),
        ..r
    };
    // 10 % of 100 000 at 12 = 833 shares; take profit 12 × 1.04, stop 12 × 0.98.
    assert_eq!(
        per_bar[3],
        vec![
            market(1, Side::Buy, dec!(833)),
            Action::Submit(OrderId(2), exit(tp)),
            Action::Submit(OrderId(3), exit(sl)),
        ]
    );
    let u = ctx.fill(OrderId(1), dec!(833), dec!(12));
    deliver(s.as_mut(), &mut ctx, u);
    // Closes 11, 7: SMA2 9 < SMA3 10 → cross down while long: close the position.
    assert!(on_bar(s.as_mut(), &mut ctx, &flat_bar(4, 11.0)).is_empty());
    assert_eq!(
        on_bar(s.as_mut(), &mut ctx, &flat_bar(5, 7.0)),
        vec![
            Action::CancelAll(Some(I0)),
            market(4, Side::Sell, dec!(833))
        ]
    );

    // The same cross, but not at a new high of the previous three closes (13): no entry.
    let mut ctx = FakeCtx::new(&["SPY"]);
    let mut s = build(&mut ctx, 3);
    let per_bar = feed_closes(s.as_mut(), &mut ctx, &[13.0, 9.0, 8.0, 12.0]);
    assert!(per_bar.iter().all(Vec::is_empty), "{per_bar:?}");
}

/// A fixed size that rounds to zero lots is an error before the first bar, naming the
/// instrument; instruments a strategy does not trade are not checked.
#[test]
fn a_quantity_below_one_lot_is_a_start_up_error() {
    let es = Instrument::stock("ES");
    let mut odd = Instrument::stock("ODD");
    odd.lot_size = dec!(100);
    odd.prepare().unwrap();
    let instruments = vec![es, odd];
    let ema = EmaCross::from_params(&table("quantity = 50")).unwrap();
    assert_eq!(
        ema.check(&instruments),
        Err("strategy ema_cross: quantity 50 rounds to zero lots of ODD (lot size 100)".into())
    );
    let only_es = EmaCross::from_params(&table("quantity = 50\nsymbols = [\"ES\"]")).unwrap();
    assert_eq!(only_es.check(&instruments), Ok(()));
    let donchian = DonchianBreakout::from_params(&table("quantity = 0.5")).unwrap();
    assert!(
        donchian
            .check(&instruments)
            .unwrap_err()
            .contains("quantity 0.5 rounds to zero lots of ES")
    );
    let rsi = RsiReversion::from_params(&table("quantity = 100")).unwrap();
    assert_eq!(rsi.check(&instruments), Ok(()));
}
