//! Session supervision: state derived from auth status, events for the engine, and the
//! supervisor task that tickles, watches the brokerage session, re-authenticates, notices a
//! competing session (never taking it over unless configured) and rides out IBKR's
//! maintenance windows of the account's region as planned pauses (reference §2.6).
//!
//! State is published on a `tokio::sync::watch` channel ([`Client::session_status`]) and
//! every change as a [`SessionEvent`] on a `tokio::sync::broadcast` channel
//! ([`Client::session_events`]).
//!
//! [`Client::session_status`]: crate::Client::session_status
//! [`Client::session_events`]: crate::Client::session_events

use std::time::Duration;

use chrono::{DateTime, Datelike, NaiveTime, TimeZone, Utc, Weekday};
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
    /// The maintenance window in force (a planned pause), if any.
    pub maintenance: Option<MaintenanceWindow>,
}

impl SessionStatus {
    /// Inside a maintenance window.
    pub fn in_maintenance(&self) -> bool {
        self.maintenance.is_some()
    }
}

impl Default for SessionStatus {
    fn default() -> Self {
        SessionStatus {
            state: SessionState::Unknown,
            auth: None,
            maintenance: None,
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
    /// Another platform holds (or is taking) the brokerage session. It is not taken over
    /// unless `take_over_competing` is set.
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
    /// A planned pause: IBKR's maintenance window of the account's region began. No
    /// re-authentication is attempted until it ends.
    MaintenanceStarted { window: MaintenanceWindow },
    /// The maintenance window ended; the brokerage session is re-established next.
    MaintenanceEnded { window: MaintenanceWindow },
    /// IBKR answered 429: `endpoint` is paused for `wait`.
    RateLimited { endpoint: String, wait: Duration },
    /// Repeated 429s: IBKR's penalty box. The client sends nothing for `pause`; requests
    /// fail with [`IbkrError::PenaltyBox`] meanwhile.
    PenaltyBox { endpoint: String, pause: Duration },
    /// The penalty pause is over.
    PenaltyOver,
}

/// An IBKR data-centre region: its maintenance windows apply to the accounts it serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Region {
    NorthAmerica,
    Europe,
    Asia,
}

/// Daily or weekend maintenance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MaintenanceKind {
    Daily,
    Weekend,
}

/// One maintenance window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MaintenanceWindow {
    pub region: Region,
    pub kind: MaintenanceKind,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// Which maintenance schedule the supervisor follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Maintenance {
    /// None (e.g. an emulator without windows).
    Off,
    /// The region of the account (`ibEntity` of `/portfolio/accounts`), North America
    /// until it is known.
    #[default]
    Auto,
    /// This region.
    Region(Region),
}

