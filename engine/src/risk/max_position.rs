use rust_decimal::Decimal;

use super::{RefusalReason, RiskCheck, RiskContext};
use crate::domain::OrderRequest;
use crate::money;

/// The absolute position per instrument, counting open orders, may not exceed `limit` —
/// unless the order shrinks it.
pub struct MaxPosition {
    limit: Decimal,
    /// `limit` in fixed point (see [`crate::money`]), for the integer comparison.
    limit_fx: i128,
}

impl MaxPosition {
    pub fn new(limit: Decimal) -> Self {
        MaxPosition {
            limit,
            limit_fx: money::to_fixed(limit),
        }
    }

    pub fn limit(&self) -> Decimal {
        self.limit
    }
}

/// `d` in fixed point when that is exact (at most 12 decimals).
#[inline]
fn exact_fixed(d: Decimal) -> Option<i128> {
    (d.scale() <= money::SCALE).then(|| money::to_fixed(d))
}

impl RiskCheck for MaxPosition {
    fn name(&self) -> &'static str {
        "max_position"
    }

    fn check(&self, req: &OrderRequest, ctx: &RiskContext<'_>) -> Result<(), RefusalReason> {
        // Integer path (quantities with at most 12 decimals: always, in practice).
        if let (Some(pos), Some(open), Some(q), true) = (
            exact_fixed(ctx.position),
            exact_fixed(ctx.open_order_qty),
            exact_fixed(req.quantity),
            self.limit.scale() <= money::SCALE,
        ) {
            let before = pos + open;
            let signed = if req.side == crate::domain::Side::Buy {
                q
            } else {
                -q
            };
            let resulting = (before + signed).abs();
            if resulting <= self.limit_fx || resulting <= before.abs() {
                return Ok(());
            }
        }
        let before = ctx.position + ctx.open_order_qty;
        let resulting = before + req.signed_quantity();
        if resulting.abs() > self.limit && resulting.abs() > before.abs() {
            return Err(RefusalReason::MaxPosition {
                resulting,
                limit: self.limit,
            });
        }
        Ok(())
    }
}
