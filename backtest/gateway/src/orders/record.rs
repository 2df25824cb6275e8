//! What the emulator remembers about an order and an execution, and how IBKR shows them:
//! live-order items (`/iserver/account/orders`, websocket `sor`), the order-status object and
//! execution items (`/iserver/account/trades`, websocket `str`).

use rust_decimal::Decimal;
use serde_json::{Value, json};

use tickline_engine::domain::{OrderType, Side, TimeInForce, Trail};

use crate::contract::Contract;
use crate::wire::{num, time_compact, time_dash};

/// IBKR order statuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderStatus {
    PendingSubmit,
    PreSubmitted,
    Submitted,
    /// Working, with a warning (`WarnState`).
    WarnState,
    /// A cancel was requested and is not confirmed yet; the order can still fill.
    PendingCancel,
    Filled,
    Cancelled,
    Inactive,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::PendingSubmit => "PendingSubmit",
            OrderStatus::PreSubmitted => "PreSubmitted",
            OrderStatus::Submitted => "Submitted",
            OrderStatus::WarnState => "WarnState",
            OrderStatus::PendingCancel => "PendingCancel",
            OrderStatus::Filled => "Filled",
            OrderStatus::Cancelled => "Cancelled",
            OrderStatus::Inactive => "Inactive",
        }
    }

    /// Done: no further fills possible.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            OrderStatus::Filled | OrderStatus::Cancelled | OrderStatus::Inactive
        )
    }

    /// The `filters` spelling (`pre_submitted`, ...).
    pub fn filter_name(self) -> &'static str {
        match self {
            OrderStatus::PendingSubmit => "pending_submit",
            OrderStatus::PreSubmitted => "pre_submitted",
            OrderStatus::Submitted => "submitted",
            OrderStatus::WarnState => "warn_state",
            OrderStatus::PendingCancel => "pending_cancel",
            OrderStatus::Filled => "filled",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::Inactive => "inactive",
        }
    }

    fn colors(self) -> (&'static str, &'static str) {
        match self {
            OrderStatus::PendingSubmit => ("#FFFFFF", "#3399CC"),
            OrderStatus::PreSubmitted => ("#FFFFFF", "#0000CC"),
            OrderStatus::Submitted => ("#000000", "#00F000"),
            OrderStatus::WarnState => ("#000000", "#FFFF00"),
            OrderStatus::PendingCancel => ("#FFFFFF", "#AD0000"),
            OrderStatus::Filled => ("#FFFFFF", "#000000"),
            OrderStatus::Cancelled | OrderStatus::Inactive => ("#FFFFFF", "#AD0000"),
        }
    }

    fn description(self) -> &'static str {
        match self {
            OrderStatus::PendingSubmit => "Order Pending Submit",
            OrderStatus::PreSubmitted => "Order Pre-Submitted",
            OrderStatus::Submitted => "Order Submitted",
            OrderStatus::WarnState => "Order Submitted with a warning",
            OrderStatus::PendingCancel => "Order Pending Cancel",
            OrderStatus::Filled => "Order Filled",
            OrderStatus::Cancelled => "Order Cancelled",
            OrderStatus::Inactive => "Order Inactive",
        }
    }
}

/// One order of the session.
#[derive(Clone, Debug, PartialEq)]
pub struct OrderRecord {
    pub id: u64,
    pub account: String,
    pub index: usize,
    pub conid: i64,
    pub side: Side,
    pub quantity: Decimal,
    pub order_type: OrderType,
    pub limit: Option<Decimal>,
    pub stop: Option<Decimal>,
    pub trail: Option<Trail>,
    pub tif: TimeInForce,
    pub outside_rth: bool,
    pub coid: Option<String>,
    pub parent: Option<u64>,
    /// The OCA group (named by its first member's id; a bracket's by its parent's).
    pub oca: Option<u64>,
    pub status: OrderStatus,
    pub filled: Decimal,
    pub filled_value: Decimal,
    pub created_ms: i64,
    pub last_ms: i64,
    pub reason: Option<String>,
    /// The warning of a `WarnState` order.
    pub warning: Option<String>,
    /// Held behind an unanswered server prompt (`p12`): not yet at the simulated broker.
    pub awaiting_prompt: bool,
}

fn type_names(t: OrderType) -> (&'static str, &'static str) {
    match t {
        OrderType::Market => ("Market", "MARKET"),
        OrderType::Limit => ("Limit", "LIMIT"),
        OrderType::Stop => ("Stop", "STOP"),
        OrderType::StopLimit => ("Stop Limit", "STOP_LIMIT"),
        OrderType::TrailingStop => ("Trail", "TRAIL"),
        OrderType::TrailingStopLimit => ("Trail Limit", "TRAILLMT"),
        OrderType::MarketOnClose => ("MOC", "MOC"),
        OrderType::LimitOnClose => ("LOC", "LOC"),
        OrderType::MidPrice => ("Midprice", "MIDPRICE"),
    }
}

