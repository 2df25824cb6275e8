//! The kernel: one event loop for backtest, paper and live.
//!
//! The caller feeds market data ([`Kernel::on_bar`], [`Kernel::on_tick`]) and, live, polls
//! execution events ([`Kernel::poll_execution`]) and timers ([`Kernel::advance_time`]). For
//! each event the kernel moves the clock, lets the execution client match (simulated venues),
//! books fills, marks the portfolio, runs the strategy hook, then carries out the strategy's
//! buffered commands through risk → order manager → execution client, looping until nothing
//! is left to do. Everything the strategy learns arrives as a hook call, in time order.
//!
//! No look-ahead by construction: the strategy only ever receives the bar that just closed;
//! the kernel has no access to future data (the caller owns the data and feeds it in order).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};

use rust_decimal::Decimal;

use crate::audit::{AuditKind, AuditLog};
use crate::clock::Clock;
use crate::connectivity::Connectivity;
use crate::domain::{
    Bar, ExecId, Fill, Instrument, InstrumentId, OrderId, OrderModify, OrderRequest, OrderType,
    Tick, Trail, Ts,
};
use crate::execution::{ExecCommand, ExecEvent, ExecutionClient};
use crate::history::{BarHistory, BarWindow};
use crate::order::{BracketState, Order, OrderManager, OrderState, OrderUpdate, PromptPolicy};
use crate::portfolio::Portfolio;
use crate::record::{Record, Recorder};
use crate::resample::{Resampler, Timeframe};
use crate::risk::{
    KillSwitchChange, KillSwitchState, ParentOrder, Refusal, RefusalReason, RiskChain, RiskConfig,
    RiskContext,
};
use crate::strategy::{Ctx, LogLevel, Strategy, Timer, TimerId};
use crate::{mem, money};

/// How many command/event rounds one external event may cause before the kernel stops the
/// cascade (a strategy that re-submits on every rejection would otherwise loop forever).
const MAX_ROUNDS: usize = 10_000;

/// Kernel settings.
#[derive(Clone, Debug)]
pub struct KernelConfig {
    pub initial_cash: Decimal,
    pub risk: RiskConfig,
    pub prompts: PromptPolicy,
    /// Prefix of generated client order ids (`cOID`), e.g. `"TL-"`.
    pub client_id_prefix: String,
    /// Exchange time zone that defines the trading day (daily-loss limit).
    pub timezone: chrono_tz::Tz,
}

impl Default for KernelConfig {
    fn default() -> Self {
        KernelConfig {
            initial_cash: Decimal::from(100_000),
            risk: RiskConfig::default(),
            prompts: PromptPolicy::default(),
            client_id_prefix: "TL-".into(),
            timezone: chrono_tz::America::New_York,
        }
    }
}

/// A fill with what it did to the books.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FillRecord {
    pub fill: Fill,
    /// Gross PnL realised by the fill.
    pub realized_pnl: Decimal,
    /// Position in the instrument after the fill.
    pub position_after: Decimal,
}

/// Equity sampled by [`Kernel::record_equity`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EquityCurve {
    pub ts: Vec<Ts>,
    pub equity: Vec<Decimal>,
}

/// Everything a finished run recorded (see [`Kernel::into_records`]).
#[derive(Debug)]
pub struct KernelRecords {
    pub fills: Vec<FillRecord>,
    pub orders: Vec<crate::order::Order>,
    pub audit: Vec<crate::audit::AuditRecord>,
    pub equity: EquityCurve,
    pub portfolio: Portfolio,
    pub kill_switch: KillSwitchState,
    pub bars: u64,
    pub bars_in_market: u64,
}

/// Errors building a kernel.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum KernelError {
    #[error(transparent)]
    Instrument(#[from] crate::domain::InstrumentError),
    #[error("instrument {0} is defined twice")]
    DuplicateInstrument(String),
    #[error("no instruments configured")]
    NoInstruments,
    #[error("restoring the journal's orders: {0}")]
    Restore(String),
    #[error("{0}")]
    Strategy(String),
}

enum Command {
    Submit(OrderId, OrderRequest),
    Modify(OrderId, OrderModify),
    Cancel(OrderId),
    CancelAll(Option<InstrumentId>),
    SetTimer(TimerId, Ts, u64),
    CancelTimer(TimerId),
    KeepHistory(usize),
    Resample(Timeframe),
}

/// The event loop's state.
pub struct Kernel {
    clock: Box<dyn Clock>,
    /// The clock's time as of the latest event (one clock call per event, not per read).
    now: Ts,
    instruments: Vec<Instrument>,
    symbols: HashMap<String, InstrumentId>,
    strategy: Box<dyn Strategy>,
    exec: Box<dyn ExecutionClient>,
    risk: RiskChain,
    om: OrderManager,
    portfolio: Portfolio,
    audit: AuditLog,
    commands: Vec<Command>,
    /// The bars the strategy asked to keep ([`Ctx::keep_history`]).
    history: BarHistory,
    /// The higher timeframes the strategy asked for ([`Ctx::resample`]), and the bars they
    /// completed, waiting for delivery.
    resampler: Resampler,
    resampled: Vec<(Timeframe, Bar)>,
    command_buf: Vec<Command>,
    events: Vec<ExecEvent>,
    exec_out: Vec<ExecCommand>,
    timers: BinaryHeap<Reverse<(Ts, u64, u64)>>,
    cancelled_timers: HashSet<u64>,
    next_timer: u64,
    next_order: u64,
    fills: Vec<FillRecord>,
    /// Equity samples: times, and equity in fixed point (see [`crate::money`]); converted to
    /// `Decimal` when the curve is read.
    equity_ts: Vec<Ts>,
    equity_fixed: Vec<i128>,
    bars: u64,
    bars_in_market: u64,
    started: bool,
    stopped: bool,
    /// Live runs: the journal. Commands wait in `outbox` until it committed.
    recorder: Option<Box<dyn Recorder>>,
    outbox: Vec<ExecCommand>,
    /// Audit records already handed to the recorder.
    audit_cursor: usize,
    /// Execution ids already booked (venues that have them; live runs).
    executions: HashSet<ExecId>,
    connectivity: Connectivity,
    /// Feeding historical bars to warm the strategy up: its commands are ignored.
    warming_up: bool,
    warmup_ignored: u64,
}

