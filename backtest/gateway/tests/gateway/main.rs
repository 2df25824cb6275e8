//! Raw HTTP / websocket tests against the in-process emulator on 127.0.0.1:0 (one test
//! binary, so the crate links once).

mod bad_input;
mod common;
mod contracts;
mod determinism;
mod faults;
mod fidelity;
mod marketdata;
mod oauth;
mod orders;
mod portfolio;
mod replay;
mod session;
mod tls;
mod websocket;
