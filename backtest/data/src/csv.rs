//! CSV bar loading through polars.
//!
//! The header is read first to find the bar columns; polars then parses only those columns,
//! with the prices as `Float64` and the timestamp as a plain string (parsed afterwards by
//! [`crate::timestamp`], which is several times faster than polars' own date inference).
//! If polars rejects a value, the file is re-read with every bar column as text so the
//! error can name the exact row, column and value.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::sync::Arc;

use polars::prelude::{Column, CsvReadOptions, DataFrame, DataType, PolarsResult, SerReader};
use tickline_engine::domain::BarSeries;

use crate::LoadOptions;
use crate::columns::Layout;
use crate::error::DataError;
use crate::frame::{Frame, into_series};

/// Longest header line accepted (bytes).
const MAX_HEADER: u64 = 64 * 1024;

/// Load a CSV file of bars: one series per symbol (see the crate docs for the columns and
/// timestamp formats). Every series is validated.
pub fn load_csv(path: &Path, opts: &LoadOptions) -> Result<Vec<BarSeries>, DataError> {
    let header = read_header(path)?;
    let layout = Layout::resolve(&header, path)?;
    let df = match read_frame(path, &layout, header.len(), true) {
        Ok(df) => df,
        // A value polars could not parse as a number: re-read as text, so the conversion
        // reports the exact cell. If even that fails, the file itself is malformed.
        Err(typed) => read_frame(path, &layout, header.len(), false)
            .map_err(|_| DataError::polars(path, &typed))?,
    };
    let frame = take_frame(df, &layout);
    into_series(frame, &layout.names, path, opts)
}

/// The column names of the first line, or [`DataError::Empty`] for a blank file.
fn read_header(path: &Path) -> Result<Vec<String>, DataError> {
    let io = |source| DataError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(io)?;
    let mut reader = BufReader::new(file).take(MAX_HEADER);
    let mut line = Vec::new();
    while line.iter().all(u8::is_ascii_whitespace) {
        line.clear();
        if reader.read_until(b'\n', &mut line).map_err(io)? == 0 {
            return Err(DataError::Empty {
                path: path.to_path_buf(),
            });
        }
    }
    let line = line.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&line);
    let text = String::from_utf8_lossy(line);
    Ok(text
        .trim_end_matches(['\r', '\n'])
        .split(',')
        .map(|n| n.trim().trim_matches('"').to_string())
        .collect())
}

/// Read the bar columns; `typed` reads prices as `Float64`, otherwise everything as text.
fn read_frame(path: &Path, layout: &Layout, width: usize, typed: bool) -> PolarsResult<DataFrame> {
    let projection = layout.projection();
    let last = projection.last().copied().unwrap_or(0);
    let mut dtypes = vec![DataType::String; (last + 1).min(width)];
    if typed {
        for i in layout.values {
            if let Some(d) = dtypes.get_mut(i) {
                *d = DataType::Float64;
            }
        }
    }
    CsvReadOptions::default()
        .with_has_header(true)
        .with_projection(Some(Arc::new(projection)))
        .with_dtype_overwrite(Some(Arc::new(dtypes)))
        .try_into_reader_with_file_path(Some(path.to_path_buf()))?
        .finish()
}

/// Move the bar columns out of `df` (which holds the projection in file order).
fn take_frame(df: DataFrame, layout: &Layout) -> Frame {
    let projection = layout.projection();
    let mut cols: Vec<Option<Column>> = df.into_columns().into_iter().map(Some).collect();
    let mut take = |file_idx: usize| {
        projection
            .iter()
            .position(|p| *p == file_idx)
            .and_then(|k| cols.get_mut(k))
            .and_then(Option::take)
            .unwrap_or_else(|| Column::new_empty("".into(), &DataType::String))
    };
    Frame {
        ts: take(layout.ts),
        values: layout.values.map(&mut take),
        symbol: layout.symbol.map(&mut take),
    }
}
