//! Contracts: search, details, rules, secdef, strikes, stocks and futures (reference §8).

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::lenient;
use super::portfolio::IncrementRule;

/// A section of a search result (`secType` with its months and exchanges).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SearchSection {
    #[serde(deserialize_with = "lenient::opt_string")]
    pub sec_type: Option<String>,
    /// `;`-separated `MMMYY` months.
    #[serde(deserialize_with = "lenient::opt_string")]
    pub months: Option<String>,
    /// `;`-separated exchanges.
    #[serde(deserialize_with = "lenient::opt_string")]
    pub exchange: Option<String>,
    #[serde(deserialize_with = "lenient::opt_i64")]
    pub conid: Option<i64>,
}

impl SearchSection {
    /// Months as a list.
    pub fn month_list(&self) -> Vec<&str> {
        split_semicolons(self.months.as_deref())
    }
}

/// A bond issuer of a search result.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Issuer {
    #[serde(deserialize_with = "lenient::string")]
    pub id: String,
    #[serde(deserialize_with = "lenient::string")]
    pub name: String,
}

/// One match of `/iserver/secdef/search`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SecdefSearchResult {
    /// A string in this endpoint; parsed to an integer.
    #[serde(deserialize_with = "lenient::opt_i64")]
    pub conid: Option<i64>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub company_header: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub company_name: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub symbol: Option<String>,
    /// Exchange.
    #[serde(deserialize_with = "lenient::opt_string")]
    pub description: Option<String>,
    pub restricted: Option<serde_json::Value>,
    /// `;`-separated expiries.
    #[serde(deserialize_with = "lenient::opt_string")]
    pub fop: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub opt: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub war: Option<String>,
    #[serde(deserialize_with = "lenient::null_vec")]
    pub sections: Vec<SearchSection>,
    #[serde(deserialize_with = "lenient::null_vec")]
    pub issuers: Vec<Issuer>,
    #[serde(deserialize_with = "lenient::opt_i64")]
    pub bondid: Option<i64>,
}

impl SecdefSearchResult {
    /// Option expiries (`YYYYMMDD`).
    pub fn option_expiries(&self) -> Vec<&str> {
        split_semicolons(self.opt.as_deref())
    }

    /// The section for a security type.
    pub fn section(&self, sec_type: &str) -> Option<&SearchSection> {
        self.sections
            .iter()
            .find(|s| s.sec_type.as_deref() == Some(sec_type))
    }
}

fn split_semicolons(s: Option<&str>) -> Vec<&str> {
    s.map(|s| s.split(';').filter(|p| !p.is_empty()).collect())
        .unwrap_or_default()
}

/// Parameters of `/iserver/secdef/search` (query for GET, body for POST).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecdefSearchRequest {
    pub symbol: String,
    /// `STK`, `IND`, `BOND`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sec_type: Option<String>,
    /// Search by company name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub more: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fund: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fund_family_conid_ex: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pattern: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub referrer: Option<String>,
}

impl SecdefSearchRequest {
    /// Search by symbol.
    pub fn symbol(symbol: impl Into<String>) -> Self {
        SecdefSearchRequest {
            symbol: symbol.into(),
            ..Default::default()
        }
    }
}

/// Order-entry rules (`POST /iserver/contract/rules`, `rules` of info-and-rules).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ContractRules {
    #[serde(deserialize_with = "lenient::null_vec")]
    pub order_types: Vec<String>,
    #[serde(deserialize_with = "lenient::null_vec")]
    pub order_types_outside: Vec<String>,
    #[serde(deserialize_with = "lenient::null_vec")]
    pub tif_types: Vec<String>,
    pub tif_defaults: Option<serde_json::Value>,
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub default_size: Option<Decimal>,
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub size_increment: Option<Decimal>,
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub cash_size: Option<Decimal>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub cash_ccy: Option<String>,
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub cash_qty_incr: Option<Decimal>,
    #[serde(deserialize_with = "lenient::null_vec")]
    pub fraq_types: Vec<String>,
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub fraq_int: Option<Decimal>,
    #[serde(deserialize_with = "lenient::null_vec")]
    pub cqt_types: Vec<String>,
    #[serde(deserialize_with = "lenient::null_vec")]
    pub ib_algo_types: Vec<String>,
    #[serde(deserialize_with = "lenient::opt_bool")]
    pub algo_eligible: Option<bool>,
    #[serde(deserialize_with = "lenient::opt_bool")]
    pub all_or_none_eligible: Option<bool>,
    #[serde(deserialize_with = "lenient::null_vec")]
    pub can_trade_acct_ids: Vec<String>,
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub limit_price: Option<Decimal>,
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub stop_price: Option<Decimal>,
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub increment: Option<Decimal>,
    #[serde(deserialize_with = "lenient::opt_i64")]
    pub increment_digits: Option<i64>,
    #[serde(deserialize_with = "lenient::opt_i64")]
    pub increment_type: Option<i64>,
    #[serde(deserialize_with = "lenient::null_vec")]
    pub increment_rules: Vec<IncrementRule>,
    #[serde(deserialize_with = "lenient::opt_i64")]
    pub price_magnifier: Option<i64>,
    #[serde(deserialize_with = "lenient::opt_bool")]
    pub negative_capable: Option<bool>,
    #[serde(deserialize_with = "lenient::opt_bool")]
    pub force_order_preview: Option<bool>,
    #[serde(deserialize_with = "lenient::opt_bool")]
    pub preview: Option<bool>,
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub display_size: Option<Decimal>,
    #[serde(deserialize_with = "lenient::opt_bool")]
    pub has_secondary: Option<bool>,
    #[serde(deserialize_with = "lenient::null_vec")]
    pub mod_types: Vec<String>,
    pub order_defaults: Option<serde_json::Value>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub order_origination: Option<String>,
    pub cost_report: Option<serde_json::Value>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub error: Option<String>,
}

