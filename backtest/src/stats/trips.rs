//! Round trips: fills grouped into flat → position → flat trades per instrument.

use std::collections::HashMap;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};

use super::StatsFill;

/// Side of a round trip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Direction {
    /// Opened by buying (positive position).
    Long,
    /// Opened by selling (negative position).
    Short,
}

impl Direction {
    /// `"Long"` or `"Short"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Long => "Long",
            Direction::Short => "Short",
        }
    }
}

/// One closed trade: the position in one instrument left 0 and came back to 0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoundTrip {
    /// Symbol of the instrument (from the opening fill).
    pub symbol: String,
    /// Instrument id.
    pub instrument: u32,
    /// Long or short.
    pub direction: Direction,
    /// Timestamp (UTC ns) of the fill that opened the trip.
    pub entry_ts: i64,
    /// Timestamp (UTC ns) of the fill that brought the position back to 0.
    pub exit_ts: i64,
    /// Largest absolute position held during the trip.
    pub quantity: Decimal,
    /// Quantity-weighted average price of the fills that grew the position.
    pub entry_price: Decimal,
    /// Quantity-weighted average price of the fills that reduced the position.
    pub exit_price: Decimal,
    /// Sum of the fills' `realized_pnl` (before commission).
    pub gross_pnl: Decimal,
    /// Commissions of the trip's fills (a reversing fill's commission is split
    /// proportionally to quantity between the trip it closes and the one it opens).
    pub commissions: Decimal,
    /// `gross_pnl - commissions`.
    pub net_pnl: Decimal,
    /// `net_pnl / entry notional` as a **fraction** (0.05 = 5 %), where the entry
    /// notional is Σ |entry qty| × entry price × multiplier; 0 when that notional is 0.
    pub return_pct: f64,
    /// Number of fills that contributed (a reversing fill counts in both trips).
    pub fills: u32,
    /// Bars between entry and exit, when known (see [`set_bars_held`]).
    pub bars_held: Option<u64>,
}

/// A trip being built while walking the fills.
#[derive(Debug, Clone)]
struct OpenTrip {
    symbol: String,
    direction: Direction,
    entry_ts: i64,
    position: Decimal,
    max_abs: Decimal,
    entry_qty: Decimal,
    entry_value: Decimal,
    entry_notional: Decimal,
    exit_qty: Decimal,
    exit_value: Decimal,
    gross_pnl: Decimal,
    commissions: Decimal,
    fills: u32,
}

impl OpenTrip {
    fn open(fill: &StatsFill, signed_qty: Decimal, commission: Decimal) -> Self {
        let abs = signed_qty.abs();
        OpenTrip {
            symbol: fill.symbol.clone(),
            direction: if signed_qty > Decimal::ZERO {
                Direction::Long
            } else {
                Direction::Short
            },
            entry_ts: fill.ts,
            position: signed_qty,
            max_abs: abs,
            entry_qty: abs,
            entry_value: abs * fill.price,
            entry_notional: abs * fill.price * fill.multiplier,
            exit_qty: Decimal::ZERO,
            exit_value: Decimal::ZERO,
            gross_pnl: Decimal::ZERO,
            commissions: commission,
            fills: 1,
        }
    }

    fn close(self, instrument: u32, exit_ts: i64) -> RoundTrip {
        let entry_price = avg(self.entry_value, self.entry_qty);
        let exit_price = avg(self.exit_value, self.exit_qty);
        let net_pnl = self.gross_pnl - self.commissions;
        let return_pct = if self.entry_notional.is_zero() {
            0.0
        } else {
            (net_pnl.to_f64().unwrap_or(0.0) / self.entry_notional.to_f64().unwrap_or(0.0))
                .clamp(f64::MIN, f64::MAX)
        };
        RoundTrip {
            symbol: self.symbol,
            instrument,
            direction: self.direction,
            entry_ts: self.entry_ts,
            exit_ts,
            quantity: self.max_abs,
            entry_price,
            exit_price,
            gross_pnl: self.gross_pnl,
            commissions: self.commissions,
            net_pnl,
            return_pct: if return_pct.is_nan() { 0.0 } else { return_pct },
            fills: self.fills,
            bars_held: None,
        }
    }
}

