//! The session state machine of the reference (§2.8):
//!
//! ```text
//! NO_SESSION ──login──► READONLY ──ssodh/init──► NOT_PRIMED ──/iserver/accounts──► READY
//!   ▲   ▲                 │  ▲                       │                              │
//!   │   └─ idle expiry ───┘  └─ nightly reset / competing session ───────────────────┘
//!   └──────────────── /logout (any state) ─────────────────────────────────────────────┘
//! ```

use std::collections::{BTreeSet, HashMap};

use crate::clock::Millis;
use crate::config::InitialSession;
use crate::rng::Rng;

/// Where the session is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionState {
    /// Logged out: every endpoint answers 401.
    NoSession,
    /// Read-only (SSO) session: `/portfolio`, `/trsrv`, `/tickle` work; `/iserver` does not.
    ReadOnly,
    /// Brokerage session up; `/iserver/accounts` not called yet.
    NotPrimed,
    /// Everything works.
    Ready,
}

impl SessionState {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionState::NoSession => "no-session",
            SessionState::ReadOnly => "readonly",
            SessionState::NotPrimed => "brokerage",
            SessionState::Ready => "ready",
        }
    }

    /// Brokerage session authenticated (`authenticated: true` in auth status).
    pub fn brokerage(self) -> bool {
        matches!(self, SessionState::NotPrimed | SessionState::Ready)
    }
}

/// The one user's session.
#[derive(Debug)]
pub struct Session {
    pub state: SessionState,
    pub competing: bool,
    /// 32-hex session id (`/tickle` → `session`, the websocket cookie).
    pub id: String,
    pub last_access: Millis,
    /// Wall-clock ms of the last login (`AUTH_TIME`).
    pub auth_time: i64,
    pub portfolio_primed: bool,
    pub pnl_primed: bool,
    /// Message ids suppressed through `/iserver/questions/suppress`.
    pub suppressed: BTreeSet<String>,
    /// Market-data streams opened by snapshots / `smd`: conid → requested field ids.
    pub streams: HashMap<i64, BTreeSet<String>>,
    pub selected_account: String,
    /// `/iserver/account/orders` quirks: the next call answers an empty list (the first call
    /// of a brokerage session).
    pub orders_cold: bool,
    /// The stale list served outside regular hours until `force=true`.
    pub orders_cache: Option<String>,
    /// A call with `filters` stopped `sor` order updates until a `force=true` call.
    pub sor_paused: bool,
    rng: Rng,
}

impl Session {
    pub fn new(
        initial: InitialSession,
        seed: u64,
        selected_account: String,
        now: Millis,
    ) -> Session {
        let mut rng = Rng::derive(seed, 0x5E55);
        let state = match initial {
            InitialSession::None => SessionState::NoSession,
            InitialSession::Readonly => SessionState::ReadOnly,
            InitialSession::Brokerage => SessionState::NotPrimed,
            InitialSession::Ready => SessionState::Ready,
        };
        Session {
            state,
            competing: false,
            id: rng.hex(16),
            last_access: now,
            auth_time: crate::clock::wall_ms(),
            portfolio_primed: initial == InitialSession::Ready,
            pnl_primed: false,
            suppressed: BTreeSet::new(),
            streams: HashMap::new(),
            selected_account,
            orders_cold: true,
            orders_cache: None,
            sor_paused: false,
            rng,
        }
    }

    /// A request arrived: refresh the idle timer.
    pub fn touch(&mut self, now: Millis) {
        self.last_access = now;
    }

    /// Milliseconds left before idle expiry (`timeout_ms` 0 = never).
    pub fn remaining(&self, now: Millis, timeout_ms: Millis) -> Option<Millis> {
        (timeout_ms > 0).then(|| (self.last_access + timeout_ms).saturating_sub(now))
    }

