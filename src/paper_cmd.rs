//! `tickline paper`: run a strategy live against an IBKR gateway — by default the embedded
//! gateway emulator, started in-process on `127.0.0.1:0` with an accelerated market.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow};
use clap::Args;
use comfy_table::{Cell, CellAlignment, Table, presets};

use tickline_backtest::config::{AppConfig, DEFAULT_CONFIG};
use tickline_backtest::output::{RunInfo, write_results};
use tickline_backtest::runner::BacktestOutput;
use tickline_engine::clock::LiveClock;
use tickline_engine::domain::Instrument;
use tickline_engine::kernel::{Kernel, KernelConfig};
use tickline_gateway::GatewayConfig;
use tickline_gateway::config::MarketMode;
use tickline_ibkr::execution::{IbkrExecution, IbkrExecutionConfig};
use tickline_ibkr::live::{LiveFeed, LiveOptions, LiveReport, StopReason, run_live};
use tickline_ibkr::{Client, ClientConfig};

use crate::{Failure, UserError};

/// Simulated seconds per wall second of the embedded emulator's market.
const EMBEDDED_SPEED: f64 = 60.0;
/// Fills and broker-side cancels are polled this often against the embedded emulator (its
/// rate limits are off); against a real gateway IBKR's pacing (one call per 5 s) applies.
const EMBEDDED_FILL_POLL: Duration = Duration::from_millis(500);

#[derive(Args)]
pub struct PaperArgs {
    /// Configuration file (default: config/default.toml, or the built-in default).
    #[arg(long, short)]
    config: Option<PathBuf>,
    /// Override any config value: --set strategy.params.fast=3
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Strategy name (replaces [strategy] name and its params).
    #[arg(long)]
    strategy: Option<String>,
    /// Symbols to trade (from [[instruments]] or the built-in catalog; need IBKR conids).
    #[arg(long, value_delimiter = ',', default_value = "AAPL")]
    symbols: Vec<String>,
    /// Gateway base URL (`https://localhost:5000/v1/api`). Without it the embedded emulator
    /// is started on 127.0.0.1 with an accelerated market.
    #[arg(long)]
    url: Option<String>,
    /// Accept the gateway's self-signed certificate.
    #[arg(long)]
    insecure_tls: bool,
    /// IBKR account id (default: the first account the gateway lists).
    #[arg(long)]
    account: Option<String>,
    /// How long to run: `30s`, `5m`, `1h`, `500ms` (a bare number is seconds).
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    duration: Duration,
    /// Bar length in wall seconds (fractions allowed, at least 0.1). Default: 1 on the
    /// embedded emulator (one simulated minute of its x60 market), 5 with --url.
    #[arg(long)]
    bar_seconds: Option<f64>,
    /// Market data poll interval in milliseconds.
    #[arg(long, default_value_t = 250)]
    poll_ms: u64,
    /// Seed of the embedded emulator's market.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Output folder (default: out/paper).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Parse `30s`, `5m`, `1h`, `250ms` or a bare number of seconds.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let (num, unit) = match t.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => t.split_at(i),
        None => (t, "s"),
    };
    let value: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a duration (e.g. 30s, 5m, 500ms)"))?;
    let secs = match unit.trim() {
        "ms" => value / 1_000.0,
        "s" => value,
        "m" => value * 60.0,
        "h" => value * 3_600.0,
        other => return Err(format!("unknown unit `{other}` in `{s}` (ms, s, m, h)")),
    };
    if secs.is_nan() || secs <= 0.0 {
        return Err(format!("duration `{s}` must be positive"));
    }
    Duration::try_from_secs_f64(secs).map_err(|e| format!("duration `{s}`: {e}"))
}

