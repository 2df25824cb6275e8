//! Commission models.
//!
//! `ibkr-fixed` follows IBKR's fixed pricing: US stocks USD 0.005 per share, minimum USD 1.00
//! and maximum 1 % of trade value per order; futures USD 0.85 per contract; FX 0.2 bps of value
//! with a USD 2.00 minimum. Minimum and maximum apply per order: a partial fill is charged the
//! order's cumulative commission so far minus what earlier fills of the order already paid.

use rust_decimal::Decimal;
use rust_decimal::dec;
use serde::{Deserialize, Serialize};

use tickline_engine::domain::{Instrument, SecType};
use tickline_engine::money;

/// Which commission schedule the simulated broker charges.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CommissionModel {
    /// No commissions.
    None,
    /// IBKR fixed pricing (see module docs).
    #[default]
    IbkrFixed,
}

impl CommissionModel {
    /// Commission of an order that has filled `qty` (absolute, cumulative) for `value`
    /// (absolute notional, cumulative).
    pub fn order_total(self, inst: &Instrument, qty: Decimal, value: Decimal) -> Decimal {
        match self {
            CommissionModel::None => Decimal::ZERO,
            CommissionModel::IbkrFixed => match inst.sec_type {
                SecType::Fut | SecType::Opt => dec!(0.85) * qty,
                SecType::Cash => (value * dec!(0.00002)).max(dec!(2)),
                _ => {
                    let per_share = dec!(0.005) * qty;
                    let max = value * dec!(0.01);
                    per_share.max(dec!(1)).min(max).round_dp(4)
                }
            },
        }
    }

    /// US-stock fixed pricing in fixed-point integers (the simulated broker's hot path):
    /// `clamp(0.005·qty, 1, 1 %·value)` rounded to 4 decimals, as a fixed-point amount.
    fn stock_total_fixed(qty: i128, value: i128) -> i128 {
        let per_share = div(qty * 5, 1000);
        let total = per_share.max(money::ONE).min(div(value, 100));
        // Round to 4 decimals (10⁸ fixed units), half away from zero (total is ≥ 0).
        let unit = 100_000_000i64;
        let r = rem(total, unit);
        total - r
            + if 2 * r >= unit as i128 {
                unit as i128
            } else {
                0
            }
    }

    /// Commission for one fill of `fill_qty` at `price`, given what the order had filled
    /// before (`prev_qty`, `prev_value`).
    pub fn for_fill(
        self,
        inst: &Instrument,
        prev_qty: Decimal,
        prev_value: Decimal,
        fill_qty: Decimal,
        price: Decimal,
    ) -> Decimal {
        self.for_fill_fixed(
            inst,
            prev_qty,
            money::to_fixed(prev_value.abs()),
            fill_qty,
            price,
        )
        .0
    }

    /// [`Self::for_fill`] with the order's previous notional in fixed point (see
    /// [`tickline_engine::money`]); also returns this fill's notional `|qty · price · m|` in
    /// fixed point, for the caller to accumulate (the simulated broker's hot path).
    pub fn for_fill_fixed(
        self,
        inst: &Instrument,
        prev_qty: Decimal,
        prev_value: i128,
        fill_qty: Decimal,
        price: Decimal,
    ) -> (Decimal, i128) {
        let q = if money::is_one(inst.multiplier) {
            fill_qty
        } else {
            fill_qty * inst.multiplier
        };
        let value = money::mul(q.mantissa(), q.scale(), price.mantissa(), price.scale()).abs();
        if self == CommissionModel::None {
            return (Decimal::ZERO, value);
        }
        if self == CommissionModel::IbkrFixed
            && matches!(
                inst.sec_type,
                SecType::Stk | SecType::Cfd | SecType::Bond | SecType::Ind | SecType::Crypto
            )
        {
            let q0 = money::to_fixed(prev_qty.abs());
            let q1 = q0 + money::to_fixed(fill_qty.abs());
            let before = if q0 == 0 {
                0
            } else {
                Self::stock_total_fixed(q0, prev_value)
            };
            let after = Self::stock_total_fixed(q1, prev_value + value);
            let fee = div((after - before).max(0), 100_000_000);
            return (decimal_4dp(fee), value);
        }
        let prev = money::from_fixed(prev_value);
        let before = if prev_qty.is_zero() {
            Decimal::ZERO
        } else {
            self.order_total(inst, prev_qty, prev)
        };
        let after = self.order_total(
            inst,
            prev_qty + fill_qty,
            prev + (fill_qty * price * inst.multiplier).abs(),
        );
        ((after - before).max(Decimal::ZERO), value)
    }
}

