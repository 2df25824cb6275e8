//! Cash, positions and profit and loss, all in `Decimal`, updated in O(1) per fill and per
//! price.
//!
//! Accounting: a buy of `q` at `p` with multiplier `m` pays `q·p·m + commission` from cash; a
//! position's market value is `qty·last·m`; equity = cash + Σ market values. Realised PnL uses
//! the average-cost method. All instruments are assumed to be in the account's currency.

use rust_decimal::Decimal;

use crate::domain::{Fill, Instrument, InstrumentId};
use crate::money::{self, from_fixed, to_fixed};

/// One instrument's position.
#[derive(Clone, Debug, PartialEq)]
pub struct Position {
    pub instrument: InstrumentId,
    /// Signed quantity (negative = short).
    pub quantity: Decimal,
    /// Average entry price of the open quantity (0 when flat).
    pub avg_price: Decimal,
    /// Realised PnL so far, before commissions (fixed point; see [`Position::realized_pnl`]).
    realized_fx: i128,
    /// Commissions paid on this instrument (fixed point; see [`Position::commissions`]).
    commissions_fx: i128,
    /// Last known price (mark), if any: see [`Position::last_price`].
    last: LastPrice,
    multiplier: Decimal,
    /// `multiplier == 1` (most instruments), checked once.
    mult_one: bool,
    /// `quantity · multiplier` as (mantissa, scale), so a mark is one integer product.
    qty_mult: (i128, u32),
    /// `quantity · last · multiplier`, fixed point.
    mv: i128,
    /// Fixed-point value of one unit of a price mantissa at `mark_scale` decimals
    /// (`quantity · multiplier · 10^(12 − scale)`), so a mark is one `i64 × i64` product;
    /// `mark_scale == NO_MARK_K` when not computed (or not representable).
    mark_k: i64,
    mark_scale: u32,
}

const NO_MARK_K: u32 = u32::MAX;

/// The last mark, kept in the form it arrived in (the per-bar path stores an integer
/// mantissa; the `Decimal` is built only when somebody asks).
#[derive(Clone, Copy, Debug, PartialEq)]
enum LastPrice {
    None,
    Decimal(Decimal),
    /// `mantissa · 10^-scale`.
    Mantissa(i64, u32),
}

impl LastPrice {
    #[inline]
    fn get(self) -> Option<Decimal> {
        match self {
            LastPrice::None => None,
            LastPrice::Decimal(d) => Some(d),
            LastPrice::Mantissa(m, s) => Some(money::decimal_from_i64(m, s)),
        }
    }
}

impl Position {
    fn new(instrument: &Instrument) -> Self {
        Position {
            instrument: instrument.id,
            quantity: Decimal::ZERO,
            avg_price: Decimal::ZERO,
            realized_fx: 0,
            commissions_fx: 0,
            last: LastPrice::None,
            multiplier: instrument.multiplier,
            mult_one: money::is_one(instrument.multiplier),
            qty_mult: (0, 0),
            mv: 0,
            mark_k: 0,
            mark_scale: NO_MARK_K,
        }
    }

    /// `quantity · last · multiplier`.
    pub fn market_value(&self) -> Decimal {
        from_fixed(self.mv)
    }

    /// Realised PnL so far, before commissions.
    pub fn realized_pnl(&self) -> Decimal {
        from_fixed(self.realized_fx).normalize()
    }

    /// Commissions paid on this instrument.
    pub fn commissions(&self) -> Decimal {
        from_fixed(self.commissions_fx).normalize()
    }

    /// Last known price (mark), if any.
    pub fn last_price(&self) -> Option<Decimal> {
        self.last.get()
    }

    /// Unrealised PnL at the last price.
    pub fn unrealized_pnl(&self) -> Decimal {
        match self.last_price() {
            Some(p) if !self.quantity.is_zero() => {
                (p - self.avg_price) * self.quantity * self.multiplier
            }
            _ => Decimal::ZERO,
        }
    }