impl Kernel {
    /// Build a kernel. Instrument ids are assigned in the given order.
    pub fn new(
        config: KernelConfig,
        mut instruments: Vec<Instrument>,
        strategy: Box<dyn Strategy>,
        exec: Box<dyn ExecutionClient>,
        clock: Box<dyn Clock>,
    ) -> Result<Kernel, KernelError> {
        if instruments.is_empty() {
            return Err(KernelError::NoInstruments);
        }
        let mut symbols = HashMap::new();
        for (i, inst) in instruments.iter_mut().enumerate() {
            inst.id = InstrumentId(i as u32);
            inst.prepare()?;
            if symbols.insert(inst.symbol.clone(), inst.id).is_some() {
                return Err(KernelError::DuplicateInstrument(inst.symbol.clone()));
            }
        }
        strategy
            .check(&instruments)
            .map_err(KernelError::Strategy)?;
        let portfolio = Portfolio::new(config.initial_cash, &instruments);
        Ok(Kernel {
            now: clock.now(),
            clock,
            symbols,
            strategy,
            exec,
            risk: RiskChain::from_config(&config.risk, config.timezone),
            om: OrderManager::new(config.prompts, &config.client_id_prefix),
            portfolio,
            audit: AuditLog::default(),
            commands: Vec::with_capacity(16),
            history: BarHistory::default(),
            resampler: Resampler::default(),
            resampled: Vec::new(),
            command_buf: Vec::with_capacity(16),
            events: Vec::with_capacity(16),
            exec_out: Vec::with_capacity(4),
            timers: BinaryHeap::new(),
            cancelled_timers: HashSet::new(),
            next_timer: 1,
            next_order: 1,
            fills: Vec::new(),
            equity_ts: Vec::new(),
            equity_fixed: Vec::new(),
            bars: 0,
            bars_in_market: 0,
            started: false,
            stopped: false,
            recorder: None,
            outbox: Vec::new(),
            audit_cursor: 0,
            executions: HashSet::new(),
            connectivity: Connectivity::UP,
            warming_up: false,
            warmup_ignored: 0,
            instruments,
        })
    }

    /// Journal everything from now on (see [`crate::record`]): commands are then held until
    /// the recorder committed them. Set it before [`Self::restore`] and [`Self::start`].
    pub fn set_recorder(&mut self, recorder: Box<dyn Recorder>) {
        self.recorder = Some(recorder);
    }

    /// Take back the orders and fills of earlier runs of the same journal (a live restart):
    /// the order manager resumes with them (ids continue after the last), the fills are
    /// booked into the portfolio again in order and their execution ids are known, so a
    /// venue that reports them again is not booked twice. Call before anything else happens.
    pub fn restore(
        &mut self,
        orders: Vec<Order>,
        fills: Vec<FillRecord>,
    ) -> Result<(), KernelError> {
        let n = orders.len() as u64;
        self.om
            .restore(orders)
            .map_err(|e| KernelError::Restore(e.to_string()))?;
        self.next_order = n + 1;
        for rec in &fills {
            if rec.fill.instrument.index() >= self.instruments.len() {
                return Err(KernelError::Restore(format!(
                    "fill of order {} is for unknown instrument id {}",
                    rec.fill.order_id, rec.fill.instrument.0
                )));
            }
            self.portfolio.apply_fill(&rec.fill);
            if !rec.fill.exec_id.is_none() {
                self.executions.insert(rec.fill.exec_id);
            }
        }
        self.fills = fills;
        Ok(())
    }

    /// Replace the books with the broker's (reconciliation: the broker is the truth for
    /// positions and cash). `positions` are (instrument, signed quantity, average price).
    pub fn set_books(&mut self, cash: Decimal, positions: &[(InstrumentId, Decimal, Decimal)]) {
        self.portfolio.set_cash(cash);
        for &(id, qty, avg) in positions {
            self.portfolio.set_position(id, qty, avg);
        }
        self.check_kill_switch(self.now);
        self.process();
    }

    /// Take a foreign working order into the books (see [`OrderManager::adopt`]); the
    /// strategy sees it among its open orders. Returns its id.
    pub fn adopt_order(
        &mut self,
        request: OrderRequest,
        broker_order_id: u64,
        filled: Decimal,
    ) -> Result<OrderId, KernelError> {
        self.now = self.clock.now();
        let id = OrderId(self.next_order);
        if request.instrument.index() >= self.instruments.len() {
            return Err(KernelError::Restore(format!(
                "adopted order {broker_order_id} is for unknown instrument id {}",
                request.instrument.0
            )));
        }
        self.om
            .adopt(id, request, broker_order_id, filled, self.now)
            .map_err(|e| KernelError::Restore(e.to_string()))?;
        self.next_order += 1;
        self.audit.record(
            self.now,
            AuditKind::Reconciliation,
            Some(id),
            format!(
                "adopted broker order {broker_order_id}: {} {} (filled {filled})",
                request.side.as_str(),
                request.quantity
            ),
        );
        self.record_order(id);
        self.process();
        Ok(id)
    }

    /// Apply venue reports that did not come through the execution client (executions and
    /// cancellations found by reconciliation), exactly as if the venue had sent them.
    pub fn apply_reports(&mut self, events: impl IntoIterator<Item = ExecEvent>) {
        self.now = self.clock.now();
        self.events.extend(events);
        self.process();
    }

