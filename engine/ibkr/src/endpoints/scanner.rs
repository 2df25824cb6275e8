//! Trading › Scanner: iserver scanners (≤ 50 results) and the legacy HMDS scanner
//! (`[2.15]`, ≤ 250). Raw answers.

use crate::catalog;
use crate::client::Client;
use crate::error::IbkrError;
use crate::models::{HmdsScannerRequest, ScannerRequest};
use crate::transport::ApiRequest;

type Json = serde_json::Value;

impl Client {
    /// `GET /hmds/scanner/params` `[2.15]`.
    pub async fn hmds_scanner_params(&self) -> Result<Json, IbkrError> {
        self.call_raw(ApiRequest::new(&catalog::HMDS_SCANNER_PARAMS, &[])?)
            .await
    }

    /// `POST /hmds/scanner/run` `[2.15]`.
    pub async fn hmds_scanner_run(&self, request: &HmdsScannerRequest) -> Result<Json, IbkrError> {
        self.call_raw(ApiRequest::new(&catalog::HMDS_SCANNER_RUN, &[])?.json(request)?)
            .await
    }

    /// `GET /iserver/scanner/params` (large; paced at 1 request / 15 min).
    pub async fn scanner_params(&self) -> Result<Json, IbkrError> {
        self.call_raw(ApiRequest::new(&catalog::SCANNER_PARAMS, &[])?)
            .await
    }

    /// `POST /iserver/scanner/run` (paced at 1 req/s).
    pub async fn scanner_run(&self, request: &ScannerRequest) -> Result<Json, IbkrError> {
        if request.instrument.is_empty()
            || request.scan_type.is_empty()
            || request.location.is_empty()
        {
            return Err(IbkrError::InvalidInput {
                what: "scanner request",
                reason: "instrument, type and location are required".into(),
            });
        }
        self.call_raw(ApiRequest::new(&catalog::SCANNER_RUN, &[])?.json(request)?)
            .await
    }
}
