use rust_decimal::dec;

use super::*;
use crate::prompts::PromptTrigger;
use tickline_engine::domain::{InstrumentId, Side};

pub(super) const I: InstrumentId = InstrumentId(0);
pub(super) const MIN: i64 = 60_000_000_000;
/// 2024-01-02 14:30 UTC = 09:30 New York.
pub(super) const T0: i64 = 1_704_205_800_000_000_000;

pub(super) fn bar(k: i64, o: f64, h: f64, l: f64, c: f64) -> Bar {
    Bar {
        instrument: I,
        ts: T0 + k * MIN,
        ts_end: T0 + (k + 1) * MIN,
        open: o,
        high: h,
        low: l,
        close: c,
        volume: 1000.0,
    }
}

pub(super) fn broker(cfg: BrokerConfig) -> SimBroker {
    SimBroker::new(cfg, &[Instrument::stock("SPY")])
}

pub(super) fn no_cost() -> BrokerConfig {
    BrokerConfig {
        commission: CommissionModel::None,
        ..BrokerConfig::default()
    }
}

pub(super) fn submit(b: &mut SimBroker, id: u64, request: OrderRequest) {
    b.send(ExecCommand::Submit {
        order_id: OrderId(id),
        client_order_id: ClientOrderId::with_number("T", id),
        request,
    });
}

pub(super) fn events(b: &mut SimBroker) -> Vec<ExecEvent> {
    let mut v = Vec::new();
    b.poll(&mut v);
    v
}

pub(super) fn fills(ev: &[ExecEvent]) -> Vec<(Decimal, Decimal, Ts)> {
    ev.iter()
        .filter_map(|e| match e {
            ExecEvent::Filled(f) => Some((f.quantity, f.price, f.ts)),
            _ => None,
        })
        .collect()
}

#[test]
fn market_fills_at_next_open_by_default() {
    let mut b = broker(no_cost());
    b.on_bar(&bar(0, 100.0, 101.0, 99.0, 100.5));
    submit(&mut b, 1, OrderRequest::market(I, Side::Buy, dec!(10)));
    let ev = events(&mut b);
    assert!(matches!(ev[0], ExecEvent::Accepted { .. }));
    assert!(fills(&ev).is_empty(), "nothing fills on the signal bar");
    b.on_bar(&bar(1, 100.7, 101.0, 100.0, 100.2));
    assert_eq!(
        fills(&events(&mut b)),
        vec![(dec!(10), dec!(100.70), T0 + MIN)]
    );
    assert_eq!(b.working_orders(), 0);
}

#[test]
fn slipped_market_fill_at_the_open_keeps_the_open_time() {
    let mut b = broker(BrokerConfig {
        slippage_bps: dec!(10),
        ..no_cost()
    });
    b.on_bar(&bar(0, 100.0, 101.0, 99.0, 100.5));
    submit(&mut b, 1, OrderRequest::market(I, Side::Sell, dec!(10)));
    events(&mut b);
    b.on_bar(&bar(1, 100.0, 101.0, 99.0, 100.2));
    // 100 − 10 bps = 99.90, stamped at the open of bar 1.
    assert_eq!(
        fills(&events(&mut b)),
        vec![(dec!(10), dec!(99.90), T0 + MIN)]
    );
}

#[test]
fn market_fills_at_signal_close_in_close_mode_with_slippage() {
    let mut b = broker(BrokerConfig {
        fill: FillMode::Close,
        slippage_bps: dec!(10),
        ..no_cost()
    });
    b.on_bar(&bar(0, 100.0, 101.0, 99.0, 100.5));
    submit(&mut b, 1, OrderRequest::market(I, Side::Buy, dec!(10)));
    // 100.5 + 10 bps = 100.6005 → 100.61 (adverse rounding), inside the bar's range.
    assert_eq!(
        fills(&events(&mut b)),
        vec![(dec!(10), dec!(100.61), T0 + MIN)]
    );
}

#[test]
fn limit_waits_then_fills_at_limit() {
    let mut b = broker(no_cost());
    b.on_bar(&bar(0, 100.0, 101.0, 99.0, 100.0));
    submit(
        &mut b,
        1,
        OrderRequest::limit(I, Side::Buy, dec!(5), dec!(98.5)).with_tif(TimeInForce::Gtc),
    );
    events(&mut b);
    b.on_bar(&bar(1, 100.0, 100.5, 99.0, 99.5));
    assert!(fills(&events(&mut b)).is_empty());
    b.on_bar(&bar(2, 99.5, 99.6, 98.0, 98.2));
    assert_eq!(
        fills(&events(&mut b)),
        vec![(dec!(5), dec!(98.5), T0 + 3 * MIN)]
    );
}

