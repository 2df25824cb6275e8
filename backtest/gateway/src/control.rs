//! The control endpoint, outside `/v1/api` (no pacing, faults or session gate):
//!
//! | Method | Path | Body | Does |
//! |---|---|---|---|
//! | GET | `/control/state` | — | session, market, orders, accounts, faults, clock |
//! | GET | `/control/faults` | — | the fault switches |
//! | POST/PATCH | `/control/faults` | `{"error_rate":0.1, …}` | change switches |
//! | POST | `/control/faults/trigger` | `{"action":"compete"}` | one-shot fault |
//! | POST | `/control/session/{login,logout,compete,compete-authenticated,reset,expire}` | — | session faults |
//! | POST | `/control/ws/disconnect` | — | drop every websocket |
//! | POST | `/control/ws/ntf`, `/control/ws/blt` | args object or array (optional) | push an `ntf` notice / `blt` bulletin |
//! | POST | `/control/market/step` | `{"steps":n}` | advance the market n steps |
//! | POST | `/control/market/bar` | `{"conid","open","high","low","close","volume"}` | force the next bar of one instrument |
//! | POST | `/control/clock/advance` | `{"secs":n}` or `{"ms":n}` | move the service clock |
//! | GET | `/control/orders`, `/control/executions` | — | every order / execution |

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

use crate::api::error::ApiError;
use crate::config::MarketMode;
use crate::faults::FaultAction;
use crate::market::Injected;
use crate::market::walk::Ohlcv;
use crate::state::{Core, Push, Shared};

type Reply = Result<axum::Json<Value>, ApiError>;

fn body_object(body: &Bytes) -> Result<Map<String, Value>, ApiError> {
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(other) => Err(ApiError::bad(format!(
            "expected a JSON object, got {other}"
        ))),
        Err(e) => Err(ApiError::bad(format!("malformed JSON body: {e}"))),
    }
}

fn u64_field(m: &Map<String, Value>, key: &str) -> Result<Option<u64>, ApiError> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_u64().map(Some).ok_or_else(|| {
            ApiError::bad(format!("{key}: expected a non-negative integer, got {v}"))
        }),
    }
}

fn f64_field(m: &Map<String, Value>, key: &str) -> Result<f64, ApiError> {
    m.get(key)
        .and_then(Value::as_f64)
        .filter(|x| x.is_finite())
        .ok_or_else(|| ApiError::bad(format!("{key} is required (a number)")))
}

fn quotes(core: &Core) -> Vec<Value> {
    core.market
        .contracts
        .iter()
        .zip(core.market.quotes.iter())
        .map(|(c, q)| {
            json!({"symbol": c.symbol(), "conid": c.conid, "last": q.last, "bid": q.bid, "ask": q.ask,
                   "has_data": q.has_data, "updated": q.updated_ms})
        })
        .collect()
}

fn market_json(core: &Core) -> Value {
    let now = chrono::DateTime::from_timestamp_nanos(core.market.now());
    json!({
        "mode": match core.cfg.market.mode { MarketMode::Manual => "manual", MarketMode::Timed => "timed" },
        "source": if core.market.is_replay() { "replay" } else { "simulated" },
        "now": now.to_rfc3339(),
        "now_ms": core.market.now_ms(),
        "steps": core.market.steps(),
        "replay_remaining": core.market.replay_remaining(),
        "stale_feed": core.faults.stale_feed,
        "quotes": quotes(core),
    })
}

