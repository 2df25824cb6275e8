//! The HTML report: self-contained, escaped, capped.

use rust_decimal::dec;
use tickline_backtest::report::{MAX_TRIP_ROWS, render_html, write_html};
use tickline_backtest::stats::{
    Direction, RoundTrip, StatsFill, StatsInput, compute_summary, round_trips,
};

const T0: i64 = 1_704_067_200 * 1_000_000_000;
const MIN: i64 = 60 * 1_000_000_000;

struct Run {
    ts: Vec<i64>,
    equity: Vec<f64>,
    fills: Vec<StatsFill>,
}

impl Run {
    fn new(points: usize) -> Self {
        let ts: Vec<i64> = (0..points as i64).map(|i| T0 + i * MIN).collect();
        let equity: Vec<f64> = (0..points)
            .map(|i| 100_000.0 + (i as f64 * 0.001).sin() * 5_000.0 + i as f64 * 0.1)
            .collect();
        let fills = vec![
            StatsFill {
                ts: T0,
                instrument: 1,
                symbol: "AAPL".into(),
                quantity: dec!(10),
                price: dec!(190.5),
                multiplier: dec!(1),
                commission: dec!(1),
                realized_pnl: dec!(0),
                position_after: dec!(10),
                order_id: 1,
            },
            StatsFill {
                ts: T0 + 30 * MIN,
                instrument: 1,
                symbol: "AAPL".into(),
                quantity: dec!(-10),
                price: dec!(191.5),
                multiplier: dec!(1),
                commission: dec!(1),
                realized_pnl: dec!(10),
                position_after: dec!(0),
                order_id: 2,
            },
        ];
        Run { ts, equity, fills }
    }

    fn input(&self) -> StatsInput<'_> {
        StatsInput {
            initial_equity: 100_000.0,
            ts: &self.ts,
            equity: &self.equity,
            fills: &self.fills,
            bars: self.ts.len() as u64,
            bars_in_market: 30,
            load_seconds: 0.25,
            run_seconds: 1.5,
        }
    }
}

fn render(title: &str, run: &Run, trips: &[RoundTrip], extra: &[(String, String)]) -> String {
    let input = run.input();
    let summary = compute_summary(&input);
    render_html(title, &summary, &input, trips, extra)
}

/// The JSON text inside `<script type="application/json" id="report-data">`.
fn embedded_json(html: &str) -> &str {
    let start_tag = "<script type=\"application/json\" id=\"report-data\">";
    let start = html.find(start_tag).expect("data script") + start_tag.len();
    let len = html[start..].find("</script>").expect("end of data script");
    &html[start..start + len]
}

#[test]
fn page_is_self_contained() {
    let run = Run::new(500);
    let trips = round_trips(&run.fills);
    let html = render("SMA cross", &run, &trips, &[]);
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("var uPlot=function()"), "uPlot embedded");
    assert!(html.contains(".uplot"), "uPlot CSS embedded");
    assert!(html.contains("Leon Sorokin"), "uPlot license kept");
    assert!(html.contains("id=\"equity-chart\"") && html.contains("id=\"drawdown-chart\""));
    // uPlot's banner comment names its home page; nothing else may mention a URL.
    let without_banner = html.replace("/*! https://github.com/leeoniya/uPlot", "");
    assert!(!without_banner.contains("http://"), "no http:// anywhere");
    assert!(!without_banner.contains("https://"), "no https:// anywhere");
    assert!(!html.contains("<link"), "no external stylesheet");
    assert!(!html.contains(" src="), "no external script or image");
    assert!(!html.contains("@import"), "no CSS import");
}

