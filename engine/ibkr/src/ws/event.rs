//! What the websocket client publishes: parsed frames and connection state changes.

use std::time::Duration;

use serde_json::Value;

use super::frames::{
    AccountInfo, AuthStatus, BookUpdate, Bulletin, Execution, HistoryUpdate, Notification,
    OrderUpdate, PnlEntry, SystemMessage, TicStatus,
};
use super::market_data::MarketDataUpdate;
use super::message::{WsMessage, WsParseError};
use super::subscription::Topic;

/// One event from a [`WsClient`](super::WsClient).
#[derive(Clone, Debug, PartialEq)]
pub enum WsEvent {
    /// The first connection is up (sent once, first).
    Connected,
    /// The connection was re-established after `attempts` tries and every active subscription
    /// was sent again. There is no replay of what was missed: reconcile through REST.
    Reconnected {
        /// Attempts it took.
        attempts: u32,
    },
    /// The connection was lost (or, as the last event, reconnection gave up).
    Disconnected {
        /// Why.
        reason: String,
    },
    /// A streaming subscription has been silent for `silent_for` while subscribed; the client
    /// re-sends its subscription once. Reported again only after data flowed in between.
    DeadFeed {
        /// The silent topic.
        topic: Topic,
        /// How long it has been silent.
        silent_for: Duration,
    },
    /// `smd`: level-1 market data (a delta).
    MarketData(MarketDataUpdate),
    /// `sor`: live order updates.
    Order(Vec<OrderUpdate>),
    /// `str`: executions.
    Trade(Vec<Execution>),
    /// `spl`: P&L rows.
    Pnl(Vec<PnlEntry>),
    /// `sbd`: price ladder.
    Book(BookUpdate),
    /// `smh`: streamed history.
    History(HistoryUpdate),
    /// `system`: welcome or heartbeat.
    System(SystemMessage),
    /// `sts`: brokerage session status (authenticated, competing, …).
    AuthStatus(AuthStatus),
    /// `ntf`: notifications.
    Notification(Vec<Notification>),
    /// `blt`: bulletins.
    Bulletin(Vec<Bulletin>),
    /// `act`: account information.
    Account(AccountInfo),
    /// `tic`: session status in answer to the client's ping.
    Tic(TicStatus),
    /// Echo of an `ech+…` heartbeat.
    Echo(String),
    /// A server message without topic (e.g. `waiting for session`).
    Message(String),
    /// A server error frame.
    Error {
        /// The frame's topic, if any.
        topic: Option<String>,
        /// The error text.
        message: String,
        /// The error code, if any.
        code: Option<i64>,
    },
    /// A `{"result":…}` frame.
    Result(Value),
    /// A frame of a topic this crate does not model.
    Other {
        /// The frame's topic, if any.
        topic: Option<String>,
        /// The frame minus `topic`.
        payload: Value,
    },
    /// A frame that could not be parsed; `frame` holds its first 1000 characters.
    Malformed {
        /// The parse error.
        error: WsParseError,
        /// The start of the frame.
        frame: String,
    },
}

impl From<WsMessage> for WsEvent {
    fn from(m: WsMessage) -> Self {
        match m {
            WsMessage::MarketData(x) => WsEvent::MarketData(x),
            WsMessage::Order(x) => WsEvent::Order(x),
            WsMessage::Trade(x) => WsEvent::Trade(x),
            WsMessage::Pnl(x) => WsEvent::Pnl(x),
            WsMessage::Book(x) => WsEvent::Book(x),
            WsMessage::History(x) => WsEvent::History(x),
            WsMessage::System(x) => WsEvent::System(x),
            WsMessage::AuthStatus(x) => WsEvent::AuthStatus(x),
            WsMessage::Notification(x) => WsEvent::Notification(x),
            WsMessage::Bulletin(x) => WsEvent::Bulletin(x),
            WsMessage::Account(x) => WsEvent::Account(x),
            WsMessage::Tic(x) => WsEvent::Tic(x),
            WsMessage::Echo(x) => WsEvent::Echo(x),
            WsMessage::Message(x) => WsEvent::Message(x),
            WsMessage::Error {
                topic,
                message,
                code,
            } => WsEvent::Error {
                topic,
                message,
                code,
            },
            WsMessage::Result(x) => WsEvent::Result(x),
            WsMessage::Other { topic, payload } => WsEvent::Other { topic, payload },
        }
    }
}

impl WsMessage {
    /// The subscription topic whose data this frame carries, for dead-feed tracking and
    /// history stream ids; `None` for system frames.
    pub fn data_topic(&self) -> Option<Topic> {
        match self {
            WsMessage::MarketData(md) => Some(Topic::MarketData(md.conid)),
            WsMessage::Order(_) => Some(Topic::Orders),
            WsMessage::Trade(_) => Some(Topic::Trades),
            WsMessage::Pnl(_) => Some(Topic::Pnl),
            WsMessage::Book(b) => b.account.clone().map(|account| Topic::Book { account }),
            WsMessage::History(h) => h.conid.map(Topic::History),
            _ => None,
        }
    }
}
