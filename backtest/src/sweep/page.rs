//! `sweep.html`: the sweep on one self-contained page (the report's [`Page`]: uPlot and the
//! stylesheet embedded, no network): what was swept, the best runs, a heat map of the
//! metric over two parameters, the metric's distribution over all runs, and the failed runs.

use serde::Serialize;

use super::files::Manifest;
use super::table::{Cell, Table};
use super::{SearchSpec, ranking};
use crate::report::Page;
use crate::report::format::{count, escape_html, percent, ratio};

/// Rows of the best-runs table.
pub const TOP_ROWS: usize = 25;
/// Rows of the failed-runs table.
const ERROR_ROWS: usize = 50;
/// Bins of the distribution.
const BINS: usize = 30;

const SWEEP_JS: &str = include_str!("../../assets/sweep.js");

/// Metrics shown as percentages.
const FRACTIONS: [&str; 6] = [
    "total_return",
    "cagr",
    "max_drawdown",
    "win_rate",
    "exposure",
    "exposure_mean",
];

/// A metric value for display.
pub fn format_metric(name: &str, v: Option<f64>) -> String {
    match v {
        None => "–".into(),
        Some(x) if FRACTIONS.contains(&name) => percent(x),
        Some(x) if x.fract() == 0.0 && x.abs() < 1e15 => {
            let sign = if x < 0.0 { "-" } else { "" };
            format!("{sign}{}", count(x.abs() as u64))
        }
        Some(x) => ratio(x),
    }
}

#[derive(Serialize)]
struct Hist {
    metric: String,
    /// Bin left edges and counts.
    x: Vec<f64>,
    y: Vec<f64>,
    width: f64,
}

/// Render the page.
pub fn render(m: &Manifest, table: &Table) -> String {
    let metric = &m.spec.metric;
    let mut page = Page::new(&format!("Tickline sweep: {}", m.spec.strategy), 64 * 1024);
    let errors = table.col("error").map_or(0, |c| {
        table.rows.iter().filter(|r| r[c] != Cell::Null).count()
    });
    page.subtitle(&format!(
        "{} runs × {} dataset(s) = {} backtests; {} failed; {} combinations skipped by --where; ranked by {} ({} is better)",
        m.runs,
        m.spec.datasets.len(),
        m.tasks,
        errors,
        m.skipped,
        metric.name,
        if metric.maximize { "higher" } else { "lower" }
    ));
    let html = page.body();
    push_spec(html, m);
    push_best(html, m, table);
    push_heatmap(html, m, table);
    html.push_str(&format!(
        "<section>\n<h2>Distribution of {} over all runs</h2>\n<div id=\"hist-chart\" class=\"chart\"></div>\n</section>\n",
        escape_html(&metric.name)
    ));
    push_errors(html, m, table);
    html.push_str("<footer>One row per run in results.csv / results.parquet (parameters and every summary metric). Heat-map cells show the best value over the other parameters and datasets. Metrics are those of summary.json; timings are left out so that the files are deterministic.</footer>\n");
    let json =
        serde_json::to_string(&histogram(table, &metric.name)).unwrap_or_else(|_| "{}".into());
    page.finish(&json, SWEEP_JS)
}

fn push_spec(html: &mut String, m: &Manifest) {
    let search = match &m.spec.search {
        SearchSpec::Grid => "grid".to_string(),
        SearchSpec::Random { n, seed } => format!("random: {n} draws, seed {seed}"),
    };
    let fixed = toml::to_string(&m.spec.fixed)
        .unwrap_or_default()
        .trim()
        .replace('\n', ", ");
    let rows = [
        ("Strategy", m.spec.strategy.clone()),
        ("Parameters", m.spec.params.join("  ")),
        ("Fixed parameters", fixed),
        ("Search", search),
        ("Constraints", m.spec.constraints.join(" && ")),
        ("Datasets", m.spec.datasets.join(", ")),
        ("Data files", m.spec.data_files.join(", ")),
    ];
    html.push_str("<section>\n<h2>Sweep</h2>\n<table class=\"kv wide\">\n");
    for (k, v) in rows {
        html.push_str(&format!(
            "<tr><th>{}</th><td>{}</td></tr>\n",
            escape_html(k),
            escape_html(if v.is_empty() { "–" } else { &v })
        ));
    }
    html.push_str("</table>\n</section>\n");
}

