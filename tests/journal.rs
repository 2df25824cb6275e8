//! `tickline journal show|export` and `tickline kill` end to end, on journals written by a
//! kernel through the journal's recorder; bad files (each a clear line, exit 2); the kill
//! switch across two processes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rust_decimal::dec;
use tickline_engine::clock::SimClock;
use tickline_engine::domain::{
    Bar, ExecId, Fill, Instrument, InstrumentId, OrderId, OrderRequest, Side,
};
use tickline_engine::execution::{ExecCommand, ExecEvent, ExecutionClient};
use tickline_engine::kernel::{Kernel, KernelConfig};
use tickline_engine::risk::KillSwitchState;
use tickline_engine::strategy::{Ctx, Strategy};
use tickline_live::journal::{Journal, JournalId, NewRun};
use tickline_live::runner::{ControlCommand, RunMode};

const MIN: i64 = 60_000_000_000;
/// 2026-01-05 14:30 UTC.
const T0: i64 = 1_767_623_400_000_000_000;

fn tickline(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tickline"))
        .args(args)
        .env_remove("TICKLINE_LOG")
        .output()
        .expect("tickline runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).trim().to_string()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

struct Quiet;

impl ExecutionClient for Quiet {
    fn send(&mut self, _cmd: ExecCommand) {}
    fn poll(&mut self, _out: &mut Vec<ExecEvent>) {}
    fn name(&self) -> &str {
        "quiet"
    }
}

/// On its first bar: buy 5 QQQ at market, sell 2 SPY at a limit.
struct Once(bool);

impl Strategy for Once {
    fn on_bar(&mut self, _bar: &Bar, ctx: &mut dyn Ctx) {
        if !std::mem::replace(&mut self.0, true) {
            ctx.submit(OrderRequest::market(InstrumentId(1), Side::Buy, dec!(5)));
            ctx.submit(OrderRequest::limit(
                InstrumentId(0),
                Side::Sell,
                dec!(2),
                dec!(700),
            ));
        }
    }
}

/// A journal with one run on DU123: QQQ bought (filled), a SPY limit order working.
fn journal(path: &Path, close: bool) {
    let mut j = Journal::open_or_create_with_id(path, JournalId::new("0badcafe").unwrap()).unwrap();
    let instruments = vec![Instrument::stock("SPY"), Instrument::stock("QQQ")];
    let run = j
        .begin_run(&NewRun {
            mode: RunMode::Paper,
            venue: "ibkr-emulator",
            account: "DU123",
            strategy: "ema_cross",
            params: "fast = 3, slow = 8",
            instruments: &instruments,
            started: T0,
            version: "test",
        })
        .unwrap();
    let cfg = KernelConfig {
        client_id_prefix: j.client_id_prefix(),
        ..KernelConfig::default()
    };
    let mut k = Kernel::new(
        cfg,
        run.instruments.clone(),
        Box::new(Once(false)),
        Box::new(Quiet),
        Box::new(SimClock::new(T0)),
    )
    .unwrap();
    k.set_recorder(Box::new(j.recorder(run.run).unwrap()));
    k.on_bar(&Bar {
        instrument: InstrumentId(0),
        ts: T0,
        ts_end: T0 + MIN,
        open: 690.0,
        high: 690.0,
        low: 690.0,
        close: 690.0,
        volume: 1.0,
    });
    k.apply_reports([
        ExecEvent::Accepted {
            order_id: OrderId(2),
            broker_order_id: Some(1_234_567_890),
            ts: T0 + MIN,
        },
        ExecEvent::Filled(Fill {
            order_id: OrderId(1),
            instrument: InstrumentId(1),
            side: Side::Buy,
            quantity: dec!(5),
            price: dec!(612.5),
            commission: dec!(1),
            ts: T0 + MIN,
            exec_id: ExecId::new("0000e0d5.6576fd38.01.01").unwrap(),
        }),
    ]);
    k.record_equity(T0 + MIN);
    k.flush();
    if close {
        j.end_run(
            run.run,
            T0 + 2 * MIN,
            "duration elapsed",
            &serde_json::json!({}),
        )
        .unwrap();
    }
}

fn setup(close: bool) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.sqlite");
    journal(&path, close);
    (dir, path)
}

#[test]
fn show_prints_the_journal() {
    let (_d, path) = setup(true);
    let o = tickline(&["journal", "show", path.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    for expected in [
        format!("journal 0badcafe ({}), schema version 2", path.display()),
        "account DU123, client order ids TL-0badcafe-<n>".to_string(),
        "ema_cross (fast = 3, slow = 8)".into(),
        "2026-01-05T14:30:00Z".into(),
        "duration elapsed".into(),
        "orders: 2 (Filled 1, Working 1)".into(),
        "TL-0badcafe-2".into(),
        "1234567890".into(),
        "positions from the journal's fills:".into(),
        "612.5".into(),
        "fills: 1".into(),
        "latest venue events:".into(),
        "0000e0d5.6576fd38.01.01".into(),
    ] {
        assert!(out.contains(&expected), "missing {expected:?} in\n{out}");
    }
}

#[test]
fn export_writes_the_results_folder_next_to_the_journal_or_into_out() {
    let (d, path) = setup(true);
    let o = tickline(&["journal", "export", path.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains(&format!(
            "journal 0badcafe exported to {}: 1 run, 1 fills",
            d.path().display()
        )),
        "{}",
        stdout(&o)
    );
    let trades = std::fs::read_to_string(d.path().join("trades.csv")).unwrap();
    let row = trades.lines().nth(1).unwrap();
    assert!(
        row.contains(",QQQ,BUY,5,612.5,1,1,TL-0badcafe-1,0000e0d5.6576fd38.01.01,"),
        "{row}"
    );
    let html = std::fs::read_to_string(d.path().join("report.html")).unwrap();
    assert!(html.contains("Tickline paper run: ema_cross"));

    let out = d.path().join("elsewhere");
    let o = tickline(&[
        "journal",
        "export",
        path.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--no-report",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(out.join("summary.json").exists());
    assert!(!out.join("report.html").exists());
}

#[test]
fn kill_queues_the_command_and_says_who_applies_it() {
    let (_d, path) = setup(true);
    let p = path.to_str().unwrap();
    let o = tickline(&["kill", "--journal", p]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).starts_with(&format!(
            "halt queued as command #1 in journal 0badcafe ({p}); no run is active (run 1 ended 2026-01-05T14:32:00Z): the next run applies it when it starts"
        )),
        "{}",
        stdout(&o)
    );
    let o = tickline(&["kill", "--journal", p, "--reduce"]);
    assert!(
        stdout(&o).starts_with("reduce queued as command #2"),
        "{}",
        stdout(&o)
    );
    let o = tickline(&["kill", "--journal", p, "--resume"]);
    assert!(
        stdout(&o).starts_with("resume queued as command #3"),
        "{}",
        stdout(&o)
    );
    let o = tickline(&["kill", "--journal", p, "--stop"]);
    assert!(
        stdout(&o).starts_with("stop queued as command #4"),
        "{}",
        stdout(&o)
    );
    let log = Journal::open(&path).unwrap().control_log().unwrap();
    let commands: Vec<ControlCommand> = log.iter().map(|e| e.command).collect();
    assert_eq!(
        commands,
        [
            ControlCommand::KillSwitch(KillSwitchState::Halted),
            ControlCommand::KillSwitch(KillSwitchState::Reducing),
            ControlCommand::KillSwitch(KillSwitchState::Active),
            ControlCommand::Stop,
        ]
    );
    let show = stdout(&tickline(&["journal", "show", p]));
    assert!(show.contains("#1 halt"), "{show}");
    assert!(show.contains("waiting for a run"), "{show}");

    let o = tickline(&["kill", "--journal", p, "--reduce", "--resume"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("cannot be used with"), "{}", stderr(&o));
}

#[test]
fn kill_reaches_a_running_run_in_another_process() {
    let (_d, path) = setup(false);
    // This process plays the running runtime: its own connection, polling as its loop does.
    let done = Arc::new(AtomicBool::new(false));
    let runtime = {
        let path = path.clone();
        let done = done.clone();
        std::thread::spawn(move || {
            let mut j = Journal::open(&path).unwrap();
            let mut taken = Vec::new();
            while !done.load(Ordering::Relaxed) {
                taken.extend(j.take_control_commands(1, T0 + 5 * MIN).unwrap());
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            taken
        })
    };
    let p = path.to_str().unwrap();
    let o = tickline(&["kill", "--journal", p, "--wait", "30"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("run 1 (started 2026-01-05T14:30:00Z) applies it on its next loop turn"),
        "{out}"
    );
    assert!(
        out.contains("halt applied by run 1 at 2026-01-05T14:35:00Z"),
        "{out}"
    );
    done.store(true, Ordering::Relaxed);
    assert_eq!(
        runtime.join().unwrap(),
        [ControlCommand::KillSwitch(KillSwitchState::Halted)]
    );
}

#[test]
fn kill_wait_without_a_runtime_fails_with_exit_1() {
    let (_d, path) = setup(false);
    let p = path.to_str().unwrap();
    let o = tickline(&["kill", "--journal", p, "--wait", "0.3"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        format!("error: halt (command #1) not applied within 0.3s: is a run active on {p}?")
    );
    let o = tickline(&["kill", "--journal", p, "--wait=-1"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        "error: --wait must be between 0 and 3600 seconds, got -1"
    );
}

#[test]
fn bad_journal_files_are_one_clear_line_and_exit_2_for_every_command() {
    let d = tempfile::tempdir().unwrap();
    let at = |name: &str| d.path().join(name);
    let sqlite = |name: &str, sql: &str| {
        let c = rusqlite::Connection::open(at(name)).unwrap();
        c.execute_batch(sql).unwrap();
    };
    std::fs::write(at("text.sqlite"), "time,open,high,low,close\n".repeat(50)).unwrap();
    sqlite("foreign.sqlite", "CREATE TABLE bars (ts INTEGER)");
    journal(&at("newer.sqlite"), true);
    sqlite("newer.sqlite", "PRAGMA user_version = 7");
    journal(&at("corrupt.sqlite"), true);
    let mut bytes = std::fs::read(at("corrupt.sqlite")).unwrap();
    bytes[100..140].fill(0xff);
    std::fs::write(at("corrupt.sqlite"), bytes).unwrap();
    std::fs::create_dir(at("folder.sqlite")).unwrap();

    let cases: &[(&str, &str)] = &[
        ("missing.sqlite", "no such file"),
        ("folder.sqlite", "is a folder, not a file"),
        (
            "text.sqlite",
            "not a Tickline journal (the file is not an SQLite database)",
        ),
        (
            "foreign.sqlite",
            "an SQLite database but not a Tickline journal (application id 0x0, tables bars)",
        ),
        (
            "newer.sqlite",
            "written by a newer Tickline (schema version 7; this build reads up to 2)",
        ),
        ("corrupt.sqlite", "corrupt"),
    ];
    for (name, expected) in cases {
        let p = at(name);
        let p = p.to_str().unwrap();
        for args in [
            vec!["journal", "show", p],
            vec!["journal", "export", p, "--out", d.path().to_str().unwrap()],
            vec!["kill", "--journal", p],
        ] {
            let o = tickline(&args);
            let err = stderr(&o);
            assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
            assert!(
                err.starts_with(&format!("error: journal {p}: ")) && err.contains(expected),
                "{args:?}: {err}"
            );
            assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
            assert!(!err.contains("panicked"), "{args:?}: {err}");
        }
    }
    // Nothing was created or changed by looking.
    assert!(!at("missing.sqlite").exists());
    assert!(!d.path().join("trades.csv").exists());
}
