//! The order book over the simulated broker. Placed tickets become
//! `ExecCommand::Submit`s to the backtester's `SimBroker` (the one matching engine of the
//! project); its `ExecEvent`s become IBKR order statuses and executions. Brackets and OCA
//! groups are the broker's too: a bracket child goes in with its parent's id and the
//! children share an OCA group named by the parent; `isSingleGroup` tickets share one named
//! by the first. The broker holds the children until the parent fills and reduces or
//! cancels the members of a group on a fill, exactly as in a backtest. Only a server
//! prompt's hold (`p12`) is kept here, before anything reaches the broker.

use std::collections::{BTreeMap, HashSet};

use rust_decimal::Decimal;

use tickline_backtest::broker::{BrokerConfig, SimBroker};
use tickline_engine::domain::{
    Bar, ClientOrderId, Instrument, OrderId, OrderRequest, OrderType, TimeInForce,
};
use tickline_engine::execution::{ExecCommand, ExecEvent, ExecutionClient};

use crate::contract::Contract;
use crate::orders::record::{Execution, OrderRecord, OrderStatus};
use crate::orders::ticket::Ticket;
use crate::rng::Rng;

/// What one call changed: order ids whose state moved and the new executions.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Changes {
    pub orders: Vec<u64>,
    /// Indices into [`Exchange::executions`].
    pub fills: Vec<usize>,
}

impl Changes {
    fn touch(&mut self, id: u64) {
        if !self.orders.contains(&id) {
            self.orders.push(id);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.orders.is_empty() && self.fills.is_empty()
    }

    pub fn merge(&mut self, other: Changes) {
        for id in other.orders {
            self.touch(id);
        }
        self.fills.extend(other.fills);
    }
}

/// A refused modify or cancel (answered as an IBKR error body).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OrderError {
    /// No such order for this account.
    Unknown(u64),
    /// The request cannot be carried out (reason text for the client).
    Refused(String),
}

/// Orders, executions and the simulated broker.
pub struct Exchange {
    broker: SimBroker,
    instruments: Vec<Instrument>,
    pub orders: BTreeMap<u64, OrderRecord>,
    coids: HashSet<(String, String)>,
    pub executions: Vec<Execution>,
    next_id: u64,
    exec_prefix: String,
    events: Vec<ExecEvent>,
    last_refusal: Option<(u64, String)>,
}

impl Exchange {
    pub fn new(cfg: BrokerConfig, contracts: &[Contract], seed: u64) -> Exchange {
        let instruments: Vec<Instrument> = contracts.iter().map(|c| c.inst.clone()).collect();
        let mut rng = Rng::derive(seed, 0xE8EC);
        Exchange {
            broker: SimBroker::new(cfg, &instruments),
            instruments,
            orders: BTreeMap::new(),
            coids: HashSet::new(),
            executions: Vec::new(),
            next_id: 1_370_093_239 + rng.range(0, 1_000_000),
            exec_prefix: format!("{}.{}", rng.hex(4), rng.hex(4)),
            events: Vec::with_capacity(16),
            last_refusal: None,
        }
    }

    /// Is `coid` already used by `account` today?
    pub fn coid_taken(&self, account: &str, coid: &str) -> bool {
        self.coids
            .contains(&(account.to_string(), coid.to_string()))
    }

    /// The working order of `account` with client id `coid`.
    pub fn by_coid(&self, account: &str, coid: &str) -> Option<&OrderRecord> {
        self.orders
            .values()
            .find(|o| o.account == account && o.coid.as_deref() == Some(coid))
    }

    pub fn order(&self, id: u64) -> Option<&OrderRecord> {
        self.orders.get(&id)
    }

