//! Session supervision: keep-alive, brokerage loss → `ssodh/init`, competing session, expiry,
//! maintenance windows, and the supervisor task's schedule.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use common::{MockServer, Reply};
use serde_json::{Value, json};
use tickline_ibkr::session::supervise_once;
use tickline_ibkr::{Client, Maintenance, Region, SessionConfig, SessionEvent, SessionState};
use tokio::sync::broadcast;

fn status(authenticated: bool, competing: bool) -> Value {
    json!({"authenticated": authenticated, "connected": true, "competing": competing,
        "established": authenticated, "message": "", "fail": if authenticated { "" } else { "no session" }})
}

fn tickle(auth: Value) -> Value {
    json!({"session": "0123456789abcdef0123456789abcdef", "ssoExpires": 500000,
        "collission": false, "userId": 1, "iserver": {"authStatus": auth}})
}

/// A server whose tickle and auth status answer the current `state`.
fn server_with_state(server: &MockServer, state: Arc<Mutex<Value>>) {
    server_with_clock(server, state, None);
}

/// The venue's clock of [`server_with_clock`]: `Date` headers from `base` on, advancing with
/// the (paused) time since `start`.
type VenueClock = (DateTime<Utc>, tokio::time::Instant);

/// [`server_with_state`] whose answers carry the `Date` of `clock` (the host's by default).
fn server_with_clock(server: &MockServer, state: Arc<Mutex<Value>>, clock: Option<VenueClock>) {
    let dated = move |reply: Reply| match clock {
        Some((base, start)) => {
            let now = base + chrono::Duration::from_std(start.elapsed()).expect("elapsed");
            reply.header("Date", &now.format("%a, %d %b %Y %H:%M:%S GMT").to_string())
        }
        None => reply,
    };
    let s = state.clone();
    server.route("POST", "/v1/api/tickle", move |_| {
        let v = s.lock().expect("lock").clone();
        dated(if v.is_null() {
            Reply::text(401, "access denied")
        } else {
            Reply::value(tickle(v))
        })
    });
    let s = state.clone();
    server.route("POST", "/v1/api/iserver/auth/status", move |_| {
        dated(Reply::value(s.lock().expect("lock").clone()))
    });
    let s = state;
    server.route("POST", "/v1/api/iserver/auth/ssodh/init", move |r| {
        let mut v = s.lock().expect("lock");
        // ssodh/init brings the brokerage session back, unless another platform competes
        // and compete=false.
        let compete = r.json()["compete"].as_bool().unwrap_or(false);
        if !v["competing"].as_bool().unwrap_or(false) || compete {
            *v = status(true, false);
        }
        dated(Reply::value(v.clone()))
    });
    server.route("GET", "/v1/api/iserver/accounts", move |_| {
        dated(Reply::sample("iserver_accounts.json"))
    });
}

fn config() -> SessionConfig {
    SessionConfig {
        reauth_polls: 3,
        reauth_poll_interval: Duration::from_millis(10),
        maintenance: Maintenance::Region(Region::NorthAmerica),
        ..SessionConfig::default()
    }
}

fn drain(rx: &mut broadcast::Receiver<SessionEvent>) -> Vec<SessionEvent> {
    let mut v = Vec::new();
    while let Ok(e) = rx.try_recv() {
        v.push(e);
    }
    v
}

fn noon() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2024-07-10T16:00:00Z")
        .expect("time")
        .with_timezone(&Utc)
}

#[tokio::test]
async fn healthy_session_is_primed_and_ready() {
    let server = MockServer::start().await;
    let state = Arc::new(Mutex::new(status(true, false)));
    server_with_state(&server, state);
    let client = common::client(&server);
    let mut events = client.session_events();
    supervise_once(&client, &config(), noon()).await;
    assert_eq!(client.session_status().state, SessionState::Ready);
    assert!(client.is_primed());
    assert_eq!(server.count("POST", "/v1/api/iserver/auth/ssodh/init"), 0);
    assert!(client.websocket_session().is_some());
    let seen = drain(&mut events);
    assert!(
        seen.contains(&SessionEvent::StateChanged {
            from: SessionState::BrokerageNotPrimed,
            to: SessionState::Ready
        }),
        "{seen:?}"
    );
}

