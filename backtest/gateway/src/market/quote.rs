//! The top of book and day statistics of one instrument, derived from its bars.

use chrono::Datelike;

use crate::contract::Contract;
use crate::market::walk::{Ohlcv, on_tick};
use crate::rng::Rng;

/// Latest market state of one instrument (f64: market-data math).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Quote {
    /// False until the instrument has a price.
    pub has_data: bool,
    pub last: f64,
    pub bid: f64,
    pub ask: f64,
    pub bid_size: f64,
    pub ask_size: f64,
    pub last_size: f64,
    pub day_open: f64,
    pub day_high: f64,
    pub day_low: f64,
    pub day_volume: f64,
    pub prior_close: f64,
    /// Epoch ms of the last update (simulated time).
    pub updated_ms: i64,
    /// Local trade date (days since the epoch) the day statistics belong to.
    pub day: i64,
}

impl Quote {
    /// Fold one bar ending at `ts_end_ms` into the quote.
    pub fn apply(&mut self, c: &Contract, bar: &Ohlcv, ts_end_ms: i64, rng: &mut Rng) {
        let day = chrono::DateTime::from_timestamp_millis(ts_end_ms)
            .map(|d| d.with_timezone(&c.tz()).date_naive().num_days_from_ce() as i64)
            .unwrap_or_default();
        if !self.has_data || day != self.day {
            self.prior_close = if self.has_data { self.last } else { bar.open };
            self.day = day;
            self.day_open = bar.open;
            self.day_high = bar.high;
            self.day_low = bar.low;
            self.day_volume = 0.0;
        }
        let tick = f64::try_from(c.inst.tick_size).unwrap_or(0.01);
        self.has_data = true;
        self.last = bar.close;
        if rng.next_u64() & 1 == 0 {
            self.bid = on_tick(bar.close, tick);
            self.ask = self.bid + tick;
        } else {
            self.ask = on_tick(bar.close, tick);
            self.bid = (self.ask - tick).max(tick);
        }
        self.day_high = self.day_high.max(bar.high);
        self.day_low = self.day_low.min(bar.low);
        self.day_volume += bar.volume;
        let (lo, hi, unit) = match c.inst.sec_type {
            tickline_engine::domain::SecType::Stk => (1, 30, 1.0),
            tickline_engine::domain::SecType::Cash => (1, 20, 100_000.0),
            _ => (1, 50, 1.0),
        };
        self.bid_size = rng.range(lo, hi) as f64 * unit;
        self.ask_size = rng.range(lo, hi) as f64 * unit;
        self.last_size = match c.inst.sec_type {
            tickline_engine::domain::SecType::Stk => rng.range(1, 5) as f64 * 100.0,
            _ => rng.range(1, 10) as f64 * unit,
        };
        self.updated_ms = ts_end_ms;
    }

    pub fn mid(&self) -> f64 {
        (self.bid + self.ask) * 0.5
    }
}
