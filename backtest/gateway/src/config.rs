//! `GatewayConfig`: everything the emulator can be told, loaded from TOML
//! (`config/gateway.toml` is the commented template).

use std::path::{Path, PathBuf};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use tickline_backtest::broker::{BrokerConfig, FillMode};
use tickline_backtest::commission::CommissionModel;
use tickline_engine::domain::SecType;

use crate::error::GatewayError;
use crate::faults::Faults;
use crate::prompts::PromptRule;

/// The whole emulator configuration. Every section has defaults, so an empty file (or
/// `GatewayConfig::default()`) is a working gateway with one paper account and the built-in
/// instruments.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GatewayConfig {
    /// Seed of every random choice (prices, sizes, ids, injected faults).
    pub seed: u64,
    /// Serve HTTPS/WSS with a self-signed certificate generated at start-up.
    pub tls: bool,
    pub session: SessionConfig,
    pub accounts: Vec<AccountConfig>,
    pub market: MarketConfig,
    /// The instrument universe; empty = the built-in AAPL, MSFT, SPY, QQQ, IWM, ES, EUR.USD.
    pub instruments: Vec<InstrumentConfig>,
    pub broker: BrokerSettings,
    /// Order prompt rules (IBKR's question / reply flow).
    pub prompts: Vec<PromptRule>,
    pub faults: Faults,
    pub websocket: WsConfig,
    /// OAuth 1.0a mode: the directory of the consumer's keys and tokens (generated when
    /// missing); every request must then be signed and is verified as IBKR does.
    pub oauth: Option<PathBuf>,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            seed: 42,
            tls: false,
            session: SessionConfig::default(),
            accounts: vec![AccountConfig::default()],
            market: MarketConfig::default(),
            instruments: Vec::new(),
            broker: BrokerSettings::default(),
            prompts: PromptRule::defaults(),
            faults: Faults::default(),
            websocket: WsConfig::default(),
            oauth: None,
        }
    }
}

/// Where the session starts and how it behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InitialSession {
    /// Logged out: every endpoint answers 401 until `/control/session/login`.
    None,
    /// Read-only (SSO) session: `/iserver/*` needs `ssodh/init` first.
    Readonly,
    /// Brokerage session up but not primed: call `/iserver/accounts` first (the real
    /// gateway's state right after a browser login).
    #[default]
    Brokerage,
    /// Fully ready (primed), as if `/iserver/accounts` had been called.
    Ready,
}

/// `[session]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionConfig {
    pub initial: InitialSession,
    /// Enforce IBKR's priming calls (`/iserver/accounts`, `/portfolio/accounts`).
    pub require_priming: bool,
    /// Reply ids (order questions) expire after this many seconds.
    pub reply_ttl_secs: u64,
    pub user_name: String,
    pub user_id: u64,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            initial: InitialSession::Brokerage,
            require_priming: true,
            reply_ttl_secs: 30,
            user_name: "user1234".into(),
            user_id: 99996016,
        }
    }
}

/// `[[accounts]]`: one paper account.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AccountConfig {
    pub id: String,
    /// Starting cash in the base currency.
    pub cash: Decimal,
    pub currency: String,
    pub title: String,
}

impl Default for AccountConfig {
    fn default() -> Self {
        AccountConfig {
            id: "DU1234567".into(),
            cash: Decimal::from(1_000_000),
            currency: "USD".into(),
            title: "Tickline Paper".into(),
        }
    }
}

/// How the market advances.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MarketMode {
    /// Only `POST /control/market/step` moves prices (fully deterministic tests).
    Manual,
    /// A step every `step_ms / speed` of wall time (real time at speed 1, accelerated above).
    #[default]
    Timed,
}

/// `[market]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MarketConfig {
    pub mode: MarketMode,
    /// Simulated milliseconds per step (each step is one bar per instrument fed to the
    /// simulated broker). When replaying, a step is the next timestamp of the files and the
    /// timed pace is their bar length divided by `speed`.
    pub step_ms: u64,
    /// Simulated time per wall time in timed mode (1 = real time, 60 = a minute per second).
    pub speed: f64,
    /// Simulated start time (RFC 3339, e.g. `2024-01-02T14:30:00Z`) or `now`. Default: `now`
    /// in timed mode, 2024-01-02T14:30:00Z (09:30 New York) in manual mode.
    pub start: Option<String>,
    /// Resolution of the stored history (seconds); history requests use multiples of it.
    pub history_bar_secs: u64,
    /// Days of simulated history generated before the start.
    pub history_days: u32,
    /// Bar files (CSV / Parquet) to replay instead of simulating.
    pub data: Vec<PathBuf>,
    /// Replay: bars consumed as history before the replay starts.
    pub replay_warmup: usize,
    /// Replay: time zone of timestamps without an offset.
    pub replay_timezone: String,
}

