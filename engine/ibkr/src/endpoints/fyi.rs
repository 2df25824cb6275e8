//! Trading › FYIs & Notifications (terse keys: `R`, `D`, `MS`, `MD`, `ID`, `FC`, …). Raw
//! answers except the unread count. Each endpoint is paced at 1 req/s.

use crate::catalog;
use crate::client::Client;
use crate::error::IbkrError;
use crate::models::{FyiDeviceRequest, FyiNotificationsQuery, FyiUnread};
use crate::transport::ApiRequest;

type Json = serde_json::Value;

/// Most notifications per `GET /fyi/notifications`.
pub const MAX_FYI_NOTIFICATIONS: u32 = 10;

impl Client {
    /// `GET /fyi/deliveryoptions`.
    pub async fn fyi_delivery_options(&self) -> Result<Json, IbkrError> {
        self.call_raw(ApiRequest::new(&catalog::FYI_DELIVERY_OPTIONS, &[])?)
            .await
    }

    /// `POST /fyi/deliveryoptions/device`.
    pub async fn fyi_set_device_delivery(
        &self,
        device: &FyiDeviceRequest,
    ) -> Result<Json, IbkrError> {
        self.call_raw(ApiRequest::new(&catalog::FYI_SET_DEVICE_DELIVERY, &[])?.json(device)?)
            .await
    }

    /// `PUT /fyi/deliveryoptions/email?enabled=`.
    pub async fn fyi_set_email_delivery(&self, enabled: bool) -> Result<Json, IbkrError> {
        self.call_raw(
            ApiRequest::new(&catalog::FYI_SET_EMAIL_DELIVERY, &[])?
                .query("enabled", enabled.to_string()),
        )
        .await
    }

    /// `DELETE /fyi/deliveryoptions/{deviceId}` (empty answer → `null`).
    pub async fn fyi_delete_device(&self, device_id: &str) -> Result<Json, IbkrError> {
        self.call_raw(ApiRequest::new(
            &catalog::FYI_DELETE_DEVICE,
            &[("deviceId", device_id)],
        )?)
        .await
    }

    /// `GET /fyi/disclaimer/{typecode}`.
    pub async fn fyi_disclaimer(&self, typecode: &str) -> Result<Json, IbkrError> {
        self.call_raw(ApiRequest::new(
            &catalog::FYI_DISCLAIMER,
            &[("typecode", typecode)],
        )?)
        .await
    }

    /// `PUT /fyi/disclaimer/{typecode}`: mark the disclaimer read.
    pub async fn fyi_accept_disclaimer(&self, typecode: &str) -> Result<Json, IbkrError> {
        self.call_raw(ApiRequest::new(
            &catalog::FYI_ACCEPT_DISCLAIMER,
            &[("typecode", typecode)],
        )?)
        .await
    }

    /// `GET /fyi/notifications` (`max` ≤ 10).
    pub async fn fyi_notifications(
        &self,
        query: &FyiNotificationsQuery,
    ) -> Result<Json, IbkrError> {
        if query.max == 0 || query.max > MAX_FYI_NOTIFICATIONS {
            return Err(IbkrError::InvalidInput {
                what: "FYI max",
                reason: format!("must be 1..={MAX_FYI_NOTIFICATIONS}, got {}", query.max),
            });
        }
        self.call_raw(
            ApiRequest::new(&catalog::FYI_NOTIFICATIONS, &[])?
                .query("max", query.max.to_string())
                .query_opt("include", query.include.as_deref())
                .query_opt("exclude", query.exclude.as_deref())
                .query_opt("id", query.id.as_deref()),
        )
        .await
    }

    /// `PUT /fyi/notifications/{notificationId}`: mark one read.
    pub async fn fyi_mark_notification_read(
        &self,
        notification_id: &str,
    ) -> Result<Json, IbkrError> {
        self.call_raw(ApiRequest::new(
            &catalog::FYI_MARK_NOTIFICATION_READ,
            &[("notificationId", notification_id)],
        )?)
        .await
    }

    /// `GET /fyi/settings`.
    pub async fn fyi_settings(&self) -> Result<Json, IbkrError> {
        self.call_raw(ApiRequest::new(&catalog::FYI_SETTINGS, &[])?)
            .await
    }

    /// `POST /fyi/settings/{typecode}`: enable or disable an FYI type.
    pub async fn fyi_set_setting(&self, typecode: &str, enabled: bool) -> Result<Json, IbkrError> {
        self.call_raw(
            ApiRequest::new(&catalog::FYI_SET_SETTING, &[("typecode", typecode)])?
                .json(&serde_json::json!({ "enabled": enabled }))?,
        )
        .await
    }

    /// `GET /fyi/unreadnumber`.
    pub async fn fyi_unread_count(&self) -> Result<FyiUnread, IbkrError> {
        self.call(ApiRequest::new(&catalog::FYI_UNREAD_COUNT, &[])?)
            .await
    }
}
