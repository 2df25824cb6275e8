use std::collections::VecDeque;

use super::RefusalReason;
use crate::domain::{NANOS_PER_SEC, Ts};

/// At most `limit` approvals in any one-second window (sliding, by event time). The window
/// buffer is allocated once.
pub struct OrderRateLimiter {
    limit: usize,
    recent: VecDeque<Ts>,
}

impl OrderRateLimiter {
    pub fn new(limit: usize) -> Self {
        OrderRateLimiter {
            limit,
            recent: VecDeque::with_capacity(limit + 1),
        }
    }

    /// Refuse when the window is full; otherwise record `now`.
    pub fn check_and_record(&mut self, now: Ts) -> Result<(), RefusalReason> {
        while let Some(&t) = self.recent.front() {
            if now - t >= NANOS_PER_SEC {
                self.recent.pop_front();
            } else {
                break;
            }
        }
        if self.recent.len() >= self.limit {
            return Err(RefusalReason::OrderRate {
                count: self.recent.len(),
                limit: self.limit,
            });
        }
        self.recent.push_back(now);
        Ok(())
    }
}
