//! Tickline strategies: streaming indicators and example strategies, chosen by name through
//! a [`Registry`] (the bundled ones, plus whatever a user crate registers).

pub mod channel;
pub mod donchian_breakout;
pub mod ema_cross;
pub mod indicators;
pub mod lots;
pub mod mtf_breakout;
pub mod registry;
pub mod rsi_reversion;
pub mod sma_bracket;

pub use registry::{REGISTRY, Registry, StrategyError, StrategyInfo};
