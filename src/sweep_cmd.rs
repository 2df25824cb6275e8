//! `tickline sweep` and `tickline sweep merge`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::anyhow;
use clap::{Args, Subcommand};
use comfy_table::{Cell, CellAlignment, Table, presets};
use indicatif::{ProgressBar, ProgressStyle};

use tickline_backtest::output::{RunInfo, write_results};
use tickline_backtest::sweep::files::{self, Manifest};
use tickline_backtest::sweep::page::format_metric;
use tickline_backtest::sweep::shard::{self, Source};
use tickline_backtest::sweep::{
    self, Dataset, Metric, Plan, RunSettings, SearchSpec, StrategyBuilder, SweepSpec, table,
};

use crate::backtest_cmd::{
    LoadedData, broker_details, kernel_config, load_config, load_data, params_line,
};
use crate::{Failure, UserError};
use tickline_strategies::Registry;

/// What to sweep: shared by `sweep` and `walkforward`.
#[derive(Args, Clone)]
pub struct SpaceArgs {
    /// Configuration file (default: config/default.toml, or the built-in default).
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// Bar files to use instead of [data] paths (CSV or Parquet).
    #[arg(long, num_args = 1..)]
    pub data: Vec<PathBuf>,
    /// Strategy name (replaces [strategy] name and its params).
    #[arg(long)]
    pub strategy: Option<String>,
    /// Override any config value (fixed for every run): --set strategy.params.quantity=50
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// A swept strategy parameter: NAME=A..B:STEP (inclusive range) or NAME=a,b,c (list of
    /// integers, decimals, true/false or strings). Repeat for more parameters.
    #[arg(long = "grid", value_name = "NAME=VALUES", required = true)]
    pub grid: Vec<String>,
    /// Random search: N distinct draws from the ranges and lists instead of the full grid.
    #[arg(long, value_name = "N")]
    pub random: Option<u64>,
    /// Seed of the random search.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Only run combinations for which EXPR holds, e.g. 'fast < slow' (repeat: all must hold).
    #[arg(long = "where", value_name = "EXPR")]
    pub constraints: Vec<String>,
    /// Metric to rank runs by (any numeric column of summary.json: sharpe, total_return, …).
    #[arg(long, default_value = "sharpe")]
    pub metric: String,
    /// Rank so that smaller values of --metric are better (default: larger, except for
    /// drawdowns, commissions and losing trades).
    #[arg(long, conflicts_with = "maximize")]
    pub minimize: bool,
    /// Rank so that larger values of --metric are better.
    #[arg(long)]
    pub maximize: bool,
    /// Threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Print less (no progress bar).
    #[arg(long, short)]
    pub quiet: bool,
}

impl SpaceArgs {
    fn minimize(&self) -> Option<bool> {
        if self.minimize {
            Some(true)
        } else if self.maximize {
            Some(false)
        } else {
            None
        }
    }
}

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct SweepArgs {
    #[command(subcommand)]
    command: Option<SweepCommand>,
    #[command(flatten)]
    space: Option<SpaceArgs>,
    /// The two parameters of the heat map: X,Y (default: the first two swept ones).
    #[arg(long, value_name = "X,Y")]
    heatmap: Option<String>,
    /// Treat every data file as its own dataset (each run once per file) instead of one
    /// portfolio of all files.
    #[arg(long)]
    per_file: bool,
    /// Print the best N runs.
    #[arg(long, default_value_t = 10)]
    top: usize,
    /// Run only shard K of N (0-based) and write part-K-of-N.parquet; default from
    /// SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT or JOB_COMPLETION_INDEX.
    #[arg(long, value_name = "K/N")]
    shard: Option<String>,
    /// Number of shards for a Kubernetes Indexed Job (JOB_COMPLETION_INDEX); also
    /// TICKLINE_SHARD_COUNT.
    #[arg(long, value_name = "N")]
    shard_count: Option<u32>,
    /// Do not rerun the best run for its report (out/best/).
    #[arg(long)]
    no_best: bool,
    /// Output folder.
    #[arg(long, default_value = "out/sweep")]
    out: PathBuf,
}

#[derive(Subcommand)]
enum SweepCommand {
    /// Combine the shards' parts in DIR into the whole sweep's results.
    Merge {
        /// Folder holding part-K-of-N.parquet / .json files.
        dir: PathBuf,
        /// Output folder (default: DIR).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Print the best N runs.
        #[arg(long, default_value_t = 10)]
        top: usize,
    },
}

