use proptest::prelude::*;
use rust_decimal::{Decimal, dec};

use super::*;
use crate::domain::{ExecId, Instrument, Side};
use crate::order::prompt::PromptDecision;
use crate::risk::{RiskChain, RiskContext};

const I: InstrumentId = InstrumentId(0);

fn approve(req: OrderRequest) -> Approved<OrderRequest> {
    let inst = Instrument::stock("SPY");
    let ctx = RiskContext {
        now: 0,
        instrument: &inst,
        last_price: Some(dec!(100)),
        position: Decimal::ZERO,
        open_order_qty: Decimal::ZERO,
        open_orders: 0,
        gross_exposure: Decimal::ZERO,
        per_contract_margin: Decimal::ZERO,
        per_contract_exposure: Decimal::ZERO,
        equity: dec!(100000),
        parent: None,
    };
    RiskChain::permissive()
        .check(req, &ctx)
        .expect("valid request")
}

fn fill(id: u64, qty: Decimal, price: Decimal) -> ExecEvent {
    ExecEvent::Filled(Fill {
        order_id: OrderId(id),
        instrument: I,
        side: Side::Buy,
        quantity: qty,
        price,
        commission: dec!(1),
        ts: 5,
        exec_id: ExecId::NONE,
    })
}

fn policy() -> PromptPolicy {
    let mut p = PromptPolicy::default();
    p.rules.insert("o163".into(), PromptDecision::Confirm);
    p.rules
        .insert("o354".into(), PromptDecision::ConfirmAndSuppress);
    p
}

/// An order manager with order 1, a market order for 10, submitted (nothing acknowledged).
fn submitted_market(side: Side) -> (OrderManager, AuditLog, Vec<ExecCommand>) {
    let mut om = OrderManager::new(policy(), "T-");
    om.submit(
        OrderId(1),
        approve(OrderRequest::market(I, side, dec!(10))),
        1,
    )
    .unwrap();
    (om, AuditLog::default(), Vec::new())
}

#[test]
fn full_lifecycle_with_partial_fills() {
    let mut om = OrderManager::new(policy(), "T-");
    let mut audit = AuditLog::default();
    let mut out = Vec::new();
    let cmd = om
        .submit(
            OrderId(1),
            approve(OrderRequest::market(I, Side::Buy, dec!(10))),
            1,
        )
        .unwrap();
    match cmd {
        ExecCommand::Submit {
            client_order_id, ..
        } => assert_eq!(client_order_id.as_str(), "T-1"),
        other => panic!("unexpected {other:?}"),
    }
    let u = om
        .apply(
            &ExecEvent::Accepted {
                order_id: OrderId(1),
                broker_order_id: Some(77),
                ts: 2,
            },
            &mut out,
            &mut audit,
        )
        .unwrap()
        .unwrap();
    assert_eq!(
        (u.previous, u.state),
        (OrderState::PendingSubmit, OrderState::Working)
    );
    let u = om
        .apply(&fill(1, dec!(4), dec!(100)), &mut out, &mut audit)
        .unwrap()
        .unwrap();
    assert_eq!(u.state, OrderState::PartiallyFilled);
    let u = om
        .apply(&fill(1, dec!(6), dec!(101)), &mut out, &mut audit)
        .unwrap()
        .unwrap();
    assert_eq!(u.state, OrderState::Filled);
    let o = om.get(OrderId(1)).unwrap();
    assert_eq!(o.avg_fill_price, dec!(100.6));
    assert_eq!(o.commission, dec!(2));
    assert_eq!(o.broker_order_id, Some(77));
    assert_eq!(om.open_count(), 0);
    // Anything after Filled is illegal and changes nothing.
    let err = om
        .apply(&fill(1, dec!(1), dec!(1)), &mut out, &mut audit)
        .unwrap_err();
    assert!(matches!(err, OmError::Overfill { .. }), "{err}");
    let err = om
        .apply(
            &ExecEvent::Cancelled {
                order_id: OrderId(1),
                reason: None,
                ts: 9,
            },
            &mut out,
            &mut audit,
        )
        .unwrap_err();
    assert!(matches!(err, OmError::Illegal { .. }), "{err}");
    assert_eq!(om.get(OrderId(1)).unwrap().state, OrderState::Filled);
}

