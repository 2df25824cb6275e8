//! Bars from a live feed.
//!
//! * `ticks` source ([`Aggregator`]): ticks are aggregated into bars of the configured length
//!   aligned to the clock (a 60 s bar closes at every whole minute): open/high/low/close from
//!   the tick price (last trade, else the mid), volume from the differences of the venue's
//!   day volume. A window in which an instrument saw no price gives it no bar.
//! * `history` source ([`HistoryCursor`]): completed bars are read from the venue's history
//!   after each window closed, so they are the venue's own OHLCV (what a backtest over the
//!   venue's history sees); only bars newer than the last one delivered pass.

use tickline_engine::domain::{Bar, InstrumentId, Ts};

/// One instrument's bar under construction.
#[derive(Clone, Copy, Debug, Default)]
pub struct BarBuilder {
    open: f64,
    high: f64,
    low: f64,
    close: f64,
    volume: f64,
    has_data: bool,
    /// Day volume at the previous tick (volume deltas).
    day_volume: Option<f64>,
}

impl BarBuilder {
    pub fn update(&mut self, price: Option<f64>, day_volume: Option<f64>) {
        if let Some(v) = day_volume.filter(|v| v.is_finite()) {
            if let Some(prev) = self.day_volume
                && v > prev
            {
                self.volume += v - prev;
            }
            self.day_volume = Some(v);
        }
        let Some(p) = price.filter(|p| p.is_finite() && *p > 0.0) else {
            return;
        };
        if self.has_data {
            self.high = self.high.max(p);
            self.low = self.low.min(p);
        } else {
            self.open = p;
            self.high = p;
            self.low = p;
            self.has_data = true;
        }
        self.close = p;
    }

    /// The finished bar, if the window saw a price; resets for the next window.
    pub fn take(&mut self, instrument: InstrumentId, ts: Ts, ts_end: Ts) -> Option<Bar> {
        let volume = std::mem::take(&mut self.volume);
        if !std::mem::take(&mut self.has_data) {
            return None;
        }
        Some(Bar {
            instrument,
            ts,
            ts_end,
            open: self.open,
            high: self.high,
            low: self.low,
            close: self.close,
            volume,
        })
    }
}

/// Clock-aligned bar windows for every instrument of a run.
#[derive(Clone, Debug)]
pub struct Aggregator {
    bar_ns: i64,
    window_start: Ts,
    builders: Vec<BarBuilder>,
}

impl Aggregator {
    /// `n` instruments, bars of `bar_ns` (> 0), the first window the one containing `now`.
    pub fn new(n: usize, bar_ns: i64, now: Ts) -> Self {
        let bar_ns = bar_ns.max(1);
        Aggregator {
            bar_ns,
            window_start: now - now.rem_euclid(bar_ns),
            builders: vec![BarBuilder::default(); n],
        }
    }

    /// When the current window closes.
    pub fn window_end(&self) -> Ts {
        self.window_start.saturating_add(self.bar_ns)
    }

    /// A tick of `instrument` (ignored when out of range).
    pub fn update(
        &mut self,
        instrument: InstrumentId,
        price: Option<f64>,
        day_volume: Option<f64>,
    ) {
        if let Some(b) = self.builders.get_mut(instrument.index()) {
            b.update(price, day_volume);
        }
    }

    /// Close the current window if `now` reached its end, pushing one bar per instrument
    /// that saw a price into `out`; returns the window's end when it closed. Windows skipped
    /// entirely (a stalled loop) produce no bars: the next window is the one holding `now`.
    pub fn close_due(&mut self, now: Ts, out: &mut Vec<Bar>) -> Option<Ts> {
        let end = self.window_end();
        if now < end {
            return None;
        }
        let start = self.window_start;
        for (k, b) in self.builders.iter_mut().enumerate() {
            if let Some(bar) = b.take(InstrumentId(k as u32), start, end) {
                out.push(bar);
            }
        }
        self.window_start = now - now.rem_euclid(self.bar_ns);
        Some(end)
    }
}

