//! Trading › Orders: submit (with the question/reply loop and duplicate protection), modify,
//! cancel, what-if, live orders, order status, trades, suppression and server prompts.
//!
//! **One intent, one order.** Every submission carries a client order id (`cOID`; generated
//! when the first ticket has none). Submissions are never retried blindly: after an ambiguous
//! failure (timeout, dropped connection, 5xx) the live orders are searched for that `cOID`;
//! only when it is certainly absent is the request sent again, and IBKR itself refuses a
//! second order with the same `cOID` ("Local order ID … is already registered"), which
//! triggers another lookup instead of a new order. Submissions are serialised: one order (or
//! bracket) at a time, including its question chain.

use rand::RngExt;

use crate::catalog::{self, HttpMethod};
use crate::client::{Client, decode_json};
use crate::error::{EndpointRef, IbkrError};
use crate::models::{
    CancelResponse, LiveOrder, LiveOrders, LiveOrdersQuery, NotificationAnswer, OrderAck,
    OrderStatus, OrderTicket, OrdersRequest, StatusResponse, Trade, WhatIf,
};
use crate::prompts::{PlaceOutcome, PromptPolicy, parse_place_response};
use crate::transport::{ApiRequest, RawResponse};

/// Most days `/iserver/account/trades` covers.
pub const MAX_TRADE_DAYS: u32 = 7;

/// IBKR's answer when a `cOID` was used before.
const DUPLICATE_COID: &str = "is already registered";

impl Client {
    /// `POST /iserver/account/{accountId}/orders`: submit one order, a bracket (children
    /// reference the parent's `cOID` in `parentId`) or an OCA group. Returns the first answer,
    /// which may be a question: answer it with [`Client::reply`], or use
    /// [`Client::place_orders_confirming`] to run the whole chain under a policy.
    pub async fn place_orders(
        &self,
        account_id: &str,
        tickets: &[OrderTicket],
    ) -> Result<PlaceOutcome, IbkrError> {
        let _gate = self.inner_order_gate().await;
        self.place_orders_locked(account_id, tickets).await
    }

    /// Submit one ticket (see [`Client::place_orders`]).
    pub async fn place_order(
        &self,
        account_id: &str,
        ticket: &OrderTicket,
    ) -> Result<PlaceOutcome, IbkrError> {
        self.place_orders(account_id, std::slice::from_ref(ticket))
            .await
    }

    /// Submit and answer every question with `policy` until the order is placed, rejected or
    /// declined (at most [`crate::OrderSafety::max_prompt_replies`] replies). A declined
    /// question is answered `confirmed: false`, and IBKR's answer (normally
    /// `Order not confirmed`) is returned.
    pub async fn place_orders_confirming(
        &self,
        account_id: &str,
        tickets: &[OrderTicket],
        policy: &mut dyn PromptPolicy,
    ) -> Result<PlaceOutcome, IbkrError> {
        let _gate = self.inner_order_gate().await;
        let tickets = with_coid(tickets)?;
        let coid = first_coid(&tickets)?;
        let first = self.place_orders_locked(account_id, &tickets).await?;
        let placement = Placement {
            account_id,
            tickets: &tickets,
            coid: &coid,
        };
        self.resolve_chain(first, policy, Some(placement)).await
    }

    /// Answer the questions of `outcome` with `policy` (the same loop as
    /// [`Client::place_orders_confirming`], for an answer obtained elsewhere, e.g. a modify).
    pub async fn confirm_chain(
        &self,
        outcome: PlaceOutcome,
        policy: &mut dyn PromptPolicy,
    ) -> Result<PlaceOutcome, IbkrError> {
        let _gate = self.inner_order_gate().await;
        self.resolve_chain(outcome, policy, None).await
    }

    /// `POST /iserver/reply/{replyId}`: confirm (or decline) one question. The answer may be
    /// another question. Reply ids expire within seconds. Never retried blindly.
    pub async fn reply(&self, reply_id: &str, confirmed: bool) -> Result<PlaceOutcome, IbkrError> {
        let req = ApiRequest::new(&catalog::REPLY, &[("replyId", reply_id)])?
            .json(&serde_json::json!({ "confirmed": confirmed }))?;
        let resp = self.execute(&req).await?;
        order_answer(&req.endpoint(), &resp)
    }