#[test]
fn title_and_extra_rows_are_escaped() {
    let run = Run::new(10);
    let title = "<script>alert(1)</script> & \"q\"";
    let extra = vec![
        ("strategy".to_string(), "sma_cross".to_string()),
        (
            "<b>param</b>".to_string(),
            "fast=10 & slow=<30>".to_string(),
        ),
    ];
    let html = render(title, &run, &[], &extra);
    assert!(!html.contains("<script>alert(1)"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;q&quot;"));
    assert!(html.contains("<title>&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(
        html.contains("&lt;b&gt;param&lt;/b&gt;") && html.contains("fast=10 &amp; slow=&lt;30&gt;")
    );
    assert!(html.contains("sma_cross"));
    // Exactly the page's own three scripts (data, uPlot, charts).
    assert_eq!(html.matches("<script").count(), 3);
}

#[test]
fn symbols_in_trips_are_escaped() {
    let mut run = Run::new(10);
    for f in &mut run.fills {
        f.symbol = "</td><script>x</script>".into();
    }
    let trips = round_trips(&run.fills);
    let html = render("t", &run, &trips, &[]);
    assert!(html.contains("&lt;/td&gt;&lt;script&gt;x&lt;/script&gt;"));
    assert_eq!(html.matches("<script").count(), 3);
}

#[test]
fn chart_data_is_downsampled_and_script_safe() {
    let run = Run::new(50_000);
    let html = render("big", &run, &[], &[]);
    let json = embedded_json(&html);
    assert!(!json.contains('<'), "no raw '<' inside the data script");
    let value: serde_json::Value = serde_json::from_str(json).expect("valid JSON");
    for key in ["equity", "drawdown"] {
        let xs = value[key]["x"].as_array().expect("x");
        let ys = value[key]["y"].as_array().expect("y");
        assert_eq!(xs.len(), ys.len());
        assert!(xs.len() <= 4_000 && xs.len() > 1_000, "{key}: {}", xs.len());
        // x is Unix seconds.
        assert_eq!(xs[0].as_f64(), Some(T0 as f64 / 1e9));
    }
    let min_equity = run.equity.iter().copied().fold(f64::INFINITY, f64::min);
    let ys = value["equity"]["y"].as_array().expect("y");
    assert!(ys.iter().any(|y| y.as_f64() == Some(min_equity)));
}

#[test]
fn trip_table_is_capped_with_a_note() {
    let run = Run::new(10);
    let trip = RoundTrip {
        symbol: "ES".into(),
        instrument: 2,
        direction: Direction::Short,
        entry_ts: T0,
        exit_ts: T0 + MIN,
        quantity: dec!(1),
        entry_price: dec!(5000.25),
        exit_price: dec!(4990),
        gross_pnl: dec!(512.5),
        commissions: dec!(4.2),
        net_pnl: dec!(508.3),
        return_pct: 0.002,
        fills: 2,
        bars_held: Some(1),
    };
    let trips = vec![trip; MAX_TRIP_ROWS + 7];
    let html = render("capped", &run, &trips, &[]);
    let rows = html.matches("<tr><td class=\"num\">").count();
    assert_eq!(rows, MAX_TRIP_ROWS);
    assert!(html.contains("Showing the first 5,000 of 5,007 round trips."));
    assert!(html.contains("5,000.25") && html.contains("508.3"));

    let few = render("few", &run, &trips[..3], &[]);
    assert_eq!(few.matches("<tr><td class=\"num\">").count(), 3);
    assert!(!few.contains("Showing the first"));
}

#[test]
fn key_figures_are_shown() {
    let run = Run::new(100);
    let trips = round_trips(&run.fills);
    let html = render("figures", &run, &trips, &[]);
    for label in [
        "Total return",
        "CAGR",
        "Sharpe",
        "Sortino",
        "Max drawdown",
        "Profit factor",
        "Win rate",
        "Exposure",
        "Commissions",
    ] {
        assert!(html.contains(&format!("<th>{label}</th>")), "{label}");
    }
    assert!(html.contains("– (no losing trades)"));
    assert!(html.contains("AAPL"));
    assert!(html.contains("2024-01-01 00:00:00 UTC"));
}

#[test]
fn empty_run_renders() {
    let run = Run {
        ts: vec![],
        equity: vec![],
        fills: vec![],
    };
    let html = render("empty", &run, &[], &[]);
    assert!(html.contains("No closed round trips."));
    let value: serde_json::Value = serde_json::from_str(embedded_json(&html)).expect("JSON");
    assert_eq!(value["equity"]["x"].as_array().map(Vec::len), Some(0));
}

#[test]
fn write_html_writes_the_page() {
    let run = Run::new(20);
    let input = run.input();
    let summary = compute_summary(&input);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("report.html");
    write_html(&path, "written", &summary, &input, &[], &[]).expect("write");
    let text = std::fs::read_to_string(&path).expect("read back");
    assert_eq!(text, render_html("written", &summary, &input, &[], &[]));
    let missing = dir.path().join("no/such/dir/report.html");
    assert!(write_html(&missing, "x", &summary, &input, &[], &[]).is_err());
}
