//! Third Parties › Cash Balances and Tax Vouchers `[2.39]` (raw answers).

use crate::catalog;
use crate::client::Client;
use crate::error::IbkrError;
use crate::models::QueryParams;
use crate::transport::ApiRequest;

type Json = serde_json::Value;

impl Client {
    /// `POST /gw/api/v1/balances/query` `[2.39]`: Third-party view of cash balances. Parameters are undocumented in the reference.
    pub async fn third_party_cash_balances(&self, body: &Json) -> Result<Json, IbkrError> {
        self.call_raw(ApiRequest::new(&catalog::THIRD_PARTY_CASH_BALANCES, &[])?.json(body)?)
            .await
    }

    /// `POST /gw/api/v1/tax-vouchers` `[2.39]`: Create tax voucher requests. Parameters are undocumented in the reference.
    pub async fn tax_voucher_create(&self, body: &Json) -> Result<Json, IbkrError> {
        self.call_raw(ApiRequest::new(&catalog::TAX_VOUCHER_CREATE, &[])?.json(body)?)
            .await
    }

    /// `GET /gw/api/v1/tax-vouchers/active-countries` `[2.39]`: Countries with tax voucher support. Parameters are undocumented in the reference.
    pub async fn tax_voucher_active_countries(
        &self,
        query: &QueryParams,
    ) -> Result<Json, IbkrError> {
        self.call_raw(
            ApiRequest::new(&catalog::TAX_VOUCHER_ACTIVE_COUNTRIES, &[])?.query_params(query),
        )
        .await
    }

    /// `GET /gw/api/v1/tax-vouchers/dividends` `[2.39]`: Dividend details for tax vouchers. Parameters are undocumented in the reference.
    pub async fn tax_voucher_dividends(&self, query: &QueryParams) -> Result<Json, IbkrError> {
        self.call_raw(ApiRequest::new(&catalog::TAX_VOUCHER_DIVIDENDS, &[])?.query_params(query))
            .await
    }

    /// `GET /gw/api/v1/tax-vouchers/years` `[2.39]`: Years available for tax vouchers. Parameters are undocumented in the reference.
    pub async fn tax_voucher_years(&self, query: &QueryParams) -> Result<Json, IbkrError> {
        self.call_raw(ApiRequest::new(&catalog::TAX_VOUCHER_YEARS, &[])?.query_params(query))
            .await
    }

    /// `GET /gw/api/v1/tax-vouchers/{requestId}/download` `[2.39]`: Download a tax voucher file (a non-JSON document comes back as a JSON string). Parameters are undocumented in the reference.
    pub async fn tax_voucher_download(&self, request_id: &str) -> Result<Json, IbkrError> {
        self.call_raw(ApiRequest::new(
            &catalog::TAX_VOUCHER_DOWNLOAD,
            &[("requestId", request_id)],
        )?)
        .await
    }

    /// `GET /gw/api/v1/tax-vouchers/{requestId}/state` `[2.39]`: State of a tax voucher request. Parameters are undocumented in the reference.
    pub async fn tax_voucher_state(&self, request_id: &str) -> Result<Json, IbkrError> {
        self.call_raw(ApiRequest::new(
            &catalog::TAX_VOUCHER_STATE,
            &[("requestId", request_id)],
        )?)
        .await
    }
}
