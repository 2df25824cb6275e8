//! Trading › Contracts: search, details, rules, algos, option chains, secdef, schedules,
//! exchange rates.

use crate::catalog;
use crate::client::Client;
use crate::error::IbkrError;
use crate::models::{
    ContractInfo, ContractRules, ContractRulesRequest, ExchangeConid, ExchangeRate,
    FuturesBySymbol, SecdefInfo, SecdefInfoQuery, SecdefResponse, SecdefSearchRequest,
    SecdefSearchResult, StocksBySymbol, Strikes, StrikesQuery,
};
use crate::transport::ApiRequest;

/// Most conids per `/trsrv/secdef` request.
pub const SECDEF_BATCH: usize = 200;

impl Client {
    /// `GET /iserver/secdef/search`: contracts by symbol (or company name with `name`).
    pub async fn search_contracts(
        &self,
        request: &SecdefSearchRequest,
    ) -> Result<Vec<SecdefSearchResult>, IbkrError> {
        check_symbol(&request.symbol)?;
        let req = ApiRequest::new(&catalog::SEARCH_CONTRACTS, &[])?
            .query("symbol", request.symbol.clone())
            .query_opt("secType", request.sec_type.as_deref())
            .query_opt("name", request.name)
            .query_opt("more", request.more)
            .query_opt("fund", request.fund)
            .query_opt("fundFamilyConidEx", request.fund_family_conid_ex.as_deref())
            .query_opt("pattern", request.pattern)
            .query_opt("referrer", request.referrer.as_deref());
        self.call_or_default(req).await
    }

    /// `POST /iserver/secdef/search`: the same search with a JSON body.
    pub async fn search_contracts_post(
        &self,
        request: &SecdefSearchRequest,
    ) -> Result<Vec<SecdefSearchResult>, IbkrError> {
        check_symbol(&request.symbol)?;
        let req = ApiRequest::new(&catalog::SEARCH_CONTRACTS_POST, &[])?.json(request)?;
        self.call_or_default(req).await
    }

    /// `GET /iserver/contract/{conid}/info`.
    pub async fn contract_info(&self, conid: i64) -> Result<ContractInfo, IbkrError> {
        let conid = conid.to_string();
        self.call(ApiRequest::new(
            &catalog::CONTRACT_INFO,
            &[("conid", &conid)],
        )?)
        .await
    }

    /// `GET /iserver/contract/{conid}/info-and-rules` (`rules` filled).
    pub async fn contract_info_and_rules(
        &self,
        conid: i64,
        is_buy: Option<bool>,
    ) -> Result<ContractInfo, IbkrError> {
        let conid = conid.to_string();
        self.call(
            ApiRequest::new(&catalog::CONTRACT_INFO_AND_RULES, &[("conid", &conid)])?
                .query_opt("isBuy", is_buy),
        )
        .await
    }

    /// `POST /iserver/contract/rules`: order-entry rules (order types, TIFs, increments).
    pub async fn contract_rules(
        &self,
        request: &ContractRulesRequest,
    ) -> Result<ContractRules, IbkrError> {
        self.call(ApiRequest::new(&catalog::CONTRACT_RULES, &[])?.json(request)?)
            .await
    }

    /// `GET /iserver/contract/{conid}/algos` (`algos` is a `;` list such as `Adaptive;Vwap`).
    pub async fn contract_algos(
        &self,
        conid: i64,
        algos: Option<&str>,
        add_description: bool,
        add_params: bool,
    ) -> Result<serde_json::Value, IbkrError> {
        let conid = conid.to_string();
        let req = ApiRequest::new(&catalog::CONTRACT_ALGOS, &[("conid", &conid)])?
            .query_opt("algos", algos)
            .query_opt("addDescription", add_description.then_some(1))
            .query_opt("addParams", add_params.then_some(1));
        self.call_raw(req).await
    }

    /// `GET /iserver/currency/pairs`: FX pairs against `currency`.
    pub async fn currency_pairs(&self, currency: &str) -> Result<serde_json::Value, IbkrError> {
        self.call_raw(ApiRequest::new(&catalog::CURRENCY_PAIRS, &[])?.query("currency", currency))
            .await
    }

    /// `GET /iserver/exchangerate`.
    pub async fn exchange_rate(
        &self,
        source: &str,
        target: &str,
    ) -> Result<ExchangeRate, IbkrError> {
        self.call(
            ApiRequest::new(&catalog::EXCHANGE_RATE, &[])?
                .query("target", target)
                .query("source", source),
        )
        .await
    }

    /// `GET /iserver/secdef/bond-filters`.
    pub async fn bond_filters(
        &self,
        symbol: &str,
        issuer_id: &str,
    ) -> Result<serde_json::Value, IbkrError> {
        self.call_raw(
            ApiRequest::new(&catalog::BOND_FILTERS, &[])?
                .query("symbol", symbol)
                .query("issuerId", issuer_id),
        )
        .await
    }

