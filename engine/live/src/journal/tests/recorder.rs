//! The recorder behind a real kernel: what each table holds, commands journaled before they
//! are sent, executions booked once, commissions corrected, empty commits, failed commits.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rust_decimal::{Decimal, dec};
use tickline_engine::clock::SimClock;
use tickline_engine::domain::{ExecId, Fill, InstrumentId, OrderId, OrderRequest, Side};
use tickline_engine::execution::{ExecCommand, ExecEvent, ExecutionClient};
use tickline_engine::kernel::{Kernel, KernelConfig};
use tickline_engine::order::OrderState;
use tickline_engine::record::{Record, Recorder};

use super::support::{Dir, MIN, Plan, bar, begin, count, stocks};

/// A venue that, on every command it is handed, looks into the journal file (a separate
/// connection) for that command's row.
struct Checking {
    path: PathBuf,
    seen: Arc<Mutex<Vec<(String, i64)>>>,
}

impl ExecutionClient for Checking {
    fn send(&mut self, cmd: ExecCommand) {
        let c = rusqlite::Connection::open(&self.path).unwrap();
        let rows: i64 = c
            .query_row(
                "SELECT COUNT(*) FROM commands WHERE order_id IS ?1",
                [cmd.order_id().map(|o| o.0 as i64)],
                |r| r.get(0),
            )
            .unwrap();
        let kind = match cmd {
            ExecCommand::Submit { .. } => "submit",
            ExecCommand::Cancel { .. } => "cancel",
            _ => "other",
        };
        self.seen.lock().unwrap().push((kind.to_string(), rows));
    }
    fn poll(&mut self, _out: &mut Vec<ExecEvent>) {}
    fn name(&self) -> &str {
        "checking"
    }
}

fn fill(order: u64, qty: Decimal, exec: &str, commission: Decimal, ts: i64) -> ExecEvent {
    ExecEvent::Filled(Fill {
        order_id: OrderId(order),
        instrument: InstrumentId(0),
        side: Side::Buy,
        quantity: qty,
        price: dec!(99),
        commission,
        ts,
        exec_id: ExecId::new(exec).unwrap(),
    })
}

