//! Reading a journal back: everything a restarted run needs to resume — its orders (what
//! [`tickline_engine::kernel::Kernel::restore`] takes), its fills in booking order, its
//! instruments, identity, account and how the last run ended.

use rusqlite::Row;
use tickline_engine::domain::{
    ClientOrderId, ExecId, Fill, Instrument, InstrumentId, OrderId, OrderRequest, Ts,
};
use tickline_engine::kernel::FillRecord;
use tickline_engine::order::Order;

use super::codec::{self, BadValue, broker_id_from_sql};
use super::error::{JournalError, invalid, sql};
use super::handle::{Journal, JournalId};
use super::payload::{LinksJson, RequestJson};
use super::runs::RunRecord;
use crate::runner::Resume;

/// What a restarted run resumes from.
#[derive(Clone, Debug, PartialEq)]
pub struct Restored {
    pub journal_id: JournalId,
    /// Prefix of the journal's client order ids (`TL-<journal id>-`).
    pub client_id_prefix: String,
    /// The account the journal is bound to (`None` before its first run).
    pub account: Option<String>,
    /// The journal's instruments in id order (see [`Journal::instruments`]).
    pub instruments: Vec<Instrument>,
    /// Every order, ids dense from 1, as last recorded. Risk refusals come back as their
    /// text in `reason` (`refusal` is `None`).
    pub orders: Vec<Order>,
    /// Every fill in booking order, with its latest commission.
    pub fills: Vec<FillRecord>,
    /// The latest run: its number, and whether it ended cleanly.
    pub last_run: Option<RunRecord>,
}

impl Restored {
    /// The orders and fills, as the live loop takes them.
    pub fn resume(&self) -> Resume {
        Resume {
            orders: self.orders.clone(),
            fills: self.fills.clone(),
        }
    }
}

const ORDER_COLUMNS: &str = "order_id, client_order_id, request_client_order_id, broker_order_id, instrument, side, quantity, order_type, limit_price, stop_price, tif, state, filled, avg_fill_price, commission, created, updated, reason, pending_modify, prompts, links";

const FILL_COLUMNS: &str = "seq, ts, order_id, exec_id, instrument, side, quantity, price, commission, realized_pnl, position_after";

/// A value of a row that is wrong: its column and what was found.
type Bad = (&'static str, String);

fn col<T: rusqlite::types::FromSql>(r: &Row<'_>, i: usize, name: &'static str) -> Result<T, Bad> {
    r.get(i).map_err(|e| (name, e.to_string()))
}

fn text(r: &Row<'_>, i: usize, name: &'static str) -> Result<String, Bad> {
    col(r, i, name)
}

fn parsed<T>(name: &'static str, v: Result<T, BadValue>) -> Result<T, Bad> {
    v.map_err(|BadValue(s)| (name, s))
}

impl Journal {
    /// Everything a restarted run needs (see [`Restored`]).
    pub fn restore(&self) -> Result<Restored, JournalError> {
        let instruments = self.instruments()?;
        let orders = self.orders()?;
        let fills = self.fills()?;
        let n = instruments.len();
        for o in &orders {
            if o.request.instrument.index() >= n {
                return Err(invalid(
                    &self.path,
                    format!("orders row {}", o.id),
                    format!(
                        "instrument id {} is not in the journal",
                        o.request.instrument.0
                    ),
                ));
            }
        }
        for f in &fills {
            if f.fill.instrument.index() >= n {
                return Err(invalid(
                    &self.path,
                    format!("fill of order {}", f.fill.order_id),
                    format!(
                        "instrument id {} is not in the journal",
                        f.fill.instrument.0
                    ),
                ));
            }
        }
        Ok(Restored {
            journal_id: self.id.clone(),
            client_id_prefix: self.client_id_prefix(),
            account: self.account()?,
            instruments,
            orders,
            fills,
            last_run: self.last_run()?,
        })
    }

    /// Every order, ids dense from 1.
    pub fn orders(&self) -> Result<Vec<Order>, JournalError> {
        let err = sql(&self.path, "reading the orders");
        let mut st = self
            .conn
            .prepare(&format!(
                "SELECT {ORDER_COLUMNS} FROM orders ORDER BY order_id"
            ))
            .map_err(&err)?;
        let rows = st
            .query_map([], |r| Ok((r.get::<_, i64>(0)?, order_row(r))))
            .map_err(&err)?;
        let mut out = Vec::new();
        for row in rows {
            let (id, order) = row.map_err(&err)?;
            let order = order
                .map_err(|(c, d)| invalid(&self.path, format!("orders row {id}, column {c}"), d))?;
            let expected = out.len() as u64 + 1;
            if order.id.0 != expected {
                return Err(invalid(
                    &self.path,
                    format!("orders row {id}"),
                    format!("order ids are not dense from 1 (expected {expected})"),
                ));
            }
            out.push(order);
        }
        Ok(out)
    }

    /// Every fill in booking order.
    pub fn fills(&self) -> Result<Vec<FillRecord>, JournalError> {
        let err = sql(&self.path, "reading the fills");
        let mut st = self
            .conn
            .prepare(&format!("SELECT {FILL_COLUMNS} FROM fills ORDER BY seq"))
            .map_err(&err)?;
        let rows = st
            .query_map([], |r| Ok((r.get::<_, i64>(0)?, fill_row(r))))
            .map_err(&err)?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, fill) = row.map_err(&err)?;
            out.push(fill.map_err(|(c, d)| {
                invalid(&self.path, format!("fills row {seq}, column {c}"), d)
            })?);
        }
        Ok(out)
    }
}

