//! Export: the results folder over every run of a journal.

use rust_decimal::dec;
use tickline_engine::domain::{ExecId, Fill, InstrumentId, OrderId, OrderRequest, Side};
use tickline_engine::execution::ExecEvent;
use tickline_engine::risk::KillSwitchState;

use super::support::{Dir, MIN, bar, begin, kernel, stocks};
use crate::journal::Journal;

fn filled(
    order: u64,
    side: Side,
    qty: rust_decimal::Decimal,
    px: rust_decimal::Decimal,
    exec: &str,
    ts: i64,
) -> ExecEvent {
    ExecEvent::Filled(Fill {
        order_id: OrderId(order),
        instrument: InstrumentId(0),
        side,
        quantity: qty,
        price: px,
        commission: dec!(1),
        ts,
        exec_id: ExecId::new(exec).unwrap(),
    })
}

/// Two runs: run 1 buys 10 at 100, run 2 sells them at 110 and halts the kill switch.
fn two_runs(d: &Dir) -> Journal {
    let mut j = d.journal();
    let r1 = begin(&mut j, "DU1", &stocks(&["SPY"]), 0).unwrap();
    let buy = OrderRequest::market(InstrumentId(0), Side::Buy, dec!(10));
    let (mut k, _) = kernel(&j, r1.instruments.clone(), vec![vec![buy]]);
    k.set_recorder(Box::new(j.recorder(r1.run).unwrap()));
    k.on_bar(&bar(0, 100.0));
    k.record_equity(MIN);
    k.apply_reports([filled(1, Side::Buy, dec!(10), dec!(100), "a.1", MIN + 1)]);
    k.on_bar(&bar(1, 105.0));
    k.record_equity(2 * MIN);
    // The final sample at the same time as the last bar's replaces it.
    k.record_equity(2 * MIN);
    k.flush();
    j.end_run(r1.run, 2 * MIN, "duration elapsed", &serde_json::json!({}))
        .unwrap();
    drop(k);

    let r2 = begin(&mut j, "DU1", &stocks(&["SPY"]), 10 * MIN).unwrap();
    let sell = OrderRequest::market(InstrumentId(0), Side::Sell, dec!(10));
    let (mut k, _) = kernel(&j, r2.instruments.clone(), vec![vec![sell]]);
    k.set_recorder(Box::new(j.recorder(r2.run).unwrap()));
    let r = j.restore().unwrap();
    k.restore(r.orders, r.fills).unwrap();
    k.on_bar(&bar(10, 110.0));
    k.apply_reports([filled(
        2,
        Side::Sell,
        dec!(10),
        dec!(110),
        "b.1",
        11 * MIN + 1,
    )]);
    k.record_equity(11 * MIN + 2);
    k.set_kill_switch(KillSwitchState::Halted);
    k.flush();
    j
}

fn rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

#[test]
fn the_results_cover_every_run() {
    let d = Dir::new();
    let j = two_runs(&d);
    let res = j.results().unwrap();
    let out = &res.output;
    assert_eq!(out.orders.len(), 2);
    assert_eq!(out.fills.len(), 2);
    assert_eq!(out.equity.ts, vec![MIN, 2 * MIN, 11 * MIN + 2]);
    assert_eq!(out.bars, 3);
    assert_eq!(
        out.bars_in_market, 1,
        "only the sample at 2 min holds the position"
    );
    assert_eq!(out.initial_cash, dec!(100000));
    // 100 000 - 1000 - 1 + 1100 - 1
    assert_eq!(out.final_cash, dec!(100098));
    assert_eq!(out.final_equity, *out.equity.equity.last().unwrap());
    assert_eq!(out.kill_switch, KillSwitchState::Halted);
    assert!(out.positions.iter().all(|p| p.is_flat()));
    assert_eq!(res.runs.len(), 2);
    assert_eq!(res.title, "Tickline paper run: ema_cross");
    assert_eq!(res.info.strategy, "ema_cross");
    let extra: Vec<&str> = res.info.extra.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        extra,
        ["Mode", "Journal", "Account", "Runs", "Run 1", "Run 2"]
    );
    assert!(
        res.info.extra[5].1.contains("not closed"),
        "{:?}",
        res.info.extra[5]
    );
    // Run time: run 1 took 2 minutes, run 2 is open up to its last sample.
    assert!(
        (out.run_seconds - (120.0 + 60.0 + 2e-9)).abs() < 1e-6,
        "{}",
        out.run_seconds
    );
}

#[test]
fn the_results_folder_is_written_from_the_journal() {
    let d = Dir::new();
    let j = two_runs(&d);
    let dir = d.path("out");
    let written = j.export(&dir, true).unwrap();
    let names: Vec<String> = written
        .files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "audit.csv",
            "equity.csv",
            "orders.csv",
            "report.html",
            "summary.json",
            "trades.csv"
        ]
    );
    let trades = rows(&std::fs::read_to_string(dir.join("trades.csv")).unwrap());
    assert_eq!(
        trades[0],
        [
            "time",
            "symbol",
            "side",
            "quantity",
            "price",
            "commission",
            "order_id",
            "client_order_id",
            "exec_id",
            "realized_pnl",
            "position_after"
        ]
    );
    assert_eq!(trades.len(), 3);
    assert_eq!(trades[1][6..9], ["1", "TL-1a2b3c4d-1", "a.1"]);
    assert_eq!(trades[2][6..9], ["2", "TL-1a2b3c4d-2", "b.1"]);
    assert_eq!(trades[2][9], "100");
    let orders = rows(&std::fs::read_to_string(dir.join("orders.csv")).unwrap());
    assert_eq!(orders.len(), 3);
    assert_eq!(orders[2][9], "Filled");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["fills"], 2);
    assert_eq!(summary["orders"], 2);
    assert_eq!(summary["kill_switch"], "Halted");
    assert_eq!(summary["strategy"], "ema_cross");
    let audit = std::fs::read_to_string(dir.join("audit.csv")).unwrap();
    assert!(audit.contains("kill_switch"), "{audit}");
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains("Tickline paper run: ema_cross"));
    assert!(html.contains("TL-") || html.contains("1a2b3c4d"));
}

#[test]
fn an_empty_journal_exports_empty_results() {
    let d = Dir::new();
    let j = d.journal();
    let written = j.export(&d.path("out"), false).unwrap();
    assert_eq!(written.files.len(), 5);
    let trades = std::fs::read_to_string(d.path("out/trades.csv")).unwrap();
    assert_eq!(trades.lines().count(), 1);
}

#[test]
fn an_unwritable_results_folder_is_an_error_naming_it() {
    let d = Dir::new();
    let j = d.journal();
    let blocker = d.path("file");
    std::fs::write(&blocker, "x").unwrap();
    let err = j.export(&blocker.join("out"), false).unwrap_err();
    assert!(
        err.to_string().contains(&blocker.display().to_string()),
        "{err}"
    );
}