    /// `POST /iserver/account/{accountId}/order/{orderId}`: modify a working order. The ticket
    /// must repeat every original field with only the changes different. The answer has the
    /// same shapes as a submission. Not retried after an ambiguous failure: check the order
    /// status before modifying again.
    pub async fn modify_order(
        &self,
        account_id: &str,
        order_id: i64,
        ticket: &OrderTicket,
    ) -> Result<PlaceOutcome, IbkrError> {
        ticket
            .validate()
            .map_err(|reason| IbkrError::InvalidInput {
                what: "order ticket",
                reason,
            })?;
        let order_id = order_id.to_string();
        let req = ApiRequest::new(
            &catalog::MODIFY_ORDER,
            &[("accountId", account_id), ("orderId", &order_id)],
        )?
        .json(ticket)?;
        let _gate = self.inner_order_gate().await;
        let resp = self.execute(&req).await?;
        order_answer(&req.endpoint(), &resp)
    }

    /// `DELETE /iserver/account/{accountId}/order/{orderId}`: request cancellation. Success
    /// only means the request was accepted; watch the order for `Cancelled`.
    pub async fn cancel_order(
        &self,
        account_id: &str,
        order_id: i64,
    ) -> Result<CancelResponse, IbkrError> {
        let order_id = order_id.to_string();
        let req = ApiRequest::new(
            &catalog::CANCEL_ORDER,
            &[("accountId", account_id), ("orderId", &order_id)],
        )?;
        let resp = self.execute(&req).await?;
        let endpoint = req.endpoint();
        // An object, or (per the spec's example) a one-element array.
        let value: serde_json::Value = decode_json(&endpoint, &resp)?;
        let object = match value {
            serde_json::Value::Array(mut items) if items.len() == 1 => items.remove(0),
            serde_json::Value::Array(_) => {
                return Err(IbkrError::Decode {
                    endpoint,
                    message: "cancel answer is an array without exactly one item".into(),
                });
            }
            other => other,
        };
        if let Some(serde_json::Value::String(e)) = object.get("error") {
            return Err(IbkrError::Api {
                endpoint,
                message: e.clone(),
            });
        }
        serde_json::from_value(object).map_err(|e| crate::error::decode_error(endpoint, &e))
    }

    /// `POST /iserver/account/{accountId}/orders/whatif`: commission and margin impact
    /// without placing anything (call a snapshot for the conid first).
    pub async fn what_if(
        &self,
        account_id: &str,
        tickets: &[OrderTicket],
    ) -> Result<WhatIf, IbkrError> {
        validate_tickets(tickets)?;
        let req = ApiRequest::new(&catalog::WHAT_IF, &[("accountId", account_id)])?
            .json(&OrdersRequest { orders: tickets })?;
        self.call(req).await
    }

    /// `GET /iserver/account/orders`: working orders and this session's filled/cancelled
    /// ones. Pacing 1 / 5 s. IBKR answers the first call of a brokerage session before its
    /// cache is filled (an empty list): an empty first answer is asked again once.
    /// `force=true` clears the cache and itself answers no orders.
    pub async fn live_orders(&self, query: &LiveOrdersQuery) -> Result<LiveOrders, IbkrError> {
        let was_warm = self.warm_orders();
        let orders = self.live_orders_once(query).await?;
        if !was_warm && !query.force && orders.orders.is_empty() {
            tracing::debug!("first live-orders answer of the session is empty; asking again");
            return self.live_orders_once(query).await;
        }
        Ok(orders)
    }

    async fn live_orders_once(&self, query: &LiveOrdersQuery) -> Result<LiveOrders, IbkrError> {
        let mut req = ApiRequest::new(&catalog::LIVE_ORDERS, &[])?;
        if !query.filters.is_empty() {
            req = req.query("filters", query.filters.join(","));
        }
        if query.force {
            req = req.query("force", "true");
        }
        req = req.query_opt("accountId", query.account_id.as_deref());
        self.call(req).await
    }

