//! Tickline strategies: streaming indicators and example strategies, chosen by name through
//! the [`registry`].

pub mod channel;
pub mod donchian_breakout;
pub mod ema_cross;
pub mod indicators;
pub mod registry;
pub mod rsi_reversion;

pub use registry::{REGISTRY, StrategyError, StrategyInfo, build};
