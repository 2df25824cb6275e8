//! Timestamp representations: ISO-8601 variants, epoch units, naive local times across DST,
//! and Parquet datetime columns.

use std::path::PathBuf;

use chrono::{NaiveDate, TimeZone, Utc};
use tempfile::TempDir;
use tickline_data::{LoadOptions, TsUnit, load_bars};
use tickline_engine::domain::NANOS_PER_SEC;

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> i64 {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s)
        .unwrap()
        .timestamp_nanos_opt()
        .unwrap()
}

fn csv(dir: &TempDir, ts: &[&str]) -> PathBuf {
    let mut s = String::from("ts,open,high,low,close,volume\n");
    for t in ts {
        s.push_str(t);
        s.push_str(",10,11,9,10.5,100\n");
    }
    let p = dir.path().join("T_bars.csv");
    std::fs::write(&p, s).unwrap();
    p
}

fn load_ts(dir: &TempDir, ts: &[&str], opts: &LoadOptions) -> Vec<i64> {
    let p = csv(dir, ts);
    load_bars(&p, opts).unwrap().remove(0).ts
}

#[test]
fn iso_variants() {
    let dir = TempDir::new().unwrap();
    let got = load_ts(
        &dir,
        &[
            "2024-01-02T14:30:00Z",           // UTC, fast path
            "2024-01-02 09:31:00",            // naive, space separator (New York, UTC-5)
            "2024-01-02T09:32:00.5",          // naive with fraction
            "2024-01-02T14:33:00.123456789Z", // nanoseconds
            "2024-01-02T09:34:00-05:00",      // explicit offset
            "2024-01-02T15:35:00+0100",       // compact offset
            "2024-01-02T09:36",               // no seconds
            "\"2024-01-02T14:37:00z\"",       // quoted, lower-case z
        ],
        &LoadOptions::default(),
    );
    let b = utc(2024, 1, 2, 14, 30, 0);
    let m = 60 * NANOS_PER_SEC;
    assert_eq!(
        got,
        vec![
            b,
            b + m,
            b + 2 * m + 500_000_000,
            b + 3 * m + 123_456_789,
            b + 4 * m,
            b + 5 * m,
            b + 6 * m,
            b + 7 * m,
        ]
    );
}

#[test]
fn date_only_is_local_midnight() {
    let dir = TempDir::new().unwrap();
    let got = load_ts(&dir, &["2024-01-02", "2024-01-03"], &LoadOptions::default());
    assert_eq!(
        got,
        vec![utc(2024, 1, 2, 5, 0, 0), utc(2024, 1, 3, 5, 0, 0)]
    );
}

#[test]
fn epoch_units_are_inferred() {
    let dir = TempDir::new().unwrap();
    let t = utc(2024, 1, 2, 14, 30, 0);
    let s = t / NANOS_PER_SEC;
    for (vals, step) in [
        (vec![s, s + 60], 60 * NANOS_PER_SEC),
        (vec![s * 1000, s * 1000 + 1], 1_000_000),
        (vec![s * 1_000_000, s * 1_000_000 + 1], 1_000),
        (vec![t, t + 1], 1),
    ] {
        let strs: Vec<String> = vals.iter().map(|v| v.to_string()).collect();
        let refs: Vec<&str> = strs.iter().map(String::as_str).collect();
        let got = load_ts(&dir, &refs, &LoadOptions::default());
        assert_eq!(got, vec![t, t + step], "{strs:?}");
    }
}

#[test]
fn forced_epoch_unit() {
    let dir = TempDir::new().unwrap();
    // 1000 and 2000 would be inferred as seconds; forced to milliseconds.
    let opts = LoadOptions {
        ts_unit: Some(TsUnit::Millis),
        ..Default::default()
    };
    assert_eq!(
        load_ts(&dir, &["1000", "2000"], &opts),
        vec![1_000_000_000, 2_000_000_000]
    );
    let opts = LoadOptions {
        ts_unit: Some(TsUnit::Seconds),
        ..Default::default()
    };
    assert_eq!(
        load_ts(&dir, &["1000", "2000"], &opts),
        vec![1000 * NANOS_PER_SEC, 2000 * NANOS_PER_SEC]
    );
}

