//! Stored bars at a fixed resolution, for `/iserver/marketdata/history`.

use std::collections::VecDeque;

/// One stored bar; `t` is the bar's start in epoch milliseconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HBar {
    pub t: i64,
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
    pub volume: f64,
}

/// Bars of one instrument at `res_ms`, oldest first, at most `cap` of them.
#[derive(Clone, Debug)]
pub struct History {
    res_ms: i64,
    cap: usize,
    bars: VecDeque<HBar>,
}

impl History {
    pub fn new(res_ms: i64, cap: usize) -> History {
        History {
            res_ms: res_ms.max(1),
            cap: cap.max(1),
            bars: VecDeque::new(),
        }
    }

    pub fn resolution_ms(&self) -> i64 {
        self.res_ms
    }

    /// Add a bar starting at `t_ms` (merged into the bucket it falls in).
    pub fn push(&mut self, t_ms: i64, open: f64, high: f64, low: f64, close: f64, volume: f64) {
        let bucket = t_ms.div_euclid(self.res_ms) * self.res_ms;
        if let Some(last) = self.bars.back_mut()
            && last.t == bucket
        {
            last.high = last.high.max(high);
            last.low = last.low.min(low);
            last.close = close;
            last.volume += volume;
            return;
        }
        if self.bars.back().is_some_and(|b| b.t > bucket) {
            // Out-of-order input (replay files of several intervals): keep time order.
            return;
        }
        self.bars.push_back(HBar {
            t: bucket,
            open,
            high,
            low,
            close,
            volume,
        });
        while self.bars.len() > self.cap {
            self.bars.pop_front();
        }
    }

    /// Bars with `from <= t < to`.
    pub fn range(&self, from: i64, to: i64) -> impl Iterator<Item = &HBar> {
        let start = self.bars.partition_point(|b| b.t < from);
        self.bars.range(start..).take_while(move |b| b.t < to)
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.bars.len()
    }

    /// Start of the oldest stored bar.
    pub fn first_t(&self) -> Option<i64> {
        self.bars.front().map(|b| b.t)
    }

    /// Open of the oldest stored bar.
    pub fn first_open(&self) -> Option<f64> {
        self.bars.front().map(|b| b.open)
    }
}

/// Resolution of the deep history (30 minutes: a multiple of every intraday bar from 30min,
/// aligned with the 09:30 and 16:00 New York session edges).
pub const DEEP_RES_MS: i64 = 1_800_000;
/// Most deep bars per instrument (about 17 years at 30 minutes).
const DEEP_CAP: usize = 300_000;
/// Trading time per calendar time (252 sessions of 6.5 h per 365 days): deep bars spread a
/// trading year's variance over the calendar year.
const TRADING_SHARE: f64 = 252.0 * 6.5 / (365.0 * 24.0);

/// History older than the stored bars, generated on demand at [`DEEP_RES_MS`] by walking a
/// seeded path backwards from the oldest stored bar's open, so requests for long periods
/// (`period=1y&bar=1d`) are answered with bars of that period. Deterministic: the same bar
/// time always gets the same values, whatever was requested before.
#[derive(Debug)]
pub struct DeepHistory {
    walk: crate::market::walk::Walk,
    /// Bars newest first.
    bars: Vec<HBar>,
    /// Start of the oldest generated bar (the end of the generated range before any).
    oldest: i64,
    volume_scale: f64,
}

impl DeepHistory {
    /// Deep history ending at `end_ms` (exclusive) at price `anchor`.
    pub fn new(walk: crate::market::walk::Walk, end_ms: i64, volume_scale: f64) -> DeepHistory {
        DeepHistory {
            walk,
            bars: Vec::new(),
            oldest: end_ms.div_euclid(DEEP_RES_MS) * DEEP_RES_MS,
            volume_scale,
        }
    }

    /// Generate back to `from_ms` (bounded by the cap).
    pub fn extend_to(&mut self, from_ms: i64) {
        let vol = TRADING_SHARE.sqrt();
        while self.oldest > from_ms && self.bars.len() < DEEP_CAP {
            let b = self
                .walk
                .back_bar(DEEP_RES_MS as u64, vol, self.volume_scale);
            self.oldest -= DEEP_RES_MS;
            self.bars.push(HBar {
                t: self.oldest,
                open: b.open,
                high: b.high,
                low: b.low,
                close: b.close,
                volume: b.volume,
            });
        }
    }

    /// Generated bars with `from <= t < to`, oldest first.
    pub fn range(&self, from: i64, to: i64) -> impl Iterator<Item = &HBar> {
        self.bars
            .iter()
            .rev()
            .skip_while(move |b| b.t < from)
            .take_while(move |b| b.t < to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_into_buckets_and_ranges() {
        let mut h = History::new(60_000, 3);
        h.push(0, 10.0, 11.0, 9.0, 10.5, 1.0);
        h.push(30_000, 10.5, 12.0, 10.0, 11.0, 2.0);
        h.push(60_000, 11.0, 11.0, 10.0, 10.0, 1.0);
        assert_eq!(h.len(), 2);
        let b: Vec<_> = h.range(0, 60_000).copied().collect();
        assert_eq!(
            b,
            [HBar {
                t: 0,
                open: 10.0,
                high: 12.0,
                low: 9.0,
                close: 11.0,
                volume: 3.0
            }]
        );
        h.push(120_000, 1.0, 1.0, 1.0, 1.0, 0.0);
        h.push(180_000, 1.0, 1.0, 1.0, 1.0, 0.0);
        assert_eq!(h.len(), 3, "capped");
        assert_eq!(h.range(0, i64::MAX).next().unwrap().t, 60_000);
    }

    #[test]
    fn deep_history_is_deterministic_and_ends_at_the_anchor() {
        let u = crate::contract::build_universe(&[], 0).unwrap();
        let mk = || {
            let mut w = crate::market::walk::Walk::new(5, &u[0]);
            w.set_price(190.0);
            DeepHistory::new(w, 10 * DEEP_RES_MS, 1.0)
        };
        let mut a = mk();
        a.extend_to(0);
        let bars: Vec<HBar> = a.range(0, i64::MAX).copied().collect();
        assert_eq!(bars.len(), 10);
        assert_eq!(bars[9].t, 9 * DEEP_RES_MS);
        assert_eq!(bars[9].close, crate::market::walk::on_tick(190.0, 0.01));
        for w in bars.windows(2) {
            assert_eq!(w[0].close, w[1].open, "continuous");
            assert!(
                w[0].low <= w[0].open.min(w[0].close) && w[0].high >= w[0].open.max(w[0].close)
            );
        }
        // Extending in two steps gives the same bars as in one.
        let mut b = mk();
        b.extend_to(5 * DEEP_RES_MS);
        b.extend_to(0);
        assert_eq!(b.range(0, i64::MAX).copied().collect::<Vec<_>>(), bars);
        assert_eq!(a.range(3 * DEEP_RES_MS, 5 * DEEP_RES_MS).count(), 2);
    }
}
