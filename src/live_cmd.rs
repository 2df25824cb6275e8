//! `tickline paper` and `tickline live`: argument parsing and printing around the live
//! runtime (`tickline_live::runner`) over the IBKR venue (`tickline_ibkr::venue`).
//!
//! `paper` without `--url` / `--oauth-config` starts the embedded gateway emulator on
//! `127.0.0.1:0` (an accelerated x60 market, the account holding `[portfolio] cash`).
//! `live` needs a gateway or OAuth and refuses an account that is not a paper account unless
//! the configuration says `[live] allow_live = true` and `--live` is given.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow};
use clap::Args;
use comfy_table::{Cell, CellAlignment, Table, presets};

use tickline_backtest::config::{
    AppConfig, ForeignPolicy, MAX_LIVE_SECS, MAX_WARMUP_BARS, MIN_BAR_SECS, MaintenanceSchedule,
    OnStop,
};
use tickline_backtest::output::{refusals, refusals_line};
use tickline_engine::clock::{Clock, LiveClock};
use tickline_engine::domain::Instrument;
use tickline_engine::kernel::KernelConfig;
use tickline_gateway::GatewayConfig;
use tickline_gateway::config::MarketMode;
use tickline_gateway::faults::MaintenanceRegion;
use tickline_ibkr::cli::client_for;
use tickline_ibkr::execution::IbkrExecutionConfig;
use tickline_ibkr::venue::{self, FeedOptions, StreamOptions, VenueOptions};
use tickline_ibkr::{Maintenance, Region};
use tickline_live::journal::{Journal, LiveJournal, NewRun};
use tickline_live::runner::{LiveOutcome, LiveRun, LiveSettings, RunMode};
use tickline_live::venue::{AccountInfo, VenueError};
use tickline_strategies::Registry;

use crate::backtest_cmd::read_config;
use crate::journal_cmd::failure;
use crate::{Failure, UserError};

/// Simulated seconds per wall second of the embedded emulator's market.
const EMBEDDED_SPEED: f64 = 60.0;
/// Trades and live orders are read this often against the embedded emulator while its
/// websocket is down (its rate limits are off); IBKR's pacing (one call per 5 s) otherwise.
const EMBEDDED_FILL_POLL: Duration = Duration::from_millis(500);
/// A run on the embedded emulator stops after this long unless `--duration` says otherwise.
const EMBEDDED_DURATION: Duration = Duration::from_secs(30);

/// Options shared by `paper` and `live`.
#[derive(Args)]
pub struct RunArgs {
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
    /// Gateway base URL (`https://localhost:5000/v1/api`, or a `tickline gateway`).
    #[arg(long)]
    url: Option<String>,
    /// OAuth 1.0a settings file (TOML), instead of a gateway.
    #[arg(long)]
    oauth_config: Option<PathBuf>,
    /// Accept the gateway's self-signed TLS certificate.
    #[arg(long)]
    insecure_tls: bool,
    /// IBKR account id (default: the session's selected account).
    #[arg(long)]
    account: Option<String>,
    /// How long to run: `30s`, `5m`, `1h`, `500ms` (a bare number is seconds). Default: 30 s
    /// on the embedded emulator, until Ctrl-C otherwise.
    #[arg(long, value_parser = parse_duration)]
    duration: Option<Duration>,
    /// Bar length in wall seconds (0.1 to 86400). Default: 1 on the embedded emulator (one
    /// simulated minute of its x60 market), else `[live] bar_seconds` or 60.
    #[arg(long)]
    bar_seconds: Option<f64>,
    /// Venue seconds per wall second: the market speed of a `tickline gateway` started with
    /// `--speed` (history bars are then mapped onto the wall clock). Default 1 (60 embedded).
    #[arg(long)]
    time_scale: Option<f64>,
    /// Historical bars fed to the strategy before its first live bar (`[live] warmup_bars`).
    #[arg(long)]
    warmup_bars: Option<usize>,
    /// Broker orders and positions this journal did not make: adopt, ignore or refuse
    /// (`[live] foreign`).
    #[arg(long, value_parser = parse_foreign)]
    foreign: Option<ForeignPolicy>,
    /// At the end: cancel this run's working orders, or leave them (`[live] on_stop`).
    #[arg(long, value_parser = parse_on_stop)]
    on_stop: Option<OnStop>,
    /// Seed of the embedded emulator's market.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Results folder (default: out/paper or out/live).
    #[arg(long)]
    out: Option<PathBuf>,
    /// The run's journal (default: <out>/journal.sqlite). The same journal again resumes it;
    /// on the embedded emulator (an empty account every run) the default one is moved aside.
    #[arg(long)]
    journal: Option<PathBuf>,
    /// No status line.
    #[arg(long, short)]
    quiet: bool,
    /// Fail (exit code 1, after writing the results) when the risk layer refused any order of
    /// this run or the kill switch left `Active`.
    #[arg(long)]
    strict: bool,
}

