//! Typed payloads of the websocket topics other than `smd` (reference §10.3–10.4).
//!
//! Order and trade frames are deltas, so nearly every field is optional; fields this crate does
//! not model are kept in `extra` rather than dropped.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::Value;

use super::de::{
    opt_bool_lenient, opt_decimal_lenient, opt_i64_lenient, opt_string_lenient, opt_u64_lenient,
    u64_lenient,
};

/// One entry of a `sor` (live orders) frame: the full order the first time, later only the
/// fields that changed (`acct` and `orderId` are always present).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderUpdate {
    /// Account id.
    #[serde(default)]
    pub acct: Option<String>,
    /// IBKR order id (can exceed 2^53; never parsed through `f64`).
    #[serde(deserialize_with = "u64_lenient")]
    pub order_id: u64,
    /// Contract id.
    #[serde(default, deserialize_with = "opt_u64_lenient")]
    pub conid: Option<u64>,
    /// Contract id with optional exchange (`conidex`).
    #[serde(default, rename = "conidex", deserialize_with = "opt_string_lenient")]
    pub conid_ex: Option<String>,
    /// Order status (`PendingSubmit`, `PreSubmitted`, `Submitted`, `Filled`, `Cancelled`, …).
    #[serde(default)]
    pub status: Option<String>,
    /// Status as the clearing system reports it.
    #[serde(default, rename = "order_ccp_status")]
    pub order_ccp_status: Option<String>,
    /// The warning of a `WarnState` order.
    #[serde(default, rename = "warning_message")]
    pub warning_message: Option<String>,
    /// `BUY` / `SELL`.
    #[serde(default)]
    pub side: Option<String>,
    /// Symbol.
    #[serde(default)]
    pub ticker: Option<String>,
    /// Security type (`STK`, `FUT`, …).
    #[serde(default)]
    pub sec_type: Option<String>,
    /// Order type as displayed (`Limit`, `Market`, …).
    #[serde(default)]
    pub order_type: Option<String>,
    /// Order type as submitted (`LIMIT`, …).
    #[serde(default)]
    pub orig_order_type: Option<String>,
    /// Time in force (`GTC`, `DAY`, …).
    #[serde(default)]
    pub time_in_force: Option<String>,
    /// Human description (`Buy 100 Limit 372.00 GTC`).
    #[serde(default)]
    pub order_desc: Option<String>,
    /// `filled/total` as text.
    #[serde(default)]
    pub size_and_fills: Option<String>,
    /// Quantity still open.
    #[serde(default, deserialize_with = "opt_decimal_lenient")]
    pub remaining_quantity: Option<Decimal>,
    /// Quantity filled.
    #[serde(default, deserialize_with = "opt_decimal_lenient")]
    pub filled_quantity: Option<Decimal>,
    /// Total order size.
    #[serde(default, deserialize_with = "opt_decimal_lenient")]
    pub total_size: Option<Decimal>,
    /// Limit price.
    #[serde(default, deserialize_with = "opt_decimal_lenient")]
    pub price: Option<Decimal>,
    /// Average fill price.
    #[serde(default, deserialize_with = "opt_decimal_lenient")]
    pub avg_price: Option<Decimal>,
    /// The client order id (`cOID`) the order was placed with.
    #[serde(default, rename = "order_ref")]
    pub order_ref: Option<String>,
    /// Last execution time, `YYMMDDhhmmss`.
    #[serde(default, deserialize_with = "opt_string_lenient")]
    pub last_execution_time: Option<String>,
    /// Last execution time, epoch ms.
    #[serde(
        default,
        rename = "lastExecutionTime_r",
        deserialize_with = "opt_i64_lenient"
    )]
    pub last_execution_time_ms: Option<i64>,
    /// Listing exchange.
    #[serde(default)]
    pub listing_exchange: Option<String>,
    /// Company name.
    #[serde(default)]
    pub company_name: Option<String>,
    /// Currency of a cash quantity order.
    #[serde(default)]
    pub cash_ccy: Option<String>,
    /// Every other field of the frame (`bgColor`, `description1`, …).
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// One execution from a `str` (trades) frame. Commission may arrive in a later frame for the
/// same `execution_id`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Execution {
    /// Execution id.
    pub execution_id: String,
    /// Symbol.
    #[serde(default)]
    pub symbol: Option<String>,
    /// `B` (bought) / `S` (sold).
    #[serde(default)]
    pub side: Option<String>,
    /// Filled quantity.
    #[serde(default, deserialize_with = "opt_decimal_lenient")]
    pub size: Option<Decimal>,
    /// Fill price.
    #[serde(default, deserialize_with = "opt_decimal_lenient")]
    pub price: Option<Decimal>,
    /// Commission.
    #[serde(default, deserialize_with = "opt_decimal_lenient")]
    pub commission: Option<Decimal>,
    /// Net amount.
    #[serde(default, deserialize_with = "opt_decimal_lenient")]
    pub net_amount: Option<Decimal>,
    /// Client order id (`cOID`) of the order.
    #[serde(default)]
    pub order_ref: Option<String>,
    /// Execution venue.
    #[serde(default)]
    pub exchange: Option<String>,
    /// Account id.
    #[serde(default)]
    pub account: Option<String>,
    /// Contract id.
    #[serde(default, deserialize_with = "opt_u64_lenient")]
    pub conid: Option<u64>,
    /// IBKR order id.
    #[serde(default, deserialize_with = "opt_u64_lenient")]
    pub order_id: Option<u64>,
    /// Trade time, `YYYYMMDD-hh:mm:ss` UTC.
    #[serde(default)]
    pub trade_time: Option<String>,
    /// Trade time, epoch ms.
    #[serde(default, rename = "trade_time_r", deserialize_with = "opt_i64_lenient")]
    pub trade_time_ms: Option<i64>,
    /// Security type.
    #[serde(default)]
    pub sec_type: Option<String>,
    /// Position after the fill.
    #[serde(default, deserialize_with = "opt_decimal_lenient")]
    pub position: Option<Decimal>,
    /// Every other field.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// One row of an `spl` (P&L) frame, keyed `ACCOUNT.MODEL` (e.g. `DU1234567.Core`).
