//! The instrument universe as contracts: the engine's [`Instrument`] plus what the contract
//! endpoints show (names, listing exchange, underlying, expiry) and the walk parameters.

use std::collections::HashMap;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate, Weekday};
use rust_decimal::Decimal;

use tickline_engine::domain::catalog::builtin_instruments;
use tickline_engine::domain::{Instrument, InstrumentId, SecType, Ts};

use crate::config::InstrumentConfig;
use crate::error::GatewayError;

/// One tradable contract.
#[derive(Clone, Debug)]
pub struct Contract {
    /// The engine instrument; `inst.id` is the contract's index in the universe.
    pub inst: Instrument,
    pub conid: i64,
    pub name: String,
    pub underlying_conid: Option<i64>,
    /// Futures: expiry (last trading day).
    pub expiry: Option<NaiveDate>,
    /// Local symbol (e.g. `ESH4`); the symbol for stocks and FX.
    pub local_symbol: String,
    /// Decimal places of prices (from the tick size).
    pub decimals: u32,
    pub start_price: f64,
    pub volatility: f64,
    pub mean_volume: f64,
}

impl Contract {
    pub fn symbol(&self) -> &str {
        &self.inst.symbol
    }

    pub fn sec_type(&self) -> &'static str {
        self.inst.sec_type.as_str()
    }

    /// Exchanges a contract may be routed to.
    pub fn valid_exchanges(&self) -> String {
        match self.inst.sec_type {
            SecType::Stk => format!("SMART,{},ARCA,BATS,IEX,ISLAND", self.inst.exchange),
            _ => self.inst.exchange.clone(),
        }
    }

    /// `MAR24`-style contract month (futures).
    pub fn contract_month(&self) -> Option<String> {
        self.expiry
            .map(|d| format!("{}{:02}", month_abbrev(d.month()), d.year() % 100))
    }

    /// Format a price with the contract's decimals.
    pub fn fmt_price(&self, px: f64) -> String {
        match self.inst.price_from_f64(px) {
            Some(d) => format!("{:.*}", self.decimals as usize, self.inst.round_price(d)),
            None => String::new(),
        }
    }

    /// Round an f64 price to the tick, as Decimal.
    pub fn price(&self, px: f64) -> Option<Decimal> {
        self.inst
            .price_from_f64(px)
            .map(|d| self.inst.round_price(d))
    }

    /// Is `ts` inside the contract's regular (liquid) trading hours?
    pub fn is_rth(&self, ts: Ts) -> bool {
        crate::schedule::is_liquid(self, ts)
    }

    pub fn tz(&self) -> chrono_tz::Tz {
        chrono_tz::Tz::from_str(&self.inst.timezone).unwrap_or(chrono_tz::UTC)
    }
}

fn month_abbrev(m: u32) -> &'static str {
    const M: [&str; 12] = [
        "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
    ];
    M[(m.clamp(1, 12) - 1) as usize]
}

/// Walk parameters and names of the built-in symbols.
fn builtin_meta(symbol: &str) -> Option<(&'static str, f64, f64, f64, Option<i64>)> {
    Some(match symbol {
        "AAPL" => ("APPLE INC", 190.0, 0.25, 2_000.0, None),
        "MSFT" => ("MICROSOFT CORP", 375.0, 0.24, 1_500.0, None),
        "SPY" => ("SPDR S&P 500 ETF TRUST", 475.0, 0.15, 5_000.0, None),
        "QQQ" => ("INVESCO QQQ TRUST SERIES 1", 410.0, 0.2, 3_000.0, None),
        "IWM" => ("ISHARES RUSSELL 2000 ETF", 200.0, 0.22, 2_500.0, None),
        "ES" => ("E-mini S&P 500", 4_750.0, 0.15, 800.0, Some(11004968)),
        "EUR.USD" => (
            "European Monetary Union Euro",
            1.1,
            0.07,
            10_000_000.0,
            None,
        ),
        "SYN" | "SYNTH" => ("SYNTHETIC STOCK", 100.0, 0.2, 2_000.0, None),
        _ => return None,
    })
}

