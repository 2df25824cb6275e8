//! A bracket as a whole: its state read from the states of its entry and exits (orders whose
//! `parent` is the entry). Nothing is stored twice: the order manager owns the orders, this
//! only reads them.

use rust_decimal::Decimal;

use super::manager::Order;

/// Where a bracket stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BracketState {
    /// The entry works and has not filled; the exits wait for it.
    Pending,
    /// The entry filled (or partly): a position is open and at least one exit works.
    Open,
    /// The entry is done and its position is closed: by the exits, or by other orders
    /// after the exits were cancelled.
    Closed,
    /// The entry ended without a fill (cancelled, rejected, expired, denied).
    Cancelled,
    /// The entry filled but no exit works and the position is still open (an exit was
    /// cancelled or rejected): the strategy must act.
    Unprotected,
}

/// The state of the bracket whose entry is `entry`, given every order of the run and the
/// current signed position in the entry's instrument.
pub fn bracket_state<'a>(
    entry: &Order,
    orders: impl IntoIterator<Item = &'a Order>,
    position: Decimal,
) -> BracketState {
    let (mut exits_working, mut exited) = (false, Decimal::ZERO);
    for o in orders {
        if o.request.parent == Some(entry.id) {
            exits_working |= o.is_open();
            exited += o.filled_qty;
        }
    }
    let filled = entry.filled_qty;
    if filled.is_zero() {
        return if entry.is_open() {
            BracketState::Pending
        } else {
            BracketState::Cancelled
        };
    }
    // Flat, or on the other side of the entry's direction.
    let closed = crate::domain::signed_qty(entry.request.side, position) <= Decimal::ZERO;
    if exits_working {
        BracketState::Open
    } else if entry.state.is_terminal() && (exited >= filled || closed) {
        BracketState::Closed
    } else {
        BracketState::Unprotected
    }
}
