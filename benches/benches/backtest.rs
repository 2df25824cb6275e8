//! Backtest throughput: `ema_cross` through the whole kernel (strategy, risk, order manager,
//! simulated broker, Decimal portfolio, equity curve).
//!
//! * `kernel/ema_cross_1m`: one symbol, 1,000,000 synthetic one-minute bars.
//! * `kernel/ema_cross_100x100k`: 100 symbols × 100,000 bars merged by time.
//!
//! Data generation and cloning happen outside the timed section (`iter_batched`).

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use rust_decimal::Decimal;
use tickline_backtest::broker::BrokerConfig;
use tickline_backtest::runner::{BacktestInput, run_backtest};
use tickline_data::synth::{SynthConfig, generate};
use tickline_engine::domain::{BarSeries, Instrument};
use tickline_engine::kernel::KernelConfig;
use tickline_engine::risk::RiskConfig;
use tickline_strategies::ema_cross::EmaCross;

fn series(symbol: &str, bars: usize, seed: u64) -> BarSeries {
    generate(&SynthConfig {
        bars,
        seed,
        symbol: symbol.into(),
        ..SynthConfig::default()
    })
}

fn kernel_config() -> KernelConfig {
    KernelConfig {
        initial_cash: Decimal::from(10_000_000),
        // The default config's limits, so the risk chain does real work per order.
        risk: RiskConfig {
            max_order_quantity: Some(Decimal::from(1000)),
            max_order_notional: Some(Decimal::from(1_000_000)),
            max_position: Some(Decimal::from(1000)),
            max_orders_per_second: Some(50),
            max_drawdown: Some(Decimal::new(5, 1)),
            ..RiskConfig::default()
        },
        ..KernelConfig::default()
    }
}

fn input(series: &[BarSeries]) -> BacktestInput {
    BacktestInput {
        kernel: kernel_config(),
        broker: BrokerConfig {
            slippage_bps: Decimal::ONE,
            ..BrokerConfig::default()
        },
        instruments: series
            .iter()
            .map(|s| Instrument::stock(&s.symbol))
            .collect(),
        series: series.to_vec(),
    }
}

fn strategy() -> Box<EmaCross> {
    Box::new(EmaCross::new(10, 30, Decimal::from(100)).expect("valid"))
}

fn bench_kernel(c: &mut Criterion) {
    let mut g = c.benchmark_group("kernel");
    g.sample_size(10);

    let one = vec![series("SYNTH", 1_000_000, 42)];
    g.throughput(Throughput::Elements(1_000_000));
    // The run phase alone (the event loop, as `summary.json`'s `run_seconds`): set-up, data
    // cloning and result assembly are outside the measurement.
    g.bench_function("ema_cross_1m_run_phase", |b| {
        b.iter_custom(|iters| {
            let mut total = std::time::Duration::ZERO;
            for _ in 0..iters {
                let out =
                    run_backtest(input(&one), strategy(), &mut |_, _| {}).expect("backtest runs");
                total += std::time::Duration::from_secs_f64(out.run_seconds);
                black_box(out.final_equity);
            }
            total
        })
    });
    // The whole call, including building the kernel and handing back the results.
    g.bench_function("ema_cross_1m", |b| {
        b.iter_batched(
            || input(&one),
            |inp| {
                let out = run_backtest(inp, strategy(), &mut |_, _| {}).expect("backtest runs");
                black_box(out.final_equity)
            },
            BatchSize::LargeInput,
        )
    });
    drop(one);

    let many: Vec<BarSeries> = (0..100)
        .map(|k| series(&format!("S{k:03}"), 100_000, 1000 + k))
        .collect();
    g.throughput(Throughput::Elements(10_000_000));
    g.bench_function("ema_cross_100x100k", |b| {
        b.iter_batched(
            || input(&many),
            |inp| {
                let out = run_backtest(
                    inp,
                    Box::new(EmaCross::new(10, 30, Decimal::from(100)).expect("valid")),
                    &mut |_, _| {},
                )
                .expect("backtest runs");
                black_box(out.final_equity)
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, bench_kernel);
criterion_main!(benches);
