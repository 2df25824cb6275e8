//! The status line a live run prints every few seconds (stderr): positions, PnL, open orders,
//! session and feed state, the last fill.

use std::fmt::Write;

use rust_decimal::Decimal;
use tickline_engine::domain::Ts;
use tickline_engine::kernel::Kernel;

/// `HH:MM:SS` UTC of a timestamp.
pub fn clock_time(ts: Ts) -> String {
    chrono::DateTime::from_timestamp_nanos(ts)
        .format("%H:%M:%SZ")
        .to_string()
}

/// One line describing the run now; the PnL shown is the change of equity since
/// `start_equity` (the equity when this run started, from the broker's books).
pub fn status_line(kernel: &Kernel, start_equity: Decimal) -> String {
    let p = kernel.portfolio();
    let mut s = clock_time(kernel.now());
    let mut any = false;
    for pos in p.positions().iter().filter(|x| !x.is_flat()) {
        let symbol = kernel
            .instruments()
            .get(pos.instrument.index())
            .map_or("?", |i| i.symbol.as_str());
        let _ = write!(
            s,
            "{} {symbol} {:+}",
            if any { "," } else { " |" },
            pos.quantity.normalize()
        );
        any = true;
    }
    if !any {
        s.push_str(" | flat");
    }
    let pnl = p.equity() - start_equity;
    let _ = write!(
        s,
        " | equity {:.2} ({}{:.2} this run) | open orders {} | {}",
        p.equity(),
        if pnl >= Decimal::ZERO { "+" } else { "" },
        pnl,
        kernel.order_manager().open_count(),
        kernel.connectivity()
    );
    if let Some(f) = kernel.fills().last() {
        let symbol = kernel
            .instruments()
            .get(f.fill.instrument.index())
            .map_or("?", |i| i.symbol.as_str());
        let _ = write!(
            s,
            " | last fill {} {} {} {symbol} @ {}",
            clock_time(f.fill.ts),
            f.fill.side.as_str(),
            f.fill.quantity.normalize(),
            f.fill.price.normalize()
        );
    }
    if kernel.risk().kill_switch() != tickline_engine::risk::KillSwitchState::Active {
        let _ = write!(s, " | kill switch {:?}", kernel.risk().kill_switch());
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_times_are_utc() {
        assert_eq!(clock_time(0), "00:00:00Z");
        assert_eq!(clock_time(3_723_000_000_000), "01:02:03Z");
    }
}
