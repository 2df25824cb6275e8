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
