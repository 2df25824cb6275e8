//! Paper accounts: cash, positions from fills, and the valuations every portfolio endpoint,
//! the P&L stream and the ledger report (one computation, so the numbers agree).

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use rust_decimal::dec;
use rust_decimal::prelude::FromPrimitive;

use tickline_engine::domain::{SecType, Side};

use crate::config::AccountConfig;
use crate::contract::Contract;
use crate::market::quote::Quote;

/// A position in one contract.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Position {
    /// Signed quantity (negative = short).
    pub qty: Decimal,
    /// Average entry price of the open quantity.
    pub avg_price: Decimal,
    /// Realized P&L on this contract (instrument currency).
    pub realized: Decimal,
}

/// One paper account.
#[derive(Clone, Debug)]
pub struct Account {
    pub id: String,
    pub title: String,
    pub currency: String,
    pub cash: Decimal,
    /// Positions by contract index (closed positions stay with qty 0 for realized P&L).
    pub positions: BTreeMap<usize, Position>,
    pub commissions: Decimal,
    /// Net liquidation value at the start of the current trade date (daily P&L base).
    pub day_start_nlv: Option<Decimal>,
}

/// Valuation of one position at the mark.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PositionValue {
    pub mark: Decimal,
    pub market_value: Decimal,
    pub unrealized: Decimal,
}

/// Account-wide numbers.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Valuation {
    pub cash: Decimal,
    pub nlv: Decimal,
    pub stock_value: Decimal,
    pub future_value: Decimal,
    pub fx_value: Decimal,
    pub gross_position_value: Decimal,
    pub unrealized: Decimal,
    pub realized: Decimal,
    pub init_margin: Decimal,
    pub maint_margin: Decimal,
    pub long_value: Decimal,
    pub short_value: Decimal,
}

impl Valuation {
    pub fn available_funds(&self) -> Decimal {
        self.nlv - self.init_margin
    }
    pub fn excess_liquidity(&self) -> Decimal {
        self.nlv - self.maint_margin
    }
    pub fn buying_power(&self) -> Decimal {
        (self.available_funds() * Decimal::from(4)).max(Decimal::ZERO)
    }
}

/// Mark price of a contract: the last price, else the mid.
pub fn mark(c: &Contract, q: &Quote) -> Option<Decimal> {
    if !q.has_data {
        return None;
    }
    c.inst.price_from_f64(q.last)
}

fn margin_rates(t: SecType) -> (Decimal, Decimal) {
    match t {
        SecType::Fut => (dec!(0.06), dec!(0.05)),
        SecType::Cash => (dec!(0.03), dec!(0.025)),
        _ => (dec!(0.30), dec!(0.25)),
    }
}

impl Account {
    pub fn new(cfg: &AccountConfig) -> Account {
        Account {
            id: cfg.id.clone(),
            title: cfg.title.clone(),
            currency: cfg.currency.clone(),
            cash: cfg.cash,
            positions: BTreeMap::new(),
            commissions: Decimal::ZERO,
            day_start_nlv: None,
        }
    }

    /// Book a fill.
    pub fn apply_fill(
        &mut self,
        index: usize,
        c: &Contract,
        side: Side,
        qty: Decimal,
        price: Decimal,
        commission: Decimal,
    ) {
        let mult = c.inst.multiplier;
        let signed = match side {
            Side::Buy => qty,
            Side::Sell => -qty,
        };
        let p = self.positions.entry(index).or_default();
        let mut realized = Decimal::ZERO;
        if p.qty.is_zero() || p.qty.is_sign_positive() == signed.is_sign_positive() {
            let total = p.qty.abs() + qty;
            p.avg_price = (p.qty.abs() * p.avg_price + qty * price) / total;
            p.qty += signed;
        } else {
            let closing = p.qty.abs().min(qty);
            let dir = if p.qty.is_sign_positive() {
                Decimal::ONE
            } else {
                Decimal::NEGATIVE_ONE
            };
            realized = closing * (price - p.avg_price) * dir * mult;
            p.qty += signed;
            if p.qty.is_zero() {
                p.avg_price = Decimal::ZERO;
            } else if p.qty.is_sign_positive() == signed.is_sign_positive() {
                // Flipped: the remainder opened at this price.
                p.avg_price = price;
            }
        }
        p.realized += realized;
        self.commissions += commission;
        match c.inst.sec_type {
            SecType::Fut => self.cash += realized - commission,
            _ => self.cash -= signed * price * mult + commission,
        }
    }

