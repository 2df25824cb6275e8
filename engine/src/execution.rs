//! The execution boundary: commands go down to an execution client, events come back up.
//!
//! [`ExecutionClient::send`] returns at once; results arrive later as [`ExecEvent`]s that the
//! kernel collects with [`ExecutionClient::poll`]. The simulated broker (backtest) and the
//! IBKR adapter (live) implement the same trait, which is what makes them swappable.

use rust_decimal::Decimal;

use crate::domain::{Bar, ClientOrderId, ExecId, Fill, OrderId, OrderRequest, Tick, Ts};

/// A broker question that must be answered before an order exists (IBKR order *prompts*:
/// `[{"id": "...", "message": [...], "messageIds": ["o163"]}]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prompt {
    /// The id to answer through `/iserver/reply/{id}`.
    pub reply_id: String,
    /// Message ids classifying each question (`o163`, `o354`, `o383`, …).
    pub message_ids: Vec<String>,
    /// Human-readable question texts, index-aligned with `message_ids`.
    pub messages: Vec<String>,
}

/// What the kernel asks an execution client to do.
#[derive(Clone, Debug, PartialEq)]
pub enum ExecCommand {
    Submit {
        order_id: OrderId,
        client_order_id: ClientOrderId,
        request: OrderRequest,
    },
    /// Replace the working order with `request` (same instrument and side).
    Modify {
        order_id: OrderId,
        request: OrderRequest,
    },
    Cancel {
        order_id: OrderId,
    },
    /// Answer a prompt; `confirmed: false` abandons the order.
    ReplyPrompt {
        order_id: OrderId,
        reply_id: String,
        confirmed: bool,
    },
    /// Pre-answer these message ids for the rest of the session (IBKR
    /// `/iserver/questions/suppress`).
    SuppressQuestions {
        message_ids: Vec<String>,
    },
}

impl ExecCommand {
    /// The order the command is about (none for question suppression).
    pub fn order_id(&self) -> Option<OrderId> {
        match self {
            ExecCommand::Submit { order_id, .. }
            | ExecCommand::Modify { order_id, .. }
            | ExecCommand::Cancel { order_id }
            | ExecCommand::ReplyPrompt { order_id, .. } => Some(*order_id),
            ExecCommand::SuppressQuestions { .. } => None,
        }
    }

    /// The event that reports this command as failed before it reached the venue (the
    /// journal could not record it, the venue's worker is gone): a submission or a confirmed
    /// prompt reply is rejected, a modification or cancel is refused. `None` where nothing
    /// is owed: a declined prompt (the order manager already rejected the order) and
    /// question suppression.
    pub fn failure_event(&self, reason: &str, ts: Ts) -> Option<ExecEvent> {
        let reason = reason.to_string();
        match self {
            ExecCommand::ReplyPrompt {
                confirmed: false, ..
            }
            | ExecCommand::SuppressQuestions { .. } => None,
            ExecCommand::Submit { order_id, .. } | ExecCommand::ReplyPrompt { order_id, .. } => {
                Some(ExecEvent::Rejected {
                    order_id: *order_id,
                    reason,
                    ts,
                })
            }
            ExecCommand::Modify { order_id, .. } => Some(ExecEvent::ModifyRejected {
                order_id: *order_id,
                reason,
                ts,
            }),
            ExecCommand::Cancel { order_id } => Some(ExecEvent::CancelRejected {
                order_id: *order_id,
                reason,
                ts,
            }),
        }
    }
}

/// What an execution client reports back.
#[derive(Clone, Debug, PartialEq)]
pub enum ExecEvent {
    Accepted {
        order_id: OrderId,
        broker_order_id: Option<u64>,
        ts: Ts,
    },
    Prompt {
        order_id: OrderId,
        prompt: Prompt,
        ts: Ts,
    },
    Rejected {
        order_id: OrderId,
        reason: String,
        ts: Ts,
    },
    Filled(Fill),
    Cancelled {
        order_id: OrderId,
        reason: Option<String>,
        ts: Ts,
    },
    CancelRejected {
        order_id: OrderId,
        reason: String,
        ts: Ts,
    },
    Modified {
        order_id: OrderId,
        /// Boxed: modifications are rare, and every other event stays small to move.
        request: Box<OrderRequest>,
        ts: Ts,
    },
    ModifyRejected {
        order_id: OrderId,
        reason: String,
        ts: Ts,
    },
    Expired {
        order_id: OrderId,
        ts: Ts,
    },
    /// The commission of an execution reported earlier, when the venue sends it later than
    /// the execution (IBKR's `str` topic may): it replaces the fill's commission.
    Commission {
        order_id: OrderId,
        exec_id: ExecId,
        commission: Decimal,
        ts: Ts,
    },
}

impl ExecEvent {
    pub fn order_id(&self) -> OrderId {
        match self {
            ExecEvent::Accepted { order_id, .. }
            | ExecEvent::Prompt { order_id, .. }
            | ExecEvent::Rejected { order_id, .. }
            | ExecEvent::Cancelled { order_id, .. }
            | ExecEvent::CancelRejected { order_id, .. }
            | ExecEvent::Modified { order_id, .. }
            | ExecEvent::ModifyRejected { order_id, .. }
            | ExecEvent::Expired { order_id, .. }
            | ExecEvent::Commission { order_id, .. } => *order_id,
            ExecEvent::Filled(f) => f.order_id,
        }
    }

    pub fn ts(&self) -> Ts {
        match self {
            ExecEvent::Accepted { ts, .. }
            | ExecEvent::Prompt { ts, .. }
            | ExecEvent::Rejected { ts, .. }
            | ExecEvent::Cancelled { ts, .. }
            | ExecEvent::CancelRejected { ts, .. }
            | ExecEvent::Modified { ts, .. }
            | ExecEvent::ModifyRejected { ts, .. }
            | ExecEvent::Expired { ts, .. }
            | ExecEvent::Commission { ts, .. } => *ts,
            ExecEvent::Filled(f) => f.ts,
        }
    }
}

/// An execution venue: the simulated broker in backtests, the IBKR client live.
pub trait ExecutionClient: Send {
    /// Hand over a command. Must not block; results come back through [`Self::poll`].
    fn send(&mut self, cmd: ExecCommand);

    /// Move every event that is ready into `out` (in the order they happened).
    fn poll(&mut self, out: &mut Vec<ExecEvent>);

    /// A new bar is about to be shown to the strategy. Simulated venues match working orders
    /// against it here (before the strategy sees the bar, so there is no look-ahead) and
    /// move every event that is then ready into `out`, as [`Self::poll`] would. The default
    /// just polls.
    fn on_bar(&mut self, _bar: &Bar, out: &mut Vec<ExecEvent>) {
        self.poll(out);
    }

    /// A new tick.
    fn on_tick(&mut self, _tick: &Tick) {}

    /// Short name for logs and reports.
    fn name(&self) -> &str;
}
