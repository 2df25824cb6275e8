//! The TOML configuration of a run, with `--set key.path=value` overrides.
//!
//! Unknown keys are errors (with the dotted path), so a typo never silently falls back to a
//! default. See `config/default.toml` for the commented reference.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use tickline_engine::domain::Instrument;
use tickline_engine::domain::catalog;
use tickline_engine::order::PromptPolicy;
use tickline_engine::risk::RiskConfig;

use crate::broker::BrokerConfig;

/// The built-in default configuration (the same text as `config/default.toml`).
pub const DEFAULT_CONFIG: &str = include_str!("../../config/default.toml");

/// `[strategy]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StrategySection {
    /// Registry name, e.g. `ema_cross`.
    pub name: String,
    /// Strategy parameters (checked by the strategy itself).
    #[serde(default)]
    pub params: toml::Table,
}

/// `[data]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataSection {
    /// Bar files (CSV or Parquet). Relative paths are relative to the config file.
    #[serde(default)]
    pub paths: Vec<PathBuf>,
    /// Time zone of naive timestamps in the files (IANA name).
    #[serde(default = "default_tz")]
    pub timezone: String,
}

fn default_tz() -> String {
    "America/New_York".into()
}

impl Default for DataSection {
    fn default() -> Self {
        DataSection {
            paths: Vec::new(),
            timezone: default_tz(),
        }
    }
}

/// `[portfolio]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortfolioSection {
    /// Starting cash.
    #[serde(default = "default_cash")]
    pub cash: Decimal,
    /// Account currency (instruments are assumed to trade in it).
    #[serde(default = "default_currency")]
    pub currency: String,
}

fn default_cash() -> Decimal {
    Decimal::from(100_000)
}
fn default_currency() -> String {
    "USD".into()
}

impl Default for PortfolioSection {
    fn default() -> Self {
        PortfolioSection {
            cash: default_cash(),
            currency: default_currency(),
        }
    }
}

/// `[output]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputSection {
    /// Folder for results (relative to the working directory).
    #[serde(default = "default_out")]
    pub dir: PathBuf,
    /// Write `report.html`.
    #[serde(default = "yes")]
    pub report: bool,
}

fn default_out() -> PathBuf {
    PathBuf::from("out/backtest")
}
fn yes() -> bool {
    true
}

impl Default for OutputSection {
    fn default() -> Self {
        OutputSection {
            dir: default_out(),
            report: true,
        }
    }
}

/// `[live] on_stop`: what happens to this run's working orders when it ends.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnStop {
    /// Cancel them and wait for the broker to confirm (the default).
    #[default]
    Cancel,
    /// Leave them working at the broker; the next run on the same journal adopts them.
    Leave,
}

/// `[live] maintenance`: whose nightly and weekend maintenance windows are ridden out as
/// planned pauses (new entries paused, no re-authentication until the window closes),
/// judged on the venue's clock.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MaintenanceSchedule {
    /// The account's region, from the broker (the default).
    #[default]
    Auto,
    /// None (a gateway emulator without windows).
    Off,
    NorthAmerica,
    Europe,
    Asia,
}

/// `[live] bar_source`: where live bars come from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BarSource {
    /// Aggregated from the streamed ticks, aligned to the clock (the default).
    #[default]
    Ticks,
    /// The venue's own completed bars, read from its history after each bar closed.
    History,
}

/// `[live] foreign`: orders and positions at the broker that this journal did not make.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ForeignPolicy {
    /// Take them into the books: the strategy sees the positions and orders (and may
    /// cancel them); their later fills are booked.
    Adopt,
    /// Leave them alone: the books hold only this journal's trading; differences are
    /// reported, never traded against.
    Ignore,
    /// Refuse to start while any exist, listing them (the default).
    #[default]
    Refuse,
}

impl ForeignPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            ForeignPolicy::Adopt => "adopt",
            ForeignPolicy::Ignore => "ignore",
            ForeignPolicy::Refuse => "refuse",
        }
    }
}

/// The longest `[live]` duration (bar length, intervals, timeouts): 7 days, in seconds.
pub const MAX_LIVE_SECS: f64 = 7.0 * 86_400.0;
/// The shortest live bar, in seconds.
pub const MIN_BAR_SECS: f64 = 0.1;
/// The most history bars fed to a strategy before its first live bar.
pub const MAX_WARMUP_BARS: usize = 10_000;

