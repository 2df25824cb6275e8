//! Account Management (`/gw/api/v1/...`, OAuth 2.0 bearer; "Signed JWT" operations take
//! `application/jwt`). Not needed by the trading engine: typed requests, raw JSON answers.
//! Write operations (transfers, instructions) are never retried after an ambiguous failure;
//! use `clientInstructionId` as the idempotency key and query the instruction status.

use serde::Serialize;

use crate::catalog::{self, EndpointSpec};
use crate::client::Client;
use crate::error::IbkrError;
use crate::models::{
    BulkInstructionRequest, InstructionRequest, QueryParams, SignedJwt, StatementRequest,
    TaxDocumentRequest, TradeConfirmationRequest,
};
use crate::transport::{ApiRequest, Body};

type Json = serde_json::Value;

impl Client {
    async fn am_get(
        &self,
        spec: &'static EndpointSpec,
        path: &[(&str, &str)],
        query: &QueryParams,
    ) -> Result<Json, IbkrError> {
        self.call_raw(ApiRequest::new(spec, path)?.query_params(query))
            .await
    }

    async fn am_json<T: Serialize + ?Sized>(
        &self,
        spec: &'static EndpointSpec,
        path: &[(&str, &str)],
        body: &T,
    ) -> Result<Json, IbkrError> {
        self.call_raw(ApiRequest::new(spec, path)?.json(body)?)
            .await
    }

    async fn am_jwt(
        &self,
        spec: &'static EndpointSpec,
        jwt: &SignedJwt,
    ) -> Result<Json, IbkrError> {
        if jwt.0.trim().is_empty() {
            return Err(IbkrError::InvalidInput {
                what: "signed JWT",
                reason: "empty".into(),
            });
        }
        self.call_raw(ApiRequest::new(spec, &[])?.body(Body::Jwt(jwt.0.clone())))
            .await
    }

    /// `GET /gw/api/v1/accounts`: Retrieve a processed application (`accountId` or `externalId` query).
    pub async fn am_account_application(&self, query: &QueryParams) -> Result<Json, IbkrError> {
        self.am_get(&catalog::AM_ACCOUNT_APPLICATION, &[], query)
            .await
    }

    /// `POST /gw/api/v1/accounts`: Submit a new account application (signed JWT).
    pub async fn am_submit_application(&self, jwt: &SignedJwt) -> Result<Json, IbkrError> {
        self.am_jwt(&catalog::AM_SUBMIT_APPLICATION, jwt).await
    }

    /// `PATCH /gw/api/v1/accounts`: Submit account maintenance requests (signed JWT).
    pub async fn am_account_maintenance(&self, jwt: &SignedJwt) -> Result<Json, IbkrError> {
        self.am_jwt(&catalog::AM_ACCOUNT_MAINTENANCE, jwt).await
    }

    /// `POST /gw/api/v1/accounts/close`: Request account closure `[2.15]` (signed JWT).
    pub async fn am_close_account(&self, jwt: &SignedJwt) -> Result<Json, IbkrError> {
        self.am_jwt(&catalog::AM_CLOSE_ACCOUNT, jwt).await
    }

    /// `POST /gw/api/v1/accounts/documents`: Submit the day's agreements and disclosures (signed JWT).
    pub async fn am_submit_documents(&self, jwt: &SignedJwt) -> Result<Json, IbkrError> {
        self.am_jwt(&catalog::AM_SUBMIT_DOCUMENTS, jwt).await
    }

    /// `GET /gw/api/v1/accounts/login-messages`: Accounts with outstanding login messages (`loginMessageRequest` query).
    pub async fn am_login_messages(&self, query: &QueryParams) -> Result<Json, IbkrError> {
        self.am_get(&catalog::AM_LOGIN_MESSAGES, &[], query).await
    }

    /// `GET /gw/api/v1/accounts/status`: Status of all accounts, paged (`accountStatusRequest` query).
    pub async fn am_accounts_status(&self, query: &QueryParams) -> Result<Json, IbkrError> {
        self.am_get(&catalog::AM_ACCOUNTS_STATUS, &[], query).await
    }

