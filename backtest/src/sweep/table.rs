//! The results table of a sweep: typed columns, one row per run, written as CSV and Parquet
//! (and read back from Parquet to merge shards).
//!
//! Both files are deterministic: rows are sorted by run index (then dataset), numbers are
//! written in their shortest exact form (CSV) or as their IEEE bits (Parquet), and nothing
//! depends on timing, so the same sweep produces byte-identical files on any number of
//! threads or machines.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use polars::prelude::{
    Column as PlColumn, DataFrame, IntoColumn, NamedFrom, ParquetCompression, ParquetReader,
    ParquetWriter, SerReader, Series,
};
use serde::{Deserialize, Serialize};

use crate::output::csv_field;

/// The type of a column (every column may hold nulls).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    U64,
    I64,
    F64,
    Bool,
    Str,
}

/// One column of the table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    pub kind: Kind,
}

/// One value.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Null,
    U64(u64),
    I64(i64),
    F64(f64),
    Bool(bool),
    Str(String),
}

impl Cell {
    /// As a number, for ranking and charts.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Cell::U64(v) => Some(*v as f64),
            Cell::I64(v) => Some(*v as f64),
            Cell::F64(v) => Some(*v),
            _ => None,
        }
    }

    /// CSV text (empty for null).
    pub fn csv(&self) -> String {
        match self {
            Cell::Null => String::new(),
            Cell::U64(v) => v.to_string(),
            Cell::I64(v) => v.to_string(),
            Cell::F64(v) => v.to_string(),
            Cell::Bool(v) => v.to_string(),
            Cell::Str(s) => csv_field(s),
        }
    }

    /// Display text (`–` for null).
    pub fn display(&self) -> String {
        match self {
            Cell::Null => "–".to_string(),
            Cell::Str(s) => s.clone(),
            other => other.csv(),
        }
    }

    fn fits(&self, kind: Kind) -> bool {
        matches!(
            (self, kind),
            (Cell::Null, _)
                | (Cell::U64(_), Kind::U64)
                | (Cell::I64(_), Kind::I64)
                | (Cell::F64(_), Kind::F64)
                | (Cell::Bool(_), Kind::Bool)
                | (Cell::Str(_), Kind::Str)
        )
    }
}

/// Errors reading or writing a table.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parquet { path: String, message: String },
    #[error("{path}: column `{column}`: {message}")]
    Schema {
        path: String,
        column: String,
        message: String,
    },
}

