//! The implemented endpoint table: every operation of the reference's endpoint list
//! (`ibkr-endpoints.json`), with its method, path, category, group, the `Client` method that
//! calls it and whether that method returns a typed response or raw JSON.
//!
//! Endpoint methods build their requests from these constants, so the table and the calls
//! cannot drift apart; a test checks the table against the reference list.

use std::fmt;

/// HTTP methods used by the Web API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HttpMethod {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl HttpMethod {
    /// Upper-case name (`GET`, `POST`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
            HttpMethod::Patch => "PATCH",
            HttpMethod::Delete => "DELETE",
        }
    }

    /// The reqwest method.
    pub fn to_reqwest(self) -> reqwest::Method {
        match self {
            HttpMethod::Get => reqwest::Method::GET,
            HttpMethod::Post => reqwest::Method::POST,
            HttpMethod::Put => reqwest::Method::PUT,
            HttpMethod::Patch => reqwest::Method::PATCH,
            HttpMethod::Delete => reqwest::Method::DELETE,
        }
    }

    /// Parse an upper- or lower-case method name.
    pub fn parse(s: &str) -> Option<HttpMethod> {
        match s.to_ascii_uppercase().as_str() {
            "GET" => Some(HttpMethod::Get),
            "POST" => Some(HttpMethod::Post),
            "PUT" => Some(HttpMethod::Put),
            "PATCH" => Some(HttpMethod::Patch),
            "DELETE" => Some(HttpMethod::Delete),
            _ => None,
        }
    }
}

impl fmt::Display for HttpMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which root a path is relative to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Base {
    /// Trading endpoints, under `/v1/api` (the configured base URL).
    Trading,
    /// Account Management, Authorization, Echo and the 2.39 additions: paths already start
    /// with `/gw/api/...` or `/oauth2/...` and are served from the host root.
    Root,
}

/// Whether the `Client` method returns a typed response or raw JSON (`serde_json::Value`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Typing {
    Typed,
    Raw,
}

impl Typing {
    /// `typed` or `raw`.
    pub fn as_str(self) -> &'static str {
        match self {
            Typing::Typed => "typed",
            Typing::Raw => "raw",
        }
    }
}

/// Which spec versions contain the endpoint (reference §0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Availability {
    /// In every spec seen (2.15, 2.27, 2.39).
    AllSpecs,
    /// Only in 2.15 (deprecated; may still work).
    Legacy215,
    /// Added in 2.27.
    Since227,
    /// Only in 2.39.
    Only239,
}

impl Availability {
    /// Short label for tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Availability::AllSpecs => "all",
            Availability::Legacy215 => "2.15 only",
            Availability::Since227 => "2.27+",
            Availability::Only239 => "2.39",
        }
    }
}

/// One implemented endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EndpointSpec {
    /// HTTP method.
    pub method: HttpMethod,
    /// Path as the reference writes it, with `{placeholders}`.
    pub path: &'static str,
    /// Root the path is relative to.
    pub base: Base,
    /// Reference category (`Trading`, `Account Management`, …).
    pub category: &'static str,
    /// Reference group (`Orders`, `Market Data`, …).
    pub group: &'static str,
    /// Module under `endpoints/` that implements it.
    pub module: &'static str,
    /// Name of the `Client` method that calls it.
    pub function: &'static str,
    /// Typed or raw response.
    pub typing: Typing,
    /// Spec versions containing it.
    pub availability: Availability,
}

impl EndpointSpec {
    /// True for `/iserver/*` endpoints that need a primed brokerage session
    /// (`/iserver/accounts` called first). The auth endpoints and the accounts call itself
    /// are excluded.
    pub fn needs_brokerage(&self) -> bool {
        self.base == Base::Trading
            && self.path.starts_with("/iserver/")
            && !self.path.starts_with("/iserver/auth/")
            && self.path != "/iserver/reauthenticate"
            && self.path != "/iserver/accounts"
    }

    /// The path with every `{name}` replaced by the matching value, percent-encoded as a
    /// path segment. Unknown or missing placeholders are reported as errors.
    pub fn fill(&self, params: &[(&str, &str)]) -> Result<String, crate::IbkrError> {
        fill_path(self.path, params)
    }
}

/// Characters left as they are in a path segment (RFC 3986 unreserved plus `:` and `@`).
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b':')
    .remove(b'@');

/// Fill `{placeholders}` in `template` from `params`.
pub fn fill_path(template: &str, params: &[(&str, &str)]) -> Result<String, crate::IbkrError> {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .ok_or_else(|| crate::IbkrError::InvalidInput {
                what: "path template",
                reason: format!("unclosed placeholder in {template}"),
            })?;
        let name = &after[..close];
        let value = params
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| *v)
            .ok_or_else(|| crate::IbkrError::InvalidInput {
                what: "path parameter",
                reason: format!("{name} missing for {template}"),
            })?;
        if value.is_empty() {
            return Err(crate::IbkrError::InvalidInput {
                what: "path parameter",
                reason: format!("{name} must not be empty ({template})"),
            });
        }
        out.extend(percent_encoding::utf8_percent_encode(value, SEGMENT));
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Look an endpoint up by method and reference path.
pub fn find(method: HttpMethod, path: &str) -> Option<&'static EndpointSpec> {
    CATALOG
        .iter()
        .find(|e| e.method == method && e.path == path)
}

/// Look an endpoint up by the name of its `Client` method.
pub fn by_function(function: &str) -> Option<&'static EndpointSpec> {
    CATALOG.iter().find(|e| e.function == function)
}

/// `GET /gw/api/v1/accounts` — Retrieve a processed application by accountId or externalId.
pub const AM_ACCOUNT_APPLICATION: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/gw/api/v1/accounts",
    base: Base::Root,
    category: "Account Management",
    group: "Accounts",
    module: "account_management",
    function: "am_account_application",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `POST /gw/api/v1/accounts` — Submit a new account application (signed JWT).
pub const AM_SUBMIT_APPLICATION: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/gw/api/v1/accounts",
    base: Base::Root,
    category: "Account Management",
    group: "Accounts",
    module: "account_management",
    function: "am_submit_application",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `PATCH /gw/api/v1/accounts` — Submit account maintenance requests (signed JWT).
pub const AM_ACCOUNT_MAINTENANCE: EndpointSpec = EndpointSpec {
    method: HttpMethod::Patch,
    path: "/gw/api/v1/accounts",
    base: Base::Root,
    category: "Account Management",
    group: "Accounts",
    module: "account_management",
    function: "am_account_maintenance",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `POST /gw/api/v1/accounts/close` — Request account closure.
pub const AM_CLOSE_ACCOUNT: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/gw/api/v1/accounts/close",
    base: Base::Root,
    category: "Account Management",
    group: "Accounts",
    module: "account_management",
    function: "am_close_account",
    typing: Typing::Raw,
    availability: Availability::Legacy215,
};

/// `POST /gw/api/v1/accounts/documents` — Submit daily agreements/disclosures used by that day's applications.
pub const AM_SUBMIT_DOCUMENTS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/gw/api/v1/accounts/documents",
    base: Base::Root,
    category: "Account Management",
    group: "Accounts",
    module: "account_management",
    function: "am_submit_documents",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `GET /gw/api/v1/accounts/login-messages` — Accounts with outstanding login messages.
pub const AM_LOGIN_MESSAGES: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/gw/api/v1/accounts/login-messages",
    base: Base::Root,
    category: "Account Management",
    group: "Accounts",
    module: "account_management",
    function: "am_login_messages",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `GET /gw/api/v1/accounts/status` — Status of all accounts for the client (paged).
pub const AM_ACCOUNTS_STATUS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/gw/api/v1/accounts/status",
    base: Base::Root,
    category: "Account Management",
    group: "Accounts",
    module: "account_management",
    function: "am_accounts_status",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `GET /gw/api/v1/accounts/{accountId}/details` — Full account information (holders, financial info, restrictions).
pub const AM_ACCOUNT_DETAILS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/gw/api/v1/accounts/{accountId}/details",
    base: Base::Root,
    category: "Account Management",
    group: "Accounts",
    module: "account_management",
    function: "am_account_details",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `GET /gw/api/v1/accounts/{accountId}/kyc` — Generate an Au10Tix KYC URL.
pub const AM_ACCOUNT_KYC: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/gw/api/v1/accounts/{accountId}/kyc",
    base: Base::Root,
    category: "Account Management",
    group: "Accounts",
    module: "account_management",
    function: "am_account_kyc",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `GET /gw/api/v1/accounts/{accountId}/login-messages` — Login messages for one account.
pub const AM_ACCOUNT_LOGIN_MESSAGES: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/gw/api/v1/accounts/{accountId}/login-messages",
    base: Base::Root,
    category: "Account Management",
    group: "Accounts",
    module: "account_management",
    function: "am_account_login_messages",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `GET /gw/api/v1/accounts/{accountId}/status` — Status of one account.
pub const AM_ACCOUNT_STATUS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/gw/api/v1/accounts/{accountId}/status",
    base: Base::Root,
    category: "Account Management",
    group: "Accounts",
    module: "account_management",
    function: "am_account_status",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `PATCH /gw/api/v1/accounts/{accountId}/status` — Update an account's status.
pub const AM_UPDATE_ACCOUNT_STATUS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Patch,
    path: "/gw/api/v1/accounts/{accountId}/status",
    base: Base::Root,
    category: "Account Management",
    group: "Accounts",
    module: "account_management",
    function: "am_update_account_status",
    typing: Typing::Raw,
    availability: Availability::Only239,
};

/// `GET /gw/api/v1/accounts/{accountId}/tasks` — Pending or registration tasks for an account.
pub const AM_ACCOUNT_TASKS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/gw/api/v1/accounts/{accountId}/tasks",
    base: Base::Root,
    category: "Account Management",
    group: "Accounts",
    module: "account_management",
    function: "am_account_tasks",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `POST /gw/api/v1/accounts/{accountId}/tasks` — Assign tasks.
pub const AM_ASSIGN_TASKS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/gw/api/v1/accounts/{accountId}/tasks",
    base: Base::Root,
    category: "Account Management",
    group: "Accounts",
    module: "account_management",
    function: "am_assign_tasks",
    typing: Typing::Raw,
    availability: Availability::Only239,
};

/// `PATCH /gw/api/v1/accounts/{accountId}/tasks` — Update task status.
pub const AM_UPDATE_TASKS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Patch,
    path: "/gw/api/v1/accounts/{accountId}/tasks",
    base: Base::Root,
    category: "Account Management",
    group: "Accounts",
    module: "account_management",
    function: "am_update_tasks",
    typing: Typing::Raw,
    availability: Availability::Only239,
};

/// `POST /gw/api/v1/bank-instructions` — Create or delete a bank instruction (ACH, EDDA...).
pub const AM_BANK_INSTRUCTION: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/gw/api/v1/bank-instructions",
    base: Base::Root,
    category: "Account Management",
    group: "Banking",
    module: "account_management",
    function: "am_bank_instruction",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `POST /gw/api/v1/bank-instructions/query` — View bank instructions on file for an account.
