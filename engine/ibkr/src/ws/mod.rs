//! Streaming websocket client for the IBKR Web API (`/ws`, reference §10).
//!
//! [`WsClient::connect`] dials the socket (gateway session cookie, or `?oauth_token=` for
//! OAuth 1.0a; strict TLS unless `insecure_tls`), then a background task:
//! * sends [`Subscription`] commands (`smd`, `smh`, `sor`, `str`, `spl`, `sbd`) and their
//!   unsubscribe counterparts;
//! * sends a `tic` heartbeat every `heartbeat_interval`;
//! * parses every frame into a typed [`WsMessage`] and publishes it as a [`WsEvent`];
//! * reports a streaming subscription silent for `dead_feed_after` as [`WsEvent::DeadFeed`];
//! * on connection loss publishes [`WsEvent::Disconnected`], reconnects with exponential
//!   backoff and jitter, re-sends every active subscription and publishes
//!   [`WsEvent::Reconnected`].

mod client;
mod config;
mod de;
mod error;
mod event;
mod frames;
mod market_data;
mod message;
mod subscription;
mod tls;

pub use client::WsClient;
pub use config::{Backoff, WsConfig, redacted_url, websocket_url};
pub use error::WsError;
pub use event::WsEvent;
pub use frames::{
    AccountInfo, AuthStatus, BookRow, BookUpdate, Bulletin, Execution, HistoryBar, HistoryUpdate,
    Notification, OrderUpdate, PnlEntry, PnlRow, SystemMessage, TicStatus,
};
pub use market_data::MarketDataUpdate;
pub use message::{WsMessage, WsParseError};
pub use subscription::{HistoryParams, Subscription, Topic};
