//! Fixed-capacity ring buffer of the most recent `capacity` values.
//!
//! All memory is reserved in [`Ring::new`]; pushing never allocates.

use super::error::{IndicatorError, check_period};

/// Allocates a vector with exactly `len` copies of `fill`, reporting allocation failure as a
/// typed error instead of aborting.
pub(crate) fn alloc_filled<T: Clone>(
    indicator: &'static str,
    len: usize,
    fill: T,
) -> Result<Vec<T>, IndicatorError> {
    let mut buf = Vec::new();
    buf.try_reserve_exact(len)
        .map_err(|_| IndicatorError::PeriodTooLarge {
            indicator,
            period: len,
        })?;
    buf.resize(len, fill);
    Ok(buf)
}

/// The last `capacity` values pushed, oldest first.
#[derive(Debug, Clone)]
pub(crate) struct Ring {
    buf: Vec<f64>,
    /// Index of the slot the next push writes to (the oldest value once full).
    head: usize,
    len: usize,
}

impl Ring {
    /// Creates an empty ring holding at most `capacity` (>= 1) values.
    pub(crate) fn new(indicator: &'static str, capacity: usize) -> Result<Self, IndicatorError> {
        let capacity = check_period(indicator, capacity)?;
        Ok(Self {
            buf: alloc_filled(indicator, capacity, 0.0)?,
            head: 0,
            len: 0,
        })
    }

    /// Maximum number of values held.
    pub(crate) fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// True once `capacity` values have been pushed.
    pub(crate) fn is_full(&self) -> bool {
        self.len == self.buf.len()
    }

    /// True when the next push will overwrite slot 0, i.e. the window content starts at slot 0
    /// and is in chronological order. Used to schedule periodic exact recomputation.
    pub(crate) fn wrapped(&self) -> bool {
        self.head == 0
    }

    /// Appends `x`; returns the evicted oldest value when the ring was already full.
    pub(crate) fn push(&mut self, x: f64) -> Option<f64> {
        let evicted = if self.len == self.buf.len() {
            Some(self.buf[self.head])
        } else {
            self.len += 1;
            None
        };
        self.buf[self.head] = x;
        self.head += 1;
        if self.head == self.buf.len() {
            self.head = 0;
        }
        evicted
    }

    /// The held values (in storage order, which is not chronological; fine for sums).
    pub(crate) fn values(&self) -> &[f64] {
        if self.is_full() {
            &self.buf
        } else {
            &self.buf[..self.len]
        }
    }

    /// Forgets all values (keeps the allocation).
    pub(crate) fn clear(&mut self) {
        self.head = 0;
        self.len = 0;
    }
}
