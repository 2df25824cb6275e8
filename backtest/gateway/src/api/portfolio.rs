//! Portfolio endpoints: account lists and meta, positions (paged, by conid, across
//! accounts), summary, ledger, allocation and cache invalidation. All numbers come from one
//! valuation (`portfolio::Account::valuation`), so they agree with `spl` and P&L.

use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use tickline_engine::domain::SecType;

use crate::api::accounts::known_account;
use crate::api::contracts::secdef_json;
use crate::api::error::ApiError;
use crate::api::request::{Req, parse_conid};
use crate::faults::MaintenanceRegion;
use crate::portfolio::{Account, Position, Valuation};
use crate::state::Core;
use crate::wire::num;

const PAGE_SIZE: usize = 100;

/// The IBKR entity of the emulated accounts: the one served by the data centre whose
/// maintenance windows the emulator keeps (a client finds its windows from `ibEntity`).
fn ib_entity(region: MaintenanceRegion) -> &'static str {
    match region {
        MaintenanceRegion::Off | MaintenanceRegion::NorthAmerica => "IBLLC-US",
        MaintenanceRegion::Europe => "IBIE",
        MaintenanceRegion::Asia => "IBHK",
    }
}

fn account_json(a: &Account, start_ms: i64, region: MaintenanceRegion) -> Value {
    json!({
        "id": a.id,
        "PrepaidCrypto-Z": false,
        "PrepaidCrypto-P": false,
        "brokerageAccess": true,
        "accountId": a.id,
        "accountVan": a.id,
        "accountTitle": a.title,
        "displayName": a.title,
        "accountAlias": null,
        "accountStatus": start_ms,
        "currency": a.currency,
        "type": "DEMO",
        "tradingType": "STKNOPT",
        "businessType": "INDEPENDENT",
        "ibEntity": ib_entity(region),
        "faclient": false,
        "clearingStatus": "O",
        "covestor": false,
        "noClientTrading": false,
        "trackVirtualFXPortfolio": false,
        "parent": {"mmc": [], "accountId": "", "isMParent": false, "isMChild": false, "isMultiplex": false},
        "desc": a.id,
    })
}

/// `GET /portfolio/accounts` and `/portfolio/subaccounts` — primes the portfolio endpoints.
pub fn accounts(core: &mut Core, _: &Req, _: &[&str]) -> Result<Value, ApiError> {
    core.session.portfolio_primed = true;
    let start = core.session.auth_time;
    let region = core.faults.maintenance;
    Ok(Value::Array(
        core.accounts
            .iter()
            .map(|a| account_json(a, start, region))
            .collect(),
    ))
}

/// `GET /portfolio/{accountId}/meta`
pub fn meta(core: &mut Core, _: &Req, segs: &[&str]) -> Result<Value, ApiError> {
    Ok(account_json(
        known_account(core, segs[1])?,
        core.session.auth_time,
        core.faults.maintenance,
    ))
}

