//! The IBKR execution client: the engine's [`ExecutionClient`] on top of [`Client`].
//!
//! [`IbkrExecution::send`] never blocks: it forwards the command over a channel to a worker
//! task on the given tokio runtime. The worker performs the REST calls one command at a time
//! (the client serialises order submissions anyway) and pushes [`ExecEvent`]s into a
//! `std::sync::mpsc` channel that [`IbkrExecution::poll`] drains without blocking.
//!
//! * **Submit** → `place_orders` (not the auto-confirming helper). An ack list becomes
//!   [`ExecEvent::Accepted`]; a question becomes [`ExecEvent::Prompt`] and the worker waits for
//!   the engine's [`ExecCommand::ReplyPrompt`] (the order manager answers with its prompt
//!   policy); the reply's answer is mapped the same way, so chains of questions become chains of
//!   prompt events. A server prompt (`p12`, "Use the Price Management Algo?") is a prompt
//!   event too (its message id decides, as for questions); the answer goes to
//!   `/iserver/notification`: the prompt's first option ("Use on this order") for yes, its
//!   last ("Do not use") for no. Errors become [`ExecEvent::Rejected`] with IBKR's text.
//!   Ambiguous failures are resolved by the client's `cOID` lookup.
//! * **Declined questions**: the order manager marks the order `Rejected` as soon as its policy
//!   declines, so the worker only sends `{"confirmed": false}` and reports nothing further (a
//!   second rejection would be an illegal transition). Should IBKR nevertheless acknowledge
//!   the order, it is cancelled at IBKR at once and a warning is logged.
//! * **Modify** → the modify endpoint. The engine's state machine does not allow prompts while
//!   a modification is pending, so questions about a modification are answered here with
//!   [`IbkrExecutionConfig::modify_prompts`] (the engine's own policy type; the default
//!   rejects every question). The outcome is [`ExecEvent::Modified`] or
//!   [`ExecEvent::ModifyRejected`].
//! * **Cancel** → the cancel endpoint; IBKR only accepts the request, so a task then checks
//!   `order/status` with a bounded exponential backoff until the order is `Cancelled` /
//!   `Inactive` ([`ExecEvent::Cancelled`]) or `Filled` (the fill arrives from the trades poll).
//!   IBKR's refusal becomes [`ExecEvent::CancelRejected`] with its message.
//! * **Fills and broker-side status** arrive from the websocket's `str` (executions) and
//!   `sor` (order updates) topics, fed through [`IbkrExecution::stream`]; see [`reports`].
//!   REST reconciles: `/iserver/account/trades` and `/iserver/account/orders` are read every
//!   [`IbkrExecutionConfig::poll_interval`] while the stream is down (IBKR paces both at one
//!   call per 5 s), every [`IbkrExecutionConfig::streaming_poll_interval`] while it is up,
//!   and at once after every reconnect ([`StreamInput::Up`]). Every execution is reported
//!   once (by IBKR's `execution_id`); a commission reported after its fill becomes
//!   [`ExecEvent::Commission`]. Orders of other runs and other platforms are never reported.
//! * **Restarts**: [`LiveExecution::track`] hands over the journal's working orders and its
//!   booked executions, so their later fills and cancels are reported like this run's own.
//! * **Unknown placement state**: when IBKR's answer to a submission was lost and the `cOID`
//!   lookup could not settle it, the order is reported rejected but stays watched by its
//!   `cOID`; should it show up at IBKR it is reported accepted (and its fills booked): the
//!   engine's state table takes such late acknowledgements.
//!
//! Errors carry the endpoint and IBKR's message, never cookies or tokens (see
//! [`IbkrError`]).

mod group;
mod reports;

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, mpsc as std_mpsc};
use std::time::Duration;

use rust_decimal::Decimal;
use tickline_engine::domain::{
    ClientOrderId, ExecId, Instrument, OrderId, OrderRequest, OrderType, Side, TimeInForce, Trail,
    Ts,
};
use tickline_engine::execution::{ExecCommand, ExecEvent, ExecutionClient, Prompt};
use tickline_engine::order::PromptPolicy as EnginePromptPolicy;
use tickline_live::venue::{LiveExecution, TrackedOrder};
use tokio::runtime::Handle;
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;

use crate::client::Client;
use crate::error::IbkrError;
use crate::models::{self, NotificationAnswer, OrderAck, OrderTicket, Tif, TrailingType};
use crate::prompts::{PlaceOutcome, RejectPrompt};
use crate::ws::{Execution as WsExecution, OrderUpdate};
use group::{Batcher, Job, Member};

pub use reports::{BrokerExec, BrokerStatus};

