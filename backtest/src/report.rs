//! A self-contained HTML report (`report.html`) for one backtest.
//!
//! The page makes no network requests: uPlot (MIT, vendored from the npm registry
//! into `backtest/assets/`), the stylesheet, the chart script and the data are all
//! embedded. Every interpolated string is HTML-escaped and the embedded JSON is
//! escaped so that it cannot close its `<script>` element.

pub mod format;

use std::path::Path;

use serde::Serialize;

use crate::stats::{RoundTrip, StatsInput, Summary, downsample_minmax, drawdown_series};
use format::{count, decimal, duration, escape_html, money, percent, ratio, rfc3339_display};

/// Most points per chart; longer curves are reduced with [`downsample_minmax`].
pub const MAX_CHART_POINTS: usize = 4_000;
/// Most rows of the round-trip table; the page says so when more trips exist.
pub const MAX_TRIP_ROWS: usize = 5_000;

/// Version of the vendored uPlot.
pub const UPLOT_VERSION: &str = "1.6.32";
const UPLOT_JS: &str = include_str!("../assets/uPlot.iife.min.js");
const UPLOT_CSS: &str = include_str!("../assets/uPlot.min.css");
const UPLOT_LICENSE: &str = include_str!("../assets/uPlot.LICENSE");
const REPORT_CSS: &str = include_str!("../assets/report.css");
const REPORT_JS: &str = include_str!("../assets/report.js");

/// A self-contained page: head with the embedded uPlot and stylesheet, a body the caller
/// fills, and at the end the page's data (JSON) and its script. Used by the backtest report
/// and the sweep page.
pub struct Page {
    html: String,
    header_open: bool,
}

impl Page {
    /// Start a page titled `title` (escaped); `extra` is a capacity hint.
    pub fn new(title: &str, extra: usize) -> Page {
        let title = escape_html(title);
        let mut html = String::with_capacity(UPLOT_JS.len() + 64 * 1024 + extra);
        html.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        html.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        html.push_str(&format!("<title>{title}</title>\n"));
        html.push_str(&format!(
            "<!--\nuPlot v{UPLOT_VERSION}, embedded below, is distributed under this license:\n\n{}\n-->\n",
            UPLOT_LICENSE.replace("--", "- -")
        ));
        html.push_str(&format!("<style>\n{UPLOT_CSS}\n</style>\n"));
        html.push_str(&format!(
            "<style>\n{REPORT_CSS}\n</style>\n</head>\n<body>\n"
        ));
        html.push_str(&format!("<header><h1>{title}</h1>"));
        Page {
            html,
            header_open: true,
        }
    }

    /// A `start → end` line under the title (RFC 3339 strings).
    pub fn period(&mut self, start: &str, end: &str) {
        self.html.push_str(&format!(
            "<p class=\"period\">{} &rarr; {}</p>",
            escape_html(&rfc3339_display(start)),
            escape_html(&rfc3339_display(end))
        ));
    }

    /// A line of text under the title (escaped).
    pub fn subtitle(&mut self, text: &str) {
        self.html
            .push_str(&format!("<p class=\"period\">{}</p>", escape_html(text)));
    }

    /// The page body (after the header) to append sections to.
    pub fn body(&mut self) -> &mut String {
        if self.header_open {
            self.html.push_str("</header>\n<main>\n");
            self.header_open = false;
        }
        &mut self.html
    }

    /// Close the page: `json` becomes `<script type="application/json" id="report-data">`,
    /// then uPlot and `script`.
    pub fn finish(mut self, json: &str, script: &str) -> String {
        self.body();
        let html = &mut self.html;
        html.push_str("</main>\n");
        html.push_str(&format!(
            "<script type=\"application/json\" id=\"report-data\">{}</script>\n",
            format::escape_json_for_script(json)
        ));
        html.push_str(&format!("<script>\n{UPLOT_JS}\n</script>\n"));
        html.push_str(&format!("<script>\n{script}\n</script>\n"));
        html.push_str("</body>\n</html>\n");
        self.html
    }
}

/// One chart's points: x in Unix seconds (what uPlot expects), y as given.
#[derive(Serialize)]
struct Series {
    x: Vec<f64>,
    y: Vec<f64>,
}

impl Series {
    fn new(ts: &[i64], ys: &[f64]) -> Self {
        let (ts, y) = downsample_minmax(ts, ys, MAX_CHART_POINTS);
        Series {
            x: ts.iter().map(|&t| t as f64 / 1e9).collect(),
            y,
        }
    }
}

#[derive(Serialize)]
struct ChartData {
    equity: Series,
    drawdown: Series,
}

