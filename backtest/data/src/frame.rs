//! Moving polars columns into [`BarSeries`] vectors: timestamp and number conversion with
//! exact error locations, splitting by symbol, interval inference and validation.
//!
//! Readers feed the [`Assembler`] batch by batch (a block of CSV rows, or one Parquet read);
//! each column is converted and dropped before the next, and values are appended straight
//! to the per-symbol output, so a load never holds the whole DataFrame and the whole output
//! at the same time. Row numbers in errors are 1-based over the whole file.

use std::path::Path;

use polars::prelude::{ChunkedArray, Column, DataType, Int64Type, PolarsNumericType, TimeUnit};
use tickline_engine::domain::{BarSeries, NANOS_PER_SEC, Ts};

use crate::LoadOptions;
use crate::columns::ColumnNames;
use crate::error::DataError;
use crate::timestamp::{NANOS_PER_DAY, TsConverter};
use crate::validate::validate_with;

/// Bar length used when a series has a single bar and no interval was given.
const DEFAULT_INTERVAL: i64 = 60 * NANOS_PER_SEC;

/// The bar columns of one batch (the symbol column is handled by [`Assembler::groups`]).
pub(crate) struct Bars {
    pub ts: Column,
    /// open, high, low, close, volume.
    pub values: [Column; 5],
}

/// Which symbol each row of a batch belongs to.
pub(crate) enum BatchGroups {
    /// Every row belongs to group `0` (index into the assembler's symbols).
    Uniform(u32),
    /// One group index per row.
    PerRow(Vec<u32>),
}

/// The growing output of one symbol.
struct Builder {
    symbol: String,
    ts: Vec<Ts>,
    values: [Vec<f64>; 5],
    /// 0-based file row of every bar; kept only once the file has shown a second symbol.
    rows: Vec<u32>,
}

impl Builder {
    fn new(symbol: String) -> Self {
        Builder {
            symbol,
            ts: Vec::new(),
            values: Default::default(),
            rows: Vec::new(),
        }
    }
}

/// Collects converted batches into one [`BarSeries`] per symbol.
pub(crate) struct Assembler<'a> {
    path: &'a Path,
    names: &'a ColumnNames,
    opts: &'a LoadOptions,
    conv: TsConverter,
    groups: Vec<Builder>,
    /// Rows pushed so far (the file row of the next batch's first row).
    rows_done: usize,
    /// Expected total rows, used to size the output vectors.
    capacity_hint: usize,
}

impl<'a> Assembler<'a> {
    pub(crate) fn new(path: &'a Path, names: &'a ColumnNames, opts: &'a LoadOptions) -> Self {
        Assembler {
            path,
            names,
            opts,
            conv: TsConverter::new(opts.timezone, opts.ts_unit),
            groups: Vec::new(),
            rows_done: 0,
            capacity_hint: 0,
        }
    }

    /// Expected number of rows in the file (sizes the output of a single-symbol file).
    pub(crate) fn expect_rows(&mut self, rows: usize) {
        self.capacity_hint = rows;
    }

    /// Assign the next batch's rows to symbols: from the symbol column if the file has one,
    /// else all to the file's single symbol.
    pub(crate) fn groups(
        &mut self,
        symbol: Option<Column>,
        height: usize,
    ) -> Result<BatchGroups, DataError> {
        let Some(col) = symbol else {
            if self.groups.is_empty() {
                self.groups
                    .push(Builder::new(default_symbol(self.path, self.opts)));
            }
            return Ok(BatchGroups::Uniform(0));
        };
        let name = &self.names.symbol;
        let ca = col
            .str()
            .map_err(|_| column_type(self.path, name, &col, "string"))?;
        if ca.len() != height {
            return Err(length_mismatch(self.path, name, ca.len(), height));
        }
        let mut per_row: Option<Vec<u32>> = None;
        let mut current: Option<u32> = None;
        let mut prev: Option<&str> = None;
        for (i, v) in ca.iter().enumerate() {
            let Some(v) = v else {
                return Err(missing(self.path, self.rows_done + i, name));
            };
            // Fast path: the same raw text as the previous row.
            if prev != Some(v) {
                prev = Some(v);
                let sym = v.trim();
                if sym.is_empty() {
                    return Err(missing(self.path, self.rows_done + i, name));
                }
                let g = match self.groups.iter().position(|b| b.symbol == sym) {
                    Some(g) => g as u32,
                    None => {
                        self.groups.push(Builder::new(sym.to_string()));
                        (self.groups.len() - 1) as u32
                    }
                };
                if let Some(c) = current
                    && c != g
                    && per_row.is_none()
                {
                    let mut rg = Vec::with_capacity(height);
                    rg.resize(i, c);
                    per_row = Some(rg);
                }
                current = Some(g);
            }
            if let (Some(rg), Some(c)) = (per_row.as_mut(), current) {
                rg.push(c);
            }
        }
        Ok(match per_row {
            Some(rg) => BatchGroups::PerRow(rg),
            None => BatchGroups::Uniform(current.unwrap_or(0)),
        })
    }

