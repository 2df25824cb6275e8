//! Parameter sweeps: many backtests of one strategy over a grid or random draws of its
//! parameters, run in parallel on one shared, immutable set of bars.
//!
//! * [`space`]: `--grid` specifications, enumeration, random draws.
//! * [`expr`]: `--where` constraints.
//! * [`shard`]: which slice of the runs this process does (`--shard K/N`, Slurm, Kubernetes).
//! * [`table`]: the results table (CSV / Parquet).
//! * [`files`]: the result files of a sweep or a shard, and merging shards.
//! * [`page`]: `sweep.html` (heat map, distribution, best runs).
//!
//! A *run* is one parameter combination; with several datasets (`--per-file`) each run is
//! done once per dataset (a *task*). Every run borrows the same [`Dataset`] bars; per run
//! only the strategy, the kernel's state and its records are allocated. Results do not
//! depend on the number of threads: each task is deterministic and the rows are kept in
//! task order.

pub mod expr;
pub mod files;
pub mod page;
pub mod shard;
pub mod space;
pub mod table;

use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use tickline_engine::domain::{BarSeries, Instrument};
use tickline_engine::kernel::KernelConfig;
use tickline_engine::strategy::Strategy;

use crate::broker::BrokerConfig;
use crate::output::{RunInfo, summary_json};
use crate::runner::{BacktestInput, BacktestOutput, Window, run_backtest};
use crate::stats::{StatsInput, Summary, compute_summary};
use expr::{Constraint, ExprError, Scope};
use shard::Shard;
use space::{Combo, ParamSpec, ParamValue, Search, SpaceError};
use table::{Cell, Column, Kind, Table};

/// Builds the strategy from its parameter table (the registry's `build`, injected by the
/// caller so this library does not depend on a strategy crate).
pub type StrategyBuilder = dyn Fn(&toml::Table) -> Result<Box<dyn Strategy>, String> + Sync;

/// Summary metrics that are not results but timings: left out of the table so that it is
/// deterministic.
pub const TIMING_FIELDS: [&str; 3] = ["load_seconds", "run_seconds", "bars_per_second"];

/// The metric columns, in order: every field of `summary.json` that is a result of the run
/// (not [`TIMING_FIELDS`], not the strategy/params/data echo).
pub const METRICS: &[(&str, Kind)] = &[
    ("start", Kind::Str),
    ("end", Kind::Str),
    ("initial_equity", Kind::F64),
    ("final_equity", Kind::F64),
    ("final_cash", Kind::F64),
    ("total_return", Kind::F64),
    ("cagr", Kind::F64),
    ("annualised", Kind::Str),
    ("sharpe", Kind::F64),
    ("sortino", Kind::F64),
    ("max_drawdown", Kind::F64),
    ("max_drawdown_amount", Kind::F64),
    ("max_drawdown_start", Kind::Str),
    ("max_drawdown_end", Kind::Str),
    ("max_drawdown_duration_seconds", Kind::F64),
    ("trades", Kind::U64),
    ("open_trades", Kind::U64),
    ("winning_trades", Kind::U64),
    ("losing_trades", Kind::U64),
    ("win_rate", Kind::F64),
    ("profit_factor", Kind::F64),
    ("avg_win", Kind::F64),
    ("avg_loss", Kind::F64),
    ("largest_win", Kind::F64),
    ("largest_loss", Kind::F64),
    ("fills", Kind::U64),
    ("exposure", Kind::F64),
    ("commissions", Kind::F64),
    ("bars", Kind::U64),
    ("orders", Kind::U64),
    ("audit_records", Kind::U64),
    ("kill_switch", Kind::Str),
];

/// Metrics where smaller is better (the default direction of `--metric`).
const SMALLER_IS_BETTER: [&str; 5] = [
    "max_drawdown",
    "max_drawdown_amount",
    "max_drawdown_duration_seconds",
    "commissions",
    "losing_trades",
];

/// The metric runs are ranked by.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metric {
    pub name: String,
    pub maximize: bool,
}

