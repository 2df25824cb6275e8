//! The backtest driver: merges bar series by time and feeds them through the kernel with
//! the simulated broker as execution client.

use std::time::Instant;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use tickline_engine::audit::AuditRecord;
use tickline_engine::clock::SimClock;
use tickline_engine::domain::{Bar, BarSeries, Instrument, InstrumentId};
use tickline_engine::kernel::{EquityCurve, FillRecord, Kernel, KernelConfig, KernelError};
use tickline_engine::order::Order;
use tickline_engine::portfolio::Position;
use tickline_engine::risk::KillSwitchState;
use tickline_engine::strategy::Strategy;

use crate::broker::{BrokerConfig, SimBroker};
use crate::stats::StatsFill;

/// Everything a backtest needs besides the strategy.
pub struct BacktestInput {
    pub kernel: KernelConfig,
    pub broker: BrokerConfig,
    /// One instrument per series, in the same order.
    pub instruments: Vec<Instrument>,
    pub series: Vec<BarSeries>,
}

/// What a backtest produced.
#[derive(Debug)]
pub struct BacktestOutput {
    pub instruments: Vec<Instrument>,
    pub fills: Vec<FillRecord>,
    pub orders: Vec<Order>,
    pub audit: Vec<AuditRecord>,
    pub equity: EquityCurve,
    pub positions: Vec<Position>,
    pub initial_cash: Decimal,
    pub final_cash: Decimal,
    pub final_equity: Decimal,
    pub bars: u64,
    pub bars_in_market: u64,
    pub kill_switch: KillSwitchState,
    /// Wall time of the event loop alone.
    pub run_seconds: f64,
}

