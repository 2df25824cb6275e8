//! The risk layer: an ordered chain of pure checks between the strategy and the order manager.
//!
//! [`RiskChain::check`] returns either an [`Approved`] request or a [`Refusal`] naming the
//! check and a typed [`RefusalReason`]. `Approved` can only be built here (its field is
//! private), and the order manager accepts nothing else: an order that skipped the risk layer
//! does not compile.
//!
//! Checks, in order: kill switch (Active / Reducing / Halted), entry pause (live link
//! degraded: only exposure-reducing orders), order validity, max order
//! quantity, max order notional, price band vs last price, max position per instrument, max
//! gross exposure, max open orders, buying power (cash or margin account), max orders per
//! second. Each is off unless configured.

mod bracket;
mod buying_power;
mod config;
mod entry_pause;
mod kill_switch;
mod max_gross_exposure;
mod max_open_orders;
mod max_order_notional;
mod max_order_quantity;
mod max_position;
mod order_rate;
mod price_band;
mod validity;

use rust_decimal::Decimal;

pub use bracket::BracketExit;
pub use buying_power::BuyingPower;
pub use config::{AccountKind, KillSwitchAction, REG_T_INITIAL_MARGIN, RiskConfig};
pub use entry_pause::{EntryPause, PauseReason};
pub use kill_switch::{KillSwitch, KillSwitchChange, KillSwitchState};
pub use max_gross_exposure::MaxGrossExposure;
pub use max_open_orders::MaxOpenOrders;
pub use max_order_notional::MaxOrderNotional;
pub use max_order_quantity::MaxOrderQuantity;
pub use max_position::MaxPosition;
pub use order_rate::OrderRateLimiter;
pub use price_band::PriceBand;
pub use validity::Validity;

use crate::domain::{
    Instrument, InstrumentId, OrderRequest, OrderType, Side, TimeInForce, Trail, Ts,
};

/// An order request that passed every risk check. Only this module can create one.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Approved<T>(T);

impl<T> Approved<T> {
    pub fn get(&self) -> &T {
        &self.0
    }
    pub fn into_inner(self) -> T {
        self.0
    }
}

/// Everything a check may look at. Built by the kernel for each request.
#[derive(Clone, Copy, Debug)]
pub struct RiskContext<'a> {
    pub now: Ts,
    pub instrument: &'a Instrument,
    /// Last known price of the instrument.
    pub last_price: Option<Decimal>,
    /// Current signed position in the instrument.
    pub position: Decimal,
    /// Signed remaining quantity of the instrument's open orders.
    pub open_order_qty: Decimal,
    /// Open orders over all instruments.
    pub open_orders: usize,
    /// Σ |market value| of all positions.
    pub gross_exposure: Decimal,
    /// Σ |contracts| × per-contract initial margin over the positions whose instrument has
    /// one (futures), and Σ |market value| of those positions.
    pub per_contract_margin: Decimal,
    pub per_contract_exposure: Decimal,
    pub equity: Decimal,
    /// The bracket parent of the request being checked (`None` for an order without one, or
    /// when the parent id is unknown).
    pub parent: Option<ParentOrder>,
}

/// What the risk layer knows of a bracket exit's parent.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ParentOrder {
    pub instrument: InstrumentId,
    pub side: Side,
    pub quantity: Decimal,
    /// Working, or done with a fill (its position still needs its exits).
    pub alive: bool,
}

impl RiskContext<'_> {
    /// The price an order is valued at: its limit (or stop) price, else the last price.
    pub fn reference_price(&self, req: &OrderRequest) -> Option<Decimal> {
        match req.order_type {
            OrderType::Limit
            | OrderType::StopLimit
            | OrderType::LimitOnClose
            | OrderType::MidPrice => req.limit_price.or(self.last_price),
            OrderType::Stop | OrderType::TrailingStop | OrderType::TrailingStopLimit => {
                req.stop_price.or(self.last_price)
            }
            OrderType::Market | OrderType::MarketOnClose => self.last_price,
        }
    }

    /// True when the order can only shrink the absolute position (counting working orders).
    /// A bracket exit always does: it closes what its parent opens.
    pub fn reduces_exposure(&self, req: &OrderRequest) -> bool {
        if req.is_exit() {
            return true;
        }
        let pos = self.position + self.open_order_qty;
        let after = pos + req.signed_quantity();
        !pos.is_zero()
            && after.abs() < pos.abs()
            && (after.is_zero() || after.is_sign_positive() == pos.is_sign_positive())
    }
}