    fn request(&self, o: &OrderRecord) -> OrderRequest {
        let mut r =
            OrderRequest::market(self.instruments[o.index].id, o.side, o.quantity).with_tif(o.tif);
        r.order_type = o.order_type;
        r.limit_price = o.limit;
        r.stop_price = o.stop;
        r.trail = o.trail;
        r.parent = o.parent.map(OrderId);
        r.oca_group = o.oca.map(OrderId);
        // IBKR's TRAILLMT carries the limit as a price; its distance to the stop is the offset.
        if o.order_type == OrderType::TrailingStopLimit
            && let (Some(l), Some(s)) = (o.limit, o.stop)
        {
            r.limit_offset = Some((s - l).abs());
        }
        r
    }

    fn submit(&mut self, id: u64) {
        let Some(o) = self.orders.get(&id) else {
            return;
        };
        let request = self.request(o);
        let client_order_id = o
            .coid
            .as_deref()
            .and_then(ClientOrderId::new)
            .unwrap_or_else(|| ClientOrderId::with_number("gw", id));
        self.broker.send(ExecCommand::Submit {
            order_id: OrderId(id),
            client_order_id,
            request,
        });
    }

    /// Place validated tickets (one order, a bracket or an OCA group) for `account`.
    /// Returns the new order ids in ticket order. The caller has checked `cOID` uniqueness
    /// and parent references. With `hold` the orders exist but wait (`PendingSubmit`) behind
    /// a server prompt until [`Exchange::release_held`] or [`Exchange::reject_held`].
    pub fn place(
        &mut self,
        account: &str,
        tickets: &[Ticket],
        now_ms: i64,
        hold: bool,
    ) -> (Vec<u64>, Changes) {
        let ids: Vec<u64> = tickets
            .iter()
            .map(|_| {
                let id = self.next_id;
                self.next_id += 1;
                id
            })
            .collect();
        // isSingleGroup tickets form one group named by the first member.
        let single_group = tickets.iter().position(|t| t.single_group).map(|k| ids[k]);
        for (k, t) in tickets.iter().enumerate() {
            let parent = t.parent_coid.as_deref().and_then(|p| {
                tickets
                    .iter()
                    .position(|o| o.coid.as_deref() == Some(p))
                    .map(|j| ids[j])
                    .or_else(|| self.by_coid(account, p).map(|o| o.id))
            });
            // A bracket's children form one group named by their parent.
            let oca = parent.or(single_group.filter(|_| t.single_group));
            if let Some(c) = &t.coid {
                self.coids.insert((account.to_string(), c.clone()));
            }
            self.orders.insert(
                ids[k],
                OrderRecord {
                    id: ids[k],
                    account: account.to_string(),
                    index: t.index,
                    conid: t.conid,
                    side: t.side,
                    quantity: t.quantity,
                    order_type: t.order_type,
                    limit: t.limit,
                    stop: t.stop,
                    trail: t.trail,
                    tif: t.tif,
                    outside_rth: t.outside_rth,
                    coid: t.coid.clone(),
                    parent,
                    oca,
                    status: if parent.is_some() && !hold {
                        OrderStatus::PreSubmitted
                    } else {
                        OrderStatus::PendingSubmit
                    },
                    filled: Decimal::ZERO,
                    filled_value: Decimal::ZERO,
                    created_ms: now_ms,
                    last_ms: now_ms,
                    reason: None,
                    warning: None,
                    awaiting_prompt: hold,
                },
            );
        }
        let mut changes = Changes::default();
        for id in &ids {
            changes.touch(*id);
        }
        if !hold {
            self.submit_all(&ids);
        }
        changes.merge(self.drain(now_ms));
        (ids, changes)
    }

    /// Send `ids` to the broker, parents before their children.
    fn submit_all(&mut self, ids: &[u64]) {
        let is_child = |id: &u64| {
            self.orders
                .get(id)
                .and_then(|o| o.parent)
                .is_some_and(|p| ids.contains(&p))
        };
        let (children, parents): (Vec<u64>, Vec<u64>) = ids.iter().partition(|id| is_child(id));
        for id in parents.into_iter().chain(children) {
            self.submit(id);
        }
    }