/// `[live]`: paper and live trading. Every value is checked when the configuration is
/// read, so the runtime takes them as they are.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LiveSection {
    /// Bar length in seconds (default: 60; `--bar-seconds` overrides).
    pub bar_seconds: Option<f64>,
    pub bar_source: BarSource,
    /// Historical bars fed to the strategy before its first live bar (0 = none).
    pub warmup_bars: usize,
    pub on_stop: OnStop,
    pub foreign: ForeignPolicy,
    /// Market data older than this pauses new entries (seconds).
    pub stale_after_secs: f64,
    /// Reconcile with the broker's reports this often, besides after every reconnect.
    pub reconcile_secs: f64,
    /// Status line interval on stderr (0 = none).
    pub status_secs: f64,
    /// Rewrite the results folder from the journal this often.
    pub refresh_secs: f64,
    /// At the end, wait this long for the broker to confirm cancels.
    pub stop_timeout_secs: f64,
    /// After repeated 429s (the broker's penalty box) send nothing for this long; IBKR's
    /// box lasts about 10 minutes.
    pub penalty_pause_secs: f64,
    /// Send the market-data subscriptions again this often: IBKR ends an `smd`
    /// subscription silently after about 15 minutes unless it is renewed.
    pub md_renew_secs: f64,
    /// The risk limits of paper and live runs, in place of `[risk]` (which backtests use):
    /// protective limits for real orders need not cap a backtest's sizing.
    pub risk: Option<RiskConfig>,
    pub maintenance: MaintenanceSchedule,
    /// `tickline live` may trade a non-paper account only with this and `--live`.
    pub allow_live: bool,
}

impl Default for LiveSection {
    fn default() -> Self {
        LiveSection {
            bar_seconds: None,
            bar_source: BarSource::Ticks,
            warmup_bars: 50,
            on_stop: OnStop::Cancel,
            foreign: ForeignPolicy::Refuse,
            stale_after_secs: 30.0,
            reconcile_secs: 60.0,
            status_secs: 5.0,
            refresh_secs: 10.0,
            stop_timeout_secs: 15.0,
            penalty_pause_secs: 600.0,
            md_renew_secs: 600.0,
            risk: None,
            maintenance: MaintenanceSchedule::Auto,
            allow_live: false,
        }
    }
}

/// The whole configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppConfig {
    pub strategy: StrategySection,
    #[serde(default)]
    pub data: DataSection,
    /// Instrument definitions; symbols not defined here fall back to the built-in catalog.
    #[serde(default)]
    pub instruments: Vec<Instrument>,
    #[serde(default)]
    pub portfolio: PortfolioSection,
    #[serde(default)]
    pub broker: BrokerConfig,
    #[serde(default)]
    pub risk: RiskConfig,
    #[serde(default)]
    pub prompts: PromptPolicy,
    #[serde(default)]
    pub output: OutputSection,
    #[serde(default)]
    pub live: LiveSection,
}

/// A configuration problem, naming the file and the key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: invalid TOML: {message}")]
    Syntax { path: String, message: String },
    #[error("{path}: {key}: {message}")]
    Invalid {
        path: String,
        key: String,
        message: String,
    },
    #[error("--set {arg}: expected KEY=VALUE with a dotted key, e.g. broker.fill=close")]
    BadOverride { arg: String },
    #[error(
        "unknown symbol `{symbol}` in {file}: define it under [[instruments]] (built-in: {known})"
    )]
    UnknownSymbol {
        symbol: String,
        file: String,
        known: String,
    },
}

impl AppConfig {
    /// The risk limits of a paper or live run: `[live.risk]` when given, else `[risk]`.
    pub fn live_risk(&self) -> &RiskConfig {
        self.live.risk.as_ref().unwrap_or(&self.risk)
    }

