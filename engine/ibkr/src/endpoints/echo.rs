//! Utilities › Echo: diagnostics for the OAuth 2.0 / signed-JWT stack (raw answers).

use crate::catalog;
use crate::client::Client;
use crate::error::IbkrError;
use crate::models::{QueryParams, SignedJwt};
use crate::transport::{ApiRequest, Body};

type Json = serde_json::Value;

impl Client {
    /// `GET /gw/api/v1/echo/https`: echoes the query parameters back.
    pub async fn echo_https(&self, params: &QueryParams) -> Result<Json, IbkrError> {
        self.call_raw(ApiRequest::new(&catalog::ECHO_HTTPS, &[])?.query_params(params))
            .await
    }

    /// `POST /gw/api/v1/echo/signed-jwt`.
    pub async fn echo_signed_jwt(&self, jwt: &SignedJwt) -> Result<Json, IbkrError> {
        self.call_raw(
            ApiRequest::new(&catalog::ECHO_SIGNED_JWT, &[])?.body(Body::Jwt(jwt.0.clone())),
        )
        .await
    }
}
