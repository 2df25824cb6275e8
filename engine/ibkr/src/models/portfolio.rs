//! Portfolio endpoints: accounts, positions, summary, ledger.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::lenient;

/// An account of `/portfolio/accounts`, `/portfolio/subaccounts` and `/portfolio/{id}/meta`
/// (reference §9.2).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PortfolioAccount {
    #[serde(deserialize_with = "lenient::opt_string")]
    pub id: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub account_id: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub account_van: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub account_title: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub display_name: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub account_alias: Option<String>,
    /// Opening time, epoch ms.
    #[serde(deserialize_with = "lenient::opt_i64")]
    pub account_status: Option<i64>,
    /// Base currency.
    #[serde(deserialize_with = "lenient::opt_string")]
    pub currency: Option<String>,
    /// `DEMO`, `INDIVIDUAL`, …
    #[serde(rename = "type", deserialize_with = "lenient::opt_string")]
    pub account_type: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub trading_type: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub business_type: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub ib_entity: Option<String>,
    #[serde(
        rename = "faclient",
        alias = "faClient",
        deserialize_with = "lenient::opt_bool"
    )]
    pub fa_client: Option<bool>,
    /// `O` open, `P` pending, `N` new, `A` abandoned, `R` rejected, `C` closed.
    #[serde(deserialize_with = "lenient::opt_string")]
    pub clearing_status: Option<String>,
    #[serde(deserialize_with = "lenient::opt_bool")]
    pub covestor: Option<bool>,
    #[serde(deserialize_with = "lenient::opt_bool")]
    pub no_client_trading: Option<bool>,
    #[serde(
        rename = "trackVirtualFXPortfolio",
        deserialize_with = "lenient::opt_bool"
    )]
    pub track_virtual_fx_portfolio: Option<bool>,
    #[serde(deserialize_with = "lenient::opt_bool")]
    pub brokerage_access: Option<bool>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub acct_cust_type: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub category: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub desc: Option<String>,
    #[serde(rename = "PrepaidCrypto-Z", deserialize_with = "lenient::opt_bool")]
    pub prepaid_crypto_z: Option<bool>,
    #[serde(rename = "PrepaidCrypto-P", deserialize_with = "lenient::opt_bool")]
    pub prepaid_crypto_p: Option<bool>,
    /// `{mmc[], accountId, isMParent, isMChild, isMultiplex}`.
    pub parent: Option<serde_json::Value>,
}

impl PortfolioAccount {
    /// `accountId`, falling back to `id`.
    pub fn account(&self) -> Option<&str> {
        self.account_id.as_deref().or(self.id.as_deref())
    }
}

/// A price-increment band.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct IncrementRule {
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub lower_edge: Option<Decimal>,
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub increment: Option<Decimal>,
}

/// A position (reference §9.3). Quantities and money are decimals.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Position {
    #[serde(deserialize_with = "lenient::opt_string")]
    pub acct_id: Option<String>,
    #[serde(deserialize_with = "lenient::opt_i64")]
    pub conid: Option<i64>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub contract_desc: Option<String>,
    /// Signed quantity (negative = short).
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub position: Option<Decimal>,
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub mkt_price: Option<Decimal>,
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub mkt_value: Option<Decimal>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub currency: Option<String>,
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub avg_cost: Option<Decimal>,
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub avg_price: Option<Decimal>,
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub realized_pnl: Option<Decimal>,
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub unrealized_pnl: Option<Decimal>,
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub base_mkt_value: Option<Decimal>,
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub base_mkt_price: Option<Decimal>,
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub base_avg_cost: Option<Decimal>,
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub base_avg_price: Option<Decimal>,
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub base_unrealized_pnl: Option<Decimal>,
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub base_realized_pnl: Option<Decimal>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub asset_class: Option<String>,
    #[serde(rename = "type", deserialize_with = "lenient::opt_string")]
    pub kind: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub listing_exchange: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub all_exchanges: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub country_code: Option<String>,
    #[serde(rename = "isUS", deserialize_with = "lenient::opt_bool")]
    pub is_us: Option<bool>,
    #[serde(deserialize_with = "lenient::opt_bool")]
    pub is_event_contract: Option<bool>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub expiry: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub last_trading_day: Option<String>,
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub strike: Option<Decimal>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub put_or_call: Option<String>,
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub multiplier: Option<Decimal>,
    #[serde(deserialize_with = "lenient::opt_i64")]
    pub und_conid: Option<i64>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub und_sym: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub und_comp: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub exercise_style: Option<String>,
    #[serde(deserialize_with = "lenient::null_vec")]
    pub increment_rules: Vec<IncrementRule>,
    pub display_rule: Option<serde_json::Value>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub ticker: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub name: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub full_name: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub sector: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub sector_group: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub group: Option<String>,
    #[serde(deserialize_with = "lenient::opt_bool")]
    pub has_options: Option<bool>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub chinese_name: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub model: Option<String>,
    pub con_exch_map: Option<serde_json::Value>,
    pub exchs: Option<serde_json::Value>,
    #[serde(deserialize_with = "lenient::opt_bool")]
    pub cross_currency: Option<bool>,
    #[serde(deserialize_with = "lenient::opt_i64")]
    pub time: Option<i64>,
    #[serde(deserialize_with = "lenient::opt_i64")]
    pub page_size: Option<i64>,
}

