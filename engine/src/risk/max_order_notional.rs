use rust_decimal::Decimal;

use super::{RefusalReason, RiskCheck, RiskContext};
use crate::domain::OrderRequest;
use crate::money;

/// Refuses orders worth more than `limit` (quantity × reference price × multiplier).
pub struct MaxOrderNotional {
    limit: Decimal,
    /// `limit` in fixed point (see [`crate::money`]), for the integer comparison.
    limit_fx: i128,
}

impl MaxOrderNotional {
    pub fn new(limit: Decimal) -> Self {
        MaxOrderNotional {
            limit,
            limit_fx: money::to_fixed(limit),
        }
    }
}

impl RiskCheck for MaxOrderNotional {
    fn name(&self) -> &'static str {
        "max_order_notional"
    }

    fn check(&self, req: &OrderRequest, ctx: &RiskContext<'_>) -> Result<(), RefusalReason> {
        let price = ctx
            .reference_price(req)
            .ok_or(RefusalReason::NoReferencePrice)?;
        // Exact in fixed point when quantity and price have at most 12 decimals between
        // them and the multiplier is 1 (the usual case); otherwise in Decimal.
        let exact = money::is_one(ctx.instrument.multiplier)
            && req.quantity.scale() + price.scale() <= money::SCALE
            && self.limit.scale() <= money::SCALE;
        if exact {
            let notional = money::mul(
                req.quantity.mantissa(),
                req.quantity.scale(),
                price.mantissa(),
                price.scale(),
            )
            .abs();
            if notional <= self.limit_fx {
                return Ok(());
            }
        }
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
