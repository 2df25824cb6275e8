//! IBKR-style error responses. Validation problems are `400 {"error": "Bad Request: …",
//! "statusCode": 400}`; unknown paths 404; the session gate 401 (`text/plain`, as the
//! gateway does when not logged in) and OAuth refusals 401 with the reason; pacing 429;
//! injected faults 500; backend timeouts and maintenance 503.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// A request the emulator refuses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApiError {
    /// 400 with `Bad Request: <message>`.
    BadRequest(String),
    /// 400 with the message as is (IBKR strings such as `reply id not found: '…'`).
    BadRequestRaw(String),
    /// 401: no session.
    Unauthorized,
    /// 404: unknown path or resource.
    NotFound(String),
    /// 405: known path, wrong method.
    MethodNotAllowed { method: String, path: String },
    /// 413: body too large.
    TooLarge,
    /// 429: pacing limit or penalty box.
    TooManyRequests,
    /// 500: injected by the `error_rate` fault.
    Injected,
    /// 503 with an empty body after IBKR's 10 s backend timeout (injected on orders).
    BackendTimeout,
    /// 503 with a reason (maintenance window).
    Unavailable(String),
    /// 401 from OAuth verification, with the precise reason.
    OAuth(String),
}

impl ApiError {
    pub fn bad(message: impl Into<String>) -> ApiError {
        ApiError::BadRequest(message.into())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) | ApiError::BadRequestRaw(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized | ApiError::OAuth(_) => StatusCode::UNAUTHORIZED,
            ApiError::BackendTimeout | ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Injected => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let code = status.as_u16();
        let body = match self {
            ApiError::Unauthorized => {
                let mut r = (status, "access denied").into_response();
                r.headers_mut()
                    .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
                return r;
            }
            ApiError::BadRequest(m) => {
                json!({"error": format!("Bad Request: {m}"), "statusCode": code})
            }
            ApiError::BadRequestRaw(m) => json!({"error": m, "statusCode": code}),
            ApiError::NotFound(p) => {
                json!({"error": format!("Not Found: {p}"), "statusCode": code})
            }
            ApiError::MethodNotAllowed { method, path } => {
                json!({"error": format!("Method Not Allowed: {method} {path}"), "statusCode": code})
            }
            ApiError::TooLarge => json!({"error": "Request body too large", "statusCode": code}),
            ApiError::TooManyRequests => json!({"error": "Too many requests", "statusCode": code}),
            ApiError::Injected => {
                json!({"error": "Internal Server Error (injected fault)", "statusCode": code})
            }
            ApiError::BackendTimeout => {
                let mut r = status.into_response();
                r.headers_mut()
                    .insert("x-response-time", HeaderValue::from_static("10000ms"));
                return r;
            }
            ApiError::Unavailable(m) => {
                json!({"error": format!("Service Unavailable: {m}"), "statusCode": code})
            }
            ApiError::OAuth(m) => json!({"error": m, "statusCode": code}),
        };
        (status, axum::Json(body)).into_response()
    }
}
