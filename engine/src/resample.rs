//! Higher timeframes built by the kernel from the bars it is fed
//! ([`crate::strategy::Ctx::resample`]), the same way in backtest and live.
//!
//! A fixed timeframe (`Seconds(n)`: 5 min, 1 h, …) buckets bars by their open time on a grid
//! aligned to UTC midnight (`n` divides a day for the usual sizes); a bucket is complete when
//! a bar ending on or after its end arrives, and is then delivered after that bar. A bucket
//! left incomplete by a gap is delivered when the next bar of a later bucket arrives, before
//! that bar. `Day` buckets by the instrument's local date; a day is delivered when the first
//! bar of a later day arrives (its end is the last bar's end), before that bar. What is still
//! forming when the run stops is not delivered (it is not known to be complete; a live run
//! must not trade on it at shutdown). So a resampled bar holds only bars already shown, and
//! `ctx.now() >= bar.ts_end` when it arrives: no look-ahead.

use chrono::Datelike;

use crate::domain::{Bar, Instrument, Ts};

const NANOS_PER_SEC: i64 = 1_000_000_000;

/// A bar interval built from the bars the kernel is fed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Timeframe {
    /// A fixed length in seconds, aligned to UTC midnight.
    Seconds(u32),
    /// One day of the instrument's time zone.
    Day,
}

impl Timeframe {
    pub const fn minutes(n: u32) -> Timeframe {
        Timeframe::Seconds(n.saturating_mul(60))
    }

    pub const fn hours(n: u32) -> Timeframe {
        Timeframe::Seconds(n.saturating_mul(3_600))
    }

    /// `5min`, `1h`, `90s`, `1d`.
    pub fn label(&self) -> String {
        match *self {
            Timeframe::Day => "1d".into(),
            Timeframe::Seconds(s) if s % 3_600 == 0 => format!("{}h", s / 3_600),
            Timeframe::Seconds(s) if s % 60 == 0 => format!("{}min", s / 60),
            Timeframe::Seconds(s) => format!("{s}s"),
        }
    }

    /// The bucket a bar opening at `ts` belongs to.
    fn key(&self, ts: Ts, tz: chrono_tz::Tz) -> i64 {
        match *self {
            Timeframe::Seconds(s) => ts.div_euclid(i64::from(s) * NANOS_PER_SEC),
            Timeframe::Day => {
                let local = chrono::DateTime::from_timestamp_nanos(ts).with_timezone(&tz);
                i64::from(local.date_naive().num_days_from_ce())
            }
        }
    }

