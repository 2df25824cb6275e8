//! The simulated broker: the backtester's [`ExecutionClient`].
//!
//! It accepts orders at once (after any configured prompts are confirmed), matches working
//! orders against each new bar with the rules in [`crate::fill`], charges commissions from
//! [`crate::commission`], and reports everything back as [`ExecEvent`]s. Market orders fill
//! at the next bar's open by default, or at the signal bar's close (`fill = "close"`).
//! Optional volume participation caps each fill at a fraction of the bar's volume, which
//! produces partial fills. DAY orders expire at the end of the exchange day on which they
//! could first trade; IOC remainders are cancelled after their first bar.
//!
//! Order groups live here too, so the backtest and the gateway emulator (which runs this
//! broker) treat them alike:
//! * **Bracket exits** (`parent` set) wait until the parent fills and may then fill what it
//!   filled so far; on the bar the parent fills they start where it filled, so an exit can
//!   fill later on the same bar. A parent that ends without a fill cancels its exits.
//! * **OCA groups** (`oca_group`) reduce on fill: a member's fill lowers every member's
//!   remaining quantity by as much; a member left with nothing is cancelled. Fills on a bar
//!   are applied in the order the intrabar path reaches them, so when both exits of a
//!   bracket could fill on one bar the one reached first wins (see [`crate::fill`]).
//! * **On-close** orders (MOC, LOC) run in the closing auction: at the close of the last bar
//!   of their exchange day (booked when the next day's first bar arrives); an LOC whose
//!   limit the close does not meet is cancelled.
//! * **OPG** orders (market or limit) trade only at the open of the first bar of a later
//!   exchange day than the one they were submitted in, else they are cancelled.

use std::collections::{HashMap, HashSet};
use std::str::FromStr;

use chrono::{NaiveTime, TimeZone};
use rust_decimal::Decimal;
use rust_decimal::prelude::FromPrimitive;
use serde::{Deserialize, Serialize};

use tickline_engine::domain::{
    Bar, ClientOrderId, ExecId, Fill, Instrument, OrderId, OrderRequest, OrderType, Side,
    TimeInForce, Ts,
};
use tickline_engine::execution::{ExecCommand, ExecEvent, ExecutionClient, Prompt};

use crate::commission::CommissionModel;
use crate::fill::{
    BarPath, PathPoint, PreparedSlippage, Resting, Slippage, Step, Touch, apply_prepared_slippage,
    slip_within_f64_range, walk,
};
use crate::prompts::PromptRule;

/// When market orders fill.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FillMode {
    /// At the open of the bar after the signal (no look-ahead; the default).
    #[default]
    NextOpen,
    /// At the close of the bar the strategy just saw.
    Close,
}

/// `[broker]` configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrokerConfig {
    #[serde(default)]
    pub fill: FillMode,
    #[serde(default)]
    pub commission: CommissionModel,
    /// Slippage on market and stop fills, in basis points of price.
    #[serde(default)]
    pub slippage_bps: Decimal,
    /// Slippage on market and stop fills, in ticks (added to `slippage_bps`).
    #[serde(default)]
    pub slippage_ticks: Decimal,
    /// Fill at most this fraction (0–1] of a bar's volume per order and bar.
    #[serde(default)]
    pub max_volume_participation: Option<f64>,
    /// Prompt rules (IBKR-style order questions).
    #[serde(default)]
    pub prompts: Vec<PromptRule>,
}

impl Default for BrokerConfig {
    fn default() -> Self {
        BrokerConfig {
            fill: FillMode::NextOpen,
            commission: CommissionModel::IbkrFixed,
            slippage_bps: Decimal::ZERO,
            slippage_ticks: Decimal::ZERO,
            max_volume_participation: None,
            prompts: Vec::new(),
        }
    }
}