    /// Read a config file, apply `--set` overrides, validate.
    pub fn load(path: &Path, overrides: &[String]) -> Result<AppConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_text(&text, path, overrides)
    }

    /// Parse `text` as if read from `path` (relative data paths resolve against its folder).
    pub fn from_text(
        text: &str,
        path: &Path,
        overrides: &[String],
    ) -> Result<AppConfig, ConfigError> {
        let mut cfg = Self::parse(text, &path.display().to_string(), overrides)?;
        let base = path.parent().unwrap_or(Path::new("."));
        for p in &mut cfg.data.paths {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
        Ok(cfg)
    }

    /// Parse config text (`origin` names it in errors) and apply overrides.
    pub fn parse(text: &str, origin: &str, overrides: &[String]) -> Result<AppConfig, ConfigError> {
        let mut table: toml::Table =
            text.parse()
                .map_err(|e: toml::de::Error| ConfigError::Syntax {
                    path: origin.to_string(),
                    message: e.to_string().lines().collect::<Vec<_>>().join(" "),
                })?;
        for arg in overrides {
            if let Some(name) = arg.strip_prefix("strategy.name=") {
                // Switching strategy drops the old strategy's parameters.
                let same = table
                    .get("strategy")
                    .and_then(|s| s.get("name"))
                    .and_then(|n| n.as_str())
                    == Some(name.trim().trim_matches('"'));
                if !same && let Some(s) = table.get_mut("strategy").and_then(|s| s.as_table_mut()) {
                    s.remove("params");
                }
            }
            apply_override(&mut table, arg)?;
        }
        let de = toml::Value::Table(table);
        let cfg: AppConfig = serde_path_to_error::deserialize(de).map_err(|e| {
            let key = e.path().to_string();
            ConfigError::Invalid {
                path: origin.to_string(),
                key: if key == "." {
                    "(top level)".into()
                } else {
                    key
                },
                message: e
                    .into_inner()
                    .to_string()
                    .lines()
                    .next()
                    .unwrap_or("")
                    .to_string(),
            }
        })?;
        cfg.validate(origin)?;
        Ok(cfg)
    }

    fn validate(&self, origin: &str) -> Result<(), ConfigError> {
        let invalid = |key: &str, message: String| ConfigError::Invalid {
            path: origin.to_string(),
            key: key.to_string(),
            message,
        };
        chrono_tz::Tz::from_str(&self.data.timezone).map_err(|_| {
            invalid(
                "data.timezone",
                format!("unknown time zone `{}`", self.data.timezone),
            )
        })?;
        if self.portfolio.cash <= Decimal::ZERO {
            return Err(invalid(
                "portfolio.cash",
                format!("must be positive, got {}", self.portfolio.cash),
            ));
        }
        if self.broker.slippage_bps < Decimal::ZERO || self.broker.slippage_ticks < Decimal::ZERO {
            return Err(invalid(
                "broker.slippage_bps",
                "slippage must not be negative".into(),
            ));
        }
        if let Some(f) = self.broker.max_volume_participation
            && !(f > 0.0 && f <= 1.0)
        {
            return Err(invalid(
                "broker.max_volume_participation",
                format!("must be in (0, 1], got {f}"),
            ));
        }
        for (section, risk) in [
            ("risk", Some(&self.risk)),
            ("live.risk", self.live.risk.as_ref()),
        ] {
            if let Some(d) = risk.and_then(|r| r.max_drawdown)
                && (d <= Decimal::ZERO || d >= Decimal::ONE)
            {
                return Err(invalid(
                    &format!("{section}.max_drawdown"),
                    format!("must be a fraction in (0, 1), got {d}"),
                ));
            }
            if let Some(m) = risk.and_then(|r| r.initial_margin)
                && (m <= Decimal::ZERO || m > Decimal::ONE)
            {
                return Err(invalid(
                    &format!("{section}.initial_margin"),
                    format!("must be a fraction in (0, 1], got {m}"),
                ));
            }
        }
        let live = &self.live;
        for (key, v, min) in [
            (
                "live.bar_seconds",
                live.bar_seconds.unwrap_or(60.0),
                MIN_BAR_SECS,
            ),
            ("live.stale_after_secs", live.stale_after_secs, 0.1),
            ("live.reconcile_secs", live.reconcile_secs, 1.0),
            ("live.status_secs", live.status_secs, 0.0),
            ("live.refresh_secs", live.refresh_secs, 0.5),
            ("live.stop_timeout_secs", live.stop_timeout_secs, 0.0),
            ("live.penalty_pause_secs", live.penalty_pause_secs, 1.0),
            ("live.md_renew_secs", live.md_renew_secs, 1.0),
        ] {
            if !v.is_finite() || v < min || v > MAX_LIVE_SECS {
                return Err(invalid(
                    key,
                    format!("must be between {min} s and 7 days, got {v}"),
                ));
            }
        }
        if live.warmup_bars > MAX_WARMUP_BARS {
            return Err(invalid(
                "live.warmup_bars",
                format!("at most {MAX_WARMUP_BARS}, got {}", live.warmup_bars),
            ));
        }
        for (k, inst) in self.instruments.iter().enumerate() {
            let mut i = inst.clone();
            i.prepare()
                .map_err(|e| invalid(&format!("instruments[{k}]"), e.to_string()))?;
            chrono_tz::Tz::from_str(&i.timezone).map_err(|_| {
                invalid(
                    &format!("instruments[{k}].timezone"),
                    format!("unknown time zone `{}`", i.timezone),
                )
            })?;
        }
        Ok(())
    }

    /// The exchange time zone (validated).
    pub fn timezone(&self) -> chrono_tz::Tz {
        chrono_tz::Tz::from_str(&self.data.timezone).unwrap_or(chrono_tz::America::New_York)
    }

    /// Resolve a data symbol to an instrument: configured first, then built-in.
    pub fn instrument_for(&self, symbol: &str, file: &str) -> Result<Instrument, ConfigError> {
        if let Some(i) = self.instruments.iter().find(|i| i.symbol == symbol) {
            let mut i = i.clone();
            i.prepare().map_err(|e| ConfigError::Invalid {
                path: file.to_string(),
                key: "instruments".into(),
                message: e.to_string(),
            })?;
            return Ok(i);
        }
        catalog::builtin(symbol).ok_or_else(|| ConfigError::UnknownSymbol {
            symbol: symbol.to_string(),
            file: file.to_string(),
            known: catalog::builtin_instruments()
                .iter()
                .map(|i| i.symbol.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })
    }
}

/// Apply `a.b.c=value` to `table`. The value is read as TOML (`3`, `1.5`, `true`, `"x"`,
/// `["a", "b"]`); anything that is not valid TOML is taken as a plain string.
pub fn apply_override(table: &mut toml::Table, arg: &str) -> Result<(), ConfigError> {
    let bad = || ConfigError::BadOverride {
        arg: arg.to_string(),
    };
    let (key, raw) = arg.split_once('=').ok_or_else(bad)?;
    let key = key.trim();
    if key.is_empty() || key.split('.').any(|p| p.trim().is_empty()) {
        return Err(bad());
    }
    let value = format!("v = {}", raw.trim())
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.trim().to_string()));
    let parts: Vec<&str> = key.split('.').map(str::trim).collect();
    let mut cur = table;
    for part in &parts[..parts.len() - 1] {
        let entry = cur
            .entry(part.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        cur = entry.as_table_mut().ok_or_else(bad)?;
    }
    cur.insert(parts[parts.len() - 1].to_string(), value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, sets: &[&str]) -> Result<AppConfig, ConfigError> {
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        AppConfig::parse(text, "test.toml", &sets)
    }

    #[test]
    fn default_config_parses() {
        let mut cfg = parse(DEFAULT_CONFIG, &[]).unwrap();
        assert_eq!(cfg.strategy.name, "ema_cross");
        assert!(!cfg.data.paths.is_empty());
        // Backtests run without limits that would change results; paper and live keep
        // protective ones.
        assert_eq!(cfg.risk.max_order_quantity, None);
        assert_eq!(cfg.risk.max_drawdown, None);
        let live_risk = cfg
            .live
            .risk
            .take()
            .expect("[live.risk] in the bundled config");
        assert!(live_risk.max_order_quantity.is_some() && live_risk.max_drawdown.is_some());
        assert_eq!(live_risk.account, cfg.risk.account);
        assert_eq!(
            cfg.live,
            LiveSection::default(),
            "config/default.toml's [live] documents the defaults"
        );
    }

    #[test]
    fn overrides_by_dotted_path() {
        let cfg = parse(
            "[strategy]\nname = \"ema_cross\"\n",
            &[
                "broker.fill=close",
                "strategy.params.fast=5",
                "portfolio.cash=5000",
                "risk.max_order_quantity=10",
            ],
        )
        .unwrap();
        assert_eq!(cfg.broker.fill, crate::broker::FillMode::Close);
        assert_eq!(
            cfg.strategy.params.get("fast").and_then(|v| v.as_integer()),
            Some(5)
        );
        assert_eq!(cfg.portfolio.cash, Decimal::from(5000));
        assert_eq!(cfg.risk.max_order_quantity, Some(Decimal::from(10)));
    }

    #[test]
    fn errors_name_the_key() {
        let base = "[strategy]\nname = \"ema_cross\"\n";
        let e = parse(base, &["broker.fil=close"]).unwrap_err().to_string();
        assert!(
            e.starts_with("test.toml: broker.fil: unknown field `fil`, expected one of `fill`"),
            "{e}"
        );
        let e = parse(base, &["broker.fill=sometimes"])
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("test.toml: broker.fill: unknown variant `sometimes`"),
            "{e}"
        );
        let e = parse(base, &["portfolio.cash=-1"]).unwrap_err().to_string();
        assert_eq!(e, "test.toml: portfolio.cash: must be positive, got -1");
        let e = parse(base, &["data.timezone=Mars/Base"])
            .unwrap_err()
            .to_string();
        assert_eq!(e, "test.toml: data.timezone: unknown time zone `Mars/Base`");
        let e = parse(base, &["nokey"]).unwrap_err().to_string();
        assert!(e.contains("expected KEY=VALUE"), "{e}");
        let e = parse("[strategy\n", &[]).unwrap_err().to_string();
        assert!(e.starts_with("test.toml: invalid TOML"), "{e}");
        let e = parse("", &[]).unwrap_err().to_string();
        assert!(e.contains("missing field `strategy`"), "{e}");
    }
}
