//! Fixed-point money for the per-bar hot path: `i128` units of 10⁻¹² (the portfolio's
//! internal representation). Every public API still speaks `Decimal`; conversion is exact for
//! values with at most 12 decimal places and rounds half away from zero beyond that.

use rust_decimal::Decimal;

/// Decimal places of the fixed-point representation.
pub const SCALE: u32 = 12;

/// 1.0 in fixed point.
pub const ONE: i128 = 1_000_000_000_000;

const POW10: [i128; 39] = {
    let mut t = [1i128; 39];
    let mut i = 1;
    while i < 39 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// `10^k` for `k ≤ 38`.
#[inline]
pub fn pow10(k: u32) -> i128 {
    POW10[k as usize]
}

/// `mantissa · 10^-scale` as a `Decimal` (`scale ≤ 28`), built from its parts: no
/// overflow checks are needed for a 64-bit mantissa.
#[inline]
pub fn decimal_from_i64(mantissa: i64, scale: u32) -> Decimal {
    let a = mantissa.unsigned_abs();
    Decimal::from_parts(a as u32, (a >> 32) as u32, 0, mantissa < 0, scale)
}

/// `d == 1` without `Decimal`'s general comparison (any scale: `1`, `1.00`, …).
#[inline]
pub fn is_one(d: Decimal) -> bool {
    let s = d.scale() as usize;
    s < POW10.len() && d.mantissa() == POW10[s]
}

/// Divide by a positive power of ten, rounding half away from zero.
#[inline]
fn div_round(m: i128, d: i128) -> i128 {
    let q = m / d;
    let r = m % d;
    if 2 * r.abs() >= d { q + m.signum() } else { q }
}

/// A mantissa at `scale` decimals → fixed point (saturating on absurd magnitudes).
#[inline]
pub fn rescale(m: i128, scale: u32) -> i128 {
    if scale <= SCALE {
        // A 64-bit mantissa times at most 10¹² (< 2⁴⁰) cannot overflow: no checked multiply.
        match i64::try_from(m) {
            Ok(x) => x as i128 * POW10[(SCALE - scale) as usize],
            Err(_) => m.saturating_mul(POW10[(SCALE - scale) as usize]),
        }
    } else if scale - SCALE < 39 {
        div_round(m, POW10[(scale - SCALE) as usize])
    } else {
        0
    }
}

/// Fixed point → `Decimal` without the general constructor's checks when the value fits
/// in 96 bits (always, for realistic money).
#[inline]
pub fn from_fixed_fast(v: i128) -> Decimal {
    let a = v.unsigned_abs();
    if a >> 96 == 0 {
        Decimal::from_parts(a as u32, (a >> 32) as u32, (a >> 64) as u32, v < 0, SCALE)
    } else {
        from_fixed(v)
    }
}

/// `Decimal` → fixed point.
#[inline]
pub fn to_fixed(d: Decimal) -> i128 {
    rescale(d.mantissa(), d.scale())
}

/// Fixed point → `Decimal` (saturating at `Decimal::MAX`/`MIN`).
#[inline]
pub fn from_fixed(v: i128) -> Decimal {
    Decimal::try_from_i128_with_scale(v, SCALE).unwrap_or(if v < 0 {
        Decimal::MIN
    } else {
        Decimal::MAX
    })
}

/// `a · b` where both are given as (mantissa, scale), in fixed point. Falls back to `Decimal`
/// multiplication if the mantissa product overflows `i128`.
#[inline]
pub fn mul(am: i128, ascale: u32, bm: i128, bscale: u32) -> i128 {
    // Fast path: both mantissas fit in i64, so the product fits in i128 without checks; if
    // it also fits in i64 the rescale by at most 10¹² cannot overflow either.
    if let (Ok(a), Ok(b)) = (i64::try_from(am), i64::try_from(bm)) {
        let p = a as i128 * b as i128;
        let s = ascale + bscale;
        if s <= SCALE && (p.unsigned_abs() >> 63) == 0 {
            return p.wrapping_mul(POW10[(SCALE - s) as usize]);
        }
    }
    match am.checked_mul(bm) {
        Some(m) => rescale(m, ascale + bscale),
        None => {
            let a = Decimal::try_from_i128_with_scale(am, ascale).unwrap_or(Decimal::MAX);
            let b = Decimal::try_from_i128_with_scale(bm, bscale).unwrap_or(Decimal::MAX);
            a.checked_mul(b).map_or(i128::MAX, to_fixed)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::dec;

    #[test]
    fn round_trips_and_multiplies() {
        for d in [
            dec!(0),
            dec!(1),
            dec!(-1),
            dec!(123.456),
            dec!(-0.000000000001),
            dec!(98765432.1),
        ] {
            assert_eq!(from_fixed(to_fixed(d)), d);
        }
        assert_eq!(
            to_fixed(dec!(0.0000000000005)),
            1,
            "half rounds away from zero"
        );
        assert_eq!(to_fixed(dec!(-0.0000000000005)), -1);
        let q = dec!(-150);
        let p = dec!(101.2345);
        assert_eq!(
            from_fixed(mul(q.mantissa(), q.scale(), p.mantissa(), p.scale())),
            q * p
        );
        for (d, one) in [
            (dec!(1), true),
            (dec!(1.000), true),
            (dec!(-1), false),
            (dec!(10), false),
            (dec!(0.1), false),
            (dec!(0), false),
        ] {
            assert_eq!(is_one(d), one, "{d}");
        }
        for (m, s) in [
            (0i64, 0u32),
            (12_345, 2),
            (-12_345, 2),
            (i64::MAX, 4),
            (i64::MIN, 28),
        ] {
            assert_eq!(decimal_from_i64(m, s), Decimal::new(m, s));
        }
        let big = Decimal::MAX;
        assert_eq!(
            from_fixed(mul(big.mantissa(), 0, big.mantissa(), 0)),
            Decimal::MAX
        );
    }
}
