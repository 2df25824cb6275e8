//! Market-data field ids (`31` last, `84` bid, `86` ask, …) rendered IBKR-style: strings
//! with the contract's decimals, thousands separators and unit suffixes. Shared by the
//! snapshot endpoint and the websocket `smd` topic.

use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use crate::contract::Contract;
use crate::market::quote::Quote;
use crate::portfolio::{Account, dec_from};
use crate::state::Core;
use crate::wire::{fmt_count, fmt_short, fmt_signed, fmt_thousands};

/// Fields IBKR clients commonly ask for (used when a request names none).
pub const DEFAULT_FIELDS: [&str; 10] =
    ["31", "55", "84", "85", "86", "88", "7059", "70", "71", "87"];

fn dp(c: &Contract) -> usize {
    c.decimals as usize
}

fn money(d: Decimal) -> String {
    fmt_thousands(d, 2)
}

/// The value of field `id` for contract `idx`, or `None` when it has no value.
pub fn field(core: &Core, idx: usize, q: &Quote, id: &str) -> Option<Value> {
    let c = &core.market.contracts[idx];
    let s = |x: String| Some(Value::String(x));
    if !q.has_data
        && !matches!(
            id,
            "55" | "6004"
                | "6008"
                | "6070"
                | "7051"
                | "7094"
                | "7184"
                | "7219"
                | "7220"
                | "7221"
                | "7768"
        )
    {
        return None;
    }
    match id {
        "31" => s(c.fmt_price(q.last)),
        "55" => s(c.symbol().to_string()),
        "70" => s(c.fmt_price(q.day_high)),
        "71" => s(c.fmt_price(q.day_low)),
        "82" => s(fmt_signed(q.last - q.prior_close, dp(c))),
        "83" => (q.prior_close > 0.0)
            .then(|| Value::String(fmt_signed((q.last / q.prior_close - 1.0) * 100.0, 2))),
        "84" => s(c.fmt_price(q.bid)),
        "85" => s(fmt_count(q.ask_size)),
        "86" => s(c.fmt_price(q.ask)),
        "87" => s(fmt_short(q.day_volume)),
        "88" => s(fmt_count(q.bid_size)),
        "6004" => s(c.inst.exchange.clone()),
        "6008" => s(c.conid.to_string()),
        "6070" => s(c.sec_type().to_string()),
        "7051" => s(c.name.clone()),
        "7059" => s(fmt_count(q.last_size)),
        "7094" => s(format!("{}@{}", c.conid, c.inst.exchange)),
        "7184" | "7768" => s("1".into()),
        "7219" | "7220" => s(c.local_symbol.clone()),
        "7221" => s(c.inst.exchange.clone()),
        "7295" => s(c.fmt_price(q.day_open)),
        "7296" => s(c.fmt_price(q.last)),
        "7635" => s(c.fmt_price(q.mid())),
        "7741" => s(c.fmt_price(q.prior_close)),
        "7762" => s(format!("{}", q.day_volume.round())),
        "73" | "74" | "75" | "76" | "77" | "78" | "79" | "80" => {
            position_field(core, idx, c, q, id)
        }
        _ => None,
    }
}

/// Position fields of the selected account.
fn position_field(core: &Core, idx: usize, c: &Contract, q: &Quote, id: &str) -> Option<Value> {
    let a: &Account = core.account(&core.session.selected_account)?;
    let p = a.positions.get(&idx).copied().unwrap_or_default();
    let v = Account::position_value(c, &p, q);
    let mult = c.inst.multiplier;
    let text = match id {
        "73" => money(v.market_value),
        "74" => format!("{:.*}", dp(c), p.avg_price),
        "75" => money(v.unrealized),
        "76" => p.qty.normalize().to_string(),
        "77" => money(v.unrealized),
        "78" => money(p.qty * (v.mark - dec_from(q.prior_close)) * mult),
        "79" => money(p.realized),
        "80" => {
            let cost = p.qty * p.avg_price * mult;
            if cost.is_zero() {
                "0.00%".into()
            } else {
                format!("{:.2}%", v.unrealized / cost.abs() * Decimal::from(100))
            }
        }
        _ => return None,
    };
    Some(Value::String(text))
}

/// A snapshot / `smd` object: requested fields that have values plus the pseudo-fields.
pub fn snapshot_object<'a>(
    core: &Core,
    idx: usize,
    fields: impl Iterator<Item = &'a str>,
) -> Map<String, Value> {
    let c = &core.market.contracts[idx];
    let q = core.visible_quotes()[idx];
    let mut m = Map::new();
    for f in fields {
        if let Some(v) = field(core, idx, &q, f) {
            m.insert(f.to_string(), v);
        }
    }
    let server_id = format!("q{idx}");
    m.insert("6119".into(), json!(server_id));
    m.insert("6509".into(), json!(if q.has_data { "RpB" } else { "N" }));
    m.insert("server_id".into(), json!(server_id));
    m.insert("conidEx".into(), json!(c.conid.to_string()));
    m.insert("conid".into(), json!(c.conid));
    if q.has_data {
        m.insert("_updated".into(), json!(q.updated_ms));
    }
    m
}