impl Region {
    /// Lower-case label.
    pub fn as_str(self) -> &'static str {
        match self {
            Region::NorthAmerica => "north-america",
            Region::Europe => "europe",
            Region::Asia => "asia",
        }
    }

    /// The region of an IBKR entity (`ibEntity`: `IBLLC-US`, `IBUK`, `IBIE`, `IBHK`, …); IBKR
    /// serves clients from the data centre of their entity's region.
    pub fn from_ib_entity(entity: &str) -> Option<Region> {
        let e = entity.trim().to_ascii_uppercase();
        let e = e.trim_start_matches("IB").trim_start_matches("KR-");
        let e = e.trim_start_matches('-');
        match e {
            "LLC-US" | "LLC" | "US" | "CAN" | "C" | "CA" => Some(Region::NorthAmerica),
            "UK" | "IE" | "CE" | "LUX" | "EU" | "UKL" => Some(Region::Europe),
            "HK" | "SG" | "AU" | "JP" | "SJ" | "I" | "IN" | "INDIA" => Some(Region::Asia),
            _ => None,
        }
    }

    /// The published daily windows: (time zone, start, end) local.
    fn daily(self) -> &'static [DailyWindow] {
        use chrono_tz::{America, Asia, Europe};
        match self {
            Region::NorthAmerica => &[(America::New_York, (0, 15), (1, 45))],
            Region::Europe => &[(Europe::Zurich, (6, 25), (7, 45))],
            Region::Asia => &[
                (Asia::Hong_Kong, (4, 45), (6, 5)),
                (Asia::Hong_Kong, (20, 15), (21, 15)),
            ],
        }
    }

    /// The window whose pause covers `at` on a clock that may be `margin` off the venue's
    /// ([`PAUSE_MARGIN`] plus the clock's own uncertainty): the pause starts `margin` before
    /// the published start and ends `margin` after the published end, so neither a session
    /// dropped a little early nor a login sent a little early is mistaken for something
    /// else. The window returned is the published one.
    pub fn pause_at(
        self,
        at: DateTime<Utc>,
        margin: chrono::Duration,
    ) -> Option<MaintenanceWindow> {
        self.maintenance_at(at)
            .or_else(|| self.maintenance_at(at.checked_add_signed(margin)?))
            .or_else(|| self.maintenance_at(at.checked_sub_signed(margin)?))
    }

    /// The window containing `at`, if any: IBKR's daily reset (local start dates Sunday to
    /// Friday) — North America 00:15–01:45 US/Eastern, Europe 06:25–07:45 CET, Asia-Pacific
    /// 04:45–06:05 and 20:15–21:15 Hong Kong — and the weekend maintenance of every region,
    /// Friday 23:00 to Saturday 03:00 US/Eastern.
    pub fn maintenance_at(self, at: DateTime<Utc>) -> Option<MaintenanceWindow> {
        let window = |kind, start: DateTime<Utc>, end: DateTime<Utc>| {
            (start <= at && at < end).then_some(MaintenanceWindow {
                region: self,
                kind,
                start,
                end,
            })
        };
        let ny = chrono_tz::America::New_York;
        let friday = (0..2)
            .map(|back| at.with_timezone(&ny).date_naive() - chrono::Days::new(back))
            .find(|d| d.weekday() == Weekday::Fri);
        if let Some(fri) = friday
            && let (Some(start), Some(end)) = (
                local_instant(ny, fri, (23, 0)),
                local_instant(ny, fri + chrono::Days::new(1), (3, 0)),
            )
            && let Some(w) = window(MaintenanceKind::Weekend, start, end)
        {
            return Some(w);
        }
        self.daily().iter().find_map(|&(tz, from, to)| {
            (0..2).find_map(|back| {
                let date = at.with_timezone(&tz).date_naive() - chrono::Days::new(back);
                if date.weekday() == Weekday::Sat {
                    return None;
                }
                let start = local_instant(tz, date, from)?;
                let end = local_instant(tz, date, to)?;
                window(MaintenanceKind::Daily, start, end)
            })
        })
    }
}

/// How long before a published maintenance window the client pauses, and after it the
/// pause lasts, besides the uncertainty of its venue clock: IBKR's resets happen around the
/// published times.
pub const PAUSE_MARGIN: chrono::Duration = chrono::Duration::minutes(5);

/// A daily window: time zone, local start and end (hour, minute).
type DailyWindow = (Tz, (u32, u32), (u32, u32));

fn local_instant(tz: Tz, date: chrono::NaiveDate, (h, m): (u32, u32)) -> Option<DateTime<Utc>> {
    let t = NaiveTime::from_hms_opt(h, m, 0)?;
    tz.from_local_datetime(&date.and_time(t))
        .earliest()
        .map(|d| d.with_timezone(&Utc))
}

