//! Tickline's Interactive Brokers Web API client: REST transport, OAuth 1.0a, websocket,
//! session supervision, rate limits, typed endpoints, order prompts and the `tickline ibkr` CLI.
//!
//! * [`Client`] — one per session; [`Client::gateway`] for a Client Portal Gateway,
//!   [`Client::oauth`] for OAuth 1.0a. Endpoint methods are grouped by the reference's
//!   categories in `endpoints/`; [`catalog::CATALOG`] lists every one of them.
//! * [`session`] — supervisor task (tickle, re-authentication, competing session, IBKR's
//!   maintenance windows per region) publishing [`SessionEvent`]s.
//! * [`ratelimit`] — global and per-endpoint pacing; [`transport`] — retries and backoff.
//! * [`prompts`] — order questions and the [`PromptPolicy`] that answers them.
//! * [`marketdata`] — field ids, snapshot parsing, history → engine bars.
//! * [`cli`] — `tickline ibkr …` commands.
//! * [`execution`] — [`execution::IbkrExecution`], the engine's `ExecutionClient` for IBKR.
//! * [`venue`] — IBKR as a venue of the live runtime (`tickline-live`): feed, execution,
//!   broker reports and session notices behind its traits; [`venue::connect`].
//! * [`oauth`], [`ws`] — OAuth 1.0a signing and the streaming websocket.

pub mod oauth;
pub mod ws;

pub mod catalog;
pub mod cli;
mod client;
mod endpoints;
pub mod error;
pub mod execution;
pub mod marketdata;
pub mod models;
pub mod prompts;
pub mod ratelimit;
pub mod secret;
pub mod session;
pub mod transport;
pub mod venue;
pub mod venue_time;

#[cfg(test)]
mod test_samples;

pub use client::{Client, ClientBuilder, OrderSafety};
pub use endpoints::{
    HISTORY_PAGE_BARS, HistoryPaging, MAX_FYI_NOTIFICATIONS, MAX_TRADE_DAYS, PA_PERIODS,
    POSITIONS_PAGE_SIZE, SECDEF_BATCH, generate_coid,
};
pub use error::{EndpointRef, IbkrError, TransportErrorKind};
pub use prompts::{AllowList, PlaceOutcome, Prompt, PromptPolicy, RejectPrompt};
pub use secret::Secret;
pub use session::{
    Maintenance, MaintenanceKind, MaintenanceWindow, Region, SessionConfig, SessionEvent,
    SessionState, SessionStatus, SupervisorHandle,
};
pub use transport::{
    Auth, ClientConfig, DEFAULT_GATEWAY_URL, PRODUCTION_URL, RateNotice, RetryPolicy,
    install_crypto_provider,
};