    /// Record an audit line (the live runtime's reconciliation and supervision notes).
    pub fn audit_note(&mut self, kind: AuditKind, order_id: Option<OrderId>, detail: String) {
        self.now = self.clock.now();
        self.audit.record(self.now, kind, order_id, detail);
        self.process();
    }

    /// The live link changed: pause or resume entries, audit it, tell the strategy.
    pub fn set_connectivity(&mut self, state: Connectivity) {
        if state == self.connectivity {
            return;
        }
        self.now = self.clock.now();
        let before = self.connectivity;
        self.connectivity = state;
        self.risk.set_entries_paused(state.entries_paused);
        self.audit.record(
            self.now,
            AuditKind::Connectivity,
            None,
            format!("{before} -> {state}"),
        );
        self.with_ctx(|s, c| s.on_connectivity(&state, c));
        self.process();
    }

    pub fn connectivity(&self) -> Connectivity {
        self.connectivity
    }

    /// Feed one historical bar to warm the strategy's indicators up before live trading:
    /// the strategy sees it at its close time with [`Ctx::is_warming_up`] true; nothing is
    /// matched, marked, sampled or ordered, and commands it asks for are ignored (counted in
    /// [`Self::warmup_ignored`]).
    pub fn warm_up(&mut self, bar: &Bar) {
        self.warming_up = true;
        self.now = bar.ts_end;
        let (next_order, next_timer) = (self.next_order, self.next_timer);
        self.with_ctx(|s, c| s.on_bar(bar, c));
        self.warmup_ignored += self.commands.len() as u64;
        self.commands.clear();
        // Ids handed out for ignored commands are taken back (order ids stay dense).
        (self.next_order, self.next_timer) = (next_order, next_timer);
        self.warming_up = false;
        self.now = self.clock.now();
    }

    /// Commands the strategy asked for during warm-up (ignored).
    pub fn warmup_ignored(&self) -> u64 {
        self.warmup_ignored
    }

    /// Commands waiting for the journal's commit (live runs).
    pub fn held_commands(&self) -> usize {
        self.outbox.len()
    }

    /// Reserve room for `n` equity samples and map that memory now (see [`crate::mem`]), so
    /// the event loop neither reallocates nor takes a page fault every 4 KiB of curve.
    pub fn reserve_equity(&mut self, n: usize) {
        self.equity_ts.reserve(n);
        self.equity_fixed.reserve(n);
        mem::advise_huge_pages(&self.equity_ts);
        mem::advise_huge_pages(&self.equity_fixed);
        mem::populate_spare(&self.equity_ts);
        mem::populate_spare(&self.equity_fixed);
    }

    /// Reserve room for `n` orders and fills. Only address space is reserved (the pages are
    /// mapped as records arrive), so a generous figure costs no memory; it spares long runs
    /// the reallocations, and the copies they make, of growing record buffers. Best effort:
    /// if the system refuses the reservation, the buffers simply grow as needed.
    pub fn reserve_records(&mut self, n: usize) {
        if self.fills.try_reserve(n).is_ok() {
            mem::advise_huge_pages(&self.fills);
        }
        self.om.reserve(n);
    }

    // ----- accessors -------------------------------------------------------------------

    pub fn instruments(&self) -> &[Instrument] {
        &self.instruments
    }
    pub fn instrument_id(&self, symbol: &str) -> Option<InstrumentId> {
        self.symbols.get(symbol).copied()
    }
    pub fn portfolio(&self) -> &Portfolio {
        &self.portfolio
    }
    pub fn order_manager(&self) -> &OrderManager {
        &self.om
    }
    /// Where the bracket whose entry is `entry` stands (`None` for an unknown order).
    pub fn bracket_state(&self, entry: OrderId) -> Option<BracketState> {
        bracket_state(&self.om, &self.portfolio, entry)
    }
    pub fn audit(&self) -> &AuditLog {
        &self.audit
    }
    pub fn fills(&self) -> &[FillRecord] {
        &self.fills
    }
    /// The equity samples recorded so far.
    pub fn equity_curve(&self) -> EquityCurve {
        EquityCurve {
            ts: self.equity_ts.clone(),
            equity: equity_decimals(&self.equity_fixed),
        }
    }
    pub fn risk(&self) -> &RiskChain {
        &self.risk
    }
    pub fn now(&self) -> Ts {
        self.clock.now()
    }
    /// Bars processed, and bars during which a position was open.
    pub fn bar_counts(&self) -> (u64, u64) {
        (self.bars, self.bars_in_market)
    }
    /// The execution client (e.g. to read a simulated broker's state).
    pub fn execution(&self) -> &dyn ExecutionClient {
        self.exec.as_ref()
    }
    /// Take the run's records out of the kernel without copying them.
    pub fn into_records(self) -> KernelRecords {
        KernelRecords {
            fills: self.fills,
            orders: self.om.into_orders(),
            audit: self.audit.into_records(),
            equity: EquityCurve {
                equity: equity_decimals(&self.equity_fixed),
                ts: self.equity_ts,
            },
            portfolio: self.portfolio,
            kill_switch: self.risk.kill_switch(),
            bars: self.bars,
            bars_in_market: self.bars_in_market,
        }
    }

    /// When the next timer is due, if any (live runtimes sleep until then).
    pub fn next_timer_due(&self) -> Option<Ts> {
        self.timers.peek().map(|Reverse((t, _, _))| *t)
    }

    // ----- lifecycle -------------------------------------------------------------------

    /// Call the strategy's `on_start` (once).
    pub fn start(&mut self) {
        if self.started {
            return;
        }
        self.started = true;
        self.now = self.clock.now();
        self.with_ctx(|s, c| s.on_start(c));
        self.process();
    }

