use rust_decimal::Decimal;

use super::{RefusalReason, RiskCheck, RiskContext};
use crate::domain::OrderRequest;

/// Refuses orders larger than `limit` units.
pub struct MaxOrderQuantity {
    pub limit: Decimal,
}

impl RiskCheck for MaxOrderQuantity {
    fn name(&self) -> &'static str {
        "max_order_quantity"
    }

    fn check(&self, req: &OrderRequest, _ctx: &RiskContext<'_>) -> Result<(), RefusalReason> {
        if req.quantity > self.limit {
            return Err(RefusalReason::MaxOrderQuantity {
                quantity: req.quantity,
                limit: self.limit,
            });
        }
        Ok(())
    }
}
