//! Deterministic synthetic one-minute US-equity bars.
//!
//! The model, per bar of a regular session (09:30–16:00 exchange time, 390 bars, weekdays):
//! * log-volatility follows a mean-reverting AR(1) (stochastic volatility);
//! * volatility and volume follow a U-shaped intraday profile (busy open and close);
//! * the price is a geometric random walk; each session opens with a small overnight gap;
//! * wicks extend beyond open/close by a random fraction of the bar's volatility;
//! * prices are rounded to a 0.01 tick (never below 0.01), volumes to positive integers.
//!
//! The output depends only on the [`SynthConfig`] (the generator is in this crate).

use chrono::{Datelike, NaiveDate, Weekday};
use chrono_tz::Tz;
use tickline_engine::domain::{BarSeries, NANOS_PER_SEC};

use crate::rng::Rng;
use crate::timestamp::local_to_utc;

/// Bars in one regular session (09:30–16:00).
pub const BARS_PER_DAY: usize = 390;
/// Trading days per year used to scale annual figures.
const DAYS_PER_YEAR: f64 = 252.0;
/// Ticks per currency unit (tick = 0.01).
const TICKS_PER_UNIT: f64 = 100.0;
/// Bar length: one minute.
const BAR_NANOS: i64 = 60 * NANOS_PER_SEC;

/// Parameters of [`generate`]. Rates and volatilities are annualised where noted.
#[derive(Clone, Debug, PartialEq)]
pub struct SynthConfig {
    /// Exact number of bars to produce.
    pub bars: usize,
    /// Seed of the random generator; the same config always yields the same bars.
    pub seed: u64,
    pub symbol: String,
    /// Price of the first bar's open.
    pub start_price: f64,
    /// First session (moved forward to the next weekday if it is a weekend).
    pub start_date: NaiveDate,
    /// Exchange time zone of the 09:30–16:00 session.
    pub timezone: Tz,
    /// Long-run annualised volatility of returns (e.g. 0.2 = 20 %).
    pub annual_vol: f64,
    /// Annualised drift of the log price.
    pub annual_drift: f64,
    /// Stationary standard deviation of log-volatility (size of volatility regimes).
    pub vol_of_vol: f64,
    /// Half-life of volatility shocks, in bars.
    pub vol_half_life_bars: f64,
    /// Standard deviation of the overnight log gap at each session open.
    pub overnight_gap_vol: f64,
    /// Average volume per bar (shares).
    pub mean_volume: f64,
}

impl Default for SynthConfig {
    fn default() -> Self {
        SynthConfig {
            bars: BARS_PER_DAY * 21,
            seed: 42,
            symbol: "SYNTH".to_string(),
            start_price: 100.0,
            start_date: NaiveDate::from_ymd_opt(2024, 1, 2).unwrap_or_default(),
            timezone: chrono_tz::America::New_York,
            annual_vol: 0.2,
            annual_drift: 0.05,
            vol_of_vol: 0.4,
            vol_half_life_bars: 2.0 * BARS_PER_DAY as f64,
            overnight_gap_vol: 0.004,
            mean_volume: 20_000.0,
        }
    }
}

/// U-shaped intraday volatility profile (mean ≈ 1 over a session).
fn vol_profile(i: usize) -> f64 {
    let x = 2.0 * (i as f64 + 0.5) / BARS_PER_DAY as f64 - 1.0;
    0.6 + 1.2 * x * x
}

/// U-shaped intraday volume profile (mean ≈ 1 over a session), steeper than volatility.
fn volume_profile(i: usize) -> f64 {
    let x = 2.0 * (i as f64 + 0.5) / BARS_PER_DAY as f64 - 1.0;
    0.4 + 1.8 * x * x
}

/// Round to the price tick (the f64 nearest to k/100), never below one tick.
fn on_tick(p: f64) -> f64 {
    (p * TICKS_PER_UNIT).round().max(1.0) / TICKS_PER_UNIT
}

/// Weekdays from `start`, as session open times in UTC nanoseconds (days whose 09:30 does
/// not exist in `tz` are skipped).
fn session_opens(start: NaiveDate, tz: Tz) -> impl Iterator<Item = i64> {
    start
        .iter_days()
        .take_while(|d| d.year() <= 2262)
        .filter(|d| !matches!(d.weekday(), Weekday::Sat | Weekday::Sun))
        .filter_map(move |d| local_to_utc(tz, d, 9, 30))
}

/// Generate `cfg.bars` one-minute bars (bar open times, UTC ns; interval 60 s).
///
/// Generation stops early only if the calendar would run past the year 2262 (the end of
/// nanosecond timestamps).
pub fn generate(cfg: &SynthConfig) -> BarSeries {
    // Reserve up front, but never more than ~1 GB: an absurd `bars` must not abort.
    let mut out = BarSeries::with_capacity(cfg.symbol.clone(), BAR_NANOS, cfg.bars.min(1 << 24));
    let mut rng = Rng::new(cfg.seed);

    let bar_var = cfg.annual_vol * cfg.annual_vol / (DAYS_PER_YEAR * BARS_PER_DAY as f64);
    let base_sigma = bar_var.sqrt();
    let mu = cfg.annual_drift / (DAYS_PER_YEAR * BARS_PER_DAY as f64);
    let phi = 0.5f64.powf(1.0 / cfg.vol_half_life_bars.max(1.0));
    let shock_sd = cfg.vol_of_vol * (1.0 - phi * phi).sqrt();
    // exp(h - vov²) keeps E[exp(2h - 2vov²)] = 1: the long-run variance matches annual_vol.
    let vol_norm = cfg.vol_of_vol * cfg.vol_of_vol;

    let mut price = cfg.start_price;
    // Start log-vol from its stationary distribution.
    let mut h = cfg.vol_of_vol * rng.normal();
    let mut first_day = true;

    for open_ts in session_opens(cfg.start_date, cfg.timezone) {
        if out.len() >= cfg.bars {
            break;
        }
        if !first_day {
            price *= (cfg.overnight_gap_vol * rng.normal()).exp();
        }
        first_day = false;
        let today = (cfg.bars - out.len()).min(BARS_PER_DAY);
        for i in 0..today {
            h = phi * h + shock_sd * rng.normal();
            let level = (h - vol_norm).exp();
            let sigma = base_sigma * level * vol_profile(i);
            let z = rng.normal();
            let open = price;
            let close = open * (mu - 0.5 * sigma * sigma + sigma * z).exp();
            let up = open.max(close) * (0.6 * sigma * rng.normal().abs()).exp();
            let down = open.min(close) * (-0.6 * sigma * rng.normal().abs()).exp();
            price = close;

            let (o, c) = (on_tick(open), on_tick(close));
            let high = on_tick(up).max(o).max(c);
            let low = on_tick(down).min(o).min(c);
            let noise = (0.35 * rng.normal() - 0.06125).exp();
            let activity = level * (1.0 + 0.5 * z.abs());
            let volume = (cfg.mean_volume * volume_profile(i) * activity * noise / 1.4)
                .round()
                .max(1.0);
            out.push(open_ts + i as i64 * BAR_NANOS, o, high, low, c, volume);
        }
    }
    out
}