/// Why a request was refused.
#[derive(Clone, Copy, Debug, PartialEq, thiserror::Error)]
pub enum RefusalReason {
    #[error("unknown instrument id {instrument}")]
    UnknownInstrument { instrument: u32 },
    #[error("kill switch is Halted: no orders are accepted")]
    Halted,
    #[error(
        "kill switch is Reducing: only orders that reduce the position pass (position {position}, order {order})"
    )]
    ReducingOnly { position: Decimal, order: Decimal },
    #[error("quantity {quantity} is not a positive whole number of lots ({lot})")]
    InvalidQuantity { quantity: Decimal, lot: Decimal },
    #[error("{order_type:?} order needs a {field} price")]
    MissingPrice {
        order_type: OrderType,
        field: &'static str,
    },
    #[error("a trailing order needs a trail (amount or percent)")]
    MissingTrail,
    #[error("trail {trail:?} must be a positive amount or a percentage between 0 and 100")]
    InvalidTrail { trail: Trail },
    #[error("time in force {tif:?} is not allowed on {order_type:?} orders")]
    TifNotAllowed {
        tif: TimeInForce,
        order_type: OrderType,
    },
    #[error("bracket parent {parent} is not an order of this run")]
    UnknownParent { parent: u64 },
    #[error("bracket parent {parent} is no longer working and never filled")]
    ParentNotLive { parent: u64 },
    #[error("a bracket exit must trade the parent's instrument the other way (parent {parent})")]
    ExitDirection { parent: u64 },
    #[error("bracket exit quantity {quantity} exceeds the parent's {parent}")]
    ExitTooLarge { quantity: Decimal, parent: Decimal },
    #[error("{field} price {price} must be positive")]
    InvalidPrice { field: &'static str, price: Decimal },
    #[error("order quantity {quantity} exceeds the limit {limit}")]
    MaxOrderQuantity { quantity: Decimal, limit: Decimal },
    #[error("order notional {notional} exceeds the limit {limit}")]
    MaxOrderNotional { notional: Decimal, limit: Decimal },
    #[error("no reference price to value the order (no market data yet)")]
    NoReferencePrice,
    #[error(
        "price {price} is {distance_bps} bps from the last price {last}, beyond the band of {band_bps} bps"
    )]
    PriceBand {
        price: Decimal,
        last: Decimal,
        distance_bps: Decimal,
        band_bps: Decimal,
    },
    #[error("resulting position {resulting} would exceed the limit {limit}")]
    MaxPosition { resulting: Decimal, limit: Decimal },
    #[error("resulting gross exposure {resulting} would exceed the limit {limit}")]
    MaxGrossExposure { resulting: Decimal, limit: Decimal },
    #[error("{open} orders are open, the limit is {limit}")]
    MaxOpenOrders { open: usize, limit: usize },
    #[error("{count} orders in the last second, the limit is {limit} per second")]
    OrderRate { count: usize, limit: usize },
    #[error("new entries are paused ({reason}): only orders that reduce the position pass")]
    EntriesPaused { reason: PauseReason },
    #[error(
        "a cash account cannot sell short (the position would be {position}); use a margin account"
    )]
    ShortSaleNeedsMargin { position: Decimal },
    #[error(
        "not enough buying power: the book would need {required} of margin, the equity is {equity}"
    )]
    BuyingPower { required: Decimal, equity: Decimal },
}

/// A refused request: which check said no, and why.
#[derive(Clone, Copy, Debug, PartialEq, thiserror::Error)]
#[error("refused by {check}: {reason}")]
pub struct Refusal {
    pub check: &'static str,
    pub reason: RefusalReason,
}

/// One pure risk check.
pub trait RiskCheck: Send {
    /// Stable name used in refusals, audit records and configuration.
    fn name(&self) -> &'static str;
    /// Whether the check also applies to bracket exits (which the exposure checks skip: the
    /// parent carries the bracket's exposure).
    fn checks_exits(&self) -> bool {
        false
    }
    fn check(&self, req: &OrderRequest, ctx: &RiskContext<'_>) -> Result<(), RefusalReason>;
}

/// The ordered chain of checks plus the two stateful guards: the kill switch and the order
/// rate window.
pub struct RiskChain {
    kill_switch: KillSwitch,
    pause: EntryPause,
    checks: Vec<Box<dyn RiskCheck>>,
    rate: Option<OrderRateLimiter>,
    /// The account's buying-power rule (also one of `checks`), for [`RiskChain::buying_power`].
    buying_power: Option<BuyingPower>,
}

impl RiskChain {
    /// Build the chain from configuration (`tz` is the exchange time zone that defines the
    /// trading day for the daily-loss limit).
    pub fn from_config(cfg: &RiskConfig, tz: chrono_tz::Tz) -> RiskChain {
        let mut checks: Vec<Box<dyn RiskCheck>> = vec![Box::new(Validity), Box::new(BracketExit)];
        if let Some(limit) = cfg.max_order_quantity {
            checks.push(Box::new(MaxOrderQuantity { limit }));
        }
        if let Some(limit) = cfg.max_order_notional {
            checks.push(Box::new(MaxOrderNotional::new(limit)));
        }
        if let Some(band_bps) = cfg.price_band_bps {
            checks.push(Box::new(PriceBand { band_bps }));
        }
        if let Some(limit) = cfg.max_position {
            checks.push(Box::new(MaxPosition { limit }));
        }
        if let Some(limit) = cfg.max_gross_exposure {
            checks.push(Box::new(MaxGrossExposure { limit }));
        }
        if let Some(limit) = cfg.max_open_orders {
            checks.push(Box::new(MaxOpenOrders { limit }));
        }
        let buying_power = cfg.account.map(|account| BuyingPower {
            account,
            initial_margin: cfg.initial_margin.unwrap_or(REG_T_INITIAL_MARGIN),
        });
        if let Some(bp) = buying_power {
            checks.push(Box::new(bp));
        }
        RiskChain {
            kill_switch: KillSwitch::new(
                cfg.max_daily_loss,
                cfg.max_drawdown,
                cfg.kill_switch_action,
                tz,
            ),
            pause: EntryPause::default(),
            checks,
            rate: cfg.max_orders_per_second.map(OrderRateLimiter::new),
            buying_power,
        }
    }