pub const AM_QUERY_BANK_INSTRUCTIONS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/gw/api/v1/bank-instructions/query",
    base: Base::Root,
    category: "Account Management",
    group: "Banking",
    module: "account_management",
    function: "am_query_bank_instructions",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `POST /gw/api/v1/bank-instructions:bulk` — Bulk variant of bank-instructions.
pub const AM_BANK_INSTRUCTIONS_BULK: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/gw/api/v1/bank-instructions:bulk",
    base: Base::Root,
    category: "Account Management",
    group: "Banking",
    module: "account_management",
    function: "am_bank_instructions_bulk",
    typing: Typing::Raw,
    availability: Availability::Since227,
};

/// `GET /gw/api/v1/client-instructions/{clientInstructionId}` — Status of an instruction by the client's own id.
pub const AM_CLIENT_INSTRUCTION_STATUS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/gw/api/v1/client-instructions/{clientInstructionId}",
    base: Base::Root,
    category: "Account Management",
    group: "Banking",
    module: "account_management",
    function: "am_client_instruction_status",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `POST /gw/api/v1/external-asset-transfers` — External position transfer (ACATS, ATON, FOP, DWAC, complex).
pub const AM_EXTERNAL_ASSET_TRANSFER: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/gw/api/v1/external-asset-transfers",
    base: Base::Root,
    category: "Account Management",
    group: "Banking",
    module: "account_management",
    function: "am_external_asset_transfer",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `POST /gw/api/v1/external-asset-transfers:bulk` — Bulk external position transfers.
pub const AM_EXTERNAL_ASSET_TRANSFERS_BULK: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/gw/api/v1/external-asset-transfers:bulk",
    base: Base::Root,
    category: "Account Management",
    group: "Banking",
    module: "account_management",
    function: "am_external_asset_transfers_bulk",
    typing: Typing::Raw,
    availability: Availability::Since227,
};

/// `POST /gw/api/v1/external-cash-transfers` — Deposit/withdraw cash between IBKR and a bank.
pub const AM_EXTERNAL_CASH_TRANSFER: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/gw/api/v1/external-cash-transfers",
    base: Base::Root,
    category: "Account Management",
    group: "Banking",
    module: "account_management",
    function: "am_external_cash_transfer",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `POST /gw/api/v1/external-cash-transfers/query` — Cash available for withdrawal (with/without margin loan).
pub const AM_QUERY_WITHDRAWABLE_CASH: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/gw/api/v1/external-cash-transfers/query",
    base: Base::Root,
    category: "Account Management",
    group: "Banking",
    module: "account_management",
    function: "am_query_withdrawable_cash",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `POST /gw/api/v1/external-cash-transfers:bulk` — Bulk deposits/withdrawals.
pub const AM_EXTERNAL_CASH_TRANSFERS_BULK: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/gw/api/v1/external-cash-transfers:bulk",
    base: Base::Root,
    category: "Account Management",
    group: "Banking",
    module: "account_management",
    function: "am_external_cash_transfers_bulk",
    typing: Typing::Raw,
    availability: Availability::Since227,
};

/// `GET /gw/api/v1/instruction-sets/{instructionSetId}` — Status of every instruction in a set.
pub const AM_INSTRUCTION_SET_STATUS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/gw/api/v1/instruction-sets/{instructionSetId}",
    base: Base::Root,
    category: "Account Management",
    group: "Banking",
    module: "account_management",
    function: "am_instruction_set_status",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `POST /gw/api/v1/instructions/cancel` — Cancel a pending instruction.
pub const AM_CANCEL_INSTRUCTION: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/gw/api/v1/instructions/cancel",
    base: Base::Root,
    category: "Account Management",
    group: "Banking",
    module: "account_management",
    function: "am_cancel_instruction",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `POST /gw/api/v1/instructions/cancel:bulk` — Bulk cancel instructions.
pub const AM_CANCEL_INSTRUCTIONS_BULK: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/gw/api/v1/instructions/cancel:bulk",
    base: Base::Root,
    category: "Account Management",
    group: "Banking",
    module: "account_management",
    function: "am_cancel_instructions_bulk",
    typing: Typing::Raw,
    availability: Availability::Since227,
};

/// `POST /gw/api/v1/instructions/query` — Recent transactions (<=30 days) for an account.
pub const AM_QUERY_RECENT_INSTRUCTIONS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/gw/api/v1/instructions/query",
    base: Base::Root,
    category: "Account Management",
    group: "Banking",
    module: "account_management",
    function: "am_query_recent_instructions",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `GET /gw/api/v1/instructions/{instructionId}` — Status of an instruction by IB instruction id.
pub const AM_INSTRUCTION_STATUS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/gw/api/v1/instructions/{instructionId}",
    base: Base::Root,
    category: "Account Management",
    group: "Banking",
    module: "account_management",
    function: "am_instruction_status",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `POST /gw/api/v1/internal-asset-transfers` — Move positions between two IBKR accounts.
pub const AM_INTERNAL_ASSET_TRANSFER: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/gw/api/v1/internal-asset-transfers",
    base: Base::Root,
    category: "Account Management",
    group: "Banking",
    module: "account_management",
    function: "am_internal_asset_transfer",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `POST /gw/api/v1/internal-asset-transfers:bulk` — Bulk internal position transfers.
pub const AM_INTERNAL_ASSET_TRANSFERS_BULK: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/gw/api/v1/internal-asset-transfers:bulk",
    base: Base::Root,
    category: "Account Management",
    group: "Banking",
    module: "account_management",
    function: "am_internal_asset_transfers_bulk",
    typing: Typing::Raw,
    availability: Availability::Since227,
};

/// `POST /gw/api/v1/internal-cash-transfers` — Move cash between two IBKR accounts.
pub const AM_INTERNAL_CASH_TRANSFER: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/gw/api/v1/internal-cash-transfers",
    base: Base::Root,
    category: "Account Management",
    group: "Banking",
    module: "account_management",
    function: "am_internal_cash_transfer",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `POST /gw/api/v1/internal-cash-transfers:bulk` — Bulk internal cash transfers.
pub const AM_INTERNAL_CASH_TRANSFERS_BULK: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/gw/api/v1/internal-cash-transfers:bulk",
    base: Base::Root,
    category: "Account Management",
    group: "Banking",
    module: "account_management",
    function: "am_internal_cash_transfers_bulk",
    typing: Typing::Raw,
    availability: Availability::Since227,
};

/// `POST /gw/api/v2/external-asset-transfers` — v2 external position transfer (FOP, DWAC, complex).
pub const AM_EXTERNAL_ASSET_TRANSFER_V2: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/gw/api/v2/external-asset-transfers",
    base: Base::Root,
    category: "Account Management",
    group: "Banking",
    module: "account_management",
    function: "am_external_asset_transfer_v2",
    typing: Typing::Raw,
    availability: Availability::Only239,
};

/// `POST /gw/api/v2/external-asset-transfers:bulk` — v2 bulk external position transfers.
pub const AM_EXTERNAL_ASSET_TRANSFERS_BULK_V2: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/gw/api/v2/external-asset-transfers:bulk",
    base: Base::Root,
    category: "Account Management",
    group: "Banking",
    module: "account_management",
    function: "am_external_asset_transfers_bulk_v2",
    typing: Typing::Raw,
    availability: Availability::Only239,
};

/// `POST /gw/api/v1/statements` — Generate a statement (JSON/PDF/HTML per mimeType) for a date range.
pub const AM_STATEMENT: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/gw/api/v1/statements",
    base: Base::Root,
    category: "Account Management",
    group: "Reports",
    module: "account_management",
    function: "am_statement",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `GET /gw/api/v1/statements/available` — Dates for which daily/monthly/annual statements exist.
pub const AM_AVAILABLE_STATEMENTS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/gw/api/v1/statements/available",
    base: Base::Root,
    category: "Account Management",
    group: "Reports",
    module: "account_management",
    function: "am_available_statements",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `POST /gw/api/v1/tax-documents` — Fetch a tax form for a year/type/format.
pub const AM_TAX_DOCUMENT: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/gw/api/v1/tax-documents",
    base: Base::Root,
    category: "Account Management",
    group: "Reports",
    module: "account_management",
    function: "am_tax_document",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `GET /gw/api/v1/tax-documents/available` — Tax forms available for an account and year.
pub const AM_AVAILABLE_TAX_DOCUMENTS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/gw/api/v1/tax-documents/available",
    base: Base::Root,
    category: "Account Management",
    group: "Reports",
    module: "account_management",
    function: "am_available_tax_documents",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `POST /gw/api/v1/trade-confirmations` — Fetch trade confirmations for a date range.
pub const AM_TRADE_CONFIRMATIONS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/gw/api/v1/trade-confirmations",
    base: Base::Root,
    category: "Account Management",
    group: "Reports",
    module: "account_management",
    function: "am_trade_confirmations",
    typing: Typing::Raw,
    availability: Availability::Since227,
};

/// `GET /gw/api/v1/trade-confirmations/available` — Dates with trade confirmations.
pub const AM_AVAILABLE_TRADE_CONFIRMATIONS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/gw/api/v1/trade-confirmations/available",
    base: Base::Root,
    category: "Account Management",
    group: "Reports",
    module: "account_management",
    function: "am_available_trade_confirmations",
    typing: Typing::Raw,
    availability: Availability::Since227,
};

/// `GET /gw/api/v1/enumerations/complex-asset-transfer` — Brokers participating in a complex asset transfer type.
pub const AM_COMPLEX_ASSET_TRANSFER_BROKERS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/gw/api/v1/enumerations/complex-asset-transfer",
    base: Base::Root,
    category: "Account Management",
    group: "Utilities",
    module: "account_management",
    function: "am_complex_asset_transfer_brokers",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `GET /gw/api/v1/enumerations/{enumerationType}` — Enumerations (exchange bundles, occupations, questionnaires...).
pub const AM_ENUMERATIONS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/gw/api/v1/enumerations/{enumerationType}",
    base: Base::Root,
    category: "Account Management",
    group: "Utilities",
    module: "account_management",
    function: "am_enumerations",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `POST /gw/api/v1/fee-templates` — Set advisor fee template for an account.
pub const AM_SET_FEE_TEMPLATE: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/gw/api/v1/fee-templates",
    base: Base::Root,
    category: "Account Management",
    group: "Utilities",
    module: "account_management",
    function: "am_set_fee_template",
    typing: Typing::Raw,
    availability: Availability::Legacy215,
};

/// `POST /gw/api/v1/fee-templates/query` — View the fee template of an account.
pub const AM_QUERY_FEE_TEMPLATE: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/gw/api/v1/fee-templates/query",
    base: Base::Root,
    category: "Account Management",
    group: "Utilities",
    module: "account_management",
    function: "am_query_fee_template",
    typing: Typing::Raw,
    availability: Availability::Legacy215,
};

