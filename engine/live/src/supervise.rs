//! Supervision: the venue's session notices, the feed's link and the age of the last market
//! data folded into one [`Connectivity`] for the kernel (and the strategy), plus what the
//! runtime must do about a change.
//!
//! | cause                        | session  | entries paused | on recovery      |
//! |------------------------------|----------|----------------|------------------|
//! | session lost                 | down     | session lost   | reconcile, resume |
//! | competing session            | down     | competing      | reconcile, resume |
//! | maintenance window           | down     | maintenance    | reconcile, resume |
//! | rate limited / penalty box   | degraded | rate limited   | resume           |
//! | order stream reconnected     | —        | reconciling    | resume after it  |
//! | feed down / stale            | —        | market data stale | resume when data flows |
//! | operator pause               | —        | paused by operator | `--resume`    |
//!
//! Entries are paused while any cause holds (the reason shown is the most severe one);
//! orders that reduce exposure still pass. A feed that is polling snapshots because its
//! stream is down is `Degraded` but not stale while data arrives.

use tickline_engine::connectivity::{Connectivity, LinkState};
use tickline_engine::domain::Ts;
use tickline_engine::risk::PauseReason;

use crate::venue::SessionNotice;

/// What the runtime should do after a change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Read the broker's reports and reconcile (the session or the order stream came back).
    Reconcile,
    /// A degraded state began or ended: log it (at WARN when `warn`).
    Log { warn: bool, message: String },
}

/// The supervisor's view of the link.
#[derive(Clone, Debug)]
pub struct Supervisor {
    session_lost: Option<String>,
    competing: bool,
    maintenance: Option<Option<Ts>>,
    rate_limited: Option<(String, Ts)>,
    feed: LinkState,
    stale: bool,
    reconciling: bool,
    manual: bool,
    stale_after_ns: i64,
}

impl Supervisor {
    /// Market data older than `stale_after_ns` counts as stale.
    pub fn new(stale_after_ns: i64) -> Self {
        Supervisor {
            session_lost: None,
            competing: false,
            maintenance: None,
            rate_limited: None,
            feed: LinkState::Up,
            stale: false,
            reconciling: false,
            manual: false,
            stale_after_ns: stale_after_ns.max(1),
        }
    }

    fn down(&self) -> bool {
        self.session_lost.is_some() || self.competing || self.maintenance.is_some()
    }

    /// The state to give the kernel.
    pub fn connectivity(&self) -> Connectivity {
        let session = if self.down() {
            LinkState::Down
        } else if self.rate_limited.is_some() {
            LinkState::Degraded
        } else {
            LinkState::Up
        };
        let feed = if self.stale {
            LinkState::Down
        } else {
            self.feed
        };
        let entries_paused = if self.competing {
            Some(PauseReason::Competing)
        } else if self.maintenance.is_some() {
            Some(PauseReason::Maintenance)
        } else if self.session_lost.is_some() {
            Some(PauseReason::SessionLost)
        } else if self.reconciling {
            Some(PauseReason::Reconciling)
        } else if self.rate_limited.is_some() {
            Some(PauseReason::RateLimited)
        } else if self.stale || self.feed == LinkState::Down {
            Some(PauseReason::FeedStale)
        } else if self.manual {
            Some(PauseReason::Manual)
        } else {
            None
        };
        Connectivity {
            session,
            feed,
            entries_paused,
        }
    }

