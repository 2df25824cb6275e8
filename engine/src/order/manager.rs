//! The order manager: owns every order of the run, applies execution events through the
//! lifecycle table, answers broker prompts with the prompt policy, and audits what it decides.
//!
//! It only accepts [`Approved`] requests, so nothing reaches the execution client without
//! passing the risk layer.

use rust_decimal::Decimal;

use super::prompt::PromptPolicy;
use super::state::{IllegalTransition, OrderEvent, OrderState, transition};
use crate::audit::{AuditKind, AuditLog};
use crate::domain::{ClientOrderId, Fill, InstrumentId, OrderId, OrderRequest, Ts};
use crate::execution::{ExecCommand, ExecEvent, Prompt};
use crate::risk::{Approved, Refusal};

/// One order and everything known about it.
#[derive(Clone, Debug, PartialEq)]
pub struct Order {
    pub id: OrderId,
    pub client_order_id: ClientOrderId,
    pub request: OrderRequest,
    pub state: OrderState,
    pub filled_qty: Decimal,
    /// Volume-weighted average fill price (0 before the first fill).
    pub avg_fill_price: Decimal,
    pub commission: Decimal,
    pub created: Ts,
    pub updated: Ts,
    pub broker_order_id: Option<u64>,
    /// Why the order was rejected, cancelled or denied.
    pub reason: Option<String>,
    /// The risk refusal, for denied orders.
    pub refusal: Option<Box<Refusal>>,
    /// The modification awaiting acknowledgement.
    pub pending_modify: Option<Box<OrderRequest>>,
    /// Prompts answered for this order.
    pub prompts: u32,
}

impl Order {
    /// Quantity still to fill.
    pub fn remaining(&self) -> Decimal {
        (self.request.quantity - self.filled_qty).max(Decimal::ZERO)
    }

    /// Signed remaining quantity (positive for buys).
    pub fn signed_remaining(&self) -> Decimal {
        crate::domain::signed_qty(self.request.side, self.remaining())
    }

    pub fn is_open(&self) -> bool {
        self.state.is_open()
    }
}

/// What the strategy is told about an order (one per state change, plus one per fill).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OrderUpdate {
    pub order_id: OrderId,
    pub instrument: InstrumentId,
    pub previous: OrderState,
    pub state: OrderState,
    /// Set when the update is a fill.
    pub fill: Option<Fill>,
    /// Set when the risk layer refused the order.
    pub refusal: Option<Refusal>,
}

/// Errors of the order manager. None of them changes an order.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum OmError {
    #[error("unknown order id {0}")]
    UnknownOrder(OrderId),
    #[error("order {id} is {state:?} and cannot be {action}")]
    NotOpen {
        id: OrderId,
        state: OrderState,
        action: &'static str,
    },
    #[error("order {id}: {source}")]
    Illegal {
        id: OrderId,
        #[source]
        source: IllegalTransition,
    },
    #[error("order {id}: fill of {quantity} exceeds the remaining {remaining}")]
    Overfill {
        id: OrderId,
        quantity: Decimal,
        remaining: Decimal,
    },
    #[error("order id {got} out of sequence (expected {expected})")]
    OutOfSequence { got: OrderId, expected: OrderId },
    #[error("orders can only be restored into an empty order manager")]
    NotEmpty,
}

/// Owns every order (dense ids from 1) and the list of open ones.
pub struct OrderManager {
    orders: Vec<Order>,
    open: Vec<OrderId>,
    policy: PromptPolicy,
    client_id_prefix: String,
}

impl OrderManager {
    pub fn new(policy: PromptPolicy, client_id_prefix: &str) -> Self {
        OrderManager {
            orders: Vec::new(),
            open: Vec::new(),
            policy,
            client_id_prefix: client_id_prefix.to_string(),
        }
    }