/// `GET /gw/api/v1/forms` — Download forms by number (payload/docs).
pub const AM_FORMS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/gw/api/v1/forms",
    base: Base::Root,
    category: "Account Management",
    group: "Utilities",
    module: "account_management",
    function: "am_forms",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `GET /gw/api/v1/forms/required-forms` — Forms required for a given application profile.
pub const AM_REQUIRED_FORMS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/gw/api/v1/forms/required-forms",
    base: Base::Root,
    category: "Account Management",
    group: "Utilities",
    module: "account_management",
    function: "am_required_forms",
    typing: Typing::Raw,
    availability: Availability::Since227,
};

/// `GET /gw/api/v1/participating-banks` — Banks supporting a given banking connection type.
pub const AM_PARTICIPATING_BANKS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/gw/api/v1/participating-banks",
    base: Base::Root,
    category: "Account Management",
    group: "Utilities",
    module: "account_management",
    function: "am_participating_banks",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `GET /gw/api/v1/requests` — Account-management requests in a timeframe (paged).
pub const AM_REQUESTS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/gw/api/v1/requests",
    base: Base::Root,
    category: "Account Management",
    group: "Utilities",
    module: "account_management",
    function: "am_requests",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `GET /gw/api/v1/requests/{requestId}/status` — Status (type=response|update) of an account-management request.
pub const AM_REQUEST_STATUS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/gw/api/v1/requests/{requestId}/status",
    base: Base::Root,
    category: "Account Management",
    group: "Utilities",
    module: "account_management",
    function: "am_request_status",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `PATCH /gw/api/v1/requests/{requestId}/status` — Update the status of an account-management request.
pub const AM_UPDATE_REQUEST_STATUS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Patch,
    path: "/gw/api/v1/requests/{requestId}/status",
    base: Base::Root,
    category: "Account Management",
    group: "Utilities",
    module: "account_management",
    function: "am_update_request_status",
    typing: Typing::Raw,
    availability: Availability::Only239,
};

/// `GET /gw/api/v1/validations/usernames/{username}` — Check whether a username is valid/available.
pub const AM_VALIDATE_USERNAME: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/gw/api/v1/validations/usernames/{username}",
    base: Base::Root,
    category: "Account Management",
    group: "Utilities",
    module: "account_management",
    function: "am_validate_username",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `POST /gw/api/v1/sso-browser-sessions` — Create an SSO browser session (returns a URL to open).
pub const CREATE_SSO_BROWSER_SESSION: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/gw/api/v1/sso-browser-sessions",
    base: Base::Root,
    category: "Authorization",
    group: "SSO Sessions",
    module: "authorization",
    function: "create_sso_browser_session",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `POST /gw/api/v1/sso-sessions` — Create an SSO session for an end user (returns a bearer access token).
pub const CREATE_SSO_SESSION: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/gw/api/v1/sso-sessions",
    base: Base::Root,
    category: "Authorization",
    group: "SSO Sessions",
    module: "authorization",
    function: "create_sso_session",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `POST /oauth2/api/v1/token` — OAuth 2.0 client-credentials token using a signed JWT client assertion.
pub const OAUTH2_TOKEN: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/oauth2/api/v1/token",
    base: Base::Root,
    category: "Authorization",
    group: "Token",
    module: "authorization",
    function: "oauth2_token",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `POST /v1/api/iserver/auth/ssodh/init` — Start (or take over with compete=true) the brokerage session.
pub const SSODH_INIT: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/iserver/auth/ssodh/init",
    base: Base::Trading,
    category: "Trading",
    group: "Session",
    module: "session",
    function: "ssodh_init",
    typing: Typing::Typed,
    availability: Availability::AllSpecs,
};

/// `POST /v1/api/iserver/auth/status` — Brokerage session state: authenticated, connected, competing, established, fail.
pub const AUTH_STATUS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/iserver/auth/status",
    base: Base::Trading,
    category: "Trading",
    group: "Session",
    module: "session",
    function: "auth_status",
    typing: Typing::Typed,
    availability: Availability::AllSpecs,
};

/// `GET /v1/api/iserver/reauthenticate` — Legacy: ask the gateway to re-establish the brokerage session (prefer ssodh/init).
pub const REAUTHENTICATE: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/iserver/reauthenticate",
    base: Base::Trading,
    category: "Trading",
    group: "Session",
    module: "session",
    function: "reauthenticate",
    typing: Typing::Typed,
    availability: Availability::Legacy215,
};

/// `POST /v1/api/logout` — End the Web API session; cookies become invalid.
pub const LOGOUT: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/logout",
    base: Base::Trading,
    category: "Trading",
    group: "Session",
    module: "session",
    function: "logout",
    typing: Typing::Typed,
    availability: Availability::AllSpecs,
};

/// `GET /v1/api/sso/validate` — Validate the read-only (SSO) session; returns user info and EXPIRES.
pub const SSO_VALIDATE: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/sso/validate",
    base: Base::Trading,
    category: "Trading",
    group: "Session",
    module: "session",
    function: "sso_validate",
    typing: Typing::Typed,
    availability: Availability::AllSpecs,
};

/// `POST /v1/api/tickle` — Keep-alive; returns session id (for websocket), ssoExpires and nested auth status.
pub const TICKLE: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/tickle",
    base: Base::Trading,
    category: "Trading",
    group: "Session",
    module: "session",
    function: "tickle",
    typing: Typing::Typed,
    availability: Availability::AllSpecs,
};

/// `GET /v1/api/acesws/{accountId}/signatures-and-owners` — Names/roles of the users and signatories attached to an account.
pub const SIGNATURES_AND_OWNERS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/acesws/{accountId}/signatures-and-owners",
    base: Base::Trading,
    category: "Trading",
    group: "Accounts",
    module: "accounts",
    function: "signatures_and_owners",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `POST /v1/api/iserver/account` — Switch the brokerage session's selected account (FA / multi-account users).
pub const SWITCH_ACCOUNT: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/iserver/account",
    base: Base::Trading,
    category: "Trading",
    group: "Accounts",
    module: "accounts",
    function: "switch_account",
    typing: Typing::Typed,
    availability: Availability::AllSpecs,
};

/// `GET /v1/api/iserver/account/pnl/partitioned` — Daily/unrealized P&L, NLV, excess liquidity per account ('upnl' map); first call may be empty.
pub const PNL_PARTITIONED: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/iserver/account/pnl/partitioned",
    base: Base::Trading,
    category: "Trading",
    group: "Accounts",
    module: "accounts",
    function: "pnl_partitioned",
    typing: Typing::Typed,
    availability: Availability::AllSpecs,
};

/// `GET /v1/api/iserver/account/search/{searchPattern}` — Find accounts by pattern (only for DYNACCT-enabled broker logins).
pub const SEARCH_ACCOUNTS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/iserver/account/search/{searchPattern}",
    base: Base::Trading,
    category: "Trading",
    group: "Accounts",
    module: "accounts",
    function: "search_accounts",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `GET /v1/api/iserver/account/{accountId}/summary` — Flat at-a-glance balances: NLV, buying power, margins, cash per currency.
pub const ACCOUNT_SUMMARY: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/iserver/account/{accountId}/summary",
    base: Base::Trading,
    category: "Trading",
    group: "Accounts",
    module: "accounts",
    function: "account_summary",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `GET /v1/api/iserver/account/{accountId}/summary/available_funds` — Available funds / excess liquidity, total and per segment (formatted strings).
pub const ACCOUNT_SUMMARY_AVAILABLE_FUNDS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/iserver/account/{accountId}/summary/available_funds",
    base: Base::Trading,
    category: "Trading",
    group: "Accounts",
    module: "accounts",
    function: "account_summary_available_funds",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `GET /v1/api/iserver/account/{accountId}/summary/balances` — Equity, cash and gross position value, total and per segment (formatted strings).
pub const ACCOUNT_SUMMARY_BALANCES: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/iserver/account/{accountId}/summary/balances",
    base: Base::Trading,
    category: "Trading",
    group: "Accounts",
    module: "accounts",
    function: "account_summary_balances",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `GET /v1/api/iserver/account/{accountId}/summary/margins` — Initial/maintenance margin now and projected, total and per segment.
pub const ACCOUNT_SUMMARY_MARGINS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/iserver/account/{accountId}/summary/margins",
    base: Base::Trading,
    category: "Trading",
    group: "Accounts",
    module: "accounts",
    function: "account_summary_margins",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `GET /v1/api/iserver/account/{accountId}/summary/market_value` — Market value broken out by currency and asset class.
pub const ACCOUNT_SUMMARY_MARKET_VALUE: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/iserver/account/{accountId}/summary/market_value",
    base: Base::Trading,
    category: "Trading",
    group: "Accounts",
    module: "accounts",
    function: "account_summary_market_value",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `GET /v1/api/iserver/accounts` — Tradable accounts, aliases, feature flags and selected account. Call first: primes many /iserver endpoints.
pub const ACCOUNTS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/iserver/accounts",
    base: Base::Trading,
    category: "Trading",
    group: "Accounts",
    module: "accounts",
    function: "accounts",
    typing: Typing::Typed,
    availability: Availability::AllSpecs,
};

/// `POST /v1/api/iserver/dynaccount` — Set the active account for DYNACCT broker logins.
pub const SET_DYNAMIC_ACCOUNT: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/iserver/dynaccount",
    base: Base::Trading,
    category: "Trading",
    group: "Accounts",
    module: "accounts",
    function: "set_dynamic_account",
    typing: Typing::Typed,
    availability: Availability::AllSpecs,
};

/// `GET /v1/api/portfolio/accounts` — Accounts viewable via portfolio endpoints. Call before other /portfolio calls.
pub const PORTFOLIO_ACCOUNTS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/portfolio/accounts",
    base: Base::Trading,
    category: "Trading",
    group: "Portfolio",
    module: "portfolio",
    function: "portfolio_accounts",
    typing: Typing::Typed,
    availability: Availability::AllSpecs,
};

/// `GET /v1/api/portfolio/positions/{conid}` — Positions in one conid across all accounts (map accountId -> positions).
pub const POSITIONS_BY_CONID: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/portfolio/positions/{conid}",
    base: Base::Trading,
    category: "Trading",
    group: "Portfolio",
    module: "portfolio",
    function: "positions_by_conid",
    typing: Typing::Typed,
    availability: Availability::AllSpecs,
};

/// `GET /v1/api/portfolio/subaccounts` — Sub-accounts (<=100) in an FA/IBroker structure. Call before /portfolio calls on them.
pub const PORTFOLIO_SUBACCOUNTS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/portfolio/subaccounts",
    base: Base::Trading,
    category: "Trading",
    group: "Portfolio",
    module: "portfolio",
    function: "portfolio_subaccounts",
    typing: Typing::Typed,
    availability: Availability::AllSpecs,
};