fn push_best(html: &mut String, m: &Manifest, table: &Table) {
    let order = ranking(table, &m.spec.metric);
    let shown = ["total_return", "sharpe", "max_drawdown", "trades"];
    let mut metrics: Vec<&str> = vec![m.spec.metric.name.as_str()];
    metrics.extend(shown.iter().filter(|s| **s != m.spec.metric.name));
    html.push_str(&format!(
        "<section>\n<h2>Best {} runs by {}</h2>\n<div class=\"scroll\"><table class=\"trips\" id=\"best\">\n<thead><tr><th>#</th><th>Run</th><th>Dataset</th>",
        TOP_ROWS.min(order.len()),
        escape_html(&m.spec.metric.name)
    ));
    for p in &m.params {
        html.push_str(&format!("<th>{}</th>", escape_html(p)));
    }
    for name in &metrics {
        html.push_str(&format!("<th>{}</th>", escape_html(name)));
    }
    html.push_str("</tr></thead>\n<tbody>\n");
    for (rank, &i) in order.iter().take(TOP_ROWS).enumerate() {
        let row = &table.rows[i];
        let cell = |name: &str| table.col(name).map(|c| &row[c]);
        html.push_str(&format!(
            "<tr><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td>",
            rank + 1,
            cell("run").map_or(String::new(), Cell::display),
            escape_html(&cell("dataset").map_or(String::new(), Cell::display))
        ));
        for p in &m.params {
            html.push_str(&format!(
                "<td class=\"num\">{}</td>",
                escape_html(&cell(p).map_or(String::new(), Cell::display))
            ));
        }
        for name in &metrics {
            let v = cell(name).and_then(Cell::as_f64);
            html.push_str(&format!(
                "<td class=\"num\">{}</td>",
                escape_html(&format_metric(name, v))
            ));
        }
        html.push_str("</tr>\n");
    }
    html.push_str("</tbody>\n</table></div>\n</section>\n");
}

/// Distinct values of a column in display order: numbers ascending, others as they appear.
fn axis(table: &Table, col: usize) -> Vec<Cell> {
    let mut vals: Vec<Cell> = Vec::new();
    for r in &table.rows {
        if !vals.contains(&r[col]) {
            vals.push(r[col].clone());
        }
    }
    if vals.iter().all(|v| v.as_f64().is_some()) {
        vals.sort_by(|a, b| {
            a.as_f64()
                .unwrap_or(0.0)
                .total_cmp(&b.as_f64().unwrap_or(0.0))
        });
    }
    vals
}

/// Colour of `t` in [0, 1] from bad (red) through neutral to good (green).
fn colour(t: f64) -> String {
    let t = t.clamp(0.0, 1.0);
    let (r, g, b) = if t < 0.5 {
        let u = t / 0.5;
        (
            198.0 + (245.0 - 198.0) * u,
            40.0 + (240.0 - 40.0) * u,
            40.0 + (220.0 - 40.0) * u,
        )
    } else {
        let u = (t - 0.5) / 0.5;
        (
            245.0 + (26.0 - 245.0) * u,
            240.0 + (127.0 - 240.0) * u,
            220.0 + (55.0 - 220.0) * u,
        )
    };
    format!("rgb({},{},{})", r.round(), g.round(), b.round())
}