/// `tickline paper`.
#[derive(Args)]
pub struct PaperArgs {
    #[command(flatten)]
    run: RunArgs,
}

/// `tickline live`.
#[derive(Args)]
pub struct LiveArgs {
    #[command(flatten)]
    run: RunArgs,
    /// Allow trading a non-paper account (also needs `[live] allow_live = true`).
    #[arg(long)]
    live: bool,
}

pub fn paper(args: PaperArgs, registry: &Registry) -> Result<(), Failure> {
    run(&args.run, RunMode::Paper, false, registry)
}

pub fn live(args: LiveArgs, registry: &Registry) -> Result<(), Failure> {
    if args.run.url.is_none() && args.run.oauth_config.is_none() {
        return Err(UserError(anyhow!(
            "tickline live needs --url (a Client Portal Gateway) or --oauth-config; for the embedded emulator use tickline paper"
        ))
        .into());
    }
    run(&args.run, RunMode::Live, args.live, registry)
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
    if secs > 366.0 * 86_400.0 {
        return Err(format!("duration `{s}` is longer than a year"));
    }
    Duration::try_from_secs_f64(secs).map_err(|e| format!("duration `{s}`: {e}"))
}

fn parse_foreign(s: &str) -> Result<ForeignPolicy, String> {
    match s {
        "adopt" => Ok(ForeignPolicy::Adopt),
        "ignore" => Ok(ForeignPolicy::Ignore),
        "refuse" => Ok(ForeignPolicy::Refuse),
        _ => Err(format!("`{s}`: expected adopt, ignore or refuse")),
    }
}

fn parse_on_stop(s: &str) -> Result<OnStop, String> {
    match s {
        "cancel" => Ok(OnStop::Cancel),
        "leave" => Ok(OnStop::Leave),
        _ => Err(format!("`{s}`: expected cancel or leave")),
    }
}

/// Seconds from the command line, checked against the bounds of the `[live]` keys they
/// override.
fn seconds(what: &str, v: f64) -> Result<Duration, UserError> {
    if !(v.is_finite() && (MIN_BAR_SECS..=MAX_LIVE_SECS).contains(&v)) {
        return Err(UserError(anyhow!(
            "{what} must be between {MIN_BAR_SECS} and {MAX_LIVE_SECS} seconds, got {v}"
        )));
    }
    Ok(Duration::from_secs_f64(v))
}

/// The configuration, with paper defaults for `ema_cross` on the embedded emulator (fast 3,
/// slow 8) unless a config file or `--set` says otherwise.
fn load_config(args: &RunArgs, embedded: bool) -> Result<AppConfig, UserError> {
    let mut sets = Vec::new();
    if let Some(s) = &args.strategy {
        sets.push(format!("strategy.name=\"{s}\""));
    }
    let is_ema = args.strategy.as_deref().is_none_or(|s| s == "ema_cross");
    if args.config.is_none() && is_ema && embedded {
        sets.push("strategy.params.fast=3".into());
        sets.push("strategy.params.slow=8".into());
    }
    sets.extend(args.set.iter().cloned());
    read_config(args.config.as_deref(), &sets)
}

fn instruments(cfg: &AppConfig, symbols: &[String]) -> Result<Vec<Instrument>, UserError> {
    if symbols.iter().all(|s| s.trim().is_empty()) {
        return Err(UserError(anyhow!(
            "--symbols: at least one symbol is required"
        )));
    }
    let mut out: Vec<Instrument> = Vec::with_capacity(symbols.len());
    for s in symbols.iter().filter(|s| !s.trim().is_empty()) {
        let inst = cfg.instrument_for(s.trim(), "--symbols")?;
        if inst.conid.is_none() {
            return Err(UserError(anyhow!(
                "--symbols: {s} has no IBKR conid; define it under [[instruments]] with `conid`"
            )));
        }
        if out.iter().any(|i| i.symbol == inst.symbol) {
            return Err(UserError(anyhow!("--symbols: {s} is listed twice")));
        }
        out.push(inst);
    }
    Ok(out)
}

