//! The domain model: instruments, bars and ticks, orders, fills, positions.

mod bar;
pub mod catalog;
mod instrument;
mod order;

pub use bar::{Bar, BarSeries, Tick};
pub use instrument::{Instrument, InstrumentError, InstrumentId, SecType};
pub use order::{
    ClientOrderId, ExecId, Fill, InlineStr, OrderId, OrderModify, OrderRequest, OrderType, Side,
    TimeInForce, Trail, signed_qty,
};

/// A point in time: UTC nanoseconds since the Unix epoch.
pub type Ts = i64;

/// Nanoseconds per second.
pub const NANOS_PER_SEC: i64 = 1_000_000_000;