fn order_row(r: &Row<'_>) -> Result<Order, Bad> {
    let id: i64 = col(r, 0, "order_id")?;
    let coid = text(r, 1, "client_order_id")?;
    let client_order_id = ClientOrderId::new(&coid).ok_or_else(|| {
        (
            "client_order_id",
            format!("{coid:?} is not a client order id"),
        )
    })?;
    let req_coid: Option<String> = col(r, 2, "request_client_order_id")?;
    let request_client_order_id = match req_coid {
        None => None,
        Some(c) => Some(ClientOrderId::new(&c).ok_or_else(|| {
            (
                "request_client_order_id",
                format!("{c:?} is not a client order id"),
            )
        })?),
    };
    let broker: Option<i64> = col(r, 3, "broker_order_id")?;
    let limit: Option<String> = col(r, 8, "limit_price")?;
    let stop: Option<String> = col(r, 9, "stop_price")?;
    let pending: Option<String> = col(r, 18, "pending_modify")?;
    let pending_modify = match pending {
        None => None,
        Some(text) => {
            let json: RequestJson<'_> =
                serde_json::from_str(&text).map_err(|e| ("pending_modify", e.to_string()))?;
            Some(Box::new(
                json.to_request().map_err(|e| ("pending_modify", e))?,
            ))
        }
    };
    let links: Option<String> = col(r, 20, "links")?;
    let links = match links {
        None => None,
        Some(text) => {
            Some(serde_json::from_str::<LinksJson>(&text).map_err(|e| ("links", e.to_string()))?)
        }
    };
    let mut request = OrderRequest::market(
        InstrumentId(col(r, 4, "instrument")?),
        parsed("side", codec::side(&text(r, 5, "side")?))?,
        parsed("quantity", codec::decimal(&text(r, 6, "quantity")?))?,
    );
    request.order_type = parsed("order_type", codec::order_type(&text(r, 7, "order_type")?))?;
    request.limit_price = parsed("limit_price", codec::opt_decimal(limit.as_deref()))?;
    request.stop_price = parsed("stop_price", codec::opt_decimal(stop.as_deref()))?;
    request.tif = parsed("tif", codec::tif(&text(r, 10, "tif")?))?;
    request.client_order_id = request_client_order_id;
    LinksJson::apply(links, &mut request);
    Ok(Order {
        id: OrderId(id as u64),
        client_order_id,
        request,
        state: parsed("state", codec::order_state(&text(r, 11, "state")?))?,
        filled_qty: parsed("filled", codec::decimal(&text(r, 12, "filled")?))?,
        avg_fill_price: parsed(
            "avg_fill_price",
            codec::decimal(&text(r, 13, "avg_fill_price")?),
        )?,
        commission: parsed("commission", codec::decimal(&text(r, 14, "commission")?))?,
        created: col::<Ts>(r, 15, "created")?,
        updated: col::<Ts>(r, 16, "updated")?,
        broker_order_id: broker.map(broker_id_from_sql),
        reason: col(r, 17, "reason")?,
        refusal: None,
        pending_modify,
        prompts: col(r, 19, "prompts")?,
    })
}

fn fill_row(r: &Row<'_>) -> Result<FillRecord, Bad> {
    let exec: Option<String> = col(r, 3, "exec_id")?;
    let exec_id = match exec {
        None => ExecId::NONE,
        Some(e) => ExecId::new(&e)
            .filter(|x| !x.is_none())
            .ok_or_else(|| ("exec_id", format!("{e:?} is not an execution id")))?,
    };
    Ok(FillRecord {
        fill: Fill {
            ts: col(r, 1, "ts")?,
            order_id: OrderId(col::<i64>(r, 2, "order_id")? as u64),
            exec_id,
            instrument: InstrumentId(col(r, 4, "instrument")?),
            side: parsed("side", codec::side(&text(r, 5, "side")?))?,
            quantity: parsed("quantity", codec::decimal(&text(r, 6, "quantity")?))?,
            price: parsed("price", codec::decimal(&text(r, 7, "price")?))?,
            commission: parsed("commission", codec::decimal(&text(r, 8, "commission")?))?,
        },
        realized_pnl: parsed("realized_pnl", codec::decimal(&text(r, 9, "realized_pnl")?))?,
        position_after: parsed(
            "position_after",
            codec::decimal(&text(r, 10, "position_after")?),
        )?,
    })
}
