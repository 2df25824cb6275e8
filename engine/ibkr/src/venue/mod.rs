//! IBKR as a venue of the live runtime ([`tickline_live::venue`]): [`connect`] builds the
//! [`Venue`] a paper or live run drives — against a Client Portal Gateway, OAuth, or the
//! emulator, which is just another IBKR endpoint.
//!
//! * [`open_account`]: the brokerage session (`ssodh/init` → `/iserver/accounts`) and the
//!   account to trade, with whether it is a paper account.
//! * execution: [`IbkrExecution`], fed by the websocket's `sor` / `str` while the socket is
//!   up and by REST polling otherwise.
//! * [`feed`]: market data (`smd`, snapshots as the fallback) and history.
//! * [`reports`]: positions, cash, orders and executions for reconciliation.
//! * [`stream`]: the task that owns the websocket and routes its frames.
//! * session notices: the client's session supervisor (tickle, re-authentication, competing
//!   session, maintenance windows, rate limits) mapped to [`SessionNotice`]s.
//!
//! Errors become [`VenueError::Transient`] (worth retrying: connection, timeouts, 5xx, 429,
//! a session not ready yet) or [`VenueError::Permanent`] (4xx such as an unknown contract,
//! refused credentials, bad input).

pub mod feed;
pub mod reports;
pub mod stream;

use std::collections::HashMap;
use std::sync::Arc;

use tickline_engine::domain::{Instrument, InstrumentId};
use tickline_live::venue::{AccountInfo, SessionNotice, Venue, VenueError};
use tokio::sync::{broadcast, mpsc};

pub use feed::{FEED_FIELDS, FeedOptions, IbkrFeed};
pub use reports::IbkrReports;
pub use stream::StreamOptions;

use crate::client::Client;
use crate::error::IbkrError;
use crate::execution::{IbkrExecution, IbkrExecutionConfig};
use crate::session::{SessionEvent, SessionState};

/// The live layer's view of an IBKR error.
pub fn venue_error(e: IbkrError) -> VenueError {
    let transient = e.is_transient() || e.is_unauthorized() || e.is_no_bridge();
    let text = e.to_string();
    if transient {
        VenueError::Transient(text)
    } else {
        VenueError::Permanent(text)
    }
}

/// Open the brokerage session and pick the account: `wanted`, else the session's selected
/// (or first) account. Paper accounts are those IBKR flags `isPaper`, else ids starting
/// with `D` (`DU…`, `DF…`).
pub async fn open_account(
    client: &Client,
    wanted: Option<&str>,
) -> Result<AccountInfo, VenueError> {
    let accounts = client.connect().await.map_err(venue_error)?;
    let id = match wanted {
        Some(a) if accounts.accounts.iter().any(|x| x == a) => a.to_string(),
        Some(a) => {
            return Err(VenueError::Permanent(format!(
                "account {a} is not an account of this session (available: {})",
                accounts.accounts.join(", ")
            )));
        }
        None => accounts
            .default_account()
            .map(str::to_string)
            .ok_or_else(|| VenueError::Permanent("the session lists no accounts".into()))?,
    };
    let currency = match client.portfolio_accounts().await {
        Ok(list) => list
            .iter()
            .find(|p| p.account_id.as_deref() == Some(&id) || p.id.as_deref() == Some(&id))
            .and_then(|p| p.currency.clone()),
        Err(e) => {
            tracing::warn!(error = %e, "reading /portfolio/accounts failed; base currency assumed USD");
            None
        }
    };
    Ok(AccountInfo {
        is_paper: accounts.is_paper.unwrap_or_else(|| id.starts_with('D')),
        id,
        currency: currency.unwrap_or_else(|| "USD".into()),
    })
}

/// Settings of [`connect`].
#[derive(Clone, Debug)]
pub struct VenueOptions {
    /// For logs and the report: `ibkr`, `ibkr-emulator`.
    pub name: String,
    pub feed: FeedOptions,
    pub stream: StreamOptions,
    /// Execution client settings (its account is set by [`connect`]).
    pub execution: IbkrExecutionConfig,
    /// Days of executions read for reconciliation (1..=7).
    pub trade_days: u32,
}

