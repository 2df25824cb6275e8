//! Write → load round trips, multi-symbol files, symbol naming and interval inference.

use std::path::PathBuf;

use tempfile::TempDir;
use tickline_data::synth::{SynthConfig, generate};
use tickline_data::{LoadOptions, load_bars, load_csv, load_parquet, write_bars, write_csv};
use tickline_engine::domain::{BarSeries, NANOS_PER_SEC};

fn series(bars: usize, seed: u64, symbol: &str) -> BarSeries {
    generate(&SynthConfig {
        bars,
        seed,
        symbol: symbol.into(),
        ..Default::default()
    })
}

fn file(dir: &TempDir, name: &str, content: &str) -> PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, content).unwrap();
    p
}

#[test]
fn csv_round_trip_is_identical() {
    let dir = TempDir::new().unwrap();
    let s = series(3 * 390 + 17, 1, "SPY");
    let path = dir.path().join("out.csv");
    write_csv(&s, &path).unwrap();
    let back = load_csv(&path, &LoadOptions::default()).unwrap();
    assert_eq!(back, vec![s]);
}

#[test]
fn parquet_round_trip_is_identical() {
    let dir = TempDir::new().unwrap();
    let s = series(3 * 390 + 17, 2, "QQQ");
    for name in ["out.parquet", "out.pq"] {
        let path = dir.path().join(name);
        write_bars(&s, &path).unwrap();
        let back = load_bars(&path, &LoadOptions::default()).unwrap();
        assert_eq!(back, vec![s.clone()]);
    }
}

#[test]
fn csv_writer_format() {
    let dir = TempDir::new().unwrap();
    let mut s = BarSeries::with_capacity("A,B", 60 * NANOS_PER_SEC, 2);
    let t = 1_704_205_800 * NANOS_PER_SEC; // 2024-01-02T14:30:00Z
    s.push(t, 100.0, 100.5, 99.25, 100.2, 1000.0);
    s.push(
        t + 60 * NANOS_PER_SEC + 500_000_000,
        1e-7,
        2.5,
        1e-7,
        1e-7,
        0.0,
    );
    let path = dir.path().join("f.csv");
    write_csv(&s, &path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        text,
        "ts,symbol,open,high,low,close,volume\n\
         2024-01-02T14:30:00Z,\"A,B\",100,100.5,99.25,100.2,1000\n\
         2024-01-02T14:31:00.500Z,\"A,B\",0.0000001,2.5,0.0000001,0.0000001,0\n"
    );
    let back = load_csv(&path, &LoadOptions::default()).unwrap();
    assert_eq!(back[0].symbol, "A,B");
    assert_eq!(back[0].ts, s.ts);
    assert_eq!(back[0].open, s.open);
    // Two bars 60.5 s apart: the inferred interval is that gap.
    assert_eq!(back[0].interval, 60 * NANOS_PER_SEC + 500_000_000);
}

#[test]
fn multi_symbol_csv_in_first_appearance_order() {
    let dir = TempDir::new().unwrap();
    let path = file(
        &dir,
        "many.csv",
        "Symbol,Date,Open,High,Low,Close,Volume,Note\n\
         QQQ,2024-01-02 09:30:00,400,401,399,400.5,10,x\n\
         SPY,2024-01-02 09:30:00,470,471,469,470.5,20,y\n\
         QQQ,2024-01-02 09:35:00,400.5,402,400,401,11,z\n\
         SPY,2024-01-02 09:35:00,470.5,472,470,471,21,w\n\
         IWM,2024-01-02 09:30:00,200,201,199,200.5,30,v\n",
    );
    let got = load_bars(&path, &LoadOptions::default()).unwrap();
    let syms: Vec<&str> = got.iter().map(|s| s.symbol.as_str()).collect();
    assert_eq!(syms, ["QQQ", "SPY", "IWM"]);
    let t0 = 1_704_205_800 * NANOS_PER_SEC;
    let five = 300 * NANOS_PER_SEC;
    assert_eq!(got[0].ts, vec![t0, t0 + five]);
    assert_eq!(got[0].close, vec![400.5, 401.0]);
    assert_eq!(got[1].volume, vec![20.0, 21.0]);
    assert_eq!(got[0].interval, five);
    assert_eq!(got[2].len(), 1);
    assert_eq!(
        got[2].interval,
        60 * NANOS_PER_SEC,
        "single bar → 60 s default"
    );
}

