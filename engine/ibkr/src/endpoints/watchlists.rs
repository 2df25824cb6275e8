//! Trading › Watchlists (raw answers).

use crate::catalog;
use crate::client::Client;
use crate::error::IbkrError;
use crate::models::WatchlistRequest;
use crate::transport::ApiRequest;

type Json = serde_json::Value;

impl Client {
    /// `GET /iserver/watchlist?id=`.
    pub async fn watchlist(&self, id: &str) -> Result<Json, IbkrError> {
        self.call_raw(ApiRequest::new(&catalog::WATCHLIST, &[])?.query("id", id))
            .await
    }

    /// `POST /iserver/watchlist`: `id` must be digits and unique. The answer's instruments are
    /// always empty; read it back with [`Client::watchlist`].
    pub async fn create_watchlist(&self, request: &WatchlistRequest) -> Result<Json, IbkrError> {
        if request.id.is_empty() || !request.id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(IbkrError::InvalidInput {
                what: "watchlist id",
                reason: format!("{:?} must be digits", request.id),
            });
        }
        self.call_raw(ApiRequest::new(&catalog::CREATE_WATCHLIST, &[])?.json(request)?)
            .await
    }

    /// `DELETE /iserver/watchlist?id=`.
    pub async fn delete_watchlist(&self, id: &str) -> Result<Json, IbkrError> {
        self.call_raw(ApiRequest::new(&catalog::DELETE_WATCHLIST, &[])?.query("id", id))
            .await
    }

    /// `GET /iserver/watchlists` (`SC=USER_WATCHLIST` for user-created lists only).
    pub async fn watchlists(&self, sc: Option<&str>) -> Result<Json, IbkrError> {
        self.call_raw(ApiRequest::new(&catalog::WATCHLISTS, &[])?.query_opt("SC", sc))
            .await
    }
}
