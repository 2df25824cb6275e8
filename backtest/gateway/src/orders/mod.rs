//! Orders: ticket parsing, order records and their IBKR rendering, and the exchange that
//! drives the simulated broker.

pub mod exchange;
pub mod record;
pub mod ticket;
