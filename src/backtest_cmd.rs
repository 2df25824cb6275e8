//! `tickline backtest`

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::anyhow;
use clap::Args;
use comfy_table::{Cell, CellAlignment, Table, presets};
use indicatif::{ProgressBar, ProgressStyle};

use tickline_backtest::config::{AppConfig, DEFAULT_CONFIG};
use tickline_backtest::output::{RunInfo, write_results};
use tickline_backtest::runner::{BacktestInput, run_backtest};
use tickline_data::LoadOptions;
use tickline_engine::kernel::KernelConfig;

use crate::{Failure, UserError};

#[derive(Args)]
pub struct BacktestArgs {
    /// Configuration file (default: config/default.toml, or the built-in default).
    #[arg(long, short)]
    config: Option<PathBuf>,
    /// Bar files to use instead of [data] paths (CSV or Parquet).
    #[arg(long, num_args = 1..)]
    data: Vec<PathBuf>,
    /// Strategy name (replaces [strategy] name and its params).
    #[arg(long)]
    strategy: Option<String>,
    /// Override any config value: --set broker.fill=close --set strategy.params.fast=5
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Output folder (replaces [output] dir).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Do not write report.html.
    #[arg(long)]
    no_report: bool,
    /// Print less (no progress bar, no table).
    #[arg(long, short)]
    quiet: bool,
}

fn load_config(args: &BacktestArgs) -> Result<AppConfig, UserError> {
    let mut sets = Vec::new();
    if let Some(s) = &args.strategy {
        sets.push(format!("strategy.name=\"{s}\""));
    }
    sets.extend(args.set.iter().cloned());
    let default_path = Path::new("config/default.toml");
    let cfg = match &args.config {
        Some(p) => AppConfig::load(p, &sets)?,
        None if default_path.exists() => AppConfig::load(default_path, &sets)?,
        None => AppConfig::from_text(DEFAULT_CONFIG, default_path, &sets)?,
    };
    Ok(cfg)
}

pub fn run(args: BacktestArgs) -> Result<(), Failure> {
    let mut cfg = load_config(&args)?;
    if !args.data.is_empty() {
        cfg.data.paths = args.data.clone();
    }
    if let Some(out) = &args.out {
        cfg.output.dir = out.clone();
    }
    if cfg.data.paths.is_empty() {
        return Err(UserError(anyhow!(
            "no data: set [data] paths in the config or pass --data FILE"
        ))
        .into());
    }
    let strategy = tickline_strategies::build(&cfg.strategy.name, &cfg.strategy.params)
        .map_err(UserError::from)?;

    // Load data.
    let t0 = Instant::now();
    let opts = LoadOptions {
        timezone: cfg.timezone(),
        ..LoadOptions::default()
    };
    let mut series = Vec::new();
    let mut instruments = Vec::new();
    for path in &cfg.data.paths {
        let loaded = tickline_data::load_bars(path, &opts).map_err(UserError::from)?;
        for s in loaded {
            instruments.push(
                cfg.instrument_for(&s.symbol, &path.display().to_string())
                    .map_err(UserError::from)?,
            );
            series.push(s);
        }
    }
    let load_seconds = t0.elapsed().as_secs_f64();
    let total: u64 = series.iter().map(|s| s.len() as u64).sum();
    if !args.quiet {
        eprintln!(
            "loaded {total} bars of {} symbol(s) from {} file(s) in {load_seconds:.3} s",
            series.len(),
            cfg.data.paths.len()
        );
    }

    let kernel = KernelConfig {
        initial_cash: cfg.portfolio.cash,
        risk: cfg.risk.clone(),
        prompts: cfg.prompts.clone(),
        client_id_prefix: "TL-".into(),
        timezone: cfg.timezone(),
    };
    let input = BacktestInput {
        kernel,
        broker: cfg.broker.clone(),
        instruments,
        series,
    };
    let bar = if args.quiet || total < 500_000 {
        ProgressBar::hidden()
    } else {
        let pb = ProgressBar::new(total);
        pb.set_style(
            ProgressStyle::with_template(
                "{spinner} backtest [{bar:40}] {pos}/{len} bars ({per_sec}, eta {eta})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        pb
    };
    let output = run_backtest(input, strategy, &mut |done, _| bar.set_position(done))
        .map_err(UserError::from)?;
    bar.finish_and_clear();

    let info = RunInfo {
        strategy: cfg.strategy.name.clone(),
        params: toml::to_string(&cfg.strategy.params)
            .unwrap_or_default()
            .trim()
            .replace('\n', ", "),
        data_files: cfg
            .data
            .paths
            .iter()
            .map(|p| p.display().to_string())
            .collect(),
        load_seconds,
        extra: vec![
            ("Fill".into(), format!("{:?}", cfg.broker.fill)),
            ("Commission".into(), format!("{:?}", cfg.broker.commission)),
            ("Slippage (bps)".into(), cfg.broker.slippage_bps.to_string()),
        ],
    };
    let written = write_results(
        &output,
        &info,
        &cfg.output.dir,
        cfg.output.report && !args.no_report,
    )
    .map_err(|e| Failure::Internal(e.into()))?;
    let s = &written.summary;
    if !args.quiet {
        let mut t = Table::new();
        t.load_style(presets::UTF8_FULL_CONDENSED);
        t.set_header(vec!["metric", "value"]);
        let pct = |x: f64| format!("{:.2}%", x * 100.0);
        let rows: Vec<(&str, String)> = vec![
            ("strategy", info.strategy.clone()),
            ("period", format!("{} → {}", s.start, s.end)),
            ("initial equity", format!("{:.2}", s.initial_equity)),
            ("final equity", format!("{:.2}", s.final_equity)),
            ("total return", pct(s.total_return)),
            ("CAGR", pct(s.cagr)),
            ("Sharpe (ann.)", format!("{:.2}", s.sharpe)),
            ("Sortino (ann.)", format!("{:.2}", s.sortino)),
            (
                "max drawdown",
                format!("{} ({:.2})", pct(s.max_drawdown), s.max_drawdown_amount),
            ),
            (
                "max drawdown duration",
                format!("{:.1} days", s.max_drawdown_duration_seconds / 86_400.0),
            ),
            ("trades (round trips)", s.trades.to_string()),
            ("win rate", pct(s.win_rate)),
            (
                "profit factor",
                s.profit_factor
                    .map(|p| format!("{p:.2}"))
                    .unwrap_or_else(|| "n/a".into()),
            ),
            ("exposure", pct(s.exposure)),
            ("commissions", format!("{:.2}", s.commissions)),
            (
                "orders / fills",
                format!("{} / {}", output.orders.len(), s.fills),
            ),
        ];
        for (k, v) in rows {
            t.add_row(vec![
                Cell::new(k),
                Cell::new(v).set_alignment(CellAlignment::Right),
            ]);
        }
        println!("{t}");
    }
    println!(
        "{} bars in {:.3} s: {:.1} M bars/s (load {:.3} s); results in {}",
        s.bars,
        s.run_seconds,
        s.bars_per_second / 1e6,
        load_seconds,
        cfg.output.dir.display()
    );
    Ok(())
}