fn avg(value: Decimal, qty: Decimal) -> Decimal {
    if qty.is_zero() {
        Decimal::ZERO
    } else {
        value.checked_div(qty).unwrap_or(Decimal::ZERO)
    }
}

/// Result of walking all fills: closed trips (in order of exit) and the trips
/// still open at the end.
#[derive(Debug, Clone, Default)]
pub(crate) struct TripBook {
    pub(crate) closed: Vec<RoundTrip>,
    pub(crate) open: usize,
}

/// Groups fills into round trips.
///
/// Fills must be in execution order. Positions are reconstructed per instrument
/// from the signed quantities, starting flat (`position_after` is not consulted
/// here; [`super::StatsInput::validate`] checks it against the reconstruction).
///
/// * A trip starts when the position leaves 0 and ends when it returns to 0.
/// * A fill that crosses zero (e.g. +100 → −100) closes the current trip and opens
///   the next; its quantity and commission are split proportionally, and its
///   `realized_pnl` belongs to the closing part.
/// * Trips still open after the last fill are not returned (see
///   [`super::Summary::open_trades`]).
///
/// The result is ordered by exit (the order in which trips closed).
pub fn round_trips(fills: &[StatsFill]) -> Vec<RoundTrip> {
    build(fills).closed
}

pub(crate) fn build(fills: &[StatsFill]) -> TripBook {
    let mut open: HashMap<u32, OpenTrip> = HashMap::new();
    let mut closed = Vec::new();
    for fill in fills {
        apply(&mut open, &mut closed, fill);
    }
    TripBook {
        closed,
        open: open.len(),
    }
}

fn apply(open: &mut HashMap<u32, OpenTrip>, closed: &mut Vec<RoundTrip>, fill: &StatsFill) {
    let qty = fill.quantity;
    let Some(trip) = open.get_mut(&fill.instrument) else {
        if !qty.is_zero() {
            let mut trip = OpenTrip::open(fill, qty, fill.commission);
            trip.gross_pnl = fill.realized_pnl;
            open.insert(fill.instrument, trip);
        }
        return;
    };
    trip.fills += 1;
    let before = trip.position;
    let after = before + qty;
    let same_side = (before > Decimal::ZERO) == (qty > Decimal::ZERO);
    if qty.is_zero() || same_side {
        // Zero-quantity fill (only a commission) or adding to the position.
        let abs = qty.abs();
        trip.entry_qty += abs;
        trip.entry_value += abs * fill.price;
        trip.entry_notional += abs * fill.price * fill.multiplier;
        trip.position = after;
        trip.max_abs = trip.max_abs.max(after.abs());
        trip.commissions += fill.commission;
        trip.gross_pnl += fill.realized_pnl;
        return;
    }
    let closing = qty.abs().min(before.abs());
    let opening = qty.abs() - closing;
    let closing_commission = if opening.is_zero() {
        fill.commission
    } else {
        (fill.commission * closing)
            .checked_div(qty.abs())
            .unwrap_or(fill.commission)
    };
    trip.exit_qty += closing;
    trip.exit_value += closing * fill.price;
    trip.commissions += closing_commission;
    trip.gross_pnl += fill.realized_pnl;
    trip.position = after;
    if !after.is_zero() && opening.is_zero() {
        return; // partial close
    }
    if let Some(done) = open.remove(&fill.instrument) {
        closed.push(done.close(fill.instrument, fill.ts));
    }
    if !opening.is_zero() {
        open.insert(
            fill.instrument,
            OpenTrip::open(fill, after, fill.commission - closing_commission),
        );
    }
}

/// Fills in [`RoundTrip::bars_held`]: the number of bar timestamps `t` in `bar_ts`
/// (increasing, e.g. the equity-curve timestamps) with `entry_ts <= t < exit_ts`.
pub fn set_bars_held(trips: &mut [RoundTrip], bar_ts: &[i64]) {
    for trip in trips {
        let from = bar_ts.partition_point(|&t| t < trip.entry_ts);
        let to = bar_ts.partition_point(|&t| t < trip.exit_ts);
        trip.bars_held = Some(to.saturating_sub(from) as u64);
    }
}
