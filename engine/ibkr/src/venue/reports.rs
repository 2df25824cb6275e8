//! The broker's reports for reconciliation: positions (`/portfolio/{acct}/positions`, paged,
//! after invalidating IBKR's position cache), cash (`/portfolio/{acct}/ledger`, the `BASE`
//! row), orders (`/iserver/account/orders`) and executions (`/iserver/account/trades`, up
//! to [`crate::MAX_TRADE_DAYS`] days), mapped to the live layer's broker-neutral shapes.
//! Rows of other accounts are left out; contracts are matched to the run's instruments by
//! conid.

use std::collections::HashMap;

use rust_decimal::Decimal;
use tickline_engine::domain::{ExecId, InstrumentId, OrderType, Side, TimeInForce, Ts};
use tickline_live::venue::{
    AccountInfo, BoxFuture, BrokerExecution, BrokerOrder, BrokerOrderStatus, BrokerPosition,
    BrokerReports, BrokerSnapshot, VenueError,
};

use super::venue_error;
use crate::client::Client;
use crate::execution::BrokerExec;
use crate::models::{self, LiveOrder, LiveOrdersQuery, Position, Trade};

/// [`BrokerReports`] over the IBKR client.
pub struct IbkrReports {
    pub(super) client: Client,
    pub(super) account: AccountInfo,
    pub(super) by_conid: HashMap<i64, InstrumentId>,
    pub(super) trade_days: u32,
    /// The venue's clock is not the wall clock: executions are stamped with the time of the
    /// report.
    pub(super) receipt_times: bool,
}

impl BrokerReports for IbkrReports {
    fn snapshot(&self) -> BoxFuture<'_, Result<BrokerSnapshot, VenueError>> {
        Box::pin(self.read())
    }
}

/// Attempts per report request: each is an idempotent read, tried again on a transient
/// failure so one 500 among the five reads does not cost the whole snapshot.
const ATTEMPTS: u32 = 4;

/// `f` until it succeeds, fails permanently, or [`ATTEMPTS`] are spent (doubling pauses
/// from 200 ms).
async fn again<T, F, Fut>(what: &str, mut f: F) -> Result<T, VenueError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, crate::IbkrError>>,
{
    let mut pause = std::time::Duration::from_millis(200);
    let mut attempt = 1;
    loop {
        match f().await.map_err(venue_error) {
            Err(e) if e.is_transient() && attempt < ATTEMPTS => {
                tracing::warn!(error = %e, attempt, retry_in = ?pause, "reading {what} failed; retrying");
                tokio::time::sleep(pause).await;
                pause *= 2;
                attempt += 1;
            }
            other => return other,
        }
    }
}

impl IbkrReports {
    async fn read(&self) -> Result<BrokerSnapshot, VenueError> {
        let acct = self.account.id.as_str();
        let taken_at = tickline_engine::clock::Clock::now(&tickline_engine::clock::LiveClock);
        if let Err(e) = self.client.invalidate_positions(acct).await {
            tracing::warn!(error = %e, "could not invalidate IBKR's position cache; positions may lag");
        }
        let positions = again("positions", || self.client.all_positions(acct)).await?;
        let ledger = again("the ledger", || self.client.ledger(acct)).await?;
        let cash = ledger
            .get("BASE")
            .or_else(|| ledger.get(&self.account.currency))
            .and_then(|e| e.cashbalance)
            .ok_or_else(|| {
                VenueError::Transient(format!(
                    "the ledger of {acct} has no BASE cash balance (currencies: {})",
                    ledger.keys().cloned().collect::<Vec<_>>().join(", ")
                ))
            })?;
        let query = LiveOrdersQuery {
            account_id: Some(acct.to_string()),
            ..LiveOrdersQuery::default()
        };
        let orders = again("live orders", || self.client.live_orders(&query)).await?;
        let trades = again("trades", || self.client.trades(Some(self.trade_days))).await?;
        let stamp = |ts: Ts| if self.receipt_times { taken_at } else { ts };
        Ok(BrokerSnapshot {
            account: self.account.clone(),
            cash,
            positions: positions
                .iter()
                .filter(|p| same_account(p.acct_id.as_deref(), acct))
                .filter_map(|p| self.position(p))
                .collect(),
            orders: orders
                .orders
                .iter()
                .filter(|o| same_account(o.acct.as_deref().or(o.account.as_deref()), acct))
                .filter_map(|o| self.order(o))
                .collect(),
            executions: trades
                .iter()
                .filter(|t| same_account(t.account.as_deref().or(t.account_code.as_deref()), acct))
                .filter_map(|t| self.execution(t))
                .map(|mut e| {
                    e.ts = stamp(e.ts);
                    e
                })
                .collect(),
            taken_at,
        })
    }

    fn instrument(&self, conid: Option<i64>) -> Option<InstrumentId> {
        self.by_conid.get(&conid?).copied()
    }

