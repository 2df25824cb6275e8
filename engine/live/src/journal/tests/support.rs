//! Shared test set-up: journals in temp folders, runs, a kernel journaling into one.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rust_decimal::Decimal;
use tickline_engine::clock::SimClock;
use tickline_engine::domain::{Bar, Instrument, InstrumentId, OrderRequest, Ts};
use tickline_engine::execution::{ExecCommand, ExecEvent, ExecutionClient};
use tickline_engine::kernel::{Kernel, KernelConfig};
use tickline_engine::strategy::{Ctx, Strategy};

use crate::journal::{Journal, JournalId, NewRun, RunStarted};
use crate::runner::RunMode;

pub const MIN: Ts = 60_000_000_000;

pub struct Dir {
    pub dir: tempfile::TempDir,
}

impl Dir {
    pub fn new() -> Dir {
        Dir {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A new journal with id `1a2b3c4d`.
    pub fn journal(&self) -> Journal {
        Journal::open_or_create_with_id(self.path("j.sqlite"), id()).unwrap()
    }
}

pub fn id() -> JournalId {
    JournalId::new("1a2b3c4d").unwrap()
}

pub fn stocks(symbols: &[&str]) -> Vec<Instrument> {
    symbols.iter().map(|s| Instrument::stock(s)).collect()
}

/// Start a paper run of `ema_cross` on `account` with `instruments` at `started`.
pub fn begin(
    j: &mut Journal,
    account: &str,
    instruments: &[Instrument],
    started: Ts,
) -> Result<RunStarted, crate::journal::JournalError> {
    j.begin_run(&NewRun {
        mode: RunMode::Paper,
        venue: "test-venue",
        account,
        strategy: "ema_cross",
        params: "fast = 3, slow = 8",
        instruments,
        started,
        version: "0.1.0",
    })
}

/// Count of rows in a table, through a fresh connection.
pub fn count(path: &Path, table: &str) -> i64 {
    let c = rusqlite::Connection::open(path).unwrap();
    c.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

pub type Sent = Arc<Mutex<Vec<ExecCommand>>>;

/// A venue that answers nothing by itself: tests feed its reports with
/// [`Kernel::apply_reports`].
pub struct Quiet(pub Sent);

impl ExecutionClient for Quiet {
    fn send(&mut self, cmd: ExecCommand) {
        self.0.lock().unwrap().push(cmd);
    }
    fn poll(&mut self, _out: &mut Vec<ExecEvent>) {}
    fn name(&self) -> &str {
        "quiet"
    }
}

/// Submits the requests planned for bar k.
pub struct Plan(pub Vec<Vec<OrderRequest>>, pub usize);

impl Strategy for Plan {
    fn on_bar(&mut self, _bar: &Bar, ctx: &mut dyn Ctx) {
        if let Some(reqs) = self.0.get(self.1) {
            for r in reqs {
                ctx.submit(*r);
            }
        }
        self.1 += 1;
    }
}

pub fn bar(k: i64, close: f64) -> Bar {
    Bar {
        instrument: InstrumentId(0),
        ts: k * MIN,
        ts_end: (k + 1) * MIN,
        open: close,
        high: close,
        low: close,
        close,
        volume: 1.0,
    }
}

/// A kernel on `instruments` with the journal's prefix, a quiet venue and a plan.
pub fn kernel(
    j: &Journal,
    instruments: Vec<Instrument>,
    plan: Vec<Vec<OrderRequest>>,
) -> (Kernel, Sent) {
    let sent: Sent = Arc::default();
    let cfg = KernelConfig {
        client_id_prefix: j.client_id_prefix(),
        initial_cash: Decimal::from(100_000),
        ..KernelConfig::default()
    };
    let k = Kernel::new(
        cfg,
        instruments,
        Box::new(Plan(plan, 0)),
        Box::new(Quiet(sent.clone())),
        Box::new(SimClock::new(0)),
    )
    .unwrap();
    (k, sent)
}
