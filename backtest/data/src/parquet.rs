//! Parquet bar loading through polars.
//!
//! `ts` may be a `Datetime` of any unit (with a time zone: an instant; without: an
//! exchange-local wall time in `LoadOptions::timezone`), a `Date`, an integer epoch or a
//! string. Value columns may be any numeric type (or numeric strings).

use std::fs::File;
use std::path::Path;

use polars::prelude::{Column, DataFrame, DataType, FileMetadataRef, ParquetReader, SerReader};
use tickline_engine::domain::BarSeries;

use crate::LoadOptions;
use crate::columns::Layout;
use crate::error::DataError;
use crate::frame::{Assembler, Bars};

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
    let polars_err = |e: polars::error::PolarsError| DataError::polars(path, &e);
    let schema = reader.schema().map_err(polars_err)?;
    let metadata = reader.get_metadata().map_err(polars_err)?.clone();
    let names: Vec<String> = schema.iter_names().map(|n| n.to_string()).collect();
    let layout = Layout::resolve(&names, path)?;

    let mut asm = Assembler::new(path, &layout.names, opts);
    asm.expect_rows(metadata.num_rows);
    // Two reads, so the symbol strings are gone before the numbers are decoded.
    let groups = match layout.symbol {
        Some(i) => {
            let mut df = read_columns(path, &metadata, vec![i])?;
            let symbol = take_column(&mut df, &names[i]);
            asm.groups(Some(symbol), df.height())?
        }
        None => asm.groups(None, metadata.num_rows)?,
    };
    let mut projection: Vec<usize> = std::iter::once(layout.ts).chain(layout.values).collect();
    projection.sort_unstable();
    projection.dedup();
    let mut df = read_columns(path, &metadata, projection)?;
    let bars = Bars {
        ts: take_column(&mut df, &names[layout.ts]),
        values: layout.values.map(|i| take_column(&mut df, &names[i])),
    };
    drop(df);
    asm.push(bars, groups)?;
    asm.finish()
}

/// Read the columns at `projection` (file order) into a DataFrame.
fn read_columns(
    path: &Path,
    metadata: &FileMetadataRef,
    projection: Vec<usize>,
) -> Result<DataFrame, DataError> {
    let file = File::open(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut reader = ParquetReader::new(file);
    reader.set_metadata(metadata.clone());
    reader
        .with_projection(Some(projection))
        .finish()
        .map_err(|e| DataError::polars(path, &e))
}

/// Move the column called `name` out of `df` (an empty column if it is absent, which the
/// assembler reports as a length mismatch).
fn take_column(df: &mut DataFrame, name: &str) -> Column {
    df.drop_in_place(name)
        .unwrap_or_else(|_| Column::new_empty(name.into(), &DataType::Null))
}
