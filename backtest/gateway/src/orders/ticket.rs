//! Order tickets as clients send them (`{"orders":[{...}]}` items and modify bodies), parsed
//! and validated field by field. Numbers may arrive as JSON numbers or numeric strings;
//! enumerations are case-insensitive, as IBKR's examples mix `BUY` and `Buy`.

use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::{Map, Value};

use tickline_engine::domain::{OrderType, Side, TimeInForce, Trail};

use crate::contract::Contract;

/// Largest accepted order quantity (keeps every amount far from `Decimal`'s range).
pub const MAX_QUANTITY: i64 = 1_000_000_000;
/// Largest accepted order price.
pub const MAX_PRICE: i64 = 1_000_000_000;

/// A validated ticket.
#[derive(Clone, Debug, PartialEq)]
pub struct Ticket {
    pub acct_id: Option<String>,
    pub conid: i64,
    /// Index of the contract in the universe.
    pub index: usize,
    pub side: Side,
    pub quantity: Decimal,
    pub order_type: OrderType,
    pub limit: Option<Decimal>,
    pub stop: Option<Decimal>,
    /// `trailingAmt` + `trailingType` of TRAIL / TRAILLMT.
    pub trail: Option<Trail>,
    pub tif: TimeInForce,
    pub coid: Option<String>,
    pub parent_coid: Option<String>,
    pub single_group: bool,
    pub outside_rth: bool,
}

/// Why a ticket is unusable: names the field (`orders[1].price`) and the problem.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct TicketError {
    pub field: String,
    pub message: String,
}

struct Reader<'a> {
    obj: &'a Map<String, Value>,
    at: &'a str,
}