/// `GET /v1/api/portfolio/subaccounts2` — Sub-accounts for large structures (paged).
pub const PORTFOLIO_SUBACCOUNTS_PAGED: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/portfolio/subaccounts2",
    base: Base::Trading,
    category: "Trading",
    group: "Portfolio",
    module: "portfolio",
    function: "portfolio_subaccounts_paged",
    typing: Typing::Raw,
    availability: Availability::Only239,
};

/// `GET /v1/api/portfolio/{accountId}/allocation` — Long/short exposure by asset class, sector and group.
pub const PORTFOLIO_ALLOCATION: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/portfolio/{accountId}/allocation",
    base: Base::Trading,
    category: "Trading",
    group: "Portfolio",
    module: "portfolio",
    function: "portfolio_allocation",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `GET /v1/api/portfolio/{accountId}/combo/positions` — Positions held as combos.
pub const COMBO_POSITIONS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/portfolio/{accountId}/combo/positions",
    base: Base::Trading,
    category: "Trading",
    group: "Portfolio",
    module: "portfolio",
    function: "combo_positions",
    typing: Typing::Raw,
    availability: Availability::Only239,
};

/// `GET /v1/api/portfolio/{accountId}/ledger` — Cash ledger per currency plus BASE (cash, NLV, PnL, market values).
pub const LEDGER: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/portfolio/{accountId}/ledger",
    base: Base::Trading,
    category: "Trading",
    group: "Portfolio",
    module: "portfolio",
    function: "ledger",
    typing: Typing::Typed,
    availability: Availability::AllSpecs,
};

/// `GET /v1/api/portfolio/{accountId}/meta` — Attributes of one account (same shape as a /portfolio/accounts item).
pub const PORTFOLIO_ACCOUNT_META: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/portfolio/{accountId}/meta",
    base: Base::Trading,
    category: "Trading",
    group: "Portfolio",
    module: "portfolio",
    function: "portfolio_account_meta",
    typing: Typing::Typed,
    availability: Availability::AllSpecs,
};

/// `GET /v1/api/portfolio/{accountId}/position/{conid}` — Position(s) in one conid for one account.
pub const POSITION: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/portfolio/{accountId}/position/{conid}",
    base: Base::Trading,
    category: "Trading",
    group: "Portfolio",
    module: "portfolio",
    function: "position",
    typing: Typing::Typed,
    availability: Availability::AllSpecs,
};

/// `POST /v1/api/portfolio/{accountId}/positions/invalidate` — Drop the cached positions so the next positions call is fresh.
pub const INVALIDATE_POSITIONS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/portfolio/{accountId}/positions/invalidate",
    base: Base::Trading,
    category: "Trading",
    group: "Portfolio",
    module: "portfolio",
    function: "invalidate_positions",
    typing: Typing::Typed,
    availability: Availability::AllSpecs,
};

/// `GET /v1/api/portfolio/{accountId}/positions/{pageId}` — Positions, 100 per page (pageId from 0), sortable.
pub const POSITIONS_PAGE: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/portfolio/{accountId}/positions/{pageId}",
    base: Base::Trading,
    category: "Trading",
    group: "Portfolio",
    module: "portfolio",
    function: "positions_page",
    typing: Typing::Typed,
    availability: Availability::AllSpecs,
};

/// `GET /v1/api/portfolio/{accountId}/summary` — Account values keyed by lowercase name with -c/-s segment variants.
pub const PORTFOLIO_SUMMARY: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/portfolio/{accountId}/summary",
    base: Base::Trading,
    category: "Trading",
    group: "Portfolio",
    module: "portfolio",
    function: "portfolio_summary",
    typing: Typing::Typed,
    availability: Availability::AllSpecs,
};

/// `GET /v1/api/portfolio2/{accountId}/positions` — Uncached, near-real-time positions (newer alternative to positions/{pageId}).
pub const POSITIONS_UNCACHED: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/portfolio2/{accountId}/positions",
    base: Base::Trading,
    category: "Trading",
    group: "Portfolio",
    module: "portfolio",
    function: "positions_uncached",
    typing: Typing::Raw,
    availability: Availability::Only239,
};

/// `GET /v1/api/iserver/account/order/status/{orderId}` — Detailed status of one order from the current brokerage session.
pub const ORDER_STATUS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/iserver/account/order/status/{orderId}",
    base: Base::Trading,
    category: "Trading",
    group: "Orders",
    module: "orders",
    function: "order_status",
    typing: Typing::Typed,
    availability: Availability::AllSpecs,
};

/// `GET /v1/api/iserver/account/orders` — Working orders plus orders filled/cancelled this session (filters, force refresh).
pub const LIVE_ORDERS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/iserver/account/orders",
    base: Base::Trading,
    category: "Trading",
    group: "Orders",
    module: "orders",
    function: "live_orders",
    typing: Typing::Typed,
    availability: Availability::AllSpecs,
};

/// `GET /v1/api/iserver/account/trades` — Executions for today and up to 6 prior days (days param).
pub const TRADES: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/iserver/account/trades",
    base: Base::Trading,
    category: "Trading",
    group: "Orders",
    module: "orders",
    function: "trades",
    typing: Typing::Typed,
    availability: Availability::AllSpecs,
};

/// `POST /v1/api/iserver/account/{accountId}/order/{orderId}` — Modify a working order (send the full ticket with changed values).
pub const MODIFY_ORDER: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/iserver/account/{accountId}/order/{orderId}",
    base: Base::Trading,
    category: "Trading",
    group: "Orders",
    module: "orders",
    function: "modify_order",
    typing: Typing::Typed,
    availability: Availability::AllSpecs,
};

/// `DELETE /v1/api/iserver/account/{accountId}/order/{orderId}` — Request cancellation of a working order.
pub const CANCEL_ORDER: EndpointSpec = EndpointSpec {
    method: HttpMethod::Delete,
    path: "/iserver/account/{accountId}/order/{orderId}",
    base: Base::Trading,
    category: "Trading",
    group: "Orders",
    module: "orders",
    function: "cancel_order",
    typing: Typing::Typed,
    availability: Availability::AllSpecs,
};

/// `POST /v1/api/iserver/account/{accountId}/orders` — Submit an order, a bracket (cOID/parentId) or an OCA group.
pub const PLACE_ORDERS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/iserver/account/{accountId}/orders",
    base: Base::Trading,
    category: "Trading",
    group: "Orders",
    module: "orders",
    function: "place_orders",
    typing: Typing::Typed,
    availability: Availability::AllSpecs,
};

/// `POST /v1/api/iserver/account/{accountId}/orders/whatif` — Preview commission, margin and equity impact without placing.
pub const WHAT_IF: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/iserver/account/{accountId}/orders/whatif",
    base: Base::Trading,
    category: "Trading",
    group: "Orders",
    module: "orders",
    function: "what_if",
    typing: Typing::Typed,
    availability: Availability::AllSpecs,
};

/// `POST /v1/api/iserver/notification` — Answer a server prompt delivered on the websocket 'ntf' topic.
pub const ANSWER_NOTIFICATION: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/iserver/notification",
    base: Base::Trading,
    category: "Trading",
    group: "Orders",
    module: "orders",
    function: "answer_notification",
    typing: Typing::Typed,
    availability: Availability::AllSpecs,
};

/// `POST /v1/api/iserver/questions/suppress` — Suppress listed order-reply messageIds for the rest of the session.
pub const SUPPRESS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/iserver/questions/suppress",
    base: Base::Trading,
    category: "Trading",
    group: "Orders",
    module: "orders",
    function: "suppress",
    typing: Typing::Typed,
    availability: Availability::AllSpecs,
};

/// `POST /v1/api/iserver/questions/suppress/reset` — Remove all order-reply suppressions.
pub const SUPPRESS_RESET: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/iserver/questions/suppress/reset",
    base: Base::Trading,
    category: "Trading",
    group: "Orders",
    module: "orders",
    function: "suppress_reset",
    typing: Typing::Typed,
    availability: Availability::AllSpecs,
};

/// `POST /v1/api/iserver/reply/{replyId}` — Confirm (or reject) an order reply question to continue submission.
pub const REPLY: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/iserver/reply/{replyId}",
    base: Base::Trading,
    category: "Trading",
    group: "Orders",
    module: "orders",
    function: "reply",
    typing: Typing::Typed,
    availability: Availability::AllSpecs,
};

/// `GET /v1/api/hmds/history` — Historical OHLC bars from the HMDS service (barType incl. Bid/Ask/Midpoint/FeeRate/Inventory).
pub const HMDS_HISTORY: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/hmds/history",
    base: Base::Trading,
    category: "Trading",
    group: "Market Data",
    module: "market_data",
    function: "hmds_history",
    typing: Typing::Typed,
    availability: Availability::Legacy215,
};

/// `GET /v1/api/iserver/marketdata/history` — Historical OHLC bars via the brokerage session (bars 'data' with t in epoch ms).
pub const HISTORY: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/iserver/marketdata/history",
    base: Base::Trading,
    category: "Trading",
    group: "Market Data",
    module: "market_data",
    function: "history",
    typing: Typing::Typed,
    availability: Availability::AllSpecs,
};

/// `GET /v1/api/iserver/marketdata/snapshot` — Top-of-book snapshot for conids; first call only starts the stream (pre-flight).
pub const SNAPSHOT: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/iserver/marketdata/snapshot",
    base: Base::Trading,
    category: "Trading",
    group: "Market Data",
    module: "market_data",
    function: "snapshot",
    typing: Typing::Typed,
    availability: Availability::AllSpecs,
};

/// `POST /v1/api/iserver/marketdata/unsubscribe` — Stop the backend stream for one conid.
pub const UNSUBSCRIBE_MARKET_DATA: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/iserver/marketdata/unsubscribe",
    base: Base::Trading,
    category: "Trading",
    group: "Market Data",
    module: "market_data",
    function: "unsubscribe_market_data",
    typing: Typing::Typed,
    availability: Availability::AllSpecs,
};

/// `GET /v1/api/iserver/marketdata/unsubscribeall` — Stop all backend market data streams.
pub const UNSUBSCRIBE_ALL_MARKET_DATA: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/iserver/marketdata/unsubscribeall",
    base: Base::Trading,
    category: "Trading",
    group: "Market Data",
    module: "market_data",
    function: "unsubscribe_all_market_data",
    typing: Typing::Typed,
    availability: Availability::AllSpecs,
};

/// `GET /v1/api/md/regsnapshot` — Paid regulatory (NBBO) snapshot for a conid; each call is billed.
pub const REGULATORY_SNAPSHOT: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/md/regsnapshot",
    base: Base::Trading,
    category: "Trading",
    group: "Market Data",
    module: "market_data",
    function: "regulatory_snapshot",
    typing: Typing::Typed,
    availability: Availability::Legacy215,
};