    /// Reserve room for `n` more orders, best effort (see
    /// [`crate::kernel::Kernel::reserve_records`]).
    pub fn reserve(&mut self, n: usize) {
        if self.orders.try_reserve(n).is_ok() {
            crate::mem::advise_huge_pages(&self.orders);
        }
    }

    pub fn policy(&self) -> &PromptPolicy {
        &self.policy
    }

    /// The id the next order will get.
    pub fn next_id(&self) -> OrderId {
        OrderId(self.orders.len() as u64 + 1)
    }

    pub fn get(&self, id: OrderId) -> Option<&Order> {
        let i = id.0.checked_sub(1)? as usize;
        self.orders.get(i)
    }

    fn get_mut(&mut self, id: OrderId) -> Result<&mut Order, OmError> {
        let i = id.0.checked_sub(1).ok_or(OmError::UnknownOrder(id))? as usize;
        self.orders.get_mut(i).ok_or(OmError::UnknownOrder(id))
    }

    /// Consume the manager, keeping its orders.
    pub fn into_orders(self) -> Vec<Order> {
        self.orders
    }

    /// Every order of the run, in id order.
    /// The state of the bracket whose entry is `entry` (`None` for an unknown order), given
    /// the signed position in its instrument.
    pub fn bracket(&self, entry: OrderId, position: Decimal) -> Option<super::BracketState> {
        let e = self.get(entry)?;
        Some(super::bracket_state(e, &self.orders, position))
    }

    pub fn orders(&self) -> &[Order] {
        &self.orders
    }

    /// Ids of the open orders, oldest first.
    pub fn open_ids(&self) -> &[OrderId] {
        &self.open
    }

    pub fn open_count(&self) -> usize {
        self.open.len()
    }

    /// Signed remaining quantity of the open orders on `instrument`, bracket exits aside
    /// (they close what their parent opens).
    pub fn open_qty(&self, instrument: InstrumentId) -> Decimal {
        let mut q = Decimal::ZERO;
        for id in &self.open {
            if let Some(o) = self.get(*id)
                && o.request.instrument == instrument
                && !o.request.is_exit()
            {
                q += o.signed_remaining();
            }
        }
        q
    }

    /// Find an order by its client order id (`cOID`).
    pub fn by_client_id(&self, cid: &str) -> Option<&Order> {
        self.orders
            .iter()
            .find(|o| o.client_order_id.as_str() == cid)
    }

    fn push(
        &mut self,
        id: OrderId,
        request: OrderRequest,
        state: OrderState,
        now: Ts,
    ) -> Result<&mut Order, OmError> {
        let expected = self.next_id();
        if id != expected {
            return Err(OmError::OutOfSequence { got: id, expected });
        }
        let client_order_id = request
            .client_order_id
            .unwrap_or_else(|| ClientOrderId::with_number(&self.client_id_prefix, id.0));
        if state.is_open() {
            self.open.push(id);
        }
        self.orders.push(Order {
            id,
            client_order_id,
            request,
            state,
            filled_qty: Decimal::ZERO,
            avg_fill_price: Decimal::ZERO,
            commission: Decimal::ZERO,
            created: now,
            updated: now,
            broker_order_id: None,
            reason: None,
            refusal: None,
            pending_modify: None,
            prompts: 0,
        });
        Ok(self.orders.last_mut().expect("just pushed"))
    }

    /// Take ownership of an approved request: the order starts in `PendingSubmit` and the
    /// returned command must go to the execution client.
    pub fn submit(
        &mut self,
        id: OrderId,
        approved: Approved<OrderRequest>,
        now: Ts,
    ) -> Result<ExecCommand, OmError> {
        let request = approved.into_inner();
        let o = self.push(id, request, OrderState::PendingSubmit, now)?;
        Ok(ExecCommand::Submit {
            order_id: id,
            client_order_id: o.client_order_id,
            request,
        })
    }

