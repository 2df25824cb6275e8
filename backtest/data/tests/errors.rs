//! Bad input: every case asserts the exact error variant and its one-line message.

use std::path::{Path, PathBuf};

use tempfile::TempDir;
use tickline_data::{DataError, LoadOptions, load_bars};

const HEADER: &str = "ts,open,high,low,close,volume\n";
const ROW1: &str = "2024-01-02T09:30:00,100.0,100.5,99.5,100.2,1000\n";
const ROW2: &str = "2024-01-02T09:31:00,100.2,100.6,100.1,100.4,1200\n";

fn file(dir: &TempDir, name: &str, content: &[u8]) -> PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, content).unwrap();
    p
}

fn csv_with(dir: &TempDir, rows: &[&str]) -> PathBuf {
    let mut s = String::from(HEADER);
    for r in rows {
        s.push_str(r);
    }
    file(dir, "SPY_1m.csv", s.as_bytes())
}

fn load_err(path: &Path) -> DataError {
    match load_bars(path, &LoadOptions::default()) {
        Ok(s) => panic!("expected an error for {}, loaded {s:?}", path.display()),
        Err(e) => e,
    }
}

fn p(path: &Path) -> String {
    path.display().to_string()
}

#[test]
fn missing_file() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("nope.csv");
    let err = load_err(&path);
    assert!(
        matches!(&err, DataError::Io { path: ep, source } if *ep == path && source.kind() == std::io::ErrorKind::NotFound),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!("{}: No such file or directory (os error 2)", p(&path))
    );
}

#[test]
fn empty_file_and_header_only() {
    let dir = TempDir::new().unwrap();
    for (name, content) in [
        ("a.csv", ""),
        ("b.csv", "\n  \n"),
        ("c.csv", HEADER),
        ("d.parquet", ""),
    ] {
        let path = file(&dir, name, content.as_bytes());
        let err = load_err(&path);
        assert!(
            matches!(&err, DataError::Empty { path: ep } if *ep == path),
            "{err:?}"
        );
        assert_eq!(err.to_string(), format!("{}: no data rows", p(&path)));
    }
}

#[test]
fn unsupported_extension() {
    let dir = TempDir::new().unwrap();
    let path = file(&dir, "bars.txt", format!("{HEADER}{ROW1}").as_bytes());
    let err = load_err(&path);
    assert!(
        matches!(&err, DataError::UnsupportedFormat { path: ep } if *ep == path),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "{}: unsupported file format (expected .csv, .parquet or .pq)",
            p(&path)
        )
    );
    let err = tickline_data::write_bars(&Default::default(), &dir.path().join("x")).unwrap_err();
    assert!(
        matches!(err, DataError::UnsupportedFormat { .. }),
        "{err:?}"
    );
}

#[test]
fn missing_close_column() {
    let dir = TempDir::new().unwrap();
    let path = file(
        &dir,
        "x.csv",
        b"Timestamp,Open,High,Low,Volume\n2024-01-02T09:30:00,1,2,0.5,10\n",
    );
    let err = load_err(&path);
    assert!(
        matches!(&err, DataError::MissingColumn { column, found, .. }
            if column == "close" && found.len() == 5 && found[0] == "Timestamp"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "{}: missing column \"close\" (found: Timestamp, Open, High, Low, Volume)",
            p(&path)
        )
    );
}

#[test]
fn missing_ts_column() {
    let dir = TempDir::new().unwrap();
    let path = file(
        &dir,
        "x.csv",
        b"when,open,high,low,close,volume\n1,1,1,1,1,1\n",
    );
    let err = load_err(&path);
    assert!(
        matches!(&err, DataError::MissingColumn { column, .. } if column == "ts"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "{}: missing column \"ts\" (found: when, open, high, low, close, volume)",
            p(&path)
        )
    );
}

