//! The live loop: one kernel driven in wall-clock time by a venue.
//!
//! Start-up, in order: read the broker's reports (transient failures retried until
//! [`LiveSettings::start_timeout`]), reconcile them with the journal's orders and fills
//! ([`crate::reconcile`]), tell the venue which of our orders to report on, build the kernel
//! (the same strategy, risk chain and order manager as in backtests) with the journal as its
//! recorder, restore the journal's orders and fills, book what the broker did while no run
//! was watching, take the broker's cash and positions, warm the strategy up from history, and
//! only then start the strategy and the feed.
//!
//! The loop reacts to: market data (ticks; bars closed on the clock or read from history),
//! execution events (the venue wakes the loop), session notices and feed state (entries are
//! paused while the link is degraded, a reconciliation runs after every reconnect and
//! periodically), operator commands in the journal (`tickline kill`), timers, the status line
//! and the periodic rewrite of the results folder.
//!
//! It ends on the first shutdown signal or after [`LiveSettings::duration`]: the strategy is
//! stopped, this run's working orders are cancelled and confirmed (or left working, per
//! [`OnStop`]), a last reconciliation compares the books with the broker, the run is closed
//! in the journal and the results are written. A second signal ends it at once (everything
//! journaled so far stays).

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::time::Duration;

use rust_decimal::Decimal;
use serde::Serialize;
use tickline_backtest::config::{BarSource, ForeignPolicy, OnStop};
use tickline_backtest::output::Written;
use tickline_engine::audit::AuditKind;
use tickline_engine::clock::LiveClock;
use tickline_engine::connectivity::LinkState;
use tickline_engine::domain::{Bar, ExecId, Instrument, InstrumentId, Ts};
use tickline_engine::kernel::{FillRecord, Kernel, KernelConfig, KernelError, KernelRecords};
use tickline_engine::order::Order;
use tickline_engine::record::{RecordError, Recorder};
use tickline_engine::risk::KillSwitchState;
use tickline_engine::strategy::Strategy;
use tokio::sync::mpsc;

use crate::bars::{Aggregator, HistoryCursor};
use crate::reconcile::{Books, ForeignFound, Reconciliation, adopted_request, reconcile};
use crate::status::status_line;
use crate::supervise::{Action, Supervisor};
use crate::venue::{BrokerSnapshot, FeedEvent, SessionNotice, TrackedOrder, Venue, VenueError};

/// At the stop, how often a refused cancel is sent again.
const CANCEL_RESEND: Duration = Duration::from_secs(2);

/// A reconciliation whose reports could not be read is tried again this much later (entries
/// stay paused meanwhile when it followed a reconnect).
const RECONCILE_RETRY: Duration = Duration::from_secs(2);

/// Paper or live money.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunMode {
    Paper,
    Live,
}

impl RunMode {
    pub fn as_str(self) -> &'static str {
        match self {
            RunMode::Paper => "paper",
            RunMode::Live => "live",
        }
    }
}

/// How a live run behaves.
#[derive(Clone, Debug, PartialEq)]
pub struct LiveSettings {
    pub mode: RunMode,
    /// Bar length.
    pub bar: Duration,
    pub bar_source: BarSource,
    /// Historical bars fed before the first live bar (per instrument).
    pub warmup_bars: usize,
    /// Stop after this long (`None`: until a shutdown signal).
    pub duration: Option<Duration>,
    pub on_stop: OnStop,
    pub foreign: ForeignPolicy,
    /// Market data older than this pauses entries.
    pub stale_after: Duration,
    /// Periodic reconciliation (besides after every reconnect).
    pub reconcile_every: Duration,
    /// Status line interval (`None`: quiet).
    pub status_every: Option<Duration>,
    /// Rewrite the results folder this often.
    pub refresh_every: Duration,
    /// At the end, wait this long for cancels to be confirmed.
    pub stop_timeout: Duration,
    /// Give up starting (and the final reconciliation) when the broker's reports cannot be
    /// read for this long.
    pub start_timeout: Duration,
    /// `history` bar source: wait this long after a bar's close before reading it.
    pub history_delay: Duration,
}

