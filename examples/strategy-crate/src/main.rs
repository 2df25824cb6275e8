//! A Tickline strategy crate: `cargo run -- backtest --strategy pct_breakout` and every other
//! `tickline` command (paper, live, sweep, strategies, …), with this crate's strategies
//! registered beside the bundled ones. Add a strategy: one file like `pct_breakout.rs` and
//! one `.with(...)` below.

mod pct_breakout;

fn main() -> std::process::ExitCode {
    tickline::run(tickline::Registry::bundled().with(pct_breakout::INFO))
}
