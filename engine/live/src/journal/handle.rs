//! The journal handle: opening or creating a journal file, its identity (journal id, client
//! order id prefix) and the account it is bound to.

use std::fmt;
use std::path::{Path, PathBuf};

use rand::TryRng;
use rusqlite::{Connection, OptionalExtension};

use super::error::{JournalError, sql};
use super::schema::connect;

/// A journal's identity: 8 lowercase hex digits, drawn from the operating system's
/// randomness when the journal is created. It makes the journal's client order ids
/// (`TL-<id>-<n>`) unique across journals.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct JournalId(String);

impl JournalId {
    /// `None` unless `s` is exactly 8 lowercase hex digits.
    pub fn new(s: &str) -> Option<JournalId> {
        (s.len() == 8 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
            .then(|| JournalId(s.to_string()))
    }

    /// A fresh id from the operating system's randomness.
    pub fn random() -> Result<JournalId, rand::rngs::SysError> {
        let n = rand::rngs::SysRng.try_next_u32()?;
        Ok(JournalId(format!("{n:08x}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for JournalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An open journal. Each handle has its own SQLite connection; the runtime's recorder, its
/// control reader and other processes (`tickline kill`, `tickline journal export`) use the
/// same file at the same time (WAL).
pub struct Journal {
    pub(crate) conn: Connection,
    pub(crate) path: PathBuf,
    pub(crate) id: JournalId,
    /// Held while this handle runs a run (see [`Journal::begin_run`]).
    pub(crate) lock: Option<std::fs::File>,
}

impl fmt::Debug for Journal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Journal")
            .field("path", &self.path)
            .field("id", &self.id)
            .finish()
    }
}

impl Journal {
    /// Open an existing journal (brought to the current schema version).
    pub fn open(path: impl AsRef<Path>) -> Result<Journal, JournalError> {
        Self::connect(path.as_ref(), None, false)
    }

    /// Open the journal, creating it with a random journal id if the file does not exist
    /// (or is empty).
    pub fn open_or_create(path: impl AsRef<Path>) -> Result<Journal, JournalError> {
        Self::connect(path.as_ref(), None, true)
    }

    /// [`Self::open_or_create`] with the id a new journal gets (tests, reproducible runs).
    /// An existing journal keeps its own.
    pub fn open_or_create_with_id(
        path: impl AsRef<Path>,
        id: JournalId,
    ) -> Result<Journal, JournalError> {
        Self::connect(path.as_ref(), Some(id), true)
    }

    fn connect(path: &Path, id: Option<JournalId>, create: bool) -> Result<Journal, JournalError> {
        let new_id = match (create, id) {
            (false, _) => None,
            (true, Some(id)) => Some(id),
            (true, None) => Some(JournalId::random().map_err(|e| JournalError::Io {
                path: path.display().to_string(),
                context: "drawing a journal id",
                source: std::io::Error::other(e.to_string()),
            })?),
        };
        let conn = connect(path, new_id.as_ref().map(JournalId::as_str))?;
        let stored = meta(&conn, "journal_id").map_err(sql(path, "reading the journal id"))?;
        let id = match stored {
            Some(s) => JournalId::new(&s).ok_or_else(|| JournalError::Invalid {
                path: path.display().to_string(),
                what: "meta journal_id".into(),
                detail: format!("{s:?} is not 8 hex digits"),
            })?,
            None => {
                return Err(JournalError::Foreign {
                    path: path.display().to_string(),
                    why: "it has no journal id".into(),
                });
            }
        };
        Ok(Journal {
            conn,
            path: path.to_path_buf(),
            id,
            lock: None,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn id(&self) -> &JournalId {
        &self.id
    }

    /// Prefix of this journal's client order ids: `TL-<journal id>-`. With
    /// [`tickline_engine::domain::ClientOrderId::with_number`] and the order id this gives
    /// `TL-1a2b3c4d-17` (at most 32 characters for any order id).
    pub fn client_id_prefix(&self) -> String {
        format!("TL-{}-", self.id)
    }

    /// The broker account the journal is bound to (set by its first run).
    pub fn account(&self) -> Result<Option<String>, JournalError> {
        meta(&self.conn, "account").map_err(sql(&self.path, "reading the account"))
    }

    /// The schema version of the file (after opening: the current one).
    pub fn schema_version(&self) -> Result<i64, JournalError> {
        self.conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(sql(&self.path, "reading the schema version"))
    }

    /// Refuse an account other than the one the journal is bound to.
    pub fn check_account(&self, account: &str) -> Result<(), JournalError> {
        match self.account()? {
            Some(bound) if bound != account => Err(JournalError::OtherAccount {
                path: self.path.display().to_string(),
                journal: bound,
                account: account.to_string(),
            }),
            _ => Ok(()),
        }
    }

    /// Move the journal at `path` aside, to `<stem>-<k>.<ext>` (the first free `k`), with
    /// its WAL files; `None` when there is none. A journal a run holds is refused. For a
    /// broker that starts empty every run (the embedded emulator), whose old journal can
    /// never be reconciled again.
    pub fn archive(path: impl AsRef<Path>) -> Result<Option<PathBuf>, JournalError> {
        let path = path.as_ref();
        if !path.exists() {
            return Ok(None);
        }
        let mut j = Journal::open(path)?;
        j.lock_for_run()?;
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("journal");
        let ext = path
            .extension()
            .and_then(|s| s.to_str())
            .unwrap_or("sqlite");
        let target = (1u32..)
            .map(|k| path.with_file_name(format!("{stem}-{k}.{ext}")))
            .find(|p| !p.exists())
            .unwrap_or_else(|| path.with_extension("old"));
        drop(j);
        let io = |context| {
            move |source| JournalError::Io {
                path: path.display().to_string(),
                context,
                source,
            }
        };
        std::fs::rename(path, &target).map_err(io("moving the journal aside"))?;
        for suffix in ["-wal", "-shm", ".lock"] {
            let mut from = path.as_os_str().to_owned();
            from.push(suffix);
            let from = PathBuf::from(from);
            if from.exists() {
                let mut to = target.as_os_str().to_owned();
                to.push(suffix);
                std::fs::rename(&from, PathBuf::from(to))
                    .map_err(io("moving the journal's WAL aside"))?;
            }
        }
        Ok(Some(target))
    }

    /// Take the journal's run lock (`<file>.lock`, an OS file lock released when this
    /// handle is dropped or the process dies), so two runs never trade on one journal.
    pub(crate) fn lock_for_run(&mut self) -> Result<(), JournalError> {
        if self.lock.is_some() {
            return Ok(());
        }
        let mut name = self.path.clone().into_os_string();
        name.push(".lock");
        let lock_path = PathBuf::from(name);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|source| JournalError::Io {
                path: self.path.display().to_string(),
                context: "creating the run lock",
                source,
            })?;
        match file.try_lock() {
            Ok(()) => {
                self.lock = Some(file);
                Ok(())
            }
            Err(std::fs::TryLockError::WouldBlock) => Err(JournalError::InUse {
                path: self.path.display().to_string(),
                lock: lock_path.display().to_string(),
            }),
            Err(std::fs::TryLockError::Error(source)) => Err(JournalError::Io {
                path: self.path.display().to_string(),
                context: "taking the run lock",
                source,
            }),
        }
    }
}

pub(crate) fn meta(conn: &Connection, key: &str) -> rusqlite::Result<Option<String>> {
    conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()
}
