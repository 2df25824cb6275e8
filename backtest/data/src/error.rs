//! The loader's typed error: every variant names the file and, where it applies, the 1-based
//! data row (row 1 = first data row after the header) and the column.

use std::path::PathBuf;

use tickline_engine::domain::Ts;

use crate::timestamp::format_utc;

/// Everything that can go wrong while loading, validating or writing bars.
///
/// `Display` is always a single line that starts with the file path.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file could not be opened, read or written.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The file extension is not one of `.csv`, `.parquet`, `.pq`.
    #[error("{}: unsupported file format (expected .csv, .parquet or .pq)", path.display())]
    UnsupportedFormat { path: PathBuf },

    /// A required column is absent. `found` lists the columns the file does have.
    #[error("{}: missing column \"{column}\" (found: {})", path.display(), found.join(", "))]
    MissingColumn {
        path: PathBuf,
        column: String,
        found: Vec<String>,
    },

    /// A column has a storage type the loader cannot interpret (e.g. a boolean price column).
    #[error("{}: column \"{column}\" has type {dtype}, expected {expected}", path.display())]
    ColumnType {
        path: PathBuf,
        column: String,
        dtype: String,
        expected: String,
    },

    /// A value could not be parsed (bad number, bad timestamp, missing value, DST gap).
    #[error("{}: row {row}, column \"{column}\": cannot parse \"{value}\": {reason}", path.display())]
    Parse {
        path: PathBuf,
        row: usize,
        column: String,
        value: String,
        reason: String,
    },

    /// A parsed value breaks a bar invariant (non-finite or non-positive price, high below
    /// low, negative volume, ...).
    #[error("{}: row {row}, column \"{column}\": {reason}", path.display())]
    Invalid {
        path: PathBuf,
        row: usize,
        column: String,
        reason: String,
    },

    /// Timestamps of one symbol are not strictly increasing (`ts <= prev`).
    #[error(
        "{}: row {row}, column \"{column}\": {}",
        path.display(),
        unordered_reason(*prev, *ts)
    )]
    Unordered {
        path: PathBuf,
        row: usize,
        column: String,
        /// The previous bar's timestamp (UTC ns).
        prev: Ts,
        /// This bar's timestamp (UTC ns).
        ts: Ts,
    },

    /// The file holds no data rows.
    #[error("{}: no data rows", path.display())]
    Empty { path: PathBuf },

    /// `LoadOptions::symbol` was set for a file that holds several symbols.
    #[error(
        "{}: cannot override the symbol of a file holding {} symbols ({})",
        path.display(),
        symbols.len(),
        symbols.join(", ")
    )]
    SymbolOverride { path: PathBuf, symbols: Vec<String> },

    /// The file is malformed at a level below the values (ragged rows, corrupt Parquet, ...);
    /// `message` is polars' description, flattened to one line.
    #[error("{}: malformed file: {message}", path.display())]
    Polars { path: PathBuf, message: String },
}

impl DataError {
    /// The 1-based data row the error points at, if it points at one.
    pub fn row(&self) -> Option<usize> {
        match self {
            DataError::Parse { row, .. }
            | DataError::Invalid { row, .. }
            | DataError::Unordered { row, .. } => Some(*row),
            _ => None,
        }
    }

    /// Wrap a polars error as [`DataError::Polars`], flattening its message to one line.
    pub(crate) fn polars(path: &std::path::Path, err: &polars::error::PolarsError) -> DataError {
        DataError::Polars {
            path: path.to_path_buf(),
            message: one_line(&err.to_string()),
        }
    }
}

/// Collapse all whitespace runs (including newlines) into single spaces.
pub(crate) fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn unordered_reason(prev: Ts, ts: Ts) -> String {
    if prev == ts {
        format!("duplicate timestamp {}", format_utc(ts))
    } else {
        format!(
            "timestamp {} is before the previous bar's {}",
            format_utc(ts),
            format_utc(prev)
        )
    }
}
