//! The CLI end to end: the default backtest, outputs, overrides, and bad input (each case
//! asserts exit code 2 and the exact one-line message).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn tickline(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tickline"))
        .args(args)
        .current_dir(dir)
        .env_remove("TICKLINE_LOG")
        .output()
        .expect("tickline runs")
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).trim().to_string()
}

/// A temp folder with a small synthetic data file.
fn workspace() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("SYNTH_1m.csv");
    let o = tickline(
        dir.path(),
        &[
            "data",
            "synth",
            "--bars",
            "2000",
            "--seed",
            "5",
            "--out",
            data.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    (dir, data)
}

#[test]
fn default_backtest_writes_every_result_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let cfg = repo().join("config/default.toml");
    let o = tickline(
        dir.path(),
        &[
            "backtest",
            "--config",
            cfg.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("total return") && stdout.contains("M bars/s"),
        "{stdout}"
    );
    for f in [
        "trades.csv",
        "orders.csv",
        "equity.csv",
        "audit.csv",
        "summary.json",
        "report.html",
    ] {
        assert!(out.join(f).exists(), "{f} missing");
    }
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    for key in [
        "bars",
        "load_seconds",
        "run_seconds",
        "sharpe",
        "sortino",
        "max_drawdown",
        "cagr",
        "win_rate",
        "exposure",
        "commissions",
        "trades",
    ] {
        assert!(summary.get(key).is_some(), "summary.json lacks {key}");
    }
    assert_eq!(summary["bars"], 7800);
    let trades = std::fs::read_to_string(out.join("trades.csv")).unwrap();
    assert!(trades.starts_with(
        "time,symbol,side,quantity,price,commission,order_id,client_order_id,exec_id,"
    ));
    // Backtests: the client order id the engine generated, no execution id.
    for line in trades.lines().skip(1).take(5) {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f[7], format!("TL-{}", f[6]), "{line}");
        assert_eq!(f[8], "", "{line}");
    }
    assert_eq!(
        trades.lines().count() as u64 - 1,
        summary["fills"].as_u64().unwrap()
    );
    let equity = std::fs::read_to_string(out.join("equity.csv")).unwrap();
    assert_eq!(equity.lines().count(), 7801);
}

#[test]
fn overrides_change_the_run() {
    let (dir, data) = workspace();
    let run = |extra: &[&str]| {
        let out = dir.path().join(format!("o{}", extra.len()));
        let mut args = vec![
            "backtest",
            "--data",
            data.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "-q",
        ];
        args.extend_from_slice(extra);
        let o = tickline(dir.path(), &args);
        assert!(o.status.success(), "{}", stderr(&o));
        std::fs::read_to_string(out.join("summary.json")).unwrap()
    };
    let base = run(&[]);
    let changed = run(&[
        "--set",
        "strategy.params.fast=5",
        "--set",
        "broker.commission=none",
    ]);
    assert_ne!(base, changed);
    let v: serde_json::Value = serde_json::from_str(&changed).unwrap();
    assert_eq!(v["commissions"], 0.0);
    assert!(v["params"].as_str().unwrap().contains("fast = 5"));
}