impl Default for LiveSettings {
    fn default() -> Self {
        LiveSettings {
            mode: RunMode::Paper,
            bar: Duration::from_secs(60),
            bar_source: BarSource::Ticks,
            warmup_bars: 0,
            duration: None,
            on_stop: OnStop::Cancel,
            foreign: ForeignPolicy::Refuse,
            stale_after: Duration::from_secs(30),
            reconcile_every: Duration::from_secs(60),
            status_every: Some(Duration::from_secs(5)),
            refresh_every: Duration::from_secs(10),
            stop_timeout: Duration::from_secs(15),
            start_timeout: Duration::from_secs(30),
            history_delay: Duration::from_millis(500),
        }
    }
}

/// An operator command left in the journal by another process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ControlCommand {
    /// Set the kill switch.
    KillSwitch(KillSwitchState),
    /// Stop the run as if interrupted.
    Stop,
}

/// The journal, as the loop uses it.
pub trait RunJournal: Send {
    /// The kernel's recorder for this run.
    fn recorder(&mut self) -> Result<Box<dyn Recorder>, RecordError>;
    /// Operator commands since the last call (each returned once).
    fn take_control(&mut self) -> Result<Vec<ControlCommand>, RecordError>;
    /// Rewrite the results folder from the journal (every run of it).
    fn write_results(&mut self) -> Result<Written, RecordError>;
    /// Close the run.
    fn end_run(
        &mut self,
        ts: Ts,
        stop: &str,
        summary: &serde_json::Value,
    ) -> Result<(), RecordError>;
}

/// What the journal held when the run started.
#[derive(Debug, Default)]
pub struct Resume {
    /// Every order of the journal (ids dense from 1).
    pub orders: Vec<Order>,
    /// Every fill, in booking order.
    pub fills: Vec<FillRecord>,
}

/// Everything a run needs besides the venue.
pub struct LiveRun {
    pub settings: LiveSettings,
    /// The kernel's settings; `client_id_prefix` must be the journal's.
    pub kernel: KernelConfig,
    /// Instruments in journal order (ids assigned by position).
    pub instruments: Vec<Instrument>,
    /// The instruments to trade (receive market data and bars); the others are there for
    /// the journal's orders and positions.
    pub trade: Vec<InstrumentId>,
    pub strategy: Box<dyn Strategy>,
    pub resume: Resume,
    pub journal: Box<dyn RunJournal>,
}

/// Why a run could not start or ended badly.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error(transparent)]
    Kernel(#[from] KernelError),
    #[error(transparent)]
    Foreign(#[from] ForeignFound),
    #[error("reading the broker's positions, orders and executions: {0}")]
    Reports(VenueError),
    #[error("starting the market data feed: {0}")]
    Feed(VenueError),
    #[error(transparent)]
    Journal(#[from] RecordError),
    #[error("adopting broker order {order}: {why}")]
    Adopt { order: u64, why: String },
    #[error("interrupted twice: stopped at once (the journal holds everything up to now)")]
    Aborted,
}

impl LiveError {
    /// Errors the user fixes (configuration, foreign orders): exit code 2; others 1.
    pub fn is_user_error(&self) -> bool {
        matches!(
            self,
            LiveError::Foreign(_) | LiveError::Kernel(_) | LiveError::Adopt { .. }
        ) || matches!(self, LiveError::Reports(VenueError::Permanent(_)))
    }
}

/// Why the run ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StopReason {
    Duration,
    Signal,
    /// `tickline kill … --stop`.
    Operator,
}

impl StopReason {
    pub fn as_str(&self) -> &'static str {
        match self {
            StopReason::Duration => "duration elapsed",
            StopReason::Signal => "interrupted",
            StopReason::Operator => "stopped by operator",
        }
    }
}

/// One instrument's position at the end, in the books and at the broker.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PositionCheck {
    pub symbol: String,
    pub kernel: Decimal,
    pub broker: Option<Decimal>,
    /// The part of the broker's position that was not this journal's at start and was left
    /// alone (`foreign = ignore`); zero otherwise.
    pub ignored: Decimal,
}

impl PositionCheck {
    /// The broker holds the books' position plus the part ignored at start.
    pub fn agrees(&self) -> bool {
        self.broker == Some(self.kernel + self.ignored)
    }
}

