//! Brackets and OCA groups end to end through the kernel: `Ctx::bracket` → risk → order
//! manager → simulated broker → events back, with the bracket's state as a whole.

use std::sync::{Arc, Mutex};

use rust_decimal::Decimal;
use rust_decimal::dec;
use tickline_backtest::broker::{BrokerConfig, SimBroker};
use tickline_backtest::commission::CommissionModel;
use tickline_engine::clock::SimClock;
use tickline_engine::domain::{Bar, Instrument, InstrumentId, OrderId, OrderRequest, Side};
use tickline_engine::kernel::{Kernel, KernelConfig};
use tickline_engine::order::{BracketState, OrderState};
use tickline_engine::risk::{RefusalReason, RiskConfig};
use tickline_engine::strategy::{BracketIds, Ctx, Strategy};

const I: InstrumentId = InstrumentId(0);

fn bar(k: i64, o: f64, h: f64, l: f64, c: f64) -> Bar {
    let t0 = 1_704_205_800_000_000_000i64;
    Bar {
        instrument: I,
        ts: t0 + k * 60_000_000_000,
        ts_end: t0 + (k + 1) * 60_000_000_000,
        open: o,
        high: h,
        low: l,
        close: c,
        volume: 1_000_000.0,
    }
}

/// Opens one bracket on its first bar and records the bracket's state, as `ctx` reads it,
/// on every later bar.
struct OneBracket {
    quantity: Decimal,
    ids: Option<BracketIds>,
    states: Arc<Mutex<Vec<Option<BracketState>>>>,
    /// `order_target(0)` asked on a later bar: what it sends must close the position only.
    target_after: Option<usize>,
    bars: usize,
}

impl OneBracket {
    fn new(quantity: Decimal, target_after: Option<usize>) -> OneBracket {
        OneBracket {
            quantity,
            ids: None,
            states: Arc::default(),
            target_after,
            bars: 0,
        }
    }
}

impl Strategy for OneBracket {
    fn on_bar(&mut self, _bar: &Bar, ctx: &mut dyn Ctx) {
        self.bars += 1;
        match self.ids {
            None => {
                let entry = OrderRequest::market(I, Side::Buy, self.quantity);
                self.ids = Some(ctx.bracket(entry, dec!(105), dec!(95)));
            }
            Some(ids) => self
                .states
                .lock()
                .unwrap()
                .push(ctx.bracket_state(ids.entry)),
        }
        if self.target_after == Some(self.bars) {
            assert_eq!(
                ctx.open_quantity(I),
                Decimal::ZERO,
                "exits are not exposure"
            );
            ctx.order_target(I, Decimal::ZERO);
        }
    }
}

fn kernel(strategy: OneBracket, risk: RiskConfig) -> Kernel {
    let instruments = vec![Instrument::stock("SPY")];
    let cfg = KernelConfig {
        risk,
        ..KernelConfig::default()
    };
    let broker = BrokerConfig {
        commission: CommissionModel::None,
        ..BrokerConfig::default()
    };
    let sim = SimBroker::new(broker, &instruments);
    Kernel::new(
        cfg,
        instruments,
        Box::new(strategy),
        Box::new(sim),
        Box::new(SimClock::new(0)),
    )
    .unwrap()
}

fn run(k: &mut Kernel, bars: &[(f64, f64, f64, f64)]) {
    k.start();
    for (n, (o, h, l, c)) in bars.iter().enumerate() {
        let b = bar(n as i64, *o, *h, *l, *c);
        k.on_bar(&b);
        k.record_equity(b.ts_end);
    }
    k.stop();
}

#[test]
fn a_bracket_opens_exits_and_closes_as_one() {
    let risk = RiskConfig {
        // The entry uses the whole position limit; the exits must not count on top.
        max_position: Some(dec!(100)),
        max_order_quantity: Some(dec!(100)),
        ..RiskConfig::default()
    };
    let s = OneBracket::new(dec!(100), None);
    let mut k = kernel(s, risk);
    run(
        &mut k,
        &[
            (100.0, 100.5, 99.5, 100.0),  // signal: bracket submitted
            (100.0, 101.0, 99.0, 100.5),  // entry fills at the open
            (100.5, 103.0, 99.0, 102.0),  // neither exit
            (102.0, 105.5, 101.0, 105.0), // take profit at 105
            (105.0, 106.0, 104.0, 105.5),
        ],
    );
    let om = k.order_manager();
    let state = |id: u64| om.get(OrderId(id)).map(|o| o.state);
    assert_eq!(state(1), Some(OrderState::Filled));
    assert_eq!(state(2), Some(OrderState::Filled));
    assert_eq!(state(3), Some(OrderState::Cancelled));
    assert!(
        om.get(OrderId(3))
            .and_then(|o| o.reason.as_deref())
            .is_some_and(|r| r.contains("OCA")),
        "the stop is cancelled by its group"
    );
    assert_eq!(k.portfolio().quantity(I), Decimal::ZERO);
    assert_eq!(k.bracket_state(OrderId(1)), Some(BracketState::Closed));
    let fills: Vec<_> = k.fills().iter().map(|f| f.fill.price).collect();
    assert_eq!(fills, vec![dec!(100), dec!(105)]);
}

