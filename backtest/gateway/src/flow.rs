//! IBKR's order reply flow at the HTTP level: a placement or modification that triggers
//! prompt rules is answered with one question at a time under a fresh reply id; each
//! `/iserver/reply/{id}` `{"confirmed": true}` asks the next question or, after the last,
//! carries the action out. Suppressed message ids are skipped, reply ids expire after
//! `session.reply_ttl_secs` and can be used once. Server prompts (`p12`) hold the created
//! orders until `/iserver/notification` answers them; the injected 503 and `WarnState`
//! faults apply where the order is created.

use std::collections::VecDeque;

use serde_json::{Value, json};

use crate::api::error::ApiError;
use crate::clock::Millis;
use crate::faults::Order503;
use crate::orders::exchange::OrderError;
use crate::orders::ticket::Ticket;
use crate::prompts::{OrderFacts, P12_OPTIONS, PromptStyle, Question, questions};
use crate::state::{Core, Pending, PendingAction, PendingNotice, Push};

/// How a reply id lookup ended.
#[derive(Clone, Debug, PartialEq)]
pub enum ReplyOutcome {
    /// The id is unknown, used or expired.
    NotFound,
    /// The answer (ack list, next question, or error body).
    Answer(Value),
}

/// The warning a `WarnState` order carries.
const WARN_TEXT: &str = "Order held with a warning: the exchange flagged it for review; it keeps working (injected fault)";

/// IBKR's duplicate-`cOID` error text.
pub fn duplicate_coid(coid: &str) -> Value {
    json!({"error": format!("Order couldn't be submitted: Local order ID={coid} is already registered.")})
}

