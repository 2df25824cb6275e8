//! Order requests, order ids and fills.

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{InstrumentId, Ts};

/// Engine-wide order id, assigned by the kernel when a strategy submits (dense, from 1).
/// It doubles as the client order id (IBKR `cOID`) unless the request carries its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct OrderId(pub u64);

impl fmt::Display for OrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Side {
    Buy,
    Sell,
}

impl Side {
    /// +1 for buys, -1 for sells.
    #[inline]
    pub fn sign(self) -> Decimal {
        match self {
            Side::Buy => Decimal::ONE,
            Side::Sell => Decimal::NEGATIVE_ONE,
        }
    }

    pub fn opposite(self) -> Side {
        match self {
            Side::Buy => Side::Sell,
            Side::Sell => Side::Buy,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Side::Buy => "BUY",
            Side::Sell => "SELL",
        }
    }
}

/// Signed quantity: positive for buys, negative for sells.
#[inline]
pub fn signed_qty(side: Side, qty: Decimal) -> Decimal {
    match side {
        Side::Buy => qty,
        Side::Sell => -qty,
    }
}

/// IBKR order types supported by the engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OrderType {
    #[serde(rename = "MKT")]
    Market,
    #[serde(rename = "LMT")]
    Limit,
    #[serde(rename = "STP")]
    Stop,
    #[serde(rename = "STP LMT")]
    StopLimit,
    /// A stop that follows the market by [`OrderRequest::trail`]: a sell's stop rises with the
    /// highest price seen (a buy's falls with the lowest) and never moves back.
    #[serde(rename = "TRAIL")]
    TrailingStop,
    /// A trailing stop that becomes a limit at the stop ∓ [`OrderRequest::limit_offset`] when
    /// it triggers.
    #[serde(rename = "TRAILLMT")]
    TrailingStopLimit,
    /// Market on close: executes in the closing auction at the session's close.
    #[serde(rename = "MOC")]
    MarketOnClose,
    /// Limit on close: executes at the close if the close is at or better than the limit.
    #[serde(rename = "LOC")]
    LimitOnClose,
    /// IBKR's MIDPRICE: pegged to the middle of the spread, capped by an optional limit.
    #[serde(rename = "MIDPRICE")]
    MidPrice,
}

impl OrderType {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderType::Market => "MKT",
            OrderType::Limit => "LMT",
            OrderType::Stop => "STP",
            OrderType::StopLimit => "STP LMT",
            OrderType::TrailingStop => "TRAIL",
            OrderType::TrailingStopLimit => "TRAILLMT",
            OrderType::MarketOnClose => "MOC",
            OrderType::LimitOnClose => "LOC",
            OrderType::MidPrice => "MIDPRICE",
        }
    }

    /// Every order type, for tables and round-trip tests.
    pub const ALL: [OrderType; 9] = [
        OrderType::Market,
        OrderType::Limit,
        OrderType::Stop,
        OrderType::StopLimit,
        OrderType::TrailingStop,
        OrderType::TrailingStopLimit,
        OrderType::MarketOnClose,
        OrderType::LimitOnClose,
        OrderType::MidPrice,
    ];

    /// Whether the type needs a limit price (MIDPRICE's cap is optional).
    pub fn needs_limit(self) -> bool {
        matches!(
            self,
            OrderType::Limit | OrderType::StopLimit | OrderType::LimitOnClose
        )
    }

    /// Whether the type needs a stop price.
    pub fn needs_stop(self) -> bool {
        matches!(self, OrderType::Stop | OrderType::StopLimit)
    }

    /// Whether the type is a trailing stop (needs [`OrderRequest::trail`]).
    pub fn is_trailing(self) -> bool {
        matches!(self, OrderType::TrailingStop | OrderType::TrailingStopLimit)
    }
}

