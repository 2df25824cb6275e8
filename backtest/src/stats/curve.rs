//! Equity-curve statistics: drawdowns, daily returns, Sharpe/Sortino, chart downsampling.

const NS_PER_DAY: i64 = 86_400 * 1_000_000_000;

/// Trading days per year used to annualise daily Sharpe and Sortino ratios.
pub const TRADING_DAYS_PER_YEAR: f64 = 252.0;

/// Maps NaN to 0 and ±∞ to the largest finite value of the same sign, so that
/// every reported number is finite (JSON has no NaN).
pub(crate) fn finite(x: f64) -> f64 {
    if x.is_nan() {
        0.0
    } else {
        x.clamp(f64::MIN, f64::MAX)
    }
}

/// Drawdown at each point as a fraction below the running peak: `(e - peak) / peak`,
/// always ≤ 0. The peak is the running maximum of `equity` itself (the initial
/// equity is not prepended). While the running peak is ≤ 0, or for a non-finite
/// value, the drawdown is reported as 0.
pub fn drawdown_series(equity: &[f64]) -> Vec<f64> {
    let mut peak = f64::NEG_INFINITY;
    equity
        .iter()
        .map(|&e| {
            if e > peak {
                peak = e;
            }
            if peak > 0.0 && e.is_finite() {
                finite((e - peak) / peak).min(0.0)
            } else {
                0.0
            }
        })
        .collect()
}

/// The deepest drawdown of an equity curve and its longest underwater period.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MaxDrawdown {
    /// Deepest drop below the running peak as a positive fraction of that peak.
    pub fraction: f64,
    /// `peak - trough` of that deepest (by fraction) drawdown.
    pub amount: f64,
    /// Index of the peak of the deepest drawdown (`None` when there is none).
    pub peak_index: Option<usize>,
    /// Index of the trough of the deepest drawdown (`None` when there is none).
    pub trough_index: Option<usize>,
    /// Longest time from a peak until equity is back at or above it, in ns;
    /// a drawdown not recovered by the last point lasts until the last point.
    pub longest_duration_ns: i64,
}

/// Computes [`MaxDrawdown`] for `equity` sampled at `ts` (UTC ns, increasing).
/// Only the common prefix of `ts` and `equity` is used. The peak of a drawdown is
/// the last point at the running maximum before the drop. Non-finite values are
/// skipped.
pub fn max_drawdown(ts: &[i64], equity: &[f64]) -> MaxDrawdown {
    let mut out = MaxDrawdown::default();
    let mut peak = f64::NEG_INFINITY;
    let mut peak_index = 0usize;
    let mut underwater = false;
    let n = ts.len().min(equity.len());
    for i in 0..n {
        let e = equity[i];
        if !e.is_finite() {
            continue;
        }
        if e >= peak {
            if underwater {
                out.longest_duration_ns = out.longest_duration_ns.max(ts[i] - ts[peak_index]);
                underwater = false;
            }
            peak = e;
            peak_index = i;
            continue;
        }
        underwater = true;
        if peak > 0.0 {
            let fraction = finite((peak - e) / peak);
            if fraction > out.fraction {
                out.fraction = fraction;
                out.amount = finite(peak - e);
                out.peak_index = Some(peak_index);
                out.trough_index = Some(i);
            }
        }
    }
    if underwater && n > 0 {
        out.longest_duration_ns = out.longest_duration_ns.max(ts[n - 1] - ts[peak_index]);
    }
    out
}

/// Daily returns: the curve is resampled to the last value of each UTC calendar
/// day, and each return is `v[d] / v[d-1] - 1` between consecutive days that have
/// data (a day without points is skipped, not filled). A return from a previous
/// value of 0 is counted as 0; from a negative value, the change is divided by its
/// absolute value. Only the common prefix of `ts` and `equity` is used.
pub fn daily_returns(ts: &[i64], equity: &[f64]) -> Vec<f64> {
    let mut returns = Vec::new();
    let mut current_day: Option<i64> = None;
    let mut day_close = 0.0;
    let mut prev_close: Option<f64> = None;
    for (&t, &e) in ts.iter().zip(equity) {
        let day = t.div_euclid(NS_PER_DAY);
        if current_day.is_some_and(|d| d != day) {
            if let Some(prev) = prev_close {
                returns.push(simple_return(prev, day_close));
            }
            prev_close = Some(day_close);
        }
        current_day = Some(day);
        day_close = e;
    }
    if current_day.is_some()
        && let Some(prev) = prev_close
    {
        returns.push(simple_return(prev, day_close));
    }
    returns
}

