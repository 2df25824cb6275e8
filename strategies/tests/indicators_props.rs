//! Property tests: every streaming indicator equals a naive recomputation from the full
//! input history at every step, plus a long-run accuracy check for `RollingStd`.
//!
//! The naive versions are deliberately written differently from the streaming code
//! (explicit weighted sums for EMAs, `100·G/(G+L)` for RSI, two-pass variance, full-window
//! folds for max/min) so that both sharing a bug is unlikely.

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use tickline_strategies::indicators::{
    Atr, Bollinger, Ema, Highest, Lowest, Macd, RollingStd, Rsi, Sma,
};

/// Fixed seed and no failure files: runs are reproducible and leave the tree untouched.
fn config(cases: u32) -> Config {
    Config {
        cases,
        rng_seed: RngSeed::Fixed(0x7469_636b_6c69_6e65),
        failure_persistence: None,
        ..Config::default()
    }
}

/// Prices, with frequent exact repeats so that ties (flat changes, equal maxima) occur.
fn price() -> impl Strategy<Value = f64> {
    prop_oneof![
        3 => 1.0..1000.0f64,
        1 => (0u8..4).prop_map(|v| 100.0 + f64::from(v)),
    ]
}

fn prices(max_len: usize) -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(price(), 0..max_len)
}

/// Valid bars `(high, low, close)` with `low <= close <= high`; independent levels give gaps.
fn bars(max_len: usize) -> impl Strategy<Value = Vec<(f64, f64, f64)>> {
    let bar = (1.0..1000.0f64, 0.0..50.0f64, 0.0..=1.0f64)
        .prop_map(|(low, range, frac)| (low + range, low, low + frac * range));
    prop::collection::vec(bar, 0..max_len)
}

/// `|a − b| <= tol·max(1, |a|, |b|)`.
fn close_rel(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * 1f64.max(a.abs()).max(b.abs())
}

fn check_opt(
    step: usize,
    got: Option<f64>,
    want: Option<f64>,
    tol: f64,
) -> Result<(), TestCaseError> {
    match (got, want) {
        (None, None) => Ok(()),
        (Some(g), Some(w)) => {
            prop_assert!(
                close_rel(g, w, tol),
                "step {}: got {}, naive {}",
                step,
                g,
                w
            );
            Ok(())
        }
        _ => Err(TestCaseError::fail(format!(
            "step {step}: got {got:?}, naive {want:?}"
        ))),
    }
}

// ---------------------------------------------------------------- naive versions

fn naive_sma(h: &[f64], n: usize) -> Option<f64> {
    (h.len() >= n).then(|| h[h.len() - n..].iter().sum::<f64>() / n as f64)
}

/// `(1−α)^t·x_0 + Σ_{i=1..t} α(1−α)^{t−i}·x_i` evaluated directly.
fn naive_ema(h: &[f64], alpha: f64) -> Option<f64> {
    let t = h.len().checked_sub(1)?;
    let mut acc = (1.0 - alpha).powi(t as i32) * h[0];
    for (i, &x) in h.iter().enumerate().skip(1) {
        acc += alpha * (1.0 - alpha).powi((t - i) as i32) * x;
    }
    Some(acc)
}

fn naive_rsi(h: &[f64], n: usize) -> Option<f64> {
    if h.len() < n + 1 {
        return None;
    }
    let gains: Vec<f64> = h.windows(2).map(|w| (w[1] - w[0]).max(0.0)).collect();
    let losses: Vec<f64> = h.windows(2).map(|w| (w[0] - w[1]).max(0.0)).collect();
    let wilder = |xs: &[f64]| {
        let first = xs[..n].iter().sum::<f64>() / n as f64;
        xs[n..]
            .iter()
            .fold(first, |avg, &x| avg + (x - avg) / n as f64)
    };
    let (g, l) = (wilder(&gains), wilder(&losses));
    Some(if g + l == 0.0 {
        50.0
    } else {
        100.0 * g / (g + l)
    })
}

