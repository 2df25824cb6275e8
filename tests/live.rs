//! `tickline paper` as a trader runs it against `tickline gateway` running on its own
//! (127.0.0.1:0, an x60 market): `kill -9` with a working order and a restart on the same
//! journal (with 30 % injected 500s), a fill made while no run watched, foreign positions
//! under each policy, websocket drops mid-run, and bad input. The broker's own record
//! (`/control/orders`, `/control/executions`) is compared with the journal and the results
//! folder.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

fn tickline() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tickline"));
    c.env_remove("TICKLINE_LOG");
    c
}

/// A `tickline gateway` process with an accelerated market, stopped on drop.
struct Gateway {
    child: Child,
    addr: String,
}

impl Gateway {
    fn start(dir: &Path, seed: u64) -> Gateway {
        Gateway::start_with(dir, seed, &[])
    }

    /// With `edits` (line, replacement) applied to `config/gateway.toml`.
    fn start_with(dir: &Path, seed: u64, edits: &[(&str, String)]) -> Gateway {
        Gateway::spawn(dir, seed, edits, &[])
    }

    /// In OAuth 1.0a mode, its keys and client settings in `keys`.
    fn start_oauth(dir: &Path, seed: u64, keys: &Path) -> Gateway {
        Gateway::spawn(
            dir,
            seed,
            &[],
            &["--oauth".into(), keys.display().to_string()],
        )
    }

    fn spawn(dir: &Path, seed: u64, edits: &[(&str, String)], extra: &[String]) -> Gateway {
        let base =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config/gateway.toml"))
                .expect("config/gateway.toml");
        let mut cfg = base.replace("\nspeed = 1.0", "\nspeed = 60.0");
        assert_ne!(cfg, base, "config/gateway.toml has no `speed = 1.0` line");
        for (line, with) in edits {
            let next = cfg.replace(line, with);
            assert_ne!(next, cfg, "config/gateway.toml has no {line:?}");
            cfg = next;
        }
        let path = dir.join("gateway.toml");
        std::fs::write(&path, cfg).unwrap();
        let mut child = tickline()
            .args([
                "gateway",
                "--port",
                "0",
                "--seed",
                &seed.to_string(),
                "--config",
            ])
            .arg(&path)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("gateway starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no URL in {line:?}"));
        let addr = url
            .trim_start_matches("http://")
            .split('/')
            .next()
            .unwrap()
            .to_string();
        Gateway { child, addr }
    }

    fn url(&self) -> String {
        format!("http://{}/v1/api", self.addr)
    }

    /// One HTTP/1.1 request to the control API; the JSON body of the answer.
    fn control(&self, method: &str, path: &str, body: &str) -> Value {
        let (head, body) = self.request(method, path, body);
        assert!(
            head.starts_with("HTTP/1.1 2"),
            "{method} {path}: {head}\n{body}"
        );
        serde_json::from_str(&body).unwrap_or(Value::Null)
    }

    /// One HTTP/1.1 request: the status line and headers, and the body.
    fn request(&self, method: &str, path: &str, body: &str) -> (String, String) {
        let mut s = TcpStream::connect(&self.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.addr,
            body.len()
        )
        .unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let body = if head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            dechunk(rest)
        } else {
            rest.to_string()
        };
        (head.to_string(), body)
    }

    fn list(&self, path: &str, key: &str) -> Vec<Value> {
        match self.control("GET", path, "") {
            Value::Array(v) => v,
            Value::Object(m) => m
                .get(key)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
            other => panic!("{path}: {other}"),
        }
    }

    /// Orders at the broker placed with client order ids of `prefix`.
    fn orders(&self, prefix: &str) -> Vec<Value> {
        self.list("/control/orders", "orders")
            .into_iter()
            .filter(|o| str_of(o, "order_ref").starts_with(prefix))
            .collect()
    }

    /// Execution ids at the broker of orders of `prefix`.
    fn executions(&self, prefix: &str) -> BTreeSet<String> {
        self.list("/control/executions", "executions")
            .into_iter()
            .filter(|e| str_of(e, "order_ref").starts_with(prefix))
            .map(|e| str_of(&e, "execution_id"))
            .collect()
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn dechunk(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || tail.len() < n {
            break;
        }
        out.push_str(&tail[..n]);
        rest = tail[n..].trim_start_matches("\r\n");
    }
    out
}