#[test]
fn prompt_confirmed_suppressed_and_audited() {
    let (mut om, mut audit, mut out) = submitted_market(Side::Buy);
    let prompt = Prompt {
        reply_id: "abc".into(),
        message_ids: vec!["o163".into(), "o354".into()],
        messages: vec!["price far from market".into(), "no market data".into()],
    };
    let u = om
        .apply(
            &ExecEvent::Prompt {
                order_id: OrderId(1),
                prompt,
                ts: 2,
            },
            &mut out,
            &mut audit,
        )
        .unwrap();
    assert!(
        u.is_none(),
        "confirmed prompt leaves the order pending submit"
    );
    assert_eq!(om.get(OrderId(1)).unwrap().state, OrderState::PendingSubmit);
    assert_eq!(
        out,
        vec![
            ExecCommand::ReplyPrompt {
                order_id: OrderId(1),
                reply_id: "abc".into(),
                confirmed: true
            },
            ExecCommand::SuppressQuestions {
                message_ids: vec!["o354".into()]
            },
        ]
    );
    assert_eq!(audit.count(AuditKind::PromptDecision), 2);
    assert!(audit.records()[0].detail.contains("o163: confirm"));
}

#[test]
fn a_question_for_an_order_cancelled_before_its_acknowledgement_is_left_to_the_cancel() {
    let (mut om, mut audit, mut out) = submitted_market(Side::Buy);
    om.request_cancel(OrderId(1), 2).unwrap();
    let prompt = Prompt {
        reply_id: "late".into(),
        message_ids: vec!["o163".into()],
        messages: vec!["outside regular trading hours".into()],
    };
    let u = om
        .apply(
            &ExecEvent::Prompt {
                order_id: OrderId(1),
                prompt,
                ts: 3,
            },
            &mut out,
            &mut audit,
        )
        .unwrap();
    assert!(u.is_none());
    assert!(out.is_empty(), "no reply races the cancel: {out:?}");
    assert_eq!(om.get(OrderId(1)).unwrap().state, OrderState::PendingCancel);
    assert_eq!(audit.count(AuditKind::IllegalTransition), 0);
    assert!(audit.records()[0].detail.contains("being cancelled"));
    // The venue's cancel (which declined the question) closes the order.
    om.apply(
        &ExecEvent::Cancelled {
            order_id: OrderId(1),
            reason: None,
            ts: 4,
        },
        &mut out,
        &mut audit,
    )
    .unwrap();
    assert_eq!(om.get(OrderId(1)).unwrap().state, OrderState::Cancelled);
}

#[test]
fn prompt_declined_rejects_order() {
    let (mut om, mut audit, mut out) = submitted_market(Side::Sell);
    let prompt = Prompt {
        reply_id: "q9".into(),
        message_ids: vec!["o383".into()],
        messages: vec!["size limit".into()],
    };
    let u = om
        .apply(
            &ExecEvent::Prompt {
                order_id: OrderId(1),
                prompt,
                ts: 2,
            },
            &mut out,
            &mut audit,
        )
        .unwrap()
        .unwrap();
    assert_eq!(u.state, OrderState::Rejected);
    assert_eq!(
        out,
        vec![ExecCommand::ReplyPrompt {
            order_id: OrderId(1),
            reply_id: "q9".into(),
            confirmed: false
        }]
    );
    assert!(
        om.get(OrderId(1))
            .unwrap()
            .reason
            .as_deref()
            .unwrap()
            .contains("o383")
    );
    assert!(audit.records()[0].detail.contains("o383: reject"));
    assert_eq!(om.open_count(), 0);
}

#[test]
fn cancel_and_modify_requests() {
    let mut om = OrderManager::new(PromptPolicy::default(), "T-");
    let mut audit = AuditLog::default();
    let mut out = Vec::new();
    let req = OrderRequest::limit(I, Side::Buy, dec!(10), dec!(99));
    om.submit(OrderId(1), approve(req), 1).unwrap();
    om.apply(
        &ExecEvent::Accepted {
            order_id: OrderId(1),
            broker_order_id: None,
            ts: 2,
        },
        &mut out,
        &mut audit,
    )
    .unwrap();
    let new_req = OrderRequest::limit(I, Side::Buy, dec!(10), dec!(98.5));
    assert_eq!(
        om.request_modify(OrderId(1), approve(new_req), 3).unwrap(),
        ExecCommand::Modify {
            order_id: OrderId(1),
            request: new_req
        }
    );
    om.apply(
        &ExecEvent::Modified {
            order_id: OrderId(1),
            request: Box::new(new_req),
            ts: 4,
        },
        &mut out,
        &mut audit,
    )
    .unwrap();
    assert_eq!(
        om.get(OrderId(1)).unwrap().request.limit_price,
        Some(dec!(98.5))
    );
    assert_eq!(om.open_qty(I), dec!(10));
    om.request_cancel(OrderId(1), 5).unwrap();
    assert!(matches!(
        om.request_cancel(OrderId(1), 5),
        Err(OmError::NotOpen { .. })
    ));
    let u = om
        .apply(
            &ExecEvent::Cancelled {
                order_id: OrderId(1),
                reason: None,
                ts: 6,
            },
            &mut out,
            &mut audit,
        )
        .unwrap()
        .unwrap();
    assert_eq!(u.state, OrderState::Cancelled);
    assert_eq!(om.open_qty(I), dec!(0));
    assert!(matches!(
        om.request_cancel(OrderId(9), 7),
        Err(OmError::UnknownOrder(_))
    ));
}