    /// Call the strategy's `on_stop` (once) and carry out what it asks.
    pub fn stop(&mut self) {
        if self.stopped {
            return;
        }
        self.start();
        self.stopped = true;
        self.now = self.clock.now();
        self.with_ctx(|s, c| s.on_stop(c));
        self.process();
    }

    /// Move time to `ts`, firing due timers. Live runtimes call this on a schedule.
    pub fn advance_time(&mut self, ts: Ts) {
        while let Some(&Reverse((at, id, tag))) = self.timers.peek() {
            if at > ts {
                break;
            }
            self.timers.pop();
            if self.cancelled_timers.remove(&id) {
                continue;
            }
            self.now = self.clock.advance(at);
            let timer = Timer {
                id: TimerId(id),
                at,
                tag,
            };
            self.with_ctx(|s, c| s.on_timer(&timer, c));
            self.process();
        }
        self.now = self.clock.advance(ts);
    }

    /// One bar: the venue matches against it, fills are booked, the portfolio is marked at the
    /// close, then the strategy sees the bar at its close time.
    #[inline]
    pub fn on_bar(&mut self, bar: &Bar) {
        if !self.started {
            self.start();
        }
        if !self.timers.is_empty() {
            self.advance_time(bar.ts);
        }
        self.exec.on_bar(bar, &mut self.events);
        if !self.events.is_empty() {
            self.pump();
        }
        // Exposure: a position held through this bar (after fills at its open).
        self.bars += 1;
        if self.portfolio.in_market() {
            self.bars_in_market += 1;
        }
        if let Some(inst) = self.instruments.get(bar.instrument.index())
            && let Some(m) = inst.price_mantissa_from_f64(bar.close)
        {
            self.portfolio
                .mark_mantissa(bar.instrument, m, inst.price_scale());
        }
        self.check_kill_switch(bar.ts_end);
        if self.timers.is_empty() {
            self.now = self.clock.advance(bar.ts_end);
        } else {
            self.advance_time(bar.ts_end);
        }
        self.history.push(bar);
        if self.resampler.is_empty() {
            self.with_ctx(|s, c| s.on_bar(bar, c));
            self.process();
        } else {
            self.resampler.before(bar, &mut self.resampled);
            self.deliver_resampled();
            self.with_ctx(|s, c| s.on_bar(bar, c));
            self.process();
            self.resampler.after(bar, &mut self.resampled);
            self.deliver_resampled();
        }
    }

    /// Show the strategy the higher-timeframe bars completed so far.
    fn deliver_resampled(&mut self) {
        let mut done = std::mem::take(&mut self.resampled);
        for (frame, b) in done.drain(..) {
            self.with_ctx(|s, c| s.on_resampled(frame, &b, c));
            self.process();
        }
        self.resampled = done;
    }

    /// One tick: the venue sees it, the portfolio is marked, the strategy sees it.
    pub fn on_tick(&mut self, tick: &Tick) {
        if !self.started {
            self.start();
        }
        self.advance_time(tick.ts);
        self.exec.on_tick(tick);
        self.poll_execution();
        if let Some(inst) = self.instruments.get(tick.instrument.index())
            && let Some(px) = tick.price().and_then(|p| inst.price_from_f64(p))
        {
            self.portfolio.mark(tick.instrument, px);
        }
        self.check_kill_switch(tick.ts);
        self.with_ctx(|s, c| s.on_tick(tick, c));
        self.process();
    }

    /// Sample equity at `ts` (the backtester calls this once per timestamp).
    #[inline]
    pub fn record_equity(&mut self, ts: Ts) {
        self.equity_ts.push(ts);
        self.equity_fixed.push(self.portfolio.equity_fixed());
        if let Some(r) = self.recorder.as_mut() {
            r.record(Record::Equity {
                ts,
                equity: self.portfolio.equity(),
            });
        }
    }

    /// Collect and apply every execution event that is ready.
    pub fn poll_execution(&mut self) {
        self.now = self.clock.now();
        self.exec.poll(&mut self.events);
        if self.events.is_empty() {
            return;
        }
        self.pump();
    }

    /// Live runs: commit what the recorder holds now (e.g. after [`Self::record_equity`],
    /// which does not commit by itself) and send held commands.
    pub fn flush(&mut self) {
        self.process();
    }

    /// Cancel every open order (of one instrument, or all), as the strategy's
    /// [`Ctx::cancel_all`] would (the end of a live run).
    pub fn cancel_all(&mut self, instrument: Option<InstrumentId>) {
        self.now = self.clock.now();
        self.commands.push(Command::CancelAll(instrument));
        self.process();
    }

    /// Set the kill switch by hand.
    pub fn set_kill_switch(&mut self, state: KillSwitchState) {
        self.now = self.clock.now();
        let now = self.now;
        if let Some(change) = self.risk.set_kill_switch(state) {
            self.on_kill_switch_change(now, change);
            self.process();
        }
    }

    /// Test helper: apply a fill of a resting order as if the venue reported it.
    #[cfg(test)]
    fn exec_fill_for_test(&mut self, order_id: OrderId, quantity: Decimal, price: Decimal) {
        let o = self.om.get(order_id).expect("order exists");
        let fill = Fill {
            order_id,
            instrument: o.request.instrument,
            side: o.request.side,
            quantity,
            price,
            commission: Decimal::ZERO,
            ts: self.now,
            exec_id: ExecId::NONE,
        };
        self.events.push(ExecEvent::Filled(fill));
        self.apply_events();
        self.process();
    }

    // ----- internals -------------------------------------------------------------------

