//! Session supervision: state derived from auth status, events for the engine, and the
//! supervisor task that tickles, watches the brokerage session, re-authenticates, notices a
//! competing session and rides out the nightly reset (reference §2).
//!
//! State is published on a `tokio::sync::watch` channel ([`Client::session_status`]) and
//! every change as a [`SessionEvent`] on a `tokio::sync::broadcast` channel
//! ([`Client::session_events`]).
//!
//! [`Client::session_status`]: crate::Client::session_status
//! [`Client::session_events`]: crate::Client::session_events

use std::time::Duration;

use chrono::{DateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;

use crate::client::Client;
use crate::error::IbkrError;
use crate::models::AuthStatus;

/// The session state machine of reference §2.8.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SessionState {
    /// Nothing known yet.
    Unknown,
    /// No Web API session (401): log in through the gateway or renew the OAuth token.
    NoSession,
    /// Read-only session: `/portfolio`, `/trsrv`, `/tickle` work; `/iserver` does not.
    ReadOnly,
    /// Brokerage session up but `/iserver/accounts` not called yet.
    BrokerageNotPrimed,
    /// Everything works.
    Ready,
    /// Another platform holds the brokerage session for this username.
    Competing,
}

impl SessionState {
    /// Lower-case label.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionState::Unknown => "unknown",
            SessionState::NoSession => "no session",
            SessionState::ReadOnly => "read-only",
            SessionState::BrokerageNotPrimed => "brokerage not primed",
            SessionState::Ready => "ready",
            SessionState::Competing => "competing",
        }
    }

    /// Derive the state from a brokerage status and whether accounts were primed.
    pub fn from_auth(status: &AuthStatus, primed: bool) -> SessionState {
        if status.competing {
            SessionState::Competing
        } else if !status.authenticated || !status.connected {
            SessionState::ReadOnly
        } else if primed {
            SessionState::Ready
        } else {
            SessionState::BrokerageNotPrimed
        }
    }
}

impl std::fmt::Display for SessionState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The latest known session status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionStatus {
    pub state: SessionState,
    /// Last brokerage status seen (auth/status, ssodh/init or tickle).
    pub auth: Option<AuthStatus>,
    /// Inside the configured nightly-reset window.
    pub in_reset_window: bool,
}

impl Default for SessionStatus {
    fn default() -> Self {
        SessionStatus {
            state: SessionState::Unknown,
            auth: None,
            in_reset_window: false,
        }
    }
}

/// Something the engine should know about the session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionEvent {
    /// The state changed.
    StateChanged {
        from: SessionState,
        to: SessionState,
    },
    /// The brokerage session dropped (`authenticated:false`).
    BrokerageLost { reason: String },
    /// Another platform took the brokerage session.
    Competing { message: String },
    /// The competing flag cleared.
    CompetingCleared,
    /// `ssodh/init` (or reauthenticate) brought the brokerage session back.
    Reauthenticated,
    /// Re-authentication did not succeed.
    ReauthenticationFailed { error: String },
    /// The Web API session is gone (401 on tickle).
    SessionExpired { error: String },
    /// `/tickle` failed for another reason.
    TickleFailed { error: String },
    /// The nightly brokerage reset window began.
    NightlyResetStarted,
    /// The nightly brokerage reset window ended.
    NightlyResetEnded,
}

/// The daily brokerage reset (about 01:00 local time of the server region).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResetWindow {
    /// Time zone of the server region (`America/New_York` for North America).
    pub tz: Tz,
    /// Local start time.
    pub start: NaiveTime,
    /// Length of the window.
    pub duration: Duration,
}

impl ResetWindow {
    /// North America: 00:55–01:30 US/Eastern.
    pub fn north_america() -> Self {
        ResetWindow {
            tz: chrono_tz::America::New_York,
            start: NaiveTime::from_hms_opt(0, 55, 0).unwrap_or(NaiveTime::MIN),
            duration: Duration::from_secs(35 * 60),
        }
    }