/// `GET /v1/api/contract/trading-schedule` — Liquid and extended session times (epoch seconds) for days around today.
pub const CONTRACT_TRADING_SCHEDULE: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/contract/trading-schedule",
    base: Base::Trading,
    category: "Trading",
    group: "Contracts",
    module: "contracts",
    function: "contract_trading_schedule",
    typing: Typing::Raw,
    availability: Availability::Since227,
};

/// `POST /v1/api/iserver/contract/rules` — Order-entry rules for a conid and side (order types, TIFs, increments, defaults).
pub const CONTRACT_RULES: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/iserver/contract/rules",
    base: Base::Trading,
    category: "Trading",
    group: "Contracts",
    module: "contracts",
    function: "contract_rules",
    typing: Typing::Typed,
    availability: Availability::AllSpecs,
};

/// `GET /v1/api/iserver/contract/{conid}/algos` — IB algos available for a contract, optionally with descriptions/parameters.
pub const CONTRACT_ALGOS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/iserver/contract/{conid}/algos",
    base: Base::Trading,
    category: "Trading",
    group: "Contracts",
    module: "contracts",
    function: "contract_algos",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `GET /v1/api/iserver/contract/{conid}/info` — Contract details for a conid (symbol, type, exchanges, multiplier, expiry...).
pub const CONTRACT_INFO: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/iserver/contract/{conid}/info",
    base: Base::Trading,
    category: "Trading",
    group: "Contracts",
    module: "contracts",
    function: "contract_info",
    typing: Typing::Typed,
    availability: Availability::AllSpecs,
};

/// `GET /v1/api/iserver/contract/{conid}/info-and-rules` — Contract details plus order-entry rules in one response.
pub const CONTRACT_INFO_AND_RULES: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/iserver/contract/{conid}/info-and-rules",
    base: Base::Trading,
    category: "Trading",
    group: "Contracts",
    module: "contracts",
    function: "contract_info_and_rules",
    typing: Typing::Typed,
    availability: Availability::AllSpecs,
};

/// `GET /v1/api/iserver/currency/pairs` — FX pairs (symbol, conid) available against a target currency.
pub const CURRENCY_PAIRS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/iserver/currency/pairs",
    base: Base::Trading,
    category: "Trading",
    group: "Contracts",
    module: "contracts",
    function: "currency_pairs",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `GET /v1/api/iserver/exchangerate` — Current exchange rate between two currencies.
pub const EXCHANGE_RATE: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/iserver/exchangerate",
    base: Base::Trading,
    category: "Trading",
    group: "Contracts",
    module: "contracts",
    function: "exchange_rate",
    typing: Typing::Typed,
    availability: Availability::AllSpecs,
};

/// `GET /v1/api/iserver/secdef/bond-filters` — Filter values (maturity, coupon, currency...) for a bond issuer.
pub const BOND_FILTERS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/iserver/secdef/bond-filters",
    base: Base::Trading,
    category: "Trading",
    group: "Contracts",
    module: "contracts",
    function: "bond_filters",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `GET /v1/api/iserver/secdef/info` — Resolve derivative/bond contracts (conid, strike, right, maturity) from underlier + month/strike.
pub const SECDEF_INFO: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/iserver/secdef/info",
    base: Base::Trading,
    category: "Trading",
    group: "Contracts",
    module: "contracts",
    function: "secdef_info",
    typing: Typing::Typed,
    availability: Availability::AllSpecs,
};

/// `GET /v1/api/iserver/secdef/search` — Search contracts by symbol or name; returns conids and derivative sections/months.
pub const SEARCH_CONTRACTS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/iserver/secdef/search",
    base: Base::Trading,
    category: "Trading",
    group: "Contracts",
    module: "contracts",
    function: "search_contracts",
    typing: Typing::Typed,
    availability: Availability::AllSpecs,
};

/// `POST /v1/api/iserver/secdef/search` — Same as the GET search, parameters in a JSON body.
pub const SEARCH_CONTRACTS_POST: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/iserver/secdef/search",
    base: Base::Trading,
    category: "Trading",
    group: "Contracts",
    module: "contracts",
    function: "search_contracts_post",
    typing: Typing::Typed,
    availability: Availability::AllSpecs,
};

/// `GET /v1/api/iserver/secdef/strikes` — Valid option/FOP/warrant strikes (call and put lists) for an underlier and month.
pub const STRIKES: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/iserver/secdef/strikes",
    base: Base::Trading,
    category: "Trading",
    group: "Contracts",
    module: "contracts",
    function: "strikes",
    typing: Typing::Typed,
    availability: Availability::AllSpecs,
};

/// `GET /v1/api/trsrv/all-conids` — All stock conids tradable on an exchange.
pub const ALL_CONIDS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/trsrv/all-conids",
    base: Base::Trading,
    category: "Trading",
    group: "Contracts",
    module: "contracts",
    function: "all_conids",
    typing: Typing::Typed,
    availability: Availability::AllSpecs,
};

/// `GET /v1/api/trsrv/futures` — Non-expired futures contracts for one or more symbols.
pub const FUTURES: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/trsrv/futures",
    base: Base::Trading,
    category: "Trading",
    group: "Contracts",
    module: "contracts",
    function: "futures",
    typing: Typing::Typed,
    availability: Availability::AllSpecs,
};

/// `GET /v1/api/trsrv/secdef` — Security definitions for a comma list of conids (no brokerage session needed).
pub const SECDEF: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/trsrv/secdef",
    base: Base::Trading,
    category: "Trading",
    group: "Contracts",
    module: "contracts",
    function: "secdef",
    typing: Typing::Typed,
    availability: Availability::AllSpecs,
};

/// `GET /v1/api/trsrv/secdef/schedule` — Trading schedule (up to ~1 month) for a symbol/asset class.
pub const SECDEF_SCHEDULE: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/trsrv/secdef/schedule",
    base: Base::Trading,
    category: "Trading",
    group: "Contracts",
    module: "contracts",
    function: "secdef_schedule",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `GET /v1/api/trsrv/stocks` — Stock contracts (per listing exchange) for one or more symbols.
pub const STOCKS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/trsrv/stocks",
    base: Base::Trading,
    category: "Trading",
    group: "Contracts",
    module: "contracts",
    function: "stocks",
    typing: Typing::Typed,
    availability: Availability::AllSpecs,
};

/// `GET /v1/api/forecast/category/tree` — Event-contract category tree with markets.
pub const FORECAST_CATEGORY_TREE: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/forecast/category/tree",
    base: Base::Trading,
    category: "Trading",
    group: "Event Contracts",
    module: "event_contracts",
    function: "forecast_category_tree",
    typing: Typing::Raw,
    availability: Availability::Since227,
};

/// `GET /v1/api/forecast/contract/details` — Details of one event contract (yes/no conids, question, strike, expiry).
pub const FORECAST_CONTRACT_DETAILS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/forecast/contract/details",
    base: Base::Trading,
    category: "Trading",
    group: "Event Contracts",
    module: "event_contracts",
    function: "forecast_contract_details",
    typing: Typing::Raw,
    availability: Availability::Since227,
};

/// `GET /v1/api/forecast/contract/market` — All event contracts for an underlying event market.
pub const FORECAST_CONTRACT_MARKET: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/forecast/contract/market",
    base: Base::Trading,
    category: "Trading",
    group: "Event Contracts",
    module: "event_contracts",
    function: "forecast_contract_market",
    typing: Typing::Raw,
    availability: Availability::Since227,
};

/// `GET /v1/api/forecast/contract/rules` — Trading/payout rules of an event contract.
pub const FORECAST_CONTRACT_RULES: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/forecast/contract/rules",
    base: Base::Trading,
    category: "Trading",
    group: "Event Contracts",
    module: "event_contracts",
    function: "forecast_contract_rules",
    typing: Typing::Raw,
    availability: Availability::Since227,
};

/// `GET /v1/api/forecast/contract/schedules` — Weekly trading schedule for an event contract.
pub const FORECAST_CONTRACT_SCHEDULES: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/forecast/contract/schedules",
    base: Base::Trading,
    category: "Trading",
    group: "Event Contracts",
    module: "event_contracts",
    function: "forecast_contract_schedules",
    typing: Typing::Raw,
    availability: Availability::Since227,
};

/// `GET /v1/api/iserver/account/alert/{alertId}` — Full definition of one alert (type=Q required).
pub const ALERT: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/iserver/account/alert/{alertId}",
    base: Base::Trading,
    category: "Trading",
    group: "Alerts",
    module: "alerts",
    function: "alert",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `GET /v1/api/iserver/account/mta` — The user's single Mobile Trading Assistant alert.
pub const MTA_ALERT: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/iserver/account/mta",
    base: Base::Trading,
    category: "Trading",
    group: "Alerts",
    module: "alerts",
    function: "mta_alert",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `POST /v1/api/iserver/account/{accountId}/alert` — Create an alert, or modify one when orderId is supplied.
pub const UPSERT_ALERT: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/iserver/account/{accountId}/alert",
    base: Base::Trading,
    category: "Trading",
    group: "Alerts",
    module: "alerts",
    function: "upsert_alert",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `POST /v1/api/iserver/account/{accountId}/alert/activate` — Enable/disable an existing alert without deleting it.
pub const ACTIVATE_ALERT: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/iserver/account/{accountId}/alert/activate",
    base: Base::Trading,
    category: "Trading",
    group: "Alerts",
    module: "alerts",
    function: "activate_alert",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `DELETE /v1/api/iserver/account/{accountId}/alert/{alertId}` — Delete an alert (deleting the MTA alert resets it).
pub const DELETE_ALERT: EndpointSpec = EndpointSpec {
    method: HttpMethod::Delete,
    path: "/iserver/account/{accountId}/alert/{alertId}",
    base: Base::Trading,
    category: "Trading",
    group: "Alerts",
    module: "alerts",
    function: "delete_alert",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `GET /v1/api/iserver/account/{accountId}/alerts` — List alerts configured for an account.
pub const ALERTS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/iserver/account/{accountId}/alerts",
    base: Base::Trading,
    category: "Trading",
    group: "Alerts",
    module: "alerts",
    function: "alerts",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `POST /v1/api/fa/fa-preset/get` — Read model-portfolio rebalancing presets.
pub const FA_PRESET_GET: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/fa/fa-preset/get",
    base: Base::Trading,
    category: "Trading",
    group: "FA Allocation",
    module: "fa_allocation",
    function: "fa_preset_get",
    typing: Typing::Raw,
    availability: Availability::Since227,
};

/// `POST /v1/api/fa/fa-preset/save` — Write model-portfolio rebalancing presets.
pub const FA_PRESET_SAVE: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/fa/fa-preset/save",
    base: Base::Trading,
    category: "Trading",
    group: "FA Allocation",
    module: "fa_allocation",
    function: "fa_preset_save",
    typing: Typing::Raw,
    availability: Availability::Since227,
};

