//! What IBKR reports about our orders, from the websocket (`str`, `sor`) or from REST
//! (`/iserver/account/trades`, `/iserver/account/orders`), reduced to one shape each and
//! applied in one place:
//!
//! * [`BrokerExec`] → [`ExecEvent::Filled`] once per execution id, for orders of this
//!   client (placed or tracked) only; the same execution seen again with a (new) commission
//!   → [`ExecEvent::Commission`].
//! * [`BrokerStatus`] → [`ExecEvent::Cancelled`] when IBKR cancelled or deactivated the
//!   order and every fill it reports has been delivered; a status reporting more filled
//!   quantity than delivered asks for a REST read of the executions.
//! * An order whose submission answer was lost (watched by `cOID`) that shows up in either
//!   → [`ExecEvent::Accepted`] first. An order whose answer is still coming (or that waits
//!   behind a question or server prompt) is only mapped to IBKR's id: its answer settles it.

use std::sync::atomic::Ordering;

use rust_decimal::Decimal;
use tickline_engine::domain::{ExecId, Fill, OrderId, Ts};
use tickline_engine::execution::ExecEvent;
use tokio::sync::mpsc;

use super::{Shared, StreamInput, Worker, lock, now_ns};
use crate::models::{LiveOrder, LiveOrdersQuery, Trade};
use crate::ws::{Execution as WsExecution, OrderUpdate};

/// What is known of an execution already reported.
#[derive(Debug, Clone, Copy)]
pub(super) struct Booked {
    /// The engine order it was reported for (`None`: booked by an earlier run).
    pub order_id: Option<OrderId>,
    /// The commission reported with it (`None`: not yet, or zero).
    pub commission: Option<Decimal>,
}

/// One execution as IBKR reports it (websocket or REST).
#[derive(Debug, Clone, PartialEq)]
pub struct BrokerExec {
    pub exec_id: String,
    pub broker_order_id: Option<i64>,
    pub client_order_id: Option<String>,
    pub quantity: Option<Decimal>,
    pub price: Option<Decimal>,
    pub commission: Option<Decimal>,
    pub ts: Option<Ts>,
}

impl From<&Trade> for BrokerExec {
    fn from(t: &Trade) -> Self {
        BrokerExec {
            exec_id: t.execution_id.clone().unwrap_or_default(),
            broker_order_id: t.order_id,
            client_order_id: t.order_ref.clone(),
            quantity: t.size,
            price: t.price,
            commission: t.commission,
            ts: trade_ts(t.trade_time_r, t.trade_time.as_deref()),
        }
    }
}

impl From<&WsExecution> for BrokerExec {
    fn from(e: &WsExecution) -> Self {
        BrokerExec {
            exec_id: e.execution_id.clone(),
            broker_order_id: e.order_id.and_then(|id| i64::try_from(id).ok()),
            client_order_id: e.order_ref.clone(),
            quantity: e.size,
            price: e.price,
            commission: e.commission,
            ts: trade_ts(e.trade_time_ms, e.trade_time.as_deref()),
        }
    }
}

/// One order's status as IBKR reports it (websocket or REST).
#[derive(Debug, Clone, PartialEq)]
pub struct BrokerStatus {
    pub broker_order_id: i64,
    pub client_order_id: Option<String>,
    pub status: String,
    pub filled: Option<Decimal>,
    /// IBKR's reason for a system cancel, if it gives one.
    pub reason: Option<String>,
    /// The warning of a `WarnState` order.
    pub warning: Option<String>,
}

impl BrokerStatus {
    fn from_live(o: &LiveOrder) -> Option<Self> {
        Some(BrokerStatus {
            broker_order_id: o.order_id?,
            client_order_id: o.order_ref.clone(),
            status: o.status.clone()?,
            filled: o.filled_quantity,
            reason: o
                .order_cancellation_by_system_reason
                .clone()
                .filter(|r| !r.is_empty()),
            warning: o.warning_message.clone().filter(|w| !w.is_empty()),
        })
    }