/// The configuration, with paper defaults for `ema_cross` (fast 3, slow 8: the backtest's
/// 10 / 30 would need minutes of bars to warm up) unless a config file or `--set` says
/// otherwise.
fn load_config(args: &PaperArgs) -> Result<AppConfig, UserError> {
    let mut sets = Vec::new();
    if let Some(s) = &args.strategy {
        sets.push(format!("strategy.name=\"{s}\""));
    }
    let is_ema = args.strategy.as_deref().is_none_or(|s| s == "ema_cross");
    if args.config.is_none() && is_ema {
        sets.push("strategy.params.fast=3".into());
        sets.push("strategy.params.slow=8".into());
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

fn instruments(cfg: &AppConfig, symbols: &[String]) -> Result<Vec<Instrument>, UserError> {
    if symbols.is_empty() {
        return Err(UserError(anyhow!(
            "--symbols: at least one symbol is required"
        )));
    }
    let mut out = Vec::with_capacity(symbols.len());
    for s in symbols {
        let inst = cfg.instrument_for(s.trim(), "--symbols")?;
        if inst.conid.is_none() {
            return Err(UserError(anyhow!(
                "--symbols: {s} has no IBKR conid; define it under [[instruments]] with `conid`"
            )));
        }
        out.push(inst);
    }
    Ok(out)
}

/// The embedded emulator's configuration: timed, accelerated market; the account holds the
/// configured starting cash.
fn embedded_gateway(cfg: &AppConfig, account: Option<&str>, seed: u64) -> GatewayConfig {
    let mut g = GatewayConfig {
        seed,
        ..GatewayConfig::default()
    };
    g.market.mode = MarketMode::Timed;
    g.market.speed = EMBEDDED_SPEED;
    for a in &mut g.accounts {
        a.cash = cfg.portfolio.cash;
        a.currency = cfg.portfolio.currency.clone();
        if let Some(id) = account {
            a.id = id.to_string();
        }
    }
    g
}

/// A running embedded emulator.
struct Embedded {
    url: String,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), tickline_gateway::GatewayError>>,
}

async fn start_embedded(config: GatewayConfig) -> anyhow::Result<Embedded> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .context("binding the embedded gateway on 127.0.0.1")?;
    let addr = listener.local_addr().context("embedded gateway address")?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(tickline_gateway::run(listener, config, async move {
        let _ = stopped.await;
    }));
    Ok(Embedded {
        url: format!("http://{addr}/v1/api"),
        stop,
        task,
    })
}

/// Everything set up before the run, checked without touching the network.
struct Plan {
    cfg: AppConfig,
    instruments: Vec<Instrument>,
    live: LiveOptions,
    out_dir: PathBuf,
}

fn plan(args: &PaperArgs) -> Result<Plan, UserError> {
    let cfg = load_config(args)?;
    let instruments = instruments(&cfg, &args.symbols)?;
    // Build once to report bad strategy names / parameters before connecting.
    tickline_strategies::build(&cfg.strategy.name, &cfg.strategy.params)?;
    let default_bar = if args.url.is_some() { 5.0 } else { 1.0 };
    let bar_seconds = args.bar_seconds.unwrap_or(default_bar);
    if !bar_seconds.is_finite() || bar_seconds < 0.1 {
        return Err(UserError(anyhow!(
            "--bar-seconds must be at least 0.1, got {bar_seconds}"
        )));
    }
    if args.poll_ms == 0 {
        return Err(UserError(anyhow!("--poll-ms must be positive")));
    }
    let bar = Duration::from_secs_f64(bar_seconds);
    let live = LiveOptions {
        poll: Duration::from_millis(args.poll_ms),
        bar,
        duration: Some(args.duration),
        drain: Duration::from_secs(5),
        ..LiveOptions::default()
    };
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("out/paper"));
    Ok(Plan {
        cfg,
        instruments,
        live,
        out_dir,
    })
}

pub fn run(args: PaperArgs) -> Result<(), Failure> {
    let plan = plan(&args)?;
    if let Some(url) = &args.url {
        ClientConfig::parse_base_url(url).map_err(UserError::from)?;
    }
    tickline_ibkr::install_crypto_provider();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Failure::Internal(e.into()))?;
    let t0 = Instant::now();
    let report = rt.block_on(run_async(&args, &plan))?;
    let wall = t0.elapsed().as_secs_f64();
    drop(rt);
    finish(&args, &plan, report, wall)
}

