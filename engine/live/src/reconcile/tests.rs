use rust_decimal::dec;
use tickline_engine::domain::{ClientOrderId, Instrument, Side};

use super::*;
use crate::venue::{AccountInfo, BrokerExecution, BrokerPosition};

const SPY: InstrumentId = InstrumentId(0);

fn instruments() -> Vec<Instrument> {
    let mut i = Instrument::stock("SPY");
    i.id = SPY;
    vec![i]
}

fn order(id: u64, state: OrderState, qty: Decimal, filled: Decimal, broker: Option<u64>) -> Order {
    Order {
        id: OrderId(id),
        client_order_id: ClientOrderId::with_number("TL-abcd1234-", id),
        request: OrderRequest::limit(SPY, Side::Buy, qty, dec!(100)).with_tif(TimeInForce::Gtc),
        state,
        filled_qty: filled,
        avg_fill_price: if filled.is_zero() { dec!(0) } else { dec!(100) },
        commission: dec!(0),
        created: 0,
        updated: 0,
        broker_order_id: broker,
        reason: None,
        refusal: None,
        pending_modify: None,
        prompts: 0,
    }
}

fn booked(order: u64, qty: Decimal, exec: &str, commission: Decimal) -> FillRecord {
    FillRecord {
        fill: Fill {
            order_id: OrderId(order),
            instrument: SPY,
            side: Side::Buy,
            quantity: qty,
            price: dec!(100),
            commission,
            ts: 1,
            exec_id: ExecId::new(exec).unwrap(),
        },
        realized_pnl: dec!(0),
        position_after: qty,
    }
}

fn broker_order(
    id: u64,
    coid: Option<String>,
    status: BrokerOrderStatus,
    filled: Decimal,
) -> BrokerOrder {
    BrokerOrder {
        broker_order_id: id,
        client_order_id: coid,
        instrument: Some(SPY),
        name: "SPY".into(),
        side: Side::Buy,
        quantity: dec!(10),
        filled,
        order_type: Some(OrderType::Limit),
        limit_price: Some(dec!(100)),
        stop_price: None,
        tif: Some(TimeInForce::Gtc),
        status,
    }
}

fn coid(n: u64) -> Option<String> {
    Some(ClientOrderId::with_number("TL-abcd1234-", n).to_string())
}

fn execution(
    exec: &str,
    coid: Option<String>,
    broker: Option<u64>,
    qty: Decimal,
    ts: Ts,
) -> BrokerExecution {
    BrokerExecution {
        exec_id: ExecId::new(exec).unwrap(),
        broker_order_id: broker,
        client_order_id: coid,
        instrument: Some(SPY),
        name: "SPY".into(),
        side: Side::Buy,
        quantity: qty,
        price: dec!(99.5),
        commission: Some(dec!(1)),
        ts,
    }
}

fn snapshot(
    orders: Vec<BrokerOrder>,
    executions: Vec<BrokerExecution>,
    position: Decimal,
) -> BrokerSnapshot {
    BrokerSnapshot {
        account: AccountInfo {
            id: "DU1".into(),
            is_paper: true,
            currency: "USD".into(),
        },
        cash: dec!(98765),
        positions: vec![BrokerPosition {
            instrument: Some(SPY),
            name: "SPY".into(),
            quantity: position,
            avg_price: dec!(101),
        }],
        orders,
        executions,
        taken_at: 100,
    }
}

fn run(
    orders: &[Order],
    fills: &[FillRecord],
    position: Decimal,
    broker: &BrokerSnapshot,
    policy: ForeignPolicy,
) -> Result<Reconciliation, ForeignFound> {
    let inst = instruments();
    reconcile(
        Books {
            instruments: &inst,
            orders,
            fills,
            positions: &[position],
        },
        broker,
        policy,
        true,
        100,
    )
}

