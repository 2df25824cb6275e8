//! Tickline's broker-neutral live runtime: the real-time loop, bar aggregation, the durable
//! journal, reconciliation with the broker and supervision of the link, written once for any
//! venue. A venue crate supplies a market-data feed, an execution client, broker reports and
//! session notices through the traits of [`venue`]; the strategy, kernel, risk chain and
//! order manager are the same as in backtests.

pub mod bars;
pub mod journal;
pub mod reconcile;
pub mod runner;
pub mod status;
pub mod supervise;
pub mod venue;
