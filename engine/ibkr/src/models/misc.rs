//! Request types of the long-tail endpoints (alerts, watchlists, scanner, FYIs, FA
//! allocation, Portfolio Analyst, Account Management) and their few typed answers.

use serde::{Deserialize, Serialize};

use super::lenient;

/// Free-form query parameters for endpoints whose parameters are objects or undocumented
/// (Account Management, 2.39 additions). Order is kept.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueryParams(pub Vec<(String, String)>);

impl QueryParams {
    /// No parameters.
    pub fn new() -> Self {
        QueryParams(Vec::new())
    }

    /// Add one parameter.
    pub fn with(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.0.push((key.into(), value.into()));
        self
    }
}

/// A signed JWT request body (Account Management "Signed JWT" operations), sent with
/// `Content-Type: application/jwt`.
#[derive(Clone, PartialEq, Eq)]
pub struct SignedJwt(pub String);

impl std::fmt::Debug for SignedJwt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SignedJwt({} bytes)", self.0.len())
    }
}

/// A banking/transfer instruction `{instructionType, instruction}`; `instruction` is the
/// payload selected by `instructionType` (its `clientInstructionId` is the idempotency key).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InstructionRequest {
    pub instruction_type: String,
    pub instruction: serde_json::Value,
}

/// A bulk instruction `{instructionType, instructions: [...]}`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkInstructionRequest {
    pub instruction_type: String,
    pub instructions: Vec<serde_json::Value>,
}

/// Body of `POST /gw/api/v1/statements`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatementRequest {
    pub account_id: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub account_ids: Vec<String>,
    pub start_date: String,
    pub end_date: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub multi_account_format: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crypto_consol_if_available: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gzip: Option<bool>,
}

/// Body of `POST /gw/api/v1/tax-documents`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaxDocumentRequest {
    pub account_id: String,
    pub year: i32,
    #[serde(rename = "type")]
    pub kind: String,
    pub format: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gzip: Option<bool>,
}

/// Body of `POST /gw/api/v1/trade-confirmations`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TradeConfirmationRequest {
    pub account_id: String,
    pub start_date: String,
    pub end_date: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
}

/// Form of `POST /oauth2/api/v1/token` (client credentials with a signed JWT assertion).
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct Oauth2TokenRequest {
    pub grant_type: String,
    pub client_assertion: String,
    pub client_assertion_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

impl std::fmt::Debug for Oauth2TokenRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Oauth2TokenRequest")
            .field("grant_type", &self.grant_type)
            .field("client_assertion", &"***")
            .field("scope", &self.scope)
            .finish()
    }
}

impl Oauth2TokenRequest {
    /// A client-credentials request with a JWT bearer assertion.
    pub fn client_credentials(assertion: impl Into<String>, scope: Option<String>) -> Self {
        Oauth2TokenRequest {
            grant_type: "client_credentials".into(),
            client_assertion: assertion.into(),
            client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into(),
            scope,
        }
    }
}

/// One condition of an alert.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertCondition {
    /// `265598@NYSE`.
    pub conidex: String,
    /// `1` price, `3` time, `4` margin, `5` trade, `6` volume, … (unverified codes).
    #[serde(rename = "type")]
    pub kind: i32,
    /// `>=` or `<=`.
    pub operator: String,
    /// `"0"` = default.
    pub trigger_method: String,
    pub value: String,
    /// `a` AND, `o` OR, `n` last condition.
    pub logic_bind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
}

/// Body of `POST /iserver/account/{accountId}/alert` (create, or modify with `order_id`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_id: Option<i64>,
    pub alert_name: String,
    pub alert_message: String,
    /// 0 or 1.
    pub alert_repeatable: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// `YYYYMMDD-hh:mm:ss`, only with `tif: "GTD"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expire_time: Option<String>,
    #[serde(rename = "iTWSOrdersOnly", skip_serializing_if = "Option::is_none")]
    pub itws_orders_only: Option<i32>,
    /// 0 or 1.
    pub outside_rth: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub send_message: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub show_popup: Option<i32>,
    /// `GTC` or `GTD`.
    pub tif: String,
    pub conditions: Vec<AlertCondition>,
}