fn str_of(v: &Value, key: &str) -> String {
    match &v[key] {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// `paper` against `gw` on `journal`, results in `out`.
fn paper_args(gw: &Gateway, journal: &Path, out: &Path, extra: &[&str]) -> Vec<String> {
    let mut a: Vec<String> = [
        "paper",
        "--url",
        &gw.url(),
        "--time-scale",
        "60",
        "--bar-seconds",
        "1",
        "--warmup-bars",
        "10",
        "-q",
        "--journal",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    a.push(journal.display().to_string());
    a.push("--out".into());
    a.push(out.display().to_string());
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

/// `tickline` with `args` running in the background, its output piped.
fn spawn(args: &[String]) -> Child {
    tickline()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tickline runs")
}

fn run(args: &[String]) -> Output {
    tickline().args(args).output().expect("tickline runs")
}

/// [`spawn`], with its stderr collected on a thread (joined for the whole log).
fn spawn_logged(args: &[String]) -> (Child, std::thread::JoinHandle<String>) {
    let mut child = spawn(args);
    let stderr = child.stderr.take().unwrap();
    let log = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = BufReader::new(stderr).read_to_string(&mut s);
        s
    });
    (child, log)
}

/// The summary of the journal's last closed run.
fn last_run_summary(journal: &Path) -> Value {
    let summary: String = db(journal)
        .query_row(
            "SELECT summary FROM runs WHERE summary IS NOT NULL ORDER BY run DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    serde_json::from_str(&summary).unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn db(journal: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open_with_flags(journal, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap()
}

fn journal_prefix(journal: &Path) -> String {
    let id: String = db(journal)
        .query_row("SELECT value FROM meta WHERE key = 'journal_id'", [], |r| {
            r.get(0)
        })
        .unwrap();
    format!("TL-{id}-")
}

fn journal_execs(journal: &Path) -> Vec<String> {
    let c = db(journal);
    let mut st = c.prepare("SELECT exec_id FROM fills ORDER BY seq").unwrap();
    st.query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// Execution ids of `trades.csv` (its `exec_id` column).
fn csv_execs(out: &Path) -> Vec<String> {
    csv_rows(&out.join("trades.csv"))
        .into_iter()
        .map(|mut r| r.remove("exec_id").expect("exec_id column"))
        .collect()
}

/// Rows of a CSV file by column name.
fn csv_rows(path: &Path) -> Vec<std::collections::HashMap<String, String>> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .unwrap()
        .split(',')
        .map(str::to_string)
        .collect();
    lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            header
                .iter()
                .cloned()
                .zip(l.split(',').map(str::to_string))
                .collect()
        })
        .collect()
}

/// Every audit record's text, one per line.
fn audit_text(journal: &Path) -> String {
    let c = db(journal);
    let mut st = c.prepare("SELECT detail FROM audit").unwrap();
    st.query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .map(Result::unwrap)
        .collect::<Vec<_>>()
        .join("\n")
}

fn summary(out: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap()
}

/// Wait for `cond` up to `limit`.
fn wait_for(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let t0 = Instant::now();
    while t0.elapsed() < limit {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    false
}

const LIVE_STATES: [&str; 4] = [
    "Submitted",
    "PreSubmitted",
    "PendingSubmit",
    "PendingCancel",
];

/// Every execution the broker made for this journal is in the journal and `trades.csv`
/// exactly once; nothing of this journal works at the broker; no cOID twice.
fn assert_books_match(gw: &Gateway, journal: &Path, out: &Path, ctx: &str) {
    let prefix = journal_prefix(journal);
    let broker = gw.executions(&prefix);
    let ours = journal_execs(journal);
    let unique: BTreeSet<String> = ours.iter().cloned().collect();
    assert_eq!(
        unique.len(),
        ours.len(),
        "{ctx}: an execution booked twice: {ours:?}"
    );
    assert_eq!(unique, broker, "{ctx}: journal vs broker executions");
    let csv = csv_execs(out);
    assert_eq!(
        csv.iter().cloned().collect::<BTreeSet<_>>(),
        broker,
        "{ctx}: trades.csv"
    );
    assert_eq!(csv.len(), ours.len(), "{ctx}: trades.csv rows");
    let orders = gw.orders(&prefix);
    let coids: Vec<String> = orders.iter().map(|o| str_of(o, "order_ref")).collect();
    let distinct: BTreeSet<&String> = coids.iter().collect();
    assert_eq!(
        distinct.len(),
        coids.len(),
        "{ctx}: a cOID placed twice: {coids:?}"
    );
    let working: Vec<&Value> = orders
        .iter()
        .filter(|o| LIVE_STATES.contains(&str_of(o, "status").as_str()))
        .collect();
    assert!(
        working.is_empty(),
        "{ctx}: left working at the broker: {working:?}"
    );
    let audit = audit_text(journal);
    assert!(
        !audit.contains("already registered"),
        "{ctx}: duplicate cOID refused:\n{audit}"
    );
}

const DONCHIAN: &[&str] = &[
    "--strategy",
    "donchian_breakout",
    "--set",
    "strategy.params.entry=4",
    "--set",
    "strategy.params.exit=3",
    "--set",
    "strategy.params.atr_period=3",
    "--set",
    "strategy.params.atr_mult=0.3",
];

#[test]
fn kill_9_with_a_working_stop_then_restarts_book_every_execution_once() {
    let dir = tempfile::tempdir().unwrap();
    let gw = Gateway::start(dir.path(), 11);
    let journal = dir.path().join("j.sqlite");
    let out = dir.path().join("out");
    let mut extra = DONCHIAN.to_vec();
    extra.extend(["--duration", "120s"]);
    let mut child = tickline()
        .args(paper_args(&gw, &journal, &out, &extra))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let working = wait_for(Duration::from_secs(90), || {
        journal.exists()
            && db(&journal)
                .query_row(
                    "SELECT COUNT(*) FROM orders WHERE state = 'Working' AND broker_order_id IS NOT NULL",
                    [],
                    |r| r.get::<_, i64>(0),
                )
                .unwrap_or(0)
                > 0
    });
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(working, "no working order within 90 s");
    let prefix = journal_prefix(&journal);
    // Give the broker time to fill the stop while no run watches (it may or may not).
    std::thread::sleep(Duration::from_secs(3));
    let filled_while_down = gw.executions(&prefix).len() > journal_execs(&journal).len();

    // Restart with 30 % of requests failing with 500.
    gw.control("POST", "/control/faults", r#"{"error_rate": 0.3}"#);
    let mut extra = DONCHIAN.to_vec();
    extra.extend(["--duration", "8s"]);
    let r = run(&paper_args(&gw, &journal, &out, &extra));
    gw.control("POST", "/control/faults", r#"{"error_rate": 0.0}"#);
    assert!(r.status.success(), "{}", text(&r));
    let second = String::from_utf8_lossy(&r.stdout).to_string();
    if filled_while_down {
        assert!(second.contains("missed fills booked at start"), "{second}");
    }
    if second.contains("broker not read at the end") {
        // The final reconciliation could not read the broker within its deadline: the
        // books may lack what the broker did at the very end, never hold more; the next
        // run books the rest at start.
        let broker = gw.executions(&journal_prefix(&journal));
        let ours: BTreeSet<String> = journal_execs(&journal).into_iter().collect();
        assert!(
            ours.is_subset(&broker),
            "{ours:?} vs {broker:?}\n{}",
            text(&r)
        );
    } else {
        assert_books_match(
            &gw,
            &journal,
            &out,
            &format!("after the restart under 500s\n{}", text(&r)),
        );
    }

    // And once more, clean: the books agree with the broker's.
    let r = run(&paper_args(&gw, &journal, &out, &extra));
    assert!(r.status.success(), "{}", text(&r));
    assert_books_match(
        &gw,
        &journal,
        &out,
        &format!("after the third run\n{}", text(&r)),
    );
    let s = summary(&out);
    let runs: i64 = db(&journal)
        .query_row("SELECT COUNT(*) FROM runs", [], |r| r.get(0))
        .unwrap();
    assert_eq!(runs, 3);
    let stdout = String::from_utf8_lossy(&r.stdout);
    assert!(
        stdout.contains("agree with the broker") || stdout.contains("flat, as at the broker"),
        "{stdout}\n{s}"
    );
}

#[test]
fn foreign_positions_are_refused_ignored_or_adopted() {
    let dir = tempfile::tempdir().unwrap();
    let gw = Gateway::start(dir.path(), 12);
    // Another journal leaves a position at the broker. Whether its 8 s see an EMA cross
    // depends on where the wall clock cuts the bars, so it runs again (resuming) until it
    // holds one, at most three times.
    let other = dir.path().join("other.sqlite");
    let mut held = 0.0;
    let mut r = None;
    for _ in 0..3 {
        let out = run(&paper_args(
            &gw,
            &other,
            &dir.path().join("o"),
            &[
                "--duration",
                "8s",
                "--set",
                "strategy.params.fast=2",
                "--set",
                "strategy.params.slow=3",
            ],
        ));
        assert!(out.status.success(), "{}", text(&out));
        held = db(&other)
            .query_row(
                "SELECT position_after FROM fills ORDER BY seq DESC LIMIT 1",
                [],
                |r| r.get::<_, String>(0),
            )
            .map(|s| s.parse().unwrap())
            .unwrap_or(0.0);
        r = Some(out);
        if held != 0.0 {
            break;
        }
    }
    let r = r.unwrap();
    assert!(held != 0.0, "three runs left no position\n{}", text(&r));

    let journal = dir.path().join("j.sqlite");
    let out = dir.path().join("out");
    let short = ["--duration", "3s"];
    let r = run(&paper_args(&gw, &journal, &out, &short));
    assert_eq!(r.status.code(), Some(2), "{}", text(&r));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(
        err.contains("position AAPL") && err.contains("foreign"),
        "{err}"
    );

    let mut ignore = short.to_vec();
    ignore.extend([
        "--foreign",
        "ignore",
        "--set",
        "strategy.params.fast=50",
        "--set",
        "strategy.params.slow=60",
    ]);
    let r = run(&paper_args(&gw, &journal, &out, &ignore));
    assert!(r.status.success(), "{}", text(&r));
    // The books hold none of the foreign position; the final check expects it still there.
    let stdout = String::from_utf8_lossy(&r.stdout);
    assert!(
        stdout.contains("agree with the broker (beside the foreign part ignored at start)"),
        "{stdout}"
    );
    let last_run = last_run_summary(&journal);
    assert_eq!(last_run["positions_agree"], true, "{last_run}");
    assert_eq!(
        last_run["positions"][0]["ignored"]
            .as_str()
            .map(|q| q.parse::<f64>().unwrap()),
        Some(held),
        "{last_run}"
    );

    let adopted = dir.path().join("adopt.sqlite");
    let mut adopt = short.to_vec();
    adopt.extend([
        "--foreign",
        "adopt",
        "--set",
        "strategy.params.fast=50",
        "--set",
        "strategy.params.slow=60",
    ]);
    let r = run(&paper_args(&gw, &adopted, &dir.path().join("a"), &adopt));
    assert!(r.status.success(), "{}", text(&r));
    let stdout = String::from_utf8_lossy(&r.stdout);
    assert!(stdout.contains("agree with the broker"), "{stdout}");
    assert!(
        stdout.contains(&format!("position AAPL: {held}")),
        "{stdout}"
    );
}

#[test]
fn websocket_drops_mid_run_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let gw = Gateway::start(dir.path(), 13);
    let journal = dir.path().join("j.sqlite");
    let out = dir.path().join("out");
    let args = paper_args(
        &gw,
        &journal,
        &out,
        &[
            "--duration",
            "14s",
            "--set",
            "strategy.params.fast=1",
            "--set",
            "strategy.params.slow=2",
        ],
    );
    let child = spawn(&args);
    for _ in 0..3 {
        std::thread::sleep(Duration::from_secs(3));
        gw.control("POST", "/control/ws/disconnect", "");
    }
    let r = child.wait_with_output().unwrap();
    assert!(r.status.success(), "{}", text(&r));
    let stdout = String::from_utf8_lossy(&r.stdout);
    // Bars kept closing through the drops (1 s bars over 14 s).
    let bars: u64 = stdout
        .lines()
        .find(|l| l.contains("ticks / bars"))
        .and_then(|l| l.split('┆').nth(1))
        .and_then(|v| v.split('/').nth(1))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(bars >= 10, "{bars} bars\n{stdout}");
    assert!(
        !journal_execs(&journal).is_empty(),
        "no fills\n{}",
        text(&r)
    );
    assert_books_match(&gw, &journal, &out, "websocket drops");
}

/// Connectivity transitions of the journal's audit: (ts, the state after, as the kernel
/// prints it).
fn connectivity(journal: &Path) -> Vec<(i64, String)> {
    let c = db(journal);
    let mut st = c
        .prepare("SELECT ts, detail FROM audit WHERE kind = 'connectivity' ORDER BY seq")
        .unwrap();
    st.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .map(|(ts, d)| (ts, d.rsplit(" -> ").next().unwrap_or("").to_string()))
        .collect()
}

/// Wait until the journal's latest connectivity state satisfies `cond`.
fn wait_state(journal: &Path, what: &str, cond: impl Fn(&str) -> bool) {
    assert!(
        wait_for(Duration::from_secs(40), || journal.exists()
            && connectivity(journal).last().is_some_and(|(_, s)| cond(s))),
        "never reached: {what}; transitions: {:#?}",
        connectivity(journal)
    );
}

const HEALTHY: &str = "session up, feed up";

/// Every order submitted while entries were paused reduces the position it found.
fn assert_paused_orders_reduce(journal: &Path) {
    let states = connectivity(journal);
    let c = db(journal);
    let mut st = c
        .prepare(
            "SELECT c.ts, o.side, o.quantity FROM commands c JOIN orders o USING (order_id)
             WHERE c.kind = 'submit' ORDER BY c.seq",
        )
        .unwrap();
    let submits: Vec<(i64, String, String)> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for (ts, side, qty) in submits {
        let state = states
            .iter()
            .rev()
            .find(|(t, _)| *t <= ts)
            .map_or(HEALTHY, |(_, s)| s.as_str());
        if !state.contains("entries paused") {
            continue;
        }
        let before: String = c
            .query_row(
                "SELECT position_after FROM fills WHERE ts < ?1 ORDER BY seq DESC LIMIT 1",
                [ts],
                |r| r.get(0),
            )
            .unwrap_or_else(|_| "0".into());
        let (pos, qty): (f64, f64) = (before.parse().unwrap(), qty.parse().unwrap());
        let reduces = match side.as_str() {
            "SELL" => pos > 0.0 && qty <= pos,
            _ => pos < 0.0 && qty <= -pos,
        };
        assert!(
            reduces,
            "{side} {qty} submitted at {ts} with position {pos} while {state}"
        );
    }
}

#[test]
fn session_faults_pause_entries_and_each_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let gw = Gateway::start(dir.path(), 17);
    let journal = dir.path().join("j.sqlite");
    let out = dir.path().join("out");
    let args = paper_args(
        &gw,
        &journal,
        &out,
        &[
            "--duration",
            "300s",
            "--set",
            "strategy.params.fast=2",
            "--set",
            "strategy.params.slow=4",
            "--set",
            "live.stale_after_secs=4",
            "--set",
            "live.penalty_pause_secs=4",
        ],
    );
    let (mut child, log) = spawn_logged(&args);
    assert!(
        wait_for(Duration::from_secs(60), || journal.exists()
            && connectivity(&journal).is_empty()
            && !journal_execs(&journal).is_empty()),
        "the run never traded"
    );

    // Forced logout: paused until a login at the gateway; then reconciled and resumed.
    gw.control("POST", "/control/session/logout", "");
    wait_state(&journal, "session lost", |s| {
        s.contains("entries paused (session lost)")
    });
    std::thread::sleep(Duration::from_secs(2));
    gw.control("POST", "/control/session/login", "");
    wait_state(&journal, "resumed after the login", |s| s == HEALTHY);

    // Competing session: paused, never taken over; resumes when the session is ours again.
    gw.control("POST", "/control/session/compete", "");
    wait_state(&journal, "competing", |s| {
        s.contains("entries paused (competing session)")
    });
    std::thread::sleep(Duration::from_secs(3));
    let st = gw.control("GET", "/control/state", "");
    assert_eq!(st["session"]["competing"], true, "taken over: {st}");
    gw.control("POST", "/control/session/login", "");
    wait_state(&journal, "resumed after competing", |s| s == HEALTHY);

    // IBKR's report of a competing login while still authenticated: paused just the same.
    gw.control("POST", "/control/session/compete-authenticated", "");
    wait_state(&journal, "competing while authenticated", |s| {
        s.contains("entries paused (competing session)")
    });
    gw.control("POST", "/control/session/login", "");
    wait_state(&journal, "resumed after competing (authenticated)", |s| {
        s == HEALTHY
    });

    // A brokerage reset (the session survives, the brokerage connection does not): the
    // client brings it back itself with ssodh/init; no login at the gateway needed.
    let changes = connectivity(&journal).len();
    gw.control("POST", "/control/session/reset", "");
    assert!(
        wait_for(Duration::from_secs(40), || {
            let c = connectivity(&journal);
            c.len() > changes && c.last().is_some_and(|(_, s)| s == HEALTHY)
        }),
        "no recovery from a brokerage reset: {:?}",
        connectivity(&journal)
    );

    // Stale feed: paused after 4 s without data, resumed when it flows.
    gw.control("PATCH", "/control/faults", r#"{"stale_feed":true}"#);
    wait_state(&journal, "stale", |s| {
        s.contains("entries paused (market data stale)")
    });
    gw.control("PATCH", "/control/faults", r#"{"stale_feed":false}"#);
    wait_state(&journal, "resumed after stale", |s| s == HEALTHY);

    // Rate limits (2 requests/s, a penalty box after 3 violations) while a reconnect makes
    // the run read its reports: degraded and paused, then resumed.
    gw.control(
        "PATCH",
        "/control/faults",
        r#"{"rate_limits":true,"global_rate":2,"penalty_violations":3,"penalty_window_secs":10,"penalty_secs":6}"#,
    );
    gw.control("POST", "/control/ws/disconnect", "");
    wait_state(&journal, "rate limited", |s| {
        s.starts_with("session degraded")
    });
    gw.control("PATCH", "/control/faults", r#"{"rate_limits":false}"#);
    wait_state(&journal, "resumed after rate limits", |s| s == HEALTHY);

    // The penalty box: another program on the same gateway hammers it until every request
    // is refused for 35 s. The run's requests are still refused after its 15 s pause, so it
    // knows the box, sends nothing for its penalty pause (4 s here), probes (again and
    // again), and resumes once the box is over.
    gw.control(
        "PATCH",
        "/control/faults",
        r#"{"rate_limits":true,"global_rate":2,"penalty_violations":3,"penalty_window_secs":10,"penalty_secs":35}"#,
    );
    for _ in 0..20 {
        gw.request("GET", "/v1/api/iserver/auth/status", "");
    }
    let st = gw.control("GET", "/control/state", "");
    assert!(
        st["penalty_left_ms"].as_u64().is_some_and(|ms| ms > 0),
        "the gateway is not in its penalty box: {st}"
    );
    gw.control("POST", "/control/ws/disconnect", "");
    wait_state(&journal, "in the penalty box", |s| {
        s.starts_with("session degraded")
    });
    assert!(
        wait_for(Duration::from_secs(60), || gw.control(
            "GET",
            "/control/state",
            ""
        )["penalty_left_ms"]
            .is_null()),
        "the gateway's penalty box never ended"
    );
    gw.control("PATCH", "/control/faults", r#"{"rate_limits":false}"#);
    wait_state(&journal, "resumed after the penalty box", |s| s == HEALTHY);
    std::thread::sleep(Duration::from_secs(3));

    let k = run(&[
        "kill".into(),
        "--journal".into(),
        journal.display().to_string(),
        "--stop".into(),
    ]);
    assert!(k.status.success(), "{}", text(&k));
    let status = child.wait().unwrap();
    let log = log.join().unwrap();
    assert!(status.success(), "exit {status:?}\n{log}");
    for expected in [
        "session lost",
        "not taking it over",
        "feed stale",
        "rate limited on",
        "IBKR penalty box",
    ] {
        assert!(log.contains(expected), "no {expected:?} in\n{log}");
    }
    assert!(!log.contains("panicked"), "{log}");
    let audit = audit_text(&journal);
    assert!(
        audit.contains("refused by entry_pause"),
        "no entry was refused while paused:\n{audit}"
    );
    assert_paused_orders_reduce(&journal);
    assert_books_match(&gw, &journal, &out, "session faults");
    let run_summary = last_run_summary(&journal);
    assert_eq!(run_summary["positions_agree"], true, "{run_summary}");
}

/// IBKR's 503 on order creation after its 10 s backend timeout, the order created or not
/// (seeded, 40 % of placements): the run resolves each by the cOID lookup, placing again with
/// the same cOID only when the order is certainly not there. No cOID twice, no duplicate
/// refused, every execution booked once, nothing left working, books equal the broker's.
#[test]
fn orders_answered_503_are_resolved_without_a_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let gw = Gateway::start_with(
        dir.path(),
        31,
        &[("order_503_rate = 0.0", "order_503_rate = 0.4".into())],
    );
    let journal = dir.path().join("j.sqlite");
    let out = dir.path().join("out");
    let r = run(&paper_args(
        &gw,
        &journal,
        &out,
        &[
            "--duration",
            "25s",
            "--set",
            "strategy.params.fast=2",
            "--set",
            "strategy.params.slow=4",
        ],
    ));
    assert!(r.status.success(), "{}", text(&r));
    let log = text(&r);
    assert!(
        log.contains("order submission ambiguous"),
        "no placement was answered 503:\n{log}"
    );
    assert!(
        !journal_execs(&journal).is_empty(),
        "nothing traded:\n{log}"
    );
    assert_books_match(&gw, &journal, &out, "503 on placement");
    let last_run = last_run_summary(&journal);
    assert_eq!(last_run["positions_agree"], true, "{last_run}");
}

/// IBKR's order-lifecycle and stream quirks at once, on a Donchian run that keeps stops
/// working and moves them: every order held behind a `p12` server prompt (answered through
/// `/iserver/notification` by the `[prompts]` policy), every working order in `WarnState`, cancels that stay `PendingCancel` for 2 s (the stop may still fill), `smd`
/// subscriptions that lapse silently after 5 s unless renewed (the run renews every 2 s, so
/// the feed never goes quiet), and an `ntf` notice and a `blt` bulletin pushed mid-run. The
/// run trades, logs both messages, leaves nothing working, and its books equal the broker's.
#[test]
fn ibkr_order_lifecycle_and_stream_quirks_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let gw = Gateway::start_with(
        dir.path(),
        41,
        &[
            (
                "# [[prompts]]\n# message_id = \"o383\"",
                "[[prompts]]\nmessage_id = \"p12\"\nwhen = \"always\"\n# [[prompts]]\n# message_id = \"o383\"".into(),
            ),
            ("warn_state_rate = 0.0", "warn_state_rate = 1.0".into()),
            ("cancel_delay_ms = 0", "cancel_delay_ms = 2000".into()),
            ("smd_lapse_secs = 900", "smd_lapse_secs = 5".into()),
        ],
    );
    let journal = dir.path().join("j.sqlite");
    let out = dir.path().join("out");
    let mut extra = DONCHIAN.to_vec();
    // A stop far from the market (20 ATR): it is cancelled, by a channel exit or by the
    // run's stop, rather than filled, so a cancel always goes through PendingCancel.
    extra.extend([
        "--duration",
        "120s",
        "--set",
        "live.md_renew_secs=2",
        "--set",
        "strategy.params.atr_mult=20",
    ]);
    let (mut child, log) = spawn_logged(&paper_args(&gw, &journal, &out, &extra));
    assert!(
        wait_for(Duration::from_secs(60), || journal.exists()
            && !journal_execs(&journal).is_empty()),
        "the run never traded"
    );
    gw.control(
        "POST",
        "/control/ws/ntf",
        r#"{"id":"N1","title":"Warning","text":"Tickline test notice"}"#,
    );
    gw.control(
        "POST",
        "/control/ws/blt",
        r#"{"id":"B1","message":"Tickline test bulletin"}"#,
    );
    // Stop while a stop order works, so the run's cancel at the end goes through
    // PendingCancel (2 s) before it takes effect.
    let working = wait_for(Duration::from_secs(90), || {
        db(&journal)
            .query_row(
                "SELECT COUNT(*) FROM orders WHERE state = 'Working' AND broker_order_id IS NOT NULL",
                [],
                |r| r.get::<_, i64>(0),
            )
            .unwrap_or(0)
            > 0
    });
    let k = run(&[
        "kill".into(),
        "--journal".into(),
        journal.display().to_string(),
        "--stop".into(),
    ]);
    assert!(k.status.success(), "{}", text(&k));
    assert!(working, "no working order within 90 s");
    let status = child.wait().unwrap();
    let log = log.join().unwrap();
    assert!(status.success(), "exit {status:?}\n{log}");
    for expected in [
        "broker notice: Warning: Tickline test notice",
        "broker notice: Tickline test bulletin",
        "IBKR accepted the order with a warning (WarnState)",
    ] {
        assert!(log.contains(expected), "no {expected:?} in\n{log}");
    }
    assert!(
        !log.contains("dead feed"),
        "a renewed smd subscription lapsed:\n{log}"
    );
    assert!(!log.contains("panicked"), "{log}");
    assert!(
        !log.contains("illegal order transition"),
        "an event the order's state did not take:\n{log}"
    );
    let audit = audit_text(&journal);
    assert!(
        audit.contains("message p12: confirm"),
        "no p12 prompt answered:\n{audit}"
    );
    let prefix = journal_prefix(&journal);
    let orders = gw.orders(&prefix);
    assert!(
        orders
            .iter()
            .any(|o| !str_of(o, "warning_message").is_empty()),
        "no order was put in WarnState: {orders:?}"
    );
    assert!(
        orders.iter().any(|o| str_of(o, "status") == "Cancelled"),
        "no cancel went through PendingCancel: {orders:?}"
    );
    assert_books_match(&gw, &journal, &out, "lifecycle quirks");
    let run_summary = last_run_summary(&journal);
    assert_eq!(run_summary["positions_agree"], true, "{run_summary}");
}

/// OAuth 1.0a end to end, the path to IBKR's sandbox and production: `tickline gateway
/// --oauth DIR` generates the keys and writes `DIR/ibkr_oauth.toml`, then verifies every
/// request (live session token, HMAC signatures, nonces, timestamps); `tickline ibkr` and
/// `tickline paper --oauth-config` with that file trade through it, and a tampered file is
/// refused with IBKR's 401 reason.
#[test]
fn paper_trades_over_oauth_against_the_verifying_gateway() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("oauth");
    let gw = Gateway::start_oauth(dir.path(), 43, &keys);
    let settings = keys.join("ibkr_oauth.toml");
    assert!(settings.exists(), "no ibkr_oauth.toml");
    let oauth = |args: &[&str]| {
        let mut a = vec!["ibkr".to_string(), "--oauth-config".into()];
        a.push(settings.display().to_string());
        a.extend(args.iter().map(|s| s.to_string()));
        run(&a)
    };
    let accounts = oauth(&["accounts"]);
    assert!(accounts.status.success(), "{}", text(&accounts));
    assert!(text(&accounts).contains("DU1234567"), "{}", text(&accounts));

    // Unsigned, the same request is refused.
    let (head, body) = gw.request("GET", "/v1/api/iserver/accounts", "");
    assert!(head.starts_with("HTTP/1.1 401"), "{head}\n{body}");

    let journal = dir.path().join("j.sqlite");
    let out = dir.path().join("out");
    let mut args = paper_args(
        &gw,
        &journal,
        &out,
        &[
            "--duration",
            "20s",
            "--set",
            "strategy.params.fast=2",
            "--set",
            "strategy.params.slow=4",
        ],
    );
    let url = args.iter().position(|a| a == "--url").unwrap();
    args.splice(
        url..url + 2,
        ["--oauth-config".to_string(), settings.display().to_string()],
    );
    let r = run(&args);
    assert!(r.status.success(), "{}", text(&r));
    assert!(
        !journal_execs(&journal).is_empty(),
        "nothing traded over OAuth:\n{}",
        text(&r)
    );
    assert_books_match(&gw, &journal, &out, "OAuth paper run");
    let st = gw.control("GET", "/control/state", "");
    assert_eq!(st["oauth"]["live_session_token"], true, "{st}");
    assert!(
        st["oauth"]["accepted"].as_u64().is_some_and(|n| n > 10),
        "signed requests accepted: {st}"
    );
    assert_eq!(
        st["oauth"]["refused"], 1,
        "only the unsigned request was refused: {st}"
    );

    // A wrong access token secret: the live session token cannot be derived; IBKR's
    // reason reaches the user, the secret does not.
    let cfg = std::fs::read_to_string(&settings).unwrap();
    let secret_line = cfg
        .lines()
        .find(|l| l.starts_with("access_token = "))
        .unwrap()
        .to_string();
    let bad = dir.path().join("bad_oauth.toml");
    std::fs::write(
        &bad,
        cfg.replace(&secret_line, "access_token = \"0000000000deadbeef00\"")
            .replace(
                "signature_key_path = \"",
                &format!("signature_key_path = \"{}/", keys.display()),
            )
            .replace(
                "encryption_key_path = \"",
                &format!("encryption_key_path = \"{}/", keys.display()),
            )
            .replace(
                "dh_param_path = \"",
                &format!("dh_param_path = \"{}/", keys.display()),
            ),
    )
    .unwrap();
    let refused = run(&[
        "ibkr".into(),
        "--oauth-config".into(),
        bad.display().to_string(),
        "accounts".into(),
    ]);
    assert!(!refused.status.success());
    let msg = text(&refused);
    assert!(
        msg.contains("HTTP 401") && msg.contains("invalid oauth_token"),
        "{msg}"
    );
    let secret = cfg
        .lines()
        .find_map(|l| l.strip_prefix("access_token_secret = "))
        .unwrap()
        .trim_matches('"');
    assert!(!msg.contains(secret), "the secret reached the error: {msg}");
}

/// IBKR's nightly maintenance on the venue's clock. The gateway's market runs 300x from
/// 23:30 New York (a Tuesday in January), so North America's 00:15-01:45 window opens about
/// 9 s into the run and lasts 18 s, whatever the host's clock says (the run's pause starts
/// and ends a margin of 15 venue minutes, 3 s here, around it). The run learns the
/// venue's time from the gateway's `Date` headers and the region from the account's
/// `ibEntity` (`[live] maintenance = "auto"`): it pauses entries for the window as planned,
/// sends no login while it lasts (no re-authentication storm), brings the brokerage session
/// back once afterwards, reconciles and trades on.
#[test]
fn a_maintenance_window_on_the_venues_clock_is_a_planned_pause() {
    let dir = tempfile::tempdir().unwrap();
    let gw = Gateway::start_with(
        dir.path(),
        23,
        &[
            ("\nspeed = 60.0", "\nspeed = 300.0".into()),
            ("\nstep_ms = 1000", "\nstep_ms = 5000".into()),
            (
                "# start = \"2024-01-02T14:30:00Z\"",
                "start = \"2024-01-03T04:30:00Z\"".into(),
            ),
            (
                "maintenance = \"off\"",
                "maintenance = \"north-america\"".into(),
            ),
        ],
    );
    let journal = dir.path().join("j.sqlite");
    let out = dir.path().join("out");
    let mut args = paper_args(
        &gw,
        &journal,
        &out,
        &[
            "--duration",
            "50s",
            "--set",
            "strategy.params.fast=2",
            "--set",
            "strategy.params.slow=4",
        ],
    );
    let scale = args.iter().position(|a| a == "--time-scale").unwrap() + 1;
    args[scale] = "300".into();
    let (mut child, log) = spawn_logged(&args);
    wait_state(&journal, "the maintenance pause", |s| {
        s.contains("entries paused (broker maintenance)")
    });
    // The pause begins a little before the window (its margin covers the uncertainty of
    // the venue clock); the window follows while entries are paused.
    assert!(
        wait_for(Duration::from_secs(20), || gw.control(
            "GET",
            "/control/state",
            ""
        )["maintenance"]["kind"]
            == "daily"),
        "the gateway's window never began"
    );
    assert!(
        connectivity(&journal)
            .last()
            .is_some_and(|(_, s)| s.contains("broker maintenance")),
        "{:#?}",
        connectivity(&journal)
    );
    wait_state(&journal, "trading after the window", |s| s == HEALTHY);
    let st = gw.control("GET", "/control/state", "");
    assert!(st["maintenance"].is_null(), "{st}");
    assert_eq!(
        st["maintenance_logins"], 0,
        "logins sent during the window: {st}"
    );
    let status = child.wait().unwrap();
    let log = log.join().unwrap();
    assert!(status.success(), "exit {status:?}\n{log}");
    assert!(log.contains("broker maintenance window"), "{log}");
    assert!(!log.contains("re-authentication failed"), "{log}");
    assert!(!log.contains("panicked"), "{log}");
    // One pause, one resume: the window is not mistaken for a lost session first.
    let states = connectivity(&journal);
    let paused = states
        .iter()
        .filter(|(_, s)| s.contains("broker maintenance"))
        .count();
    assert!(paused >= 1, "{states:#?}");
    assert!(
        !states.iter().any(|(_, s)| s.contains("session lost")),
        "the window was taken for a lost session: {states:#?}"
    );
    assert_paused_orders_reduce(&journal);
    assert_books_match(&gw, &journal, &out, "maintenance window");
}

/// Backtest/paper parity. The emulator replays a bar file at 60x and the paper run takes its
/// bars from the broker's history (`bar_source = history`), so the strategy sees the file's
/// bars; a backtest runs over the same file. The paper run starts part-way through the replay
/// (after a 30-bar warm-up), so its orders are a stretch of the backtest's: the same sides,
/// the same quantities (but the first: the paper run starts flat where the backtest held the
/// opposite position) and the same spacing in bars. Intended difference: a replayed bar
/// arrives whole, so a paper market order fills at the emulator's quote while that bar is
/// being replayed, not at the backtest's next-open price; each fill lies within the range of
/// the bar the backtest filled in or the next one.
#[test]
fn a_replayed_file_trades_like_a_backtest_of_it() {
    let dir = tempfile::tempdir().unwrap();
    let src =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/data/SYNTH_1m.csv")).unwrap();
    let bars: String = src
        .lines()
        .take(141)
        .map(|l| format!("{}\n", l.replace(",SYNTH,", ",SPY,")))
        .collect();
    let file = dir.path().join("spy.csv");
    std::fs::write(&file, bars).unwrap();
    let gw = Gateway::start_with(
        dir.path(),
        5,
        &[
            (
                "# data = [\"data/SPY_1m.parquet\"]",
                format!("data = [{:?}]", file.display().to_string()),
            ),
            ("# replay_warmup = 390", "replay_warmup = 30 #".into()),
        ],
    );
    let journal = dir.path().join("j.sqlite");
    let out = dir.path().join("out");
    let strategy = [
        "--strategy",
        "ema_cross",
        "--set",
        "strategy.params.fast=3",
        "--set",
        "strategy.params.slow=8",
    ];
    let mut extra = vec![
        "--duration",
        "60s",
        "--symbols",
        "SPY",
        "--set",
        "live.bar_source=history",
    ];
    extra.extend(strategy);
    let mut args = paper_args(&gw, &journal, &out, &extra);
    let w = args.iter().position(|a| a == "--warmup-bars").unwrap();
    args[w + 1] = "30".into();
    let r = run(&args);
    assert!(r.status.success(), "{}", text(&r));
    let bt = dir.path().join("bt");
    let mut args: Vec<String> = ["backtest", "-q", "--no-report", "--data"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.push(file.display().to_string());
    args.push("--out".into());
    args.push(bt.display().to_string());
    args.extend(strategy.iter().map(|s| s.to_string()));
    let b = run(&args);
    assert!(b.status.success(), "{}", text(&b));

    let paper: Vec<_> = csv_rows(&out.join("trades.csv"));
    let back: Vec<_> = csv_rows(&bt.join("trades.csv"));
    assert!(
        paper.len() >= 3,
        "too few paper fills to compare: {paper:?}"
    );
    let wall_s = |r: &std::collections::HashMap<String, String>| {
        chrono::DateTime::parse_from_rfc3339(&r["time"])
            .unwrap()
            .timestamp_millis() as f64
            / 1e3
    };
    let bar_min = |r: &std::collections::HashMap<String, String>| {
        chrono::DateTime::parse_from_rfc3339(&r["time"])
            .unwrap()
            .timestamp()
            / 60
    };
    let gaps_p: Vec<i64> = paper
        .windows(2)
        .map(|w| (wall_s(&w[1]) - wall_s(&w[0])).round() as i64)
        .collect();
    let matches = |k: usize| {
        k + paper.len() <= back.len()
            && paper.iter().zip(&back[k..]).enumerate().all(|(i, (p, b))| {
                p["side"] == b["side"] && (i == 0 || p["quantity"] == b["quantity"])
            })
            && back[k..k + paper.len()]
                .windows(2)
                .map(|w| bar_min(&w[1]) - bar_min(&w[0]))
                .eq(gaps_p.iter().copied())
    };
    let k = (0..back.len()).find(|&k| matches(k)).unwrap_or_else(|| {
        panic!("the paper fills are no stretch of the backtest's\npaper: {paper:#?}\nbacktest: {back:#?}")
    });
    assert_eq!(
        paper[0]["position_after"], back[k]["position_after"],
        "the first paper order reaches the backtest's position"
    );
    // Each paper fill within the range of the bar the backtest filled in or the next one
    // (the order reaches the emulator half a second after the bar closed; the replay may
    // have stepped on by then).
    let file_bars = csv_rows(&file);
    for (p, b) in paper.iter().zip(&back[k..]) {
        let at = file_bars
            .iter()
            .position(|f| f["ts"] == b["time"])
            .unwrap_or_else(|| panic!("no bar at {}", b["time"]));
        let range = |f: &std::collections::HashMap<String, String>| -> (f64, f64) {
            (f["low"].parse().unwrap(), f["high"].parse().unwrap())
        };
        let (lo, hi) = file_bars[at..(at + 2).min(file_bars.len())]
            .iter()
            .map(range)
            .fold((f64::MAX, f64::MIN), |(l, h), (a, b)| (l.min(a), h.max(b)));
        let px: f64 = p["price"].parse().unwrap();
        assert!(
            (lo..=hi).contains(&px),
            "paper fill {px} outside [{lo}, {hi}], the {} bar the backtest filled in and the next",
            b["time"]
        );
    }
    assert_books_match(&gw, &journal, &out, "replay parity");
}

#[test]
fn bad_input_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let p = |s: &str| dir.path().join(s);
    let corrupt = p("corrupt.sqlite");
    std::fs::write(&corrupt, b"this is not a journal, just text").unwrap();
    let not_journal = p("other.sqlite");
    rusqlite::Connection::open(&not_journal)
        .unwrap()
        .execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
        .unwrap();
    // A journal bound to another account.
    let bound = p("bound.sqlite");
    {
        let mut j = tickline_live::journal::Journal::open_or_create(&bound).unwrap();
        let inst = tickline_engine::domain::Instrument::stock("AAPL");
        j.begin_run(&tickline_live::journal::NewRun {
            mode: tickline_live::runner::RunMode::Paper,
            venue: "ibkr",
            account: "DU999",
            strategy: "ema_cross",
            params: "",
            instruments: std::slice::from_ref(&inst),
            started: 1,
            version: "test",
        })
        .unwrap();
    }
    let d = |path: &PathBuf| path.display().to_string();
    let cases: Vec<(Vec<String>, i32, &str)> = vec![
        (
            vec!["paper".into(), "--journal".into(), d(&corrupt)],
            2,
            "corrupt.sqlite",
        ),
        (
            vec!["paper".into(), "--journal".into(), d(&not_journal)],
            2,
            "other.sqlite",
        ),
        (
            vec![
                "paper".into(),
                "--journal".into(),
                d(&bound),
                "--duration".into(),
                "3s".into(),
            ],
            2,
            "DU999",
        ),
        (
            vec!["paper".into(), "--bar-seconds".into(), "1e300".into()],
            2,
            "--bar-seconds",
        ),
        (
            vec!["paper".into(), "--bar-seconds".into(), "NaN".into()],
            2,
            "--bar-seconds",
        ),
        (
            vec!["paper".into(), "--time-scale=-1".into()],
            2,
            "--time-scale",
        ),
        (
            vec!["paper".into(), "--foreign".into(), "maybe".into()],
            2,
            "adopt, ignore or refuse",
        ),
        (vec!["live".into()], 2, "--url"),
        (
            vec![
                "paper".into(),
                "--url".into(),
                "http://127.0.0.1:1/v1/api".into(),
                "--journal".into(),
                d(&p("u.sqlite")),
            ],
            1,
            "127.0.0.1:1",
        ),
    ];
    for (args, code, needle) in cases {
        let t0 = Instant::now();
        let r = tickline()
            .current_dir(dir.path())
            .args(&args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&r.stderr);
        assert_eq!(r.status.code(), Some(code), "{args:?}\n{}", text(&r));
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(
            t0.elapsed() < Duration::from_secs(90),
            "{args:?}: {:?}",
            t0.elapsed()
        );
    }
}