    fn with_ctx<R>(&mut self, f: impl FnOnce(&mut dyn Strategy, &mut dyn Ctx) -> R) -> R {
        let mut ctx = KernelCtx {
            now: self.now,
            instruments: &self.instruments,
            symbols: &self.symbols,
            portfolio: &self.portfolio,
            om: &self.om,
            risk: &self.risk,
            kill_switch: self.risk.kill_switch(),
            connectivity: self.connectivity,
            warming_up: self.warming_up,
            history: &self.history,
            commands: &mut self.commands,
            next_order: &mut self.next_order,
            next_timer: &mut self.next_timer,
        };
        f(self.strategy.as_mut(), &mut ctx)
    }

    #[inline]
    fn check_kill_switch(&mut self, now: Ts) {
        if !self.risk.kill_switch_armed() {
            return;
        }
        if let Some(change) = self
            .risk
            .on_equity_fixed(now, self.portfolio.equity_fixed())
        {
            self.on_kill_switch_change(now, change);
        }
    }

    fn on_kill_switch_change(&mut self, now: Ts, change: KillSwitchChange) {
        self.audit.record(
            now,
            AuditKind::KillSwitch,
            None,
            format!(
                "kill switch {:?} -> {:?}: {}",
                change.from, change.to, change.reason
            ),
        );
        if change.to == KillSwitchState::Halted {
            self.commands.push(Command::CancelAll(None));
        }
    }

    /// Carry out buffered commands and the events they cause until both queues are empty.
    #[inline]
    fn process(&mut self) {
        if self.commands.is_empty() && self.events.is_empty() && self.recorder.is_none() {
            return;
        }
        self.process_pending();
    }

    fn process_pending(&mut self) {
        if !(self.commands.is_empty() && self.events.is_empty()) {
            self.pump();
        }
        if self.recorder.is_some() {
            self.flush_records();
        }
    }

    /// The command/event loop: run commands, poll the venue, apply its events (which may
    /// send more commands, e.g. prompt replies, and make the strategy issue more), repeat.
    fn pump(&mut self) {
        let mut rounds = 0;
        loop {
            rounds += 1;
            if rounds > MAX_ROUNDS {
                let dropped = self.commands.len();
                self.commands.clear();
                self.events.clear();
                self.audit.record(
                    self.now,
                    AuditKind::CommandError,
                    None,
                    format!(
                        "command cascade exceeded {MAX_ROUNDS} rounds; {dropped} commands dropped"
                    ),
                );
                break;
            }
            if !self.commands.is_empty() {
                std::mem::swap(&mut self.commands, &mut self.command_buf);
                let mut buf = std::mem::take(&mut self.command_buf);
                for cmd in buf.drain(..) {
                    self.execute(cmd);
                }
                self.command_buf = buf;
            }
            if self.recorder.is_some() {
                self.flush_records();
            }
            self.exec.poll(&mut self.events);
            if self.events.is_empty() && self.commands.is_empty() {
                break;
            }
            self.apply_events();
        }
    }

    /// Hand a command to the venue: at once in backtests; live, after the journal holds it.
    #[inline]
    fn dispatch(&mut self, cmd: ExecCommand) {
        match self.recorder.as_mut() {
            None => self.exec.send(cmd),
            Some(r) => {
                r.record(Record::Command {
                    ts: self.now,
                    command: &cmd,
                });
                self.outbox.push(cmd);
            }
        }
    }

    /// Live runs: hand new audit lines to the recorder, commit, then send the held
    /// commands. A failed commit sends nothing: each held command fails (its failure event
    /// is applied) and the kill switch halts.
    fn flush_records(&mut self) {
        let Some(r) = self.recorder.as_mut() else {
            return;
        };
        for rec in &self.audit.records()[self.audit_cursor..] {
            r.record(Record::Audit(rec));
        }
        self.audit_cursor = self.audit.records().len();
        match r.commit() {
            Ok(()) => {
                for cmd in self.outbox.drain(..) {
                    self.exec.send(cmd);
                }
            }
            Err(e) => {
                let now = self.now;
                let reason = format!("not sent: {e}");
                tracing::error!(held = self.outbox.len(), "{reason}");
                let held = std::mem::take(&mut self.outbox);
                for cmd in &held {
                    if let Some(ev) = cmd.failure_event(&reason, now) {
                        self.events.push(ev);
                    }
                }
                self.audit
                    .record(now, AuditKind::CommandError, None, reason.clone());
                if let Some(change) = self.risk.set_kill_switch(KillSwitchState::Halted) {
                    self.audit.record(
                        now,
                        AuditKind::KillSwitch,
                        None,
                        format!("kill switch {:?} -> Halted: {reason}", change.from),
                    );
                }
            }
        }
    }

    /// Live runs: tell the recorder about the order as it is now.
    #[inline]
    fn record_order(&mut self, id: OrderId) {
        if let Some(r) = self.recorder.as_mut()
            && let Some(o) = self.om.get(id)
        {
            r.record(Record::Order(o));
        }
    }

    fn apply_events(&mut self) {
        // Events may cause strategy callbacks that cause commands; those are picked up by
        // `process`. Take the buffer so callbacks can't observe it half-drained.
        let mut events = std::mem::take(&mut self.events);
        for ev in events.drain(..) {
            self.apply_event(ev);
        }
        if self.events.is_empty() {
            self.events = events;
        }
    }