impl Reader<'_> {
    fn err(&self, key: &str, message: impl Into<String>) -> TicketError {
        TicketError {
            field: if self.at.is_empty() {
                key.to_string()
            } else {
                format!("{}.{key}", self.at)
            },
            message: message.into(),
        }
    }

    fn get(&self, key: &str) -> Option<&Value> {
        self.obj.get(key).filter(|v| !v.is_null())
    }

    fn string(&self, key: &str) -> Result<Option<String>, TicketError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(other) => Err(self.err(key, format!("expected a string, got {}", kind(other)))),
        }
    }

    fn required_string(&self, key: &str) -> Result<String, TicketError> {
        self.string(key)?
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| self.err(key, "is required"))
    }

    fn decimal(&self, key: &str) -> Result<Option<Decimal>, TicketError> {
        let text = match self.get(key) {
            None => return Ok(None),
            Some(Value::Number(n)) => n.to_string(),
            Some(Value::String(s)) => s.trim().to_string(),
            Some(other) => {
                return Err(self.err(key, format!("expected a number, got {}", kind(other))));
            }
        };
        Decimal::from_str(&text)
            .or_else(|_| Decimal::from_scientific(&text))
            .map(Some)
            .map_err(|_| self.err(key, format!("{text:?} is not a number")))
    }

    fn boolean(&self, key: &str) -> Result<bool, TicketError> {
        match self.get(key) {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(true),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(false),
            Some(other) => Err(self.err(key, format!("expected true or false, got {other}"))),
        }
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Parse an order type name (`LMT`, `MKT`, `STP`, `STOP_LIMIT`, also `STP LMT`, `TRAIL`,
/// `TRAILLMT`, `MOC`, `LOC`, `MIDPRICE`).
pub fn parse_order_type(s: &str) -> Option<OrderType> {
    match s.trim().to_ascii_uppercase().as_str() {
        "TRAIL" => Some(OrderType::TrailingStop),
        "TRAILLMT" | "TRAIL_LIMIT" => Some(OrderType::TrailingStopLimit),
        "MOC" => Some(OrderType::MarketOnClose),
        "LOC" => Some(OrderType::LimitOnClose),
        "MIDPRICE" => Some(OrderType::MidPrice),
        "LMT" | "LIMIT" => Some(OrderType::Limit),
        "MKT" | "MARKET" => Some(OrderType::Market),
        "STP" | "STOP" => Some(OrderType::Stop),
        "STOP_LIMIT" | "STP LMT" | "STPLMT" | "STP_LMT" => Some(OrderType::StopLimit),
        _ => None,
    }
}

/// Parse and validate one ticket at `at` (e.g. `orders[0]`), resolving its contract.
pub fn parse_ticket<'c>(
    value: &Value,
    at: &str,
    contract_of: &dyn Fn(i64) -> Option<&'c Contract>,
) -> Result<(Ticket, &'c Contract), TicketError> {
    let Value::Object(obj) = value else {
        return Err(TicketError {
            field: if at.is_empty() {
                "body".into()
            } else {
                at.into()
            },
            message: format!("expected an order object, got {}", kind(value)),
        });
    };
    let r = Reader { obj, at };

    let conid = match (r.get("conid"), r.string("conidex")?) {
        (Some(_), _) => {
            let d = r.decimal("conid")?.unwrap_or_default();
            if d.fract() != Decimal::ZERO || d <= Decimal::ZERO {
                return Err(r.err("conid", format!("must be a positive integer, got {d}")));
            }
            i64::try_from(d).map_err(|_| r.err("conid", "out of range"))?
        }
        (None, Some(cx)) => {
            if cx.contains(';') {
                return Err(r.err(
                    "conidex",
                    "combination orders are not supported by the emulator",
                ));
            }
            let head = cx.split('@').next().unwrap_or_default();
            head.trim()
                .parse::<i64>()
                .ok()
                .filter(|c| *c > 0)
                .ok_or_else(|| r.err("conidex", format!("{cx:?} is not conid or conid@EXCHANGE")))?
        }
        (None, None) => return Err(r.err("conid", "is required")),
    };
    let key = if r.get("conid").is_some() {
        "conid"
    } else {
        "conidex"
    };
    let contract =
        contract_of(conid).ok_or_else(|| r.err(key, format!("unknown contract {conid}")))?;

    let side_s = r.required_string("side")?;
    let side = match side_s.trim().to_ascii_uppercase().as_str() {
        "BUY" => Side::Buy,
        "SELL" => Side::Sell,
        _ => return Err(r.err("side", format!("expected BUY or SELL, got {side_s:?}"))),
    };

    let ot_s = r.required_string("orderType")?;
    let order_type = parse_order_type(&ot_s).ok_or_else(|| {
        r.err(
            "orderType",
            format!(
                "unsupported order type {ot_s:?} (the emulator supports LMT, MKT, STP, STOP_LIMIT, TRAIL, TRAILLMT, MOC, LOC, MIDPRICE)"
            ),
        )
    })?;

    if r.get("cashQty").is_some() || r.get("fxQty").is_some() {
        return Err(r.err(
            "cashQty",
            "cash-quantity orders are not supported by the emulator; send quantity",
        ));
    }
    let quantity = r
        .decimal("quantity")?
        .ok_or_else(|| r.err("quantity", "is required"))?;
    if quantity <= Decimal::ZERO || quantity > Decimal::from(MAX_QUANTITY) {
        return Err(r.err(
            "quantity",
            format!("must be positive and at most {MAX_QUANTITY}, got {quantity}"),
        ));
    }
    if contract.inst.round_qty(quantity) != quantity.normalize() {
        return Err(r.err(
            "quantity",
            format!(
                "{quantity} is not a multiple of the lot size {}",
                contract.inst.lot_size.normalize()
            ),
        ));
    }

    let price = r.decimal("price")?;
    let aux = r.decimal("auxPrice")?;
    let (limit, stop) = match order_type {
        OrderType::Market => (None, None),
        OrderType::Limit => (
            Some(price.ok_or_else(|| r.err("price", "is required for LMT orders"))?),
            None,
        ),
        OrderType::Stop => {
            let s = aux
                .or(price)
                .ok_or_else(|| r.err("price", "is required for STP orders (the stop price)"))?;
            (None, Some(s))
        }
        OrderType::StopLimit => (
            Some(price.ok_or_else(|| {
                r.err(
                    "price",
                    "is required for STOP_LIMIT orders (the limit price)",
                )
            })?),
            Some(aux.ok_or_else(|| {
                r.err(
                    "auxPrice",
                    "is required for STOP_LIMIT orders (the stop price)",
                )
            })?),
        ),
        OrderType::TrailingStop => (None, aux.or(price)),
        OrderType::TrailingStopLimit => (
            Some(price.ok_or_else(|| {
                r.err(
                    "price",
                    "is required for TRAILLMT orders (the initial limit)",
                )
            })?),
            Some(aux.ok_or_else(|| {
                r.err(
                    "auxPrice",
                    "is required for TRAILLMT orders (the initial stop)",
                )
            })?),
        ),
        OrderType::MarketOnClose => (None, None),
        OrderType::LimitOnClose => (
            Some(price.ok_or_else(|| r.err("price", "is required for LOC orders"))?),
            None,
        ),
        OrderType::MidPrice => (price, None),
    };
    let trail = if order_type.is_trailing() {
        let amount = r
            .decimal("trailingAmt")?
            .filter(|a| *a > Decimal::ZERO)
            .ok_or_else(|| r.err("trailingAmt", "is required (positive) for trailing orders"))?;
        let kind = r.string("trailingType")?.unwrap_or_default();
        Some(match kind.as_str() {
            "amt" => Trail::Amount(amount),
            "%" if amount < Decimal::ONE_HUNDRED => Trail::Percent(amount),
            other => {
                return Err(r.err(
                    "trailingType",
                    format!("must be \"amt\" or \"%\" (a percentage under 100), got {other:?}"),
                ));
            }
        })
    } else {
        None
    };

    for (key, p) in [
        ("price", limit),
        (
            if order_type == OrderType::Stop && aux.is_none() {
                "price"
            } else {
                "auxPrice"
            },
            stop,
        ),
    ] {
        if let Some(p) = p {
            if p <= Decimal::ZERO || p > Decimal::from(MAX_PRICE) {
                return Err(r.err(
                    key,
                    format!("must be positive and at most {MAX_PRICE}, got {p}"),
                ));
            }
            if !contract.inst.is_on_tick(p) {
                return Err(r.err(
                    key,
                    format!(
                        "{p} does not conform to the minimum price variation {} of {}",
                        contract.inst.tick_size.normalize(),
                        contract.symbol()
                    ),
                ));
            }
        }
    }

    let tif_s = r.required_string("tif")?;
    let tif = match tif_s.trim().to_ascii_uppercase().as_str() {
        "DAY" => TimeInForce::Day,
        "GTC" => TimeInForce::Gtc,
        "IOC" => TimeInForce::Ioc,
        "OPG" if matches!(order_type, OrderType::Market | OrderType::Limit) => TimeInForce::Opg,
        other => {
            return Err(r.err(
                "tif",
                format!(
                    "unsupported time in force {other:?} for {} orders (the emulator supports DAY, GTC, IOC, and OPG on MKT and LMT)",
                    order_type.as_str()
                ),
            ));
        }
    };

    let coid = r.string("cOID")?.filter(|s| !s.is_empty());
    if let Some(c) = &coid
        && (c.len() > 64 || !c.bytes().all(|b| b.is_ascii_graphic()))
    {
        return Err(r.err("cOID", "must be at most 64 printable ASCII characters"));
    }
    Ok((
        Ticket {
            acct_id: r.string("acctId")?,
            conid,
            index: contract.inst.id.index(),
            side,
            quantity: quantity.normalize(),
            order_type,
            limit,
            stop,
            trail,
            tif,
            coid,
            parent_coid: r.string("parentId")?.filter(|s| !s.is_empty()),
            single_group: r.boolean("isSingleGroup")?,
            outside_rth: r.boolean("outsideRTH")?,
        },
        contract,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::build_universe;
    use rust_decimal::dec;
    use serde_json::json;

    fn parse(v: Value) -> Result<Ticket, TicketError> {
        let u = build_universe(&[], 0).unwrap();
        let f = |c: i64| u.iter().find(|k| k.conid == c);
        parse_ticket(&v, "orders[0]", &f).map(|(t, _)| t)
    }

    #[test]
    fn accepts_ibkr_examples() {
        let t = parse(
            json!({"acctId":"DU1234567","conid":265598,"orderType":"LMT","price":165.0,
            "side":"BUY","tif":"DAY","quantity":100,"cOID":"my-ord-1"}),
        )
        .unwrap();
        assert_eq!(
            (t.side, t.order_type, t.limit, t.quantity),
            (Side::Buy, OrderType::Limit, Some(dec!(165.0)), dec!(100))
        );
        let t = parse(json!({"conid":"265598","orderType":"stp","price":"150","side":"Sell","tif":"gtc","quantity":"50"})).unwrap();
        assert_eq!(
            (t.stop, t.limit, t.tif),
            (Some(dec!(150)), None, TimeInForce::Gtc)
        );
        let t = parse(
            json!({"conidex":"265598@SMART","orderType":"STOP_LIMIT","price":149.5,"auxPrice":150,
            "side":"SELL","tif":"DAY","quantity":1}),
        )
        .unwrap();
        assert_eq!((t.stop, t.limit), (Some(dec!(150)), Some(dec!(149.5))));
    }

    #[test]
    fn names_the_bad_field() {
        let cases = [
            (
                json!({"orderType":"LMT","price":1,"side":"BUY","tif":"DAY","quantity":1}),
                "orders[0].conid",
                "required",
            ),
            (
                json!({"conid":1,"orderType":"LMT","price":1,"side":"BUY","tif":"DAY","quantity":1}),
                "orders[0].conid",
                "unknown contract 1",
            ),
            (
                json!({"conid":265598,"orderType":"LMT","side":"BUY","tif":"DAY","quantity":1}),
                "orders[0].price",
                "required",
            ),
            (
                json!({"conid":265598,"orderType":"LMT","price":1.001,"side":"BUY","tif":"DAY","quantity":1}),
                "orders[0].price",
                "minimum price variation",
            ),
            (
                json!({"conid":265598,"orderType":"LMT","price":1,"side":"HOLD","tif":"DAY","quantity":1}),
                "orders[0].side",
                "BUY or SELL",
            ),
            (
                json!({"conid":265598,"orderType":"REL","side":"BUY","tif":"DAY","quantity":1}),
                "orders[0].orderType",
                "unsupported",
            ),
            (
                json!({"conid":265598,"orderType":"TRAIL","side":"BUY","tif":"DAY","quantity":1}),
                "orders[0].trailingAmt",
                "is required",
            ),
            (
                json!({"conid":265598,"orderType":"TRAIL","side":"SELL","tif":"DAY","quantity":1,"trailingAmt":2,"trailingType":"pct"}),
                "orders[0].trailingType",
                "must be",
            ),
            (
                json!({"conid":265598,"orderType":"TRAILLMT","side":"SELL","tif":"DAY","quantity":1,"price":180,"trailingAmt":2,"trailingType":"amt"}),
                "orders[0].auxPrice",
                "initial stop",
            ),
            (
                json!({"conid":265598,"orderType":"STP","price":180,"side":"SELL","tif":"OPG","quantity":1}),
                "orders[0].tif",
                "OPG on MKT and LMT",
            ),
            (
                json!({"conid":265598,"orderType":"MKT","side":"BUY","tif":"DAY","quantity":-5}),
                "orders[0].quantity",
                "positive",
            ),
            (
                json!({"conid":265598,"orderType":"MKT","side":"BUY","tif":"DAY","quantity":1.5}),
                "orders[0].quantity",
                "lot size",
            ),
            (
                json!({"conid":265598,"orderType":"MKT","side":"BUY","tif":"DAY","quantity":"x"}),
                "orders[0].quantity",
                "not a number",
            ),
            (
                json!({"conid":265598,"orderType":"MKT","side":"BUY","tif":"PAX","quantity":1}),
                "orders[0].tif",
                "unsupported",
            ),
            (
                json!({"conid":265598,"orderType":"MKT","side":"BUY","quantity":1}),
                "orders[0].tif",
                "required",
            ),
            (
                json!({"conid":265598,"orderType":"MKT","side":"BUY","tif":"DAY","quantity":1,"outsideRTH":"maybe"}),
                "orders[0].outsideRTH",
                "true or false",
            ),
            (
                json!({"conidex":"28812380;;;265598/1,8314/-1","orderType":"MKT","side":"BUY","tif":"DAY","quantity":1}),
                "orders[0].conidex",
                "combination",
            ),
            (json!([1, 2]), "orders[0]", "order object"),
        ];
        for (v, field, msg) in cases {
            let e = parse(v.clone()).unwrap_err();
            assert_eq!(e.field, field, "{v}");
            assert!(e.message.contains(msg), "{v}: {}", e.message);
        }
    }
}