    /// Has the idle timeout passed? (Does not change state.)
    pub fn idle_expired(&self, now: Millis, timeout_ms: Millis) -> bool {
        self.state != SessionState::NoSession
            && timeout_ms > 0
            && now.saturating_sub(self.last_access) >= timeout_ms
    }

    fn clear_brokerage(&mut self) {
        self.streams.clear();
        self.suppressed.clear();
        self.pnl_primed = false;
        self.orders_cold = true;
        self.orders_cache = None;
        self.sor_paused = false;
    }

    /// Log in with a read-only (SSO) session only, as OAuth's live session token does:
    /// `/iserver` needs `ssodh/init` next.
    pub fn login_readonly(&mut self, now: Millis) {
        self.login(now);
        self.state = SessionState::ReadOnly;
    }

    /// End the session (logout, idle expiry).
    pub fn end(&mut self) {
        self.state = SessionState::NoSession;
        self.competing = false;
        self.portfolio_primed = false;
        self.clear_brokerage();
    }

    /// A fresh login (new session id); the brokerage session comes up unprimed.
    pub fn login(&mut self, now: Millis) {
        self.state = SessionState::NotPrimed;
        self.competing = false;
        self.id = self.rng.hex(16);
        self.last_access = now;
        self.auth_time = crate::clock::wall_ms();
        self.portfolio_primed = false;
        self.clear_brokerage();
    }

    /// Another platform took the brokerage session.
    pub fn compete(&mut self) {
        if self.state != SessionState::NoSession {
            self.state = SessionState::ReadOnly;
            self.competing = true;
            self.clear_brokerage();
        }
    }

    /// The nightly brokerage reset.
    pub fn reset(&mut self) {
        if self.state.brokerage() {
            self.state = SessionState::ReadOnly;
            self.clear_brokerage();
        }
    }

    /// `ssodh/init` (or reauthenticate): open the brokerage session; `compete` takes it
    /// back from a competing platform. Returns false when it stays closed.
    pub fn init_brokerage(&mut self, compete: bool) -> bool {
        match self.state {
            SessionState::NoSession => false,
            SessionState::ReadOnly if self.competing && !compete => false,
            SessionState::ReadOnly => {
                self.state = SessionState::NotPrimed;
                self.competing = false;
                true
            }
            SessionState::NotPrimed | SessionState::Ready => true,
        }
    }

    /// `/iserver/accounts` was called.
    pub fn prime(&mut self) {
        if self.state == SessionState::NotPrimed {
            self.state = SessionState::Ready;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle() {
        let mut s = Session::new(InitialSession::Brokerage, 1, "DU1".into(), 0);
        assert_eq!(s.state, SessionState::NotPrimed);
        s.prime();
        assert_eq!(s.state, SessionState::Ready);
        s.suppressed.insert("o163".into());
        s.compete();
        assert_eq!((s.state, s.competing), (SessionState::ReadOnly, true));
        assert!(
            s.suppressed.is_empty(),
            "suppression ends with the brokerage session"
        );
        assert!(!s.init_brokerage(false), "competing: needs compete=true");
        assert!(s.init_brokerage(true));
        assert_eq!((s.state, s.competing), (SessionState::NotPrimed, false));
        let old = s.id.clone();
        s.end();
        assert_eq!(s.state, SessionState::NoSession);
        assert!(!s.init_brokerage(true));
        s.login(5);
        assert_ne!(s.id, old);
        assert_eq!(s.id.len(), 32);
    }

    #[test]
    fn idle_expiry() {
        let mut s = Session::new(InitialSession::Ready, 1, "DU1".into(), 0);
        assert!(!s.idle_expired(359_999, 360_000));
        assert!(s.idle_expired(360_000, 360_000));
        s.touch(300_000);
        assert!(!s.idle_expired(400_000, 360_000));
        assert_eq!(s.remaining(400_000, 360_000), Some(260_000));
        assert!(!s.idle_expired(u64::MAX / 2, 0), "0 = never");
    }
}