/// Everything a sweep needs, loaded.
pub struct Prepared {
    pub cfg: tickline_backtest::config::AppConfig,
    pub data: LoadedData,
    pub paths: Vec<PathBuf>,
}

/// Load configuration and bars (once; every run borrows them).
pub fn prepare(space: &SpaceArgs, registry: &Registry) -> Result<Prepared, UserError> {
    let mut cfg = load_config(
        space.config.as_deref(),
        space.strategy.as_deref(),
        &space.set,
    )?;
    if !space.data.is_empty() {
        cfg.data.paths = space.data.clone();
    }
    if registry.find(&cfg.strategy.name).is_none() {
        // Reports the unknown name with the valid ones.
        registry.build(&cfg.strategy.name, &toml::Table::new())?;
    }
    let paths = cfg.data.paths.clone();
    let data = load_data(&cfg, &paths)?;
    if !space.quiet {
        let total: u64 = data.series.iter().map(|s| s.len() as u64).sum();
        eprintln!(
            "loaded {total} bars of {} symbol(s) from {} file(s) in {:.3} s",
            data.series.len(),
            paths.len(),
            data.load_seconds
        );
    }
    Ok(Prepared { cfg, data, paths })
}

/// The spec of a sweep from the arguments.
pub fn spec_of(
    space: &SpaceArgs,
    prep: &Prepared,
    datasets: Vec<String>,
    heatmap: Option<&str>,
) -> Result<SweepSpec, UserError> {
    let heatmap = match heatmap {
        None => None,
        Some(h) => {
            let (x, y) = h
                .split_once(',')
                .ok_or_else(|| anyhow!("--heatmap {h}: expected two swept parameters X,Y"))?;
            Some((x.trim().to_string(), y.trim().to_string()))
        }
    };
    let mut fixed = prep.cfg.strategy.params.clone();
    for g in &space.grid {
        if let Some((name, _)) = g.split_once('=') {
            fixed.remove(name.trim());
        }
    }
    Ok(SweepSpec {
        strategy: prep.cfg.strategy.name.clone(),
        fixed,
        params: space.grid.clone(),
        search: match space.random {
            Some(n) => SearchSpec::Random {
                n,
                seed: space.seed,
            },
            None => SearchSpec::Grid,
        },
        constraints: space.constraints.clone(),
        metric: Metric::new(&space.metric, space.minimize())?,
        heatmap,
        datasets,
        data_files: prep.paths.iter().map(|p| p.display().to_string()).collect(),
    })
}

/// The registry's builder for `name`, as the sweep library wants it.
pub fn builder(
    registry: &Registry,
    name: String,
) -> impl Fn(&toml::Table) -> Result<Box<dyn tickline_engine::strategy::Strategy>, String> + Sync + use<>
{
    let registry = registry.clone();
    move |params| registry.build(&name, params).map_err(|e| e.to_string())
}

/// A progress bar over `n` runs (hidden when quiet).
pub fn progress_bar(n: u64, quiet: bool, what: &str) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(n);
    pb.set_style(
        ProgressStyle::with_template(&format!(
            "{{spinner}} {what} [{{bar:40}}] {{pos}}/{{len}} runs ({{per_sec}}, {{elapsed}} elapsed, eta {{eta}})"
        ))
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    pb
}

