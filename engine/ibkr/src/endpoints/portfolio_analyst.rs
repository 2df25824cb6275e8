//! Trading › Portfolio Analyst: performance and transaction history (raw series). Paced at
//! 1 request / 15 min for performance and transactions.

use crate::catalog;
use crate::client::Client;
use crate::error::IbkrError;
use crate::models::{PaAccountsRequest, PaPerformanceRequest, PaTransactionsRequest};
use crate::transport::ApiRequest;

type Json = serde_json::Value;

/// Periods accepted by `/pa/performance`.
pub const PA_PERIODS: [&str; 8] = ["1D", "7D", "MTD", "1M", "3M", "6M", "12M", "YTD"];

fn check_accounts(ids: &[String]) -> Result<(), IbkrError> {
    if ids.is_empty() || ids.iter().any(|a| a.trim().is_empty()) {
        return Err(IbkrError::InvalidInput {
            what: "account ids",
            reason: "a non-empty list of account ids is required".into(),
        });
    }
    Ok(())
}

impl Client {
    /// `POST /pa/allocation` `[2.39]`.
    pub async fn pa_allocation(&self, request: &PaAccountsRequest) -> Result<Json, IbkrError> {
        check_accounts(&request.acct_ids)?;
        self.call_raw(ApiRequest::new(&catalog::PA_ALLOCATION, &[])?.json(request)?)
            .await
    }

    /// `POST /pa/allperiods`.
    pub async fn pa_all_periods(
        &self,
        request: &PaAccountsRequest,
        param: Option<&str>,
    ) -> Result<Json, IbkrError> {
        check_accounts(&request.acct_ids)?;
        self.call_raw(
            ApiRequest::new(&catalog::PA_ALL_PERIODS, &[])?
                .query_opt("param", param)
                .json(request)?,
        )
        .await
    }

    /// `POST /pa/performance`.
    pub async fn pa_performance(&self, request: &PaPerformanceRequest) -> Result<Json, IbkrError> {
        check_accounts(&request.acct_ids)?;
        if !PA_PERIODS.contains(&request.period.as_str()) {
            return Err(IbkrError::InvalidInput {
                what: "performance period",
                reason: format!(
                    "{:?} is not one of {}",
                    request.period,
                    PA_PERIODS.join(", ")
                ),
            });
        }
        self.call_raw(ApiRequest::new(&catalog::PA_PERFORMANCE, &[])?.json(request)?)
            .await
    }

    /// `POST /pa/transactions`.
    pub async fn pa_transactions(
        &self,
        request: &PaTransactionsRequest,
    ) -> Result<Json, IbkrError> {
        check_accounts(&request.acct_ids)?;
        self.call_raw(ApiRequest::new(&catalog::PA_TRANSACTIONS, &[])?.json(request)?)
            .await
    }
}
