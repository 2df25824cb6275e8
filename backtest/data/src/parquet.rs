//! Parquet bar loading through polars.
//!
//! `ts` may be a `Datetime` of any unit (with a time zone: an instant; without: an
//! exchange-local wall time in `LoadOptions::timezone`), a `Date`, an integer epoch or a
//! string. Value columns may be any numeric type (or numeric strings).

use std::fs::File;
use std::path::Path;

use polars::prelude::{Column, DataFrame, ParquetReader, SerReader};
use tickline_engine::domain::BarSeries;

use crate::LoadOptions;
use crate::columns::Layout;
use crate::error::DataError;
use crate::frame::{Frame, into_series};

/// Load a Parquet file of bars: one series per symbol. Every series is validated.
pub fn load_parquet(path: &Path, opts: &LoadOptions) -> Result<Vec<BarSeries>, DataError> {
    let io = |source| DataError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(io)?;
    if file.metadata().map_err(io)?.len() == 0 {
        return Err(DataError::Empty {
            path: path.to_path_buf(),
        });
    }
    let mut reader = ParquetReader::new(file);
    let schema = reader.schema().map_err(|e| DataError::polars(path, &e))?;
    let names: Vec<String> = schema.iter_names().map(|n| n.to_string()).collect();
    let layout = Layout::resolve(&names, path)?;
    let df = reader
        .with_projection(Some(layout.projection()))
        .finish()
        .map_err(|e| DataError::polars(path, &e))?;
    let frame = take_frame(df, &layout, &names);
    into_series(frame, &layout.names, path, opts)
}

/// Move the bar columns out of `df`, matching them by name.
fn take_frame(df: DataFrame, layout: &Layout, names: &[String]) -> Frame {
    let mut cols: Vec<Option<Column>> = df.into_columns().into_iter().map(Some).collect();
    let mut take = |file_idx: usize| {
        let want = names.get(file_idx).map(String::as_str).unwrap_or_default();
        cols.iter_mut()
            .find(|c| c.as_ref().is_some_and(|c| c.name().as_str() == want))
            .and_then(Option::take)
            .unwrap_or_else(|| Column::new_empty(want.into(), &polars::prelude::DataType::Null))
    };
    Frame {
        ts: take(layout.ts),
        values: layout.values.map(&mut take),
        symbol: layout.symbol.map(&mut take),
    }
}