/// Supervisor settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionConfig {
    /// How often to call `/tickle` (IBKR: about every 60 s).
    pub tickle_interval: Duration,
    /// How often to look again while the brokerage session is not ready (lost, competing,
    /// unprimed), so its return is noticed without waiting for the next tickle.
    pub recheck_interval: Duration,
    /// Bring the brokerage session back with `ssodh/init` when it drops.
    pub reauthenticate: bool,
    /// `compete` flag sent with `ssodh/init` when (re-)authenticating. It is never sent
    /// while another platform holds the session, unless `take_over_competing`.
    pub compete: bool,
    /// Take the session back when another platform competes (off by default: it would
    /// disconnect the user's TWS or mobile session).
    pub take_over_competing: bool,
    /// Status polls after `ssodh/init` before giving up.
    pub reauth_polls: u32,
    /// Pause between those polls.
    pub reauth_poll_interval: Duration,
    /// Whose maintenance windows to ride out as planned pauses. They are judged on the
    /// venue's clock ([`crate::Client::venue_now`]), not the host's.
    pub maintenance: Maintenance,
    /// [`crate::Client::connect`] tries this often when the failures are transient
    /// (connection refused, timeouts, 5xx, a brokerage session not ready yet).
    pub startup_attempts: u32,
    /// Backoff before the second start-up attempt; doubles up to `startup_max_backoff`.
    pub startup_backoff: Duration,
    pub startup_max_backoff: Duration,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            tickle_interval: Duration::from_secs(60),
            recheck_interval: Duration::from_secs(5),
            reauthenticate: true,
            compete: true,
            take_over_competing: false,
            reauth_polls: 10,
            reauth_poll_interval: Duration::from_secs(1),
            maintenance: Maintenance::Auto,
            startup_attempts: 5,
            startup_backoff: Duration::from_secs(1),
            startup_max_backoff: Duration::from_secs(15),
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

    pub(crate) fn event_sender(&self) -> broadcast::Sender<SessionEvent> {
        self.events.clone()
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
        // Inside a maintenance window the drop is the planned pause, announced as such.
        if was_authenticated && !status.authenticated && !previous.in_maintenance() {
            let reason = [&status.fail, &status.message]
                .into_iter()
                .find(|t| !t.is_empty())
                .map_or_else(|| "no longer authenticated".to_string(), |t| t.clone());
            self.emit(SessionEvent::BrokerageLost { reason });
        }
        self.set_state(
            SessionState::from_auth(status, primed),
            Some(status.clone()),
        );
    }

    /// Record the maintenance window in force; emits start/end events.
    pub(crate) fn set_maintenance(&self, window: Option<MaintenanceWindow>) {
        let mut previous = None;
        self.status.send_modify(|s| {
            previous = s.maintenance;
            s.maintenance = window;
        });
        match (previous, window) {
            (None, Some(w)) => {
                tracing::warn!(
                    region = w.region.as_str(),
                    kind = ?w.kind,
                    until = %w.end,
                    "IBKR maintenance window: planned pause, no re-authentication until it ends"
                );
                self.emit(SessionEvent::MaintenanceStarted { window: w });
            }
            (Some(w), None) => self.emit(SessionEvent::MaintenanceEnded { window: w }),
            (Some(a), Some(b)) if a != b => {
                self.emit(SessionEvent::MaintenanceEnded { window: a });
                self.emit(SessionEvent::MaintenanceStarted { window: b });
            }
            _ => {}
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
        // Inside a maintenance window only the keep-alive runs (no re-auth storm).
        let wait = |status: &SessionStatus| {
            if status.state == SessionState::Ready || status.in_maintenance() {
                config.tickle_interval
            } else {
                config.recheck_interval
            }
            .max(Duration::from_secs(1))
        };
        // Between rounds a window opening or closing on the venue's clock is looked for
        // this often (no request); a fast emulator clock crosses one in seconds.
        let look = (config.maintenance != Maintenance::Off)
            .then(|| config.recheck_interval.max(Duration::from_secs(1)));
        let mut changes = client.hub().subscribe_status();
        let mut due = tokio::time::Instant::now();
        loop {
            let wake = match look {
                Some(look) => due.min(tokio::time::Instant::now() + look),
                None => due,
            };
            tokio::select! {
                _ = tokio::time::sleep_until(wake) => {}
                // The session went bad elsewhere (a 401, an `sts` frame): look again soon.
                Ok(()) = changes.changed() => {
                    let soon = tokio::time::Instant::now() + wait(&changes.borrow_and_update());
                    due = due.min(soon);
                    continue;
                }
                _ = stopped.changed() => break,
            }
            let window_moved = look.is_some()
                && client.maintenance_now_under(&config) != client.hub().current().maintenance;
            if tokio::time::Instant::now() < due && !window_moved {
                continue;
            }
            supervise_once(&client, &config, client.venue_now()).await;
            changes.mark_unchanged();
            due = tokio::time::Instant::now() + wait(&client.hub().current());
        }
        tracing::debug!("IBKR session supervisor stopped");
    });
    SupervisorHandle {
        stop,
        task: Some(task),
    }
}

