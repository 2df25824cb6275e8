use rust_decimal::dec;

use super::*;
use crate::domain::{Instrument, InstrumentId, OrderRequest, Side, TimeInForce, Trail};

fn ctx(inst: &Instrument) -> RiskContext<'_> {
    RiskContext {
        now: 1_000_000_000,
        instrument: inst,
        last_price: Some(dec!(100)),
        position: dec!(0),
        open_order_qty: dec!(0),
        open_orders: 0,
        gross_exposure: dec!(0),
        per_contract_margin: Decimal::ZERO,
        per_contract_exposure: Decimal::ZERO,
        equity: dec!(100000),
        parent: None,
    }
}

fn full_config() -> RiskConfig {
    RiskConfig {
        max_order_quantity: Some(dec!(500)),
        max_order_notional: Some(dec!(40000)),
        max_position: Some(dec!(600)),
        max_gross_exposure: Some(dec!(70000)),
        price_band_bps: Some(dec!(300)),
        max_open_orders: Some(3),
        max_orders_per_second: Some(100),
        max_daily_loss: None,
        max_drawdown: None,
        kill_switch_action: KillSwitchAction::Halt,
        account: None,
        initial_margin: None,
    }
}

const I: InstrumentId = InstrumentId(0);

fn exit_of(parent: u64, mut r: OrderRequest) -> OrderRequest {
    r.parent = Some(crate::domain::OrderId(parent));
    r
}

fn parent(side: Side, quantity: Decimal, alive: bool) -> ParentOrder {
    ParentOrder {
        instrument: I,
        side,
        quantity,
        alive,
    }
}

