//! Order endpoints: place (single, bracket, OCA), modify, cancel, what-if, reply,
//! suppression, live orders, order status, trades.

use std::collections::HashSet;

use rust_decimal::Decimal;
use serde_json::{Value, json};

use tickline_engine::domain::Side;

use crate::api::accounts::known_account;
use crate::api::error::ApiError;
use crate::api::request::Req;
use crate::flow::{ReplyOutcome, duplicate_coid};
use crate::orders::record::OrderStatus;
use crate::orders::ticket::{Ticket, TicketError, parse_ticket};
use crate::portfolio::Account;
use crate::state::{Core, PendingAction};
use crate::wire::fmt_thousands;

fn ticket_error(e: TicketError) -> ApiError {
    ApiError::bad(e.to_string())
}

/// Parse the tickets of a submit / what-if body (`{"orders":[…]}` or a bare array).
fn tickets(core: &Core, req: &Req, account: &str) -> Result<Vec<Ticket>, ApiError> {
    let body = req.json()?;
    let items = match &body {
        Value::Object(m) => match m.get("orders") {
            Some(Value::Array(a)) => a.clone(),
            Some(other) => {
                return Err(ApiError::bad(format!(
                    "orders: expected an array, got {other}"
                )));
            }
            None => {
                return Err(ApiError::bad(
                    "orders is required: send {\"orders\": [ ... ]}",
                ));
            }
        },
        Value::Array(a) => a.clone(),
        Value::Null => return Err(ApiError::bad("body can't be empty")),
        other => {
            return Err(ApiError::bad(format!(
                "expected {{\"orders\": [...]}}, got {other}"
            )));
        }
    };
    if items.is_empty() {
        return Err(ApiError::bad("orders must not be empty"));
    }
    let lookup = |c: i64| core.market.contract(c);
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let (t, _) = parse_ticket(item, &format!("orders[{i}]"), &lookup).map_err(ticket_error)?;
        if let Some(a) = &t.acct_id
            && a != account
        {
            return Err(ApiError::bad(format!(
                "orders[{i}].acctId: {a} does not match the account {account} in the path"
            )));
        }
        out.push(t);
    }
    Ok(out)
}

/// Brackets and OCA groups are the only multi-ticket requests; parents must exist.
fn check_relations(core: &Core, account: &str, tickets: &[Ticket]) -> Result<(), ApiError> {
    for (i, t) in tickets.iter().enumerate() {
        let Some(p) = &t.parent_coid else {
            continue;
        };
        let parent = tickets
            .iter()
            .find(|o| o.coid.as_deref() == Some(p))
            .map(|o| (o.conid, false))
            .or_else(|| {
                core.exchange
                    .by_coid(account, p)
                    .filter(|o| !o.status.is_terminal() || o.status == OrderStatus::Filled)
                    .map(|o| (o.conid, true))
            });
        match parent {
            None => {
                return Err(ApiError::bad(format!(
                    "orders[{i}].parentId: no working order with cOID {p:?}"
                )));
            }
            Some((conid, _)) if conid != t.conid => {
                return Err(ApiError::bad(format!(
                    "orders[{i}].parentId: a bracket child must trade the parent's contract {conid}"
                )));
            }
            _ => {}
        }
        if t.coid.as_deref() == Some(p.as_str()) {
            return Err(ApiError::bad(format!(
                "orders[{i}].parentId: an order cannot be its own parent"
            )));
        }
    }
    if tickets.len() > 1 {
        let parents: HashSet<&str> = tickets
            .iter()
            .filter_map(|t| t.parent_coid.as_deref())
            .collect();
        let related = tickets.iter().all(|t| {
            t.single_group
                || t.parent_coid.is_some()
                || t.coid.as_deref().is_some_and(|c| parents.contains(c))
        });
        if !related {
            return Err(ApiError::bad(
                "only one order per request, unless the tickets form a bracket (cOID/parentId) or an OCA group (isSingleGroup)",
            ));
        }
    }
    Ok(())
}