/// Which history bars are new, per instrument.
#[derive(Clone, Debug)]
pub struct HistoryCursor {
    last_end: Vec<Ts>,
}

impl HistoryCursor {
    pub fn new(n: usize) -> Self {
        HistoryCursor {
            last_end: vec![Ts::MIN; n],
        }
    }

    /// Mark `instrument`'s bars up to `ts_end` as delivered (e.g. after warm-up).
    pub fn seen(&mut self, instrument: InstrumentId, ts_end: Ts) {
        if let Some(t) = self.last_end.get_mut(instrument.index()) {
            *t = (*t).max(ts_end);
        }
    }

    /// The bars of `bars` (one instrument, oldest first) newer than the last delivered and
    /// completed by `now`, in order; marks them delivered.
    pub fn fresh(&mut self, bars: &[Bar], now: Ts, out: &mut Vec<Bar>) {
        for bar in bars {
            let Some(last) = self.last_end.get_mut(bar.instrument.index()) else {
                continue;
            };
            if bar.ts_end > *last && bar.ts_end <= now {
                *last = bar.ts_end;
                out.push(*bar);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bar_builder_tracks_ohlc_and_volume_deltas() {
        let mut b = BarBuilder::default();
        assert!(b.take(InstrumentId(0), 0, 10).is_none());
        b.update(Some(10.0), Some(1_000.0));
        b.update(Some(12.0), Some(1_500.0));
        b.update(Some(9.0), None);
        b.update(None, Some(1_700.0));
        b.update(Some(11.0), Some(1_600.0));
        let bar = b.take(InstrumentId(3), 100, 200).expect("bar");
        assert_eq!(
            (bar.open, bar.high, bar.low, bar.close, bar.volume),
            (10.0, 12.0, 9.0, 11.0, 700.0)
        );
        assert_eq!(
            (bar.instrument, bar.ts, bar.ts_end),
            (InstrumentId(3), 100, 200)
        );
        assert!(b.take(InstrumentId(3), 200, 300).is_none());
        b.update(Some(f64::NAN), Some(1_650.0));
        b.update(Some(-1.0), None);
        b.update(Some(13.0), Some(1_800.0));
        let bar = b.take(InstrumentId(3), 200, 300).expect("bar");
        assert_eq!((bar.open, bar.close, bar.volume), (13.0, 13.0, 200.0));
    }

    #[test]
    fn windows_align_to_the_bar_length_and_skip_stalls() {
        let mut a = Aggregator::new(2, 1_000, 12_345);
        assert_eq!(a.window_end(), 13_000);
        let mut out = Vec::new();
        a.update(InstrumentId(1), Some(5.0), None);
        assert_eq!(a.close_due(12_999, &mut out), None);
        assert_eq!(a.close_due(13_000, &mut out), Some(13_000));
        assert_eq!(out.len(), 1, "only the instrument that traded");
        assert_eq!((out[0].ts, out[0].ts_end), (12_000, 13_000));
        // A stall of three windows: the next window is the one holding `now`.
        a.update(InstrumentId(0), Some(1.0), None);
        out.clear();
        assert_eq!(a.close_due(16_500, &mut out), Some(14_000));
        assert_eq!(a.window_end(), 17_000);
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn history_cursor_delivers_each_completed_bar_once() {
        let bar = |end: Ts| Bar {
            instrument: InstrumentId(0),
            ts: end - 60,
            ts_end: end,
            open: 1.0,
            high: 1.0,
            low: 1.0,
            close: 1.0,
            volume: 0.0,
        };
        let mut c = HistoryCursor::new(1);
        c.seen(InstrumentId(0), 120);
        let mut out = Vec::new();
        c.fresh(&[bar(60), bar(120), bar(180), bar(240)], 200, &mut out);
        assert_eq!(out.iter().map(|b| b.ts_end).collect::<Vec<_>>(), vec![180]);
        out.clear();
        c.fresh(&[bar(180), bar(240)], 240, &mut out);
        assert_eq!(out.iter().map(|b| b.ts_end).collect::<Vec<_>>(), vec![240]);
    }
}
