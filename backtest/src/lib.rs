//! Tickline backtester: the simulated broker and its fill rules, commissions, the backtest
//! runner, statistics and reports.

pub mod broker;
pub mod commission;
pub mod config;
pub mod fill;
pub mod output;
pub mod prompts;
pub mod report;
pub mod runner;
pub mod stats;
pub mod sweep;
pub mod warmup;
