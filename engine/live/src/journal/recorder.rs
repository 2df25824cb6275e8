//! The kernel's recorder: each [`Record`] is copied into an in-memory batch of owned rows
//! (no formatting on the kernel's path), and [`Recorder::commit`] writes the whole batch in
//! one transaction — one fsync with `synchronous=FULL` — or nothing when the batch is empty.
//! A failed commit writes nothing and keeps the batch, so the next commit writes it (in
//! order) and no record is lost.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, Transaction, TransactionBehavior, params};
use rust_decimal::Decimal;
use tickline_engine::audit::AuditRecord;
use tickline_engine::domain::{OrderModify, OrderRequest, Ts};
use tickline_engine::execution::{ExecCommand, ExecEvent};
use tickline_engine::kernel::FillRecord;
use tickline_engine::order::Order;
use tickline_engine::record::{Record, RecordError, Recorder};
use tickline_engine::risk::Refusal;

use super::codec::broker_id_to_sql;
use super::error::{JournalError, sql};
use super::handle::Journal;
use super::payload::{self, IntentJson, LinksJson, ModifyJson, RequestJson, to_text};
use super::runs::RunNumber;
use super::schema::connect;

/// What a strategy asked for.
#[derive(Debug)]
enum Intent {
    Submit(OrderRequest),
    Modify(OrderModify),
    Cancel,
}

/// One record, owned.
#[derive(Debug)]
enum Row {
    Intent {
        ts: Ts,
        order_id: u64,
        intent: Intent,
    },
    Risk {
        ts: Ts,
        order_id: u64,
        refusal: Option<Refusal>,
    },
    Command {
        ts: Ts,
        command: ExecCommand,
    },
    Event(ExecEvent),
    Order(Order),
    Fill(FillRecord),
    Audit(AuditRecord),
    Equity {
        ts: Ts,
        equity: Decimal,
    },
}

/// The journal as the kernel's [`Recorder`]: its own connection to the journal file, and the
/// run number every row carries.
pub struct JournalRecorder {
    conn: Connection,
    path: PathBuf,
    run: RunNumber,
    batch: Vec<Row>,
}

impl std::fmt::Debug for JournalRecorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JournalRecorder")
            .field("path", &self.path)
            .field("run", &self.run)
            .field("batch", &self.batch.len())
            .finish()
    }
}

impl Journal {
    /// A recorder for `run` (from [`Journal::begin_run`]) on its own connection.
    pub fn recorder(&self, run: RunNumber) -> Result<JournalRecorder, JournalError> {
        Ok(JournalRecorder {
            conn: connect(&self.path, None)?,
            path: self.path.clone(),
            run,
            batch: Vec::with_capacity(256),
        })
    }
}

impl JournalRecorder {
    /// The file it writes.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn run(&self) -> RunNumber {
        self.run
    }

    /// Records waiting for the next commit.
    pub fn pending(&self) -> usize {
        self.batch.len()
    }

    /// Write the batch in one transaction.
    pub fn try_commit(&mut self) -> Result<(), JournalError> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let path = self.path.clone();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql(&path, "starting a commit"))?;
        for row in &self.batch {
            write_row(&tx, self.run, row).map_err(sql(&path, "writing a record"))?;
        }
        tx.commit().map_err(sql(&path, "committing records"))?;
        self.batch.clear();
        Ok(())
    }
}

impl Recorder for JournalRecorder {
    fn record(&mut self, record: Record<'_>) {
        let row = match record {
            Record::SubmitIntent {
                ts,
                order_id,
                request,
            } => Row::Intent {
                ts,
                order_id: order_id.0,
                intent: Intent::Submit(*request),
            },
            Record::ModifyIntent {
                ts,
                order_id,
                change,
            } => Row::Intent {
                ts,
                order_id: order_id.0,
                intent: Intent::Modify(*change),
            },
            Record::CancelIntent { ts, order_id } => Row::Intent {
                ts,
                order_id: order_id.0,
                intent: Intent::Cancel,
            },
            Record::RiskDecision {
                ts,
                order_id,
                refusal,
            } => Row::Risk {
                ts,
                order_id: order_id.0,
                refusal: refusal.copied(),
            },
            Record::Command { ts, command } => Row::Command {
                ts,
                command: command.clone(),
            },
            Record::Event(e) => Row::Event(e.clone()),
            Record::Order(o) => Row::Order(o.clone()),
            Record::Fill(f) => Row::Fill(*f),
            Record::Audit(a) => Row::Audit(a.clone()),
            Record::Equity { ts, equity } => Row::Equity { ts, equity },
        };
        self.batch.push(row);
    }

    fn commit(&mut self) -> Result<(), RecordError> {
        self.try_commit().map_err(|e| RecordError(e.to_string()))
    }
}

const INSERT_INTENT: &str =
    "INSERT INTO intents (run, ts, order_id, kind, payload) VALUES (?1, ?2, ?3, ?4, ?5)";
const INSERT_RISK: &str = "INSERT INTO risk_decisions (run, ts, order_id, approved, check_name, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
const INSERT_COMMAND: &str =
    "INSERT INTO commands (run, ts, order_id, kind, payload) VALUES (?1, ?2, ?3, ?4, ?5)";
const INSERT_EVENT: &str =
    "INSERT INTO events (run, ts, order_id, kind, payload) VALUES (?1, ?2, ?3, ?4, ?5)";
const UPSERT_ORDER: &str = "
INSERT INTO orders (order_id, run, last_run, client_order_id, request_client_order_id,
    broker_order_id, instrument, side, quantity, order_type, limit_price, stop_price, tif,
    state, filled, avg_fill_price, commission, created, updated, reason, pending_modify, prompts,
    links)