    /// A server prompt was answered in favour: the held orders go to the broker (which
    /// keeps bracket children waiting for their parent).
    pub fn release_held(&mut self, ids: &[u64], now_ms: i64) -> Changes {
        let mut changes = Changes::default();
        let mut released = Vec::new();
        for &id in ids {
            if let Some(o) = self.orders.get_mut(&id)
                && o.awaiting_prompt
            {
                o.awaiting_prompt = false;
                o.last_ms = now_ms;
                if o.parent.is_some() {
                    o.status = OrderStatus::PreSubmitted;
                }
                changes.touch(id);
                released.push(id);
            }
        }
        self.submit_all(&released);
        changes.merge(self.drain(now_ms));
        changes
    }

    /// A server prompt was declined or expired: the held orders become `Inactive`.
    pub fn reject_held(&mut self, ids: &[u64], reason: &str, now_ms: i64) -> Changes {
        let mut changes = Changes::default();
        for &id in ids {
            if let Some(o) = self.orders.get_mut(&id)
                && o.awaiting_prompt
            {
                o.awaiting_prompt = false;
                o.status = OrderStatus::Inactive;
                o.reason = Some(reason.to_string());
                o.last_ms = now_ms;
                changes.touch(id);
            }
        }
        changes
    }

    /// Put a working order in `WarnState` with `warning` (fills and cancels still work).
    pub fn set_warning(&mut self, id: u64, warning: &str, now_ms: i64) -> Changes {
        let mut changes = Changes::default();
        if let Some(o) = self.orders.get_mut(&id)
            && matches!(o.status, OrderStatus::Submitted | OrderStatus::PreSubmitted)
        {
            o.status = OrderStatus::WarnState;
            o.warning = Some(warning.to_string());
            o.last_ms = now_ms;
            changes.touch(id);
        }
        changes
    }

    /// Start a delayed cancel: the order shows `PendingCancel` and keeps working at the
    /// simulated broker (it may still fill) until [`Exchange::cancel`] is called.
    pub fn request_cancel(
        &mut self,
        account: &str,
        id: u64,
        now_ms: i64,
    ) -> Result<Changes, OrderError> {
        let o = self
            .orders
            .get_mut(&id)
            .filter(|o| o.account == account)
            .ok_or(OrderError::Unknown(id))?;
        if o.status.is_terminal() {
            return Err(OrderError::Refused(format!(
                "OrderID {id} cannot be cancelled: it is {}",
                o.status.as_str()
            )));
        }
        o.status = OrderStatus::PendingCancel;
        o.last_ms = now_ms;
        Ok(Changes {
            orders: vec![id],
            fills: Vec::new(),
        })
    }

    /// Replace a working order's ticket (same contract and side).
    pub fn modify(
        &mut self,
        account: &str,
        id: u64,
        t: &Ticket,
        now_ms: i64,
    ) -> Result<Changes, OrderError> {
        let o = self
            .orders
            .get_mut(&id)
            .filter(|o| o.account == account)
            .ok_or(OrderError::Unknown(id))?;
        if o.status.is_terminal() || o.status == OrderStatus::PendingCancel {
            return Err(OrderError::Refused(format!(
                "Cannot modify order {id}: it is {}",
                o.status.as_str()
            )));
        }
        if t.conid != o.conid || t.side != o.side {
            return Err(OrderError::Refused(
                "The contract and side of an order cannot be modified".into(),
            ));
        }
        if t.quantity <= o.filled {
            return Err(OrderError::Refused(format!(
                "The quantity {} is not above the filled quantity {}",
                t.quantity,
                o.filled.normalize()
            )));
        }
        if o.awaiting_prompt {
            o.quantity = t.quantity;
            o.order_type = t.order_type;
            o.limit = t.limit;
            o.stop = t.stop;
            o.trail = t.trail;
            o.tif = t.tif;
            o.outside_rth = t.outside_rth;
            o.last_ms = now_ms;
            return Ok(Changes {
                orders: vec![id],
                fills: Vec::new(),
            });
        }
        o.outside_rth = t.outside_rth;
        let Some(o) = self.orders.get(&id) else {
            return Err(OrderError::Unknown(id));
        };
        let mut request = self.request(o);
        request.quantity = t.quantity;
        request.order_type = t.order_type;
        request.limit_price = t.limit;
        request.stop_price = t.stop;
        request.trail = t.trail;
        request.tif = t.tif;
        self.last_refusal = None;
        self.broker.send(ExecCommand::Modify {
            order_id: OrderId(id),
            request,
        });
        let changes = self.drain(now_ms);
        match self.last_refusal.take() {
            Some((rid, reason)) if rid == id => Err(OrderError::Refused(reason)),
            _ => Ok(changes),
        }
    }