#[test]
fn naive_times_across_dst_changes() {
    let dir = TempDir::new().unwrap();
    let got = load_ts(
        &dir,
        &[
            "2024-03-08T15:59:00", // Friday, EST (UTC-5)
            "2024-03-10T01:59:00", // Sunday, just before the spring gap
            "2024-03-10T03:00:00", // just after it (EDT, UTC-4)
            "2024-03-11T09:30:00", // Monday, EDT
            "2024-11-03T01:30:00", // ambiguous: earlier instant (EDT)
            "2024-11-03T02:30:00", // after fall-back (EST)
            "2024-11-04T09:30:00", // Monday, EST
        ],
        &LoadOptions::default(),
    );
    assert_eq!(
        got,
        vec![
            utc(2024, 3, 8, 20, 59, 0),
            utc(2024, 3, 10, 6, 59, 0),
            utc(2024, 3, 10, 7, 0, 0),
            utc(2024, 3, 11, 13, 30, 0),
            utc(2024, 11, 3, 5, 30, 0),
            utc(2024, 11, 3, 7, 30, 0),
            utc(2024, 11, 4, 14, 30, 0),
        ]
    );
}

#[test]
fn other_timezone() {
    let dir = TempDir::new().unwrap();
    let opts = LoadOptions {
        timezone: chrono_tz::Europe::London,
        ..Default::default()
    };
    // London: GMT in winter, BST (UTC+1) from 2024-03-31.
    let got = load_ts(&dir, &["2024-03-29T08:00:00", "2024-04-02T08:00:00"], &opts);
    assert_eq!(
        got,
        vec![utc(2024, 3, 29, 8, 0, 0), utc(2024, 4, 2, 7, 0, 0)]
    );
}

fn parquet_with_ts(dir: &TempDir, ts: polars::prelude::Column) -> PathBuf {
    use polars::prelude::*;
    let n = ts.len();
    let f = |name: &str, v: f64| Column::new(name.into(), vec![v; n]);
    let mut df = DataFrame::new(
        n,
        vec![
            ts,
            f("open", 10.0),
            f("high", 11.0),
            f("low", 9.0),
            f("close", 10.5),
            f("volume", 1.0),
        ],
    )
    .unwrap();
    let p = dir.path().join("P.parquet");
    ParquetWriter::new(std::fs::File::create(&p).unwrap())
        .finish(&mut df)
        .unwrap();
    p
}

#[test]
fn parquet_datetime_units_and_zones() {
    use polars::prelude::*;
    let dir = TempDir::new().unwrap();
    let t = utc(2024, 7, 1, 13, 30, 0); // 09:30 New York (EDT)
    let wall = utc(2024, 7, 1, 9, 30, 0); // the same wall time "as if UTC"
    let utc_tz = Some(TimeZone::UTC);
    let cases: Vec<(i64, TimeUnit, Option<TimeZone>, i64)> = vec![
        (t / 1_000_000, TimeUnit::Milliseconds, utc_tz.clone(), t),
        (t / 1_000, TimeUnit::Microseconds, utc_tz.clone(), t),
        (t, TimeUnit::Nanoseconds, utc_tz, t),
        // Without a zone: exchange-local wall time.
        (wall / 1_000, TimeUnit::Microseconds, None, t),
        (wall / 1_000_000, TimeUnit::Milliseconds, None, t),
    ];
    for (v, unit, tz, want) in cases {
        let col = Int64Chunked::from_vec("ts".into(), vec![v])
            .into_datetime(unit, tz.clone())
            .into_series()
            .into_column();
        let p = parquet_with_ts(&dir, col);
        let got = load_bars(&p, &LoadOptions::default()).unwrap();
        assert_eq!(got[0].ts, vec![want], "{unit:?} {tz:?}");
    }
}

#[test]
fn parquet_epoch_and_string_timestamps() {
    use polars::prelude::*;
    let dir = TempDir::new().unwrap();
    let t = utc(2024, 1, 2, 14, 30, 0);
    let p = parquet_with_ts(&dir, Column::new("ts".into(), [t / NANOS_PER_SEC]));
    assert_eq!(
        load_bars(&p, &LoadOptions::default()).unwrap()[0].ts,
        vec![t]
    );
    let p = parquet_with_ts(&dir, Column::new("ts".into(), ["2024-01-02 09:30:00"]));
    assert_eq!(
        load_bars(&p, &LoadOptions::default()).unwrap()[0].ts,
        vec![t]
    );
    let day = NaiveDate::from_ymd_opt(2024, 1, 2).unwrap();
    let p = parquet_with_ts(&dir, Column::new("date".into(), [day]));
    assert_eq!(
        load_bars(&p, &LoadOptions::default()).unwrap()[0].ts,
        vec![utc(2024, 1, 2, 5, 0, 0)]
    );
}