pub fn run(args: SweepArgs, registry: &Registry) -> Result<(), Failure> {
    if let Some(SweepCommand::Merge { dir, out, top }) = args.command {
        return merge(&dir, out.as_deref().unwrap_or(&dir), top);
    }
    let space = args.space.clone().ok_or_else(|| {
        UserError(anyhow!(
            "sweep: give --grid NAME=VALUES (or `sweep merge DIR`)"
        ))
    })?;
    let (shard, source) = shard::resolve(args.shard.as_deref(), args.shard_count, &|k| {
        std::env::var(k).ok()
    })
    .map_err(UserError::from)?;
    let prep = prepare(&space, registry)?;

    // Datasets: one portfolio of all files, or one per file.
    let per_file: Vec<(String, std::ops::Range<usize>)> = if args.per_file {
        let mut out = Vec::new();
        let mut at = 0;
        for (k, p) in prep.paths.iter().enumerate() {
            let n = prep.data.per_file[k];
            let name = p
                .file_stem()
                .map(|s| s.to_string_lossy().to_string())
                .unwrap_or_else(|| format!("file{k}"));
            out.push((name, at..at + n));
            at += n;
        }
        out
    } else {
        vec![("all".to_string(), 0..prep.data.series.len())]
    };
    let datasets: Vec<Dataset> = per_file
        .iter()
        .map(|(name, r)| Dataset {
            name: name.clone(),
            instruments: prep.data.instruments[r.clone()].to_vec(),
            series: &prep.data.series[r.clone()],
        })
        .collect();
    let spec = spec_of(
        &space,
        &prep,
        datasets.iter().map(|d| d.name.clone()).collect(),
        args.heatmap.as_deref(),
    )?;
    let plan = Plan::new(spec).map_err(UserError::from)?;
    let build = builder(registry, prep.cfg.strategy.name.clone());
    let settings = RunSettings {
        kernel: kernel_config(&prep.cfg),
        broker: prep.cfg.broker.clone(),
        window: None,
    };
    let mine = plan.shard_tasks(shard).len() as u64;
    if !space.quiet {
        let src = match source {
            Source::Flag => " (--shard)",
            Source::Slurm => " (from SLURM_ARRAY_TASK_ID)",
            Source::Kubernetes => " (from JOB_COMPLETION_INDEX)",
            Source::None => "",
        };
        eprintln!(
            "sweep {}: {} runs × {} dataset(s){}; shard {shard}{src}: {mine} backtests on {} thread(s)",
            plan.spec.strategy,
            plan.combos.len(),
            datasets.len(),
            if plan.skipped > 0 {
                format!(", {} combinations skipped by --where", plan.skipped)
            } else {
                String::new()
            },
            space.threads.unwrap_or_else(rayon_threads)
        );
    }
    let pb = progress_bar(mine, space.quiet, "sweep");
    let t0 = Instant::now();
    let table = sweep::run(
        &plan,
        shard,
        &datasets,
        &settings,
        &build,
        space.threads,
        &|| pb.inc(1),
    );
    pb.finish_and_clear();
    let secs = t0.elapsed().as_secs_f64();
    let bars: u64 = plan
        .shard_tasks(shard)
        .iter()
        .map(|(_, d)| {
            datasets[*d]
                .series
                .iter()
                .map(|s| s.len() as u64)
                .sum::<u64>()
        })
        .sum();
    let manifest = Manifest::of(&plan, shard);
    let failed = failed_rows(&table);
    if !shard.is_all() {
        let written = files::write_part(&args.out, &manifest, &table)
            .map_err(|e| Failure::Internal(e.into()))?;
        println!(
            "shard {shard}: {} backtests ({failed} failed) in {secs:.2} s ({:.1} M bar-evaluations/s); wrote {}",
            table.rows.len(),
            bars as f64 / secs / 1e6,
            written[0].display()
        );
        return Ok(());
    }
    files::write_sweep(&args.out, &manifest, &table).map_err(|e| Failure::Internal(e.into()))?;
    print_best(&manifest, &table, args.top);
    if !args.no_best {
        best_report(
            &prep, &plan, &datasets, &settings, &build, &table, &args.out,
        )?;
    }
    println!(
        "{} backtests ({failed} failed) of {} bars each on average in {secs:.2} s: {:.1} M bar-evaluations/s; results in {}",
        table.rows.len(),
        bars / (table.rows.len().max(1) as u64),
        bars as f64 / secs / 1e6,
        args.out.display()
    );
    Ok(())
}

fn rayon_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn failed_rows(t: &table::Table) -> usize {
    t.col("error").map_or(0, |c| {
        t.rows.iter().filter(|r| r[c] != table::Cell::Null).count()
    })
}

