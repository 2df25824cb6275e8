//! Trading › Market Data: snapshots (with the pre-flight rule), historical bars, stream
//! management, and the legacy HMDS and regulatory-snapshot calls.

use std::time::Duration;

use tickline_engine::domain::BarSeries;

use crate::catalog;
use crate::client::Client;
use crate::error::IbkrError;
use crate::marketdata::{Field, Period, Snapshot, field_list, history_to_series};
use crate::models::{HistoryRequest, HistoryResponse, UnsubscribeAllResponse, UnsubscribeResponse};
use crate::transport::ApiRequest;

impl Client {
    /// `GET /iserver/marketdata/snapshot`: one object per conid. The first request for a
    /// conid only opens the stream and carries no fields ([`Snapshot::is_preflight`]); use
    /// [`Client::snapshot_ready`] to wait for data. Pacing 10 req/s.
    pub async fn snapshot(
        &self,
        conids: &[i64],
        fields: &[Field],
    ) -> Result<Vec<Snapshot>, IbkrError> {
        if conids.is_empty() {
            return Err(IbkrError::InvalidInput {
                what: "conids",
                reason: "at least one conid is required".into(),
            });
        }
        let conids = conids
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let mut req = ApiRequest::new(&catalog::SNAPSHOT, &[])?.query("conids", conids);
        if !fields.is_empty() {
            req = req.query("fields", field_list(fields));
        }
        self.call_or_default(req).await
    }

    /// Snapshot that handles the pre-flight: repeats the request (up to `max_polls` times,
    /// `interval` apart) while any conid has no market fields yet. Returns the last answer.
    pub async fn snapshot_ready(
        &self,
        conids: &[i64],
        fields: &[Field],
        max_polls: u32,
        interval: Duration,
    ) -> Result<Vec<Snapshot>, IbkrError> {
        let mut last = self.snapshot(conids, fields).await?;
        for _ in 1..max_polls.max(1) {
            let complete = conids
                .iter()
                .all(|c| last.iter().any(|s| s.conid == *c && !s.is_preflight()));
            if complete {
                break;
            }
            tokio::time::sleep(interval).await;
            last = self.snapshot(conids, fields).await?;
        }
        Ok(last)
    }

    /// `GET /iserver/marketdata/history`: OHLCV bars, at most [`HISTORY_PAGE_BARS`] (IBKR
    /// allows 5 requests in flight; the client keeps to 4, what third-party clients found
    /// safe). `{"error":"No data."}` becomes [`IbkrError::Api`].
    pub async fn history(&self, request: &HistoryRequest) -> Result<HistoryResponse, IbkrError> {
        let req = history_query(ApiRequest::new(&catalog::HISTORY, &[])?, request, "source");
        self.call(req).await
    }

    /// [`Client::history`] past the per-answer limit: the answer's bars, then page after
    /// page further back (each ending at the oldest bar read, `direction=-1`, the request's
    /// period), oldest first with no bar twice, until `paging` is satisfied, a page is not
    /// full (the data runs out), a page adds nothing older, or IBKR says "No data.". The
    /// response is the first answer's with all the bars.
    pub async fn history_paged(
        &self,
        request: &HistoryRequest,
        paging: HistoryPaging,
    ) -> Result<HistoryResponse, IbkrError> {
        let mut first = self.history(request).await?;
        let mut bars = std::mem::take(&mut first.data);
        bars.sort_by_key(|b| b.t);
        let bar_ms = first.bar_length.unwrap_or(0).max(0) * 1_000;
        let since = bars.last().and_then(|b| paging.since(b.t + bar_ms));
        let mut page_len = bars.len();
        for _ in 1..MAX_HISTORY_PAGES {
            let Some(oldest) = bars.first().map(|b| b.t) else {
                break;
            };
            if page_len < HISTORY_PAGE_BARS || paging.satisfied(bars.len(), oldest, since) {
                break;
            }
            let Some(start) = chrono::DateTime::from_timestamp_millis(oldest) else {
                break;
            };
            let mut req = request.clone();
            req.start_time = Some(start.format("%Y%m%d-%H:%M:%S").to_string());
            req.direction = Some(-1);
            let page = match self.history(&req).await {
                Ok(p) => p.data,
                Err(IbkrError::Api { message, .. }) if message.contains("No data") => break,
                Err(e) => return Err(e),
            };
            page_len = page.len();
            let mut older: Vec<_> = page.into_iter().filter(|b| b.t < oldest).collect();
            if older.is_empty() {
                break;
            }
            older.sort_by_key(|b| b.t);
            older.append(&mut bars);
            bars = older;
        }
        if let Some(since) = since {
            bars.retain(|b| b.t >= since);
        }
        if let Some(max) = paging.max_bars
            && bars.len() > max
        {
            bars.drain(..bars.len() - max);
        }
        first.points = Some(bars.len() as i64 - 1);
        first.data = bars;
        Ok(first)
    }

