//! Results of a run on disk: `trades.csv`, `orders.csv`, `equity.csv`, `audit.csv`,
//! `summary.json` and `report.html`.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::report;
use crate::runner::BacktestOutput;
use crate::stats::{StatsInput, Summary, compute_summary, rfc3339, round_trips};
use tickline_engine::domain::Trail;
use tickline_engine::order::Order;

/// Errors writing results.
#[derive(Debug, thiserror::Error)]
#[error("writing {path}: {source}")]
pub struct OutputError {
    pub path: String,
    #[source]
    pub source: std::io::Error,
}

/// Facts about the run shown in the report and in `summary.json`.
#[derive(Clone, Debug, Default)]
pub struct RunInfo {
    pub strategy: String,
    pub params: String,
    pub data_files: Vec<String>,
    pub load_seconds: f64,
    /// Extra key/value rows for the report.
    pub extra: Vec<(String, String)>,
}

/// What was written.
#[derive(Clone, Debug)]
pub struct Written {
    pub summary: Summary,
    pub files: Vec<PathBuf>,
}

/// Quote a CSV field when needed (RFC 4180).
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn create(path: &Path) -> Result<BufWriter<File>, OutputError> {
    File::create(path)
        .map(|f| BufWriter::with_capacity(1 << 20, f))
        .map_err(|source| OutputError {
            path: path.display().to_string(),
            source,
        })
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> OutputError + '_ {
    move |source| OutputError {
        path: path.display().to_string(),
        source,
    }
}

/// The summary as written to `summary.json`: every [`Summary`] field plus what ran
/// (strategy, parameters, data files) and the run's counters.
pub fn summary_json(summary: &Summary, out: &BacktestOutput, info: &RunInfo) -> serde_json::Value {
    let mut v = serde_json::to_value(summary).unwrap_or_default();
    if let Some(m) = v.as_object_mut() {
        m.insert("strategy".into(), info.strategy.clone().into());
        m.insert("params".into(), info.params.clone().into());
        m.insert("data".into(), info.data_files.clone().into());
        m.insert(
            "final_cash".into(),
            out.final_cash.round_dp(4).to_string().into(),
        );
        m.insert("kill_switch".into(), config_name(&out.kill_switch).into());
        m.insert("orders".into(), out.orders.len().into());
        m.insert("audit_records".into(), out.audit.len().into());
        let refused = refusals(&out.orders);
        m.insert(
            "refused".into(),
            refused
                .iter()
                .map(|(c, n)| (c.to_string(), serde_json::Value::from(*n)))
                .collect::<serde_json::Map<_, _>>()
                .into(),
        );
    }
    v
}