impl Default for MarketConfig {
    fn default() -> Self {
        MarketConfig {
            mode: MarketMode::Timed,
            step_ms: 1000,
            speed: 1.0,
            start: None,
            history_bar_secs: 60,
            history_days: 5,
            data: Vec::new(),
            replay_warmup: 0,
            replay_timezone: "America/New_York".into(),
        }
    }
}

/// `[[instruments]]`: a built-in symbol (optionally with overrides) or a full definition.
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InstrumentConfig {
    pub symbol: String,
    pub conid: Option<i64>,
    pub sec_type: Option<SecType>,
    pub exchange: Option<String>,
    pub currency: Option<String>,
    pub tick_size: Option<Decimal>,
    pub lot_size: Option<Decimal>,
    pub multiplier: Option<Decimal>,
    pub timezone: Option<String>,
    /// Company / contract name shown by the contract endpoints.
    pub name: Option<String>,
    /// Starting price of the simulated walk.
    pub price: Option<f64>,
    /// Annualised volatility of the simulated walk (0.25 = 25 %).
    pub volatility: Option<f64>,
    /// Mean volume per step.
    pub volume: Option<f64>,
    /// Conid of the underlying (futures: the index).
    pub underlying_conid: Option<i64>,
}

/// `[broker]`: the simulated broker's fill settings (the matching engine of the backtester).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BrokerSettings {
    /// `close`: market orders fill at once at the last price; `next-open`: at the next step.
    pub fill: FillMode,
    pub commission: CommissionModel,
    pub slippage_bps: Decimal,
    pub slippage_ticks: Decimal,
    pub max_volume_participation: Option<f64>,
}

impl Default for BrokerSettings {
    fn default() -> Self {
        BrokerSettings {
            fill: FillMode::Close,
            commission: CommissionModel::IbkrFixed,
            slippage_bps: Decimal::ZERO,
            slippage_ticks: Decimal::ZERO,
            max_volume_participation: None,
        }
    }
}

impl BrokerSettings {
    /// The simulated broker configuration (never with prompt rules: the emulator runs IBKR's
    /// prompt flow itself at the HTTP level).
    pub fn broker_config(&self) -> BrokerConfig {
        BrokerConfig {
            fill: self.fill,
            commission: self.commission,
            slippage_bps: self.slippage_bps,
            slippage_ticks: self.slippage_ticks,
            max_volume_participation: self.max_volume_participation,
            prompts: Vec::new(),
        }
    }
}

/// `[websocket]`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WsConfig {
    /// `{"topic":"system","hb":…}` interval.
    pub heartbeat_ms: u64,
    /// Minimum wall time between two `spl` frames.
    pub pnl_interval_ms: u64,
    /// Updates a websocket client may fall behind by; one that falls further behind is sent
    /// the current state again (orders, executions, quotes) instead of what it missed.
    pub push_buffer: usize,
}

impl Default for WsConfig {
    fn default() -> Self {
        WsConfig {
            heartbeat_ms: 10_000,
            pnl_interval_ms: 1_000,
            push_buffer: 1024,
        }
    }
}