    /// A session notice from the venue.
    pub fn on_notice(&mut self, notice: &SessionNotice) -> Vec<Action> {
        let was_down = self.down();
        let mut out = Vec::new();
        match notice {
            SessionNotice::Connected => {
                let what = if self.competing {
                    "competing session ended"
                } else if self.maintenance.is_some() {
                    "maintenance window over"
                } else {
                    "session back"
                };
                self.session_lost = None;
                self.competing = false;
                self.maintenance = None;
                if was_down {
                    self.reconciling = true;
                    out.push(log(false, format!("{what}: reconciling before trading on")));
                    out.push(Action::Reconcile);
                }
            }
            SessionNotice::Lost { reason } => {
                if self.session_lost.is_none() {
                    out.push(log(
                        true,
                        format!("session lost ({reason}): new entries paused until it is back"),
                    ));
                }
                self.session_lost = Some(reason.clone());
            }
            SessionNotice::Competing => {
                if !self.competing {
                    out.push(log(
                        true,
                        "another login holds the session (competing): new entries paused; not taking it over".into(),
                    ));
                }
                self.competing = true;
            }
            SessionNotice::Maintenance { until } => {
                if self.maintenance.is_none() {
                    let until = until.map_or("unknown".to_string(), crate::status::clock_time);
                    out.push(log(
                        true,
                        format!("broker maintenance window (until about {until}): planned pause of new entries"),
                    ));
                }
                self.maintenance = Some(*until);
            }
            SessionNotice::RateLimited { endpoint, until } => {
                if self
                    .rate_limited
                    .as_ref()
                    .is_none_or(|(e, _)| e != endpoint)
                {
                    out.push(log(
                        true,
                        format!(
                            "rate limited on {endpoint} until {}: new entries paused",
                            crate::status::clock_time(*until)
                        ),
                    ));
                }
                self.rate_limited = Some((endpoint.clone(), *until));
            }
            SessionNotice::RateLimitOver => {
                if self.rate_limited.take().is_some() {
                    out.push(log(false, "rate limit over".into()));
                }
            }
            SessionNotice::StreamReconnected => {
                if !self.down() {
                    self.reconciling = true;
                    out.push(log(false, "order stream reconnected: reconciling".into()));
                    out.push(Action::Reconcile);
                }
            }
            SessionNotice::Notice { text } => out.push(log(true, format!("broker notice: {text}"))),
        }
        out
    }

    /// The feed's link changed.
    pub fn on_feed_link(&mut self, state: LinkState) -> Vec<Action> {
        if state == self.feed {
            return Vec::new();
        }
        self.feed = state;
        vec![match state {
            LinkState::Up => log(false, "market data streaming again".into()),
            LinkState::Degraded => log(
                true,
                "market data stream down: polling snapshots until it is back".into(),
            ),
            LinkState::Down => log(true, "market data down: new entries paused".into()),
        }]
    }

    /// Check the age of the last market data (`last_data` UTC ns, `None` before any).
    pub fn check_stale(&mut self, last_data: Option<Ts>, now: Ts, started: Ts) -> Vec<Action> {
        let since = last_data.unwrap_or(started);
        let stale = now.saturating_sub(since) > self.stale_after_ns;
        if stale == self.stale {
            return Vec::new();
        }
        self.stale = stale;
        vec![if stale {
            log(
                true,
                format!(
                    "no market data for {:.0} s: feed stale, new entries paused until data flows",
                    now.saturating_sub(since) as f64 / 1e9
                ),
            )
        } else {
            log(false, "market data flowing again".into())
        }]
    }

    /// Reconciliation finished.
    pub fn reconciled(&mut self) {
        self.reconciling = false;
    }

    /// Entries wait for a reconciliation (after a reconnect).
    pub fn is_reconciling(&self) -> bool {
        self.reconciling
    }

    /// The operator paused (`true`) or resumed (`false`) entries.
    pub fn set_manual(&mut self, paused: bool) {
        self.manual = paused;
    }

    /// Time-based recovery: a rate-limit window that has passed.
    pub fn tick(&mut self, now: Ts) -> Vec<Action> {
        match &self.rate_limited {
            Some((_, until)) if *until <= now => {
                self.rate_limited = None;
                vec![log(false, "rate limit over".into())]
            }
            _ => Vec::new(),
        }
    }

    /// The session is down (lost, competing, maintenance).
    pub fn session_down(&self) -> bool {
        self.down()
    }
}

