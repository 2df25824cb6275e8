//! Market data: snapshot (with IBKR's pre-flight: the first request for a conid only opens
//! the stream), history at a requested bar size and period, unsubscribe.

use std::collections::BTreeSet;

use chrono::Datelike;
use serde_json::{Map, Value, json};

use tickline_engine::domain::SecType;

use crate::api::error::ApiError;
use crate::api::request::{Req, json_conid, parse_conid};
use crate::contract::Contract;
use crate::fields::{DEFAULT_FIELDS, snapshot_object};
use crate::market::history::{DEEP_RES_MS, HBar};
use crate::state::Core;
use crate::wire::{parse_time_dash, time_dash};

/// Comma-separated conids of a query parameter, each known.
fn conid_list(core: &Core, raw: &str, what: &str) -> Result<Vec<usize>, ApiError> {
    let mut out = Vec::new();
    for part in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let head = part.split('@').next().unwrap_or(part);
        let conid = parse_conid(head, what)?;
        let idx = core.market.index_of(conid).ok_or_else(|| {
            ApiError::bad(format!("{what}: conid {conid} is not a known contract"))
        })?;
        out.push(idx);
    }
    if out.is_empty() {
        return Err(ApiError::bad(format!("query parameter {what} is required")));
    }
    Ok(out)
}

/// `GET /iserver/marketdata/snapshot` — `conids*`, `fields`.
pub fn snapshot(core: &mut Core, req: &Req, _: &[&str]) -> Result<Value, ApiError> {
    let idxs = conid_list(core, req.q_required("conids")?, "conids")?;
    let requested: Vec<String> = match req.q("fields") {
        Some(f) if !f.trim().is_empty() => {
            let mut v = Vec::new();
            for id in f.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                if !id.chars().all(|c| c.is_ascii_digit()) {
                    return Err(ApiError::bad(format!("fields: {id:?} is not a field id")));
                }
                v.push(id.to_string());
            }
            v
        }
        _ => DEFAULT_FIELDS.iter().map(|s| s.to_string()).collect(),
    };
    let mut out = Vec::with_capacity(idxs.len());
    for idx in idxs {
        let conid = core.market.contracts[idx].conid;
        let first = !core.session.streams.contains_key(&conid);
        let set = core.session.streams.entry(conid).or_default();
        set.extend(requested.iter().cloned());
        if first {
            out.push(json!({"conid": conid, "conidEx": conid.to_string()}));
            continue;
        }
        let fields: BTreeSet<String> = set.clone();
        out.push(Value::Object(snapshot_object(
            core,
            idx,
            fields.iter().map(String::as_str),
        )));
    }
    Ok(Value::Array(out))
}

/// `POST /iserver/marketdata/unsubscribe` — `{"conid": n}`.
pub fn unsubscribe(core: &mut Core, req: &Req, _: &[&str]) -> Result<Value, ApiError> {
    let body = req.json_object()?;
    let conid = json_conid(body.get("conid"), "conid")?;
    if core.market.contract(conid).is_none() {
        return Err(ApiError::bad(format!(
            "conid {conid} is not a known contract"
        )));
    }
    Ok(json!({"success": core.session.streams.remove(&conid).is_some()}))
}

/// `GET|POST /iserver/marketdata/unsubscribeall`
pub fn unsubscribe_all(core: &mut Core, _: &Req, _: &[&str]) -> Result<Value, ApiError> {
    core.session.streams.clear();
    Ok(json!({"unsubscribed": true}))
}

/// `GET /md/regsnapshot` — `conid*` (NBBO snapshot; sizes in round lots).
pub fn regsnapshot(core: &mut Core, req: &Req, _: &[&str]) -> Result<Value, ApiError> {
    let conid = parse_conid(req.q_required("conid")?, "conid")?;
    let idx = core
        .market
        .index_of(conid)
        .ok_or_else(|| ApiError::bad(format!("conid {conid} is not a known contract")))?;
    let c = &core.market.contracts[idx];
    let q = core.visible_quotes()[idx];
    let ex = c.inst.exchange.chars().next().unwrap_or('Q').to_string();
    Ok(json!({
        "conid": conid, "conidEx": conid.to_string(), "sizeMinTick": 1, "BboExchange": ex, "HasDelayed": false,
        "84": c.fmt_price(q.bid), "86": c.fmt_price(q.ask), "88": q.bid_size, "85": q.ask_size,
        "BestBidExch": 1, "BestAskExch": 1, "31": c.fmt_price(q.last), "7059": q.last_size,
        "LastExch": 1, "7057": ex, "7068": ex, "7058": ex,
    }))
}

/// A bar size or period unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Span {
    /// A fixed number of milliseconds.
    Fixed(i64),
    Days(i64),
    Weeks(i64),
    Months(i64),
    Years(i64),
}

impl Span {
    /// Approximate length in ms (calendar units at their average).
    fn approx_ms(self) -> i64 {
        const DAY: i64 = 86_400_000;
        match self {
            Span::Fixed(ms) => ms,
            Span::Days(n) => n * DAY,
            Span::Weeks(n) => n * 7 * DAY,
            Span::Months(n) => n * 30 * DAY,
            Span::Years(n) => n * 365 * DAY,
        }
    }
}

