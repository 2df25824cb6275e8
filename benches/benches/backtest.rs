//! Backtest throughput: `ema_cross` through the whole kernel (strategy, risk, order manager,
//! simulated broker, Decimal portfolio, equity curve).
//!
//! * `kernel/ema_cross_1m`: one symbol, 1,000,000 synthetic one-minute bars.
//! * `kernel/mtf_breakout_1m_run_phase`: the same bars through `mtf_breakout`, which keeps
//!   a 21-bar history and has the kernel build hourly bars (two timeframes).
//! * `kernel/ema_cross_100x100k`: 100 symbols × 100,000 bars merged by time.
//!
//! Data generation and cloning happen outside the timed section (`iter_batched`).

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use tickline_backtest::runner::run_backtest;
use tickline_benches::{ema_cross as strategy, input, series};
use tickline_engine::domain::BarSeries;
use tickline_engine::strategy::Strategy;
use tickline_strategies::Registry;

fn bench_kernel(c: &mut Criterion) {
    let mut g = c.benchmark_group("kernel");
    g.sample_size(10);

    let one = vec![series("SYNTH", 1_000_000, 42)];
    g.throughput(Throughput::Elements(1_000_000));
    g.bench_function("ema_cross_1m_run_phase", |b| {
        run_phase(b, &one, &|| strategy() as Box<dyn Strategy>)
    });
    g.bench_function("mtf_breakout_1m_run_phase", |b| {
        run_phase(b, &one, &|| {
            Registry::bundled()
                .build("mtf_breakout", &toml::Table::new())
                .expect("default parameters")
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
                let out = run_backtest(inp, strategy(), &mut |_, _| {}).expect("backtest runs");
                black_box(out.final_equity)
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

/// The run phase alone (the event loop, as `summary.json`'s `run_seconds`): set-up, data
/// cloning and result assembly are outside the measurement.
fn run_phase(
    b: &mut criterion::Bencher<'_>,
    series: &[BarSeries],
    strategy: &dyn Fn() -> Box<dyn Strategy>,
) {
    b.iter_custom(|iters| {
        let mut total = std::time::Duration::ZERO;
        for _ in 0..iters {
            let out =
                run_backtest(input(series), strategy(), &mut |_, _| {}).expect("backtest runs");
            total += std::time::Duration::from_secs_f64(out.run_seconds);
            black_box(out.final_equity);
        }
        total
    })
}

criterion_group!(benches, bench_kernel);
criterion_main!(benches);