fn push_heatmap(html: &mut String, m: &Manifest, table: &Table) {
    let metric = &m.spec.metric;
    html.push_str("<section>\n<h2>Heat map</h2>\n");
    let Some((xn, yn)) = &m.heatmap else {
        html.push_str("<p class=\"note\">A heat map needs two swept parameters with several values each.</p>\n</section>\n");
        return;
    };
    let (Some(xc), Some(yc), Some(mc)) = (table.col(xn), table.col(yn), table.col(&metric.name))
    else {
        html.push_str("<p class=\"note\">No data.</p>\n</section>\n");
        return;
    };
    let (xs, ys) = (axis(table, xc), axis(table, yc));
    let better = |a: f64, b: f64| if metric.maximize { a > b } else { a < b };
    let mut grid: Vec<Vec<Option<f64>>> = vec![vec![None; xs.len()]; ys.len()];
    for r in &table.rows {
        let (Some(i), Some(j)) = (
            ys.iter().position(|v| *v == r[yc]),
            xs.iter().position(|v| *v == r[xc]),
        ) else {
            continue;
        };
        if let Some(v) = r[mc].as_f64().filter(|v| v.is_finite()) {
            let cell = &mut grid[i][j];
            if cell.is_none_or(|c| better(v, c)) {
                *cell = Some(v);
            }
        }
    }
    let vals: Vec<f64> = grid.iter().flatten().flatten().copied().collect();
    let lo = vals.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = vals.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    html.push_str(&format!(
        "<p class=\"note\">{} by {} (columns) and {} (rows); each cell is the best over the other parameters and datasets; green is better. Range {} to {}.</p>\n",
        escape_html(&metric.name),
        escape_html(xn),
        escape_html(yn),
        escape_html(&format_metric(&metric.name, lo.is_finite().then_some(lo))),
        escape_html(&format_metric(&metric.name, hi.is_finite().then_some(hi)))
    ));
    html.push_str(&format!(
        "<div class=\"scroll\"><table class=\"heatmap\" id=\"heatmap\">\n<thead><tr><th>{} \\ {}</th>",
        escape_html(yn),
        escape_html(xn)
    ));
    for x in &xs {
        html.push_str(&format!("<th>{}</th>", escape_html(&x.display())));
    }
    html.push_str("</tr></thead>\n<tbody>\n");
    for (i, y) in ys.iter().enumerate() {
        html.push_str(&format!("<tr><th>{}</th>", escape_html(&y.display())));
        for (j, v) in grid[i].iter().enumerate() {
            match v {
                Some(v) => {
                    let t = if hi > lo { (v - lo) / (hi - lo) } else { 0.5 };
                    let t = if metric.maximize { t } else { 1.0 - t };
                    html.push_str(&format!(
                        "<td style=\"background:{}\" title=\"{}\">{}</td>",
                        colour(t),
                        escape_html(&format!("{xn}={}, {yn}={}", xs[j].display(), y.display())),
                        escape_html(&format_metric(&metric.name, Some(*v)))
                    ));
                }
                None => html.push_str("<td class=\"empty\">–</td>"),
            }
        }
        html.push_str("</tr>\n");
    }
    html.push_str("</tbody>\n</table></div>\n</section>\n");
}

fn push_errors(html: &mut String, m: &Manifest, table: &Table) {
    let Some(ec) = table.col("error") else {
        return;
    };
    let failed: Vec<&Vec<Cell>> = table.rows.iter().filter(|r| r[ec] != Cell::Null).collect();
    if failed.is_empty() {
        return;
    }
    html.push_str(&format!(
        "<section>\n<h2>Failed runs ({})</h2>\n<div class=\"scroll\"><table class=\"trips\">\n<thead><tr><th>Run</th><th>Parameters</th><th>Error</th></tr></thead>\n<tbody>\n",
        count(failed.len() as u64)
    ));
    for r in failed.iter().take(ERROR_ROWS) {
        let params: Vec<String> = m
            .params
            .iter()
            .filter_map(|p| table.col(p).map(|c| format!("{p}={}", r[c].display())))
            .collect();
        html.push_str(&format!(
            "<tr><td class=\"num\">{}</td><td>{}</td><td>{}</td></tr>\n",
            r[0].display(),
            escape_html(&params.join(" ")),
            escape_html(&r[ec].display())
        ));
    }
    html.push_str("</tbody>\n</table></div>\n</section>\n");
}

fn histogram(table: &Table, metric: &str) -> Hist {
    let vals: Vec<f64> = table.col(metric).map_or(Vec::new(), |c| {
        table
            .rows
            .iter()
            .filter_map(|r| r[c].as_f64())
            .filter(|v| v.is_finite())
            .collect()
    });
    let lo = vals.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = vals.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if vals.is_empty() {
        return Hist {
            metric: metric.into(),
            x: Vec::new(),
            y: Vec::new(),
            width: 0.0,
        };
    }
    let bins = if hi > lo { BINS } else { 1 };
    let width = if hi > lo {
        (hi - lo) / bins as f64
    } else {
        1.0
    };
    let mut y = vec![0.0; bins];
    for v in &vals {
        let k = (((v - lo) / width) as usize).min(bins - 1);
        y[k] += 1.0;
    }
    Hist {
        metric: metric.into(),
        x: (0..bins).map(|k| lo + width * k as f64).collect(),
        y,
        width,
    }
}