/// The IBKR ticket of an engine request for contract `conid` in `account` (checked with
/// [`OrderTicket::validate`]). A bracket's or OCA group's linkage (`parentId`,
/// `isSingleGroup`) is set by the placement that sends the group.
pub fn order_ticket(
    request: &OrderRequest,
    conid: i64,
    account: &str,
    coid: Option<&str>,
) -> Result<OrderTicket, String> {
    let side = match request.side {
        Side::Buy => models::Side::Buy,
        Side::Sell => models::Side::Sell,
    };
    let tif = match request.tif {
        TimeInForce::Day => Tif::Day,
        TimeInForce::Gtc => Tif::Gtc,
        TimeInForce::Ioc => Tif::Ioc,
        TimeInForce::Opg => Tif::Opg,
    };
    let need = |p: Option<Decimal>, what: &str| {
        p.ok_or_else(|| {
            format!(
                "{} order without a {what} price",
                request.order_type.as_str()
            )
        })
    };
    let trail = || {
        request
            .trail
            .ok_or_else(|| format!("{} order without a trail", request.order_type.as_str()))
    };
    let (order_type, price, aux_price) = match request.order_type {
        OrderType::Market => (models::OrderType::Market, None, None),
        OrderType::Limit => (
            models::OrderType::Limit,
            Some(need(request.limit_price, "limit")?),
            None,
        ),
        // IBKR takes the stop trigger of a STP order in `price`.
        OrderType::Stop => (
            models::OrderType::Stop,
            Some(need(request.stop_price, "stop")?),
            None,
        ),
        OrderType::StopLimit => (
            models::OrderType::StopLimit,
            Some(need(request.limit_price, "limit")?),
            Some(need(request.stop_price, "stop")?),
        ),
        // The optional initial stop goes in `price`, as for STP.
        OrderType::TrailingStop => (models::OrderType::Trail, request.stop_price, None),
        // `price` is the initial limit: the initial stop moved by the limit offset.
        OrderType::TrailingStopLimit => {
            let stop = need(request.stop_price, "initial stop")?;
            let offset = request.limit_offset.unwrap_or_default();
            let limit = match request.side {
                Side::Buy => stop + offset,
                Side::Sell => stop - offset,
            };
            (models::OrderType::TrailLimit, Some(limit), Some(stop))
        }
        OrderType::MarketOnClose => (models::OrderType::MarketOnClose, None, None),
        OrderType::LimitOnClose => (
            models::OrderType::LimitOnClose,
            Some(need(request.limit_price, "limit")?),
            None,
        ),
        OrderType::MidPrice => (models::OrderType::MidPrice, request.limit_price, None),
    };
    let mut t = OrderTicket::new(conid, side, request.quantity, order_type, tif);
    t.acct_id = Some(account.to_string());
    t.price = price;
    t.aux_price = aux_price;
    t.c_oid = coid.map(str::to_string);
    if request.order_type.is_trailing() {
        let (amount, kind) = match trail()? {
            Trail::Amount(a) => (a, TrailingType::Amount),
            Trail::Percent(p) => (p, TrailingType::Percent),
        };
        t.trailing_amt = Some(amount);
        t.trailing_type = Some(kind);
    }
    t.validate()?;
    Ok(t)
}

/// Settings of [`IbkrExecution`].
#[derive(Clone, Debug, PartialEq)]
pub struct IbkrExecutionConfig {
    /// The IBKR account orders are placed in (`DU1234567`).
    pub account_id: String,
    /// How often trades and live orders are read while the websocket stream is down (or
    /// not attached). IBKR paces both endpoints at one call per 5 s; default 5 s.
    pub poll_interval: Duration,
    /// How often they are read while the stream is up, to reconcile what the stream may
    /// have missed; default 30 s.
    pub streaming_poll_interval: Duration,
    /// `days` of the trades query (`None` = today only, IBKR's default).
    pub trade_days: Option<u32>,
    /// How many times `order/status` is checked after a cancel request (default 8).
    pub cancel_checks: u32,
    /// Delay before the first status check; doubled after each check (default 250 ms).
    pub cancel_check_delay: Duration,
    /// Upper bound of the doubling delay (default 4 s).
    pub cancel_check_max_delay: Duration,
    /// Most questions answered for one order before it is abandoned (default 20, as ibind).
    pub max_prompt_replies: usize,
    /// Answers questions about modifications (the engine cannot take prompts while a
    /// modification is pending). Default: reject every question.
    pub modify_prompts: EnginePromptPolicy,
    /// Stamp fills with the time they were received instead of IBKR's trade time: for a
    /// venue whose clock is not the wall clock (the emulator's accelerated market). Default
    /// false.
    pub stamp_on_receipt: bool,
}

impl IbkrExecutionConfig {
    /// Defaults for `account_id`.
    pub fn new(account_id: impl Into<String>) -> Self {
        IbkrExecutionConfig {
            account_id: account_id.into(),
            poll_interval: Duration::from_secs(5),
            streaming_poll_interval: Duration::from_secs(30),
            trade_days: None,
            cancel_checks: 8,
            cancel_check_delay: Duration::from_millis(250),
            cancel_check_max_delay: Duration::from_secs(4),
            max_prompt_replies: 20,
            modify_prompts: EnginePromptPolicy::default(),
            stamp_on_receipt: false,
        }
    }
}

/// Why an [`IbkrExecution`] could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExecutionSetupError {
    #[error("IBKR execution: no instruments configured")]
    NoInstruments,
    #[error("IBKR execution: instrument {index} ({symbol}) has no IBKR conid")]
    MissingConid { index: usize, symbol: String },
    #[error("IBKR execution: account id is empty")]
    EmptyAccount,
    #[error("IBKR execution: {field} must be positive")]
    NotPositive { field: &'static str },
    #[error("IBKR execution: trade days must be 1..={max}, got {got}")]
    TradeDays { got: u32, max: u32 },
}

/// What the websocket tells the execution client.
#[derive(Debug, Clone)]
pub enum StreamInput {
    /// The stream is (again) up: read REST at once for what it may have missed.
    Up,
    /// The stream is down: REST is read at the faster pace meanwhile.
    Down,
    /// `sor` updates.
    Orders(Vec<OrderUpdate>),
    /// `str` executions.
    Trades(Vec<WsExecution>),
}

/// The engine's execution client for Interactive Brokers (see the module docs).
pub struct IbkrExecution {
    runtime: Handle,
    commands: mpsc::UnboundedSender<Job>,
    /// Submissions of the current batch, sent as placements when it ends.
    batch: Batcher,
    events: std_mpsc::Receiver<ExecEvent>,
    shared: Arc<Mutex<Shared>>,
    stream: mpsc::UnboundedSender<StreamInput>,
    ready: Arc<Notify>,
    flags: Arc<Flags>,
    tasks: Vec<JoinHandle<()>>,
}