    /// Cancel a working order (its held bracket children go with it).
    pub fn cancel(&mut self, account: &str, id: u64, now_ms: i64) -> Result<Changes, OrderError> {
        let o = self
            .orders
            .get(&id)
            .filter(|o| o.account == account)
            .ok_or(OrderError::Unknown(id))?;
        if o.status.is_terminal() {
            return Err(OrderError::Refused(format!(
                "OrderID {id} cannot be cancelled: it is {}",
                o.status.as_str()
            )));
        }
        let mut changes = Changes::default();
        if o.awaiting_prompt {
            self.mark_cancelled(
                id,
                Some("cancelled by the client".into()),
                now_ms,
                &mut changes,
            );
            return Ok(changes);
        }
        self.last_refusal = None;
        self.broker.send(ExecCommand::Cancel {
            order_id: OrderId(id),
        });
        changes.merge(self.drain(now_ms));
        match self.last_refusal.take() {
            Some((rid, reason)) if rid == id => Err(OrderError::Refused(reason)),
            _ => Ok(changes),
        }
    }

    /// Working orders of `account` (not terminal).
    pub fn working(&self, account: &str) -> Vec<u64> {
        self.orders
            .values()
            .filter(|o| o.account == account && !o.status.is_terminal())
            .map(|o| o.id)
            .collect()
    }

    /// A new market bar: match working orders.
    pub fn on_bar(&mut self, bar: &Bar, now_ms: i64) -> Changes {
        self.broker.on_bar(bar);
        self.drain(now_ms)
    }

    /// Orders working at the simulated broker.
    pub fn broker_working(&self) -> usize {
        self.broker.working_orders()
    }

    fn mark_cancelled(
        &mut self,
        id: u64,
        reason: Option<String>,
        now_ms: i64,
        changes: &mut Changes,
    ) {
        match self.orders.get_mut(&id) {
            Some(o) if !o.status.is_terminal() => {
                o.status = OrderStatus::Cancelled;
                o.reason = reason;
                o.last_ms = now_ms;
            }
            _ => return,
        }
        changes.touch(id);
        // Children held with their parent behind a prompt never reached the broker.
        let held_children: Vec<u64> = self
            .orders
            .values()
            .filter(|c| c.parent == Some(id) && c.awaiting_prompt)
            .map(|c| c.id)
            .collect();
        for c in held_children {
            self.mark_cancelled(c, Some("parent order cancelled".into()), now_ms, changes);
        }
    }

    /// Turn the simulated broker's events into order state.
    fn drain(&mut self, now_ms: i64) -> Changes {
        let mut changes = Changes::default();
        loop {
            self.events.clear();
            self.broker.poll(&mut self.events);
            if self.events.is_empty() {
                break;
            }
            let events = std::mem::take(&mut self.events);
            for ev in &events {
                self.apply(ev, now_ms, &mut changes);
            }
            self.events = events;
        }
        changes
    }

