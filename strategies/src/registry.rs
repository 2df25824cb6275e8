//! The strategy registry. A bundled strategy is one file plus one line in [`REGISTRY`]; a
//! strategy in a user's own crate is one [`Registry::with`] in that crate's `main`, which
//! hands the registry to `tickline::run` (see `examples/strategy-crate/`).

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
    crate::mtf_breakout::INFO,
    crate::sma_bracket::INFO,
];

/// Errors choosing, registering or building a strategy.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StrategyError {
    #[error("unknown strategy `{name}` (valid: {valid})")]
    Unknown { name: String, valid: String },
    #[error("strategy `{0}` is registered twice (names must be unique)")]
    Duplicate(String),
    #[error("strategy name {0:?}: use letters, digits, `_` and `-` only")]
    BadName(String),
    #[error(transparent)]
    Params(#[from] ParamError),
}

/// The strategies a `tickline` binary knows: the bundled ones ([`Registry::bundled`]) plus
/// any a user crate adds ([`Registry::with`]) before handing it to `tickline::run`.
#[derive(Clone)]
pub struct Registry {
    entries: Vec<StrategyInfo>,
}

impl Default for Registry {
    fn default() -> Self {
        Registry::bundled()
    }
}

impl Registry {
    /// The strategies of this crate ([`REGISTRY`]).
    pub fn bundled() -> Self {
        Registry {
            entries: REGISTRY.to_vec(),
        }
    }

    /// No strategies at all.
    pub fn empty() -> Self {
        Registry {
            entries: Vec::new(),
        }
    }

    /// Add `info`; its name must be new and plain (letters, digits, `_`, `-`).
    pub fn register(&mut self, info: StrategyInfo) -> Result<(), StrategyError> {
        let plain = !info.name.is_empty()
            && info
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !plain {
            return Err(StrategyError::BadName(info.name.to_string()));
        }
        if self.find(info.name).is_some() {
            return Err(StrategyError::Duplicate(info.name.to_string()));
        }
        self.entries.push(info);
        Ok(())
    }

    /// [`Registry::register`] for building a registry in one expression; panics on a
    /// duplicate or bad name, which is a programming error in the binary being built.
    pub fn with(mut self, info: StrategyInfo) -> Self {
        if let Err(e) = self.register(info) {
            panic!("{e}");
        }
        self
    }

    /// Every strategy, in registration order.
    pub fn iter(&self) -> impl Iterator<Item = &StrategyInfo> {
        self.entries.iter()
    }

    /// Look a strategy up by name.
    pub fn find(&self, name: &str) -> Option<&StrategyInfo> {
        self.entries.iter().find(|s| s.name == name)
    }

    /// Build the strategy `name` with `params`.
    pub fn build(
        &self,
        name: &str,
        params: &toml::Table,
    ) -> Result<Box<dyn Strategy>, StrategyError> {
        let info = self.find(name).ok_or_else(|| StrategyError::Unknown {
            name: name.to_string(),
            valid: self
                .entries
                .iter()
                .map(|s| s.name)
                .collect::<Vec<_>>()
                .join(", "),
        })?;
        Ok((info.build)(params)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(name: &'static str) -> StrategyInfo {
        StrategyInfo {
            name,
            summary: "test",
            params: "",
            build: crate::ema_cross::INFO.build,
        }
    }

    #[test]
    fn user_strategies_join_the_bundled_ones() {
        let r = Registry::bundled().with(info("my_strategy"));
        assert!(r.find("ema_cross").is_some());
        assert!(r.build("my_strategy", &toml::Table::new()).is_ok());
        assert_eq!(r.iter().last().map(|s| s.name), Some("my_strategy"));
        match r.build("nope", &toml::Table::new()) {
            Err(StrategyError::Unknown { valid, .. }) => assert!(valid.ends_with("my_strategy")),
            Err(other) => panic!("{other}"),
            Ok(_) => panic!("built an unknown strategy"),
        }
        let mut r = r;
        assert_eq!(
            r.register(info("ema_cross")),
            Err(StrategyError::Duplicate("ema_cross".into()))
        );
        assert!(matches!(
            r.register(info("a b")),
            Err(StrategyError::BadName(_))
        ));
        assert_eq!(Registry::empty().iter().count(), 0);
    }
}
