//! Fill-rule tables for the order types beyond the classic four (trailing stops, on-close,
//! OPG, MIDPRICE) and for order groups (brackets, OCA), plus property tests of the bracket
//! invariants.

use proptest::prelude::*;
use rust_decimal::dec;

use super::tests::{I, MIN, T0, bar, broker, events, fills, no_cost, submit};
use super::*;
use tickline_engine::domain::Trail;

const DAY: i64 = 86_400_000_000_000;

fn cancelled(ev: &[ExecEvent]) -> Vec<(u64, Option<String>)> {
    ev.iter()
        .filter_map(|e| match e {
            ExecEvent::Cancelled {
                order_id, reason, ..
            } => Some((order_id.0, reason.clone())),
            _ => None,
        })
        .collect()
}

fn fills_of(ev: &[ExecEvent]) -> Vec<(u64, Decimal, Decimal)> {
    ev.iter()
        .filter_map(|e| match e {
            ExecEvent::Filled(f) => Some((f.order_id.0, f.quantity, f.price)),
            _ => None,
        })
        .collect()
}

/// A bar on day `d` (0 = 2024-01-02), minute `k` after 09:30 New York.
fn day_bar(d: i64, k: i64, o: f64, h: f64, l: f64, c: f64) -> Bar {
    let mut b = bar(k, o, h, l, c);
    b.ts += d * DAY;
    b.ts_end += d * DAY;
    b
}

fn exit(mut r: OrderRequest, parent: u64, group: Option<u64>) -> OrderRequest {
    r.parent = Some(OrderId(parent));
    r.oca_group = group.map(OrderId);
    r.with_tif(TimeInForce::Gtc)
}

/// Long bracket: market buy 10 (id 1), take profit (2) and stop loss (3) in OCA group 1.
fn long_bracket(b: &mut SimBroker, entry: OrderRequest, tp: Decimal, sl: Decimal) {
    submit(b, 1, entry);
    submit(
        b,
        2,
        exit(
            OrderRequest::limit(I, Side::Sell, entry.quantity, tp),
            1,
            Some(1),
        ),
    );
    submit(
        b,
        3,
        exit(
            OrderRequest::stop(I, Side::Sell, entry.quantity, sl),
            1,
            Some(1),
        ),
    );
}

// ---- trailing stops ----------------------------------------------------------------------

/// (trail, initial stop, side, bars as OHLC, expected fill (bar index, price) or None,
/// stop after the last bar). The first bar is the one after submission.
type TrailCase = (
    Trail,
    Option<Decimal>,
    Side,
    &'static [(f64, f64, f64, f64)],
    Option<(usize, Decimal)>,
);