    fn apply(&mut self, ev: &ExecEvent, now_ms: i64, changes: &mut Changes) {
        let id = ev.order_id().0;
        match ev {
            ExecEvent::Accepted { .. } => {
                let waiting = self
                    .orders
                    .get(&id)
                    .and_then(|o| o.parent)
                    .is_some_and(|p| self.orders.get(&p).is_none_or(|po| po.filled.is_zero()));
                if let Some(o) = self.orders.get_mut(&id) {
                    if !o.status.is_terminal() {
                        o.status = if waiting {
                            OrderStatus::PreSubmitted
                        } else {
                            working_status(o)
                        };
                    }
                    o.last_ms = now_ms;
                    changes.touch(id);
                }
            }
            ExecEvent::Filled(f) => {
                let Some(o) = self.orders.get_mut(&id) else {
                    return;
                };
                o.filled += f.quantity;
                o.filled_value += f.quantity * f.price;
                let ts_ms = f.ts.div_euclid(1_000_000);
                o.last_ms = ts_ms;
                o.status = if o.filled >= o.quantity {
                    OrderStatus::Filled
                } else if matches!(
                    o.status,
                    OrderStatus::PendingCancel | OrderStatus::WarnState
                ) {
                    o.status
                } else {
                    OrderStatus::Submitted
                };
                let seq = self.executions.len() + 1;
                self.executions.push(Execution {
                    id: format!("{}.{:02x}.01.01", self.exec_prefix, seq),
                    order_id: id,
                    account: o.account.clone(),
                    index: o.index,
                    side: o.side,
                    quantity: f.quantity,
                    price: f.price,
                    commission: f.commission,
                    ts_ms,
                    coid: o.coid.clone(),
                });
                changes.fills.push(self.executions.len() - 1);
                changes.touch(id);
                // The parent's fill sets its children working.
                for c in self.orders.values_mut() {
                    if c.parent == Some(id)
                        && c.status == OrderStatus::PreSubmitted
                        && !c.awaiting_prompt
                    {
                        c.status = working_status(c);
                        changes.touch(c.id);
                    }
                }
            }
            ExecEvent::Cancelled { reason, .. } => {
                self.mark_cancelled(id, reason.clone(), now_ms, changes);
            }
            ExecEvent::Expired { .. } => {
                self.mark_cancelled(
                    id,
                    Some("order expired (time in force)".into()),
                    now_ms,
                    changes,
                );
            }
            ExecEvent::Rejected { reason, .. } => {
                if let Some(o) = self.orders.get_mut(&id) {
                    o.status = OrderStatus::Inactive;
                    o.reason = Some(reason.clone());
                    o.last_ms = now_ms;
                    changes.touch(id);
                }
            }
            ExecEvent::Modified { request, .. } => {
                if let Some(o) = self.orders.get_mut(&id) {
                    o.quantity = request.quantity;
                    o.order_type = request.order_type;
                    o.limit = request.limit_price;
                    o.stop = request.stop_price;
                    o.tif = request.tif;
                    o.last_ms = now_ms;
                    changes.touch(id);
                }
            }
            ExecEvent::ModifyRejected { reason, .. } | ExecEvent::CancelRejected { reason, .. } => {
                self.last_refusal = Some((id, reason.clone()));
            }
            ExecEvent::Prompt { .. } | ExecEvent::Commission { .. } => {
                // The simulated broker runs without prompt rules (the HTTP layer asks) and
                // reports every commission with its fill.
            }
        }
    }
}

/// The status IBKR shows for a working order: held until they trigger (stops) or the
/// auction (on-close, OPG), else submitted to the exchange.
fn working_status(o: &OrderRecord) -> OrderStatus {
    match o.order_type {
        OrderType::Stop
        | OrderType::StopLimit
        | OrderType::TrailingStop
        | OrderType::TrailingStopLimit
        | OrderType::MarketOnClose
        | OrderType::LimitOnClose => OrderStatus::PreSubmitted,
        _ if o.tif == TimeInForce::Opg => OrderStatus::PreSubmitted,
        _ => OrderStatus::Submitted,
    }
}
