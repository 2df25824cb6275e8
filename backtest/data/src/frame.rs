//! Moving polars columns into [`BarSeries`] vectors: timestamp and number conversion with
//! exact error locations, splitting by symbol, interval inference and validation.
//!
//! Each column is converted and then dropped before the next one, so a load never holds the
//! whole DataFrame and the whole output at the same time.

use std::path::Path;

use polars::prelude::{ChunkedArray, Column, DataType, PolarsNumericType, TimeUnit};
use tickline_engine::domain::{BarSeries, NANOS_PER_SEC, Ts};

use crate::LoadOptions;
use crate::columns::ColumnNames;
use crate::error::DataError;
use crate::timestamp::{NANOS_PER_DAY, TsConverter};
use crate::validate::validate_with;

/// Bar length used when a series has a single bar and no interval was given.
const DEFAULT_INTERVAL: i64 = 60 * NANOS_PER_SEC;

/// The bar columns taken out of a DataFrame.
pub(crate) struct Frame {
    pub ts: Column,
    /// open, high, low, close, volume.
    pub values: [Column; 5],
    pub symbol: Option<Column>,
}

/// Convert `frame` into one validated series per symbol (first-appearance order).
pub(crate) fn into_series(
    frame: Frame,
    names: &ColumnNames,
    path: &Path,
    opts: &LoadOptions,
) -> Result<Vec<BarSeries>, DataError> {
    let Frame { ts, values, symbol } = frame;
    if ts.is_empty() {
        return Err(DataError::Empty {
            path: path.to_path_buf(),
        });
    }
    let groups = match symbol {
        Some(col) => symbol_groups(col, &names.symbol, path)?,
        None => Groups::single(default_symbol(path, opts)),
    };
    if opts.symbol.is_some() && groups.names.len() > 1 {
        return Err(DataError::SymbolOverride {
            path: path.to_path_buf(),
            symbols: groups.names,
        });
    }
    let ts = ts_values(ts, &names.ts, path, opts)?;
    let [open, high, low, close, volume] = values;
    let cols = [
        f64_values(open, &names.values[0], path)?,
        f64_values(high, &names.values[1], path)?,
        f64_values(low, &names.values[2], path)?,
        f64_values(close, &names.values[3], path)?,
        f64_values(volume, &names.values[4], path)?,
    ];

    let mut out = Vec::with_capacity(groups.names.len());
    match groups.row_group {
        None => {
            let sym = match &opts.symbol {
                Some(s) => s.clone(),
                None => groups.names.into_iter().next().unwrap_or_default(),
            };
            let series = assemble(sym, ts, cols, opts);
            validate_with(&series, path, names, None)?;
            out.push(series);
        }
        Some(row_group) => {
            let mut rows: Vec<Vec<u32>> = vec![Vec::new(); groups.names.len()];
            for (i, g) in row_group.iter().enumerate() {
                rows[*g as usize].push(i as u32);
            }
            drop(row_group);
            let mut first_err: Option<DataError> = None;
            for (sym, rows) in groups.names.into_iter().zip(&rows) {
                let pick_f = |v: &Vec<f64>| rows.iter().map(|r| v[*r as usize]).collect();
                let series = assemble(
                    sym,
                    rows.iter().map(|r| ts[*r as usize]).collect(),
                    [
                        pick_f(&cols[0]),
                        pick_f(&cols[1]),
                        pick_f(&cols[2]),
                        pick_f(&cols[3]),
                        pick_f(&cols[4]),
                    ],
                    opts,
                );
                if let Err(e) = validate_with(&series, path, names, Some(rows))
                    && first_err.as_ref().is_none_or(|f| e.row() < f.row())
                {
                    first_err = Some(e);
                }
                out.push(series);
            }
            if let Some(e) = first_err {
                return Err(e);
            }
        }
    }
    Ok(out)
}