    /// Convert one batch and append it to the per-symbol output.
    pub(crate) fn push(&mut self, bars: Bars, groups: BatchGroups) -> Result<(), DataError> {
        let height = bars.ts.len();
        if height == 0 {
            return Ok(());
        }
        let Bars { ts, values } = bars;
        let ts = self.ts_values(ts)?;
        let [open, high, low, close, volume] = values;
        let cols = [
            self.f64_values(open, 0, height)?,
            self.f64_values(high, 1, height)?,
            self.f64_values(low, 2, height)?,
            self.f64_values(close, 3, height)?,
            self.f64_values(volume, 4, height)?,
        ];
        if self.groups.len() > 1 {
            self.track_rows();
        }
        let row0 = self.rows_done;
        match groups {
            BatchGroups::Uniform(g) => {
                let multi = self.groups.len() > 1;
                // The size hint is for the whole file, so it only fits a single symbol.
                let hint = if multi { 0 } else { self.capacity_hint };
                let Some(b) = self.groups.get_mut(g as usize) else {
                    return Ok(());
                };
                append(&mut b.ts, ts, hint);
                for (dst, src) in b.values.iter_mut().zip(cols) {
                    append(dst, src, hint);
                }
                if multi {
                    b.rows.extend((row0..row0 + height).map(|r| r as u32));
                }
            }
            BatchGroups::PerRow(rg) => {
                for (i, g) in rg.iter().enumerate() {
                    let Some(b) = self.groups.get_mut(*g as usize) else {
                        continue;
                    };
                    b.ts.push(ts[i]);
                    for (dst, src) in b.values.iter_mut().zip(&cols) {
                        dst.push(src[i]);
                    }
                    b.rows.push((row0 + i) as u32);
                }
            }
        }
        self.rows_done += height;
        Ok(())
    }

    /// Once a second symbol has appeared, every group records file rows; the first group's
    /// rows so far are exactly its bar indices (it was the only symbol).
    fn track_rows(&mut self) {
        if let Some(first) = self.groups.first_mut()
            && first.rows.len() < first.ts.len()
        {
            first.rows = (0..first.ts.len() as u32).collect();
        }
    }

    /// The validated series, one per symbol in first-appearance order.
    pub(crate) fn finish(self) -> Result<Vec<BarSeries>, DataError> {
        if self.rows_done == 0 {
            return Err(DataError::Empty {
                path: self.path.to_path_buf(),
            });
        }
        let non_empty: Vec<Builder> = self
            .groups
            .into_iter()
            .filter(|b| !b.ts.is_empty())
            .collect();
        if self.opts.symbol.is_some() && non_empty.len() > 1 {
            return Err(DataError::SymbolOverride {
                path: self.path.to_path_buf(),
                symbols: non_empty.into_iter().map(|b| b.symbol).collect(),
            });
        }
        let multi = non_empty.len() > 1;
        let mut out = Vec::with_capacity(non_empty.len());
        let mut first_err: Option<DataError> = None;
        for b in non_empty {
            let symbol = self.opts.symbol.clone().unwrap_or(b.symbol);
            let interval = self
                .opts
                .interval
                .or_else(|| BarSeries::infer_interval(&b.ts))
                .unwrap_or(DEFAULT_INTERVAL);
            let [open, high, low, close, volume] = b.values;
            let series = BarSeries {
                symbol,
                interval,
                ts: b.ts,
                open,
                high,
                low,
                close,
                volume,
            };
            let rows = multi.then_some(b.rows.as_slice());
            if let Err(e) = validate_with(&series, self.path, self.names, rows)
                && first_err.as_ref().is_none_or(|f| e.row() < f.row())
            {
                first_err = Some(e);
            }
            out.push(series);
        }
        match first_err {
            Some(e) => Err(e),
            None => Ok(out),
        }
    }