    fn from_update(u: &OrderUpdate) -> Option<Self> {
        Some(BrokerStatus {
            broker_order_id: i64::try_from(u.order_id).ok()?,
            client_order_id: u.order_ref.clone(),
            status: u.status.clone()?,
            filled: u.filled_quantity,
            reason: None,
            warning: u.warning_message.clone().filter(|w| !w.is_empty()),
        })
    }
}

/// Execution time: epoch ms, else `YYYYMMDD-hh:mm:ss` UTC.
fn trade_ts(ms: Option<i64>, text: Option<&str>) -> Option<Ts> {
    if let Some(ms) = ms {
        return ms.checked_mul(1_000_000);
    }
    let t = chrono::NaiveDateTime::parse_from_str(text?, "%Y%m%d-%H:%M:%S").ok()?;
    t.and_utc().timestamp_nanos_opt()
}

impl Shared {
    /// The engine order IBKR's ids name: by order id, else by `cOID`. An order watched by
    /// its `cOID` is resolved here (reported accepted) when IBKR shows its order id.
    fn order_for(&mut self, broker_id: Option<i64>, coid: Option<&str>) -> Option<OrderId> {
        if let Some(id) = broker_id
            && let Some(&o) = self.by_broker.get(&id)
        {
            return Some(o);
        }
        let order_id = *self.by_coid.get(coid?)?;
        let t = self.orders.get_mut(&order_id)?;
        if t.broker_id.is_none()
            && let Some(id) = broker_id
        {
            t.broker_id = Some(id);
            self.by_broker.insert(id, order_id);
            // Only an order whose answer was lost is acknowledged from a report. One whose
            // answer is still on its way, or that IBKR holds behind a question or a server
            // prompt, is settled by that answer: reported accepted here, it would take a
            // prompt that follows for an illegal event.
            if t.unresolved {
                t.unresolved = false;
                t.done = false;
                tracing::warn!(%order_id, broker_order_id = id, "an order whose answer was lost is at IBKR: reported accepted");
                self.emit(ExecEvent::Accepted {
                    order_id,
                    broker_order_id: u64::try_from(id).ok(),
                    ts: now_ns(),
                });
            }
        }
        Some(order_id)
    }

    /// Report new executions of our orders (oldest first) and late commissions.
    pub(super) fn apply_execs(&mut self, mut execs: Vec<BrokerExec>) {
        execs.sort_by_key(|e| e.ts.unwrap_or(i64::MAX));
        for e in execs {
            if e.exec_id.is_empty() {
                tracing::warn!(broker_order_id = ?e.broker_order_id, "IBKR execution without execution_id ignored");
                continue;
            }
            let commission = e.commission.filter(|c| !c.is_zero());
            if let Some(booked) = self.executions.get_mut(&e.exec_id) {
                if let (Some(order_id), Some(c)) = (booked.order_id, commission)
                    && booked.commission != Some(c)
                {
                    booked.commission = Some(c);
                    if let Some(exec_id) = ExecId::new(&e.exec_id) {
                        self.emit(ExecEvent::Commission {
                            order_id,
                            exec_id,
                            commission: c,
                            ts: now_ns(),
                        });
                    }
                }
                continue;
            }
            let Some(order_id) = self.order_for(e.broker_order_id, e.client_order_id.as_deref())
            else {
                tracing::debug!(execution_id = %e.exec_id, coid = ?e.client_order_id, "execution of another run's or platform's order");
                continue;
            };
            let Some(t) = self.orders.get(&order_id) else {
                continue;
            };
            // Before the acknowledgement the engine could not place the fill.
            if t.broker_id.is_none() {
                tracing::debug!(%order_id, execution_id = %e.exec_id, "execution before the acknowledgement: left for later");
                continue;
            }
            let (instrument, side, ordered) =
                (t.request.instrument, t.request.side, t.request.quantity);
            let mut booked = Booked {
                order_id: Some(order_id),
                commission,
            };
            let (Some(quantity), Some(price)) = (e.quantity, e.price) else {
                tracing::warn!(%order_id, execution_id = %e.exec_id, "IBKR execution without size or price ignored");
                booked.order_id = None;
                self.executions.insert(e.exec_id, booked);
                continue;
            };
            if quantity <= Decimal::ZERO || price <= Decimal::ZERO {
                tracing::warn!(%order_id, execution_id = %e.exec_id, %quantity, %price, "IBKR execution with a non-positive size or price ignored");
                booked.order_id = None;
                self.executions.insert(e.exec_id, booked);
                continue;
            }
            let exec_id = ExecId::new(&e.exec_id).unwrap_or_else(|| {
                tracing::warn!(%order_id, execution_id = %e.exec_id, "IBKR execution id longer than {} characters: not kept", ExecId::MAX_LEN);
                ExecId::NONE
            });
            let fill = Fill {
                order_id,
                instrument,
                side,
                quantity,
                price,
                commission: commission.unwrap_or(Decimal::ZERO),
                ts: e.ts.filter(|_| !self.receipt_times).unwrap_or_else(now_ns),
                exec_id,
            };
            self.executions.insert(e.exec_id, booked);
            if let Some(t) = self.orders.get_mut(&order_id) {
                t.filled += quantity;
                if t.filled >= ordered {
                    t.done = true;
                }
            }
            self.emit(ExecEvent::Filled(fill));
        }
    }

