//! The venue's clock, read from the `Date` header of its answers.
//!
//! Maintenance windows and HTTP-date `Retry-After`s are judged on the venue's clock, not the
//! host's: for IBKR (OAuth) that is IBKR's servers, for a Client Portal Gateway the machine
//! it runs on, for an emulator its simulated market clock, which may run faster than real
//! time (`scale` simulated seconds per wall second). Between answers the clock is carried
//! forward on the monotonic clock at `scale`; before the first answer with a usable `Date`
//! it is the host's clock.

use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, Utc};
use tokio::time::Instant;

/// The venue's clock: the last `Date` seen, carried forward at `scale`.
#[derive(Debug)]
pub struct VenueTime {
    scale: f64,
    anchor: Mutex<Option<(DateTime<Utc>, Instant)>>,
}

impl VenueTime {
    /// A clock running `scale` venue seconds per wall second (1 for a real venue; clamped
    /// to a positive finite value).
    pub fn new(scale: f64) -> Self {
        let scale = if scale.is_finite() && scale > 0.0 {
            scale
        } else {
            1.0
        };
        VenueTime {
            scale,
            anchor: Mutex::new(None),
        }
    }

    /// Venue seconds per wall second.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// How far this clock may be from the venue's: within the tolerance of
    /// [`VenueTime::observe`], which scales with the clock's pace.
    pub fn uncertainty(&self) -> chrono::Duration {
        chrono::Duration::milliseconds((self.tolerance_secs() * 1000.0) as i64)
    }

    fn tolerance_secs(&self) -> f64 {
        2.0 * self.scale.max(1.0)
    }

    /// The venue's time now.
    pub fn now(&self) -> DateTime<Utc> {
        self.at(Instant::now())
    }

    fn at(&self, instant: Instant) -> DateTime<Utc> {
        let anchor = *self.anchor.lock().unwrap_or_else(PoisonError::into_inner);
        self.carried(anchor, instant)
    }

    /// `anchor` carried forward to `instant` at this clock's pace (the host's clock without
    /// one).
    fn carried(&self, anchor: Option<(DateTime<Utc>, Instant)>, instant: Instant) -> DateTime<Utc> {
        match anchor {
            Some((date, seen)) => {
                let wall = instant.saturating_duration_since(seen).as_secs_f64();
                let nanos = (wall * self.scale * 1e9).min(i64::MAX as f64 / 4.0) as i64;
                date.checked_add_signed(chrono::Duration::nanoseconds(nanos))
                    .unwrap_or(date)
            }
            None => Utc::now(),
        }
    }

    /// A `Date` header value (RFC 7231 IMF-fixdate, or RFC 2822) seen now. Returns the
    /// parsed time; an unparsable value is ignored.
    pub fn observe_header(&self, value: &str) -> Option<DateTime<Utc>> {
        let date = parse_http_date(value)?;
        self.observe(date, Instant::now());
        Some(date)
    }

    /// `date` seen at `instant`. The header has a resolution of a second (and an emulator
    /// steps its clock a bar at a time), so the clock is moved only when the venue's answer
    /// leaves the tolerance that resolution allows: it never jitters backwards by a second.
    pub fn observe(&self, date: DateTime<Utc>, instant: Instant) {
        let mut anchor = self.anchor.lock().unwrap_or_else(PoisonError::into_inner);
        let predicted = self.carried(*anchor, instant);
        let off = (date - predicted).as_seconds_f64().abs();
        if anchor.is_none() || off > self.tolerance_secs() {
            *anchor = Some((date, instant));
        }
    }
}

/// An HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`).
pub fn parse_http_date(value: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc2822(value.trim())
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_samples::utc;
    use std::time::Duration;

    #[test]
    fn host_clock_until_the_venue_answers() {
        let t = VenueTime::new(1.0);
        let drift = (t.now() - Utc::now()).as_seconds_f64().abs();
        assert!(drift < 1.0, "{drift}");
    }

    #[test]
    fn the_date_header_is_carried_forward_at_scale() {
        let t = VenueTime::new(300.0);
        let seen = Instant::now();
        t.observe(utc("2024-01-03T05:00:00Z"), seen);
        assert_eq!(
            t.at(seen + Duration::from_secs(2)),
            utc("2024-01-03T05:10:00Z")
        );
    }

    #[test]
    fn a_coarse_date_does_not_move_the_clock_back_but_a_jump_does() {
        let t = VenueTime::new(1.0);
        let seen = Instant::now();
        t.observe(utc("2024-01-03T05:00:00Z"), seen);
        let later = seen + Duration::from_millis(1500);
        // Same second again 1.5 s later: the resolution of the header, not a step back.
        t.observe(utc("2024-01-03T05:00:01Z"), later);
        assert_eq!(t.at(later), utc("2024-01-03T05:00:01.5Z"));
        // The venue's clock jumped (an emulator's clock advanced, a restart): followed.
        t.observe(utc("2024-01-03T07:00:00Z"), later);
        assert_eq!(t.at(later), utc("2024-01-03T07:00:00Z"));
    }

    #[test]
    fn http_dates_parse_and_garbage_is_ignored() {
        assert_eq!(
            parse_http_date("Wed, 03 Jan 2024 05:00:00 GMT"),
            Some(utc("2024-01-03T05:00:00Z"))
        );
        let t = VenueTime::new(1.0);
        assert_eq!(t.observe_header("yesterday"), None);
        assert_eq!(t.observe_header(""), None);
        let drift = (t.now() - Utc::now()).as_seconds_f64().abs();
        assert!(drift < 1.0, "{drift}");
    }

    #[test]
    fn absurd_scales_fall_back_to_real_time() {
        for s in [0.0, -3.0, f64::NAN, f64::INFINITY] {
            assert_eq!(VenueTime::new(s).scale(), 1.0);
        }
    }
}