/// Renders the report page.
///
/// * `title`: page title and heading.
/// * `summary`, `input`, `trips`: from [`crate::stats`]; the charts use `input.ts` and
///   `input.equity` (common prefix), downsampled to [`MAX_CHART_POINTS`].
/// * `extra`: key/value rows shown under "Run" (strategy, parameters, data files, …).
pub fn render_html(
    title: &str,
    summary: &Summary,
    input: &StatsInput,
    trips: &[RoundTrip],
    extra: &[(String, String)],
) -> String {
    let n = input.ts.len().min(input.equity.len());
    let (ts, equity) = (&input.ts[..n], &input.equity[..n]);
    let data = ChartData {
        equity: Series::new(ts, equity),
        drawdown: Series::new(ts, &drawdown_series(equity)),
    };
    // Serialising plain numbers cannot fail; fall back to empty charts regardless.
    let json = serde_json::to_string(&data)
        .unwrap_or_else(|_| r#"{"equity":{"x":[],"y":[]},"drawdown":{"x":[],"y":[]}}"#.into());

    let mut page = Page::new(title, trips.len().min(MAX_TRIP_ROWS) * 400);
    if !summary.start.is_empty() {
        page.period(&summary.start, &summary.end);
    }
    let html = page.body();
    push_key_figures(html, summary);
    push_extra(html, extra);
    html.push_str(
        "<section>\n<h2>Equity</h2>\n<div id=\"equity-chart\" class=\"chart\"></div>\n</section>\n",
    );
    html.push_str(
        "<section>\n<h2>Drawdown</h2>\n<div id=\"drawdown-chart\" class=\"chart\"></div>\n</section>\n",
    );
    push_trips(html, trips);
    html.push_str("<footer>Sharpe and Sortino are annualised (&radic;252) from daily returns of the equity at the last bar of each UTC day, risk-free rate 0; they are 0 with fewer than two daily returns. CAGR uses 365.25-day years and extrapolates spans shorter than a year. Max drawdown is measured from the running peak of the equity curve.</footer>\n");
    page.finish(&json, REPORT_JS)
}

/// Renders the report (see [`render_html`]) and writes it to `path`.
pub fn write_html(
    path: &Path,
    title: &str,
    summary: &Summary,
    input: &StatsInput,
    trips: &[RoundTrip],
    extra: &[(String, String)],
) -> std::io::Result<()> {
    std::fs::write(path, render_html(title, summary, input, trips, extra))
}

/// A key/value row; `class` colours the value (`pos`, `neg` or empty).
fn kv(html: &mut String, label: &str, value: &str, class: &str) {
    html.push_str(&format!(
        "<tr><th>{}</th><td class=\"num {class}\">{}</td></tr>\n",
        escape_html(label),
        escape_html(value)
    ));
}

fn sign_class(x: f64) -> &'static str {
    if x > 0.0 {
        "pos"
    } else if x < 0.0 {
        "neg"
    } else {
        ""
    }
}

