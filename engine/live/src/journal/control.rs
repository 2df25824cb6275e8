//! Operator commands from another terminal: `tickline kill --journal FILE` inserts a row
//! into the journal's `control` table; the running runtime takes the unapplied rows on
//! every loop turn (its own connection; WAL lets both work at once) and marks them applied
//! with its run number. A command given while no run is active waits for the next run.

use rusqlite::{OptionalExtension, TransactionBehavior, params};
use tickline_engine::domain::Ts;
use tickline_engine::risk::KillSwitchState;

use super::error::{JournalError, invalid, sql};
use super::handle::Journal;
use super::runs::RunNumber;
use crate::runner::ControlCommand;

/// How a command is stored.
pub fn control_name(c: ControlCommand) -> &'static str {
    match c {
        ControlCommand::KillSwitch(KillSwitchState::Halted) => "halt",
        ControlCommand::KillSwitch(KillSwitchState::Reducing) => "reduce",
        ControlCommand::KillSwitch(KillSwitchState::Active) => "resume",
        ControlCommand::Stop => "stop",
    }
}

/// A stored command name, read back.
pub fn parse_control(s: &str) -> Option<ControlCommand> {
    Some(match s {
        "halt" => ControlCommand::KillSwitch(KillSwitchState::Halted),
        "reduce" => ControlCommand::KillSwitch(KillSwitchState::Reducing),
        "resume" => ControlCommand::KillSwitch(KillSwitchState::Active),
        "stop" => ControlCommand::Stop,
        _ => return None,
    })
}

/// A `control` row as stored: id, requested, command, applied, run.
type ControlRow = (i64, Ts, String, Option<Ts>, Option<RunNumber>);

/// One row of the `control` table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ControlEntry {
    pub id: i64,
    pub requested: Ts,
    pub command: ControlCommand,
    /// When a run took it, and which.
    pub applied: Option<(Ts, RunNumber)>,
}

impl Journal {
    /// Leave `command` for the running runtime (from another process). Returns its id.
    pub fn request_control(&self, command: ControlCommand, ts: Ts) -> Result<i64, JournalError> {
        self.conn
            .execute(
                "INSERT INTO control (requested, command) VALUES (?1, ?2)",
                params![ts, control_name(command)],
            )
            .map_err(sql(&self.path, "queueing the command"))?;
        Ok(self.conn.last_insert_rowid())
    }

    /// The commands not yet applied, oldest first, marked applied by `run` at `ts` (each is
    /// returned once, by one caller).
    pub fn take_control_commands(
        &mut self,
        run: RunNumber,
        ts: Ts,
    ) -> Result<Vec<ControlCommand>, JournalError> {
        let path = self.path.clone();
        let err = sql(&path, "taking operator commands");
        // Cheap check first: no write lock on the usual loop turn with nothing to do.
        let pending: bool = self
            .conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM control WHERE applied IS NULL)",
                [],
                |r| r.get(0),
            )
            .map_err(&err)?;
        if !pending {
            return Ok(Vec::new());
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&err)?;
        let rows: Vec<(i64, String)> = {
            let mut st = tx
                .prepare("SELECT id, command FROM control WHERE applied IS NULL ORDER BY id")
                .map_err(&err)?;
            st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(&err)?
                .collect::<rusqlite::Result<_>>()
                .map_err(&err)?
        };
        let mut out = Vec::with_capacity(rows.len());
        for (id, name) in &rows {
            let c = parse_control(name).ok_or_else(|| {
                invalid(
                    &path,
                    format!("control row {id}"),
                    format!("unknown command {name:?}"),
                )
            })?;
            out.push(c);
        }
        tx.execute(
            "UPDATE control SET applied = ?1, run = ?2 WHERE applied IS NULL",
            params![ts, run],
        )
        .map_err(&err)?;
        tx.commit().map_err(&err)?;
        Ok(out)
    }

    /// One command by id.
    pub fn control_entry(&self, id: i64) -> Result<Option<ControlEntry>, JournalError> {
        let err = sql(&self.path, "reading a command");
        let row: Option<ControlRow> = self
            .conn
            .query_row(
                "SELECT id, requested, command, applied, run FROM control WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .optional()
            .map_err(err)?;
        row.map(|r| self.control_row(r)).transpose()
    }

    /// Every command, oldest first.
    pub fn control_log(&self) -> Result<Vec<ControlEntry>, JournalError> {
        let err = sql(&self.path, "reading the commands");
        let mut st = self
            .conn
            .prepare("SELECT id, requested, command, applied, run FROM control ORDER BY id")
            .map_err(&err)?;
        let rows: Vec<ControlRow> = st
            .query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .map_err(&err)?
            .collect::<rusqlite::Result<_>>()
            .map_err(&err)?;
        rows.into_iter().map(|r| self.control_row(r)).collect()
    }

    fn control_row(
        &self,
        (id, requested, name, applied, run): ControlRow,
    ) -> Result<ControlEntry, JournalError> {
        let command = parse_control(&name).ok_or_else(|| {
            invalid(
                &self.path,
                format!("control row {id}"),
                format!("unknown command {name:?}"),
            )
        })?;
        Ok(ControlEntry {
            id,
            requested,
            command,
            applied: applied.zip(run),
        })
    }
}