#[test]
fn trailing_stop_rule_table() {
    let cases: &[(&str, TrailCase)] = &[
        (
            // Path 100 → 99.5 (nearer) → 102 → 101: the stop starts at 99, follows the
            // rise to 101 and is hit on the last leg.
            "sell: follows the rise, hit on the way back",
            (
                Trail::Amount(dec!(1)),
                None,
                Side::Sell,
                &[(100.0, 102.0, 99.5, 101.0)],
                Some((0, dec!(101))),
            ),
        ),
        (
            "sell: the stop never moves back; a gap below it fills at the open",
            (
                Trail::Amount(dec!(1)),
                None,
                Side::Sell,
                &[(100.0, 103.0, 99.8, 102.5), (101.0, 101.5, 100.0, 100.5)],
                // bar 0: stop 99 → 102 on the rise to 103; the close 102.5 stays above.
                // bar 1 opens at 101 < 102: fills at the open.
                Some((1, dec!(101))),
            ),
        ),
        (
            "sell: percent trail (2 % of 100 = 2)",
            (
                Trail::Percent(dec!(2)),
                None,
                Side::Sell,
                &[(100.0, 100.5, 97.5, 98.0)],
                // path 100 → 100.5 → 97.5: stop 98 → 98.49 (100.5 · 0.98 = 98.49), hit.
                Some((0, dec!(98.49))),
            ),
        ),
        (
            "sell: an initial stop below the trail distance is tightened",
            (
                Trail::Amount(dec!(1)),
                Some(dec!(95)),
                Side::Sell,
                // path 100 → 100.2 (nearer) → 98.9: max(95, 99) = 99 → 99.2 on the rise.
                &[(100.0, 100.2, 98.9, 99.0)],
                Some((0, dec!(99.2))),
            ),
        ),
        (
            "sell: a looser-than-market initial stop above the price triggers at once",
            (
                Trail::Amount(dec!(1)),
                Some(dec!(100.5)),
                Side::Sell,
                &[(100.0, 100.2, 99.9, 100.1)],
                Some((0, dec!(100))),
            ),
        ),
        (
            "buy (covering a short): follows the fall, hit on the bounce",
            (
                Trail::Amount(dec!(1)),
                None,
                Side::Buy,
                &[(100.0, 100.5, 97.0, 98.5)],
                // path 100 → 100.5 (nearer) → 97 → 98.5: stop 101 → 98 on the fall, hit
                // at 98 on the way to 98.5.
                Some((0, dec!(98))),
            ),
        ),
        (
            "no trigger: stays working",
            (
                Trail::Amount(dec!(3)),
                None,
                Side::Sell,
                &[(100.0, 101.0, 99.0, 100.5), (100.5, 101.5, 100.0, 101.2)],
                None,
            ),
        ),
    ];
    for (name, (trail, initial, side, bars, want)) in cases {
        let mut b = broker(no_cost());
        b.on_bar(&bar(0, 100.0, 100.0, 100.0, 100.0));
        let mut r =
            OrderRequest::trailing_stop(I, *side, dec!(10), *trail).with_tif(TimeInForce::Gtc);
        r.stop_price = *initial;
        submit(&mut b, 1, r);
        events(&mut b);
        let mut got = None;
        for (k, (o, h, l, c)) in bars.iter().enumerate() {
            b.on_bar(&bar(1 + k as i64, *o, *h, *l, *c));
            if let Some((_, _, p)) = fills_of(&events(&mut b)).first() {
                got.get_or_insert((k, *p));
            }
        }
        assert_eq!(got, *want, "{name}");
        assert_eq!(b.working_orders(), usize::from(want.is_none()), "{name}");
    }
}

#[test]
fn trailing_stop_limit_becomes_a_limit_offset_from_its_stop() {
    // Sell, trail 1, offset 0.5. Bar 1 gaps to 97 below the stop of 99: triggered at the
    // open, limit 98.5; the bar only reaches 98.2, so it stays a working limit.
    let mut b = broker(no_cost());
    b.on_bar(&bar(0, 100.0, 100.0, 100.0, 100.0));
    let r = OrderRequest::trailing_stop_limit(
        I,
        Side::Sell,
        dec!(10),
        Trail::Amount(dec!(1)),
        dec!(0.5),
    )
    .with_stop(dec!(99))
    .with_tif(TimeInForce::Gtc);
    submit(&mut b, 1, r);
    events(&mut b);
    b.on_bar(&bar(1, 97.0, 98.2, 96.5, 98.0));
    assert!(fills(&events(&mut b)).is_empty());
    assert_eq!(b.working_orders(), 1);
    // Bar 2 rallies through 98.5: the limit fills there, not at a new trailing level.
    b.on_bar(&bar(2, 98.0, 99.5, 97.9, 99.0));
    assert_eq!(fills_of(&events(&mut b)), vec![(1, dec!(10), dec!(98.5))]);
    // Without a gap the trigger fills at the stop itself (it meets its own limit).
    let mut b = broker(no_cost());
    b.on_bar(&bar(0, 100.0, 100.0, 100.0, 100.0));
    submit(
        &mut b,
        1,
        OrderRequest::trailing_stop_limit(
            I,
            Side::Sell,
            dec!(10),
            Trail::Amount(dec!(1)),
            dec!(0.5),
        ),
    );
    events(&mut b);
    // Path 100 → 100.1 (nearer) → 98: the stop rises to 99.1, triggers there, limit 98.6.
    b.on_bar(&bar(1, 100.0, 100.1, 98.0, 98.5));
    assert_eq!(fills_of(&events(&mut b)), vec![(1, dec!(10), dec!(99.1))]);
}