fn tif_name(t: TimeInForce) -> (&'static str, &'static str) {
    match t {
        TimeInForce::Day => ("Day", "DAY"),
        TimeInForce::Gtc => ("GTC", "GTC"),
        TimeInForce::Ioc => ("IOC", "IOC"),
        TimeInForce::Opg => ("OPG", "OPG"),
    }
}

fn qty_str(q: Decimal) -> String {
    q.normalize().to_string()
}

fn px(c: &Contract, p: Decimal) -> String {
    format!("{:.*}", c.decimals as usize, p)
}

impl OrderRecord {
    pub fn remaining(&self) -> Decimal {
        if self.status.is_terminal() {
            Decimal::ZERO
        } else {
            self.quantity - self.filled
        }
    }

    pub fn avg_price(&self) -> Option<Decimal> {
        (!self.filled.is_zero()).then(|| self.filled_value / self.filled)
    }

    fn price_part(&self, c: &Contract) -> String {
        match self.order_type {
            OrderType::Market | OrderType::MarketOnClose => String::new(),
            OrderType::Limit | OrderType::LimitOnClose | OrderType::MidPrice => self
                .limit
                .map(|p| format!(" {}", px(c, p)))
                .unwrap_or_default(),
            OrderType::Stop | OrderType::TrailingStop => self
                .stop
                .map(|p| format!(" {}", px(c, p)))
                .unwrap_or_default(),
            OrderType::StopLimit | OrderType::TrailingStopLimit => match (self.stop, self.limit) {
                (Some(s), Some(l)) => format!(" {} {}", px(c, s), px(c, l)),
                _ => String::new(),
            },
        }
    }

    /// `"Buy 1 Limit 457.00, GTC"` / `"Sold 5 Market, Day"`.
    pub fn description(&self, c: &Contract, with_contract: bool) -> String {
        let filled = self.status == OrderStatus::Filled;
        let verb = match (self.side, filled) {
            (Side::Buy, false) => "Buy",
            (Side::Sell, false) => "Sell",
            (Side::Buy, true) => "Bought",
            (Side::Sell, true) => "Sold",
        };
        let sym = if with_contract {
            format!(" {}", c.symbol())
        } else {
            String::new()
        };
        format!(
            "{verb} {}{sym} {}{}, {}",
            qty_str(if filled { self.filled } else { self.quantity }),
            type_names(self.order_type).0,
            self.price_part(c),
            tif_name(self.tif).0
        )
    }

    fn size_and_fills(&self) -> String {
        if self.status.is_terminal() {
            qty_str(self.filled)
        } else {
            format!(
                "{}/{}",
                qty_str(self.filled),
                qty_str(self.quantity - self.filled)
            )
        }
    }

    /// A live-order item (also the full `sor` object).
    pub fn live_json(&self, c: &Contract) -> Value {
        let (bg, fg) = self.status.colors();
        let (ot, orig) = type_names(self.order_type);
        let mut v = json!({
            "acct": self.account,
            "account": self.account,
            "conidex": c.conid.to_string(),
            "conid": c.conid,
            "orderId": self.id,
            "cashCcy": c.inst.currency,
            "sizeAndFills": self.size_and_fills(),
            "orderDesc": self.description(c, false),
            "description1": c.symbol(),
            "ticker": c.symbol(),
            "secType": c.sec_type(),
            "listingExchange": c.inst.exchange,
            "remainingQuantity": num(self.remaining()),
            "filledQuantity": num(self.filled),
            "totalSize": num(self.quantity),
            "companyName": c.name,
            "status": self.status.as_str(),
            "order_ccp_status": self.status.as_str(),
            "origOrderType": orig,
            "supportsTaxOpt": "1",
            "lastExecutionTime": time_compact(self.last_ms),
            "orderType": ot,
            "bgColor": bg,
            "fgColor": fg,
            "isEventTrading": "0",
            "timeInForce": tif_name(self.tif).1,
            "lastExecutionTime_r": self.last_ms,
            "side": self.side.as_str(),
            "outsideRTH": self.outside_rth,
        });
        if let Value::Object(m) = &mut v {
            if let Some(r) = &self.coid {
                m.insert("order_ref".into(), json!(r));
            }
            if let Some(p) = self.limit {
                m.insert("price".into(), json!(px(c, p)));
            }
            if let Some(p) = self.stop {
                let key = if self.order_type == OrderType::Stop {
                    "price"
                } else {
                    "auxPrice"
                };
                m.insert(key.into(), json!(px(c, p)));
            }
            if let Some(a) = self.avg_price() {
                m.insert("avgPrice".into(), json!(px(c, c.inst.round_price(a))));
            }
            if let Some(p) = self.parent {
                m.insert("parentId".into(), json!(p));
            }
            if let Some(r) = &self.reason {
                m.insert("order_cancellation_by_system_reason".into(), json!(r));
            }
            if let Some(w) = &self.warning {
                m.insert("warning_message".into(), json!(w));
            }
        }
        v
    }