/// Query of `GET /portfolio/{accountId}/positions/{pageId}`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PositionsQuery {
    pub model: Option<String>,
    /// Field name to sort by (default `name`).
    pub sort: Option<String>,
    /// `a` ascending or `d` descending.
    pub direction: Option<String>,
    /// Wait until contract details are attached.
    pub wait_for_sec_def: Option<bool>,
}

/// One value of `GET /portfolio/{accountId}/summary` (reference §9.4).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SummaryValue {
    /// Numeric value.
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub amount: Option<Decimal>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub currency: Option<String>,
    #[serde(deserialize_with = "lenient::bool")]
    pub is_null: bool,
    /// Epoch ms.
    #[serde(deserialize_with = "lenient::opt_i64")]
    pub timestamp: Option<i64>,
    /// Textual value.
    #[serde(deserialize_with = "lenient::opt_string")]
    pub value: Option<String>,
    #[serde(deserialize_with = "lenient::opt_i64")]
    pub severity: Option<i64>,
}

/// `GET /portfolio/{accountId}/summary`: lower-case key → value; `-c`/`-s` suffixes are the
/// commodities/securities segments.
pub type PortfolioSummary = BTreeMap<String, SummaryValue>;

/// One currency of `GET /portfolio/{accountId}/ledger` (reference §9.5).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LedgerEntry {
    #[serde(deserialize_with = "lenient::opt_string")]
    pub acctcode: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub currency: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub key: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub secondkey: Option<String>,
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub cashbalance: Option<Decimal>,
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub settledcash: Option<Decimal>,
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub cashbalancefxsegment: Option<Decimal>,
    /// Rate to the base currency.
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub exchangerate: Option<Decimal>,
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub netliquidationvalue: Option<Decimal>,
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub stockmarketvalue: Option<Decimal>,
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub stockoptionmarketvalue: Option<Decimal>,
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub futuremarketvalue: Option<Decimal>,
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub futureoptionmarketvalue: Option<Decimal>,
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub futuresonlypnl: Option<Decimal>,
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub commoditymarketvalue: Option<Decimal>,
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub corporatebondsmarketvalue: Option<Decimal>,
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub tbondsmarketvalue: Option<Decimal>,
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub tbillsmarketvalue: Option<Decimal>,
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub warrantsmarketvalue: Option<Decimal>,
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub issueroptionsmarketvalue: Option<Decimal>,
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub cryptocurrencyvalue: Option<Decimal>,
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub moneyfunds: Option<Decimal>,
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub funds: Option<Decimal>,
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub interest: Option<Decimal>,
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub dividends: Option<Decimal>,
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub realizedpnl: Option<Decimal>,
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub unrealizedpnl: Option<Decimal>,
    #[serde(deserialize_with = "lenient::opt_i64")]
    pub sessionid: Option<i64>,
    #[serde(deserialize_with = "lenient::opt_i64")]
    pub severity: Option<i64>,
    /// Epoch **seconds**.
    #[serde(deserialize_with = "lenient::opt_i64")]
    pub timestamp: Option<i64>,
    #[serde(deserialize_with = "lenient::opt_i64")]
    pub endofbundle: Option<i64>,
}

/// `GET /portfolio/{accountId}/ledger`: currency code (plus `BASE`) → entry.
pub type Ledger = BTreeMap<String, LedgerEntry>;

/// `{"message": "..."}` acknowledgements (positions invalidate).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MessageResponse {
    #[serde(deserialize_with = "lenient::string")]
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_samples::sample;
    use rust_decimal::dec;

    #[test]
    fn positions_sample() {
        let p: Vec<Position> =
            serde_json::from_str(&sample("portfolio_positions.json")).expect("positions");
        assert_eq!(p.len(), 3);
        assert_eq!(p[0].position, Some(dec!(0.00365831)));
        assert_eq!(p[1].strike, Some(dec!(440)));
        assert_eq!(p[1].multiplier, Some(dec!(100)));
        assert_eq!(p[2].conid, Some(8314));
        assert_eq!(p[2].position, Some(dec!(1412)));
    }

    #[test]
    fn summary_and_ledger_samples() {
        let s: PortfolioSummary =
            serde_json::from_str(&sample("portfolio_summary.json")).expect("summary");
        assert!(s.len() > 100);
        let l: Ledger = serde_json::from_str(&sample("ledger.json")).expect("ledger");
        assert_eq!(l["USD"].cashbalance, Some(dec!(985376.94)));
        assert_eq!(l["BASE"].timestamp, Some(1701198108));
    }

    #[test]
    fn accounts_sample() {
        let a: Vec<PortfolioAccount> =
            serde_json::from_str(&sample("portfolio_accounts.json")).expect("accounts");
        assert_eq!(a[0].account(), Some("DU1234567"));
        assert_eq!(a[0].fa_client, Some(false));
    }
}
