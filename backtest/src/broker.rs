//! The simulated broker: the backtester's [`ExecutionClient`].
//!
//! It accepts orders at once (after any configured prompts are confirmed), matches working
//! orders against each new bar with the rules in [`crate::fill`], charges commissions from
//! [`crate::commission`], and reports everything back as [`ExecEvent`]s. Market orders fill
//! at the next bar's open by default, or at the signal bar's close (`fill = "close"`).
//! Optional volume participation caps each fill at a fraction of the bar's volume, which
//! produces partial fills. DAY orders expire at the end of the exchange day on which they
//! could first trade; IOC remainders are cancelled after their first bar.

use std::collections::{HashMap, HashSet};
use std::str::FromStr;

use chrono::{NaiveTime, TimeZone};
use rust_decimal::Decimal;
use rust_decimal::prelude::FromPrimitive;
use serde::{Deserialize, Serialize};

use tickline_engine::domain::{
    Bar, ClientOrderId, ExecId, Fill, Instrument, OrderId, OrderRequest, OrderType, TimeInForce, Ts,
};
use tickline_engine::execution::{ExecCommand, ExecEvent, ExecutionClient, Prompt};

use crate::commission::CommissionModel;
use crate::fill::{
    BarOutcome, BarPath, PreparedSlippage, Slippage, apply_prepared_slippage, match_bar,
    slip_within_f64_range,
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
        let broker_id = self.next_broker_id;
        self.next_broker_id += 1;
        self.events.push(ExecEvent::Accepted {
            order_id,
            broker_order_id: Some(broker_id),
            ts: self.now,
        });
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
        };
        let i = request.instrument.index();
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
            }
            if w.filled == request.quantity {
                return;
            }
        }
        self.working[i].push(w);
        self.working_count += 1;
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
        let remaining = w.request.quantity - w.filled;
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
        self.working
            .iter()
            .enumerate()
            .find_map(|(i, ws)| ws.iter().position(|w| w.order_id == id).map(|k| (i, k)))
    }

    fn cancel(&mut self, order_id: OrderId) {
        if let Some((i, k)) = self.find(order_id) {
            self.working[i].remove(k);
            self.working_count -= 1;
            self.events.push(ExecEvent::Cancelled {
                order_id,
                reason: None,
                ts: self.now,
            });
            return;
        }
        if let Some(key) = self
            .pending
            .iter()
            .find(|(_, p)| p.order_id == order_id)
            .map(|(k, _)| k.clone())
        {
            self.pending.remove(&key);
            self.events.push(ExecEvent::Cancelled {
                order_id,
                reason: Some("cancelled while awaiting confirmation".into()),
                ts: self.now,
            });
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
        self.events.push(ExecEvent::Modified {
            order_id,
            request,
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
        if !self.working[i].is_empty() {
            self.match_orders(bar);
        }
        if self.keep_last_bar {
            self.last_bar[i] = Some(*bar);
        }
        self.now = bar.ts_end;
    }

    /// Match the instrument's working orders against `bar`.
    fn match_orders(&mut self, bar: &Bar) {
        let i = bar.instrument.index();
        let Some(open) = self.instruments[i].price_from_f64(bar.open) else {
            return;
        };
        // The full intrabar path is built only when a non-market order needs it.
        let mut path: Option<BarPath> = None;
        let mut ws = std::mem::take(&mut self.working[i]);
        let mut k = 0;
        while k < ws.len() {
            let w = &mut ws[k];
            if !w.evaluated {
                w.evaluated = true;
                w.first_bar = bar.ts;
            } else if w.request.tif == TimeInForce::Day {
                // The exchange day is computed only for orders that outlive their first bar
                // (most market orders do not).
                let end = match w.expires_at {
                    Some(t) => t,
                    None => *w.expires_at.insert(self.day_end(i, w.first_bar)),
                };
                if bar.ts >= end {
                    self.events.push(ExecEvent::Expired {
                        order_id: w.order_id,
                        ts: bar.ts,
                    });
                    ws.remove(k);
                    self.working_count -= 1;
                    continue;
                }
            }
            let r = w.request;
            let outcome = if r.order_type == OrderType::Market {
                BarOutcome::Fill {
                    price: open,
                    slipped: true,
                }
            } else {
                let p = match path {
                    Some(p) => p,
                    None => {
                        let inst = &self.instruments[i];
                        let Some(p) =
                            BarPath::from_f64(inst, bar.open, bar.high, bar.low, bar.close)
                        else {
                            k += 1;
                            continue;
                        };
                        *path.insert(p)
                    }
                };
                match_bar(
                    &p,
                    r.order_type,
                    r.side,
                    r.limit_price,
                    r.stop_price,
                    w.triggered,
                )
            };
            match outcome {
                BarOutcome::Fill { price, slipped } => {
                    let qty = self.fill_qty(w, bar.volume);
                    if qty > Decimal::ZERO {
                        // Fills at the open happen at the bar's open time, others during it.
                        let ts = if price == open { bar.ts } else { bar.ts_end };
                        let price = if slipped {
                            let inst = &self.instruments[i];
                            slip_within_f64_range(
                                inst,
                                r.side,
                                price,
                                self.slippage,
                                bar.low,
                                bar.high,
                            )
                            .unwrap_or_else(|| {
                                let range = self.range_of(i, bar);
                                apply_prepared_slippage(inst, r.side, price, self.slippage, range)
                            })
                        } else {
                            price
                        };
                        self.fill(w, qty, price, ts);
                    }
                    if r.order_type == OrderType::StopLimit {
                        w.triggered = true;
                    }
                    if r.order_type == OrderType::Stop {
                        // A triggered stop is a market order from now on.
                        w.request.order_type = OrderType::Market;
                        w.request.stop_price = None;
                    }
                }
                BarOutcome::NoFill { triggered } => w.triggered |= triggered,
            }
            let done = w.filled == r.quantity;
            if !done && r.tif == TimeInForce::Ioc {
                self.events.push(ExecEvent::Cancelled {
                    order_id: w.order_id,
                    reason: Some("IOC remainder cancelled".into()),
                    ts: bar.ts_end,
                });
            }
            if done || r.tif == TimeInForce::Ioc {
                ws.remove(k);
                self.working_count -= 1;
            } else {
                k += 1;
            }
        }
        self.working[i] = ws;
    }
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
