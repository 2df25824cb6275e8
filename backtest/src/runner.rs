//! The backtest driver: merges bar series by time and feeds them through the kernel with
//! the simulated broker as execution client.
//!
//! A run *borrows* its bars ([`BacktestInput::series`]): a sweep loads them once and every
//! run reads the same immutable columns. A [`Window`] restricts a run to a time range and
//! can warm the strategy up on the bars before it without trading (see [`crate::warmup`]).

use std::time::Instant;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use tickline_engine::audit::AuditRecord;
use tickline_engine::clock::SimClock;
use tickline_engine::domain::{Bar, BarSeries, Instrument, InstrumentId, Ts};
use tickline_engine::kernel::{EquityCurve, FillRecord, Kernel, KernelConfig, KernelError};
use tickline_engine::order::Order;
use tickline_engine::portfolio::Position;
use tickline_engine::risk::KillSwitchState;
use tickline_engine::strategy::Strategy;

use crate::broker::{BrokerConfig, SimBroker};
use crate::stats::StatsFill;
use crate::warmup::WarmUp;

/// Everything a backtest needs besides the strategy. The bars are borrowed.
#[derive(Clone)]
pub struct BacktestInput<'a> {
    pub kernel: KernelConfig,
    pub broker: BrokerConfig,
    /// One instrument per series, in the same order.
    pub instruments: Vec<Instrument>,
    pub series: &'a [BarSeries],
    /// Run on part of the bars only (`None`: all of them).
    pub window: Option<Window>,
}

/// A time range of a run, by bar open time (UTC ns).
///
/// Bars with `warm_up_from <= ts < start` are shown to the strategy with trading disabled
/// (its orders are discarded, see [`crate::warmup`]); they do not count as bars of the run
/// and are not on the equity curve. Bars with `start <= ts < end` are the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub warm_up_from: Ts,
    pub start: Ts,
    pub end: Ts,
}

impl Window {
    /// The run `[start, end)` without warm-up.
    pub fn new(start: Ts, end: Ts) -> Self {
        Window {
            warm_up_from: start,
            start,
            end,
        }
    }
}

/// Index bounds of one series inside a window: `[warm, start)` warm-up, `[start, end)` run.
#[derive(Clone, Copy, Debug)]
struct Bounds {
    warm: usize,
    start: usize,
    end: usize,
}

fn bounds(s: &BarSeries, window: Option<Window>) -> Bounds {
    match window {
        None => Bounds {
            warm: 0,
            start: 0,
            end: s.len(),
        },
        Some(w) => {
            let at = |t: Ts| s.ts.partition_point(|&x| x < t);
            let end = at(w.end);
            let start = at(w.start).min(end);
            Bounds {
                warm: at(w.warm_up_from.min(w.start)).min(start),
                start,
                end,
            }
        }
    }
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
    input: BacktestInput<'_>,
    strategy: Box<dyn Strategy>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<BacktestOutput, BacktestError> {
    let BacktestInput {
        kernel: kcfg,
        broker,
        mut instruments,
        series,
        window,
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
    let bounds: Vec<Bounds> = series.iter().map(|s| bounds(s, window)).collect();
    let total: u64 = bounds.iter().map(|b| (b.end - b.start) as u64).sum();
    let warm_up: u64 = bounds.iter().map(|b| (b.start - b.warm) as u64).sum();
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
        .zip(&bounds)
        .filter_map(|(s, b)| s.ts.get(b.warm))
        .min()
        .copied()
        .unwrap_or(0);
    let strategy: Box<dyn Strategy> = if warm_up > 0 {
        Box::new(WarmUp::new(strategy, warm_up))
    } else {
        strategy
    };
    let sim = SimBroker::new(broker, &instruments);
    let mut kernel = Kernel::new(
        kcfg,
        instruments.clone(),
        strategy,
        Box::new(sim),
        Box::new(SimClock::new(start)),
    )?;
    kernel.reserve_equity(bounds.iter().map(|b| b.end - b.start).max().unwrap_or(0));
    // Address space for order and fill records (untouched until used): an active strategy
    // then never reallocates its records mid-run.
    kernel.reserve_records((total / 8).clamp(1024, 1 << 20) as usize);

    let t0 = Instant::now();
    kernel.start();
    if warm_up > 0 {
        run_merged(&mut kernel, series, &bounds, Phase::WarmUp, total, progress);
    }
    if series.len() == 1 {
        let b = bounds[0];
        run_single(&mut kernel, &series[0], b.start..b.end, total, progress);
    } else {
        run_merged(&mut kernel, series, &bounds, Phase::Run, total, progress);
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
        bars: r.bars - warm_up,
        bars_in_market: r.bars_in_market,
        kill_switch: r.kill_switch,
        run_seconds,
        instruments,
    })
}

/// One symbol: a straight loop over the columns (zipped slices: no bounds checks).
fn run_single(
    kernel: &mut Kernel,
    s: &BarSeries,
    range: std::ops::Range<usize>,
    total: u64,
    progress: &mut dyn FnMut(u64, u64),
) {
    let instrument = InstrumentId(0);
    let r = range;
    let cols = s.ts[r.clone()]
        .iter()
        .zip(&s.open[r.clone()])
        .zip(&s.high[r.clone()])
        .zip(&s.low[r.clone()])
        .zip(&s.close[r.clone()])
        .zip(&s.volume[r]);
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

/// Which bars of the [`Bounds`] [`run_merged`] feeds.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// `[warm, start)`: shown to the strategy, no equity samples, no progress.
    WarmUp,
    /// `[start, end)`.
    Run,
}

/// Several symbols (or a warm-up): at each step take every series whose next bar has the
/// earliest open time (in series order, so runs are deterministic), then sample equity once.
fn run_merged(
    kernel: &mut Kernel,
    series: &[BarSeries],
    bounds: &[Bounds],
    phase: Phase,
    total: u64,
    progress: &mut dyn FnMut(u64, u64),
) {
    let (mut cursor, stop): (Vec<usize>, Vec<usize>) = bounds
        .iter()
        .map(|b| match phase {
            Phase::WarmUp => (b.warm, b.start),
            Phase::Run => (b.start, b.end),
        })
        .unzip();
    let mut done: u64 = 0;
    loop {
        let mut next = i64::MAX;
        for (k, s) in series.iter().enumerate() {
            if cursor[k] < stop[k] && s.ts[cursor[k]] < next {
                next = s.ts[cursor[k]];
            }
        }
        if next == i64::MAX {
            break;
        }
        let mut end = next;
        for (k, s) in series.iter().enumerate() {
            if cursor[k] < stop[k] && s.ts[cursor[k]] == next {
                let bar = s.bar(InstrumentId(k as u32), cursor[k]);
                end = end.max(bar.ts_end);
                kernel.on_bar(&bar);
                cursor[k] += 1;
                done += 1;
                if phase == Phase::Run && done.is_multiple_of(PROGRESS_EVERY) {
                    progress(done, total);
                }
            }
        }
        if phase == Phase::Run {
            kernel.record_equity(end);
        }
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