/// Parse `5min`, `1h`, `2d`, `1w`, `1m`, `1y`, `30S`/`30secs`; `min` must be written out
/// (a bare `m` is months).
fn parse_span(s: &str, what: &str, period: bool) -> Result<(i64, Span), ApiError> {
    let t = s.trim();
    let digits: String = t.chars().take_while(|c| c.is_ascii_digit()).collect();
    let unit = t[digits.len()..].trim();
    let n: i64 = digits
        .parse()
        .ok()
        .filter(|n| (1..=100_000).contains(n))
        .ok_or_else(|| {
            ApiError::bad(format!(
                "{what}: {s:?} must start with a count from 1 to 100000"
            ))
        })?;
    let span = match unit.to_ascii_lowercase().as_str() {
        "s" | "sec" | "secs" | "second" | "seconds" => Span::Fixed(n * 1_000),
        "min" | "mins" | "minute" | "minutes" => Span::Fixed(n * 60_000),
        "h" | "hr" | "hrs" | "hour" | "hours" => Span::Fixed(n * 3_600_000),
        "d" | "day" | "days" => Span::Days(n),
        "w" | "week" | "weeks" => Span::Weeks(n),
        "m" | "mo" | "month" | "months" => Span::Months(n),
        "y" | "year" | "years" => Span::Years(n),
        _ => {
            return Err(ApiError::bad(format!(
                "{what}: unknown unit in {s:?} (use min, h, d, w, m, y)"
            )));
        }
    };
    if period {
        let max = match span {
            Span::Fixed(ms) if ms % 3_600_000 == 0 && ms >= 3_600_000 => (ms / 3_600_000, 8),
            Span::Fixed(ms) if ms % 60_000 == 0 => (ms / 60_000, 30),
            Span::Fixed(ms) => (ms / 1_000, 1_800),
            Span::Days(n) => (n, 1_000),
            Span::Weeks(n) => (n, 792),
            Span::Months(n) => (n, 182),
            Span::Years(n) => (n, 15),
        };
        if max.0 > max.1 {
            return Err(ApiError::bad(format!(
                "{what}: {s:?} is longer than IBKR allows for that unit"
            )));
        }
    }
    Ok((n, span))
}

/// Bucket key of a bar starting at `t` (ms).
fn bucket(span: Span, t: i64, c: &Contract) -> i64 {
    match span {
        Span::Fixed(ms) => t.div_euclid(ms) * ms,
        _ => {
            let d = chrono::DateTime::from_timestamp_millis(t)
                .map(|d| d.with_timezone(&c.tz()).date_naive())
                .unwrap_or_default();
            match span {
                Span::Days(n) => i64::from(d.num_days_from_ce()).div_euclid(n),
                Span::Weeks(n) => (i64::from(d.num_days_from_ce())
                    - i64::from(d.weekday().num_days_from_monday()))
                .div_euclid(7 * n),
                Span::Months(n) => (i64::from(d.year()) * 12 + i64::from(d.month0())).div_euclid(n),
                Span::Years(n) => i64::from(d.year()).div_euclid(n),
                Span::Fixed(_) => 0,
            }
        }
    }
}

