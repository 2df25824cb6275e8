//! Orders: the request ticket, acknowledgements, live orders, order status, trades,
//! cancel and what-if responses (reference §6).

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::lenient;

/// Order side of a request ticket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Side {
    #[serde(rename = "BUY", alias = "Buy", alias = "B")]
    Buy,
    #[serde(rename = "SELL", alias = "Sell", alias = "S")]
    Sell,
}

impl Side {
    /// `BUY` / `SELL`.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Buy => "BUY",
            Side::Sell => "SELL",
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Order types accepted by the submit endpoint (reference §6.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OrderType {
    #[serde(rename = "LMT")]
    Limit,
    #[serde(rename = "MKT")]
    Market,
    /// Stop; IBKR's examples send the trigger in `price`.
    #[serde(rename = "STP")]
    Stop,
    /// Stop-limit: `price` = limit, `auxPrice` = stop trigger.
    #[serde(rename = "STOP_LIMIT")]
    StopLimit,
    #[serde(rename = "MIDPRICE")]
    MidPrice,
    #[serde(rename = "TRAIL")]
    Trail,
    #[serde(rename = "TRAILLMT")]
    TrailLimit,
    /// Market on close (`/iserver/contract/rules` lists it as `marketonclose`).
    #[serde(rename = "MOC")]
    MarketOnClose,
    /// Limit on close (`limitonclose` in the contract rules).
    #[serde(rename = "LOC")]
    LimitOnClose,
}

impl OrderType {
    /// Wire name (`LMT`, `MKT`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            OrderType::Limit => "LMT",
            OrderType::Market => "MKT",
            OrderType::Stop => "STP",
            OrderType::StopLimit => "STOP_LIMIT",
            OrderType::MidPrice => "MIDPRICE",
            OrderType::Trail => "TRAIL",
            OrderType::TrailLimit => "TRAILLMT",
            OrderType::MarketOnClose => "MOC",
            OrderType::LimitOnClose => "LOC",
        }
    }

    /// Parse a wire name or a common spelling (`lmt`, `limit`, `stop-limit`, …).
    pub fn parse(s: &str) -> Option<OrderType> {
        match s.to_ascii_uppercase().replace('-', "_").as_str() {
            "LMT" | "LIMIT" => Some(OrderType::Limit),
            "MKT" | "MARKET" => Some(OrderType::Market),
            "STP" | "STOP" => Some(OrderType::Stop),
            "STOP_LIMIT" | "STP_LMT" | "STOPLIMIT" => Some(OrderType::StopLimit),
            "MIDPRICE" => Some(OrderType::MidPrice),
            "TRAIL" => Some(OrderType::Trail),
            "TRAILLMT" | "TRAIL_LIMIT" => Some(OrderType::TrailLimit),
            "MOC" | "MARKETONCLOSE" | "MARKET_ON_CLOSE" => Some(OrderType::MarketOnClose),
            "LOC" | "LIMITONCLOSE" | "LIMIT_ON_CLOSE" => Some(OrderType::LimitOnClose),
            _ => None,
        }
    }

    /// True when the ticket needs `price`.
    pub fn needs_price(self) -> bool {
        matches!(
            self,
            OrderType::Limit
                | OrderType::Stop
                | OrderType::StopLimit
                | OrderType::TrailLimit
                | OrderType::LimitOnClose
        )
    }
}

/// Time in force.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Tif {
    Day,
    Gtc,
    Ioc,
    Opg,
    Pax,
}

impl Tif {
    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Tif::Day => "DAY",
            Tif::Gtc => "GTC",
            Tif::Ioc => "IOC",
            Tif::Opg => "OPG",
            Tif::Pax => "PAX",
        }
    }

    /// Parse (case-insensitive).
    pub fn parse(s: &str) -> Option<Tif> {
        match s.to_ascii_uppercase().as_str() {
            "DAY" => Some(Tif::Day),
            "GTC" => Some(Tif::Gtc),
            "IOC" => Some(Tif::Ioc),
            "OPG" => Some(Tif::Opg),
            "PAX" => Some(Tif::Pax),
            _ => None,
        }
    }
}

/// Trailing offset unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TrailingType {
    #[serde(rename = "amt")]
    Amount,
    #[serde(rename = "%")]
    Percent,
}

