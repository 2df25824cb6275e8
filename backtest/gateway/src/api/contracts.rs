//! Contract discovery and details: secdef search / info / strikes, `/trsrv/*`, contract
//! info and rules, trading schedules, exchange rates and currency pairs.

use chrono::{Duration, NaiveDate};
use serde_json::{Map, Value, json};

use tickline_engine::domain::SecType;

use crate::api::error::ApiError;
use crate::api::request::{Req, json_conid, parse_bool, parse_conid};
use crate::contract::Contract;
use crate::schedule::day_sessions;
use crate::state::Core;

fn contract(core: &Core, conid: i64) -> Result<&Contract, ApiError> {
    core.market
        .contract(conid)
        .ok_or_else(|| ApiError::bad(format!("conid {conid} is not a known contract")))
}

fn path_contract<'a>(core: &'a Core, seg: &str) -> Result<&'a Contract, ApiError> {
    contract(core, parse_conid(seg, "conid")?)
}

/// Comma-separated symbols from a query parameter.
fn symbols(req: &Req) -> Result<Vec<String>, ApiError> {
    let raw = req.q_required("symbols")?;
    Ok(raw
        .split(',')
        .map(|s| s.trim().to_ascii_uppercase())
        .filter(|s| !s.is_empty())
        .collect())
}

fn search_entry(c: &Contract) -> Value {
    let mut sections = Vec::new();
    let conid = match c.inst.sec_type {
        SecType::Fut => {
            sections.push(json!({"secType": "IND", "exchange": format!("{};", c.inst.exchange)}));
            sections.push(json!({"secType": "FUT", "months": c.contract_month(), "exchange": c.inst.exchange}));
            c.underlying_conid.unwrap_or(c.conid)
        }
        t => {
            sections.push(json!({"secType": t.as_str(), "exchange": c.inst.exchange}));
            c.conid
        }
    };
    json!({
        "conid": conid.to_string(),
        "companyHeader": format!("{} - {}", c.name, c.inst.exchange),
        "companyName": c.name,
        "symbol": c.symbol(),
        "description": c.inst.exchange,
        "restricted": null,
        "fop": null,
        "opt": null,
        "war": null,
        "sections": sections,
    })
}

/// `GET|POST /iserver/secdef/search` — `symbol*`, `secType`, `name`.
pub fn search(core: &mut Core, req: &Req, _: &[&str]) -> Result<Value, ApiError> {
    let body = if req.method == "POST" {
        req.json_object()?
    } else {
        Map::new()
    };
    let field = |k: &str| -> Option<String> {
        match body.get(k) {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Bool(b)) => Some(b.to_string()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => req.q(k).map(str::to_string),
        }
    };
    let symbol = field("symbol")
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| ApiError::bad("symbol is required"))?;
    let by_name = match field("name") {
        Some(s) => parse_bool(&s)
            .ok_or_else(|| ApiError::bad(format!("name: expected true or false, got {s:?}")))?,
        None => false,
    };
    let sec_type = field("secType").map(|s| s.to_ascii_uppercase());
    let needle = symbol.trim().to_ascii_uppercase();
    let out: Vec<Value> = core
        .market
        .contracts
        .iter()
        .filter(|c| {
            let sym = c.symbol().to_ascii_uppercase();
            let base = sym.split('.').next().unwrap_or_default().to_string();
            let hit = sym == needle
                || base == needle
                || (by_name && c.name.to_ascii_uppercase().contains(&needle));
            let type_ok = match sec_type.as_deref() {
                None | Some("") => true,
                Some("IND") => c.inst.sec_type == SecType::Fut,
                Some(t) => c.sec_type() == t,
            };
            hit && type_ok
        })
        .map(search_entry)
        .collect();
    Ok(Value::Array(out))
}