impl Default for VenueOptions {
    fn default() -> Self {
        VenueOptions {
            name: "ibkr".into(),
            feed: FeedOptions::default(),
            stream: StreamOptions::default(),
            execution: IbkrExecutionConfig::new(""),
            trade_days: crate::MAX_TRADE_DAYS,
        }
    }
}

/// The venue over a connected `client` ([`open_account`] first) for `instruments` (journal
/// order; ids by position, every one with a conid), streaming market data for `trade`.
pub async fn connect(
    client: Client,
    account: AccountInfo,
    instruments: &[Instrument],
    trade: &[InstrumentId],
    opts: VenueOptions,
) -> Result<Venue, VenueError> {
    let mut conids = HashMap::new();
    let mut by_conid = HashMap::new();
    let mut insts = instruments.to_vec();
    for (k, i) in insts.iter_mut().enumerate() {
        i.id = InstrumentId(k as u32);
        let conid = i.conid.ok_or_else(|| {
            VenueError::Permanent(format!(
                "{} has no IBKR conid; define it under [[instruments]] with `conid`",
                i.symbol
            ))
        })?;
        conids.insert(i.id, conid);
        by_conid.insert(conid, i.id);
    }
    let traded: Vec<(InstrumentId, i64)> = trade
        .iter()
        .filter_map(|id| Some((*id, *conids.get(id)?)))
        .collect();
    if !(1..=crate::MAX_TRADE_DAYS).contains(&opts.trade_days) {
        return Err(VenueError::Permanent(format!(
            "trade days must be 1..={}, got {}",
            crate::MAX_TRADE_DAYS,
            opts.trade_days
        )));
    }
    let receipt_times = (opts.feed.time_scale - 1.0).abs() > 1e-9;
    let mut exec_cfg = opts.execution.clone();
    exec_cfg.account_id = account.id.clone();
    exec_cfg.stamp_on_receipt |= receipt_times;
    let execution = IbkrExecution::new(
        tokio::runtime::Handle::current(),
        client.clone(),
        insts,
        exec_cfg,
    )
    .map_err(|e| VenueError::Permanent(e.to_string()))?;

    let (notice_tx, notice_rx) = mpsc::channel(256);
    let hub = Arc::new(feed::Hub::new(&traded));
    let (sub_tx, sub_rx) = mpsc::unbounded_channel();
    let dispatcher = stream::Dispatcher {
        client: client.clone(),
        conids: traded.iter().map(|p| p.1).collect(),
        hub: hub.clone(),
        exec: execution.stream(),
        notices: notice_tx.clone(),
        subscribe: sub_rx,
        opts: opts.stream.clone(),
    };
    tokio::spawn(dispatcher.run());
    tokio::spawn(forward_session(
        client.clone(),
        client.session_events(),
        notice_tx,
    ));

    let feed = IbkrFeed::new(
        client.clone(),
        conids,
        traded.iter().map(|p| p.1).collect(),
        hub,
        sub_tx,
        opts.feed.clone(),
    );
    let reports = IbkrReports {
        client,
        account: account.clone(),
        by_conid,
        trade_days: opts.trade_days,
        receipt_times,
    };
    Ok(Venue {
        name: opts.name,
        account,
        execution: Box::new(execution),
        feed: Box::new(feed),
        reports: Arc::new(reports),
        session: notice_rx,
    })
}

