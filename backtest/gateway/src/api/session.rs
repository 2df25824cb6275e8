//! Session endpoints: `/tickle`, `/iserver/auth/status`, `/iserver/auth/ssodh/init`,
//! `/iserver/reauthenticate`, `/logout`, `/sso/validate`.

use serde_json::{Value, json};

use crate::api::error::ApiError;
use crate::api::request::{Req, parse_bool};
use crate::clock::wall_ms;
use crate::faults::FaultAction;
use crate::state::{Core, Push};

/// `GET|POST /tickle`
pub fn tickle(core: &mut Core, req: &Req, _: &[&str]) -> Result<Value, ApiError> {
    let timeout = core.faults.session_timeout_secs.saturating_mul(1_000);
    let expires = core
        .session
        .remaining(req.now, timeout)
        .unwrap_or(86_400_000);
    Ok(json!({
        "session": core.session.id,
        "ssoExpires": expires,
        "collission": false,
        "userId": core.cfg.session.user_id,
        "hmds": {"error": "no bridge"},
        "iserver": {"authStatus": core.auth_status(false)},
    }))
}

/// `GET|POST /iserver/auth/status`
pub fn auth_status(core: &mut Core, _: &Req, _: &[&str]) -> Result<Value, ApiError> {
    Ok(core.auth_status(true))
}

/// `POST /iserver/auth/ssodh/init` — body (or query) `{publish, compete}`.
pub fn ssodh_init(core: &mut Core, req: &Req, _: &[&str]) -> Result<Value, ApiError> {
    let body = req.json_object()?;
    let compete = match body.get("compete") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => parse_bool(s)
            .ok_or_else(|| ApiError::bad(format!("compete: expected true or false, got {s:?}")))?,
        Some(Value::Null) | None => req.q_bool("compete")?.unwrap_or(false),
        Some(other) => {
            return Err(ApiError::bad(format!(
                "compete: expected true or false, got {other}"
            )));
        }
    };
    if let Some(p) = body.get("publish")
        && !matches!(p, Value::Bool(_) | Value::Null)
    {
        return Err(ApiError::bad(format!(
            "publish: expected true or false, got {p}"
        )));
    }
    if core.faults.stuck_brokerage {
        // The session stays "connected but not authenticated"; init does not help.
        return Ok(core.auth_status(true));
    }
    if core.faults.ssodh_init_failures > 0 {
        core.faults.ssodh_init_failures -= 1;
        tracing::info!(
            left = core.faults.ssodh_init_failures,
            "injected ssodh/init failure"
        );
        let mut status = core.auth_status(true);
        if let Value::Object(m) = &mut status
            && !core.session.state.brokerage()
        {
            m.insert(
                "fail".into(),
                json!("brokerage session initialisation failed; retry"),
            );
        }
        return Ok(status);
    }
    let was = core.session.state;
    let was_competing = core.session.competing;
    if compete && core.session.state.brokerage() {
        // Taking the session back from a platform that logged in meanwhile.
        core.session.competing = false;
    }
    if core.session.init_brokerage(compete) && was != core.session.state {
        core.push(Push::Status(
            json!({"authenticated": true, "competing": false}),
        ));
    } else if was_competing && !core.session.competing {
        core.push(Push::Status(json!({"competing": false})));
    }
    Ok(core.auth_status(true))
}

/// `GET|POST /iserver/reauthenticate` (legacy) — `{"message":"triggered"}`.
pub fn reauthenticate(core: &mut Core, _: &Req, _: &[&str]) -> Result<Value, ApiError> {
    if core.faults.stuck_brokerage {
        return Ok(json!({"message": "triggered"}));
    }
    let was = core.session.state;
    if core.session.init_brokerage(false) && was != core.session.state {
        core.push(Push::Status(json!({"authenticated": true})));
    }
    Ok(json!({"message": "triggered"}))
}

/// `POST /logout` — `{"status": true}`; the session ends.
pub fn logout(core: &mut Core, req: &Req, _: &[&str]) -> Result<Value, ApiError> {
    core.trigger(FaultAction::Logout, req.now);
    Ok(json!({"status": true}))
}

/// `GET /sso/validate`
pub fn validate(core: &mut Core, req: &Req, _: &[&str]) -> Result<Value, ApiError> {
    let timeout = core.faults.session_timeout_secs.saturating_mul(1_000);
    let user = &core.cfg.session.user_name;
    Ok(json!({
        "USER_ID": core.cfg.session.user_id,
        "USER_NAME": user,
        "RESULT": true,
        "AUTH_TIME": core.session.auth_time,
        "SF_ENABLED": false,
        "IS_FREE_TRIAL": false,
        "CREDENTIAL": user,
        "IP": "127.0.0.1",
        "EXPIRES": core.session.remaining(req.now, timeout).unwrap_or(86_400_000),
        "QUALIFIED_FOR_MOBILE_AUTH": null,
        "LANDING_APP": "UNIVERSAL",
        "IS_MASTER": false,
        "lastAccessed": wall_ms(),
        "LOGIN_TYPE": 2,
        "PAPER_USER_NAME": user,
        "features": {"env": "PROD", "wlms": true, "realtime": true, "bond": true, "optionChains": true, "calendar": true, "newMf": true},
        "region": "NJ",
    }))
}