fn secdef_info_entry(c: &Contract) -> Value {
    json!({
        "conid": c.conid,
        "ticker": c.symbol(),
        "secType": c.sec_type(),
        "listingExchange": c.inst.exchange,
        "exchange": c.inst.exchange,
        "companyName": c.name,
        "currency": c.inst.currency,
        "validExchanges": c.valid_exchanges(),
        "priceRendering": null,
        "maturityDate": c.expiry.map(|d| d.format("%Y%m%d").to_string()),
        "right": "?",
        "strike": 0,
        "desc1": c.symbol(),
        "desc2": c.contract_month(),
        "multiplier": c.inst.multiplier.normalize().to_string(),
        "tradingClass": c.symbol(),
    })
}

/// `GET /iserver/secdef/info` — `conid*`, `sectype`, `month`: futures by underlier and month,
/// or the contract itself.
pub fn secdef_info(core: &mut Core, req: &Req, _: &[&str]) -> Result<Value, ApiError> {
    let conid = parse_conid(req.q_required("conid")?, "conid")?;
    let sectype = req
        .q("sectype")
        .or(req.q("secType"))
        .map(str::to_ascii_uppercase);
    let month = req.q("month").map(str::to_ascii_uppercase);
    let by_underlying: Vec<&Contract> = core
        .market
        .contracts
        .iter()
        .filter(|c| c.underlying_conid == Some(conid))
        .filter(|c| sectype.as_deref().is_none_or(|t| t == c.sec_type()))
        .filter(|c| month.is_none() || c.contract_month() == month)
        .collect();
    if !by_underlying.is_empty() {
        return Ok(Value::Array(
            by_underlying.into_iter().map(secdef_info_entry).collect(),
        ));
    }
    if core
        .market
        .contracts
        .iter()
        .any(|c| c.underlying_conid == Some(conid))
    {
        return Ok(json!([]));
    }
    let c = contract(core, conid)?;
    match sectype.as_deref() {
        None | Some("") => Ok(json!([secdef_info_entry(c)])),
        Some(t) if t == c.sec_type() => Ok(json!([secdef_info_entry(c)])),
        // Derivatives (options, warrants) are not simulated.
        Some(_) => Ok(json!([])),
    }
}

/// `GET /iserver/secdef/strikes` — `conid*`, `sectype*`, `month*` (no options simulated).
pub fn strikes(core: &mut Core, req: &Req, _: &[&str]) -> Result<Value, ApiError> {
    let conid = parse_conid(req.q_required("conid")?, "conid")?;
    req.q_required("sectype")?;
    req.q_required("month")?;
    if core.market.contract(conid).is_none()
        && !core
            .market
            .contracts
            .iter()
            .any(|c| c.underlying_conid == Some(conid))
    {
        return Err(ApiError::bad(format!(
            "conid {conid} is not a known contract"
        )));
    }
    Ok(json!({"call": [], "put": []}))
}

fn info_json(c: &Contract) -> Value {
    json!({
        "cfi_code": "",
        "symbol": c.symbol(),
        "cusip": null,
        "expiry_full": c.expiry.map(|d| d.format("%Y%m").to_string()),
        "con_id": c.conid,
        "maturity_date": c.expiry.map(|d| d.format("%Y%m%d").to_string()),
        "industry": "",
        "instrument_type": c.sec_type(),
        "trading_class": c.symbol(),
        "valid_exchanges": c.valid_exchanges(),
        "allow_sell_long": false,
        "is_zero_commission_security": false,
        "local_symbol": c.local_symbol,
        "contract_clarification_type": null,
        "classifier": null,
        "currency": c.inst.currency,
        "text": null,
        "underlying_con_id": c.underlying_conid.unwrap_or(0),
        "r_t_h": true,
        "multiplier": c.inst.multiplier.normalize().to_string(),
        "underlying_issuer": null,
        "contract_month": c.contract_month(),
        "company_name": c.name,
        "smart_available": c.inst.sec_type == SecType::Stk,
        "exchange": c.inst.exchange,
        "category": "",
        "strike": "0",
        "right": "?",
    })
}