    /// Europe: 00:55–01:30 Central European time.
    pub fn europe() -> Self {
        ResetWindow {
            tz: chrono_tz::Europe::Zurich,
            ..ResetWindow::north_america()
        }
    }

    /// Asia: 00:55–01:30 Hong Kong time.
    pub fn asia() -> Self {
        ResetWindow {
            tz: chrono_tz::Asia::Hong_Kong,
            ..ResetWindow::north_america()
        }
    }

    /// True when `at` falls inside the window (on any day; windows crossing midnight work).
    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        let local = at.with_timezone(&self.tz);
        let Ok(len) = chrono::Duration::from_std(self.duration) else {
            return false;
        };
        // Check the window that starts on the local date and the one of the day before.
        for days_back in 0..2 {
            let Some(date) = local
                .date_naive()
                .checked_sub_days(chrono::Days::new(days_back))
            else {
                continue;
            };
            let naive = date.and_time(self.start);
            let Some(start) = self.tz.from_local_datetime(&naive).earliest() else {
                continue;
            };
            let start = start.with_timezone(&Utc);
            if at >= start && at < start + len {
                return true;
            }
        }
        false
    }
}

/// Supervisor settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionConfig {
    /// How often to call `/tickle` (IBKR: about every 60 s).
    pub tickle_interval: Duration,
    /// Bring the brokerage session back with `ssodh/init` when it drops.
    pub reauthenticate: bool,
    /// `compete` flag sent with `ssodh/init` when re-authenticating.
    pub compete: bool,
    /// Take the session back when another platform competes (off by default: it would
    /// disconnect the user's TWS or mobile session).
    pub take_over_competing: bool,
    /// Status polls after `ssodh/init` before giving up.
    pub reauth_polls: u32,
    /// Pause between those polls.
    pub reauth_poll_interval: Duration,
    /// The nightly reset window (no re-authentication storms inside it).
    pub reset_window: Option<ResetWindow>,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            tickle_interval: Duration::from_secs(60),
            reauthenticate: true,
            compete: true,
            take_over_competing: false,
            reauth_polls: 10,
            reauth_poll_interval: Duration::from_secs(1),
            reset_window: Some(ResetWindow::north_america()),
        }
    }
}

/// The channels session state is published on.
#[derive(Debug)]
pub(crate) struct SessionHub {
    status: watch::Sender<SessionStatus>,
    events: broadcast::Sender<SessionEvent>,
}

impl SessionHub {
    pub(crate) fn new() -> Self {
        let (status, _) = watch::channel(SessionStatus::default());
        let (events, _) = broadcast::channel(256);
        SessionHub { status, events }
    }

    pub(crate) fn subscribe_status(&self) -> watch::Receiver<SessionStatus> {
        self.status.subscribe()
    }

    pub(crate) fn subscribe_events(&self) -> broadcast::Receiver<SessionEvent> {
        self.events.subscribe()
    }

    pub(crate) fn current(&self) -> SessionStatus {
        self.status.borrow().clone()
    }

    pub(crate) fn emit(&self, event: SessionEvent) {
        tracing::info!(?event, "IBKR session event");
        // No receivers is fine.
        let _ = self.events.send(event);
    }

    /// Record a new state (and auth status, when given); emits `StateChanged` on change.
    pub(crate) fn set_state(&self, state: SessionState, auth: Option<AuthStatus>) {
        let mut from = None;
        self.status.send_modify(|s| {
            if s.state != state {
                from = Some(s.state);
            }
            s.state = state;
            if auth.is_some() {
                s.auth = auth;
            }
        });
        if let Some(from) = from {
            self.emit(SessionEvent::StateChanged { from, to: state });
        }
    }