    /// [`Client::history_paged`] converted to the engine's bar series.
    pub async fn history_series(
        &self,
        request: &HistoryRequest,
        paging: HistoryPaging,
        symbol: &str,
    ) -> Result<BarSeries, IbkrError> {
        let history = self.history_paged(request, paging).await?;
        history_to_series(&history, symbol).map_err(|e| IbkrError::Decode {
            endpoint: crate::error::EndpointRef::new(
                catalog::HISTORY.method,
                catalog::HISTORY.path,
            ),
            message: e.to_string(),
        })
    }

    /// `GET /hmds/history` `[2.15]`: the HMDS history service (`source` is sent as
    /// `barType`). Its first call after login may answer 404 while the service starts.
    pub async fn hmds_history(
        &self,
        request: &HistoryRequest,
    ) -> Result<HistoryResponse, IbkrError> {
        let req = history_query(
            ApiRequest::new(&catalog::HMDS_HISTORY, &[])?,
            request,
            "barType",
        );
        self.call(req).await
    }

    /// `POST /iserver/marketdata/unsubscribe`: stop the backend stream of one conid.
    pub async fn unsubscribe_market_data(
        &self,
        conid: i64,
    ) -> Result<UnsubscribeResponse, IbkrError> {
        let req = ApiRequest::new(&catalog::UNSUBSCRIBE_MARKET_DATA, &[])?
            .json(&serde_json::json!({ "conid": conid }))?;
        self.call(req).await
    }

    /// `GET /iserver/marketdata/unsubscribeall`.
    pub async fn unsubscribe_all_market_data(&self) -> Result<UnsubscribeAllResponse, IbkrError> {
        self.call(ApiRequest::new(&catalog::UNSUBSCRIBE_ALL_MARKET_DATA, &[])?)
            .await
    }

    /// `GET /md/regsnapshot` `[2.15]`: a regulatory NBBO snapshot. **Each call is billed**
    /// (USD 0.01, paper included) unless the account holds the US network subscription.
    pub async fn regulatory_snapshot(&self, conid: i64) -> Result<Snapshot, IbkrError> {
        self.call(
            ApiRequest::new(&catalog::REGULATORY_SNAPSHOT, &[])?.query("conid", conid.to_string()),
        )
        .await
    }
}

/// The most bars one history answer carries; longer histories are read in pages
/// ([`Client::history_paged`]).
pub const HISTORY_PAGE_BARS: usize = 1_000;

/// A bound on the pages of one [`Client::history_paged`] read (200,000 bars).
const MAX_HISTORY_PAGES: usize = 200;

/// How far [`Client::history_paged`] reads back (all unset: one page).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HistoryPaging {
    /// Enough once this many bars are read; the newest are kept.
    pub max_bars: Option<usize>,
    /// Enough once a bar this old (UTC ms) is read; older bars are dropped.
    pub since_ms: Option<i64>,
    /// Enough once this period, ending with the newest bar, is covered; older bars are
    /// dropped (anchored on the data, not on a clock, so a skewed clock loses nothing).
    pub window: Option<Period>,
}

impl HistoryPaging {
    /// The oldest time wanted, given the end (UTC ms) of the newest bar.
    fn since(&self, newest_end_ms: i64) -> Option<i64> {
        self.since_ms.or_else(|| {
            let end = chrono::DateTime::from_timestamp_millis(newest_end_ms)?;
            self.window.map(|p| p.start_before(end).timestamp_millis())
        })
    }

    fn satisfied(&self, bars: usize, oldest_ms: i64, since: Option<i64>) -> bool {
        if self.max_bars.is_none() && since.is_none() {
            return true;
        }
        self.max_bars.is_some_and(|m| bars >= m) || since.is_some_and(|s| oldest_ms <= s)
    }
}

fn history_query(req: ApiRequest, r: &HistoryRequest, source_key: &str) -> ApiRequest {
    req.query("conid", r.conid.to_string())
        .query("period", r.period.clone())
        .query("bar", r.bar.clone())
        .query_opt("exchange", r.exchange.as_deref())
        .query_opt("outsideRth", r.outside_rth)
        .query_opt("startTime", r.start_time.as_deref())
        .query_opt("direction", r.direction)
        .query_opt(source_key, r.source.as_deref())
}
