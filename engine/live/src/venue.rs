//! What a venue supplies to the live runtime: a market-data feed, an execution client, broker
//! reports and session notices. The runtime is written once against these; a venue crate
//! (`tickline-ibkr`) implements them. Nothing here knows any venue.
//!
//! * [`MarketFeed`] streams ticks (and its own link state) into a channel and answers
//!   history requests (warm-up, and the `history` bar source).
//! * [`LiveExecution`] is the engine's [`ExecutionClient`] plus what a restart needs: it
//!   tracks orders placed by an earlier run of the same journal, and it wakes the runtime
//!   when events are ready.
//! * [`BrokerReports`] answers what the broker holds: positions, cash, orders, executions.
//!   The broker is the truth; the runtime reconciles its books with these reports at start
//!   and after every reconnect.
//! * [`SessionNotice`]s say when the session is lost, taken, in maintenance, rate limited or
//!   back, so the runtime can pause entries and reconcile.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use rust_decimal::Decimal;
use tickline_engine::connectivity::LinkState;
use tickline_engine::domain::{
    Bar, ClientOrderId, ExecId, InstrumentId, OrderId, OrderRequest, OrderType, Side, Tick,
    TimeInForce, Ts,
};
use tickline_engine::execution::ExecutionClient;
use tokio::sync::{Notify, mpsc};

/// A boxed future, so the venue traits stay object safe.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A venue request that failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VenueError {
    /// Worth retrying (connection refused, timeout, 5xx, rate limited).
    #[error("{0}")]
    Transient(String),
    /// Not worth retrying (bad request, unknown contract, refused credentials).
    #[error("{0}")]
    Permanent(String),
}

impl VenueError {
    pub fn is_transient(&self) -> bool {
        matches!(self, VenueError::Transient(_))
    }
}

/// The account the venue trades in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountInfo {
    /// Broker account id (`DU1234567`).
    pub id: String,
    /// A paper (simulated) account. Live accounts need explicit permission to trade.
    pub is_paper: bool,
    /// Base currency.
    pub currency: String,
}

/// One position the broker holds.
#[derive(Debug, Clone, PartialEq)]
pub struct BrokerPosition {
    /// The run's instrument, when the position is in one of them.
    pub instrument: Option<InstrumentId>,
    /// How the venue names it (symbol / contract id), for messages.
    pub name: String,
    /// Signed quantity.
    pub quantity: Decimal,
    /// Average cost per unit (price terms, without the multiplier).
    pub avg_price: Decimal,
}

/// An order's status as the broker reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BrokerOrderStatus {
    /// Not yet working at the exchange (IBKR `PendingSubmit`, `PreSubmitted`).
    Pending,
    /// Working (IBKR `Submitted`).
    Working,
    /// A cancel is on its way (IBKR `PendingCancel`).
    PendingCancel,
    Filled,
    Cancelled,
    /// Rejected or deactivated by the broker (IBKR `Inactive`).
    Inactive,
    /// A status the venue adapter does not know, with its text.
    Other(String),
}

impl BrokerOrderStatus {
    /// Can still fill.
    pub fn is_live(&self) -> bool {
        matches!(
            self,
            BrokerOrderStatus::Pending
                | BrokerOrderStatus::Working
                | BrokerOrderStatus::PendingCancel
        )
    }
}

/// One order the broker lists (working, or done recently).
#[derive(Debug, Clone, PartialEq)]
pub struct BrokerOrder {
    /// The broker's order id.
    pub broker_order_id: u64,
    /// The client order id it was placed with, if any (IBKR `order_ref` / `cOID`).
    pub client_order_id: Option<String>,
    pub instrument: Option<InstrumentId>,
    pub name: String,
    pub side: Side,
    /// Total quantity.
    pub quantity: Decimal,
    pub filled: Decimal,
    pub order_type: Option<OrderType>,
    pub limit_price: Option<Decimal>,
    pub stop_price: Option<Decimal>,
    pub tif: Option<TimeInForce>,
    pub status: BrokerOrderStatus,
}

/// One execution the broker reports.
#[derive(Debug, Clone, PartialEq)]
pub struct BrokerExecution {
    pub exec_id: ExecId,
    pub broker_order_id: Option<u64>,
    pub client_order_id: Option<String>,
    pub instrument: Option<InstrumentId>,
    pub name: String,
    pub side: Side,
    pub quantity: Decimal,
    pub price: Decimal,
    /// `None` when the broker has not reported it yet.
    pub commission: Option<Decimal>,
    pub ts: Ts,
}