/// One order ticket of `POST /iserver/account/{accountId}/orders` (reference §6.1), also the
/// body of the modify call. Prices and quantities are decimals sent as JSON numbers.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderTicket {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acct_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conid: Option<i64>,
    /// `conid@EXCHANGE` or a combo string; do not send together with `conid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conidex: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sec_type: Option<String>,
    /// Client order id, unique per account and day; echoed back as `order_ref`.
    #[serde(rename = "cOID", skip_serializing_if = "Option::is_none")]
    pub c_oid: Option<String>,
    /// The parent's `cOID` on bracket children.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    pub order_type: OrderType,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listing_exchange: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_single_group: Option<bool>,
    #[serde(rename = "outsideRTH", skip_serializing_if = "Option::is_none")]
    pub outside_rth: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub all_or_none: Option<bool>,
    #[serde(
        with = "rust_decimal::serde::float_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub price: Option<Decimal>,
    #[serde(
        with = "rust_decimal::serde::float_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub aux_price: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticker: Option<String>,
    pub tif: Tif,
    pub side: Side,
    #[serde(with = "rust_decimal::serde::float")]
    pub quantity: Decimal,
    #[serde(
        with = "rust_decimal::serde::float_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub trailing_amt: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trailing_type: Option<TrailingType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub referrer: Option<String>,
    #[serde(
        with = "rust_decimal::serde::float_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub cash_qty: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub use_adaptive: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_ccy_conv: Option<bool>,
    /// IB algo id (`Adaptive`, `Vwap`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strategy: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strategy_parameters: Option<serde_json::Value>,
    /// Required for US futures: `true` = entered by a human.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manual_indicator: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ext_operator: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax_optimizer_id: Option<String>,
}

impl OrderTicket {
    /// A ticket with the required fields; everything else unset.
    pub fn new(conid: i64, side: Side, quantity: Decimal, order_type: OrderType, tif: Tif) -> Self {
        OrderTicket {
            acct_id: None,
            conid: Some(conid),
            conidex: None,
            sec_type: None,
            c_oid: None,
            parent_id: None,
            order_type,
            listing_exchange: None,
            is_single_group: None,
            outside_rth: None,
            all_or_none: None,
            price: None,
            aux_price: None,
            ticker: None,
            tif,
            side,
            quantity,
            trailing_amt: None,
            trailing_type: None,
            referrer: None,
            cash_qty: None,
            use_adaptive: None,
            is_ccy_conv: None,
            strategy: None,
            strategy_parameters: None,
            manual_indicator: None,
            ext_operator: None,
            tax_optimizer_id: None,
        }
    }

    /// A DAY limit order.
    pub fn limit(conid: i64, side: Side, quantity: Decimal, price: Decimal) -> Self {
        let mut t = OrderTicket::new(conid, side, quantity, OrderType::Limit, Tif::Day);
        t.price = Some(price);
        t
    }

    /// A DAY market order.
    pub fn market(conid: i64, side: Side, quantity: Decimal) -> Self {
        OrderTicket::new(conid, side, quantity, OrderType::Market, Tif::Day)
    }

    /// Set the client order id.
    pub fn with_coid(mut self, coid: impl Into<String>) -> Self {
        self.c_oid = Some(coid.into());
        self
    }

    /// Check the ticket before sending: positive quantity, a price where the type needs one,
    /// exactly one of `conid` / `conidex`.
    pub fn validate(&self) -> Result<(), String> {
        if self.quantity <= Decimal::ZERO && self.cash_qty.is_none() {
            return Err(format!("quantity must be positive, got {}", self.quantity));
        }
        match (&self.conid, &self.conidex) {
            (None, None) => return Err("conid or conidex is required".into()),
            (Some(_), Some(_)) => return Err("send either conid or conidex, not both".into()),
            _ => {}
        }
        if self.order_type.needs_price() && self.price.is_none() {
            return Err(format!("{} orders need a price", self.order_type.as_str()));
        }
        if self.order_type == OrderType::StopLimit && self.aux_price.is_none() {
            return Err("STOP_LIMIT orders need auxPrice (the stop trigger)".into());
        }
        if matches!(self.order_type, OrderType::Trail | OrderType::TrailLimit)
            && (self.trailing_amt.is_none() || self.trailing_type.is_none())
        {
            return Err("trailing orders need trailingAmt and trailingType".into());
        }
        if let Some(p) = self.price
            && p <= Decimal::ZERO
            && self.conidex.is_none()
        {
            return Err(format!("price must be positive, got {p}"));
        }
        Ok(())
    }
}

/// Body of `POST /iserver/account/{accountId}/orders` and `.../orders/whatif`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OrdersRequest<'a> {
    pub orders: &'a [OrderTicket],
}

