//! What `tickline journal show` prints, gathered from a journal: its identity, runs, orders
//! by state, open orders, positions from its fills, the fill count, the latest venue events
//! and the operator's commands.

use rust_decimal::Decimal;
use tickline_engine::domain::{InstrumentId, Ts};
use tickline_engine::order::Order;
use tickline_engine::portfolio::Portfolio;

use super::control::ControlEntry;
use super::error::{JournalError, sql};
use super::handle::{Journal, JournalId};
use super::runs::{RunNumber, RunRecord};

/// One position built from the journal's fills.
#[derive(Clone, Debug, PartialEq)]
pub struct JournalPosition {
    pub instrument: InstrumentId,
    pub symbol: String,
    pub quantity: Decimal,
    pub avg_price: Decimal,
}

/// One recorded venue event.
#[derive(Clone, Debug, PartialEq)]
pub struct EventLine {
    pub run: RunNumber,
    pub ts: Ts,
    pub order_id: u64,
    pub kind: String,
    /// The event's fields as JSON.
    pub payload: String,
}

/// A journal at a glance.
#[derive(Clone, Debug)]
pub struct Overview {
    pub journal_id: JournalId,
    pub client_id_prefix: String,
    pub account: Option<String>,
    pub schema_version: i64,
    pub runs: Vec<RunRecord>,
    /// Order count per state, in the order states first appear.
    pub orders_by_state: Vec<(&'static str, usize)>,
    pub orders: usize,
    /// Orders still open (working, pending, …), oldest first, with their symbols.
    pub open_orders: Vec<(Order, String)>,
    /// Non-flat positions from the journal's fills (not the broker's: a run's books start
    /// from the broker's positions).
    pub positions: Vec<JournalPosition>,
    pub fills: usize,
    /// The latest venue events, oldest first.
    pub last_events: Vec<EventLine>,
    pub control: Vec<ControlEntry>,
}

impl Journal {
    /// Everything `journal show` prints, with the last `events` venue events.
    pub fn overview(&self, events: usize) -> Result<Overview, JournalError> {
        let r = self.restore()?;
        let symbol = |id: InstrumentId| {
            r.instruments
                .get(id.index())
                .map_or_else(|| format!("#{}", id.0), |i| i.symbol.clone())
        };
        let mut orders_by_state: Vec<(&'static str, usize)> = Vec::new();
        for o in &r.orders {
            let s = o.state.as_str();
            match orders_by_state.iter_mut().find(|(k, _)| *k == s) {
                Some((_, n)) => *n += 1,
                None => orders_by_state.push((s, 1)),
            }
        }
        let open_orders = r
            .orders
            .iter()
            .filter(|o| o.is_open())
            .map(|o| (o.clone(), symbol(o.request.instrument)))
            .collect();
        let mut portfolio = Portfolio::new(Decimal::ZERO, &r.instruments);
        for f in &r.fills {
            portfolio.apply_fill(&f.fill);
        }
        let positions = portfolio
            .positions()
            .iter()
            .filter(|p| !p.is_flat())
            .map(|p| JournalPosition {
                instrument: p.instrument,
                symbol: symbol(p.instrument),
                quantity: p.quantity,
                avg_price: p.avg_price,
            })
            .collect();
        Ok(Overview {
            journal_id: r.journal_id,
            client_id_prefix: r.client_id_prefix,
            account: r.account,
            schema_version: self.schema_version()?,
            runs: self.runs()?,
            orders_by_state,
            orders: r.orders.len(),
            open_orders,
            positions,
            fills: r.fills.len(),
            last_events: self.last_events(events)?,
            control: self.control_log()?,
        })
    }

    /// The last `n` venue events, oldest first.
    pub fn last_events(&self, n: usize) -> Result<Vec<EventLine>, JournalError> {
        let err = sql(&self.path, "reading the events");
        let mut st = self
            .conn
            .prepare(
                "SELECT run, ts, order_id, kind, payload FROM
                   (SELECT * FROM events ORDER BY seq DESC LIMIT ?1) ORDER BY seq",
            )
            .map_err(&err)?;
        st.query_map([n as i64], |r| {
            Ok(EventLine {
                run: r.get(0)?,
                ts: r.get(1)?,
                order_id: r.get::<_, i64>(2)? as u64,
                kind: r.get(3)?,
                payload: r.get(4)?,
            })
        })
        .map_err(&err)?
        .collect::<rusqlite::Result<_>>()
        .map_err(&err)
    }
}
