//! Websocket account topics: `ssd` (account summary) and `sld` (ledger) result lists, built
//! from the same valuation as the REST portfolio endpoints.

use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use crate::portfolio::Account;
use crate::state::Core;
use crate::wire::num;

/// Keep only `fields` (plus `key`, `timestamp`, `acctCode`) when a filter was given.
fn filter(mut entries: Vec<Map<String, Value>>, keys: &[String], fields: &[String]) -> Vec<Value> {
    if !keys.is_empty() {
        entries.retain(|e| {
            e.get("key")
                .and_then(Value::as_str)
                .is_some_and(|k| keys.iter().any(|x| x == k))
        });
    }
    entries
        .into_iter()
        .map(|mut e| {
            if !fields.is_empty() {
                e.retain(|k, _| {
                    matches!(k.as_str(), "key" | "timestamp" | "acctCode")
                        || fields.iter().any(|f| f == k)
                });
            }
            Value::Object(e)
        })
        .collect()
}

fn money_entry(key: &str, ccy: &str, amount: Decimal, ts: i64) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("key".into(), json!(key));
    m.insert("currency".into(), json!(ccy));
    m.insert("monetaryValue".into(), num(amount.round_dp(2)));
    m.insert("severity".into(), json!(0));
    m.insert("timestamp".into(), json!(ts));
    m
}

/// `ssd+{acct}` result entries (`None` for an unknown account).
pub fn summary(core: &Core, acct: &str, keys: &[String], fields: &[String]) -> Option<Vec<Value>> {
    let a: &Account = core.account(acct)?;
    let v = a.valuation(&core.market.contracts, &core.market.quotes);
    let ts = core.market.now_ms();
    let ccy = a.currency.as_str();
    let mut entries = Vec::new();
    let mut code = Map::new();
    code.insert("key".into(), json!("AccountCode"));
    code.insert("value".into(), json!(a.id));
    code.insert("timestamp".into(), json!(ts));
    entries.push(code);
    for (key, amount) in [
        ("NetLiquidation", v.nlv),
        ("EquityWithLoanValue", v.nlv),
        ("TotalCashValue", v.cash),
        ("SettledCash", v.cash),
        ("GrossPositionValue", v.gross_position_value),
        ("InitMarginReq", v.init_margin),
        ("MaintMarginReq", v.maint_margin),
        ("AvailableFunds", v.available_funds()),
        ("ExcessLiquidity", v.excess_liquidity()),
        ("BuyingPower", v.buying_power()),
        ("UnrealizedPnL", v.unrealized),
        ("RealizedPnL", v.realized),
    ] {
        entries.push(money_entry(key, ccy, amount, ts));
        entries.push(money_entry(&format!("{key}-S"), ccy, amount, ts));
    }
    Some(filter(entries, keys, fields))
}

/// `sld+{acct}` result entries: `LedgerListBASE` and the base currency.
pub fn ledger(core: &Core, acct: &str, keys: &[String], fields: &[String]) -> Option<Vec<Value>> {
    let a: &Account = core.account(acct)?;
    let v = a.valuation(&core.market.contracts, &core.market.quotes);
    let ts = core.market.now_ms();
    let entry = |suffix: &str| {
        let mut m = Map::new();
        m.insert("key".into(), json!(format!("LedgerList{suffix}")));
        m.insert("acctCode".into(), json!(a.id));
        m.insert("cashbalance".into(), num(v.cash.round_dp(2)));
        m.insert("settledCash".into(), num(v.cash.round_dp(2)));
        m.insert("exchangeRate".into(), json!(1));
        m.insert("netLiquidationValue".into(), num(v.nlv.round_dp(2)));
        m.insert("stockMarketValue".into(), num(v.stock_value.round_dp(2)));
        m.insert("futureMarketValue".into(), num(v.future_value.round_dp(2)));
        m.insert("unrealizedPnl".into(), num(v.unrealized.round_dp(2)));
        m.insert("realizedPnl".into(), num(v.realized.round_dp(2)));
        m.insert("secondKey".into(), json!(suffix));
        m.insert("timestamp".into(), json!(ts / 1_000));
        m
    };
    Some(filter(
        vec![entry("BASE"), entry(&a.currency)],
        keys,
        fields,
    ))
}