/// `GET /iserver/marketdata/history` — `conid*`, `period` (1d), `bar` (1min), `outsideRth`,
/// `startTime`, `direction`, `exchange`, `source`.
pub fn history(core: &mut Core, req: &Req, _: &[&str]) -> Result<Value, ApiError> {
    let conid = parse_conid(req.q_required("conid")?, "conid")?;
    let idx = core
        .market
        .index_of(conid)
        .ok_or_else(|| ApiError::bad(format!("conid {conid} is not a known contract")))?;
    let period_s = req.q("period").filter(|s| !s.is_empty()).unwrap_or("1d");
    let bar_s = req.q("bar").filter(|s| !s.is_empty()).unwrap_or("1min");
    let (_, period) = parse_span(period_s, "period", true)?;
    let (_, bar) = parse_span(bar_s, "bar", false)?;
    let outside_rth = req.q_bool("outsideRth")?.unwrap_or(false);
    let direction: i64 = req.q_num("direction")?.unwrap_or(-1);
    if direction != -1 && direction != 1 {
        return Err(ApiError::bad(format!(
            "direction: expected -1 or 1, got {direction}"
        )));
    }
    let source = req.q("source").unwrap_or("Last").to_ascii_lowercase();
    if !matches!(
        source.as_str(),
        "last" | "trades" | "midpoint" | "bid_ask" | "bid" | "ask"
    ) {
        return Err(ApiError::bad(format!(
            "source: unknown source {source:?} (Last, Midpoint, Bid_Ask)"
        )));
    }
    let start =
        match req.q("startTime").filter(|s| !s.is_empty()) {
            Some(s) => Some(parse_time_dash(s).ok_or_else(|| {
                ApiError::bad(format!("startTime: {s:?} is not YYYYMMDD-hh:mm:ss"))
            })?),
            None => None,
        };
    let res = core.market.history[idx].resolution_ms();
    if let Span::Fixed(ms) = bar
        && (ms < res || ms % res != 0)
    {
        return Err(ApiError::bad(format!(
            "bar: {bar_s} is not a multiple of the emulator's history resolution of {} seconds",
            res / 1_000
        )));
    }
    let now = core.market.now_ms();
    let len = period.approx_ms();
    let (from, to) = match (start, direction) {
        (Some(s), 1) => (s, s + len),
        (Some(s), _) => (s - len, s),
        (None, _) => (now - len, now),
    };
    // Bars of 30 minutes and more can reach back past the stored history.
    let deep_ok = match bar {
        Span::Fixed(ms) => ms % DEEP_RES_MS == 0,
        _ => true,
    };
    let deep = if deep_ok {
        core.market.deep_bars(idx, from, to.min(now + 1))
    } else {
        Vec::new()
    };
    let c = &core.market.contracts[idx];
    let hist = &core.market.history[idx];
    let rth_filter = !outside_rth && c.inst.sec_type == SecType::Stk;
    let mut bars: Vec<HBar> = Vec::new();
    let mut last_key = None;
    for b in deep.iter().chain(hist.range(from, to.min(now + 1))) {
        if rth_filter && !c.is_rth(b.t * 1_000_000) {
            continue;
        }
        let key = bucket(bar, b.t, c);
        match bars.last_mut() {
            Some(agg) if last_key == Some(key) => {
                agg.high = agg.high.max(b.high);
                agg.low = agg.low.min(b.low);
                agg.close = b.close;
                agg.volume += b.volume;
            }
            _ => {
                let mut first = *b;
                if let Span::Fixed(ms) = bar {
                    first.t = b.t.div_euclid(ms) * ms;
                }
                bars.push(first);
                last_key = Some(key);
            }
        }
    }
    const MAX_POINTS: usize = 1_000;
    if bars.len() > MAX_POINTS {
        if direction == 1 {
            bars.truncate(MAX_POINTS);
        } else {
            bars.drain(..bars.len() - MAX_POINTS);
        }
    }
    if bars.is_empty() {
        return Ok(json!({"error": "No data."}));
    }
    let zero_volume = matches!(source.as_str(), "midpoint" | "bid_ask" | "bid" | "ask");
    let pf = 10f64.powi(c.decimals as i32);
    let first_t = bars[0].t;
    let hi_bar = bars
        .iter()
        .copied()
        .fold(bars[0], |a, b| if b.high > a.high { b } else { a });
    let lo_bar = bars
        .iter()
        .copied()
        .fold(bars[0], |a, b| if b.low < a.low { b } else { a });
    let extreme = |b: HBar, px: f64| {
        format!(
            "{}/{}/{}",
            (px * pf).round(),
            b.volume,
            (b.t - first_t) / 60_000
        )
    };
    let data: Vec<Value> = bars
        .iter()
        .map(|b| {
            // Shown at the contract's decimals (212.43, not 212.43000000000001).
            let px = |x: f64| (x * pf).round() / pf;
            let mut m = Map::new();
            m.insert("o".into(), json!(px(b.open)));
            m.insert("c".into(), json!(px(b.close)));
            m.insert("h".into(), json!(px(b.high)));
            m.insert("l".into(), json!(px(b.low)));
            m.insert("v".into(), json!(if zero_volume { 0.0 } else { b.volume }));
            m.insert("t".into(), json!(b.t));
            Value::Object(m)
        })
        .collect();
    core.history_serial += 1;
    Ok(json!({
        "serverId": core.history_serial.to_string(),
        "symbol": c.symbol(),
        "text": c.name,
        "priceFactor": pf as i64,
        "startTime": time_dash(first_t),
        "high": extreme(hi_bar, hi_bar.high),
        "low": extreme(lo_bar, lo_bar.low),
        "timePeriod": period_s,
        "barLength": bar.approx_ms() / 1_000,
        "mdAvailability": "S",
        "mktDataDelay": 0,
        "outsideRth": outside_rth,
        "volumeFactor": 1,
        "priceDisplayRule": 1,
        "priceDisplayValue": c.decimals.to_string(),
        "chartPanStartTime": time_dash(from.max(first_t)),
        "direction": direction,
        "negativeCapable": false,
        "messageVersion": 2,
        "travelTime": 1,
        "points": data.len() - 1,
        "data": data,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans() {
        assert_eq!(
            parse_span("5min", "bar", false).unwrap().1,
            Span::Fixed(300_000)
        );
        assert_eq!(
            parse_span("1h", "bar", false).unwrap().1,
            Span::Fixed(3_600_000)
        );
        assert_eq!(parse_span("1m", "bar", false).unwrap().1, Span::Months(1));
        assert_eq!(parse_span("2d", "period", true).unwrap().1, Span::Days(2));
        assert!(parse_span("31min", "period", true).is_err());
        assert!(parse_span("9h", "period", true).is_err());
        assert!(parse_span("0d", "period", true).is_err());
        assert!(parse_span("5x", "bar", false).is_err());
        assert!(parse_span("d", "bar", false).is_err());
    }
}