/// How far a trailing stop follows the market.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Trail {
    /// A fixed price distance (IBKR `trailingType = "amt"`).
    Amount(Decimal),
    /// A percentage of the price, e.g. `2` for 2 % (IBKR `trailingType = "%"`).
    Percent(Decimal),
}

impl Trail {
    /// The stop a market at `price` implies: below it for a sell (protecting a long), above
    /// it for a buy. Not rounded.
    pub fn stop_for(self, side: Side, price: Decimal) -> Decimal {
        let distance = match self {
            Trail::Amount(a) => a,
            Trail::Percent(p) => price * p / Decimal::ONE_HUNDRED,
        };
        match side {
            Side::Sell => price - distance,
            Side::Buy => price + distance,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum TimeInForce {
    /// Expires at the end of the exchange day on which it was submitted.
    #[default]
    Day,
    /// Good till cancelled.
    Gtc,
    /// Immediate or cancel: whatever is not filled at the first opportunity is cancelled.
    Ioc,
    /// At the opening: executes at the next session's open or is cancelled.
    Opg,
}

impl TimeInForce {
    /// Every time in force, for tables and round-trip tests.
    pub const ALL: [TimeInForce; 4] = [
        TimeInForce::Day,
        TimeInForce::Gtc,
        TimeInForce::Ioc,
        TimeInForce::Opg,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TimeInForce::Day => "DAY",
            TimeInForce::Gtc => "GTC",
            TimeInForce::Ioc => "IOC",
            TimeInForce::Opg => "OPG",
        }
    }
}

/// Up to `N` printable ASCII bytes stored inline, so the types built on it stay `Copy` and
/// creating one allocates nothing. Length 0 is the empty string.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct InlineStr<const N: usize> {
    len: u8,
    bytes: [u8; N],
}

impl<const N: usize> Default for InlineStr<N> {
    fn default() -> Self {
        Self::EMPTY
    }
}

impl<const N: usize> InlineStr<N> {
    /// The empty string.
    pub const EMPTY: Self = InlineStr {
        len: 0,
        bytes: [0; N],
    };

    /// `None` when `s` is longer than `N` bytes or not printable ASCII.
    pub fn new(s: &str) -> Option<Self> {
        if s.len() > N || N > u8::MAX as usize || !s.bytes().all(|b| b.is_ascii_graphic()) {
            return None;
        }
        let mut bytes = [0u8; N];
        bytes[..s.len()].copy_from_slice(s.as_bytes());
        Some(InlineStr {
            len: s.len() as u8,
            bytes,
        })
    }

