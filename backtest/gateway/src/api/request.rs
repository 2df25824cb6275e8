//! A parsed `/v1/api` request: normalised path segments, query pairs, body bytes, and
//! helpers that turn missing or malformed input into `ApiError`s naming the parameter.

use std::str::FromStr;

use axum::body::Bytes;
use serde_json::Value;

use crate::api::error::ApiError;
use crate::clock::Millis;

/// What a handler sees.
pub struct Req {
    pub method: String,
    /// Path after `/v1/api/`, normalised (no empty segments, no trailing slash).
    pub path: String,
    pub query: Vec<(String, String)>,
    pub body: Bytes,
    /// Service clock at arrival.
    pub now: Millis,
}

/// Split and normalise a path below `/v1/api`: `//a/b/` → `a/b`.
pub fn normalise(path: &str) -> String {
    path.split('/')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("/")
}

/// Parse a query string into pairs (percent-decoded; `+` is a space).
pub fn parse_query(q: Option<&str>) -> Vec<(String, String)> {
    q.map(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .into_owned()
            .collect()
    })
    .unwrap_or_default()
}

/// Lenient boolean: `true`/`True`/`1`/`yes` and `false`/`False`/`0`/`no`.
pub fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Some(true),
        "false" | "0" | "no" => Some(false),
        _ => None,
    }
}

impl Req {
    pub fn segs(&self) -> Vec<&str> {
        if self.path.is_empty() {
            Vec::new()
        } else {
            self.path.split('/').collect()
        }
    }

    /// A query parameter (first occurrence).
    pub fn q(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// A required, non-empty query parameter.
    pub fn q_required(&self, key: &str) -> Result<&str, ApiError> {
        self.q(key)
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| ApiError::bad(format!("query parameter {key} is required")))
    }

    /// An optional boolean query parameter.
    pub fn q_bool(&self, key: &str) -> Result<Option<bool>, ApiError> {
        match self.q(key) {
            None | Some("") => Ok(None),
            Some(v) => parse_bool(v).map(Some).ok_or_else(|| {
                ApiError::bad(format!(
                    "query parameter {key}: expected true or false, got {v:?}"
                ))
            }),
        }
    }

    /// An optional number query parameter.
    pub fn q_num<T: FromStr>(&self, key: &str) -> Result<Option<T>, ApiError> {
        match self.q(key) {
            None | Some("") => Ok(None),
            Some(v) => v.trim().parse::<T>().map(Some).map_err(|_| {
                ApiError::bad(format!(
                    "query parameter {key}: {v:?} is not a valid number"
                ))
            }),
        }
    }

    /// The body as JSON; an empty body is `null`.
    pub fn json(&self) -> Result<Value, ApiError> {
        if self.body.iter().all(|b| b.is_ascii_whitespace()) {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&self.body)
            .map_err(|e| ApiError::bad(format!("malformed JSON body: {e}")))
    }

    /// The body as a JSON object; empty body or `null` gives an empty object.
    pub fn json_object(&self) -> Result<serde_json::Map<String, Value>, ApiError> {
        match self.json()? {
            Value::Null => Ok(serde_json::Map::new()),
            Value::Object(m) => Ok(m),
            other => Err(ApiError::bad(format!(
                "expected a JSON object body, got {}",
                short(&other)
            ))),
        }
    }
}

fn short(v: &Value) -> &'static str {
    match v {
        Value::Array(_) => "an array",
        Value::String(_) => "a string",
        Value::Number(_) => "a number",
        Value::Bool(_) => "a boolean",
        Value::Null => "null",
        Value::Object(_) => "an object",
    }
}

/// Parse a conid path segment or value.
pub fn parse_conid(s: &str, what: &str) -> Result<i64, ApiError> {
    s.trim()
        .parse::<i64>()
        .ok()
        .filter(|c| *c > 0)
        .ok_or_else(|| ApiError::bad(format!("{what}: {s:?} is not a valid conid")))
}

/// A conid from a JSON value (number or numeric string).
pub fn json_conid(v: Option<&Value>, what: &str) -> Result<i64, ApiError> {
    match v {
        Some(Value::Number(n)) => n
            .as_i64()
            .filter(|c| *c > 0)
            .ok_or_else(|| ApiError::bad(format!("{what}: {n} is not a valid conid"))),
        Some(Value::String(s)) => parse_conid(s, what),
        Some(other) => Err(ApiError::bad(format!(
            "{what}: expected a conid, got {}",
            short(other)
        ))),
        None => Err(ApiError::bad(format!("{what} is required"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_paths_and_queries() {
        assert_eq!(
            normalise("//iserver/account/trades/"),
            "iserver/account/trades"
        );
        assert_eq!(normalise(""), "");
        let q = parse_query(Some("conids=265598%2C8314&fields=31,84&outsideRth=True"));
        assert_eq!(q[0], ("conids".into(), "265598,8314".into()));
        assert_eq!(parse_bool("True"), Some(true));
        assert_eq!(parse_bool("maybe"), None);
    }
}
