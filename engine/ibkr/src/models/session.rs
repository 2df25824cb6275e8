//! Session endpoints: auth status, tickle, SSO validation, logout, reauthenticate.

use serde::{Deserialize, Serialize};

use super::lenient;
use crate::secret::Secret;

/// Backend server identification.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ServerInfo {
    #[serde(deserialize_with = "lenient::opt_string")]
    pub server_name: Option<String>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub server_version: Option<String>,
}

/// The brokerage status object of `POST /iserver/auth/status` and `ssodh/init`
/// (reference §2.3).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthStatus {
    /// Brokerage session logged in (required: an answer without it is not a status).
    #[serde(deserialize_with = "lenient::bool")]
    pub authenticated: bool,
    /// Session fully set up.
    #[serde(default, deserialize_with = "lenient::bool")]
    pub established: bool,
    /// Another platform holds the brokerage session for this username.
    #[serde(default, deserialize_with = "lenient::bool")]
    pub competing: bool,
    /// Gateway ↔ IB backend link up.
    #[serde(default, deserialize_with = "lenient::bool")]
    pub connected: bool,
    #[serde(default, deserialize_with = "lenient::string")]
    pub message: String,
    /// Reason for failure; empty on success.
    #[serde(default, deserialize_with = "lenient::string")]
    pub fail: String,
    #[serde(default, rename = "MAC", deserialize_with = "lenient::opt_string")]
    pub mac: Option<String>,
    #[serde(default, rename = "serverInfo")]
    pub server_info: Option<ServerInfo>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub hardware_info: Option<String>,
}

impl AuthStatus {
    /// Healthy = `authenticated && connected && !competing`.
    pub fn is_healthy(&self) -> bool {
        self.authenticated && self.connected && !self.competing
    }
}

/// `iserver` part of the tickle response.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct TickleIserver {
    #[serde(rename = "authStatus")]
    pub auth_status: Option<AuthStatus>,
}

/// `POST /tickle` (reference §2.4). `session` is the websocket session id and is kept as a
/// [`Secret`]. The failure branch is `{"error": "..."}`, reported as an error by the client.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Tickle {
    pub session: Option<Secret>,
    /// Remaining SSO lifetime in milliseconds.
    #[serde(rename = "ssoExpires", deserialize_with = "lenient::opt_i64")]
    pub sso_expires_ms: Option<i64>,
    /// IBKR spells it `collission`.
    #[serde(rename = "collission", deserialize_with = "lenient::bool")]
    pub collision: bool,
    #[serde(rename = "userId", deserialize_with = "lenient::opt_i64")]
    pub user_id: Option<i64>,
    /// Historical-data bridge state (`{"error":"no bridge"}` before it connects).
    pub hmds: Option<serde_json::Value>,
    pub iserver: Option<TickleIserver>,
}

impl Tickle {
    /// The nested brokerage status, if present.
    pub fn auth_status(&self) -> Option<&AuthStatus> {
        self.iserver.as_ref().and_then(|i| i.auth_status.as_ref())
    }
}

/// `GET /sso/validate` (reference §2.5).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SsoValidate {
    #[serde(rename = "USER_ID", deserialize_with = "lenient::opt_i64")]
    pub user_id: Option<i64>,
    #[serde(rename = "USER_NAME", deserialize_with = "lenient::opt_string")]
    pub user_name: Option<String>,
    #[serde(rename = "RESULT", deserialize_with = "lenient::bool")]
    pub result: bool,
    #[serde(rename = "AUTH_TIME", deserialize_with = "lenient::opt_i64")]
    pub auth_time: Option<i64>,
    /// Milliseconds left.
    #[serde(rename = "EXPIRES", deserialize_with = "lenient::opt_i64")]
    pub expires_ms: Option<i64>,
    #[serde(rename = "IS_MASTER", deserialize_with = "lenient::opt_bool")]
    pub is_master: Option<bool>,
    #[serde(rename = "lastAccessed", deserialize_with = "lenient::opt_i64")]
    pub last_accessed: Option<i64>,
    /// 1 live, 2 paper.
    #[serde(
        rename = "LOGIN_TYPE",
        alias = "loginType",
        deserialize_with = "lenient::opt_i64"
    )]
    pub login_type: Option<i64>,
    #[serde(rename = "PAPER_USER_NAME", deserialize_with = "lenient::opt_string")]
    pub paper_user_name: Option<String>,
    pub features: Option<serde_json::Value>,
    #[serde(deserialize_with = "lenient::opt_string")]
    pub region: Option<String>,
    #[serde(rename = "CREDENTIAL", deserialize_with = "lenient::opt_string")]
    pub credential: Option<String>,
    #[serde(rename = "IP", deserialize_with = "lenient::opt_string")]
    pub ip: Option<String>,
    #[serde(rename = "IS_FREE_TRIAL", deserialize_with = "lenient::opt_bool")]
    pub is_free_trial: Option<bool>,
    #[serde(rename = "SF_ENABLED", deserialize_with = "lenient::opt_bool")]
    pub sf_enabled: Option<bool>,
    #[serde(
        rename = "QUALIFIED_FOR_MOBILE_AUTH",
        deserialize_with = "lenient::opt_bool"
    )]
    pub qualified_for_mobile_auth: Option<bool>,
    #[serde(rename = "LANDING_APP", deserialize_with = "lenient::opt_string")]
    pub landing_app: Option<String>,
}

/// `POST /logout`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LogoutResponse {
    #[serde(deserialize_with = "lenient::bool")]
    pub status: bool,
}

/// `GET /iserver/reauthenticate` (legacy): an acknowledgement; the re-login happens
/// asynchronously.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReauthenticateResponse {
    #[serde(deserialize_with = "lenient::string")]
    pub message: String,
}

/// Body of `POST /iserver/auth/ssodh/init`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct SsodhInitRequest {
    /// Publish the session token at the same time (preferred).
    pub publish: bool,
    /// Disconnect other brokerage sessions of the user.
    pub compete: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::test_samples::sample;

    #[test]
    fn tickle_sample() {
        let t: Tickle = serde_json::from_str(&sample("tickle.json")).expect("tickle sample");
        assert_eq!(
            t.session.as_ref().map(Secret::expose),
            Some("ce109cbeb462a76dc3f6f4182c830cc1")
        );
        assert_eq!(t.sso_expires_ms, Some(585695));
        assert!(t.auth_status().is_some_and(AuthStatus::is_healthy));
        assert!(!format!("{t:?}").contains("ce109cbeb462"));
    }

    #[test]
    fn status_sample() {
        let s: AuthStatus =
            serde_json::from_str(&sample("iserver_auth_status.json")).expect("status sample");
        assert!(s.is_healthy());
        assert_eq!(s.mac.as_deref(), Some("F4:03:43:CD:BD:C0"));
    }
}
