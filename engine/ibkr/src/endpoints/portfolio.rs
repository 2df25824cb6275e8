//! Trading › Portfolio: accounts, positions, summary, ledger, allocation.

use std::collections::BTreeMap;

use crate::catalog;
use crate::client::Client;
use crate::error::IbkrError;
use crate::models::{
    Ledger, MessageResponse, PortfolioAccount, PortfolioSummary, Position, PositionsQuery,
    QueryParams,
};
use crate::transport::ApiRequest;

/// Positions per page of `/portfolio/{accountId}/positions/{pageId}`.
pub const POSITIONS_PAGE_SIZE: usize = 100;
/// Upper bound on pages read by [`Client::all_positions`].
const MAX_POSITION_PAGES: u32 = 1000;

impl Client {
    /// `GET /portfolio/accounts`: accounts viewable through the portfolio endpoints (call
    /// before other `/portfolio` calls; the client does so automatically). Pacing 1 / 5 s.
    pub async fn portfolio_accounts(&self) -> Result<Vec<PortfolioAccount>, IbkrError> {
        let accounts: Vec<PortfolioAccount> = self
            .call(ApiRequest::new(&catalog::PORTFOLIO_ACCOUNTS, &[])?)
            .await?;
        self.mark_portfolio_primed();
        Ok(accounts)
    }

    /// `GET /portfolio/subaccounts` (FA structures, ≤ 100). Pacing 1 / 5 s.
    pub async fn portfolio_subaccounts(&self) -> Result<Vec<PortfolioAccount>, IbkrError> {
        let accounts: Vec<PortfolioAccount> = self
            .call(ApiRequest::new(&catalog::PORTFOLIO_SUBACCOUNTS, &[])?)
            .await?;
        self.mark_portfolio_primed();
        Ok(accounts)
    }

    /// `GET /portfolio/subaccounts2` `[2.39]` (paged; parameters undocumented).
    pub async fn portfolio_subaccounts_paged(
        &self,
        params: &QueryParams,
    ) -> Result<serde_json::Value, IbkrError> {
        self.call_raw(
            ApiRequest::new(&catalog::PORTFOLIO_SUBACCOUNTS_PAGED, &[])?.query_params(params),
        )
        .await
    }

    /// `GET /portfolio/{accountId}/meta`.
    pub async fn portfolio_account_meta(
        &self,
        account_id: &str,
    ) -> Result<PortfolioAccount, IbkrError> {
        self.call(ApiRequest::new(
            &catalog::PORTFOLIO_ACCOUNT_META,
            &[("accountId", account_id)],
        )?)
        .await
    }

    /// `GET /portfolio/{accountId}/positions/{pageId}`: one page (100 positions).
    pub async fn positions_page(
        &self,
        account_id: &str,
        page: u32,
        query: &PositionsQuery,
    ) -> Result<Vec<Position>, IbkrError> {
        let page = page.to_string();
        let req = ApiRequest::new(
            &catalog::POSITIONS_PAGE,
            &[("accountId", account_id), ("pageId", &page)],
        )?
        .query_opt("model", query.model.as_deref())
        .query_opt("sort", query.sort.as_deref())
        .query_opt("direction", query.direction.as_deref())
        .query_opt("waitForSecDef", query.wait_for_sec_def);
        self.call_or_default(req).await
    }

    /// Every position of an account: pages from 0 until one has fewer than 100.
    pub async fn all_positions(&self, account_id: &str) -> Result<Vec<Position>, IbkrError> {
        let mut all = Vec::new();
        for page in 0..MAX_POSITION_PAGES {
            let batch = self
                .positions_page(account_id, page, &PositionsQuery::default())
                .await?;
            let n = batch.len();
            all.extend(batch);
            if n < POSITIONS_PAGE_SIZE {
                return Ok(all);
            }
        }
        Err(IbkrError::InvalidInput {
            what: "positions",
            reason: format!("more than {MAX_POSITION_PAGES} pages for {account_id}"),
        })
    }

    /// `GET /portfolio/{accountId}/position/{conid}`.
    pub async fn position(&self, account_id: &str, conid: i64) -> Result<Vec<Position>, IbkrError> {
        let conid = conid.to_string();
        self.call_or_default(ApiRequest::new(
            &catalog::POSITION,
            &[("accountId", account_id), ("conid", &conid)],
        )?)
        .await
    }

    /// `GET /portfolio/positions/{conid}`: account id → positions in that conid.
    pub async fn positions_by_conid(
        &self,
        conid: i64,
    ) -> Result<BTreeMap<String, Vec<Position>>, IbkrError> {
        let conid = conid.to_string();
        self.call_or_default(ApiRequest::new(
            &catalog::POSITIONS_BY_CONID,
            &[("conid", &conid)],
        )?)
        .await
    }

    /// `POST /portfolio/{accountId}/positions/invalidate`: drop the server's position cache.
    pub async fn invalidate_positions(
        &self,
        account_id: &str,
    ) -> Result<MessageResponse, IbkrError> {
        self.call(ApiRequest::new(
            &catalog::INVALIDATE_POSITIONS,
            &[("accountId", account_id)],
        )?)
        .await
    }

    /// `GET /portfolio/{accountId}/summary`.
    pub async fn portfolio_summary(&self, account_id: &str) -> Result<PortfolioSummary, IbkrError> {
        self.call(ApiRequest::new(
            &catalog::PORTFOLIO_SUMMARY,
            &[("accountId", account_id)],
        )?)
        .await
    }

    /// `GET /portfolio/{accountId}/ledger`.
    pub async fn ledger(&self, account_id: &str) -> Result<Ledger, IbkrError> {
        self.call(ApiRequest::new(
            &catalog::LEDGER,
            &[("accountId", account_id)],
        )?)
        .await
    }

    /// `GET /portfolio/{accountId}/allocation`.
    pub async fn portfolio_allocation(
        &self,
        account_id: &str,
        model: Option<&str>,
    ) -> Result<serde_json::Value, IbkrError> {
        self.call_raw(
            ApiRequest::new(&catalog::PORTFOLIO_ALLOCATION, &[("accountId", account_id)])?
                .query_opt("model", model),
        )
        .await
    }

    /// `GET /portfolio/{accountId}/combo/positions` `[2.39]`.
    pub async fn combo_positions(
        &self,
        account_id: &str,
        params: &QueryParams,
    ) -> Result<serde_json::Value, IbkrError> {
        self.call_raw(
            ApiRequest::new(&catalog::COMBO_POSITIONS, &[("accountId", account_id)])?
                .query_params(params),
        )
        .await
    }

    /// `GET /portfolio2/{accountId}/positions` `[2.39]`: uncached positions.
    pub async fn positions_uncached(
        &self,
        account_id: &str,
        params: &QueryParams,
    ) -> Result<serde_json::Value, IbkrError> {
        self.call_raw(
            ApiRequest::new(&catalog::POSITIONS_UNCACHED, &[("accountId", account_id)])?
                .query_params(params),
        )
        .await
    }
}