    /// `GET /gw/api/v1/accounts/{accountId}/details`: Full account information.
    pub async fn am_account_details(&self, account_id: &str) -> Result<Json, IbkrError> {
        self.am_get(
            &catalog::AM_ACCOUNT_DETAILS,
            &[("accountId", account_id)],
            &QueryParams::new(),
        )
        .await
    }

    /// `GET /gw/api/v1/accounts/{accountId}/kyc`: Generate an Au10Tix KYC URL.
    pub async fn am_account_kyc(&self, account_id: &str) -> Result<Json, IbkrError> {
        self.am_get(
            &catalog::AM_ACCOUNT_KYC,
            &[("accountId", account_id)],
            &QueryParams::new(),
        )
        .await
    }

    /// `GET /gw/api/v1/accounts/{accountId}/login-messages`: Login messages of one account (`type` query).
    pub async fn am_account_login_messages(
        &self,
        account_id: &str,
        query: &QueryParams,
    ) -> Result<Json, IbkrError> {
        self.am_get(
            &catalog::AM_ACCOUNT_LOGIN_MESSAGES,
            &[("accountId", account_id)],
            query,
        )
        .await
    }

    /// `GET /gw/api/v1/accounts/{accountId}/status`: Status of one account.
    pub async fn am_account_status(&self, account_id: &str) -> Result<Json, IbkrError> {
        self.am_get(
            &catalog::AM_ACCOUNT_STATUS,
            &[("accountId", account_id)],
            &QueryParams::new(),
        )
        .await
    }

    /// `PATCH /gw/api/v1/accounts/{accountId}/status`: Update an account's status `[2.39]`.
    pub async fn am_update_account_status(
        &self,
        account_id: &str,
        body: &Json,
    ) -> Result<Json, IbkrError> {
        self.am_json(
            &catalog::AM_UPDATE_ACCOUNT_STATUS,
            &[("accountId", account_id)],
            body,
        )
        .await
    }

    /// `GET /gw/api/v1/accounts/{accountId}/tasks`: Pending or registration tasks (`type` query).
    pub async fn am_account_tasks(
        &self,
        account_id: &str,
        query: &QueryParams,
    ) -> Result<Json, IbkrError> {
        self.am_get(
            &catalog::AM_ACCOUNT_TASKS,
            &[("accountId", account_id)],
            query,
        )
        .await
    }

    /// `POST /gw/api/v1/accounts/{accountId}/tasks`: Assign tasks `[2.39]`.
    pub async fn am_assign_tasks(&self, account_id: &str, body: &Json) -> Result<Json, IbkrError> {
        self.am_json(
            &catalog::AM_ASSIGN_TASKS,
            &[("accountId", account_id)],
            body,
        )
        .await
    }

    /// `PATCH /gw/api/v1/accounts/{accountId}/tasks`: Update task status `[2.39]`.
    pub async fn am_update_tasks(&self, account_id: &str, body: &Json) -> Result<Json, IbkrError> {
        self.am_json(
            &catalog::AM_UPDATE_TASKS,
            &[("accountId", account_id)],
            body,
        )
        .await
    }

    /// `POST /gw/api/v1/bank-instructions`: Create or delete a bank instruction.
    pub async fn am_bank_instruction(
        &self,
        request: &InstructionRequest,
    ) -> Result<Json, IbkrError> {
        self.am_json(&catalog::AM_BANK_INSTRUCTION, &[], request)
            .await
    }

    /// `POST /gw/api/v1/bank-instructions/query`: View bank instructions on file.
    pub async fn am_query_bank_instructions(
        &self,
        request: &InstructionRequest,
    ) -> Result<Json, IbkrError> {
        self.am_json(&catalog::AM_QUERY_BANK_INSTRUCTIONS, &[], request)
            .await
    }

    /// `POST /gw/api/v1/bank-instructions:bulk`: Bulk bank instructions `[2.27+]`.
    pub async fn am_bank_instructions_bulk(
        &self,
        request: &BulkInstructionRequest,
    ) -> Result<Json, IbkrError> {
        self.am_json(&catalog::AM_BANK_INSTRUCTIONS_BULK, &[], request)
            .await
    }