impl ContractRules {
    /// The tick for `price`: the rule with the greatest `lowerEdge` ≤ price, else the plain
    /// `increment`.
    pub fn tick_for(&self, price: Decimal) -> Option<Decimal> {
        self.increment_rules
            .iter()
            .filter(|r| r.lower_edge.is_some_and(|e| e <= price))
            .max_by_key(|r| r.lower_edge)
            .and_then(|r| r.increment)
            .or(self.increment)
    }
}

/// Body of `POST /iserver/contract/rules`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContractRulesRequest {
    pub conid: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_buy: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modify_order: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_id: Option<i64>,
}

/// `GET /iserver/contract/{conid}/info` (and `info-and-rules`, which adds `rules`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ContractInfo {
    #[serde(deserialize_with = "lenient::i64")]
    pub con_id: i64,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub symbol: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub instrument_type: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub company_name: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub local_symbol: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub trading_class: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub exchange: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub valid_exchanges: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub currency: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub multiplier: Option<Decimal>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub expiry_full: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub maturity_date: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_decimal")]
    pub strike: Option<Decimal>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub right: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub contract_month: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub underlying_con_id: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub industry: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub category: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub cusip: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub cfi_code: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub r_t_h: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub smart_available: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub allow_sell_long: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub is_zero_commission_security: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub text: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub classifier: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub contract_clarification_type: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub underlying_issuer: Option<String>,
    /// Present in `info-and-rules`.
    #[serde(default)]
    pub rules: Option<ContractRules>,
}

/// Query of `GET /iserver/secdef/info`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SecdefInfoQuery {
    pub conid: Option<i64>,
    /// `OPT`, `FOP`, `WAR`, `BOND`, …
    pub sectype: Option<String>,
    /// `MMMYY`.
    pub month: Option<String>,
    pub exchange: Option<String>,
    pub strike: Option<Decimal>,
    /// `C` / `P`.
    pub right: Option<String>,
    pub issuer_id: Option<String>,
    pub filters: Option<String>,
}

/// One contract of `GET /iserver/secdef/info`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SecdefInfo {
    #[serde(deserialize_with = "lenient::opt_i64")]
    pub conid: Option<i64>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub ticker: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub sec_type: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub listing_exchange: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub exchange: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub company_name: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub currency: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub valid_exchanges: Option<String>,
    pub price_rendering: Option<serde_json::Value>,
    /// `YYYYMMDD`.
    #[serde(deserialize_with = "lenient::opt_string")]
    pub maturity_date: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub right: Option<String>,
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub strike: Option<Decimal>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub desc1: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub desc2: Option<String>,
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub multiplier: Option<Decimal>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub trading_class: Option<String>,
}

/// Query of `GET /iserver/secdef/strikes`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StrikesQuery {
    pub conid: i64,
    pub sectype: String,
    /// `MMMYY`.
    pub month: String,
    pub exchange: Option<String>,
}

/// `GET /iserver/secdef/strikes`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Strikes {
    #[serde(deserialize_with = "lenient::decimal_vec")]
    pub call: Vec<Decimal>,
    #[serde(deserialize_with = "lenient::decimal_vec")]
    pub put: Vec<Decimal>,
}

