//! The order lifecycle as one explicit `(state, event)` table.
//!
//! ```text
//!               risk refused
//!  (request) ───────────────► Denied
//!      │ approved
//!      ▼
//!  PendingSubmit ──prompt──► AwaitingConfirmation ──confirmed──► PendingSubmit
//!      │  │                        └──declined / error──► Rejected
//!      │  └──rejected──► Rejected
//!      ▼ accepted
//!   Working ──fill──► PartiallyFilled ──fill──► Filled
//!      │  ╲                 │
//!      │   ╲modify──► PendingModify ──accepted / rejected──► Working | PartiallyFilled
//!      │               (prompts answered in place; declined = modification rejected)
//!      ▼ cancel              ▼ cancel
//!   PendingCancel ──cancelled──► Cancelled     (fills may still arrive while pending)
//!      └──cancel rejected──► Working | PartiallyFilled
//!   PendingSubmit ──cancel──► PendingCancel (cancel before the acknowledgement)
//!   Working | PartiallyFilled ──expired──► Expired
//!
//!  Late events real venues send (applied, never dropped):
//!   PendingCancel | PendingModify ──rejected──► Rejected   (the order itself was refused)
//!   Cancelled | Expired ──fill──► (same) or Filled         (IBKR can report a fill late)
//!   Rejected ──accepted / fill──► Working / PartiallyFilled / Filled
//!                                 (an acknowledgement after a timed-out submission)
//!   Filled | Cancelled ──accepted──► (same)               (a late acknowledgement)
//! ```
//!
//! Terminal states take no more *commands*; a venue's late report is still applied, because
//! the broker is the truth for fills. Anything not in the table is an [`IllegalTransition`]:
//! the order manager reports it and leaves the order unchanged, it never applies it
//! silently.

use serde::Serialize;

/// Where an order is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum OrderState {
    /// Refused by the risk layer; never sent.
    Denied,
    /// Sent to the execution client, not yet acknowledged.
    PendingSubmit,
    /// The broker asked a question (IBKR prompt) that must be answered before the order exists.
    AwaitingConfirmation,
    /// Acknowledged and working at the broker.
    Working,
    PartiallyFilled,
    Filled,
    /// A modification was sent and is not yet acknowledged.
    PendingModify,
    /// A cancel was sent and is not yet acknowledged.
    PendingCancel,
    Cancelled,
    Rejected,
    Expired,
}

impl OrderState {
    /// Final states: no command can change the order any more (late venue reports may
    /// still be applied, see the module docs).
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            OrderState::Denied
                | OrderState::Filled
                | OrderState::Cancelled
                | OrderState::Rejected
                | OrderState::Expired
        )
    }

    /// Open = not terminal.
    pub fn is_open(self) -> bool {
        !self.is_terminal()
    }

    pub fn as_str(self) -> &'static str {
        match self {
            OrderState::Denied => "Denied",
            OrderState::PendingSubmit => "PendingSubmit",
            OrderState::AwaitingConfirmation => "AwaitingConfirmation",
            OrderState::Working => "Working",
            OrderState::PartiallyFilled => "PartiallyFilled",
            OrderState::Filled => "Filled",
            OrderState::PendingModify => "PendingModify",
            OrderState::PendingCancel => "PendingCancel",
            OrderState::Cancelled => "Cancelled",
            OrderState::Rejected => "Rejected",
            OrderState::Expired => "Expired",
        }
    }
}

/// The inputs of the state machine (payloads live with the order manager).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OrderEvent {
    /// The broker answered the submission (or a reply) with a question.
    PromptReceived,
    /// The prompt policy confirmed the question(s); the reply was sent.
    PromptConfirmed,
    /// The prompt policy declined; the order will not exist.
    PromptDeclined,
    Accepted,
    Rejected,
    /// A fill that leaves quantity open.
    PartialFill,
    /// A fill that completes the order.
    FinalFill,
    ModifyRequested,
    ModifyAccepted,
    ModifyRejected,
    CancelRequested,
    Cancelled,
    CancelRejected,
    Expired,
}

/// An event that the table does not allow in the current state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("illegal order transition: {event:?} in state {state:?}")]
pub struct IllegalTransition {
    pub state: OrderState,
    pub event: OrderEvent,
}