    /// `GET /gw/api/v1/client-instructions/{clientInstructionId}`: Instruction status by the client's own id.
    pub async fn am_client_instruction_status(
        &self,
        client_instruction_id: &str,
    ) -> Result<Json, IbkrError> {
        self.am_get(
            &catalog::AM_CLIENT_INSTRUCTION_STATUS,
            &[("clientInstructionId", client_instruction_id)],
            &QueryParams::new(),
        )
        .await
    }

    /// `POST /gw/api/v1/external-asset-transfers`: External position transfer (ACATS, ATON, FOP, DWAC, complex).
    pub async fn am_external_asset_transfer(
        &self,
        request: &InstructionRequest,
    ) -> Result<Json, IbkrError> {
        self.am_json(&catalog::AM_EXTERNAL_ASSET_TRANSFER, &[], request)
            .await
    }

    /// `POST /gw/api/v1/external-asset-transfers:bulk`: Bulk external position transfers `[2.27+]`.
    pub async fn am_external_asset_transfers_bulk(
        &self,
        request: &BulkInstructionRequest,
    ) -> Result<Json, IbkrError> {
        self.am_json(&catalog::AM_EXTERNAL_ASSET_TRANSFERS_BULK, &[], request)
            .await
    }

    /// `POST /gw/api/v1/external-cash-transfers`: Deposit or withdraw cash.
    pub async fn am_external_cash_transfer(
        &self,
        request: &InstructionRequest,
    ) -> Result<Json, IbkrError> {
        self.am_json(&catalog::AM_EXTERNAL_CASH_TRANSFER, &[], request)
            .await
    }

    /// `POST /gw/api/v1/external-cash-transfers/query`: Cash available for withdrawal.
    pub async fn am_query_withdrawable_cash(
        &self,
        request: &InstructionRequest,
    ) -> Result<Json, IbkrError> {
        self.am_json(&catalog::AM_QUERY_WITHDRAWABLE_CASH, &[], request)
            .await
    }

    /// `POST /gw/api/v1/external-cash-transfers:bulk`: Bulk deposits/withdrawals `[2.27+]`.
    pub async fn am_external_cash_transfers_bulk(
        &self,
        request: &BulkInstructionRequest,
    ) -> Result<Json, IbkrError> {
        self.am_json(&catalog::AM_EXTERNAL_CASH_TRANSFERS_BULK, &[], request)
            .await
    }

    /// `GET /gw/api/v1/instruction-sets/{instructionSetId}`: Status of every instruction in a set.
    pub async fn am_instruction_set_status(
        &self,
        instruction_set_id: &str,
    ) -> Result<Json, IbkrError> {
        self.am_get(
            &catalog::AM_INSTRUCTION_SET_STATUS,
            &[("instructionSetId", instruction_set_id)],
            &QueryParams::new(),
        )
        .await
    }

    /// `POST /gw/api/v1/instructions/cancel`: Cancel a pending instruction.
    pub async fn am_cancel_instruction(
        &self,
        request: &InstructionRequest,
    ) -> Result<Json, IbkrError> {
        self.am_json(&catalog::AM_CANCEL_INSTRUCTION, &[], request)
            .await
    }

    /// `POST /gw/api/v1/instructions/cancel:bulk`: Bulk cancel instructions `[2.27+]`.
    pub async fn am_cancel_instructions_bulk(
        &self,
        request: &BulkInstructionRequest,
    ) -> Result<Json, IbkrError> {
        self.am_json(&catalog::AM_CANCEL_INSTRUCTIONS_BULK, &[], request)
            .await
    }

    /// `POST /gw/api/v1/instructions/query`: Recent transactions (≤ 30 days).
    pub async fn am_query_recent_instructions(
        &self,
        request: &InstructionRequest,
    ) -> Result<Json, IbkrError> {
        self.am_json(&catalog::AM_QUERY_RECENT_INSTRUCTIONS, &[], request)
            .await
    }

    /// `GET /gw/api/v1/instructions/{instructionId}`: Instruction status by IB instruction id.
    pub async fn am_instruction_status(&self, instruction_id: &str) -> Result<Json, IbkrError> {
        self.am_get(
            &catalog::AM_INSTRUCTION_STATUS,
            &[("instructionId", instruction_id)],
            &QueryParams::new(),
        )
        .await
    }