#[derive(Clone, Debug)]
enum Step {
    Accept,
    Reject,
    Prompt(bool),
    Fill(u8),
    Cancel,
    CancelAck,
    CancelReject,
    Modify,
    ModifyAck,
    ModifyReject,
    Expire,
}

fn step_strategy() -> impl Strategy<Value = Step> {
    prop_oneof![
        Just(Step::Accept),
        Just(Step::Reject),
        any::<bool>().prop_map(Step::Prompt),
        (1u8..6).prop_map(Step::Fill),
        Just(Step::Cancel),
        Just(Step::CancelAck),
        Just(Step::CancelReject),
        Just(Step::Modify),
        Just(Step::ModifyAck),
        Just(Step::ModifyReject),
        Just(Step::Expire),
    ]
}

proptest! {
    /// Random event sequences: the manager never reaches an inconsistent state — filled
    /// quantity within bounds, terminal states final, a failed event changes nothing, and the
    /// open list matches the states.
    #[test]
    fn random_event_sequences_stay_legal(steps in prop::collection::vec(step_strategy(), 1..40)) {
        let mut om = OrderManager::new(policy(), "P-");
        let mut audit = AuditLog::default();
        let mut out = Vec::new();
        let id = OrderId(1);
        let req = OrderRequest::limit(I, Side::Buy, dec!(10), dec!(100));
        om.submit(id, approve(req), 0).unwrap();
        for (t, step) in steps.into_iter().enumerate() {
            let ts = t as i64 + 1;
            let before = om.get(id).unwrap().clone();
            let result: Result<(), OmError> = match step.clone() {
                Step::Accept => om.apply(&ExecEvent::Accepted { order_id: id, broker_order_id: Some(1), ts }, &mut out, &mut audit).map(|_| ()),
                Step::Reject => om.apply(&ExecEvent::Rejected { order_id: id, reason: "no".into(), ts }, &mut out, &mut audit).map(|_| ()),
                Step::Prompt(ok) => {
                    let ids = if ok { vec!["o163".to_string()] } else { vec!["o999".to_string()] };
                    let prompt = Prompt { reply_id: "r".into(), messages: ids.clone(), message_ids: ids };
                    om.apply(&ExecEvent::Prompt { order_id: id, prompt, ts }, &mut out, &mut audit).map(|_| ())
                }
                Step::Fill(q) => om.apply(&fill(1, Decimal::from(q), dec!(100)), &mut out, &mut audit).map(|_| ()),
                Step::Cancel => om.request_cancel(id, ts).map(|_| ()),
                Step::CancelAck => om.apply(&ExecEvent::Cancelled { order_id: id, reason: None, ts }, &mut out, &mut audit).map(|_| ()),
                Step::CancelReject => om.apply(&ExecEvent::CancelRejected { order_id: id, reason: "late".into(), ts }, &mut out, &mut audit).map(|_| ()),
                Step::Modify => om.request_modify(id, approve(OrderRequest::limit(I, Side::Buy, dec!(10), dec!(99))), ts).map(|_| ()),
                Step::ModifyAck => om.apply(&ExecEvent::Modified { order_id: id, request: Box::new(OrderRequest::limit(I, Side::Buy, dec!(10), dec!(99))), ts }, &mut out, &mut audit).map(|_| ()),
                Step::ModifyReject => om.apply(&ExecEvent::ModifyRejected { order_id: id, reason: "no".into(), ts }, &mut out, &mut audit).map(|_| ()),
                Step::Expire => om.apply(&ExecEvent::Expired { order_id: id, ts }, &mut out, &mut audit).map(|_| ()),
            };
            let after = om.get(id).unwrap();
            if result.is_err() {
                prop_assert_eq!(&before, after, "a refused event must not change the order");
            }
            if before.state.is_terminal() && before.state != after.state {
                // Only a late venue report reopens or completes a final order, and a filled
                // order stays filled.
                prop_assert!(matches!(step, Step::Accept | Step::Fill(_)), "{:?} changed {:?}", step, before.state);
                prop_assert!(before.state != OrderState::Filled);
            }
            prop_assert!(after.filled_qty >= Decimal::ZERO && after.filled_qty <= after.request.quantity);
            prop_assert_eq!(after.state == OrderState::Filled, after.filled_qty == after.request.quantity);
            prop_assert_eq!(om.open_ids().contains(&id), after.state.is_open());
            if matches!(after.state, OrderState::Working) {
                prop_assert!(after.filled_qty.is_zero());
            }
        }
    }
}