/// One item of `GET /trsrv/all-conids`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExchangeConid {
    #[serde(deserialize_with = "lenient::opt_string")]
    pub ticker: Option<String>,
    #[serde(deserialize_with = "lenient::opt_i64")]
    pub conid: Option<i64>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub exchange: Option<String>,
}

/// A futures contract of `GET /trsrv/futures` (dates are `YYYYMMDD` integers).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct FutureContract {
    #[serde(deserialize_with = "lenient::opt_string")]
    pub symbol: Option<String>,
    #[serde(deserialize_with = "lenient::opt_i64")]
    pub conid: Option<i64>,
    #[serde(deserialize_with = "lenient::opt_i64")]
    pub underlying_conid: Option<i64>,
    #[serde(deserialize_with = "lenient::opt_i64")]
    pub expiration_date: Option<i64>,
    #[serde(deserialize_with = "lenient::opt_i64")]
    pub ltd: Option<i64>,
    #[serde(deserialize_with = "lenient::opt_i64")]
    pub short_futures_cut_off: Option<i64>,
    #[serde(deserialize_with = "lenient::opt_i64")]
    pub long_futures_cut_off: Option<i64>,
}

/// `GET /trsrv/futures`: symbol → contracts.
pub type FuturesBySymbol = BTreeMap<String, Vec<FutureContract>>;

/// A listing of a stock in `GET /trsrv/stocks`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct StockContract {
    #[serde(deserialize_with = "lenient::opt_i64")]
    pub conid: Option<i64>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub exchange: Option<String>,
    #[serde(rename = "isUS", deserialize_with = "lenient::opt_bool")]
    pub is_us: Option<bool>,
}

/// One entry of `GET /trsrv/stocks`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct StockEntry {
    #[serde(deserialize_with = "lenient::opt_string")]
    pub name: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub chinese_name: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub asset_class: Option<String>,
    #[serde(deserialize_with = "lenient::null_vec")]
    pub contracts: Vec<StockContract>,
}

/// `GET /trsrv/stocks`: symbol → entries.
pub type StocksBySymbol = BTreeMap<String, Vec<StockEntry>>;

/// A security definition of `GET /trsrv/secdef`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Secdef {
    #[serde(deserialize_with = "lenient::opt_i64")]
    pub conid: Option<i64>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub currency: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub name: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub asset_class: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub ticker: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub listing_exchange: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub all_exchanges: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub country_code: Option<String>,
    #[serde(deserialize_with = "lenient::null_vec")]
    pub increment_rules: Vec<IncrementRule>,
    pub display_rule: Option<serde_json::Value>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub expiry: Option<String>,
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub strike: Option<Decimal>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub put_or_call: Option<String>,
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub multiplier: Option<Decimal>,
    #[serde(deserialize_with = "lenient::opt_i64")]
    pub und_conid: Option<i64>,
    #[serde(deserialize_with = "lenient::opt_bool")]
    pub has_options: Option<bool>,
    #[serde(rename = "isUS", deserialize_with = "lenient::opt_bool")]
    pub is_us: Option<bool>,
    #[serde(deserialize_with = "lenient::opt_bool")]
    pub is_event_contract: Option<bool>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub last_trading_day: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub full_name: Option<String>,
}

/// `GET /trsrv/secdef` (an empty `secdef` list when IBKR answers 204).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SecdefResponse {
    #[serde(deserialize_with = "lenient::null_vec")]
    pub secdef: Vec<Secdef>,
}

/// `GET /iserver/exchangerate`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExchangeRate {
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub rate: Option<Decimal>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_samples::sample;
    use rust_decimal::dec;

    #[test]
    fn search_sample() {
        let r: Vec<SecdefSearchResult> =
            serde_json::from_str(&sample("secdef_search.json")).expect("search");
        assert_eq!(r[0].conid, Some(8314));
        assert_eq!(r[0].option_expiries().len(), 15);
        assert_eq!(r[0].section("OPT").map(|s| s.month_list().len()), Some(10));
        assert_eq!(r[2].issuers.len(), 4);
        assert_eq!(r[2].bondid, Some(5));
    }

    #[test]
    fn tick_for_price_band() {
        let rules = ContractRules {
            increment_rules: vec![
                IncrementRule {
                    lower_edge: Some(dec!(0)),
                    increment: Some(dec!(0.0001)),
                },
                IncrementRule {
                    lower_edge: Some(dec!(1)),
                    increment: Some(dec!(0.01)),
                },
            ],
            ..Default::default()
        };
        assert_eq!(rules.tick_for(dec!(0.5)), Some(dec!(0.0001)));
        assert_eq!(rules.tick_for(dec!(150)), Some(dec!(0.01)));
    }
}