#[test]
fn unparsable_price() {
    let dir = TempDir::new().unwrap();
    let path = csv_with(
        &dir,
        &[ROW1, "2024-01-02T09:31:00,abc,100.6,100.1,100.4,1200\n"],
    );
    let err = load_err(&path);
    assert!(
        matches!(&err, DataError::Parse { row: 2, column, value, reason, .. }
            if column == "open" && value == "abc" && reason == "not a number"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "{}: row 2, column \"open\": cannot parse \"abc\": not a number",
            p(&path)
        )
    );
}

#[test]
fn unparsable_timestamp() {
    let dir = TempDir::new().unwrap();
    let path = csv_with(
        &dir,
        &[ROW1, "2024-01-02X09:31:00,100.2,100.6,100.1,100.4,1200\n"],
    );
    let err = load_err(&path);
    assert!(
        matches!(&err, DataError::Parse { row: 2, column, .. } if column == "ts"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "{}: row 2, column \"ts\": cannot parse \"2024-01-02X09:31:00\": \
             not an ISO-8601 date-time or epoch integer",
            p(&path)
        )
    );
}

#[test]
fn impossible_date() {
    let dir = TempDir::new().unwrap();
    let path = csv_with(&dir, &["2023-02-29T09:30:00,100.0,100.5,99.5,100.2,1000\n"]);
    let err = load_err(&path);
    assert!(matches!(&err, DataError::Parse { row: 1, .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "{}: row 1, column \"ts\": cannot parse \"2023-02-29T09:30:00\": day out of range",
            p(&path)
        )
    );
}

#[test]
fn timestamp_in_dst_gap() {
    let dir = TempDir::new().unwrap();
    let path = csv_with(&dir, &["2024-03-10T02:30:00,100.0,100.5,99.5,100.2,1000\n"]);
    let err = load_err(&path);
    assert!(matches!(&err, DataError::Parse { row: 1, .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "{}: row 1, column \"ts\": cannot parse \"2024-03-10T02:30:00\": \
             nonexistent local time in America/New_York (DST gap)",
            p(&path)
        )
    );
}

#[test]
fn unordered_timestamps() {
    let dir = TempDir::new().unwrap();
    let path = csv_with(&dir, &[ROW2, ROW1]);
    let err = load_err(&path);
    assert!(
        matches!(&err, DataError::Unordered { row: 2, prev, ts, .. } if prev > ts),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "{}: row 2, column \"ts\": timestamp 2024-01-02T14:30:00Z is before the \
             previous bar's 2024-01-02T14:31:00Z",
            p(&path)
        )
    );
}

#[test]
fn duplicate_timestamp() {
    let dir = TempDir::new().unwrap();
    let path = csv_with(&dir, &[ROW1, ROW2, ROW2]);
    let err = load_err(&path);
    assert!(
        matches!(&err, DataError::Unordered { row: 3, prev, ts, .. } if prev == ts),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "{}: row 3, column \"ts\": duplicate timestamp 2024-01-02T14:31:00Z",
            p(&path)
        )
    );
}

#[test]
fn high_below_low() {
    let dir = TempDir::new().unwrap();
    let path = csv_with(
        &dir,
        &[ROW1, "2024-01-02T09:31:00,100.2,99.0,101.0,100.4,1200\n"],
    );
    let err = load_err(&path);
    assert!(
        matches!(&err, DataError::Invalid { row: 2, column, .. } if column == "high"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "{}: row 2, column \"high\": 99 is below low = 101",
            p(&path)
        )
    );
}

#[test]
fn high_below_close() {
    let dir = TempDir::new().unwrap();
    let path = csv_with(
        &dir,
        &[ROW1, ROW2, "2024-01-02T09:32:00,100.0,99.5,99.0,100.2,1\n"],
    );
    let err = load_err(&path);
    assert!(
        matches!(&err, DataError::Invalid { row: 3, column, .. } if column == "high"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "{}: row 3, column \"high\": 99.5 is below max(open, close) = 100.2",
            p(&path)
        )
    );
}

#[test]
fn low_above_open() {
    let dir = TempDir::new().unwrap();
    let path = csv_with(
        &dir,
        &["2024-01-02T09:30:00,100.0,100.5,100.1,100.2,1000\n"],
    );
    let err = load_err(&path);
    assert!(
        matches!(&err, DataError::Invalid { row: 1, column, .. } if column == "low"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "{}: row 1, column \"low\": 100.1 is above min(open, close) = 100",
            p(&path)
        )
    );
}