/// Orders the risk layer refused, counted by check (most first, then by name).
pub fn refusals(orders: &[Order]) -> Vec<(&'static str, usize)> {
    let mut counts: Vec<(&'static str, usize)> = Vec::new();
    for r in orders.iter().filter_map(|o| o.refusal.as_deref()) {
        match counts.iter_mut().find(|(check, _)| *check == r.check) {
            Some((_, n)) => *n += 1,
            None => counts.push((r.check, 1)),
        }
    }
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    counts
}

/// [`refusals`] as one line: `12 (max_position 10, max_drawdown 2)`, or `0`.
pub fn refusals_line(counts: &[(&str, usize)]) -> String {
    let total: usize = counts.iter().map(|(_, n)| n).sum();
    if total == 0 {
        return "0".into();
    }
    let by: Vec<String> = counts.iter().map(|(c, n)| format!("{c} {n}")).collect();
    format!("{total} ({})", by.join(", "))
}

/// An enum value as the configuration (serde) spells it: `next-open`, `ibkr-fixed`.
pub fn config_name<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

/// Compute the summary and write every result file into `dir` (created if needed).
pub fn write_results(
    out: &BacktestOutput,
    info: &RunInfo,
    dir: &Path,
    html: bool,
) -> Result<Written, OutputError> {
    let title = format!("Tickline backtest: {}", info.strategy);
    write_results_titled(out, info, dir, html, &title)
}

/// [`write_results`] with the report's title (paper and live runs name themselves).
pub fn write_results_titled(
    out: &BacktestOutput,
    info: &RunInfo,
    dir: &Path,
    html: bool,
    title: &str,
) -> Result<Written, OutputError> {
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let fills = out.stats_fills();
    let equity = out.equity_f64();
    let initial = rust_decimal::prelude::ToPrimitive::to_f64(&out.initial_cash).unwrap_or(0.0);
    let input = StatsInput {
        initial_equity: initial,
        ts: &out.equity.ts,
        equity: &equity,
        fills: &fills,
        bars: out.bars,
        bars_in_market: out.bars_in_market,
        load_seconds: info.load_seconds,
        run_seconds: out.run_seconds,
    };
    let summary = compute_summary(&input);
    let trips = round_trips(&fills);
    let mut files = Vec::new();

    // trades.csv: every fill.
    let p = dir.join("trades.csv");
    let mut w = create(&p)?;
    let e = io(&p);
    writeln!(
        w,
        "time,symbol,side,quantity,price,commission,order_id,client_order_id,exec_id,realized_pnl,position_after"
    )
    .map_err(&e)?;
    for r in &out.fills {
        let f = &r.fill;
        // Order ids are dense from 1: the order is found by index.
        let coid = out
            .orders
            .get((f.order_id.0 as usize).wrapping_sub(1))
            .filter(|o| o.id == f.order_id)
            .map_or("", |o| o.client_order_id.as_str());
        writeln!(
            w,
            "{},{},{},{},{},{},{},{},{},{},{}",
            rfc3339(f.ts),
            csv_field(&out.instruments[f.instrument.index()].symbol),
            f.side.as_str(),
            f.quantity,
            f.price,
            f.commission.normalize(),
            f.order_id,
            csv_field(coid),
            csv_field(f.exec_id.as_str()),
            r.realized_pnl.round_dp(6),
            r.position_after
        )
        .map_err(&e)?;
    }
    w.flush().map_err(&e)?;
    files.push(p.clone());

    // orders.csv: every order with its final state.
    let p = dir.join("orders.csv");
    let mut w = create(&p)?;
    let e = io(&p);
    writeln!(
        w,
        "order_id,client_order_id,symbol,side,type,quantity,limit_price,stop_price,tif,state,filled,avg_fill_price,commission,created,updated,broker_order_id,reason,trail,parent,oca_group"
    )
    .map_err(&e)?;
    let opt = |d: Option<rust_decimal::Decimal>| d.map(|d| d.to_string()).unwrap_or_default();
    for o in &out.orders {
        let r = &o.request;
        writeln!(
            w,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            o.id,
            csv_field(o.client_order_id.as_str()),
            csv_field(&out.instruments[r.instrument.index()].symbol),
            r.side.as_str(),
            r.order_type.as_str(),
            r.quantity,
            opt(r.limit_price),
            opt(r.stop_price),
            r.tif.as_str(),
            o.state.as_str(),
            o.filled_qty,
            if o.filled_qty.is_zero() {
                String::new()
            } else {
                o.avg_fill_price.round_dp(8).to_string()
            },
            o.commission.normalize(),
            rfc3339(o.created),
            rfc3339(o.updated),
            o.broker_order_id.map(|b| b.to_string()).unwrap_or_default(),
            csv_field(o.reason.as_deref().unwrap_or("")),
            match r.trail {
                Some(Trail::Amount(a)) => a.to_string(),
                Some(Trail::Percent(p)) => format!("{p}%"),
                None => String::new(),
            },
            r.parent.map(|p| p.to_string()).unwrap_or_default(),
            r.oca_group.map(|g| g.to_string()).unwrap_or_default(),
        )
        .map_err(&e)?;
    }
    w.flush().map_err(&e)?;
    files.push(p.clone());

    // equity.csv
    let p = dir.join("equity.csv");
    let mut w = create(&p)?;
    let e = io(&p);
    writeln!(w, "time,equity").map_err(&e)?;
    for (t, q) in out.equity.ts.iter().zip(&out.equity.equity) {
        writeln!(w, "{},{}", rfc3339(*t), q.round_dp(4)).map_err(&e)?;
    }
    w.flush().map_err(&e)?;
    files.push(p.clone());

    // audit.csv
    let p = dir.join("audit.csv");
    let mut w = create(&p)?;
    let e = io(&p);
    writeln!(w, "time,kind,order_id,detail").map_err(&e)?;
    for a in &out.audit {
        writeln!(
            w,
            "{},{},{},{}",
            rfc3339(a.ts),
            a.kind.as_str(),
            a.order_id.map(|o| o.to_string()).unwrap_or_default(),
            csv_field(&a.detail)
        )
        .map_err(&e)?;
    }
    w.flush().map_err(&e)?;
    files.push(p.clone());

    // summary.json: the summary plus what ran.
    let p = dir.join("summary.json");
    let text = serde_json::to_string_pretty(&summary_json(&summary, out, info)).unwrap_or_default();
    std::fs::write(&p, text + "\n").map_err(io(&p))?;
    files.push(p.clone());

    if html {
        let p = dir.join("report.html");
        let mut extra = vec![
            ("Strategy".to_string(), info.strategy.clone()),
            ("Parameters".to_string(), info.params.clone()),
            ("Data".to_string(), info.data_files.join(", ")),
            ("Orders".to_string(), out.orders.len().to_string()),
            ("Kill switch".to_string(), config_name(&out.kill_switch)),
        ];
        extra.extend(info.extra.iter().cloned());
        report::write_html(&p, title, &summary, &input, &trips, &extra).map_err(io(&p))?;
        files.push(p.clone());
    }
    Ok(Written { summary, files })
}