/// Body of `POST /iserver/account/{accountId}/alert/activate`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertActivateRequest {
    pub alert_id: i64,
    /// 1 to enable, 0 to disable.
    pub alert_active: i32,
}

/// An allocation group (create/modify body).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AllocationGroup {
    pub name: String,
    /// Old name when renaming (modify only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prev_name: Option<String>,
    /// `[{"name": "U123", "amount": 10}]`-style members.
    pub accounts: Vec<serde_json::Value>,
    /// `A`, `E`, `N`, `C`, `P`, `R`, `S`.
    pub default_method: String,
}

/// Allocation presets (read and write).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllocationPresets {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_auto_close_positions: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_method_for_all: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profiles_auto_close_positions: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strict_credit_check: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_proportional_allocation: Option<bool>,
}

/// Body of `POST /fyi/deliveryoptions/device`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FyiDeviceRequest {
    pub device_name: String,
    pub device_id: String,
    pub ui_name: String,
    pub enabled: bool,
}

/// Query of `GET /fyi/notifications`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FyiNotificationsQuery {
    /// At most 10.
    pub max: u32,
    pub include: Option<String>,
    pub exclude: Option<String>,
    pub id: Option<String>,
}

/// `GET /fyi/unreadnumber`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FyiUnread {
    #[serde(rename = "BN", deserialize_with = "lenient::opt_i64")]
    pub count: Option<i64>,
}

/// Body of `POST /iserver/scanner/run`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ScannerRequest {
    /// `STK`, …
    pub instrument: String,
    /// Scan code, e.g. `TOP_PERC_GAIN`.
    #[serde(rename = "type")]
    pub scan_type: String,
    /// e.g. `STK.US.MAJOR`.
    pub location: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub filter: Vec<ScannerFilter>,
}

/// A scanner filter `{code, value}`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScannerFilter {
    pub code: String,
    pub value: serde_json::Value,
}

/// Body of `POST /hmds/scanner/run`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HmdsScannerRequest {
    pub instrument: String,
    pub locations: String,
    pub scan_code: String,
    pub sec_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delayed_locations: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_items: Option<u32>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<serde_json::Value>,
}

/// Body of `POST /iserver/watchlist`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WatchlistRequest {
    /// Digits, unique.
    pub id: String,
    pub name: String,
    pub rows: Vec<WatchlistRow>,
}

/// A watchlist row: a contract (`C`) or a blank/header row (`H`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum WatchlistRow {
    #[serde(rename = "C")]
    Contract(i64),
    #[serde(rename = "H")]
    Header(String),
}

/// Body of `POST /pa/performance`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PaPerformanceRequest {
    pub acct_ids: Vec<String>,
    /// `1D`, `7D`, `MTD`, `1M`, `3M`, `6M`, `12M`, `YTD`.
    pub period: String,
}

/// Body of `POST /pa/transactions`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PaTransactionsRequest {
    pub acct_ids: Vec<String>,
    pub conids: Vec<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub days: Option<u32>,
}

/// Body of `POST /pa/allperiods` (and the 2.39 `/pa/allocation`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PaAccountsRequest {
    pub acct_ids: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watchlist_rows_serialise_like_ibkr() {
        let w = WatchlistRequest {
            id: "1234".into(),
            name: "Test".into(),
            rows: vec![
                WatchlistRow::Contract(8314),
                WatchlistRow::Header(String::new()),
            ],
        };
        let v = serde_json::to_value(&w).expect("serialises");
        assert_eq!(
            v,
            serde_json::json!({"id":"1234","name":"Test","rows":[{"C":8314},{"H":""}]})
        );
    }

    #[test]
    fn secrets_not_in_debug() {
        let r = Oauth2TokenRequest::client_credentials("eyJsecret", None);
        assert!(!format!("{r:?}").contains("eyJsecret"));
        assert!(!format!("{:?}", SignedJwt("eyJsecret".into())).contains("eyJsecret"));
    }
}