/// The first duplicate `cOID` (within the request or already used today).
fn duplicate(core: &Core, account: &str, tickets: &[Ticket]) -> Option<String> {
    let mut seen = HashSet::new();
    tickets
        .iter()
        .filter_map(|t| t.coid.as_deref())
        .find_map(|c| {
            (!seen.insert(c) || core.exchange.coid_taken(account, c)).then(|| c.to_string())
        })
}

/// `POST /iserver/account/{accountId}/orders`
pub fn place(core: &mut Core, req: &Req, segs: &[&str]) -> Result<Value, ApiError> {
    let account = segs[2].to_string();
    known_account(core, &account)?;
    let tickets = tickets(core, req, &account)?;
    check_relations(core, &account, &tickets)?;
    if let Some(c) = duplicate(core, &account, &tickets) {
        return Ok(duplicate_coid(&c));
    }
    core.start(PendingAction::Place { account, tickets }, req.now)
}

fn parse_order_id(s: &str) -> Result<u64, ApiError> {
    s.trim()
        .parse::<u64>()
        .map_err(|_| ApiError::bad(format!("orderId: {s:?} is not a valid order id")))
}

fn unknown_order(id: impl std::fmt::Display) -> ApiError {
    ApiError::BadRequestRaw(format!("OrderID {id} doesn't exist"))
}

/// `POST /iserver/account/{accountId}/order/{orderId}` — a bare ticket with every field.
pub fn modify(core: &mut Core, req: &Req, segs: &[&str]) -> Result<Value, ApiError> {
    let account = segs[2].to_string();
    known_account(core, &account)?;
    let id = parse_order_id(segs[4])?;
    let Some(order) = core.exchange.order(id).filter(|o| o.account == account) else {
        return Err(unknown_order(id));
    };
    let (conid, side) = (order.conid, order.side);
    let body = req.json()?;
    let item = match &body {
        Value::Object(m) => match m.get("orders") {
            Some(Value::Array(a)) if a.len() == 1 => a[0].clone(),
            Some(_) => {
                return Err(ApiError::bad(
                    "modify takes one ticket object (no orders array)",
                ));
            }
            None => body.clone(),
        },
        Value::Null => return Err(ApiError::bad("body can't be empty")),
        other => {
            return Err(ApiError::bad(format!(
                "expected an order ticket object, got {other}"
            )));
        }
    };
    let lookup = |c: i64| core.market.contract(c);
    let (ticket, _) = parse_ticket(&item, "", &lookup).map_err(ticket_error)?;
    if ticket.conid != conid {
        return Err(ApiError::bad(format!(
            "conid: order {id} trades conid {conid}; the contract cannot be modified"
        )));
    }
    if ticket.side != side {
        return Err(ApiError::bad(format!(
            "side: order {id} is a {}; the side cannot be modified",
            side.as_str()
        )));
    }
    if core.dice.chance(core.faults.modify_reject_rate) {
        return Ok(json!({"error": format!(
            "Modification of order {id} rejected (injected fault): the exchange refused the change"
        )}));
    }
    core.start(
        PendingAction::Modify {
            account,
            order_id: id,
            ticket,
        },
        req.now,
    )
}

/// `DELETE /iserver/account/{accountId}/order/{orderId}` (`-1` cancels every working order).
/// With `cancel_delay_ms` the order shows `PendingCancel` (and may still fill) until the
/// delay passes.
pub fn cancel(core: &mut Core, req: &Req, segs: &[&str]) -> Result<Value, ApiError> {
    let account = segs[2].to_string();
    known_account(core, &account)?;
    let all = segs[4].trim() == "-1";
    let ids = if all {
        core.exchange.working(&account)
    } else {
        vec![parse_order_id(segs[4])?]
    };
    if !all && core.dice.chance(core.faults.cancel_reject_rate) {
        return Ok(json!({"error": format!(
            "Cancel of order {} rejected (injected fault): the order could not be cancelled at the exchange",
            ids[0]
        )}));
    }
    for &id in &ids {
        match cancel_one(core, &account, id, req.now) {
            Ok(()) => {}
            Err(_) if all => {}
            Err(crate::orders::exchange::OrderError::Unknown(id)) => return Err(unknown_order(id)),
            Err(crate::orders::exchange::OrderError::Refused(reason)) => {
                return Ok(json!({"error": reason}));
            }
        }
    }
    if all {
        return Ok(
            json!({"msg": "Request was submitted", "order_id": -1, "conid": -1, "account": account}),
        );
    }
    let conid = core
        .exchange
        .order(ids[0])
        .map(|o| o.conid)
        .unwrap_or_default();
    Ok(
        json!({"msg": "Request was submitted", "order_id": ids[0], "conid": conid, "account": account}),
    )
}