/// Risk refusals change a backtest's results, so they are counted in the console summary and
/// `summary.json`, warned about, and with `--strict` a failure (after the results are written).
#[test]
fn risk_refusals_are_visible_and_strict_fails_on_them() {
    let (dir, data) = workspace();
    let run = |name: &str, extra: &[&str]| {
        let out = dir.path().join(name);
        let mut args = vec![
            "backtest",
            "--data",
            data.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let o = tickline(dir.path(), &args);
        let summary: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap())
                .unwrap();
        (o, summary)
    };
    // The bundled config's [risk] has every limit off: nothing refused, no warning.
    let (o, s) = run("plain", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let table = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(
        table.contains("risk refusals") && table.contains("Active"),
        "{table}"
    );
    assert_eq!(s["refused"], serde_json::json!({}));
    assert!(!stderr(&o).contains("warning"), "{}", stderr(&o));

    let limit = ["--set", "risk.max_order_quantity=50"];
    let (o, s) = run("limited", &limit);
    assert!(o.status.success(), "{}", stderr(&o));
    let n = s["refused"]["max_order_quantity"].as_u64().unwrap_or(0);
    assert!(n > 0, "{s}");
    let line = format!("{n} (max_order_quantity {n})");
    assert!(
        String::from_utf8_lossy(&o.stdout).contains(&line),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(
        stderr(&o).contains(&format!("warning: the risk layer refused {line} orders")),
        "{}",
        stderr(&o)
    );

    let mut strict = limit.to_vec();
    strict.push("--strict");
    let (o, s) = run("strict", &strict);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("error: --strict: the risk layer refused"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        s["refused"]["max_order_quantity"].as_u64(),
        Some(n),
        "results written first"
    );

    // Buying power (the bundled config's Reg T margin account): 1,000 of cash cannot buy
    // 100 shares of a 190 stock; a cash account cannot go short.
    let (o, s) = run("poor", &["--set", "portfolio.cash=1000"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        s["refused"]["buying_power"].as_u64().unwrap_or(0) > 0,
        "{s}"
    );
    assert_eq!(s["fills"], 0, "{s}");
    let (_, s) = run("cash", &["--set", "risk.account=\"cash\""]);
    assert!(
        s["refused"]["buying_power"].as_u64().unwrap_or(0) > 0,
        "{s}"
    );
    assert!(s["fills"].as_u64().unwrap_or(0) > 0, "the longs trade: {s}");

    // A tripped kill switch is reported too.
    let (o, s) = run("halted", &["--set", "risk.max_drawdown=0.001", "--strict"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("the kill switch ended Halted"),
        "{}",
        stderr(&o)
    );
    assert_eq!(s["kill_switch"], "Halted");
}

#[test]
fn strategies_lists_the_registry() {
    let o = tickline(&repo(), &["strategies"]);
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains("ema_cross"));
}

/// Each bad input: exit code 2 and exactly this message on stderr.
#[test]
fn bad_input_gives_exit_code_2_and_a_clear_message() {
    let (dir, data) = workspace();
    let d = dir.path();
    let data = data.to_str().unwrap();
    let write = |name: &str, text: &str| {
        let p = d.join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    };
    let good_cfg = "[strategy]\nname = \"ema_cross\"\n";
    let bad_key = write(
        "bad_key.toml",
        "[strategy]\nname = \"ema_cross\"\n[broker]\nfil = \"close\"\n",
    );
    let bad_toml = write("bad_toml.toml", "[strategy\nname = 1\n");
    let bad_type = write(
        "bad_type.toml",
        "[strategy]\nname = \"ema_cross\"\n[strategy.params]\nfast = \"ten\"\n",
    );
    let unknown_param = write(
        "unknown_param.toml",
        "[strategy]\nname = \"ema_cross\"\n[strategy.params]\nfats = 3\n",
    );
    let cfg = write("good.toml", good_cfg);
    let unordered = write(
        "XYZ_1m.csv",
        "ts,open,high,low,close,volume\n2024-01-02T09:31:00,1,1,1,1,1\n2024-01-02T09:30:00,1,1,1,1,1\n",
    );
    let unknown_sym = write(
        "ZZZZ_1m.csv",
        "ts,open,high,low,close,volume\n2024-01-02T09:30:00,1,1,1,1,1\n",
    );
    let no_close = write(
        "AAPL_a.csv",
        "ts,open,high,low,volume\n2024-01-02T09:30:00,1,1,1,1\n",
    );
    let high_low = write(
        "AAPL_b.csv",
        "ts,open,high,low,close,volume\n2024-01-02T09:30:00,10,9,11,10,1\n",
    );
    let bad_num = write(
        "AAPL_c.csv",
        "ts,open,high,low,close,volume\n2024-01-02T09:30:00,abc,1,1,1,1\n",
    );
    let missing = d.join("nope.csv");
    let missing = missing.to_str().unwrap();

    let cases: Vec<(Vec<&str>, String)> = vec![
        (vec!["backtest", "--data", data, "--strategy", "moon"], "error: unknown strategy `moon` (valid: ema_cross".into()),
        (vec!["backtest", "--config", &bad_key, "--data", data], format!("error: {bad_key}: broker.fil: unknown field `fil`, expected one of `fill`")),
        (vec!["backtest", "--config", &bad_toml, "--data", data], format!("error: {bad_toml}: invalid TOML")),
        (vec!["backtest", "--config", &bad_type, "--data", data], "error: strategy ema_cross: parameter `fast` must be a positive integer, got string \"ten\"".into()),
        (vec!["backtest", "--config", &unknown_param, "--data", data], "error: strategy ema_cross: unknown parameter `fats` (valid: fast, quantity, slow, symbols)".into()),
        (vec!["backtest", "--config", &cfg, "--data", data, "--set", "strategy.params.fast=50"], "error: strategy ema_cross: parameter `fast` (50) must be smaller than slow (30)".into()),
        (vec!["backtest", "--config", &cfg, "--data", data, "--set", "broker.fill=later"], format!("error: {cfg}: broker.fill: unknown variant `later`, expected `next-open` or `close`")),
        (vec!["backtest", "--config", &cfg, "--data", data, "--set", "portfolio.cash=0"], format!("error: {cfg}: portfolio.cash: must be positive, got 0")),
        (vec!["backtest", "--config", &cfg, "--data", data, "--set", "oops"], "error: --set oops: expected KEY=VALUE with a dotted key, e.g. broker.fill=close".into()),
        (vec!["backtest", "--config", "missing.toml", "--data", data], "error: missing.toml: No such file or directory".into()),
        (vec!["backtest", "--config", &cfg, "--data", missing], format!("error: {missing}")),
        (vec!["backtest", "--config", &cfg, "--data", &unordered], format!("error: {unordered}: row 2")),
        (vec!["backtest", "--config", &cfg, "--data", &unknown_sym], format!("error: unknown symbol `ZZZZ` in {unknown_sym}: define it under [[instruments]]")),
        (vec!["backtest", "--config", &cfg, "--data", &no_close], format!("error: {no_close}")),
        (vec!["backtest", "--config", &cfg, "--data", &high_low], format!("error: {high_low}: row 1")),
        (vec!["backtest", "--config", &cfg, "--data", &bad_num], format!("error: {bad_num}: row 1")),
        (vec!["backtest", "--config", &cfg], "error: no data: set [data] paths in the config or pass --data FILE".into()),
        (vec!["data", "synth", "--bars", "0", "--out", "x.csv"], "error: --bars must be at least 1".into()),
        (vec!["data", "synth", "--out", "x.txt"], "error: x.txt".into()),
    ];
    for (args, want) in cases {
        let o = tickline(d, &args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.starts_with(&want),
            "{args:?}\n  got:  {err}\n  want: {want}…"
        );
        assert_eq!(err.lines().count(), 1, "{args:?}: one line expected: {err}");
    }
}

/// The README's strategy example is the real `strategies/src/channel.rs` (minus its module
/// docs), so the documented code always compiles and runs.
#[test]
fn readme_example_is_the_channel_strategy() {
    let src = std::fs::read_to_string(repo().join("strategies/src/channel.rs")).unwrap();
    let body: String = src
        .lines()
        .filter(|l| !l.starts_with("//!"))
        .map(|l| format!("{l}\n"))
        .collect();
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    assert!(
        readme.contains(body.trim_start_matches('\n')),
        "README example out of date"
    );
    // The strategy-crate template's wiring, as the README shows it.
    let main = std::fs::read_to_string(repo().join("examples/strategy-crate/src/main.rs")).unwrap();
    let wiring: String = main
        .lines()
        .filter(|l| !l.starts_with("//!"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(
        readme.contains(wiring.trim_matches('\n')),
        "README's strategy-crate example out of date"
    );
    let out = tempfile::tempdir().unwrap();
    let args = [
        "backtest",
        "--strategy",
        "channel",
        "--set",
        "strategy.params.period=120",
        "-q",
        "--out",
    ];
    let mut args: Vec<&str> = args.to_vec();
    args.push(out.path().to_str().unwrap());
    let o = tickline(&repo(), &args);
    assert!(o.status.success(), "{}", stderr(&o));
}

/// The whole loop on loopback: the built-in gateway emulator serves history, the IBKR client
/// writes it to Parquet, and the backtester runs on the file.
#[test]
fn emulator_history_to_parquet_to_backtest() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;

    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    // A fixed simulated start (a Wednesday in the session): "now" would make the test
    // depend on the wall clock (no regular-hours bars in the last day on a weekend).
    let dir = tempfile::tempdir().unwrap();
    let gw_cfg = dir.path().join("gateway.toml");
    std::fs::write(&gw_cfg, "[market]\nstart = \"2024-01-03T18:00:00Z\"\n").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tickline"))
        .args(["gateway", "--port", "0", "--seed", "7", "--config"])
        .arg(&gw_cfg)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("gateway starts");
    let stdout = child.stdout.take().unwrap();
    let _guard = Kill(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let base = line
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:") && w.ends_with("/v1/api"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .to_string();
    let file = dir.path().join("aapl.parquet");
    let o = Command::new(env!("CARGO_BIN_EXE_tickline"))
        .args([
            "ibkr",
            "--base-url",
            &base,
            "history",
            "265598",
            "--bar",
            "1min",
            "--period",
            "1d",
            "--out",
        ])
        .arg(&file)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let out = dir.path().join("out");
    let o = tickline(
        dir.path(),
        &[
            "backtest",
            "--data",
            file.to_str().unwrap(),
            "-q",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert!(summary["bars"].as_u64().unwrap() > 100, "{summary}");
}