/// Everything decided before touching the network.
struct Plan {
    mode: RunMode,
    /// The strategies this binary knows.
    registry: Registry,
    cfg: AppConfig,
    instruments: Vec<Instrument>,
    settings: LiveSettings,
    time_scale: f64,
    embedded: bool,
    out_dir: PathBuf,
    journal: PathBuf,
}

fn plan(args: &RunArgs, mode: RunMode, registry: &Registry) -> Result<Plan, UserError> {
    let embedded = args.url.is_none() && args.oauth_config.is_none();
    if args.url.is_some() && args.oauth_config.is_some() {
        return Err(UserError(anyhow!(
            "--url and --oauth-config: give one (the OAuth file names its base URL)"
        )));
    }
    if let Some(url) = &args.url {
        tickline_ibkr::ClientConfig::parse_base_url(url).map_err(UserError::from)?;
    }
    let cfg = load_config(args, embedded)?;
    let instruments = instruments(&cfg, &args.symbols)?;
    // Build once to report bad strategy names / parameters before connecting.
    registry.build(&cfg.strategy.name, &cfg.strategy.params)?;
    let live = &cfg.live;
    let bar = match args.bar_seconds {
        Some(v) => seconds("--bar-seconds", v)?,
        None if embedded => Duration::from_secs(1),
        None => Duration::from_secs_f64(live.bar_seconds.unwrap_or(60.0)),
    };
    let time_scale = args
        .time_scale
        .unwrap_or(if embedded { EMBEDDED_SPEED } else { 1.0 });
    if !(time_scale.is_finite() && (0.001..=1_000_000.0).contains(&time_scale)) {
        return Err(UserError(anyhow!(
            "--time-scale must be between 0.001 and 1000000, got {time_scale}"
        )));
    }
    let duration = args.duration.or(if embedded {
        Some(EMBEDDED_DURATION)
    } else {
        None
    });
    let status_every = if args.quiet || live.status_secs == 0.0 {
        None
    } else {
        Some(Duration::from_secs_f64(live.status_secs))
    };
    let settings = LiveSettings {
        mode,
        bar,
        bar_source: live.bar_source,
        warmup_bars: args.warmup_bars.unwrap_or(live.warmup_bars),
        duration,
        on_stop: args.on_stop.unwrap_or(live.on_stop),
        foreign: args.foreign.unwrap_or(live.foreign),
        stale_after: Duration::from_secs_f64(live.stale_after_secs),
        reconcile_every: Duration::from_secs_f64(live.reconcile_secs),
        status_every,
        refresh_every: Duration::from_secs_f64(live.refresh_secs),
        stop_timeout: Duration::from_secs_f64(live.stop_timeout_secs),
        ..LiveSettings::default()
    };
    if settings.warmup_bars > MAX_WARMUP_BARS {
        return Err(UserError(anyhow!(
            "--warmup-bars must be at most {MAX_WARMUP_BARS}, got {}",
            settings.warmup_bars
        )));
    }
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("out/{}", mode.as_str())));
    let journal = args
        .journal
        .clone()
        .unwrap_or_else(|| out_dir.join("journal.sqlite"));
    Ok(Plan {
        mode,
        registry: registry.clone(),
        cfg,
        instruments,
        settings,
        time_scale,
        embedded,
        out_dir,
        journal,
    })
}

