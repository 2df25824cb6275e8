//! Tickline's Interactive Brokers Web API client: REST transport, OAuth 1.0a, websocket,
//! session supervision, rate limits, typed endpoints, order prompts and the `tickline ibkr` CLI.

pub mod oauth;
pub mod ws;