    /// The live orders placed with this client order id (`order_ref`).
    pub async fn find_orders_by_coid(&self, coid: &str) -> Result<Vec<LiveOrder>, IbkrError> {
        let orders = self.live_orders(&LiveOrdersQuery::default()).await?;
        Ok(orders
            .orders
            .into_iter()
            .filter(|o| o.order_ref.as_deref() == Some(coid))
            .collect())
    }

    /// `GET /iserver/account/order/status/{orderId}` (orders of the current session).
    pub async fn order_status(&self, order_id: i64) -> Result<OrderStatus, IbkrError> {
        let order_id = order_id.to_string();
        self.call(ApiRequest::new(
            &catalog::ORDER_STATUS,
            &[("orderId", &order_id)],
        )?)
        .await
    }

    /// `GET /iserver/account/trades`: executions of today and up to `days` (≤ 7) days back.
    /// Pacing 1 / 5 s.
    pub async fn trades(&self, days: Option<u32>) -> Result<Vec<Trade>, IbkrError> {
        if let Some(d) = days
            && !(1..=MAX_TRADE_DAYS).contains(&d)
        {
            return Err(IbkrError::InvalidInput {
                what: "trade days",
                reason: format!("must be 1..={MAX_TRADE_DAYS}, got {d}"),
            });
        }
        self.call_or_default(ApiRequest::new(&catalog::TRADES, &[])?.query_opt("days", days))
            .await
    }

    /// `POST /iserver/notification`: answer a server prompt (reject prompt / `ntf`) with one
    /// of its options. Returns IBKR's text confirmation.
    pub async fn answer_notification(
        &self,
        answer: &NotificationAnswer,
    ) -> Result<String, IbkrError> {
        let req = ApiRequest::new(&catalog::ANSWER_NOTIFICATION, &[])?.json(answer)?;
        self.call_text(req).await
    }

    /// `POST /iserver/questions/suppress`: auto-accept these question ids for the rest of the
    /// brokerage session. The list is remembered and re-sent after every re-authentication;
    /// to add ids, pass the complete list.
    pub async fn suppress(&self, message_ids: &[String]) -> Result<StatusResponse, IbkrError> {
        if message_ids.iter().any(|id| id.trim().is_empty()) {
            return Err(IbkrError::InvalidInput {
                what: "message ids",
                reason: "empty id".into(),
            });
        }
        let req = ApiRequest::new(&catalog::SUPPRESS, &[])?
            .json(&serde_json::json!({ "messageIds": message_ids }))?;
        let resp: StatusResponse = self.call(req).await?;
        *self
            .inner_suppressed()
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = message_ids.to_vec();
        Ok(resp)
    }

    /// `POST /iserver/questions/suppress/reset`: remove all suppression.
    pub async fn suppress_reset(&self) -> Result<StatusResponse, IbkrError> {
        let resp: StatusResponse = self
            .call(ApiRequest::new(&catalog::SUPPRESS_RESET, &[])?)
            .await?;
        self.inner_suppressed()
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
        Ok(resp)
    }

