//! `tickline`: the command-line front end, as a library so that a user's own crate can be
//! the same program with its strategies registered beside the bundled ones:
//!
//! ```no_run
//! use tickline::{Registry, StrategyInfo};
//!
//! # const MY_STRATEGY: StrategyInfo = tickline::strategies::ema_cross::INFO;
//! fn main() -> std::process::ExitCode {
//!     tickline::run(Registry::bundled().with(MY_STRATEGY))
//! }
//! ```
//!
//! A thin layer over the libraries: it parses arguments, loads configuration and data, runs,
//! and prints. The crates a strategy needs are re-exported ([`engine`], [`strategies`]), so
//! a strategy crate depends on `tickline` alone (`examples/strategy-crate/`).

mod backtest_cmd;
mod data_cmd;
mod journal_cmd;
mod kill_cmd;
mod live_cmd;
mod sweep_cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use rust_decimal;
pub use tickline_engine as engine;
pub use tickline_strategies as strategies;
pub use tickline_strategies::{Registry, StrategyInfo};
pub use toml;

/// Tickline: an algorithmic trading engine for the Interactive Brokers Web API.
#[derive(Parser)]
#[command(name = "tickline", version, about, long_about = None)]
struct Cli {
    /// Log level filter (error, warn, info, debug, trace) or a tracing directive.
    #[arg(long, global = true, env = "TICKLINE_LOG", default_value = "warn")]
    log: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a backtest on historical bars (default: config/default.toml on bundled data).
    Backtest(backtest_cmd::BacktestArgs),
    /// Sweep a strategy's parameters over a grid or random draws (parallel, shardable).
    Sweep(sweep_cmd::SweepArgs),
    /// Paper-trade a strategy in real time (embedded gateway emulator by default, or --url /
    /// --oauth-config), journaled and resumable.
    Paper(live_cmd::PaperArgs),
    /// Trade a strategy through a real gateway or OAuth (paper accounts unless allowed).
    Live(live_cmd::LiveArgs),
    /// Work with bar data.
    Data {
        #[command(subcommand)]
        command: data_cmd::DataCommand,
    },
    /// Print a paper/live run's journal or write its results folder.
    Journal {
        #[command(subcommand)]
        command: journal_cmd::JournalCommand,
    },
    /// Halt (or reduce, resume, stop) a running paper/live run from another terminal.
    Kill(kill_cmd::KillArgs),
    /// List the registered strategies and their parameters.
    Strategies,
    /// Talk to Interactive Brokers through the Web API (gateway or OAuth 1.0a).
    Ibkr(tickline_ibkr::cli::IbkrArgs),
    /// Run the local IBKR gateway emulator (Web API REST + websocket over the simulated broker).
    Gateway(tickline_gateway::cli::GatewayArgs),
}

/// An error the user can fix (bad config, data, arguments): exit code 2.
#[derive(Debug)]
pub struct UserError(pub anyhow::Error);

impl<E: Into<anyhow::Error>> From<E> for UserError {
    fn from(e: E) -> Self {
        UserError(e.into())
    }
}

/// A failure of the run itself (I/O while writing results…): exit code 1.
pub enum Failure {
    User(anyhow::Error),
    Internal(anyhow::Error),
}

impl From<UserError> for Failure {
    fn from(e: UserError) -> Self {
        Failure::User(e.0)
    }
}

/// The whole `tickline` command line (backtest, sweep, paper, live, strategies, …) with the
/// strategies of `registry`: what `tickline`'s own `main` runs with [`Registry::bundled`],
/// and what a strategy crate's `main` runs with its strategies added.
pub fn run(registry: Registry) -> ExitCode {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_new(&cli.log)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        // Colour codes only on a terminal: a log file or a pipe gets plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let result = match cli.command {
        Command::Backtest(args) => backtest_cmd::run(args, &registry),
        Command::Sweep(args) => sweep_cmd::run(args, &registry),
        Command::Paper(args) => live_cmd::paper(args, &registry),
        Command::Live(args) => live_cmd::live(args, &registry),
        Command::Data { command } => data_cmd::run(command).map_err(Failure::from),
        Command::Journal { command } => journal_cmd::run(command),
        Command::Kill(args) => kill_cmd::run(args),
        Command::Strategies => {
            print_strategies(&registry);
            Ok(())
        }
        Command::Ibkr(args) => run_ibkr(args),
        Command::Gateway(args) => run_gateway(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::User(e)) => {
            eprintln!("error: {}", one_line(&e));
            ExitCode::from(2)
        }
        Err(Failure::Internal(e)) => {
            eprintln!("error: {}", one_line(&e));
            ExitCode::from(1)
        }
    }
}

/// The error and its causes on one line.
fn one_line(e: &anyhow::Error) -> String {
    let mut s = String::new();
    for (i, cause) in e.chain().enumerate() {
        let text = cause.to_string();
        if i > 0 {
            if s.contains(&text) {
                continue;
            }
            s.push_str(": ");
        }
        s.push_str(&text.replace('\n', " "));
    }
    s
}

/// `tickline gateway …`: serve the emulator until Ctrl-C. Configuration errors exit with 2.
fn run_gateway(args: tickline_gateway::cli::GatewayArgs) -> Result<(), Failure> {
    tickline_gateway::cli::config_from_args(&args).map_err(|e| Failure::User(e.into()))?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Internal(e.into()))?;
    rt.block_on(tickline_gateway::cli::serve(args))
        .map_err(|e| Failure::Internal(e.into()))
}

/// `tickline ibkr …`: the client's commands on a tokio runtime. IBKR and transport errors
/// exit with 1 and IBKR's message.
fn run_ibkr(args: tickline_ibkr::cli::IbkrArgs) -> Result<(), Failure> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Failure::Internal(e.into()))?;
    tickline_ibkr::cli::set_parquet_writer(|series, path| {
        tickline_data::write_bars(series, path).map_err(|e| e.to_string())
    });
    let mut out = std::io::stdout();
    rt.block_on(tickline_ibkr::cli::run(args, &mut out))
        .map_err(|e| Failure::Internal(e.into()))
}

fn print_strategies(registry: &Registry) {
    let mut table = comfy_table::Table::new();
    table.load_style(comfy_table::presets::UTF8_FULL_CONDENSED);
    table.set_header(vec!["name", "what it does", "parameters (defaults)"]);
    for s in registry.iter() {
        table.add_row(vec![s.name, s.summary, s.params]);
    }
    println!("{table}");
}
