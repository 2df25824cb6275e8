//! Account endpoints: `/iserver/accounts`, account switching, partitioned P&L.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::lenient;
use super::session::ServerInfo;

/// Per-account properties in `/iserver/accounts`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AcctProps {
    #[serde(deserialize_with = "lenient::opt_bool")]
    pub has_child_accounts: Option<bool>,
    #[serde(deserialize_with = "lenient::opt_bool")]
    pub supports_cash_qty: Option<bool>,
    #[serde(deserialize_with = "lenient::opt_bool")]
    pub lite_under_pro: Option<bool>,
    /// Spelled `noFxConv` in examples and `noFXConv` in the schema.
    #[serde(alias = "noFXConv", deserialize_with = "lenient::opt_bool")]
    pub no_fx_conv: Option<bool>,
    #[serde(deserialize_with = "lenient::opt_bool")]
    pub is_prop: Option<bool>,
    #[serde(deserialize_with = "lenient::opt_bool")]
    pub supports_fractions: Option<bool>,
    #[serde(deserialize_with = "lenient::opt_bool")]
    pub allow_customer_time: Option<bool>,
    #[serde(deserialize_with = "lenient::opt_bool")]
    pub auto_fx: Option<bool>,
}

/// `GET /iserver/accounts` (reference §9.1): the accounts the brokerage session may trade.
/// Calling it primes most other `/iserver` endpoints.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct IserverAccounts {
    #[serde(deserialize_with = "lenient::null_vec")]
    pub accounts: Vec<String>,
    pub acct_props: BTreeMap<String, AcctProps>,
    pub aliases: BTreeMap<String, String>,
    /// Feature flags (open-ended set of booleans, numbers and strings).
    pub allow_features: serde_json::Map<String, serde_json::Value>,
    pub chart_periods: BTreeMap<String, Vec<String>>,
    #[serde(deserialize_with = "lenient::null_vec")]
    pub groups: Vec<String>,
    #[serde(deserialize_with = "lenient::null_vec")]
    pub profiles: Vec<serde_json::Value>,
    /// Account used by endpoints without an account parameter.
    #[serde(deserialize_with = "lenient::opt_string")]
    pub selected_account: Option<String>,
    pub server_info: Option<ServerInfo>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub session_id: Option<String>,
    /// Spelled `isFT` in examples and `isFt` in the schema.
    #[serde(
        rename = "isFT",
        alias = "isFt",
        deserialize_with = "lenient::opt_bool"
    )]
    pub is_ft: Option<bool>,
    #[serde(deserialize_with = "lenient::opt_bool")]
    pub is_paper: Option<bool>,
}

impl IserverAccounts {
    /// The selected account, else the first listed one.
    pub fn default_account(&self) -> Option<&str> {
        self.selected_account
            .as_deref()
            .filter(|s| !s.is_empty())
            .or_else(|| self.accounts.first().map(String::as_str))
    }
}

/// Body of `POST /iserver/account` and `POST /iserver/dynaccount`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SwitchAccountRequest {
    #[serde(rename = "acctId")]
    pub acct_id: String,
}

/// Answer of `POST /iserver/account` / `POST /iserver/dynaccount`: `{"set":true,"acctId":…}`,
/// or `{"success":"Account already set"}` when nothing changed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SwitchAccountResponse {
    #[serde(deserialize_with = "lenient::opt_bool")]
    pub set: Option<bool>,
    #[serde(rename = "acctId", deserialize_with = "lenient::opt_string")]
    pub acct_id: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub success: Option<String>,
}

/// One row of partitioned P&L (`upnl` of `/iserver/account/pnl/partitioned`, `args` of the
/// websocket `spl` topic). Keys look like `DU1234567.Core`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PnlRow {
    #[serde(rename = "rowType", deserialize_with = "lenient::opt_i64")]
    pub row_type: Option<i64>,
    /// Daily P&L.
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub dpl: Option<Decimal>,
    /// Net liquidation.
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub nl: Option<Decimal>,
    /// Unrealized P&L.
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub upl: Option<Decimal>,
    /// Excess liquidity (`el` over REST, `uel` on the websocket).
    #[serde(alias = "uel", deserialize_with = "lenient::opt_decimal")]
    pub el: Option<Decimal>,
    /// Market value.
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub mv: Option<Decimal>,
}

impl PnlRow {
    /// The account id part of a `DU1234567.Core` key.
    pub fn account_of(key: &str) -> &str {
        key.split('.').next().unwrap_or(key)
    }
}

/// `GET /iserver/account/pnl/partitioned`. The first call may return an empty map.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PnlPartitioned {
    pub upnl: BTreeMap<String, PnlRow>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_samples::sample;
    use rust_decimal::dec;

    #[test]
    fn accounts_sample() {
        let a: IserverAccounts =
            serde_json::from_str(&sample("iserver_accounts.json")).expect("accounts");
        assert_eq!(a.accounts, vec!["DU1234567".to_string()]);
        assert_eq!(a.default_account(), Some("DU1234567"));
        assert_eq!(a.is_paper, Some(true));
        assert_eq!(a.is_ft, Some(false));
        assert_eq!(
            a.acct_props
                .get("DU1234567")
                .and_then(|p| p.supports_fractions),
            Some(true)
        );
    }

    #[test]
    fn pnl_sample() {
        let p: PnlPartitioned = serde_json::from_str(&sample("pnl_partitioned.json")).expect("pnl");
        let row = p.upnl.get("DU1234567.Core").expect("row");
        assert_eq!(row.dpl, Some(dec!(-12510.0)));
        assert_eq!(row.el, Some(dec!(824600)));
        assert_eq!(PnlRow::account_of("DU1234567.Core"), "DU1234567");
    }
}
