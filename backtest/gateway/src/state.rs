//! The emulator's state behind one lock: session, market, exchange (orders over the
//! simulated broker), accounts, pending order questions and fault switches; plus the
//! broadcast channel that feeds the websockets.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde_json::{Map, Value, json};
use tokio::sync::{broadcast, watch};

use tickline_engine::domain::Bar;

use crate::clock::{Millis, ServiceClock};
use crate::config::{GatewayConfig, InitialSession};
use crate::faults::{FaultAction, FaultDice, Faults, RateLimiter};
use crate::market::Injected;
use crate::market::Market;
use crate::market::quote::Quote;
use crate::orders::exchange::{Changes, Exchange};
use crate::orders::ticket::Ticket;
use crate::portfolio::Account;
use crate::prompts::{PromptRule, Question};
use crate::rng::Rng;
use crate::session::Session;
use crate::wire::num;

/// What the websockets are told.
#[derive(Clone, Debug, PartialEq)]
pub enum Push {
    /// Quotes moved (one market step).
    Market,
    /// Full live-order objects of orders that changed.
    Orders(Vec<Value>),
    /// New executions (with the resulting position).
    Trades(Vec<Value>),
    /// `spl` arguments.
    Pnl(Value),
    /// `sts` arguments (authentication changes); the websocket sends `authenticated` and
    /// `competing` as separate frames, as IBKR does.
    Status(Value),
    /// `ntf` arguments (a notice, or a server prompt to answer through
    /// `/iserver/notification`).
    Notice(Value),
    /// `blt` arguments (an urgent bulletin).
    Bulletin(Value),
    /// Close every websocket (logout, injected disconnect).
    Disconnect,
}

/// A placement or modification waiting for its questions to be confirmed.
#[derive(Clone, Debug)]
pub enum PendingAction {
    Place {
        account: String,
        tickets: Vec<Ticket>,
    },
    Modify {
        account: String,
        order_id: u64,
        ticket: Ticket,
    },
}

#[derive(Clone, Debug)]
pub struct Pending {
    pub created: Millis,
    pub action: PendingAction,
    pub remaining: VecDeque<Question>,
}

/// Orders held behind a server prompt (`p12`) until `/iserver/notification` answers it.
#[derive(Clone, Debug)]
pub struct PendingNotice {
    pub created: Millis,
    pub order_ids: Vec<u64>,
    pub message_id: String,
    pub options: Vec<String>,
}

/// Everything mutable.
pub struct Core {
    pub cfg: GatewayConfig,
    pub session: Session,
    pub market: Market,
    pub exchange: Exchange,
    pub accounts: Vec<Account>,
    pub prompts: Vec<PromptRule>,
    pub pending: HashMap<String, Pending>,
    pub faults: Faults,
    pub limiter: RateLimiter,
    pub dice: FaultDice,
    pub rng: Rng,
    pub history_inflight: usize,
    /// Serialized live-order objects by order id, refreshed on every change, so listing
    /// many orders is a concatenation.
    pub order_json: HashMap<u64, String>,
    /// Counter behind history `serverId`s.
    pub history_serial: u64,
    pub schedule_fired: Vec<bool>,
    /// Server prompts waiting for an answer, by `reqId`.
    pub notices: HashMap<String, PendingNotice>,
    /// Cancels in `PendingCancel`: (order id, account, due on the service clock).
    pub pending_cancels: Vec<(u64, String, Millis)>,
    /// Executions whose commission is still to be sent on `str`: (due, execution index).
    pub late_commissions: VecDeque<(Millis, usize)>,
    /// The maintenance window in force (market clock), if any.
    pub maintenance: Option<crate::maintenance::Window>,
    /// Logins (`ssodh/init`, `reauthenticate`) refused inside maintenance windows: a client
    /// riding a window out sends none.
    pub maintenance_logins: u64,
    stale: Option<Vec<Quote>>,
    bars: Vec<Bar>,
    last_pnl_push: Option<Millis>,
    last_ws_drop: Millis,
    /// Service clock at the last housekeeping or request.
    pub clock_ms: Millis,
    day: i64,
    push: broadcast::Sender<Arc<Push>>,
}

