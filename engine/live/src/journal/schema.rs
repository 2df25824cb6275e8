//! The journal's file format: opening a connection (pragmas), telling a Tickline journal
//! from any other file, and the schema migrations.
//!
//! A journal is an SQLite database whose `application_id` is [`APPLICATION_ID`] and whose
//! `user_version` is the schema version: the number of [`MIGRATIONS`] applied. Opening runs
//! the missing migrations, each in its own transaction together with the version bump, so
//! a journal is always at one version. A file with another application id, or with ours but
//! a version above [`SCHEMA_VERSION`], is refused before anything is written to it.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use super::error::{JournalError, sql};

/// `PRAGMA application_id` of a Tickline journal ("TKLJ").
pub const APPLICATION_ID: i32 = 0x544B_4C4A;

/// How long a connection waits for another one's write lock (the runtime, `tickline kill`,
/// an export) before giving up.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Schema migrations, in order: `MIGRATIONS[k]` takes a journal from version `k` to `k + 1`.
/// Append new versions; never edit one that was released.
pub const MIGRATIONS: &[&str] = &[V1, V2];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Tables every journal has (checked at open).
pub const TABLES: &[&str] = &[
    "meta",
    "runs",
    "instruments",
    "intents",
    "risk_decisions",
    "commands",
    "events",
    "orders",
    "order_updates",
    "fills",
    "audit",
    "equity",
    "control",
];

const V1: &str = "
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE runs (
    run         INTEGER PRIMARY KEY,
    mode        TEXT NOT NULL,
    venue       TEXT NOT NULL,
    account     TEXT NOT NULL,
    strategy    TEXT NOT NULL,
    params      TEXT NOT NULL,
    instruments TEXT NOT NULL,
    started     INTEGER NOT NULL,
    version     TEXT NOT NULL,
    ended       INTEGER,
    stop_reason TEXT,
    summary     TEXT
);
CREATE TABLE instruments (
    id         INTEGER PRIMARY KEY,
    symbol     TEXT NOT NULL UNIQUE,
    definition TEXT NOT NULL,
    first_run  INTEGER NOT NULL
);
CREATE TABLE intents (
    seq      INTEGER PRIMARY KEY,
    run      INTEGER NOT NULL,
    ts       INTEGER NOT NULL,
    order_id INTEGER NOT NULL,
    kind     TEXT NOT NULL,
    payload  TEXT
);
CREATE TABLE risk_decisions (
    seq      INTEGER PRIMARY KEY,
    run      INTEGER NOT NULL,
    ts       INTEGER NOT NULL,
    order_id INTEGER NOT NULL,
    approved INTEGER NOT NULL,
    check_name TEXT,
    reason   TEXT
);
CREATE TABLE commands (
    seq      INTEGER PRIMARY KEY,
    run      INTEGER NOT NULL,
    ts       INTEGER NOT NULL,
    order_id INTEGER,
    kind     TEXT NOT NULL,
    payload  TEXT NOT NULL
);
CREATE TABLE events (
    seq      INTEGER PRIMARY KEY,
    run      INTEGER NOT NULL,
    ts       INTEGER NOT NULL,
    order_id INTEGER NOT NULL,
    kind     TEXT NOT NULL,
    payload  TEXT NOT NULL
);
CREATE TABLE orders (
    order_id        INTEGER PRIMARY KEY,
    run             INTEGER NOT NULL,
    last_run        INTEGER NOT NULL,
    client_order_id TEXT NOT NULL,
    request_client_order_id TEXT,
    broker_order_id INTEGER,
    instrument      INTEGER NOT NULL,
    side            TEXT NOT NULL,
    quantity        TEXT NOT NULL,
    order_type      TEXT NOT NULL,
    limit_price     TEXT,
    stop_price      TEXT,
    tif             TEXT NOT NULL,
    state           TEXT NOT NULL,
    filled          TEXT NOT NULL,
    avg_fill_price  TEXT NOT NULL,
    commission      TEXT NOT NULL,
    created         INTEGER NOT NULL,
    updated         INTEGER NOT NULL,
    reason          TEXT,
    pending_modify  TEXT,
    prompts         INTEGER NOT NULL
);
CREATE TABLE order_updates (
    seq      INTEGER PRIMARY KEY,
    run      INTEGER NOT NULL,
    ts       INTEGER NOT NULL,
    order_id INTEGER NOT NULL,
    state    TEXT NOT NULL,
    filled   TEXT NOT NULL
);
CREATE TABLE fills (
    seq            INTEGER PRIMARY KEY,
    run            INTEGER NOT NULL,
    ts             INTEGER NOT NULL,
    order_id       INTEGER NOT NULL,
    exec_id        TEXT UNIQUE,
    instrument     INTEGER NOT NULL,
    side           TEXT NOT NULL,
    quantity       TEXT NOT NULL,
    price          TEXT NOT NULL,
    commission     TEXT NOT NULL,
    realized_pnl   TEXT NOT NULL,
    position_after TEXT NOT NULL
);
CREATE TABLE audit (
    seq      INTEGER PRIMARY KEY,
    run      INTEGER NOT NULL,
    ts       INTEGER NOT NULL,
    kind     TEXT NOT NULL,
    order_id INTEGER,
    detail   TEXT NOT NULL
);
CREATE TABLE equity (
    seq    INTEGER PRIMARY KEY,
    run    INTEGER NOT NULL,
    ts     INTEGER NOT NULL,
    equity TEXT NOT NULL
);
CREATE TABLE control (
    id        INTEGER PRIMARY KEY,
    requested INTEGER NOT NULL,
    command   TEXT NOT NULL,
    applied   INTEGER,
    run       INTEGER
);
";