fn push_key_figures(html: &mut String, s: &Summary) {
    html.push_str("<section>\n<h2>Key figures</h2>\n<div class=\"cards\">\n");

    html.push_str("<table class=\"kv\"><caption>Performance</caption>\n");
    kv(html, "Initial equity", &money(s.initial_equity), "");
    kv(html, "Final equity", &money(s.final_equity), "");
    kv(
        html,
        "Total return",
        &percent(s.total_return),
        sign_class(s.total_return),
    );
    if s.annualised {
        kv(html, "CAGR", &percent(s.cagr), sign_class(s.cagr));
        kv(html, "Sharpe", &ratio(s.sharpe), "");
        kv(html, "Sortino", &ratio(s.sortino), "");
    } else {
        for k in ["CAGR", "Sharpe", "Sortino"] {
            kv(html, k, "n/a (under a day)", "");
        }
    }
    kv(html, "Start", &rfc3339_display(&s.start), "");
    kv(html, "End", &rfc3339_display(&s.end), "");
    html.push_str("</table>\n");

    html.push_str("<table class=\"kv\"><caption>Risk</caption>\n");
    kv(
        html,
        "Max drawdown",
        &percent(s.max_drawdown),
        if s.max_drawdown > 0.0 { "neg" } else { "" },
    );
    kv(
        html,
        "Max drawdown amount",
        &money(s.max_drawdown_amount),
        "",
    );
    let none = "–".to_string();
    kv(
        html,
        "Drawdown peak",
        &s.max_drawdown_start
            .as_deref()
            .map_or(none.clone(), rfc3339_display),
        "",
    );
    kv(
        html,
        "Drawdown trough",
        &s.max_drawdown_end.as_deref().map_or(none, rfc3339_display),
        "",
    );
    kv(
        html,
        "Longest drawdown",
        &duration(s.max_drawdown_duration_seconds),
        "",
    );
    kv(html, "Exposure", &percent(s.exposure), "");
    html.push_str("</table>\n");

    html.push_str("<table class=\"kv\"><caption>Trades</caption>\n");
    kv(html, "Closed trades", &count(s.trades), "");
    kv(html, "Open at end", &count(s.open_trades), "");
    kv(
        html,
        "Winners / losers",
        &format!("{} / {}", count(s.winning_trades), count(s.losing_trades)),
        "",
    );
    kv(html, "Win rate", &percent(s.win_rate), "");
    let pf = s
        .profit_factor
        .map_or("– (no losing trades)".to_string(), ratio);
    kv(html, "Profit factor", &pf, "");
    kv(
        html,
        "Average win",
        &money(s.avg_win),
        sign_class(s.avg_win),
    );
    kv(
        html,
        "Average loss",
        &money(s.avg_loss),
        sign_class(s.avg_loss),
    );
    kv(
        html,
        "Largest win",
        &money(s.largest_win),
        sign_class(s.largest_win),
    );
    kv(
        html,
        "Largest loss",
        &money(s.largest_loss),
        sign_class(s.largest_loss),
    );
    kv(html, "Fills", &count(s.fills), "");
    kv(html, "Commissions", &money(s.commissions), "");
    html.push_str("</table>\n");

    html.push_str("<table class=\"kv\"><caption>Run</caption>\n");
    kv(html, "Bars", &count(s.bars), "");
    kv(html, "Load time", &duration(s.load_seconds), "");
    kv(html, "Run time", &duration(s.run_seconds), "");
    kv(
        html,
        "Bars per second",
        &count(s.bars_per_second.round() as u64),
        "",
    );
    html.push_str("</table>\n");

    html.push_str("</div>\n</section>\n");
}

fn push_extra(html: &mut String, extra: &[(String, String)]) {
    if extra.is_empty() {
        return;
    }
    html.push_str("<section>\n<h2>Run details</h2>\n<table class=\"kv wide\">\n");
    for (key, value) in extra {
        html.push_str(&format!(
            "<tr><th>{}</th><td>{}</td></tr>\n",
            escape_html(key),
            escape_html(value)
        ));
    }
    html.push_str("</table>\n</section>\n");
}

fn push_trips(html: &mut String, trips: &[RoundTrip]) {
    html.push_str("<section>\n<h2>Round trips</h2>\n");
    if trips.is_empty() {
        html.push_str("<p class=\"note\">No closed round trips.</p>\n</section>\n");
        return;
    }
    if trips.len() > MAX_TRIP_ROWS {
        html.push_str(&format!(
            "<p class=\"note\">Showing the first {} of {} round trips.</p>\n",
            count(MAX_TRIP_ROWS as u64),
            count(trips.len() as u64)
        ));
    } else {
        html.push_str(&format!(
            "<p class=\"note\">{} round trips.</p>\n",
            count(trips.len() as u64)
        ));
    }
    html.push_str("<div class=\"scroll\"><table class=\"trips\">\n<thead><tr>");
    for h in [
        "#",
        "Symbol",
        "Side",
        "Entry (UTC)",
        "Exit (UTC)",
        "Qty",
        "Entry px",
        "Exit px",
        "Gross",
        "Comm.",
        "Net",
        "Return",
        "Bars",
    ] {
        html.push_str(&format!("<th>{h}</th>"));
    }
    html.push_str("</tr></thead>\n<tbody>\n");
    for (i, t) in trips.iter().take(MAX_TRIP_ROWS).enumerate() {
        let net_class = if t.net_pnl.is_sign_positive() && !t.net_pnl.is_zero() {
            "pos"
        } else if t.net_pnl.is_sign_negative() && !t.net_pnl.is_zero() {
            "neg"
        } else {
            ""
        };
        html.push_str(&format!(
            "<tr><td class=\"num\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num {net_class}\">{}</td>\
             <td class=\"num {net_class}\">{}</td><td class=\"num\">{}</td></tr>\n",
            i + 1,
            escape_html(&t.symbol),
            t.direction.as_str(),
            format::timestamp(t.entry_ts),
            format::timestamp(t.exit_ts),
            decimal(t.quantity),
            decimal(t.entry_price),
            decimal(t.exit_price),
            decimal(t.gross_pnl.round_dp(2)),
            decimal(t.commissions.round_dp(2)),
            decimal(t.net_pnl.round_dp(2)),
            percent(t.return_pct),
            t.bars_held.map_or(String::new(), count),
        ));
    }
    html.push_str("</tbody>\n</table></div>\n</section>\n");
}
