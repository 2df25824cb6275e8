//! `tickline paper` end to end against the embedded gateway emulator (127.0.0.1:0).

use std::process::Command;
use std::time::{Duration, Instant};

fn tickline() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tickline"))
}

/// Data rows of a CSV file (header excluded).
fn rows(path: &std::path::Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    text.lines()
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

#[test]
fn paper_trades_against_the_embedded_emulator_and_stops_on_time() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let t0 = Instant::now();
    let result = tickline()
        .current_dir(dir.path())
        .args([
            "paper",
            "--duration",
            "6s",
            "--bar-seconds",
            "1",
            "--symbols",
            "AAPL,MSFT,SPY,QQQ",
            "--seed",
            "7",
            "--set",
            "strategy.params.fast=1",
            "--set",
            "strategy.params.slow=2",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    let elapsed = t0.elapsed();
    let stdout = String::from_utf8_lossy(&result.stdout);
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(
        result.status.success(),
        "exit {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        result.status
    );
    // Runs for the duration, then stops (at most the 5 s fill drain and start-up on top).
    assert!(elapsed >= Duration::from_secs(6), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(14), "{elapsed:?}\n{stdout}");
    assert!(stdout.contains("duration elapsed"), "{stdout}");

    let orders = rows(&out.join("orders.csv"));
    let fills = rows(&out.join("trades.csv"));
    assert!(!orders.is_empty(), "no orders\n{stdout}\n{stderr}");
    assert!(!fills.is_empty(), "no fills\n{stdout}\n{stderr}");
    // Every order reached IBKR (a broker order id) and market orders fill in full.
    for o in &orders {
        assert_eq!(o[4], "MKT", "{o:?}");
        assert!(!o[15].is_empty(), "order without broker id: {o:?}");
    }
    assert!(orders.iter().any(|o| o[9] == "Filled"), "{orders:?}");
    for f in &fills {
        assert!(
            ["AAPL", "MSFT", "SPY", "QQQ"].contains(&f[1].as_str()),
            "{f:?}"
        );
        assert!(f[4].parse::<f64>().unwrap() > 0.0, "{f:?}");
    }
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(
        summary["fills"].as_u64(),
        Some(fills.len() as u64),
        "{summary}"
    );
    assert!(
        stdout.contains(&format!(
            "paper: {} orders, {} fills",
            orders.len(),
            fills.len()
        )),
        "{stdout}"
    );
}

#[test]
fn user_errors_exit_with_2_before_connecting() {
    let cases: &[&[&str]] = &[
        &["paper", "--symbols", "NOPE"],
        &["paper", "--duration", "ten"],
        &["paper", "--strategy", "no_such_strategy"],
        &["paper", "--bar-seconds", "0"],
        &[
            "paper",
            "--set",
            "strategy.params.fast=9",
            "--set",
            "strategy.params.slow=3",
        ],
        &["paper", "--url", "not a url"],
    ];
    let dir = tempfile::tempdir().unwrap();
    for args in cases {
        let t0 = Instant::now();
        let r = tickline()
            .current_dir(dir.path())
            .args(*args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&r.stderr);
        assert_eq!(r.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("error"), "{args:?}: {stderr}");
        assert!(t0.elapsed() < Duration::from_secs(5), "{args:?}");
    }
}
