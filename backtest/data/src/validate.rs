//! Bar-series invariants, checked on every loaded series.
//!
//! Per bar, in this order: the timestamp is strictly after the previous one; open, high, low
//! and close are finite and positive; high ≥ low; high ≥ max(open, close);
//! low ≤ min(open, close); volume is finite and ≥ 0. The first failing bar is reported.

use std::path::Path;

use tickline_engine::domain::BarSeries;

use crate::columns::ColumnNames;
use crate::error::DataError;

/// Check every invariant of `series`; report the first problem with `path`, the 1-based row
/// (bar index + 1) and the column name.
pub fn validate(series: &BarSeries, path: &Path) -> Result<(), DataError> {
    validate_with(series, path, &ColumnNames::default(), None)
}

/// [`validate`] with the file's column names and, for series picked out of a multi-symbol
/// file, each bar's 0-based row in the file.
pub(crate) fn validate_with(
    series: &BarSeries,
    path: &Path,
    names: &ColumnNames,
    rows: Option<&[u32]>,
) -> Result<(), DataError> {
    let n = series.len();
    let lens = [
        series.open.len(),
        series.high.len(),
        series.low.len(),
        series.close.len(),
        series.volume.len(),
    ];
    if let Some(k) = lens.iter().position(|l| *l != n) {
        return Err(DataError::Invalid {
            path: path.to_path_buf(),
            row: n.min(lens[k]) + 1,
            column: names.values[k].clone(),
            reason: format!("column has {} values but ts has {n}", lens[k]),
        });
    }
    let row_of = |i: usize| rows.map_or(i + 1, |r| r[i] as usize + 1);
    let invalid = |i: usize, col: usize, reason: String| DataError::Invalid {
        path: path.to_path_buf(),
        row: row_of(i),
        column: names.values[col].clone(),
        reason,
    };
    for i in 0..n {
        if i > 0 && series.ts[i] <= series.ts[i - 1] {
            return Err(DataError::Unordered {
                path: path.to_path_buf(),
                row: row_of(i),
                column: names.ts.clone(),
                prev: series.ts[i - 1],
                ts: series.ts[i],
            });
        }
        let (o, h, l, c, v) = (
            series.open[i],
            series.high[i],
            series.low[i],
            series.close[i],
            series.volume[i],
        );
        for (k, p) in [o, h, l, c].into_iter().enumerate() {
            if !p.is_finite() {
                return Err(invalid(i, k, format!("{p} is not a finite number")));
            }
            if p <= 0.0 {
                return Err(invalid(i, k, format!("{p} is not positive")));
            }
        }
        if h < l {
            return Err(invalid(i, 1, format!("{h} is below low = {l}")));
        }
        let max_oc = o.max(c);
        if h < max_oc {
            return Err(invalid(
                i,
                1,
                format!("{h} is below max(open, close) = {max_oc}"),
            ));
        }
        let min_oc = o.min(c);
        if l > min_oc {
            return Err(invalid(
                i,
                2,
                format!("{l} is above min(open, close) = {min_oc}"),
            ));
        }
        if !v.is_finite() {
            return Err(invalid(i, 4, format!("{v} is not a finite number")));
        }
        if v < 0.0 {
            return Err(invalid(i, 4, format!("{v} is negative")));
        }
    }
    Ok(())
}