#[derive(Clone, Debug)]
struct Working {
    order_id: OrderId,
    client_order_id: ClientOrderId,
    request: OrderRequest,
    filled: Decimal,
    /// Σ |qty · price · multiplier| of the fills so far, fixed point (`tickline_engine::money`).
    filled_value: i128,
    triggered: bool,
    /// End of the exchange day on which the order could first trade (DAY orders).
    expires_at: Option<Ts>,
    /// Open time of the first bar the order was matched against.
    first_bar: Ts,
    evaluated: bool,
    /// What the order may fill in all: its quantity, or for a bracket exit what its parent
    /// has filled so far (at most its quantity).
    released: Decimal,
    /// Fills counted against the order: its own and, in an OCA group, every member's.
    used: Decimal,
    /// A trailing stop's current stop.
    trail_stop: Option<Decimal>,
    /// On-close orders: end time and close of the latest bar of the order's exchange day.
    closing: Option<(Ts, Decimal)>,
    /// When the broker accepted it (an OPG order trades at the next day's open after this).
    accepted_at: Ts,
    /// Where on the current bar the order may start filling (`None`: not on this bar).
    start: Option<PathPoint>,
    filled_on_bar: bool,
    /// Set when the order is to leave the book, with the time of the event.
    ended: Option<(End, Ts)>,
}

/// Why a working order leaves the book.
#[derive(Clone, Copy, Debug, PartialEq)]
enum End {
    /// Filled completely (its fills were reported: no further event).
    Filled,
    Expired,
    /// Cancelled by request.
    Cancelled,
    /// Cancelled by the broker, with the reason.
    CancelledBy(&'static str),
}

impl Working {
    /// Part of a bracket or OCA group.
    #[inline]
    fn linked(&self) -> bool {
        self.request.parent.is_some() || self.request.oca_group.is_some()
    }

    /// What the order may still fill.
    #[inline]
    fn remaining(&self) -> Decimal {
        if !self.linked() {
            // A plain order: released is its quantity and only its own fills count.
            return self.request.quantity - self.filled;
        }
        (self.released.min(self.request.quantity) - self.used).max(Decimal::ZERO)
    }

    fn resting(&self) -> Resting {
        let r = &self.request;
        Resting {
            order_type: r.order_type,
            side: r.side,
            limit: r.limit_price,
            stop: r.stop_price,
            trail: r.trail,
            limit_offset: r.limit_offset,
            triggered: self.triggered,
            trail_stop: self.trail_stop,
        }
    }

    /// Keep what a walk along the bar learnt (a trigger, a trailing stop's move).
    fn commit(&mut self, step: &Step) {
        self.triggered = step.triggered;
        self.trail_stop = step.trail_stop;
        if let Some(l) = step.limit {
            self.request.limit_price = Some(l);
        }
    }

    fn on_close(&self) -> bool {
        matches!(
            self.request.order_type,
            OrderType::MarketOnClose | OrderType::LimitOnClose
        )
    }
}

#[derive(Clone, Debug)]
struct PendingPrompt {
    order_id: OrderId,
    client_order_id: ClientOrderId,
    request: OrderRequest,
    /// Indices into the prompt rules still to ask, in order.
    questions: Vec<usize>,
}

/// A simulated broker over a fixed instrument table.
pub struct SimBroker {
    cfg: BrokerConfig,
    slippage: PreparedSlippage,
    instruments: Vec<Instrument>,
    timezones: Vec<chrono_tz::Tz>,
    working: Vec<Vec<Working>>,
    working_count: usize,
    last_bar: Vec<Option<Bar>>,
    /// Whether `last_bar` is needed: close fills and prompt rules (which look at the last
    /// price) use it. Otherwise the per-bar copy is skipped: it reads the bar the caller has
    /// just written field by field with wide loads, which stalls on store forwarding and
    /// cost ≈ 7 % of a backtest.
    keep_last_bar: bool,
    now: Ts,
    events: Vec<ExecEvent>,
    next_broker_id: u64,
    next_reply: u64,
    pending: HashMap<String, PendingPrompt>,
    suppressed: HashSet<String>,
    /// What orders filled on acceptance (market orders at the close), for bracket exits
    /// that arrive after their parent is done, in the same batch; cleared on every bar.
    finished: HashMap<OrderId, Decimal>,
    /// An OCA fill reached members on other instruments: settle every book.
    settle_all: bool,
}

impl SimBroker {
    /// `instruments` must be indexed by `InstrumentId` (as the kernel numbers them).
    pub fn new(cfg: BrokerConfig, instruments: &[Instrument]) -> SimBroker {
        let n = instruments.len();
        let keep_last_bar = cfg.fill == FillMode::Close || !cfg.prompts.is_empty();
        SimBroker {
            slippage: Slippage {
                bps: cfg.slippage_bps,
                ticks: cfg.slippage_ticks,
            }
            .prepared(),
            cfg,
            timezones: instruments
                .iter()
                .map(|i| chrono_tz::Tz::from_str(&i.timezone).unwrap_or(chrono_tz::UTC))
                .collect(),
            instruments: instruments.to_vec(),
            working: vec![Vec::new(); n],
            working_count: 0,
            last_bar: vec![None; n],
            keep_last_bar,
            now: Ts::MIN,
            events: Vec::with_capacity(16),
            next_broker_id: 1_000_000_001,
            next_reply: 1,
            pending: HashMap::new(),
            suppressed: HashSet::new(),
            finished: HashMap::new(),
            settle_all: false,
        }
    }