/// `POST /v1/api/fa/model/accounts-details` — Accounts invested in a model with imbalance/NLV details.
pub const FA_MODEL_ACCOUNTS_DETAILS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/fa/model/accounts-details",
    base: Base::Trading,
    category: "Trading",
    group: "FA Allocation",
    module: "fa_allocation",
    function: "fa_model_accounts_details",
    typing: Typing::Raw,
    availability: Availability::Since227,
};

/// `POST /v1/api/fa/model/invest-divest` — Invest (or divest) accounts into a model with cash amounts.
pub const FA_MODEL_INVEST_DIVEST: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/fa/model/invest-divest",
    base: Base::Trading,
    category: "Trading",
    group: "FA Allocation",
    module: "fa_allocation",
    function: "fa_model_invest_divest",
    typing: Typing::Raw,
    availability: Availability::Since227,
};

/// `POST /v1/api/fa/model/invest-divest-positions` — Summary of accounts already invested in a model.
pub const FA_MODEL_INVEST_DIVEST_POSITIONS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/fa/model/invest-divest-positions",
    base: Base::Trading,
    category: "Trading",
    group: "FA Allocation",
    module: "fa_allocation",
    function: "fa_model_invest_divest_positions",
    typing: Typing::Raw,
    availability: Availability::Since227,
};

/// `POST /v1/api/fa/model/list` — List the advisor's models.
pub const FA_MODEL_LIST: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/fa/model/list",
    base: Base::Trading,
    category: "Trading",
    group: "FA Allocation",
    module: "fa_allocation",
    function: "fa_model_list",
    typing: Typing::Raw,
    availability: Availability::Since227,
};

/// `POST /v1/api/fa/model/positions` — Positions/targets/imbalances of a model.
pub const FA_MODEL_POSITIONS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/fa/model/positions",
    base: Base::Trading,
    category: "Trading",
    group: "FA Allocation",
    module: "fa_allocation",
    function: "fa_model_positions",
    typing: Typing::Raw,
    availability: Availability::Since227,
};

/// `POST /v1/api/fa/model/save` — Create or modify a model's target positions and cash targets.
pub const FA_MODEL_SAVE: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/fa/model/save",
    base: Base::Trading,
    category: "Trading",
    group: "FA Allocation",
    module: "fa_allocation",
    function: "fa_model_save",
    typing: Typing::Raw,
    availability: Availability::Since227,
};

/// `POST /v1/api/fa/model/submit-transfers` — Submit pending model rebalancing orders/transfers.
pub const FA_MODEL_SUBMIT_TRANSFERS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/fa/model/submit-transfers",
    base: Base::Trading,
    category: "Trading",
    group: "FA Allocation",
    module: "fa_allocation",
    function: "fa_model_submit_transfers",
    typing: Typing::Raw,
    availability: Availability::Since227,
};

/// `POST /v1/api/fa/model/summary` — Summary of a single model.
pub const FA_MODEL_SUMMARY: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/fa/model/summary",
    base: Base::Trading,
    category: "Trading",
    group: "FA Allocation",
    module: "fa_allocation",
    function: "fa_model_summary",
    typing: Typing::Raw,
    availability: Availability::Since227,
};

/// `GET /v1/api/iserver/account/allocation/accounts` — Sub-accounts an advisor can allocate to, with NetLiquidation/AvailableEquity.
pub const ALLOCATION_ACCOUNTS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/iserver/account/allocation/accounts",
    base: Base::Trading,
    category: "Trading",
    group: "FA Allocation",
    module: "fa_allocation",
    function: "allocation_accounts",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `GET /v1/api/iserver/account/allocation/group` — List allocation groups (name, size, method).
pub const ALLOCATION_GROUPS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/iserver/account/allocation/group",
    base: Base::Trading,
    category: "Trading",
    group: "FA Allocation",
    module: "fa_allocation",
    function: "allocation_groups",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `POST /v1/api/iserver/account/allocation/group` — Create an allocation group usable as the accountId when ordering.
pub const CREATE_ALLOCATION_GROUP: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/iserver/account/allocation/group",
    base: Base::Trading,
    category: "Trading",
    group: "FA Allocation",
    module: "fa_allocation",
    function: "create_allocation_group",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `PUT /v1/api/iserver/account/allocation/group` — Modify an allocation group (rename via prev_name, accounts, method).
pub const MODIFY_ALLOCATION_GROUP: EndpointSpec = EndpointSpec {
    method: HttpMethod::Put,
    path: "/iserver/account/allocation/group",
    base: Base::Trading,
    category: "Trading",
    group: "FA Allocation",
    module: "fa_allocation",
    function: "modify_allocation_group",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `POST /v1/api/iserver/account/allocation/group/delete` — Delete an allocation group by name.
pub const DELETE_ALLOCATION_GROUP: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/iserver/account/allocation/group/delete",
    base: Base::Trading,
    category: "Trading",
    group: "FA Allocation",
    module: "fa_allocation",
    function: "delete_allocation_group",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `POST /v1/api/iserver/account/allocation/group/single` — Get one allocation group's configuration by name.
pub const ALLOCATION_GROUP: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/iserver/account/allocation/group/single",
    base: Base::Trading,
    category: "Trading",
    group: "FA Allocation",
    module: "fa_allocation",
    function: "allocation_group",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `GET /v1/api/iserver/account/allocation/presets` — Read allocation presets (default method, auto-close, credit check...).
pub const ALLOCATION_PRESETS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/iserver/account/allocation/presets",
    base: Base::Trading,
    category: "Trading",
    group: "FA Allocation",
    module: "fa_allocation",
    function: "allocation_presets",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `POST /v1/api/iserver/account/allocation/presets` — Write allocation presets.
pub const SET_ALLOCATION_PRESETS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/iserver/account/allocation/presets",
    base: Base::Trading,
    category: "Trading",
    group: "FA Allocation",
    module: "fa_allocation",
    function: "set_allocation_presets",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `GET /v1/api/fyi/deliveryoptions` — Notification delivery options (email flag, registered devices).
pub const FYI_DELIVERY_OPTIONS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/fyi/deliveryoptions",
    base: Base::Trading,
    category: "Trading",
    group: "FYIs & Notifications",
    module: "fyi",
    function: "fyi_delivery_options",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `POST /v1/api/fyi/deliveryoptions/device` — Enable/disable delivery to a device.
pub const FYI_SET_DEVICE_DELIVERY: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/fyi/deliveryoptions/device",
    base: Base::Trading,
    category: "Trading",
    group: "FYIs & Notifications",
    module: "fyi",
    function: "fyi_set_device_delivery",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `PUT /v1/api/fyi/deliveryoptions/email` — Enable/disable email delivery (query enabled=true|false).
pub const FYI_SET_EMAIL_DELIVERY: EndpointSpec = EndpointSpec {
    method: HttpMethod::Put,
    path: "/fyi/deliveryoptions/email",
    base: Base::Trading,
    category: "Trading",
    group: "FYIs & Notifications",
    module: "fyi",
    function: "fyi_set_email_delivery",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `DELETE /v1/api/fyi/deliveryoptions/{deviceId}` — Remove a notification device.
pub const FYI_DELETE_DEVICE: EndpointSpec = EndpointSpec {
    method: HttpMethod::Delete,
    path: "/fyi/deliveryoptions/{deviceId}",
    base: Base::Trading,
    category: "Trading",
    group: "FYIs & Notifications",
    module: "fyi",
    function: "fyi_delete_device",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `GET /v1/api/fyi/disclaimer/{typecode}` — Disclaimer text for an FYI type code.
pub const FYI_DISCLAIMER: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/fyi/disclaimer/{typecode}",
    base: Base::Trading,
    category: "Trading",
    group: "FYIs & Notifications",
    module: "fyi",
    function: "fyi_disclaimer",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `PUT /v1/api/fyi/disclaimer/{typecode}` — Mark an FYI type's disclaimer as read/accepted.
pub const FYI_ACCEPT_DISCLAIMER: EndpointSpec = EndpointSpec {
    method: HttpMethod::Put,
    path: "/fyi/disclaimer/{typecode}",
    base: Base::Trading,
    category: "Trading",
    group: "FYIs & Notifications",
    module: "fyi",
    function: "fyi_accept_disclaimer",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `GET /v1/api/fyi/notifications` — List recent FYI notifications (max param required, <=10).
pub const FYI_NOTIFICATIONS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/fyi/notifications",
    base: Base::Trading,
    category: "Trading",
    group: "FYIs & Notifications",
    module: "fyi",
    function: "fyi_notifications",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `PUT /v1/api/fyi/notifications/{notificationId}` — Mark one notification read.
pub const FYI_MARK_NOTIFICATION_READ: EndpointSpec = EndpointSpec {
    method: HttpMethod::Put,
    path: "/fyi/notifications/{notificationId}",
    base: Base::Trading,
    category: "Trading",
    group: "FYIs & Notifications",
    module: "fyi",
    function: "fyi_mark_notification_read",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `GET /v1/api/fyi/settings` — FYI subscription settings per type code.
pub const FYI_SETTINGS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/fyi/settings",
    base: Base::Trading,
    category: "Trading",
    group: "FYIs & Notifications",
    module: "fyi",
    function: "fyi_settings",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `POST /v1/api/fyi/settings/{typecode}` — Enable/disable an FYI type.
pub const FYI_SET_SETTING: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/fyi/settings/{typecode}",
    base: Base::Trading,
    category: "Trading",
    group: "FYIs & Notifications",
    module: "fyi",
    function: "fyi_set_setting",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `GET /v1/api/fyi/unreadnumber` — Count of unread FYIs ({"BN": n}).
pub const FYI_UNREAD_COUNT: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/fyi/unreadnumber",
    base: Base::Trading,
    category: "Trading",
    group: "FYIs & Notifications",
    module: "fyi",
    function: "fyi_unread_count",
    typing: Typing::Typed,
    availability: Availability::AllSpecs,
};

/// `POST /v1/api/oauth/access_token` — 3rd-party OAuth: exchange verified request token for access token + encrypted secret.
pub const OAUTH_ACCESS_TOKEN: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/oauth/access_token",
    base: Base::Trading,
    category: "Trading",
    group: "OAuth 1.0a",
    module: "oauth",
    function: "oauth_access_token",
    typing: Typing::Typed,
    availability: Availability::AllSpecs,
};

/// `POST /v1/api/oauth/live_session_token` — DH exchange producing the Live Session Token (24 h) used to HMAC-sign requests.
pub const OAUTH_LIVE_SESSION_TOKEN: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/oauth/live_session_token",
    base: Base::Trading,
    category: "Trading",
    group: "OAuth 1.0a",
    module: "oauth",
    function: "oauth_live_session_token",
    typing: Typing::Typed,
    availability: Availability::AllSpecs,
};

/// `POST /v1/api/oauth/request_token` — 3rd-party OAuth: obtain a temporary request token (RSA-SHA256 signed).
pub const OAUTH_REQUEST_TOKEN: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/oauth/request_token",
    base: Base::Trading,
    category: "Trading",
    group: "OAuth 1.0a",
    module: "oauth",
    function: "oauth_request_token",
    typing: Typing::Typed,
    availability: Availability::AllSpecs,
};

/// `POST /v1/api/pa/allocation` — Portfolio Analyst allocation breakdown.
pub const PA_ALLOCATION: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/pa/allocation",
    base: Base::Trading,
    category: "Trading",
    group: "Portfolio Analyst",
    module: "portfolio_analyst",
    function: "pa_allocation",
    typing: Typing::Raw,
    availability: Availability::Only239,
};