#[test]
fn stop_gap_fills_at_open() {
    let mut b = broker(no_cost());
    b.on_bar(&bar(0, 100.0, 101.0, 99.0, 100.0));
    submit(
        &mut b,
        1,
        OrderRequest::stop(I, Side::Sell, dec!(5), dec!(99)),
    );
    events(&mut b);
    b.on_bar(&bar(1, 97.0, 98.0, 96.5, 97.5));
    assert_eq!(
        fills(&events(&mut b)),
        vec![(dec!(5), dec!(97.00), T0 + MIN)]
    );
}

#[test]
fn ioc_remainder_is_cancelled_after_first_bar() {
    let mut b = broker(no_cost());
    b.on_bar(&bar(0, 100.0, 101.0, 99.0, 100.0));
    submit(
        &mut b,
        1,
        OrderRequest::limit(I, Side::Buy, dec!(5), dec!(90)).with_tif(TimeInForce::Ioc),
    );
    events(&mut b);
    b.on_bar(&bar(1, 100.0, 101.0, 99.0, 100.0));
    let ev = events(&mut b);
    assert!(matches!(&ev[0], ExecEvent::Cancelled { reason: Some(r), .. } if r.contains("IOC")));
    assert_eq!(b.working_orders(), 0);
}

#[test]
fn day_order_expires_at_end_of_exchange_day() {
    let mut b = broker(no_cost());
    b.on_bar(&bar(0, 100.0, 101.0, 99.0, 100.0));
    submit(
        &mut b,
        1,
        OrderRequest::limit(I, Side::Buy, dec!(5), dec!(90)),
    );
    events(&mut b);
    b.on_bar(&bar(1, 100.0, 101.0, 99.0, 100.0));
    b.on_bar(&bar(389, 100.0, 101.0, 99.0, 100.0)); // 15:59 same day
    assert!(events(&mut b).is_empty());
    b.on_bar(&bar(24 * 60, 100.0, 101.0, 99.0, 100.0)); // next day 09:30
    assert!(matches!(events(&mut b)[0], ExecEvent::Expired { .. }));
    // A DAY order submitted on the last bar of a day trades the next session first.
    submit(&mut b, 2, OrderRequest::market(I, Side::Buy, dec!(1)));
    events(&mut b);
    b.on_bar(&bar(24 * 60 + 1, 101.0, 101.0, 99.0, 100.0));
    assert_eq!(fills(&events(&mut b)).len(), 1);
}

#[test]
fn volume_participation_gives_partial_fills() {
    let mut b = broker(BrokerConfig {
        max_volume_participation: Some(0.1),
        ..no_cost()
    });
    b.on_bar(&bar(0, 100.0, 101.0, 99.0, 100.0));
    submit(
        &mut b,
        1,
        OrderRequest::market(I, Side::Buy, dec!(250)).with_tif(TimeInForce::Gtc),
    );
    events(&mut b);
    for k in 1..=3 {
        b.on_bar(&bar(k, 100.0 + k as f64, 105.0, 99.0, 100.0));
    }
    let f = fills(&events(&mut b));
    assert_eq!(
        f.iter().map(|x| (x.0, x.1)).collect::<Vec<_>>(),
        vec![
            (dec!(100), dec!(101.00)),
            (dec!(100), dec!(102.00)),
            (dec!(50), dec!(103.00))
        ]
    );
}

#[test]
fn ibkr_commission_charged_per_order() {
    let mut b = broker(BrokerConfig::default());
    b.on_bar(&bar(0, 100.0, 101.0, 99.0, 100.0));
    submit(&mut b, 1, OrderRequest::market(I, Side::Buy, dec!(100)));
    submit(&mut b, 2, OrderRequest::market(I, Side::Buy, dec!(1000)));
    b.on_bar(&bar(1, 100.0, 101.0, 99.0, 100.0));
    let c: Vec<Decimal> = events(&mut b)
        .iter()
        .filter_map(|e| match e {
            ExecEvent::Filled(f) => Some(f.commission),
            _ => None,
        })
        .collect();
    assert_eq!(c, vec![dec!(1), dec!(5)]);
}