    /// Take a working order that was placed outside this engine into the books (a live
    /// run adopting foreign orders at start): it starts working with what the broker says
    /// is filled. Nothing is sent. The broker's client order id is kept when valid.
    pub fn adopt(
        &mut self,
        id: OrderId,
        request: OrderRequest,
        broker_order_id: u64,
        filled: Decimal,
        now: Ts,
    ) -> Result<&Order, OmError> {
        let state = if filled > Decimal::ZERO {
            OrderState::PartiallyFilled
        } else {
            OrderState::Working
        };
        let o = self.push(id, request, state, now)?;
        o.broker_order_id = Some(broker_order_id);
        o.filled_qty = filled.min(request.quantity);
        o.reason = Some("adopted from the broker".into());
        Ok(o)
    }

    /// Record a request the risk layer refused (it never reaches the broker).
    pub fn deny(
        &mut self,
        id: OrderId,
        request: OrderRequest,
        refusal: Refusal,
        now: Ts,
    ) -> Result<OrderUpdate, OmError> {
        let o = self.push(id, request, OrderState::Denied, now)?;
        o.refusal = Some(Box::new(refusal));
        o.reason = Some(refusal.to_string());
        Ok(OrderUpdate {
            order_id: id,
            instrument: request.instrument,
            previous: OrderState::Denied,
            state: OrderState::Denied,
            fill: None,
            refusal: Some(refusal),
        })
    }

    #[inline]
    fn step(
        &mut self,
        id: OrderId,
        event: OrderEvent,
        now: Ts,
    ) -> Result<(OrderState, OrderState), OmError> {
        let o = self.get_mut(id)?;
        let prev = o.state;
        let next = transition(prev, event, !o.filled_qty.is_zero())
            .map_err(|source| OmError::Illegal { id, source })?;
        o.state = next;
        o.updated = now;
        if prev.is_terminal() == next.is_terminal() {
            return Ok((prev, next));
        }
        if next.is_terminal() {
            self.open.retain(|x| *x != id);
        } else {
            // A late acknowledgement or fill of an order given up for rejected.
            let at = self.open.partition_point(|x| *x < id);
            self.open.insert(at, id);
        }
        Ok((prev, next))
    }

    /// Ask to cancel an open order.
    pub fn request_cancel(&mut self, id: OrderId, now: Ts) -> Result<ExecCommand, OmError> {
        let o = self.get(id).ok_or(OmError::UnknownOrder(id))?;
        if matches!(o.state, OrderState::PendingCancel) || o.state.is_terminal() {
            return Err(OmError::NotOpen {
                id,
                state: o.state,
                action: "cancelled",
            });
        }
        self.step(id, OrderEvent::CancelRequested, now)?;
        Ok(ExecCommand::Cancel { order_id: id })
    }

    /// Ask to replace an open order with an approved request (same instrument and side).
    pub fn request_modify(
        &mut self,
        id: OrderId,
        approved: Approved<OrderRequest>,
        now: Ts,
    ) -> Result<ExecCommand, OmError> {
        let o = self.get(id).ok_or(OmError::UnknownOrder(id))?;
        if !matches!(o.state, OrderState::Working | OrderState::PartiallyFilled) {
            return Err(OmError::NotOpen {
                id,
                state: o.state,
                action: "modified",
            });
        }
        let request = approved.into_inner();
        self.step(id, OrderEvent::ModifyRequested, now)?;
        self.get_mut(id)?.pending_modify = Some(Box::new(request));
        Ok(ExecCommand::Modify {
            order_id: id,
            request,
        })
    }