fn log(warn: bool, message: String) -> Action {
    Action::Log { warn, message }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000_000;

    fn paused(s: &Supervisor) -> Option<PauseReason> {
        s.connectivity().entries_paused
    }

    #[test]
    fn session_loss_pauses_and_the_return_reconciles_before_resuming() {
        let mut s = Supervisor::new(10 * S);
        assert_eq!(s.connectivity(), Connectivity::UP);
        let a = s.on_notice(&SessionNotice::Lost {
            reason: "logged out".into(),
        });
        assert!(matches!(&a[..], [Action::Log { warn: true, .. }]));
        assert_eq!(paused(&s), Some(PauseReason::SessionLost));
        assert_eq!(s.connectivity().session, LinkState::Down);
        // A repeated loss is not logged again.
        assert!(
            s.on_notice(&SessionNotice::Lost {
                reason: "again".into()
            })
            .is_empty()
        );
        let a = s.on_notice(&SessionNotice::Connected);
        assert!(a.contains(&Action::Reconcile));
        assert_eq!(paused(&s), Some(PauseReason::Reconciling));
        s.reconciled();
        assert_eq!(s.connectivity(), Connectivity::UP);
        // Connected while connected: nothing to do.
        assert!(s.on_notice(&SessionNotice::Connected).is_empty());
    }

    /// Each cause → pause reason, most severe first.
    #[test]
    fn causes_map_to_pause_reasons() {
        let table: Vec<(Vec<SessionNotice>, Option<PauseReason>, LinkState)> = vec![
            (
                vec![SessionNotice::Competing],
                Some(PauseReason::Competing),
                LinkState::Down,
            ),
            (
                vec![SessionNotice::Maintenance { until: Some(5 * S) }],
                Some(PauseReason::Maintenance),
                LinkState::Down,
            ),
            (
                vec![SessionNotice::RateLimited {
                    endpoint: "/iserver/account/orders".into(),
                    until: 5 * S,
                }],
                Some(PauseReason::RateLimited),
                LinkState::Degraded,
            ),
            (
                vec![
                    SessionNotice::RateLimited {
                        endpoint: "x".into(),
                        until: 5 * S,
                    },
                    SessionNotice::Competing,
                ],
                Some(PauseReason::Competing),
                LinkState::Down,
            ),
            (
                vec![SessionNotice::Notice {
                    text: "hello".into(),
                }],
                None,
                LinkState::Up,
            ),
            (
                vec![SessionNotice::StreamReconnected],
                Some(PauseReason::Reconciling),
                LinkState::Up,
            ),
        ];
        for (notices, want, session) in table {
            let mut s = Supervisor::new(10 * S);
            for n in &notices {
                s.on_notice(n);
            }
            assert_eq!(paused(&s), want, "{notices:?}");
            assert_eq!(s.connectivity().session, session, "{notices:?}");
        }
    }

    #[test]
    fn rate_limits_end_by_notice_or_by_time() {
        let mut s = Supervisor::new(10 * S);
        s.on_notice(&SessionNotice::RateLimited {
            endpoint: "/x".into(),
            until: 5 * S,
        });
        assert!(s.tick(4 * S).is_empty());
        assert_eq!(s.tick(5 * S).len(), 1);
        assert_eq!(s.connectivity(), Connectivity::UP);
        s.on_notice(&SessionNotice::RateLimited {
            endpoint: "/x".into(),
            until: 50 * S,
        });
        s.on_notice(&SessionNotice::RateLimitOver);
        assert_eq!(s.connectivity(), Connectivity::UP);
    }

    #[test]
    fn each_new_rate_limit_cause_is_logged_once() {
        let mut s = Supervisor::new(10 * S);
        let limited = |endpoint: &str| SessionNotice::RateLimited {
            endpoint: endpoint.into(),
            until: 20 * S,
        };
        let logs = |a: Vec<Action>| {
            a.iter()
                .filter(|a| matches!(a, Action::Log { warn: true, .. }))
                .count()
        };
        assert_eq!(logs(s.on_notice(&limited("/a"))), 1);
        assert_eq!(logs(s.on_notice(&limited("/a"))), 0, "the same wait again");
        assert_eq!(logs(s.on_notice(&limited("/a (penalty box)"))), 1);
        assert_eq!(paused(&s), Some(PauseReason::RateLimited));
    }

    #[test]
    fn stale_data_pauses_until_it_flows() {
        let mut s = Supervisor::new(10 * S);
        assert!(s.check_stale(None, 5 * S, 0).is_empty(), "young run");
        let a = s.check_stale(None, 11 * S, 0);
        assert!(matches!(&a[..], [Action::Log { warn: true, .. }]));
        assert_eq!(paused(&s), Some(PauseReason::FeedStale));
        assert_eq!(s.connectivity().feed, LinkState::Down);
        assert!(s.check_stale(Some(12 * S), 13 * S, 0).len() == 1);
        assert_eq!(s.connectivity(), Connectivity::UP);
        // Polling snapshots: degraded, not paused.
        s.on_feed_link(LinkState::Degraded);
        assert_eq!(s.connectivity().feed, LinkState::Degraded);
        assert_eq!(paused(&s), None);
        s.on_feed_link(LinkState::Down);
        assert_eq!(paused(&s), Some(PauseReason::FeedStale));
    }

    #[test]
    fn a_manual_pause_holds_until_resumed() {
        let mut s = Supervisor::new(10 * S);
        s.set_manual(true);
        assert_eq!(paused(&s), Some(PauseReason::Manual));
        s.set_manual(false);
        assert_eq!(paused(&s), None);
    }
}