    /// `/iserver/account/order/status/{orderId}`.
    pub fn status_json(&self, c: &Contract) -> Value {
        let (bg, fg) = self.status.colors();
        let mut v = json!({
            "sub_type": null,
            "request_id": self.id.to_string(),
            "server_id": "0",
            "order_id": self.id,
            "conidex": c.conid.to_string(),
            "conid": c.conid,
            "symbol": c.symbol(),
            "side": if self.side == Side::Buy { "B" } else { "S" },
            "contract_description_1": c.symbol(),
            "listing_exchange": c.inst.exchange,
            "option_acct": "c",
            "company_name": c.name,
            "size": format!("{:.1}", self.remaining()),
            "total_size": format!("{:.1}", self.quantity),
            "currency": c.inst.currency,
            "account": self.account,
            "order_type": type_names(self.order_type).1,
            "cum_fill": format!("{:.1}", self.filled),
            "order_status": self.status.as_str(),
            "order_ccp_status": self.status.as_str(),
            "order_status_description": self.status.description(),
            "tif": tif_name(self.tif).1,
            "fg_color": fg,
            "bg_color": bg,
            "order_not_editable": self.status.is_terminal(),
            "editable_fields": "",
            "cannot_cancel_order": self.status.is_terminal(),
            "deactivate_order": false,
            "sec_type": c.sec_type(),
            "available_chart_periods": "#R|1",
            "order_description": self.description(c, false),
            "order_description_with_contract": self.description(c, true),
            "alert_active": 1,
            "child_order_type": "0",
            "order_clearing_account": self.account,
            "size_and_fills": self.size_and_fills(),
            "allowed_duplicate_opposite": true,
            "order_time": time_compact(self.created_ms),
            "outside_rth": self.outside_rth,
        });
        if let Value::Object(m) = &mut v {
            if let Some(p) = self.limit {
                m.insert("limit_price".into(), json!(px(c, p)));
            }
            if let Some(p) = self.stop {
                m.insert("stop_price".into(), json!(px(c, p)));
            }
            if let Some(a) = self.avg_price() {
                m.insert("average_price".into(), json!(px(c, c.inst.round_price(a))));
            }
            if let Some(r) = &self.coid {
                m.insert("order_ref".into(), json!(r));
            }
            if let Some(p) = self.parent {
                m.insert("parent_order_id".into(), json!(p));
            }
            if let Some(w) = &self.warning {
                m.insert("warning_message".into(), json!(w));
            }
        }
        v
    }
}

/// One execution.
#[derive(Clone, Debug, PartialEq)]
pub struct Execution {
    pub id: String,
    pub order_id: u64,
    pub account: String,
    pub index: usize,
    pub side: Side,
    pub quantity: Decimal,
    pub price: Decimal,
    pub commission: Decimal,
    pub ts_ms: i64,
    pub coid: Option<String>,
}

impl Execution {
    /// A trades item; `position` (the account's position after the fill) is added on `str`.
    pub fn json(&self, c: &Contract, user: &str, position: Option<Decimal>) -> Value {
        let verb = if self.side == Side::Buy {
            "Bot"
        } else {
            "Sold"
        };
        let mut v = json!({
            "execution_id": self.id,
            "symbol": c.symbol(),
            "supports_tax_opt": "1",
            "side": if self.side == Side::Buy { "B" } else { "S" },
            "order_description": format!("{verb} {} @ {} on {}", qty_str(self.quantity), px(c, self.price), c.inst.exchange),
            "trade_time": time_dash(self.ts_ms),
            "trade_time_r": self.ts_ms,
            "size": num(self.quantity),
            "price": px(c, self.price),
            "submitter": user,
            "exchange": c.inst.exchange,
            "commission": self.commission.round_dp(4).normalize().to_string(),
            "net_amount": num(self.quantity * self.price * c.inst.multiplier),
            "account": self.account,
            "accountCode": self.account,
            "account_allocation_name": self.account,
            "company_name": c.name,
            "contract_description_1": c.symbol(),
            "sec_type": c.sec_type(),
            "listing_exchange": c.inst.exchange,
            "conid": c.conid,
            "conidEx": c.conid.to_string(),
            "clearing_id": "IB",
            "clearing_name": "IB",
            "liquidation_trade": "0",
            "is_event_trading": "0",
            "order_id": self.order_id,
        });
        if let Value::Object(m) = &mut v {
            if let Some(r) = &self.coid {
                m.insert("order_ref".into(), json!(r));
            }
            if let Some(p) = position {
                m.insert("position".into(), json!(qty_str(p)));
            }
        }
        v
    }
}