    /// Apply one execution event. Commands the manager must send in response (prompt
    /// replies, suppression) are pushed to `out`. Returns the update for the strategy, if
    /// the order's state changed or it was filled.
    pub fn apply(
        &mut self,
        event: &ExecEvent,
        out: &mut Vec<ExecCommand>,
        audit: &mut AuditLog,
    ) -> Result<Option<OrderUpdate>, OmError> {
        let id = event.order_id();
        let now = event.ts();
        let instrument = self
            .get(id)
            .ok_or(OmError::UnknownOrder(id))?
            .request
            .instrument;
        let update = |(previous, state): (OrderState, OrderState)| OrderUpdate {
            order_id: id,
            instrument,
            previous,
            state,
            fill: None,
            refusal: None,
        };
        match event {
            ExecEvent::Accepted {
                broker_order_id, ..
            } => {
                let (prev, next) = self.step(id, OrderEvent::Accepted, now)?;
                if broker_order_id.is_some() {
                    self.get_mut(id)?.broker_order_id = *broker_order_id;
                }
                Ok((prev != next).then(|| update((prev, next))))
            }
            ExecEvent::Prompt { prompt, .. } => self
                .on_prompt(id, prompt, now, out, audit)
                .map(|s| s.map(update)),
            ExecEvent::Rejected { reason, .. } => {
                let s = self.step(id, OrderEvent::Rejected, now)?;
                let o = self.get_mut(id)?;
                o.reason = Some(reason.clone());
                o.pending_modify = None;
                audit.record(
                    now,
                    AuditKind::BrokerRejection,
                    Some(id),
                    format!("order rejected: {reason}"),
                );
                Ok(Some(update(s)))
            }
            ExecEvent::Filled(fill) => {
                let o = self.get(id).ok_or(OmError::UnknownOrder(id))?;
                let remaining = o.remaining();
                if fill.quantity > remaining || fill.quantity <= Decimal::ZERO {
                    return Err(OmError::Overfill {
                        id,
                        quantity: fill.quantity,
                        remaining,
                    });
                }
                let ev = if fill.quantity == remaining {
                    OrderEvent::FinalFill
                } else {
                    OrderEvent::PartialFill
                };
                let s = self.step(id, ev, now)?;
                let o = self.get_mut(id)?;
                let filled = o.filled_qty + fill.quantity;
                o.avg_fill_price = if o.filled_qty.is_zero() {
                    fill.price
                } else {
                    (o.avg_fill_price * o.filled_qty + fill.price * fill.quantity) / filled
                };
                o.filled_qty = filled;
                o.commission += fill.commission;
                let mut u = update(s);
                u.fill = Some(*fill);
                Ok(Some(u))
            }
            ExecEvent::Cancelled { reason, .. } => {
                let s = self.step(id, OrderEvent::Cancelled, now)?;
                if let Some(r) = reason {
                    self.get_mut(id)?.reason = Some(r.clone());
                }
                Ok(Some(update(s)))
            }
            ExecEvent::CancelRejected { reason, .. } => {
                let s = self.step(id, OrderEvent::CancelRejected, now)?;
                audit.record(
                    now,
                    AuditKind::BrokerRejection,
                    Some(id),
                    format!("cancel rejected: {reason}"),
                );
                Ok(Some(update(s)))
            }
            ExecEvent::Modified { request, .. } => {
                let s = self.step(id, OrderEvent::ModifyAccepted, now)?;
                let o = self.get_mut(id)?;
                if s.1 != OrderState::PendingCancel {
                    o.request = **request;
                }
                o.pending_modify = None;
                Ok(Some(update(s)))
            }
            ExecEvent::ModifyRejected { reason, .. } => {
                let s = self.step(id, OrderEvent::ModifyRejected, now)?;
                self.get_mut(id)?.pending_modify = None;
                audit.record(
                    now,
                    AuditKind::BrokerRejection,
                    Some(id),
                    format!("modify rejected: {reason}"),
                );
                Ok(Some(update(s)))
            }
            ExecEvent::Expired { .. } => {
                let s = self.step(id, OrderEvent::Expired, now)?;
                Ok(Some(update(s)))
            }
            // Commission corrections change no state; the kernel books them against the
            // fill they belong to.
            ExecEvent::Commission { .. } => Ok(None),
        }
    }