    fn apply_event(&mut self, ev: ExecEvent) {
        let now = ev.ts();
        self.now = self.clock.advance(now);
        if let Some(r) = self.recorder.as_mut() {
            r.record(Record::Event(&ev));
        }
        match &ev {
            ExecEvent::Filled(fill)
                if !fill.exec_id.is_none() && self.executions.contains(&fill.exec_id) =>
            {
                return self.audit.record(
                    now,
                    AuditKind::VenueReport,
                    Some(fill.order_id),
                    format!(
                        "execution {} reported again: not booked twice",
                        fill.exec_id
                    ),
                );
            }
            ExecEvent::Commission {
                order_id,
                exec_id,
                commission,
                ..
            } => return self.correct_commission(*order_id, *exec_id, *commission, now),
            _ => {}
        }
        let result = self.om.apply(&ev, &mut self.exec_out, &mut self.audit);
        if !self.exec_out.is_empty() {
            let mut replies = std::mem::take(&mut self.exec_out);
            for cmd in replies.drain(..) {
                self.dispatch(cmd);
            }
            self.exec_out = replies;
        }
        match result {
            Ok(Some(update)) => {
                // Book a fill only once the order manager took it.
                if let Some(fill) = &update.fill {
                    self.book_fill(fill);
                }
                self.record_order(update.order_id);
                self.notify(&update);
            }
            Ok(None) => self.record_order(ev.order_id()),
            Err(e) => self.audit.record(
                now,
                AuditKind::IllegalTransition,
                Some(ev.order_id()),
                format!("execution event not applied: {e}"),
            ),
        }
        if matches!(ev, ExecEvent::Filled(_)) {
            self.check_kill_switch(now);
        }
    }

    fn book_fill(&mut self, fill: &Fill) {
        let effect = self.portfolio.apply_fill(fill);
        if !fill.exec_id.is_none() {
            self.executions.insert(fill.exec_id);
        }
        self.fills.push(FillRecord {
            fill: *fill,
            realized_pnl: effect.realized_pnl,
            position_after: effect.position_after,
        });
        if let Some(r) = self.recorder.as_mut()
            && let Some(rec) = self.fills.last()
        {
            r.record(Record::Fill(rec));
        }
    }

    /// A late commission: it replaces the booked fill's, in the order, the position and cash.
    fn correct_commission(
        &mut self,
        order_id: OrderId,
        exec_id: ExecId,
        commission: Decimal,
        now: Ts,
    ) {
        let found = self
            .fills
            .iter()
            .rposition(|r| r.fill.order_id == order_id && r.fill.exec_id == exec_id);
        let Some(i) = found.filter(|_| !exec_id.is_none()) else {
            return self.audit.record(
                now,
                AuditKind::VenueReport,
                Some(order_id),
                format!("commission {commission} for unknown execution {exec_id}: not booked"),
            );
        };
        let rec = &mut self.fills[i];
        let delta = commission - rec.fill.commission;
        if delta.is_zero() {
            return;
        }
        rec.fill.commission = commission;
        let instrument = rec.fill.instrument;
        self.portfolio.adjust_commission(instrument, delta);
        if let Err(e) = self.om.adjust_commission(order_id, delta) {
            self.audit.record(
                now,
                AuditKind::VenueReport,
                Some(order_id),
                format!("commission correction: {e}"),
            );
        }
        if let Some(r) = self.recorder.as_mut() {
            r.record(Record::Fill(&self.fills[i]));
        }
        self.record_order(order_id);
    }

    fn notify(&mut self, update: &OrderUpdate) {
        self.with_ctx(|s, c| s.on_order(update, c));
    }

    fn execute(&mut self, cmd: Command) {
        let now = self.now;
        match cmd {
            Command::Submit(id, req) => self.submit(id, req, now),
            Command::Modify(id, change) => self.modify(id, change, now),
            Command::Cancel(id) => match self.om.request_cancel(id, now) {
                Ok(cmd) => {
                    self.record_intent_cancel(id);
                    self.record_order(id);
                    self.dispatch(cmd);
                }
                Err(e) => self.audit.record(
                    now,
                    AuditKind::CommandError,
                    Some(id),
                    format!("cancel: {e}"),
                ),
            },
            Command::CancelAll(instrument) => {
                let ids: Vec<OrderId> = self
                    .om
                    .open_ids()
                    .iter()
                    .copied()
                    .filter(|id| {
                        self.om.get(*id).is_some_and(|o| {
                            o.state != OrderState::PendingCancel
                                && o.state != OrderState::AwaitingConfirmation
                                && instrument.is_none_or(|i| o.request.instrument == i)
                        })
                    })
                    .collect();
                for id in ids {
                    match self.om.request_cancel(id, now) {
                        Ok(cmd) => {
                            self.record_intent_cancel(id);
                            self.record_order(id);
                            self.dispatch(cmd);
                        }
                        Err(e) => self.audit.record(
                            now,
                            AuditKind::CommandError,
                            Some(id),
                            format!("cancel all: {e}"),
                        ),
                    }
                }
            }
            Command::SetTimer(id, at, tag) => self.timers.push(Reverse((at, id.0, tag))),
            Command::CancelTimer(id) => {
                if self.timers.iter().any(|Reverse((_, t, _))| *t == id.0) {
                    self.cancelled_timers.insert(id.0);
                }
            }
            Command::KeepHistory(bars) => self.history.keep(self.instruments.len(), bars),
            Command::Resample(frame) => {
                if !self.resampler.add(frame, &self.instruments) {
                    self.audit.record(
                        self.now,
                        AuditKind::CommandError,
                        None,
                        format!("resample: {} is not a timeframe", frame.label()),
                    );
                }
            }
        }
    }

    /// Round to tick and lot (the edge where orders are built).
    fn normalize(inst: &Instrument, mut req: OrderRequest) -> OrderRequest {
        req.quantity = inst.round_qty(req.quantity);
        req.limit_price = req.limit_price.map(|p| inst.round_price(p));
        req.stop_price = req.stop_price.map(|p| inst.round_price(p));
        req.limit_offset = req.limit_offset.map(|p| inst.round_price(p));
        if let Some(Trail::Amount(a)) = req.trail {
            req.trail = Some(Trail::Amount(inst.round_price(a)));
        }
        if matches!(req.order_type, OrderType::Market | OrderType::MarketOnClose) {
            req.limit_price = None;
            req.stop_price = None;
        }
        req
    }