fn rules_json(core: &Core, c: &Contract) -> Value {
    let q = core.visible_quotes()[c.inst.id.index()];
    let last = if q.has_data {
        c.fmt_price(q.last)
    } else {
        String::new()
    };
    let tick = c.inst.tick_size.normalize();
    let lot = c.inst.lot_size.normalize();
    let default_size = if c.inst.sec_type == SecType::Stk {
        100
    } else {
        1
    };
    let accts: Vec<&str> = core.accounts.iter().map(|a| a.id.as_str()).collect();
    json!({
        "algoEligible": false,
        "overnightEligible": false,
        "costReport": false,
        "canTradeAcctIds": accts,
        "error": null,
        "orderTypes": ["limit", "market", "stop", "stop_limit"],
        "ibAlgoTypes": [],
        "fraqTypes": [],
        "forceOrderPreview": false,
        "cqtTypes": [],
        "orderDefaults": {"LMT": {"LP": last}},
        "orderTypesOutside": ["limit", "stop_limit"],
        "defaultSize": default_size,
        "cashSize": 0.0,
        "sizeIncrement": lot.to_string().parse::<f64>().unwrap_or(1.0),
        "tifTypes": ["IOC/LMT,MKT,a", "GTC/LMT,MKT,STP,STOP_LIMIT,o,a", "DAY/LMT,MKT,STP,STOP_LIMIT,o,a"],
        "tifDefaults": {"TIF": "DAY", "SIZE": format!("{default_size}.00"), "DEFAULT_ACCT": core.session.selected_account, "PMALGO": false},
        "limitPrice": last.parse::<f64>().ok(),
        "stopPrice": last.parse::<f64>().ok(),
        "orderOrigination": null,
        "preview": true,
        "displaySize": null,
        "fraqInt": 0,
        "cashCcy": c.inst.currency,
        "cashQtyIncr": 0,
        "priceMagnifier": null,
        "negativeCapable": false,
        "incrementType": 1,
        "incrementRules": [{"lowerEdge": 0.0, "increment": tick.to_string().parse::<f64>().unwrap_or(0.01)}],
        "increment": tick.to_string().parse::<f64>().unwrap_or(0.01),
        "incrementDigits": c.decimals,
        "hasSecondary": true,
        "modTypes": [],
        "allOrNoneEligible": false,
    })
}

/// `GET /iserver/contract/{conid}/info`
pub fn info(core: &mut Core, _: &Req, segs: &[&str]) -> Result<Value, ApiError> {
    Ok(info_json(path_contract(core, segs[2])?))
}

/// `GET /iserver/contract/{conid}/info-and-rules`
pub fn info_and_rules(core: &mut Core, req: &Req, segs: &[&str]) -> Result<Value, ApiError> {
    req.q_bool("isBuy")?;
    let c = path_contract(core, segs[2])?;
    let mut v = info_json(c);
    if let Value::Object(m) = &mut v {
        m.insert("rules".into(), rules_json(core, c));
    }
    Ok(v)
}

/// `GET /iserver/contract/{conid}/algos` — no IB algos are simulated.
pub fn algos(core: &mut Core, _: &Req, segs: &[&str]) -> Result<Value, ApiError> {
    path_contract(core, segs[2])?;
    Ok(json!({"algos": []}))
}

/// `POST /iserver/contract/rules` — body `{conid*, isBuy, modifyOrder, orderId}`.
pub fn rules(core: &mut Core, req: &Req, _: &[&str]) -> Result<Value, ApiError> {
    let body = req.json_object()?;
    let conid = json_conid(body.get("conid"), "conid")?;
    for key in ["isBuy", "modifyOrder"] {
        if let Some(v) = body.get(key)
            && !matches!(v, Value::Bool(_) | Value::Null)
        {
            return Err(ApiError::bad(format!(
                "{key}: expected true or false, got {v}"
            )));
        }
    }
    if body.get("modifyOrder") == Some(&Value::Bool(true)) {
        let id = body
            .get("orderId")
            .and_then(|v| {
                v.as_u64()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            })
            .ok_or_else(|| ApiError::bad("orderId is required when modifyOrder is true"))?;
        if core.exchange.order(id).is_none() {
            return Err(ApiError::BadRequestRaw(format!(
                "OrderID {id} doesn't exist"
            )));
        }
    }
    let c = contract(core, conid)?;
    Ok(rules_json(core, c))
}