    /// A chain with only the validity check (no limits).
    pub fn permissive() -> RiskChain {
        RiskChain::from_config(&RiskConfig::default(), chrono_tz::UTC)
    }

    /// Run every check in order; the first refusal wins.
    pub fn check(
        &mut self,
        req: OrderRequest,
        ctx: &RiskContext<'_>,
    ) -> Result<Approved<OrderRequest>, Refusal> {
        match self.kill_switch.state() {
            KillSwitchState::Active => {}
            KillSwitchState::Halted => {
                return Err(Refusal {
                    check: "kill_switch",
                    reason: RefusalReason::Halted,
                });
            }
            KillSwitchState::Reducing => {
                if !ctx.reduces_exposure(&req) {
                    return Err(Refusal {
                        check: "kill_switch",
                        reason: RefusalReason::ReducingOnly {
                            position: ctx.position + ctx.open_order_qty,
                            order: req.signed_quantity(),
                        },
                    });
                }
            }
        }
        self.pause.check(&req, ctx).map_err(|reason| Refusal {
            check: EntryPause::NAME,
            reason,
        })?;
        let exit = req.is_exit();
        for c in self.checks.iter().filter(|c| !exit || c.checks_exits()) {
            c.check(&req, ctx).map_err(|reason| Refusal {
                check: c.name(),
                reason,
            })?;
        }
        if let Some(rate) = &mut self.rate {
            rate.check_and_record(ctx.now).map_err(|reason| Refusal {
                check: "max_orders_per_second",
                reason,
            })?;
        }
        Ok(Approved(req))
    }

    /// Feed the latest equity to the kill switch; returns a state change, if any.
    pub fn on_equity(&mut self, now: Ts, equity: Decimal) -> Option<KillSwitchChange> {
        self.kill_switch.on_equity(now, equity)
    }

    /// [`Self::on_equity`] with fixed-point equity (see [`crate::money`]).
    #[inline]
    pub fn on_equity_fixed(&mut self, now: Ts, equity: i128) -> Option<KillSwitchChange> {
        self.kill_switch.on_equity_fixed(now, equity)
    }

    pub fn kill_switch(&self) -> KillSwitchState {
        self.kill_switch.state()
    }

    /// What new positions may still take by the account's buying-power rule (`None` when
    /// no account is configured); see [`BuyingPower::available`].
    pub fn buying_power(&self, ctx: &RiskContext<'_>) -> Option<Decimal> {
        self.buying_power.map(|bp| bp.available(ctx))
    }

    /// True when a daily-loss or drawdown limit is configured.
    #[inline]
    pub fn kill_switch_armed(&self) -> bool {
        self.kill_switch.is_armed()
    }

    /// Set the kill switch by hand (operator command); returns the change, if any.
    pub fn set_kill_switch(&mut self, state: KillSwitchState) -> Option<KillSwitchChange> {
        self.kill_switch.set(state)
    }

    /// Pause new entries (`Some`) or resume them (`None`); returns whether it changed.
    pub fn set_entries_paused(&mut self, reason: Option<PauseReason>) -> bool {
        let changed = self.pause.reason != reason;
        self.pause.reason = reason;
        changed
    }

    /// Why entries are paused, if they are.
    pub fn entries_paused(&self) -> Option<PauseReason> {
        self.pause.reason
    }

    /// Names of the active checks, in order.
    pub fn check_names(&self) -> Vec<&'static str> {
        let mut v = vec!["kill_switch", EntryPause::NAME];
        v.extend(self.checks.iter().map(|c| c.name()));
        if self.rate.is_some() {
            v.push("max_orders_per_second");
        }
        v
    }
}

#[cfg(test)]
mod tests;