    /// The end of bucket `key` for fixed timeframes.
    fn end(&self, key: i64) -> Option<Ts> {
        match *self {
            Timeframe::Seconds(s) => Some((key + 1).saturating_mul(i64::from(s) * NANOS_PER_SEC)),
            Timeframe::Day => None,
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Forming {
    key: i64,
    bar: Bar,
}

/// The forming bars of every requested timeframe and instrument.
#[derive(Clone, Debug, Default)]
pub struct Resampler {
    frames: Vec<Timeframe>,
    /// `forming[frame][instrument]`.
    forming: Vec<Vec<Option<Forming>>>,
    tzs: Vec<chrono_tz::Tz>,
}

impl Resampler {
    /// Build `frame` for every instrument from now on (again: nothing changes). A zero-length
    /// frame is refused.
    pub fn add(&mut self, frame: Timeframe, instruments: &[Instrument]) -> bool {
        if frame == Timeframe::Seconds(0) {
            return false;
        }
        if self.tzs.len() != instruments.len() {
            // Configurations are checked for valid zones when loaded; an instrument built in
            // code with a bad one gets UTC days, said once.
            self.tzs = instruments
                .iter()
                .map(|i| {
                    i.timezone.parse().unwrap_or_else(|_| {
                        tracing::warn!(symbol = %i.symbol, timezone = %i.timezone, "unknown time zone: daily bars use UTC days");
                        chrono_tz::UTC
                    })
                })
                .collect();
        }
        if !self.frames.contains(&frame) {
            let at = self.frames.partition_point(|f| *f < frame);
            self.frames.insert(at, frame);
            self.forming.insert(at, vec![None; instruments.len()]);
        }
        true
    }

    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// Each timeframe's forming slot for `bar`'s instrument, with the bucket `bar` falls in.
    fn each_slot(&mut self, bar: &Bar, mut f: impl FnMut(Timeframe, i64, &mut Option<Forming>)) {
        let i = bar.instrument.index();
        let Some(&tz) = self.tzs.get(i) else {
            return;
        };
        for (frame, forming) in self.frames.iter().zip(&mut self.forming) {
            if let Some(slot) = forming.get_mut(i) {
                f(*frame, frame.key(bar.ts, tz), slot);
            }
        }
    }

    /// Before `bar` is shown: the buckets of its instrument that it shows to be over (a gap
    /// or a new day), in timeframe order.
    pub fn before(&mut self, bar: &Bar, out: &mut Vec<(Timeframe, Bar)>) {
        self.each_slot(bar, |frame, key, slot| {
            if slot.is_some_and(|f| f.key != key)
                && let Some(done) = slot.take()
            {
                out.push((frame, done.bar));
            }
        });
    }

    /// After `bar` is shown: fold it in; the fixed buckets it completes, in timeframe order.
    pub fn after(&mut self, bar: &Bar, out: &mut Vec<(Timeframe, Bar)>) {
        self.each_slot(bar, |frame, key, slot| {
            let end = frame.end(key);
            match slot {
                Some(f) if f.key == key => {
                    let b = &mut f.bar;
                    b.high = b.high.max(bar.high);
                    b.low = b.low.min(bar.low);
                    b.close = bar.close;
                    b.volume += bar.volume;
                    b.ts_end = end.unwrap_or(bar.ts_end);
                }
                _ => {
                    let mut b = *bar;
                    b.ts_end = end.unwrap_or(bar.ts_end);
                    *slot = Some(Forming { key, bar: b });
                }
            }
            if end.is_some_and(|e| bar.ts_end >= e)
                && let Some(done) = slot.take()
            {
                out.push((frame, done.bar));
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::domain::InstrumentId;

    const MIN: i64 = 60 * NANOS_PER_SEC;

    fn bar(k: i64, close: f64) -> Bar {
        Bar {
            instrument: InstrumentId(0),
            ts: k * MIN,
            ts_end: (k + 1) * MIN,
            open: close - 0.5,
            high: close + 1.0,
            low: close - 1.0,
            close,
            volume: 10.0,
        }
    }

    /// Feed bars as the kernel does; every delivered bar with the index of the base bar it
    /// came with (before it: `k - 0.5`, after it: `k`).
    fn run(frame: Timeframe, bars: &[Bar]) -> Vec<(f64, Bar)> {
        let mut r = Resampler::default();
        assert!(r.add(frame, &[Instrument::stock("X")]));
        let mut got = Vec::new();
        let mut out = Vec::new();
        for (k, b) in bars.iter().enumerate() {
            r.before(b, &mut out);
            got.extend(out.drain(..).map(|(_, x)| (k as f64 - 0.5, x)));
            r.after(b, &mut out);
            got.extend(out.drain(..).map(|(_, x)| (k as f64, x)));
        }
        got
    }

    #[test]
    fn five_minutes_from_minutes_closes_on_the_grid() {
        let bars: Vec<Bar> = (0..12).map(|k| bar(k, 100.0 + k as f64)).collect();
        let got = run(Timeframe::minutes(5), &bars);
        assert_eq!(got.len(), 2, "minutes 10-11 never complete: not delivered");
        // Minutes 0-4, delivered after minute 4; its end is the bucket's.
        assert_eq!(got[0].0, 4.0);
        let b = got[0].1;
        assert_eq!((b.ts, b.ts_end), (0, 5 * MIN));
        assert_eq!(
            (b.open, b.high, b.low, b.close, b.volume),
            (99.5, 105.0, 99.0, 104.0, 50.0)
        );
        assert_eq!(got[1].0, 9.0);
        assert_eq!(Timeframe::minutes(5).label(), "5min");
        assert_eq!(Timeframe::hours(2).label(), "2h");
        assert_eq!(Timeframe::Day.label(), "1d");
    }

    #[test]
    fn a_day_is_delivered_before_the_first_bar_of_the_next() {
        // New York: 2024-01-02 14:30 UTC is 09:30 local; a bar the next day.
        let day1 = 1_704_205_800 * NANOS_PER_SEC / MIN;
        let mut bars: Vec<Bar> = (0..3).map(|k| bar(day1 + k, 100.0 + k as f64)).collect();
        bars.push(bar(day1 + 24 * 60, 200.0));
        let got = run(Timeframe::Day, &bars);
        assert_eq!(got[0].0, 2.5, "before the next day's first bar");
        assert_eq!(got[0].1.close, 102.0);
        assert_eq!(got[0].1.ts_end, bars[2].ts_end);
        assert_eq!(got.len(), 1, "the last day is never known to be over");
    }

    #[test]
    fn zero_length_is_refused() {
        assert!(!Resampler::default().add(Timeframe::Seconds(0), &[Instrument::stock("X")]));
    }

    proptest! {
        /// Against a naive grouping of the same bars by bucket: the same bars, and each one
        /// delivered no earlier than the last base bar it holds.
        #[test]
        fn equals_a_naive_aggregation(
            steps in proptest::collection::vec((1i64..4, 50.0f64..150.0), 1..120),
            minutes in prop_oneof![Just(2u32), Just(5), Just(15), Just(60)],
        ) {
            let mut k = 0;
            let bars: Vec<Bar> = steps.iter().map(|(gap, px)| { k += gap; bar(k, *px) }).collect();
            let frame = Timeframe::minutes(minutes);
            let got = run(frame, &bars);
            let width = i64::from(minutes) * MIN;
            let mut naive: Vec<Bar> = Vec::new();
            for b in &bars {
                match naive.last_mut() {
                    Some(n) if n.ts.div_euclid(width) == b.ts.div_euclid(width) => {
                        n.high = n.high.max(b.high);
                        n.low = n.low.min(b.low);
                        n.close = b.close;
                        n.volume += b.volume;
                    }
                    _ => {
                        let mut n = *b;
                        n.ts_end = (b.ts.div_euclid(width) + 1) * width;
                        naive.push(n);
                    }
                }
            }
            // The last bucket is delivered only when a bar reached its end.
            if naive.last().is_some_and(|n| bars.last().is_some_and(|b| b.ts_end < n.ts_end)) {
                naive.pop();
            }
            prop_assert_eq!(got.iter().map(|(_, b)| *b).collect::<Vec<_>>(), naive);
            for (at, b) in &got {
                let last_in = bars.iter().rposition(|x| x.ts < b.ts_end && x.ts >= b.ts).unwrap() as f64;
                prop_assert!(*at >= last_in, "delivered before its last bar");
            }
        }
    }
}
