//! Tickline market data: bar loading from CSV and Parquet (through polars), validation,
//! writing, and deterministic synthetic one-minute bars.
//!
//! # File layout
//! Columns (case-insensitive, any order, extra columns ignored): `ts` (or `timestamp`,
//! `datetime`, `time`, `date`), `open`, `high`, `low`, `close`, `volume`, and optionally
//! `symbol`. With a symbol column a file may hold several symbols and loading returns one
//! [`BarSeries`] per symbol in first-appearance order; without one the symbol is
//! [`LoadOptions::symbol`] or the file stem up to the first `_` (`SPY_1m.csv` → `SPY`).
//!
//! # Timestamps
//! Bar **open** times. ISO-8601 strings (`2024-01-02T09:30:00`, `T` or space, optional
//! fraction, optional `Z` / `±hh:mm`); strings without an offset are exchange-local times
//! in [`LoadOptions::timezone`] (a time in a DST gap is an error, an ambiguous one takes the
//! earlier instant). Integers are epoch seconds / ms / µs / ns, inferred from the first
//! value's magnitude unless [`LoadOptions::ts_unit`] is set. Parquet may also store
//! `Datetime` columns of any unit (without a time zone = exchange-local) or `Date`.
//!
//! # Validation
//! Every loaded series is checked by [`validate::validate`]; the first problem is reported
//! as a [`DataError`] naming the file, the 1-based data row and the column.

mod columns;
pub mod csv;
pub mod error;
mod frame;
pub mod parquet;
mod rng;
pub mod synth;
pub mod timestamp;
pub mod validate;
pub mod write;

use std::path::Path;

use tickline_engine::domain::BarSeries;

pub use crate::csv::load_csv;
pub use crate::error::DataError;
pub use crate::parquet::load_parquet;
pub use crate::timestamp::TsUnit;
pub use crate::validate::validate;
pub use crate::write::{write_csv, write_parquet};

/// How to interpret a bar file.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadOptions {
    /// Exchange time zone of timestamps without an offset (default America/New_York).
    pub timezone: chrono_tz::Tz,
    /// Symbol for a file holding one symbol (overrides the file name and a symbol column).
    pub symbol: Option<String>,
    /// Unit of integer epoch timestamps; `None` infers it from the magnitude.
    pub ts_unit: Option<TsUnit>,
    /// Bar length in nanoseconds; `None` infers it per series
    /// ([`BarSeries::infer_interval`]), 60 s for a single bar.
    pub interval: Option<i64>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            timezone: chrono_tz::America::New_York,
            symbol: None,
            ts_unit: None,
            interval: None,
        }
    }
}

/// The file formats, chosen by extension (case-insensitive).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Csv,
    Parquet,
}

fn format_of(path: &Path) -> Result<Format, DataError> {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    match ext.as_deref() {
        Some("csv") => Ok(Format::Csv),
        Some("parquet" | "pq") => Ok(Format::Parquet),
        _ => Err(DataError::UnsupportedFormat {
            path: path.to_path_buf(),
        }),
    }
}

/// Load bars from a `.csv`, `.parquet` or `.pq` file: one validated series per symbol.
pub fn load_bars(path: &Path, opts: &LoadOptions) -> Result<Vec<BarSeries>, DataError> {
    match format_of(path)? {
        Format::Csv => load_csv(path, opts),
        Format::Parquet => load_parquet(path, opts),
    }
}

/// Write bars to a `.csv`, `.parquet` or `.pq` file.
pub fn write_bars(series: &BarSeries, path: &Path) -> Result<(), DataError> {
    match format_of(path)? {
        Format::Csv => write_csv(series, path),
        Format::Parquet => write_parquet(series, path),
    }
}