    pub fn is_flat(&self) -> bool {
        self.quantity.is_zero()
    }
}

/// What a fill did to the books.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FillEffect {
    /// Gross PnL realised by this fill (before commission).
    pub realized_pnl: Decimal,
    /// Position after the fill.
    pub position_after: Decimal,
}

/// The account: cash, positions and running totals. Totals are kept in fixed point
/// (10⁻¹² units, see [`crate::money`]) so marking to market is integer arithmetic; every
/// accessor returns `Decimal`.
#[derive(Clone, Debug)]
pub struct Portfolio {
    initial_cash: Decimal,
    positions: Vec<Position>,
    cash: i128,
    /// Σ market values.
    market_value: i128,
    commissions: i128,
    realized_pnl: i128,
    /// Number of instruments with a non-zero position.
    open_positions: usize,
}

impl Portfolio {
    pub fn new(cash: Decimal, instruments: &[Instrument]) -> Self {
        Portfolio {
            initial_cash: cash,
            cash: to_fixed(cash),
            positions: instruments.iter().map(Position::new).collect(),
            market_value: 0,
            commissions: 0,
            realized_pnl: 0,
            open_positions: 0,
        }
    }

    pub fn initial_cash(&self) -> Decimal {
        self.initial_cash
    }
    pub fn cash(&self) -> Decimal {
        from_fixed(self.cash)
    }
    /// Cash plus the market value of every position.
    #[inline]
    pub fn equity(&self) -> Decimal {
        money::from_fixed_fast(self.cash + self.market_value)
    }

    /// Equity in fixed point (10⁻¹² units; see [`crate::money`]).
    #[inline]
    pub fn equity_fixed(&self) -> i128 {
        self.cash + self.market_value
    }
    /// Σ market values (long minus short).
    pub fn net_exposure(&self) -> Decimal {
        from_fixed(self.market_value)
    }
    /// Σ |market value| (summed over the instruments when asked: it is read per order, not
    /// per bar).
    pub fn gross_exposure(&self) -> Decimal {
        money::from_fixed_fast(self.positions.iter().map(|p| p.mv.abs()).sum())
    }
    pub fn commissions(&self) -> Decimal {
        from_fixed(self.commissions)
    }
    /// Realised PnL over all instruments, before commissions.
    pub fn realized_pnl(&self) -> Decimal {
        from_fixed(self.realized_pnl)
    }
    /// Unrealised PnL over all instruments.
    pub fn unrealized_pnl(&self) -> Decimal {
        self.positions.iter().map(Position::unrealized_pnl).sum()
    }
    pub fn positions(&self) -> &[Position] {
        &self.positions
    }
    pub fn position(&self, id: InstrumentId) -> Option<&Position> {
        self.positions.get(id.index())
    }
    /// Signed quantity held in `id` (0 for unknown instruments).
    #[inline]
    pub fn quantity(&self, id: InstrumentId) -> Decimal {
        self.positions
            .get(id.index())
            .map_or(Decimal::ZERO, |p| p.quantity)
    }
    pub fn last_price(&self, id: InstrumentId) -> Option<Decimal> {
        self.positions
            .get(id.index())
            .and_then(Position::last_price)
    }
    /// True when any position is open.
    #[inline]
    pub fn in_market(&self) -> bool {
        self.open_positions > 0
    }

    /// Mark `id` at `price`; O(1), integer arithmetic only.
    #[inline]
    pub fn mark(&mut self, id: InstrumentId, price: Decimal) {
        let Some(p) = self.positions.get_mut(id.index()) else {
            return;
        };
        p.last = LastPrice::Decimal(price);
        if p.qty_mult.0 != 0 {
            let mv = money::mul(p.qty_mult.0, p.qty_mult.1, price.mantissa(), price.scale());
            self.market_value += mv - p.mv;
            p.mv = mv;
        }
    }