fn naive_atr(b: &[(f64, f64, f64)], n: usize) -> Option<f64> {
    if b.len() < n {
        return None;
    }
    let trs: Vec<f64> = b
        .iter()
        .enumerate()
        .map(|(i, &(hi, lo, _))| match i {
            0 => hi - lo,
            _ => {
                let pc = b[i - 1].2;
                [hi - lo, (hi - pc).abs(), (lo - pc).abs()]
                    .into_iter()
                    .fold(f64::MIN, f64::max)
            }
        })
        .collect();
    let first = trs[..n].iter().sum::<f64>() / n as f64;
    Some(
        trs[n..]
            .iter()
            .fold(first, |avg, &x| avg + (x - avg) / n as f64),
    )
}

/// Two-pass population variance of the last `n` values.
fn naive_var(h: &[f64], n: usize) -> Option<f64> {
    let w = h.get(h.len().checked_sub(n)?..)?;
    let mean = w.iter().sum::<f64>() / n as f64;
    Some(w.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64)
}

fn naive_extreme(h: &[f64], n: usize, max: bool) -> Option<f64> {
    let w = h.get(h.len().checked_sub(n)?..)?;
    let mut it = w.iter().copied();
    let first = it.next()?;
    Some(it.fold(first, |a, x| if max { a.max(x) } else { a.min(x) }))
}

fn alpha(n: usize) -> f64 {
    2.0 / (n as f64 + 1.0)
}

/// `(macd, signal, histogram)` from full recomputation of every EMA over every prefix.
fn naive_macd(h: &[f64], f: usize, s: usize, g: usize) -> Option<(f64, f64, f64)> {
    if h.len() < s + g - 1 {
        return None;
    }
    let line: Vec<f64> = (1..=h.len())
        .map(|k| Some(naive_ema(&h[..k], alpha(f))? - naive_ema(&h[..k], alpha(s))?))
        .collect::<Option<_>>()?;
    let macd = *line.last()?;
    let signal = naive_ema(&line, alpha(g))?;
    Some((macd, signal, macd - signal))
}

/// Largest `|x|` among the values since the window two periods ago — the scale of the
/// rounding error the running variance can carry.
fn recent_scale(h: &[f64], n: usize) -> f64 {
    let from = h.len().saturating_sub(2 * n);
    let w = &h[from..];
    let lo = w.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = w.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (hi - lo).max(0.0)
}