    /// Orders currently working (accepted, not done).
    pub fn working_orders(&self) -> usize {
        self.working_count
    }

    /// Message ids currently suppressed.
    pub fn suppressed(&self) -> &HashSet<String> {
        &self.suppressed
    }

    /// The client order id of a working or prompt-pending order.
    pub fn client_order_id(&self, id: OrderId) -> Option<ClientOrderId> {
        self.working
            .iter()
            .flatten()
            .find(|w| w.order_id == id)
            .map(|w| w.client_order_id)
            .or_else(|| {
                self.pending
                    .values()
                    .find(|p| p.order_id == id)
                    .map(|p| p.client_order_id)
            })
    }

    fn last_price(&self, i: usize) -> Option<Decimal> {
        let bar = self.last_bar.get(i)?.as_ref()?;
        self.instruments[i].price_from_f64(bar.close)
    }

    fn submit(&mut self, order_id: OrderId, client_order_id: ClientOrderId, request: OrderRequest) {
        let i = request.instrument.index();
        let Some(inst) = self.instruments.get(i) else {
            self.events.push(ExecEvent::Rejected {
                order_id,
                reason: format!("unknown instrument id {}", request.instrument.0),
                ts: self.now,
            });
            return;
        };
        let last = self.last_price(i);
        let questions: Vec<usize> = self
            .cfg
            .prompts
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                !self.suppressed.contains(&r.message_id) && r.fires(&request, inst, last)
            })
            .map(|(k, _)| k)
            .collect();
        if questions.is_empty() {
            self.accept(order_id, client_order_id, request);
        } else {
            self.ask(PendingPrompt {
                order_id,
                client_order_id,
                request,
                questions,
            });
        }
    }

    /// Ask the first remaining question of `p` under a fresh reply id.
    fn ask(&mut self, mut p: PendingPrompt) {
        let rule = &self.cfg.prompts[p.questions.remove(0)];
        let reply_id = format!("sim-reply-{}", self.next_reply);
        self.next_reply += 1;
        self.events.push(ExecEvent::Prompt {
            order_id: p.order_id,
            prompt: Prompt {
                reply_id: reply_id.clone(),
                message_ids: vec![rule.message_id.clone()],
                messages: vec![rule.text()],
            },
            ts: self.now,
        });
        self.pending.insert(reply_id, p);
    }

    fn reply(&mut self, order_id: OrderId, reply_id: &str, confirmed: bool) {
        let Some(mut p) = self.pending.remove(reply_id) else {
            self.events.push(ExecEvent::Rejected {
                order_id,
                reason: format!("reply id not found: '{reply_id}'"),
                ts: self.now,
            });
            return;
        };
        if !confirmed {
            self.events.push(ExecEvent::Rejected {
                order_id: p.order_id,
                reason: "Order not confirmed".into(),
                ts: self.now,
            });
            self.settle(p.request.instrument.index());
            return;
        }
        // Questions suppressed since they were queued are skipped.
        p.questions
            .retain(|k| !self.suppressed.contains(&self.cfg.prompts[*k].message_id));
        if p.questions.is_empty() {
            self.accept(p.order_id, p.client_order_id, p.request);
        } else {
            self.ask(p);
        }
    }

    fn accept(&mut self, order_id: OrderId, client_order_id: ClientOrderId, request: OrderRequest) {
        let i = request.instrument.index();
        let released = match request.parent {
            None => request.quantity,
            Some(p) => match self.parent_filled(i, p) {
                Some(filled) => filled.min(request.quantity),
                None => {
                    self.events.push(ExecEvent::Rejected {
                        order_id,
                        reason: format!("bracket parent {p} is not working and did not fill"),
                        ts: self.now,
                    });
                    return;
                }
            },
        };
        let broker_id = self.next_broker_id;
        self.next_broker_id += 1;
        self.events.push(ExecEvent::Accepted {
            order_id,
            broker_order_id: Some(broker_id),
            ts: self.now,
        });
        let used = request
            .oca_group
            .map(|g| self.group_used(g))
            .unwrap_or(Decimal::ZERO);
        let mut w = Working {
            order_id,
            client_order_id,
            request,
            filled: Decimal::ZERO,
            filled_value: 0,
            triggered: false,
            expires_at: None,
            first_bar: 0,
            evaluated: false,
            released,
            used,
            trail_stop: None,
            closing: None,
            accepted_at: self.now,
            start: None,
            filled_on_bar: false,
            ended: None,
        };
        if self.cfg.fill == FillMode::Close
            && request.order_type == OrderType::Market
            && let Some(bar) = self.last_bar[i]
            && let Some(close) = self.instruments[i].price_from_f64(bar.close)
        {
            let range = self.range_of(i, &bar);
            let qty = self.fill_qty(&w, bar.volume);
            if qty > Decimal::ZERO {
                let px = apply_prepared_slippage(
                    &self.instruments[i],
                    request.side,
                    close,
                    self.slippage,
                    range,
                );
                self.fill(&mut w, qty, px, bar.ts_end);
                let mut ws = std::mem::take(&mut self.working[i]);
                self.propagate((&mut ws, &mut []), &mut w, qty, None);
                self.working[i] = ws;
                // Its bracket exits, if any, arrive next in this batch.
                self.finished.insert(order_id, w.filled);
            }
        }
        self.working[i].push(w);
        self.working_count += 1;
        self.settle(i);
    }

    /// What bracket parent `p` of an order on instrument `i` has filled: `Some(0)` while it
    /// works (or waits for a prompt's answer) unfilled, `None` when it is gone unfilled.
    fn parent_filled(&self, i: usize, p: OrderId) -> Option<Decimal> {
        if let Some(w) = self.working[i].iter().find(|w| w.order_id == p) {
            return Some(w.filled);
        }
        if self.pending.values().any(|q| q.order_id == p) {
            return Some(Decimal::ZERO);
        }
        self.finished.get(&p).copied()
    }

    /// Whether bracket parent `p` can still fill.
    fn parent_working(&self, i: usize, p: OrderId) -> bool {
        self.working[i]
            .iter()
            .any(|w| w.order_id == p && w.ended.is_none())
            || self.pending.values().any(|q| q.order_id == p)
    }

    /// Σ fills so far of OCA group `g` (for a member that joins late).
    fn group_used(&self, g: OrderId) -> Decimal {
        self.working
            .iter()
            .flatten()
            .find(|w| w.request.oca_group == Some(g))
            .map_or(Decimal::ZERO, |w| w.used)
    }

    /// After `filler` (split from the rest of its book, `before` and `after` it) filled `qty`: count it against its OCA group and
    /// release as much to its bracket exits, which start at `at` on this bar when given.
    fn propagate(
        &mut self,
        (before, after): (&mut [Working], &mut [Working]),
        filler: &mut Working,
        qty: Decimal,
        at: Option<PathPoint>,
    ) {
        filler.used += qty;
        let (id, group) = (filler.order_id, filler.request.oca_group);
        for w in self.working.iter_mut().flatten() {
            if group.is_some() && w.request.oca_group == group {
                w.used += qty;
                self.settle_all = true;
            }
        }
        for w in before.iter_mut().chain(after.iter_mut()) {
            if group.is_some() && w.request.oca_group == group {
                w.used += qty;
            }
            if w.request.parent == Some(id) {
                w.released = (w.released + qty).min(w.request.quantity);
                if let Some(at) = at
                    && w.start.is_none()
                    && !w.filled_on_bar
                    && w.ended.is_none()
                {
                    w.start = Some(at);
                }
            }
        }
    }

    /// Take done orders off instrument `i`'s book and report why: complete, expired,
    /// cancelled, an IOC / OPG remainder, an OCA member left with nothing, a bracket exit
    /// whose parent ended without leaving anything to close. Repeats while a removal ends
    /// another order (a parent's exits).
    fn settle(&mut self, i: usize) {
        self.settle_book(i);
        if std::mem::take(&mut self.settle_all) {
            for k in 0..self.working.len() {
                self.settle_book(k);
            }
        }
    }

    fn settle_book(&mut self, i: usize) {
        loop {
            let mut removed_parent = false;
            let mut k = 0;
            while k < self.working[i].len() {
                let w = &self.working[i][k];
                let verdict = if let Some(end) = w.ended {
                    Some(end)
                } else if w.filled == w.request.quantity {
                    Some((End::Filled, self.now))
                } else if w.remaining().is_zero()
                    && w.request.parent.is_none_or(|p| !self.parent_working(i, p))
                {
                    let reason = if w.request.parent.is_some() && w.released.is_zero() {
                        "bracket parent ended without a fill"
                    } else if w.used > w.filled {
                        "OCA group: filled by another member"
                    } else {
                        "nothing left to close: the parent filled less"
                    };
                    Some((End::CancelledBy(reason), self.now))
                } else {
                    None
                };
                let Some((end, ts)) = verdict else {
                    k += 1;
                    continue;
                };
                let order_id = w.order_id;
                // Dropped in place: a working order is too large to move out for one field.
                self.working[i].drain(k..=k);
                self.working_count -= 1;
                removed_parent |= self.working[i]
                    .iter()
                    .any(|c| c.request.parent == Some(order_id));
                self.events.push(match end {
                    End::Filled => continue,
                    End::Expired => ExecEvent::Expired { order_id, ts },
                    End::Cancelled => ExecEvent::Cancelled {
                        order_id,
                        reason: None,
                        ts,
                    },
                    End::CancelledBy(reason) => ExecEvent::Cancelled {
                        order_id,
                        reason: Some(reason.into()),
                        ts,
                    },
                });
            }
            if !removed_parent {
                return;
            }
        }
    }

    fn range_of(&self, i: usize, bar: &Bar) -> Option<(Decimal, Decimal)> {
        let inst = &self.instruments[i];
        Some((
            inst.price_from_f64(bar.low)?,
            inst.price_from_f64(bar.high)?,
        ))
    }

    /// Quantity this order may fill on a bar with `volume`.
    fn fill_qty(&self, w: &Working, volume: f64) -> Decimal {
        let remaining = w.remaining();
        match self.cfg.max_volume_participation {
            None => remaining,
            Some(frac) => {
                let cap = Decimal::from_f64(volume * frac).unwrap_or(Decimal::ZERO);
                let cap = self.instruments[w.request.instrument.index()].round_qty(cap);
                remaining.min(cap)
            }
        }
    }

    fn fill(&mut self, w: &mut Working, qty: Decimal, price: Decimal, ts: Ts) {
        let inst = &self.instruments[w.request.instrument.index()];
        let (commission, value) =
            self.cfg
                .commission
                .for_fill_fixed(inst, w.filled, w.filled_value, qty, price);
        w.filled += qty;
        w.filled_value += value;
        self.events.push(ExecEvent::Filled(Fill {
            order_id: w.order_id,
            instrument: w.request.instrument,
            side: w.request.side,
            quantity: qty,
            price,
            commission,
            ts,
            exec_id: ExecId::NONE,
        }));
    }

    fn day_end(&self, i: usize, ts: Ts) -> Ts {
        let tz = self.timezones[i];
        let local = chrono::DateTime::from_timestamp_nanos(ts)
            .with_timezone(&tz)
            .date_naive();
        let next = local.succ_opt().unwrap_or(local).and_time(NaiveTime::MIN);
        tz.from_local_datetime(&next)
            .earliest()
            .and_then(|t| t.timestamp_nanos_opt())
            .unwrap_or(ts.saturating_add(86_400_000_000_000))
    }

    fn find(&self, id: OrderId) -> Option<(usize, usize)> {
        self.working.iter().enumerate().find_map(|(i, ws)| {
            ws.iter()
                .position(|w| w.order_id == id && w.ended.is_none())
                .map(|k| (i, k))
        })
    }

    fn cancel(&mut self, order_id: OrderId) {
        if let Some((i, k)) = self.find(order_id) {
            self.working[i][k].ended = Some((End::Cancelled, self.now));
            self.settle(i);
            return;
        }
        if let Some(key) = self
            .pending
            .iter()
            .find(|(_, p)| p.order_id == order_id)
            .map(|(k, _)| k.clone())
        {
            if let Some(p) = self.pending.remove(&key) {
                self.events.push(ExecEvent::Cancelled {
                    order_id,
                    reason: Some("cancelled while awaiting confirmation".into()),
                    ts: self.now,
                });
                self.settle(p.request.instrument.index());
            }
            return;
        }
        self.events.push(ExecEvent::CancelRejected {
            order_id,
            reason: format!("OrderID {order_id} doesn't exist or is no longer working"),
            ts: self.now,
        });
    }

    fn modify(&mut self, order_id: OrderId, request: OrderRequest) {
        let Some((i, k)) = self.find(order_id) else {
            self.events.push(ExecEvent::ModifyRejected {
                order_id,
                reason: format!("OrderID {order_id} doesn't exist or is no longer working"),
                ts: self.now,
            });
            return;
        };
        let w = &mut self.working[i][k];
        if request.instrument != w.request.instrument || request.side != w.request.side {
            self.events.push(ExecEvent::ModifyRejected {
                order_id,
                reason: "instrument and side cannot be modified".into(),
                ts: self.now,
            });
            return;
        }
        if request.quantity <= w.filled {
            self.events.push(ExecEvent::ModifyRejected {
                order_id,
                reason: format!(
                    "quantity {} is not above the filled {}",
                    request.quantity, w.filled
                ),
                ts: self.now,
            });
            return;
        }
        w.request = request;
        if request.parent.is_none() {
            // A bracket exit stays sized by its parent's fills.
            w.released = request.quantity;
        }
        self.events.push(ExecEvent::Modified {
            order_id,
            request: Box::new(request),
            ts: self.now,
        });
    }

    /// A new bar: match the instrument's working orders against it; the resulting events
    /// wait for [`ExecutionClient::poll`].
    #[inline]
    pub fn on_bar(&mut self, bar: &Bar) {
        let i = bar.instrument.index();
        if i >= self.last_bar.len() {
            return;
        }
        self.now = bar.ts;
        if !self.finished.is_empty() {
            self.finished.clear();
        }
        if !self.working[i].is_empty() {
            self.match_orders(bar);
        }
        if self.keep_last_bar {
            self.last_bar[i] = Some(*bar);
        }
        self.now = bar.ts_end;
    }

    /// Match the instrument's working orders against `bar`: bookkeeping (first bar, closing
    /// auction, opening, DAY expiry), then the fills in the order the path reaches them, then
    /// what the orders that did not fill learnt on the way, then [`Self::settle`].
    fn match_orders(&mut self, bar: &Bar) {
        let i = bar.instrument.index();
        let inst = &self.instruments[i];
        // Market orders only look at the open: the whole path (four price conversions) is
        // built only when another type works.
        let path = if self.working[i]
            .iter()
            .all(|w| w.request.order_type == OrderType::Market)
        {
            let Some(open) = inst.price_from_f64(bar.open) else {
                return;
            };
            BarPath::new(open, open, open, open)
        } else {
            let Some(p) = BarPath::from_f64(inst, bar.open, bar.high, bar.low, bar.close) else {
                return;
            };
            p
        };
        let open = PathPoint::open(&path);
        let mut ws = std::mem::take(&mut self.working[i]);
        for k in 0..ws.len() {
            let (w, others) = split(&mut ws, k);
            self.prepare(others, w, bar, open);
        }
        loop {
            let mut best: Option<(usize, Step, Touch, (usize, Decimal))> = None;
            for (k, w) in ws.iter().enumerate() {
                let Some(from) = w.start.filter(|_| !w.filled_on_bar) else {
                    continue;
                };
                // Only a group's fills can use up an order during the bar.
                if w.linked() && w.remaining().is_zero() {
                    continue;
                }
                let step = walk(&path, &self.instruments[i], &w.resting(), from);
                let Some(t) = step.fill else {
                    continue;
                };
                if w.request.tif == TimeInForce::Opg && t.at != open {
                    continue; // OPG trades at the opening or not at all
                }
                let key = t.at.key(&path);
                if best.as_ref().is_none_or(|b| key < b.3) {
                    best = Some((k, step, t, key));
                }
            }
            let Some((k, step, t, _)) = best else {
                break;
            };
            let (w, others) = split(&mut ws, k);
            w.commit(&step);
            w.filled_on_bar = true;
            let qty = self.fill_qty(w, bar.volume);
            if qty > Decimal::ZERO {
                // Fills at the open happen at the bar's open time, others during it.
                let ts = if t.at == open { bar.ts } else { bar.ts_end };
                let inst = &self.instruments[i];
                let price = if t.slipped {
                    slip_within_f64_range(
                        inst,
                        w.request.side,
                        t.price,
                        self.slippage,
                        bar.low,
                        bar.high,
                    )
                    .unwrap_or_else(|| {
                        let range = self.range_of(i, bar);
                        apply_prepared_slippage(inst, w.request.side, t.price, self.slippage, range)
                    })
                } else {
                    t.price
                };
                self.fill(w, qty, price, ts);
                self.propagate(others, w, qty, Some(t.at));
            }
            if matches!(
                w.request.order_type,
                OrderType::Stop | OrderType::TrailingStop
            ) {
                // A triggered stop is a market order from now on.
                w.request.order_type = OrderType::Market;
                w.request.stop_price = None;
            }
        }
        for w in ws.iter_mut() {
            let Some(from) = w.start.take() else {
                continue;
            };
            if !w.filled_on_bar {
                let step = walk(&path, &self.instruments[i], &w.resting(), from);
                w.commit(&step);
            }
            w.filled_on_bar = false;
            let open_left = w.filled < w.request.quantity && w.ended.is_none();
            if open_left && w.request.tif == TimeInForce::Ioc {
                w.ended = Some((End::CancelledBy("IOC remainder cancelled"), bar.ts_end));
            } else if open_left && w.request.tif == TimeInForce::Opg {
                w.ended = Some((
                    End::CancelledBy("OPG order not filled at the opening"),
                    bar.ts,
                ));
            }
        }
        self.working[i] = ws;
        self.settle(i);
    }

    /// Bookkeeping for one order before the fills of `bar`: the closing auction of on-close
    /// orders, the opening of OPG orders, DAY expiry, and where the order may start filling.
    fn prepare(
        &mut self,
        others: (&mut [Working], &mut [Working]),
        w: &mut Working,
        bar: &Bar,
        open: PathPoint,
    ) {
        let i = bar.instrument.index();
        w.start = None;
        w.filled_on_bar = false;
        if w.ended.is_some() || (w.linked() && w.remaining().is_zero()) {
            return; // done, or a bracket exit waiting for its parent
        }
        let first = !w.evaluated;
        if first {
            w.evaluated = true;
            w.first_bar = bar.ts;
        }
        if w.on_close() {
            return self.auction(others, w, bar);
        }
        if w.request.tif == TimeInForce::Opg {
            if bar.ts >= self.day_end(i, w.accepted_at.saturating_sub(1)) {
                w.start = Some(open);
            }
            return;
        }
        if !first && w.request.tif == TimeInForce::Day {
            // The exchange day is computed only for orders that outlive their first bar
            // (most market orders do not).
            let end = match w.expires_at {
                Some(t) => t,
                None => *w.expires_at.insert(self.day_end(i, w.first_bar)),
            };
            if bar.ts >= end {
                w.ended = Some((End::Expired, bar.ts));
                return;
            }
        }
        w.start = Some(open);
    }

    /// An on-close order on `bar`: if the order's exchange day closed before this bar, it
    /// trades in that day's closing auction at the last close (an LOC only if the close meets
    /// its limit) and any remainder is cancelled; otherwise the bar's close is remembered.
    fn auction(&mut self, others: (&mut [Working], &mut [Working]), w: &mut Working, bar: &Bar) {
        let i = bar.instrument.index();
        let Some(close) = self.instruments[i].price_from_f64(bar.close) else {
            return;
        };
        let Some((end, last_close)) = w.closing else {
            w.closing = Some((bar.ts_end, close));
            return;
        };
        if bar.ts < self.day_end(i, end.saturating_sub(1)) {
            w.closing = Some((bar.ts_end, close));
            return;
        }
        let r = &w.request;
        let crosses = match (r.order_type, r.limit_price, r.side) {
            (OrderType::LimitOnClose, Some(l), Side::Buy) => last_close <= l,
            (OrderType::LimitOnClose, Some(l), Side::Sell) => last_close >= l,
            (OrderType::LimitOnClose, None, _) => false,
            _ => true,
        };
        let qty = w.remaining();
        if crosses && qty > Decimal::ZERO {
            self.fill(w, qty, last_close, end);
            self.propagate(others, w, qty, None);
        }
        if w.filled < w.request.quantity {
            w.ended = Some((End::CancelledBy("not filled in the closing auction"), end));
        }
    }
}

