use rust_decimal::Decimal;

use super::{RefusalReason, RiskCheck, RiskContext};
use crate::domain::OrderRequest;

/// Σ |market value| after the order may not exceed `limit`, unless the order reduces exposure.
pub struct MaxGrossExposure {
    pub limit: Decimal,
}

impl RiskCheck for MaxGrossExposure {
    fn name(&self) -> &'static str {
        "max_gross_exposure"
    }

    fn check(&self, req: &OrderRequest, ctx: &RiskContext<'_>) -> Result<(), RefusalReason> {
        if ctx.reduces_exposure(req) {
            return Ok(());
        }
        let price = ctx
            .reference_price(req)
            .ok_or(RefusalReason::NoReferencePrice)?;
        let m = ctx.instrument.multiplier;
        let pos = ctx.position + ctx.open_order_qty;
        let before = (pos * price * m).abs();
        let after = ((pos + req.signed_quantity()) * price * m).abs();
        let resulting = ctx.gross_exposure - before.min(ctx.gross_exposure) + after;
        if resulting > self.limit {
            return Err(RefusalReason::MaxGrossExposure {
                resulting,
                limit: self.limit,
            });
        }
        Ok(())
    }
}
