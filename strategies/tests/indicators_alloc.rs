//! Updates must not allocate: a counting global allocator (this test binary only) checks
//! that, once constructed, no indicator touches the heap in `update`, `value` or `reset`.

use tickline_strategies::indicators::{
    Atr, Bollinger, Ema, Highest, IndicatorError, Lowest, Macd, RollingStd, Rsi, Sma,
};

mod common;
use common::allocations;

#[test]
fn counting_allocator_sees_allocations() {
    // Guards the test below against a counter that never moves.
    let before = allocations();
    let v: Vec<u64> = std::hint::black_box(Vec::with_capacity(16));
    drop(v);
    assert!(allocations() > before);
}

#[test]
fn updates_never_allocate() -> Result<(), IndicatorError> {
    let period = 50;
    let mut sma = Sma::new(period)?;
    let mut ema = Ema::new(period)?;
    let mut rsi = Rsi::new(period)?;
    let mut atr = Atr::new(period)?;
    let mut bb = Bollinger::new(period, 2.0)?;
    let mut sd = RollingStd::new(period)?;
    let mut macd = Macd::new(12, 26, 9)?;
    let mut hi = Highest::new(period)?;
    let mut lo = Lowest::new(period)?;

    let before = allocations();
    let mut checksum = 0.0;
    for round in 0..2 {
        for i in 0..20_000u32 {
            // Saw-tooth with trends in both directions (exercises deque growth and eviction),
            // plus an occasional NaN.
            let x = if i % 5_000 == 4_999 {
                f64::NAN
            } else {
                100.0 + f64::from(i % 700) - f64::from(i % 300) * 1.5
            };
            checksum += sma.update(x).unwrap_or(0.0);
            checksum += ema.update(x).unwrap_or(0.0);
            checksum += rsi.update(x).unwrap_or(0.0);
            checksum += atr.update(x + 1.0, x - 1.0, x).unwrap_or(0.0);
            checksum += bb.update(x).map_or(0.0, |b| b.upper);
            checksum += sd.update(x).unwrap_or(0.0);
            checksum += macd.update(x).map_or(0.0, |m| m.histogram);
            checksum += hi.update(x).unwrap_or(0.0);
            checksum += lo.update(x).unwrap_or(0.0);
        }
        if round == 0 {
            sma.reset();
            ema.reset();
            rsi.reset();
            atr.reset();
            bb.reset();
            sd.reset();
            macd.reset();
            hi.reset();
            lo.reset();
        }
    }
    std::hint::black_box(checksum);
    assert_eq!(allocations() - before, 0, "indicator updates allocated");
    Ok(())
}