/// Columns and rows.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Table {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    pub fn new(columns: Vec<Column>) -> Self {
        Table {
            columns,
            rows: Vec::new(),
        }
    }

    /// Index of a column by name.
    pub fn col(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// Write `path` as CSV with a header row.
    pub fn write_csv(&self, path: &Path) -> Result<(), TableError> {
        let io = |source| TableError::Io {
            path: path.display().to_string(),
            source,
        };
        let mut w = BufWriter::new(File::create(path).map_err(io)?);
        let header: Vec<String> = self.columns.iter().map(|c| csv_field(&c.name)).collect();
        writeln!(w, "{}", header.join(",")).map_err(io)?;
        for row in &self.rows {
            let cells: Vec<String> = row.iter().map(Cell::csv).collect();
            writeln!(w, "{}", cells.join(",")).map_err(io)?;
        }
        w.flush().map_err(io)
    }

    /// Write `path` as Parquet (one row group, Snappy).
    pub fn write_parquet(&self, path: &Path) -> Result<(), TableError> {
        let pq = |e: polars::error::PolarsError| TableError::Parquet {
            path: path.display().to_string(),
            message: e.to_string(),
        };
        let n = self.rows.len();
        let mut cols: Vec<PlColumn> = Vec::with_capacity(self.columns.len());
        for (k, c) in self.columns.iter().enumerate() {
            let name = c.name.as_str().into();
            let cells = self.rows.iter().map(|r| &r[k]);
            let series = match c.kind {
                Kind::U64 => {
                    let v: Vec<Option<u64>> = cells
                        .map(|x| if let Cell::U64(v) = x { Some(*v) } else { None })
                        .collect();
                    Series::new(name, v)
                }
                Kind::I64 => {
                    let v: Vec<Option<i64>> = cells
                        .map(|x| if let Cell::I64(v) = x { Some(*v) } else { None })
                        .collect();
                    Series::new(name, v)
                }
                Kind::F64 => {
                    let v: Vec<Option<f64>> = cells
                        .map(|x| if let Cell::F64(v) = x { Some(*v) } else { None })
                        .collect();
                    Series::new(name, v)
                }
                Kind::Bool => {
                    let v: Vec<Option<bool>> = cells
                        .map(|x| {
                            if let Cell::Bool(v) = x {
                                Some(*v)
                            } else {
                                None
                            }
                        })
                        .collect();
                    Series::new(name, v)
                }
                Kind::Str => {
                    let v: Vec<Option<&str>> = cells
                        .map(|x| {
                            if let Cell::Str(v) = x {
                                Some(v.as_str())
                            } else {
                                None
                            }
                        })
                        .collect();
                    Series::new(name, v)
                }
            };
            cols.push(series.into_column());
        }
        let mut df = DataFrame::new(n, cols).map_err(pq)?;
        let file = File::create(path).map_err(|source| TableError::Io {
            path: path.display().to_string(),
            source,
        })?;
        ParquetWriter::new(BufWriter::new(file))
            .with_compression(ParquetCompression::Snappy)
            .with_row_group_size(Some(n.max(1)))
            .finish(&mut df)
            .map_err(pq)?;
        Ok(())
    }

    /// Read a Parquet file written by [`Table::write_parquet`] with the given columns.
    pub fn read_parquet(path: &Path, columns: &[Column]) -> Result<Table, TableError> {
        let p = path.display().to_string();
        let pq = |e: polars::error::PolarsError| TableError::Parquet {
            path: p.clone(),
            message: e.to_string(),
        };
        let file = File::open(path).map_err(|source| TableError::Io {
            path: p.clone(),
            source,
        })?;
        let df = ParquetReader::new(file).finish().map_err(pq)?;
        let n = df.height();
        let mut table = Table::new(columns.to_vec());
        table.rows = vec![Vec::with_capacity(columns.len()); n];
        for c in columns {
            let schema = |message: String| TableError::Schema {
                path: p.clone(),
                column: c.name.clone(),
                message,
            };
            let col = df
                .column(&c.name)
                .map_err(|_| schema("missing".into()))?
                .as_materialized_series()
                .rechunk();
            let wrong = |e: polars::error::PolarsError| schema(e.to_string());
            let cells: Vec<Cell> = match c.kind {
                Kind::U64 => col
                    .u64()
                    .map_err(wrong)?
                    .iter()
                    .map(|v| v.map_or(Cell::Null, Cell::U64))
                    .collect(),
                Kind::I64 => col
                    .i64()
                    .map_err(wrong)?
                    .iter()
                    .map(|v| v.map_or(Cell::Null, Cell::I64))
                    .collect(),
                Kind::F64 => col
                    .f64()
                    .map_err(wrong)?
                    .iter()
                    .map(|v| v.map_or(Cell::Null, Cell::F64))
                    .collect(),
                Kind::Bool => col
                    .bool()
                    .map_err(wrong)?
                    .iter()
                    .map(|v| v.map_or(Cell::Null, Cell::Bool))
                    .collect(),
                Kind::Str => col
                    .str()
                    .map_err(wrong)?
                    .iter()
                    .map(|v| v.map_or(Cell::Null, |s| Cell::Str(s.to_string())))
                    .collect(),
            };
            for (row, cell) in table.rows.iter_mut().zip(cells) {
                row.push(cell);
            }
        }
        Ok(table)
    }

    /// Check every cell has its column's type (a bug guard before writing).
    pub fn check(&self) -> Result<(), String> {
        for (i, row) in self.rows.iter().enumerate() {
            if row.len() != self.columns.len() {
                return Err(format!(
                    "row {i} has {} cells for {} columns",
                    row.len(),
                    self.columns.len()
                ));
            }
            for (cell, col) in row.iter().zip(&self.columns) {
                if !cell.fits(col.kind) {
                    return Err(format!(
                        "row {i}: {cell:?} in {:?} column {}",
                        col.kind, col.name
                    ));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Table {
        let columns = vec![
            Column {
                name: "run".into(),
                kind: Kind::U64,
            },
            Column {
                name: "fast".into(),
                kind: Kind::I64,
            },
            Column {
                name: "sharpe".into(),
                kind: Kind::F64,
            },
            Column {
                name: "on".into(),
                kind: Kind::Bool,
            },
            Column {
                name: "error".into(),
                kind: Kind::Str,
            },
        ];
        let mut t = Table::new(columns);
        t.rows.push(vec![
            Cell::U64(0),
            Cell::I64(-5),
            Cell::F64(0.1 + 0.2),
            Cell::Bool(true),
            Cell::Null,
        ]);
        t.rows.push(vec![
            Cell::U64(3),
            Cell::I64(7),
            Cell::Null,
            Cell::Null,
            Cell::Str("strategy x: \"bad\", really".into()),
        ]);
        t
    }

    #[test]
    fn parquet_round_trips_exactly_and_csv_quotes() {
        let dir = tempfile::tempdir().unwrap();
        let t = sample();
        t.check().unwrap();
        let p = dir.path().join("t.parquet");
        t.write_parquet(&p).unwrap();
        let back = Table::read_parquet(&p, &t.columns).unwrap();
        assert_eq!(back, t);
        let p2 = dir.path().join("t2.parquet");
        back.write_parquet(&p2).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), std::fs::read(&p2).unwrap());
        let c = dir.path().join("t.csv");
        t.write_csv(&c).unwrap();
        assert_eq!(
            std::fs::read_to_string(&c).unwrap(),
            "run,fast,sharpe,on,error\n0,-5,0.30000000000000004,true,\n3,7,,,\"strategy x: \"\"bad\"\", really\"\n"
        );
        let e = Table::read_parquet(
            &p,
            &[Column {
                name: "nope".into(),
                kind: Kind::U64,
            }],
        )
        .unwrap_err();
        assert!(e.to_string().ends_with("column `nope`: missing"), "{e}");
    }
}
