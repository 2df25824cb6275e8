//! End-to-end backtests on generated data, checked against an independent, naive
//! re-implementation of `ema_cross` and of the fill rules (a plain loop with no kernel).

use rust_decimal::Decimal;
use rust_decimal::dec;
use tickline_backtest::broker::{BrokerConfig, FillMode};
use tickline_backtest::commission::CommissionModel;
use tickline_backtest::runner::{BacktestInput, BacktestOutput, run_backtest};
use tickline_engine::domain::{BarSeries, Instrument, Side};
use tickline_engine::kernel::KernelConfig;
use tickline_engine::order::OrderState;
use tickline_strategies::ema_cross::EmaCross;

/// Deterministic random-walk minute bars on a 0.01 tick (SplitMix64).
fn bars(n: usize, seed: u64, symbol: &str) -> BarSeries {
    let mut state = seed;
    let mut next = || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut s = BarSeries::with_capacity(symbol, 60_000_000_000, n);
    let mut px: f64 = 100.0;
    let t0 = 1_704_205_800_000_000_000i64;
    for i in 0..n {
        let open = (px * 100.0).round() / 100.0;
        let close = ((open + (next() - 0.5) * 0.4) * 100.0).round() / 100.0;
        let high = ((open.max(close) + next() * 0.1) * 100.0).round() / 100.0;
        let low = ((open.min(close) - next() * 0.1) * 100.0).round() / 100.0;
        s.push(
            t0 + i as i64 * 60_000_000_000,
            open,
            high,
            low,
            close,
            1000.0 + next() * 1000.0,
        );
        px = close + (next() - 0.5) * 0.04;
    }
    s
}

fn dec(x: f64) -> Decimal {
    Decimal::from_f64_retain(x).unwrap().round_dp(2)
}

/// The rules of ema_cross written out as a plain loop. Returns (fills, final cash, position).
fn reference(
    s: &BarSeries,
    fast: usize,
    slow: usize,
    qty: i64,
    at_close: bool,
    cash0: Decimal,
) -> (Vec<(usize, i64, Decimal)>, Decimal, i64) {
    let (af, asl) = (2.0 / (fast as f64 + 1.0), 2.0 / (slow as f64 + 1.0));
    let (mut ef, mut es) = (s.close[0], s.close[0]);
    let mut prev: Option<f64> = None;
    let mut pos: i64 = 0;
    let mut cash = cash0;
    let mut pending: Option<i64> = None;
    let mut fills = Vec::new();
    for i in 0..s.len() {
        if let Some(q) = pending.take() {
            let px = dec(s.open[i]);
            cash -= Decimal::from(q) * px;
            pos += q;
            fills.push((i, q, px));
        }
        if i > 0 {
            ef += af * (s.close[i] - ef);
            es += asl * (s.close[i] - es);
        }
        if i + 1 < slow {
            continue;
        }
        let diff = ef - es;
        if let Some(p) = prev {
            let target = if p <= 0.0 && diff > 0.0 {
                Some(qty)
            } else if p >= 0.0 && diff < 0.0 {
                Some(-qty)
            } else {
                None
            };
            if let Some(t) = target
                && t != pos
            {
                let q = t - pos;
                if at_close {
                    let px = dec(s.close[i]);
                    cash -= Decimal::from(q) * px;
                    pos += q;
                    fills.push((i, q, px));
                } else {
                    pending = Some(q);
                }
            }
        }
        prev = Some(diff);
    }
    (fills, cash, pos)
}

fn run(series: Vec<BarSeries>, fill: FillMode, commission: CommissionModel) -> BacktestOutput {
    let input = BacktestInput {
        kernel: KernelConfig {
            initial_cash: dec!(100000),
            ..KernelConfig::default()
        },
        broker: BrokerConfig {
            fill,
            commission,
            ..BrokerConfig::default()
        },
        instruments: series
            .iter()
            .map(|s| Instrument::stock(&s.symbol))
            .collect(),
        series: &series,
        window: None,
    };
    run_backtest(
        input,
        Box::new(EmaCross::new(10, 30, dec!(100)).unwrap()),
        &mut |_, _| {},
    )
    .unwrap()
}