    /// Apply order statuses; `true` when one reports fills not delivered yet (read the
    /// executions).
    pub(super) fn apply_statuses(&mut self, statuses: &[BrokerStatus]) -> bool {
        let mut missing_fills = false;
        for st in statuses {
            let Some(order_id) =
                self.order_for(Some(st.broker_order_id), st.client_order_id.as_deref())
            else {
                continue;
            };
            let Some(t) = self.orders.get_mut(&order_id) else {
                continue;
            };
            if st.status == "WarnState" && !t.warned && !t.done {
                // Working on, with IBKR's warning: the operator should see it once.
                t.warned = true;
                tracing::warn!(
                    %order_id,
                    broker_order_id = st.broker_order_id,
                    warning = st.warning.as_deref().unwrap_or("(no text)"),
                    "IBKR accepted the order with a warning (WarnState); it works on"
                );
            }
            if st.filled.is_some_and(|f| f > t.filled) {
                missing_fills = true;
                continue; // the fills first
            }
            if t.done || !matches!(st.status.as_str(), "Cancelled" | "Inactive") {
                continue;
            }
            let reason = st
                .reason
                .clone()
                .unwrap_or_else(|| format!("IBKR reports the order {}", st.status));
            self.finish(
                order_id,
                ExecEvent::Cancelled {
                    order_id,
                    reason: Some(reason),
                    ts: now_ns(),
                },
            );
        }
        missing_fills
    }
}

impl Worker {
    /// Read trades and live orders from REST: at the stream's pace, or at once on a resync.
    pub(super) async fn poll_loop(self) {
        loop {
            let every = if self.flags.stream_up.load(Ordering::Relaxed) {
                self.config.streaming_poll_interval
            } else {
                self.config.poll_interval
            };
            tokio::select! {
                () = tokio::time::sleep(every) => {}
                () = self.flags.resync.notified() => {}
            }
            if !lock(&self.shared).has_live_orders() {
                continue;
            }
            self.read_rest().await;
        }
    }

    /// One REST read of executions and order statuses.
    async fn read_rest(&self) {
        match self.client.trades(self.config.trade_days).await {
            Ok(trades) => {
                lock(&self.shared).apply_execs(trades.iter().map(BrokerExec::from).collect())
            }
            Err(e) => tracing::warn!(error = %e, "reading IBKR's executions failed"),
        }
        match self.client.live_orders(&LiveOrdersQuery::default()).await {
            Ok(live) => {
                let statuses: Vec<BrokerStatus> = live
                    .orders
                    .iter()
                    .filter_map(BrokerStatus::from_live)
                    .collect();
                lock(&self.shared).apply_statuses(&statuses);
            }
            Err(e) => tracing::warn!(error = %e, "reading IBKR's live orders failed"),
        }
    }