fn simple_return(prev: f64, next: f64) -> f64 {
    if prev == 0.0 {
        0.0
    } else {
        finite((next - prev) / prev.abs())
    }
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// Annualised Sharpe ratio of daily returns: `mean / sample std (n-1) × √252`,
/// risk-free rate 0. Returns 0.0 (not NaN/∞) with fewer than 2 returns or a zero
/// standard deviation.
pub fn sharpe(daily: &[f64]) -> f64 {
    if daily.len() < 2 {
        return 0.0;
    }
    let m = mean(daily);
    let var = daily.iter().map(|r| (r - m) * (r - m)).sum::<f64>() / (daily.len() - 1) as f64;
    ratio(m, var.sqrt())
}

/// Annualised Sortino ratio of daily returns: `mean / downside deviation × √252`,
/// target 0, where the downside deviation is `sqrt(Σ min(r, 0)² / n)` over all `n`
/// days. Returns 0.0 (not NaN/∞) with fewer than 2 returns or no downside.
pub fn sortino(daily: &[f64]) -> f64 {
    if daily.len() < 2 {
        return 0.0;
    }
    let m = mean(daily);
    let dd = daily.iter().map(|r| r.min(0.0).powi(2)).sum::<f64>() / daily.len() as f64;
    ratio(m, dd.sqrt())
}

fn ratio(mean: f64, deviation: f64) -> f64 {
    if deviation > 0.0 && deviation.is_finite() {
        finite(mean / deviation * TRADING_DAYS_PER_YEAR.sqrt())
    } else {
        0.0
    }
}

/// Reduces a series to at most `max_points` points for charting while keeping its
/// shape: the points are cut into `max_points / 4` equal-count buckets and each
/// bucket keeps its first, minimum, maximum and last point (in time order, without
/// duplicates). The global minimum and maximum and both endpoints therefore survive.
///
/// Series that already fit are returned unchanged. Only the common prefix of `ts`
/// and `ys` is used; NaN values are never chosen as a bucket's min/max. With
/// `max_points < 4` the kept points are, by priority, the minimum, the maximum, the
/// first and the last.
pub fn downsample_minmax(ts: &[i64], ys: &[f64], max_points: usize) -> (Vec<i64>, Vec<f64>) {
    let n = ts.len().min(ys.len());
    if n <= max_points {
        return (ts[..n].to_vec(), ys[..n].to_vec());
    }
    let mut keep: Vec<usize> = Vec::with_capacity(max_points);
    if max_points < 4 {
        let (lo, hi) = extremes(ys, 0, n);
        for i in [lo, hi, 0, n - 1] {
            if keep.len() < max_points && !keep.contains(&i) {
                keep.push(i);
            }
        }
        keep.sort_unstable();
    } else {
        let buckets = max_points / 4;
        for b in 0..buckets {
            let from = b * n / buckets;
            let to = (b + 1) * n / buckets;
            if from >= to {
                continue;
            }
            let (lo, hi) = extremes(ys, from, to);
            let mut four = [from, lo, hi, to - 1];
            four.sort_unstable();
            for i in four {
                if keep.last() != Some(&i) {
                    keep.push(i);
                }
            }
        }
    }
    let xs = keep.iter().map(|&i| ts[i]).collect();
    let vs = keep.iter().map(|&i| ys[i]).collect();
    (xs, vs)
}

/// Indices of the minimum and maximum of `ys[from..to]` (first occurrence, NaN
/// ignored; `from` when every value is NaN).
fn extremes(ys: &[f64], from: usize, to: usize) -> (usize, usize) {
    let (mut lo, mut hi) = (from, from);
    for i in from..to {
        let y = ys[i];
        if y < ys[lo] || ys[lo].is_nan() && !y.is_nan() {
            lo = i;
        }
        if y > ys[hi] || ys[hi].is_nan() && !y.is_nan() {
            hi = i;
        }
    }
    (lo, hi)
}