/// `GET /iserver/exchangerate` — `source*`, `target*`.
pub fn exchange_rate(core: &mut Core, req: &Req, _: &[&str]) -> Result<Value, ApiError> {
    let source = req.q_required("source")?.trim().to_ascii_uppercase();
    let target = req.q_required("target")?.trim().to_ascii_uppercase();
    if source == target {
        return Ok(json!({"rate": 1.0}));
    }
    for (i, c) in core.market.contracts.iter().enumerate() {
        if c.inst.sec_type != SecType::Cash {
            continue;
        }
        let Some((base, quote)) = c.symbol().split_once('.') else {
            continue;
        };
        let q = core.visible_quotes()[i];
        if !q.has_data || q.last <= 0.0 {
            continue;
        }
        if base == source && quote == target {
            return Ok(json!({"rate": q.last}));
        }
        if base == target && quote == source {
            return Ok(json!({"rate": 1.0 / q.last}));
        }
    }
    Err(ApiError::bad(format!(
        "no exchange rate for {source} to {target}"
    )))
}

/// `GET /iserver/currency/pairs` — `currency*`.
pub fn currency_pairs(core: &mut Core, req: &Req, _: &[&str]) -> Result<Value, ApiError> {
    let ccy = req.q_required("currency")?.trim().to_ascii_uppercase();
    let pairs: Vec<Value> = core
        .market
        .contracts
        .iter()
        .filter(|c| c.inst.sec_type == SecType::Cash)
        .filter_map(|c| {
            let (base, quote) = c.symbol().split_once('.')?;
            let other = if quote == ccy {
                base
            } else if base == ccy {
                quote
            } else {
                return None;
            };
            Some(json!({"symbol": c.symbol(), "conid": c.conid, "ccyPair": other}))
        })
        .collect();
    let mut m = Map::new();
    m.insert(ccy, Value::Array(pairs));
    Ok(Value::Object(m))
}

/// `GET /trsrv/stocks` — `symbols*` (unknown symbols map to `[]`).
pub fn stocks(core: &mut Core, req: &Req, _: &[&str]) -> Result<Value, ApiError> {
    let mut m = Map::new();
    for sym in symbols(req)? {
        let list: Vec<Value> = core
            .market
            .contracts
            .iter()
            .filter(|c| c.inst.sec_type == SecType::Stk && c.symbol().eq_ignore_ascii_case(&sym))
            .map(|c| {
                json!({"name": c.name, "chineseName": null, "assetClass": "STK",
                       "contracts": [{"conid": c.conid, "exchange": c.inst.exchange, "isUS": c.inst.currency == "USD"}]})
            })
            .collect();
        m.insert(sym, Value::Array(list));
    }
    Ok(Value::Object(m))
}

fn yyyymmdd(d: NaiveDate) -> i64 {
    d.format("%Y%m%d").to_string().parse().unwrap_or_default()
}