    /// `POST /gw/api/v1/internal-asset-transfers`: Move positions between two IBKR accounts.
    pub async fn am_internal_asset_transfer(
        &self,
        request: &InstructionRequest,
    ) -> Result<Json, IbkrError> {
        self.am_json(&catalog::AM_INTERNAL_ASSET_TRANSFER, &[], request)
            .await
    }

    /// `POST /gw/api/v1/internal-asset-transfers:bulk`: Bulk internal position transfers `[2.27+]`.
    pub async fn am_internal_asset_transfers_bulk(
        &self,
        request: &BulkInstructionRequest,
    ) -> Result<Json, IbkrError> {
        self.am_json(&catalog::AM_INTERNAL_ASSET_TRANSFERS_BULK, &[], request)
            .await
    }

    /// `POST /gw/api/v1/internal-cash-transfers`: Move cash between two IBKR accounts.
    pub async fn am_internal_cash_transfer(
        &self,
        request: &InstructionRequest,
    ) -> Result<Json, IbkrError> {
        self.am_json(&catalog::AM_INTERNAL_CASH_TRANSFER, &[], request)
            .await
    }

    /// `POST /gw/api/v1/internal-cash-transfers:bulk`: Bulk internal cash transfers `[2.27+]`.
    pub async fn am_internal_cash_transfers_bulk(
        &self,
        request: &BulkInstructionRequest,
    ) -> Result<Json, IbkrError> {
        self.am_json(&catalog::AM_INTERNAL_CASH_TRANSFERS_BULK, &[], request)
            .await
    }

    /// `POST /gw/api/v2/external-asset-transfers`: v2 external position transfer `[2.39]`.
    pub async fn am_external_asset_transfer_v2(
        &self,
        request: &InstructionRequest,
    ) -> Result<Json, IbkrError> {
        self.am_json(&catalog::AM_EXTERNAL_ASSET_TRANSFER_V2, &[], request)
            .await
    }

    /// `POST /gw/api/v2/external-asset-transfers:bulk`: v2 bulk external position transfers `[2.39]`.
    pub async fn am_external_asset_transfers_bulk_v2(
        &self,
        request: &BulkInstructionRequest,
    ) -> Result<Json, IbkrError> {
        self.am_json(&catalog::AM_EXTERNAL_ASSET_TRANSFERS_BULK_V2, &[], request)
            .await
    }

    /// `POST /gw/api/v1/statements`: Generate a statement for a date range.
    pub async fn am_statement(&self, request: &StatementRequest) -> Result<Json, IbkrError> {
        self.am_json(&catalog::AM_STATEMENT, &[], request).await
    }

    /// `GET /gw/api/v1/statements/available`: Dates with statements (`accountId` query).
    pub async fn am_available_statements(&self, account_id: &str) -> Result<Json, IbkrError> {
        self.am_get(
            &catalog::AM_AVAILABLE_STATEMENTS,
            &[],
            &QueryParams::new().with("accountId", account_id),
        )
        .await
    }

    /// `POST /gw/api/v1/tax-documents`: Fetch a tax form.
    pub async fn am_tax_document(&self, request: &TaxDocumentRequest) -> Result<Json, IbkrError> {
        self.am_json(&catalog::AM_TAX_DOCUMENT, &[], request).await
    }

    /// `GET /gw/api/v1/tax-documents/available`: Tax forms available (`accountId`, `year` query).
    pub async fn am_available_tax_documents(&self, query: &QueryParams) -> Result<Json, IbkrError> {
        self.am_get(&catalog::AM_AVAILABLE_TAX_DOCUMENTS, &[], query)
            .await
    }

    /// `POST /gw/api/v1/trade-confirmations`: Trade confirmations for a date range `[2.27+]`.
    pub async fn am_trade_confirmations(
        &self,
        request: &TradeConfirmationRequest,
    ) -> Result<Json, IbkrError> {
        self.am_json(&catalog::AM_TRADE_CONFIRMATIONS, &[], request)
            .await
    }