/// What the runtime hears of a session event (`None`: nothing it acts on; the client logs
/// those itself).
pub fn session_notice(
    ev: &SessionEvent,
    now: tickline_engine::domain::Ts,
) -> Option<SessionNotice> {
    let nanos = |d: std::time::Duration| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX);
    Some(match ev {
        SessionEvent::StateChanged { from, to }
            if *to == SessionState::Ready && *from != SessionState::Ready =>
        {
            SessionNotice::Connected
        }
        SessionEvent::StateChanged {
            to: SessionState::NoSession,
            ..
        } => SessionNotice::Lost {
            reason: "no Web API session (log in through the gateway or renew the OAuth token)"
                .into(),
        },
        SessionEvent::StateChanged { .. } => return None,
        SessionEvent::Reauthenticated | SessionEvent::CompetingCleared => SessionNotice::Connected,
        SessionEvent::MaintenanceEnded { .. } => SessionNotice::Connected,
        SessionEvent::BrokerageLost { reason } => SessionNotice::Lost {
            reason: format!("brokerage session lost: {reason}"),
        },
        SessionEvent::ReauthenticationFailed { error } => SessionNotice::Lost {
            reason: format!("re-authentication failed: {error}"),
        },
        SessionEvent::SessionExpired { error } => SessionNotice::Lost {
            reason: format!("session expired: {error}"),
        },
        SessionEvent::TickleFailed { .. } => return None,
        SessionEvent::Competing { .. } => SessionNotice::Competing,
        SessionEvent::MaintenanceStarted { window } => SessionNotice::Maintenance {
            until: window.end.timestamp_nanos_opt(),
        },
        SessionEvent::RateLimited { endpoint, wait } => SessionNotice::RateLimited {
            endpoint: endpoint.clone(),
            until: now.saturating_add(nanos(*wait)),
        },
        SessionEvent::PenaltyBox { endpoint, pause } => SessionNotice::RateLimited {
            endpoint: format!("{endpoint} (penalty box)"),
            until: now.saturating_add(nanos(*pause)),
        },
        SessionEvent::PenaltyOver => SessionNotice::RateLimitOver,
    })
}

/// Run the client's session supervisor and forward its events as notices until the
/// runtime stops reading them.
async fn forward_session(
    client: Client,
    mut events: broadcast::Receiver<SessionEvent>,
    tx: mpsc::Sender<SessionNotice>,
) {
    let supervisor = client.spawn_supervisor();
    loop {
        tokio::select! {
            ev = events.recv() => match ev {
                Ok(ev) => {
                    let now = tickline_engine::clock::Clock::now(&tickline_engine::clock::LiveClock);
                    if let Some(n) = session_notice(&ev, now)
                        && tx.send(n).await.is_err()
                    {
                        break;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "session events lagged; reconciling");
                    if tx.send(SessionNotice::StreamReconnected).await.is_err() {
                        break;
                    }
                }
                Err(broadcast::error::RecvError::Closed) => break,
            },
            _ = tx.closed() => break,
        }
    }
    supervisor.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn session_events_map_to_notices() {
        let n = |ev: SessionEvent| session_notice(&ev, 100);
        assert_eq!(
            n(SessionEvent::Reauthenticated),
            Some(SessionNotice::Connected)
        );
        assert_eq!(
            n(SessionEvent::Competing {
                message: "x".into()
            }),
            Some(SessionNotice::Competing)
        );
        assert_eq!(
            n(SessionEvent::RateLimited {
                endpoint: "/iserver/account/orders".into(),
                wait: Duration::from_secs(5)
            }),
            Some(SessionNotice::RateLimited {
                endpoint: "/iserver/account/orders".into(),
                until: 100 + 5_000_000_000
            })
        );
        assert!(matches!(
            n(SessionEvent::BrokerageLost {
                reason: "logged out".into()
            }),
            Some(SessionNotice::Lost { reason }) if reason.contains("logged out")
        ));
        assert_eq!(
            n(SessionEvent::StateChanged {
                from: SessionState::Competing,
                to: SessionState::Ready
            }),
            Some(SessionNotice::Connected)
        );
        assert_eq!(
            n(SessionEvent::StateChanged {
                from: SessionState::Unknown,
                to: SessionState::ReadOnly
            }),
            None
        );
        assert_eq!(
            n(SessionEvent::PenaltyOver),
            Some(SessionNotice::RateLimitOver)
        );
    }

    #[test]
    fn errors_are_transient_or_permanent() {
        let e = IbkrError::InvalidInput {
            what: "x",
            reason: "y".into(),
        };
        assert!(!venue_error(e).is_transient());
        let e = IbkrError::SessionNotReady("starting".into());
        assert!(venue_error(e).is_transient());
    }
}
