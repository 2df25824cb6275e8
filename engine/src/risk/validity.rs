use rust_decimal::Decimal;

use super::{RefusalReason, RiskCheck, RiskContext};
use crate::domain::{OrderRequest, OrderType};

/// Structural validity: positive whole-lot quantity, the prices the order type needs, positive
/// prices. Always first in the chain.
pub struct Validity;

impl RiskCheck for Validity {
    fn name(&self) -> &'static str {
        "validity"
    }

    fn check(&self, req: &OrderRequest, ctx: &RiskContext<'_>) -> Result<(), RefusalReason> {
        let lot = ctx.instrument.lot_size;
        if req.quantity <= Decimal::ZERO || !ctx.instrument.is_on_lot(req.quantity) {
            return Err(RefusalReason::InvalidQuantity {
                quantity: req.quantity,
                lot,
            });
        }
        let needs_limit = matches!(req.order_type, OrderType::Limit | OrderType::StopLimit);
        let needs_stop = matches!(req.order_type, OrderType::Stop | OrderType::StopLimit);
        for (needed, value, field) in [
            (needs_limit, req.limit_price, "limit"),
            (needs_stop, req.stop_price, "stop"),
        ] {
            match (needed, value) {
                (true, None) => {
                    return Err(RefusalReason::MissingPrice {
                        order_type: req.order_type,
                        field,
                    });
                }
                (true, Some(p)) if p <= Decimal::ZERO => {
                    return Err(RefusalReason::InvalidPrice { field, price: p });
                }
                _ => {}
            }
        }
        Ok(())
    }
}
