//! Trading › FA Allocation: allocation groups and presets for advisors, and the `[2.27+]`
//! model-portfolio calls (`/fa/*`, bodies with a client `reqID`). Raw answers.

use crate::catalog::{self, EndpointSpec};
use crate::client::Client;
use crate::error::IbkrError;
use crate::models::{AllocationGroup, AllocationPresets};
use crate::transport::ApiRequest;

type Json = serde_json::Value;

impl Client {
    async fn fa_post(&self, spec: &'static EndpointSpec, body: &Json) -> Result<Json, IbkrError> {
        if !body.is_object() {
            return Err(IbkrError::InvalidInput {
                what: "FA request body",
                reason: format!("{} needs a JSON object", spec.path),
            });
        }
        self.call_raw(ApiRequest::new(spec, &[])?.json(body)?).await
    }

    /// `POST /fa/fa-preset/get`.
    pub async fn fa_preset_get(&self, body: &Json) -> Result<Json, IbkrError> {
        self.fa_post(&catalog::FA_PRESET_GET, body).await
    }

    /// `POST /fa/fa-preset/save`.
    pub async fn fa_preset_save(&self, body: &Json) -> Result<Json, IbkrError> {
        self.fa_post(&catalog::FA_PRESET_SAVE, body).await
    }

    /// `POST /fa/model/accounts-details`.
    pub async fn fa_model_accounts_details(&self, body: &Json) -> Result<Json, IbkrError> {
        self.fa_post(&catalog::FA_MODEL_ACCOUNTS_DETAILS, body)
            .await
    }

    /// `POST /fa/model/invest-divest`.
    pub async fn fa_model_invest_divest(&self, body: &Json) -> Result<Json, IbkrError> {
        self.fa_post(&catalog::FA_MODEL_INVEST_DIVEST, body).await
    }

    /// `POST /fa/model/invest-divest-positions`.
    pub async fn fa_model_invest_divest_positions(&self, body: &Json) -> Result<Json, IbkrError> {
        self.fa_post(&catalog::FA_MODEL_INVEST_DIVEST_POSITIONS, body)
            .await
    }

    /// `POST /fa/model/list`.
    pub async fn fa_model_list(&self, body: &Json) -> Result<Json, IbkrError> {
        self.fa_post(&catalog::FA_MODEL_LIST, body).await
    }

    /// `POST /fa/model/positions`.
    pub async fn fa_model_positions(&self, body: &Json) -> Result<Json, IbkrError> {
        self.fa_post(&catalog::FA_MODEL_POSITIONS, body).await
    }

    /// `POST /fa/model/save`.
    pub async fn fa_model_save(&self, body: &Json) -> Result<Json, IbkrError> {
        self.fa_post(&catalog::FA_MODEL_SAVE, body).await
    }

    /// `POST /fa/model/submit-transfers`.
    pub async fn fa_model_submit_transfers(&self, body: &Json) -> Result<Json, IbkrError> {
        self.fa_post(&catalog::FA_MODEL_SUBMIT_TRANSFERS, body)
            .await
    }

    /// `POST /fa/model/summary`.
    pub async fn fa_model_summary(&self, body: &Json) -> Result<Json, IbkrError> {
        self.fa_post(&catalog::FA_MODEL_SUMMARY, body).await
    }

    /// `GET /iserver/account/allocation/accounts`.
    pub async fn allocation_accounts(&self) -> Result<Json, IbkrError> {
        self.call_raw(ApiRequest::new(&catalog::ALLOCATION_ACCOUNTS, &[])?)
            .await
    }

    /// `GET /iserver/account/allocation/group`.
    pub async fn allocation_groups(&self) -> Result<Json, IbkrError> {
        self.call_raw(ApiRequest::new(&catalog::ALLOCATION_GROUPS, &[])?)
            .await
    }

    /// `POST /iserver/account/allocation/group`.
    pub async fn create_allocation_group(
        &self,
        group: &AllocationGroup,
    ) -> Result<Json, IbkrError> {
        self.call_raw(ApiRequest::new(&catalog::CREATE_ALLOCATION_GROUP, &[])?.json(group)?)
            .await
    }

    /// `PUT /iserver/account/allocation/group`.
    pub async fn modify_allocation_group(
        &self,
        group: &AllocationGroup,
    ) -> Result<Json, IbkrError> {
        self.call_raw(ApiRequest::new(&catalog::MODIFY_ALLOCATION_GROUP, &[])?.json(group)?)
            .await
    }

    /// `POST /iserver/account/allocation/group/delete`.
    pub async fn delete_allocation_group(&self, name: &str) -> Result<Json, IbkrError> {
        self.call_raw(
            ApiRequest::new(&catalog::DELETE_ALLOCATION_GROUP, &[])?
                .json(&serde_json::json!({ "name": name }))?,
        )
        .await
    }

    /// `POST /iserver/account/allocation/group/single`.
    pub async fn allocation_group(&self, name: &str) -> Result<Json, IbkrError> {
        self.call_raw(
            ApiRequest::new(&catalog::ALLOCATION_GROUP, &[])?
                .json(&serde_json::json!({ "name": name }))?,
        )
        .await
    }

    /// `GET /iserver/account/allocation/presets`.
    pub async fn allocation_presets(&self) -> Result<AllocationPresets, IbkrError> {
        self.call(ApiRequest::new(&catalog::ALLOCATION_PRESETS, &[])?)
            .await
    }

    /// `POST /iserver/account/allocation/presets`.
    pub async fn set_allocation_presets(
        &self,
        presets: &AllocationPresets,
    ) -> Result<Json, IbkrError> {
        self.call_raw(ApiRequest::new(&catalog::SET_ALLOCATION_PRESETS, &[])?.json(presets)?)
            .await
    }
}
