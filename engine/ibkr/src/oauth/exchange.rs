//! The one HTTP shape the OAuth endpoints share: a signed `POST` with an empty body whose JSON
//! answer is decoded, and whose failures become [`OAuthError`]s without secrets.

use percent_encoding::percent_decode_str;
use reqwest::header::{AUTHORIZATION, USER_AGENT};
use serde::de::DeserializeOwned;
use url::Url;

use super::error::{OAuthError, scrub, unquote_values};

/// `User-Agent` sent on OAuth requests (IBKR rejects requests without one).
pub const DEFAULT_USER_AGENT: &str = concat!("tickline/", env!("CARGO_PKG_VERSION"));

/// IBKR's message is cut to this many characters in errors.
const MAX_MESSAGE_CHARS: usize = 500;

/// `POST url` with the given `Authorization` header and an empty body; decode a 2xx JSON body
/// as `T`. `endpoint` (e.g. `POST /oauth/live_session_token`) names the call in errors and
/// `secrets` are scrubbed from any text that comes back.
pub(crate) async fn post_signed<T: DeserializeOwned>(
    http: &reqwest::Client,
    url: &Url,
    endpoint: &str,
    authorization: &str,
    user_agent: &str,
    secrets: &[&str],
) -> Result<T, OAuthError> {
    let transport = |e: reqwest::Error| OAuthError::Transport {
        endpoint: endpoint.to_owned(),
        message: e.without_url().to_string(),
    };
    let response = http
        .post(url.clone())
        .header(AUTHORIZATION, authorization)
        .header(USER_AGENT, user_agent)
        .body(Vec::<u8>::new())
        .send()
        .await
        .map_err(transport)?;
    let status = response.status();
    let body = response.text().await.map_err(transport)?;
    let mut all_secrets: Vec<String> = secrets.iter().map(|s| (*s).to_owned()).collect();
    all_secrets.extend(signature_forms(authorization));
    let secret_refs: Vec<&str> = all_secrets.iter().map(String::as_str).collect();
    if !status.is_success() {
        return Err(OAuthError::Rejected {
            endpoint: endpoint.to_owned(),
            status: status.as_u16(),
            message: scrub(&ibkr_message(&body, status), &secret_refs),
        });
    }
    serde_json::from_str::<T>(&body).map_err(|e| OAuthError::InvalidResponse {
        endpoint: endpoint.to_owned(),
        message: scrub(&unquote_values(&e.to_string()), &secret_refs),
    })
}

/// IBKR's message from an error body: the `error` (or `message`) field of a JSON object, else
/// the trimmed text, else the status reason.
pub(crate) fn ibkr_message(body: &str, status: reqwest::StatusCode) -> String {
    let text = body.trim();
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(text) {
        for key in ["error", "message", "error_description"] {
            if let Some(serde_json::Value::String(s)) = map.get(key) {
                return truncate(s);
            }
        }
    }
    if text.is_empty() {
        status.canonical_reason().unwrap_or("no message").to_owned()
    } else {
        truncate(text)
    }
}

fn truncate(s: &str) -> String {
    match s.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

/// The signature carried by an `Authorization` header, percent-encoded and decoded, so both
/// forms can be scrubbed from server text.
fn signature_forms(header: &str) -> Vec<String> {
    let marker = "oauth_signature=\"";
    let Some(start) = header.find(marker).map(|i| i + marker.len()) else {
        return Vec::new();
    };
    let Some(len) = header[start..].find('"') else {
        return Vec::new();
    };
    let encoded = &header[start..start + len];
    let decoded = percent_decode_str(encoded).decode_utf8_lossy().into_owned();
    vec![encoded.to_owned(), decoded]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_prefers_error_field() {
        let s = reqwest::StatusCode::UNAUTHORIZED;
        assert_eq!(
            ibkr_message(
                r#"{"error":"id: 3931, error: invalid consumer","statusCode":401}"#,
                s
            ),
            "id: 3931, error: invalid consumer"
        );
        assert_eq!(ibkr_message("access denied\n", s), "access denied");
        assert_eq!(ibkr_message("", s), "Unauthorized");
    }

    #[test]
    fn signature_is_extracted_in_both_forms() {
        let forms =
            signature_forms(r#"OAuth oauth_nonce="n", oauth_signature="a%2Bb%3D", realm="r""#);
        assert_eq!(forms, vec!["a%2Bb%3D".to_owned(), "a+b=".to_owned()]);
        assert!(signature_forms("OAuth realm=\"r\"").is_empty());
    }
}