/// The lifecycle table. `has_fills` tells the two "working" states apart when an order
/// returns from a pending modify/cancel.
pub fn transition(
    state: OrderState,
    event: OrderEvent,
    has_fills: bool,
) -> Result<OrderState, IllegalTransition> {
    use OrderEvent as E;
    use OrderState as S;
    let working = if has_fills {
        S::PartiallyFilled
    } else {
        S::Working
    };
    let next = match (state, event) {
        // Submission and prompts.
        (S::PendingSubmit, E::PromptReceived) => S::AwaitingConfirmation,
        (S::AwaitingConfirmation, E::PromptConfirmed) => S::PendingSubmit,
        (S::AwaitingConfirmation, E::PromptDeclined) => S::Rejected,
        (S::AwaitingConfirmation, E::Rejected) => S::Rejected,
        (S::PendingSubmit, E::Accepted) => S::Working,
        (S::PendingSubmit, E::Rejected) => S::Rejected,
        // A fast broker may report the fill before the acknowledgement.
        (S::PendingSubmit, E::PartialFill) => S::PartiallyFilled,
        (S::PendingSubmit, E::FinalFill) => S::Filled,
        // IOC remainders are cancelled by the broker without a request.
        (S::PendingSubmit, E::Cancelled) => S::Cancelled,
        // A cancel may be sent before the broker acknowledged the order.
        (S::PendingSubmit, E::CancelRequested) => S::PendingCancel,
        (S::PendingCancel, E::Accepted) => S::PendingCancel,

        // Working.
        (S::Working | S::PartiallyFilled, E::PartialFill) => S::PartiallyFilled,
        (S::Working | S::PartiallyFilled, E::FinalFill) => S::Filled,
        (S::Working | S::PartiallyFilled, E::ModifyRequested) => S::PendingModify,
        (S::Working | S::PartiallyFilled, E::CancelRequested) => S::PendingCancel,
        (S::Working | S::PartiallyFilled, E::Cancelled) => S::Cancelled,
        (S::Working | S::PartiallyFilled, E::Expired) => S::Expired,
        // A duplicate acknowledgement is harmless.
        (S::Working, E::Accepted) => S::Working,

        // Pending modify.
        (S::PendingModify, E::ModifyAccepted | E::ModifyRejected) => working,
        (S::PendingModify, E::PartialFill) => S::PendingModify,
        (S::PendingModify, E::FinalFill) => S::Filled,
        (S::PendingModify, E::Cancelled) => S::Cancelled,
        (S::PendingModify, E::Expired) => S::Expired,
        (S::PendingModify, E::CancelRequested) => S::PendingCancel,

        // A modification's questions are answered while it is pending.
        (S::PendingModify, E::PromptReceived | E::PromptConfirmed) => S::PendingModify,
        (S::PendingModify, E::PromptDeclined) => working,
        (S::PendingModify, E::Rejected) => S::Rejected,

        // Pending cancel: fills can race the cancel.
        (S::PendingCancel, E::Cancelled) => S::Cancelled,
        (S::PendingCancel, E::CancelRejected) => working,
        (S::PendingCancel, E::PartialFill) => S::PendingCancel,
        (S::PendingCancel, E::FinalFill) => S::Filled,
        (S::PendingCancel, E::Expired) => S::Expired,
        (S::PendingCancel, E::ModifyAccepted | E::ModifyRejected) => S::PendingCancel,
        // The order itself was refused while the cancel was on its way.
        (S::PendingCancel, E::Rejected) => S::Rejected,
        // A day order that expires before the broker acknowledged it.
        (S::PendingSubmit, E::Expired) => S::Expired,

        // Late reports after a final state.
        (S::Cancelled, E::PartialFill) => S::Cancelled,
        (S::Expired, E::PartialFill) => S::Expired,
        (S::Cancelled | S::Expired, E::FinalFill) => S::Filled,
        (S::Rejected, E::Accepted) => working,
        (S::Rejected, E::PartialFill) => S::PartiallyFilled,
        (S::Rejected, E::FinalFill) => S::Filled,
        (S::Filled, E::Accepted) => S::Filled,
        (S::Cancelled, E::Accepted | E::Cancelled) => S::Cancelled,

        (state, event) => return Err(IllegalTransition { state, event }),
    };
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use OrderEvent as E;
    use OrderState as S;

    /// The table, row by row: (from, event, has_fills) → expected.
    #[test]
    fn table_driven_transitions() {
        let cases: &[(S, E, bool, Option<S>)] = &[
            (S::PendingSubmit, E::Accepted, false, Some(S::Working)),
            (
                S::PendingSubmit,
                E::PromptReceived,
                false,
                Some(S::AwaitingConfirmation),
            ),
            (
                S::AwaitingConfirmation,
                E::PromptConfirmed,
                false,
                Some(S::PendingSubmit),
            ),
            (
                S::AwaitingConfirmation,
                E::PromptDeclined,
                false,
                Some(S::Rejected),
            ),
            (S::AwaitingConfirmation, E::Accepted, false, None),
            (S::PendingSubmit, E::Rejected, false, Some(S::Rejected)),
            (S::Working, E::PartialFill, false, Some(S::PartiallyFilled)),
            (S::PartiallyFilled, E::FinalFill, true, Some(S::Filled)),
            (
                S::Working,
                E::CancelRequested,
                false,
                Some(S::PendingCancel),
            ),
            (S::PendingCancel, E::CancelRejected, false, Some(S::Working)),
            (
                S::PendingCancel,
                E::CancelRejected,
                true,
                Some(S::PartiallyFilled),
            ),
            (S::PendingCancel, E::FinalFill, true, Some(S::Filled)),
            (S::PendingCancel, E::Cancelled, true, Some(S::Cancelled)),
            (
                S::PendingModify,
                E::ModifyAccepted,
                true,
                Some(S::PartiallyFilled),
            ),
            (S::Working, E::Expired, false, Some(S::Expired)),
            (S::Filled, E::Cancelled, true, None),
            (S::Filled, E::PartialFill, true, None),
            (S::Filled, E::Accepted, true, Some(S::Filled)),
            (S::Cancelled, E::Accepted, false, Some(S::Cancelled)),
            (S::Cancelled, E::Cancelled, true, Some(S::Cancelled)),
            (S::Denied, E::Accepted, false, None),
            (S::Denied, E::FinalFill, false, None),
            // Late fills and acknowledgements.
            (S::Cancelled, E::PartialFill, false, Some(S::Cancelled)),
            (S::Cancelled, E::FinalFill, true, Some(S::Filled)),
            (S::Expired, E::PartialFill, true, Some(S::Expired)),
            (S::Expired, E::FinalFill, false, Some(S::Filled)),
            (S::Rejected, E::FinalFill, false, Some(S::Filled)),
            (S::Rejected, E::PartialFill, false, Some(S::PartiallyFilled)),
            (S::Rejected, E::Accepted, false, Some(S::Working)),
            (S::PendingCancel, E::Rejected, false, Some(S::Rejected)),
            (S::PendingModify, E::Rejected, true, Some(S::Rejected)),
            (S::PendingSubmit, E::Expired, false, Some(S::Expired)),
            // Questions about a modification.
            (
                S::PendingModify,
                E::PromptReceived,
                false,
                Some(S::PendingModify),
            ),
            (
                S::PendingModify,
                E::PromptConfirmed,
                true,
                Some(S::PendingModify),
            ),
            (
                S::PendingModify,
                E::PromptDeclined,
                true,
                Some(S::PartiallyFilled),
            ),
            (S::Working, E::PromptReceived, false, None),
            (
                S::PendingSubmit,
                E::CancelRequested,
                false,
                Some(S::PendingCancel),
            ),
            (S::AwaitingConfirmation, E::CancelRequested, false, None),
        ];
        for &(from, event, fills, want) in cases {
            let got = transition(from, event, fills).ok();
            assert_eq!(got, want, "{from:?} + {event:?} (fills={fills})");
        }
    }

    const ALL_EVENTS: [OrderEvent; 14] = [
        E::PromptReceived,
        E::PromptConfirmed,
        E::PromptDeclined,
        E::Accepted,
        E::Rejected,
        E::PartialFill,
        E::FinalFill,
        E::ModifyRequested,
        E::ModifyAccepted,
        E::ModifyRejected,
        E::CancelRequested,
        E::Cancelled,
        E::CancelRejected,
        E::Expired,
    ];

    /// Terminal states take no command (modify, cancel, prompt answers) and a denied order
    /// (never sent) takes nothing at all; only late venue reports apply to the others.
    #[test]
    fn terminal_states_take_only_late_venue_reports() {
        let late = [E::Accepted, E::PartialFill, E::FinalFill, E::Cancelled];
        for s in [S::Denied, S::Filled, S::Cancelled, S::Rejected, S::Expired] {
            assert!(s.is_terminal());
            for e in ALL_EVENTS {
                let got = transition(s, e, true);
                if s == S::Denied || !late.contains(&e) {
                    assert!(got.is_err(), "{s:?} accepted {e:?}");
                }
            }
        }
        // A filled order stays filled whatever arrives late.
        for e in ALL_EVENTS {
            if let Ok(next) = transition(S::Filled, e, true) {
                assert_eq!(next, S::Filled, "{e:?}");
            }
        }
    }
}