/// The default universe: the built-in AAPL, MSFT, SPY, QQQ, IWM, ES and EUR.USD.
const DEFAULT_SYMBOLS: [&str; 7] = ["AAPL", "MSFT", "SPY", "QQQ", "IWM", "ES", "EUR.USD"];

fn default_configs() -> Vec<InstrumentConfig> {
    let builtins = builtin_instruments();
    DEFAULT_SYMBOLS
        .iter()
        .filter(|s| builtins.iter().any(|i| i.symbol == **s))
        .map(|s| InstrumentConfig {
            symbol: s.to_string(),
            ..InstrumentConfig::default()
        })
        .collect()
}

/// Third Friday of the quarterly month (Mar/Jun/Sep/Dec) on or after `date`'s month whose
/// third Friday is after `date`: the front quarterly future's expiry.
fn front_quarterly_expiry(date: NaiveDate) -> NaiveDate {
    let mut y = date.year();
    let mut m = date.month();
    loop {
        if m.is_multiple_of(3) {
            let first = NaiveDate::from_ymd_opt(y, m, 1).unwrap_or(date);
            let offset = (7 + Weekday::Fri.num_days_from_monday() as i64
                - first.weekday().num_days_from_monday() as i64)
                % 7;
            let third = first + chrono::Duration::days(offset + 14);
            if third > date {
                return third;
            }
        }
        m += 1;
        if m > 12 {
            m = 1;
            y += 1;
        }
    }
}