fn text(path: &Path, sql: &str) -> Vec<String> {
    let c = rusqlite::Connection::open(path).unwrap();
    let mut st = c.prepare(sql).unwrap();
    st.query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

#[test]
fn a_kernel_journals_everything_and_sends_only_what_the_journal_holds() {
    let d = Dir::new();
    let mut j = d.journal();
    let path = d.path("j.sqlite");
    let run = begin(&mut j, "DU1", &stocks(&["SPY"]), 0).unwrap();
    let seen = Arc::default();
    let cfg = KernelConfig {
        client_id_prefix: j.client_id_prefix(),
        ..KernelConfig::default()
    };
    let plan = vec![vec![
        OrderRequest::limit(InstrumentId(0), Side::Buy, dec!(10), dec!(99)),
        OrderRequest::market(InstrumentId(0), Side::Buy, dec!(0)),
    ]];
    let mut k = Kernel::new(
        cfg,
        run.instruments.clone(),
        Box::new(Plan(plan, 0)),
        Box::new(Checking {
            path: path.clone(),
            seen: Arc::clone(&seen),
        }),
        Box::new(SimClock::new(0)),
    )
    .unwrap();
    k.set_recorder(Box::new(j.recorder(run.run).unwrap()));
    k.on_bar(&bar(0, 100.0));
    k.record_equity(MIN);
    k.apply_reports([
        ExecEvent::Accepted {
            order_id: OrderId(1),
            broker_order_id: Some(701),
            ts: MIN + 1,
        },
        fill(1, dec!(4), "e.1", dec!(0), MIN + 2),
        ExecEvent::Commission {
            order_id: OrderId(1),
            exec_id: ExecId::new("e.1").unwrap(),
            commission: dec!(1.25),
            ts: MIN + 3,
        },
        // Reported again (a reconnect): not booked twice.
        fill(1, dec!(4), "e.1", dec!(1.25), MIN + 4),
        fill(1, dec!(6), "e.2", dec!(1), MIN + 5),
    ]);

    // The venue saw the submission with its row already in the journal.
    assert_eq!(*seen.lock().unwrap(), vec![("submit".to_string(), 1)]);
    assert_eq!(
        text(
            &path,
            "SELECT kind || ' ' || order_id FROM intents ORDER BY seq"
        ),
        ["submit 1", "submit 2"]
    );
    assert_eq!(
        text(
            &path,
            "SELECT order_id || ' ' || approved || ' ' || COALESCE(check_name, '-') FROM risk_decisions ORDER BY seq"
        ),
        ["1 1 -", "2 0 validity"]
    );
    assert_eq!(
        text(&path, "SELECT kind || ' ' || payload FROM commands"),
        [
            r#"submit {"client_order_id":"TL-1a2b3c4d-1","request":{"instrument":0,"side":"BUY","quantity":"10","order_type":"LMT","limit_price":"99","tif":"DAY"}}"#
        ]
    );
    assert_eq!(
        text(&path, "SELECT kind FROM events ORDER BY seq"),
        ["accepted", "filled", "commission", "filled", "filled"]
    );
    assert_eq!(
        text(
            &path,
            "SELECT exec_id || ' ' || quantity || ' ' || commission || ' ' || position_after FROM fills ORDER BY seq"
        ),
        ["e.1 4 1.25 4", "e.2 6 1 10"]
    );
    assert_eq!(
        text(
            &path,
            "SELECT order_id || ' ' || client_order_id || ' ' || state || ' ' || filled || ' ' || commission || ' ' || COALESCE(broker_order_id, '-') FROM orders ORDER BY order_id"
        ),
        [
            "1 TL-1a2b3c4d-1 Filled 10 2.25 701",
            "2 TL-1a2b3c4d-2 Denied 0 0 -"
        ]
    );
    assert_eq!(
        text(
            &path,
            "SELECT state FROM order_updates WHERE order_id = 1 ORDER BY seq"
        ),
        [
            "PendingSubmit",
            "Working",
            "PartiallyFilled",
            "PartiallyFilled",
            "Filled"
        ]
    );
    let audit = text(
        &path,
        "SELECT kind || ': ' || detail FROM audit ORDER BY seq",
    );
    assert!(
        audit[0].starts_with("risk_refusal: refused by validity"),
        "{audit:?}"
    );
    assert!(
        audit
            .iter()
            .any(|a| a == "venue_report: execution e.1 reported again: not booked twice"),
        "{audit:?}"
    );
    assert_eq!(text(&path, "SELECT equity FROM equity"), ["100000"]);
    assert_eq!(
        text(
            &path,
            "SELECT DISTINCT CAST(run AS TEXT) FROM events UNION SELECT DISTINCT CAST(run AS TEXT) FROM fills"
        ),
        ["1"]
    );

    // What the journal restores is what the kernel holds.
    let r = j.restore().unwrap();
    let mut orders = k.order_manager().orders().to_vec();
    for o in &mut orders {
        o.refusal = None;
    }
    assert_eq!(r.orders, orders);
    assert_eq!(r.fills, k.fills());
    assert_eq!(r.orders[1].state, OrderState::Denied);
    assert!(
        r.orders[1]
            .reason
            .as_deref()
            .unwrap()
            .starts_with("refused by validity")
    );
}

#[test]
fn an_empty_commit_touches_nothing_and_a_commit_is_one_transaction() {
    let d = Dir::new();
    let mut j = d.journal();
    let run = begin(&mut j, "DU1", &stocks(&["SPY"]), 0).unwrap();
    let mut rec = j.recorder(run.run).unwrap();
    let other = rusqlite::Connection::open(d.path("j.sqlite")).unwrap();
    let version = || -> i64 {
        other
            .pragma_query_value(None, "data_version", |r| r.get(0))
            .unwrap()
    };
    let v0 = version();
    rec.commit().unwrap();
    assert_eq!(version(), v0, "nothing written");
    for k in 0..3 {
        rec.record(Record::Equity {
            ts: k,
            equity: Decimal::from(k),
        });
    }
    assert_eq!(rec.pending(), 3);
    assert_eq!(
        count(&d.path("j.sqlite"), "equity"),
        0,
        "not before the commit"
    );
    rec.commit().unwrap();
    assert_eq!(rec.pending(), 0);
    assert_eq!(version(), v0 + 1, "one transaction");
    assert_eq!(count(&d.path("j.sqlite"), "equity"), 3);
}

#[test]
fn a_failed_commit_writes_nothing_and_the_next_one_writes_everything_once() {
    let d = Dir::new();
    let mut j = d.journal();
    let path = d.path("j.sqlite");
    let run = begin(&mut j, "DU1", &stocks(&["SPY"]), 0).unwrap();
    let mut rec = j.recorder(run.run).unwrap();
    rec.record(Record::Equity {
        ts: 1,
        equity: dec!(1),
    });
    let f = tickline_engine::kernel::FillRecord {
        fill: Fill {
            order_id: OrderId(1),
            instrument: InstrumentId(0),
            side: Side::Sell,
            quantity: dec!(1),
            price: dec!(2),
            commission: dec!(0),
            ts: 2,
            exec_id: ExecId::new("x1").unwrap(),
        },
        realized_pnl: dec!(0),
        position_after: dec!(-1),
    };
    rec.record(Record::Fill(&f));
    // Another process takes a table away: the batch cannot be written.
    let other = rusqlite::Connection::open(&path).unwrap();
    other
        .execute_batch("ALTER TABLE fills RENAME TO fills_away")
        .unwrap();
    let err = rec.commit().unwrap_err();
    assert!(err.0.contains(&path.display().to_string()), "{err}");
    assert_eq!(count(&path, "equity"), 0, "all or nothing");
    assert_eq!(rec.pending(), 2, "kept for the next commit");
    other
        .execute_batch("ALTER TABLE fills_away RENAME TO fills")
        .unwrap();
    rec.commit().unwrap();
    assert_eq!(count(&path, "equity"), 1);
    assert_eq!(count(&path, "fills"), 1);
    // The same execution with a corrected commission updates the row: never a second one.
    let mut again = f;
    again.fill.commission = dec!(0.35);
    rec.record(Record::Fill(&again));
    rec.commit().unwrap();
    assert_eq!(count(&path, "fills"), 1);
    assert_eq!(j.fills().unwrap()[0].fill.commission, dec!(0.35));
}

#[test]
fn the_exec_id_is_unique_in_the_file_itself() {
    let d = Dir::new();
    let j = d.journal();
    let insert = "INSERT INTO fills (run, ts, order_id, exec_id, instrument, side, quantity, price, commission, realized_pnl, position_after) VALUES (1, 1, 1, 'e', 0, 'BUY', '1', '1', '0', '0', '1')";
    j.conn.execute(insert, []).unwrap();
    let err = j.conn.execute(insert, []).unwrap_err();
    assert!(
        err.to_string()
            .contains("UNIQUE constraint failed: fills.exec_id"),
        "{err}"
    );
}