/// `x / d` (truncating), through 64-bit division when `x` fits (the compiler turns that into
/// a multiplication; 128-bit division is a library call).
#[inline]
fn div(x: i128, d: i64) -> i128 {
    match i64::try_from(x) {
        Ok(v) => (v / d) as i128,
        Err(_) => x / d as i128,
    }
}

/// `x.rem_euclid(d)` for `d > 0`, through 64-bit arithmetic when `x` fits.
#[inline]
fn rem(x: i128, d: i64) -> i128 {
    match i64::try_from(x) {
        Ok(v) => v.rem_euclid(d) as i128,
        Err(_) => x.rem_euclid(d as i128),
    }
}

/// A non-negative amount in 10⁻⁴ units as a `Decimal` without trailing zeros (what
/// `normalize()` gives, without its general loop).
#[inline]
fn decimal_4dp(units: i128) -> Decimal {
    let Ok(mut m) = i64::try_from(units) else {
        let a = units.unsigned_abs();
        return Decimal::from_parts(a as u32, (a >> 32) as u32, (a >> 64) as u32, false, 4)
            .normalize();
    };
    let mut scale = 4;
    while scale > 0 && m % 10 == 0 {
        m /= 10;
        scale -= 1;
    }
    money::decimal_from_i64(m, scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ibkr_fixed_us_stocks() {
        let s = Instrument::stock("AAPL");
        let m = CommissionModel::IbkrFixed;
        // 100 shares × 0.005 = 0.50 → minimum 1.00.
        assert_eq!(
            m.for_fill(&s, dec!(0), dec!(0), dec!(100), dec!(150)),
            dec!(1)
        );
        // 1000 shares × 0.005 = 5.00.
        assert_eq!(
            m.for_fill(&s, dec!(0), dec!(0), dec!(1000), dec!(150)),
            dec!(5)
        );
        // Penny stock: 1000 × 0.05 = 50 value → max 1 % = 0.50 (below the minimum, the cap wins).
        assert_eq!(
            m.for_fill(&s, dec!(0), dec!(0), dec!(1000), dec!(0.05)),
            dec!(0.5)
        );
        // Partial fills: 100 then 900 = 5.00 in total.
        let first = m.for_fill(&s, dec!(0), dec!(0), dec!(100), dec!(150));
        let second = m.for_fill(&s, dec!(100), dec!(15000), dec!(900), dec!(150));
        assert_eq!(first + second, dec!(5));
        assert_eq!(
            CommissionModel::None.for_fill(&s, dec!(0), dec!(0), dec!(1000), dec!(150)),
            dec!(0)
        );
    }

    proptest::proptest! {
        /// The integer path equals the Decimal definition for any split of an order.
        #[test]
        fn integer_path_matches_decimal(q1 in 1i64..5_000, q2 in 0i64..5_000, cents in 1i64..100_000) {
            let s = Instrument::stock("X");
            let m = CommissionModel::IbkrFixed;
            let price = Decimal::new(cents, 2);
            let first = m.for_fill(&s, dec!(0), dec!(0), Decimal::from(q1), price);
            proptest::prop_assert_eq!(first, m.order_total(&s, Decimal::from(q1), Decimal::from(q1) * price));
            let v1 = Decimal::from(q1) * price;
            let second = m.for_fill(&s, Decimal::from(q1), v1, Decimal::from(q2), price);
            let total = m.order_total(&s, Decimal::from(q1 + q2), Decimal::from(q1 + q2) * price);
            proptest::prop_assert_eq!(first + second, total);
        }
    }

    #[test]
    fn amounts_have_no_trailing_zeros() {
        for (units, text) in [
            (10_000, "1"),
            (12_500, "1.25"),
            (5, "0.0005"),
            (0, "0"),
            (1_234_567, "123.4567"),
        ] {
            assert_eq!(decimal_4dp(units).to_string(), text);
        }
        let big = i128::from(i64::MAX) * 10;
        assert_eq!(
            decimal_4dp(big),
            Decimal::from_i128_with_scale(big, 4).normalize()
        );
    }

    #[test]
    fn futures_per_contract() {
        let mut es = Instrument::stock("ES").with_specs(dec!(0.25), dec!(1), dec!(50));
        es.sec_type = SecType::Fut;
        assert_eq!(
            CommissionModel::IbkrFixed.for_fill(&es, dec!(0), dec!(0), dec!(3), dec!(4000)),
            dec!(2.55)
        );
    }
}