#[test]
fn ema_cross_matches_the_reference_next_open() {
    let s = bars(20_000, 7, "SPY");
    let (want, cash, pos) = reference(&s, 10, 30, 100, false, dec!(100000));
    assert!(
        want.len() > 100,
        "the data must produce many crosses ({})",
        want.len()
    );
    let out = run(vec![s.clone()], FillMode::NextOpen, CommissionModel::None);
    let got: Vec<(usize, i64, Decimal)> = out
        .fills
        .iter()
        .map(|f| {
            let i =
                s.ts.iter()
                    .position(|t| *t == f.fill.ts)
                    .expect("fill at a bar open");
            let q: i64 = f.fill.signed_quantity().try_into().unwrap();
            (i, q, f.fill.price)
        })
        .collect();
    assert_eq!(got, want);
    assert_eq!(out.final_cash, cash);
    assert_eq!(out.positions[0].quantity, Decimal::from(pos));
    let last = dec(*s.close.last().unwrap());
    assert_eq!(out.final_equity, cash + Decimal::from(pos) * last);
    assert_eq!(*out.equity.equity.last().unwrap(), out.final_equity);
    assert_eq!(out.equity.ts.len(), s.len());
    assert!(out.orders.iter().all(|o| o.state == OrderState::Filled));
}

#[test]
fn ema_cross_matches_the_reference_at_close() {
    let s = bars(5_000, 11, "SPY");
    let (want, cash, _) = reference(&s, 10, 30, 100, true, dec!(100000));
    let out = run(vec![s.clone()], FillMode::Close, CommissionModel::None);
    let got: Vec<(i64, Decimal)> = out
        .fills
        .iter()
        .map(|f| (f.fill.signed_quantity().try_into().unwrap(), f.fill.price))
        .collect();
    assert_eq!(got, want.iter().map(|w| (w.1, w.2)).collect::<Vec<_>>());
    assert_eq!(out.final_cash, cash);
}

#[test]
fn commissions_reduce_cash_by_exactly_their_sum() {
    let s = bars(5_000, 3, "SPY");
    let free = run(vec![s.clone()], FillMode::NextOpen, CommissionModel::None);
    let paid = run(vec![s], FillMode::NextOpen, CommissionModel::IbkrFixed);
    let total: Decimal = paid.fills.iter().map(|f| f.fill.commission).sum();
    assert!(total > Decimal::ZERO);
    // 100 or 200 shares at ~100: 0.005/share is below the USD 1 minimum.
    assert!(paid.fills.iter().all(|f| f.fill.commission == dec!(1)));
    assert_eq!(free.final_cash - paid.final_cash, total);
}

#[test]
fn several_symbols_merge_by_time_and_runs_are_deterministic() {
    let a = bars(3_000, 1, "AAA");
    let mut b = bars(2_000, 2, "BBB");
    // B starts 500 bars later: the merge must interleave by time.
    for t in &mut b.ts {
        *t += 500 * 60_000_000_000;
    }
    let one = run(
        vec![a.clone(), b.clone()],
        FillMode::NextOpen,
        CommissionModel::IbkrFixed,
    );
    let two = run(
        vec![a.clone(), b.clone()],
        FillMode::NextOpen,
        CommissionModel::IbkrFixed,
    );
    assert_eq!(one.final_equity, two.final_equity);
    assert_eq!(one.fills, two.fills);
    assert_eq!(one.bars, 5_000);
    assert_eq!(
        one.equity.ts.len(),
        3_000,
        "one equity sample per distinct time"
    );
    assert!(one.fills.windows(2).all(|w| w[0].fill.ts <= w[1].fill.ts));
    // Each symbol trades exactly as it would alone (ema_cross legs are independent).
    let solo_b = run(vec![b], FillMode::NextOpen, CommissionModel::IbkrFixed);
    let b_fills: Vec<_> = one
        .fills
        .iter()
        .filter(|f| f.fill.instrument.0 == 1)
        .map(|f| (f.fill.ts, f.fill.price, f.fill.side))
        .collect();
    let solo: Vec<_> = solo_b
        .fills
        .iter()
        .map(|f| (f.fill.ts, f.fill.price, f.fill.side))
        .collect();
    assert_eq!(b_fills, solo);
    assert!(b_fills.iter().any(|f| f.2 == Side::Sell));
}