/// Errors setting up a backtest.
#[derive(Debug, thiserror::Error)]
pub enum BacktestError {
    #[error(transparent)]
    Kernel(#[from] KernelError),
    #[error("{series} bar series but {instruments} instruments: give one instrument per series")]
    Mismatch { series: usize, instruments: usize },
    #[error("symbol {0} appears in more than one data series; merge its bars into one file")]
    DuplicateSymbol(String),
    #[error("no bars to run on")]
    NoBars,
}

/// How often (in bars) the progress callback runs.
pub const PROGRESS_EVERY: u64 = 1 << 16;

/// Run a backtest. `progress(done, total)` is called every [`PROGRESS_EVERY`] bars.
pub fn run_backtest(
    input: BacktestInput,
    strategy: Box<dyn Strategy>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<BacktestOutput, BacktestError> {
    let BacktestInput {
        kernel: kcfg,
        broker,
        mut instruments,
        series,
    } = input;
    if series.len() != instruments.len() {
        return Err(BacktestError::Mismatch {
            series: series.len(),
            instruments: instruments.len(),
        });
    }
    for (k, s) in series.iter().enumerate() {
        if series[..k].iter().any(|o| o.symbol == s.symbol) {
            return Err(BacktestError::DuplicateSymbol(s.symbol.clone()));
        }
    }
    let total: u64 = series.iter().map(|s| s.len() as u64).sum();
    if total == 0 {
        return Err(BacktestError::NoBars);
    }
    for (k, inst) in instruments.iter_mut().enumerate() {
        inst.id = InstrumentId(k as u32);
        inst.prepare().map_err(KernelError::from)?;
    }
    let initial_cash = kcfg.initial_cash;
    let start = series
        .iter()
        .filter_map(|s| s.ts.first())
        .min()
        .copied()
        .unwrap_or(0);
    let sim = SimBroker::new(broker, &instruments);
    let mut kernel = Kernel::new(
        kcfg,
        instruments.clone(),
        strategy,
        Box::new(sim),
        Box::new(SimClock::new(start)),
    )?;
    kernel.reserve_equity(series.iter().map(|s| s.len()).max().unwrap_or(0));
    // Address space for order and fill records (untouched until used): an active strategy
    // then never reallocates its records mid-run.
    kernel.reserve_records((total / 8).clamp(1024, 1 << 20) as usize);

    let t0 = Instant::now();
    kernel.start();
    if series.len() == 1 {
        run_single(&mut kernel, &series[0], total, progress);
    } else {
        run_merged(&mut kernel, &series, total, progress);
    }
    kernel.stop();
    let run_seconds = t0.elapsed().as_secs_f64();
    progress(total, total);

    let r = kernel.into_records();
    Ok(BacktestOutput {
        positions: r.portfolio.positions().to_vec(),
        final_cash: r.portfolio.cash(),
        final_equity: r.portfolio.equity(),
        fills: r.fills,
        orders: r.orders,
        audit: r.audit,
        equity: r.equity,
        initial_cash,
        bars: r.bars,
        bars_in_market: r.bars_in_market,
        kill_switch: r.kill_switch,
        run_seconds,
        instruments,
    })
}

/// One symbol: a straight loop over the columns (zipped slices: no bounds checks).
fn run_single(kernel: &mut Kernel, s: &BarSeries, total: u64, progress: &mut dyn FnMut(u64, u64)) {
    let instrument = InstrumentId(0);
    let cols =
        s.ts.iter()
            .zip(&s.open)
            .zip(&s.high)
            .zip(&s.low)
            .zip(&s.close)
            .zip(&s.volume);
    for (i, (((((&ts, &open), &high), &low), &close), &volume)) in cols.enumerate() {
        let bar = Bar {
            instrument,
            ts,
            ts_end: ts + s.interval,
            open,
            high,
            low,
            close,
            volume,
        };
        kernel.on_bar(&bar);
        kernel.record_equity(bar.ts_end);
        if (i as u64 + 1).is_multiple_of(PROGRESS_EVERY) {
            progress(i as u64 + 1, total);
        }
    }
}

/// Several symbols: at each step take every series whose next bar has the earliest open
/// time (in series order, so runs are deterministic), then sample equity once.
fn run_merged(
    kernel: &mut Kernel,
    series: &[BarSeries],
    total: u64,
    progress: &mut dyn FnMut(u64, u64),
) {
    let mut cursor = vec![0usize; series.len()];
    let mut done: u64 = 0;
    loop {
        let mut next = i64::MAX;
        for (k, s) in series.iter().enumerate() {
            if let Some(&t) = s.ts.get(cursor[k])
                && t < next
            {
                next = t;
            }
        }
        if next == i64::MAX {
            break;
        }
        let mut end = next;
        for (k, s) in series.iter().enumerate() {
            if s.ts.get(cursor[k]) == Some(&next) {
                let bar = s.bar(InstrumentId(k as u32), cursor[k]);
                end = end.max(bar.ts_end);
                kernel.on_bar(&bar);
                cursor[k] += 1;
                done += 1;
                if done.is_multiple_of(PROGRESS_EVERY) {
                    progress(done, total);
                }
            }
        }
        kernel.record_equity(end);
    }
}

impl BacktestOutput {
    /// Fills in the statistics module's terms.
    pub fn stats_fills(&self) -> Vec<StatsFill> {
        self.fills
            .iter()
            .map(|r| {
                let inst = &self.instruments[r.fill.instrument.index()];
                StatsFill {
                    ts: r.fill.ts,
                    instrument: r.fill.instrument.0,
                    symbol: inst.symbol.clone(),
                    quantity: r.fill.signed_quantity(),
                    price: r.fill.price,
                    multiplier: inst.multiplier,
                    commission: r.fill.commission,
                    realized_pnl: r.realized_pnl,
                    position_after: r.position_after,
                    order_id: r.fill.order_id.0,
                }
            })
            .collect()
    }

    /// The equity curve as f64.
    pub fn equity_f64(&self) -> Vec<f64> {
        self.equity
            .equity
            .iter()
            .map(|d| d.to_f64().unwrap_or(f64::NAN))
            .collect()
    }
}