async fn state(State(shared): State<Arc<Shared>>) -> Reply {
    let now = shared.clock.now_ms();
    let oauth = shared.oauth.as_ref().map(|o| {
        let st = crate::oauth::lock(o);
        json!({"consumer_key": st.material().consumer_key, "live_session_token": st.has_token(shared.oauth_now_ms()),
               "accepted": st.accepted, "refused": st.refused})
    });
    let core = shared.lock();
    let accounts: Vec<Value> = core
        .accounts
        .iter()
        .map(|a| {
            let v = a.valuation(&core.market.contracts, &core.market.quotes);
            let positions: Vec<Value> = a
                .positions
                .iter()
                .filter(|(_, p)| !p.qty.is_zero())
                .map(|(i, p)| {
                    json!({"symbol": core.market.contracts[*i].symbol(), "conid": core.market.contracts[*i].conid,
                           "position": p.qty.normalize().to_string(), "avg_price": p.avg_price.normalize().to_string(),
                           "realized": p.realized.normalize().to_string()})
                })
                .collect();
            json!({"id": a.id, "cash": v.cash.round_dp(2).to_string(), "nlv": v.nlv.round_dp(2).to_string(),
                   "commissions": a.commissions.round_dp(4).to_string(), "positions": positions})
        })
        .collect();
    let s = &core.session;
    Ok(axum::Json(json!({
        "clock_ms": now,
        "session": {
            "state": s.state.as_str(), "competing": s.competing, "id": s.id,
            "selected_account": s.selected_account,
            "suppressed": s.suppressed.iter().collect::<Vec<_>>(),
            "streams": s.streams.keys().collect::<Vec<_>>(),
            "idle_ms": now.saturating_sub(s.last_access),
        },
        "market": market_json(&core),
        "orders": {"total": core.exchange.orders.len(),
                   "working": core.exchange.orders.values().filter(|o| !o.status.is_terminal()).count(),
                   "at_broker": core.exchange.broker_working(),
                   "executions": core.exchange.executions.len()},
        "pending_replies": core.pending.len(),
        "pending_prompts": core.notices.len(),
        "pending_cancels": core.pending_cancels.len(),
        "maintenance": core.maintenance.map(|w| json!({"kind": w.kind, "start": w.start.to_rfc3339(), "end": w.end.to_rfc3339()})),
        "maintenance_logins": core.maintenance_logins,
        "penalty_left_ms": core.limiter.penalty_left(now),
        "oauth": oauth,
        "accounts": accounts,
        "faults": core.faults,
    })))
}

async fn get_faults(State(shared): State<Arc<Shared>>) -> Reply {
    Ok(axum::Json(json!(shared.lock().faults)))
}

async fn set_faults(State(shared): State<Arc<Shared>>, body: Bytes) -> Reply {
    let patch: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad(format!("malformed JSON body: {e}")))?;
    let mut core = shared.lock();
    let mut next = core.faults.clone();
    next.patch(&patch).map_err(ApiError::bad)?;
    core.set_faults(next);
    Ok(axum::Json(json!(core.faults)))
}

fn act(shared: &Shared, action: FaultAction) -> Reply {
    let now = shared.clock.now_ms();
    let mut core = shared.lock();
    core.trigger(action, now);
    Ok(axum::Json(
        json!({"done": action, "session": core.session.state.as_str(), "competing": core.session.competing}),
    ))
}

async fn trigger(State(shared): State<Arc<Shared>>, body: Bytes) -> Reply {
    let m = body_object(&body)?;
    let v = m
        .get("action")
        .cloned()
        .ok_or_else(|| ApiError::bad("action is required"))?;
    let action: FaultAction = serde_json::from_value(v.clone())
        .map_err(|_| ApiError::bad(format!("action: unknown action {v} (login, logout, compete, compete-authenticated, reset, expire-session, disconnect-websockets)")))?;
    act(&shared, action)
}

async fn session_action(State(shared): State<Arc<Shared>>, Path(what): Path<String>) -> Reply {
    let action = match what.as_str() {
        "login" => FaultAction::Login,
        "logout" => FaultAction::Logout,
        "compete" => FaultAction::Compete,
        "compete-authenticated" => FaultAction::CompeteAuthenticated,
        "reset" => FaultAction::Reset,
        "expire" => FaultAction::ExpireSession,
        other => return Err(ApiError::NotFound(format!("/control/session/{other}"))),
    };
    act(&shared, action)
}

async fn ws_disconnect(State(shared): State<Arc<Shared>>) -> Reply {
    act(&shared, FaultAction::DisconnectWebsockets)
}

/// `POST /control/ws/ntf` / `blt`: push a notice or bulletin to every websocket; the body
/// is the frame's `args`: an object, an array of them (IBKR sends `ntf` args in either
/// form), or empty (`{}`) for a sample one.
async fn notify(State(shared): State<Arc<Shared>>, Path(kind): Path<String>, body: Bytes) -> Reply {
    let given = if body.iter().all(|b| b.is_ascii_whitespace()) {
        None
    } else {
        match serde_json::from_slice::<Value>(&body) {
            Ok(Value::Object(m)) if m.is_empty() => None,
            Ok(v @ (Value::Object(_) | Value::Array(_))) => Some(v),
            Ok(other) => {
                return Err(ApiError::bad(format!(
                    "expected a JSON object or array, got {other}"
                )));
            }
            Err(e) => return Err(ApiError::bad(format!("malformed JSON body: {e}"))),
        }
    };
    let (push, args) = match kind.as_str() {
        "ntf" => {
            let args = given.unwrap_or_else(|| json!({"id": "INDICATIVE_DATA_SUGGESTION", "text": "CFD quotes reference the trade, volume and bid/ask market data on the underlying STK", "title": "Warning", "url": "https://interactivebrokers.com/"}));
            (Push::Notice(args.clone()), args)
        }
        "blt" => {
            let args = given.unwrap_or_else(|| json!({"id": "BLT-1", "message": "Exchange connectivity issue: some order routes are delayed"}));
            (Push::Bulletin(args.clone()), args)
        }
        other => return Err(ApiError::NotFound(format!("/control/ws/{other}"))),
    };
    shared.lock().push(push);
    Ok(axum::Json(json!({"sent": kind, "args": args})))
}