    fn risk_context<'a>(
        &self,
        inst: &'a Instrument,
        now: Ts,
        exclude: Option<OrderId>,
    ) -> RiskContext<'a> {
        risk_context(
            &self.om,
            &self.portfolio,
            &self.instruments,
            inst,
            now,
            exclude,
        )
    }

    fn record_intent_cancel(&mut self, order_id: OrderId) {
        if let Some(r) = self.recorder.as_mut() {
            r.record(Record::CancelIntent {
                ts: self.now,
                order_id,
            });
        }
    }

    fn submit(&mut self, id: OrderId, req: OrderRequest, now: Ts) {
        let Some(inst) = self.instruments.get(req.instrument.index()) else {
            let refusal = Refusal {
                check: "instrument",
                reason: RefusalReason::UnknownInstrument {
                    instrument: req.instrument.0,
                },
            };
            return self.deny(id, req, refusal, now);
        };
        if let Some(r) = self.recorder.as_mut() {
            r.record(Record::SubmitIntent {
                ts: now,
                order_id: id,
                request: &req,
            });
        }
        let req = Self::normalize(inst, req);
        let mut ctx = self.risk_context(inst, now, None);
        ctx.parent = req.parent.and_then(|p| parent_order(&self.om, p));
        let decision = self.risk.check(req, &ctx);
        if let Some(r) = self.recorder.as_mut() {
            r.record(Record::RiskDecision {
                ts: now,
                order_id: id,
                refusal: decision.as_ref().err(),
            });
        }
        match decision {
            Ok(approved) => match self.om.submit(id, approved, now) {
                Ok(cmd) => {
                    self.record_order(id);
                    self.dispatch(cmd);
                }
                Err(e) => self.audit.record(
                    now,
                    AuditKind::CommandError,
                    Some(id),
                    format!("submit: {e}"),
                ),
            },
            Err(refusal) => self.deny(id, req, refusal, now),
        }
    }

    fn deny(&mut self, id: OrderId, req: OrderRequest, refusal: Refusal, now: Ts) {
        self.audit
            .record(now, AuditKind::RiskRefusal, Some(id), refusal.to_string());
        match self.om.deny(id, req, refusal, now) {
            Ok(update) => {
                self.record_order(id);
                self.notify(&update);
            }
            Err(e) => {
                self.audit
                    .record(now, AuditKind::CommandError, Some(id), format!("deny: {e}"))
            }
        }
        // A bracket whose exit is refused does not go on without it: its entry, still
        // unfilled, is cancelled (its other exits go with it at the venue).
        if let Some(parent) = req.parent
            && self.om.get(parent).is_some_and(|p| {
                p.is_open() && p.filled_qty.is_zero() && p.state != OrderState::PendingCancel
            })
        {
            self.audit.record(
                now,
                AuditKind::RiskRefusal,
                Some(parent),
                format!(
                    "bracket exit {id} refused: the entry is cancelled, it would trade unprotected"
                ),
            );
            self.commands.push(Command::Cancel(parent));
        }
    }

    fn modify(&mut self, id: OrderId, change: OrderModify, now: Ts) {
        if let Some(r) = self.recorder.as_mut() {
            r.record(Record::ModifyIntent {
                ts: now,
                order_id: id,
                change: &change,
            });
        }
        let Some(order) = self.om.get(id) else {
            return self.audit.record(
                now,
                AuditKind::CommandError,
                Some(id),
                format!("modify: unknown order id {id}"),
            );
        };
        let mut req = order.request;
        if let Some(q) = change.quantity {
            req.quantity = q;
        }
        if change.limit_price.is_some() {
            req.limit_price = change.limit_price;
        }
        if change.stop_price.is_some() {
            req.stop_price = change.stop_price;
        }
        let Some(inst) = self.instruments.get(req.instrument.index()) else {
            return;
        };
        let req = Self::normalize(inst, req);
        if req.quantity <= order.filled_qty {
            return self.audit.record(
                now,
                AuditKind::CommandError,
                Some(id),
                format!(
                    "modify: new quantity {} is not above the filled {}",
                    req.quantity, order.filled_qty
                ),
            );
        }
        let mut ctx = self.risk_context(inst, now, Some(id));
        ctx.parent = req.parent.and_then(|p| parent_order(&self.om, p));
        let decision = self.risk.check(req, &ctx);
        if let Some(r) = self.recorder.as_mut() {
            r.record(Record::RiskDecision {
                ts: now,
                order_id: id,
                refusal: decision.as_ref().err(),
            });
        }
        match decision {
            Ok(approved) => match self.om.request_modify(id, approved, now) {
                Ok(cmd) => {
                    self.record_order(id);
                    self.dispatch(cmd);
                }
                Err(e) => self.audit.record(
                    now,
                    AuditKind::CommandError,
                    Some(id),
                    format!("modify: {e}"),
                ),
            },
            Err(refusal) => self.audit.record(
                now,
                AuditKind::RiskRefusal,
                Some(id),
                format!("modify {refusal}"),
            ),
        }
    }
}