/// Everything the broker holds, read at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct BrokerSnapshot {
    pub account: AccountInfo,
    /// Cash in the base currency (the ledger's settled plus unsettled cash).
    pub cash: Decimal,
    pub positions: Vec<BrokerPosition>,
    /// Orders the broker lists: working ones and those done recently.
    pub orders: Vec<BrokerOrder>,
    /// Recent executions (at least those of the current trading day, more where the venue
    /// allows; the reconciliation books the ones the journal lacks).
    pub executions: Vec<BrokerExecution>,
    /// When the snapshot was taken (UTC ns).
    pub taken_at: Ts,
}

/// The broker's side of reconciliation.
pub trait BrokerReports: Send + Sync {
    /// Read positions, cash, orders and executions.
    fn snapshot(&self) -> BoxFuture<'_, Result<BrokerSnapshot, VenueError>>;
}

/// What a market-data feed delivers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FeedEvent {
    /// A quote or trade; `day_volume` is the venue's cumulative volume of the day when it
    /// reports one (bar volume comes from its differences).
    Tick { tick: Tick, day_volume: Option<f64> },
    /// The feed's link changed: `Up` streaming, `Degraded` polling snapshots while the
    /// stream is down, `Down` nothing arrives.
    Link(LinkState),
}

/// A venue's market data for the run's instruments (kernel order, ids assigned).
pub trait MarketFeed: Send {
    /// Start delivering events into `tx` (on the venue's own tasks); returns once started.
    /// Ticks carry the instrument's id and the time they were received (UTC ns).
    fn start(&mut self, tx: mpsc::Sender<FeedEvent>) -> BoxFuture<'_, Result<(), VenueError>>;
    /// The last `n` completed bars of length `bar` for `instrument`, oldest first, each
    /// with `ts` its open time and `ts_end` its close (warm-up, and the `history` bar
    /// source). Fewer when the venue has fewer. The future owns what it needs (it runs on
    /// a task of its own while the loop goes on).
    fn history(
        &self,
        instrument: InstrumentId,
        bar: Duration,
        n: usize,
    ) -> BoxFuture<'static, Result<Vec<Bar>, VenueError>>;
}

/// An order of this journal the venue should keep reporting on (a restart, or an order
/// adopted at start).
#[derive(Debug, Clone, PartialEq)]
pub struct TrackedOrder {
    pub order_id: OrderId,
    pub client_order_id: ClientOrderId,
    pub broker_order_id: Option<u64>,
    pub request: OrderRequest,
    /// Quantity already booked.
    pub filled: Decimal,
}

/// The engine's execution client for a live venue.
pub trait LiveExecution: ExecutionClient {
    /// Report on these orders as if this client had placed them (their fills, cancels,
    /// status changes), and treat these executions as already booked.
    fn track(&mut self, orders: &[TrackedOrder], booked: &[ExecId]);
    /// Notified whenever events are ready for [`ExecutionClient::poll`].
    fn ready(&self) -> Arc<Notify>;
}

/// What the venue says about its session.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionNotice {
    /// The session works (again). After a loss, the runtime reconciles before resuming.
    Connected,
    /// The session is gone (logged out, expired, not connected); the venue is recovering.
    Lost { reason: String },
    /// Another login holds the session; no takeover unless configured.
    Competing,
    /// The broker's planned maintenance window, until about `until` (UTC ns).
    Maintenance { until: Option<Ts> },
    /// Requests to `endpoint` are held back until `until` (429s, the penalty box).
    RateLimited { endpoint: String, until: Ts },
    /// The rate limiter lets requests through again.
    RateLimitOver,
    /// The order/fill stream reconnected (e.g. the websocket): state may have been missed.
    StreamReconnected,
    /// A broker message for the operator (IBKR `ntf` / `blt`).
    Notice { text: String },
}

/// A connected venue, ready for a live run.
pub struct Venue {
    /// Short name for logs and the report (`ibkr`, `ibkr-emulator`).
    pub name: String,
    pub account: AccountInfo,
    pub execution: Box<dyn LiveExecution>,
    pub feed: Box<dyn MarketFeed>,
    pub reports: Arc<dyn BrokerReports>,
    pub session: mpsc::Receiver<SessionNotice>,
}
