//! Profiling helper: exactly the `kernel/ema_cross_1m_run_phase` benchmark's set-up (one
//! symbol, synthetic bars, `ema_cross`, the default config's risk limits), run several times;
//! prints the event-loop time of each run. Use with `perf record` or `valgrind --tool=callgrind`.
//!
//! `cargo run --release -p tickline-benches --example profile_run -- [RUNS] [BARS] [idle]`
//! (`idle`: a strategy that does nothing, to see the kernel's per-bar cost alone).
use std::time::Instant;

use tickline_backtest::runner::run_backtest;
use tickline_benches::{ema_cross, input, series};
use tickline_engine::domain::Bar;
use tickline_engine::strategy::{Ctx, Strategy};

/// Does nothing: measures the kernel's per-bar cost alone.
struct Idle;
impl Strategy for Idle {
    fn on_bar(&mut self, _bar: &Bar, _ctx: &mut dyn Ctx) {}
}

/// Computes the same EMAs and crosses as `ema_cross` but never orders.
struct Signals {
    fast: tickline_strategies::indicators::Ema,
    slow: tickline_strategies::indicators::Ema,
    prev: f64,
    crosses: u64,
}
impl Strategy for Signals {
    fn on_bar(&mut self, bar: &Bar, _ctx: &mut dyn Ctx) {
        let f = self.fast.update(bar.close).unwrap_or(0.0);
        let s = self.slow.update(bar.close).unwrap_or(0.0);
        let d = f - s;
        if (self.prev <= 0.0 && d > 0.0) || (self.prev >= 0.0 && d < 0.0) {
            self.crosses += 1;
        }
        self.prev = d;
    }
}

fn main() {
    let arg = |k: usize| std::env::args().nth(k);
    let runs: usize = arg(1).and_then(|a| a.parse().ok()).unwrap_or(5);
    let bars: usize = arg(2).and_then(|a| a.parse().ok()).unwrap_or(1_000_000);
    let idle = arg(3).as_deref() == Some("idle");
    let data = vec![series("SYNTH", bars, 42)];
    for _ in 0..runs {
        let inp = input(&data);
        let t = Instant::now();
        let strategy: Box<dyn Strategy> = if idle {
            Box::new(Idle)
        } else if arg(3).as_deref() == Some("signals") {
            Box::new(Signals {
                fast: tickline_strategies::indicators::Ema::new(10).expect("valid"),
                slow: tickline_strategies::indicators::Ema::new(30).expect("valid"),
                prev: 0.0,
                crosses: 0,
            })
        } else {
            ema_cross()
        };
        let out = run_backtest(inp, strategy, &mut |_, _| {}).expect("runs");
        println!(
            "run {:.1} ms ({:.1} M bars/s), total {:.1} ms, {} orders, equity {}",
            out.run_seconds * 1e3,
            out.bars as f64 / out.run_seconds / 1e6,
            t.elapsed().as_secs_f64() * 1e3,
            out.orders.len(),
            out.final_equity
        );
    }
}
