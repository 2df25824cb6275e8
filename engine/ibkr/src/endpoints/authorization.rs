//! Authorization: SSO sessions (signed JWT bodies) and the OAuth 2.0 token endpoint.

use crate::catalog;
use crate::client::Client;
use crate::error::IbkrError;
use crate::models::{Oauth2TokenRequest, SignedJwt};
use crate::transport::{ApiRequest, Body};

type Json = serde_json::Value;

impl Client {
    /// `POST /gw/api/v1/sso-browser-sessions`: returns `{active, url}`.
    pub async fn create_sso_browser_session(&self, jwt: &SignedJwt) -> Result<Json, IbkrError> {
        self.call_raw(
            ApiRequest::new(&catalog::CREATE_SSO_BROWSER_SESSION, &[])?
                .body(Body::Jwt(jwt.0.clone())),
        )
        .await
    }

    /// `POST /gw/api/v1/sso-sessions`: returns `{active, access_token, token_type}`.
    pub async fn create_sso_session(&self, jwt: &SignedJwt) -> Result<Json, IbkrError> {
        self.call_raw(
            ApiRequest::new(&catalog::CREATE_SSO_SESSION, &[])?.body(Body::Jwt(jwt.0.clone())),
        )
        .await
    }

    /// `POST /oauth2/api/v1/token`: OAuth 2.0 client credentials (form-encoded).
    pub async fn oauth2_token(&self, request: &Oauth2TokenRequest) -> Result<Json, IbkrError> {
        let mut form = vec![
            ("grant_type".to_string(), request.grant_type.clone()),
            (
                "client_assertion".to_string(),
                request.client_assertion.clone(),
            ),
            (
                "client_assertion_type".to_string(),
                request.client_assertion_type.clone(),
            ),
        ];
        if let Some(scope) = &request.scope {
            form.push(("scope".to_string(), scope.clone()));
        }
        self.call_raw(ApiRequest::new(&catalog::OAUTH2_TOKEN, &[])?.body(Body::Form(form)))
            .await
    }
}