    fn parse_err(&self, index: usize, column: &str, value: String, reason: String) -> DataError {
        DataError::Parse {
            path: self.path.to_path_buf(),
            row: self.rows_done + index + 1,
            column: column.to_string(),
            value,
            reason,
        }
    }

    fn ts_values(&mut self, col: Column) -> Result<Vec<Ts>, DataError> {
        let name = &self.names.ts;
        let path = self.path;
        let row0 = self.rows_done;
        match col.dtype().clone() {
            DataType::String => {
                let ca = col.str().map_err(|e| DataError::polars(path, &e))?;
                let mut out = Vec::with_capacity(ca.len());
                for (i, v) in ca.iter().enumerate() {
                    let v = v.ok_or_else(|| missing(path, row0 + i, name))?;
                    match self.conv.text(v) {
                        Ok(t) => out.push(t),
                        Err(r) => return Err(self.parse_err(i, name, v.to_string(), r)),
                    }
                }
                Ok(out)
            }
            DataType::Datetime(unit, tz) => {
                let factor = match unit {
                    TimeUnit::Nanoseconds => 1,
                    TimeUnit::Microseconds => 1_000,
                    TimeUnit::Milliseconds => 1_000_000,
                };
                let phys = col.to_physical_repr();
                drop(col);
                let mut out = take_vec(owned_i64(phys, name, path, row0)?);
                if factor != 1 || tz.is_none() {
                    for (i, t) in out.iter_mut().enumerate() {
                        let v = *t;
                        let converted = match v.checked_mul(factor) {
                            None => Err("out of range for nanosecond timestamps".to_string()),
                            Some(ns) if tz.is_some() => Ok(ns),
                            Some(ns) => self.conv.local(ns),
                        };
                        *t = converted.map_err(|r| self.parse_err(i, name, v.to_string(), r))?;
                    }
                }
                Ok(out)
            }
            DataType::Date => {
                let phys = col.to_physical_repr();
                let ca = phys.i32().map_err(|e| DataError::polars(path, &e))?;
                let mut out = Vec::with_capacity(ca.len());
                for (i, v) in ca.iter().enumerate() {
                    let v = v.ok_or_else(|| missing(path, row0 + i, name))?;
                    match self.conv.local(i64::from(v) * NANOS_PER_DAY) {
                        Ok(t) => out.push(t),
                        Err(r) => return Err(self.parse_err(i, name, v.to_string(), r)),
                    }
                }
                Ok(out)
            }
            dt if dt.is_integer() => {
                let cast = col
                    .cast(&DataType::Int64)
                    .map_err(|e| DataError::polars(path, &e))?;
                drop(col);
                let mut out = take_vec(owned_i64(cast, name, path, row0)?);
                for (i, t) in out.iter_mut().enumerate() {
                    let v = *t;
                    *t = self
                        .conv
                        .epoch(v)
                        .map_err(|r| self.parse_err(i, name, v.to_string(), r))?;
                }
                Ok(out)
            }
            _ => Err(column_type(
                path,
                name,
                &col,
                "a timestamp (datetime, ISO-8601 string or epoch integer)",
            )),
        }
    }