/// What a run did.
#[derive(Debug)]
pub struct LiveOutcome {
    pub records: KernelRecords,
    pub instruments: Vec<Instrument>,
    pub stop: StopReason,
    pub ticks: u64,
    pub bars: u64,
    pub warmup_bars: u64,
    /// Orders of this run still working at the broker at the end.
    pub left_working: usize,
    /// Missed executions booked at start.
    pub missed_at_start: usize,
    /// Executions the broker reported only to the final reconciliation (booked then).
    pub missed_at_stop: usize,
    pub reconciliations: u64,
    /// Final books against the broker (`None` when the broker could not be read).
    pub positions: Option<Vec<PositionCheck>>,
    pub agreed: Option<bool>,
    pub started: Ts,
    pub ended: Ts,
    /// The results folder as written at the end (`None` if writing failed; logged).
    pub written: Option<Written>,
}

/// Retry `f` on transient errors until `timeout`, with a doubling pause.
async fn retry<T, F, Fut>(what: &str, timeout: Duration, mut f: F) -> Result<T, VenueError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, VenueError>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    let mut pause = Duration::from_millis(250);
    loop {
        match tokio::time::timeout_at(deadline, f()).await {
            Ok(Ok(v)) => return Ok(v),
            Ok(Err(e)) if e.is_transient() && tokio::time::Instant::now() + pause < deadline => {
                tracing::warn!(error = %e, retry_in = ?pause, "{what} failed; retrying");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(5));
            }
            Ok(Err(e)) => return Err(e),
            Err(_) => {
                return Err(VenueError::Transient(format!(
                    "{what}: no answer within {timeout:?}"
                )));
            }
        }
    }
}

fn nanos(d: Duration) -> i64 {
    d.as_nanos().min(i64::MAX as u128) as i64
}

fn now_ns() -> Ts {
    tickline_engine::clock::Clock::now(&LiveClock)
}

/// Signed position per instrument from fills.
fn positions_from(fills: &[FillRecord], n: usize) -> Vec<Decimal> {
    let mut q = vec![Decimal::ZERO; n];
    for f in fills {
        if let Some(x) = q.get_mut(f.fill.instrument.index()) {
            *x += f.fill.signed_quantity();
        }
    }
    q
}

/// Carry out a reconciliation on a running kernel.
fn apply(kernel: &mut Kernel, r: &Reconciliation) {
    apply_reports(kernel, r);
    kernel.set_books(r.cash, &r.set_positions);
}

/// Audit `r`'s decisions and apply its venue reports, leaving cash and positions as booked.
fn apply_reports(kernel: &mut Kernel, r: &Reconciliation) {
    for note in &r.notes {
        kernel.audit_note(AuditKind::Reconciliation, None, note.clone());
    }
    kernel.apply_reports(r.events.iter().cloned());
}