/// Version 2: an order's trail, trailing limit offset, bracket parent and OCA group, as JSON
/// (`NULL` for a plain order).
const V2: &str = "ALTER TABLE orders ADD COLUMN links TEXT;";

/// Open the journal at `path` — or create it with journal id `create` when the file is
/// missing or empty — and bring it to [`SCHEMA_VERSION`]: WAL, `synchronous=FULL`, a busy
/// timeout. Refuses, without writing to it, a file that is not a Tickline journal or was
/// written by a newer schema.
pub(crate) fn connect(path: &Path, create: Option<&str>) -> Result<Connection, JournalError> {
    let name = || path.display().to_string();
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => return Err(JournalError::IsFolder { path: name() }),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if create.is_none() {
                return Err(JournalError::Missing { path: name() });
            }
        }
        Err(source) => {
            return Err(JournalError::Io {
                path: name(),
                context: "reading the file's metadata",
                source,
            });
        }
    }
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if create.is_some() {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let conn = Connection::open_with_flags(path, flags).map_err(|source| {
        match source.sqlite_error_code() {
            Some(rusqlite::ErrorCode::NotADatabase) => JournalError::NotADatabase { path: name() },
            _ => JournalError::CannotOpen {
                path: name(),
                source,
            },
        }
    })?;
    if conn.is_readonly(rusqlite::MAIN_DB).unwrap_or(false) {
        return Err(JournalError::ReadOnly { path: name() });
    }
    let err = |context| sql(path, context);
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(err("setting the busy timeout"))?;
    let (app, version, tables) = header(&conn).map_err(err("reading the header"))?;
    if app != APPLICATION_ID {
        let fresh = app == 0 && version == 0 && tables.is_empty();
        if !(fresh && create.is_some()) {
            let why = if fresh {
                "an empty database".to_string()
            } else if tables.is_empty() {
                format!("application id {app:#x}, no tables")
            } else {
                format!("application id {app:#x}, tables {}", tables.join(", "))
            };
            return Err(JournalError::Foreign { path: name(), why });
        }
    } else if version > SCHEMA_VERSION {
        return Err(JournalError::TooNew {
            path: name(),
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
        .map_err(err("switching to WAL"))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(JournalError::Invalid {
            path: name(),
            what: "journal mode".into(),
            detail: format!("WAL refused (got {mode})"),
        });
    }
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(err("setting synchronous=FULL"))?;
    let mut conn = conn;
    migrate(&mut conn, path, create)?;
    let (_, _, tables) = header(&conn).map_err(err("reading the header"))?;
    if let Some(missing) = TABLES.iter().find(|t| !tables.iter().any(|x| x == *t)) {
        return Err(JournalError::Foreign {
            path: name(),
            why: format!("table {missing} is missing"),
        });
    }
    Ok(conn)
}

/// Application id, schema version and table names.
fn header(conn: &Connection) -> rusqlite::Result<(i32, i64, Vec<String>)> {
    let app: i32 = conn.pragma_query_value(None, "application_id", |r| r.get(0))?;
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let mut st =
        conn.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")?;
    let tables = st
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((app, version, tables))
}

/// Apply the missing migrations, each with its version bump in one transaction (the
/// version is read again under the write lock: two processes creating the same journal
/// apply each migration once). The first one also stores the journal id `create`.
fn migrate(conn: &mut Connection, path: &Path, create: Option<&str>) -> Result<(), JournalError> {
    loop {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql(path, "starting a migration"))?;
        let version: i64 = tx
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(sql(path, "reading the schema version"))?;
        let Some(step) = usize::try_from(version)
            .ok()
            .and_then(|v| MIGRATIONS.get(v))
        else {
            return Ok(());
        };
        tx.execute_batch(step)
            .map_err(sql(path, "migrating the schema"))?;
        if let (0, Some(id)) = (version, create) {
            tx.execute(
                "INSERT INTO meta (key, value) VALUES ('journal_id', ?1)",
                [id],
            )
            .map_err(sql(path, "storing the journal id"))?;
        }
        tx.pragma_update(None, "application_id", APPLICATION_ID)
            .map_err(sql(path, "setting the application id"))?;
        tx.pragma_update(None, "user_version", version + 1)
            .map_err(sql(path, "setting the schema version"))?;
        tx.commit().map_err(sql(path, "committing a migration"))?;
    }
}
