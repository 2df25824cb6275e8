//! The `/v1/api` surface: one dispatcher that normalises the path (clients send `//sso/…`
//! and `trades/`), admits the request (pacing, injected faults, latency, the session gate),
//! then resolves it in the routing table below and answers with JSON.

pub mod accounts;
pub mod contracts;
pub mod error;
pub mod marketdata;
pub mod orders;
pub mod portfolio;
pub mod request;
pub mod session;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::faults::{FaultAction, Verdict};
use crate::session::SessionState;
use crate::state::{Core, Shared};
use error::ApiError;
use request::{Req, normalise, parse_query};

/// Largest accepted request body.
const MAX_BODY: usize = 1 << 20;
/// IBKR allows at most five concurrent history requests.
const MAX_HISTORY_INFLIGHT: usize = 5;

/// A handler: the core (locked), the request and its path segments; it answers a JSON value,
/// or JSON text it assembled itself (large lists built from cached pieces).
#[derive(Clone, Copy)]
enum Handler {
    Json(fn(&mut Core, &Req, &[&str]) -> Result<Value, ApiError>),
    Text(fn(&mut Core, &Req, &[&str]) -> Result<String, ApiError>),
    /// A `text/plain` answer (`/iserver/notification`).
    Plain(fn(&mut Core, &Req, &[&str]) -> Result<String, ApiError>),
}

/// What a handler produced.
enum Answer {
    Json(Value),
    Text(String),
    Plain(String),
}

/// Resolve `method` + path segments to a handler.
fn resolve(method: &str, segs: &[&str]) -> Option<Handler> {
    use accounts as a;
    use contracts as c;
    use marketdata as md;
    use orders as o;
    use portfolio as p;
    use session as s;
    match (method, segs) {
        ("GET", ["iserver", "account", "orders"]) => return Some(Handler::Text(o::live_orders)),
        ("POST", ["iserver", "notification"]) => return Some(Handler::Plain(o::notification)),
        _ => {}
    }
    let h: fn(&mut Core, &Req, &[&str]) -> Result<Value, ApiError> = match (method, segs) {
        ("GET" | "POST", ["tickle"]) => s::tickle,
        ("GET" | "POST", ["iserver", "auth", "status"]) => s::auth_status,
        ("GET" | "POST", ["iserver", "auth", "ssodh", "init"]) => s::ssodh_init,
        ("GET" | "POST", ["iserver", "reauthenticate"]) => s::reauthenticate,
        ("GET" | "POST", ["logout"]) => s::logout,
        ("GET", ["sso", "validate"]) => s::validate,

        ("GET", ["iserver", "accounts"]) => a::iserver_accounts,
        ("POST", ["iserver", "account"] | ["iserver", "dynaccount"]) => a::switch,
        ("GET", ["iserver", "account", "pnl", "partitioned"]) => a::pnl_partitioned,
        ("GET", ["iserver", "account", _, "summary"]) => a::summary,

        ("GET", ["iserver", "account", "trades"]) => o::trades,
        ("GET", ["iserver", "account", "order", "status", _]) => o::order_status,
        ("POST", ["iserver", "account", _, "orders"]) => o::place,
        ("POST", ["iserver", "account", _, "orders", "whatif"]) => o::whatif,
        ("POST", ["iserver", "account", _, "order", _]) => o::modify,
        ("DELETE", ["iserver", "account", _, "order", _]) => o::cancel,
        ("POST", ["iserver", "reply", _]) => o::reply,
        ("POST", ["iserver", "questions", "suppress"]) => o::suppress,
        ("POST", ["iserver", "questions", "suppress", "reset"]) => o::suppress_reset,

        ("GET", ["iserver", "marketdata", "snapshot"]) => md::snapshot,
        ("GET", ["iserver", "marketdata", "history"]) => md::history,
        ("POST", ["iserver", "marketdata", "unsubscribe"]) => md::unsubscribe,
        ("GET" | "POST", ["iserver", "marketdata", "unsubscribeall"]) => md::unsubscribe_all,
        ("GET", ["md", "regsnapshot"]) => md::regsnapshot,

        ("GET" | "POST", ["iserver", "secdef", "search"]) => c::search,
        ("GET", ["iserver", "secdef", "info"]) => c::secdef_info,
        ("GET", ["iserver", "secdef", "strikes"]) => c::strikes,
        ("GET", ["iserver", "contract", _, "info"]) => c::info,
        ("GET", ["iserver", "contract", _, "info-and-rules"]) => c::info_and_rules,
        ("GET", ["iserver", "contract", _, "algos"]) => c::algos,
        ("POST", ["iserver", "contract", "rules"]) => c::rules,
        ("GET", ["iserver", "exchangerate"]) => c::exchange_rate,
        ("GET", ["iserver", "currency", "pairs"]) => c::currency_pairs,
        ("GET", ["trsrv", "stocks"]) => c::stocks,
        ("GET", ["trsrv", "futures"]) => c::futures,
        ("GET" | "POST", ["trsrv", "secdef"]) => c::secdef,
        ("GET", ["trsrv", "secdef", "schedule"]) => c::schedule,
        ("GET", ["trsrv", "all-conids"]) => c::all_conids,
        ("GET", ["contract", "trading-schedule"]) => c::trading_schedule,

        ("GET", ["portfolio", "accounts"] | ["portfolio", "subaccounts"]) => p::accounts,
        ("GET", ["portfolio", "positions", _]) => p::position_all_accounts,
        ("GET", ["portfolio", _, "meta"]) => p::meta,
        ("GET", ["portfolio", _, "positions", _]) => p::positions,
        ("POST", ["portfolio", _, "positions", "invalidate"]) => p::invalidate,
        ("GET", ["portfolio", _, "position", _]) => p::position,
        ("GET", ["portfolio", _, "summary"]) => p::summary,
        ("GET", ["portfolio", _, "ledger"]) => p::ledger,
        ("GET", ["portfolio", _, "allocation"]) => p::allocation,
        _ => return None,
    };
    Some(Handler::Json(h))
}

