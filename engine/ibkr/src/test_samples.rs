//! Unit-test access to the reference sample responses in `shared/reference/ibkr-samples/`,
//! and small test helpers.

use std::path::PathBuf;

/// Directory of the reference samples, relative to this crate.
pub(crate) fn samples_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference/ibkr-samples")
}

/// The text of one sample file; panics with the path when it is missing (test-only).
pub(crate) fn sample(name: &str) -> String {
    let path = samples_dir().join(name);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reference sample {} unreadable: {e}", path.display()))
}

/// An RFC 3339 time as UTC (test-only: panics on a bad literal).
pub(crate) fn utc(s: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(s)
        .expect("rfc3339")
        .with_timezone(&chrono::Utc)
}