VALUES (?1, ?2, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21,
    ?22)
ON CONFLICT (order_id) DO UPDATE SET
    last_run = excluded.last_run, client_order_id = excluded.client_order_id,
    request_client_order_id = excluded.request_client_order_id,
    broker_order_id = excluded.broker_order_id, instrument = excluded.instrument,
    side = excluded.side, quantity = excluded.quantity, order_type = excluded.order_type,
    limit_price = excluded.limit_price, stop_price = excluded.stop_price, tif = excluded.tif,
    state = excluded.state, filled = excluded.filled, avg_fill_price = excluded.avg_fill_price,
    commission = excluded.commission, created = excluded.created, updated = excluded.updated,
    reason = excluded.reason, pending_modify = excluded.pending_modify, prompts = excluded.prompts,
    links = excluded.links";
const INSERT_ORDER_UPDATE: &str =
    "INSERT INTO order_updates (run, ts, order_id, state, filled) VALUES (?1, ?2, ?3, ?4, ?5)";
const UPSERT_FILL: &str = "
INSERT INTO fills (run, ts, order_id, exec_id, instrument, side, quantity, price, commission,
    realized_pnl, position_after)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
ON CONFLICT (exec_id) DO UPDATE SET commission = excluded.commission";
const INSERT_AUDIT: &str =
    "INSERT INTO audit (run, ts, kind, order_id, detail) VALUES (?1, ?2, ?3, ?4, ?5)";
const INSERT_EQUITY: &str = "INSERT INTO equity (run, ts, equity) VALUES (?1, ?2, ?3)";

fn opt_text(d: Option<Decimal>) -> Option<String> {
    d.map(|d| d.to_string())
}

fn write_row(tx: &Transaction<'_>, run: RunNumber, row: &Row) -> rusqlite::Result<()> {
    match row {
        Row::Intent {
            ts,
            order_id,
            intent,
        } => {
            let (kind, payload) = match intent {
                Intent::Submit(r) => (
                    "submit",
                    Some(to_text(&IntentJson::Submit {
                        request: RequestJson::new(r),
                    })),
                ),
                Intent::Modify(m) => (
                    "modify",
                    Some(to_text(&IntentJson::Modify(ModifyJson::from(m)))),
                ),
                Intent::Cancel => ("cancel", None),
            };
            tx.prepare_cached(INSERT_INTENT)?.execute(params![
                run,
                ts,
                *order_id as i64,
                kind,
                payload
            ])?;
        }
        Row::Risk {
            ts,
            order_id,
            refusal,
        } => {
            tx.prepare_cached(INSERT_RISK)?.execute(params![
                run,
                ts,
                *order_id as i64,
                refusal.is_none(),
                refusal.map(|r| r.check),
                refusal.map(|r| r.reason.to_string()),
            ])?;
        }
        Row::Command { ts, command } => {
            let (kind, json) = payload::command(command);
            tx.prepare_cached(INSERT_COMMAND)?.execute(params![
                run,
                ts,
                command.order_id().map(|o| o.0 as i64),
                kind,
                to_text(&json),
            ])?;
        }
        Row::Event(e) => {
            let (kind, ts, json) = payload::event(e);
            tx.prepare_cached(INSERT_EVENT)?.execute(params![
                run,
                ts,
                e.order_id().0 as i64,
                kind,
                to_text(&json),
            ])?;
        }
        Row::Order(o) => write_order(tx, run, o)?,
        Row::Fill(r) => {
            let f = &r.fill;
            tx.prepare_cached(UPSERT_FILL)?.execute(params![
                run,
                f.ts,
                f.order_id.0 as i64,
                (!f.exec_id.is_none()).then(|| f.exec_id.as_str()),
                f.instrument.0,
                f.side.as_str(),
                f.quantity.to_string(),
                f.price.to_string(),
                f.commission.to_string(),
                r.realized_pnl.to_string(),
                r.position_after.to_string(),
            ])?;
        }
        Row::Audit(a) => {
            tx.prepare_cached(INSERT_AUDIT)?.execute(params![
                run,
                a.ts,
                a.kind.as_str(),
                a.order_id.map(|o| o.0 as i64),
                a.detail,
            ])?;
        }
        Row::Equity { ts, equity } => {
            tx.prepare_cached(INSERT_EQUITY)?.execute(params![
                run,
                ts,
                equity.normalize().to_string()
            ])?;
        }
    }
    Ok(())
}

fn write_order(tx: &Transaction<'_>, run: RunNumber, o: &Order) -> rusqlite::Result<()> {
    let r = &o.request;
    let filled = o.filled_qty.to_string();
    tx.prepare_cached(UPSERT_ORDER)?.execute(params![
        o.id.0 as i64,
        run,
        o.client_order_id.as_str(),
        r.client_order_id.as_ref().map(|c| c.as_str()),
        o.broker_order_id.map(broker_id_to_sql),
        r.instrument.0,
        r.side.as_str(),
        r.quantity.to_string(),
        r.order_type.as_str(),
        opt_text(r.limit_price),
        opt_text(r.stop_price),
        r.tif.as_str(),
        o.state.as_str(),
        filled,
        o.avg_fill_price.to_string(),
        o.commission.to_string(),
        o.created,
        o.updated,
        o.reason,
        o.pending_modify
            .as_deref()
            .map(|p| to_text(&RequestJson::new(p))),
        o.prompts,
        LinksJson::of(r).map(|l| to_text(&l)),
    ])?;
    tx.prepare_cached(INSERT_ORDER_UPDATE)?.execute(params![
        run,
        o.updated,
        o.id.0 as i64,
        o.state.as_str(),
        filled,
    ])?;
    Ok(())
}