    /// `GET /iserver/secdef/info`: derivative (or bond) contracts for an underlier and month.
    pub async fn secdef_info(&self, query: &SecdefInfoQuery) -> Result<Vec<SecdefInfo>, IbkrError> {
        let req = ApiRequest::new(&catalog::SECDEF_INFO, &[])?
            .query_opt("conid", query.conid)
            .query_opt("sectype", query.sectype.as_deref())
            .query_opt("month", query.month.as_deref())
            .query_opt("exchange", query.exchange.as_deref())
            .query_opt("strike", query.strike)
            .query_opt("right", query.right.as_deref())
            .query_opt("issuerId", query.issuer_id.as_deref())
            .query_opt("filters", query.filters.as_deref());
        self.call_or_default(req).await
    }

    /// `GET /iserver/secdef/strikes` (call `search_contracts` for the underlier first).
    pub async fn strikes(&self, query: &StrikesQuery) -> Result<Strikes, IbkrError> {
        let req = ApiRequest::new(&catalog::STRIKES, &[])?
            .query("conid", query.conid.to_string())
            .query("sectype", query.sectype.clone())
            .query("month", query.month.clone())
            .query_opt("exchange", query.exchange.as_deref());
        self.call(req).await
    }

    /// `GET /trsrv/all-conids`: stock conids of an exchange.
    pub async fn all_conids(
        &self,
        exchange: &str,
        asset_class: Option<&str>,
    ) -> Result<Vec<ExchangeConid>, IbkrError> {
        self.call_or_default(
            ApiRequest::new(&catalog::ALL_CONIDS, &[])?
                .query("exchange", exchange)
                .query_opt("assetClass", asset_class),
        )
        .await
    }

    /// `GET /trsrv/futures`: non-expired futures per symbol.
    pub async fn futures(
        &self,
        symbols: &[&str],
        exchange: Option<&str>,
    ) -> Result<FuturesBySymbol, IbkrError> {
        let symbols = symbol_list(symbols)?;
        self.call_or_default(
            ApiRequest::new(&catalog::FUTURES, &[])?
                .query("symbols", symbols)
                .query_opt("exchange", exchange),
        )
        .await
    }

    /// `GET /trsrv/stocks`: stock listings per symbol.
    pub async fn stocks(&self, symbols: &[&str]) -> Result<StocksBySymbol, IbkrError> {
        let symbols = symbol_list(symbols)?;
        self.call_or_default(ApiRequest::new(&catalog::STOCKS, &[])?.query("symbols", symbols))
            .await
    }

    /// `GET /trsrv/secdef`: security definitions, requested in batches of 200 conids.
    pub async fn secdef(&self, conids: &[i64]) -> Result<SecdefResponse, IbkrError> {
        if conids.is_empty() {
            return Err(IbkrError::InvalidInput {
                what: "conids",
                reason: "at least one conid is required".into(),
            });
        }
        let mut all = SecdefResponse::default();
        for chunk in conids.chunks(SECDEF_BATCH) {
            let list = chunk
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(",");
            let part: SecdefResponse = self
                .call_or_default(ApiRequest::new(&catalog::SECDEF, &[])?.query("conids", list))
                .await?;
            all.secdef.extend(part.secdef);
        }
        Ok(all)
    }

    /// `GET /trsrv/secdef/schedule`: trading schedule for a symbol and asset class.
    pub async fn secdef_schedule(
        &self,
        asset_class: &str,
        symbol: &str,
        exchange: Option<&str>,
        exchange_filter: Option<&str>,
    ) -> Result<serde_json::Value, IbkrError> {
        self.call_raw(
            ApiRequest::new(&catalog::SECDEF_SCHEDULE, &[])?
                .query("assetClass", asset_class)
                .query("symbol", symbol)
                .query_opt("exchange", exchange)
                .query_opt("exchangeFilter", exchange_filter),
        )
        .await
    }

    /// `GET /contract/trading-schedule` `[2.27+]`: liquid and extended sessions (epoch s).
    pub async fn contract_trading_schedule(
        &self,
        conid: i64,
        exchange: Option<&str>,
    ) -> Result<serde_json::Value, IbkrError> {
        self.call_raw(
            ApiRequest::new(&catalog::CONTRACT_TRADING_SCHEDULE, &[])?
                .query("conid", conid.to_string())
                .query_opt("exchange", exchange),
        )
        .await
    }
}

fn check_symbol(symbol: &str) -> Result<(), IbkrError> {
    if symbol.trim().is_empty() {
        return Err(IbkrError::InvalidInput {
            what: "symbol",
            reason: "must not be empty".into(),
        });
    }
    Ok(())
}

fn symbol_list(symbols: &[&str]) -> Result<String, IbkrError> {
    if symbols.is_empty() || symbols.iter().any(|s| s.trim().is_empty()) {
        return Err(IbkrError::InvalidInput {
            what: "symbols",
            reason: "a non-empty list of non-empty symbols is required".into(),
        });
    }
    Ok(symbols
        .iter()
        .map(|s| s.trim())
        .collect::<Vec<_>>()
        .join(","))
}
