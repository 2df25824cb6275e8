//! The live link as a strategy sees it: the broker session, the market data feed, and whether
//! new entries are paused because of them.
//!
//! Backtests are always fully connected. A live runtime sets the state through
//! [`crate::kernel::Kernel::set_connectivity`]; the strategy hears of each change through
//! [`crate::strategy::Strategy::on_connectivity`] and can read it any time with
//! [`crate::strategy::Ctx::connectivity`].

use serde::Serialize;

use crate::risk::PauseReason;

/// The state of one link.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum LinkState {
    Up,
    /// Working, but not as it should (market data by snapshot polling while the websocket is
    /// down; requests held back by the rate limiter).
    Degraded,
    Down,
}

impl LinkState {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkState::Up => "up",
            LinkState::Degraded => "degraded",
            LinkState::Down => "down",
        }
    }
}

/// Session, feed and entry gate together.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Connectivity {
    pub session: LinkState,
    pub feed: LinkState,
    /// Why new entries are paused (only exposure-reducing orders pass), if they are.
    pub entries_paused: Option<PauseReason>,
}

impl Connectivity {
    /// Everything up, nothing paused (backtests, and a healthy live run).
    pub const UP: Connectivity = Connectivity {
        session: LinkState::Up,
        feed: LinkState::Up,
        entries_paused: None,
    };
}

impl Default for Connectivity {
    fn default() -> Self {
        Connectivity::UP
    }
}

impl std::fmt::Display for Connectivity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "session {}, feed {}",
            self.session.as_str(),
            self.feed.as_str()
        )?;
        if let Some(r) = self.entries_paused {
            write!(f, ", entries paused ({r})")?;
        }
        Ok(())
    }
}
