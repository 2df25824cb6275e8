use rust_decimal::Decimal;

use super::{RefusalReason, RiskCheck, RiskContext};
use crate::domain::OrderRequest;

/// The absolute position per instrument, counting open orders, may not exceed `limit` —
/// unless the order shrinks it.
pub struct MaxPosition {
    pub limit: Decimal,
}

impl RiskCheck for MaxPosition {
    fn name(&self) -> &'static str {
        "max_position"
    }

    fn check(&self, req: &OrderRequest, ctx: &RiskContext<'_>) -> Result<(), RefusalReason> {
        // Integer path when every quantity has the same scale (whole shares: always, in
        // practice): compare mantissas.
        let scale = req.quantity.scale();
        if ctx.position.scale() == scale
            && ctx.open_order_qty.scale() == scale
            && self.limit.scale() == scale
        {
            let before = ctx.position.mantissa() + ctx.open_order_qty.mantissa();
            let q = req.quantity.mantissa();
            let signed = if req.side == crate::domain::Side::Buy {
                q
            } else {
                -q
            };
            let resulting = (before + signed).abs();
            if resulting <= self.limit.mantissa() || resulting <= before.abs() {
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