#[test]
fn a_clean_restart_tracks_the_working_order_and_agrees() {
    let orders = [
        order(1, OrderState::Filled, dec!(10), dec!(10), Some(501)),
        order(2, OrderState::Working, dec!(10), dec!(0), Some(502)),
    ];
    let fills = [booked(1, dec!(10), "E1", dec!(1))];
    let broker = snapshot(
        vec![
            broker_order(501, coid(1), BrokerOrderStatus::Filled, dec!(10)),
            broker_order(502, coid(2), BrokerOrderStatus::Working, dec!(0)),
        ],
        vec![execution("E1", coid(1), Some(501), dec!(10), 5)],
        dec!(10),
    );
    let r = run(&orders, &fills, dec!(10), &broker, ForeignPolicy::Refuse).unwrap();
    assert!(r.events.is_empty(), "{:?}", r.events);
    assert_eq!(r.track.len(), 1);
    assert_eq!(r.track[0].order_id, OrderId(2));
    assert_eq!(r.track[0].broker_order_id, Some(502));
    assert!(r.agreed() && r.foreign.is_empty() && r.set_positions.is_empty());
    assert_eq!(r.cash, dec!(98765));
}

#[test]
fn a_fill_made_while_down_is_booked_once_then_the_cancel_applies() {
    let orders = [order(1, OrderState::Working, dec!(10), dec!(0), Some(501))];
    let broker = snapshot(
        vec![broker_order(
            501,
            coid(1),
            BrokerOrderStatus::Cancelled,
            dec!(4),
        )],
        vec![
            execution("E2", coid(1), Some(501), dec!(3), 20),
            execution("E1", coid(1), Some(501), dec!(1), 10),
            // The same execution listed twice (trades pages overlap).
            execution("E1", coid(1), Some(501), dec!(1), 10),
        ],
        dec!(4),
    );
    let r = run(&orders, &[], dec!(0), &broker, ForeignPolicy::Refuse).unwrap();
    let kinds: Vec<String> = r
        .events
        .iter()
        .map(|e| match e {
            ExecEvent::Filled(f) => format!("fill {} {}", f.exec_id, f.quantity),
            ExecEvent::Cancelled { .. } => "cancelled".into(),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(kinds, vec!["fill E1 1", "fill E2 3", "cancelled"]);
    assert_eq!(r.missed_fills, 2);
    assert!(r.agreed());
    assert!(r.track.is_empty());
}

#[test]
fn executions_already_booked_are_not_booked_again_but_a_late_commission_corrects() {
    let orders = [order(1, OrderState::Filled, dec!(10), dec!(10), Some(501))];
    let fills = [booked(1, dec!(10), "E1", dec!(0))];
    let broker = snapshot(
        vec![],
        vec![execution("E1", coid(1), Some(501), dec!(10), 5)],
        dec!(10),
    );
    let r = run(&orders, &fills, dec!(10), &broker, ForeignPolicy::Refuse).unwrap();
    assert_eq!(r.missed_fills, 0);
    assert_eq!(
        r.events,
        vec![ExecEvent::Commission {
            order_id: OrderId(1),
            exec_id: ExecId::new("E1").unwrap(),
            commission: dec!(1),
            ts: 100,
        }]
    );
}

#[test]
fn another_journals_orders_and_executions_are_never_ours() {
    // Same numbering, another journal's prefix: TL-ffff0000-1 is not TL-abcd1234-1.
    let orders = [order(1, OrderState::PendingSubmit, dec!(10), dec!(0), None)];
    let other = Some("TL-ffff0000-1".to_string());
    let broker = snapshot(
        vec![broker_order(
            777,
            other.clone(),
            BrokerOrderStatus::Filled,
            dec!(10),
        )],
        vec![execution("X1", other, Some(777), dec!(10), 5)],
        dec!(0),
    );
    let r = run(&orders, &[], dec!(0), &broker, ForeignPolicy::Refuse).unwrap();
    assert_eq!(r.missed_fills, 0);
    assert_eq!(
        r.events,
        vec![ExecEvent::Rejected {
            order_id: OrderId(1),
            reason: "the broker has no order with this client order id".into(),
            ts: 100,
        }],
        "our submission never reached the broker"
    );
}

#[test]
fn a_submission_acknowledged_while_down_is_accepted_and_tracked() {
    let orders = [order(1, OrderState::PendingSubmit, dec!(10), dec!(0), None)];
    let broker = snapshot(
        vec![broker_order(
            501,
            coid(1),
            BrokerOrderStatus::Working,
            dec!(0),
        )],
        vec![],
        dec!(0),
    );
    let r = run(&orders, &[], dec!(0), &broker, ForeignPolicy::Refuse).unwrap();
    assert_eq!(
        r.events,
        vec![ExecEvent::Accepted {
            order_id: OrderId(1),
            broker_order_id: Some(501),
            ts: 100,
        }]
    );
    assert_eq!(r.track[0].broker_order_id, Some(501));
}

#[test]
fn an_acknowledged_order_the_broker_no_longer_lists_is_cancelled() {
    let orders = [order(1, OrderState::Working, dec!(10), dec!(0), Some(501))];
    let broker = snapshot(vec![], vec![], dec!(0));
    let r = run(&orders, &[], dec!(0), &broker, ForeignPolicy::Refuse).unwrap();
    assert!(matches!(
        r.events[..],
        [ExecEvent::Cancelled {
            order_id: OrderId(1),
            ..
        }]
    ));
}

#[test]
fn an_execution_that_does_not_fit_the_order_is_not_booked() {
    let orders = [order(1, OrderState::Working, dec!(10), dec!(8), Some(501))];
    let broker = snapshot(
        vec![broker_order(
            501,
            coid(1),
            BrokerOrderStatus::Working,
            dec!(8),
        )],
        vec![execution("E9", coid(1), Some(501), dec!(5), 5)],
        dec!(8),
    );
    let r = run(&orders, &[], dec!(8), &broker, ForeignPolicy::Refuse).unwrap();
    assert_eq!(r.missed_fills, 0);
    assert!(r.notes.iter().any(|n| n.contains("does not fit")));
}

/// Foreign orders and positions under each policy.
#[test]
fn foreign_orders_and_positions_follow_the_policy() {
    let foreign_order = broker_order(
        900,
        Some("manual".into()),
        BrokerOrderStatus::Working,
        dec!(0),
    );
    let broker = snapshot(vec![foreign_order.clone()], vec![], dec!(100));
    let err = run(&[], &[], dec!(0), &broker, ForeignPolicy::Refuse).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("order 900 BUY 10 SPY"), "{text}");
    assert!(
        text.contains("position SPY: broker 100, this journal 0"),
        "{text}"
    );
    assert!(text.contains("[live] foreign"), "{text}");

    let r = run(&[], &[], dec!(0), &broker, ForeignPolicy::Ignore).unwrap();
    assert!(r.adopt.is_empty() && r.set_positions.is_empty());
    assert_eq!(r.differences, vec![(SPY, dec!(100))]);
    assert_eq!(r.foreign.len(), 2);

    let r = run(&[], &[], dec!(0), &broker, ForeignPolicy::Adopt).unwrap();
    assert_eq!(r.adopt, vec![foreign_order.clone()]);
    assert_eq!(r.set_positions, vec![(SPY, dec!(100), dec!(101))]);
    let req = adopted_request(&foreign_order).unwrap();
    assert_eq!(
        (
            req.side,
            req.quantity,
            req.limit_price,
            req.client_order_id.map(|c| c.to_string())
        ),
        (
            Side::Buy,
            dec!(10),
            Some(dec!(100)),
            Some("manual".to_string())
        )
    );

    // After a reconnect a difference is never a refusal: the broker's position is taken.
    let inst = instruments();
    let r = reconcile(
        Books {
            instruments: &inst,
            orders: &[],
            fills: &[],
            positions: &[dec!(0)],
        },
        &broker,
        ForeignPolicy::Refuse,
        false,
        100,
    )
    .unwrap();
    assert_eq!(r.set_positions, vec![(SPY, dec!(100), dec!(101))]);
    assert!(
        r.adopt.is_empty(),
        "foreign orders are adopted only at start"
    );
}

#[test]
fn after_a_reconnect_a_missing_order_is_only_noted() {
    let orders = [
        order(1, OrderState::Working, dec!(10), dec!(0), Some(501)),
        order(2, OrderState::PendingSubmit, dec!(10), dec!(0), None),
    ];
    let broker = snapshot(vec![], vec![], dec!(0));
    let inst = instruments();
    let r = reconcile(
        Books {
            instruments: &inst,
            orders: &orders,
            fills: &[],
            positions: &[dec!(0)],
        },
        &broker,
        ForeignPolicy::Refuse,
        false,
        100,
    )
    .unwrap();
    assert!(r.events.is_empty(), "{:?}", r.events);
    assert_eq!(r.notes.len(), 2);
}