fn run(
    args: &RunArgs,
    mode: RunMode,
    allow_flag: bool,
    registry: &Registry,
) -> Result<(), Failure> {
    let plan = plan(args, mode, registry)?;
    std::fs::create_dir_all(&plan.out_dir)
        .with_context(|| format!("creating {}", plan.out_dir.display()))
        .map_err(Failure::User)?;
    if let Some(dir) = plan.journal.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating {}", dir.display()))
            .map_err(Failure::User)?;
    }
    // The embedded emulator starts with an empty account every run, so the default journal
    // of an earlier embedded run can never be reconciled again: it is moved aside.
    if plan.embedded
        && args.journal.is_none()
        && let Some(old) = Journal::archive(&plan.journal).map_err(failure)?
    {
        eprintln!(
            "the embedded emulator starts empty: the earlier journal was moved to {}",
            old.display()
        );
    }
    // Open (and check) the journal before connecting: a corrupt or foreign file is the
    // user's to fix.
    let journal = Journal::open_or_create(&plan.journal).map_err(failure)?;
    tickline_ibkr::install_crypto_provider();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Failure::Internal(e.into()))?;
    let t0 = Instant::now();
    let outcome = rt.block_on(run_async(args, &plan, journal, allow_flag))?;
    let wall = t0.elapsed().as_secs_f64();
    rt.shutdown_timeout(Duration::from_secs(2));
    print_outcome(&plan, &outcome, wall);
    let rec = &outcome.records;
    crate::backtest_cmd::strict_check(&refusals(&rec.orders), rec.kill_switch, args.strict)
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

impl Embedded {
    async fn start(config: GatewayConfig) -> anyhow::Result<Embedded> {
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

    async fn stop(self) {
        let _ = self.stop.send(());
        match tokio::time::timeout(Duration::from_secs(5), self.task).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(err))) => {
                tracing::warn!(error = %err, "embedded gateway ended with an error")
            }
            Ok(Err(err)) => tracing::warn!(error = %err, "embedded gateway task failed"),
            Err(_) => tracing::warn!("embedded gateway did not stop within 5 s"),
        }
    }
}

/// `[live] maintenance` as the IBKR client's schedule.
fn session_maintenance(m: MaintenanceSchedule) -> Maintenance {
    match m {
        MaintenanceSchedule::Auto => Maintenance::Auto,
        MaintenanceSchedule::Off => Maintenance::Off,
        MaintenanceSchedule::NorthAmerica => Maintenance::Region(Region::NorthAmerica),
        MaintenanceSchedule::Europe => Maintenance::Region(Region::Europe),
        MaintenanceSchedule::Asia => Maintenance::Region(Region::Asia),
    }
}

/// The windows an emulator configured with `region` keeps, as a `[live] maintenance` value.
fn emulator_schedule(region: MaintenanceRegion) -> MaintenanceSchedule {
    match region {
        MaintenanceRegion::Off => MaintenanceSchedule::Off,
        MaintenanceRegion::NorthAmerica => MaintenanceSchedule::NorthAmerica,
        MaintenanceRegion::Europe => MaintenanceSchedule::Europe,
        MaintenanceRegion::Asia => MaintenanceSchedule::Asia,
    }
}

/// A venue error before the run: permanent ones are the user's (exit 2), the others are
/// connection failures (exit 1).
fn venue_failure(what: &str, e: VenueError) -> Failure {
    let e = anyhow::Error::new(e).context(what.to_string());
    match e.downcast_ref::<VenueError>() {
        Some(VenueError::Permanent(_)) => Failure::User(e),
        _ => Failure::Internal(e),
    }
}

async fn run_async(
    args: &RunArgs,
    plan: &Plan,
    journal: Journal,
    allow_flag: bool,
) -> Result<LiveOutcome, Failure> {
    let mut schedule = plan.cfg.live.maintenance;
    let embedded = if plan.embedded {
        let g = embedded_gateway(&plan.cfg, args.account.as_deref(), args.seed);
        // The emulator's own windows, whatever `[live] maintenance` says.
        schedule = emulator_schedule(g.faults.maintenance);
        let e = Embedded::start(g).await.map_err(Failure::Internal)?;
        eprintln!(
            "embedded gateway emulator on {} (seed {}, market x{EMBEDDED_SPEED})",
            e.url, args.seed
        );
        Some(e)
    } else {
        None
    };
    let url = embedded
        .as_ref()
        .map(|e| e.url.clone())
        .or(args.url.clone());
    let maintenance = session_maintenance(schedule);
    let result = trade(args, plan, journal, url.as_deref(), allow_flag, maintenance).await;
    if let Some(e) = embedded {
        e.stop().await;
    }
    result
}

