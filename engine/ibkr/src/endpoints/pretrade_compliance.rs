//! PreTrade Compliance › Restrictions `[2.39]` (raw answers).

use crate::catalog;
use crate::client::Client;
use crate::error::IbkrError;
use crate::models::QueryParams;
use crate::transport::ApiRequest;

type Json = serde_json::Value;

impl Client {
    /// `POST /gw/api/v1/restrictions` `[2.39]`: Apply a restriction CSV. Parameters are undocumented in the reference.
    pub async fn restrictions_apply(&self, body: &Json) -> Result<Json, IbkrError> {
        self.call_raw(ApiRequest::new(&catalog::RESTRICTIONS_APPLY, &[])?.json(body)?)
            .await
    }

    /// `GET /gw/api/v1/restrictions/account` `[2.39]`: Restriction ids attached to an account. Parameters are undocumented in the reference.
    pub async fn restrictions_for_account(&self, query: &QueryParams) -> Result<Json, IbkrError> {
        self.call_raw(ApiRequest::new(&catalog::RESTRICTIONS_FOR_ACCOUNT, &[])?.query_params(query))
            .await
    }

    /// `GET /gw/api/v1/restrictions/ids` `[2.39]`: Restriction ids created by the caller's master account. Parameters are undocumented in the reference.
    pub async fn restriction_ids(&self, query: &QueryParams) -> Result<Json, IbkrError> {
        self.call_raw(ApiRequest::new(&catalog::RESTRICTION_IDS, &[])?.query_params(query))
            .await
    }

    /// `GET /gw/api/v1/restrictions/list` `[2.39]`: Details of a restriction list. Parameters are undocumented in the reference.
    pub async fn restriction_list(&self, query: &QueryParams) -> Result<Json, IbkrError> {
        self.call_raw(ApiRequest::new(&catalog::RESTRICTION_LIST, &[])?.query_params(query))
            .await
    }

    /// `GET /gw/api/v1/restrictions/lists/ids` `[2.39]`: List ids created by the caller's master account. Parameters are undocumented in the reference.
    pub async fn restriction_list_ids(&self, query: &QueryParams) -> Result<Json, IbkrError> {
        self.call_raw(ApiRequest::new(&catalog::RESTRICTION_LIST_IDS, &[])?.query_params(query))
            .await
    }

    /// `GET /gw/api/v1/restrictions/restriction` `[2.39]`: Details of one restriction. Parameters are undocumented in the reference.
    pub async fn restriction(&self, query: &QueryParams) -> Result<Json, IbkrError> {
        self.call_raw(ApiRequest::new(&catalog::RESTRICTION, &[])?.query_params(query))
            .await
    }

    /// `GET /gw/api/v1/restrictions/restriction-scope` `[2.39]`: Scope of a restriction. Parameters are undocumented in the reference.
    pub async fn restriction_scope(&self, query: &QueryParams) -> Result<Json, IbkrError> {
        self.call_raw(ApiRequest::new(&catalog::RESTRICTION_SCOPE, &[])?.query_params(query))
            .await
    }

    /// `GET /gw/api/v1/restrictions/user` `[2.39]`: Restriction ids attached to a user. Parameters are undocumented in the reference.
    pub async fn restrictions_for_user(&self, query: &QueryParams) -> Result<Json, IbkrError> {
        self.call_raw(ApiRequest::new(&catalog::RESTRICTIONS_FOR_USER, &[])?.query_params(query))
            .await
    }

    /// `POST /gw/api/v1/restrictions/verify` `[2.39]`: Validate a restriction CSV without applying it. Parameters are undocumented in the reference.
    pub async fn restrictions_verify(&self, body: &Json) -> Result<Json, IbkrError> {
        self.call_raw(ApiRequest::new(&catalog::RESTRICTIONS_VERIFY, &[])?.json(body)?)
            .await
    }
}