    fn position(&self, p: &Position) -> Option<BrokerPosition> {
        let quantity = p.position.filter(|q| !q.is_zero())?;
        Some(BrokerPosition {
            instrument: self.instrument(p.conid),
            name: name(p.contract_desc.as_deref(), p.conid),
            quantity,
            avg_price: p.avg_price.or(p.avg_cost).unwrap_or_default(),
        })
    }

    fn order(&self, o: &LiveOrder) -> Option<BrokerOrder> {
        let broker_order_id = u64::try_from(o.order_id?).ok()?;
        let side = side(o.side.as_deref())?;
        let order_type = o
            .order_type
            .as_deref()
            .or(o.orig_order_type.as_deref())
            .and_then(order_type);
        let (limit_price, stop_price) = match order_type {
            Some(OrderType::Limit) => (o.price, None),
            Some(OrderType::Stop | OrderType::TrailingStop) => (None, o.aux_price.or(o.price)),
            Some(OrderType::StopLimit | OrderType::TrailingStopLimit) => (o.price, o.aux_price),
            Some(OrderType::LimitOnClose | OrderType::MidPrice) => (o.price, None),
            _ => (None, None),
        };
        let filled = o.filled_quantity.unwrap_or_default();
        let quantity = o
            .total_size
            .or_else(|| Some(filled + o.remaining_quantity?))
            .unwrap_or(filled);
        Some(BrokerOrder {
            broker_order_id,
            client_order_id: o.order_ref.clone().filter(|s| !s.is_empty()),
            instrument: self.instrument(o.conid),
            name: name(o.ticker.as_deref().or(o.description1.as_deref()), o.conid),
            side,
            quantity,
            filled,
            order_type,
            limit_price,
            stop_price,
            tif: o.time_in_force.as_deref().and_then(tif),
            status: status(o.status.as_deref().unwrap_or("")),
        })
    }

    fn execution(&self, t: &Trade) -> Option<BrokerExecution> {
        let e = BrokerExec::from(t);
        let Some(exec_id) = ExecId::new(&e.exec_id).filter(|_| !e.exec_id.is_empty()) else {
            tracing::warn!(order = ?t.order_id, exec_id = %e.exec_id, "an IBKR trade without a usable execution id is ignored");
            return None;
        };
        Some(BrokerExecution {
            exec_id,
            broker_order_id: e.broker_order_id.and_then(|id| u64::try_from(id).ok()),
            client_order_id: e.client_order_id.filter(|s| !s.is_empty()),
            instrument: self.instrument(t.conid),
            name: name(t.symbol.as_deref(), t.conid),
            side: side(t.side.as_deref())?,
            quantity: e.quantity.filter(|q| *q > Decimal::ZERO)?,
            price: e.price?,
            commission: e.commission,
            ts: e.ts.unwrap_or(0),
        })
    }
}

fn same_account(row: Option<&str>, acct: &str) -> bool {
    row.is_none_or(|r| r.is_empty() || r == acct)
}

fn name(text: Option<&str>, conid: Option<i64>) -> String {
    match (text.filter(|t| !t.is_empty()), conid) {
        (Some(t), Some(c)) => format!("{t} (conid {c})"),
        (Some(t), None) => t.to_string(),
        (None, Some(c)) => format!("conid {c}"),
        (None, None) => "unknown contract".into(),
    }
}

/// `BUY`/`B`/`BOT` or `SELL`/`S`/`SLD`.
pub fn side(s: Option<&str>) -> Option<Side> {
    match s?.trim().to_ascii_uppercase().as_str() {
        "BUY" | "B" | "BOT" => Some(Side::Buy),
        "SELL" | "S" | "SLD" | "SSHORT" => Some(Side::Sell),
        _ => None,
    }
}

/// IBKR's order type names (`Limit`, `LMT`, `Stop Limit`, …) as the engine's.
pub fn order_type(s: &str) -> Option<OrderType> {
    match models::OrderType::parse(&s.trim().replace(' ', "_"))? {
        models::OrderType::Limit => Some(OrderType::Limit),
        models::OrderType::Market => Some(OrderType::Market),
        models::OrderType::Stop => Some(OrderType::Stop),
        models::OrderType::StopLimit => Some(OrderType::StopLimit),
        models::OrderType::Trail => Some(OrderType::TrailingStop),
        models::OrderType::TrailLimit => Some(OrderType::TrailingStopLimit),
        models::OrderType::MarketOnClose => Some(OrderType::MarketOnClose),
        models::OrderType::LimitOnClose => Some(OrderType::LimitOnClose),
        models::OrderType::MidPrice => Some(OrderType::MidPrice),
    }
}

fn tif(s: &str) -> Option<TimeInForce> {
    match models::Tif::parse(s.trim())? {
        models::Tif::Day => Some(TimeInForce::Day),
        models::Tif::Gtc => Some(TimeInForce::Gtc),
        models::Tif::Ioc => Some(TimeInForce::Ioc),
        models::Tif::Opg => Some(TimeInForce::Opg),
        models::Tif::Pax => None,
    }
}