/// Connect, check the account, start the run in the journal, run.
async fn trade(
    args: &RunArgs,
    plan: &Plan,
    mut journal: Journal,
    url: Option<&str>,
    allow_flag: bool,
    maintenance: Maintenance,
) -> Result<LiveOutcome, Failure> {
    let client = client_for(
        url,
        args.oauth_config.as_deref(),
        args.insecure_tls,
        |cc, session| {
            cc.retry.penalty_pause = Duration::from_secs_f64(plan.cfg.live.penalty_pause_secs);
            // An accelerated market's clock runs this much faster than the wall clock.
            cc.venue_time_scale = plan.time_scale;
            if plan.embedded {
                // The emulator's own pacing is off; keep the global 10 req/s bucket only.
                cc.limits.per_endpoint = false;
            }
            session.maintenance = maintenance;
        },
    )
    .map_err(|e| Failure::User(anyhow::Error::new(e).context("building the IBKR client")))?;
    let target = match (url, &args.oauth_config) {
        (Some(u), _) => format!("the gateway at {u}"),
        (None, Some(p)) => format!("IBKR with OAuth ({})", p.display()),
        (None, None) => "the gateway".to_string(),
    };
    let account = venue::open_account(&client, args.account.as_deref())
        .await
        .map_err(|e| venue_failure(&format!("connecting to {target}"), e))?;
    check_live_account(plan, &account, allow_flag)?;
    journal.check_account(&account.id).map_err(failure)?;

    let venue_name = if plan.embedded {
        "ibkr-emulator"
    } else {
        "ibkr"
    };
    let params = toml::to_string(&plan.cfg.strategy.params)
        .unwrap_or_default()
        .trim()
        .replace('\n', ", ");
    let started = journal
        .begin_run(&NewRun {
            mode: plan.mode,
            venue: venue_name,
            account: &account.id,
            strategy: &plan.cfg.strategy.name,
            params: &params,
            instruments: &plan.instruments,
            started: LiveClock.now(),
            version: env!("CARGO_PKG_VERSION"),
        })
        .map_err(failure)?;
    let restored = journal.restore().map_err(failure)?;
    eprintln!(
        "{} run {} on account {}{}; journal {} ({} orders, {} fills so far); trading {} with {}",
        plan.mode.as_str(),
        started.run,
        account.id,
        if account.is_paper {
            " (paper)"
        } else {
            " (LIVE)"
        },
        plan.journal.display(),
        restored.orders.len(),
        restored.fills.len(),
        args.symbols.join(","),
        plan.cfg.strategy.name,
    );

    let mut execution = IbkrExecutionConfig::new(account.id.clone());
    execution.modify_prompts = plan.cfg.prompts.clone();
    if plan.embedded {
        execution.poll_interval = EMBEDDED_FILL_POLL;
    }
    let opts = VenueOptions {
        name: venue_name.into(),
        feed: FeedOptions {
            time_scale: plan.time_scale,
            ..FeedOptions::default()
        },
        stream: StreamOptions {
            renew_every: Duration::from_secs_f64(plan.cfg.live.md_renew_secs),
            ..StreamOptions::default()
        },
        execution,
        ..VenueOptions::default()
    };
    let venue = venue::connect(client, account, &started.instruments, &started.trade, opts)
        .await
        .map_err(|e| venue_failure("setting up the IBKR venue", e))?;

    let strategy = plan
        .registry
        .build(&plan.cfg.strategy.name, &plan.cfg.strategy.params)
        .map_err(UserError::from)?;
    let kernel = KernelConfig {
        initial_cash: plan.cfg.portfolio.cash,
        risk: plan.cfg.live_risk().clone(),
        prompts: plan.cfg.prompts.clone(),
        client_id_prefix: restored.client_id_prefix.clone(),
        timezone: plan.cfg.timezone(),
    };
    let resume = restored.resume();
    let live_journal = LiveJournal::new(
        journal,
        started.run,
        plan.out_dir.clone(),
        plan.cfg.output.report,
    );
    let run = LiveRun {
        settings: plan.settings.clone(),
        kernel,
        instruments: started.instruments,
        trade: started.trade,
        strategy,
        resume,
        journal: Box::new(live_journal),
    };
    let signals = shutdown_signals();
    tickline_live::runner::run(run, venue, signals)
        .await
        .map_err(|e| {
            let user = e.is_user_error();
            let e = anyhow::Error::new(e);
            if user {
                Failure::User(e)
            } else {
                Failure::Internal(e)
            }
        })
}