#[test]
fn multi_symbol_parquet() {
    use polars::prelude::*;
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("many.parquet");
    let t0 = 1_704_205_800_000i64; // ms
    let mut df = df!(
        "symbol" => ["A", "B", "A"],
        "timestamp" => [t0, t0, t0 + 60_000],
        "open" => [1.0f32, 2.0, 1.5],
        "high" => [2i64, 3, 2],
        "low" => [1.0, 2.0, 1.0],
        "close" => [1.5, 2.5, 1.75],
        "volume" => [5u32, 6, 7],
    )
    .unwrap();
    ParquetWriter::new(std::fs::File::create(&path).unwrap())
        .finish(&mut df)
        .unwrap();
    let got = load_parquet(&path, &LoadOptions::default()).unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].symbol, "A");
    assert_eq!(got[0].ts, vec![t0 * 1_000_000, (t0 + 60_000) * 1_000_000]);
    assert_eq!(got[0].open, vec![1.0, 1.5]);
    assert_eq!(got[0].high, vec![2.0, 2.0]);
    assert_eq!(got[0].volume, vec![5.0, 7.0]);
    assert_eq!(got[1].close, vec![2.5]);
}

#[test]
fn symbol_from_file_stem_or_option() {
    let dir = TempDir::new().unwrap();
    let body = "ts,open,high,low,close,volume\n2024-01-02T09:30:00,1,1,1,1,1\n";
    let a = file(&dir, "SPY_1m_2024.csv", body);
    let b = file(&dir, "qqq.csv", body);
    let c = file(&dir, "_odd.csv", body);
    let name = |p: &PathBuf, o: &LoadOptions| load_bars(p, o).unwrap()[0].symbol.clone();
    let def = LoadOptions::default();
    assert_eq!(name(&a, &def), "SPY");
    assert_eq!(name(&b, &def), "qqq");
    assert_eq!(name(&c, &def), "_odd");
    let o = LoadOptions {
        symbol: Some("IWM".into()),
        interval: Some(300 * NANOS_PER_SEC),
        ..Default::default()
    };
    let got = load_bars(&a, &o).unwrap();
    assert_eq!(got[0].symbol, "IWM");
    assert_eq!(got[0].interval, 300 * NANOS_PER_SEC);
    // A symbol column holding one symbol is overridden too.
    let d = file(
        &dir,
        "d.csv",
        "symbol,ts,open,high,low,close,volume\nZZZ,2024-01-02T09:30:00,1,1,1,1,1\n",
    );
    assert_eq!(name(&d, &def), "ZZZ");
    assert_eq!(name(&d, &o), "IWM");
}

#[test]
fn extra_columns_and_quoting_are_tolerated() {
    let dir = TempDir::new().unwrap();
    let path = file(
        &dir,
        "x.csv",
        "\u{feff}\"vwap\",\"ts\",\"open\",\"high\",\"low\",\"close\",\"volume\",\"trades\"\r\n\
         1.0,\"2024-01-02T09:30:00\",100,101,99,100.5,10,3\r\n\
         1.0,\"2024-01-02T09:31:00\",100.5,101,99,100,10,3\r\n",
    );
    let got = load_bars(&path, &LoadOptions::default()).unwrap();
    assert_eq!(got[0].len(), 2);
    assert_eq!(got[0].close, vec![100.5, 100.0]);
}