/// One supervision round: tickle, read the brokerage status, react. `now` decides whether
/// a maintenance window of the account's region is open: inside one only `/tickle` keeps
/// the SSO session alive (a planned pause, no re-authentication storm); after it the
/// brokerage session is re-established once.
pub async fn supervise_once(client: &Client, config: &SessionConfig, now: DateTime<Utc>) {
    let hub = client.hub();
    let window = client
        .maintenance_region(config)
        .await
        .and_then(|r| r.pause_at(now, client.pause_margin()));
    let was_in_maintenance = hub.current().in_maintenance();
    hub.set_maintenance(window);
    let status = match client.tickle().await {
        Ok(t) => match t.auth_status().cloned() {
            Some(s) => Ok(s),
            None if window.is_some() => return,
            None => client.auth_status().await,
        },
        Err(e) => Err(e),
    };
    if window.is_some() {
        // Expect failures; wait for the window to close.
        return;
    }
    let status = match status {
        Ok(s) => s,
        Err(e) if e.is_unauthorized() => {
            hub.set_state(SessionState::NoSession, None);
            hub.emit(SessionEvent::SessionExpired {
                error: e.to_string(),
            });
            if config.reauthenticate && client.is_oauth() {
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
    if status.competing {
        if config.take_over_competing {
            recover_with(client, config, true).await;
        }
        return;
    }
    if !status.authenticated || !status.connected || was_in_maintenance {
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
    Err(IbkrError::SessionNotReady(
        last.as_ref().map(not_ready_detail).unwrap_or_default(),
    ))
}

/// What a brokerage session that never became ready said, with what to do about it.
fn not_ready_detail(s: &AuthStatus) -> String {
    let mut d = format!(
        "authenticated={} connected={} competing={}",
        s.authenticated, s.connected, s.competing
    );
    for (key, v) in [("fail", &s.fail), ("message", &s.message)] {
        if !v.trim().is_empty() {
            d.push_str(&format!(" {key}={v:?}"));
        }
    }
    if s.competing {
        d.push_str(" (another IBKR session of this user holds the brokerage connection)");
    } else if s.connected && !s.authenticated {
        d.push_str(
            " (IBKR keeps the session connected but not authenticated and ssodh/init did not \
             change that: log in to the gateway again, or restart it)",
        );
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_samples::utc;

    /// The published schedule, one row per rule (2024-01-10 is a Wednesday; EST = UTC-5,
    /// EDT = UTC-4, CET = UTC+1, HKT = UTC+8).
    #[test]
    fn maintenance_windows_by_region() {
        use Region::*;
        let table = [
            (NorthAmerica, "2024-01-10T05:14:59Z", None),
            (
                NorthAmerica,
                "2024-01-10T05:15:00Z",
                Some(MaintenanceKind::Daily),
            ),
            (
                NorthAmerica,
                "2024-01-10T06:44:59Z",
                Some(MaintenanceKind::Daily),
            ),
            (NorthAmerica, "2024-01-10T06:45:00Z", None),
            (
                NorthAmerica,
                "2024-07-10T04:15:00Z",
                Some(MaintenanceKind::Daily),
            ),
            (NorthAmerica, "2024-07-10T05:45:00Z", None),
            // The old rule (00:55-01:30 local everywhere) was wrong: 01:00 Zug is open.
            (Europe, "2024-01-10T00:00:00Z", None),
            (Europe, "2024-01-10T05:25:00Z", Some(MaintenanceKind::Daily)),
            (Europe, "2024-01-10T06:44:00Z", Some(MaintenanceKind::Daily)),
            (Europe, "2024-01-10T06:45:00Z", None),
            (Asia, "2024-01-09T20:45:00Z", Some(MaintenanceKind::Daily)),
            (Asia, "2024-01-09T22:05:00Z", None),
            (Asia, "2024-01-10T12:15:00Z", Some(MaintenanceKind::Daily)),
            (Asia, "2024-01-10T13:15:00Z", None),
            (Asia, "2024-01-10T17:00:00Z", None),
            // Weekend: Friday 23:00 to Saturday 03:00 New York, every region.
            (
                Europe,
                "2024-01-13T04:30:00Z",
                Some(MaintenanceKind::Weekend),
            ),
            (Asia, "2024-01-13T07:59:00Z", Some(MaintenanceKind::Weekend)),
            (NorthAmerica, "2024-01-13T08:00:00Z", None),
            // No daily window starts on a Saturday; Sunday's does.
            (Asia, "2024-01-13T12:30:00Z", None),
            (
                NorthAmerica,
                "2024-01-14T05:20:00Z",
                Some(MaintenanceKind::Daily),
            ),
        ];
        for (region, at, kind) in table {
            assert_eq!(
                region.maintenance_at(utc(at)).map(|w| w.kind),
                kind,
                "{region:?} at {at}"
            );
        }
        let w = Region::NorthAmerica
            .maintenance_at(utc("2024-01-10T05:30:00Z"))
            .expect("window");
        assert_eq!(
            (w.start, w.end),
            (utc("2024-01-10T05:15:00Z"), utc("2024-01-10T06:45:00Z"))
        );
    }

    /// The pause spans the published window widened by the margin on both sides, and names
    /// the published window (North America, 2024-01-10: 05:15 to 06:45 UTC).
    #[test]
    fn the_pause_is_the_window_widened_by_the_margin() {
        let margin = chrono::Duration::minutes(10);
        for (at, paused) in [
            ("2024-01-10T05:04:59Z", false),
            ("2024-01-10T05:05:00Z", true),
            ("2024-01-10T05:30:00Z", true),
            ("2024-01-10T06:54:59Z", true),
            ("2024-01-10T06:55:00Z", false),
        ] {
            let w = Region::NorthAmerica.pause_at(utc(at), margin);
            assert_eq!(w.is_some(), paused, "{at}");
            if let Some(w) = w {
                assert_eq!(
                    (w.start, w.end),
                    (utc("2024-01-10T05:15:00Z"), utc("2024-01-10T06:45:00Z"))
                );
            }
        }
    }

    #[test]
    fn region_of_the_ib_entity() {
        for (entity, region) in [
            ("IBLLC-US", Some(Region::NorthAmerica)),
            ("IBCAN", Some(Region::NorthAmerica)),
            ("IBUK", Some(Region::Europe)),
            ("IBIE", Some(Region::Europe)),
            ("IBCE", Some(Region::Europe)),
            ("IBHK", Some(Region::Asia)),
            ("IBSG", Some(Region::Asia)),
            ("IBAU", Some(Region::Asia)),
            ("IBKR-JP", Some(Region::Asia)),
            ("IBI", Some(Region::Asia)),
            ("MARS", None),
        ] {
            assert_eq!(Region::from_ib_entity(entity), region, "{entity}");
        }
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
        let w = Region::Europe
            .maintenance_at(utc("2024-01-10T05:30:00Z"))
            .expect("window");
        hub.set_maintenance(Some(w));
        hub.set_maintenance(Some(w));
        hub.set_maintenance(None);
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
                SessionEvent::MaintenanceStarted { window: w },
                SessionEvent::MaintenanceEnded { window: w },
            ]
        );
    }
}
