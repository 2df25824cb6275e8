//! Bars, quotes/ticks and column-oriented bar series.

use super::{InstrumentId, Ts};

/// One OHLCV bar. `ts` is the bar's **open** time, `ts_end` the time it closed (and became
/// known): a strategy sees a bar at `ts_end`, never earlier. Bar and indicator math is `f64`;
/// prices become `Decimal` at the edge where orders and fills are built.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bar {
    pub instrument: InstrumentId,
    /// Open time, UTC nanoseconds.
    pub ts: Ts,
    /// Close time, UTC nanoseconds (`ts + interval`).
    pub ts_end: Ts,
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
    pub volume: f64,
}

/// A quote / trade tick. Missing values are `None` (a feed may send only some fields).
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct Tick {
    pub instrument: InstrumentId,
    pub ts: Ts,
    pub bid: Option<f64>,
    pub ask: Option<f64>,
    pub last: Option<f64>,
    pub bid_size: Option<f64>,
    pub ask_size: Option<f64>,
    pub last_size: Option<f64>,
}

impl Tick {
    /// The best single price estimate: last trade, else the mid, else whichever side exists.
    pub fn price(&self) -> Option<f64> {
        match (self.last, self.bid, self.ask) {
            (Some(l), _, _) => Some(l),
            (None, Some(b), Some(a)) => Some((b + a) * 0.5),
            (None, b, a) => b.or(a),
        }
    }
}

/// Column-oriented OHLCV bars of one symbol, in increasing `ts` order (open times, UTC ns).
///
/// This is what the data loaders produce and what the backtester iterates: plain vectors, so
/// the hot loop reads contiguous `f64`s and builds a `Copy` [`Bar`] on the stack.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BarSeries {
    /// Symbol the bars belong to (matched against the configured instruments).
    pub symbol: String,
    /// Bar length in nanoseconds (`ts_end = ts + interval`).
    pub interval: i64,
    pub ts: Vec<Ts>,
    pub open: Vec<f64>,
    pub high: Vec<f64>,
    pub low: Vec<f64>,
    pub close: Vec<f64>,
    pub volume: Vec<f64>,
}

impl BarSeries {
    pub fn with_capacity(symbol: impl Into<String>, interval: i64, n: usize) -> Self {
        BarSeries {
            symbol: symbol.into(),
            interval,
            ts: Vec::with_capacity(n),
            open: Vec::with_capacity(n),
            high: Vec::with_capacity(n),
            low: Vec::with_capacity(n),
            close: Vec::with_capacity(n),
            volume: Vec::with_capacity(n),
        }
    }

    pub fn len(&self) -> usize {
        self.ts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ts.is_empty()
    }

    /// Append one bar (no validation; loaders validate before or after pushing).
    #[allow(clippy::too_many_arguments)]
    pub fn push(&mut self, ts: Ts, open: f64, high: f64, low: f64, close: f64, volume: f64) {
        self.ts.push(ts);
        self.open.push(open);
        self.high.push(high);
        self.low.push(low);
        self.close.push(close);
        self.volume.push(volume);
    }

    /// The bar at index `i` for `instrument`.
    #[inline]
    pub fn bar(&self, instrument: InstrumentId, i: usize) -> Bar {
        let ts = self.ts[i];
        Bar {
            instrument,
            ts,
            ts_end: ts + self.interval,
            open: self.open[i],
            high: self.high[i],
            low: self.low[i],
            close: self.close[i],
            volume: self.volume[i],
        }
    }

    /// Infer the bar interval as the smallest positive gap between consecutive timestamps
    /// (sessions and weekends make larger gaps; the smallest one is the bar length).
    /// Returns `None` for fewer than two bars.
    pub fn infer_interval(ts: &[Ts]) -> Option<i64> {
        ts.windows(2).map(|w| w[1] - w[0]).filter(|d| *d > 0).min()
    }
}