async fn run_async(args: &PaperArgs, plan: &Plan) -> Result<LiveReport, Failure> {
    let embedded = match &args.url {
        Some(_) => None,
        None => {
            let g = embedded_gateway(&plan.cfg, args.account.as_deref(), args.seed);
            let e = start_embedded(g).await.map_err(Failure::Internal)?;
            eprintln!(
                "embedded gateway emulator on {} (seed {}, market x{EMBEDDED_SPEED})",
                e.url, args.seed
            );
            Some(e)
        }
    };
    let url = match (&args.url, &embedded) {
        (Some(u), _) => u.clone(),
        (None, Some(e)) => e.url.clone(),
        (None, None) => return Err(Failure::Internal(anyhow!("no gateway URL"))),
    };
    let result = trade(args, plan, &url, embedded.is_some()).await;
    if let Some(e) = embedded {
        let _ = e.stop.send(());
        match e.task.await {
            Ok(Ok(())) => {}
            Ok(Err(err)) => tracing::warn!(error = %err, "embedded gateway ended with an error"),
            Err(err) => tracing::warn!(error = %err, "embedded gateway task failed"),
        }
    }
    result
}

/// Connect, build the kernel over `IbkrExecution`, run live.
async fn trade(
    args: &PaperArgs,
    plan: &Plan,
    url: &str,
    embedded: bool,
) -> Result<LiveReport, Failure> {
    let internal = |what: &'static str| {
        move |e: tickline_ibkr::IbkrError| Failure::Internal(anyhow::Error::new(e).context(what))
    };
    let base = ClientConfig::parse_base_url(url).map_err(UserError::from)?;
    let mut config = ClientConfig::gateway(base);
    config.insecure_tls = args.insecure_tls;
    if embedded {
        // The emulator's own pacing is off; keep the global 10 req/s bucket only.
        config.limits.per_endpoint = false;
    }
    let client = Client::gateway(config).map_err(internal("building the IBKR client"))?;
    let accounts = client
        .connect()
        .await
        .map_err(internal("connecting to the gateway"))?;
    let account = match &args.account {
        Some(a) => {
            if !accounts.accounts.iter().any(|x| x == a) {
                return Err(UserError(anyhow!(
                    "--account {a}: not an account of this session (available: {})",
                    accounts.accounts.join(", ")
                ))
                .into());
            }
            a.clone()
        }
        None => accounts
            .selected_account
            .clone()
            .filter(|a| !a.is_empty())
            .or_else(|| accounts.accounts.first().cloned())
            .ok_or_else(|| Failure::Internal(anyhow!("the gateway lists no accounts")))?,
    };
    eprintln!(
        "connected; account {account}; trading {} with {} for {:?} on {:?} bars",
        args.symbols.join(","),
        plan.cfg.strategy.name,
        args.duration,
        plan.live.bar
    );
    let supervisor = client.spawn_supervisor();

    let mut exec_cfg = IbkrExecutionConfig::new(account);
    if embedded {
        exec_cfg.poll_interval = EMBEDDED_FILL_POLL;
    }
    let exec = IbkrExecution::new(
        tokio::runtime::Handle::current(),
        client.clone(),
        plan.instruments.clone(),
        exec_cfg,
    )
    .map_err(|e| Failure::User(e.into()))?;
    let strategy = tickline_strategies::build(&plan.cfg.strategy.name, &plan.cfg.strategy.params)
        .map_err(UserError::from)?;
    let kernel_cfg = KernelConfig {
        initial_cash: plan.cfg.portfolio.cash,
        risk: plan.cfg.risk.clone(),
        prompts: plan.cfg.prompts.clone(),
        client_id_prefix: "TL-".into(),
        timezone: plan.cfg.timezone(),
    };
    let kernel = Kernel::new(
        kernel_cfg,
        plan.instruments.clone(),
        strategy,
        Box::new(exec),
        Box::new(LiveClock),
    )
    .map_err(UserError::from)?;
    let feed =
        LiveFeed::snapshots(client.clone(), kernel.instruments()).map_err(UserError::from)?;
    let shutdown = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let report = run_live(kernel, feed, plan.live.clone(), shutdown)
        .await
        .map_err(UserError::from)?;
    supervisor.shutdown().await;
    Ok(report)
}