    /// `prefix` followed by the decimal digits of `n`, built without allocating. The prefix
    /// is truncated so the digits always fit.
    pub fn with_number(prefix: &str, n: u64) -> Self {
        let mut digits = [0u8; 20];
        let mut i = digits.len();
        let mut v = n;
        loop {
            i -= 1;
            digits[i] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        let digits = &digits[i..];
        let plen = prefix
            .bytes()
            .take_while(|b| b.is_ascii_graphic())
            .count()
            .min(N.saturating_sub(digits.len()));
        let mut bytes = [0u8; N];
        bytes[..plen].copy_from_slice(&prefix.as_bytes()[..plen]);
        let dlen = digits.len().min(N - plen);
        bytes[plen..plen + dlen].copy_from_slice(&digits[..dlen]);
        InlineStr {
            len: (plen + dlen) as u8,
            bytes,
        }
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII is ever stored.
        std::str::from_utf8(&self.bytes[..self.len as usize]).unwrap_or("")
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// A client order id (IBKR `cOID`): 1 to 32 printable ASCII characters, stored inline so
/// requests stay `Copy` and submitting allocates nothing.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientOrderId(InlineStr<32>);

impl ClientOrderId {
    pub const MAX_LEN: usize = 32;

    /// `None` when `s` is empty, longer than 32 bytes or not printable ASCII.
    pub fn new(s: &str) -> Option<ClientOrderId> {
        InlineStr::new(s)
            .filter(|v| !v.is_empty())
            .map(ClientOrderId)
    }

    /// `prefix` followed by the decimal digits of `n`, built without allocating. The prefix
    /// is truncated so the digits always fit.
    pub fn with_number(prefix: &str, n: u64) -> ClientOrderId {
        ClientOrderId(InlineStr::with_number(prefix, n))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl fmt::Debug for ClientOrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClientOrderId({:?})", self.as_str())
    }
}

impl fmt::Display for ClientOrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A venue's execution id (IBKR `execution_id`, e.g. `0000e0d5.6576fd38.01.01`): up to 48
/// printable ASCII characters, inline. Empty for venues without one (the simulated broker).
/// Live runtimes apply each execution id exactly once.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ExecId(InlineStr<48>);

impl ExecId {
    pub const MAX_LEN: usize = 48;
    /// No execution id.
    pub const NONE: ExecId = ExecId(InlineStr::EMPTY);

    /// `None` when `s` is longer than 48 bytes or not printable ASCII.
    pub fn new(s: &str) -> Option<ExecId> {
        InlineStr::new(s).map(ExecId)
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    pub fn is_none(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for ExecId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ExecId({:?})", self.as_str())
    }
}

impl fmt::Display for ExecId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a strategy asks for. Quantities are positive; `side` gives the direction. Prices are
/// rounded to the instrument's tick and quantities to its lot by the kernel before risk checks.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OrderRequest {
    pub instrument: InstrumentId,
    pub side: Side,
    pub quantity: Decimal,
    pub order_type: OrderType,
    pub limit_price: Option<Decimal>,
    pub stop_price: Option<Decimal>,
    pub tif: TimeInForce,
    /// Optional strategy-chosen client order id; the engine derives one from the order id
    /// otherwise.
    pub client_order_id: Option<ClientOrderId>,
    /// Trailing distance of a trailing stop (limit); `stop_price` is then the optional
    /// initial stop.
    pub trail: Option<Trail>,
    /// Distance of a trailing stop-limit's limit from its stop (IBKR `lmtPriceOffset`).
    pub limit_offset: Option<Decimal>,
    /// The bracket parent: this order is one of its exits, held until the parent fills and
    /// sized by what the parent filled.
    pub parent: Option<OrderId>,
    /// One-cancels-all group, named by its first member's order id. A fill reduces the other
    /// members by the filled quantity; a complete fill cancels them.
    pub oca_group: Option<OrderId>,
}

impl OrderRequest {
    fn new(instrument: InstrumentId, side: Side, quantity: Decimal, order_type: OrderType) -> Self {
        OrderRequest {
            instrument,
            side,
            quantity,
            order_type,
            limit_price: None,
            stop_price: None,
            tif: TimeInForce::Day,
            client_order_id: None,
            trail: None,
            limit_offset: None,
            parent: None,
            oca_group: None,
        }
    }

    /// A market order.
    pub fn market(instrument: InstrumentId, side: Side, quantity: Decimal) -> Self {
        Self::new(instrument, side, quantity, OrderType::Market)
    }

    /// A market order for a signed quantity (positive buys, negative sells).
    pub fn market_signed(instrument: InstrumentId, signed: Decimal) -> Self {
        let side = if signed.is_sign_negative() {
            Side::Sell
        } else {
            Side::Buy
        };
        Self::new(instrument, side, signed.abs(), OrderType::Market)
    }

    /// A limit order.
    pub fn limit(instrument: InstrumentId, side: Side, quantity: Decimal, price: Decimal) -> Self {
        let mut r = Self::new(instrument, side, quantity, OrderType::Limit);
        r.limit_price = Some(price);
        r
    }

    /// A stop (market) order.
    pub fn stop(instrument: InstrumentId, side: Side, quantity: Decimal, stop: Decimal) -> Self {
        let mut r = Self::new(instrument, side, quantity, OrderType::Stop);
        r.stop_price = Some(stop);
        r
    }

    /// A stop-limit order.
    pub fn stop_limit(
        instrument: InstrumentId,
        side: Side,
        quantity: Decimal,
        stop: Decimal,
        limit: Decimal,
    ) -> Self {
        let mut r = Self::new(instrument, side, quantity, OrderType::StopLimit);
        r.stop_price = Some(stop);
        r.limit_price = Some(limit);
        r
    }

    /// A trailing stop: its stop follows the market by `trail` (amount or percent).
    pub fn trailing_stop(
        instrument: InstrumentId,
        side: Side,
        quantity: Decimal,
        trail: Trail,
    ) -> Self {
        let mut r = Self::new(instrument, side, quantity, OrderType::TrailingStop);
        r.trail = Some(trail);
        r
    }

    /// A trailing stop-limit: a trailing stop whose trigger sends a limit `offset` beyond
    /// the stop (below it for a sell, above for a buy).
    pub fn trailing_stop_limit(
        instrument: InstrumentId,
        side: Side,
        quantity: Decimal,
        trail: Trail,
        offset: Decimal,
    ) -> Self {
        let mut r = Self::new(instrument, side, quantity, OrderType::TrailingStopLimit);
        r.trail = Some(trail);
        r.limit_offset = Some(offset);
        r
    }

    /// A market-on-close order.
    pub fn market_on_close(instrument: InstrumentId, side: Side, quantity: Decimal) -> Self {
        Self::new(instrument, side, quantity, OrderType::MarketOnClose)
    }

    /// A limit-on-close order.
    pub fn limit_on_close(
        instrument: InstrumentId,
        side: Side,
        quantity: Decimal,
        price: Decimal,
    ) -> Self {
        let mut r = Self::new(instrument, side, quantity, OrderType::LimitOnClose);
        r.limit_price = Some(price);
        r
    }

    /// A MIDPRICE order, optionally capped at `cap`.
    pub fn mid_price(
        instrument: InstrumentId,
        side: Side,
        quantity: Decimal,
        cap: Option<Decimal>,
    ) -> Self {
        let mut r = Self::new(instrument, side, quantity, OrderType::MidPrice);
        r.limit_price = cap;
        r
    }

    /// Builder: the initial stop of a trailing stop (otherwise set from the first price).
    pub fn with_stop(mut self, stop: Decimal) -> Self {
        self.stop_price = Some(stop);
        self
    }

    /// Builder: time in force.
    pub fn with_tif(mut self, tif: TimeInForce) -> Self {
        self.tif = tif;
        self
    }

    /// Builder: client order id (ignored when invalid; see [`ClientOrderId::new`]).
    pub fn with_client_id(mut self, id: &str) -> Self {
        self.client_order_id = ClientOrderId::new(id);
        self
    }

    /// Signed quantity: positive for buys, negative for sells.
    #[inline]
    pub fn signed_quantity(&self) -> Decimal {
        signed_qty(self.side, self.quantity)
    }

    /// A bracket exit (it has a parent): it closes what the parent opens, so it is not
    /// counted as open exposure.
    #[inline]
    pub fn is_exit(&self) -> bool {
        self.parent.is_some()
    }
}

/// A change to a working order: fields left `None` keep their value.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct OrderModify {
    pub quantity: Option<Decimal>,
    pub limit_price: Option<Decimal>,
    pub stop_price: Option<Decimal>,
}

/// One execution.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fill {
    pub order_id: OrderId,
    pub instrument: InstrumentId,
    pub side: Side,
    /// Positive quantity filled by this execution.
    pub quantity: Decimal,
    pub price: Decimal,
    pub commission: Decimal,
    pub ts: Ts,
    /// The venue's execution id ([`ExecId::NONE`] in backtests).
    pub exec_id: ExecId,
}

impl Fill {
    #[inline]
    pub fn signed_quantity(&self) -> Decimal {
        signed_qty(self.side, self.quantity)
    }
}