/// Each row: a request and context tweak, and the check that must refuse it (or None).
#[test]
fn table_of_refusals() {
    let inst = Instrument::stock("SPY");
    type Tweak = fn(&mut RiskContext<'_>);
    let none: Tweak = |_| {};
    let rows: Vec<(&str, OrderRequest, Tweak, Option<&str>)> = vec![
        (
            "ok market",
            OrderRequest::market(I, Side::Buy, dec!(100)),
            none,
            None,
        ),
        (
            "zero qty",
            OrderRequest::market(I, Side::Buy, dec!(0)),
            none,
            Some("validity"),
        ),
        (
            "fractional qty",
            OrderRequest::market(I, Side::Buy, dec!(1.5)),
            none,
            Some("validity"),
        ),
        (
            "limit without price",
            OrderRequest {
                limit_price: None,
                ..OrderRequest::limit(I, Side::Buy, dec!(1), dec!(1))
            },
            none,
            Some("validity"),
        ),
        (
            "too big",
            OrderRequest::market(I, Side::Buy, dec!(501)),
            none,
            Some("max_order_quantity"),
        ),
        (
            "too much notional",
            OrderRequest::limit(I, Side::Buy, dec!(450), dec!(100)),
            none,
            Some("max_order_notional"),
        ),
        (
            "outside band",
            OrderRequest::limit(I, Side::Buy, dec!(10), dec!(104)),
            none,
            Some("price_band"),
        ),
        (
            "inside band",
            OrderRequest::limit(I, Side::Buy, dec!(10), dec!(102.99)),
            none,
            None,
        ),
        (
            "position limit",
            OrderRequest::market(I, Side::Buy, dec!(200)),
            |c| c.position = dec!(450),
            Some("max_position"),
        ),
        (
            "reducing past the position limit is fine",
            OrderRequest::market(I, Side::Sell, dec!(200)),
            |c| c.position = dec!(700),
            None,
        ),
        (
            "working orders count toward position",
            OrderRequest::market(I, Side::Buy, dec!(200)),
            |c| c.open_order_qty = dec!(450),
            Some("max_position"),
        ),
        (
            "gross exposure",
            OrderRequest::market(I, Side::Buy, dec!(100)),
            |c| c.gross_exposure = dec!(65000),
            Some("max_gross_exposure"),
        ),
        (
            "open orders",
            OrderRequest::market(I, Side::Buy, dec!(1)),
            |c| c.open_orders = 3,
            Some("max_open_orders"),
        ),
        (
            "no price for notional",
            OrderRequest::market(I, Side::Buy, dec!(1)),
            |c| c.last_price = None,
            Some("max_order_notional"),
        ),
        (
            "trailing stop without a trail",
            OrderRequest {
                trail: None,
                ..OrderRequest::trailing_stop(I, Side::Sell, dec!(1), Trail::Amount(dec!(1)))
            },
            none,
            Some("validity"),
        ),
        (
            "trailing percent of 100 or more",
            OrderRequest::trailing_stop(I, Side::Sell, dec!(1), Trail::Percent(dec!(100))),
            none,
            Some("validity"),
        ),
        (
            "trailing stop-limit without an offset",
            OrderRequest {
                limit_offset: None,
                ..OrderRequest::trailing_stop_limit(
                    I,
                    Side::Sell,
                    dec!(1),
                    Trail::Amount(dec!(1)),
                    dec!(0.1),
                )
            },
            none,
            Some("validity"),
        ),
        (
            "ok trailing stop",
            OrderRequest::trailing_stop(I, Side::Sell, dec!(1), Trail::Percent(dec!(2))),
            none,
            None,
        ),
        (
            "limit on close without a limit",
            OrderRequest {
                limit_price: None,
                ..OrderRequest::limit_on_close(I, Side::Buy, dec!(1), dec!(100))
            },
            none,
            Some("validity"),
        ),
        (
            "OPG on a stop",
            OrderRequest::stop(I, Side::Buy, dec!(1), dec!(101)).with_tif(TimeInForce::Opg),
            none,
            Some("validity"),
        ),
        (
            "ok OPG limit",
            OrderRequest::limit(I, Side::Buy, dec!(1), dec!(100)).with_tif(TimeInForce::Opg),
            none,
            None,
        ),
        (
            "negative MIDPRICE cap",
            OrderRequest::mid_price(I, Side::Buy, dec!(1), Some(dec!(-1))),
            none,
            Some("validity"),
        ),
        (
            "bracket exit of an unknown parent",
            exit_of(7, OrderRequest::stop(I, Side::Sell, dec!(100), dec!(95))),
            none,
            Some("bracket"),
        ),
        (
            "bracket exit of a parent that ended unfilled",
            exit_of(7, OrderRequest::stop(I, Side::Sell, dec!(100), dec!(95))),
            |c| c.parent = Some(parent(Side::Buy, dec!(100), false)),
            Some("bracket"),
        ),
        (
            "bracket exit the same way as its parent",
            exit_of(7, OrderRequest::stop(I, Side::Buy, dec!(100), dec!(105))),
            |c| c.parent = Some(parent(Side::Buy, dec!(100), true)),
            Some("bracket"),
        ),
        (
            "bracket exit larger than its parent",
            exit_of(7, OrderRequest::stop(I, Side::Sell, dec!(101), dec!(95))),
            |c| c.parent = Some(parent(Side::Buy, dec!(100), true)),
            Some("bracket"),
        ),
        (
            // The exposure checks skip exits: the parent carried the bracket's exposure.
            "a bracket exit is one exposure with its parent",
            exit_of(7, OrderRequest::limit(I, Side::Sell, dec!(100), dec!(102))),
            |c| {
                c.parent = Some(parent(Side::Buy, dec!(100), true));
                c.position = dec!(-590);
                c.gross_exposure = dec!(69999);
            },
            None,
        ),
        (
            "a bracket exit still counts as an open order",
            exit_of(7, OrderRequest::limit(I, Side::Sell, dec!(100), dec!(102))),
            |c| {
                c.parent = Some(parent(Side::Buy, dec!(100), true));
                c.open_orders = 3;
            },
            Some("max_open_orders"),
        ),
        (
            "a bracket exit still meets the price band",
            exit_of(7, OrderRequest::limit(I, Side::Sell, dec!(100), dec!(120))),
            |c| c.parent = Some(parent(Side::Buy, dec!(100), true)),
            Some("price_band"),
        ),
    ];
    for (name, req, tweak, want) in rows {
        let mut chain = RiskChain::from_config(&full_config(), chrono_tz::UTC);
        let mut c = ctx(&inst);
        tweak(&mut c);
        let got = chain.check(req, &c).err().map(|r| r.check);
        assert_eq!(got, want, "case {name}");
    }
}

#[test]
fn order_rate_window_slides() {
    let inst = Instrument::stock("SPY");
    let cfg = RiskConfig {
        max_orders_per_second: Some(2),
        ..RiskConfig::default()
    };
    let mut chain = RiskChain::from_config(&cfg, chrono_tz::UTC);
    let mut c = ctx(&inst);
    let req = OrderRequest::market(I, Side::Buy, dec!(1));
    assert!(chain.check(req, &c).is_ok());
    assert!(chain.check(req, &c).is_ok());
    let err = chain.check(req, &c).unwrap_err();
    assert_eq!(err.reason, RefusalReason::OrderRate { count: 2, limit: 2 });
    c.now += 1_000_000_000;
    assert!(chain.check(req, &c).is_ok());
}

#[test]
fn kill_switch_drawdown_halts_and_reduce_mode_allows_only_reductions() {
    let inst = Instrument::stock("SPY");
    let cfg = RiskConfig {
        max_drawdown: Some(dec!(0.10)),
        kill_switch_action: KillSwitchAction::Reduce,
        ..RiskConfig::default()
    };
    let mut chain = RiskChain::from_config(&cfg, chrono_tz::UTC);
    assert!(chain.on_equity(0, dec!(100000)).is_none());
    assert!(chain.on_equity(1, dec!(120000)).is_none());
    assert!(chain.on_equity(2, dec!(108001)).is_none());
    let change = chain.on_equity(3, dec!(107999)).expect("trips");
    assert_eq!(change.to, KillSwitchState::Reducing);
    assert!(change.reason.contains("drawdown"), "{}", change.reason);
    let mut c = ctx(&inst);
    c.position = dec!(100);
    let add = chain.check(OrderRequest::market(I, Side::Buy, dec!(10)), &c);
    assert!(matches!(
        add.unwrap_err().reason,
        RefusalReason::ReducingOnly { .. }
    ));
    assert!(
        chain
            .check(OrderRequest::market(I, Side::Sell, dec!(100)), &c)
            .is_ok()
    );
    // Flipping through zero is not a reduction.
    assert!(
        chain
            .check(OrderRequest::market(I, Side::Sell, dec!(150)), &c)
            .is_err()
    );
}

#[test]
fn kill_switch_daily_loss_resets_each_exchange_day() {
    let cfg = RiskConfig {
        max_daily_loss: Some(dec!(1000)),
        ..RiskConfig::default()
    };
    let mut chain = RiskChain::from_config(&cfg, chrono_tz::America::New_York);
    let day = 86_400_000_000_000i64;
    // 2024-01-02 15:00 UTC = 10:00 New York.
    let t0 = 1_704_207_600_000_000_000i64;
    assert!(chain.on_equity(t0, dec!(100000)).is_none());
    assert!(chain.on_equity(t0 + 1, dec!(99100)).is_none());
    // Next day: the reference resets to 99100; a further 900 loss is fine.
    assert!(chain.on_equity(t0 + day, dec!(99100)).is_none());
    assert!(chain.on_equity(t0 + day + 1, dec!(98200)).is_none());
    let change = chain.on_equity(t0 + day + 2, dec!(98099)).expect("trips");
    assert_eq!(change.to, KillSwitchState::Halted);
    assert_eq!(chain.kill_switch(), KillSwitchState::Halted);
    let inst = Instrument::stock("SPY");
    let err = chain
        .check(OrderRequest::market(I, Side::Sell, dec!(1)), &ctx(&inst))
        .unwrap_err();
    assert_eq!(err.reason, RefusalReason::Halted);
}

proptest::proptest! {
    /// The integer fast paths of the position and notional limits decide exactly as the
    /// `Decimal` formulas do (including the boundary and fractional quantities).
    #[test]
    fn integer_limit_checks_equal_the_decimal_definitions(
        pos in -2_000i64..2_000,
        open in -500i64..500,
        qty in 1i64..3_000,
        qty_scale in 0u32..3,
        buy in proptest::bool::ANY,
        limit in 1i64..3_000,
        price_cents in 1i64..50_000,
        notional_limit in 1i64..10_000_000,
        mult in proptest::prop_oneof![proptest::strategy::Just(1i64), 2i64..100],
    ) {
        let inst = Instrument::stock("X").with_specs(dec!(0.01), dec!(0.01), Decimal::from(mult));
        let mut c = ctx(&inst);
        c.position = Decimal::from(pos);
        c.open_order_qty = Decimal::from(open);
        c.last_price = Some(Decimal::new(price_cents, 2));
        let side = if buy { Side::Buy } else { Side::Sell };
        let req = OrderRequest::market(I, side, Decimal::new(qty, qty_scale));

        let before = c.position + c.open_order_qty;
        let resulting = before + req.signed_quantity();
        let limit = Decimal::from(limit);
        let want = resulting.abs() > limit && resulting.abs() > before.abs();
        proptest::prop_assert_eq!(MaxPosition { limit }.check(&req, &c).is_err(), want);

        let nl = Decimal::new(notional_limit, 1);
        let notional = (req.quantity * c.last_price.unwrap() * inst.multiplier).abs();
        proptest::prop_assert_eq!(MaxOrderNotional::new(nl).check(&req, &c).is_err(), notional > nl);
    }
}