fn assemble(symbol: String, ts: Vec<Ts>, cols: [Vec<f64>; 5], opts: &LoadOptions) -> BarSeries {
    let interval = opts
        .interval
        .or_else(|| BarSeries::infer_interval(&ts))
        .unwrap_or(DEFAULT_INTERVAL);
    let [open, high, low, close, volume] = cols;
    BarSeries {
        symbol,
        interval,
        ts,
        open,
        high,
        low,
        close,
        volume,
    }
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

/// Distinct symbols in first-appearance order and, when there is more than one, each row's
/// index into `names`.
struct Groups {
    names: Vec<String>,
    row_group: Option<Vec<u32>>,
}

impl Groups {
    fn single(name: String) -> Self {
        Groups {
            names: vec![name],
            row_group: None,
        }
    }
}

fn symbol_groups(col: Column, name: &str, path: &Path) -> Result<Groups, DataError> {
    let ca = col
        .str()
        .map_err(|_| column_type(path, name, &col, "string"))?;
    let mut names: Vec<String> = Vec::new();
    let mut row_group: Option<Vec<u32>> = None;
    let mut current = 0u32;
    let mut prev: Option<&str> = None;
    for (i, v) in ca.iter().enumerate() {
        let Some(v) = v else {
            return Err(missing(path, i, name));
        };
        // Fast path: the same raw text as the previous row.
        if prev != Some(v) {
            prev = Some(v);
            let sym = v.trim();
            if sym.is_empty() {
                return Err(missing(path, i, name));
            }
            current = match names.iter().position(|n| n == sym) {
                Some(g) => g as u32,
                None => {
                    names.push(sym.to_string());
                    (names.len() - 1) as u32
                }
            };
            if current != 0 && row_group.is_none() {
                let mut rg = Vec::with_capacity(ca.len());
                rg.resize(i, 0);
                row_group = Some(rg);
            }
        }
        if let Some(rg) = row_group.as_mut() {
            rg.push(current);
        }
    }
    Ok(Groups { names, row_group })
}

fn ts_values(
    col: Column,
    name: &str,
    path: &Path,
    opts: &LoadOptions,
) -> Result<Vec<Ts>, DataError> {
    let mut conv = TsConverter::new(opts.timezone, opts.ts_unit);
    let mut out: Vec<Ts> = Vec::new();
    let parse_err = |row: usize, value: String, reason: String| DataError::Parse {
        path: path.to_path_buf(),
        row: row + 1,
        column: name.to_string(),
        value,
        reason,
    };
    match col.dtype().clone() {
        DataType::String => {
            let ca = col.str().map_err(|e| DataError::polars(path, &e))?;
            out.reserve_exact(ca.len());
            for (i, v) in ca.iter().enumerate() {
                let v = v.ok_or_else(|| missing(path, i, name))?;
                out.push(conv.text(v).map_err(|r| parse_err(i, v.to_string(), r))?);
            }
        }
        DataType::Datetime(unit, tz) => {
            let factor = match unit {
                TimeUnit::Nanoseconds => 1,
                TimeUnit::Microseconds => 1_000,
                TimeUnit::Milliseconds => 1_000_000,
            };
            let phys = col.to_physical_repr();
            drop(col);
            out = take_vec(owned_i64(phys, name, path)?);
            if factor != 1 || tz.is_none() {
                for (i, t) in out.iter_mut().enumerate() {
                    let v = *t;
                    let ns = v.checked_mul(factor).ok_or_else(|| {
                        parse_err(
                            i,
                            v.to_string(),
                            "out of range for nanosecond timestamps".into(),
                        )
                    })?;
                    *t = match tz {
                        Some(_) => ns,
                        None => conv.local(ns).map_err(|r| parse_err(i, v.to_string(), r))?,
                    };
                }
            }
        }
        DataType::Date => {
            let phys = col.to_physical_repr();
            let ca = phys.i32().map_err(|e| DataError::polars(path, &e))?;
            out.reserve_exact(ca.len());
            for (i, v) in ca.iter().enumerate() {
                let v = v.ok_or_else(|| missing(path, i, name))?;
                let t = conv
                    .local(i64::from(v) * NANOS_PER_DAY)
                    .map_err(|r| parse_err(i, v.to_string(), r))?;
                out.push(t);
            }
        }
        dt if dt.is_integer() => {
            let cast = col
                .cast(&DataType::Int64)
                .map_err(|e| DataError::polars(path, &e))?;
            drop(col);
            out = take_vec(owned_i64(cast, name, path)?);
            for (i, t) in out.iter_mut().enumerate() {
                let v = *t;
                *t = conv.epoch(v).map_err(|r| parse_err(i, v.to_string(), r))?;
            }
        }
        _ => {
            return Err(column_type(
                path,
                name,
                &col,
                "a timestamp (datetime, ISO-8601 string or epoch integer)",
            ));
        }
    }
    Ok(out)
}

fn f64_values(col: Column, name: &str, path: &Path) -> Result<Vec<f64>, DataError> {
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
            let v = v.ok_or_else(|| missing(path, i, name))?;
            let x = v.trim().parse::<f64>().map_err(|_| DataError::Parse {
                path: path.to_path_buf(),
                row: i + 1,
                column: name.to_string(),
                value: v.to_string(),
                reason: "not a number".into(),
            })?;
            out.push(x);
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
        return Err(missing(path, first, name));
    }
    Ok(take_vec(ca))
}

/// The column as an owned `Int64` array without nulls (nulls are a "missing value" error).
fn owned_i64(
    col: Column,
    name: &str,
    path: &Path,
) -> Result<ChunkedArray<polars::prelude::Int64Type>, DataError> {
    let ca = col
        .take_materialized_series()
        .i64()
        .map_err(|e| DataError::polars(path, &e))?
        .clone();
    if ca.null_count() > 0 {
        let first = ca.iter().position(|v| v.is_none()).unwrap_or(0);
        return Err(missing(path, first, name));
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

fn column_type(path: &Path, name: &str, col: &Column, expected: &str) -> DataError {
    DataError::ColumnType {
        path: path.to_path_buf(),
        column: name.to_string(),
        dtype: col.dtype().to_string(),
        expected: expected.to_string(),
    }
}