    /// Take back the orders of an earlier run of the same journal (a live restart): ids must
    /// be dense from 1 and in order, as this manager assigned them. Open orders are listed
    /// as open again; the next order gets the id after the last one.
    pub fn restore(&mut self, orders: Vec<Order>) -> Result<(), OmError> {
        if !self.orders.is_empty() {
            return Err(OmError::NotEmpty);
        }
        for (i, o) in orders.iter().enumerate() {
            let expected = OrderId(i as u64 + 1);
            if o.id != expected {
                return Err(OmError::OutOfSequence {
                    got: o.id,
                    expected,
                });
            }
        }
        self.open = orders
            .iter()
            .filter(|o| o.is_open())
            .map(|o| o.id)
            .collect();
        self.orders = orders;
        Ok(())
    }

    /// Replace the commission of an execution: `delta` (new − old) is added to the order's.
    pub fn adjust_commission(&mut self, id: OrderId, delta: Decimal) -> Result<(), OmError> {
        self.get_mut(id)?.commission += delta;
        Ok(())
    }

    /// A broker question: decide with the policy, audit each id, answer, and move the order.
    /// Questions about a submission hold the order in `AwaitingConfirmation`; questions about
    /// a modification are answered while it stays `PendingModify` (declined: the
    /// modification is abandoned, the order works on unchanged).
    fn on_prompt(
        &mut self,
        id: OrderId,
        prompt: &Prompt,
        now: Ts,
        out: &mut Vec<ExecCommand>,
        audit: &mut AuditLog,
    ) -> Result<Option<(OrderState, OrderState)>, OmError> {
        // Cancelled before the broker acknowledged it: the venue declines the question as
        // part of the cancel (answering it here would race that), so it is only recorded.
        if self
            .get(id)
            .is_some_and(|o| o.state == OrderState::PendingCancel)
        {
            audit.record(
                now,
                AuditKind::PromptDecision,
                Some(id),
                format!(
                    "prompt {} ({}): not answered, the order is being cancelled",
                    prompt.reply_id,
                    prompt.message_ids.join(",")
                ),
            );
            return Ok(None);
        }
        let (prev, _) = self.step(id, OrderEvent::PromptReceived, now)?;
        let modifying = prev == OrderState::PendingModify;
        let verdict = self.policy.decide(prompt);
        for (i, (mid, decision)) in verdict.decisions.iter().enumerate() {
            let text = prompt.messages.get(i).map(String::as_str).unwrap_or("");
            audit.record(
                now,
                AuditKind::PromptDecision,
                Some(id),
                format!(
                    "prompt {} message {mid}: {} ({text})",
                    prompt.reply_id,
                    decision.as_str()
                ),
            );
        }
        out.push(ExecCommand::ReplyPrompt {
            order_id: id,
            reply_id: prompt.reply_id.clone(),
            confirmed: verdict.confirmed,
        });
        let o = self.get_mut(id)?;
        o.prompts += 1;
        if verdict.confirmed {
            if !verdict.suppress.is_empty() {
                out.push(ExecCommand::SuppressQuestions {
                    message_ids: verdict.suppress,
                });
            }
            let (_, next) = self.step(id, OrderEvent::PromptConfirmed, now)?;
            Ok((prev != next).then_some((prev, next)))
        } else {
            let ids = prompt.message_ids.join(",");
            let o = self.get_mut(id)?;
            if modifying {
                o.pending_modify = None;
                audit.record(
                    now,
                    AuditKind::BrokerRejection,
                    Some(id),
                    format!("modification abandoned: prompt declined by policy: {ids}"),
                );
            } else {
                o.reason = Some(format!("prompt declined by policy: {ids}"));
            }
            let (_, next) = self.step(id, OrderEvent::PromptDeclined, now)?;
            Ok(Some((prev, next)))
        }
    }
}

#[cfg(test)]
mod tests;
