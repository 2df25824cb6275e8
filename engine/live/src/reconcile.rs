//! Reconciliation: the journal's (or the running kernel's) orders and fills against what the
//! broker reports, before the strategy starts and after every reconnect.
//!
//! [`reconcile`] is a pure function from the books and a [`BrokerSnapshot`] to a
//! [`Reconciliation`] the runtime carries out:
//!
//! * **Executions** of our orders (matched by exact client order id, else by the broker's order
//!   id of one of our orders) that the books lack become fills, oldest first, exactly once
//!   (by execution id); a commission the broker now reports for a booked fill that lacked it
//!   corrects it. Executions of other orders are never ours.
//! * **Our open orders**: still live at the broker → tracked (the venue reports on them);
//!   acknowledged by the broker while we were down → accepted; cancelled, inactive or filled
//!   at the broker → applied (after their fills); not listed at all → given up: a submission
//!   the broker never got is rejected, an acknowledged order it no longer lists is cancelled
//!   (expired or cancelled while the run was down) at start; after a reconnect a missing
//!   order is only noted (order lists can be incomplete), its own reports decide — each
//!   noted in the audit trail.
//! * **Foreign** live orders (not ours) on the run's instruments, and positions the books do
//!   not explain, are treated by the [`ForeignPolicy`]: adopted, ignored, or (at start)
//!   refused with a list of them.
//! * **Cash** is the broker's. Positions: where the books (after the missed fills) agree with
//!   the broker they are kept; where they do not, `adopt` takes the broker's quantity and
//!   average price, `ignore` keeps ours and reports the difference.

use std::collections::{HashMap, HashSet};

use rust_decimal::Decimal;
use serde::Serialize;
pub use tickline_backtest::config::ForeignPolicy;
use tickline_engine::domain::{
    ExecId, Fill, Instrument, InstrumentId, OrderId, OrderRequest, OrderType, TimeInForce, Ts,
};
use tickline_engine::execution::ExecEvent;
use tickline_engine::kernel::FillRecord;
use tickline_engine::order::{Order, OrderState};

use crate::venue::{BrokerOrder, BrokerOrderStatus, BrokerSnapshot, TrackedOrder};

/// The books the reconciliation starts from.
#[derive(Clone, Copy, Debug)]
pub struct Books<'a> {
    pub instruments: &'a [Instrument],
    /// Every order (ids dense from 1).
    pub orders: &'a [Order],
    /// Every booked fill.
    pub fills: &'a [FillRecord],
    /// Signed position per instrument (index = id).
    pub positions: &'a [Decimal],
}

/// A foreign order or position.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Foreign {
    pub what: String,
}

/// What to do.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Reconciliation {
    /// Venue reports to apply through the kernel, in this order.
    pub events: Vec<ExecEvent>,
    /// Our orders still live at the broker: the venue must report on them.
    pub track: Vec<TrackedOrder>,
    /// Foreign live orders to adopt into the books (policy `adopt`).
    pub adopt: Vec<BrokerOrder>,
    /// Positions to set: (instrument, quantity, average price).
    pub set_positions: Vec<(InstrumentId, Decimal, Decimal)>,
    /// The broker's cash.
    pub cash: Decimal,
    /// Foreign orders and unexplained positions found.
    pub foreign: Vec<Foreign>,
    /// Per instrument: the broker's quantity minus ours after the missed fills (non-zero
    /// entries only).
    pub differences: Vec<(InstrumentId, Decimal)>,
    /// One line per decision, for the audit trail.
    pub notes: Vec<String>,
    /// Executions booked now that the books lacked.
    pub missed_fills: usize,
}

impl Reconciliation {
    /// The books agree with the broker (no difference left unexplained).
    pub fn agreed(&self) -> bool {
        self.differences.is_empty()
    }
}

/// Refused to start.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error(
    "the broker holds orders or positions this journal did not make: {}; set [live] foreign = \"adopt\" or \"ignore\" to trade anyway",
    .foreign.iter().map(|f| f.what.as_str()).collect::<Vec<_>>().join("; ")
)]
pub struct ForeignFound {
    pub foreign: Vec<Foreign>,
}