/// Shared by every request and task.
pub struct Shared {
    pub core: Mutex<Core>,
    pub clock: ServiceClock,
    pub push: broadcast::Sender<Arc<Push>>,
    pub shutdown: watch::Receiver<bool>,
    /// OAuth 1.0a verification (`--oauth DIR`); `None` = gateway mode (cookies).
    pub oauth: Option<Mutex<crate::oauth::OAuthState>>,
    /// `scheme://host:port` origins a client may have signed (the bound address).
    pub origins: Vec<String>,
}

impl Shared {
    /// Wall-clock epoch ms plus any `/control/clock/advance`: the clock OAuth timestamps
    /// and live-session-token expiry are judged on.
    pub fn oauth_now_ms(&self) -> i64 {
        crate::clock::wall_ms()
            .saturating_add(i64::try_from(self.clock.offset_ms()).unwrap_or(i64::MAX))
    }

    /// Lock the core (a panicked holder does not poison the emulator for everyone else).
    pub fn lock(&self) -> MutexGuard<'_, Core> {
        self.core.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Core {
    /// Every order as the live-orders list and `sor` describe it.
    pub fn orders_json(&self) -> Vec<Value> {
        self.exchange
            .orders
            .values()
            .map(|o| o.live_json(&self.market.contracts[o.index]))
            .collect()
    }

    pub fn new(
        cfg: GatewayConfig,
        market: Market,
        exchange: Exchange,
        push: broadcast::Sender<Arc<Push>>,
        now: Millis,
    ) -> Core {
        let accounts: Vec<Account> = cfg.accounts.iter().map(Account::new).collect();
        let selected = accounts.first().map(|a| a.id.clone()).unwrap_or_default();
        // A stuck brokerage session from the start: logged in, never "authenticated".
        let initial = match cfg.session.initial {
            InitialSession::Brokerage | InitialSession::Ready if cfg.faults.stuck_brokerage => {
                InitialSession::Readonly
            }
            other => other,
        };
        let session = Session::new(initial, cfg.seed, selected, now);
        let mut core = Core {
            prompts: cfg.prompts.clone(),
            faults: cfg.faults.clone(),
            schedule_fired: vec![false; cfg.faults.schedule.len()],
            dice: FaultDice::new(cfg.seed),
            rng: Rng::derive(cfg.seed, 0x4E91),
            limiter: RateLimiter::default(),
            pending: HashMap::new(),
            history_inflight: 0,
            order_json: HashMap::new(),
            history_serial: 4_155_800,
            notices: HashMap::new(),
            pending_cancels: Vec::new(),
            late_commissions: VecDeque::new(),
            maintenance: None,
            maintenance_logins: 0,
            stale: None,
            bars: Vec::with_capacity(16),
            last_pnl_push: None,
            last_ws_drop: now,
            clock_ms: now,
            day: 0,
            session,
            market,
            exchange,
            accounts,
            push,
            cfg,
        };
        for bar in core.market.priming_bars() {
            core.exchange.on_bar(&bar, core.market.now_ms());
        }
        core.day = core.trade_day();
        core.roll_day();
        if core.faults.stale_feed {
            core.stale = Some(core.market.quotes.clone());
        }
        core
    }

    /// Send to every websocket (nobody listening is fine).
    pub fn push(&self, p: Push) {
        let _ = self.push.send(Arc::new(p));
    }

    /// The quotes clients see (frozen while the stale-feed fault is on).
    pub fn visible_quotes(&self) -> &[Quote] {
        self.stale.as_deref().unwrap_or(&self.market.quotes)
    }

    pub fn account(&self, id: &str) -> Option<&Account> {
        self.accounts.iter().find(|a| a.id == id)
    }

    pub fn account_index(&self, id: &str) -> Option<usize> {
        self.accounts.iter().position(|a| a.id == id)
    }

    /// Trade date (New York) of the simulated now, as days since CE.
    fn trade_day(&self) -> i64 {
        use chrono::Datelike;
        chrono::DateTime::from_timestamp_nanos(self.market.now())
            .with_timezone(&chrono_tz::America::New_York)
            .date_naive()
            .num_days_from_ce() as i64
    }

    /// Start a new trade date: daily P&L is measured from here.
    fn roll_day(&mut self) {
        for i in 0..self.accounts.len() {
            let v = self.accounts[i].valuation(&self.market.contracts, &self.market.quotes);
            self.accounts[i].day_start_nlv = Some(v.nlv);
        }
    }

    /// Change fault switches.
    pub fn set_faults(&mut self, next: Faults) {
        if next.stale_feed && self.stale.is_none() {
            self.stale = Some(self.market.quotes.clone());
        }
        if !next.stale_feed {
            self.stale = None;
        }
        if next.rate_limits != self.faults.rate_limits
            || next.global_rate != self.faults.global_rate
        {
            self.limiter.reset();
        }
        if next.schedule != self.faults.schedule {
            self.schedule_fired = vec![false; next.schedule.len()];
        }
        let stuck = next.stuck_brokerage && !self.faults.stuck_brokerage;
        self.faults = next;
        if stuck && self.session.state.brokerage() {
            self.session.reset();
            self.pending.clear();
            self.push(Push::Status(
                json!({"authenticated": false, "message": "brokerage session not authenticated"}),
            ));
        }
    }

    /// Book executions and tell the websockets about changed orders and fills.
    pub fn publish(&mut self, changes: Changes) {
        if changes.is_empty() {
            return;
        }
        let mut trades = Vec::with_capacity(changes.fills.len());
        for &k in &changes.fills {
            let Some(e) = self.exchange.executions.get(k).cloned() else {
                continue;
            };
            let contract = &self.market.contracts[e.index];
            let position = match self.account_index(&e.account) {
                Some(a) => {
                    self.accounts[a].apply_fill(
                        e.index,
                        contract,
                        e.side,
                        e.quantity,
                        e.price,
                        e.commission,
                    );
                    self.accounts[a].positions.get(&e.index).map(|p| p.qty)
                }
                None => None,
            };
            let mut frame = e.json(contract, &self.cfg.session.user_name, position);
            if self.faults.late_commission_ms > 0 {
                // IBKR may send the commission in a later frame for the same execution id.
                if let Value::Object(m) = &mut frame {
                    m.remove("commission");
                }
                let due = self.clock_ms.saturating_add(self.faults.late_commission_ms);
                self.late_commissions.push_back((due, k));
            }
            trades.push(frame);
        }
        let orders: Vec<Value> = changes
            .orders
            .iter()
            .filter_map(|id| self.exchange.order(*id))
            .map(|o| o.live_json(&self.market.contracts[o.index]))
            .collect();
        for o in &orders {
            if let Some(id) = o.get("orderId").and_then(Value::as_u64) {
                self.order_json.insert(id, o.to_string());
            }
        }
        if !orders.is_empty() {
            self.push(Push::Orders(orders));
        }
        if !trades.is_empty() {
            self.push(Push::Trades(trades));
        }
    }

    /// Advance the market `n` steps (matching working orders on every bar). Returns the
    /// steps actually taken (a replay may run out).
    pub fn step_market(&mut self, n: u64, inject: Option<Injected>, now: Millis) -> u64 {
        let mut taken = 0;
        for k in 0..n {
            let mut bars = std::mem::take(&mut self.bars);
            bars.clear();
            let inj = if k == 0 { inject } else { None };
            if !self.market.step(inj, &mut bars) {
                self.bars = bars;
                break;
            }
            taken += 1;
            let now_ms = self.market.now_ms();
            for bar in &bars {
                let changes = self.exchange.on_bar(bar, now_ms);
                self.publish(changes);
            }
            self.bars = bars;
            let day = self.trade_day();
            if day != self.day {
                self.day = day;
                self.roll_day();
            }
        }
        if taken > 0 && self.stale.is_none() {
            self.push(Push::Market);
        }
        if taken > 0 {
            self.maintenance_tick();
            let due = self
                .last_pnl_push
                .is_none_or(|t| now.saturating_sub(t) >= self.cfg.websocket.pnl_interval_ms);
            if due {
                self.last_pnl_push = Some(now);
                self.push(Push::Pnl(self.pnl_args("uel")));
            }
        }
        taken
    }

    /// `{"<acct>.Core": {rowType, dpl, nl, upl, <el>, mv}}` for every account (`el` over
    /// REST, `uel` on the websocket).
    pub fn pnl_args(&self, el_key: &str) -> Value {
        let mut m = Map::new();
        for a in &self.accounts {
            let v = a.valuation(&self.market.contracts, &self.market.quotes);
            let mut row = Map::new();
            row.insert("rowType".into(), json!(1));
            row.insert("dpl".into(), num(a.daily_pnl(&v).round_dp(2)));
            row.insert("nl".into(), num(v.nlv.round_dp(2)));
            row.insert("upl".into(), num(v.unrealized.round_dp(2)));
            row.insert(el_key.into(), num(v.excess_liquidity().round_dp(2)));
            row.insert(
                "mv".into(),
                num((v.stock_value + v.future_value + v.fx_value).round_dp(2)),
            );
            m.insert(format!("{}.Core", a.id), Value::Object(row));
        }
        Value::Object(m)
    }

    /// The auth-status object (`/iserver/auth/status`, `ssodh/init`, inside `/tickle`).
    pub fn auth_status(&self, with_fail: bool) -> Value {
        let s = &self.session;
        let auth = s.state.brokerage();
        let message = if s.competing {
            "competing session"
        } else if self.maintenance.is_some() {
            "maintenance"
        } else {
            ""
        };
        let mut v = json!({
            "authenticated": auth,
            "established": auth,
            "competing": s.competing,
            "connected": s.state != crate::session::SessionState::NoSession,
            "message": message,
            "MAC": "F4:03:43:CD:BD:C0",
            "serverInfo": {"serverName": "TicklineGW1", "serverVersion": concat!("Build tickline-gateway ", env!("CARGO_PKG_VERSION"))},
            "hardware_info": "1c4558e8|F4:03:43:CD:BD:C0",
        });
        if with_fail && let Value::Object(m) = &mut v {
            m.insert("fail".into(), json!(""));
        }
        v
    }

    /// Carry out a session / connection fault.
    pub fn trigger(&mut self, action: FaultAction, now: Millis) {
        match action {
            FaultAction::Logout | FaultAction::ExpireSession => {
                self.session.end();
                self.pending.clear();
                self.push(Push::Status(
                    json!({"authenticated": false, "message": "session ended"}),
                ));
                self.push(Push::Disconnect);
            }
            FaultAction::Compete => {
                self.session.compete();
                self.pending.clear();
                self.push(Push::Status(
                    json!({"authenticated": false, "competing": true}),
                ));
            }
            FaultAction::CompeteAuthenticated => {
                if self.session.state.brokerage() {
                    self.session.competing = true;
                    self.push(Push::Status(json!({"competing": true})));
                }
            }
            FaultAction::Reset => {
                self.session.reset();
                self.pending.clear();
                self.push(Push::Status(
                    json!({"authenticated": false, "message": "nightly reset"}),
                ));
            }
            FaultAction::DisconnectWebsockets => self.push(Push::Disconnect),
            FaultAction::Login => {
                self.session.login(now);
                self.push(Push::Status(
                    json!({"authenticated": true, "competing": false}),
                ));
            }
        }
    }

    /// Periodic duties: idle expiry, scheduled faults, periodic websocket drops, expired
    /// reply ids.
    pub fn housekeeping(&mut self, now: Millis) {
        let timeout = self.faults.session_timeout_secs.saturating_mul(1_000);
        if self.session.idle_expired(now, timeout) {
            self.trigger(FaultAction::ExpireSession, now);
        }
        for k in 0..self.faults.schedule.len() {
            let f = self.faults.schedule[k].clone();
            if !self.schedule_fired[k] && now >= f.at_secs.saturating_mul(1_000) {
                self.schedule_fired[k] = true;
                self.trigger(f.action, now);
            }
        }
        let every = self.faults.ws_disconnect_secs.saturating_mul(1_000);
        if every > 0 && now.saturating_sub(self.last_ws_drop) >= every {
            self.last_ws_drop = now;
            self.push(Push::Disconnect);
        }
        let ttl = self.cfg.session.reply_ttl_secs.saturating_mul(1_000);
        self.pending
            .retain(|_, p| now.saturating_sub(p.created) < ttl);
        self.expire_notices(now, ttl);
        self.clock_ms = now;
        self.due_cancels(now);
        self.due_commissions(now);
        self.maintenance_tick();
    }

    /// Enter or leave the maintenance window of the configured region (market clock). On
    /// entry the brokerage session drops to read-only; it stays there after the window until
    /// the client calls `ssodh/init` again, as after IBKR's reset.
    pub fn maintenance_tick(&mut self) {
        let at = chrono::DateTime::from_timestamp_nanos(self.market.now());
        let window = crate::maintenance::window_at(self.faults.maintenance, at);
        match (self.maintenance, window) {
            (None, Some(w)) => {
                self.maintenance = Some(w);
                tracing::info!(kind = w.kind, until = %w.end, "maintenance window begins");
                if self.session.state.brokerage() {
                    self.session.reset();
                }
                self.pending.clear();
                self.push(Push::Status(
                    json!({"authenticated": false, "message": "maintenance"}),
                ));
            }
            (Some(_), None) => {
                self.maintenance = None;
                tracing::info!("maintenance window ends");
            }
            _ => {}
        }
    }

    /// Carry out cancels whose `PendingCancel` delay has passed.
    fn due_cancels(&mut self, now: Millis) {
        if self.pending_cancels.is_empty() {
            return;
        }
        let due: Vec<(u64, String)> = self
            .pending_cancels
            .iter()
            .filter(|(_, _, at)| *at <= now)
            .map(|(id, a, _)| (*id, a.clone()))
            .collect();
        self.pending_cancels.retain(|(_, _, at)| *at > now);
        let market_ms = self.market.now_ms();
        for (id, account) in due {
            if let Ok(changes) = self.exchange.cancel(&account, id, market_ms) {
                self.publish(changes);
            }
        }
    }

    /// Send the `str` follow-up frames of late commissions.
    fn due_commissions(&mut self, now: Millis) {
        let mut frames = Vec::new();
        while let Some(&(at, k)) = self.late_commissions.front() {
            if at > now {
                break;
            }
            self.late_commissions.pop_front();
            if let Some(e) = self.exchange.executions.get(k) {
                let contract = &self.market.contracts[e.index];
                frames.push(e.json(contract, &self.cfg.session.user_name, None));
            }
        }
        if !frames.is_empty() {
            self.push(Push::Trades(frames));
        }
    }

    /// Reject orders whose server prompt was not answered in time.
    fn expire_notices(&mut self, now: Millis, ttl: Millis) {
        let expired: Vec<String> = self
            .notices
            .iter()
            .filter(|(_, n)| now.saturating_sub(n.created) >= ttl)
            .map(|(k, _)| k.clone())
            .collect();
        for k in expired {
            if let Some(n) = self.notices.remove(&k) {
                let market_ms = self.market.now_ms();
                let changes = self.exchange.reject_held(
                    &n.order_ids,
                    "Order rejected: the server prompt was not answered in time",
                    market_ms,
                );
                self.publish(changes);
            }
        }
    }
}