    /// Apply what the websocket reports.
    pub(super) async fn stream_loop(self, mut input: mpsc::UnboundedReceiver<StreamInput>) {
        while let Some(msg) = input.recv().await {
            match msg {
                StreamInput::Up => {
                    self.flags.stream_up.store(true, Ordering::Relaxed);
                    self.flags.resync.notify_one();
                }
                StreamInput::Down => self.flags.stream_up.store(false, Ordering::Relaxed),
                StreamInput::Trades(execs) => {
                    lock(&self.shared).apply_execs(execs.iter().map(BrokerExec::from).collect());
                }
                StreamInput::Orders(updates) => {
                    let statuses: Vec<BrokerStatus> = updates
                        .iter()
                        .filter_map(BrokerStatus::from_update)
                        .collect();
                    if lock(&self.shared).apply_statuses(&statuses) {
                        // `sor` saw fills `str` has not delivered: ask REST.
                        self.flags.resync.notify_one();
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::Tracked;
    use super::super::tests::worker_with_events;
    use super::*;
    use rust_decimal::dec;
    use tickline_engine::domain::{InstrumentId, OrderRequest, Side};

    fn exec(id: &str, broker: i64, qty: Decimal, commission: Option<Decimal>) -> BrokerExec {
        BrokerExec {
            exec_id: id.into(),
            broker_order_id: Some(broker),
            client_order_id: None,
            quantity: Some(qty),
            price: Some(dec!(100)),
            commission,
            ts: Some(1),
        }
    }

    fn track(s: &mut Shared, order: u64, broker: Option<i64>, coid: &str, unresolved: bool) {
        let order_id = OrderId(order);
        s.orders.insert(
            order_id,
            Tracked {
                request: OrderRequest::market(InstrumentId(0), Side::Buy, dec!(10)),
                coid: coid.into(),
                broker_id: broker,
                filled: Decimal::ZERO,
                replies: 0,
                pending_reply: None,
                done: unresolved,
                unresolved,
                warned: false,
                group: Vec::new(),
            },
        );
        if let Some(b) = broker {
            s.by_broker.insert(b, order_id);
        }
        s.by_coid.insert(coid.into(), order_id);
    }

    fn names(events: &[ExecEvent]) -> Vec<String> {
        events
            .iter()
            .map(|e| match e {
                ExecEvent::Filled(f) => format!("fill {} {}", f.quantity, f.commission),
                ExecEvent::Commission { commission, .. } => format!("commission {commission}"),
                ExecEvent::Accepted {
                    broker_order_id, ..
                } => {
                    format!("accepted {}", broker_order_id.unwrap_or_default())
                }
                ExecEvent::Cancelled { .. } => "cancelled".into(),
                other => format!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn executions_are_reported_once_and_late_commissions_correct_them() {
        let (w, rx) = worker_with_events();
        let mut s = lock(&w.shared);
        track(&mut s, 1, Some(77), "J-1", false);
        s.apply_execs(vec![exec("e1", 77, dec!(4), None)]);
        // The same execution from REST, now with its commission; then again unchanged.
        s.apply_execs(vec![exec("e1", 77, dec!(4), Some(dec!(1.25)))]);
        s.apply_execs(vec![exec("e1", 77, dec!(4), Some(dec!(1.25)))]);
        s.apply_execs(vec![exec("e2", 77, dec!(6), Some(dec!(0.75)))]);
        // Another platform's order and an execution without id: never reported.
        s.apply_execs(vec![
            exec("x9", 999, dec!(1), None),
            exec("", 77, dec!(1), None),
        ]);
        drop(s);
        let got = names(&rx.try_iter().collect::<Vec<_>>());
        assert_eq!(got, ["fill 4 0", "commission 1.25", "fill 6 0.75"]);
        assert!(lock(&w.shared).orders[&OrderId(1)].done, "filled in full");
    }

    #[test]
    fn executions_booked_by_an_earlier_run_are_not_reported_again() {
        let (w, rx) = worker_with_events();
        let mut s = lock(&w.shared);
        track(&mut s, 1, Some(77), "J-1", false);
        s.executions.insert(
            "e1".into(),
            Booked {
                order_id: None,
                commission: None,
            },
        );
        s.apply_execs(vec![
            exec("e1", 77, dec!(4), Some(dec!(1))),
            exec("e2", 77, dec!(1), None),
        ]);
        drop(s);
        assert_eq!(names(&rx.try_iter().collect::<Vec<_>>()), ["fill 1 0"]);
    }

    #[test]
    fn an_order_whose_answer_was_lost_is_accepted_when_it_shows_up() {
        let (w, rx) = worker_with_events();
        let mut s = lock(&w.shared);
        track(&mut s, 3, None, "J-3", true);
        let mut e = exec("e5", 501, dec!(10), Some(dec!(1)));
        e.client_order_id = Some("J-3".into());
        s.apply_execs(vec![e]);
        drop(s);
        assert_eq!(
            names(&rx.try_iter().collect::<Vec<_>>()),
            ["accepted 501", "fill 10 1"]
        );
    }

    #[test]
    fn a_cancel_is_reported_after_the_fills_it_follows() {
        let (w, rx) = worker_with_events();
        let mut s = lock(&w.shared);
        track(&mut s, 1, Some(77), "J-1", false);
        let cancelled = |filled| BrokerStatus {
            broker_order_id: 77,
            client_order_id: None,
            status: "Cancelled".into(),
            filled: Some(filled),
            reason: None,
            warning: None,
        };
        assert!(
            s.apply_statuses(&[cancelled(dec!(3))]),
            "fills missing: read them first"
        );
        s.apply_execs(vec![exec("e1", 77, dec!(3), Some(dec!(1)))]);
        assert!(!s.apply_statuses(&[cancelled(dec!(3))]));
        assert!(!s.apply_statuses(&[cancelled(dec!(3))]), "reported once");
        // Statuses of orders that are not ours change nothing.
        let mut foreign = cancelled(dec!(0));
        foreign.broker_order_id = 12;
        assert!(!s.apply_statuses(&[foreign]));
        drop(s);
        assert_eq!(
            names(&rx.try_iter().collect::<Vec<_>>()),
            ["fill 3 1", "cancelled"]
        );
    }

    #[test]
    fn a_warn_state_order_works_on_and_its_warning_is_noted_once() {
        let (w, rx) = worker_with_events();
        let mut s = lock(&w.shared);
        track(&mut s, 1, Some(77), "J-1", false);
        let warned = BrokerStatus {
            broker_order_id: 77,
            client_order_id: None,
            status: "WarnState".into(),
            filled: Some(Decimal::ZERO),
            reason: None,
            warning: Some("price capped".into()),
        };
        assert!(!s.apply_statuses(std::slice::from_ref(&warned)));
        assert!(s.orders[&OrderId(1)].warned);
        assert!(!s.apply_statuses(&[warned]));
        assert!(!s.orders[&OrderId(1)].done, "still working");
        drop(s);
        assert!(
            rx.try_iter().next().is_none(),
            "no event: the order works on"
        );
    }

    #[test]
    fn trade_time_from_millis_or_text() {
        assert_eq!(
            trade_ts(Some(1_702_317_649_000), None),
            Some(1_702_317_649_000_000_000)
        );
        assert_eq!(
            trade_ts(None, Some("20231211-18:00:49")),
            Some(1_702_317_649_000_000_000)
        );
        assert_eq!(trade_ts(None, Some("yesterday")), None);
    }
}