// ---------------------------------------------------------------- properties

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn sma_matches_naive(h in prices(120), n in 1usize..25) {
        let mut sma = Sma::new(n).map_err(|e| TestCaseError::fail(e.to_string()))?;
        for t in 0..h.len() {
            let got = sma.update(h[t]);
            prop_assert_eq!(got, sma.value());
            prop_assert_eq!(sma.is_ready(), got.is_some());
            check_opt(t, got, naive_sma(&h[..=t], n), 1e-12)?;
        }
    }

    #[test]
    fn ema_matches_naive(h in prices(120), n in 1usize..40) {
        let mut ema = Ema::new(n).map_err(|e| TestCaseError::fail(e.to_string()))?;
        for t in 0..h.len() {
            let got = ema.update(h[t]);
            prop_assert_eq!(got, ema.value());
            prop_assert_eq!(ema.count(), t as u64 + 1);
            check_opt(t, got, naive_ema(&h[..=t], alpha(n)), 1e-10)?;
        }
    }

    #[test]
    fn ema_with_alpha_matches_naive(h in prices(120), a in 0.001..=1.0f64) {
        let mut ema = Ema::with_alpha(a).map_err(|e| TestCaseError::fail(e.to_string()))?;
        for t in 0..h.len() {
            check_opt(t, ema.update(h[t]), naive_ema(&h[..=t], a), 1e-10)?;
        }
    }

    #[test]
    fn rsi_matches_naive(h in prices(120), n in 1usize..25) {
        let mut rsi = Rsi::new(n).map_err(|e| TestCaseError::fail(e.to_string()))?;
        for t in 0..h.len() {
            let got = rsi.update(h[t]);
            prop_assert_eq!(got, rsi.value());
            prop_assert_eq!(rsi.is_ready(), got.is_some());
            if let Some(v) = got {
                prop_assert!((0.0..=100.0).contains(&v), "RSI {} out of range", v);
            }
            check_opt(t, got, naive_rsi(&h[..=t], n), 1e-9)?;
        }
    }

    #[test]
    fn atr_matches_naive(b in bars(120), n in 1usize..25) {
        let mut atr = Atr::new(n).map_err(|e| TestCaseError::fail(e.to_string()))?;
        for t in 0..b.len() {
            let (hi, lo, c) = b[t];
            let got = atr.update(hi, lo, c);
            prop_assert_eq!(got, atr.value());
            prop_assert_eq!(atr.is_ready(), got.is_some());
            check_opt(t, got, naive_atr(&b[..=t], n), 1e-10)?;
        }
    }

    #[test]
    fn rolling_std_matches_naive(h in prices(150), n in 1usize..25) {
        let mut sd = RollingStd::new(n).map_err(|e| TestCaseError::fail(e.to_string()))?;
        for t in 0..h.len() {
            let got = sd.update(h[t]);
            prop_assert_eq!(got, sd.value());
            prop_assert_eq!(sd.is_ready(), got.is_some());
            let want = naive_var(&h[..=t], n);
            prop_assert_eq!(got.is_some(), want.is_some(), "step {}", t);
            if let (Some(var), Some(want_var)) = (sd.variance(), want) {
                let scale = recent_scale(&h[..=t], n);
                let tol = 1e-12 * scale * scale + 1e-10 * want_var;
                prop_assert!((var - want_var).abs() <= tol,
                    "step {}: variance {} vs naive {} (tol {})", t, var, want_var, tol);
                // σ itself is relatively accurate whenever it is not tiny against the scale
                if want_var > 1e-6 * scale * scale {
                    prop_assert!(close_rel(var.sqrt(), want_var.sqrt(), 1e-9));
                }
                check_opt(t, sd.mean(), naive_sma(&h[..=t], n), 1e-12)?;
            }
        }
    }

    #[test]
    fn bollinger_matches_naive(h in prices(150), n in 1usize..25, k in 0.0..4.0f64) {
        let mut bb = Bollinger::new(n, k).map_err(|e| TestCaseError::fail(e.to_string()))?;
        for t in 0..h.len() {
            let got = bb.update(h[t]);
            prop_assert_eq!(got, bb.value());
            prop_assert_eq!(bb.is_ready(), got.is_some());
            let want = naive_sma(&h[..=t], n).zip(naive_var(&h[..=t], n));
            match (got, want) {
                (None, None) => {}
                (Some(g), Some((mean, var))) => {
                    let sd = var.sqrt();
                    // absolute tolerance: σ error is at most sqrt of the variance error
                    let scale = recent_scale(&h[..=t], n);
                    let tol = 1e-9 * mean.abs().max(1.0) + k * 1e-6 * scale;
                    prop_assert!((g.middle - mean).abs() <= tol, "step {}: {:?}", t, g);
                    prop_assert!((g.upper - (mean + k * sd)).abs() <= tol, "step {}: {:?}", t, g);
                    prop_assert!((g.lower - (mean - k * sd)).abs() <= tol, "step {}: {:?}", t, g);
                    prop_assert!(g.lower <= g.middle && g.middle <= g.upper);
                }
                _ => prop_assert!(false, "step {}: got {:?}, naive {:?}", t, got, want),
            }
        }
    }

    #[test]
    fn macd_matches_naive(
        h in prices(90),
        (f, s) in (1usize..12).prop_flat_map(|f| (Just(f), (f + 1)..30)),
        g in 1usize..12,
    ) {
        let mut macd = Macd::new(f, s, g).map_err(|e| TestCaseError::fail(e.to_string()))?;
        for t in 0..h.len() {
            let got = macd.update(h[t]);
            prop_assert_eq!(got, macd.value());
            prop_assert_eq!(macd.is_ready(), got.is_some());
            let want = naive_macd(&h[..=t], f, s, g);
            match (got, want) {
                (None, None) => {}
                (Some(v), Some((m, sig, hist))) => {
                    // MACD is a difference of ~1000-sized EMAs: absolute tolerance on that scale
                    let tol = 1e-9 * 1000.0;
                    prop_assert!((v.macd - m).abs() <= tol, "step {}: {:?} vs {}", t, v, m);
                    prop_assert!((v.signal - sig).abs() <= tol, "step {}: {:?} vs {}", t, v, sig);
                    prop_assert!((v.histogram - hist).abs() <= tol, "step {}: {:?} vs {}", t, v, hist);
                }
                _ => prop_assert!(false, "step {}: got {:?}, naive {:?}", t, got, want),
            }
        }
    }

    #[test]
    fn highest_and_lowest_match_naive(h in prices(150), n in 1usize..30) {
        let mut hi = Highest::new(n).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut lo = Lowest::new(n).map_err(|e| TestCaseError::fail(e.to_string()))?;
        for t in 0..h.len() {
            let (gh, gl) = (hi.update(h[t]), lo.update(h[t]));
            prop_assert_eq!(gh, hi.value());
            prop_assert_eq!(gl, lo.value());
            prop_assert_eq!(hi.is_ready(), gh.is_some());
            // max/min are exact: no tolerance
            prop_assert_eq!(gh, naive_extreme(&h[..=t], n, true), "step {}", t);
            prop_assert_eq!(gl, naive_extreme(&h[..=t], n, false), "step {}", t);
        }
    }
}

