//! Trading › Alerts: list, read, create/modify, activate and delete alerts (raw answers).

use crate::catalog;
use crate::client::Client;
use crate::error::IbkrError;
use crate::models::{AlertActivateRequest, AlertRequest};
use crate::transport::ApiRequest;

type Json = serde_json::Value;

impl Client {
    /// `GET /iserver/account/alert/{alertId}?type=Q`: one alert's definition.
    pub async fn alert(&self, alert_id: i64) -> Result<Json, IbkrError> {
        let id = alert_id.to_string();
        self.call_raw(ApiRequest::new(&catalog::ALERT, &[("alertId", &id)])?.query("type", "Q"))
            .await
    }

    /// `GET /iserver/account/mta`: the Mobile Trading Assistant alert.
    pub async fn mta_alert(&self) -> Result<Json, IbkrError> {
        self.call_raw(ApiRequest::new(&catalog::MTA_ALERT, &[])?)
            .await
    }

    /// `POST /iserver/account/{accountId}/alert`: create an alert, or modify the one named by
    /// `order_id`. Not retried after an ambiguous failure.
    pub async fn upsert_alert(
        &self,
        account_id: &str,
        alert: &AlertRequest,
    ) -> Result<Json, IbkrError> {
        if alert.conditions.is_empty() {
            return Err(IbkrError::InvalidInput {
                what: "alert",
                reason: "at least one condition is required".into(),
            });
        }
        self.call_raw(
            ApiRequest::new(&catalog::UPSERT_ALERT, &[("accountId", account_id)])?.json(alert)?,
        )
        .await
    }

    /// `POST /iserver/account/{accountId}/alert/activate`.
    pub async fn activate_alert(
        &self,
        account_id: &str,
        alert_id: i64,
        active: bool,
    ) -> Result<Json, IbkrError> {
        let body = AlertActivateRequest {
            alert_id,
            alert_active: i32::from(active),
        };
        self.call_raw(
            ApiRequest::new(&catalog::ACTIVATE_ALERT, &[("accountId", account_id)])?.json(&body)?,
        )
        .await
    }

    /// `DELETE /iserver/account/{accountId}/alert/{alertId}`.
    pub async fn delete_alert(&self, account_id: &str, alert_id: i64) -> Result<Json, IbkrError> {
        let id = alert_id.to_string();
        self.call_raw(ApiRequest::new(
            &catalog::DELETE_ALERT,
            &[("accountId", account_id), ("alertId", &id)],
        )?)
        .await
    }

    /// `GET /iserver/account/{accountId}/alerts`.
    pub async fn alerts(&self, account_id: &str) -> Result<Json, IbkrError> {
        self.call_raw(ApiRequest::new(
            &catalog::ALERTS,
            &[("accountId", account_id)],
        )?)
        .await
    }
}
