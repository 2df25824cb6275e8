//! Entries paused while the live link is degraded: only orders that reduce exposure pass.
//!
//! The live runtime pauses entries when the session is lost or taken by a competing login,
//! during the broker's maintenance window, while the market data feed is stale, while the
//! broker's rate limiter holds requests back and while reconciling after a reconnect; it
//! resumes them when the cause is gone. Unlike the kill switch this is not a verdict on the
//! strategy, only on the link, so it lifts by itself.

use serde::Serialize;

use super::{RefusalReason, RiskContext};
use crate::domain::OrderRequest;

/// Why new entries are paused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum PauseReason {
    /// The brokerage session is lost (logged out, expired, not connected).
    SessionLost,
    /// Another login holds the session (IBKR "competing session").
    Competing,
    /// The broker's planned maintenance window.
    Maintenance,
    /// No market data for longer than the stale limit.
    FeedStale,
    /// The broker's rate limiter is holding requests (429s, penalty box).
    RateLimited,
    /// Reconciling with the broker after a reconnect.
    Reconciling,
    /// Paused by the operator.
    Manual,
}

impl PauseReason {
    pub fn as_str(self) -> &'static str {
        match self {
            PauseReason::SessionLost => "session lost",
            PauseReason::Competing => "competing session",
            PauseReason::Maintenance => "broker maintenance",
            PauseReason::FeedStale => "market data stale",
            PauseReason::RateLimited => "rate limited",
            PauseReason::Reconciling => "reconciling",
            PauseReason::Manual => "paused by operator",
        }
    }
}

impl std::fmt::Display for PauseReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The pause gate: when set, only exposure-reducing orders pass.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EntryPause {
    pub reason: Option<PauseReason>,
}

impl EntryPause {
    pub const NAME: &'static str = "entry_pause";

    pub fn check(&self, req: &OrderRequest, ctx: &RiskContext<'_>) -> Result<(), RefusalReason> {
        match self.reason {
            Some(reason) if !ctx.reduces_exposure(req) => {
                Err(RefusalReason::EntriesPaused { reason })
            }
            _ => Ok(()),
        }
    }
}
