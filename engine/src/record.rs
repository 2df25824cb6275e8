//! The kernel's record stream: what a live runtime journals.
//!
//! A [`Recorder`] given to the kernel ([`crate::kernel::Kernel::set_recorder`]) receives one
//! [`Record`] for everything the kernel decides or learns — each strategy intent, each risk
//! decision, each command to the venue, each venue event, each order as it changes, each fill
//! as booked, each audit line and equity sample — in the order it happened.
//!
//! Commands are *held* while a recorder is set: the kernel sends them to the execution client
//! only after [`Recorder::commit`] made everything recorded so far durable, so a command the
//! journal does not hold never reaches the broker. If the commit fails, the held commands are
//! not sent: each is answered with its [`ExecCommand::failure_event`], and the kill switch is
//! halted.
//!
//! Backtests run without a recorder; then commands go to the venue at once and the kernel
//! builds no records at all.

use rust_decimal::Decimal;

use crate::audit::AuditRecord;
use crate::domain::{OrderId, OrderModify, OrderRequest, Ts};
use crate::execution::{ExecCommand, ExecEvent};
use crate::kernel::FillRecord;
use crate::order::Order;
use crate::risk::Refusal;

/// One thing the kernel decided or learnt. Borrowed: a recorder copies what it keeps.
#[derive(Clone, Copy, Debug)]
pub enum Record<'a> {
    /// The strategy asked to submit `request` (before rounding and risk checks).
    SubmitIntent {
        ts: Ts,
        order_id: OrderId,
        request: &'a OrderRequest,
    },
    /// The strategy asked to modify an order.
    ModifyIntent {
        ts: Ts,
        order_id: OrderId,
        change: &'a OrderModify,
    },
    /// The strategy (or the kill switch, or shutdown) asked to cancel an order.
    CancelIntent { ts: Ts, order_id: OrderId },
    /// The risk layer's decision on a submission or modification.
    RiskDecision {
        ts: Ts,
        order_id: OrderId,
        refusal: Option<&'a Refusal>,
    },
    /// A command for the venue; it is sent only after the next successful commit.
    Command { ts: Ts, command: &'a ExecCommand },
    /// An event from the venue, as received (before the order manager applied it).
    Event(&'a ExecEvent),
    /// An order as it is now, after it was created or changed.
    Order(&'a Order),
    /// A fill as booked (after the order manager applied it), or again with a corrected
    /// commission (same execution id).
    Fill(&'a FillRecord),
    /// An audit line (risk refusals, prompt decisions, kill-switch changes, rejections,
    /// illegal events, command errors).
    Audit(&'a AuditRecord),
    /// Equity sampled at a bar close.
    Equity { ts: Ts, equity: Decimal },
}

/// Why a recorder could not make its records durable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("journal: {0}")]
pub struct RecordError(pub String);

/// Receives the kernel's records (a live runtime's journal).
pub trait Recorder: Send {
    /// Take one record (buffer it; make it durable in [`Recorder::commit`]).
    fn record(&mut self, record: Record<'_>);
    /// Make everything recorded so far durable. The kernel sends held commands only after
    /// this returned `Ok`.
    fn commit(&mut self) -> Result<(), RecordError>;
}