/// An accepted order: an item of the ack list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderAck {
    /// Order id (a numeric string in acks, a number elsewhere).
    #[serde(deserialize_with = "lenient::i64")]
    pub order_id: i64,
    #[serde(default, deserialize_with = "lenient::string")]
    pub order_status: String,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub encrypt_message: Option<String>,
}

/// An order of `GET /iserver/account/orders`, and an update of the websocket `sor` topic
/// (where later frames carry only the changed fields, so everything but `orderId` is
/// optional).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LiveOrder {
    #[serde(deserialize_with = "lenient::opt_string")]
    pub acct: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub account: Option<String>,
    #[serde(deserialize_with = "lenient::opt_i64")]
    pub conid: Option<i64>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub conidex: Option<String>,
    #[serde(deserialize_with = "lenient::opt_i64")]
    pub order_id: Option<i64>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub cash_ccy: Option<String>,
    /// `"0/1"`, `"5"`: filled / total.
    #[serde(deserialize_with = "lenient::opt_string")]
    pub size_and_fills: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub order_desc: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub description1: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub description2: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub ticker: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub sec_type: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub listing_exchange: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub exchange: Option<String>,
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub remaining_quantity: Option<Decimal>,
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub filled_quantity: Option<Decimal>,
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub total_size: Option<Decimal>,
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub total_cash_size: Option<Decimal>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub company_name: Option<String>,
    /// `PreSubmitted`, `Submitted`, `Filled`, `Cancelled`, `WarnState`, …
    #[serde(deserialize_with = "lenient::opt_string")]
    pub status: Option<String>,
    #[serde(rename = "order_ccp_status", deserialize_with = "lenient::opt_string")]
    pub order_ccp_status: Option<String>,
    /// The warning of a `WarnState` order.
    #[serde(rename = "warning_message", deserialize_with = "lenient::opt_string")]
    pub warning_message: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub orig_order_type: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub order_type: Option<String>,
    /// Limit price (a string over REST, a number on the websocket).
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub price: Option<Decimal>,
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub aux_price: Option<Decimal>,
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub avg_price: Option<Decimal>,
    /// `BUY` / `SELL`.
    #[serde(deserialize_with = "lenient::opt_string")]
    pub side: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub time_in_force: Option<String>,
    /// `YYMMDDhhmmss`.
    #[serde(deserialize_with = "lenient::opt_string")]
    pub last_execution_time: Option<String>,
    /// Epoch ms.
    #[serde(rename = "lastExecutionTime_r", deserialize_with = "lenient::opt_i64")]
    pub last_execution_time_r: Option<i64>,
    /// The client order id (`cOID`) the order was placed with.
    #[serde(rename = "order_ref", deserialize_with = "lenient::opt_string")]
    pub order_ref: Option<String>,
    #[serde(rename = "outsideRTH", deserialize_with = "lenient::opt_bool")]
    pub outside_rth: Option<bool>,
    #[serde(deserialize_with = "lenient::opt_bool")]
    pub supports_tax_opt: Option<bool>,
    #[serde(deserialize_with = "lenient::opt_bool")]
    pub is_event_trading: Option<bool>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub bg_color: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub fg_color: Option<String>,
    #[serde(
        rename = "order_cancellation_by_system_reason",
        deserialize_with = "lenient::opt_string"
    )]
    pub order_cancellation_by_system_reason: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub tax_optimizer_id: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub parent_id: Option<String>,
}

impl LiveOrder {
    /// True for statuses after which the order can no longer fill.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self.status.as_deref(),
            Some("Filled") | Some("Cancelled") | Some("Inactive")
        )
    }
}

/// `GET /iserver/account/orders`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LiveOrders {
    #[serde(deserialize_with = "lenient::null_vec")]
    pub orders: Vec<LiveOrder>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub snapshot: Option<bool>,
}

/// Query of `GET /iserver/account/orders`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LiveOrdersQuery {
    /// Status filters (`submitted`, `filled`, …). Using them disables order details on
    /// the websocket `sor` topic until a later `force=true` call.
    pub filters: Vec<String>,
    /// Clear the server cache; that response carries no orders.
    pub force: bool,
    /// Sub-account to list (not in the 2.27 schema; used by clients).
    pub account_id: Option<String>,
}