#[test]
fn trailing_stop_slips_like_a_stop() {
    let mut b = broker(BrokerConfig {
        slippage_ticks: dec!(2),
        ..no_cost()
    });
    b.on_bar(&bar(0, 100.0, 100.0, 100.0, 100.0));
    submit(
        &mut b,
        1,
        OrderRequest::trailing_stop(I, Side::Sell, dec!(10), Trail::Amount(dec!(1))),
    );
    events(&mut b);
    // Triggered at 99.1 (see above), two ticks of slippage down.
    b.on_bar(&bar(1, 100.0, 100.1, 98.0, 98.5));
    assert_eq!(fills_of(&events(&mut b)), vec![(1, dec!(10), dec!(99.08))]);
}

// ---- on-close, OPG, MIDPRICE ------------------------------------------------------------

#[test]
fn market_on_close_trades_at_the_last_close_of_its_day() {
    let mut b = broker(no_cost());
    b.on_bar(&day_bar(0, 0, 100.0, 100.5, 99.5, 100.0));
    submit(
        &mut b,
        1,
        OrderRequest::market_on_close(I, Side::Buy, dec!(10)),
    );
    events(&mut b);
    b.on_bar(&day_bar(0, 1, 100.0, 101.0, 99.0, 100.4));
    b.on_bar(&day_bar(0, 2, 100.4, 101.0, 99.0, 100.8));
    assert!(
        fills(&events(&mut b)).is_empty(),
        "nothing before the close"
    );
    // The next day's first bar: the auction of day 0 at its last close, stamped then.
    b.on_bar(&day_bar(1, 0, 103.0, 104.0, 102.0, 103.5));
    assert_eq!(
        fills(&events(&mut b)),
        vec![(dec!(10), dec!(100.8), T0 + 3 * MIN)]
    );
    assert_eq!(b.working_orders(), 0);
}

#[test]
fn limit_on_close_fills_only_if_the_close_meets_the_limit() {
    for (limit, want_fill) in [
        (dec!(100.8), true),
        (dec!(100.9), true),
        (dec!(100.7), false),
    ] {
        let mut b = broker(no_cost());
        b.on_bar(&day_bar(0, 0, 100.0, 100.5, 99.5, 100.0));
        submit(
            &mut b,
            1,
            OrderRequest::limit_on_close(I, Side::Buy, dec!(10), limit),
        );
        events(&mut b);
        b.on_bar(&day_bar(0, 1, 100.4, 101.0, 99.0, 100.8));
        b.on_bar(&day_bar(1, 0, 103.0, 104.0, 102.0, 103.5));
        let ev = events(&mut b);
        if want_fill {
            assert_eq!(
                fills_of(&ev),
                vec![(1, dec!(10), dec!(100.8))],
                "limit {limit}"
            );
        } else {
            assert!(fills(&ev).is_empty(), "limit {limit}");
            assert_eq!(
                cancelled(&ev),
                vec![(1, Some("not filled in the closing auction".into()))]
            );
        }
        assert_eq!(b.working_orders(), 0);
    }
}

