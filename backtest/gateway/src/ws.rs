//! The websocket at `/v1/api/ws`: IBKR's text command grammar (`smd+265598+{"fields":[…]}`,
//! `sor+{}`, `str+{}`, `spl+{}`, `umd+…`, `tic`, `ech+hb`), the hello frames (`system`,
//! `act`, `sts`), `system` heartbeats, and deltas: market data and orders are sent in full
//! the first time and then only the fields that changed.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{
    Message, WebSocket, WebSocketUpgrade, rejection::WebSocketUpgradeRejection,
};
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Map, Value, json};
use tokio::sync::broadcast::error::RecvError;

use crate::api::accounts::accounts_json;
use crate::api::error::ApiError;
use crate::clock::wall_ms;
use crate::fields::snapshot_object;
use crate::session::SessionState;
use crate::state::{Core, Push, Shared};

/// The session id a client presents in its `api` cookie (raw, or `{"session":"…"}`).
fn cookie_session(headers: &HeaderMap) -> Option<String> {
    for value in headers.get_all(axum::http::header::COOKIE) {
        let Ok(s) = value.to_str() else {
            continue;
        };
        for part in s.split(';') {
            let Some((k, v)) = part.trim().split_once('=') else {
                continue;
            };
            if k.trim() != "api" {
                continue;
            }
            let v = v.trim();
            let decoded = url::form_urlencoded::parse(format!("x={v}").as_bytes())
                .next()
                .map(|(_, d)| d.into_owned())
                .unwrap_or_else(|| v.to_string());
            for candidate in [v.to_string(), decoded] {
                if let Ok(Value::Object(m)) = serde_json::from_str::<Value>(&candidate)
                    && let Some(Value::String(id)) = m.get("session")
                {
                    return Some(id.clone());
                }
            }
            return Some(v.to_string());
        }
    }
    None
}

/// `GET /v1/api/ws` — upgrade when a session exists (401 otherwise).
pub async fn upgrade(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let ws = match ws {
        Ok(ws) => ws,
        Err(e) => return ApiError::bad(format!("websocket upgrade required: {e}")).into_response(),
    };
    let (alive, id) = {
        let core = shared.lock();
        (
            core.session.state != SessionState::NoSession,
            core.session.id.clone(),
        )
    };
    if !alive {
        return ApiError::Unauthorized.into_response();
    }
    let token = query.as_deref().and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "oauth_token")
            .map(|(_, v)| v.into_owned())
    });
    let oauth = match (&shared.oauth, token) {
        (Some(o), Some(t)) => {
            match crate::oauth::lock(o).websocket_token(&t, shared.oauth_now_ms()) {
                Ok(()) => true,
                Err(reason) => return ApiError::OAuth(reason).into_response(),
            }
        }
        (Some(_), None) => {
            return ApiError::OAuth("OAuth websocket needs ?oauth_token=<access token>".into())
                .into_response();
        }
        (None, token) => token.is_some(),
    };
    let authed = oauth || cookie_session(&headers).is_some_and(|s| s == id);
    ws.on_upgrade(move |socket| connection(shared, socket, authed))
}

/// One parsed client command.
#[derive(Clone, Debug, PartialEq)]
enum Command {
    Session(String),
    Tic,
    Echo,
    Smd {
        conid: i64,
        fields: Vec<String>,
    },
    Umd(i64),
    Sor,
    Uor,
    Str {
        realtime_only: bool,
        days: i64,
    },
    Utr,
    Spl,
    Upl,
    /// `ssd` (account summary) / `sld` (ledger): account, keys, fields.
    Ssd(String, Vec<String>, Vec<String>),
    Usd(String),
    Sld(String, Vec<String>, Vec<String>),
    Uld(String),
    Unknown(String),
}