impl IbkrExecution {
    /// Start the worker and the poller on `runtime`. `instruments` is indexed by
    /// `InstrumentId` (the kernel's order) and every one needs a `conid`.
    pub fn new(
        runtime: Handle,
        client: Client,
        instruments: Vec<Instrument>,
        config: IbkrExecutionConfig,
    ) -> Result<IbkrExecution, ExecutionSetupError> {
        if instruments.is_empty() {
            return Err(ExecutionSetupError::NoInstruments);
        }
        let conids = instruments
            .iter()
            .enumerate()
            .map(|(index, i)| {
                i.conid.ok_or_else(|| ExecutionSetupError::MissingConid {
                    index,
                    symbol: i.symbol.clone(),
                })
            })
            .collect::<Result<Vec<i64>, _>>()?;
        if config.account_id.trim().is_empty() {
            return Err(ExecutionSetupError::EmptyAccount);
        }
        for (field, d) in [
            ("poll_interval", config.poll_interval),
            ("streaming_poll_interval", config.streaming_poll_interval),
            ("cancel_check_delay", config.cancel_check_delay),
            ("cancel_check_max_delay", config.cancel_check_max_delay),
        ] {
            if d.is_zero() {
                return Err(ExecutionSetupError::NotPositive { field });
            }
        }
        if config.cancel_checks == 0 {
            return Err(ExecutionSetupError::NotPositive {
                field: "cancel_checks",
            });
        }
        if let Some(d) = config.trade_days
            && !(1..=crate::MAX_TRADE_DAYS).contains(&d)
        {
            return Err(ExecutionSetupError::TradeDays {
                got: d,
                max: crate::MAX_TRADE_DAYS,
            });
        }
        let (event_tx, event_rx) = std_mpsc::channel();
        let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
        let (stream_tx, stream_rx) = mpsc::unbounded_channel();
        let ready = Arc::new(Notify::new());
        let flags = Arc::new(Flags::default());
        let mut state = Shared::new(event_tx, ready.clone());
        state.receipt_times = config.stamp_on_receipt;
        let shared = Arc::new(Mutex::new(state));
        let worker = Worker {
            client,
            conids,
            config: Arc::new(config),
            shared: shared.clone(),
            flags: flags.clone(),
        };
        let poller = worker.clone();
        let streamer = worker.clone();
        let tasks = vec![
            runtime.spawn(worker.run(cmd_rx)),
            runtime.spawn(poller.poll_loop()),
            runtime.spawn(streamer.stream_loop(stream_rx)),
        ];
        Ok(IbkrExecution {
            runtime,
            commands: cmd_tx,
            batch: Batcher::default(),
            events: event_rx,
            shared,
            stream: stream_tx,
            ready,
            flags,
            tasks,
        })
    }

    /// Where the websocket's order and execution frames go (see [`StreamInput`]).
    pub fn stream(&self) -> mpsc::UnboundedSender<StreamInput> {
        self.stream.clone()
    }

    /// The runtime the worker runs on.
    pub fn runtime(&self) -> &Handle {
        &self.runtime
    }

    /// The IBKR order id of an accepted order.
    pub fn broker_order_id(&self, order_id: OrderId) -> Option<i64> {
        lock(&self.shared)
            .orders
            .get(&order_id)
            .and_then(|t| t.broker_id)
    }
}