/// Unknown path (404) or known path with another method (405).
fn unresolved(method: &str, segs: &[&str], path: &str) -> ApiError {
    let known = ["GET", "POST", "DELETE", "PUT"]
        .iter()
        .any(|m| *m != method && resolve(m, segs).is_some());
    if known {
        ApiError::MethodNotAllowed {
            method: method.to_string(),
            path: format!("/v1/api/{path}"),
        }
    } else {
        ApiError::NotFound(format!("/v1/api/{path}"))
    }
}

/// Paths that need `/iserver/accounts` to have been called.
fn needs_iserver_priming(segs: &[&str]) -> bool {
    matches!(
        segs,
        ["iserver", "account", ..] | ["iserver", "marketdata", ..] | ["iserver", "reply", ..]
    )
}

/// The session gate of §2.8.
fn gate(core: &Core, segs: &[&str]) -> Result<(), ApiError> {
    let state = core.session.state;
    if state == SessionState::NoSession {
        return Err(ApiError::Unauthorized);
    }
    let open = matches!(
        segs,
        ["iserver", "auth", ..] | ["iserver", "reauthenticate"]
    );
    let brokerage = !open && matches!(segs.first(), Some(&"iserver" | &"md" | &"hmds"));
    if brokerage && !state.brokerage() {
        return Err(ApiError::bad("no bridge"));
    }
    if !core.cfg.session.require_priming {
        return Ok(());
    }
    if brokerage && state == SessionState::NotPrimed && needs_iserver_priming(segs) {
        return Err(ApiError::bad("Please query /accounts first"));
    }
    let portfolio_list = matches!(segs, ["portfolio", "accounts" | "subaccounts"]);
    if segs.first() == Some(&"portfolio") && !portfolio_list && !core.session.portfolio_primed {
        return Err(ApiError::bad("Please query /portfolio/accounts first"));
    }
    Ok(())
}

/// Pacing, injected faults and the session gate. Returns the latency to add.
fn admit(core: &mut Core, req: &Req, segs: &[&str]) -> Result<u64, ApiError> {
    let timeout = core.faults.session_timeout_secs.saturating_mul(1_000);
    if core.session.idle_expired(req.now, timeout) {
        core.trigger(FaultAction::ExpireSession, req.now);
    }
    match core
        .limiter
        .check(&core.faults, &req.method, &req.path, req.now)
    {
        Verdict::Allow => {}
        Verdict::Limited | Verdict::Penalty => return Err(ApiError::TooManyRequests),
    }
    if core.dice.error(&core.faults) {
        return Err(ApiError::Injected);
    }
    let latency = core.dice.latency(&core.faults);
    core.clock_ms = req.now;
    core.maintenance_tick();
    if let Some(w) = core.maintenance
        && in_maintenance_scope(segs)
    {
        if matches!(
            segs,
            ["iserver", "auth", "ssodh", "init"] | ["iserver", "reauthenticate"]
        ) {
            core.maintenance_logins += 1;
        }
        return Err(ApiError::Unavailable(format!(
            "IBKR {} maintenance until {}",
            w.kind,
            w.end.to_rfc3339()
        )));
    }
    gate(core, segs)?;
    core.session.touch(req.now);
    Ok(latency)
}

/// What a maintenance window takes down: `/iserver/*` (logins included) and `/portfolio/*`;
/// auth status, `/tickle`, `/trsrv` and `/sso` keep answering.
fn in_maintenance_scope(segs: &[&str]) -> bool {
    match segs {
        ["iserver", "auth", "status"] => false,
        [first, ..] => matches!(*first, "iserver" | "portfolio" | "md" | "hmds"),
        [] => false,
    }
}