#[derive(Clone, Debug, PartialEq)]
pub struct PnlEntry {
    /// The key as sent (`DU1234567.Core`).
    pub key: String,
    /// The values.
    pub row: PnlRow,
}

impl PnlEntry {
    /// The account part of the key.
    pub fn account(&self) -> &str {
        self.key.split('.').next().unwrap_or(&self.key)
    }
}

/// P&L values of one account/model.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct PnlRow {
    /// Row type (1 = account).
    #[serde(default, rename = "rowType", deserialize_with = "opt_i64_lenient")]
    pub row_type: Option<i64>,
    /// Daily P&L.
    #[serde(default, deserialize_with = "opt_decimal_lenient")]
    pub dpl: Option<Decimal>,
    /// Net liquidation value.
    #[serde(default, deserialize_with = "opt_decimal_lenient")]
    pub nl: Option<Decimal>,
    /// Unrealised P&L.
    #[serde(default, deserialize_with = "opt_decimal_lenient")]
    pub upl: Option<Decimal>,
    /// Excess liquidity.
    #[serde(default, deserialize_with = "opt_decimal_lenient")]
    pub uel: Option<Decimal>,
    /// Market value.
    #[serde(default, deserialize_with = "opt_decimal_lenient")]
    pub mv: Option<Decimal>,
    /// Every other field.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// An `sbd` (BookTrader price ladder) frame.
#[derive(Clone, Debug, PartialEq)]
pub struct BookUpdate {
    /// The topic as sent (`sbd+DU1234567+265598`).
    pub topic: String,
    /// The account from the topic.
    pub account: Option<String>,
    /// The conid from the topic.
    pub conid: Option<u64>,
    /// The ladder rows.
    pub rows: Vec<BookRow>,
}

/// One price level of the ladder.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct BookRow {
    /// Row index.
    #[serde(deserialize_with = "u64_lenient")]
    pub row: u64,
    /// Whether this row is the ladder's focus (last trade).
    #[serde(default, deserialize_with = "opt_bool_lenient")]
    pub focus: Option<bool>,
    /// Price of the level.
    #[serde(default, deserialize_with = "opt_decimal_lenient")]
    pub price: Option<Decimal>,
    /// Size offered at this price.
    #[serde(default, deserialize_with = "opt_decimal_lenient")]
    pub ask: Option<Decimal>,
    /// Size bid at this price.
    #[serde(default, deserialize_with = "opt_decimal_lenient")]
    pub bid: Option<Decimal>,
    /// Every other field.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// An `smh` (streamed history) frame: the REST history object plus `serverId`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryUpdate {
    /// The conid from the topic (`smh+265598`).
    #[serde(skip)]
    pub conid: Option<u64>,
    /// Stream id, needed to unsubscribe (`umh+{serverId}`).
    #[serde(default, deserialize_with = "opt_string_lenient")]
    pub server_id: Option<String>,
    /// Symbol.
    #[serde(default)]
    pub symbol: Option<String>,
    /// Description.
    #[serde(default)]
    pub text: Option<String>,
    /// Period covered (`1d`, `1w`, …).
    #[serde(default)]
    pub time_period: Option<String>,
    /// Bar length in seconds.
    #[serde(default, deserialize_with = "opt_i64_lenient")]
    pub bar_length: Option<i64>,
    /// Whether bars include outside regular trading hours.
    #[serde(default, deserialize_with = "opt_bool_lenient")]
    pub outside_rth: Option<bool>,
    /// The bars.
    #[serde(default, rename = "data")]
    pub bars: Vec<HistoryBar>,
    /// Every other field.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// One bar (`t` = bar start in epoch ms; prices in price units, no `priceFactor` scaling).
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
pub struct HistoryBar {
    /// Bar start, epoch ms.
    #[serde(rename = "t")]
    pub start_ms: i64,
    /// Open.
    #[serde(rename = "o")]
    pub open: f64,
    /// High.
    #[serde(rename = "h")]
    pub high: f64,
    /// Low.
    #[serde(rename = "l")]
    pub low: f64,
    /// Close.
    #[serde(rename = "c")]
    pub close: f64,
    /// Volume as IBKR's chart feed reports it (possibly scaled, see `volumeFactor`).
    #[serde(rename = "v", default)]
    pub volume: f64,
}