/// Write the results, print the summary; a failed feed is a runtime failure (exit 1).
fn finish(args: &PaperArgs, plan: &Plan, report: LiveReport, wall: f64) -> Result<(), Failure> {
    let rec = report.records;
    let output = BacktestOutput {
        instruments: report.instruments,
        positions: rec.portfolio.positions().to_vec(),
        initial_cash: rec.portfolio.initial_cash(),
        final_cash: rec.portfolio.cash(),
        final_equity: rec.portfolio.equity(),
        fills: rec.fills,
        orders: rec.orders,
        audit: rec.audit,
        equity: rec.equity,
        bars: rec.bars,
        bars_in_market: rec.bars_in_market,
        kill_switch: rec.kill_switch,
        run_seconds: wall,
    };
    let info = RunInfo {
        strategy: plan.cfg.strategy.name.clone(),
        params: toml::to_string(&plan.cfg.strategy.params)
            .unwrap_or_default()
            .trim()
            .replace('\n', ", "),
        data_files: Vec::new(),
        load_seconds: 0.0,
        extra: vec![
            ("Mode".into(), "paper (live)".into()),
            (
                "Gateway".into(),
                args.url
                    .clone()
                    .unwrap_or_else(|| "embedded emulator".into()),
            ),
            ("Symbols".into(), args.symbols.join(", ")),
            ("Bar".into(), format!("{:?}", plan.live.bar)),
        ],
    };
    let written = write_results(&output, &info, &plan.out_dir, plan.cfg.output.report)
        .map_err(|e| Failure::Internal(e.into()))?;

    let mut t = Table::new();
    t.load_style(presets::UTF8_FULL_CONDENSED);
    t.set_header(vec!["metric", "value"]);
    let stop = match &report.stop {
        StopReason::Duration => "duration elapsed".to_string(),
        StopReason::Shutdown => "interrupted".to_string(),
        StopReason::FeedFailed(e) => format!("market data failed: {e}"),
    };
    let filled = output
        .orders
        .iter()
        .filter(|o| o.filled_qty > rust_decimal::Decimal::ZERO)
        .count();
    let rows: Vec<(&str, String)> = vec![
        ("strategy", info.strategy.clone()),
        ("stopped", stop.clone()),
        ("run time", format!("{wall:.1} s")),
        (
            "ticks / bars",
            format!("{} / {}", report.ticks, report.bars),
        ),
        ("feed errors", report.feed_errors.to_string()),
        ("orders", output.orders.len().to_string()),
        ("orders filled", filled.to_string()),
        ("fills", output.fills.len().to_string()),
        ("open orders at end", report.open_orders_at_end.to_string()),
        ("initial equity", format!("{:.2}", output.initial_cash)),
        ("final equity", format!("{:.2}", output.final_equity)),
        ("kill switch", format!("{:?}", output.kill_switch)),
    ];
    for (k, v) in rows {
        t.add_row(vec![
            Cell::new(k),
            Cell::new(v).set_alignment(CellAlignment::Right),
        ]);
    }
    println!("{t}");
    for p in output.positions.iter().filter(|p| !p.is_flat()) {
        let symbol = output
            .instruments
            .get(p.instrument.index())
            .map_or("?", |i| i.symbol.as_str());
        println!(
            "position {symbol}: {} @ {} (last {})",
            p.quantity,
            p.avg_price,
            p.last_price().map(|d| d.to_string()).unwrap_or_default()
        );
    }
    println!(
        "paper: {} orders, {} fills, final equity {:.2}; results in {}",
        output.orders.len(),
        written.summary.fills,
        output.final_equity,
        plan.out_dir.display()
    );
    if let StopReason::FeedFailed(_) = report.stop {
        return Err(Failure::Internal(anyhow!(stop)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("6"), Ok(Duration::from_secs(6)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("ten").is_err());
        assert!(parse_duration("5d").unwrap_err().contains("unknown unit"));
    }
}