/// The URLs a client may have signed: every origin of the listener (and the `Host` header's)
/// with the raw path, with and without the query string.
fn signed_urls(shared: &Shared, parts: &axum::http::request::Parts) -> Vec<String> {
    let path = parts.uri.path();
    let query = parts.uri.query();
    let mut origins = shared.origins.clone();
    if let (Some(host), Some(scheme)) = (
        parts
            .headers
            .get(axum::http::header::HOST)
            .and_then(|h| h.to_str().ok()),
        shared.origins.first().and_then(|o| o.split_once("://")),
    ) {
        let o = format!("{}://{host}", scheme.0);
        if !origins.contains(&o) {
            origins.push(o);
        }
    }
    let mut urls = Vec::with_capacity(origins.len() * 2);
    for o in &origins {
        if let Some(q) = query {
            urls.push(format!("{o}{path}?{q}"));
        }
        urls.push(format!("{o}{path}"));
    }
    urls
}

/// OAuth mode: verify the request's signature (answering the live-session-token request
/// itself). `None` lets the request through.
fn verify_oauth(
    shared: &Shared,
    parts: &axum::http::request::Parts,
    req: &Req,
) -> Option<Response> {
    use crate::oauth::{Kind, lock};
    let oauth = shared.oauth.as_ref()?;
    let header = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let urls = signed_urls(shared, parts);
    let now = shared.oauth_now_ms();
    if req.path != "oauth/live_session_token" {
        return match lock(oauth).verify(Kind::Api, &req.method, &urls, header, now) {
            Ok(_) => None,
            Err(reason) => Some(ApiError::OAuth(reason).into_response()),
        };
    }
    if req.method != "POST" {
        return Some(
            ApiError::MethodNotAllowed {
                method: req.method.clone(),
                path: "/v1/api/oauth/live_session_token".into(),
            }
            .into_response(),
        );
    }
    let issued = {
        let mut st = lock(oauth);
        st.verify(Kind::LiveSessionToken, "POST", &urls, header, now)
            .and_then(|p| st.issue(&p, now))
    };
    Some(match issued {
        Ok(body) => {
            let mut core = shared.lock();
            if core.session.state == SessionState::NoSession {
                core.session.login_readonly(req.now);
            }
            axum::Json(body).into_response()
        }
        Err(reason) => ApiError::OAuth(reason).into_response(),
    })
}

/// Releases a history slot when the request ends.
struct HistorySlot<'a>(&'a Shared);

impl Drop for HistorySlot<'_> {
    fn drop(&mut self) {
        let mut core = self.0.lock();
        core.history_inflight = core.history_inflight.saturating_sub(1);
    }
}

/// The `/v1/api/*` handler. Every answer's `Date` is the market clock's (IBKR's servers
/// stamp theirs with the venue's time; a client judging maintenance windows or a dated
/// `Retry-After` reads the emulator's simulated clock from it, not the host's).
pub async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let mut response = answer(&shared, request).await;
    let now = chrono::DateTime::from_timestamp_nanos(shared.lock().market.now());
    if let Ok(v) = HeaderValue::from_str(&now.format("%a, %d %b %Y %H:%M:%S GMT").to_string()) {
        response.headers_mut().insert(axum::http::header::DATE, v);
    }
    response
}

async fn answer(shared: &Arc<Shared>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let raw = parts.uri.path();
    let path = normalise(raw.strip_prefix("/v1/api").unwrap_or(raw));
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY).await else {
        return ApiError::TooLarge.into_response();
    };
    let req = Req {
        method: parts.method.as_str().to_ascii_uppercase(),
        query: parse_query(parts.uri.query()),
        path,
        body,
        now: shared.clock.now_ms(),
    };
    let segs = req.segs();
    if let Some(answer) = verify_oauth(shared, &parts, &req) {
        return answer;
    }
    let Some(handler) = resolve(&req.method, &segs) else {
        return unresolved(&req.method, &segs, &req.path).into_response();
    };
    let is_history = matches!(segs.as_slice(), ["iserver", "marketdata", "history"]);
    let latency = {
        let mut core = shared.lock();
        let latency = match admit(&mut core, &req, &segs) {
            Ok(l) => l,
            Err(e) => return e.into_response(),
        };
        if is_history {
            if core.history_inflight >= MAX_HISTORY_INFLIGHT {
                return ApiError::TooManyRequests.into_response();
            }
            core.history_inflight += 1;
        }
        latency
    };
    let _slot = is_history.then(|| HistorySlot(shared));
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    // The lock is released before the body is serialised.
    let result = {
        let mut core = shared.lock();
        match handler {
            Handler::Json(h) => h(&mut core, &req, &segs).map(Answer::Json),
            Handler::Text(h) => h(&mut core, &req, &segs).map(Answer::Text),
            Handler::Plain(h) => h(&mut core, &req, &segs).map(Answer::Plain),
        }
    };
    match result {
        Ok(Answer::Json(v)) => axum::Json(v).into_response(),
        Ok(Answer::Text(text)) => (
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            text,
        )
            .into_response(),
        Ok(Answer::Plain(text)) => (
            [(
                axum::http::header::CONTENT_TYPE,
                "text/plain; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}
