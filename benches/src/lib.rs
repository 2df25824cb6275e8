//! Set-up shared by the criterion benches and `examples/profile_run.rs`, so the profiler
//! runs exactly what the benchmark measures.

use rust_decimal::Decimal;
use tickline_backtest::broker::BrokerConfig;
use tickline_backtest::runner::BacktestInput;
use tickline_data::synth::{SynthConfig, generate};
use tickline_engine::domain::{BarSeries, Instrument};
use tickline_engine::kernel::KernelConfig;
use tickline_engine::risk::RiskConfig;
use tickline_strategies::ema_cross::EmaCross;

/// Deterministic synthetic one-minute bars.
pub fn series(symbol: &str, bars: usize, seed: u64) -> BarSeries {
    generate(&SynthConfig {
        bars,
        seed,
        symbol: symbol.into(),
        ..SynthConfig::default()
    })
}

/// 10 M of cash and the default config's `[live.risk]` limits, so the risk chain does real work per
/// order and the kill switch watches equity at every bar.
pub fn kernel_config() -> KernelConfig {
    KernelConfig {
        initial_cash: Decimal::from(10_000_000),
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

/// One stock per series, next-open fills, 1 bp slippage, IBKR fixed commissions.
pub fn input(series: &[BarSeries]) -> BacktestInput<'_> {
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
        series,
        window: None,
    }
}

/// `ema_cross` with its default parameters (10 / 30 / 100).
pub fn ema_cross() -> Box<EmaCross> {
    Box::new(EmaCross::new(10, 30, Decimal::from(100)).expect("valid parameters"))
}