/// `GET /trsrv/futures` — `symbols*`, `exchange`.
pub fn futures(core: &mut Core, req: &Req, _: &[&str]) -> Result<Value, ApiError> {
    let exchange = req.q("exchange").map(str::to_ascii_uppercase);
    let mut m = Map::new();
    for sym in symbols(req)? {
        let list: Vec<Value> = core
            .market
            .contracts
            .iter()
            .filter(|c| c.inst.sec_type == SecType::Fut && c.symbol().eq_ignore_ascii_case(&sym))
            .filter(|c| exchange.as_deref().is_none_or(|e| e == c.inst.exchange))
            .filter_map(|c| {
                let exp = c.expiry?;
                let ltd = yyyymmdd(exp - Duration::days(1));
                Some(json!({"symbol": c.symbol(), "conid": c.conid, "underlyingConid": c.underlying_conid.unwrap_or(0),
                            "expirationDate": yyyymmdd(exp), "ltd": ltd, "shortFuturesCutOff": ltd, "longFuturesCutOff": ltd}))
            })
            .collect();
        m.insert(sym, Value::Array(list));
    }
    Ok(Value::Object(m))
}

/// The `/trsrv/secdef` object of a contract (also used by positions).
pub fn secdef_json(c: &Contract) -> Value {
    json!({
        "conid": c.conid,
        "currency": c.inst.currency,
        "time": 0,
        "chineseName": null,
        "allExchanges": c.valid_exchanges(),
        "listingExchange": c.inst.exchange,
        "countryCode": "US",
        "name": c.name,
        "assetClass": c.sec_type(),
        "expiry": c.expiry.map(|d| d.format("%Y%m%d").to_string()),
        "lastTradingDay": c.expiry.map(|d| (d - Duration::days(1)).format("%Y%m%d").to_string()),
        "group": null,
        "putOrCall": null,
        "sector": null,
        "sectorGroup": null,
        "strike": "0",
        "ticker": c.symbol(),
        "undConid": c.underlying_conid.unwrap_or(0),
        "multiplier": c.inst.multiplier.normalize().to_string().parse::<f64>().unwrap_or(1.0),
        "type": if c.inst.sec_type == SecType::Stk { "COMMON" } else { "" },
        "hasOptions": false,
        "fullName": c.local_symbol,
        "isUS": c.inst.currency == "USD",
        "incrementRules": [{"lowerEdge": 0.0, "increment": c.inst.tick_size.normalize().to_string().parse::<f64>().unwrap_or(0.01)}],
        "displayRule": {"magnification": 0, "displayRuleStep": [{"decimalDigits": c.decimals, "lowerEdge": 0.0, "wholeDigits": 4}]},
        "isEventContract": false,
        "pageSize": 100,
    })
}

/// `GET /trsrv/secdef?conids=…` (or POST `{"conids":[…]}`) — at most 200 conids.
pub fn secdef(core: &mut Core, req: &Req, _: &[&str]) -> Result<Value, ApiError> {
    let body = if req.method == "POST" {
        req.json_object()?
    } else {
        Map::new()
    };
    let conids: Vec<i64> = match body.get("conids") {
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, v)| json_conid(Some(v), &format!("conids[{i}]")))
            .collect::<Result<_, _>>()?,
        Some(other) => {
            return Err(ApiError::bad(format!(
                "conids: expected an array, got {other}"
            )));
        }
        None => req
            .q_required("conids")?
            .split(',')
            .filter(|s| !s.trim().is_empty())
            .map(|s| parse_conid(s, "conids"))
            .collect::<Result<_, _>>()?,
    };
    if conids.is_empty() {
        return Err(ApiError::bad("conids is required"));
    }
    if conids.len() > 200 {
        return Err(ApiError::bad(format!(
            "at most 200 conids per request, got {}",
            conids.len()
        )));
    }
    let unknown: Vec<String> = conids
        .iter()
        .filter(|c| core.market.contract(**c).is_none())
        .map(|c| c.to_string())
        .collect();
    if !unknown.is_empty() {
        return Err(ApiError::bad(format!(
            "unknown conids: {}",
            unknown.join(",")
        )));
    }
    let list: Vec<Value> = conids
        .iter()
        .filter_map(|c| core.market.contract(*c))
        .map(secdef_json)
        .collect();
    Ok(json!({"secdef": list}))
}

fn hhmm(secs: i64, tz: chrono_tz::Tz) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|d| d.with_timezone(&tz).format("%H%M").to_string())
        .unwrap_or_default()
}