/// `GET /iserver/account/order/status/{orderId}` (snake_case keys; numbers as strings).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OrderStatus {
    #[serde(deserialize_with = "lenient::opt_string")]
    pub sub_type: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub request_id: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub server_id: Option<String>,
    #[serde(deserialize_with = "lenient::opt_i64")]
    pub order_id: Option<i64>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub conidex: Option<String>,
    #[serde(deserialize_with = "lenient::opt_i64")]
    pub conid: Option<i64>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub symbol: Option<String>,
    /// `B` / `S`.
    #[serde(deserialize_with = "lenient::opt_string")]
    pub side: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub contract_description_1: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub listing_exchange: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub option_acct: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub company_name: Option<String>,
    /// Remaining size.
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub size: Option<Decimal>,
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub total_size: Option<Decimal>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub currency: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub account: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub order_type: Option<String>,
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub cum_fill: Option<Decimal>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub order_status: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub order_ccp_status: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub order_status_description: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub tif: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub fg_color: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub bg_color: Option<String>,
    #[serde(deserialize_with = "lenient::opt_bool")]
    pub order_not_editable: Option<bool>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub editable_fields: Option<String>,
    #[serde(deserialize_with = "lenient::opt_bool")]
    pub cannot_cancel_order: Option<bool>,
    #[serde(deserialize_with = "lenient::opt_bool")]
    pub deactivate_order: Option<bool>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub sec_type: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub available_chart_periods: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub order_description: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub order_description_with_contract: Option<String>,
    #[serde(deserialize_with = "lenient::opt_bool")]
    pub alert_active: Option<bool>,
    /// `0` none, `A` attached hedge, `B` beta hedge.
    #[serde(deserialize_with = "lenient::opt_string")]
    pub child_order_type: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub order_clearing_account: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub size_and_fills: Option<String>,
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub exit_strategy_display_price: Option<Decimal>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub exit_strategy_chart_description: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub exit_strategy_tool_availability: Option<String>,
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub average_price: Option<Decimal>,
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub limit_price: Option<Decimal>,
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub stop_price: Option<Decimal>,
    #[serde(deserialize_with = "lenient::opt_bool")]
    pub allowed_duplicate_opposite: Option<bool>,
    /// `YYMMDDhhmmss`.
    #[serde(deserialize_with = "lenient::opt_string")]
    pub order_time: Option<String>,
    #[serde(deserialize_with = "lenient::opt_bool")]
    pub outside_rth: Option<bool>,
    #[serde(deserialize_with = "lenient::opt_bool")]
    pub use_price_mgmt_algo: Option<bool>,
}

/// An execution of `GET /iserver/account/trades` and the websocket `str` topic.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Trade {
    #[serde(deserialize_with = "lenient::opt_string")]
    pub execution_id: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub symbol: Option<String>,
    #[serde(deserialize_with = "lenient::opt_bool")]
    pub supports_tax_opt: Option<bool>,
    /// `B` / `S`.
    #[serde(deserialize_with = "lenient::opt_string")]
    pub side: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub order_description: Option<String>,
    /// `YYYYMMDD-hh:mm:ss` UTC.
    #[serde(deserialize_with = "lenient::opt_string")]
    pub trade_time: Option<String>,
    /// Epoch ms.
    #[serde(deserialize_with = "lenient::opt_i64")]
    pub trade_time_r: Option<i64>,
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub size: Option<Decimal>,
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub price: Option<Decimal>,
    /// The client order id (`cOID`).
    #[serde(deserialize_with = "lenient::opt_string")]
    pub order_ref: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub submitter: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub exchange: Option<String>,
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub commission: Option<Decimal>,
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub net_amount: Option<Decimal>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub account: Option<String>,
    #[serde(rename = "accountCode", deserialize_with = "lenient::opt_string")]
    pub account_code: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub account_allocation_name: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub company_name: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub contract_description_1: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub sec_type: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub listing_exchange: Option<String>,
    #[serde(deserialize_with = "lenient::opt_i64")]
    pub conid: Option<i64>,
    #[serde(rename = "conidEx", deserialize_with = "lenient::opt_string")]
    pub conid_ex: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub clearing_id: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub clearing_name: Option<String>,
    #[serde(deserialize_with = "lenient::opt_bool")]
    pub liquidation_trade: Option<bool>,
    #[serde(deserialize_with = "lenient::opt_bool")]
    pub is_event_trading: Option<bool>,
    #[serde(deserialize_with = "lenient::opt_i64")]
    pub order_id: Option<i64>,
    /// Position after the fill (websocket frames).
    #[serde(deserialize_with = "lenient::opt_decimal")]
    pub position: Option<Decimal>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub open_close: Option<String>,
}

