//! The bars a strategy asked the kernel to keep ([`crate::strategy::Ctx::keep_history`]) and
//! the read-only window over them ([`crate::strategy::Ctx::history`]).
//!
//! One ring per instrument, sized once when the strategy asks: pushing a bar copies it into
//! the ring and never allocates. Nothing is kept (and nothing costs) until a strategy asks.

use std::collections::VecDeque;

use crate::domain::{Bar, InstrumentId};

/// The most bars a strategy may keep per instrument.
pub const MAX_KEPT_BARS: usize = 1_000_000;

/// The last bars of every instrument, up to `keep` each.
#[derive(Clone, Debug, Default)]
pub struct BarHistory {
    keep: usize,
    rings: Vec<VecDeque<Bar>>,
}

impl BarHistory {
    /// Keep the last `bars` bars (at most [`MAX_KEPT_BARS`]) of each of `instruments`
    /// instruments; a smaller number than already kept changes nothing.
    pub fn keep(&mut self, instruments: usize, bars: usize) {
        let bars = bars.min(MAX_KEPT_BARS);
        if bars <= self.keep && self.rings.len() == instruments {
            return;
        }
        self.keep = self.keep.max(bars);
        self.rings.resize_with(instruments, VecDeque::new);
        for ring in &mut self.rings {
            ring.reserve_exact(self.keep.saturating_sub(ring.len()));
        }
    }

    /// How many bars per instrument are kept (0: none).
    pub fn kept(&self) -> usize {
        self.keep
    }

    /// Record a closed bar.
    #[inline]
    pub fn push(&mut self, bar: &Bar) {
        if self.keep == 0 {
            return;
        }
        let Some(ring) = self.rings.get_mut(bar.instrument.index()) else {
            return;
        };
        if ring.len() == self.keep {
            ring.pop_front();
        }
        ring.push_back(*bar);
    }

    /// The last `n` bars of `instrument` (fewer when fewer are kept), oldest first.
    pub fn window(&self, instrument: InstrumentId, n: usize) -> BarWindow<'_> {
        let Some(ring) = self.rings.get(instrument.index()) else {
            return BarWindow::EMPTY;
        };
        let n = n.min(ring.len());
        let (a, b) = ring.as_slices();
        let skip = ring.len() - n;
        if skip >= a.len() {
            BarWindow {
                head: &b[skip - a.len()..],
                tail: &[],
            }
        } else {
            BarWindow {
                head: &a[skip..],
                tail: b,
            }
        }
    }
}

/// The last bars of one instrument, oldest first; `get(len() - 1)` is the bar just closed.
#[derive(Clone, Copy, Debug)]
pub struct BarWindow<'a> {
    head: &'a [Bar],
    tail: &'a [Bar],
}

impl<'a> BarWindow<'a> {
    /// No bars.
    pub const EMPTY: BarWindow<'static> = BarWindow {
        head: &[],
        tail: &[],
    };

    pub fn len(&self) -> usize {
        self.head.len() + self.tail.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `i`-th bar, 0 = the oldest.
    pub fn get(&self, i: usize) -> Option<&'a Bar> {
        if i < self.head.len() {
            self.head.get(i)
        } else {
            self.tail.get(i - self.head.len())
        }
    }

    /// The newest bar.
    pub fn last(&self) -> Option<&'a Bar> {
        self.tail.last().or(self.head.last())
    }

    /// Oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &'a Bar> + 'a {
        self.head.iter().chain(self.tail.iter())
    }

    pub fn closes(&self) -> impl DoubleEndedIterator<Item = f64> + 'a {
        self.iter().map(|b| b.close)
    }

    /// The highest high (`None` when empty).
    pub fn highest_high(&self) -> Option<f64> {
        self.iter().map(|b| b.high).reduce(f64::max)
    }

    /// The lowest low (`None` when empty).
    pub fn lowest_low(&self) -> Option<f64> {
        self.iter().map(|b| b.low).reduce(f64::min)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn bar(i: InstrumentId, k: i64) -> Bar {
        let px = k as f64;
        Bar {
            instrument: i,
            ts: k * 60,
            ts_end: (k + 1) * 60,
            open: px,
            high: px + 0.5,
            low: px - 0.5,
            close: px,
            volume: 1.0,
        }
    }

    #[test]
    fn nothing_is_kept_until_asked() {
        let mut h = BarHistory::default();
        h.push(&bar(InstrumentId(0), 1));
        assert!(h.window(InstrumentId(0), 5).is_empty());
        assert_eq!(h.kept(), 0);
    }

    #[test]
    fn a_window_is_the_last_bars_oldest_first_per_instrument() {
        let mut h = BarHistory::default();
        h.keep(2, 3);
        for k in 0..10 {
            h.push(&bar(InstrumentId(0), k));
            h.push(&bar(InstrumentId(1), 100 + k));
        }
        let w = h.window(InstrumentId(0), 5);
        assert_eq!(w.closes().collect::<Vec<_>>(), [7.0, 8.0, 9.0]);
        assert_eq!(w.last().map(|b| b.close), Some(9.0));
        assert_eq!(
            h.window(InstrumentId(1), 2).closes().collect::<Vec<_>>(),
            [108.0, 109.0]
        );
        assert_eq!(w.highest_high(), Some(9.5));
        assert_eq!(w.lowest_low(), Some(6.5));
        assert!(
            h.window(InstrumentId(7), 2).is_empty(),
            "unknown instrument"
        );
        // Asking for fewer keeps what there is; asking for more grows.
        h.keep(2, 1);
        assert_eq!(h.kept(), 3);
        h.keep(2, 4);
        h.push(&bar(InstrumentId(0), 10));
        assert_eq!(h.window(InstrumentId(0), 9).len(), 4);
    }

    proptest! {
        /// The window equals the tail of everything pushed, whatever the ring's wrap point.
        #[test]
        fn window_is_the_tail_of_the_pushed_bars(keep in 1usize..20, pushed in 0i64..60, n in 0usize..25) {
            let mut h = BarHistory::default();
            h.keep(1, keep);
            for k in 0..pushed {
                h.push(&bar(InstrumentId(0), k));
            }
            let w = h.window(InstrumentId(0), n);
            let all: Vec<f64> = (0..pushed).map(|k| k as f64).collect();
            let want = all[all.len().saturating_sub(keep.min(n))..].to_vec();
            prop_assert_eq!(w.closes().collect::<Vec<_>>(), want.clone());
            prop_assert_eq!(w.len(), want.len());
            for (i, c) in want.iter().enumerate() {
                prop_assert_eq!(w.get(i).map(|b| b.close), Some(*c));
            }
            prop_assert!(w.get(want.len()).is_none());
        }
    }
}