fn position_json(core: &Core, a: &Account, idx: usize, p: &Position) -> Value {
    let c = &core.market.contracts[idx];
    let q = &core.market.quotes[idx];
    let v = Account::position_value(c, p, q);
    let mult = c.inst.multiplier;
    let mut o = match secdef_json(c) {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    let avg_cost = if c.inst.sec_type == SecType::Stk {
        p.avg_price
    } else {
        p.avg_price * mult
    };
    for (k, val) in [
        ("acctId", json!(a.id)),
        ("contractDesc", json!(c.local_symbol)),
        ("position", num(p.qty)),
        ("mktPrice", num(v.mark)),
        ("mktValue", num(v.market_value.round_dp(2))),
        ("avgCost", num(avg_cost)),
        ("avgPrice", num(p.avg_price)),
        ("realizedPnl", num(p.realized.round_dp(2))),
        ("unrealizedPnl", num(v.unrealized.round_dp(2))),
        ("exchs", Value::Null),
        ("exerciseStyle", Value::Null),
        ("conExchMap", json!([])),
        ("model", json!("")),
        ("crossCurrency", json!(false)),
        ("baseMktValue", num(v.market_value.round_dp(2))),
        ("baseMktPrice", num(v.mark)),
        ("baseAvgCost", num(avg_cost)),
        ("baseAvgPrice", num(p.avg_price)),
        ("baseRealizedPnl", num(p.realized.round_dp(2))),
        ("baseUnrealizedPnl", num(v.unrealized.round_dp(2))),
    ] {
        o.insert(k.into(), val);
    }
    Value::Object(o)
}

/// Open positions of an account, as (index, position).
fn open_positions(a: &Account) -> Vec<(usize, Position)> {
    a.positions
        .iter()
        .filter(|(_, p)| !p.qty.is_zero())
        .map(|(i, p)| (*i, *p))
        .collect()
}

/// `GET /portfolio/{accountId}/positions/{pageId}` — `sort`, `direction`, `model`,
/// `waitForSecDef`.
pub fn positions(core: &mut Core, req: &Req, segs: &[&str]) -> Result<Value, ApiError> {
    let a = known_account(core, segs[1])?;
    let page: usize = segs[3]
        .parse()
        .map_err(|_| ApiError::bad(format!("pageId: {:?} is not a page number", segs[3])))?;
    req.q_bool("waitForSecDef")?;
    let sort = req.q("sort").unwrap_or("name").to_string();
    let descending = match req.q("direction").unwrap_or("a") {
        "a" | "A" | "" => false,
        "d" | "D" => true,
        other => {
            return Err(ApiError::bad(format!(
                "direction: expected a or d, got {other:?}"
            )));
        }
    };
    let mut rows: Vec<Value> = open_positions(a)
        .iter()
        .map(|(i, p)| position_json(core, a, *i, p))
        .collect();
    let key = |v: &Value| -> (Option<f64>, String) {
        match v.get(&sort) {
            Some(Value::Number(n)) => (n.as_f64(), String::new()),
            Some(Value::String(s)) => (None, s.clone()),
            _ => (None, String::new()),
        }
    };
    if rows.first().is_some_and(|r| r.get(&sort).is_none()) {
        return Err(ApiError::bad(format!("sort: unknown field {sort:?}")));
    }
    rows.sort_by(|x, y| {
        let (kx, ky) = (key(x), key(y));
        let ord = match (kx.0, ky.0) {
            (Some(a), Some(b)) => a.total_cmp(&b),
            _ => kx.1.cmp(&ky.1),
        };
        if descending { ord.reverse() } else { ord }
    });
    Ok(Value::Array(
        rows.into_iter()
            .skip(page * PAGE_SIZE)
            .take(PAGE_SIZE)
            .collect(),
    ))
}

/// `GET /portfolio/{accountId}/position/{conid}`
pub fn position(core: &mut Core, _: &Req, segs: &[&str]) -> Result<Value, ApiError> {
    let a = known_account(core, segs[1])?;
    let conid = parse_conid(segs[3], "conid")?;
    let idx = core
        .market
        .index_of(conid)
        .ok_or_else(|| ApiError::bad(format!("conid {conid} is not a known contract")))?;
    Ok(Value::Array(
        a.positions
            .get(&idx)
            .filter(|p| !p.qty.is_zero())
            .map(|p| position_json(core, a, idx, p))
            .into_iter()
            .collect(),
    ))
}

/// `GET /portfolio/positions/{conid}` — `{account: [position]}` for accounts holding it.
pub fn position_all_accounts(core: &mut Core, _: &Req, segs: &[&str]) -> Result<Value, ApiError> {
    let conid = parse_conid(segs[2], "conid")?;
    let idx = core
        .market
        .index_of(conid)
        .ok_or_else(|| ApiError::bad(format!("conid {conid} is not a known contract")))?;
    let mut m = Map::new();
    for a in &core.accounts {
        if let Some(p) = a.positions.get(&idx).filter(|p| !p.qty.is_zero()) {
            m.insert(a.id.clone(), json!([position_json(core, a, idx, p)]));
        }
    }
    Ok(Value::Object(m))
}

/// `POST /portfolio/{accountId}/positions/invalidate` (positions are never stale here).
pub fn invalidate(core: &mut Core, _: &Req, segs: &[&str]) -> Result<Value, ApiError> {
    known_account(core, segs[1])?;
    Ok(json!({"message": "success"}))
}

fn entry(amount: Decimal, ccy: Option<&str>, ts: i64) -> Value {
    json!({"amount": num(amount.round_dp(2)), "currency": ccy, "isNull": false, "severity": 0, "timestamp": ts, "value": null})
}

fn text_entry(value: &str, ts: i64) -> Value {
    json!({"amount": 0.0, "currency": null, "isNull": false, "severity": 0, "timestamp": ts, "value": value})
}

/// `GET /portfolio/{accountId}/summary` — lower-case keys with `-c` / `-s` segments.
pub fn summary(core: &mut Core, _: &Req, segs: &[&str]) -> Result<Value, ApiError> {
    let a = known_account(core, segs[1])?;
    let v: Valuation = a.valuation(&core.market.contracts, &core.market.quotes);
    let ts = core.market.now_ms();
    let ccy = Some(a.currency.as_str());
    let mut m = Map::new();
    m.insert("accountcode".into(), text_entry(&a.id, ts));
    m.insert("accountready".into(), text_entry("true", ts));
    m.insert("accounttype".into(), text_entry("DEMO", ts));
    m.insert("segmenttitle-s".into(), text_entry("Securities", ts));
    m.insert("segmenttitle-c".into(), text_entry("Commodities", ts));
    m.insert("tradingtype-s".into(), text_entry("STKNOPT", ts));
    let fut_margin = v.future_value.abs() * Decimal::new(6, 2);
    let securities_init = v.init_margin - fut_margin;
    let cushion = if v.nlv.is_zero() {
        Decimal::ZERO
    } else {
        v.excess_liquidity() / v.nlv
    };
    let leverage = if v.nlv.is_zero() {
        Decimal::ZERO
    } else {
        v.gross_position_value / v.nlv
    };
    let values: [(&str, Decimal, Decimal); 19] = [
        ("netliquidation", v.nlv, Decimal::ZERO),
        ("equitywithloanvalue", v.nlv, Decimal::ZERO),
        (
            "previousdayequitywithloanvalue",
            a.day_start_nlv.unwrap_or(v.nlv),
            Decimal::ZERO,
        ),
        ("regtequity", v.nlv, Decimal::ZERO),
        ("totalcashvalue", v.cash, Decimal::ZERO),
        ("settledcash", v.cash, Decimal::ZERO),
        ("accruedcash", Decimal::ZERO, Decimal::ZERO),
        ("accrueddividend", Decimal::ZERO, Decimal::ZERO),
        (
            "grosspositionvalue",
            v.gross_position_value,
            v.future_value.abs(),
        ),
        ("initmarginreq", v.init_margin, fut_margin),
        (
            "maintmarginreq",
            v.maint_margin,
            v.future_value.abs() * Decimal::new(5, 2),
        ),
        ("fullinitmarginreq", v.init_margin, fut_margin),
        (
            "fullmaintmarginreq",
            v.maint_margin,
            v.future_value.abs() * Decimal::new(5, 2),
        ),
        ("availablefunds", v.available_funds(), Decimal::ZERO),
        ("fullavailablefunds", v.available_funds(), Decimal::ZERO),
        ("excessliquidity", v.excess_liquidity(), Decimal::ZERO),
        ("fullexcessliquidity", v.excess_liquidity(), Decimal::ZERO),
        ("buyingpower", v.buying_power(), Decimal::ZERO),
        ("sma", v.available_funds().max(Decimal::ZERO), Decimal::ZERO),
    ];
    for (key, total, commodities) in values {
        m.insert(key.into(), entry(total, ccy, ts));
        if key != "buyingpower" && key != "sma" {
            m.insert(format!("{key}-c"), entry(commodities, ccy, ts));
            m.insert(format!("{key}-s"), entry(total - commodities, ccy, ts));
        }
    }
    m.insert("regtmargin".into(), entry(securities_init, ccy, ts));
    m.insert("cushion".into(), entry(cushion, None, ts));
    m.insert("leverage-s".into(), entry(leverage, None, ts));
    m.insert(
        "daytradesremaining".into(),
        entry(Decimal::from(-1), None, ts),
    );
    m.insert("highestseverity".into(), entry(Decimal::ZERO, None, ts));
    m.insert(
        "availabletotrade".into(),
        entry(v.available_funds(), ccy, ts),
    );
    m.insert(
        "availabletowithdraw".into(),
        entry(v.available_funds().min(v.cash).max(Decimal::ZERO), ccy, ts),
    );
    Ok(Value::Object(m))
}

/// `GET /portfolio/{accountId}/ledger` — the base currency and `BASE`.
pub fn ledger(core: &mut Core, _: &Req, segs: &[&str]) -> Result<Value, ApiError> {
    let a = known_account(core, segs[1])?;
    let v = a.valuation(&core.market.contracts, &core.market.quotes);
    let ts = core.market.now_ms() / 1_000;
    let futures_pnl: Decimal = a
        .positions
        .iter()
        .filter(|(i, _)| {
            core.market
                .contracts
                .get(**i)
                .is_some_and(|c| c.inst.sec_type == SecType::Fut)
        })
        .map(|(i, p)| {
            Account::position_value(&core.market.contracts[*i], p, &core.market.quotes[*i])
                .unrealized
        })
        .sum();
    let row = |key: &str| {
        json!({
            "commoditymarketvalue": 0.0, "futuremarketvalue": num(v.future_value.round_dp(2)),
            "settledcash": num(v.cash.round_dp(2)), "exchangerate": 1, "sessionid": 1,
            "cashbalance": num(v.cash.round_dp(2)), "corporatebondsmarketvalue": 0.0, "warrantsmarketvalue": 0.0,
            "netliquidationvalue": num(v.nlv.round_dp(2)), "interest": 0.0,
            "unrealizedpnl": num(v.unrealized.round_dp(2)), "stockmarketvalue": num(v.stock_value.round_dp(2)),
            "moneyfunds": 0.0, "currency": key, "realizedpnl": num(v.realized.round_dp(2)), "funds": 0.0,
            "acctcode": a.id, "issueroptionsmarketvalue": 0.0, "key": "LedgerList", "timestamp": ts, "severity": 0,
            "stockoptionmarketvalue": 0.0, "futuresonlypnl": num(futures_pnl.round_dp(2)), "tbondsmarketvalue": 0.0,
            "futureoptionmarketvalue": 0.0, "cashbalancefxsegment": 0.0, "secondkey": key, "tbillsmarketvalue": 0.0,
            "dividends": 0.0, "cryptocurrencyvalue": 0.0,
        })
    };
    let mut base_ccy = row(&a.currency);
    if let Value::Object(m) = &mut base_ccy {
        m.insert("endofbundle".into(), json!(1));
    }
    let mut m = Map::new();
    m.insert(a.currency.clone(), base_ccy);
    m.insert("BASE".into(), row("BASE"));
    Ok(Value::Object(m))
}

/// `GET /portfolio/{accountId}/allocation` — long/short by asset class, sector and group.
pub fn allocation(core: &mut Core, _: &Req, segs: &[&str]) -> Result<Value, ApiError> {
    let a = known_account(core, segs[1])?;
    let mut long: Map<String, Value> = Map::new();
    let mut short: Map<String, Value> = Map::new();
    let mut sector_long = Decimal::ZERO;
    let mut sector_short = Decimal::ZERO;
    let add = |m: &mut Map<String, Value>, k: &str, x: Decimal| {
        let prev = m.get(k).and_then(Value::as_f64).unwrap_or(0.0);
        let x: f64 = x.try_into().unwrap_or(0.0);
        m.insert(k.to_string(), json!(prev + x));
    };
    for (i, p) in open_positions(a) {
        let c = &core.market.contracts[i];
        let mv = Account::position_value(c, &p, &core.market.quotes[i]).market_value;
        if mv.is_sign_negative() {
            add(&mut short, c.sec_type(), mv);
            sector_short += mv;
        } else {
            add(&mut long, c.sec_type(), mv);
            sector_long += mv;
        }
    }
    if a.cash > Decimal::ZERO {
        add(&mut long, "CASH", a.cash);
    } else if a.cash < Decimal::ZERO {
        add(&mut short, "CASH", a.cash);
    }
    let side = |x: Decimal| {
        if x.is_zero() {
            json!({})
        } else {
            json!({"Others": num(x.round_dp(2))})
        }
    };
    Ok(json!({
        "assetClass": {"long": long, "short": short},
        "sector": {"long": side(sector_long), "short": side(sector_short)},
        "group": {"long": side(sector_long), "short": side(sector_short)},
    }))
}
