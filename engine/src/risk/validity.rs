use rust_decimal::Decimal;

use super::{RefusalReason, RiskCheck, RiskContext};
use crate::domain::{OrderRequest, OrderType, TimeInForce, Trail};

/// Structural validity: positive whole-lot quantity, the prices the order type needs, positive
/// prices, a sane trail for trailing stops, OPG only on market and limit orders. Always first
/// in the chain.
pub struct Validity;

impl RiskCheck for Validity {
    fn name(&self) -> &'static str {
        "validity"
    }

    fn checks_exits(&self) -> bool {
        true
    }

    fn check(&self, req: &OrderRequest, ctx: &RiskContext<'_>) -> Result<(), RefusalReason> {
        let lot = ctx.instrument.lot_size;
        if req.quantity <= Decimal::ZERO || !ctx.instrument.is_on_lot(req.quantity) {
            return Err(RefusalReason::InvalidQuantity {
                quantity: req.quantity,
                lot,
            });
        }
        for (needed, value, field) in [
            (req.order_type.needs_limit(), req.limit_price, "limit"),
            (req.order_type.needs_stop(), req.stop_price, "stop"),
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
                (false, Some(p)) if p <= Decimal::ZERO => {
                    return Err(RefusalReason::InvalidPrice { field, price: p });
                }
                _ => {}
            }
        }
        if req.order_type.is_trailing() {
            match req.trail {
                None => return Err(RefusalReason::MissingTrail),
                Some(t) if !valid_trail(t) => return Err(RefusalReason::InvalidTrail { trail: t }),
                Some(_) => {}
            }
        }
        if req.order_type == OrderType::TrailingStopLimit
            && req.limit_offset.is_none_or(|o| o < Decimal::ZERO)
        {
            return Err(RefusalReason::MissingPrice {
                order_type: req.order_type,
                field: "limit offset",
            });
        }
        if req.tif == TimeInForce::Opg
            && !matches!(req.order_type, OrderType::Market | OrderType::Limit)
        {
            return Err(RefusalReason::TifNotAllowed {
                tif: req.tif,
                order_type: req.order_type,
            });
        }
        Ok(())
    }
}

/// A positive amount, or a percentage in (0, 100).
fn valid_trail(t: Trail) -> bool {
    match t {
        Trail::Amount(a) => a > Decimal::ZERO,
        Trail::Percent(p) => p > Decimal::ZERO && p < Decimal::ONE_HUNDRED,
    }
}