#[test]
fn the_state_moves_pending_open_closed() {
    let s = OneBracket::new(dec!(10), None);
    let seen_by_strategy = s.states.clone();
    let mut k = kernel(s, RiskConfig::default());
    k.start();
    let bars = [
        (100.0, 100.5, 99.5, 100.0),
        (100.0, 101.0, 99.0, 100.5),
        (100.5, 101.0, 94.0, 94.5),
    ];
    let mut seen = Vec::new();
    for (n, (o, h, l, c)) in bars.iter().enumerate() {
        k.on_bar(&bar(n as i64, *o, *h, *l, *c));
        seen.push(k.bracket_state(OrderId(1)));
    }
    assert_eq!(
        seen,
        vec![
            Some(BracketState::Pending),
            Some(BracketState::Open),
            Some(BracketState::Closed),
        ]
    );
    // The strategy reads the same through `ctx` on the bars after the signal.
    assert_eq!(
        *seen_by_strategy.lock().unwrap(),
        vec![Some(BracketState::Open), Some(BracketState::Closed)]
    );
    assert_eq!(k.fills()[1].fill.price, dec!(95), "stopped out at the stop");
}

#[test]
fn a_refused_entry_takes_its_exits_with_it() {
    let risk = RiskConfig {
        max_order_quantity: Some(dec!(50)),
        ..RiskConfig::default()
    };
    let s = OneBracket::new(dec!(100), None);
    let mut k = kernel(s, risk);
    run(
        &mut k,
        &[(100.0, 100.5, 99.5, 100.0), (100.0, 101.0, 99.0, 100.5)],
    );
    let om = k.order_manager();
    for id in 1..=3 {
        assert_eq!(
            om.get(OrderId(id)).map(|o| o.state),
            Some(OrderState::Denied)
        );
    }
    let refusal = |id: u64| {
        om.get(OrderId(id))
            .and_then(|o| o.refusal.as_deref())
            .map(|r| r.reason)
    };
    assert!(matches!(
        refusal(1),
        Some(RefusalReason::MaxOrderQuantity { .. })
    ));
    assert_eq!(refusal(2), Some(RefusalReason::ParentNotLive { parent: 1 }));
    assert_eq!(refusal(3), Some(RefusalReason::ParentNotLive { parent: 1 }));
    assert_eq!(k.bracket_state(OrderId(1)), Some(BracketState::Cancelled));
    assert!(k.fills().is_empty());
}

#[test]
fn a_refused_exit_cancels_its_entry() {
    // The price band refuses both exits (105 and 95 are 5 % from 100): the entry must not
    // go on without them.
    let risk = RiskConfig {
        price_band_bps: Some(dec!(300)),
        ..RiskConfig::default()
    };
    let s = OneBracket::new(dec!(10), None);
    let mut k = kernel(s, risk);
    run(
        &mut k,
        &[(100.0, 100.5, 99.5, 100.0), (100.0, 101.0, 99.0, 100.5)],
    );
    let om = k.order_manager();
    let state = |id: u64| om.get(OrderId(id)).map(|o| o.state);
    assert_eq!(state(2), Some(OrderState::Denied), "take profit refused");
    assert_eq!(state(3), Some(OrderState::Denied), "stop refused");
    assert_eq!(state(1), Some(OrderState::Cancelled), "entry cancelled");
    assert!(k.fills().is_empty());
    assert_eq!(k.bracket_state(OrderId(1)), Some(BracketState::Cancelled));
}