#[tokio::test]
async fn lost_brokerage_session_is_reinitialised() {
    let server = MockServer::start().await;
    let state = Arc::new(Mutex::new(status(true, false)));
    server_with_state(&server, state.clone());
    let client = common::client(&server);
    supervise_once(&client, &config(), noon()).await;
    let mut events = client.session_events();
    *state.lock().expect("lock") = status(false, false);
    supervise_once(&client, &config(), noon()).await;
    assert_eq!(server.count("POST", "/v1/api/iserver/auth/ssodh/init"), 1);
    let init = &server.requests_to("POST", "/v1/api/iserver/auth/ssodh/init")[0];
    assert_eq!(init.json(), json!({"publish": true, "compete": true}));
    assert_eq!(client.session_status().state, SessionState::Ready);
    let seen = drain(&mut events);
    assert!(
        seen.contains(&SessionEvent::BrokerageLost {
            reason: "no session".into()
        }),
        "{seen:?}"
    );
    assert!(seen.contains(&SessionEvent::Reauthenticated), "{seen:?}");
    // Accounts were primed again after the new session.
    assert_eq!(server.count("GET", "/v1/api/iserver/accounts"), 2);
}

#[tokio::test]
async fn competing_session_is_reported_not_stolen() {
    let server = MockServer::start().await;
    let state = Arc::new(Mutex::new(status(true, false)));
    server_with_state(&server, state.clone());
    let client = common::client(&server);
    supervise_once(&client, &config(), noon()).await;
    let mut events = client.session_events();
    *state.lock().expect("lock") = status(true, true);
    supervise_once(&client, &config(), noon()).await;
    assert_eq!(client.session_status().state, SessionState::Competing);
    assert_eq!(server.count("POST", "/v1/api/iserver/auth/ssodh/init"), 0);
    let seen = drain(&mut events);
    assert!(
        seen.iter()
            .any(|e| matches!(e, SessionEvent::Competing { .. })),
        "{seen:?}"
    );

    // With take-over enabled the session is taken back with compete=true.
    let take_over = SessionConfig {
        take_over_competing: true,
        ..config()
    };
    supervise_once(&client, &take_over, noon()).await;
    let init = server.requests_to("POST", "/v1/api/iserver/auth/ssodh/init");
    assert_eq!(init.len(), 1);
    assert_eq!(init[0].json()["compete"], true);
    assert_eq!(client.session_status().state, SessionState::Ready);
    let seen = drain(&mut events);
    assert!(seen.contains(&SessionEvent::CompetingCleared), "{seen:?}");
}

#[tokio::test]
async fn expired_session_is_reported() {
    let server = MockServer::start().await;
    let state = Arc::new(Mutex::new(Value::Null));
    server_with_state(&server, state);
    let client = common::client(&server);
    let mut events = client.session_events();
    supervise_once(&client, &config(), noon()).await;
    assert_eq!(client.session_status().state, SessionState::NoSession);
    let seen = drain(&mut events);
    assert!(
        seen.iter()
            .any(|e| matches!(e, SessionEvent::SessionExpired { .. })),
        "{seen:?}"
    );
    // A gateway session cannot be re-created by the client: no ssodh/init storm.
    assert_eq!(server.count("POST", "/v1/api/iserver/auth/ssodh/init"), 0);
}

#[tokio::test]
async fn maintenance_window_is_ridden_out() {
    let server = MockServer::start().await;
    let state = Arc::new(Mutex::new(status(true, false)));
    server_with_state(&server, state.clone());
    let client = common::client(&server);
    supervise_once(&client, &config(), noon()).await;
    let mut events = client.session_events();
    // 01:05 New York (EDT) = 05:05 UTC: inside North America's 00:15-01:45 window.
    let during = DateTime::parse_from_rfc3339("2024-07-11T05:05:00Z")
        .expect("time")
        .with_timezone(&Utc);
    *state.lock().expect("lock") = status(false, false);
    supervise_once(&client, &config(), during).await;
    assert_eq!(
        server.count("POST", "/v1/api/iserver/auth/ssodh/init"),
        0,
        "no re-auth during the reset"
    );
    assert!(client.session_status().in_maintenance());
    // After the window the session is brought back even though it looks healthy again.
    let after = DateTime::parse_from_rfc3339("2024-07-11T06:00:00Z")
        .expect("time")
        .with_timezone(&Utc);
    *state.lock().expect("lock") = status(true, false);
    supervise_once(&client, &config(), after).await;
    assert_eq!(server.count("POST", "/v1/api/iserver/auth/ssodh/init"), 1);
    let seen = drain(&mut events);
    let pos = |e: &SessionEvent| seen.iter().position(|x| x == e);
    let started = seen
        .iter()
        .position(|e| matches!(e, SessionEvent::MaintenanceStarted { .. }))
        .expect("started");
    let ended = seen
        .iter()
        .position(|e| matches!(e, SessionEvent::MaintenanceEnded { .. }))
        .expect("ended");
    let reauth = pos(&SessionEvent::Reauthenticated).expect("re-authenticated");
    assert!(started < ended && ended < reauth, "{seen:?}");
}