/// Build the universe from config (built-in symbols by name, others fully defined).
/// `start` is the simulated start (futures expiries are chosen after it).
pub fn build_universe(
    configs: &[InstrumentConfig],
    start: Ts,
) -> Result<Vec<Contract>, GatewayError> {
    let defaults;
    let configs = if configs.is_empty() {
        defaults = default_configs();
        &defaults[..]
    } else {
        configs
    };
    let start_date = chrono::DateTime::from_timestamp_nanos(start).date_naive();
    let builtins = builtin_instruments();
    let mut out: Vec<Contract> = Vec::with_capacity(configs.len());
    let mut seen: HashMap<i64, usize> = HashMap::new();
    for (k, c) in configs.iter().enumerate() {
        let key = |f: &str| format!("instruments[{k}].{f}");
        let base = builtins.iter().find(|i| i.symbol == c.symbol).cloned();
        let mut inst = match base {
            Some(b) => b,
            None => {
                if c.conid.is_none() || c.sec_type.is_none() {
                    return Err(GatewayError::value(
                        key("symbol"),
                        format!("{:?} is not built in: give conid and sec_type", c.symbol),
                    ));
                }
                Instrument::stock(&c.symbol)
            }
        };
        if let Some(v) = c.conid {
            inst.conid = Some(v);
        }
        if let Some(v) = c.sec_type {
            inst.sec_type = v;
        }
        if let Some(v) = &c.exchange {
            inst.exchange = v.clone();
        }
        if let Some(v) = &c.currency {
            inst.currency = v.clone();
        }
        if let Some(v) = c.tick_size {
            inst.tick_size = v;
        }
        if let Some(v) = c.lot_size {
            inst.lot_size = v;
        }
        if let Some(v) = c.multiplier {
            inst.multiplier = v;
        }
        if let Some(v) = &c.timezone {
            if chrono_tz::Tz::from_str(v).is_err() {
                return Err(GatewayError::value(
                    key("timezone"),
                    format!("unknown time zone {v:?}"),
                ));
            }
            inst.timezone = v.clone();
        }
        if inst.multiplier > Decimal::from(1_000_000) {
            return Err(GatewayError::value(key("multiplier"), "at most 1000000"));
        }
        if inst.tick_size > Decimal::from(1_000) || inst.lot_size > Decimal::from(1_000_000) {
            return Err(GatewayError::value(
                key("tick_size"),
                "tick size at most 1000, lot size at most 1000000",
            ));
        }
        inst.id = InstrumentId(k as u32);
        inst.prepare()
            .map_err(|e| GatewayError::value(key("symbol"), e.to_string()))?;
        let conid = inst.conid.unwrap_or_default();
        if conid <= 0 {
            return Err(GatewayError::value(
                key("conid"),
                "must be a positive integer",
            ));
        }
        if let Some(prev) = seen.insert(conid, k) {
            return Err(GatewayError::value(
                key("conid"),
                format!("{conid} is also used by instruments[{prev}]"),
            ));
        }
        let meta = builtin_meta(&c.symbol);
        let price = c.price.or(meta.map(|m| m.1)).unwrap_or(100.0);
        if !(price.is_finite() && price > 0.0 && price <= 1e9) {
            return Err(GatewayError::value(
                key("price"),
                "must be a positive number up to 1e9",
            ));
        }
        let volatility = c.volatility.or(meta.map(|m| m.2)).unwrap_or(0.2);
        if !(volatility.is_finite() && (0.0..=10.0).contains(&volatility)) {
            return Err(GatewayError::value(
                key("volatility"),
                "must be within 0..10",
            ));
        }
        let mean_volume = c.volume.or(meta.map(|m| m.3)).unwrap_or(1_000.0);
        if !(mean_volume.is_finite() && (0.0..=1e12).contains(&mean_volume)) {
            return Err(GatewayError::value(key("volume"), "must be within 0..1e12"));
        }
        let expiry = (inst.sec_type == SecType::Fut).then(|| front_quarterly_expiry(start_date));
        let local_symbol = match expiry {
            Some(d) => {
                const CODES: [char; 12] =
                    ['F', 'G', 'H', 'J', 'K', 'M', 'N', 'Q', 'U', 'V', 'X', 'Z'];
                format!(
                    "{}{}{}",
                    inst.symbol,
                    CODES[(d.month() - 1) as usize],
                    d.year() % 10
                )
            }
            None => inst.symbol.clone(),
        };
        let decimals = inst.tick_size.normalize().scale();
        out.push(Contract {
            conid,
            name: c
                .name
                .clone()
                .or(meta.map(|m| m.0.to_string()))
                .unwrap_or_else(|| inst.symbol.clone()),
            underlying_conid: c.underlying_conid.or(meta.and_then(|m| m.4)),
            expiry,
            local_symbol,
            decimals,
            start_price: price,
            volatility,
            mean_volume,
            inst,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_universe_has_real_conids() {
        let u = build_universe(&[], 1_704_205_800_000_000_000).unwrap();
        let syms: Vec<_> = u.iter().map(|c| c.symbol()).collect();
        assert_eq!(syms, ["AAPL", "MSFT", "SPY", "QQQ", "IWM", "ES", "EUR.USD"]);
        assert_eq!(u[0].conid, 265598);
        let es = &u[5];
        assert_eq!(es.expiry, NaiveDate::from_ymd_opt(2024, 3, 15));
        assert_eq!(es.local_symbol, "ESH4");
        assert_eq!(es.contract_month().as_deref(), Some("MAR24"));
        assert_eq!(es.fmt_price(4750.3), "4750.25");
        assert_eq!(u[6].fmt_price(1.100012), "1.10000");
        assert_eq!(u[0].fmt_price(190.0), "190.00");
    }

    #[test]
    fn custom_instruments_need_conid_and_type() {
        let c = InstrumentConfig {
            symbol: "XYZ".into(),
            ..InstrumentConfig::default()
        };
        let err = build_universe(&[c], 0).unwrap_err();
        assert!(err.to_string().contains("instruments[0].symbol"), "{err}");
        let c = InstrumentConfig {
            symbol: "XYZ".into(),
            conid: Some(265598),
            sec_type: Some(SecType::Stk),
            ..InstrumentConfig::default()
        };
        let a = InstrumentConfig {
            symbol: "AAPL".into(),
            ..InstrumentConfig::default()
        };
        let err = build_universe(&[a, c], 0).unwrap_err();
        assert!(err.to_string().contains("instruments[1].conid"), "{err}");
    }
}