/// What the risk checks see for an order on `inst` (`exclude`: the order being modified).
fn risk_context<'a>(
    om: &OrderManager,
    portfolio: &Portfolio,
    instruments: &[Instrument],
    inst: &'a Instrument,
    now: Ts,
    exclude: Option<OrderId>,
) -> RiskContext<'a> {
    let mut open_qty = om.open_qty(inst.id);
    if let Some(o) = exclude.and_then(|id| om.get(id)) {
        open_qty -= o.signed_remaining();
    }
    let (per_contract_margin, per_contract_exposure) = portfolio
        .positions()
        .iter()
        .filter(|p| !p.is_flat())
        .filter_map(|p| {
            let m = instruments.get(p.instrument.index())?.initial_margin?;
            Some((p.quantity.abs() * m, p.market_value().abs()))
        })
        .fold((Decimal::ZERO, Decimal::ZERO), |(a, b), (m, v)| {
            (a + m, b + v)
        });
    RiskContext {
        now,
        instrument: inst,
        last_price: portfolio.last_price(inst.id),
        position: portfolio.quantity(inst.id),
        open_order_qty: open_qty,
        open_orders: om.open_count(),
        gross_exposure: portfolio.gross_exposure(),
        per_contract_margin,
        per_contract_exposure,
        equity: portfolio.equity(),
        parent: None,
    }
}

/// Where the bracket with entry `entry` stands, given the books.
fn bracket_state(om: &OrderManager, portfolio: &Portfolio, entry: OrderId) -> Option<BracketState> {
    let instrument = om.get(entry)?.request.instrument;
    om.bracket(entry, portfolio.quantity(instrument))
}

/// What risk needs to know of bracket parent `id`.
fn parent_order(om: &OrderManager, id: OrderId) -> Option<ParentOrder> {
    let o = om.get(id)?;
    Some(ParentOrder {
        instrument: o.request.instrument,
        side: o.request.side,
        quantity: o.request.quantity,
        alive: !o.state.is_terminal() || o.filled_qty > Decimal::ZERO,
    })
}

/// Fixed-point equity samples as `Decimal`.
fn equity_decimals(fixed: &[i128]) -> Vec<rust_decimal::Decimal> {
    fixed.iter().map(|&v| money::from_fixed_fast(v)).collect()
}

/// The [`Ctx`] handed to strategy hooks: reads borrow the kernel, writes go to its buffer.
struct KernelCtx<'a> {
    now: Ts,
    instruments: &'a [Instrument],
    symbols: &'a HashMap<String, InstrumentId>,
    portfolio: &'a Portfolio,
    om: &'a OrderManager,
    risk: &'a RiskChain,
    kill_switch: KillSwitchState,
    connectivity: Connectivity,
    warming_up: bool,
    history: &'a BarHistory,
    commands: &'a mut Vec<Command>,
    next_order: &'a mut u64,
    next_timer: &'a mut u64,
}

impl Ctx for KernelCtx<'_> {
    #[inline]
    fn now(&self) -> Ts {
        self.now
    }
    fn instruments(&self) -> &[Instrument] {
        self.instruments
    }
    fn instrument_id(&self, symbol: &str) -> Option<InstrumentId> {
        self.symbols.get(symbol).copied()
    }
    #[inline]
    fn position(&self, instrument: InstrumentId) -> Decimal {
        self.portfolio.quantity(instrument)
    }
    fn portfolio(&self) -> &Portfolio {
        self.portfolio
    }
    fn order(&self, id: OrderId) -> Option<&crate::order::Order> {
        self.om.get(id)
    }
    fn open_orders(&self) -> &[OrderId] {
        self.om.open_ids()
    }
    fn kill_switch(&self) -> KillSwitchState {
        self.kill_switch
    }
    fn buying_power(&self) -> Option<Decimal> {
        let inst = self.instruments.first()?;
        let ctx = risk_context(
            self.om,
            self.portfolio,
            self.instruments,
            inst,
            self.now,
            None,
        );
        self.risk.buying_power(&ctx)
    }
    fn connectivity(&self) -> Connectivity {
        self.connectivity
    }
    fn is_warming_up(&self) -> bool {
        self.warming_up
    }
    fn history(&self, instrument: InstrumentId, n: usize) -> BarWindow<'_> {
        self.history.window(instrument, n)
    }
    fn keep_history(&mut self, bars: usize) {
        self.commands.push(Command::KeepHistory(bars));
    }
    fn resample(&mut self, timeframe: Timeframe) {
        self.commands.push(Command::Resample(timeframe));
    }
    #[inline]
    fn submit(&mut self, request: OrderRequest) -> OrderId {
        let id = OrderId(*self.next_order);
        *self.next_order += 1;
        self.commands.push(Command::Submit(id, request));
        id
    }
    fn next_order_id(&self) -> OrderId {
        OrderId(*self.next_order)
    }
    fn bracket_state(&self, entry: OrderId) -> Option<BracketState> {
        bracket_state(self.om, self.portfolio, entry)
    }
    fn modify(&mut self, id: OrderId, change: OrderModify) {
        self.commands.push(Command::Modify(id, change));
    }
    fn cancel(&mut self, id: OrderId) {
        self.commands.push(Command::Cancel(id));
    }
    fn cancel_all(&mut self, instrument: Option<InstrumentId>) {
        self.commands.push(Command::CancelAll(instrument));
    }
    fn set_timer(&mut self, at: Ts, tag: u64) -> TimerId {
        let id = TimerId(*self.next_timer);
        *self.next_timer += 1;
        self.commands.push(Command::SetTimer(id, at, tag));
        id
    }
    fn cancel_timer(&mut self, id: TimerId) {
        self.commands.push(Command::CancelTimer(id));
    }
    fn log(&mut self, level: LogLevel, message: &str) {
        match level {
            LogLevel::Debug => {
                tracing::debug!(target: "tickline::strategy", ts = self.now, "{message}")
            }
            LogLevel::Info => {
                tracing::info!(target: "tickline::strategy", ts = self.now, "{message}")
            }
            LogLevel::Warn => {
                tracing::warn!(target: "tickline::strategy", ts = self.now, "{message}")
            }
            LogLevel::Error => {
                tracing::error!(target: "tickline::strategy", ts = self.now, "{message}")
            }
        }
    }
}

#[cfg(test)]
mod tests;