/// `POST /v1/api/pa/allperiods` — Performance (NAV, cumulative returns) for all standard periods.
pub const PA_ALL_PERIODS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/pa/allperiods",
    base: Base::Trading,
    category: "Trading",
    group: "Portfolio Analyst",
    module: "portfolio_analyst",
    function: "pa_all_periods",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `POST /v1/api/pa/performance` — Performance for one period: nav, cps (cumulative) and tpps series.
pub const PA_PERFORMANCE: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/pa/performance",
    base: Base::Trading,
    category: "Trading",
    group: "Portfolio Analyst",
    module: "portfolio_analyst",
    function: "pa_performance",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `POST /v1/api/pa/transactions` — Transaction history for conids/accounts over N days, with realized P&L.
pub const PA_TRANSACTIONS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/pa/transactions",
    base: Base::Trading,
    category: "Trading",
    group: "Portfolio Analyst",
    module: "portfolio_analyst",
    function: "pa_transactions",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `GET /v1/api/hmds/scanner/params` — Parameter vocabulary for the HMDS scanner.
pub const HMDS_SCANNER_PARAMS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/hmds/scanner/params",
    base: Base::Trading,
    category: "Trading",
    group: "Scanner",
    module: "scanner",
    function: "hmds_scanner_params",
    typing: Typing::Raw,
    availability: Availability::Legacy215,
};

/// `POST /v1/api/hmds/scanner/run` — Run an HMDS scanner (max 250 results).
pub const HMDS_SCANNER_RUN: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/hmds/scanner/run",
    base: Base::Trading,
    category: "Trading",
    group: "Scanner",
    module: "scanner",
    function: "hmds_scanner_run",
    typing: Typing::Raw,
    availability: Availability::Legacy215,
};

/// `GET /v1/api/iserver/scanner/params` — Scanner vocabulary: scan types, instruments, filters, location tree (large).
pub const SCANNER_PARAMS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/iserver/scanner/params",
    base: Base::Trading,
    category: "Trading",
    group: "Scanner",
    module: "scanner",
    function: "scanner_params",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `POST /v1/api/iserver/scanner/run` — Run an iserver scanner (max 50 results).
pub const SCANNER_RUN: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/iserver/scanner/run",
    base: Base::Trading,
    category: "Trading",
    group: "Scanner",
    module: "scanner",
    function: "scanner_run",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `GET /v1/api/iserver/watchlist` — Read one watchlist by id.
pub const WATCHLIST: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/iserver/watchlist",
    base: Base::Trading,
    category: "Trading",
    group: "Watchlists",
    module: "watchlists",
    function: "watchlist",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `POST /v1/api/iserver/watchlist` — Create a watchlist from rows of conids.
pub const CREATE_WATCHLIST: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/iserver/watchlist",
    base: Base::Trading,
    category: "Trading",
    group: "Watchlists",
    module: "watchlists",
    function: "create_watchlist",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `DELETE /v1/api/iserver/watchlist` — Delete a watchlist by id.
pub const DELETE_WATCHLIST: EndpointSpec = EndpointSpec {
    method: HttpMethod::Delete,
    path: "/iserver/watchlist",
    base: Base::Trading,
    category: "Trading",
    group: "Watchlists",
    module: "watchlists",
    function: "delete_watchlist",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `GET /v1/api/iserver/watchlists` — List saved watchlists (SC=USER_WATCHLIST for user-created only).
pub const WATCHLISTS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/iserver/watchlists",
    base: Base::Trading,
    category: "Trading",
    group: "Watchlists",
    module: "watchlists",
    function: "watchlists",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `GET /v1/api/ws` — Upgrade to the streaming websocket.
pub const WS_CONFIG: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/ws",
    base: Base::Trading,
    category: "Trading",
    group: "Websocket",
    module: "websocket",
    function: "ws_config",
    typing: Typing::Typed,
    availability: Availability::AllSpecs,
};

/// `GET /gw/api/v1/echo/https` — Echo back an HTTPS (bearer) request after validating it.
pub const ECHO_HTTPS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/gw/api/v1/echo/https",
    base: Base::Root,
    category: "Utilities",
    group: "Echo",
    module: "echo",
    function: "echo_https",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `POST /gw/api/v1/echo/signed-jwt` — Echo back a signed-JWT request after validating it.
pub const ECHO_SIGNED_JWT: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/gw/api/v1/echo/signed-jwt",
    base: Base::Root,
    category: "Utilities",
    group: "Echo",
    module: "echo",
    function: "echo_signed_jwt",
    typing: Typing::Raw,
    availability: Availability::AllSpecs,
};

/// `POST /gw/api/v1/restrictions` — Apply a pre-trade-compliance restriction CSV.
pub const RESTRICTIONS_APPLY: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/gw/api/v1/restrictions",
    base: Base::Root,
    category: "PreTrade Compliance",
    group: "Restrictions",
    module: "pretrade_compliance",
    function: "restrictions_apply",
    typing: Typing::Raw,
    availability: Availability::Only239,
};

/// `GET /gw/api/v1/restrictions/account` — Restriction ids attached to an account.
pub const RESTRICTIONS_FOR_ACCOUNT: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/gw/api/v1/restrictions/account",
    base: Base::Root,
    category: "PreTrade Compliance",
    group: "Restrictions",
    module: "pretrade_compliance",
    function: "restrictions_for_account",
    typing: Typing::Raw,
    availability: Availability::Only239,
};

/// `GET /gw/api/v1/restrictions/ids` — Restriction ids created by the caller's master account.
pub const RESTRICTION_IDS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/gw/api/v1/restrictions/ids",
    base: Base::Root,
    category: "PreTrade Compliance",
    group: "Restrictions",
    module: "pretrade_compliance",
    function: "restriction_ids",
    typing: Typing::Raw,
    availability: Availability::Only239,
};

/// `GET /gw/api/v1/restrictions/list` — Details of a restriction list.
pub const RESTRICTION_LIST: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/gw/api/v1/restrictions/list",
    base: Base::Root,
    category: "PreTrade Compliance",
    group: "Restrictions",
    module: "pretrade_compliance",
    function: "restriction_list",
    typing: Typing::Raw,
    availability: Availability::Only239,
};

/// `GET /gw/api/v1/restrictions/lists/ids` — List ids created by the caller's master account.
pub const RESTRICTION_LIST_IDS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/gw/api/v1/restrictions/lists/ids",
    base: Base::Root,
    category: "PreTrade Compliance",
    group: "Restrictions",
    module: "pretrade_compliance",
    function: "restriction_list_ids",
    typing: Typing::Raw,
    availability: Availability::Only239,
};

/// `GET /gw/api/v1/restrictions/restriction` — Details of one restriction.
pub const RESTRICTION: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/gw/api/v1/restrictions/restriction",
    base: Base::Root,
    category: "PreTrade Compliance",
    group: "Restrictions",
    module: "pretrade_compliance",
    function: "restriction",
    typing: Typing::Raw,
    availability: Availability::Only239,
};

/// `GET /gw/api/v1/restrictions/restriction-scope` — Scope of a restriction.
pub const RESTRICTION_SCOPE: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/gw/api/v1/restrictions/restriction-scope",
    base: Base::Root,
    category: "PreTrade Compliance",
    group: "Restrictions",
    module: "pretrade_compliance",
    function: "restriction_scope",
    typing: Typing::Raw,
    availability: Availability::Only239,
};

/// `GET /gw/api/v1/restrictions/user` — Restriction ids attached to a user.
pub const RESTRICTIONS_FOR_USER: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/gw/api/v1/restrictions/user",
    base: Base::Root,
    category: "PreTrade Compliance",
    group: "Restrictions",
    module: "pretrade_compliance",
    function: "restrictions_for_user",
    typing: Typing::Raw,
    availability: Availability::Only239,
};

/// `POST /gw/api/v1/restrictions/verify` — Validate a restriction CSV without applying it.
pub const RESTRICTIONS_VERIFY: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/gw/api/v1/restrictions/verify",
    base: Base::Root,
    category: "PreTrade Compliance",
    group: "Restrictions",
    module: "pretrade_compliance",
    function: "restrictions_verify",
    typing: Typing::Raw,
    availability: Availability::Only239,
};

/// `POST /gw/api/v1/balances/query` — Third-party view of cash balances.
pub const THIRD_PARTY_CASH_BALANCES: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/gw/api/v1/balances/query",
    base: Base::Root,
    category: "Third Parties",
    group: "Cash Balances",
    module: "third_parties",
    function: "third_party_cash_balances",
    typing: Typing::Raw,
    availability: Availability::Only239,
};

/// `POST /gw/api/v1/tax-vouchers` — Create tax voucher requests.
pub const TAX_VOUCHER_CREATE: EndpointSpec = EndpointSpec {
    method: HttpMethod::Post,
    path: "/gw/api/v1/tax-vouchers",
    base: Base::Root,
    category: "Third Parties",
    group: "Tax Vouchers",
    module: "third_parties",
    function: "tax_voucher_create",
    typing: Typing::Raw,
    availability: Availability::Only239,
};

/// `GET /gw/api/v1/tax-vouchers/active-countries` — Countries with tax voucher support.
pub const TAX_VOUCHER_ACTIVE_COUNTRIES: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/gw/api/v1/tax-vouchers/active-countries",
    base: Base::Root,
    category: "Third Parties",
    group: "Tax Vouchers",
    module: "third_parties",
    function: "tax_voucher_active_countries",
    typing: Typing::Raw,
    availability: Availability::Only239,
};

/// `GET /gw/api/v1/tax-vouchers/dividends` — Dividend details for tax vouchers.
pub const TAX_VOUCHER_DIVIDENDS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/gw/api/v1/tax-vouchers/dividends",
    base: Base::Root,
    category: "Third Parties",
    group: "Tax Vouchers",
    module: "third_parties",
    function: "tax_voucher_dividends",
    typing: Typing::Raw,
    availability: Availability::Only239,
};

/// `GET /gw/api/v1/tax-vouchers/years` — Years available for tax vouchers.
pub const TAX_VOUCHER_YEARS: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/gw/api/v1/tax-vouchers/years",
    base: Base::Root,
    category: "Third Parties",
    group: "Tax Vouchers",
    module: "third_parties",
    function: "tax_voucher_years",
    typing: Typing::Raw,
    availability: Availability::Only239,
};