/// Run live until the first signal on `signals` (a second one aborts) or the duration.
pub async fn run(
    run: LiveRun,
    mut venue: Venue,
    mut signals: mpsc::Receiver<()>,
) -> Result<LiveOutcome, LiveError> {
    let LiveRun {
        settings,
        kernel: mut kernel_cfg,
        mut instruments,
        trade,
        strategy,
        resume,
        mut journal,
    } = run;
    for (k, i) in instruments.iter_mut().enumerate() {
        i.id = InstrumentId(k as u32);
    }
    let n = instruments.len();

    // 1. The broker's view, reconciled with the journal's, before anything trades.
    let reports = venue.reports.clone();
    let snapshot = retry(
        "reading the broker's reports",
        settings.start_timeout,
        || reports.snapshot(),
    )
    .await
    .map_err(LiveError::Reports)?;
    let positions = positions_from(&resume.fills, n);
    let plan = reconcile(
        Books {
            instruments: &instruments,
            orders: &resume.orders,
            fills: &resume.fills,
            positions: &positions,
        },
        &snapshot,
        settings.foreign,
        true,
        now_ns(),
    )?;
    // Under `ignore`, what the broker holds beyond this journal's books at start stays out of
    // the books; the final check expects it still there.
    let ignored: HashMap<InstrumentId, Decimal> = match settings.foreign {
        ForeignPolicy::Ignore => plan.differences.iter().copied().collect(),
        ForeignPolicy::Adopt | ForeignPolicy::Refuse => HashMap::new(),
    };
    // Adopted orders get the ids after the journal's last.
    let mut track = plan.track.clone();
    let mut adopt = Vec::new();
    for (k, bo) in plan.adopt.iter().enumerate() {
        let Some(request) = adopted_request(bo) else {
            return Err(LiveError::Adopt {
                order: bo.broker_order_id,
                why: format!(
                    "its type or prices cannot be represented ({:?} {:?})",
                    bo.order_type, bo.status
                ),
            });
        };
        let order_id = tickline_engine::domain::OrderId(resume.orders.len() as u64 + 1 + k as u64);
        let client_order_id = request.client_order_id.unwrap_or_else(|| {
            tickline_engine::domain::ClientOrderId::with_number(
                &kernel_cfg.client_id_prefix,
                order_id.0,
            )
        });
        track.push(TrackedOrder {
            order_id,
            client_order_id,
            broker_order_id: Some(bo.broker_order_id),
            request,
            filled: bo.filled,
        });
        adopt.push((request, bo.broker_order_id, bo.filled));
    }
    let booked: Vec<ExecId> = resume
        .fills
        .iter()
        .map(|f| f.fill.exec_id)
        .filter(|e| !e.is_none())
        .collect();
    venue.execution.track(&track, &booked);
    let ready = venue.execution.ready();

    // 2. The kernel, restored, with the broker's books (its cash, not the config's).
    kernel_cfg.initial_cash = snapshot.cash;
    let exec: Box<dyn tickline_engine::execution::ExecutionClient> = venue.execution;
    let mut kernel = Kernel::new(
        kernel_cfg,
        instruments.clone(),
        strategy,
        exec,
        Box::new(LiveClock),
    )?;
    kernel.set_recorder(journal.recorder()?);
    kernel.restore(resume.orders, resume.fills)?;
    for (request, broker_order_id, filled) in adopt {
        kernel.adopt_order(request, broker_order_id, filled)?;
    }
    apply(&mut kernel, &plan);
    if plan.missed_fills > 0 {
        tracing::warn!(
            fills = plan.missed_fills,
            "executions made while no run was watching were booked"
        );
    }

    // 3. Warm-up from history.
    let mut warm = Vec::new();
    let mut cursor = HistoryCursor::new(n);
    if settings.warmup_bars > 0 {
        for &id in &trade {
            let symbol = &instruments[id.index()].symbol;
            match tokio::time::timeout(
                settings.start_timeout,
                venue.feed.history(id, settings.bar, settings.warmup_bars),
            )
            .await
            {
                Ok(Ok(bars)) => warm.extend(bars),
                Ok(Err(e)) => {
                    tracing::warn!(%symbol, error = %e, "warm-up history failed: the strategy starts without it")
                }
                Err(_) => {
                    tracing::warn!(%symbol, "warm-up history timed out: the strategy starts without it")
                }
            }
        }
        warm.sort_by_key(|b| (b.ts_end, b.instrument));
        for bar in &warm {
            kernel.warm_up(bar);
            cursor.seen(bar.instrument, bar.ts_end);
        }
        if !warm.is_empty() {
            tracing::info!(
                bars = warm.len(),
                ignored = kernel.warmup_ignored(),
                "strategy warmed up on history"
            );
        }
    }

    // 4. Start.
    let started = kernel.now();
    let start_equity = kernel.portfolio().equity();
    kernel.start();
    let (feed_tx, mut feed_rx) = mpsc::channel::<FeedEvent>(4096);
    venue.feed.start(feed_tx).await.map_err(LiveError::Feed)?;
    let mut state = Loop {
        supervisor: Supervisor::new(nanos(settings.stale_after)),
        aggregator: Aggregator::new(n, nanos(settings.bar), started),
        cursor,
        trade: trade.iter().copied().collect(),
        last_data: None,
        ticks: 0,
        bars: 0,
        reconciliations: 0,
        bar_buf: Vec::with_capacity(n),
        ignored,
    };
    let deadline = settings.duration.map(|d| tokio::time::Instant::now() + d);
    let (reco_tx, mut reco_rx) = mpsc::channel::<Result<BrokerSnapshot, VenueError>>(4);
    let (hist_tx, mut hist_rx) = mpsc::channel::<Vec<Bar>>(16);
    let mut house = tokio::time::interval(Duration::from_millis(250));
    house.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut next_status = settings
        .status_every
        .map(|d| tokio::time::Instant::now() + d);
    let mut next_refresh = tokio::time::Instant::now() + settings.refresh_every;
    let mut next_reconcile = tokio::time::Instant::now() + settings.reconcile_every;
    let mut reconcile_pending = false;
    let mut history_due: Option<tokio::time::Instant> = None;
    let mut session_open = true;
    let mut feed_open = true;

    let stop = loop {
        let bar_close = bar_instant(state.aggregator.window_end());
        tokio::select! {
            biased;
            sig = signals.recv() => {
                if sig.is_some() {
                    break StopReason::Signal;
                }
            }
            _ = sleep_until_opt(deadline) => break StopReason::Duration,
            () = ready.notified() => kernel.poll_execution(),
            ev = feed_rx.recv(), if feed_open => match ev {
                Some(ev) => state.on_feed(&mut kernel, ev),
                None => {
                    // The venue ended its feed: nothing more will arrive.
                    feed_open = false;
                    let actions = state.supervisor.on_feed_link(LinkState::Down);
                    state.supervise(&mut kernel, actions);
                }
            },
            notice = venue.session.recv(), if session_open => match notice {
                Some(n) => {
                    let actions = state.supervisor.on_notice(&n);
                    if actions.contains(&Action::Reconcile) {
                        reconcile_pending = true;
                    }
                    if let SessionNotice::Notice { text } = &n {
                        kernel.audit_note(AuditKind::Connectivity, None, format!("broker notice: {text}"));
                    }
                    state.supervise(&mut kernel, actions);
                }
                None => session_open = false,
            },
            snap = reco_rx.recv() => if let Some(snap) = snap
                && !state.on_reconcile(&mut kernel, snap, &settings)
            {
                next_reconcile = tokio::time::Instant::now() + RECONCILE_RETRY;
            },
            bars = hist_rx.recv() => if let Some(bars) = bars {
                state.on_history_bars(&mut kernel, bars);
            },
            _ = tokio::time::sleep_until(bar_close) => {
                let now = kernel.now();
                match settings.bar_source {
                    BarSource::Ticks => state.close_bars(&mut kernel, now),
                    BarSource::History => {
                        state.aggregator.close_due(now, &mut state.bar_buf);
                        state.bar_buf.clear();
                        history_due = Some(tokio::time::Instant::now() + settings.history_delay);
                    }
                }
            }
            _ = sleep_until_opt(history_due) => {
                history_due = None;
                spawn_history(&*venue.feed, &state.trade, settings.bar, hist_tx.clone());
            }
            _ = house.tick() => {
                let now = kernel.now();
                kernel.poll_execution();
                kernel.advance_time(now);
                let stale = state.supervisor.check_stale(state.last_data, now, started);
                let timed = state.supervisor.tick(now);
                state.supervise(&mut kernel, stale);
                state.supervise(&mut kernel, timed);
                match journal.take_control() {
                    Ok(cmds) => {
                        let mut stop = None;
                        for c in cmds {
                            match c {
                                ControlCommand::KillSwitch(k) => {
                                    tracing::warn!(state = ?k, "kill switch set by operator");
                                    kernel.set_kill_switch(k);
                                }
                                ControlCommand::Stop => stop = Some(StopReason::Operator),
                            }
                        }
                        if let Some(s) = stop {
                            break s;
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "reading operator commands from the journal failed"),
                }
                let at = tokio::time::Instant::now();
                if tokio::time::Instant::now() >= next_reconcile {
                    reconcile_pending = true;
                }
                if reconcile_pending && !state.supervisor.session_down() {
                    reconcile_pending = false;
                    next_reconcile = at + settings.reconcile_every;
                    let reports = venue.reports.clone();
                    let tx = reco_tx.clone();
                    tokio::spawn(async move {
                        let _ = tx.send(reports.snapshot().await).await;
                    });
                }
                if next_status.is_some_and(|t| at >= t) {
                    eprintln!("{}", status_line(&kernel, start_equity));
                    next_status = settings.status_every.map(|d| at + d);
                }
                if at >= next_refresh {
                    next_refresh = at + settings.refresh_every;
                    if let Err(e) = journal.write_results() {
                        tracing::warn!(error = %e, "refreshing the results folder failed");
                    }
                }
            }
        }
    };
    tracing::info!(reason = stop.as_str(), "stopping");

    // 5. Stop: the strategy's last word, then this run's orders.
    kernel.stop();
    let cancel_ids: Vec<_> = kernel.order_manager().open_ids().to_vec();
    if settings.on_stop == OnStop::Cancel && !cancel_ids.is_empty() {
        kernel.cancel_all(None);
        let until = tokio::time::Instant::now() + settings.stop_timeout;
        // A cancel the broker refused (a transient error, an order not yet acknowledged) is
        // sent again; orders whose cancel is pending are left to their confirmation.
        let mut resend = tokio::time::interval(CANCEL_RESEND);
        resend.tick().await;
        while kernel.order_manager().open_count() > 0 && tokio::time::Instant::now() < until {
            tokio::select! {
                biased;
                sig = signals.recv() => if sig.is_some() {
                    return Err(LiveError::Aborted);
                },
                () = ready.notified() => kernel.poll_execution(),
                _ = resend.tick() => {
                    kernel.poll_execution();
                    kernel.cancel_all(None);
                }
                _ = tokio::time::sleep(Duration::from_millis(100)) => kernel.poll_execution(),
            }
        }
    } else {
        // Collect what is already on its way.
        kernel.poll_execution();
    }
    let left_working = kernel.order_manager().open_count();
    if left_working > 0 {
        let ids: Vec<String> = kernel
            .order_manager()
            .open_ids()
            .iter()
            .filter_map(|id| kernel.order_manager().get(*id))
            .map(|o| o.client_order_id.to_string())
            .collect();
        let note = match settings.on_stop {
            OnStop::Leave => format!(
                "{left_working} orders left working at the broker (on_stop = leave): {}; the next run on this journal adopts them",
                ids.join(", ")
            ),
            OnStop::Cancel => format!(
                "{left_working} orders not confirmed cancelled within {:?}: {}; the next run on this journal reconciles them",
                settings.stop_timeout,
                ids.join(", ")
            ),
        };
        tracing::warn!("{note}");
        kernel.audit_note(AuditKind::Reconciliation, None, note);
    }

    // 6. The last word of the broker: executions the books still lack (a fill that raced a
    // cancel, a report lost to an error) are booked, then positions are compared.
    let mut positions = None;
    let mut agreed = None;
    let mut missed_at_stop = 0;
    let reports = venue.reports.clone();
    let last_word = retry(
        "final reconciliation",
        settings.start_timeout.max(Duration::from_secs(2)),
        || reports.snapshot(),
    );
    // A second signal while the broker is being read (it may take the whole start-up
    // deadline under errors) stops at once: the next run reconciles.
    let last_word = tokio::select! {
        biased;
        Some(()) = signals.recv() => return Err(LiveError::Aborted),
        r = last_word => r,
    };
    match last_word {
        Ok(snap) => match reconcile_books(&mut kernel, &snap, settings.foreign) {
            Ok(r) => {
                if r.missed_fills > 0 {
                    tracing::warn!(
                        fills = r.missed_fills,
                        "the broker reported executions only at the end: booked"
                    );
                }
                missed_at_stop = r.missed_fills;
                // Reports only: the books are not overwritten with the broker's positions,
                // so the comparison below says whether they agree.
                apply_reports(&mut kernel, &r);
                let checks = position_checks(&kernel, &snap, &state.ignored);
                let ok = checks.iter().all(PositionCheck::agrees);
                if !ok {
                    tracing::warn!(?checks, "final positions differ from the broker's");
                }
                agreed = Some(ok);
                positions = Some(checks);
            }
            Err(e) => tracing::warn!(error = %e, "final reconciliation"),
        },
        Err(e) => {
            tracing::warn!(error = %e, "final reconciliation: the broker's reports could not be read")
        }
    }
    let ended = kernel.now();
    // The final equity, so every figure of the run ends on the same number.
    kernel.record_equity(ended);
    kernel.flush();
    let summary = serde_json::json!({
        "stop": stop.as_str(),
        "ticks": state.ticks,
        "bars": state.bars,
        "warmup_bars": warm.len(),
        "left_working": left_working,
        "missed_at_start": plan.missed_fills,
        "missed_at_stop": missed_at_stop,
        "reconciliations": state.reconciliations,
        "kernel_equity": kernel.portfolio().equity().to_string(),
        "positions": positions,
        "positions_agree": agreed,
    });
    journal.end_run(ended, stop.as_str(), &summary)?;
    let written = match journal.write_results() {
        Ok(w) => Some(w),
        Err(e) => {
            tracing::warn!(error = %e, "writing the results folder failed");
            None
        }
    };
    let instruments = kernel.instruments().to_vec();
    Ok(LiveOutcome {
        records: kernel.into_records(),
        instruments,
        stop,
        ticks: state.ticks,
        bars: state.bars,
        warmup_bars: warm.len() as u64,
        left_working,
        missed_at_start: plan.missed_fills,
        missed_at_stop,
        reconciliations: state.reconciliations,
        positions,
        agreed,
        started,
        ended,
        written,
    })
}

/// The loop's own state.
struct Loop {
    supervisor: Supervisor,
    aggregator: Aggregator,
    cursor: HistoryCursor,
    trade: HashSet<InstrumentId>,
    last_data: Option<Ts>,
    ticks: u64,
    bars: u64,
    reconciliations: u64,
    bar_buf: Vec<Bar>,
    /// `foreign = ignore`: the broker's position beyond the books' at start, per instrument.
    ignored: HashMap<InstrumentId, Decimal>,
}

impl Loop {
    fn on_feed(&mut self, kernel: &mut Kernel, ev: FeedEvent) {
        match ev {
            FeedEvent::Tick { tick, day_volume } => {
                if tick.instrument.index() >= kernel.instruments().len() {
                    tracing::warn!(
                        instrument = tick.instrument.0,
                        "tick for an unknown instrument ignored"
                    );
                    return;
                }
                self.last_data = Some(tick.ts);
                self.ticks += 1;
                kernel.on_tick(&tick);
                self.aggregator
                    .update(tick.instrument, tick.price(), day_volume);
            }
            FeedEvent::Link(state) => {
                let actions = self.supervisor.on_feed_link(state);
                self.supervise(kernel, actions);
            }
        }
    }

    /// Log the actions' lines and hand the new connectivity to the kernel.
    fn supervise(&mut self, kernel: &mut Kernel, actions: Vec<Action>) {
        for a in actions {
            if let Action::Log { warn, message } = a {
                if warn {
                    tracing::warn!("{message}");
                } else {
                    tracing::info!("{message}");
                }
            }
        }
        kernel.set_connectivity(self.supervisor.connectivity());
    }

    fn close_bars(&mut self, kernel: &mut Kernel, now: Ts) {
        if let Some(end) = self.aggregator.close_due(now, &mut self.bar_buf) {
            let bars = std::mem::take(&mut self.bar_buf);
            for bar in &bars {
                if self.trade.contains(&bar.instrument) {
                    kernel.on_bar(bar);
                    self.bars += 1;
                }
            }
            self.bar_buf = bars;
            self.bar_buf.clear();
            kernel.record_equity(end);
            kernel.flush();
        }
    }

    fn on_history_bars(&mut self, kernel: &mut Kernel, bars: Vec<Bar>) {
        let now = kernel.now();
        let mut fresh = Vec::new();
        self.cursor.fresh(&bars, now, &mut fresh);
        fresh.sort_by_key(|b| (b.ts_end, b.instrument));
        let mut last_end = None;
        for bar in &fresh {
            if let Some(end) = last_end
                && end != bar.ts_end
            {
                kernel.record_equity(end);
            }
            self.last_data = Some(now);
            kernel.on_bar(bar);
            self.bars += 1;
            last_end = Some(bar.ts_end);
        }
        if let Some(end) = last_end {
            kernel.record_equity(end);
            kernel.flush();
        }
    }

    /// Apply a reconciliation; `false` when the broker's reports could not be read (entries
    /// that waited for it keep waiting; the caller tries again soon).
    fn on_reconcile(
        &mut self,
        kernel: &mut Kernel,
        snap: Result<BrokerSnapshot, VenueError>,
        settings: &LiveSettings,
    ) -> bool {
        let snap = match snap {
            Ok(s) => s,
            Err(e) => {
                let paused = if self.supervisor.is_reconciling() {
                    "; new entries stay paused"
                } else {
                    ""
                };
                tracing::warn!(error = %e, "reconciliation: the broker's reports could not be read; trying again in {RECONCILE_RETRY:?}{paused}");
                return false;
            }
        };
        match reconcile_books(kernel, &snap, settings.foreign) {
            Ok(r) => {
                // Under `ignore` the part of the broker's positions ignored at start is
                // expected; anything else is news.
                let unexpected: Vec<_> = r
                    .differences
                    .iter()
                    .filter(|(id, d)| self.ignored.get(id) != Some(d))
                    .collect();
                if !unexpected.is_empty() || r.missed_fills > 0 {
                    tracing::warn!(missed = r.missed_fills, differences = ?unexpected, "reconciliation: the books differed from the broker's reports");
                }
                apply(kernel, &r);
                self.reconciliations += 1;
            }
            Err(e) => tracing::warn!(error = %e, "reconciliation"),
        }
        self.supervisor.reconciled();
        kernel.set_connectivity(self.supervisor.connectivity());
        true
    }
}

/// Reconcile the kernel's books (after collecting what the venue has already reported) with
/// `snap`, mid-run or at the end: foreign items are reported, never an error.
fn reconcile_books(
    kernel: &mut Kernel,
    snap: &BrokerSnapshot,
    policy: ForeignPolicy,
) -> Result<Reconciliation, ForeignFound> {
    kernel.poll_execution();
    let positions: Vec<Decimal> = (0..kernel.instruments().len())
        .map(|k| kernel.portfolio().quantity(InstrumentId(k as u32)))
        .collect();
    let books = Books {
        instruments: kernel.instruments(),
        orders: kernel.order_manager().orders(),
        fills: kernel.fills(),
        positions: &positions,
    };
    reconcile(books, snap, policy, false, kernel.now())
}

/// Per instrument held on either side: the kernel's quantity and the broker's.
fn position_checks(
    kernel: &Kernel,
    snap: &BrokerSnapshot,
    ignored: &HashMap<InstrumentId, Decimal>,
) -> Vec<PositionCheck> {
    let mut checks = Vec::new();
    for (k, inst) in kernel.instruments().iter().enumerate() {
        let id = InstrumentId(k as u32);
        let broker: Decimal = snap
            .positions
            .iter()
            .filter(|p| p.instrument == Some(id))
            .map(|p| p.quantity)
            .sum();
        let ours = kernel.portfolio().quantity(id);
        if !(ours.is_zero() && broker.is_zero()) {
            checks.push(PositionCheck {
                symbol: inst.symbol.clone(),
                kernel: ours,
                broker: Some(broker),
                ignored: ignored.get(&id).copied().unwrap_or_default(),
            });
        }
    }
    checks
}

fn bar_instant(window_end: Ts) -> tokio::time::Instant {
    let wait = window_end.saturating_sub(now_ns()).max(0) as u64;
    tokio::time::Instant::now() + Duration::from_nanos(wait)
}

async fn sleep_until_opt(at: Option<tokio::time::Instant>) {
    match at {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}

/// Read the last bars of every traded instrument from history (the `history` bar source) on
/// a task of its own and send them to the loop; failures are logged.
fn spawn_history(
    feed: &dyn crate::venue::MarketFeed,
    trade: &HashSet<InstrumentId>,
    bar: Duration,
    tx: mpsc::Sender<Vec<Bar>>,
) {
    let mut ids: Vec<_> = trade.iter().copied().collect();
    ids.sort();
    let reads: Vec<_> = ids
        .into_iter()
        .map(|id| (id, feed.history(id, bar, 3)))
        .collect();
    tokio::spawn(async move {
        let mut all = Vec::new();
        for (id, read) in reads {
            match tokio::time::timeout(Duration::from_secs(10), read).await {
                Ok(Ok(bars)) => all.extend(bars),
                Ok(Err(e)) => {
                    tracing::warn!(instrument = id.0, error = %e, "history bar read failed")
                }
                Err(_) => tracing::warn!(instrument = id.0, "history bar read timed out"),
            }
        }
        let _ = tx.send(all).await;
    });
}