    /// `GET /gw/api/v1/trade-confirmations/available`: Dates with trade confirmations `[2.27+]` (`accountId` query).
    pub async fn am_available_trade_confirmations(
        &self,
        account_id: &str,
    ) -> Result<Json, IbkrError> {
        self.am_get(
            &catalog::AM_AVAILABLE_TRADE_CONFIRMATIONS,
            &[],
            &QueryParams::new().with("accountId", account_id),
        )
        .await
    }

    /// `GET /gw/api/v1/enumerations/complex-asset-transfer`: Brokers of a complex asset transfer type (`instructionType` query).
    pub async fn am_complex_asset_transfer_brokers(
        &self,
        query: &QueryParams,
    ) -> Result<Json, IbkrError> {
        self.am_get(&catalog::AM_COMPLEX_ASSET_TRANSFER_BROKERS, &[], query)
            .await
    }

    /// `GET /gw/api/v1/enumerations/{enumerationType}`: Enumerations (exchange bundles, occupations, questionnaires, …).
    pub async fn am_enumerations(
        &self,
        enumeration_type: &str,
        query: &QueryParams,
    ) -> Result<Json, IbkrError> {
        self.am_get(
            &catalog::AM_ENUMERATIONS,
            &[("enumerationType", enumeration_type)],
            query,
        )
        .await
    }

    /// `POST /gw/api/v1/fee-templates`: Set an advisor fee template `[2.15]` (signed JWT).
    pub async fn am_set_fee_template(&self, jwt: &SignedJwt) -> Result<Json, IbkrError> {
        self.am_jwt(&catalog::AM_SET_FEE_TEMPLATE, jwt).await
    }

    /// `POST /gw/api/v1/fee-templates/query`: View an account's fee template `[2.15]` (signed JWT).
    pub async fn am_query_fee_template(&self, jwt: &SignedJwt) -> Result<Json, IbkrError> {
        self.am_jwt(&catalog::AM_QUERY_FEE_TEMPLATE, jwt).await
    }

    /// `GET /gw/api/v1/forms`: Download forms by number.
    pub async fn am_forms(&self, query: &QueryParams) -> Result<Json, IbkrError> {
        self.am_get(&catalog::AM_FORMS, &[], query).await
    }

    /// `GET /gw/api/v1/forms/required-forms`: Forms required for an application profile `[2.27+]`.
    pub async fn am_required_forms(&self, query: &QueryParams) -> Result<Json, IbkrError> {
        self.am_get(&catalog::AM_REQUIRED_FORMS, &[], query).await
    }

    /// `GET /gw/api/v1/participating-banks`: Banks supporting a connection type (`type` query).
    pub async fn am_participating_banks(&self, query: &QueryParams) -> Result<Json, IbkrError> {
        self.am_get(&catalog::AM_PARTICIPATING_BANKS, &[], query)
            .await
    }

    /// `GET /gw/api/v1/requests`: Account-management requests in a timeframe (`requestDetails` query).
    pub async fn am_requests(&self, query: &QueryParams) -> Result<Json, IbkrError> {
        self.am_get(&catalog::AM_REQUESTS, &[], query).await
    }

    /// `GET /gw/api/v1/requests/{requestId}/status`: Status of an account-management request (`type` query).
    pub async fn am_request_status(
        &self,
        request_id: &str,
        query: &QueryParams,
    ) -> Result<Json, IbkrError> {
        self.am_get(
            &catalog::AM_REQUEST_STATUS,
            &[("requestId", request_id)],
            query,
        )
        .await
    }

    /// `PATCH /gw/api/v1/requests/{requestId}/status`: Update a request's status `[2.39]`.
    pub async fn am_update_request_status(
        &self,
        request_id: &str,
        body: &Json,
    ) -> Result<Json, IbkrError> {
        self.am_json(
            &catalog::AM_UPDATE_REQUEST_STATUS,
            &[("requestId", request_id)],
            body,
        )
        .await
    }

    /// `GET /gw/api/v1/validations/usernames/{username}`: Check whether a username is valid and available.
    pub async fn am_validate_username(&self, username: &str) -> Result<Json, IbkrError> {
        self.am_get(
            &catalog::AM_VALIDATE_USERNAME,
            &[("username", username)],
            &QueryParams::new(),
        )
        .await
    }
}