impl Core {
    /// Facts a prompt rule looks at for one ticket.
    fn facts<'a>(&'a self, t: &Ticket) -> OrderFacts<'a> {
        let c = &self.market.contracts[t.index];
        let q = &self.market.quotes[t.index];
        OrderFacts {
            contract: c,
            side: t.side,
            quantity: t.quantity,
            order_type: t.order_type,
            limit: t.limit,
            stop: t.stop,
            last: if q.has_data { c.price(q.last) } else { None },
            rth: c.is_rth(self.market.now()),
            has_market_data: self.session.streams.contains_key(&c.conid),
        }
    }

    /// Every prompt of `style` the tickets raise, in ticket then rule order.
    fn prompts_for(&self, tickets: &[Ticket], style: PromptStyle) -> VecDeque<Question> {
        let suppressed = |id: &str| self.session.suppressed.contains(id);
        tickets
            .iter()
            .flat_map(|t| questions(&self.prompts, &self.facts(t), &suppressed, style))
            .collect()
    }

    /// Ask the next unsuppressed question of `pending`, or carry the action out.
    pub fn proceed(&mut self, mut pending: Pending, now: Millis) -> Result<Value, ApiError> {
        while let Some(q) = pending.remaining.pop_front() {
            if self.session.suppressed.contains(&q.message_id) {
                continue;
            }
            let id = self.rng.uuid();
            let body = json!([{"id": id, "message": [q.text], "isSuppressed": false, "messageIds": [q.message_id]}]);
            pending.created = now;
            self.pending.insert(id, pending);
            return Ok(body);
        }
        self.execute(pending.action, now)
    }

    /// Answer a reply id.
    pub fn reply(
        &mut self,
        id: &str,
        confirmed: bool,
        now: Millis,
    ) -> Result<ReplyOutcome, ApiError> {
        let ttl = self.cfg.session.reply_ttl_secs.saturating_mul(1_000);
        let Some(p) = self.pending.remove(id) else {
            return Ok(ReplyOutcome::NotFound);
        };
        if now.saturating_sub(p.created) >= ttl {
            return Ok(ReplyOutcome::NotFound);
        }
        if !confirmed {
            return Ok(ReplyOutcome::Answer(
                json!({"error": "Order not confirmed "}),
            ));
        }
        self.proceed(p, now).map(ReplyOutcome::Answer)
    }

    /// Whether an order about to be created is answered with the injected 503, and whether it
    /// is created anyway.
    fn backend_timeout(&mut self) -> Option<bool> {
        if !self.dice.chance(self.faults.order_503_rate) {
            return None;
        }
        Some(match self.faults.order_503_outcome {
            Order503::Created => true,
            Order503::NotCreated => false,
            Order503::Random => self.dice.chance(0.5),
        })
    }

    /// Carry out a confirmed placement or modification.
    fn execute(&mut self, action: PendingAction, now: Millis) -> Result<Value, ApiError> {
        let now_ms = self.market.now_ms();
        match action {
            PendingAction::Place { account, tickets } => {
                if let Some(c) = tickets
                    .iter()
                    .filter_map(|t| t.coid.as_deref())
                    .find(|c| self.exchange.coid_taken(&account, c))
                {
                    return Ok(duplicate_coid(c));
                }
                let timeout = self.backend_timeout();
                if timeout == Some(false) {
                    tracing::info!(%account, "injected 503 on order placement (order not created)");
                    return Err(ApiError::BackendTimeout);
                }
                let server_prompt = self
                    .prompts_for(&tickets, PromptStyle::ServerPrompt)
                    .pop_front();
                let (ids, changes) =
                    self.exchange
                        .place(&account, &tickets, now_ms, server_prompt.is_some());
                self.publish(changes);
                if let Some(q) = server_prompt {
                    let answer = self.server_prompt(&ids, q, now);
                    return match timeout {
                        Some(_) => Err(ApiError::BackendTimeout),
                        None => Ok(answer),
                    };
                }
                self.maybe_warn(&ids, now_ms);
                if timeout.is_some() {
                    tracing::info!(%account, ?ids, "injected 503 on order placement (order created)");
                    return Err(ApiError::BackendTimeout);
                }
                Ok(Value::Array(ids.iter().map(|id| self.ack(*id)).collect()))
            }
            PendingAction::Modify {
                account,
                order_id,
                ticket,
            } => match self.exchange.modify(&account, order_id, &ticket, now_ms) {
                Ok(changes) => {
                    self.publish(changes);
                    Ok(json!([self.ack(order_id)]))
                }
                Err(OrderError::Unknown(id)) => {
                    Ok(json!({"error": format!("OrderID {id} doesn't exist")}))
                }
                Err(OrderError::Refused(reason)) => Ok(json!({"error": reason})),
            },
        }
    }

    /// Put new working orders in `WarnState` at the configured rate.
    fn maybe_warn(&mut self, ids: &[u64], now_ms: i64) {
        for &id in ids {
            if self.dice.chance(self.faults.warn_state_rate) {
                let changes = self.exchange.set_warning(id, WARN_TEXT, now_ms);
                self.publish(changes);
            }
        }
    }

    /// Hold `ids` behind a server prompt: the answer body, also pushed as `ntf`.
    fn server_prompt(&mut self, ids: &[u64], q: Question, now: Millis) -> Value {
        let req_id = self.rng.range(10_000, 99_999).to_string();
        let options: Vec<String> = P12_OPTIONS.iter().map(|s| s.to_string()).collect();
        let order_id = ids.first().copied().unwrap_or_default();
        let body = json!({
            "orderId": order_id, "reqId": req_id, "dismissable": [], "text": q.text,
            "options": options, "type": "M", "messageId": q.message_id, "prompt": true,
        });
        self.push(Push::Notice(body.clone()));
        self.notices.insert(
            req_id,
            PendingNotice {
                created: now,
                order_ids: ids.to_vec(),
                message_id: q.message_id,
                options,
            },
        );
        body
    }

    /// `/iserver/notification`: answer a server prompt with one of its options. The first
    /// two (`Use on this order`, `Always use`) release the orders (`Always use` also skips
    /// the prompt for the rest of the session); the last rejects them.
    pub fn answer_notice(
        &mut self,
        order_id: u64,
        req_id: &str,
        text: &str,
    ) -> Result<String, ApiError> {
        let notice = self.notices.get(req_id).ok_or_else(|| {
            ApiError::bad(format!(
                "reqId {req_id:?}: no server prompt is waiting for an answer"
            ))
        })?;
        if !notice.order_ids.contains(&order_id) {
            return Err(ApiError::bad(format!(
                "orderId {order_id}: not the order of prompt {req_id}"
            )));
        }
        let Some(choice) = notice.options.iter().position(|o| o == text) else {
            return Err(ApiError::bad(format!(
                "text: {text:?} is not one of the options {:?}",
                notice.options
            )));
        };
        let Some(notice) = self.notices.remove(req_id) else {
            return Err(ApiError::bad(format!("reqId {req_id:?}: already answered")));
        };
        let now_ms = self.market.now_ms();
        if choice + 1 == notice.options.len() {
            let changes = self.exchange.reject_held(
                &notice.order_ids,
                "Order rejected: not immediately executable and too far from the reference price (Price Management Algo declined)",
                now_ms,
            );
            self.publish(changes);
            return Ok(format!("Order {order_id} rejected"));
        }
        if choice == 1 {
            self.session.suppressed.insert(notice.message_id.clone());
        }
        let changes = self.exchange.release_held(&notice.order_ids, now_ms);
        self.publish(changes);
        self.maybe_warn(&notice.order_ids, now_ms);
        Ok(format!("Order {order_id} submitted"))
    }

    fn ack(&self, id: u64) -> Value {
        let status = self
            .exchange
            .order(id)
            .map(|o| o.status.as_str())
            .unwrap_or("Inactive");
        json!({"order_id": id.to_string(), "order_status": status, "encrypt_message": "1"})
    }

    /// Start the flow for a new action.
    pub fn start(&mut self, action: PendingAction, now: Millis) -> Result<Value, ApiError> {
        let tickets: Vec<Ticket> = match &action {
            PendingAction::Place { tickets, .. } => tickets.clone(),
            PendingAction::Modify { ticket, .. } => vec![ticket.clone()],
        };
        let remaining = self.prompts_for(&tickets, PromptStyle::Question);
        self.proceed(
            Pending {
                created: now,
                action,
                remaining,
            },
            now,
        )
    }
}