fn prompt_cfg() -> BrokerConfig {
    BrokerConfig {
        prompts: vec![
            PromptRule {
                message_id: "o10151".into(),
                when: PromptTrigger::MarketOrder,
                threshold: None,
                text: None,
            },
            PromptRule {
                message_id: "o383".into(),
                when: PromptTrigger::QuantityAbove,
                threshold: Some(dec!(50)),
                text: None,
            },
        ],
        ..no_cost()
    }
}

fn reply_id(ev: &[ExecEvent]) -> (String, Vec<String>) {
    match ev.last() {
        Some(ExecEvent::Prompt { prompt, .. }) => {
            (prompt.reply_id.clone(), prompt.message_ids.clone())
        }
        other => panic!("expected a prompt, got {other:?}"),
    }
}

#[test]
fn chained_prompts_then_accept() {
    let mut b = broker(prompt_cfg());
    b.on_bar(&bar(0, 100.0, 101.0, 99.0, 100.0));
    submit(&mut b, 1, OrderRequest::market(I, Side::Buy, dec!(100)));
    let (r1, ids) = reply_id(&events(&mut b));
    assert_eq!(ids, vec!["o10151"]);
    b.send(ExecCommand::ReplyPrompt {
        order_id: OrderId(1),
        reply_id: r1.clone(),
        confirmed: true,
    });
    let (r2, ids) = reply_id(&events(&mut b));
    assert_eq!(ids, vec!["o383"]);
    assert_ne!(r1, r2);
    // The first reply id is spent.
    b.send(ExecCommand::ReplyPrompt {
        order_id: OrderId(1),
        reply_id: r1,
        confirmed: true,
    });
    assert!(
        matches!(&events(&mut b)[0], ExecEvent::Rejected { reason, .. } if reason.contains("reply id not found"))
    );
    b.send(ExecCommand::ReplyPrompt {
        order_id: OrderId(1),
        reply_id: r2,
        confirmed: true,
    });
    assert!(matches!(events(&mut b)[0], ExecEvent::Accepted { .. }));
}

#[test]
fn declined_prompt_rejects_and_suppression_skips() {
    let mut b = broker(prompt_cfg());
    b.on_bar(&bar(0, 100.0, 101.0, 99.0, 100.0));
    submit(&mut b, 1, OrderRequest::market(I, Side::Buy, dec!(10)));
    let (r, _) = reply_id(&events(&mut b));
    b.send(ExecCommand::ReplyPrompt {
        order_id: OrderId(1),
        reply_id: r,
        confirmed: false,
    });
    assert!(
        matches!(&events(&mut b)[0], ExecEvent::Rejected { reason, .. } if reason == "Order not confirmed")
    );
    b.send(ExecCommand::SuppressQuestions {
        message_ids: vec!["o10151".into()],
    });
    submit(&mut b, 2, OrderRequest::market(I, Side::Buy, dec!(10)));
    assert!(matches!(events(&mut b)[0], ExecEvent::Accepted { .. }));
}

#[test]
fn cancel_and_modify() {
    let mut b = broker(no_cost());
    b.on_bar(&bar(0, 100.0, 101.0, 99.0, 100.0));
    submit(
        &mut b,
        1,
        OrderRequest::limit(I, Side::Buy, dec!(5), dec!(95)).with_tif(TimeInForce::Gtc),
    );
    events(&mut b);
    let new = OrderRequest::limit(I, Side::Buy, dec!(5), dec!(99.5)).with_tif(TimeInForce::Gtc);
    b.send(ExecCommand::Modify {
        order_id: OrderId(1),
        request: new,
    });
    assert!(matches!(events(&mut b)[0], ExecEvent::Modified { .. }));
    b.on_bar(&bar(1, 100.0, 101.0, 99.0, 100.0));
    assert_eq!(
        fills(&events(&mut b)),
        vec![(dec!(5), dec!(99.5), T0 + 2 * MIN)]
    );
    b.send(ExecCommand::Cancel {
        order_id: OrderId(1),
    });
    assert!(matches!(
        events(&mut b)[0],
        ExecEvent::CancelRejected { .. }
    ));
    submit(
        &mut b,
        2,
        OrderRequest::limit(I, Side::Sell, dec!(5), dec!(120)).with_tif(TimeInForce::Gtc),
    );
    events(&mut b);
    b.send(ExecCommand::Cancel {
        order_id: OrderId(2),
    });
    assert!(matches!(events(&mut b)[0], ExecEvent::Cancelled { .. }));
    assert_eq!(b.working_orders(), 0);
}
