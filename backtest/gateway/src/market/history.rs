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
}
