//! Opening: the file's format and pragmas, and every kind of file that is not a journal.

use std::path::Path;

use super::support::{Dir, begin, id, stocks};
use crate::journal::schema::{APPLICATION_ID, SCHEMA_VERSION};
use crate::journal::{Journal, JournalError};

#[test]
fn a_new_journal_is_wal_full_sync_with_our_application_id_and_version() {
    let d = Dir::new();
    let j = d.journal();
    let c = &j.conn;
    let mode: String = c
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    let sync: i64 = c
        .pragma_query_value(None, "synchronous", |r| r.get(0))
        .unwrap();
    let app: i32 = c
        .pragma_query_value(None, "application_id", |r| r.get(0))
        .unwrap();
    let busy: i64 = c
        .pragma_query_value(None, "busy_timeout", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    assert_eq!(sync, 2, "FULL");
    assert_eq!(app, APPLICATION_ID);
    assert_eq!(busy, 5000);
    assert_eq!(j.schema_version().unwrap(), SCHEMA_VERSION);
    assert_eq!(SCHEMA_VERSION, 2);
}

#[test]
fn a_version_1_journal_is_migrated_to_keep_order_links() {
    let d = Dir::new();
    let path = d.path("v1.sqlite");
    let first = Journal::open_or_create(&path).unwrap().id().clone();
    // Make it what a version-1 build wrote: no `links` column, user_version 1.
    sqlite(
        &path,
        "ALTER TABLE orders DROP COLUMN links; PRAGMA user_version = 1;",
    );
    let j = Journal::open(&path).unwrap();
    assert_eq!(j.id(), &first, "the migration keeps the journal");
    assert_eq!(j.schema_version().unwrap(), 2);
    let columns: Vec<String> = j
        .conn
        .prepare("SELECT name FROM pragma_table_info('orders')")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(columns.iter().any(|c| c == "links"), "{columns:?}");
}

#[test]
fn reopening_keeps_the_identity_and_an_explicit_id_only_names_new_journals() {
    let d = Dir::new();
    let path = d.path("j.sqlite");
    let first = Journal::open_or_create(&path).unwrap().id().clone();
    assert_eq!(first.as_str().len(), 8);
    assert!(first.as_str().bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(Journal::open(&path).unwrap().id(), &first);
    assert_eq!(
        Journal::open_or_create_with_id(&path, id()).unwrap().id(),
        &first
    );
    let other = Journal::open_or_create(d.path("k.sqlite")).unwrap();
    assert_ne!(other.id(), &first, "two journals, two ids");
}

#[test]
fn an_empty_file_becomes_a_journal_when_creating() {
    let d = Dir::new();
    let path = d.path("empty.sqlite");
    std::fs::write(&path, b"").unwrap();
    let err = Journal::open(&path).unwrap_err();
    assert!(
        err.to_string()
            .contains("not a Tickline journal (an empty database)"),
        "{err}"
    );
    Journal::open_or_create(&path).unwrap();
    Journal::open(&path).unwrap();
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).unwrap();
}

/// A journal with one run, closed (so the WAL is folded into the file).
fn valid(path: &Path) {
    let mut j = Journal::open_or_create_with_id(path, id()).unwrap();
    begin(&mut j, "DU1", &stocks(&["SPY"]), 1).unwrap();
}

fn sqlite(path: &Path, sql: &str) {
    let c = rusqlite::Connection::open(path).unwrap();
    c.execute_batch(sql).unwrap();
}

#[test]
fn files_that_are_not_journals_are_refused_with_the_reason_and_the_file() {
    type Setup = fn(&Path);
    let cases: &[(&str, Setup, &str)] = &[
        ("missing.sqlite", |_| {}, "no such file"),
        (
            "folder.sqlite",
            |p| std::fs::create_dir(p).unwrap(),
            "is a folder, not a file",
        ),
        (
            "text.sqlite",
            |p| write(p, &b"time,open,high,low,close\n".repeat(100)),
            "not a Tickline journal (the file is not an SQLite database)",
        ),
        (
            "random.sqlite",
            |p| {
                let bytes: Vec<u8> = (0..8192u32)
                    .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
                    .collect();
                write(p, &bytes)
            },
            "not a Tickline journal (the file is not an SQLite database)",
        ),
        (
            "foreign.sqlite",
            |p| {
                sqlite(
                    p,
                    "CREATE TABLE bars (ts INTEGER, close REAL); PRAGMA application_id = 7;",
                )
            },
            "an SQLite database but not a Tickline journal (application id 0x7, tables bars)",
        ),
        (
            "plain.sqlite",
            |p| sqlite(p, "CREATE TABLE notes (t TEXT);"),
            "an SQLite database but not a Tickline journal (application id 0x0, tables notes)",
        ),
        (
            "newer.sqlite",
            |p| {
                valid(p);
                sqlite(p, "PRAGMA user_version = 99;")
            },
            "written by a newer Tickline (schema version 99; this build reads up to 2)",
        ),
        (
            "gutted.sqlite",
            |p| {
                valid(p);
                sqlite(p, "DROP TABLE fills;")
            },
            "an SQLite database but not a Tickline journal (table fills is missing)",
        ),
        (
            "nojournalid.sqlite",
            |p| {
                valid(p);
                sqlite(p, "DELETE FROM meta WHERE key = 'journal_id';")
            },
            "an SQLite database but not a Tickline journal (it has no journal id)",
        ),
        (
            "truncated.sqlite",
            |p| {
                valid(p);
                let bytes = std::fs::read(p).unwrap();
                write(p, &bytes[..100]);
            },
            "corrupt",
        ),
        (
            "badheader.sqlite",
            |p| {
                valid(p);
                let mut bytes = std::fs::read(p).unwrap();
                // The b-tree page header of the schema table (page 1, after the file header).
                for b in &mut bytes[100..140] {
                    *b = 0xff;
                }
                write(p, &bytes);
            },
            "corrupt",
        ),
    ];
    let d = Dir::new();
    for (name, setup, expected) in cases {
        let path = d.path(name);
        setup(&path);
        let err = Journal::open(&path).expect_err(name);
        let text = err.to_string();
        assert!(
            text.starts_with(&format!("journal {}: ", path.display())),
            "{name}: {text}"
        );
        assert!(text.contains(expected), "{name}: {text}");
        // Creating refuses the same files (a missing one excepted) and leaves them as they
        // were.
        if *name != "missing.sqlite" {
            let before = std::fs::metadata(&path).map(|m| m.len()).ok();
            let err = Journal::open_or_create(&path).expect_err(name);
            assert!(err.to_string().contains(expected), "{name}: {err}");
            assert_eq!(
                std::fs::metadata(&path).map(|m| m.len()).ok(),
                before,
                "{name}"
            );
        }
    }
}

#[test]
fn a_path_in_a_missing_folder_cannot_be_created() {
    let d = Dir::new();
    let path = d.path("nope/j.sqlite");
    let err = Journal::open_or_create(&path).unwrap_err();
    assert!(matches!(err, JournalError::CannotOpen { .. }), "{err:?}");
    assert!(
        err.to_string()
            .starts_with(&format!("journal {}: cannot open", path.display())),
        "{err}"
    );
}

#[cfg(unix)]
#[test]
fn a_read_only_journal_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let d = Dir::new();
    let path = d.path("ro.sqlite");
    valid(&path);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).unwrap();
    // Root ignores file modes: nothing to test then.
    if std::fs::OpenOptions::new().write(true).open(&path).is_ok() {
        return;
    }
    let err = Journal::open(&path).unwrap_err();
    assert!(
        err.to_string()
            .contains("not writable (read-only file or folder)"),
        "{err}"
    );
}