    /// Mark `id` at the price `mantissa · 10^-scale` (the kernel's per-bar path: the bar
    /// close as an integer mantissa at the instrument's price scale). Same result as
    /// [`Self::mark`] with that price.
    #[inline]
    pub fn mark_mantissa(&mut self, id: InstrumentId, mantissa: i64, scale: u32) {
        let Some(p) = self.positions.get_mut(id.index()) else {
            return;
        };
        if p.mark_scale != scale {
            Self::prepare_mark(p, scale);
        }
        if p.mark_scale != scale {
            // Not representable as an i64 factor: the general path.
            return self.mark(id, money::decimal_from_i64(mantissa, scale));
        }
        p.last = LastPrice::Mantissa(mantissa, scale);
        if p.mark_k != 0 {
            let mv = p.mark_k as i128 * mantissa as i128;
            self.market_value += mv - p.mv;
            p.mv = mv;
        }
    }

    /// Compute `mark_k` for prices at `scale` decimals, if it fits an `i64`.
    #[cold]
    fn prepare_mark(p: &mut Position, scale: u32) {
        p.mark_scale = NO_MARK_K;
        let (qm, qs) = p.qty_mult;
        if scale > 28 || qs + scale > money::SCALE {
            return;
        }
        let k = qm.checked_mul(money::pow10(money::SCALE - qs - scale));
        if let Some(k) = k.and_then(|k| i64::try_from(k).ok()) {
            p.mark_k = k;
            p.mark_scale = scale;
        }
    }

    /// Set cash (reconciliation with the broker's ledger).
    pub fn set_cash(&mut self, cash: Decimal) {
        self.cash = to_fixed(cash);
    }

    /// Set a position's quantity and average price (reconciliation with the broker's
    /// positions); it is marked at its last price, or at `avg_price` when it has none.
    pub fn set_position(&mut self, id: InstrumentId, quantity: Decimal, avg_price: Decimal) {
        let Some(p) = self.positions.get_mut(id.index()) else {
            return;
        };
        let was_open = !p.quantity.is_zero();
        p.quantity = quantity;
        p.avg_price = if quantity.is_zero() {
            Decimal::ZERO
        } else {
            avg_price
        };
        let qm = if p.mult_one {
            quantity
        } else {
            quantity * p.multiplier
        };
        p.qty_mult = (qm.mantissa(), qm.scale());
        p.mark_scale = NO_MARK_K;
        match (was_open, !quantity.is_zero()) {
            (false, true) => self.open_positions += 1,
            (true, false) => self.open_positions -= 1,
            _ => {}
        }
        let price = p.last.get().unwrap_or(avg_price);
        let mv = money::mul(qm.mantissa(), qm.scale(), price.mantissa(), price.scale());
        self.market_value += mv - p.mv;
        p.mv = mv;
        if matches!(p.last, LastPrice::None) && !quantity.is_zero() {
            p.last = LastPrice::Decimal(avg_price);
        }
    }

    /// Change the commission of a booked fill by `delta` (a commission the venue reported
    /// late): cash, the instrument's and the account's commissions.
    pub fn adjust_commission(&mut self, id: InstrumentId, delta: Decimal) {
        let d = to_fixed(delta);
        if let Some(p) = self.positions.get_mut(id.index()) {
            p.commissions_fx += d;
        }
        self.cash -= d;
        self.commissions += d;
    }