impl Metric {
    /// `name` with its natural direction (`max_drawdown` is minimised, most are maximised);
    /// an error for a name that is not a numeric metric.
    pub fn new(name: &str, minimize: Option<bool>) -> Result<Metric, SweepError> {
        match METRICS.iter().find(|(n, _)| *n == name) {
            Some((_, Kind::F64 | Kind::U64)) => Ok(Metric {
                name: name.to_string(),
                maximize: !minimize.unwrap_or(SMALLER_IS_BETTER.contains(&name)),
            }),
            _ => Err(SweepError::Metric {
                name: name.to_string(),
                valid: METRICS
                    .iter()
                    .filter(|(_, k)| matches!(k, Kind::F64 | Kind::U64))
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }
}

/// Errors planning a sweep.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error(transparent)]
    Space(#[from] SpaceError),
    #[error(transparent)]
    Expr(#[from] ExprError),
    #[error("--metric {name}: not a numeric metric (valid: {valid})")]
    Metric { name: String, valid: String },
    #[error("--heatmap {0}: expected two swept parameters X,Y")]
    Heatmap(String),
    #[error("no parameter combination satisfies the --where constraints")]
    NothingToRun,
    #[error("no datasets")]
    NoDatasets,
}

/// What to sweep (everything except the bars). Serialised into `sweep.json` and into each
/// shard's manifest, so a merge can check that all parts belong to the same sweep.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepSpec {
    pub strategy: String,
    /// The strategy's fixed parameters (from the configuration); swept ones are added.
    pub fixed: toml::Table,
    /// `NAME=VALUES` as given.
    pub params: Vec<String>,
    pub search: SearchSpec,
    /// `--where` expressions as given.
    pub constraints: Vec<String>,
    pub metric: Metric,
    /// The two parameters of the heat map (`None`: the first two swept ones with several
    /// values).
    pub heatmap: Option<(String, String)>,
    /// Dataset names, in task order.
    pub datasets: Vec<String>,
    /// Data files, for the record.
    pub data_files: Vec<String>,
}

/// Serialisable [`Search`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SearchSpec {
    Grid,
    Random { n: u64, seed: u64 },
}

impl SearchSpec {
    fn search(&self) -> Search {
        match self {
            SearchSpec::Grid => Search::Grid,
            SearchSpec::Random { n, seed } => Search::Random { n: *n, seed: *seed },
        }
    }
}

/// A planned sweep: parsed parameters and the combinations that pass the constraints.
#[derive(Clone, Debug)]
pub struct Plan {
    pub spec: SweepSpec,
    pub params: Vec<ParamSpec>,
    pub combos: Vec<Combo>,
    /// Grid combinations removed by `--where` (0 for random search: rejected draws are
    /// redrawn).
    pub skipped: u64,
    pub heatmap: Option<(String, String)>,
}

impl Plan {
    /// Parse and enumerate.
    pub fn new(spec: SweepSpec) -> Result<Plan, SweepError> {
        if spec.datasets.is_empty() {
            return Err(SweepError::NoDatasets);
        }
        let params: Vec<ParamSpec> = spec
            .params
            .iter()
            .map(|s| s.parse())
            .collect::<Result<_, SpaceError>>()?;
        space::check_specs(&params)?;
        let names: Vec<String> = params.iter().map(|p| p.name.clone()).collect();
        let mut known: BTreeMap<String, ()> = names.iter().map(|n| (n.clone(), ())).collect();
        known.extend(spec.fixed.keys().map(|k| (k.clone(), ())));
        let constraints: Vec<Constraint> = spec
            .constraints
            .iter()
            .map(|c| Constraint::parse(c, &known))
            .collect::<Result<_, _>>()?;
        let mut failure: Option<ExprError> = None;
        let mut rejected = 0u64;
        let combos = space::combos(&params, &spec.search.search(), &mut |values| {
            let scope = Scope {
                names: &names,
                values,
                fixed: &spec.fixed,
            };
            for c in &constraints {
                match c.holds(&scope) {
                    Ok(true) => {}
                    Ok(false) => {
                        rejected += 1;
                        return false;
                    }
                    Err(e) => {
                        failure.get_or_insert(e);
                        return false;
                    }
                }
            }
            true
        })?;
        if let Some(e) = failure {
            return Err(e.into());
        }
        if combos.is_empty() {
            return Err(SweepError::NothingToRun);
        }
        let heatmap = match &spec.heatmap {
            Some((x, y)) => {
                if x == y || !names.contains(x) || !names.contains(y) {
                    return Err(SweepError::Heatmap(format!("{x},{y}")));
                }
                Some((x.clone(), y.clone()))
            }
            None => {
                let varied: Vec<&String> = params
                    .iter()
                    .filter(|p| p.grid_values().map_or(true, |v| v.len() > 1))
                    .map(|p| &p.name)
                    .collect();
                (varied.len() >= 2).then(|| (varied[0].clone(), varied[1].clone()))
            }
        };
        let skipped = match spec.search {
            SearchSpec::Grid => rejected,
            SearchSpec::Random { .. } => 0,
        };
        Ok(Plan {
            spec,
            params,
            combos,
            skipped,
            heatmap,
        })
    }

    /// Runs × datasets.
    pub fn tasks(&self) -> u64 {
        self.combos.len() as u64 * self.spec.datasets.len() as u64
    }

    /// The tasks of `shard`: (combination, dataset index), in task order.
    pub fn shard_tasks(&self, shard: Shard) -> Vec<(&Combo, usize)> {
        let d = self.spec.datasets.len();
        self.combos
            .iter()
            .flat_map(|c| (0..d).map(move |k| (c, k)))
            .enumerate()
            .filter(|(t, _)| shard.owns(*t as u64))
            .map(|(_, task)| task)
            .collect()
    }

    /// The strategy parameters of one combination: the fixed ones plus the swept values.
    pub fn params_of(&self, values: &[ParamValue]) -> toml::Table {
        let mut t = self.spec.fixed.clone();
        for (p, v) in self.params.iter().zip(values) {
            t.insert(p.name.clone(), v.to_toml());
        }
        t
    }

    /// The table's columns: `run`, `dataset`, the parameters, the metrics, `error`.
    pub fn columns(&self) -> Vec<Column> {
        columns_for(&self.params)
    }
}

fn columns_for(params: &[ParamSpec]) -> Vec<Column> {
    let mut cols = vec![
        Column {
            name: "run".into(),
            kind: Kind::U64,
        },
        Column {
            name: "dataset".into(),
            kind: Kind::Str,
        },
    ];
    for p in params {
        cols.push(Column {
            name: p.name.clone(),
            kind: match p.kind {
                space::ParamKind::Int => Kind::I64,
                space::ParamKind::Float => Kind::F64,
                space::ParamKind::Bool => Kind::Bool,
                space::ParamKind::Str => Kind::Str,
            },
        });
    }
    cols.extend(METRICS.iter().map(|(n, k)| Column {
        name: (*n).to_string(),
        kind: *k,
    }));
    cols.push(Column {
        name: "error".into(),
        kind: Kind::Str,
    });
    cols
}

/// Bars and instruments of one dataset, borrowed by every run.
pub struct Dataset<'a> {
    pub name: String,
    pub instruments: Vec<Instrument>,
    pub series: &'a [BarSeries],
}

/// Settings shared by every run.
#[derive(Clone)]
pub struct RunSettings {
    pub kernel: KernelConfig,
    pub broker: BrokerConfig,
    /// Restrict every run to a window (walk-forward); `None` for all bars.
    pub window: Option<Window>,
}

/// Run one backtest of `params` on `data` and summarise it.
pub fn run_one(
    params: &toml::Table,
    data: &Dataset,
    settings: &RunSettings,
    build: &StrategyBuilder,
) -> Result<(BacktestOutput, Summary), String> {
    let strategy = build(params)?;
    let input = BacktestInput {
        kernel: settings.kernel.clone(),
        broker: settings.broker.clone(),
        instruments: data.instruments.clone(),
        series: data.series,
        window: settings.window,
    };
    let out = run_backtest(input, strategy, &mut |_, _| {}).map_err(|e| e.to_string())?;
    let summary = summarize(&out);
    Ok((out, summary))
}

/// The summary of a finished run (no load time).
pub fn summarize(out: &BacktestOutput) -> Summary {
    let fills = out.stats_fills();
    let equity = out.equity_f64();
    let initial = rust_decimal::prelude::ToPrimitive::to_f64(&out.initial_cash).unwrap_or(0.0);
    compute_summary(&StatsInput {
        initial_equity: initial,
        ts: &out.equity.ts,
        equity: &equity,
        fills: &fills,
        bars: out.bars,
        bars_in_market: out.bars_in_market,
        load_seconds: 0.0,
        run_seconds: out.run_seconds,
    })
}

/// The metric cells of a run, in [`METRICS`] order.
fn metric_cells(out: &BacktestOutput, summary: &Summary) -> Vec<Cell> {
    let json = summary_json(summary, out, &RunInfo::default());
    METRICS
        .iter()
        .map(|(name, kind)| {
            let v = json.get(*name).unwrap_or(&serde_json::Value::Null);
            match (kind, v) {
                (_, serde_json::Value::Null) => Cell::Null,
                (Kind::U64, v) => v.as_u64().map_or(Cell::Null, Cell::U64),
                (Kind::F64, serde_json::Value::String(s)) => {
                    s.parse().map_or(Cell::Null, Cell::F64)
                }
                (Kind::F64, v) => v.as_f64().map_or(Cell::Null, Cell::F64),
                (Kind::Str, serde_json::Value::String(s)) => Cell::Str(s.clone()),
                (Kind::Str, v) => Cell::Str(v.to_string()),
                _ => Cell::Null,
            }
        })
        .collect()
}

fn param_cell(v: &ParamValue) -> Cell {
    match v {
        ParamValue::Int(i) => Cell::I64(*i),
        ParamValue::Float(f) => Cell::F64(*f),
        ParamValue::Bool(b) => Cell::Bool(*b),
        ParamValue::Str(s) => Cell::Str(s.clone()),
    }
}

/// Run the tasks of `shard` on `threads` threads (`None`: all cores) and return their rows
/// in task order. `progress` is called once per finished task. A combination the strategy
/// refuses, or a run that fails, is a row with `error` set and null metrics.
pub fn run(
    plan: &Plan,
    shard: Shard,
    datasets: &[Dataset],
    settings: &RunSettings,
    build: &StrategyBuilder,
    threads: Option<usize>,
    progress: &(dyn Fn() + Sync),
) -> Table {
    let tasks = plan.shard_tasks(shard);
    let work = || -> Vec<Vec<Cell>> {
        tasks
            .par_iter()
            .with_max_len(1)
            .map(|(combo, d)| {
                let data = &datasets[*d];
                let params = plan.params_of(&combo.values);
                let mut row = vec![Cell::U64(combo.index), Cell::Str(data.name.clone())];
                row.extend(combo.values.iter().map(param_cell));
                match run_one(&params, data, settings, build) {
                    Ok((out, summary)) => {
                        row.extend(metric_cells(&out, &summary));
                        row.push(Cell::Null);
                    }
                    Err(e) => {
                        row.extend(METRICS.iter().map(|_| Cell::Null));
                        row.push(Cell::Str(e));
                    }
                }
                progress();
                row
            })
            .collect()
    };
    let rows = match threads {
        Some(n) => match rayon::ThreadPoolBuilder::new().num_threads(n).build() {
            Ok(pool) => pool.install(work),
            Err(_) => work(),
        },
        None => work(),
    };
    let mut table = Table::new(plan.columns());
    table.rows = rows;
    table
}

/// Rows ranked by `metric` (best first): rows without a value (errors) last, ties by table
/// order. Returns row indices.
pub fn ranking(table: &Table, metric: &Metric) -> Vec<usize> {
    let Some(col) = table.col(&metric.name) else {
        return Vec::new();
    };
    let mut idx: Vec<usize> = (0..table.rows.len()).collect();
    let key = |i: usize| table.rows[i][col].as_f64().filter(|v| v.is_finite());
    idx.sort_by(|&a, &b| match (key(a), key(b)) {
        (Some(x), Some(y)) => {
            let ord = x.total_cmp(&y);
            (if metric.maximize { ord.reverse() } else { ord }).then(a.cmp(&b))
        }
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.cmp(&b),
    });
    idx
}

/// The swept values of row `i` as `NAME=VALUE` (TOML) pairs, e.g. to rerun it.
pub fn row_params(table: &Table, params: &[String], i: usize) -> Vec<(String, String)> {
    params
        .iter()
        .filter_map(|p| {
            let c = table.col(p)?;
            let text = match &table.rows[i][c] {
                Cell::Str(s) => toml::Value::String(s.clone()).to_string(),
                other => other.csv(),
            };
            Some((p.clone(), text))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_cover_every_summary_field_but_timings() {
        let s = compute_summary(&StatsInput {
            initial_equity: 1.0,
            ts: &[],
            equity: &[],
            fills: &[],
            bars: 0,
            bars_in_market: 0,
            load_seconds: 0.0,
            run_seconds: 0.0,
        });
        let v = serde_json::to_value(&s).unwrap();
        let mut fields: Vec<&str> = v
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .filter(|k| !TIMING_FIELDS.contains(k))
            .collect();
        fields.extend(["final_cash", "orders", "audit_records", "kill_switch"]);
        fields.sort_unstable();
        let mut metrics: Vec<&str> = METRICS.iter().map(|(n, _)| *n).collect();
        metrics.sort_unstable();
        assert_eq!(metrics, fields);
    }

    #[test]
    fn metric_direction_and_validation() {
        assert!(Metric::new("sharpe", None).unwrap().maximize);
        assert!(!Metric::new("max_drawdown", None).unwrap().maximize);
        assert!(Metric::new("max_drawdown", Some(false)).unwrap().maximize);
        let e = Metric::new("start", None).unwrap_err().to_string();
        assert!(
            e.starts_with("--metric start: not a numeric metric (valid: "),
            "{e}"
        );
    }

    #[test]
    fn ranking_puts_nulls_last_and_breaks_ties_by_order() {
        let mut t = Table::new(vec![Column {
            name: "sharpe".into(),
            kind: Kind::F64,
        }]);
        for v in [Cell::F64(1.0), Cell::Null, Cell::F64(2.0), Cell::F64(1.0)] {
            t.rows.push(vec![v]);
        }
        let max = Metric::new("sharpe", None).unwrap();
        assert_eq!(ranking(&t, &max), [2, 0, 3, 1]);
        let min = Metric::new("sharpe", Some(true)).unwrap();
        assert_eq!(ranking(&t, &min), [0, 3, 2, 1]);
    }
}
