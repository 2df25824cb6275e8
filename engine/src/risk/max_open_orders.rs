use super::{RefusalReason, RiskCheck, RiskContext};
use crate::domain::OrderRequest;

/// At most `limit` orders open at once (the new one included).
pub struct MaxOpenOrders {
    pub limit: usize,
}

impl RiskCheck for MaxOpenOrders {
    fn name(&self) -> &'static str {
        "max_open_orders"
    }

    fn checks_exits(&self) -> bool {
        true
    }

    fn check(&self, _req: &OrderRequest, ctx: &RiskContext<'_>) -> Result<(), RefusalReason> {
        if ctx.open_orders >= self.limit {
            return Err(RefusalReason::MaxOpenOrders {
                open: ctx.open_orders,
                limit: self.limit,
            });
        }
        Ok(())
    }
}