    /// Book a fill: cash, average price, realised PnL, commission; the position is then
    /// marked at the fill price.
    pub fn apply_fill(&mut self, fill: &Fill) -> FillEffect {
        let Some(p) = self.positions.get_mut(fill.instrument.index()) else {
            return FillEffect {
                realized_pnl: Decimal::ZERO,
                position_after: Decimal::ZERO,
            };
        };
        let dq = fill.signed_quantity();
        let old = p.quantity;
        let new = old + dq;
        let mut realized = Decimal::ZERO;

        if old.is_zero() {
            p.avg_price = fill.price;
        } else if old.is_sign_positive() == dq.is_sign_positive() {
            // Adding: new average price.
            let total = old.abs() + dq.abs();
            p.avg_price = (p.avg_price * old.abs() + fill.price * dq.abs()) / total;
        } else {
            // Reducing, closing or reversing.
            let closed = dq.abs().min(old.abs());
            let gross = (fill.price - p.avg_price) * closed;
            let gross = if old.is_sign_positive() {
                gross
            } else {
                -gross
            };
            realized = if p.mult_one {
                gross
            } else {
                gross * p.multiplier
            };
            if new.is_zero() {
                p.avg_price = Decimal::ZERO;
            } else if new.is_sign_positive() != old.is_sign_positive() {
                // Reversed: the remainder opens at the fill price.
                p.avg_price = fill.price;
            }
        }

        let was_open = !old.is_zero();
        p.quantity = new;
        let qm = if p.mult_one { new } else { new * p.multiplier };
        p.qty_mult = (qm.mantissa(), qm.scale());
        p.mark_scale = NO_MARK_K;
        let (realized_fx, commission_fx) = (to_fixed(realized), to_fixed(fill.commission));
        p.realized_fx += realized_fx;
        p.commissions_fx += commission_fx;
        let dq_mult = if p.mult_one { dq } else { dq * p.multiplier };
        let px = (fill.price.mantissa(), fill.price.scale());
        self.cash -= money::mul(dq_mult.mantissa(), dq_mult.scale(), px.0, px.1) + commission_fx;
        self.commissions += commission_fx;
        self.realized_pnl += realized_fx;
        match (was_open, !new.is_zero()) {
            (false, true) => self.open_positions += 1,
            (true, false) => self.open_positions -= 1,
            _ => {}
        }
        // Re-mark at the fill price so equity reflects the trade immediately.
        let mv = money::mul(p.qty_mult.0, p.qty_mult.1, px.0, px.1);
        self.market_value += mv - p.mv;
        p.mv = mv;
        p.last = LastPrice::Decimal(fill.price);

        FillEffect {
            realized_pnl: realized,
            position_after: new,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{OrderId, Side};
    use rust_decimal::dec;

    fn fill(side: Side, qty: Decimal, price: Decimal, commission: Decimal) -> Fill {
        Fill {
            order_id: OrderId(1),
            instrument: InstrumentId(0),
            side,
            quantity: qty,
            price,
            commission,
            ts: 0,
            exec_id: crate::domain::ExecId::NONE,
        }
    }

    #[test]
    fn round_trip_long_and_reversal() {
        let inst = vec![Instrument::stock("SPY")];
        let mut pf = Portfolio::new(dec!(10000), &inst);
        pf.apply_fill(&fill(Side::Buy, dec!(10), dec!(100), dec!(1)));
        assert_eq!(pf.cash(), dec!(8999));
        assert_eq!(pf.equity(), dec!(9999));
        pf.mark(InstrumentId(0), dec!(110));
        assert_eq!(pf.equity(), dec!(10099));
        assert_eq!(pf.unrealized_pnl(), dec!(100));
        // Sell 20: close 10 (+100 realised) and open 10 short at 110.
        let e = pf.apply_fill(&fill(Side::Sell, dec!(20), dec!(110), dec!(1)));
        assert_eq!(e.realized_pnl, dec!(100));
        assert_eq!(e.position_after, dec!(-10));
        assert_eq!(pf.position(InstrumentId(0)).unwrap().avg_price, dec!(110));
        assert_eq!(pf.equity(), dec!(10098));
        pf.mark(InstrumentId(0), dec!(100));
        assert_eq!(pf.equity(), dec!(10198));
        assert_eq!(pf.gross_exposure(), dec!(1000));
        assert_eq!(pf.commissions(), dec!(2));
        assert!(pf.in_market());
    }

    proptest::proptest! {
        /// At zero cost, a fill at the current mark price moves value between cash and the
        /// position without changing equity; marks change equity by exactly qty × Δp × m.
        #[test]
        fn value_is_conserved_across_fills(
            steps in proptest::collection::vec((any_side(), 1i64..500, 1i64..100_000), 1..60),
            mult in 1i64..100,
        ) {
            let inst = Instrument::stock("X").with_specs(dec!(0.01), dec!(1), Decimal::from(mult));
            let mut pf = Portfolio::new(dec!(1000000), &[inst]);
            let id = InstrumentId(0);
            for (side, qty, cents) in steps {
                let price = Decimal::new(cents, 2);
                let before_mark = pf.equity();
                let pos = pf.quantity(id);
                let old_price = pf.last_price(id).unwrap_or(price);
                pf.mark(id, price);
                proptest::prop_assert_eq!(pf.equity() - before_mark, pos * (price - old_price) * Decimal::from(mult));
                let before = pf.equity();
                pf.apply_fill(&fill(side, Decimal::from(qty), price, Decimal::ZERO));
                proptest::prop_assert_eq!(pf.equity(), before);
                proptest::prop_assert_eq!(pf.cash() + pf.net_exposure(), before);
                // Realised + unrealised PnL equals the change in equity (up to the rounding of
                // the average-price division).
                let gap = (pf.realized_pnl() + pf.unrealized_pnl() - (pf.equity() - pf.initial_cash())).abs();
                proptest::prop_assert!(gap < dec!(0.000000001), "gap {}", gap);
            }
        }
    }

    proptest::proptest! {
        /// The per-bar integer mark equals the general `Decimal` mark, for any position,
        /// multiplier and price scale.
        #[test]
        fn mark_mantissa_equals_mark(
            fills in proptest::collection::vec((any_side(), 1i64..5_000, 1i64..10_000_000), 0..8),
            mult in proptest::prop_oneof![proptest::strategy::Just(1i64), 1i64..1000],
            mantissa in -10_000_000_000i64..10_000_000_000,
            scale in 0u32..16,
        ) {
            let inst = Instrument::stock("X").with_specs(dec!(0.01), dec!(1), Decimal::from(mult));
            let mut a = Portfolio::new(dec!(1000000), std::slice::from_ref(&inst));
            for (side, qty, cents) in fills {
                a.apply_fill(&fill(side, Decimal::from(qty), Decimal::new(cents, 2), dec!(0.5)));
            }
            let mut b = a.clone();
            let id = InstrumentId(0);
            a.mark(id, Decimal::new(mantissa, scale));
            b.mark_mantissa(id, mantissa, scale);
            proptest::prop_assert_eq!(a.equity(), b.equity());
            proptest::prop_assert_eq!(a.gross_exposure(), b.gross_exposure());
            proptest::prop_assert_eq!(a.last_price(id), b.last_price(id));
            // Marking again (cached factor) stays equal.
            a.mark(id, Decimal::new(mantissa / 3, scale));
            b.mark_mantissa(id, mantissa / 3, scale);
            proptest::prop_assert_eq!(a.equity(), b.equity());
        }
    }

    fn any_side() -> impl proptest::strategy::Strategy<Value = Side> {
        proptest::prop_oneof![
            proptest::strategy::Just(Side::Buy),
            proptest::strategy::Just(Side::Sell)
        ]
    }

    #[test]
    fn futures_multiplier() {
        let es = Instrument::stock("ES").with_specs(dec!(0.25), dec!(1), dec!(50));
        let mut pf = Portfolio::new(dec!(100000), &[es]);
        pf.apply_fill(&fill(Side::Buy, dec!(2), dec!(4000), dec!(0)));
        pf.mark(InstrumentId(0), dec!(4010.25));
        assert_eq!(pf.equity(), dec!(101025));
        let e = pf.apply_fill(&fill(Side::Sell, dec!(2), dec!(4010.25), dec!(0)));
        assert_eq!(e.realized_pnl, dec!(1025));
        assert!(!pf.in_market());
        assert_eq!(pf.equity(), dec!(101025));
    }
}
