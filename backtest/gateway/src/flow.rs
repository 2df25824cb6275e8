//! IBKR's order reply flow at the HTTP level: a placement or modification that triggers
//! prompt rules is answered with one question at a time under a fresh reply id; each
//! `/iserver/reply/{id}` `{"confirmed": true}` asks the next question or, after the last,
//! carries the action out. Suppressed message ids are skipped, reply ids expire after
//! `session.reply_ttl_secs` and can be used once.

use std::collections::VecDeque;

use serde_json::{Value, json};

use crate::clock::Millis;
use crate::orders::exchange::OrderError;
use crate::orders::ticket::Ticket;
use crate::prompts::{OrderFacts, Question, questions};
use crate::state::{Core, Pending, PendingAction};

/// How a reply id lookup ended.
#[derive(Clone, Debug, PartialEq)]
pub enum ReplyOutcome {
    /// The id is unknown, used or expired.
    NotFound,
    /// The answer (ack list, next question, or error body).
    Answer(Value),
}

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

    /// Every question the tickets raise, in ticket then rule order.
    pub fn questions_for(&self, tickets: &[Ticket]) -> VecDeque<Question> {
        let suppressed = |id: &str| self.session.suppressed.contains(id);
        tickets
            .iter()
            .flat_map(|t| questions(&self.prompts, &self.facts(t), &suppressed))
            .collect()
    }

    /// Ask the next unsuppressed question of `pending`, or carry the action out.
    pub fn proceed(&mut self, mut pending: Pending, now: Millis) -> Value {
        while let Some(q) = pending.remaining.pop_front() {
            if self.session.suppressed.contains(&q.message_id) {
                continue;
            }
            let id = self.rng.uuid();
            let body = json!([{"id": id, "message": [q.text], "isSuppressed": false, "messageIds": [q.message_id]}]);
            pending.created = now;
            self.pending.insert(id, pending);
            return body;
        }
        self.execute(pending.action)
    }

    /// Answer a reply id.
    pub fn reply(&mut self, id: &str, confirmed: bool, now: Millis) -> ReplyOutcome {
        let ttl = self.cfg.session.reply_ttl_secs.saturating_mul(1_000);
        let Some(p) = self.pending.remove(id) else {
            return ReplyOutcome::NotFound;
        };
        if now.saturating_sub(p.created) >= ttl {
            return ReplyOutcome::NotFound;
        }
        if !confirmed {
            return ReplyOutcome::Answer(json!({"error": "Order not confirmed "}));
        }
        ReplyOutcome::Answer(self.proceed(p, now))
    }

    /// Carry out a confirmed placement or modification.
    fn execute(&mut self, action: PendingAction) -> Value {
        let now_ms = self.market.now_ms();
        match action {
            PendingAction::Place { account, tickets } => {
                if let Some(c) = tickets
                    .iter()
                    .filter_map(|t| t.coid.as_deref())
                    .find(|c| self.exchange.coid_taken(&account, c))
                {
                    return duplicate_coid(c);
                }
                let (ids, changes) = self.exchange.place(&account, &tickets, now_ms);
                self.publish(changes);
                Value::Array(ids.iter().map(|id| self.ack(*id)).collect())
            }
            PendingAction::Modify {
                account,
                order_id,
                ticket,
            } => match self.exchange.modify(&account, order_id, &ticket, now_ms) {
                Ok(changes) => {
                    self.publish(changes);
                    json!([self.ack(order_id)])
                }
                Err(OrderError::Unknown(id)) => {
                    json!({"error": format!("OrderID {id} doesn't exist")})
                }
                Err(OrderError::Refused(reason)) => json!({"error": reason}),
            },
        }
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
    pub fn start(&mut self, action: PendingAction, now: Millis) -> Value {
        let tickets: Vec<Ticket> = match &action {
            PendingAction::Place { tickets, .. } => tickets.clone(),
            PendingAction::Modify { ticket, .. } => vec![ticket.clone()],
        };
        let remaining = self.questions_for(&tickets);
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