/// Order `k` of a book and the orders before and after it.
fn split(ws: &mut [Working], k: usize) -> (&mut Working, (&mut [Working], &mut [Working])) {
    let (before, rest) = ws.split_at_mut(k);
    let (w, after) = rest.split_first_mut().expect("k is an index of ws");
    (w, (before, after))
}

impl ExecutionClient for SimBroker {
    fn send(&mut self, cmd: ExecCommand) {
        match cmd {
            ExecCommand::Submit {
                order_id,
                client_order_id,
                request,
            } => self.submit(order_id, client_order_id, request),
            ExecCommand::Modify { order_id, request } => self.modify(order_id, request),
            ExecCommand::Cancel { order_id } => self.cancel(order_id),
            ExecCommand::ReplyPrompt {
                order_id,
                reply_id,
                confirmed,
            } => self.reply(order_id, &reply_id, confirmed),
            ExecCommand::SuppressQuestions { message_ids } => self.suppressed.extend(message_ids),
        }
    }

    #[inline]
    fn poll(&mut self, out: &mut Vec<ExecEvent>) {
        if !self.events.is_empty() {
            out.append(&mut self.events);
        }
    }

    #[inline]
    fn on_bar(&mut self, bar: &Bar, out: &mut Vec<ExecEvent>) {
        if self.working_count == 0 && !self.keep_last_bar && self.events.is_empty() {
            // Nothing to match or remember: most bars of most backtests.
            self.now = bar.ts_end;
            return;
        }
        SimBroker::on_bar(self, bar);
        if !self.events.is_empty() {
            out.append(&mut self.events);
        }
    }

    fn name(&self) -> &str {
        "simulated"
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod group_tests;