    /// Value column `k` (open, high, low, close, volume) as `f64`s.
    fn f64_values(&self, col: Column, k: usize, height: usize) -> Result<Vec<f64>, DataError> {
        let name = &self.names.values[k];
        let path = self.path;
        let row0 = self.rows_done;
        if col.len() != height {
            return Err(length_mismatch(path, name, col.len(), height));
        }
        let col = match col.dtype() {
            DataType::Float64 | DataType::String => col,
            dt if dt.is_primitive_numeric() => col
                .cast(&DataType::Float64)
                .map_err(|e| DataError::polars(path, &e))?,
            _ => return Err(column_type(path, name, &col, "a number")),
        };
        if let Ok(ca) = col.str() {
            let mut out = Vec::with_capacity(ca.len());
            for (i, v) in ca.iter().enumerate() {
                let v = v.ok_or_else(|| missing(path, row0 + i, name))?;
                match v.trim().parse::<f64>() {
                    Ok(x) => out.push(x),
                    Err(_) => {
                        return Err(self.parse_err(i, name, v.to_string(), "not a number".into()));
                    }
                }
            }
            return Ok(out);
        }
        let ca = col
            .take_materialized_series()
            .f64()
            .map_err(|e| DataError::polars(path, &e))?
            .clone();
        if ca.null_count() > 0 {
            let first = ca.iter().position(|v| v.is_none()).unwrap_or(0);
            return Err(missing(path, row0 + first, name));
        }
        Ok(take_vec(ca))
    }
}

/// Append `src` to `dst`, taking `src` over when `dst` is empty (no copy). The first append
/// reserves room for `hint` values.
fn append<T: Copy>(dst: &mut Vec<T>, src: Vec<T>, hint: usize) {
    if dst.is_empty() && (src.capacity() >= hint || hint <= src.len()) {
        *dst = src;
        return;
    }
    if dst.is_empty() {
        dst.reserve_exact(hint.max(src.len()));
    }
    dst.extend_from_slice(&src);
}

/// The symbol of a file without a symbol column: `opts.symbol`, else the file stem up to
/// the first `_` (`SPY_1m.csv` → `SPY`).
fn default_symbol(path: &Path, opts: &LoadOptions) -> String {
    if let Some(s) = &opts.symbol {
        return s.clone();
    }
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    match stem.split_once('_') {
        Some((head, _)) if !head.is_empty() => head.to_string(),
        _ => stem,
    }
}

/// The column as an owned `Int64` array without nulls (nulls are a "missing value" error).
fn owned_i64(
    col: Column,
    name: &str,
    path: &Path,
    row0: usize,
) -> Result<ChunkedArray<Int64Type>, DataError> {
    let ca = col
        .take_materialized_series()
        .i64()
        .map_err(|e| DataError::polars(path, &e))?
        .clone();
    if ca.null_count() > 0 {
        let first = ca.iter().position(|v| v.is_none()).unwrap_or(0);
        return Err(missing(path, row0 + first, name));
    }
    Ok(ca)
}

/// Move a null-free array's values into a `Vec`. The first chunk's buffer is taken over
/// without copying when polars holds the only reference to it; later chunks are appended.
fn take_vec<T: PolarsNumericType>(ca: ChunkedArray<T>) -> Vec<T::Native> {
    let total = ca.len();
    let mut chunks = ca.downcast_into_iter();
    let mut out = match chunks.next() {
        Some(arr) => arr.into_inner().1.into_mut().either(|b| b.to_vec(), |v| v),
        None => Vec::new(),
    };
    out.reserve_exact(total.saturating_sub(out.len()));
    for arr in chunks {
        out.extend_from_slice(arr.values());
    }
    out
}

fn missing(path: &Path, index: usize, column: &str) -> DataError {
    DataError::Parse {
        path: path.to_path_buf(),
        row: index + 1,
        column: column.to_string(),
        value: String::new(),
        reason: "missing value".into(),
    }
}

fn length_mismatch(path: &Path, column: &str, len: usize, height: usize) -> DataError {
    DataError::Polars {
        path: path.to_path_buf(),
        message: format!("column \"{column}\" has {len} values, expected {height}"),
    }
}

fn column_type(path: &Path, name: &str, col: &Column, expected: &str) -> DataError {
    DataError::ColumnType {
        path: path.to_path_buf(),
        column: name.to_string(),
        dtype: col.dtype().to_string(),
        expected: expected.to_string(),
    }
}
