//! The seeded price walk: a geometric random walk producing one OHLCV bar per step, with
//! prices on the contract's tick.

use crate::contract::Contract;
use crate::rng::Rng;

/// Milliseconds in a "trading year" (252 sessions of 6.5 hours): volatilities are annualised
/// over trading time, so a simulated second moves like a second of a real session.
const TRADING_YEAR_MS: f64 = 252.0 * 6.5 * 3_600_000.0;

/// One generated bar.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ohlcv {
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
    pub volume: f64,
}

/// Round to the tick, never below one tick.
pub fn on_tick(px: f64, tick: f64) -> f64 {
    ((px / tick).round() * tick).max(tick)
}

/// A per-instrument walk.
#[derive(Clone, Debug)]
pub struct Walk {
    rng: Rng,
    price: f64,
    vol: f64,
    tick: f64,
    mean_volume: f64,
    lot: f64,
}

impl Walk {
    pub fn new(seed: u64, c: &Contract) -> Walk {
        Walk {
            rng: Rng::derive(seed, c.conid as u64),
            price: c.start_price,
            vol: c.volatility,
            tick: f64::try_from(c.inst.tick_size).unwrap_or(0.01),
            mean_volume: c.mean_volume,
            lot: f64::try_from(c.inst.lot_size).unwrap_or(1.0),
        }
    }

    pub fn price(&self) -> f64 {
        self.price
    }

    pub fn set_price(&mut self, px: f64) {
        self.price = px;
    }

    /// The next bar over `dt_ms` of simulated time: four sub-steps of the walk, opening at
    /// the previous close.
    pub fn next_bar(&mut self, dt_ms: u64, volume_scale: f64) -> Ohlcv {
        let open = on_tick(self.price, self.tick);
        let sub = (dt_ms as f64 / 4.0) / TRADING_YEAR_MS;
        let s = self.vol * sub.sqrt();
        let (mut high, mut low, mut p) = (open, open, self.price);
        for _ in 0..4 {
            p *= (s * self.rng.normal() - 0.5 * s * s).exp();
            let q = on_tick(p, self.tick);
            high = high.max(q);
            low = low.min(q);
        }
        self.price = p;
        let close = on_tick(p, self.tick);
        let v = self.mean_volume * volume_scale * (0.5 + self.rng.next_f64());
        Ohlcv {
            open,
            high,
            low,
            close,
            volume: ((v / self.lot).round() * self.lot).max(0.0),
        }
    }

    /// One bar of `dt_ms` ending at the current price, generated backwards: the walk moves to
    /// the bar's open, so repeated calls extend history further into the past. `vol_scale`
    /// scales the per-bar volatility (deep history spreads a trading year's variance over
    /// the calendar).
    pub fn back_bar(&mut self, dt_ms: u64, vol_scale: f64, volume_scale: f64) -> Ohlcv {
        let s = self.vol * vol_scale * (dt_ms as f64 / TRADING_YEAR_MS).sqrt();
        let close_px = self.price;
        let open_px = close_px * (-s * self.rng.normal()).exp();
        self.price = open_px;
        self.bar_between(open_px, close_px, s, volume_scale)
    }

    /// A bar from `open_px` to `close_px` with seeded wicks and volume.
    fn bar_between(&mut self, open_px: f64, close_px: f64, s: f64, volume_scale: f64) -> Ohlcv {
        let open = on_tick(open_px, self.tick);
        let close = on_tick(close_px, self.tick);
        let wick_hi = open_px.max(close_px) * (1.0 + 0.5 * s * self.rng.next_f64());
        let wick_lo = open_px.min(close_px) * (1.0 - 0.5 * s * self.rng.next_f64());
        let v = self.mean_volume * volume_scale * (0.5 + self.rng.next_f64());
        Ohlcv {
            open,
            high: on_tick(wick_hi, self.tick).max(open.max(close)),
            low: on_tick(wick_lo, self.tick).min(open.min(close)),
            close,
            volume: ((v / self.lot).round() * self.lot).max(0.0),
        }
    }

    /// `n` bars of `dt_ms` ending at the current price (generated backwards, so the walk's
    /// starting price is where history ends), oldest first.
    pub fn backfill(&mut self, n: usize, dt_ms: u64, volume_scale: f64) -> Vec<Ohlcv> {
        let s = self.vol * (dt_ms as f64 / TRADING_YEAR_MS).sqrt();
        let mut closes = vec![self.price; n + 1];
        for i in (0..n).rev() {
            closes[i] = closes[i + 1] * (-s * self.rng.normal()).exp();
        }
        (0..n)
            .map(|i| self.bar_between(closes[i], closes[i + 1], s, volume_scale))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::build_universe;

    #[test]
    fn bars_are_consistent_and_on_tick() {
        let u = build_universe(&[], 0).unwrap();
        for c in &u {
            let tick = f64::try_from(c.inst.tick_size).unwrap();
            let mut w = Walk::new(7, c);
            let mut prev_close = None;
            for _ in 0..500 {
                let b = w.next_bar(1_000, 1.0);
                assert!(
                    b.low <= b.open.min(b.close) && b.high >= b.open.max(b.close),
                    "{b:?}"
                );
                for p in [b.open, b.high, b.low, b.close] {
                    assert!(
                        ((p / tick) - (p / tick).round()).abs() < 1e-6,
                        "{} off tick: {p}",
                        c.symbol()
                    );
                }
                if let Some(pc) = prev_close {
                    assert_eq!(b.open, pc);
                }
                prev_close = Some(b.close);
            }
        }
    }

    #[test]
    fn backfill_ends_at_the_current_price() {
        let u = build_universe(&[], 0).unwrap();
        let mut w = Walk::new(1, &u[0]);
        let bars = w.backfill(100, 60_000, 60.0);
        assert_eq!(bars.len(), 100);
        assert_eq!(bars[99].close, on_tick(u[0].start_price, 0.01));
        for b in &bars {
            assert!(b.low <= b.open.min(b.close) && b.high >= b.open.max(b.close));
        }
    }
}
