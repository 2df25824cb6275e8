//! Orders that go to IBKR together. A bracket is one request of tickets whose children name
//! the parent's `cOID` in `parentId` (IBKR makes the children one-cancels-other); an OCA
//! group is one request whose tickets all carry `isSingleGroup`. The engine submits a
//! group's orders one after another in one batch, so [`Batcher`] holds submissions until the
//! batch ends and sends each group as one placement; a single order is a group of one.

use tickline_engine::domain::{ClientOrderId, OrderId, OrderRequest};
use tickline_engine::execution::ExecCommand;

/// One order of a placement.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Member {
    pub order_id: OrderId,
    pub coid: ClientOrderId,
    pub request: OrderRequest,
}

impl Member {
    /// The order a submission carries (`None` for any other command).
    pub fn of(cmd: &ExecCommand) -> Option<Member> {
        match *cmd {
            ExecCommand::Submit {
                order_id,
                client_order_id,
                request,
            } => Some(Member {
                order_id,
                coid: client_order_id,
                request,
            }),
            _ => None,
        }
    }
}

/// What the worker is asked to do.
#[derive(Debug)]
pub(super) enum Job {
    /// One placement: the orders of a bracket or OCA group, or a single order.
    Place(Vec<Member>),
    /// Anything but a submission.
    Command(ExecCommand),
}

/// Whether `next` belongs with the group that `first` starts: a bracket exit of `first`, or
/// a member of the same OCA group (not a bracket's).
fn joins(first: &Member, next: &Member) -> bool {
    match (next.request.parent, next.request.oca_group) {
        (Some(parent), _) => parent == first.order_id,
        (None, Some(group)) => {
            first.request.parent.is_none() && first.request.oca_group == Some(group)
        }
        (None, None) => false,
    }
}

/// Submissions held until their batch ends.
#[derive(Debug, Default)]
pub(super) struct Batcher {
    held: Vec<Member>,
}

impl Batcher {
    /// Hold `m`; returns the placement it ends (the group before it), if any.
    pub fn hold(&mut self, m: Member) -> Option<Job> {
        let ended = match self.held.first() {
            Some(first) if !joins(first, &m) => self.flush(),
            _ => None,
        };
        self.held.push(m);
        ended
    }

    /// The held placement, if any.
    pub fn flush(&mut self) -> Option<Job> {
        (!self.held.is_empty()).then(|| Job::Place(std::mem::take(&mut self.held)))
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal::dec;
    use tickline_engine::domain::{InstrumentId, Side};

    use super::*;

    fn m(id: u64, parent: Option<u64>, group: Option<u64>) -> Member {
        let mut request = OrderRequest::market(InstrumentId(0), Side::Buy, dec!(1));
        request.parent = parent.map(OrderId);
        request.oca_group = group.map(OrderId);
        Member {
            order_id: OrderId(id),
            coid: ClientOrderId::with_number("T", id),
            request,
        }
    }

    fn ids(job: Option<Job>) -> Vec<u64> {
        match job {
            Some(Job::Place(v)) => v.iter().map(|m| m.order_id.0).collect(),
            _ => Vec::new(),
        }
    }

    #[test]
    fn a_batch_splits_into_placements() {
        let mut b = Batcher::default();
        // A plain order, a bracket (1 + 2 exits), an OCA pair, another plain order.
        assert_eq!(ids(b.hold(m(1, None, None))), Vec::<u64>::new());
        assert_eq!(ids(b.hold(m(2, None, None))), vec![1]);
        assert_eq!(ids(b.hold(m(3, Some(2), Some(2)))), Vec::<u64>::new());
        assert_eq!(ids(b.hold(m(4, Some(2), Some(2)))), Vec::<u64>::new());
        assert_eq!(ids(b.hold(m(5, None, Some(5)))), vec![2, 3, 4]);
        assert_eq!(ids(b.hold(m(6, None, Some(5)))), Vec::<u64>::new());
        assert_eq!(ids(b.hold(m(7, None, None))), vec![5, 6]);
        // An exit of another parent does not join.
        assert_eq!(ids(b.hold(m(8, Some(2), None))), vec![7]);
        assert_eq!(ids(b.flush()), vec![8]);
        assert!(b.flush().is_none());
    }
}
