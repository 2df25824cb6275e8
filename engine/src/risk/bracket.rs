//! Bracket exits: an order with a `parent` closes what its parent opens, so the bracket is
//! checked as one exposure. The parent passes the whole chain; each exit only has to fit it:
//! the parent is known and still alive, the exit trades the other way, and it is no larger
//! than the parent. The exposure checks (position, notional, gross exposure, buying power)
//! skip exits; validity, price band and open-order count still apply.

use super::{RefusalReason, RiskCheck, RiskContext};
use crate::domain::OrderRequest;

pub struct BracketExit;

impl RiskCheck for BracketExit {
    fn name(&self) -> &'static str {
        "bracket"
    }

    fn checks_exits(&self) -> bool {
        true
    }

    fn check(&self, req: &OrderRequest, ctx: &RiskContext<'_>) -> Result<(), RefusalReason> {
        let Some(parent_id) = req.parent else {
            return Ok(());
        };
        let Some(parent) = ctx.parent else {
            return Err(RefusalReason::UnknownParent {
                parent: parent_id.0,
            });
        };
        if !parent.alive {
            return Err(RefusalReason::ParentNotLive {
                parent: parent_id.0,
            });
        }
        if parent.instrument != req.instrument || parent.side == req.side {
            return Err(RefusalReason::ExitDirection {
                parent: parent_id.0,
            });
        }
        if req.quantity > parent.quantity {
            return Err(RefusalReason::ExitTooLarge {
                quantity: req.quantity,
                parent: parent.quantity,
            });
        }
        Ok(())
    }
}
