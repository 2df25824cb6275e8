//! How engine values are stored in journal columns and read back: decimals as exact text,
//! enums by their display names (`BUY`, `LMT`, `GTC`, `Working`, `risk_refusal`), ids and
//! times as integers. Reading reports what did not parse, so a bad row is named, never
//! guessed.

use std::str::FromStr;

use rust_decimal::Decimal;
use tickline_engine::audit::AuditKind;
use tickline_engine::domain::{OrderType, Side, TimeInForce};
use tickline_engine::order::OrderState;

/// A column value that did not parse: what was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BadValue(pub String);

pub(crate) fn decimal(s: &str) -> Result<Decimal, BadValue> {
    Decimal::from_str(s).map_err(|_| BadValue(format!("{s:?} is not a decimal number")))
}

pub(crate) fn opt_decimal(s: Option<&str>) -> Result<Option<Decimal>, BadValue> {
    s.map(decimal).transpose()
}

/// Broker order ids are `u64`; SQLite integers are `i64`: stored bit for bit.
pub(crate) fn broker_id_to_sql(id: u64) -> i64 {
    id as i64
}

pub(crate) fn broker_id_from_sql(v: i64) -> u64 {
    v as u64
}

fn by_name<T: Copy>(
    all: &[T],
    name: fn(T) -> &'static str,
    s: &str,
    what: &str,
) -> Result<T, BadValue> {
    all.iter()
        .copied()
        .find(|v| name(*v) == s)
        .ok_or_else(|| BadValue(format!("{s:?} is not a known {what}")))
}

pub(crate) fn side(s: &str) -> Result<Side, BadValue> {
    by_name(&[Side::Buy, Side::Sell], Side::as_str, s, "side")
}

pub(crate) fn order_type(s: &str) -> Result<OrderType, BadValue> {
    by_name(&OrderType::ALL, OrderType::as_str, s, "order type")
}

pub(crate) fn tif(s: &str) -> Result<TimeInForce, BadValue> {
    by_name(&TimeInForce::ALL, TimeInForce::as_str, s, "time in force")
}

/// Every order state; [`listed_state`] stops compiling when one is added.
const STATES: [OrderState; 11] = {
    use OrderState::*;
    [
        Denied,
        PendingSubmit,
        AwaitingConfirmation,
        Working,
        PartiallyFilled,
        Filled,
        PendingModify,
        PendingCancel,
        Cancelled,
        Rejected,
        Expired,
    ]
};

#[allow(dead_code)]
const fn listed_state(s: OrderState) {
    use OrderState::*;
    match s {
        Denied | PendingSubmit | AwaitingConfirmation | Working | PartiallyFilled | Filled
        | PendingModify | PendingCancel | Cancelled | Rejected | Expired => {}
    }
}

pub(crate) fn order_state(s: &str) -> Result<OrderState, BadValue> {
    by_name(&STATES, OrderState::as_str, s, "order state")
}

/// Every audit kind; [`listed_kind`] stops compiling when one is added.
const AUDIT_KINDS: [AuditKind; 9] = {
    use AuditKind::*;
    [
        RiskRefusal,
        PromptDecision,
        KillSwitch,
        BrokerRejection,
        IllegalTransition,
        CommandError,
        Connectivity,
        Reconciliation,
        VenueReport,
    ]
};

#[allow(dead_code)]
const fn listed_kind(k: AuditKind) {
    use AuditKind::*;
    match k {
        RiskRefusal | PromptDecision | KillSwitch | BrokerRejection | IllegalTransition
        | CommandError | Connectivity | Reconciliation | VenueReport => {}
    }
}

pub(crate) fn audit_kind(s: &str) -> Result<AuditKind, BadValue> {
    by_name(&AUDIT_KINDS, AuditKind::as_str, s, "audit kind")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_reads_back() {
        for s in STATES {
            assert_eq!(order_state(s.as_str()), Ok(s));
        }
        for k in AUDIT_KINDS {
            assert_eq!(audit_kind(k.as_str()), Ok(k));
        }
        for t in OrderType::ALL {
            assert_eq!(order_type(t.as_str()), Ok(t));
        }
        for t in TimeInForce::ALL {
            assert_eq!(tif(t.as_str()), Ok(t));
        }
        assert_eq!(side("SELL"), Ok(Side::Sell));
        assert_eq!(tif("GTC"), Ok(TimeInForce::Gtc));
        assert_eq!(broker_id_from_sql(broker_id_to_sql(u64::MAX)), u64::MAX);
    }

    #[test]
    fn unknown_names_are_errors_that_say_what() {
        assert_eq!(
            order_state("Working!"),
            Err(BadValue("\"Working!\" is not a known order state".into()))
        );
        assert!(decimal("1,5").is_err());
        assert!(side("buy").is_err());
    }
}
