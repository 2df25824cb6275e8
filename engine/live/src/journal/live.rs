//! The journal as the live loop uses it ([`RunJournal`]): one run of one journal, its
//! results folder and report format.

use std::path::PathBuf;

use tickline_backtest::output::Written;
use tickline_engine::clock::{Clock, LiveClock};
use tickline_engine::domain::Ts;
use tickline_engine::record::{RecordError, Recorder};

use super::error::JournalError;
use super::handle::Journal;
use super::runs::RunNumber;
use crate::runner::{ControlCommand, RunJournal};

/// A run of a journal, for [`crate::runner::run`]: the recorder, operator commands, the
/// results folder (`out_dir`, `report.html` when `html`) and closing the run.
#[derive(Debug)]
pub struct LiveJournal {
    journal: Journal,
    run: RunNumber,
    out_dir: PathBuf,
    html: bool,
}

impl LiveJournal {
    /// `run` is the number [`Journal::begin_run`] gave.
    pub fn new(journal: Journal, run: RunNumber, out_dir: PathBuf, html: bool) -> LiveJournal {
        LiveJournal {
            journal,
            run,
            out_dir,
            html,
        }
    }

    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    pub fn run(&self) -> RunNumber {
        self.run
    }
}

fn record_error(e: JournalError) -> RecordError {
    RecordError(e.to_string())
}

impl RunJournal for LiveJournal {
    fn recorder(&mut self) -> Result<Box<dyn Recorder>, RecordError> {
        let r = self.journal.recorder(self.run).map_err(record_error)?;
        Ok(Box::new(r))
    }

    fn take_control(&mut self) -> Result<Vec<ControlCommand>, RecordError> {
        self.journal
            .take_control_commands(self.run, LiveClock.now())
            .map_err(record_error)
    }

    fn write_results(&mut self) -> Result<Written, RecordError> {
        self.journal
            .export(&self.out_dir, self.html)
            .map_err(record_error)
    }

    fn end_run(
        &mut self,
        ts: Ts,
        stop: &str,
        summary: &serde_json::Value,
    ) -> Result<(), RecordError> {
        self.journal
            .end_run(self.run, ts, stop, summary)
            .map_err(record_error)
    }
}