    /// Record a brokerage status; emits events for competing and brokerage loss.
    pub(crate) fn observe_auth(&self, status: &AuthStatus, primed: bool) {
        let previous = self.current();
        let was_competing = previous.auth.as_ref().is_some_and(|a| a.competing);
        let was_authenticated = previous.auth.as_ref().is_some_and(|a| a.authenticated);
        if status.competing && !was_competing {
            self.emit(SessionEvent::Competing {
                message: status.message.clone(),
            });
        } else if !status.competing && was_competing {
            self.emit(SessionEvent::CompetingCleared);
        }
        if was_authenticated && !status.authenticated {
            let reason = if status.fail.is_empty() {
                status.message.clone()
            } else {
                status.fail.clone()
            };
            self.emit(SessionEvent::BrokerageLost { reason });
        }
        self.set_state(
            SessionState::from_auth(status, primed),
            Some(status.clone()),
        );
    }

    /// Record whether we are inside the reset window; emits start/end events.
    pub(crate) fn set_reset_window(&self, inside: bool) {
        let mut changed = false;
        self.status.send_modify(|s| {
            changed = s.in_reset_window != inside;
            s.in_reset_window = inside;
        });
        if changed {
            self.emit(if inside {
                SessionEvent::NightlyResetStarted
            } else {
                SessionEvent::NightlyResetEnded
            });
        }
    }
}

/// Handle of a running supervisor; stop it with [`SupervisorHandle::shutdown`] (dropping it
/// aborts the task).
#[derive(Debug)]
pub struct SupervisorHandle {
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl SupervisorHandle {
    /// Stop the supervisor and wait for it to finish.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// True while the task runs.
    pub fn is_running(&self) -> bool {
        self.task.as_ref().is_some_and(|t| !t.is_finished())
    }
}

impl Drop for SupervisorHandle {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Start the supervisor task for `client`.
pub(crate) fn spawn(client: Client, config: SessionConfig) -> SupervisorHandle {
    let (stop, mut stopped) = watch::channel(false);
    let task = tokio::spawn(async move {
        let mut ticker = tokio::time::interval(config.tickle_interval.max(Duration::from_secs(1)));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                _ = stopped.changed() => break,
            }
            supervise_once(&client, &config, Utc::now()).await;
        }
        tracing::debug!("IBKR session supervisor stopped");
    });
    SupervisorHandle {
        stop,
        task: Some(task),
    }
}

/// One supervision round: tickle, read the brokerage status, react. `now` decides whether
/// the nightly reset window is open.
pub async fn supervise_once(client: &Client, config: &SessionConfig, now: DateTime<Utc>) {
    let hub = client.hub();
    let in_reset = config.reset_window.is_some_and(|w| w.contains(now));
    let was_in_reset = hub.current().in_reset_window;
    hub.set_reset_window(in_reset);
    let status = match client.tickle().await {
        Ok(t) => match t.auth_status().cloned() {
            Some(s) => Ok(s),
            None => client.auth_status().await,
        },
        Err(e) => Err(e),
    };
    let status = match status {
        Ok(s) => s,
        Err(e) if e.is_unauthorized() => {
            hub.set_state(SessionState::NoSession, None);
            hub.emit(SessionEvent::SessionExpired {
                error: e.to_string(),
            });
            if config.reauthenticate && !in_reset && client.is_oauth() {
                recover(client, config).await;
            }
            return;
        }
        Err(e) => {
            hub.emit(SessionEvent::TickleFailed {
                error: e.to_string(),
            });
            return;
        }
    };
    if in_reset {
        // Expect failures; wait for the window to close.
        return;
    }
    if status.competing {
        if config.take_over_competing {
            recover_with(client, config, true).await;
        }
        return;
    }
    if !status.authenticated || !status.connected || was_in_reset {
        if config.reauthenticate {
            recover(client, config).await;
        }
        return;
    }
    if !client.is_primed()
        && let Err(e) = client.prime().await
    {
        tracing::warn!(error = %e, "priming /iserver/accounts failed");
    }
}

async fn recover(client: &Client, config: &SessionConfig) {
    recover_with(client, config, config.compete).await;
}