#[tokio::test]
async fn failed_reauthentication_is_reported() {
    let server = MockServer::start().await;
    let state = Arc::new(Mutex::new(status(true, false)));
    server_with_state(&server, state.clone());
    // ssodh/init does not help: the session stays down.
    server.route_reply(
        "POST",
        "/v1/api/iserver/auth/ssodh/init",
        Reply::value(status(false, false)),
    );
    server.route_reply(
        "GET",
        "/v1/api/iserver/reauthenticate",
        Reply::value(json!({"message": "triggered"})),
    );
    let client = common::client(&server);
    supervise_once(&client, &config(), noon()).await;
    let mut events = client.session_events();
    *state.lock().expect("lock") = status(false, false);
    supervise_once(&client, &config(), noon()).await;
    let seen = drain(&mut events);
    assert!(
        seen.iter()
            .any(|e| matches!(e, SessionEvent::ReauthenticationFailed { .. })),
        "{seen:?}"
    );
    // The legacy reauthenticate call was tried as well, and the status polls were bounded
    // (one check for a competing session, then at most 3 + 3 polls).
    assert_eq!(server.count("GET", "/v1/api/iserver/reauthenticate"), 1);
    assert!(server.count("POST", "/v1/api/iserver/auth/status") <= 1 + 3 + 3);
    assert_eq!(client.session_status().state, SessionState::ReadOnly);
}

/// A client for the supervisor-task tests: no maintenance windows; `reauthenticate` as given.
fn supervised_client(server: &MockServer, reauthenticate: bool) -> Client {
    Client::builder(common::test_config(server), tickline_ibkr::Auth::Gateway)
        .session_config(SessionConfig {
            maintenance: Maintenance::Off,
            reauthenticate,
            ..config()
        })
        .build()
        .expect("client")
}

#[tokio::test(start_paused = true)]
async fn supervisor_tickles_every_interval_until_stopped() {
    let server = MockServer::start().await;
    let state = Arc::new(Mutex::new(status(true, false)));
    server_with_state(&server, state);
    let client = supervised_client(&server, true);
    let handle = client.spawn_supervisor();
    assert!(handle.is_running());
    tokio::time::sleep(Duration::from_secs(60 * 5 + 30)).await;
    let tickles = server.requests_to("POST", "/v1/api/tickle");
    // At t = 0, 60, …, 300 s.
    assert_eq!(tickles.len(), 6, "{}", tickles.len());
    for w in tickles.windows(2) {
        assert!(w[1].at - w[0].at >= Duration::from_secs(60));
    }
    handle.shutdown().await;
    tokio::time::sleep(Duration::from_secs(600)).await;
    assert_eq!(server.count("POST", "/v1/api/tickle"), 6);
}

