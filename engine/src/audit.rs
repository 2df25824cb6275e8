//! The audit trail: every risk refusal, prompt decision, kill-switch change, rejection and
//! rejected command, with time and order id. Also mirrored to `tracing`.

use serde::Serialize;

use crate::domain::{OrderId, Ts};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum AuditKind {
    /// The risk layer refused an order request.
    RiskRefusal,
    /// The prompt policy answered a broker question.
    PromptDecision,
    /// The kill switch changed state.
    KillSwitch,
    /// The broker rejected an order or a modification/cancel.
    BrokerRejection,
    /// An event did not fit the order's state machine (it was not applied).
    IllegalTransition,
    /// A strategy command could not be carried out (unknown order, not open, …).
    CommandError,
    /// The live link changed (session, feed, entry pause).
    Connectivity,
    /// Reconciliation with the broker's reports (start, reconnect): what was adopted,
    /// booked or corrected.
    Reconciliation,
    /// A venue report that was not applied as it came (a duplicate execution, a commission
    /// for an unknown execution).
    VenueReport,
}

impl AuditKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditKind::RiskRefusal => "risk_refusal",
            AuditKind::PromptDecision => "prompt_decision",
            AuditKind::KillSwitch => "kill_switch",
            AuditKind::BrokerRejection => "broker_rejection",
            AuditKind::IllegalTransition => "illegal_transition",
            AuditKind::CommandError => "command_error",
            AuditKind::Connectivity => "connectivity",
            AuditKind::Reconciliation => "reconciliation",
            AuditKind::VenueReport => "venue_report",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AuditRecord {
    pub ts: Ts,
    pub kind: AuditKind,
    pub order_id: Option<OrderId>,
    pub detail: String,
}

/// Append-only audit records of one run.
#[derive(Clone, Debug, Default)]
pub struct AuditLog {
    records: Vec<AuditRecord>,
}

impl AuditLog {
    pub fn record(&mut self, ts: Ts, kind: AuditKind, order_id: Option<OrderId>, detail: String) {
        match kind {
            AuditKind::IllegalTransition | AuditKind::CommandError | AuditKind::VenueReport => {
                tracing::warn!(target: "tickline::audit", ts, kind = kind.as_str(), order = ?order_id, "{detail}")
            }
            _ => {
                tracing::info!(target: "tickline::audit", ts, kind = kind.as_str(), order = ?order_id, "{detail}")
            }
        }
        self.records.push(AuditRecord {
            ts,
            kind,
            order_id,
            detail,
        });
    }

    pub fn into_records(self) -> Vec<AuditRecord> {
        self.records
    }

    pub fn records(&self) -> &[AuditRecord] {
        &self.records
    }

    pub fn count(&self, kind: AuditKind) -> usize {
        self.records.iter().filter(|r| r.kind == kind).count()
    }
}
