//! Loading 1,000,000 one-minute bars: CSV (ISO-8601 UTC timestamps) and Parquet
//! (`Datetime(ns, UTC)`), both written once from synthetic bars into a temp dir.
//!
//! Targets (release): CSV under 0.4 s, Parquet under 0.15 s.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use tickline_data::synth::{SynthConfig, generate};
use tickline_data::{LoadOptions, load_csv, load_parquet, write_csv, write_parquet};

const BARS: usize = 1_000_000;

fn bench_load(c: &mut Criterion) {
    let dir = tempfile::TempDir::new().expect("temp dir");
    let series = generate(&SynthConfig {
        bars: BARS,
        symbol: "SPY".into(),
        ..Default::default()
    });
    let csv = dir.path().join("SPY_1m.csv");
    let parquet = dir.path().join("SPY_1m.parquet");
    write_csv(&series, &csv).expect("write csv");
    write_parquet(&series, &parquet).expect("write parquet");
    drop(series);
    let opts = LoadOptions::default();

    let mut group = c.benchmark_group("data_load_1m_bars");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(8));
    group.bench_function("load_csv", |b| {
        b.iter(|| {
            let s = load_csv(black_box(&csv), &opts).expect("load csv");
            assert_eq!(s[0].len(), BARS);
            s
        })
    });
    group.bench_function("load_parquet", |b| {
        b.iter(|| {
            let s = load_parquet(black_box(&parquet), &opts).expect("load parquet");
            assert_eq!(s[0].len(), BARS);
            s
        })
    });
    group.finish();
}

criterion_group!(benches, bench_load);
criterion_main!(benches);