/// Cancel one order now, or after the configured `PendingCancel` delay.
fn cancel_one(
    core: &mut Core,
    account: &str,
    id: u64,
    now: crate::clock::Millis,
) -> Result<(), crate::orders::exchange::OrderError> {
    let market_ms = core.market.now_ms();
    let delay = core.faults.cancel_delay_ms;
    let held = core.exchange.order(id).is_some_and(|o| o.awaiting_prompt);
    let changes = if delay > 0 && !held {
        let changes = core.exchange.request_cancel(account, id, market_ms)?;
        core.pending_cancels
            .retain(|(pending, _, _)| *pending != id);
        core.pending_cancels
            .push((id, account.to_string(), now.saturating_add(delay)));
        changes
    } else {
        core.exchange.cancel(account, id, market_ms)?
    };
    core.publish(changes);
    Ok(())
}

/// `POST /iserver/reply/{replyId}` — `{"confirmed": bool}`.
pub fn reply(core: &mut Core, req: &Req, segs: &[&str]) -> Result<Value, ApiError> {
    let id = segs[2];
    let body = req.json_object()?;
    let confirmed = match body.get("confirmed") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => true,
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => false,
        Some(other) => {
            return Err(ApiError::bad(format!(
                "confirmed: expected true or false, got {other}"
            )));
        }
        None => return Err(ApiError::bad("confirmed is required")),
    };
    match core.reply(id, confirmed, req.now)? {
        ReplyOutcome::NotFound => Err(ApiError::BadRequestRaw(format!(
            "reply id not found: '{id}'"
        ))),
        ReplyOutcome::Answer(v) => Ok(v),
    }
}

/// `POST /iserver/notification` — `{"orderId", "reqId", "text"}`: answer a server prompt
/// (`p12`) with one of its options. Answers a plain string.
pub fn notification(core: &mut Core, req: &Req, _: &[&str]) -> Result<String, ApiError> {
    let body = req.json_object()?;
    let order_id = match body.get("orderId") {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    }
    .ok_or_else(|| ApiError::bad("orderId is required (the order id of the prompt)"))?;
    let req_id = match body.get("reqId") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return Err(ApiError::bad("reqId is required")),
    };
    let text = body
        .get("text")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::bad("text is required (one of the prompt's options)"))?;
    core.answer_notice(order_id, &req_id, text)
}