/// IBKR's order status text as the live layer's.
pub fn status(s: &str) -> BrokerOrderStatus {
    match s.trim() {
        "PendingSubmit" | "PreSubmitted" | "ApiPending" | "Pending" => BrokerOrderStatus::Pending,
        "Submitted" | "WarnState" => BrokerOrderStatus::Working,
        "PendingCancel" => BrokerOrderStatus::PendingCancel,
        "Filled" => BrokerOrderStatus::Filled,
        "Cancelled" | "ApiCancelled" => BrokerOrderStatus::Cancelled,
        "Inactive" => BrokerOrderStatus::Inactive,
        other => BrokerOrderStatus::Other(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ibkr_names_map_to_the_engine() {
        for (text, want) in [
            ("Limit", Some(OrderType::Limit)),
            ("LMT", Some(OrderType::Limit)),
            ("Stop Limit", Some(OrderType::StopLimit)),
            ("STP", Some(OrderType::Stop)),
            ("Market", Some(OrderType::Market)),
            ("TRAIL", Some(OrderType::TrailingStop)),
            ("TRAILLMT", Some(OrderType::TrailingStopLimit)),
            ("MOC", Some(OrderType::MarketOnClose)),
            ("LOC", Some(OrderType::LimitOnClose)),
            ("MIDPRICE", Some(OrderType::MidPrice)),
            ("nonsense", None),
        ] {
            assert_eq!(order_type(text), want, "{text}");
        }
        for (text, want) in [
            ("Submitted", BrokerOrderStatus::Working),
            // Working, with a warning attached (IBKR's WarnState).
            ("WarnState", BrokerOrderStatus::Working),
            ("PreSubmitted", BrokerOrderStatus::Pending),
            ("PendingCancel", BrokerOrderStatus::PendingCancel),
            ("Cancelled", BrokerOrderStatus::Cancelled),
            ("Inactive", BrokerOrderStatus::Inactive),
            ("Filled", BrokerOrderStatus::Filled),
            ("Odd", BrokerOrderStatus::Other("Odd".into())),
        ] {
            assert_eq!(status(text), want, "{text}");
        }
        assert_eq!(side(Some("SLD")), Some(Side::Sell));
        assert_eq!(side(Some("B")), Some(Side::Buy));
        assert_eq!(side(Some("?")), None);
        assert_eq!(tif("GTC"), Some(TimeInForce::Gtc));
    }

    #[test]
    fn sample_responses_become_broker_reports() {
        let r = IbkrReports {
            client: Client::gateway(crate::ClientConfig::gateway(
                crate::ClientConfig::parse_base_url("http://127.0.0.1:1/v1/api").expect("url"),
            ))
            .expect("client"),
            account: AccountInfo {
                id: "DU123".into(),
                is_paper: true,
                currency: "USD".into(),
            },
            by_conid: [(265598, InstrumentId(0))].into_iter().collect(),
            trade_days: 7,
            receipt_times: false,
        };
        let live: LiveOrder = serde_json::from_value(serde_json::json!({
            "acct": "DU123", "conid": 265598, "orderId": 42, "side": "SELL",
            "orderType": "Stop Limit", "price": "99.5", "auxPrice": "100",
            "totalSize": "10", "filledQuantity": "4", "status": "Submitted",
            "order_ref": "TL-ab-3", "timeInForce": "GTC", "ticker": "AAPL"
        }))
        .expect("live order");
        let o = r.order(&live).expect("order");
        assert_eq!(o.broker_order_id, 42);
        assert_eq!(o.client_order_id.as_deref(), Some("TL-ab-3"));
        assert_eq!(o.instrument, Some(InstrumentId(0)));
        assert_eq!(o.side, Side::Sell);
        assert_eq!(o.order_type, Some(OrderType::StopLimit));
        assert_eq!(o.limit_price, Some(Decimal::new(995, 1)));
        assert_eq!(o.stop_price, Some(Decimal::from(100)));
        assert_eq!(
            (o.quantity, o.filled),
            (Decimal::from(10), Decimal::from(4))
        );
        assert_eq!(o.status, BrokerOrderStatus::Working);
        let trade: Trade = serde_json::from_value(serde_json::json!({
            "execution_id": "0000e0d5.1", "conid": 1, "side": "B", "size": "5",
            "price": "10.5", "order_ref": "", "trade_time_r": 1700000000000i64,
            "symbol": "XYZ"
        }))
        .expect("trade");
        let e = r.execution(&trade).expect("execution");
        assert_eq!(e.instrument, None, "a contract the run does not trade");
        assert_eq!(e.client_order_id, None);
        assert_eq!(e.name, "XYZ (conid 1)");
        assert_eq!(e.ts, 1_700_000_000_000_000_000);
        assert_eq!(e.commission, None);
    }
}
