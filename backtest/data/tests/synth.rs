//! Synthetic bars: determinism, realism properties and validity.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Weekday};
use proptest::prelude::*;
use tickline_data::synth::{BARS_PER_DAY, SynthConfig, generate};
use tickline_data::validate;
use tickline_engine::domain::{BarSeries, NANOS_PER_SEC};

fn cfg(bars: usize, seed: u64) -> SynthConfig {
    SynthConfig {
        bars,
        seed,
        ..Default::default()
    }
}

fn on_tick(p: f64) -> bool {
    ((p * 100.0).round() / 100.0) == p
}

fn local(ts: i64) -> chrono::DateTime<chrono_tz::Tz> {
    DateTime::from_timestamp_nanos(ts).with_timezone(&chrono_tz::America::New_York)
}

fn check_valid(s: &BarSeries) {
    validate(s, std::path::Path::new("<synthetic>")).unwrap();
    for v in [&s.open, &s.high, &s.low, &s.close] {
        assert!(
            v.iter().all(|p| on_tick(*p) && *p >= 0.01),
            "off-tick price"
        );
    }
    assert!(s.volume.iter().all(|v| *v >= 1.0 && v.fract() == 0.0));
}

#[test]
fn same_seed_same_bars_different_seed_different_bars() {
    let a = generate(&cfg(5_000, 7));
    let b = generate(&cfg(5_000, 7));
    let c = generate(&cfg(5_000, 8));
    assert_eq!(a, b);
    assert_ne!(a.close, c.close);
    assert_eq!(a.ts, c.ts, "the calendar does not depend on the seed");
}

#[test]
fn exact_bar_count_and_symbol() {
    for n in [0, 1, 389, 390, 391, 1_000] {
        let s = generate(&cfg(n, 1));
        assert_eq!(s.len(), n);
        assert_eq!(s.symbol, "SYNTH");
        assert_eq!(s.interval, 60 * NANOS_PER_SEC);
    }
}

#[test]
fn regular_sessions_on_weekdays_across_dst() {
    // 2024-03-01 .. about 2024-04-05 spans the March DST change.
    let c = SynthConfig {
        bars: 25 * BARS_PER_DAY,
        start_date: NaiveDate::from_ymd_opt(2024, 3, 2).unwrap(), // a Saturday
        ..Default::default()
    };
    let s = generate(&c);
    check_valid(&s);
    let mut per_day: BTreeMap<NaiveDate, Vec<i64>> = BTreeMap::new();
    for &t in &s.ts {
        let l = local(t);
        assert!(!matches!(l.weekday(), Weekday::Sat | Weekday::Sun));
        let mins = l.hour() * 60 + l.minute();
        assert!((570..960).contains(&mins), "bar at {l} outside 09:30-16:00");
        assert_eq!(l.second(), 0);
        per_day.entry(l.date_naive()).or_default().push(t);
    }
    assert_eq!(per_day.len(), 25);
    assert_eq!(
        *per_day.keys().next().unwrap(),
        NaiveDate::from_ymd_opt(2024, 3, 4).unwrap(),
        "a weekend start moves to Monday"
    );
    for (day, ts) in &per_day {
        assert_eq!(ts.len(), BARS_PER_DAY, "{day}");
        let first = local(ts[0]);
        assert_eq!((first.hour(), first.minute()), (9, 30), "{day}");
        assert!(ts.windows(2).all(|w| w[1] - w[0] == 60 * NANOS_PER_SEC));
    }
    // 09:30 New York is 14:30 UTC before 2024-03-10 and 13:30 UTC after.
    let utc_hour = |d: u32| {
        let ts = &per_day[&NaiveDate::from_ymd_opt(2024, 3, d).unwrap()];
        DateTime::from_timestamp_nanos(ts[0]).hour()
    };
    assert_eq!(utc_hour(8), 14);
    assert_eq!(utc_hour(11), 13);
}

#[test]
fn realistic_shape() {
    let s = generate(&cfg(60 * BARS_PER_DAY, 3));
    check_valid(&s);
    // Intraday U-shape: the first and last half hour are busier and more volatile than
    // midday.
    let mut vol = [0.0f64; BARS_PER_DAY];
    let mut absret = [0.0f64; BARS_PER_DAY];
    for i in 0..s.len() {
        let k = i % BARS_PER_DAY;
        vol[k] += s.volume[i];
        absret[k] += ((s.high[i] / s.low[i]).ln()).abs();
    }
    let avg = |a: &[f64]| a.iter().sum::<f64>() / a.len() as f64;
    let (open_v, mid_v, close_v) = (avg(&vol[..30]), avg(&vol[180..210]), avg(&vol[360..]));
    assert!(
        open_v > 1.5 * mid_v && close_v > 1.5 * mid_v,
        "{open_v} {mid_v} {close_v}"
    );
    let (open_r, mid_r) = (avg(&absret[..30]), avg(&absret[180..210]));
    assert!(open_r > 1.3 * mid_r, "{open_r} {mid_r}");
    // Bars within a session open at the previous close; sessions open with a gap.
    let mut gaps = 0;
    for i in 1..s.len() {
        if i % BARS_PER_DAY == 0 {
            gaps += usize::from(s.open[i] != s.close[i - 1]);
        } else {
            assert_eq!(s.open[i], s.close[i - 1], "bar {i}");
        }
    }
    assert!(gaps > 40, "only {gaps} of 59 sessions gapped");
    // Overnight gaps are small (well under 5 %) and the daily volatility is plausible.
    let mut day_rets = Vec::new();
    for d in 1..60 {
        let i = d * BARS_PER_DAY;
        assert!((s.open[i] / s.close[i - 1]).ln().abs() < 0.05);
        day_rets.push((s.close[i + BARS_PER_DAY - 1] / s.close[i - 1]).ln());
    }
    let m = avg(&day_rets);
    let sd = (day_rets.iter().map(|r| (r - m).powi(2)).sum::<f64>() / 58.0).sqrt();
    let annual = sd * 252f64.sqrt();
    assert!((0.05..0.6).contains(&annual), "annualised vol {annual}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn synth_output_always_validates(
        seed in any::<u64>(),
        bars in 0usize..3_000,
        start_price in 0.01f64..5_000.0,
        annual_vol in 0.0f64..3.0,
        vol_of_vol in 0.0f64..1.5,
        gap in 0.0f64..0.1,
        day_offset in 0i64..20_000,
    ) {
        let start = NaiveDate::from_ymd_opt(1990, 1, 1).unwrap() + chrono::Days::new(day_offset as u64);
        let s = generate(&SynthConfig {
            bars,
            seed,
            start_price,
            annual_vol,
            vol_of_vol,
            overnight_gap_vol: gap,
            start_date: start,
            ..Default::default()
        });
        prop_assert_eq!(s.len(), bars);
        prop_assert!(validate(&s, std::path::Path::new("<synthetic>")).is_ok());
        for v in [&s.open, &s.high, &s.low, &s.close] {
            prop_assert!(v.iter().all(|p| on_tick(*p)));
        }
        prop_assert!(s.volume.iter().all(|v| *v >= 1.0 && v.fract() == 0.0));
    }
}