#[test]
fn opg_trades_only_at_the_next_days_open() {
    // Submitted mid-day: the rest of the day does not fill it, the next open does.
    let mut b = broker(no_cost());
    b.on_bar(&day_bar(0, 0, 100.0, 100.5, 99.5, 100.0));
    submit(
        &mut b,
        1,
        OrderRequest::market(I, Side::Buy, dec!(10)).with_tif(TimeInForce::Opg),
    );
    events(&mut b);
    b.on_bar(&day_bar(0, 1, 100.0, 101.0, 99.0, 100.4));
    assert!(fills(&events(&mut b)).is_empty());
    b.on_bar(&day_bar(1, 0, 102.0, 103.0, 101.0, 102.5));
    assert_eq!(
        fills(&events(&mut b)),
        vec![(dec!(10), dec!(102), T0 + DAY)]
    );
    // A limit that the open does not meet is cancelled, even if the bar reaches it later.
    let mut b = broker(no_cost());
    b.on_bar(&day_bar(0, 0, 100.0, 100.5, 99.5, 100.0));
    submit(
        &mut b,
        1,
        OrderRequest::limit(I, Side::Buy, dec!(10), dec!(101.5)).with_tif(TimeInForce::Opg),
    );
    events(&mut b);
    b.on_bar(&day_bar(1, 0, 102.0, 103.0, 101.0, 102.5));
    let ev = events(&mut b);
    assert!(fills(&ev).is_empty());
    assert_eq!(
        cancelled(&ev),
        vec![(1, Some("OPG order not filled at the opening".into()))]
    );
    assert_eq!(b.working_orders(), 0);
}

#[test]
fn midprice_fills_without_slippage_and_respects_its_cap() {
    let cfg = BrokerConfig {
        slippage_bps: dec!(10),
        ..no_cost()
    };
    let mut b = broker(cfg.clone());
    b.on_bar(&bar(0, 100.0, 100.0, 100.0, 100.0));
    submit(
        &mut b,
        1,
        OrderRequest::mid_price(I, Side::Buy, dec!(10), None),
    );
    events(&mut b);
    b.on_bar(&bar(1, 100.0, 101.0, 99.0, 100.5));
    assert_eq!(fills_of(&events(&mut b)), vec![(1, dec!(10), dec!(100))]);
    // Capped at 99.5: the open is above it, the path reaches it on the way down.
    let mut b = broker(cfg);
    b.on_bar(&bar(0, 100.0, 100.0, 100.0, 100.0));
    submit(
        &mut b,
        1,
        OrderRequest::mid_price(I, Side::Buy, dec!(10), Some(dec!(99.5))),
    );
    events(&mut b);
    b.on_bar(&bar(1, 100.0, 100.2, 99.0, 99.8));
    assert_eq!(fills_of(&events(&mut b)), vec![(1, dec!(10), dec!(99.5))]);
}

// ---- brackets and OCA -------------------------------------------------------------------

#[test]
fn bracket_exits_wait_for_the_parent_then_one_cancels_the_other() {
    let mut b = broker(no_cost());
    b.on_bar(&bar(0, 100.0, 100.0, 100.0, 100.0));
    long_bracket(
        &mut b,
        OrderRequest::market(I, Side::Buy, dec!(10)),
        dec!(103),
        dec!(98),
    );
    let ev = events(&mut b);
    assert_eq!(
        ev.iter()
            .filter(|e| matches!(e, ExecEvent::Accepted { .. }))
            .count(),
        3
    );
    // Bar 1: the entry fills at the open; neither exit is reached.
    b.on_bar(&bar(1, 100.0, 101.0, 99.0, 100.5));
    assert_eq!(fills_of(&events(&mut b)), vec![(1, dec!(10), dec!(100))]);
    assert_eq!(b.working_orders(), 2);
    // Bar 2 reaches the take profit: the stop is cancelled by the group.
    b.on_bar(&bar(2, 100.5, 103.5, 100.0, 103.0));
    let ev = events(&mut b);
    assert_eq!(fills_of(&ev), vec![(2, dec!(10), dec!(103))]);
    assert_eq!(
        cancelled(&ev),
        vec![(3, Some("OCA group: filled by another member".into()))]
    );
    assert_eq!(b.working_orders(), 0);
}

/// (entry limit, take profit, stop loss, the bar, expected fills (order, price)). The entry
/// is a buy of 10; the bar is the one after submission.
type BracketCase = (
    Option<Decimal>,
    Decimal,
    Decimal,
    (f64, f64, f64, f64),
    Vec<(u64, Decimal)>,
);