/// Print the best `top` rows by the manifest's metric.
pub fn print_best(m: &Manifest, t: &table::Table, top: usize) {
    let order = sweep::ranking(t, &m.spec.metric);
    if order.is_empty() || top == 0 {
        return;
    }
    let mut metrics = vec![m.spec.metric.name.clone()];
    for s in ["total_return", "sharpe", "max_drawdown", "trades"] {
        if s != m.spec.metric.name {
            metrics.push(s.to_string());
        }
    }
    let mut out = Table::new();
    out.load_style(presets::UTF8_FULL_CONDENSED);
    let mut header = vec!["#".to_string(), "run".to_string()];
    if m.spec.datasets.len() > 1 {
        header.push("dataset".into());
    }
    header.extend(m.params.iter().cloned());
    header.extend(metrics.iter().cloned());
    out.set_header(header);
    for (rank, &i) in order.iter().take(top).enumerate() {
        let row = &t.rows[i];
        let cell = |name: &str| t.col(name).map(|c| &row[c]);
        let mut cells = vec![
            Cell::new(rank + 1),
            Cell::new(cell("run").map_or(String::new(), |c| c.display())),
        ];
        if m.spec.datasets.len() > 1 {
            cells.push(Cell::new(
                cell("dataset").map_or(String::new(), |c| c.display()),
            ));
        }
        for p in &m.params {
            cells.push(
                Cell::new(cell(p).map_or(String::new(), |c| c.display()))
                    .set_alignment(CellAlignment::Right),
            );
        }
        for name in &metrics {
            let v = cell(name).and_then(|c| c.as_f64());
            cells.push(Cell::new(format_metric(name, v)).set_alignment(CellAlignment::Right));
        }
        out.add_row(cells);
    }
    println!(
        "best {} of {} by {} ({} is better):",
        top.min(order.len()),
        order.len(),
        m.spec.metric.name,
        if m.spec.metric.maximize {
            "higher"
        } else {
            "lower"
        }
    );
    println!("{out}");
}

/// Rerun the best row with full results (tearsheet, trades, trips) into `out/best`.
fn best_report(
    prep: &Prepared,
    plan: &Plan,
    datasets: &[Dataset],
    settings: &RunSettings,
    build: &StrategyBuilder,
    t: &table::Table,
    out: &Path,
) -> Result<(), Failure> {
    let Some(&best) = sweep::ranking(t, &plan.spec.metric).first() else {
        return Ok(());
    };
    let row = &t.rows[best];
    if t.col("error").is_some_and(|c| row[c] != table::Cell::Null) {
        return Ok(());
    }
    let Some(combo) = plan
        .combos
        .iter()
        .find(|c| row[0] == table::Cell::U64(c.index))
    else {
        return Ok(());
    };
    let Some(data) = datasets
        .iter()
        .find(|d| row[1] == table::Cell::Str(d.name.clone()))
    else {
        return Ok(());
    };
    let params = plan.params_of(&combo.values);
    let (output, _) = sweep::run_one(&params, data, settings, build)
        .map_err(|e| Failure::Internal(anyhow!("rerunning the best run: {e}")))?;
    let sets: Vec<String> = sweep::row_params(
        t,
        &plan
            .params
            .iter()
            .map(|p| p.name.clone())
            .collect::<Vec<_>>(),
        best,
    )
    .into_iter()
    .map(|(k, v)| format!("--set strategy.params.{k}={v}"))
    .collect();
    let mut extra = broker_details(&prep.cfg);
    extra.push((
        "Sweep".into(),
        format!(
            "best of {} runs by {}",
            plan.combos.len(),
            plan.spec.metric.name
        ),
    ));
    extra.push((
        "Rerun with".into(),
        format!(
            "tickline backtest --strategy {} {}",
            plan.spec.strategy,
            sets.join(" ")
        ),
    ));
    let info = RunInfo {
        strategy: plan.spec.strategy.clone(),
        params: params_line(&params),
        data_files: plan.spec.data_files.clone(),
        load_seconds: prep.data.load_seconds,
        extra,
    };
    let dir = out.join("best");
    write_results(&output, &info, &dir, true).map_err(|e| Failure::Internal(e.into()))?;
    println!(
        "best run {} ({}): report in {}",
        combo.index,
        params_line(&params),
        dir.join("report.html").display()
    );
    Ok(())
}

fn merge(dir: &Path, out: &Path, top: usize) -> Result<(), Failure> {
    let (manifest, table) = files::merge(dir).map_err(|e| Failure::User(e.into()))?;
    files::write_sweep(out, &manifest, &table).map_err(|e| Failure::Internal(e.into()))?;
    print_best(&manifest, &table, top);
    println!(
        "merged {} rows of {} runs × {} dataset(s) into {}",
        table.rows.len(),
        manifest.runs,
        manifest.spec.datasets.len(),
        out.join("results.parquet").display()
    );
    Ok(())
}
