//! The strategy registry: one line per strategy. Adding a strategy is one file plus one
//! line in [`REGISTRY`].

use tickline_engine::params::ParamError;
use tickline_engine::strategy::Strategy;

/// A registered strategy.
#[derive(Clone, Copy)]
pub struct StrategyInfo {
    /// Name used in `[strategy] name` and `--strategy`.
    pub name: &'static str,
    /// One line on what it does.
    pub summary: &'static str,
    /// Parameters and defaults, for `tickline strategies`.
    pub params: &'static str,
    /// Build it from `[strategy.params]`.
    pub build: fn(&toml::Table) -> Result<Box<dyn Strategy>, ParamError>,
}

/// Every strategy, by name.
pub const REGISTRY: &[StrategyInfo] = &[
    crate::ema_cross::INFO,
    crate::rsi_reversion::INFO,
    crate::donchian_breakout::INFO,
    crate::channel::INFO,
];

/// Errors choosing or building a strategy.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StrategyError {
    #[error("unknown strategy `{name}` (valid: {valid})")]
    Unknown { name: String, valid: String },
    #[error(transparent)]
    Params(#[from] ParamError),
}

/// Look a strategy up by name.
pub fn find(name: &str) -> Option<&'static StrategyInfo> {
    REGISTRY.iter().find(|s| s.name == name)
}

/// Build the strategy `name` with `params`.
pub fn build(name: &str, params: &toml::Table) -> Result<Box<dyn Strategy>, StrategyError> {
    let info = find(name).ok_or_else(|| StrategyError::Unknown {
        name: name.to_string(),
        valid: REGISTRY
            .iter()
            .map(|s| s.name)
            .collect::<Vec<_>>()
            .join(", "),
    })?;
    Ok((info.build)(params)?)
}