/// `POST /iserver/questions/suppress` — `{"messageIds": [...]}` (replaces the list).
pub fn suppress(core: &mut Core, req: &Req, _: &[&str]) -> Result<Value, ApiError> {
    let body = req.json_object()?;
    let ids = match body.get("messageIds") {
        Some(Value::Array(a)) => a
            .iter()
            .enumerate()
            .map(|(i, v)| match v {
                Value::String(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
                other => Err(ApiError::bad(format!(
                    "messageIds[{i}]: expected a message id string, got {other}"
                ))),
            })
            .collect::<Result<Vec<_>, _>>()?,
        Some(other) => {
            return Err(ApiError::bad(format!(
                "messageIds: expected an array, got {other}"
            )));
        }
        None => return Err(ApiError::bad("messageIds is required")),
    };
    if ids.len() > 51 {
        return Err(ApiError::bad(format!(
            "at most 51 message ids per request, got {}",
            ids.len()
        )));
    }
    core.session.suppressed = ids.into_iter().collect();
    Ok(json!({"status": "submitted"}))
}

/// `POST /iserver/questions/suppress/reset`
pub fn suppress_reset(core: &mut Core, _: &Req, _: &[&str]) -> Result<Value, ApiError> {
    core.session.suppressed.clear();
    Ok(json!({"status": "submitted"}))
}

/// The account a query names (`accountId`), else the selected account.
fn query_account(core: &Core, req: &Req) -> Result<String, ApiError> {
    match req.q("accountId").filter(|s| !s.is_empty()) {
        Some(a) => Ok(known_account(core, a)?.id.clone()),
        None => Ok(core.session.selected_account.clone()),
    }
}

/// `GET /iserver/account/orders` — `filters`, `force`, `accountId`.
pub fn live_orders(core: &mut Core, req: &Req, _: &[&str]) -> Result<String, ApiError> {
    let account = query_account(core, req)?;
    let mut filters: Vec<String> = Vec::new();
    let mut sort_by_time = false;
    if let Some(f) = req.q("filters") {
        for name in f
            .split(',')
            .map(|s| s.trim().to_ascii_lowercase())
            .filter(|s| !s.is_empty())
        {
            const KNOWN: [&str; 8] = [
                "inactive",
                "pending_submit",
                "pre_submitted",
                "submitted",
                "filled",
                "pending_cancel",
                "cancelled",
                "warn_state",
            ];
            if name == "sort_by_time" {
                sort_by_time = true;
            } else if KNOWN.contains(&name.as_str()) {
                filters.push(name);
            } else {
                return Err(ApiError::bad(format!("filters: unknown filter {name:?}")));
            }
        }
    }
    let quirks = core.faults.orders_quirks;
    if req.q_bool("force")? == Some(true) {
        // The cache is cleared; this answer carries no orders (IBKR's documented behaviour).
        core.session.orders_cold = false;
        core.session.orders_cache = None;
        core.session.sor_paused = false;
        return Ok(json!({"orders": []}).to_string());
    }
    if quirks && !filters.is_empty() {
        // Filters stop order details on the websocket `sor` topic until `force=true`.
        core.session.sor_paused = true;
    }
    if quirks && std::mem::take(&mut core.session.orders_cold) {
        // The first call of a brokerage session answers before the backend has the orders.
        return Ok(json!({"orders": [], "snapshot": true}).to_string());
    }
    let after_hours = core.faults.orders_stale_after_hours && !us_regular_hours(core);
    if after_hours && let Some(cached) = &core.session.orders_cache {
        return Ok(cached.clone());
    }
    let mut orders: Vec<_> = core
        .exchange
        .orders
        .values()
        .filter(|o| o.account == account)
        .filter(|o| filters.is_empty() || filters.iter().any(|f| f == o.status.filter_name()))
        .collect();
    if sort_by_time {
        orders.sort_by_key(|o| std::cmp::Reverse(o.last_ms));
    }
    // Concatenate the cached objects (refreshed on every change) instead of rebuilding them.
    let mut body = String::with_capacity(64 + orders.len() * 1_024);
    body.push_str("{\"orders\":[");
    for (k, o) in orders.into_iter().enumerate() {
        if k > 0 {
            body.push(',');
        }
        match core.order_json.get(&o.id) {
            Some(cached) => body.push_str(cached),
            None => body.push_str(&o.live_json(&core.market.contracts[o.index]).to_string()),
        }
    }
    body.push_str("],\"snapshot\":true}");
    if after_hours {
        core.session.orders_cache = Some(body.clone());
    } else {
        core.session.orders_cache = None;
    }
    Ok(body)
}

/// Inside US stock regular hours (09:30–16:00 New York, weekdays) on the market clock.
fn us_regular_hours(core: &Core) -> bool {
    use chrono::{Datelike, Timelike};
    let ny = chrono::DateTime::from_timestamp_nanos(core.market.now())
        .with_timezone(&chrono_tz::America::New_York);
    let minutes = ny.hour() * 60 + ny.minute();
    !matches!(ny.weekday(), chrono::Weekday::Sat | chrono::Weekday::Sun)
        && (9 * 60 + 30..16 * 60).contains(&minutes)
}

/// `GET /iserver/account/order/status/{orderId}`
pub fn order_status(core: &mut Core, _: &Req, segs: &[&str]) -> Result<Value, ApiError> {
    let id = parse_order_id(segs[4])?;
    let o = core.exchange.order(id).ok_or_else(|| unknown_order(id))?;
    Ok(o.status_json(&core.market.contracts[o.index]))
}

/// `GET /iserver/account/trades` — `days` (1–7), `accountId`.
pub fn trades(core: &mut Core, req: &Req, _: &[&str]) -> Result<Value, ApiError> {
    let account = query_account(core, req)?;
    let days: i64 = req.q_num("days")?.unwrap_or(1);
    if !(1..=7).contains(&days) {
        return Err(ApiError::bad(format!(
            "days: must be within 1..7, got {days}"
        )));
    }
    let since = core.market.now_ms() - days * 86_400_000;
    let user = core.cfg.session.user_name.clone();
    Ok(Value::Array(
        core.exchange
            .executions
            .iter()
            .filter(|e| e.account == account && e.ts_ms >= since)
            .map(|e| e.json(&core.market.contracts[e.index], &user, None))
            .collect(),
    ))
}

fn whole(d: Decimal) -> String {
    fmt_thousands(d, 0)
}

/// `POST /iserver/account/{accountId}/orders/whatif` — commission, margin and equity impact.
pub fn whatif(core: &mut Core, req: &Req, segs: &[&str]) -> Result<Value, ApiError> {
    let account = segs[2].to_string();
    let a: &Account = known_account(core, &account)?;
    let tickets = tickets(core, req, &account)?;
    let t = &tickets[0];
    let c = &core.market.contracts[t.index];
    let q = &core.market.quotes[t.index];
    let last = if q.has_data { c.price(q.last) } else { None };
    let Some(price) = t.limit.or(t.stop).or(last) else {
        return Ok(json!({"error": "No market data available to price this order"}));
    };
    let mult = c.inst.multiplier;
    let amount = t.quantity * price * mult;
    let commission = core
        .cfg
        .broker
        .commission
        .order_total(&c.inst, t.quantity, amount.abs());
    let v = a.valuation(&core.market.contracts, &core.market.quotes);
    let (init_rate, maint_rate) = match c.inst.sec_type {
        tickline_engine::domain::SecType::Fut => (Decimal::new(6, 2), Decimal::new(5, 2)),
        tickline_engine::domain::SecType::Cash => (Decimal::new(3, 2), Decimal::new(25, 3)),
        _ => (Decimal::new(30, 2), Decimal::new(25, 2)),
    };
    let pos = a.positions.get(&t.index).map(|p| p.qty).unwrap_or_default();
    let delta = if t.side == Side::Buy {
        t.quantity
    } else {
        -t.quantity
    };
    let exposure_change = ((pos + delta).abs() - pos.abs()) * price * mult;
    let init_change = exposure_change * init_rate;
    let maint_change = exposure_change * maint_rate;
    let warn = (!core.session.streams.contains_key(&c.conid)).then_some(
        "21/You are trying to submit an order without having market data for this instrument. \nIB strongly recommends against this kind of blind trading which may result in \nerroreous or unexpected trades.",
    );
    let unit = if c.inst.sec_type == tickline_engine::domain::SecType::Stk {
        "Shares"
    } else {
        "Contracts"
    };
    Ok(json!({
        "amount": {
            "amount": format!("{} {} ({} {unit})", fmt_thousands(amount, 2), c.inst.currency, t.quantity.normalize()),
            "commission": format!("{} {}", commission.round_dp(2).normalize(), c.inst.currency),
            "total": format!("{} {}", fmt_thousands(amount + commission, 2), c.inst.currency),
        },
        "equity": {"current": whole(v.nlv), "change": whole(-commission), "after": whole(v.nlv - commission)},
        "initial": {"current": whole(v.init_margin), "change": whole(init_change), "after": whole(v.init_margin + init_change)},
        "maintenance": {"current": whole(v.maint_margin), "change": whole(maint_change), "after": whole(v.maint_margin + maint_change)},
        "position": {"current": pos.normalize().to_string(), "change": delta.normalize().to_string(), "after": (pos + delta).normalize().to_string()},
        "warn": warn,
        "error": null,
    }))
}