#[test]
fn bracket_tie_rule_table_the_path_decides() {
    let cases: Vec<(&str, BracketCase)> = vec![
        (
            // O 100, H 104 (4 away), L 97 (3 away): the low comes first → the stop wins.
            "both exits reachable: the nearer extreme first (low) → stop loss",
            (
                None,
                dec!(103),
                dec!(98),
                (100.0, 104.0, 97.0, 101.0),
                vec![(1, dec!(100)), (3, dec!(98))],
            ),
        ),
        (
            // H 103.2 (3.2 away) before L 96 (4 away) → the take profit wins.
            "both exits reachable: high first → take profit",
            (
                None,
                dec!(103),
                dec!(98),
                (100.0, 103.2, 96.0, 97.0),
                vec![(1, dec!(100)), (2, dec!(103))],
            ),
        ),
        (
            // Entry limit 99 fills on the way down to 98.5 (low first); the rise to 103.5
            // then takes the profit on the same bar.
            "entry and take profit on one bar",
            (
                Some(dec!(99)),
                dec!(103),
                dec!(98),
                (100.0, 103.5, 98.5, 103.0),
                vec![(1, dec!(99)), (2, dec!(103))],
            ),
        ),
        (
            // Entry at 99 on the way down, the stop at 98.7 further down the same leg.
            "entry and stop loss on one leg",
            (
                Some(dec!(99)),
                dec!(103),
                dec!(98.7),
                (100.0, 103.5, 98.5, 103.0),
                vec![(1, dec!(99)), (3, dec!(98.7))],
            ),
        ),
        (
            // An exit is not active before its parent fills: the path passes the take
            // profit (100.2, on the way to the high) before the entry (97) and must not
            // fill it there.
            "exits never fill before the entry",
            (
                Some(dec!(97)),
                dec!(100.2),
                dec!(96),
                (100.0, 100.5, 96.5, 97.5),
                vec![(1, dec!(97))],
            ),
        ),
    ];
    for (name, (entry, tp, sl, (o, h, l, c), want)) in &cases {
        let mut b = broker(no_cost());
        b.on_bar(&bar(0, 100.0, 100.0, 100.0, 100.0));
        let e = match entry {
            None => OrderRequest::market(I, Side::Buy, dec!(10)),
            Some(p) => OrderRequest::limit(I, Side::Buy, dec!(10), *p).with_tif(TimeInForce::Gtc),
        };
        long_bracket(&mut b, e, *tp, *sl);
        events(&mut b);
        b.on_bar(&bar(1, *o, *h, *l, *c));
        let got: Vec<(u64, Decimal)> = fills_of(&events(&mut b))
            .into_iter()
            .map(|(id, _, p)| (id, p))
            .collect();
        assert_eq!(&got, want, "{name}");
        let open_exits = if want.len() == 2 { 0 } else { 2 };
        assert_eq!(b.working_orders(), open_exits, "{name}");
    }
}

#[test]
fn a_parent_that_ends_unfilled_cancels_its_exits() {
    let mut b = broker(no_cost());
    b.on_bar(&bar(0, 100.0, 100.0, 100.0, 100.0));
    long_bracket(
        &mut b,
        OrderRequest::limit(I, Side::Buy, dec!(10), dec!(95)).with_tif(TimeInForce::Gtc),
        dec!(103),
        dec!(90),
    );
    events(&mut b);
    b.send(ExecCommand::Cancel {
        order_id: OrderId(1),
    });
    let ev = events(&mut b);
    assert_eq!(
        cancelled(&ev),
        vec![
            (1, None),
            (2, Some("bracket parent ended without a fill".into())),
            (3, Some("bracket parent ended without a fill".into())),
        ]
    );
    assert_eq!(b.working_orders(), 0);
}