/// A JSON array of strings from `args[key]`.
fn strings(args: &Map<String, Value>, key: &str) -> Vec<String> {
    match args.get(key) {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

fn parse_command(text: &str) -> Command {
    let t = text.trim();
    if t.starts_with('{') {
        return match serde_json::from_str::<Value>(t) {
            Ok(Value::Object(m)) => match m.get("session") {
                Some(Value::String(s)) => Command::Session(s.clone()),
                _ => Command::Unknown(t.to_string()),
            },
            _ => Command::Unknown(t.to_string()),
        };
    }
    let mut parts = t.splitn(3, '+');
    let topic = parts.next().unwrap_or_default();
    let second = parts.next();
    let third = parts.next();
    let args = |s: Option<&str>| -> Map<String, Value> {
        match s.map(serde_json::from_str::<Value>) {
            Some(Ok(Value::Object(m))) => m,
            _ => Map::new(),
        }
    };
    match topic {
        "tic" => Command::Tic,
        "ech" => Command::Echo,
        "smd" | "umd" => {
            let Some(conid) = second
                .and_then(|s| s.split('@').next())
                .and_then(|s| s.trim().parse::<i64>().ok())
            else {
                return Command::Unknown(t.to_string());
            };
            if topic == "umd" {
                return Command::Umd(conid);
            }
            let fields = match args(third).get("fields") {
                Some(Value::Array(a)) => a
                    .iter()
                    .filter_map(|v| match v {
                        Value::String(s) => Some(s.clone()),
                        Value::Number(n) => Some(n.to_string()),
                        _ => None,
                    })
                    .collect(),
                _ => Vec::new(),
            };
            Command::Smd { conid, fields }
        }
        "sor" => Command::Sor,
        "uor" => Command::Uor,
        "str" => {
            let m = args(second);
            let realtime_only = m
                .get("realtimeUpdatesOnly")
                .or(m.get("realtime_updates_only"))
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let days = m
                .get("days")
                .and_then(Value::as_i64)
                .unwrap_or(1)
                .clamp(1, 7);
            Command::Str {
                realtime_only,
                days,
            }
        }
        "utr" => Command::Utr,
        "spl" => Command::Spl,
        "upl" => Command::Upl,
        "ssd" | "sld" | "usd" | "uld" => {
            let Some(acct) = second
                .map(str::trim)
                .filter(|s| !s.is_empty() && !s.starts_with('{'))
            else {
                return Command::Unknown(t.to_string());
            };
            let (acct, m) = (acct.to_string(), args(third));
            match topic {
                "ssd" => Command::Ssd(acct, strings(&m, "keys"), strings(&m, "fields")),
                "sld" => Command::Sld(acct, strings(&m, "keys"), strings(&m, "fields")),
                "usd" => Command::Usd(acct),
                _ => Command::Uld(acct),
            }
        }
        _ => Command::Unknown(t.to_string()),
    }
}

/// One `smd` subscription of a connection.
#[derive(Default)]
struct SmdSub {
    fields: BTreeSet<String>,
    last: Map<String, Value>,
    renewed_ms: u64,
}

/// Per-connection subscriptions and the last values sent (for deltas).
#[derive(Default)]
struct Conn {
    authed: bool,
    /// `smd` subscriptions: fields, the last values sent, and when the subscription was
    /// last (re)sent (service clock; IBKR ends it silently after `smd_lapse_secs`).
    smd: BTreeMap<usize, SmdSub>,
    sor: bool,
    sor_sent: HashMap<u64, Map<String, Value>>,
    str_on: bool,
    spl: bool,
    /// `ssd` / `sld` subscriptions: account → (keys, fields).
    ssd: BTreeMap<String, (Vec<String>, Vec<String>)>,
    sld: BTreeMap<String, (Vec<String>, Vec<String>)>,
    last_account_frames: Option<std::time::Instant>,
}

/// IBKR sends account summary and ledger updates every 10 s.
const ACCOUNT_FRAME_EVERY: Duration = Duration::from_secs(10);

impl Conn {
    /// `ssd` / `sld` frames for every subscribed account.
    fn account_frames(&mut self, core: &Core) -> Vec<Value> {
        self.last_account_frames = Some(std::time::Instant::now());
        let mut out = Vec::new();
        for (acct, (keys, fields)) in &self.ssd {
            if let Some(r) = crate::account_frames::summary(core, acct, keys, fields) {
                out.push(json!({"topic": format!("ssd+{acct}"), "result": r}));
            }
        }
        for (acct, (keys, fields)) in &self.sld {
            if let Some(r) = crate::account_frames::ledger(core, acct, keys, fields) {
                out.push(json!({"topic": format!("sld+{acct}"), "result": r}));
            }
        }
        out
    }
}

/// Meta keys every `smd` frame carries.
const SMD_META: [&str; 6] = ["conid", "conidEx", "_updated", "6119", "server_id", "topic"];

impl Conn {
    /// The `smd` frames due for every live subscription (only changed fields); lapsed ones
    /// stay silent until renewed.
    fn market_frames(&mut self, core: &Core, now: u64) -> Vec<Value> {
        let lapse = core.faults.smd_lapse_secs.saturating_mul(1_000);
        let mut out = Vec::new();
        for (idx, sub) in self.smd.iter_mut() {
            if lapse > 0 && now.saturating_sub(sub.renewed_ms) >= lapse {
                continue;
            }
            if let Some(f) = smd_delta(core, *idx, &sub.fields, &mut sub.last) {
                out.push(f);
            }
        }
        out
    }

    fn order_frame(&mut self, orders: &[Value]) -> Option<Value> {
        let mut args = Vec::new();
        for o in orders {
            let Value::Object(full) = o else {
                continue;
            };
            let Some(id) = full.get("orderId").and_then(Value::as_u64) else {
                continue;
            };
            match self.sor_sent.get(&id) {
                None => args.push(Value::Object(full.clone())),
                Some(prev) => {
                    let mut d = Map::new();
                    d.insert(
                        "acct".into(),
                        full.get("acct").cloned().unwrap_or(Value::Null),
                    );
                    d.insert("orderId".into(), json!(id));
                    for (k, v) in full {
                        if prev.get(k) != Some(v) {
                            d.insert(k.clone(), v.clone());
                        }
                    }
                    if d.len() > 2 {
                        args.push(Value::Object(d));
                    }
                }
            }
            self.sor_sent.insert(id, full.clone());
        }
        (!args.is_empty()).then(|| json!({"topic": "sor", "args": args}))
    }
}

/// An `smd` frame with the fields that changed since `last` (all of them the first time).
fn smd_delta(
    core: &Core,
    idx: usize,
    fields: &BTreeSet<String>,
    last: &mut Map<String, Value>,
) -> Option<Value> {
    let c = &core.market.contracts[idx];
    let mut full = snapshot_object(core, idx, fields.iter().map(String::as_str));
    full.insert("topic".into(), json!(format!("smd+{}", c.conid)));
    let mut frame = Map::new();
    let mut changed = false;
    for (k, v) in &full {
        let meta = SMD_META.contains(&k.as_str());
        if meta || last.get(k) != Some(v) {
            frame.insert(k.clone(), v.clone());
            changed |= !meta;
        }
    }
    *last = full;
    changed.then_some(Value::Object(frame))
}

fn hello(core: &Core) -> Vec<Value> {
    let user = &core.cfg.session.user_name;
    let auth = core.auth_status(true);
    let mut frames = vec![
        json!({"topic": "system", "success": user, "isFT": false, "isPaper": true}),
        json!({"topic": "act", "args": accounts_json(core)}),
    ];
    frames.extend(sts_frames(&json!({
        "authenticated": core.session.state.brokerage(),
        "competing": core.session.competing,
        "message": "", "fail": "",
        "serverName": auth["serverInfo"]["serverName"], "serverVersion": auth["serverInfo"]["serverVersion"],
        "username": user,
    })));
    frames
}

/// `sts` frames for status `args`: IBKR sends `authenticated` (with the message and server
/// details) and `competing` as separate frames.
fn sts_frames(args: &Value) -> Vec<Value> {
    let Value::Object(m) = args else {
        return vec![json!({"topic": "sts", "args": args})];
    };
    let mut rest = m.clone();
    let competing = rest.remove("competing");
    let mut out = Vec::with_capacity(2);
    if !rest.is_empty() {
        out.push(json!({"topic": "sts", "args": Value::Object(rest)}));
    }
    if let Some(c) = competing {
        out.push(json!({"topic": "sts", "args": {"competing": c}}));
    }
    out
}

fn error_frame(topic: &str, message: String) -> Value {
    json!({"error": message, "code": 1, "topic": topic})
}

/// Handle one command; returns the frames to send.
fn command(shared: &Shared, conn: &mut Conn, cmd: Command) -> Vec<Value> {
    let mut core = shared.lock();
    if let Command::Session(id) = &cmd {
        if *id == core.session.id && core.session.state != SessionState::NoSession {
            conn.authed = true;
            return hello(&core);
        }
        return vec![json!({"message": "waiting for session"})];
    }
    if !conn.authed {
        return vec![json!({"message": "waiting for session"})];
    }
    let brokerage = core.session.state.brokerage();
    let no_bridge = |topic: &str| error_frame(topic, "Bad Request: no bridge".into());
    match cmd {
        Command::Session(_) => Vec::new(),
        Command::Tic => vec![
            json!({"topic": "tic", "alive": true, "id": core.session.id, "lastAccessed": wall_ms(),
                                   "authenticated": brokerage}),
        ],
        Command::Echo => vec![json!("ech+hb")],
        Command::Smd { conid, fields } => {
            let topic = format!("smd+{conid}");
            if !brokerage {
                return vec![no_bridge(&topic)];
            }
            let Some(idx) = core.market.index_of(conid) else {
                return vec![error_frame(
                    &topic,
                    format!("Bad Request: conid {conid} is not a known contract"),
                )];
            };
            let fields: Vec<String> = if fields.is_empty() {
                crate::fields::DEFAULT_FIELDS
                    .iter()
                    .map(|s| s.to_string())
                    .collect()
            } else {
                fields
            };
            core.session
                .streams
                .entry(conid)
                .or_default()
                .extend(fields.iter().cloned());
            let entry = conn.smd.entry(idx).or_default();
            entry.fields.extend(fields);
            entry.renewed_ms = shared.clock.now_ms();
            if core.faults.stale_feed {
                return Vec::new();
            }
            // A (re)subscription gets every field again.
            entry.last.clear();
            smd_delta(&core, idx, &entry.fields, &mut entry.last)
                .into_iter()
                .collect()
        }
        Command::Umd(conid) => {
            if let Some(idx) = core.market.index_of(conid) {
                conn.smd.remove(&idx);
            }
            Vec::new()
        }
        Command::Sor => {
            if !brokerage {
                return vec![no_bridge("sor")];
            }
            conn.sor = true;
            conn.sor_sent.clear();
            let all = core.orders_json();
            vec![
                conn.order_frame(&all)
                    .unwrap_or_else(|| json!({"topic": "sor", "args": []})),
            ]
        }
        Command::Uor => {
            conn.sor = false;
            Vec::new()
        }
        Command::Str {
            realtime_only,
            days,
        } => {
            if !brokerage {
                return vec![no_bridge("str")];
            }
            conn.str_on = true;
            let args: Vec<Value> = if realtime_only {
                Vec::new()
            } else {
                executions_since(&core, core.market.now_ms() - days * 86_400_000)
            };
            vec![json!({"topic": "str", "args": args})]
        }
        Command::Utr => {
            conn.str_on = false;
            Vec::new()
        }
        Command::Spl => {
            if !brokerage {
                return vec![no_bridge("spl")];
            }
            conn.spl = true;
            vec![json!({"topic": "spl", "args": core.pnl_args("uel")})]
        }
        Command::Upl => {
            conn.spl = false;
            Vec::new()
        }
        Command::Ssd(acct, keys, fields) => {
            match crate::account_frames::summary(&core, &acct, &keys, &fields) {
                Some(r) => {
                    conn.ssd.insert(acct.clone(), (keys, fields));
                    vec![json!({"topic": format!("ssd+{acct}"), "result": r})]
                }
                None => vec![error_frame(
                    &format!("ssd+{acct}"),
                    format!("Bad Request: accountId is not valid: {acct}"),
                )],
            }
        }
        Command::Sld(acct, keys, fields) => {
            match crate::account_frames::ledger(&core, &acct, &keys, &fields) {
                Some(r) => {
                    conn.sld.insert(acct.clone(), (keys, fields));
                    vec![json!({"topic": format!("sld+{acct}"), "result": r})]
                }
                None => vec![error_frame(
                    &format!("sld+{acct}"),
                    format!("Bad Request: accountId is not valid: {acct}"),
                )],
            }
        }
        Command::Usd(acct) => {
            conn.ssd.remove(&acct);
            vec![json!({"result": "unsubscribed from summary"})]
        }
        Command::Uld(acct) => {
            conn.sld.remove(&acct);
            vec![json!({"result": "unsubscribed from ledger"})]
        }
        Command::Unknown(text) => {
            vec![json!({"error": format!("Topic unknown: {text}"), "code": 1})]
        }
    }
}

/// Frames due for a broadcast event; `None` means close the connection.
fn on_push(shared: &Shared, conn: &mut Conn, push: &Push) -> Option<Vec<Value>> {
    if !conn.authed {
        return Some(Vec::new());
    }
    let out = match push {
        Push::Disconnect => return None,
        Push::Market => {
            if conn.smd.is_empty() {
                Vec::new()
            } else {
                let now = shared.clock.now_ms();
                let core = shared.lock();
                if core.faults.stale_feed {
                    Vec::new()
                } else {
                    conn.market_frames(&core, now)
                }
            }
        }
        Push::Orders(orders) if conn.sor => {
            if shared.lock().session.sor_paused {
                // A filtered /iserver/account/orders call stopped order updates.
                Vec::new()
            } else {
                conn.order_frame(orders).into_iter().collect()
            }
        }
        Push::Trades(trades) if conn.str_on => vec![json!({"topic": "str", "args": trades})],
        Push::Pnl(args) => {
            let mut out = Vec::new();
            if conn.spl {
                out.push(json!({"topic": "spl", "args": args}));
            }
            let due = conn
                .last_account_frames
                .is_none_or(|t| t.elapsed() >= ACCOUNT_FRAME_EVERY);
            if due && (!conn.ssd.is_empty() || !conn.sld.is_empty()) {
                out.extend(conn.account_frames(&shared.lock()));
            }
            out
        }
        Push::Status(args) => sts_frames(args),
        Push::Notice(args) => vec![json!({"topic": "ntf", "args": args})],
        Push::Bulletin(args) => vec![json!({"topic": "blt", "args": args})],
        _ => Vec::new(),
    };
    Some(out)
}

/// The executions since `since` (market clock ms), as `str` reports them.
fn executions_since(core: &Core, since: i64) -> Vec<Value> {
    let user = &core.cfg.session.user_name;
    core.exchange
        .executions
        .iter()
        .filter(|e| e.ts_ms >= since)
        .map(|e| e.json(&core.market.contracts[e.index], user, None))
        .collect()
}

/// A connection that fell behind the broadcast missed pushes: what it subscribed to is
/// rebuilt from the current state (market frames, the orders that changed since it last
/// heard, the day's executions, which clients apply once by execution id).
fn resync(shared: &Shared, conn: &mut Conn) -> Vec<Value> {
    let mut out = on_push(shared, conn, &Push::Market).unwrap_or_default();
    if !conn.authed {
        return out;
    }
    let core = shared.lock();
    if conn.sor && !core.session.sor_paused {
        out.extend(conn.order_frame(&core.orders_json()));
    }
    if conn.str_on {
        let args = executions_since(&core, core.market.now_ms() - 86_400_000);
        if !args.is_empty() {
            out.push(json!({"topic": "str", "args": args}));
        }
    }
    out
}

fn to_message(v: Value) -> Message {
    match v {
        Value::String(s) => Message::Text(s.into()),
        other => Message::Text(other.to_string().into()),
    }
}

async fn connection(shared: Arc<Shared>, socket: WebSocket, authed: bool) {
    let (mut tx, mut rx) = socket.split();
    let mut pushes = shared.push.subscribe();
    let mut shutdown = shared.shutdown.clone();
    let mut conn = Conn {
        authed,
        ..Conn::default()
    };
    let (first, heartbeat) = {
        let core = shared.lock();
        let first = if authed {
            hello(&core)
        } else {
            vec![json!({"message": "waiting for session"})]
        };
        (
            first,
            Duration::from_millis(core.cfg.websocket.heartbeat_ms),
        )
    };
    for f in first {
        if tx.send(to_message(f)).await.is_err() {
            return;
        }
    }
    let mut hb = tokio::time::interval_at(tokio::time::Instant::now() + heartbeat, heartbeat);
    loop {
        let frames: Vec<Value> = tokio::select! {
            msg = rx.next() => match msg {
                Some(Ok(Message::Text(t))) => command(&shared, &mut conn, parse_command(t.as_str())),
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => Vec::new(),
            },
            p = pushes.recv() => match p {
                Ok(push) => match on_push(&shared, &mut conn, &push) {
                    Some(f) => f,
                    None => break,
                },
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "websocket client fell behind: resending current state");
                    resync(&shared, &mut conn)
                }
                Err(RecvError::Closed) => break,
            },
            _ = hb.tick() => vec![json!({"topic": "system", "hb": wall_ms()})],
            _ = shutdown.changed() => break,
        };
        for f in frames {
            if tx.send(to_message(f)).await.is_err() {
                return;
            }
        }
    }
    let _ = tx.send(Message::Close(None)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grammar() {
        assert_eq!(
            parse_command(r#"smd+265598+{"fields":["31","84"]}"#),
            Command::Smd {
                conid: 265598,
                fields: vec!["31".into(), "84".into()]
            }
        );
        assert_eq!(
            parse_command("smd+265598@SMART+{}"),
            Command::Smd {
                conid: 265598,
                fields: vec![]
            }
        );
        assert_eq!(parse_command("umd+265598+{}"), Command::Umd(265598));
        assert_eq!(parse_command("sor+{}"), Command::Sor);
        assert_eq!(parse_command("spl"), Command::Spl);
        assert_eq!(parse_command("upl+{}"), Command::Upl);
        assert_eq!(parse_command("utr"), Command::Utr);
        assert_eq!(
            parse_command(r#"str+{"realtime_updates_only":true}"#),
            Command::Str {
                realtime_only: true,
                days: 1
            }
        );
        assert_eq!(
            parse_command(r#"{"session":"abc"}"#),
            Command::Session("abc".into())
        );
        assert_eq!(parse_command("tic"), Command::Tic);
        assert_eq!(parse_command("ech+hb"), Command::Echo);
        assert!(matches!(parse_command("smd+xyz+{}"), Command::Unknown(_)));
        assert!(matches!(parse_command("zzz"), Command::Unknown(_)));
        assert_eq!(
            parse_command(r#"ssd+DU1+{"keys":["NetLiquidation"],"fields":["monetaryValue"]}"#),
            Command::Ssd(
                "DU1".into(),
                vec!["NetLiquidation".into()],
                vec!["monetaryValue".into()]
            )
        );
        assert_eq!(
            parse_command("sld+DU1+{}"),
            Command::Sld("DU1".into(), vec![], vec![])
        );
        assert_eq!(parse_command("usd+DU1"), Command::Usd("DU1".into()));
        assert_eq!(parse_command("uld+DU1+{}"), Command::Uld("DU1".into()));
        assert!(matches!(parse_command("ssd+{}"), Command::Unknown(_)));
    }

    #[test]
    fn cookies() {
        let mut h = HeaderMap::new();
        h.insert(
            axum::http::header::COOKIE,
            r#"x=1; api={"session": "abc"}"#.parse().unwrap(),
        );
        assert_eq!(cookie_session(&h).as_deref(), Some("abc"));
        let mut h = HeaderMap::new();
        h.insert(axum::http::header::COOKIE, "api=deadbeef".parse().unwrap());
        assert_eq!(cookie_session(&h).as_deref(), Some("deadbeef"));
    }
}
