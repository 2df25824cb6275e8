//! Profiling helper: one symbol, 1,000,000 synthetic bars, `ema_cross` through the kernel,
//! run several times; prints the event-loop time of each run. Use with `perf record`.
use std::time::Instant;

use rust_decimal::Decimal;
use tickline_backtest::broker::BrokerConfig;
use tickline_backtest::runner::{BacktestInput, run_backtest};
use tickline_data::synth::{SynthConfig, generate};
use tickline_engine::domain::Bar;
use tickline_engine::domain::Instrument;
use tickline_engine::kernel::KernelConfig;
use tickline_engine::strategy::{Ctx, Strategy};
use tickline_strategies::ema_cross::EmaCross;

/// Does nothing: measures the kernel's per-bar cost alone (`idle` as third argument).
struct Idle;
impl Strategy for Idle {
    fn on_bar(&mut self, _bar: &Bar, _ctx: &mut dyn Ctx) {}
}

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5);
    let bars: usize = std::env::args()
        .nth(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let series = generate(&SynthConfig {
        bars,
        seed: 42,
        symbol: "SYNTH".into(),
        ..SynthConfig::default()
    });
    for _ in 0..runs {
        let input = BacktestInput {
            kernel: KernelConfig {
                initial_cash: Decimal::from(10_000_000),
                ..KernelConfig::default()
            },
            broker: BrokerConfig {
                slippage_bps: Decimal::ONE,
                ..BrokerConfig::default()
            },
            instruments: vec![Instrument::stock("SYNTH")],
            series: vec![series.clone()],
        };
        let t = Instant::now();
        let strategy: Box<dyn Strategy> = if std::env::args().nth(3).as_deref() == Some("idle") {
            Box::new(Idle)
        } else {
            Box::new(EmaCross::new(10, 30, Decimal::from(100)).expect("valid"))
        };
        let out = run_backtest(input, strategy, &mut |_, _| {}).expect("runs");
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