    /// Value one position at the contract's mark (falls back to the average price).
    pub fn position_value(c: &Contract, p: &Position, q: &Quote) -> PositionValue {
        let m = mark(c, q).unwrap_or(p.avg_price);
        let mult = c.inst.multiplier;
        PositionValue {
            mark: m,
            market_value: p.qty * m * mult,
            unrealized: p.qty * (m - p.avg_price) * mult,
        }
    }

    /// Value the whole account.
    pub fn valuation(&self, contracts: &[Contract], quotes: &[Quote]) -> Valuation {
        let mut v = Valuation {
            cash: self.cash,
            ..Valuation::default()
        };
        let mut nlv = self.cash;
        for (&i, p) in &self.positions {
            let (Some(c), Some(q)) = (contracts.get(i), quotes.get(i)) else {
                continue;
            };
            v.realized += p.realized;
            if p.qty.is_zero() {
                continue;
            }
            let pv = Account::position_value(c, p, q);
            v.unrealized += pv.unrealized;
            v.gross_position_value += pv.market_value.abs();
            if pv.market_value.is_sign_positive() {
                v.long_value += pv.market_value;
            } else {
                v.short_value += pv.market_value;
            }
            let (init, maint) = margin_rates(c.inst.sec_type);
            v.init_margin += pv.market_value.abs() * init;
            v.maint_margin += pv.market_value.abs() * maint;
            match c.inst.sec_type {
                SecType::Fut => {
                    v.future_value += pv.market_value;
                    nlv += pv.unrealized;
                }
                SecType::Cash => {
                    v.fx_value += pv.market_value;
                    nlv += pv.market_value;
                }
                _ => {
                    v.stock_value += pv.market_value;
                    nlv += pv.market_value;
                }
            }
        }
        v.nlv = nlv;
        v
    }

    /// Daily P&L: NLV now minus NLV at the start of the trade date.
    pub fn daily_pnl(&self, v: &Valuation) -> Decimal {
        self.day_start_nlv.map(|s| v.nlv - s).unwrap_or_default()
    }
}

/// `f64` → `Decimal` for market-data derived amounts (0 when not representable).
pub fn dec_from(x: f64) -> Decimal {
    Decimal::from_f64(x).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::build_universe;

    fn quote(px: f64) -> Quote {
        Quote {
            has_data: true,
            last: px,
            bid: px,
            ask: px,
            ..Quote::default()
        }
    }

    #[test]
    fn stock_round_trip_books_cash_and_realized() {
        let u = build_universe(&[], 0).unwrap();
        let mut a = Account::new(&AccountConfig::default());
        a.apply_fill(0, &u[0], Side::Buy, dec!(100), dec!(190), dec!(1));
        assert_eq!(a.cash, dec!(1_000_000) - dec!(19_001));
        let mut quotes = vec![Quote::default(); u.len()];
        quotes[0] = quote(192.0);
        let v = a.valuation(&u, &quotes);
        assert_eq!(v.stock_value, dec!(19_200));
        assert_eq!(v.unrealized, dec!(200));
        assert_eq!(v.nlv, dec!(1_000_000) - dec!(1) + dec!(200));
        a.apply_fill(0, &u[0], Side::Sell, dec!(150), dec!(195), dec!(1));
        let p = a.positions[&0];
        assert_eq!(p.qty, dec!(-50));
        assert_eq!(p.avg_price, dec!(195));
        assert_eq!(p.realized, dec!(500));
        assert_eq!(
            a.cash,
            dec!(1_000_000) - dec!(19_001) + dec!(29_250) - dec!(1)
        );
    }

    #[test]
    fn futures_settle_pnl_not_notional() {
        let u = build_universe(&[], 0).unwrap();
        let es = &u[5];
        let mut a = Account::new(&AccountConfig::default());
        a.apply_fill(5, es, Side::Buy, dec!(2), dec!(4750), dec!(1.70));
        assert_eq!(a.cash, dec!(1_000_000) - dec!(1.70));
        let mut quotes = vec![Quote::default(); u.len()];
        quotes[5] = quote(4760.0);
        let v = a.valuation(&u, &quotes);
        assert_eq!(v.unrealized, dec!(1000));
        assert_eq!(v.nlv, dec!(1_000_000) - dec!(1.70) + dec!(1000));
        a.apply_fill(5, es, Side::Sell, dec!(2), dec!(4760), dec!(1.70));
        assert_eq!(a.cash, dec!(1_000_000) - dec!(3.40) + dec!(1000));
        assert_eq!(a.positions[&5].qty, dec!(0));
    }
}