/// A `system` frame.
#[derive(Clone, Debug, PartialEq)]
pub enum SystemMessage {
    /// Sent on connect: the user the socket is authenticated as.
    Welcome {
        /// `success`: the username.
        username: String,
        /// `isFT`.
        is_ft: Option<bool>,
        /// `isPaper`.
        is_paper: Option<bool>,
    },
    /// Server heartbeat, every ~10 s.
    Heartbeat {
        /// `hb`: server time, epoch ms.
        server_time_ms: i64,
    },
    /// Any other `system` frame, as sent.
    Other(serde_json::Map<String, Value>),
}

/// An `sts` frame: brokerage session status changes.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthStatus {
    /// Whether the brokerage session is authenticated.
    #[serde(default, deserialize_with = "opt_bool_lenient")]
    pub authenticated: Option<bool>,
    /// Whether another session competes for this user.
    #[serde(default, deserialize_with = "opt_bool_lenient")]
    pub competing: Option<bool>,
    /// Whether the gateway is connected to the backend.
    #[serde(default, deserialize_with = "opt_bool_lenient")]
    pub connected: Option<bool>,
    /// Whether the session is established.
    #[serde(default, deserialize_with = "opt_bool_lenient")]
    pub established: Option<bool>,
    /// Status message.
    #[serde(default)]
    pub message: Option<String>,
    /// Failure text.
    #[serde(default)]
    pub fail: Option<String>,
    /// Backend server name.
    #[serde(default)]
    pub server_name: Option<String>,
    /// Backend server version.
    #[serde(default)]
    pub server_version: Option<String>,
    /// The username.
    #[serde(default)]
    pub username: Option<String>,
    /// Every other field.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// An `ntf` notification (may ask for an answer through `POST /iserver/notification`).
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Notification {
    /// Notification id.
    #[serde(default, deserialize_with = "opt_string_lenient")]
    pub id: Option<String>,
    /// Text.
    #[serde(default)]
    pub text: Option<String>,
    /// Title.
    #[serde(default)]
    pub title: Option<String>,
    /// Link.
    #[serde(default)]
    pub url: Option<String>,
    /// Every other field.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// A `blt` bulletin (exchange or system issue).
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Bulletin {
    /// Bulletin id.
    #[serde(default, deserialize_with = "opt_string_lenient")]
    pub id: Option<String>,
    /// Text.
    #[serde(default)]
    pub message: Option<String>,
    /// Every other field.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// An `act` frame: the accounts of the session (same content as `/iserver/accounts`).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountInfo {
    /// Account ids.
    #[serde(default)]
    pub accounts: Vec<String>,
    /// The selected account.
    #[serde(default)]
    pub selected_account: Option<String>,
    /// Session id.
    #[serde(default)]
    pub session_id: Option<String>,
    /// `isPaper`.
    #[serde(default, deserialize_with = "opt_bool_lenient")]
    pub is_paper: Option<bool>,
    /// `isFT`.
    #[serde(default, rename = "isFT", deserialize_with = "opt_bool_lenient")]
    pub is_ft: Option<bool>,
    /// Every other field (`acctProps`, `aliases`, `allowFeatures`, `serverInfo`, …).
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// A `tic` frame: session status in answer to the client's `tic` ping.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TicStatus {
    /// Last time the session was used, epoch ms.
    #[serde(default, deserialize_with = "opt_i64_lenient")]
    pub last_accessed: Option<i64>,
    /// Every other field.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}
