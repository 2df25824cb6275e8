//! Runs and instruments: opening a run (bound to the journal's account, instruments given
//! stable ids), closing it, and reading them back.

use rusqlite::{OptionalExtension, Row, TransactionBehavior, params};
use tickline_engine::domain::{Instrument, InstrumentId, Ts};

use super::error::{JournalError, invalid, sql};
use super::handle::{Journal, meta};
use crate::runner::RunMode;

/// A run's number in its journal: 1, 2, …
pub type RunNumber = u32;

/// What a run is, given when it starts.
#[derive(Clone, Debug)]
pub struct NewRun<'a> {
    pub mode: RunMode,
    /// The venue (`ibkr`, `ibkr-emulator`).
    pub venue: &'a str,
    /// The broker account (`DU1234567`). The journal is bound to the account of its first
    /// run.
    pub account: &'a str,
    pub strategy: &'a str,
    /// The strategy's parameters as shown to people (`fast = 3, slow = 8`).
    pub params: &'a str,
    /// The instruments this run trades.
    pub instruments: &'a [Instrument],
    /// Start time (UTC ns).
    pub started: Ts,
    /// The binary's version.
    pub version: &'a str,
}

/// A run that started.
#[derive(Clone, Debug, PartialEq)]
pub struct RunStarted {
    pub run: RunNumber,
    /// The kernel's instrument list: every instrument of the journal in id order (the
    /// earlier runs' first, then this run's new ones), ids set. Definitions are this run's
    /// where it names the symbol.
    pub instruments: Vec<Instrument>,
    /// This run's instruments, by their journal ids (in the order given).
    pub trade: Vec<InstrumentId>,
}

/// One run as the journal holds it.
#[derive(Clone, Debug, PartialEq)]
pub struct RunRecord {
    pub run: RunNumber,
    pub mode: String,
    pub venue: String,
    pub account: String,
    pub strategy: String,
    pub params: String,
    /// Symbols the run traded.
    pub instruments: Vec<String>,
    pub started: Ts,
    pub version: String,
    /// `None` while it runs, or when it died without closing (crash, `kill -9`).
    pub ended: Option<Ts>,
    pub stop_reason: Option<String>,
    /// The runtime's summary at the end (final positions against the broker's, …).
    pub summary: Option<serde_json::Value>,
}

impl RunRecord {
    /// Closed by its runtime (not crashed, not still running).
    pub fn ended_cleanly(&self) -> bool {
        self.ended.is_some()
    }
}

const RUN_COLUMNS: &str = "run, mode, venue, account, strategy, params, instruments, started, version, ended, stop_reason, summary";