#[tokio::test(start_paused = true)]
async fn supervisor_looks_again_soon_while_the_session_is_gone() {
    // A logout nobody can undo but the user: the supervisor checks every `recheck_interval`
    // instead of every tickle interval, so a login at the gateway is noticed within seconds.
    let server = MockServer::start().await;
    let state = Arc::new(Mutex::new(Value::Null));
    server_with_state(&server, state.clone());
    let client = supervised_client(&server, false);
    let handle = client.spawn_supervisor();
    tokio::time::sleep(Duration::from_secs(21)).await;
    // At t = 0, 5, 10, 15, 20 s.
    assert_eq!(server.count("POST", "/v1/api/tickle"), 5);
    *state.lock().expect("lock") = status(true, false);
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(client.session_status().state, SessionState::Ready);
    // Back to the keep-alive pace.
    let before = server.count("POST", "/v1/api/tickle");
    tokio::time::sleep(Duration::from_secs(50)).await;
    assert_eq!(server.count("POST", "/v1/api/tickle"), before);
    handle.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn a_session_lost_elsewhere_makes_the_supervisor_look_again_soon() {
    // The loss is seen by another request (here an auth status call), not by the
    // supervisor, which would otherwise sleep until its next keep-alive a minute later.
    let server = MockServer::start().await;
    let state = Arc::new(Mutex::new(status(true, false)));
    server_with_state(&server, state.clone());
    let client = supervised_client(&server, false);
    let handle = client.spawn_supervisor();
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(client.session_status().state, SessionState::Ready);
    *state.lock().expect("lock") = status(false, false);
    client.auth_status().await.expect("status");
    assert_eq!(client.session_status().state, SessionState::ReadOnly);
    *state.lock().expect("lock") = status(true, false);
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(client.session_status().state, SessionState::Ready);
    assert_eq!(server.count("POST", "/v1/api/tickle"), 2);
    handle.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn maintenance_is_judged_on_the_venues_clock_between_keep_alives() {
    // The venue's clock (its `Date` headers) is 20 s before the pause for North America's
    // window begins (5 min and the clock's 2 s of uncertainty before the published 00:15),
    // whatever the host's clock says; the pause begins between two keep-alives and is
    // noticed within the recheck interval, ridden out without re-authentication, and
    // followed by one `ssodh/init` when it is over (as long after the published 01:45).
    let server = MockServer::start().await;
    let state = Arc::new(Mutex::new(status(true, false)));
    // 00:09:38 New York (EDT).
    let base = DateTime::parse_from_rfc3339("2024-07-11T04:09:38Z")
        .expect("time")
        .with_timezone(&Utc);
    server_with_clock(
        &server,
        state.clone(),
        Some((base, tokio::time::Instant::now())),
    );
    let client = Client::builder(common::test_config(&server), tickline_ibkr::Auth::Gateway)
        .session_config(config())
        .build()
        .expect("client");
    let mut events = client.session_events();
    let handle = client.spawn_supervisor();
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert!(!client.session_status().in_maintenance());
    assert!(client.maintenance_now().is_none());
    tokio::time::sleep(Duration::from_secs(17)).await;
    // 27 s in: paused, long before the next keep-alive at 60 s.
    assert!(client.maintenance_now().is_some());
    assert!(client.session_status().in_maintenance(), "noticed");
    assert_eq!(server.count("POST", "/v1/api/tickle"), 2);
    *state.lock().expect("lock") = status(false, false);
    // The 90-minute window, keep-alives only.
    tokio::time::sleep(Duration::from_secs(89 * 60)).await;
    assert!(client.session_status().in_maintenance());
    assert_eq!(server.count("POST", "/v1/api/iserver/auth/ssodh/init"), 0);
    let tickles = server.count("POST", "/v1/api/tickle");
    assert!((85..=95).contains(&tickles), "{tickles} keep-alives");
    // Published end 05:45 UTC, pause until 05:50:02: 6024 s after the start.
    tokio::time::sleep(Duration::from_secs(6015) - Duration::from_secs(27 + 89 * 60)).await;
    assert!(
        client.session_status().in_maintenance(),
        "the pause outlasts the window"
    );
    assert_eq!(server.count("POST", "/v1/api/iserver/auth/ssodh/init"), 0);
    tokio::time::sleep(Duration::from_secs(20)).await;
    assert!(!client.session_status().in_maintenance());
    assert_eq!(server.count("POST", "/v1/api/iserver/auth/ssodh/init"), 1);
    assert_eq!(client.session_status().state, SessionState::Ready);
    let seen = drain(&mut events);
    assert!(
        seen.iter()
            .any(|e| matches!(e, SessionEvent::MaintenanceStarted { .. }))
            && seen.contains(&SessionEvent::Reauthenticated),
        "{seen:?}"
    );
    handle.shutdown().await;
}
