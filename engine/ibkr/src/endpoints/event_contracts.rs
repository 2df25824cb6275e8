//! Trading › Event Contracts `[2.27+]` (ForecastEx / CME event contracts). Raw JSON answers.

use crate::catalog;
use crate::client::Client;
use crate::error::IbkrError;
use crate::transport::ApiRequest;

type Json = serde_json::Value;

impl Client {
    /// `GET /forecast/category/tree`.
    pub async fn forecast_category_tree(&self) -> Result<Json, IbkrError> {
        self.call_raw(ApiRequest::new(&catalog::FORECAST_CATEGORY_TREE, &[])?)
            .await
    }

    /// `GET /forecast/contract/details`.
    pub async fn forecast_contract_details(&self, conid: i64) -> Result<Json, IbkrError> {
        self.call_raw(
            ApiRequest::new(&catalog::FORECAST_CONTRACT_DETAILS, &[])?
                .query("conid", conid.to_string()),
        )
        .await
    }

    /// `GET /forecast/contract/market`: every contract of an event market.
    pub async fn forecast_contract_market(
        &self,
        underlying_conid: i64,
        exchange: Option<&str>,
    ) -> Result<Json, IbkrError> {
        self.call_raw(
            ApiRequest::new(&catalog::FORECAST_CONTRACT_MARKET, &[])?
                .query("underlyingConid", underlying_conid.to_string())
                .query_opt("exchange", exchange),
        )
        .await
    }

    /// `GET /forecast/contract/rules`.
    pub async fn forecast_contract_rules(&self, conid: i64) -> Result<Json, IbkrError> {
        self.call_raw(
            ApiRequest::new(&catalog::FORECAST_CONTRACT_RULES, &[])?
                .query("conid", conid.to_string()),
        )
        .await
    }

    /// `GET /forecast/contract/schedules`.
    pub async fn forecast_contract_schedules(&self, conid: i64) -> Result<Json, IbkrError> {
        self.call_raw(
            ApiRequest::new(&catalog::FORECAST_CONTRACT_SCHEDULES, &[])?
                .query("conid", conid.to_string()),
        )
        .await
    }
}
