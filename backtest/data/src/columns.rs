//! Mapping a file's column names onto the bar fields (case-insensitive, with `ts` aliases).

use std::path::Path;

use crate::error::DataError;

/// Accepted names of the timestamp column, in order of preference.
const TS_ALIASES: [&str; 5] = ["ts", "timestamp", "datetime", "time", "date"];

/// The value columns in [`Layout::values`] order.
pub(crate) const VALUE_COLUMNS: [&str; 5] = ["open", "high", "low", "close", "volume"];

/// Column names as the file spells them, used in error messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ColumnNames {
    pub ts: String,
    /// open, high, low, close, volume.
    pub values: [String; 5],
    pub symbol: String,
}

impl Default for ColumnNames {
    fn default() -> Self {
        ColumnNames {
            ts: "ts".into(),
            values: VALUE_COLUMNS.map(String::from),
            symbol: "symbol".into(),
        }
    }
}

/// Where the bar fields sit among a file's columns.
#[derive(Clone, Debug)]
pub(crate) struct Layout {
    /// Index of the timestamp column.
    pub ts: usize,
    /// Indices of open, high, low, close, volume.
    pub values: [usize; 5],
    /// Index of the optional symbol column.
    pub symbol: Option<usize>,
    /// The file's column names.
    pub names: ColumnNames,
}

impl Layout {
    /// Resolve the bar columns among `found` (the file's column names, in file order).
    /// Matching ignores case and surrounding whitespace; the first match wins.
    pub(crate) fn resolve(found: &[String], path: &Path) -> Result<Layout, DataError> {
        let find = |want: &str| {
            found
                .iter()
                .position(|n| n.trim().eq_ignore_ascii_case(want))
        };
        let missing = |column: &str| DataError::MissingColumn {
            path: path.to_path_buf(),
            column: column.to_string(),
            found: found.to_vec(),
        };
        let ts = TS_ALIASES
            .iter()
            .find_map(|a| find(a))
            .ok_or_else(|| missing("ts"))?;
        let mut values = [0usize; 5];
        for (slot, name) in values.iter_mut().zip(VALUE_COLUMNS) {
            *slot = find(name).ok_or_else(|| missing(name))?;
        }
        let symbol = find("symbol");
        let names = ColumnNames {
            ts: found[ts].clone(),
            values: values.map(|i| found[i].clone()),
            symbol: symbol.map_or_else(|| "symbol".to_string(), |i| found[i].clone()),
        };
        Ok(Layout {
            ts,
            values,
            symbol,
            names,
        })
    }

    /// The needed column indices, sorted ascending and without duplicates (readers return
    /// projected columns in file order).
    pub(crate) fn projection(&self) -> Vec<usize> {
        let mut p: Vec<usize> = std::iter::once(self.ts)
            .chain(self.values)
            .chain(self.symbol)
            .collect();
        p.sort_unstable();
        p.dedup();
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn resolves_aliases_and_case() {
        let cols = names(&[
            "Symbol", "Date", "Open", "HIGH", " low ", "Close", "Volume", "x",
        ]);
        let l = Layout::resolve(&cols, Path::new("f.csv")).unwrap();
        assert_eq!(l.ts, 1);
        assert_eq!(l.values, [2, 3, 4, 5, 6]);
        assert_eq!(l.symbol, Some(0));
        assert_eq!(l.names.values[1], "HIGH");
        assert_eq!(l.projection(), vec![0, 1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn prefers_ts_over_date() {
        let cols = names(&["date", "ts", "open", "high", "low", "close", "volume"]);
        let l = Layout::resolve(&cols, Path::new("f.csv")).unwrap();
        assert_eq!(l.ts, 1);
        assert_eq!(l.symbol, None);
    }

    #[test]
    fn reports_missing_column() {
        let cols = names(&["ts", "open", "high", "low", "volume"]);
        let err = Layout::resolve(&cols, Path::new("f.csv")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "f.csv: missing column \"close\" (found: ts, open, high, low, volume)"
        );
    }
}