#[test]
fn a_partly_filled_parent_leaves_exits_sized_by_its_fill() {
    // 5 % of 100 volume per bar = 5 of the 10.
    let mut b = broker(BrokerConfig {
        max_volume_participation: Some(0.05),
        ..no_cost()
    });
    let thin = |k: i64, o: f64, h: f64, l: f64, c: f64| Bar {
        volume: 100.0,
        ..bar(k, o, h, l, c)
    };
    b.on_bar(&thin(0, 100.0, 100.0, 100.0, 100.0));
    long_bracket(
        &mut b,
        OrderRequest::limit(I, Side::Buy, dec!(10), dec!(100)).with_tif(TimeInForce::Gtc),
        dec!(103),
        dec!(95),
    );
    events(&mut b);
    b.on_bar(&thin(1, 100.0, 100.5, 99.5, 100.0));
    assert_eq!(fills_of(&events(&mut b)), vec![(1, dec!(5), dec!(100))]);
    // The rest of the entry is cancelled: the exits keep protecting the 5 bought.
    b.send(ExecCommand::Cancel {
        order_id: OrderId(1),
    });
    assert_eq!(cancelled(&events(&mut b)), vec![(1, None)]);
    assert_eq!(b.working_orders(), 2);
    b.on_bar(&thin(2, 100.0, 100.2, 94.0, 94.5));
    let ev = events(&mut b);
    assert_eq!(fills_of(&ev), vec![(3, dec!(5), dec!(95))]);
    assert_eq!(
        cancelled(&ev),
        vec![
            (2, Some("OCA group: filled by another member".into())),
            (
                3,
                Some("nothing left to close: the parent filled less".into())
            ),
        ]
    );
    assert_eq!(b.working_orders(), 0);
}

#[test]
fn exits_of_a_declined_or_unknown_parent_do_not_work() {
    let mut b = broker(no_cost());
    b.on_bar(&bar(0, 100.0, 100.0, 100.0, 100.0));
    submit(
        &mut b,
        2,
        exit(
            OrderRequest::stop(I, Side::Sell, dec!(10), dec!(95)),
            1,
            None,
        ),
    );
    let ev = events(&mut b);
    assert!(
        matches!(&ev[..], [ExecEvent::Rejected { order_id: OrderId(2), reason, .. }] if reason.contains("bracket parent 1")),
        "{ev:?}"
    );
}

#[test]
fn a_bracket_after_a_close_mode_fill_gets_the_parents_quantity() {
    let mut b = broker(BrokerConfig {
        fill: FillMode::Close,
        ..no_cost()
    });
    b.on_bar(&bar(0, 100.0, 100.5, 99.5, 100.0));
    long_bracket(
        &mut b,
        OrderRequest::market(I, Side::Buy, dec!(10)),
        dec!(103),
        dec!(98),
    );
    assert_eq!(fills_of(&events(&mut b)), vec![(1, dec!(10), dec!(100))]);
    assert_eq!(b.working_orders(), 2);
    b.on_bar(&bar(1, 100.0, 100.2, 97.0, 97.5));
    assert_eq!(fills_of(&events(&mut b)), vec![(3, dec!(10), dec!(98))]);
    assert_eq!(b.working_orders(), 0);
}

#[test]
fn oca_entries_one_fills_the_other_is_cancelled() {
    let mut b = broker(no_cost());
    b.on_bar(&bar(0, 100.0, 100.0, 100.0, 100.0));
    // Breakout either way: buy stop 102, sell stop 98, one group (named 1).
    let mut up = OrderRequest::stop(I, Side::Buy, dec!(10), dec!(102)).with_tif(TimeInForce::Gtc);
    up.oca_group = Some(OrderId(1));
    let mut down = OrderRequest::stop(I, Side::Sell, dec!(10), dec!(98)).with_tif(TimeInForce::Gtc);
    down.oca_group = Some(OrderId(1));
    submit(&mut b, 1, up);
    submit(&mut b, 2, down);
    events(&mut b);
    b.on_bar(&bar(1, 100.0, 102.5, 97.0, 97.5)); // high first (2.5 vs 3)
    let ev = events(&mut b);
    assert_eq!(fills_of(&ev), vec![(1, dec!(10), dec!(102))]);
    assert_eq!(
        cancelled(&ev),
        vec![(2, Some("OCA group: filled by another member".into()))]
    );
}