#[test]
fn order_target_sees_through_the_exits() {
    let s = OneBracket::new(dec!(10), Some(3));
    let mut k = kernel(s, RiskConfig::default());
    run(
        &mut k,
        &[
            (100.0, 100.5, 99.5, 100.0),
            (100.0, 101.0, 99.0, 100.5),
            (100.5, 101.0, 99.5, 100.0), // order_target(0): one sell of 10
            (100.0, 100.5, 99.5, 100.0),
        ],
    );
    let sells: Vec<_> = k
        .fills()
        .iter()
        .filter(|f| f.fill.side == Side::Sell)
        .map(|f| f.fill.quantity)
        .collect();
    assert_eq!(sells, vec![dec!(10)]);
    assert_eq!(k.portfolio().quantity(I), Decimal::ZERO);
    // Flat by order_target(0): the exits are cancelled, so nothing can reopen the position.
    let om = k.order_manager();
    for id in [2, 3] {
        assert_eq!(
            om.get(OrderId(id)).map(|o| o.state),
            Some(OrderState::Cancelled)
        );
    }
    assert_eq!(k.bracket_state(OrderId(1)), Some(BracketState::Closed));
}

mod donchian {
    use proptest::prelude::*;
    use proptest::strategy::Strategy;
    use rust_decimal::Decimal;
    use rust_decimal::dec;
    use tickline_engine::domain::{OrderType, Side};
    use tickline_engine::order::OrderState;
    use tickline_strategies::donchian_breakout::DonchianBreakout;

    use super::*;

    fn bars() -> impl Strategy<Value = Vec<(f64, f64, f64, f64)>> {
        proptest::collection::vec((-150i32..150, 0u32..200, 0u32..200, 0u32..=100), 40..160)
            .prop_map(|moves| {
                let mut px = 10_000i64;
                moves
                    .into_iter()
                    .map(|(mv, up, down, at)| {
                        let open = (px + mv as i64).max(500);
                        let high = open + up as i64;
                        let low = (open - down as i64).max(100);
                        let close = low + (high - low) * at as i64 / 100;
                        px = close;
                        let f = |c: i64| c as f64 / 100.0;
                        (f(open), f(high), f(low), f(close))
                    })
                    .collect()
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

        /// Donchian through the kernel and the simulated broker: never more than `quantity`
        /// on, no short when shorts are off, at most one stop working, and after every bar
        /// a position with nothing on its way has exactly one stop on the other side for its
        /// whole size, while flat has none working.
        #[test]
        fn donchian_positions_are_always_protected(
            bars in bars(),
            entry in 2usize..8,
            exit in 1usize..6,
            atr_period in 1usize..6,
            mult in 0.5f64..3.0,
            trail in any::<bool>(),
            allow_short in any::<bool>(),
        ) {
            let params: toml::Table = toml::from_str(&format!(
                "entry = {entry}\nexit = {exit}\natr_period = {atr_period}\natr_mult = {mult}\n\
                 trail = {trail}\nallow_short = {allow_short}\nquantity = 10"
            )).unwrap();
            let strategy = DonchianBreakout::from_params(&params).unwrap();
            let instruments = vec![Instrument::stock("SPY")];
            let broker = BrokerConfig { commission: CommissionModel::None, ..BrokerConfig::default() };
            let sim = SimBroker::new(broker, &instruments);
            let mut k = Kernel::new(
                KernelConfig::default(),
                instruments,
                Box::new(strategy),
                Box::new(sim),
                Box::new(SimClock::new(0)),
            ).unwrap();
            k.start();
            for (n, (o, h, l, c)) in bars.iter().enumerate() {
                k.on_bar(&bar(n as i64, *o, *h, *l, *c));
                let pos = k.portfolio().quantity(I);
                prop_assert!(pos.abs() <= dec!(10), "position {}", pos);
                prop_assert!(allow_short || pos >= Decimal::ZERO, "short {} though shorts are off", pos);
                let om = k.order_manager();
                let open: Vec<_> = om.open_ids().iter().filter_map(|id| om.get(*id)).collect();
                let stops: Vec<_> = open.iter().filter(|o| matches!(o.request.order_type, OrderType::Stop | OrderType::TrailingStop) && o.state != OrderState::PendingCancel).collect();
                prop_assert!(stops.len() <= 1, "{} stops", stops.len());
                let moving = open.iter().any(|o| !o.request.is_exit());
                if !moving {
                    if pos.is_zero() {
                        prop_assert!(stops.is_empty(), "flat with a stop");
                    } else {
                        prop_assert_eq!(stops.len(), 1, "position {} without a stop", pos);
                        let side = if pos > Decimal::ZERO { Side::Sell } else { Side::Buy };
                        prop_assert_eq!(stops[0].request.side, side);
                        prop_assert_eq!(stops[0].remaining(), pos.abs());
                    }
                }
            }
            prop_assert!(k.audit().records().iter().all(|r| !r.detail.contains("illegal")));
        }
    }
}
