//! Tickline engine: the domain model, the [`strategy::Strategy`] trait, the kernel, the risk
//! layer and the order manager. One kernel serves backtest, paper and live trading.
//!
//! Flow: market data → [`kernel::Kernel`] → `Strategy::on_bar` / `on_tick` → commands buffered
//! in the context → [`risk::RiskChain`] → [`order::OrderManager`] →
//! [`execution::ExecutionClient`] → events back up → portfolio and `Strategy::on_order`.

pub mod audit;
pub mod clock;
pub mod connectivity;
pub mod domain;
pub mod execution;
pub mod history;
pub mod kernel;
pub mod mem;
pub mod money;
pub mod order;
pub mod params;
pub mod portfolio;
pub mod record;
pub mod resample;
pub mod risk;
pub mod strategy;