impl Drop for IbkrExecution {
    fn drop(&mut self) {
        if let Some(job) = self.batch.flush() {
            self.dispatch(job);
        }
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl IbkrExecution {
    /// Hand `job` to the worker; if it is gone (runtime shut down), answer so nothing hangs.
    fn dispatch(&self, job: Job) {
        let Err(mpsc::error::SendError(job)) = self.commands.send(job) else {
            return;
        };
        let reason = "IBKR execution worker is not running".to_string();
        let ts = now_ns();
        let events: Vec<ExecEvent> = match job {
            Job::Place(members) => {
                let ids: Vec<OrderId> = members.iter().map(|m| m.order_id).collect();
                return lock(&self.shared).reject_all(&ids, &reason, ts);
            }
            Job::Command(cmd) => match cmd {
                // A declined order is already rejected on the engine side.
                ExecCommand::ReplyPrompt {
                    confirmed: false, ..
                } => Vec::new(),
                ExecCommand::Submit { order_id, .. }
                | ExecCommand::ReplyPrompt { order_id, .. } => {
                    vec![ExecEvent::Rejected {
                        order_id,
                        reason,
                        ts,
                    }]
                }
                ExecCommand::Modify { order_id, .. } => vec![ExecEvent::ModifyRejected {
                    order_id,
                    reason,
                    ts,
                }],
                ExecCommand::Cancel { order_id } => vec![ExecEvent::CancelRejected {
                    order_id,
                    reason,
                    ts,
                }],
                ExecCommand::SuppressQuestions { message_ids } => {
                    tracing::warn!(?message_ids, "question suppression not sent: {reason}");
                    Vec::new()
                }
            },
        };
        let s = lock(&self.shared);
        for e in events {
            s.emit(e);
        }
    }
}

impl ExecutionClient for IbkrExecution {
    /// Submissions wait for the end of the kernel's batch (the next poll or another
    /// command), so a bracket or OCA group goes to IBKR as one request.
    fn send(&mut self, cmd: ExecCommand) {
        match Member::of(&cmd) {
            Some(member) => {
                if let Some(job) = self.batch.hold(member) {
                    self.dispatch(job);
                }
            }
            None => {
                if let Some(job) = self.batch.flush() {
                    self.dispatch(job);
                }
                self.dispatch(Job::Command(cmd));
            }
        }
    }

    fn poll(&mut self, out: &mut Vec<ExecEvent>) {
        if let Some(job) = self.batch.flush() {
            self.dispatch(job);
        }
        out.extend(self.events.try_iter());
    }

    fn name(&self) -> &str {
        "ibkr"
    }
}

impl LiveExecution for IbkrExecution {
    fn track(&mut self, orders: &[TrackedOrder], booked: &[ExecId]) {
        let mut s = lock(&self.shared);
        for e in booked {
            s.executions.insert(
                e.as_str().to_string(),
                reports::Booked {
                    order_id: None,
                    commission: None,
                },
            );
        }
        for o in orders {
            let coid = o.client_order_id.as_str().to_string();
            let broker_id = o.broker_order_id.and_then(|id| i64::try_from(id).ok());
            if let Some(id) = broker_id {
                s.by_broker.insert(id, o.order_id);
            }
            s.by_coid.insert(coid.clone(), o.order_id);
            s.orders.insert(
                o.order_id,
                Tracked {
                    request: o.request,
                    coid,
                    broker_id,
                    filled: o.filled,
                    replies: 0,
                    pending_reply: None,
                    done: false,
                    unresolved: broker_id.is_none(),
                    warned: false,
                    group: Vec::new(),
                },
            );
        }
        drop(s);
        // Read the broker at once: what happened while no run watched.
        self.flags.resync.notify_one();
    }

    fn ready(&self) -> Arc<Notify> {
        self.ready.clone()
    }
}

/// What the adapter knows about one engine order.
#[derive(Debug)]
struct Tracked {
    request: OrderRequest,
    coid: String,
    broker_id: Option<i64>,
    /// Quantity reported through `Filled` events.
    filled: Decimal,
    /// Questions answered so far.
    replies: usize,
    /// The answer IBKR waits for.
    pending_reply: Option<Pending>,
    /// A terminal event was reported (or the order is filled): no more polling.
    done: bool,
    /// Submitted, but IBKR's answer was lost: watched by `cOID` until it shows up.
    unresolved: bool,
    /// IBKR's `WarnState` warning was logged.
    warned: bool,
    /// The orders placed together with this one, itself first (kept on the first only; a
    /// question about the placement is asked about it).
    group: Vec<OrderId>,
}

/// An answer IBKR waits for before an order works.
#[derive(Clone, Debug)]
enum Pending {
    /// A question, answered through `/iserver/reply/{reply_id}`.
    Question(String),
    /// A server prompt (`p12`), answered through `/iserver/notification` with one of its
    /// options; the order already exists at IBKR under `broker_id`, held.
    Notice {
        broker_id: i64,
        prompt: RejectPrompt,
    },
}

impl Pending {
    /// The id the engine's prompt event carries and its reply names.
    fn reply_id(&self) -> &str {
        match self {
            Pending::Question(id) => id,
            Pending::Notice { prompt, .. } => prompt.req_id.as_deref().unwrap_or_default(),
        }
    }
}

/// A server prompt IBKR holds the order for, if it names the order, its request id and a
/// choice of options (what the notification answer needs).
fn notice(rp: &RejectPrompt) -> Option<Pending> {
    let broker_id = rp.order_id?;
    rp.req_id.as_ref().filter(|r| !r.is_empty())?;
    rp.option(true)?;
    Some(Pending::Notice {
        broker_id,
        prompt: rp.clone(),
    })
}

/// The engine's view of a server prompt: its message id and text (the policy decides by
/// message id, as for questions).
fn notice_prompt(rp: &RejectPrompt) -> Prompt {
    Prompt {
        reply_id: rp.req_id.clone().unwrap_or_default(),
        message_ids: rp.message_id.iter().cloned().collect(),
        messages: vec![format!("{} (options: {})", rp.text, rp.options.join(" / "))],
    }
}

/// Stream state shared by the tasks.
#[derive(Default)]
struct Flags {
    /// The websocket stream is up.
    stream_up: AtomicBool,
    /// Read REST now (after a reconnect, a restart, or a status that announced fills).
    resync: Notify,
}

/// State shared by the worker, the poller and cancel checks. Events are pushed under the
/// same lock that updates the maps, so the order of events matches the order of updates.
struct Shared {
    events: std_mpsc::Sender<ExecEvent>,
    ready: Arc<Notify>,
    orders: HashMap<OrderId, Tracked>,
    by_broker: HashMap<i64, OrderId>,
    by_coid: HashMap<String, OrderId>,
    /// Executions reported (or booked by an earlier run), by IBKR's execution id.
    executions: HashMap<String, reports::Booked>,
    /// Stamp fills with their receipt time (see [`IbkrExecutionConfig::stamp_on_receipt`]).
    receipt_times: bool,
}

impl Shared {
    fn new(events: std_mpsc::Sender<ExecEvent>, ready: Arc<Notify>) -> Self {
        Shared {
            events,
            ready,
            receipt_times: false,
            orders: HashMap::new(),
            by_broker: HashMap::new(),
            by_coid: HashMap::new(),
            executions: HashMap::new(),
        }
    }

    fn emit(&self, event: ExecEvent) {
        if self.events.send(event).is_err() {
            tracing::debug!("IBKR execution event dropped: the engine side is gone");
        }
        self.ready.notify_one();
    }

    /// Orders that may still fill or be cancelled at IBKR (or may still show up there).
    fn has_live_orders(&self) -> bool {
        self.orders
            .values()
            .any(|t| !t.done && (t.broker_id.is_some() || t.unresolved))
    }

    /// Mark terminal and report `event`, unless a terminal event was reported already.
    fn finish(&mut self, order_id: OrderId, event: ExecEvent) {
        if let Some(t) = self.orders.get_mut(&order_id) {
            if t.done {
                return;
            }
            t.done = true;
        }
        self.emit(event);
    }

    /// The orders placed together with `order_id`, itself first (just itself when it was
    /// placed alone or is not known).
    fn placement(&self, order_id: OrderId) -> Vec<OrderId> {
        match self.orders.get(&order_id) {
            Some(t) if !t.group.is_empty() => t.group.clone(),
            Some(_) => vec![order_id],
            None => Vec::new(),
        }
    }

    /// Report every order of a placement rejected for `reason` (IBKR answers a placement as
    /// a whole), each once.
    fn reject_all(&mut self, ids: &[OrderId], reason: &str, ts: Ts) {
        for &order_id in ids {
            self.finish(
                order_id,
                ExecEvent::Rejected {
                    order_id,
                    reason: reason.to_string(),
                    ts,
                },
            );
        }
    }
}

fn lock(m: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// UTC nanoseconds now.
fn now_ns() -> Ts {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    d.as_nanos().min(i64::MAX as u128) as i64
}

/// The worker's and poller's handles (cheap to clone).
#[derive(Clone)]
struct Worker {
    client: Client,
    conids: Vec<i64>,
    config: Arc<IbkrExecutionConfig>,
    shared: Arc<Mutex<Shared>>,
    flags: Arc<Flags>,
}

impl Worker {
    fn emit(&self, event: ExecEvent) {
        lock(&self.shared).emit(event);
    }

    async fn run(self, mut commands: mpsc::UnboundedReceiver<Job>) {
        while let Some(job) = commands.recv().await {
            let cmd = match job {
                Job::Place(members) => {
                    self.place(&members).await;
                    continue;
                }
                Job::Command(cmd) => cmd,
            };
            match cmd {
                submit @ ExecCommand::Submit { .. } => {
                    if let Some(member) = Member::of(&submit) {
                        self.place(&[member]).await;
                    }
                }
                ExecCommand::ReplyPrompt {
                    order_id,
                    reply_id,
                    confirmed,
                } => self.reply(order_id, &reply_id, confirmed).await,
                ExecCommand::SuppressQuestions { message_ids } => self.suppress(&message_ids).await,
                ExecCommand::Cancel { order_id } => self.cancel(order_id).await,
                ExecCommand::Modify { order_id, request } => self.modify(order_id, request).await,
            }
        }
    }

    /// Map an engine request to an IBKR ticket.
    fn ticket(&self, request: &OrderRequest, coid: Option<&str>) -> Result<OrderTicket, String> {
        let conid = *self
            .conids
            .get(request.instrument.index())
            .ok_or_else(|| format!("unknown instrument id {}", request.instrument.0))?;
        order_ticket(request, conid, &self.config.account_id, coid)
    }

    /// The tickets of a placement, linked as a group: children name their parent's `cOID`
    /// (looked up among the orders already sent when it is not in the placement), OCA
    /// members carry `isSingleGroup`.
    fn tickets(&self, members: &[Member]) -> Result<Vec<OrderTicket>, String> {
        let s = lock(&self.shared);
        members
            .iter()
            .map(|m| {
                let mut t = self.ticket(&m.request, Some(m.coid.as_str()))?;
                if let Some(p) = m.request.parent {
                    let coid = members
                        .iter()
                        .find(|o| o.order_id == p)
                        .map(|o| o.coid.as_str().to_string())
                        .or_else(|| s.orders.get(&p).map(|t| t.coid.clone()))
                        .ok_or_else(|| format!("bracket parent {p} was never sent to IBKR"))?;
                    t.parent_id = Some(coid);
                } else if m.request.oca_group.is_some() && members.len() > 1 {
                    t.is_single_group = Some(true);
                }
                Ok(t)
            })
            .collect()
    }

    /// Place `members` (one order, or a bracket / OCA group) in one request.
    async fn place(&self, members: &[Member]) {
        let ids: Vec<OrderId> = members.iter().map(|m| m.order_id).collect();
        let tickets = match self.tickets(members) {
            Ok(t) => t,
            Err(reason) => return lock(&self.shared).reject_all(&ids, &reason, now_ns()),
        };
        {
            let mut s = lock(&self.shared);
            for (k, m) in members.iter().enumerate() {
                s.orders.insert(
                    m.order_id,
                    Tracked {
                        request: m.request,
                        coid: m.coid.as_str().to_string(),
                        broker_id: None,
                        filled: Decimal::ZERO,
                        replies: 0,
                        pending_reply: None,
                        done: false,
                        unresolved: false,
                        warned: false,
                        group: if k == 0 { ids.clone() } else { Vec::new() },
                    },
                );
                s.by_coid.insert(m.coid.as_str().to_string(), m.order_id);
            }
        }
        let outcome = self
            .client
            .place_orders(&self.config.account_id, &tickets)
            .await;
        self.on_outcome(&ids, outcome).await;
    }

    /// Report what a submission or confirmed reply produced.
    /// `ids` are the orders of the placement, first the one questions are asked about (a
    /// bracket's parent); IBKR answers a placement as a whole.
    async fn on_outcome(&self, ids: &[OrderId], outcome: Result<PlaceOutcome, IbkrError>) {
        let ts = now_ns();
        let Some(&order_id) = ids.first() else {
            return;
        };
        let reject_all = |reason: String| lock(&self.shared).reject_all(ids, &reason, ts);
        match outcome {
            Ok(PlaceOutcome::Placed(acks)) => self.accepted(ids, &acks),
            Ok(PlaceOutcome::Question(p)) => {
                if !p.more.is_empty() {
                    tracing::warn!(
                        reply_id = %p.reply_id,
                        extra = p.more.len(),
                        "IBKR sent questions for more than one ticket; only the first is answered"
                    );
                }
                let prompt = Prompt {
                    reply_id: p.reply_id.clone(),
                    message_ids: p.message_ids.clone(),
                    messages: p.messages.clone(),
                };
                self.ask(order_id, Pending::Question(p.reply_id.clone()), prompt, ts)
                    .await;
            }
            Ok(PlaceOutcome::RejectPrompt(rp)) => match notice(&rp) {
                Some(pending) => {
                    // The rest of the group is held with it: acknowledged from IBKR's
                    // reports by cOID once the prompt is answered.
                    {
                        let mut s = lock(&self.shared);
                        for id in &ids[1..] {
                            if let Some(t) = s.orders.get_mut(id) {
                                t.unresolved = true;
                            }
                        }
                    }
                    self.ask(order_id, pending, notice_prompt(&rp), ts).await;
                }
                None => reject_all(format!(
                    "IBKR server prompt {} that cannot be answered (no order id, request id or choice): {} (options: {})",
                    rp.message_id.as_deref().unwrap_or("?"),
                    rp.text,
                    rp.options.join(" / ")
                )),
            },
            Ok(PlaceOutcome::Error(msg)) => reject_all(msg.trim().to_string()),
            Err(e @ IbkrError::OrderStateUnknown { .. }) => {
                let mut s = lock(&self.shared);
                for &id in ids {
                    if let Some(t) = s.orders.get_mut(&id) {
                        t.unresolved = true;
                        t.pending_reply = None;
                    }
                    tracing::warn!(order_id = %id, error = %e, "IBKR's answer to an order was lost; reported rejected, watched by its cOID");
                    s.emit(ExecEvent::Rejected {
                        order_id: id,
                        reason: format!("{e} (watched: reported accepted if it shows up at IBKR)"),
                        ts,
                    });
                }
            }
            Err(e) => reject_all(e.to_string()),
        }
    }

    /// Hand IBKR's question or server prompt to the engine (its order manager answers with
    /// the prompt policy), unless the order has had too many: then decline it and report why.
    async fn ask(&self, order_id: OrderId, pending: Pending, prompt: Prompt, ts: Ts) {
        let over = {
            let mut s = lock(&self.shared);
            let over = match s.orders.get_mut(&order_id) {
                Some(t) if t.replies >= self.config.max_prompt_replies => true,
                Some(t) => {
                    t.pending_reply = Some(pending.clone());
                    false
                }
                None => false,
            };
            if !over {
                s.emit(ExecEvent::Prompt {
                    order_id,
                    prompt: prompt.clone(),
                    ts,
                });
            }
            over
        };
        if over {
            // Abandon the order at IBKR, then report why.
            self.decline(order_id, &pending).await;
            lock(&self.shared).finish(
                order_id,
                ExecEvent::Rejected {
                    order_id,
                    reason: format!(
                        "more than {} questions for one order (last: {})",
                        self.config.max_prompt_replies,
                        prompt.message_ids.join(",")
                    ),
                    ts,
                },
            );
        }
    }

    /// Say no to what IBKR waits for (the order is abandoned there). The engine has already
    /// settled the order, so only an acknowledgement despite the no needs acting on.
    async fn decline(&self, order_id: OrderId, pending: &Pending) {
        let outcome = match pending {
            Pending::Question(reply_id) => self.client.reply(reply_id, false).await,
            Pending::Notice { broker_id, prompt } => {
                let answer = self.answer_notice(*broker_id, prompt, false).await;
                match answer {
                    Ok(text) => tracing::info!(%order_id, answer = %text, "server prompt declined"),
                    Err(e) => {
                        tracing::warn!(%order_id, error = %e, "declining the server prompt failed; IBKR rejects the held order when its prompt times out")
                    }
                }
                return;
            }
        };
        match outcome {
            Ok(PlaceOutcome::Placed(acks)) => {
                tracing::warn!(%order_id, "IBKR accepted an order whose question was declined; cancelling it");
                for ack in acks {
                    if let Err(e) = self
                        .client
                        .cancel_order(&self.config.account_id, ack.order_id)
                        .await
                    {
                        tracing::error!(%order_id, broker_order_id = ack.order_id, error = %e, "cancelling the declined order failed");
                    }
                }
            }
            Ok(other) => tracing::info!(%order_id, answer = ?other, "question declined"),
            Err(e) => tracing::info!(%order_id, error = %e, "declining the question failed"),
        }
    }

    /// `POST /iserver/notification` with the option for yes or no.
    async fn answer_notice(
        &self,
        broker_id: i64,
        prompt: &RejectPrompt,
        confirmed: bool,
    ) -> Result<String, IbkrError> {
        let text = prompt.option(confirmed).unwrap_or_default().to_string();
        self.client
            .answer_notification(&NotificationAnswer {
                order_id: broker_id,
                req_id: prompt.req_id.clone().unwrap_or_default(),
                text,
            })
            .await
    }

    /// IBKR acknowledged a placement: one ack per ticket, in order. An order left without
    /// one is watched by its `cOID` (reported rejected now, accepted if it shows up).
    fn accepted(&self, ids: &[OrderId], acks: &[OrderAck]) {
        let mut s = lock(&self.shared);
        let ts = now_ns();
        for (k, &order_id) in ids.iter().enumerate() {
            let Some(ack) = acks.get(k) else {
                if let Some(t) = s.orders.get_mut(&order_id) {
                    t.unresolved = true;
                    t.pending_reply = None;
                }
                tracing::warn!(%order_id, acks = acks.len(), orders = ids.len(), "IBKR acknowledged fewer orders than placed; watched by its cOID");
                s.emit(ExecEvent::Rejected {
                    order_id,
                    reason: format!(
                        "IBKR acknowledged {} of the {} orders placed together (watched: reported accepted if it shows up at IBKR)",
                        acks.len(),
                        ids.len()
                    ),
                    ts,
                });
                continue;
            };
            s.by_broker.insert(ack.order_id, order_id);
            if let Some(t) = s.orders.get_mut(&order_id) {
                t.broker_id = Some(ack.order_id);
                t.pending_reply = None;
            }
            s.emit(ExecEvent::Accepted {
                order_id,
                broker_order_id: u64::try_from(ack.order_id).ok(),
                ts,
            });
        }
    }

    /// The orders placed with `order_id` (itself first), as placed.
    fn members(&self, order_id: OrderId) -> Vec<Member> {
        let s = lock(&self.shared);
        s.placement(order_id)
            .iter()
            .filter_map(|id| {
                let t = s.orders.get(id)?;
                Some(Member {
                    order_id: *id,
                    coid: ClientOrderId::new(&t.coid)?,
                    request: t.request,
                })
            })
            .collect()
    }

    async fn reply(&self, order_id: OrderId, reply_id: &str, confirmed: bool) {
        let (known, pending) = {
            let mut s = lock(&self.shared);
            match s.orders.get_mut(&order_id) {
                Some(t) => {
                    t.replies += 1;
                    let pending = t.pending_reply.take();
                    if !confirmed {
                        // The order manager has already marked the order rejected.
                        t.done = true;
                    }
                    (true, pending)
                }
                None => (false, None),
            }
        };
        if !known {
            return self.emit(ExecEvent::Rejected {
                order_id,
                reason: format!("reply to question {reply_id} for an order IBKR was never sent"),
                ts: now_ns(),
            });
        }
        let pending = match pending {
            Some(p) if p.reply_id() == reply_id => p,
            // Answered by id: a question the worker no longer holds (IBKR decides).
            _ => Pending::Question(reply_id.to_string()),
        };
        if !confirmed {
            self.decline(order_id, &pending).await;
            // The rest of its placement goes with it.
            let mut s = lock(&self.shared);
            let ids = s.placement(order_id);
            let reason = "Order not confirmed (its placement's question was declined)";
            s.reject_all(ids.get(1..).unwrap_or_default(), reason, now_ns());
            return;
        }
        if let Pending::Notice { broker_id, prompt } = &pending {
            return self.confirm_notice(order_id, *broker_id, prompt).await;
        }
        // The tickets as placed (same cOIDs), so a placement the reply lost can be placed
        // again.
        let members = self.members(order_id);
        let ids: Vec<OrderId> = members.iter().map(|m| m.order_id).collect();
        let tickets = match self.tickets(&members) {
            Ok(t) => t,
            Err(reason) => return lock(&self.shared).reject_all(&ids, &reason, now_ns()),
        };
        if tickets.is_empty() {
            return;
        }
        let outcome = self
            .client
            .confirm_placement_reply(reply_id, &self.config.account_id, &tickets)
            .await;
        self.on_outcome(&ids, outcome).await;
    }

    /// Say yes to a server prompt. The order exists at IBKR under `broker_id` either way, so
    /// it is acknowledged under that id even when the answer's fate is unclear: IBKR's own
    /// status (held orders it rejects become `Inactive`) then settles it through the order
    /// polls, and nothing is booked that IBKR did not execute.
    async fn confirm_notice(&self, order_id: OrderId, broker_id: i64, prompt: &RejectPrompt) {
        match self.answer_notice(broker_id, prompt, true).await {
            Ok(text) => {
                tracing::info!(%order_id, broker_order_id = broker_id, answer = %text, "server prompt confirmed")
            }
            Err(e) => {
                tracing::warn!(%order_id, broker_order_id = broker_id, error = %e, "answering the server prompt failed; IBKR's order status settles the order")
            }
        }
        self.accepted(
            &[order_id],
            &[OrderAck {
                order_id: broker_id,
                order_status: String::new(),
                encrypt_message: None,
            }],
        );
    }

    async fn suppress(&self, message_ids: &[String]) {
        // IBKR replaces the list on every call: send the complete one.
        let mut all = self.client.suppressed_ids();
        for id in message_ids {
            if !all.contains(id) {
                all.push(id.clone());
            }
        }
        match self.client.suppress(&all).await {
            Ok(_) => tracing::info!(message_ids = ?all, "IBKR questions suppressed"),
            Err(e) => tracing::warn!(message_ids = ?all, error = %e, "question suppression failed"),
        }
    }

    async fn cancel(&self, order_id: OrderId) {
        let ts = now_ns();
        let (broker_id, pending_reply) = {
            let s = lock(&self.shared);
            match s.orders.get(&order_id) {
                Some(t) => (t.broker_id, t.pending_reply.clone()),
                None => {
                    drop(s);
                    return self.emit(ExecEvent::CancelRejected {
                        order_id,
                        reason: "unknown order: never sent to IBKR".into(),
                        ts,
                    });
                }
            }
        };
        let Some(broker_id) = broker_id else {
            if let Some(pending) = pending_reply {
                // Cancelled while IBKR's question is open: abandon the order.
                self.decline(order_id, &pending).await;
                return lock(&self.shared).finish(
                    order_id,
                    ExecEvent::Cancelled {
                        order_id,
                        reason: Some("cancelled before IBKR's question was answered".into()),
                        ts,
                    },
                );
            }
            return self.emit(ExecEvent::CancelRejected {
                order_id,
                reason: "IBKR has not acknowledged the order".into(),
                ts,
            });
        };
        match self
            .client
            .cancel_order(&self.config.account_id, broker_id)
            .await
        {
            Ok(resp) => {
                let msg = resp.msg.unwrap_or_default();
                tokio::spawn(self.clone().confirm_cancel(order_id, broker_id, msg));
            }
            Err(e) => {
                let reason = match e {
                    IbkrError::Api { message, .. } => message,
                    other => other.to_string(),
                };
                self.emit(ExecEvent::CancelRejected {
                    order_id,
                    reason,
                    ts: now_ns(),
                });
            }
        }
    }

    /// Check `order/status` with a doubling delay until the cancel shows.
    async fn confirm_cancel(self, order_id: OrderId, broker_id: i64, request_msg: String) {
        let mut delay = self.config.cancel_check_delay;
        let mut last = String::from("unknown");
        for _ in 0..self.config.cancel_checks {
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(self.config.cancel_check_max_delay);
            if lock(&self.shared)
                .orders
                .get(&order_id)
                .is_some_and(|t| t.done)
            {
                return; // reported by the poller meanwhile
            }
            let status = match self.client.order_status(broker_id).await {
                Ok(s) => s,
                Err(e) => {
                    last = format!("status check failed: {e}");
                    continue;
                }
            };
            let state = status.order_status.clone().unwrap_or_default();
            last.clone_from(&state);
            match state.as_str() {
                "Cancelled" | "Inactive" => {
                    let mut s = lock(&self.shared);
                    let filled = s.orders.get(&order_id).map(|t| t.filled);
                    // Let the trades poll deliver earlier fills first.
                    if status.cum_fill.zip(filled).is_some_and(|(c, f)| c > f) {
                        continue;
                    }
                    let reason = status
                        .order_status_description
                        .filter(|d| !d.is_empty())
                        .unwrap_or(state);
                    s.finish(
                        order_id,
                        ExecEvent::Cancelled {
                            order_id,
                            reason: Some(reason),
                            ts: now_ns(),
                        },
                    );
                    return;
                }
                // The fill arrives through the trades poll.
                "Filled" => return,
                _ => {}
            }
        }
        self.emit(ExecEvent::CancelRejected {
            order_id,
            reason: format!(
                "IBKR did not confirm the cancellation of order {broker_id} ({request_msg}) \
                 after {} status checks; last status: {last}",
                self.config.cancel_checks
            ),
            ts: now_ns(),
        });
    }

    async fn modify(&self, order_id: OrderId, request: OrderRequest) {
        let rejected = |reason: String| ExecEvent::ModifyRejected {
            order_id,
            reason,
            ts: now_ns(),
        };
        let broker_id = lock(&self.shared)
            .orders
            .get(&order_id)
            .and_then(|t| t.broker_id);
        let Some(broker_id) = broker_id else {
            return self.emit(rejected("IBKR has not acknowledged the order".into()));
        };
        let ticket = match self.ticket(&request, None) {
            Ok(t) => t,
            Err(reason) => return self.emit(rejected(reason)),
        };
        let mut outcome = self
            .client
            .modify_order(&self.config.account_id, broker_id, &ticket)
            .await;
        let mut replies = 0usize;
        loop {
            match outcome {
                Ok(PlaceOutcome::Question(p)) => {
                    let prompt = Prompt {
                        reply_id: p.reply_id.clone(),
                        message_ids: p.message_ids.clone(),
                        messages: p.messages.clone(),
                    };
                    let verdict = self.config.modify_prompts.decide(&prompt);
                    tracing::info!(%order_id, reply_id = %p.reply_id, decisions = ?verdict.decisions, confirmed = verdict.confirmed, "answering a modification question");
                    replies += 1;
                    let confirmed = verdict.confirmed && replies <= self.config.max_prompt_replies;
                    let answer = self.client.reply(&p.reply_id, confirmed).await;
                    if !confirmed {
                        if let Err(e) = answer {
                            tracing::warn!(%order_id, error = %e, "declining a modification question failed");
                        }
                        return self.emit(rejected(format!(
                            "modification question {} declined: {}",
                            p.message_ids.join(","),
                            p.messages.join(" | ")
                        )));
                    }
                    if !verdict.suppress.is_empty() {
                        self.suppress(&verdict.suppress).await;
                    }
                    outcome = answer;
                }
                Ok(PlaceOutcome::Placed(_)) => {
                    if let Some(t) = lock(&self.shared).orders.get_mut(&order_id) {
                        t.request = request;
                    }
                    return self.emit(ExecEvent::Modified {
                        order_id,
                        request: Box::new(request),
                        ts: now_ns(),
                    });
                }
                Ok(PlaceOutcome::Error(msg)) => return self.emit(rejected(msg.trim().into())),
                Ok(PlaceOutcome::RejectPrompt(rp)) => {
                    // As for questions: the modification policy decides by message id.
                    let verdict = self.config.modify_prompts.decide(&notice_prompt(&rp));
                    let Some(Pending::Notice { broker_id, .. }) = notice(&rp) else {
                        return self.emit(rejected(format!(
                            "IBKR server prompt that cannot be answered: {}",
                            rp.text
                        )));
                    };
                    tracing::info!(%order_id, decisions = ?verdict.decisions, confirmed = verdict.confirmed, "answering a modification's server prompt");
                    let answer = self.answer_notice(broker_id, &rp, verdict.confirmed).await;
                    return match (verdict.confirmed, answer) {
                        (true, Ok(_)) => {
                            if let Some(t) = lock(&self.shared).orders.get_mut(&order_id) {
                                t.request = request;
                            }
                            self.emit(ExecEvent::Modified {
                                order_id,
                                request: Box::new(request),
                                ts: now_ns(),
                            })
                        }
                        (true, Err(e)) => {
                            self.emit(rejected(format!("answering the server prompt failed: {e}")))
                        }
                        (false, _) => self.emit(rejected(format!(
                            "modification server prompt {} declined: {}",
                            rp.message_id.as_deref().unwrap_or("?"),
                            rp.text
                        ))),
                    };
                }
                Err(e) => return self.emit(rejected(e.to_string())),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::dec;
    use tickline_engine::domain::InstrumentId;

    fn worker() -> Worker {
        worker_with_events().0
    }

    /// A worker (on an unreachable gateway) and the events it reports.
    pub(super) fn worker_with_events() -> (Worker, std_mpsc::Receiver<ExecEvent>) {
        let url = crate::ClientConfig::parse_base_url("http://127.0.0.1:9/v1/api").expect("url");
        let client = Client::gateway(crate::ClientConfig::gateway(url)).expect("client");
        let (tx, rx) = std_mpsc::channel();
        let worker = Worker {
            client,
            conids: vec![265598, 8314],
            config: Arc::new(IbkrExecutionConfig::new("DU1")),
            shared: Arc::new(Mutex::new(Shared::new(tx, Arc::new(Notify::new())))),
            flags: Arc::new(Flags::default()),
        };
        (worker, rx)
    }

    #[test]
    fn requests_map_to_tickets() {
        let w = worker();
        let i = InstrumentId(1);
        let t = w
            .ticket(&OrderRequest::market(i, Side::Sell, dec!(3)), Some("c1"))
            .expect("market");
        assert_eq!(t.conid, Some(8314));
        assert_eq!(t.side, models::Side::Sell);
        assert_eq!(t.order_type, models::OrderType::Market);
        assert_eq!((t.price, t.aux_price), (None, None));
        assert_eq!(t.acct_id.as_deref(), Some("DU1"));
        assert_eq!(t.c_oid.as_deref(), Some("c1"));
        assert_eq!(t.tif, Tif::Day);

        let stop = OrderRequest::stop(i, Side::Sell, dec!(3), dec!(95)).with_tif(TimeInForce::Gtc);
        let t = w.ticket(&stop, None).expect("stop");
        assert_eq!(t.order_type, models::OrderType::Stop);
        assert_eq!(t.price, Some(dec!(95)), "the trigger goes in price");
        assert_eq!(t.tif, Tif::Gtc);
        assert_eq!(t.c_oid, None);

        let sl = OrderRequest::stop_limit(i, Side::Buy, dec!(1), dec!(101), dec!(102))
            .with_tif(TimeInForce::Ioc);
        let t = w.ticket(&sl, None).expect("stop limit");
        assert_eq!(t.order_type, models::OrderType::StopLimit);
        assert_eq!((t.price, t.aux_price), (Some(dec!(102)), Some(dec!(101))));
        assert_eq!(t.tif, Tif::Ioc);

        let mut no_price = OrderRequest::limit(i, Side::Buy, dec!(1), dec!(10));
        no_price.limit_price = None;
        assert_eq!(
            w.ticket(&no_price, None).err().as_deref(),
            Some("LMT order without a limit price")
        );
        let unknown = OrderRequest::market(InstrumentId(7), Side::Buy, dec!(1));
        assert_eq!(
            w.ticket(&unknown, None).err().as_deref(),
            Some("unknown instrument id 7")
        );
        let zero = OrderRequest::market(i, Side::Buy, dec!(0));
        assert!(w.ticket(&zero, None).is_err());
    }
}