impl GatewayConfig {
    /// Parse TOML text; `origin` names the source in errors.
    pub fn from_toml_str(text: &str, origin: &str) -> Result<GatewayConfig, GatewayError> {
        let de = toml::Deserializer::parse(text).map_err(|e| GatewayError::ConfigParse {
            origin: origin.to_string(),
            message: e.to_string(),
        })?;
        let cfg: GatewayConfig =
            serde_path_to_error::deserialize(de).map_err(|e| GatewayError::ConfigParse {
                origin: origin.to_string(),
                message: format!("{}: {}", e.path(), e.inner()),
            })?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Read and parse a TOML file.
    pub fn from_file(path: &Path) -> Result<GatewayConfig, GatewayError> {
        let text = std::fs::read_to_string(path).map_err(|source| GatewayError::ConfigRead {
            path: path.to_path_buf(),
            source,
        })?;
        GatewayConfig::from_toml_str(&text, &path.display().to_string())
    }

    /// Check values that parse but cannot work.
    pub fn validate(&self) -> Result<(), GatewayError> {
        if self.accounts.is_empty() {
            return Err(GatewayError::value(
                "accounts",
                "at least one account is required",
            ));
        }
        for (i, a) in self.accounts.iter().enumerate() {
            if a.id.trim().is_empty() || !a.id.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(GatewayError::value(
                    format!("accounts[{i}].id"),
                    format!("must be non-empty ASCII letters and digits, got {:?}", a.id),
                ));
            }
            if a.cash < Decimal::ZERO {
                return Err(GatewayError::value(
                    format!("accounts[{i}].cash"),
                    "must not be negative",
                ));
            }
            if self.accounts[..i].iter().any(|b| b.id == a.id) {
                return Err(GatewayError::value(
                    format!("accounts[{i}].id"),
                    format!("duplicate account {}", a.id),
                ));
            }
        }
        if !(1..=86_400_000).contains(&self.market.step_ms) {
            return Err(GatewayError::value(
                "market.step_ms",
                "must be within 1..86400000 (one day)",
            ));
        }
        if !(self.market.speed.is_finite() && (0.001..=1_000_000.0).contains(&self.market.speed)) {
            return Err(GatewayError::value(
                "market.speed",
                "must be within 0.001..1000000",
            ));
        }
        if !(1..=86_400 * 30).contains(&self.market.history_bar_secs) {
            return Err(GatewayError::value(
                "market.history_bar_secs",
                "must be within 1..2592000",
            ));
        }
        if self.market.history_days > 3_660 {
            return Err(GatewayError::value("market.history_days", "at most 3660"));
        }
        let stored = u64::from(self.market.history_days) * 86_400 / self.market.history_bar_secs;
        if stored > 1_000_000 {
            return Err(GatewayError::value(
                "market.history_days",
                format!(
                    "{stored} history bars per instrument; at most 1000000 (raise history_bar_secs)"
                ),
            ));
        }
        if self.session.reply_ttl_secs == 0 {
            return Err(GatewayError::value(
                "session.reply_ttl_secs",
                "must be positive",
            ));
        }
        if !(1..=3_600_000).contains(&self.websocket.heartbeat_ms) {
            return Err(GatewayError::value(
                "websocket.heartbeat_ms",
                "must be within 1..3600000",
            ));
        }
        if !(1..=1_000_000).contains(&self.websocket.push_buffer) {
            return Err(GatewayError::value(
                "websocket.push_buffer",
                "must be within 1..1000000",
            ));
        }
        if self.session.reply_ttl_secs > 86_400 {
            return Err(GatewayError::value(
                "session.reply_ttl_secs",
                "at most 86400",
            ));
        }
        if let Some(p) = self.broker.max_volume_participation
            && !(p > 0.0 && p <= 1.0)
        {
            return Err(GatewayError::value(
                "broker.max_volume_participation",
                "must be in (0, 1]",
            ));
        }
        for (i, r) in self.prompts.iter().enumerate() {
            r.validate()
                .map_err(|m| GatewayError::value(format!("prompts[{i}]"), m))?;
        }
        self.faults
            .validate()
            .map_err(|(k, m)| GatewayError::value(format!("faults.{k}"), m))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_is_the_default() {
        let cfg = GatewayConfig::from_toml_str("", "test").unwrap();
        assert_eq!(cfg, GatewayConfig::default());
    }

    #[test]
    fn unknown_keys_are_named() {
        let err =
            GatewayConfig::from_toml_str("[market]\nmode = \"manual\"\nbogus = 1\n", "t.toml")
                .unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("t.toml") && msg.contains("bogus"), "{msg}");
    }

    #[test]
    fn bad_values_are_named() {
        let err = GatewayConfig::from_toml_str("[market]\nspeed = -1.0\n", "t").unwrap_err();
        assert!(err.to_string().contains("market.speed"), "{err}");
        let err = GatewayConfig::from_toml_str("[[accounts]]\nid = \"\"\n", "t").unwrap_err();
        assert!(err.to_string().contains("accounts[0].id"), "{err}");
    }

    #[test]
    fn the_template_parses() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/gateway.toml");
        let cfg = GatewayConfig::from_file(&path).unwrap();
        assert!(!cfg.accounts.is_empty());
        // The template documents every fault switch, each at its default.
        assert_eq!(cfg.faults, crate::faults::Faults::default());
        let text = std::fs::read_to_string(&path).unwrap();
        let start = text
            .find("\n[faults]\n")
            .expect("config/gateway.toml has [faults]")
            + 1;
        let rest = &text[start..];
        let section = &rest[..rest[1..].find("\n[").map_or(rest.len(), |end| end + 1)];
        let defaults = serde_json::to_value(crate::faults::Faults::default()).unwrap();
        for key in defaults.as_object().unwrap().keys() {
            let documented = if key == "schedule" {
                section.contains("[[faults.schedule]]")
            } else {
                section.contains(&format!("\n{key} = ")) || section.contains(&format!("# {key} = "))
            };
            assert!(
                documented,
                "config/gateway.toml [faults] does not document {key}"
            );
        }
    }
}