/// `GET /gw/api/v1/tax-vouchers/{requestId}/download` — Download a tax voucher file.
pub const TAX_VOUCHER_DOWNLOAD: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/gw/api/v1/tax-vouchers/{requestId}/download",
    base: Base::Root,
    category: "Third Parties",
    group: "Tax Vouchers",
    module: "third_parties",
    function: "tax_voucher_download",
    typing: Typing::Raw,
    availability: Availability::Only239,
};

/// `GET /gw/api/v1/tax-vouchers/{requestId}/state` — State of a tax voucher request.
pub const TAX_VOUCHER_STATE: EndpointSpec = EndpointSpec {
    method: HttpMethod::Get,
    path: "/gw/api/v1/tax-vouchers/{requestId}/state",
    base: Base::Root,
    category: "Third Parties",
    group: "Tax Vouchers",
    module: "third_parties",
    function: "tax_voucher_state",
    typing: Typing::Raw,
    availability: Availability::Only239,
};

/// Every implemented endpoint, in the order of the reference's endpoint list.
pub const CATALOG: &[EndpointSpec] = &[
    AM_ACCOUNT_APPLICATION,
    AM_SUBMIT_APPLICATION,
    AM_ACCOUNT_MAINTENANCE,
    AM_CLOSE_ACCOUNT,
    AM_SUBMIT_DOCUMENTS,
    AM_LOGIN_MESSAGES,
    AM_ACCOUNTS_STATUS,
    AM_ACCOUNT_DETAILS,
    AM_ACCOUNT_KYC,
    AM_ACCOUNT_LOGIN_MESSAGES,
    AM_ACCOUNT_STATUS,
    AM_UPDATE_ACCOUNT_STATUS,
    AM_ACCOUNT_TASKS,
    AM_ASSIGN_TASKS,
    AM_UPDATE_TASKS,
    AM_BANK_INSTRUCTION,
    AM_QUERY_BANK_INSTRUCTIONS,
    AM_BANK_INSTRUCTIONS_BULK,
    AM_CLIENT_INSTRUCTION_STATUS,
    AM_EXTERNAL_ASSET_TRANSFER,
    AM_EXTERNAL_ASSET_TRANSFERS_BULK,
    AM_EXTERNAL_CASH_TRANSFER,
    AM_QUERY_WITHDRAWABLE_CASH,
    AM_EXTERNAL_CASH_TRANSFERS_BULK,
    AM_INSTRUCTION_SET_STATUS,
    AM_CANCEL_INSTRUCTION,
    AM_CANCEL_INSTRUCTIONS_BULK,
    AM_QUERY_RECENT_INSTRUCTIONS,
    AM_INSTRUCTION_STATUS,
    AM_INTERNAL_ASSET_TRANSFER,
    AM_INTERNAL_ASSET_TRANSFERS_BULK,
    AM_INTERNAL_CASH_TRANSFER,
    AM_INTERNAL_CASH_TRANSFERS_BULK,
    AM_EXTERNAL_ASSET_TRANSFER_V2,
    AM_EXTERNAL_ASSET_TRANSFERS_BULK_V2,
    AM_STATEMENT,
    AM_AVAILABLE_STATEMENTS,
    AM_TAX_DOCUMENT,
    AM_AVAILABLE_TAX_DOCUMENTS,
    AM_TRADE_CONFIRMATIONS,
    AM_AVAILABLE_TRADE_CONFIRMATIONS,
    AM_COMPLEX_ASSET_TRANSFER_BROKERS,
    AM_ENUMERATIONS,
    AM_SET_FEE_TEMPLATE,
    AM_QUERY_FEE_TEMPLATE,
    AM_FORMS,
    AM_REQUIRED_FORMS,
    AM_PARTICIPATING_BANKS,
    AM_REQUESTS,
    AM_REQUEST_STATUS,
    AM_UPDATE_REQUEST_STATUS,
    AM_VALIDATE_USERNAME,
    CREATE_SSO_BROWSER_SESSION,
    CREATE_SSO_SESSION,
    OAUTH2_TOKEN,
    SSODH_INIT,
    AUTH_STATUS,
    REAUTHENTICATE,
    LOGOUT,
    SSO_VALIDATE,
    TICKLE,
    SIGNATURES_AND_OWNERS,
    SWITCH_ACCOUNT,
    PNL_PARTITIONED,
    SEARCH_ACCOUNTS,
    ACCOUNT_SUMMARY,
    ACCOUNT_SUMMARY_AVAILABLE_FUNDS,
    ACCOUNT_SUMMARY_BALANCES,
    ACCOUNT_SUMMARY_MARGINS,
    ACCOUNT_SUMMARY_MARKET_VALUE,
    ACCOUNTS,
    SET_DYNAMIC_ACCOUNT,
    PORTFOLIO_ACCOUNTS,
    POSITIONS_BY_CONID,
    PORTFOLIO_SUBACCOUNTS,
    PORTFOLIO_SUBACCOUNTS_PAGED,
    PORTFOLIO_ALLOCATION,
    COMBO_POSITIONS,
    LEDGER,
    PORTFOLIO_ACCOUNT_META,
    POSITION,
    INVALIDATE_POSITIONS,
    POSITIONS_PAGE,
    PORTFOLIO_SUMMARY,
    POSITIONS_UNCACHED,
    ORDER_STATUS,
    LIVE_ORDERS,
    TRADES,
    MODIFY_ORDER,
    CANCEL_ORDER,
    PLACE_ORDERS,
    WHAT_IF,
    ANSWER_NOTIFICATION,
    SUPPRESS,
    SUPPRESS_RESET,
    REPLY,
    HMDS_HISTORY,
    HISTORY,
    SNAPSHOT,
    UNSUBSCRIBE_MARKET_DATA,
    UNSUBSCRIBE_ALL_MARKET_DATA,
    REGULATORY_SNAPSHOT,
    CONTRACT_TRADING_SCHEDULE,
    CONTRACT_RULES,
    CONTRACT_ALGOS,
    CONTRACT_INFO,
    CONTRACT_INFO_AND_RULES,
    CURRENCY_PAIRS,
    EXCHANGE_RATE,
    BOND_FILTERS,
    SECDEF_INFO,
    SEARCH_CONTRACTS,
    SEARCH_CONTRACTS_POST,
    STRIKES,
    ALL_CONIDS,
    FUTURES,
    SECDEF,
    SECDEF_SCHEDULE,
    STOCKS,
    FORECAST_CATEGORY_TREE,
    FORECAST_CONTRACT_DETAILS,
    FORECAST_CONTRACT_MARKET,
    FORECAST_CONTRACT_RULES,
    FORECAST_CONTRACT_SCHEDULES,
    ALERT,
    MTA_ALERT,
    UPSERT_ALERT,
    ACTIVATE_ALERT,
    DELETE_ALERT,
    ALERTS,
    FA_PRESET_GET,
    FA_PRESET_SAVE,
    FA_MODEL_ACCOUNTS_DETAILS,
    FA_MODEL_INVEST_DIVEST,
    FA_MODEL_INVEST_DIVEST_POSITIONS,
    FA_MODEL_LIST,
    FA_MODEL_POSITIONS,
    FA_MODEL_SAVE,
    FA_MODEL_SUBMIT_TRANSFERS,
    FA_MODEL_SUMMARY,
    ALLOCATION_ACCOUNTS,
    ALLOCATION_GROUPS,
    CREATE_ALLOCATION_GROUP,
    MODIFY_ALLOCATION_GROUP,
    DELETE_ALLOCATION_GROUP,
    ALLOCATION_GROUP,
    ALLOCATION_PRESETS,
    SET_ALLOCATION_PRESETS,
    FYI_DELIVERY_OPTIONS,
    FYI_SET_DEVICE_DELIVERY,
    FYI_SET_EMAIL_DELIVERY,
    FYI_DELETE_DEVICE,
    FYI_DISCLAIMER,
    FYI_ACCEPT_DISCLAIMER,
    FYI_NOTIFICATIONS,
    FYI_MARK_NOTIFICATION_READ,
    FYI_SETTINGS,
    FYI_SET_SETTING,
    FYI_UNREAD_COUNT,
    OAUTH_ACCESS_TOKEN,
    OAUTH_LIVE_SESSION_TOKEN,
    OAUTH_REQUEST_TOKEN,
    PA_ALLOCATION,
    PA_ALL_PERIODS,
    PA_PERFORMANCE,
    PA_TRANSACTIONS,
    HMDS_SCANNER_PARAMS,
    HMDS_SCANNER_RUN,
    SCANNER_PARAMS,
    SCANNER_RUN,
    WATCHLIST,
    CREATE_WATCHLIST,
    DELETE_WATCHLIST,
    WATCHLISTS,
    WS_CONFIG,
    ECHO_HTTPS,
    ECHO_SIGNED_JWT,
    RESTRICTIONS_APPLY,
    RESTRICTIONS_FOR_ACCOUNT,
    RESTRICTION_IDS,
    RESTRICTION_LIST,
    RESTRICTION_LIST_IDS,
    RESTRICTION,
    RESTRICTION_SCOPE,
    RESTRICTIONS_FOR_USER,
    RESTRICTIONS_VERIFY,
    THIRD_PARTY_CASH_BALANCES,
    TAX_VOUCHER_CREATE,
    TAX_VOUCHER_ACTIVE_COUNTRIES,
    TAX_VOUCHER_DIVIDENDS,
    TAX_VOUCHER_YEARS,
    TAX_VOUCHER_DOWNLOAD,
    TAX_VOUCHER_STATE,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_encodes_segments() {
        let p = fill_path(
            "/iserver/account/{accountId}/order/{orderId}",
            &[("accountId", "DU 1/2"), ("orderId", "12")],
        )
        .expect("filled");
        assert_eq!(p, "/iserver/account/DU%201%2F2/order/12");
    }

    #[test]
    fn fill_reports_missing_and_empty() {
        assert!(fill_path("/a/{x}", &[]).is_err());
        assert!(fill_path("/a/{x}", &[("x", "")]).is_err());
        assert!(fill_path("/a/{x", &[("x", "1")]).is_err());
    }

    #[test]
    fn functions_are_unique() {
        for (i, a) in CATALOG.iter().enumerate() {
            for b in &CATALOG[i + 1..] {
                assert_ne!(a.function, b.function);
                assert!(!(a.method == b.method && a.path == b.path), "{}", a.path);
            }
        }
    }

    #[test]
    fn brokerage_classification() {
        assert!(PLACE_ORDERS.needs_brokerage());
        assert!(SNAPSHOT.needs_brokerage());
        assert!(!ACCOUNTS.needs_brokerage());
        assert!(!AUTH_STATUS.needs_brokerage());
        assert!(!PORTFOLIO_ACCOUNTS.needs_brokerage());
        assert!(!TICKLE.needs_brokerage());
    }
}