/// `DELETE /iserver/account/{accountId}/order/{orderId}`: accepted for processing only;
/// watch the orders for `Cancelled`. IBKR sends an object or a one-element array, with
/// numbers or strings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CancelResponse {
    #[serde(deserialize_with = "lenient::opt_string")]
    pub msg: Option<String>,
    #[serde(deserialize_with = "lenient::opt_i64")]
    pub order_id: Option<i64>,
    #[serde(deserialize_with = "lenient::opt_i64")]
    pub conid: Option<i64>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub account: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub order_status: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub encrypt_message: Option<String>,
}

/// A `{current, change, after}` triple of the what-if response (formatted strings).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct WhatIfChange {
    #[serde(deserialize_with = "lenient::opt_string")]
    pub current: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub change: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub after: Option<String>,
}

/// Amount part of the what-if response.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct WhatIfAmount {
    #[serde(deserialize_with = "lenient::opt_string")]
    pub amount: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub commission: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub total: Option<String>,
}

/// `POST /iserver/account/{accountId}/orders/whatif`: commission and margin impact
/// (formatted strings, as IBKR sends them).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct WhatIf {
    pub amount: Option<WhatIfAmount>,
    pub equity: Option<WhatIfChange>,
    pub initial: Option<WhatIfChange>,
    pub maintenance: Option<WhatIfChange>,
    pub position: Option<WhatIfChange>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub warn: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub error: Option<String>,
}

/// Body of `POST /iserver/notification`: the chosen option of a server prompt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationAnswer {
    pub order_id: i64,
    pub req_id: String,
    /// One of the prompt's `options`.
    pub text: String,
}

/// `{"status": "submitted"}` acknowledgements (question suppression).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct StatusResponse {
    #[serde(deserialize_with = "lenient::string")]
    pub status: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_samples::sample;
    use rust_decimal::dec;

    #[test]
    fn ticket_serialises_prices_as_numbers() {
        let t = OrderTicket::limit(265598, Side::Buy, dec!(100), dec!(165.0)).with_coid("my-ord-1");
        let v = serde_json::to_value(&t).expect("serialises");
        assert_eq!(v["price"], serde_json::json!(165.0));
        assert_eq!(v["quantity"], serde_json::json!(100.0));
        assert_eq!(v["orderType"], "LMT");
        assert_eq!(v["cOID"], "my-ord-1");
        assert_eq!(v["side"], "BUY");
        assert_eq!(v["tif"], "DAY");
        assert!(v.get("auxPrice").is_none());
    }

    #[test]
    fn ticket_validation() {
        assert!(
            OrderTicket::limit(1, Side::Buy, dec!(1), dec!(10))
                .validate()
                .is_ok()
        );
        assert!(
            OrderTicket::limit(1, Side::Buy, dec!(0), dec!(10))
                .validate()
                .is_err()
        );
        let mut t = OrderTicket::market(1, Side::Sell, dec!(1));
        t.order_type = OrderType::StopLimit;
        t.price = Some(dec!(10));
        assert!(t.validate().is_err());
    }

    #[test]
    fn live_orders_sample() {
        let o: LiveOrders = serde_json::from_str(&sample("live_orders.json")).expect("orders");
        assert_eq!(o.orders.len(), 2);
        assert_eq!(o.orders[0].price, Some(dec!(457.00)));
        assert_eq!(
            o.orders[0].order_ref.as_deref(),
            Some("240103-SPY-1-BUY-L@457-bxv8")
        );
        assert_eq!(o.orders[1].avg_price, Some(dec!(192.26)));
        assert!(o.orders[1].is_terminal());
        let empty: LiveOrders =
            serde_json::from_str(&sample("live_orders_force_refresh.json")).expect("empty");
        assert!(empty.orders.is_empty());
    }

    #[test]
    fn status_trades_cancel_whatif_samples() {
        let s: OrderStatus = serde_json::from_str(&sample("order_status.json")).expect("status");
        assert_eq!(s.order_id, Some(1799796559));
        assert_eq!(s.average_price, Some(dec!(192.26)));
        assert_eq!(s.cum_fill, Some(dec!(5)));
        let t: Vec<Trade> = serde_json::from_str(&sample("trades.json")).expect("trades");
        assert_eq!(t[0].order_id, Some(17437897932));
        assert_eq!(t[0].price, Some(dec!(192.26)));
        let c: CancelResponse = serde_json::from_str(&sample("order_cancel.json")).expect("cancel");
        assert_eq!(c.order_id, Some(1370093239));
        let w: WhatIf = serde_json::from_str(&sample("order_whatif.json")).expect("whatif");
        assert_eq!(
            w.amount.and_then(|a| a.commission).as_deref(),
            Some("1 USD")
        );
    }
}
