//! Property tests for the drawdown and downsampling helpers.

use proptest::prelude::*;
use tickline_backtest::stats::{downsample_minmax, drawdown_series, max_drawdown};

/// Naive O(n²) maximum drawdown: the largest `(e[i] - e[j]) / e[i]` over `i <= j`.
fn naive_max_drawdown(equity: &[f64]) -> f64 {
    let mut best = 0.0f64;
    for i in 0..equity.len() {
        for j in i..equity.len() {
            best = best.max((equity[i] - equity[j]) / equity[i]);
        }
    }
    best
}

fn curve() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(1.0f64..1_000_000.0, 0..200)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn drawdown_is_non_positive_and_matches_naive(equity in curve()) {
        let dd = drawdown_series(&equity);
        prop_assert_eq!(dd.len(), equity.len());
        prop_assert!(dd.iter().all(|&d| d <= 0.0 && d.is_finite()));
        let ts: Vec<i64> = (0..equity.len() as i64).map(|i| i * 60_000_000_000).collect();
        let m = max_drawdown(&ts, &equity);
        let naive = naive_max_drawdown(&equity);
        prop_assert!((m.fraction - naive).abs() <= 1e-12, "{} vs {}", m.fraction, naive);
        let deepest = dd.iter().copied().fold(0.0f64, f64::min);
        prop_assert!((m.fraction + deepest).abs() <= 1e-12);
        if let (Some(p), Some(t)) = (m.peak_index, m.trough_index) {
            prop_assert!(p < t);
            prop_assert!((m.amount - (equity[p] - equity[t])).abs() <= 1e-6);
        } else {
            prop_assert_eq!(m.fraction, 0.0);
        }
    }

    #[test]
    fn downsample_caps_length_and_keeps_extremes(
        ys in prop::collection::vec(-1e6f64..1e6, 1..3_000),
        max_points in 2usize..600,
    ) {
        let ts: Vec<i64> = (0..ys.len() as i64).map(|i| 1_000 + i * 7).collect();
        let (xs, vs) = downsample_minmax(&ts, &ys, max_points);
        prop_assert_eq!(xs.len(), vs.len());
        prop_assert!(xs.len() <= max_points);
        prop_assert!(xs.windows(2).all(|w| w[0] < w[1]), "time order kept");
        let min = ys.iter().copied().fold(f64::INFINITY, f64::min);
        let max = ys.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        prop_assert!(vs.contains(&min));
        prop_assert!(vs.contains(&max));
        // Each kept point is an original (ts, y) pair.
        for (x, v) in xs.iter().zip(&vs) {
            let i = ((x - 1_000) / 7) as usize;
            prop_assert_eq!(ys[i], *v);
        }
        if max_points >= 4 {
            prop_assert_eq!(xs.first(), ts.first());
            prop_assert_eq!(xs.last(), ts.last());
        }
    }
}

#[test]
fn downsample_keeps_short_series_whole() {
    let ts = [1, 2, 3];
    let ys = [3.0, 1.0, 2.0];
    assert_eq!(downsample_minmax(&ts, &ys, 10), (ts.to_vec(), ys.to_vec()));
    assert_eq!(downsample_minmax(&ts, &ys, 0), (vec![], vec![]));
    assert_eq!(downsample_minmax(&ts, &ys, 1), (vec![2], vec![1.0]));
}

#[test]
fn downsample_keeps_a_single_deep_spike() {
    let n = 100_000;
    let ts: Vec<i64> = (0..n).collect();
    let mut ys: Vec<f64> = (0..n).map(|i| 100.0 + (i as f64 * 0.01).sin()).collect();
    ys[54_321] = -5.0;
    let (xs, vs) = downsample_minmax(&ts, &ys, 4_000);
    assert!(xs.len() <= 4_000 && xs.len() >= 2_000, "{}", xs.len());
    assert!(xs.contains(&54_321) && vs.contains(&-5.0));
    assert_eq!((xs[0], xs[xs.len() - 1]), (0, n - 1));
}
