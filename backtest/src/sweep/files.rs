//! The files of a sweep.
//!
//! A whole sweep writes `results.parquet`, `results.csv` (one row per run: `run`, `dataset`,
//! the parameters, every metric, `error`), `sweep.html` and `sweep.json` (the manifest: what
//! was swept). A shard writes `part-K-of-N.parquet` and `part-K-of-N.json`; [`merge`] checks
//! that the parts of a folder are all the shards of one sweep and combines them into the
//! same table, sorted by run index and dataset, so the merged files are byte-identical to a
//! single machine's.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::shard::Shard;
use super::table::{Cell, Column, Table, TableError};
use super::{Plan, SweepSpec, page};

/// Version of the manifest format.
pub const FORMAT: u32 = 1;

/// What a results table is the result of.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub spec: SweepSpec,
    /// Swept parameter names, in column order.
    pub params: Vec<String>,
    /// Parameter combinations run (after `--where`).
    pub runs: u64,
    /// Runs × datasets.
    pub tasks: u64,
    /// Grid combinations removed by `--where`.
    pub skipped: u64,
    /// The heat map's two parameters (resolved).
    pub heatmap: Option<(String, String)>,
    pub columns: Vec<Column>,
    /// The slice these rows are (`0/1` for a whole sweep).
    pub shard: Shard,
}

impl Manifest {
    pub fn of(plan: &Plan, shard: Shard) -> Manifest {
        Manifest {
            format: FORMAT,
            spec: plan.spec.clone(),
            params: plan.params.iter().map(|p| p.name.clone()).collect(),
            runs: plan.combos.len() as u64,
            tasks: plan.tasks(),
            skipped: plan.skipped,
            heatmap: plan.heatmap.clone(),
            columns: plan.columns(),
            shard,
        }
    }

    fn same_sweep(&self, other: &Manifest) -> bool {
        let mut a = self.clone();
        a.shard = other.shard;
        &a == other
    }
}

/// Errors writing or merging sweep files.
#[derive(Debug, thiserror::Error)]
pub enum FilesError {
    #[error(transparent)]
    Table(#[from] TableError),
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a sweep manifest: {message}")]
    Manifest { path: String, message: String },
    #[error("{dir}: no sweep parts (part-K-of-N.json) found")]
    NoParts { dir: String },
    #[error("{path}: belongs to a different sweep than {first}")]
    Mismatch { path: String, first: String },
    #[error("{dir}: shard {index} of {count} is missing (found: {found})")]
    MissingShard {
        dir: String,
        index: u32,
        count: u32,
        found: String,
    },
    #[error("{dir}: the parts hold {got} rows, the sweep has {want} tasks")]
    RowCount { dir: String, got: u64, want: u64 },
    #[error("{dir}: run {run} on dataset {dataset} appears in more than one part")]
    Duplicate {
        dir: String,
        run: u64,
        dataset: String,
    },
    #[error("internal: {0}")]
    Internal(String),
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> FilesError + '_ {
    move |source| FilesError::Io {
        path: path.display().to_string(),
        source,
    }
}

fn write_json(path: &Path, manifest: &Manifest) -> Result<(), FilesError> {
    let text =
        serde_json::to_string_pretty(manifest).map_err(|e| FilesError::Internal(e.to_string()))?;
    std::fs::write(path, text + "\n").map_err(io(path))
}

/// Write a whole sweep's files into `dir` (created if needed); returns the paths.
pub fn write_sweep(
    dir: &Path,
    manifest: &Manifest,
    table: &Table,
) -> Result<Vec<PathBuf>, FilesError> {
    table.check().map_err(FilesError::Internal)?;
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let mut m = manifest.clone();
    m.shard = Shard::ALL;
    let files = [
        dir.join("results.parquet"),
        dir.join("results.csv"),
        dir.join("sweep.html"),
        dir.join("sweep.json"),
    ];
    table.write_parquet(&files[0])?;
    table.write_csv(&files[1])?;
    std::fs::write(&files[2], page::render(&m, table)).map_err(io(&files[2]))?;
    write_json(&files[3], &m)?;
    Ok(files.to_vec())
}

/// Write one shard's part into `dir`; returns the paths.
pub fn write_part(
    dir: &Path,
    manifest: &Manifest,
    table: &Table,
) -> Result<Vec<PathBuf>, FilesError> {
    table.check().map_err(FilesError::Internal)?;
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let stem = manifest.shard.part_name();
    let pq = dir.join(format!("{stem}.parquet"));
    let js = dir.join(format!("{stem}.json"));
    table.write_parquet(&pq)?;
    write_json(&js, manifest)?;
    Ok(vec![pq, js])
}

/// Read every part in `dir`, check they are exactly the shards of one sweep, and combine
/// them into the whole sweep's table (sorted by run, then dataset order).
pub fn merge(dir: &Path) -> Result<(Manifest, Table), FilesError> {
    let d = dir.display().to_string();
    let mut parts: Vec<(PathBuf, Manifest)> = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let path = entry.map_err(io(dir))?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if !(name.starts_with("part-") && name.ends_with(".json")) {
            continue;
        }
        let text = std::fs::read_to_string(&path).map_err(io(&path))?;
        let m: Manifest = serde_json::from_str(&text).map_err(|e| FilesError::Manifest {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        if m.format != FORMAT {
            return Err(FilesError::Manifest {
                path: path.display().to_string(),
                message: format!("format {} (this version reads {FORMAT})", m.format),
            });
        }
        parts.push((path, m));
    }
    parts.sort_by_key(|(_, m)| m.shard.index);
    let Some((first_path, first)) = parts.first().cloned() else {
        return Err(FilesError::NoParts { dir: d });
    };
    for (path, m) in &parts[1..] {
        if !first.same_sweep(m) || m.shard.count != first.shard.count {
            return Err(FilesError::Mismatch {
                path: path.display().to_string(),
                first: first_path.display().to_string(),
            });
        }
    }
    let found: Vec<u32> = parts.iter().map(|(_, m)| m.shard.index).collect();
    for index in 0..first.shard.count {
        if found.iter().filter(|&&k| k == index).count() != 1 {
            return Err(FilesError::MissingShard {
                dir: d,
                index,
                count: first.shard.count,
                found: found
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
    }
    let mut table = Table::new(first.columns.clone());
    for (path, m) in &parts {
        let pq = path.with_extension("parquet");
        let part = Table::read_parquet(&pq, &m.columns)?;
        table.rows.extend(part.rows);
    }
    let datasets = &first.spec.datasets;
    let key = |row: &[Cell]| -> (u64, usize) {
        let run = match row.first() {
            Some(Cell::U64(r)) => *r,
            _ => u64::MAX,
        };
        let ds = match row.get(1) {
            Some(Cell::Str(s)) => datasets.iter().position(|d| d == s).unwrap_or(usize::MAX),
            _ => usize::MAX,
        };
        (run, ds)
    };
    table.rows.sort_by_key(|r| key(r));
    for w in table.rows.windows(2) {
        if key(&w[0]) == key(&w[1]) {
            return Err(FilesError::Duplicate {
                dir: d,
                run: key(&w[0]).0,
                dataset: w[0][1].display(),
            });
        }
    }
    if table.rows.len() as u64 != first.tasks {
        return Err(FilesError::RowCount {
            dir: d,
            got: table.rows.len() as u64,
            want: first.tasks,
        });
    }
    let mut manifest = first;
    manifest.shard = Shard::ALL;
    Ok((manifest, table))
}