#[test]
fn negative_volume() {
    let dir = TempDir::new().unwrap();
    let path = csv_with(
        &dir,
        &[ROW1, "2024-01-02T09:31:00,100.2,100.6,100.1,100.4,-5\n"],
    );
    let err = load_err(&path);
    assert!(
        matches!(&err, DataError::Invalid { row: 2, column, .. } if column == "volume"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!("{}: row 2, column \"volume\": -5 is negative", p(&path))
    );
}

#[test]
fn non_finite_prices() {
    let dir = TempDir::new().unwrap();
    let path = csv_with(
        &dir,
        &[ROW1, "2024-01-02T09:31:00,100.2,100.6,100.1,NaN,1200\n"],
    );
    let err = load_err(&path);
    assert!(
        matches!(&err, DataError::Invalid { row: 2, column, .. } if column == "close"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "{}: row 2, column \"close\": NaN is not a finite number",
            p(&path)
        )
    );

    let path = csv_with(&dir, &["2024-01-02T09:30:00,100.0,inf,99.5,100.2,1000\n"]);
    let err = load_err(&path);
    assert!(
        matches!(&err, DataError::Invalid { row: 1, column, .. } if column == "high"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "{}: row 1, column \"high\": inf is not a finite number",
            p(&path)
        )
    );
}

#[test]
fn non_positive_price() {
    let dir = TempDir::new().unwrap();
    let path = csv_with(&dir, &["2024-01-02T09:30:00,100.0,100.5,0,100.2,1000\n"]);
    let err = load_err(&path);
    assert!(
        matches!(&err, DataError::Invalid { row: 1, column, .. } if column == "low"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!("{}: row 1, column \"low\": 0 is not positive", p(&path))
    );
}

#[test]
fn ragged_row_with_extra_field() {
    let dir = TempDir::new().unwrap();
    let path = csv_with(
        &dir,
        &[ROW1, "2024-01-02T09:31:00,100.2,100.6,100.1,100.4,1200,7\n"],
    );
    let err = load_err(&path);
    assert!(matches!(&err, DataError::Polars { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "{}: malformed file: found more fields than defined in 'Schema' \
             Consider setting 'truncate_ragged_lines=true'.",
            p(&path)
        )
    );
}

#[test]
fn ragged_row_with_missing_field() {
    let dir = TempDir::new().unwrap();
    let path = csv_with(
        &dir,
        &[ROW1, ROW2, "2024-01-02T09:32:00,100.2,100.6,100.1,100.4\n"],
    );
    let err = load_err(&path);
    assert!(
        matches!(&err, DataError::Parse { row: 3, column, value, reason, .. }
            if column == "volume" && value.is_empty() && reason == "missing value"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "{}: row 3, column \"volume\": cannot parse \"\": missing value",
            p(&path)
        )
    );
}

#[test]
fn corrupt_parquet() {
    let dir = TempDir::new().unwrap();
    let path = file(
        &dir,
        "bars.parquet",
        b"PAR1 this is not really a parquet file PAR1",
    );
    let err = load_err(&path);
    assert!(matches!(&err, DataError::Polars { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!("{}: malformed file: ", p(&path))),
        "{msg}"
    );
    assert!(!msg.contains('\n'), "{msg}");
}

#[test]
fn symbol_override_on_multi_symbol_file() {
    let dir = TempDir::new().unwrap();
    let path = file(
        &dir,
        "multi.csv",
        b"symbol,ts,open,high,low,close,volume\n\
          SPY,2024-01-02T09:30:00,1,1,1,1,1\n\
          QQQ,2024-01-02T09:30:00,1,1,1,1,1\n",
    );
    let opts = LoadOptions {
        symbol: Some("X".into()),
        ..Default::default()
    };
    let err = load_bars(&path, &opts).unwrap_err();
    assert!(
        matches!(&err, DataError::SymbolOverride { symbols, .. } if symbols == &["SPY", "QQQ"]),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "{}: cannot override the symbol of a file holding 2 symbols (SPY, QQQ)",
            p(&path)
        )
    );
}

#[test]
fn multi_symbol_error_names_the_file_row() {
    let dir = TempDir::new().unwrap();
    // QQQ's second bar (file row 4) goes backwards; SPY is fine.
    let path = file(
        &dir,
        "multi.csv",
        b"symbol,ts,open,high,low,close,volume\n\
          SPY,2024-01-02T09:30:00,1,1,1,1,1\n\
          QQQ,2024-01-02T09:31:00,1,1,1,1,1\n\
          SPY,2024-01-02T09:31:00,1,1,1,1,1\n\
          QQQ,2024-01-02T09:30:00,1,1,1,1,1\n",
    );
    let err = load_err(&path);
    assert!(
        matches!(&err, DataError::Unordered { row: 4, .. }),
        "{err:?}"
    );
}

#[test]
fn wrong_parquet_column_type() {
    use polars::prelude::*;
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("bad.parquet");
    let mut df = df!(
        "ts" => [1_704_205_800i64],
        "open" => [true],
        "high" => [1.0],
        "low" => [1.0],
        "close" => [1.0],
        "volume" => [1.0],
    )
    .unwrap();
    ParquetWriter::new(std::fs::File::create(&path).unwrap())
        .finish(&mut df)
        .unwrap();
    let err = load_err(&path);
    assert!(
        matches!(&err, DataError::ColumnType { column, .. } if column == "open"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "{}: column \"open\" has type bool, expected a number",
            p(&path)
        )
    );
}

#[test]
fn null_values_in_parquet() {
    use polars::prelude::*;
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("nulls.parquet");
    let t0 = 1_704_205_800i64;
    let mut df = df!(
        "ts" => [Some(t0), Some(t0 + 60), Some(t0 + 120)],
        "open" => [1.0, 1.0, 1.0],
        "high" => [1.0, 1.0, 1.0],
        "low" => [1.0, 1.0, 1.0],
        "close" => [Some(1.0), None, Some(1.0)],
        "volume" => [1.0, 1.0, 1.0],
    )
    .unwrap();
    ParquetWriter::new(std::fs::File::create(&path).unwrap())
        .finish(&mut df)
        .unwrap();
    let err = load_err(&path);
    assert!(
        matches!(&err, DataError::Parse { row: 2, column, reason, .. }
            if column == "close" && reason == "missing value"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "{}: row 2, column \"close\": cannot parse \"\": missing value",
            p(&path)
        )
    );

    let mut df = df!(
        "ts" => [Some(t0), Some(t0 + 60), None],
        "open" => [1.0, 1.0, 1.0],
        "high" => [1.0, 1.0, 1.0],
        "low" => [1.0, 1.0, 1.0],
        "close" => [1.0, 1.0, 1.0],
        "volume" => [1.0, 1.0, 1.0],
    )
    .unwrap();
    ParquetWriter::new(std::fs::File::create(&path).unwrap())
        .finish(&mut df)
        .unwrap();
    let err = load_err(&path);
    assert!(
        matches!(&err, DataError::Parse { row: 3, column, .. } if column == "ts"),
        "{err:?}"
    );
}

#[test]
fn writing_a_ragged_series_is_an_error() {
    let dir = TempDir::new().unwrap();
    let mut s = tickline_engine::domain::BarSeries::with_capacity("X", 60, 2);
    s.push(0, 1.0, 1.0, 1.0, 1.0, 1.0);
    s.push(60, 1.0, 1.0, 1.0, 1.0, 1.0);
    s.close.pop();
    for name in ["x.csv", "x.parquet"] {
        let path = dir.path().join(name);
        let err = tickline_data::write_bars(&s, &path).unwrap_err();
        assert!(
            matches!(&err, DataError::Invalid { row: 2, column, .. } if column == "close"),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            format!(
                "{}: row 2, column \"close\": column has 1 values but ts has 2",
                p(&path)
            )
        );
    }
}