// ---------------------------------------------------------------- long-run accuracy

/// SplitMix64: a tiny seeded generator so the million-step series is reproducible without
/// storing it in the proptest case.
struct SplitMix(u64);

impl SplitMix {
    fn next_unit(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A million prices in [100, 1000]: either i.i.d. uniform, or a random walk with steps of at
/// most ±0.05 (small σ against a large mean: the hard case for running-sum variance).
fn long_series(seed: u64, walk: bool, len: usize) -> Vec<f64> {
    let mut rng = SplitMix(seed);
    let mut level = 100.0 + 900.0 * rng.next_unit();
    (0..len)
        .map(|_| {
            if walk {
                level = (level + 0.1 * (rng.next_unit() - 0.5)).clamp(100.0, 1000.0);
                level
            } else {
                100.0 + 900.0 * rng.next_unit()
            }
        })
        .collect()
}

proptest! {
    #![proptest_config(config(6))]

    #[test]
    fn rolling_std_stays_accurate_over_a_million_updates(
        seed in any::<u64>(),
        walk in any::<bool>(),
        n in prop_oneof![1usize..10, 10usize..300, Just(1000usize), Just(4093usize)],
    ) {
        const LEN: usize = 1_000_000;
        let h = long_series(seed, walk, LEN);
        let mut sd = RollingStd::new(n).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut bb = Bollinger::new(n, 2.0).map_err(|e| TestCaseError::fail(e.to_string()))?;
        // Check at irregular points (not aligned with the internal recompute schedule) and at
        // the very end.
        let mut checkpoints: Vec<usize> = (1..=20).map(|i| i * 47_777 + i * i).collect();
        checkpoints.push(LEN);
        let mut next = 0;
        for (t, &x) in h.iter().enumerate() {
            sd.update(x);
            bb.update(x);
            if checkpoints.get(next) == Some(&(t + 1)) {
                next += 1;
                let got = sd.value().ok_or_else(|| TestCaseError::fail("not ready"))?;
                let want = naive_var(&h[..=t], n)
                    .ok_or_else(|| TestCaseError::fail("naive not ready"))?
                    .sqrt();
                if want == 0.0 {
                    prop_assert!(got.abs() < 1e-9, "t {}: got {} vs 0", t, got);
                } else {
                    prop_assert!((got - want).abs() <= 1e-6 * want,
                        "t {}: got {}, naive {}, rel {}", t, got, want, (got - want).abs() / want);
                }
                let band = bb.value().ok_or_else(|| TestCaseError::fail("bands not ready"))?;
                prop_assert!((band.upper - band.middle - 2.0 * want).abs() <= 1e-6 * want.max(1e-9),
                    "t {}: {:?} vs σ {}", t, band, want);
            }
        }
        prop_assert_eq!(next, checkpoints.len());
    }
}
