//! Tickline backtester: the simulated broker and its fill rules, commissions, the backtest
//! runner, statistics and reports.

pub mod broker;
pub mod commission;
pub mod fill;
pub mod prompts;
pub mod report;
pub mod stats;
