//! The per-bar hot path does not allocate: a counting global allocator watches the kernel
//! (ema_cross, risk chain, order manager, simulated broker, portfolio, equity curve) over
//! bars on which the strategy holds a position but does not trade.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use rust_decimal::dec;
use tickline_backtest::broker::{BrokerConfig, SimBroker};
use tickline_engine::clock::SimClock;
use tickline_engine::domain::{Bar, Instrument, InstrumentId};
use tickline_engine::kernel::{Kernel, KernelConfig};
use tickline_engine::risk::RiskConfig;
use tickline_strategies::ema_cross::EmaCross;

struct Counting;

thread_local! {
    /// Allocations made by the current thread: the test harness's own threads (output
    /// capture, other tests) allocate too and must not be counted.
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

fn note_allocation() {
    // `try_with` because the allocator can be called while thread-locals are torn down.
    let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
}

fn allocations() -> u64 {
    ALLOCS.with(Cell::get)
}

// SAFETY: forwards every call unchanged to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_allocation();
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn bar(k: i64, close: f64) -> Bar {
    let t0 = 1_704_205_800_000_000_000i64;
    Bar {
        instrument: InstrumentId(0),
        ts: t0 + k * 60_000_000_000,
        ts_end: t0 + (k + 1) * 60_000_000_000,
        open: close,
        high: close + 0.05,
        low: close - 0.05,
        close,
        volume: 1000.0,
    }
}

#[test]
fn bars_without_trades_do_not_allocate() {
    let instruments = vec![Instrument::stock("SPY")];
    let cfg = KernelConfig {
        risk: RiskConfig {
            max_order_quantity: Some(dec!(1000)),
            max_position: Some(dec!(1000)),
            max_orders_per_second: Some(50),
            max_drawdown: Some(dec!(0.5)),
            max_daily_loss: Some(dec!(50000)),
            ..RiskConfig::default()
        },
        ..KernelConfig::default()
    };
    let sim = SimBroker::new(BrokerConfig::default(), &instruments);
    let strategy = EmaCross::new(10, 30, dec!(100)).unwrap();
    let mut kernel = Kernel::new(
        cfg,
        instruments,
        Box::new(strategy),
        Box::new(sim),
        Box::new(SimClock::new(0)),
    )
    .unwrap();
    let n = 20_000;
    kernel.reserve_equity(n + 100);
    // Warm up: a dip then a steady rise gives exactly one cross up (a long position).
    let mut k = 0;
    for i in 0..60 {
        let px = if i < 40 {
            100.0 - i as f64 * 0.01
        } else {
            100.0 + (i - 40) as f64 * 0.05
        };
        kernel.on_bar(&bar(k, px));
        kernel.record_equity(bar(k, px).ts_end);
        k += 1;
    }
    assert_eq!(
        kernel.order_manager().orders().len(),
        1,
        "one entry during warm-up"
    );
    assert!(kernel.portfolio().in_market());
    let before = allocations();
    for i in 0..n as i64 {
        let px = 101.0 + i as f64 * 0.001; // keeps rising: no cross, position held and marked
        let b = bar(k + i, px);
        kernel.on_bar(&b);
        kernel.record_equity(b.ts_end);
    }
    let made = allocations() - before;
    assert_eq!(made, 0, "{made} allocations over {n} bars");
    assert_eq!(kernel.order_manager().orders().len(), 1);
    assert_eq!(kernel.bar_counts().0, 60 + n as u64);
}