proptest! {
    /// Over random bars, entries, exits and volume caps a bracket never lets the position
    /// exceed the parent's quantity or go short, its exits together never sell more than the
    /// parent bought, and once the position is closed and the parent done no exit works.
    #[test]
    fn brackets_keep_their_invariants(
        moves in proptest::collection::vec((-150i32..150, 0u32..120, 0u32..120, -100i32..100), 4..40),
        entry_off in -100i32..50,
        tp_off in 20u32..300,
        sl_off in 20u32..300,
        participation in prop_oneof![Just(None), (1u32..30).prop_map(|p| Some(p as f64 / 100.0))],
        qty in 1u32..40,
        cancel_at in proptest::option::of(0usize..40),
    ) {
        let mut b = broker(BrokerConfig { max_volume_participation: participation, ..no_cost() });
        let mut px = 10_000i64; // in cents
        b.on_bar(&bar(0, 100.0, 100.0, 100.0, 100.0));
        let cents = |c: i64| Decimal::new(c, 2);
        let q = Decimal::from(qty);
        let entry = if entry_off >= 0 {
            OrderRequest::market(I, Side::Buy, q)
        } else {
            OrderRequest::limit(I, Side::Buy, q, cents(px + entry_off as i64)).with_tif(TimeInForce::Gtc)
        };
        long_bracket(&mut b, entry, cents(px + tp_off as i64), cents(px - sl_off as i64));
        let (mut bought, mut sold) = (Decimal::ZERO, Decimal::ZERO);
        let mut parent_done = false;
        let mut exits_done = 0;
        for (k, (mv, up, down, close)) in moves.iter().enumerate() {
            if cancel_at == Some(k) {
                b.send(ExecCommand::Cancel { order_id: OrderId(1) });
            }
            let open = px + *mv as i64;
            let high = open + *up as i64;
            let low = (open - *down as i64).max(1);
            let close = (low + ((*close as i64 + 100) * (high - low)) / 200).clamp(low, high);
            let mut bar = bar(1 + k as i64, open as f64 / 100.0, high as f64 / 100.0, low as f64 / 100.0, close as f64 / 100.0);
            bar.volume = 200.0;
            b.on_bar(&bar);
            px = close;
            for e in events(&mut b) {
                match e {
                    ExecEvent::Filled(f) if f.order_id == OrderId(1) => {
                        prop_assert!(!parent_done || bought < q);
                        bought += f.quantity;
                    }
                    ExecEvent::Filled(f) => sold += f.quantity,
                    ExecEvent::Cancelled { order_id: OrderId(1), .. } => parent_done = true,
                    ExecEvent::Cancelled { .. } => exits_done += 1,
                    _ => {}
                }
                prop_assert!(bought <= q, "position above the parent's quantity");
                prop_assert!(sold <= bought, "exits sold {} of {} bought", sold, bought);
            }
            if bought == q {
                parent_done = true;
            }
            if parent_done && sold == bought {
                prop_assert_eq!(b.working_orders(), 0, "an exit works with nothing to close");
            }
        }
        prop_assert!(exits_done <= 2);
    }
}

#[test]
fn raising_a_quantity_by_modify_lets_all_of_it_fill() {
    let mut b = broker(no_cost());
    b.on_bar(&bar(0, 100.0, 100.0, 100.0, 100.0));
    let r = OrderRequest::limit(I, Side::Buy, dec!(10), dec!(99)).with_tif(TimeInForce::Gtc);
    submit(&mut b, 1, r);
    b.send(ExecCommand::Modify {
        order_id: OrderId(1),
        request: OrderRequest {
            quantity: dec!(20),
            ..r
        },
    });
    events(&mut b);
    b.on_bar(&bar(1, 100.0, 100.2, 98.5, 99.0));
    assert_eq!(fills_of(&events(&mut b)), vec![(1, dec!(20), dec!(99))]);
    assert_eq!(b.working_orders(), 0);
}
