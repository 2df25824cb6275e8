//! Tickline gateway emulator: a local, deterministic stand-in for IBKR's Client Portal
//! Gateway. It serves the Web API at `/v1/api/…` and the websocket at `/v1/api/ws` over the
//! backtester's simulated broker (the one matching engine of the project), with a seeded
//! market, IBKR's order prompt flow, fault injection and a control endpoint (`/control/…`).
//!
//! Start it in-process with [`run`] on a listener you bound (tests use `127.0.0.1:0`), or
//! from the command line with [`serve`]. Wire types are the emulator's own (built as JSON by
//! hand from the reference), never the client's.

pub mod cli;
pub mod config;
pub mod error;
pub mod faults;
pub mod maintenance;
pub mod oauth;
pub mod prompts;
pub mod tls;

mod account_frames;
mod api;
mod clock;
mod contract;
mod control;
mod fields;
mod flow;
mod market;
mod orders;
mod portfolio;
mod rng;
mod schedule;
mod server;
mod session;
mod state;
mod wire;
mod ws;

pub use cli::{GatewayArgs, config_from_args, serve};
pub use config::GatewayConfig;
pub use error::GatewayError;
pub use server::{run, run_tls};
pub use tls::TlsIdentity;