impl Journal {
    /// Start a run: bind the journal to `new.account` (the first run does; later runs of
    /// another account are refused), take the run lock (a second live run on the same
    /// journal is refused), give new instruments the next ids, and record the run.
    pub fn begin_run(&mut self, new: &NewRun<'_>) -> Result<RunStarted, JournalError> {
        self.check_account(new.account)?;
        self.lock_for_run()?;
        let path = self.path.clone();
        let err = |c| sql(&path, c);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err("starting a run"))?;
        match meta(&tx, "account").map_err(err("reading the account"))? {
            Some(bound) if bound != new.account => {
                return Err(JournalError::OtherAccount {
                    path: path.display().to_string(),
                    journal: bound,
                    account: new.account.to_string(),
                });
            }
            Some(_) => {}
            None => {
                tx.execute(
                    "INSERT INTO meta (key, value) VALUES ('account', ?1)",
                    [new.account],
                )
                .map_err(err("binding the account"))?;
            }
        }
        let run: RunNumber = tx
            .query_row("SELECT COALESCE(MAX(run), 0) + 1 FROM runs", [], |r| {
                r.get(0)
            })
            .map_err(err("numbering the run"))?;
        let symbols: Vec<&str> = new.instruments.iter().map(|i| i.symbol.as_str()).collect();
        let mut trade = Vec::with_capacity(new.instruments.len());
        for inst in new.instruments {
            let definition = serde_json::to_string(inst).map_err(|e| {
                invalid(&path, format!("instrument {}", inst.symbol), e.to_string())
            })?;
            let known: Option<u32> = tx
                .query_row(
                    "SELECT id FROM instruments WHERE symbol = ?1",
                    [&inst.symbol],
                    |r| r.get(0),
                )
                .optional()
                .map_err(err("reading the instruments"))?;
            let id = match known {
                Some(id) => {
                    tx.execute(
                        "UPDATE instruments SET definition = ?2 WHERE id = ?1",
                        params![id, definition],
                    )
                    .map_err(err("updating an instrument"))?;
                    id
                }
                None => {
                    let id: u32 = tx
                        .query_row(
                            "SELECT COALESCE(MAX(id) + 1, 0) FROM instruments",
                            [],
                            |r| r.get(0),
                        )
                        .map_err(err("numbering an instrument"))?;
                    tx.execute(
                        "INSERT INTO instruments (id, symbol, definition, first_run) VALUES (?1, ?2, ?3, ?4)",
                        params![id, inst.symbol, definition, run],
                    )
                    .map_err(err("adding an instrument"))?;
                    id
                }
            };
            trade.push(InstrumentId(id));
        }
        tx.execute(
            "INSERT INTO runs (run, mode, venue, account, strategy, params, instruments, started, version)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                run,
                new.mode.as_str(),
                new.venue,
                new.account,
                new.strategy,
                new.params,
                serde_json::to_string(&symbols).unwrap_or_else(|_| "[]".into()),
                new.started,
                new.version,
            ],
        )
        .map_err(err("recording the run"))?;
        tx.commit().map_err(err("committing the run"))?;
        let instruments = self.instruments()?;
        Ok(RunStarted {
            run,
            instruments,
            trade,
        })
    }

    /// Close a run: its end time, why it stopped and the runtime's summary.
    pub fn end_run(
        &self,
        run: RunNumber,
        ended: Ts,
        stop_reason: &str,
        summary: &serde_json::Value,
    ) -> Result<(), JournalError> {
        let n = self
            .conn
            .execute(
                "UPDATE runs SET ended = ?2, stop_reason = ?3, summary = ?4 WHERE run = ?1",
                params![run, ended, stop_reason, summary.to_string()],
            )
            .map_err(sql(&self.path, "closing the run"))?;
        if n == 0 {
            return Err(invalid(
                &self.path,
                format!("run {run}"),
                "no such run to close",
            ));
        }
        Ok(())
    }

    /// Every run, oldest first.
    pub fn runs(&self) -> Result<Vec<RunRecord>, JournalError> {
        let err = sql(&self.path, "reading the runs");
        let mut st = self
            .conn
            .prepare(&format!("SELECT {RUN_COLUMNS} FROM runs ORDER BY run"))
            .map_err(&err)?;
        let rows = st
            .query_map([], |r| Ok(run_row(r)))
            .map_err(&err)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(&err)?;
        rows.into_iter()
            .map(|r| r.map_err(|e| self.bad_run(e)))
            .collect()
    }

    /// The latest run, if any.
    pub fn last_run(&self) -> Result<Option<RunRecord>, JournalError> {
        let err = sql(&self.path, "reading the last run");
        let row = self
            .conn
            .query_row(
                &format!("SELECT {RUN_COLUMNS} FROM runs ORDER BY run DESC LIMIT 1"),
                [],
                |r| Ok(run_row(r)),
            )
            .optional()
            .map_err(err)?;
        row.transpose().map_err(|e| self.bad_run(e))
    }

    fn bad_run(&self, (run, detail): (i64, String)) -> JournalError {
        invalid(&self.path, format!("runs row {run}"), detail)
    }

    /// The journal's instruments in id order (ids set, definitions validated): a
    /// restarted kernel given this list first uses the same instrument ids.
    pub fn instruments(&self) -> Result<Vec<Instrument>, JournalError> {
        let err = sql(&self.path, "reading the instruments");
        let mut st = self
            .conn
            .prepare("SELECT id, symbol, definition FROM instruments ORDER BY id")
            .map_err(&err)?;
        let rows = st
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })
            .map_err(&err)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(&err)?;
        let mut out = Vec::with_capacity(rows.len());
        for (k, (id, symbol, definition)) in rows.into_iter().enumerate() {
            let what = || format!("instrument {symbol} (id {id})");
            if id != k as i64 {
                return Err(invalid(
                    &self.path,
                    what(),
                    format!("ids are not dense from 0 (expected {k})"),
                ));
            }
            let mut inst: Instrument = serde_json::from_str(&definition)
                .map_err(|e| invalid(&self.path, what(), format!("definition: {e}")))?;
            inst.prepare()
                .map_err(|e| invalid(&self.path, what(), e.to_string()))?;
            inst.id = InstrumentId(k as u32);
            out.push(inst);
        }
        Ok(out)
    }
}

/// A `runs` row; a bad value comes back as (run, what is wrong).
fn run_row(r: &Row<'_>) -> Result<RunRecord, (i64, String)> {
    let run: i64 = r.get(0).map_err(|e| (0, e.to_string()))?;
    let bad = |e: rusqlite::Error| (run, e.to_string());
    let instruments: String = r.get(6).map_err(bad)?;
    let summary: Option<String> = r.get(11).map_err(bad)?;
    Ok(RunRecord {
        run: u32::try_from(run).map_err(|_| (run, "run number out of range".to_string()))?,
        mode: r.get(1).map_err(bad)?,
        venue: r.get(2).map_err(bad)?,
        account: r.get(3).map_err(bad)?,
        strategy: r.get(4).map_err(bad)?,
        params: r.get(5).map_err(bad)?,
        instruments: serde_json::from_str(&instruments)
            .map_err(|e| (run, format!("instruments: {e}")))?,
        started: r.get(7).map_err(bad)?,
        version: r.get(8).map_err(bad)?,
        ended: r.get(9).map_err(bad)?,
        stop_reason: r.get(10).map_err(bad)?,
        summary: summary
            .map(|s| serde_json::from_str(&s))
            .transpose()
            .map_err(|e| (run, format!("summary: {e}")))?,
    })
}
