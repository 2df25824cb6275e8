//! Brokerage accounts: `/iserver/accounts` (the priming call), account switch, partitioned
//! P&L and the flat account summary.

use serde_json::{Map, Value, json};

use crate::api::error::ApiError;
use crate::api::request::Req;
use crate::state::Core;
use crate::wire::num;

/// The `/iserver/accounts` object (also the websocket `act` payload).
pub fn accounts_json(core: &Core) -> Value {
    let ids: Vec<&str> = core.accounts.iter().map(|a| a.id.as_str()).collect();
    let mut props = Map::new();
    let mut aliases = Map::new();
    aliases.insert("All".into(), json!("All"));
    for id in &ids {
        props.insert(
            (*id).to_string(),
            json!({"hasChildAccounts": false, "supportsCashQty": false, "liteUnderPro": false, "noFxConv": false,
                   "isProp": false, "supportsFractions": false, "allowCustomerTime": false, "autoFx": false}),
        );
        aliases.insert((*id).to_string(), json!(id));
    }
    json!({
        "accounts": ids,
        "acctProps": props,
        "aliases": aliases,
        "allowFeatures": {
            "showGFIS": true, "showEUCostReport": false, "allowEventContract": false, "allowFXConv": true,
            "allowFinancialLens": false, "allowMTA": false, "allowTypeAhead": true, "allowEventTrading": false,
            "snapshotRefreshTimeout": 30, "liteUser": false, "showWebNews": false, "research": false,
            "debugPnl": true, "showTaxOpt": false, "showImpactDashboard": false, "allowDynAccount": false,
            "allowCrypto": false, "allowFA": false, "allowLiteUnderPro": false,
            "allowedAssetTypes": "STK,FUT,CASH", "restrictTradeSubscription": false,
            "showUkUserLabels": false, "sideBySide": false
        },
        "chartPeriods": {"STK": ["*"], "FUT": ["*"], "CASH": ["*"]},
        "groups": ["All"],
        "profiles": [],
        "selectedAccount": core.session.selected_account,
        "serverInfo": {"serverName": "TicklineGW1", "serverVersion": concat!("Build tickline-gateway ", env!("CARGO_PKG_VERSION"))},
        "sessionId": format!("{}.{}", &core.session.id[..8], &core.session.id[8..16]),
        "isFT": false,
        "isPaper": true,
    })
}

/// `GET /iserver/accounts` — also primes the brokerage session.
pub fn iserver_accounts(core: &mut Core, _: &Req, _: &[&str]) -> Result<Value, ApiError> {
    core.session.prime();
    Ok(accounts_json(core))
}

/// Resolve an account id from a path or body, or fail with IBKR's message.
pub fn known_account<'a>(
    core: &'a Core,
    id: &str,
) -> Result<&'a crate::portfolio::Account, ApiError> {
    core.account(id)
        .ok_or_else(|| ApiError::bad(format!("accountId is not valid: {id}")))
}

/// `POST /iserver/account` (and `/iserver/dynaccount`) — `{"acctId": "..."}`.
pub fn switch(core: &mut Core, req: &Req, _: &[&str]) -> Result<Value, ApiError> {
    let body = req.json_object()?;
    let id = match body.get("acctId") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(other) => {
            return Err(ApiError::bad(format!(
                "acctId: expected an account id string, got {other}"
            )));
        }
        None => return Err(ApiError::bad("acctId is required")),
    };
    if core.account(&id).is_none() {
        return Err(ApiError::BadRequestRaw("Invalid account ID".into()));
    }
    core.session.selected_account = id.clone();
    Ok(json!({"set": true, "acctId": id}))
}

/// `GET /iserver/account/pnl/partitioned` — the first call of a session answers
/// `{"upnl":{}}`, as IBKR's does.
pub fn pnl_partitioned(core: &mut Core, _: &Req, _: &[&str]) -> Result<Value, ApiError> {
    if !core.session.pnl_primed {
        core.session.pnl_primed = true;
        return Ok(json!({"upnl": {}}));
    }
    Ok(json!({"upnl": core.pnl_args("el")}))
}

/// `GET /iserver/account/{accountId}/summary` — flat balances (numbers).
pub fn summary(core: &mut Core, _: &Req, segs: &[&str]) -> Result<Value, ApiError> {
    let a = known_account(core, segs[2])?;
    let v = a.valuation(&core.market.contracts, &core.market.quotes);
    Ok(json!({
        "accountType": "DEMO",
        "status": "",
        "balance": num(v.cash.round_dp(2)),
        "SMA": num(v.available_funds().round_dp(2)),
        "buyingPower": num(v.buying_power().round_dp(2)),
        "availableFunds": num(v.available_funds().round_dp(2)),
        "excessLiquidity": num(v.excess_liquidity().round_dp(2)),
        "netLiquidationValue": num(v.nlv.round_dp(2)),
        "equityWithLoanValue": num(v.nlv.round_dp(2)),
        "regTLoan": 0,
        "securitiesGVP": num(v.gross_position_value.round_dp(2)),
        "totalCashValue": num(v.cash.round_dp(2)),
        "accruedInterest": 0,
        "regTMargin": num(v.init_margin.round_dp(2)),
        "initialMargin": num(v.init_margin.round_dp(2)),
        "maintenanceMargin": num(v.maint_margin.round_dp(2)),
        "cashBalances": [{"currency": a.currency, "balance": num(v.cash.round_dp(2)), "settledCash": num(v.cash.round_dp(2))}],
    }))
}
