//! Counts of non-finite values inside a rolling window.
//!
//! Windowed indicators keep their running statistics over the *finite* values only and use
//! this tally to reproduce what a naive recomputation over the whole window would give:
//! a NaN in the window makes the output NaN, infinities make it infinite (or NaN when both
//! signs are present). Once the offending value leaves the window the indicator recovers,
//! because the running statistics were never poisoned.

/// Number of NaN, `+inf` and `-inf` values currently inside a window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct NonFiniteTally {
    nan: usize,
    pos_inf: usize,
    neg_inf: usize,
}

impl NonFiniteTally {
    /// Records `x` entering the window. Returns true when `x` is finite.
    pub(crate) fn enter(&mut self, x: f64) -> bool {
        self.adjust(x, true)
    }

    /// Records `x` leaving the window. Returns true when `x` is finite.
    pub(crate) fn leave(&mut self, x: f64) -> bool {
        self.adjust(x, false)
    }

    fn adjust(&mut self, x: f64, entering: bool) -> bool {
        let counter = if x.is_nan() {
            &mut self.nan
        } else if x == f64::INFINITY {
            &mut self.pos_inf
        } else if x == f64::NEG_INFINITY {
            &mut self.neg_inf
        } else {
            return true;
        };
        if entering {
            *counter += 1;
        } else {
            *counter = counter.saturating_sub(1);
        }
        false
    }

    /// Number of non-finite values in the window.
    pub(crate) fn count(&self) -> usize {
        self.nan + self.pos_inf + self.neg_inf
    }

    /// What a sum (or mean) over the window evaluates to when it contains non-finite values:
    /// NaN if any NaN or both infinities are present, otherwise the signed infinity.
    /// `None` when the window is all finite.
    pub(crate) fn sum_override(&self) -> Option<f64> {
        if self.nan > 0 || (self.pos_inf > 0 && self.neg_inf > 0) {
            Some(f64::NAN)
        } else if self.pos_inf > 0 {
            Some(f64::INFINITY)
        } else if self.neg_inf > 0 {
            Some(f64::NEG_INFINITY)
        } else {
            None
        }
    }

    /// Forgets all counts.
    pub(crate) fn clear(&mut self) {
        *self = Self::default();
    }
}