async fn step(State(shared): State<Arc<Shared>>, body: Bytes) -> Reply {
    let m = body_object(&body)?;
    let n = u64_field(&m, "steps")?.unwrap_or(1);
    if n == 0 || n > 100_000 {
        return Err(ApiError::bad(format!(
            "steps: must be within 1..100000, got {n}"
        )));
    }
    let now = shared.clock.now_ms();
    let mut core = shared.lock();
    let taken = core.step_market(n, None, now);
    Ok(axum::Json(
        json!({"steps": taken, "exhausted": taken < n, "market": market_json(&core)}),
    ))
}

async fn bar(State(shared): State<Arc<Shared>>, body: Bytes) -> Reply {
    let m = body_object(&body)?;
    let conid = m
        .get("conid")
        .and_then(|v| {
            v.as_i64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        })
        .ok_or_else(|| ApiError::bad("conid is required"))?;
    let b = Ohlcv {
        open: f64_field(&m, "open")?,
        high: f64_field(&m, "high")?,
        low: f64_field(&m, "low")?,
        close: f64_field(&m, "close")?,
        volume: m.get("volume").and_then(Value::as_f64).unwrap_or(0.0),
    };
    if !(b.low > 0.0
        && b.low <= b.open.min(b.close)
        && b.high >= b.open.max(b.close)
        && b.high <= 1e9)
    {
        return Err(ApiError::bad("need 0 < low <= open, close <= high <= 1e9"));
    }
    if !(b.volume.is_finite() && (0.0..=1e15).contains(&b.volume)) {
        return Err(ApiError::bad("volume: must be within 0..1e15"));
    }
    let now = shared.clock.now_ms();
    let mut core = shared.lock();
    if core.market.is_replay() {
        return Err(ApiError::bad(
            "bars cannot be injected while replaying files",
        ));
    }
    let index = core
        .market
        .index_of(conid)
        .ok_or_else(|| ApiError::bad(format!("conid {conid} is not a known contract")))?;
    let taken = core.step_market(1, Some(Injected { index, bar: b }), now);
    Ok(axum::Json(
        json!({"steps": taken, "market": market_json(&core)}),
    ))
}

async fn advance(State(shared): State<Arc<Shared>>, body: Bytes) -> Reply {
    let m = body_object(&body)?;
    let ms = match (u64_field(&m, "secs")?, u64_field(&m, "ms")?) {
        (Some(s), None) => s.saturating_mul(1_000),
        (None, Some(ms)) => ms,
        _ => return Err(ApiError::bad("give exactly one of secs or ms")),
    };
    shared.clock.advance(ms);
    let now = shared.clock.now_ms();
    let mut core = shared.lock();
    core.housekeeping(now);
    Ok(axum::Json(
        json!({"clock_ms": now, "session": core.session.state.as_str()}),
    ))
}

async fn orders(State(shared): State<Arc<Shared>>) -> Reply {
    let core = shared.lock();
    Ok(axum::Json(Value::Array(core.orders_json())))
}

async fn executions(State(shared): State<Arc<Shared>>) -> Reply {
    let core = shared.lock();
    let user = core.cfg.session.user_name.clone();
    let list: Vec<Value> = core
        .exchange
        .executions
        .iter()
        .map(|e| {
            let mut v = e.json(&core.market.contracts[e.index], &user, None);
            if let Value::Object(m) = &mut v {
                m.insert("coid".into(), json!(e.coid));
            }
            v
        })
        .collect();
    Ok(axum::Json(Value::Array(list)))
}

async fn not_found(uri: axum::http::Uri) -> Response {
    ApiError::NotFound(uri.path().to_string()).into_response()
}

/// The `/control` router.
pub fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/control/state", get(state))
        .route(
            "/control/faults",
            get(get_faults).post(set_faults).patch(set_faults),
        )
        .route("/control/faults/trigger", post(trigger))
        .route("/control/session/{action}", post(session_action))
        .route("/control/ws/disconnect", post(ws_disconnect))
        .route("/control/ws/{kind}", post(notify))
        .route("/control/market/step", post(step))
        .route("/control/market/bar", post(bar))
        .route("/control/clock/advance", post(advance))
        .route("/control/orders", get(orders))
        .route("/control/executions", get(executions))
        .route("/control/{*rest}", axum::routing::any(not_found))
}