    async fn place_orders_locked(
        &self,
        account_id: &str,
        tickets: &[OrderTicket],
    ) -> Result<PlaceOutcome, IbkrError> {
        let tickets = with_coid(tickets)?;
        let coid = first_coid(&tickets)?;
        let req = ApiRequest::new(&catalog::PLACE_ORDERS, &[("accountId", account_id)])?
            .json(&OrdersRequest { orders: &tickets })?;
        let safety = self.order_safety().clone();
        let mut resubmits = 0;
        loop {
            match self.execute(&req).await {
                Ok(resp) => {
                    let outcome = order_answer(&req.endpoint(), &resp)?;
                    if resubmits > 0 {
                        // The earlier, ambiguous attempt may have reached IBKR.
                        return self
                            .duplicate_means_placed(outcome, &coid, &req.endpoint(), &safety)
                            .await;
                    }
                    return Ok(outcome);
                }
                Err(e) if e.is_ambiguous() => {
                    tracing::warn!(%coid, error = %e, "order submission ambiguous; looking it up");
                    match self.lookup_coid(&coid, &safety).await {
                        Ok(Lookup::Found(acks)) => return Ok(PlaceOutcome::Placed(acks)),
                        Ok(Lookup::Absent) if resubmits < safety.max_resubmits => {
                            resubmits += 1;
                            tracing::info!(%coid, "order not found after ambiguous failure; resubmitting");
                        }
                        Ok(Lookup::Absent) => {
                            return Err(IbkrError::OrderStateUnknown {
                                coid,
                                cause: Box::new(e),
                            });
                        }
                        Err(lookup_err) => {
                            tracing::warn!(%coid, error = %lookup_err, "order lookup failed");
                            return Err(IbkrError::OrderStateUnknown {
                                coid,
                                cause: Box::new(e),
                            });
                        }
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// The answer to a resubmission after an ambiguous failure: IBKR's refusal of the cOID
    /// as a duplicate means the earlier attempt did create the order, which the lookup
    /// then finds (or the state is unknown). Any other answer stands.
    async fn duplicate_means_placed(
        &self,
        outcome: PlaceOutcome,
        coid: &str,
        endpoint: &EndpointRef,
        safety: &crate::OrderSafety,
    ) -> Result<PlaceOutcome, IbkrError> {
        let PlaceOutcome::Error(msg) = &outcome else {
            return Ok(outcome);
        };
        if !msg.contains(DUPLICATE_COID) {
            return Ok(outcome);
        }
        match self.lookup_coid(coid, safety).await? {
            Lookup::Found(acks) => Ok(PlaceOutcome::Placed(acks)),
            Lookup::Absent => Err(IbkrError::OrderStateUnknown {
                coid: coid.to_string(),
                cause: Box::new(IbkrError::Api {
                    endpoint: endpoint.clone(),
                    message: msg.clone(),
                }),
            }),
        }
    }

    /// Search live orders for `coid`, `safety.lookups` times (an order can take a moment to
    /// appear; the last look follows a `force=true` refresh). Errors of the lookup itself are
    /// returned: the state is then unknown.
    async fn lookup_coid(
        &self,
        coid: &str,
        safety: &crate::OrderSafety,
    ) -> Result<Lookup, IbkrError> {
        let mut last_err = None;
        let mut any_ok = false;
        let lookups = safety.lookups.max(1);
        for i in 0..lookups {
            if i > 0 {
                tokio::time::sleep(safety.lookup_interval).await;
            }
            if any_ok && i + 1 == lookups {
                // Outside regular hours IBKR may keep serving a stale list until a
                // `force=true` call (which itself answers nothing): refresh before the last
                // look, so an order that exists is not taken for absent.
                let force = LiveOrdersQuery {
                    force: true,
                    ..LiveOrdersQuery::default()
                };
                if let Err(e) = self.live_orders_once(&force).await {
                    tracing::warn!(%coid, error = %e, "refreshing the live-orders list failed");
                }
            }
            match self.find_orders_by_coid(coid).await {
                Ok(found) if !found.is_empty() => {
                    return Ok(Lookup::Found(found.iter().map(ack_from_live).collect()));
                }
                Ok(_) => any_ok = true,
                Err(e) => last_err = Some(e),
            }
        }
        match (any_ok, last_err) {
            (true, _) => Ok(Lookup::Absent),
            (false, Some(e)) => Err(e),
            (false, None) => Ok(Lookup::Absent),
        }
    }

    /// Answer the questions of `outcome`. A confirming reply that fails ambiguously (a 5xx,
    /// a timeout) is resolved by looking the cOID up; when the order is certainly not there
    /// and `placement` is known, it is placed again with the *same* cOID (IBKR refuses a cOID
    /// it holds, so this can never make two orders), at most `max_resubmits` times.
    async fn resolve_chain(
        &self,
        mut outcome: PlaceOutcome,
        policy: &mut dyn PromptPolicy,
        placement: Option<Placement<'_>>,
    ) -> Result<PlaceOutcome, IbkrError> {
        let safety = self.order_safety().clone();
        let limit = safety.max_prompt_replies;
        let mut replies = 0usize;
        let mut resubmits = 0;
        loop {
            let PlaceOutcome::Question(prompt) = &outcome else {
                return Ok(outcome);
            };
            if replies >= limit {
                return Err(IbkrError::PromptChainTooLong {
                    limit,
                    reply_id: prompt.reply_id.clone(),
                });
            }
            replies += 1;
            let confirmed = policy.confirm(prompt);
            tracing::info!(
                reply_id = %prompt.reply_id,
                message_ids = ?prompt.message_ids,
                confirmed,
                "answering order question"
            );
            let reply_id = prompt.reply_id.clone();
            outcome = self
                .reply_resolved(&reply_id, confirmed, placement.as_ref(), &mut resubmits)
                .await?;
        }
    }

    /// `POST /iserver/reply/{replyId}` confirming a question about the order placed with
    /// `tickets` (the first carries the `cOID` it was placed with), for a caller that answers
    /// questions itself (the engine's execution client): a reply that fails ambiguously (a
    /// 5xx, a timeout) is resolved by looking the `cOID` up; when the order is certainly not
    /// there, it is placed again with the *same* `cOID` (IBKR refuses a `cOID` it holds, so
    /// this can never make two orders), at most `max_resubmits` times; otherwise the state
    /// is [`IbkrError::OrderStateUnknown`]. The answer may be another question.
    pub async fn confirm_placement_reply(
        &self,
        reply_id: &str,
        account_id: &str,
        tickets: &[OrderTicket],
    ) -> Result<PlaceOutcome, IbkrError> {
        let _gate = self.inner_order_gate().await;
        let tickets = with_coid(tickets)?;
        let coid = first_coid(&tickets)?;
        let placement = Placement {
            account_id,
            tickets: &tickets,
            coid: &coid,
        };
        let mut resubmits = 0;
        self.reply_resolved(reply_id, true, Some(&placement), &mut resubmits)
            .await
    }

    /// One reply of a chain about `placement` (see [`Client::confirm_placement_reply`]);
    /// `resubmits` counts the placements made again so far. Call with the order gate held.
    async fn reply_resolved(
        &self,
        reply_id: &str,
        confirmed: bool,
        placement: Option<&Placement<'_>>,
        resubmits: &mut u32,
    ) -> Result<PlaceOutcome, IbkrError> {
        let safety = self.order_safety().clone();
        match self.reply(reply_id, confirmed).await {
            // After a resubmission, a duplicate-cOID refusal means the first order exists
            // after all.
            Ok(o) => match placement {
                Some(p) if *resubmits > 0 => {
                    let endpoint =
                        EndpointRef::new(HttpMethod::Post, format!("/iserver/reply/{reply_id}"));
                    self.duplicate_means_placed(o, p.coid, &endpoint, &safety)
                        .await
                }
                _ => Ok(o),
            },
            Err(e) if e.is_ambiguous() && confirmed => {
                let Some(p) = placement else {
                    return Err(e);
                };
                tracing::warn!(coid = %p.coid, error = %e, "confirming reply ambiguous; looking the order up");
                match self.lookup_coid(p.coid, &safety).await {
                    Ok(Lookup::Found(acks)) => Ok(PlaceOutcome::Placed(acks)),
                    Ok(Lookup::Absent) if *resubmits < safety.max_resubmits => {
                        *resubmits += 1;
                        tracing::info!(coid = %p.coid, "order not found after an ambiguous reply; placing it again with the same cOID");
                        let again = self.place_orders_locked(p.account_id, p.tickets).await?;
                        let endpoint = EndpointRef::new(
                            HttpMethod::Post,
                            format!("/iserver/account/{}/orders", p.account_id),
                        );
                        self.duplicate_means_placed(again, p.coid, &endpoint, &safety)
                            .await
                    }
                    _ => Err(IbkrError::OrderStateUnknown {
                        coid: p.coid.to_string(),
                        cause: Box::new(e),
                    }),
                }
            }
            Err(e) => Err(e),
        }
    }
}

enum Lookup {
    Found(Vec<OrderAck>),
    Absent,
}

/// What was placed, so an order lost to an ambiguous reply can be placed again.
struct Placement<'a> {
    account_id: &'a str,
    tickets: &'a [OrderTicket],
    coid: &'a str,
}

fn ack_from_live(o: &LiveOrder) -> OrderAck {
    OrderAck {
        order_id: o.order_id.unwrap_or_default(),
        order_status: o.status.clone().unwrap_or_default(),
        encrypt_message: None,
    }
}

/// Decode an order answer (ack list, question, error, reject prompt).
fn order_answer(endpoint: &EndpointRef, resp: &RawResponse) -> Result<PlaceOutcome, IbkrError> {
    parse_place_response(&resp.body).map_err(|e| IbkrError::Decode {
        endpoint: endpoint.clone(),
        message: e.0,
    })
}

fn validate_tickets(tickets: &[OrderTicket]) -> Result<(), IbkrError> {
    if tickets.is_empty() {
        return Err(IbkrError::InvalidInput {
            what: "order tickets",
            reason: "at least one ticket is required".into(),
        });
    }
    for (i, t) in tickets.iter().enumerate() {
        t.validate().map_err(|reason| IbkrError::InvalidInput {
            what: "order ticket",
            reason: format!("ticket {i}: {reason}"),
        })?;
    }
    Ok(())
}

/// Validate and make sure the first ticket carries a `cOID`.
fn with_coid(tickets: &[OrderTicket]) -> Result<Vec<OrderTicket>, IbkrError> {
    validate_tickets(tickets)?;
    let mut tickets = tickets.to_vec();
    if tickets[0]
        .c_oid
        .as_deref()
        .is_none_or(|c| c.trim().is_empty())
    {
        let coid = generate_coid();
        // Bracket children that point at an unnamed parent cannot exist: parentId must name
        // the parent's cOID, so only the first ticket is filled in.
        tickets[0].c_oid = Some(coid);
    }
    Ok(tickets)
}

fn first_coid(tickets: &[OrderTicket]) -> Result<String, IbkrError> {
    tickets
        .first()
        .and_then(|t| t.c_oid.clone())
        .ok_or_else(|| IbkrError::InvalidInput {
            what: "order tickets",
            reason: "missing cOID".into(),
        })
}

/// A fresh client order id: `tl-<UTC yyyymmddhhmmssSSS>-<8 hex>`.
pub fn generate_coid() -> String {
    let now = chrono::Utc::now();
    let salt: u32 = rand::rng().random_range(0..=u32::MAX);
    format!("tl-{}-{salt:08x}", now.format("%Y%m%d%H%M%S%3f"))
}

impl Client {
    async fn inner_order_gate(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.order_gate().lock().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::Side;
    use rust_decimal::dec;

    #[test]
    fn coid_is_filled_on_first_ticket_only() {
        let t = vec![
            OrderTicket::limit(1, Side::Buy, dec!(1), dec!(10)),
            OrderTicket::limit(1, Side::Sell, dec!(1), dec!(12)),
        ];
        let filled = with_coid(&t).expect("valid");
        assert!(
            filled[0]
                .c_oid
                .as_deref()
                .is_some_and(|c| c.starts_with("tl-"))
        );
        assert_eq!(filled[1].c_oid, None);
        let kept = with_coid(&[OrderTicket::market(1, Side::Buy, dec!(1)).with_coid("mine")])
            .expect("valid");
        assert_eq!(kept[0].c_oid.as_deref(), Some("mine"));
        assert!(with_coid(&[]).is_err());
    }

    #[test]
    fn generated_coids_differ() {
        assert_ne!(generate_coid(), generate_coid());
    }
}