/// Reconcile `books` with `broker` under `policy`. `at_start` makes [`ForeignPolicy::Refuse`]
/// an error (after a reconnect foreign items are reported and left alone).
pub fn reconcile(
    books: Books<'_>,
    broker: &BrokerSnapshot,
    policy: ForeignPolicy,
    at_start: bool,
    now: Ts,
) -> Result<Reconciliation, ForeignFound> {
    let mut r = Reconciliation {
        cash: broker.cash,
        ..Reconciliation::default()
    };
    let by_coid: HashMap<&str, &Order> = books
        .orders
        .iter()
        .map(|o| (o.client_order_id.as_str(), o))
        .collect();
    let by_broker: HashMap<u64, &Order> = books
        .orders
        .iter()
        .filter_map(|o| o.broker_order_id.map(|b| (b, o)))
        .collect();
    let ours = |coid: Option<&str>, broker_id: Option<u64>| -> Option<&Order> {
        coid.and_then(|c| by_coid.get(c).copied())
            .or_else(|| broker_id.and_then(|b| by_broker.get(&b).copied()))
    };
    let booked: HashMap<ExecId, Decimal> = books
        .fills
        .iter()
        .filter(|f| !f.fill.exec_id.is_none())
        .map(|f| (f.fill.exec_id, f.fill.commission))
        .collect();

    // Broker orders matched to ours.
    let mut listed: HashMap<OrderId, &BrokerOrder> = HashMap::new();
    for bo in &broker.orders {
        match ours(bo.client_order_id.as_deref(), Some(bo.broker_order_id)) {
            Some(o) => {
                listed.insert(o.id, bo);
            }
            None if bo.status.is_live() => match bo.instrument {
                Some(_) => {
                    let what = format!(
                        "order {} {} {} {} ({:?}, cOID {})",
                        bo.broker_order_id,
                        bo.side.as_str(),
                        bo.quantity - bo.filled,
                        bo.name,
                        bo.status,
                        bo.client_order_id.as_deref().unwrap_or("none")
                    );
                    r.foreign.push(Foreign { what });
                    if policy == ForeignPolicy::Adopt && at_start {
                        r.adopt.push(bo.clone());
                    }
                }
                None => r.notes.push(format!(
                    "order {} in {} is not in an instrument of this run: left alone",
                    bo.broker_order_id, bo.name
                )),
            },
            None => {}
        }
    }

    // Executions the books lack, oldest first.
    let mut fills: Vec<(Ts, ExecEvent)> = Vec::new();
    let mut added: HashMap<OrderId, Decimal> = HashMap::new();
    let mut seen: HashSet<ExecId> = HashSet::new();
    let mut delta = vec![Decimal::ZERO; books.instruments.len()];
    let mut executions: Vec<_> = broker.executions.iter().collect();
    executions.sort_by_key(|e| e.ts);
    for ex in executions {
        let Some(o) = ours(ex.client_order_id.as_deref(), ex.broker_order_id) else {
            continue;
        };
        if ex.exec_id.is_none() || !seen.insert(ex.exec_id) {
            continue;
        }
        if let Some(&commission) = booked.get(&ex.exec_id) {
            if let Some(c) = ex.commission
                && c != commission
            {
                r.notes.push(format!(
                    "order {}: execution {} commission {commission} corrected to {c}",
                    o.id, ex.exec_id
                ));
                fills.push((
                    ex.ts,
                    ExecEvent::Commission {
                        order_id: o.id,
                        exec_id: ex.exec_id,
                        commission: c,
                        ts: now,
                    },
                ));
            }
            continue;
        }
        let already = o.filled_qty + added.get(&o.id).copied().unwrap_or_default();
        if ex.quantity <= Decimal::ZERO || already + ex.quantity > o.request.quantity {
            r.notes.push(format!(
                "order {}: execution {} of {} does not fit (filled {already} of {}): not booked",
                o.id, ex.exec_id, ex.quantity, o.request.quantity
            ));
            continue;
        }
        *added.entry(o.id).or_default() += ex.quantity;
        if let Some(d) = delta.get_mut(o.request.instrument.index()) {
            *d += tickline_engine::domain::signed_qty(o.request.side, ex.quantity);
        }
        r.notes.push(format!(
            "order {} ({}): execution {} {} {} @ {} made while the run was down: booked",
            o.id,
            o.client_order_id,
            ex.exec_id,
            o.request.side.as_str(),
            ex.quantity,
            ex.price
        ));
        r.missed_fills += 1;
        fills.push((
            ex.ts,
            ExecEvent::Filled(Fill {
                order_id: o.id,
                instrument: o.request.instrument,
                side: o.request.side,
                quantity: ex.quantity,
                price: ex.price,
                commission: ex.commission.unwrap_or_default(),
                ts: ex.ts,
                exec_id: ex.exec_id,
            }),
        ));
    }

    // Our open orders.
    let mut before = Vec::new();
    let mut after = Vec::new();
    for o in books.orders.iter().filter(|o| o.is_open()) {
        let filled = o.filled_qty + added.get(&o.id).copied().unwrap_or_default();
        match listed.get(&o.id) {
            Some(bo) => {
                let broker_order_id = Some(bo.broker_order_id);
                if o.broker_order_id.is_none()
                    && matches!(
                        o.state,
                        OrderState::PendingSubmit | OrderState::AwaitingConfirmation
                    )
                {
                    r.notes.push(format!(
                        "order {} ({}): acknowledged by the broker as {} while the run was down",
                        o.id, o.client_order_id, bo.broker_order_id
                    ));
                    before.push(ExecEvent::Accepted {
                        order_id: o.id,
                        broker_order_id,
                        ts: now,
                    });
                }
                match &bo.status {
                    s if s.is_live() => r.track.push(TrackedOrder {
                        order_id: o.id,
                        client_order_id: o.client_order_id,
                        broker_order_id,
                        request: o.request,
                        filled,
                    }),
                    BrokerOrderStatus::Filled if filled >= o.request.quantity => {}
                    BrokerOrderStatus::Filled => r.notes.push(format!(
                        "order {} ({}): the broker reports it filled but lists only {filled} of {} in executions",
                        o.id, o.client_order_id, o.request.quantity
                    )),
                    BrokerOrderStatus::Cancelled => after.push(ExecEvent::Cancelled {
                        order_id: o.id,
                        reason: Some("cancelled at the broker while the run was down".into()),
                        ts: now,
                    }),
                    BrokerOrderStatus::Inactive | BrokerOrderStatus::Other(_) => {
                        let reason = format!("{:?} at the broker", bo.status);
                        after.push(if o.broker_order_id.is_some() || filled > Decimal::ZERO {
                            ExecEvent::Cancelled {
                                order_id: o.id,
                                reason: Some(reason),
                                ts: now,
                            }
                        } else {
                            ExecEvent::Rejected {
                                order_id: o.id,
                                reason,
                                ts: now,
                            }
                        });
                    }
                    _ => {}
                }
            }
            None if filled >= o.request.quantity => {}
            None if !at_start => r.notes.push(format!(
                "order {} ({}): not in the broker's order list this time; left as it is (its own reports decide)",
                o.id, o.client_order_id
            )),
            None if o.broker_order_id.is_none() => {
                r.notes.push(format!(
                    "order {} ({}): the broker has no such order; the submission never reached it",
                    o.id, o.client_order_id
                ));
                after.push(ExecEvent::Rejected {
                    order_id: o.id,
                    reason: "the broker has no order with this client order id".into(),
                    ts: now,
                });
            }
            None => {
                r.notes.push(format!(
                    "order {} ({}): no longer listed by the broker (expired or cancelled while the run was down)",
                    o.id, o.client_order_id
                ));
                after.push(ExecEvent::Cancelled {
                    order_id: o.id,
                    reason: Some("no longer listed by the broker".into()),
                    ts: now,
                });
            }
        }
    }
    r.events.extend(before);
    r.events.extend(fills.into_iter().map(|(_, e)| e));
    r.events.extend(after);

    // Positions: ours after the missed fills against the broker's.
    let mut broker_qty = vec![None; books.instruments.len()];
    for p in &broker.positions {
        match p.instrument.and_then(|i| broker_qty.get_mut(i.index())) {
            Some(slot) => {
                let (q, _) = slot.get_or_insert((Decimal::ZERO, p.avg_price));
                *q += p.quantity;
            }
            None if !p.quantity.is_zero() => r.notes.push(format!(
                "position {} {} is not in an instrument of this run: left alone",
                p.quantity, p.name
            )),
            None => {}
        }
    }
    for (k, inst) in books.instruments.iter().enumerate() {
        let id = InstrumentId(k as u32);
        let expected = books.positions.get(k).copied().unwrap_or_default() + delta[k];
        let (have, avg) = broker_qty[k].unwrap_or((Decimal::ZERO, Decimal::ZERO));
        let diff = have - expected;
        if diff.is_zero() {
            continue;
        }
        r.differences.push((id, diff));
        r.foreign.push(Foreign {
            what: format!(
                "position {}: broker {have}, this journal {expected}",
                inst.symbol
            ),
        });
        match policy {
            ForeignPolicy::Adopt | ForeignPolicy::Refuse => {
                r.notes.push(format!(
                    "position {}: broker {have}, books {expected}: the broker's is taken",
                    inst.symbol
                ));
                r.set_positions.push((id, have, avg));
            }
            ForeignPolicy::Ignore => r.notes.push(format!(
                "position {}: broker {have}, books {expected}: {diff} not this journal's, ignored",
                inst.symbol
            )),
        }
    }
    if at_start && policy == ForeignPolicy::Refuse && !r.foreign.is_empty() {
        return Err(ForeignFound { foreign: r.foreign });
    }
    Ok(r)
}

/// The order request a foreign broker order stands for (adoption), if it maps.
pub fn adopted_request(bo: &BrokerOrder) -> Option<OrderRequest> {
    let instrument = bo.instrument?;
    let remaining = bo.quantity;
    let side = bo.side;
    let mut req = match (bo.order_type?, bo.limit_price, bo.stop_price) {
        (OrderType::Market, _, _) => OrderRequest::market(instrument, side, remaining),
        (OrderType::Limit, Some(l), _) => OrderRequest::limit(instrument, side, remaining, l),
        (OrderType::Stop, _, Some(s)) => OrderRequest::stop(instrument, side, remaining, s),
        (OrderType::StopLimit, Some(l), Some(s)) => {
            OrderRequest::stop_limit(instrument, side, remaining, s, l)
        }
        _ => return None,
    };
    req = req.with_tif(bo.tif.unwrap_or(TimeInForce::Gtc));
    if let Some(c) = &bo.client_order_id {
        req = req.with_client_id(c);
    }
    Some(req)
}

#[cfg(test)]
mod tests;
