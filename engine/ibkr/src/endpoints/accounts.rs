//! Trading › Accounts: tradable accounts, account switching, P&L, account summaries.

use crate::catalog;
use crate::client::Client;
use crate::error::IbkrError;
use crate::models::{IserverAccounts, PnlPartitioned, SwitchAccountRequest, SwitchAccountResponse};
use crate::transport::ApiRequest;

impl Client {
    /// `GET /iserver/accounts`: accounts the brokerage session may trade. Primes most
    /// `/iserver` endpoints.
    pub async fn accounts(&self) -> Result<IserverAccounts, IbkrError> {
        let req = ApiRequest::new(&catalog::ACCOUNTS, &[])?;
        let accounts: IserverAccounts = self.call(req).await?;
        self.remember_accounts(&accounts);
        Ok(accounts)
    }

    /// `POST /iserver/account`: select the account used by endpoints without an account
    /// parameter.
    pub async fn switch_account(
        &self,
        account_id: &str,
    ) -> Result<SwitchAccountResponse, IbkrError> {
        let req = ApiRequest::new(&catalog::SWITCH_ACCOUNT, &[])?.json(&SwitchAccountRequest {
            acct_id: non_empty("account id", account_id)?,
        })?;
        self.call(req).await
    }

    /// `POST /iserver/dynaccount`: set the active account for DYNACCT broker logins.
    pub async fn set_dynamic_account(
        &self,
        account_id: &str,
    ) -> Result<SwitchAccountResponse, IbkrError> {
        let req =
            ApiRequest::new(&catalog::SET_DYNAMIC_ACCOUNT, &[])?.json(&SwitchAccountRequest {
                acct_id: non_empty("account id", account_id)?,
            })?;
        self.call(req).await
    }

    /// `GET /iserver/account/pnl/partitioned`: daily and unrealized P&L per account (the
    /// first call may be empty). Pacing 1 req / 5 s.
    pub async fn pnl_partitioned(&self) -> Result<PnlPartitioned, IbkrError> {
        self.call(ApiRequest::new(&catalog::PNL_PARTITIONED, &[])?)
            .await
    }

    /// `GET /acesws/{accountId}/signatures-and-owners`.
    pub async fn signatures_and_owners(
        &self,
        account_id: &str,
    ) -> Result<serde_json::Value, IbkrError> {
        self.call_raw(ApiRequest::new(
            &catalog::SIGNATURES_AND_OWNERS,
            &[("accountId", account_id)],
        )?)
        .await
    }

    /// `GET /iserver/account/search/{searchPattern}` (DYNACCT logins only).
    pub async fn search_accounts(&self, pattern: &str) -> Result<serde_json::Value, IbkrError> {
        self.call_raw(ApiRequest::new(
            &catalog::SEARCH_ACCOUNTS,
            &[("searchPattern", pattern)],
        )?)
        .await
    }

    /// `GET /iserver/account/{accountId}/summary` (formatted strings; prefer
    /// [`Client::portfolio_summary`] for numbers).
    pub async fn account_summary(&self, account_id: &str) -> Result<serde_json::Value, IbkrError> {
        self.call_raw(ApiRequest::new(
            &catalog::ACCOUNT_SUMMARY,
            &[("accountId", account_id)],
        )?)
        .await
    }

    /// `GET /iserver/account/{accountId}/summary/available_funds`.
    pub async fn account_summary_available_funds(
        &self,
        account_id: &str,
    ) -> Result<serde_json::Value, IbkrError> {
        self.call_raw(ApiRequest::new(
            &catalog::ACCOUNT_SUMMARY_AVAILABLE_FUNDS,
            &[("accountId", account_id)],
        )?)
        .await
    }

    /// `GET /iserver/account/{accountId}/summary/balances`.
    pub async fn account_summary_balances(
        &self,
        account_id: &str,
    ) -> Result<serde_json::Value, IbkrError> {
        self.call_raw(ApiRequest::new(
            &catalog::ACCOUNT_SUMMARY_BALANCES,
            &[("accountId", account_id)],
        )?)
        .await
    }

    /// `GET /iserver/account/{accountId}/summary/margins`.
    pub async fn account_summary_margins(
        &self,
        account_id: &str,
    ) -> Result<serde_json::Value, IbkrError> {
        self.call_raw(ApiRequest::new(
            &catalog::ACCOUNT_SUMMARY_MARGINS,
            &[("accountId", account_id)],
        )?)
        .await
    }

    /// `GET /iserver/account/{accountId}/summary/market_value`.
    pub async fn account_summary_market_value(
        &self,
        account_id: &str,
    ) -> Result<serde_json::Value, IbkrError> {
        self.call_raw(ApiRequest::new(
            &catalog::ACCOUNT_SUMMARY_MARKET_VALUE,
            &[("accountId", account_id)],
        )?)
        .await
    }
}

/// Reject empty or blank identifiers before they reach IBKR.
pub(crate) fn non_empty(what: &'static str, value: &str) -> Result<String, IbkrError> {
    let v = value.trim();
    if v.is_empty() {
        Err(IbkrError::InvalidInput {
            what,
            reason: "must not be empty".into(),
        })
    } else {
        Ok(v.to_string())
    }
}