/// `live` trades a non-paper account only when both the configuration and the flag say so.
fn check_live_account(plan: &Plan, account: &AccountInfo, allow_flag: bool) -> Result<(), Failure> {
    if account.is_paper {
        return Ok(());
    }
    match plan.mode {
        RunMode::Paper => Err(UserError(anyhow!(
            "account {} is not a paper account: tickline paper trades paper accounts only (use tickline live)",
            account.id
        ))
        .into()),
        RunMode::Live if plan.cfg.live.allow_live && allow_flag => {
            eprintln!("WARNING: trading the LIVE account {} with real money", account.id);
            Ok(())
        }
        RunMode::Live => Err(UserError(anyhow!(
            "account {} is not a paper account: trading it needs `[live] allow_live = true` in the configuration and --live",
            account.id
        ))
        .into()),
    }
}

/// Ctrl-C and SIGTERM, each sent once per signal (the runner stops on the first, aborts on
/// the second).
fn shutdown_signals() -> tokio::sync::mpsc::Receiver<()> {
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    tokio::spawn(async move {
        #[cfg(unix)]
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        loop {
            #[cfg(unix)]
            let got = match term.as_mut() {
                Some(t) => tokio::select! {
                    r = tokio::signal::ctrl_c() => r.is_ok(),
                    r = t.recv() => r.is_some(),
                },
                None => tokio::signal::ctrl_c().await.is_ok(),
            };
            #[cfg(not(unix))]
            let got = tokio::signal::ctrl_c().await.is_ok();
            if !got {
                return;
            }
            eprintln!("stopping (again to stop at once)…");
            if tx.send(()).await.is_err() {
                return;
            }
        }
    });
    rx
}

fn print_outcome(plan: &Plan, o: &LiveOutcome, wall: f64) {
    let rec = &o.records;
    let equity = o
        .written
        .as_ref()
        .map(|w| format!("{:.2}", w.summary.final_equity))
        .unwrap_or_else(|| format!("{:.2}", rec.portfolio.equity()));
    let positions = match (&o.positions, o.agreed) {
        (Some(p), Some(true)) if p.is_empty() => "flat, as at the broker".to_string(),
        (Some(p), Some(true)) if p.iter().any(|c| !c.ignored.is_zero()) => {
            "agree with the broker (beside the foreign part ignored at start)".to_string()
        }
        (Some(_), Some(true)) => "agree with the broker".to_string(),
        (Some(_), _) => "DIFFER from the broker (see summary.json)".to_string(),
        (None, _) => "broker not read at the end".to_string(),
    };
    let mut t = Table::new();
    t.load_style(presets::UTF8_FULL_CONDENSED);
    t.set_header(vec!["metric", "value"]);
    let rows: Vec<(&str, String)> = vec![
        ("strategy", plan.cfg.strategy.name.clone()),
        ("stopped", o.stop.as_str().to_string()),
        ("run time", format!("{wall:.1} s")),
        (
            "ticks / bars (warm-up)",
            format!("{} / {} ({})", o.ticks, o.bars, o.warmup_bars),
        ),
        ("orders (journal)", rec.orders.len().to_string()),
        ("fills (journal)", rec.fills.len().to_string()),
        (
            "missed fills booked at start",
            o.missed_at_start.to_string(),
        ),
        (
            "fills booked at the final check",
            o.missed_at_stop.to_string(),
        ),
        ("reconciliations", o.reconciliations.to_string()),
        ("orders left working", o.left_working.to_string()),
        ("final equity", equity.clone()),
        ("positions", positions),
        (
            "risk refusals (this run)",
            refusals_line(&refusals(&rec.orders)),
        ),
        ("kill switch", format!("{:?}", rec.kill_switch)),
    ];
    for (k, v) in rows {
        t.add_row(vec![
            Cell::new(k),
            Cell::new(v).set_alignment(CellAlignment::Right),
        ]);
    }
    println!("{t}");
    for p in rec.portfolio.positions().iter().filter(|p| !p.is_flat()) {
        let symbol = o
            .instruments
            .get(p.instrument.index())
            .map_or("?", |i| i.symbol.as_str());
        println!("position {symbol}: {} @ {}", p.quantity, p.avg_price);
    }
    println!(
        "{}: {} orders, {} fills, final equity {equity}; results in {}, journal {}",
        plan.mode.as_str(),
        rec.orders.len(),
        rec.fills.len(),
        plan.out_dir.display(),
        plan.journal.display()
    );
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
        assert!(parse_duration("1e300").is_err());
        assert!(parse_duration("5d").unwrap_err().contains("unknown unit"));
    }
}
