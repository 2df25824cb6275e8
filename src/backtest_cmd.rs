//! `tickline backtest`

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::anyhow;
use clap::Args;
use comfy_table::{Cell, CellAlignment, Table, presets};
use indicatif::{ProgressBar, ProgressStyle};

use tickline_backtest::config::{AppConfig, DEFAULT_CONFIG};
use tickline_backtest::output::{RunInfo, config_name, refusals, refusals_line, write_results};
use tickline_backtest::runner::{BacktestInput, run_backtest};
use tickline_data::LoadOptions;
use tickline_engine::kernel::KernelConfig;
use tickline_engine::risk::KillSwitchState;
use tickline_strategies::Registry;

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
    /// Fail (exit code 1, after writing the results) when the risk layer refused any order
    /// or the kill switch left `Active`.
    #[arg(long)]
    strict: bool,
}

/// The configuration with `--strategy` and `--set` applied (shared with `sweep`).
pub fn load_config(
    config: Option<&Path>,
    strategy: Option<&str>,
    set: &[String],
) -> Result<AppConfig, UserError> {
    let mut sets = Vec::new();
    if let Some(s) = strategy {
        sets.push(format!("strategy.name=\"{s}\""));
    }
    sets.extend(set.iter().cloned());
    read_config(config, &sets)
}

/// `config`, else `config/default.toml` in the working directory, else the built-in default
/// with its relative paths (the bundled data) resolved against the checkout it was built
/// from, so the default run finds its data from any folder.
pub fn read_config(config: Option<&Path>, sets: &[String]) -> Result<AppConfig, UserError> {
    let local_default = Path::new("config/default.toml");
    let cfg = match config {
        Some(p) => AppConfig::load(p, sets)?,
        None if local_default.exists() => AppConfig::load(local_default, sets)?,
        None => {
            let built_from = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/config/default.toml"));
            AppConfig::from_text(DEFAULT_CONFIG, built_from, sets)?
        }
    };
    Ok(cfg)
}

/// Bars of a set of files with one instrument per series.
pub struct LoadedData {
    pub series: Vec<tickline_engine::domain::BarSeries>,
    pub instruments: Vec<tickline_engine::domain::Instrument>,
    /// How many of the series each file gave, in file order.
    pub per_file: Vec<usize>,
    pub load_seconds: f64,
}

/// Load `paths` as the configuration says (time zone, instruments).
pub fn load_data(cfg: &AppConfig, paths: &[PathBuf]) -> Result<LoadedData, UserError> {
    if paths.is_empty() {
        return Err(UserError(anyhow!(
            "no data: set [data] paths in the config or pass --data FILE"
        )));
    }
    let t0 = Instant::now();
    let opts = LoadOptions {
        timezone: cfg.timezone(),
        ..LoadOptions::default()
    };
    let mut series = Vec::new();
    let mut instruments = Vec::new();
    let mut per_file = Vec::new();
    for path in paths {
        let loaded = tickline_data::load_bars(path, &opts).map_err(UserError::from)?;
        per_file.push(loaded.len());
        for s in loaded {
            instruments.push(
                cfg.instrument_for(&s.symbol, &path.display().to_string())
                    .map_err(UserError::from)?,
            );
            series.push(s);
        }
    }
    Ok(LoadedData {
        series,
        instruments,
        per_file,
        load_seconds: t0.elapsed().as_secs_f64(),
    })
}

/// The kernel settings of a configuration.
pub fn kernel_config(cfg: &AppConfig) -> KernelConfig {
    KernelConfig {
        initial_cash: cfg.portfolio.cash,
        risk: cfg.risk.clone(),
        prompts: cfg.prompts.clone(),
        client_id_prefix: "TL-".into(),
        timezone: cfg.timezone(),
    }
}

/// The broker rows of the report's run details, named as the configuration spells them.
pub fn broker_details(cfg: &AppConfig) -> Vec<(String, String)> {
    vec![
        ("Fill".into(), config_name(&cfg.broker.fill)),
        ("Commission".into(), config_name(&cfg.broker.commission)),
        ("Slippage (bps)".into(), cfg.broker.slippage_bps.to_string()),
    ]
}