/// Trade dates around the simulated today.
fn schedule_days(core: &Core) -> Vec<NaiveDate> {
    let today = chrono::DateTime::from_timestamp_nanos(core.market.now()).date_naive();
    (-1..7).map(|k| today + Duration::days(k)).collect()
}

/// `GET /trsrv/secdef/schedule` — `assetClass*`, `symbol*`, `exchange`.
pub fn schedule(core: &mut Core, req: &Req, _: &[&str]) -> Result<Value, ApiError> {
    let asset = req.q_required("assetClass")?.trim().to_ascii_uppercase();
    let symbol = req.q_required("symbol")?.trim().to_ascii_uppercase();
    let exchange = req.q("exchange").map(str::to_ascii_uppercase);
    let c = core
        .market
        .contracts
        .iter()
        .find(|c| {
            c.symbol().eq_ignore_ascii_case(&symbol)
                && c.sec_type() == asset
                && exchange.as_deref().is_none_or(|e| e == c.inst.exchange)
        })
        .ok_or_else(|| ApiError::bad(format!("no {asset} contract {symbol} on this gateway")))?;
    let tz = c.tz();
    let schedules: Vec<Value> = schedule_days(core)
        .into_iter()
        .filter_map(|d| day_sessions(c, d))
        .map(|s| {
            json!({
                "clearingCycleEndTime": "2000",
                "tradingScheduleDate": s.date.format("%Y%m%d").to_string(),
                "sessions": s.liquid.iter().map(|(o, e)| json!({"openingTime": hhmm(*o, tz), "closingTime": hhmm(*e, tz), "prop": "LIQUID"})).collect::<Vec<_>>(),
                "tradingtimes": s.extended.iter().map(|(o, e)| json!({"openingTime": hhmm(*o, tz), "closingTime": hhmm(*e, tz), "cancelDayOrders": "Y"})).collect::<Vec<_>>(),
            })
        })
        .collect();
    Ok(json!([{
        "id": format!("p{}", c.conid),
        "tradeVenueId": format!("v{}", c.conid),
        "exchange": c.inst.exchange,
        "description": c.inst.exchange,
        "timezone": c.inst.timezone,
        "schedules": schedules,
    }]))
}

/// `GET /contract/trading-schedule` — `conid*`, `exchange`.
pub fn trading_schedule(core: &mut Core, req: &Req, _: &[&str]) -> Result<Value, ApiError> {
    let c = contract(core, parse_conid(req.q_required("conid")?, "conid")?)?;
    let mut days = Map::new();
    for d in schedule_days(core) {
        let Some(s) = day_sessions(c, d) else {
            continue;
        };
        days.insert(
            d.format("%Y%m%d").to_string(),
            json!({
                "liquid_hours": s.liquid.iter().map(|(o, e)| json!({"opening": o, "closing": e})).collect::<Vec<_>>(),
                "extended_hours": s.extended.iter().map(|(o, e)| json!({"opening": o, "closing": e, "cancel_daily_orders": true})).collect::<Vec<_>>(),
            }),
        );
    }
    Ok(json!({"exchange_time_zone": c.inst.timezone, "schedules": days}))
}

/// `GET /trsrv/all-conids` — `exchange*`, `assetClass` (default STK).
pub fn all_conids(core: &mut Core, req: &Req, _: &[&str]) -> Result<Value, ApiError> {
    let exchange = req.q_required("exchange")?.trim().to_ascii_uppercase();
    let asset = req.q("assetClass").unwrap_or("STK").to_ascii_uppercase();
    Ok(Value::Array(
        core.market
            .contracts
            .iter()
            .filter(|c| c.inst.exchange.eq_ignore_ascii_case(&exchange) && c.sec_type() == asset)
            .map(|c| json!({"ticker": c.symbol(), "conid": c.conid, "exchange": c.inst.exchange}))
            .collect(),
    ))
}
