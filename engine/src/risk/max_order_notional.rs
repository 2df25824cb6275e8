use rust_decimal::Decimal;

use super::{RefusalReason, RiskCheck, RiskContext};
use crate::domain::OrderRequest;

/// Refuses orders worth more than `limit` (quantity × reference price × multiplier).
pub struct MaxOrderNotional {
    pub limit: Decimal,
}

impl RiskCheck for MaxOrderNotional {
    fn name(&self) -> &'static str {
        "max_order_notional"
    }

    fn check(&self, req: &OrderRequest, ctx: &RiskContext<'_>) -> Result<(), RefusalReason> {
        let price = ctx
            .reference_price(req)
            .ok_or(RefusalReason::NoReferencePrice)?;
        let notional = (req.quantity * price * ctx.instrument.multiplier).abs();
        if notional > self.limit {
            return Err(RefusalReason::MaxOrderNotional {
                notional,
                limit: self.limit,
            });
        }
        Ok(())
    }
}