async fn recover_with(client: &Client, config: &SessionConfig, compete: bool) {
    match client.reauthenticate_with(compete, config).await {
        Ok(()) => {}
        Err(e) => client.hub().emit(SessionEvent::ReauthenticationFailed {
            error: e.to_string(),
        }),
    }
}

/// Poll auth status until the brokerage session is authenticated, at most `polls` times.
pub(crate) async fn wait_authenticated(
    client: &Client,
    polls: u32,
    interval: Duration,
) -> Result<AuthStatus, IbkrError> {
    let mut last = None;
    for i in 0..polls.max(1) {
        if i > 0 {
            tokio::time::sleep(interval).await;
        }
        let s = client.auth_status().await?;
        if s.authenticated && s.connected {
            return Ok(s);
        }
        last = Some(s);
    }
    let detail = last
        .map(|s| {
            format!(
                "authenticated={} connected={} competing={} fail={:?} message={:?}",
                s.authenticated, s.connected, s.competing, s.fail, s.message
            )
        })
        .unwrap_or_default();
    Err(IbkrError::SessionNotReady(detail))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("rfc3339")
            .with_timezone(&Utc)
    }

    #[test]
    fn reset_window_new_york() {
        let w = ResetWindow::north_america();
        // 01:00 EST = 06:00 UTC in winter; 01:00 EDT = 05:00 UTC in summer.
        assert!(w.contains(utc("2024-01-10T06:00:00Z")));
        assert!(w.contains(utc("2024-07-10T05:00:00Z")));
        assert!(!w.contains(utc("2024-07-10T06:00:00Z")));
        assert!(!w.contains(utc("2024-01-10T12:00:00Z")));
        assert!(w.contains(utc("2024-01-10T05:55:00Z")));
        assert!(!w.contains(utc("2024-01-10T06:30:00Z")));
    }

    #[test]
    fn window_crossing_midnight() {
        let w = ResetWindow {
            tz: chrono_tz::UTC,
            start: NaiveTime::from_hms_opt(23, 50, 0).expect("time"),
            duration: Duration::from_secs(20 * 60),
        };
        assert!(w.contains(utc("2024-01-10T23:55:00Z")));
        assert!(w.contains(utc("2024-01-11T00:05:00Z")));
        assert!(!w.contains(utc("2024-01-11T00:15:00Z")));
    }

    #[test]
    fn state_from_auth() {
        let mut s = AuthStatus {
            authenticated: true,
            connected: true,
            ..Default::default()
        };
        assert_eq!(SessionState::from_auth(&s, true), SessionState::Ready);
        assert_eq!(
            SessionState::from_auth(&s, false),
            SessionState::BrokerageNotPrimed
        );
        s.competing = true;
        assert_eq!(SessionState::from_auth(&s, true), SessionState::Competing);
        s.competing = false;
        s.authenticated = false;
        assert_eq!(SessionState::from_auth(&s, true), SessionState::ReadOnly);
    }

    #[test]
    fn hub_emits_transitions() {
        let hub = SessionHub::new();
        let mut rx = hub.subscribe_events();
        let ok = AuthStatus {
            authenticated: true,
            connected: true,
            ..Default::default()
        };
        hub.observe_auth(&ok, true);
        let lost = AuthStatus {
            fail: "nightly reset".into(),
            ..Default::default()
        };
        hub.observe_auth(&lost, true);
        let mut events = Vec::new();
        while let Ok(e) = rx.try_recv() {
            events.push(e);
        }
        assert_eq!(
            events,
            vec![
                SessionEvent::StateChanged {
                    from: SessionState::Unknown,
                    to: SessionState::Ready
                },
                SessionEvent::BrokerageLost {
                    reason: "nightly reset".into()
                },
                SessionEvent::StateChanged {
                    from: SessionState::Ready,
                    to: SessionState::ReadOnly
                },
            ]
        );
    }
}