/// A strategy's parameter table on one line (`fast = 5, slow = 20`).
pub fn params_line(params: &toml::Table) -> String {
    toml::to_string(params)
        .unwrap_or_default()
        .trim()
        .replace('\n', ", ")
}

pub fn run(args: BacktestArgs, registry: &Registry) -> Result<(), Failure> {
    let mut cfg = load_config(args.config.as_deref(), args.strategy.as_deref(), &args.set)?;
    if !args.data.is_empty() {
        cfg.data.paths = args.data.clone();
    }
    if let Some(out) = &args.out {
        cfg.output.dir = out.clone();
    }
    let strategy = registry
        .build(&cfg.strategy.name, &cfg.strategy.params)
        .map_err(UserError::from)?;

    let LoadedData {
        series,
        instruments,
        load_seconds,
        ..
    } = load_data(&cfg, &cfg.data.paths)?;
    let total: u64 = series.iter().map(|s| s.len() as u64).sum();
    if !args.quiet {
        eprintln!(
            "loaded {total} bars of {} symbol(s) from {} file(s) in {load_seconds:.3} s",
            series.len(),
            cfg.data.paths.len()
        );
    }

    let kernel = kernel_config(&cfg);
    let input = BacktestInput {
        kernel,
        broker: cfg.broker.clone(),
        instruments,
        series: &series,
        window: None,
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
        params: params_line(&cfg.strategy.params),
        data_files: cfg
            .data
            .paths
            .iter()
            .map(|p| p.display().to_string())
            .collect(),
        load_seconds,
        extra: broker_details(&cfg),
    };
    let written = write_results(
        &output,
        &info,
        &cfg.output.dir,
        cfg.output.report && !args.no_report,
    )
    .map_err(|e| Failure::Internal(e.into()))?;
    let s = &written.summary;
    let refused = refusals(&output.orders);
    if !args.quiet {
        let mut t = Table::new();
        t.load_style(presets::UTF8_FULL_CONDENSED);
        t.set_header(vec!["metric", "value"]);
        let pct = |x: f64| format!("{:.2}%", x * 100.0);
        let annual = |v: String| {
            if s.annualised {
                v
            } else {
                "n/a (under a day)".to_string()
            }
        };
        let rows: Vec<(&str, String)> = vec![
            ("strategy", info.strategy.clone()),
            ("period", format!("{} → {}", s.start, s.end)),
            ("initial equity", format!("{:.2}", s.initial_equity)),
            ("final equity", format!("{:.2}", s.final_equity)),
            ("total return", pct(s.total_return)),
            ("CAGR", annual(pct(s.cagr))),
            ("Sharpe (ann.)", annual(format!("{:.2}", s.sharpe))),
            ("Sortino (ann.)", annual(format!("{:.2}", s.sortino))),
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
            ("risk refusals", refusals_line(&refused)),
            ("kill switch", config_name(&output.kill_switch)),
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
    strict_check(&refused, output.kill_switch, args.strict)
}

/// What a run's risk layer did, said where it changes the results: refused orders and a
/// kill switch that left `Active` are a warning, or with `--strict` a failure.
pub fn strict_check(
    refused: &[(&str, usize)],
    kill_switch: KillSwitchState,
    strict: bool,
) -> Result<(), Failure> {
    let total: usize = refused.iter().map(|(_, n)| n).sum();
    if total == 0 && kill_switch == KillSwitchState::Active {
        return Ok(());
    }
    let mut parts = Vec::new();
    if total > 0 {
        parts.push(format!(
            "the risk layer refused {} orders",
            refusals_line(refused)
        ));
    }
    if kill_switch != KillSwitchState::Active {
        parts.push(format!(
            "the kill switch ended {}",
            config_name(&kill_switch)
        ));
    }
    let what = format!(
        "{}: the results are those of the orders that passed",
        parts.join(" and ")
    );
    if strict {
        return Err(Failure::Internal(anyhow!("--strict: {what}")));
    }
    eprintln!("warning: {what} (see audit.csv; --strict makes this an error)");
    Ok(())
}
