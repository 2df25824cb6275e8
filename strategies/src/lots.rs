//! Start-up checks of fixed order sizes against the run's instruments.

use rust_decimal::Decimal;
use tickline_engine::domain::Instrument;

/// A fixed `quantity` that rounds to zero lots of any instrument the strategy trades (those
/// `symbols` names, or all when it is empty) is an error naming both, before the first bar,
/// instead of a refused order on every signal.
pub fn check_quantity(
    strategy: &str,
    quantity: Decimal,
    symbols: &[String],
    instruments: &[Instrument],
) -> Result<(), String> {
    for inst in instruments {
        if !symbols.is_empty() && !symbols.contains(&inst.symbol) {
            continue;
        }
        if inst.round_qty(quantity).is_zero() {
            return Err(format!(
                "strategy {strategy}: quantity {quantity} rounds to zero lots of {} (lot size {})",
                inst.symbol,
                inst.lot_size.normalize()
            ));
        }
    }
    Ok(())
}
