//! What can go wrong with a journal file. Every error names the file.

use std::path::Path;

use rusqlite::ErrorCode;

/// A journal that cannot be opened, read or written.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("journal {path}: no such file")]
    Missing { path: String },
    #[error("journal {path}: is a folder, not a file")]
    IsFolder { path: String },
    #[error("journal {path}: cannot open: {source}")]
    CannotOpen {
        path: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error("journal {path}: not writable (read-only file or folder)")]
    ReadOnly { path: String },
    #[error("journal {path}: not a Tickline journal (the file is not an SQLite database)")]
    NotADatabase { path: String },
    #[error("journal {path}: corrupt ({detail})")]
    Corrupt { path: String, detail: String },
    #[error("journal {path}: an SQLite database but not a Tickline journal ({why})")]
    Foreign { path: String, why: String },
    #[error(
        "journal {path}: written by a newer Tickline (schema version {found}; this build reads up to {supported})"
    )]
    TooNew {
        path: String,
        found: i64,
        supported: i64,
    },
    #[error("journal {path}: belongs to account {journal}, not {account}")]
    OtherAccount {
        path: String,
        journal: String,
        account: String,
    },
    #[error("journal {path}: in use by another run (its lock {lock} is held)")]
    InUse { path: String, lock: String },
    #[error("journal {path}: {what}: {detail}")]
    Invalid {
        path: String,
        what: String,
        detail: String,
    },
    #[error("journal {path}: {context}: {source}")]
    Sql {
        path: String,
        context: &'static str,
        #[source]
        source: rusqlite::Error,
    },
    #[error("journal {path}: {context}: {source}")]
    Io {
        path: String,
        context: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Results(#[from] tickline_backtest::output::OutputError),
}

/// Classify an SQLite error on `path`: a file that is not a database or is corrupt gets its
/// own variant wherever the error surfaces; anything else keeps its context.
pub(crate) fn sql(path: &Path, context: &'static str) -> impl Fn(rusqlite::Error) -> JournalError {
    let path = path.display().to_string();
    move |source| match source.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => JournalError::NotADatabase { path: path.clone() },
        Some(ErrorCode::DatabaseCorrupt) => JournalError::Corrupt {
            path: path.clone(),
            detail: format!("{context}: {source}"),
        },
        Some(ErrorCode::ReadOnly) => JournalError::ReadOnly { path: path.clone() },
        _ => JournalError::Sql {
            path: path.clone(),
            context,
            source,
        },
    }
}

/// A row that does not hold what the schema promises (a journal edited by hand, or bad
/// data): names the table, the row and the column.
pub(crate) fn invalid(path: &Path, what: String, detail: impl Into<String>) -> JournalError {
    JournalError::Invalid {
        path: path.display().to_string(),
        what,
        detail: detail.into(),
    }
}
