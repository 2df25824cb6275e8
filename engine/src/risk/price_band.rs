use rust_decimal::Decimal;

use super::{RefusalReason, RiskCheck, RiskContext};
use crate::domain::OrderRequest;

/// Limit and stop prices must lie within `band_bps` basis points of the last price (fat-finger
/// guard). Market orders pass. Without a last price the order is refused.
pub struct PriceBand {
    pub band_bps: Decimal,
}

impl RiskCheck for PriceBand {
    fn name(&self) -> &'static str {
        "price_band"
    }

    fn checks_exits(&self) -> bool {
        true
    }

    fn check(&self, req: &OrderRequest, ctx: &RiskContext<'_>) -> Result<(), RefusalReason> {
        for price in [req.limit_price, req.stop_price].into_iter().flatten() {
            let last = ctx.last_price.ok_or(RefusalReason::NoReferencePrice)?;
            if last <= Decimal::ZERO {
                return Err(RefusalReason::NoReferencePrice);
            }
            let distance_bps = ((price - last).abs() / last * Decimal::from(10_000)).round_dp(2);
            if distance_bps > self.band_bps {
                return Err(RefusalReason::PriceBand {
                    price,
                    last,
                    distance_bps,
                    band_bps: self.band_bps,
                });
            }
        }
        Ok(())
    }
}
