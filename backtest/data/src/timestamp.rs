//! Timestamp handling: a small fixed-layout ISO-8601 parser, epoch integers of any unit,
//! exchange-local (naive) times converted to UTC through a per-day offset cache, and the
//! ISO-8601 UTC formatter used by the CSV writer and error messages.
//!
//! All results are UTC nanoseconds since the Unix epoch ([`Ts`]).

use chrono::{LocalResult, NaiveDate, NaiveDateTime, Offset, TimeZone};
use chrono_tz::Tz;
use tickline_engine::domain::{NANOS_PER_SEC, Ts};

/// Nanoseconds per day.
pub(crate) const NANOS_PER_DAY: i64 = 86_400 * NANOS_PER_SEC;

/// Unit of an integer epoch timestamp.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TsUnit {
    Seconds,
    Millis,
    Micros,
    Nanos,
}

impl TsUnit {
    /// Nanoseconds in one unit.
    pub fn nanos(self) -> i64 {
        match self {
            TsUnit::Seconds => NANOS_PER_SEC,
            TsUnit::Millis => 1_000_000,
            TsUnit::Micros => 1_000,
            TsUnit::Nanos => 1,
        }
    }

    /// Guess the unit from an epoch value's magnitude: below 1e11 seconds (up to the year
    /// 5138), below 1e14 milliseconds, below 1e17 microseconds, else nanoseconds.
    pub fn infer(value: i64) -> TsUnit {
        let a = value.unsigned_abs();
        if a < 100_000_000_000 {
            TsUnit::Seconds
        } else if a < 100_000_000_000_000 {
            TsUnit::Millis
        } else if a < 100_000_000_000_000_000 {
            TsUnit::Micros
        } else {
            TsUnit::Nanos
        }
    }
}

/// A parsed ISO-8601 string: either an absolute instant or an exchange-local wall time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stamp {
    /// UTC nanoseconds (the string had `Z` or an explicit offset).
    Utc(i64),
    /// Wall-clock nanoseconds "as if UTC" (the string had no offset).
    Local(i64),
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The (year, month, day) of a day count since 1970-01-01.
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

#[inline]
fn digit(b: u8) -> Option<u32> {
    let d = b.wrapping_sub(b'0');
    (d < 10).then_some(u32::from(d))
}

#[inline]
fn num2(s: &[u8], i: usize) -> Option<u32> {
    Some(digit(*s.get(i)?)? * 10 + digit(*s.get(i + 1)?)?)
}

#[inline]
fn num4(s: &[u8], i: usize) -> Option<u32> {
    Some(num2(s, i)? * 100 + num2(s, i + 2)?)
}

/// Wall-clock nanoseconds from validated calendar fields.
fn wall_nanos(
    y: u32,
    mo: u32,
    d: u32,
    h: u32,
    mi: u32,
    s: u32,
    frac: i64,
) -> Result<i64, &'static str> {
    if !(1..=12).contains(&mo) {
        return Err("month out of range");
    }
    if d == 0 || d > days_in_month(i64::from(y), mo) {
        return Err("day out of range");
    }
    if h > 23 || mi > 59 || s > 59 {
        return Err("time of day out of range");
    }
    let days = days_from_civil(i64::from(y), mo, d);
    let secs = i64::from(h * 3600 + mi * 60 + s);
    days.checked_mul(NANOS_PER_DAY)
        .and_then(|n| n.checked_add(secs * NANOS_PER_SEC + frac))
        .ok_or("out of range for nanosecond timestamps")
}

/// Parse an ISO-8601 date-time.
///
/// Accepts `YYYY-MM-DD[(T|t| )HH:MM[:SS[.f{1,9}]]][Z|z|±hh[:mm]|±hhmm]` (surrounding ASCII
/// whitespace ignored); a bare date is local midnight. The common
/// `YYYY-MM-DDTHH:MM:SS[Z]` layout takes a branch-light fast path.
pub(crate) fn parse_iso(s: &[u8]) -> Result<Stamp, &'static str> {
    if is_fast_layout(s)
        && let (Some(y), Some(mo), Some(d), Some(h), Some(mi), Some(sec)) = (
            num4(s, 0),
            num2(s, 5),
            num2(s, 8),
            num2(s, 11),
            num2(s, 14),
            num2(s, 17),
        )
    {
        let wall = wall_nanos(y, mo, d, h, mi, sec, 0)?;
        return Ok(if s.len() == 20 {
            Stamp::Utc(wall)
        } else {
            Stamp::Local(wall)
        });
    }
    parse_iso_general(s.trim_ascii())
}

/// `YYYY-MM-DD(T| )HH:MM:SS[Z]` by its separators (digits not checked).
#[inline]
fn is_fast_layout(s: &[u8]) -> bool {
    (s.len() == 19 || (s.len() == 20 && s[19] == b'Z'))
        && s[4] == b'-'
        && s[7] == b'-'
        && (s[10] == b'T' || s[10] == b' ')
        && s[13] == b':'
        && s[16] == b':'
}

fn parse_iso_general(s: &[u8]) -> Result<Stamp, &'static str> {
    const BAD: &str = "not an ISO-8601 date-time or epoch integer";
    if s.len() < 10 || s[4] != b'-' || s[7] != b'-' {
        return Err(BAD);
    }
    let (y, mo, d) = match (num4(s, 0), num2(s, 5), num2(s, 8)) {
        (Some(y), Some(mo), Some(d)) => (y, mo, d),
        _ => return Err(BAD),
    };
    if s.len() == 10 {
        return wall_nanos(y, mo, d, 0, 0, 0, 0).map(Stamp::Local);
    }
    if !matches!(s[10], b'T' | b't' | b' ') {
        return Err(BAD);
    }
    let (h, mi) = match (num2(s, 11), s.get(13), num2(s, 14)) {
        (Some(h), Some(b':'), Some(mi)) => (h, mi),
        _ => return Err(BAD),
    };
    let mut i = 16;
    let mut sec = 0;
    let mut frac = 0i64;
    if s.get(i) == Some(&b':') {
        sec = num2(s, i + 1).ok_or(BAD)?;
        i += 3;
        if s.get(i) == Some(&b'.') || s.get(i) == Some(&b',') {
            i += 1;
            let start = i;
            while let Some(dg) = s.get(i).and_then(|b| digit(*b)) {
                if i - start == 9 {
                    return Err("more than 9 fractional digits");
                }
                frac = frac * 10 + i64::from(dg);
                i += 1;
            }
            let n = i - start;
            if n == 0 {
                return Err(BAD);
            }
            frac *= 10i64.pow(9 - n as u32);
        }
    }
    let wall = wall_nanos(y, mo, d, h, mi, sec, frac)?;
    let rest = &s[i..];
    match rest {
        [] => Ok(Stamp::Local(wall)),
        [b'Z' | b'z'] => Ok(Stamp::Utc(wall)),
        [sign @ (b'+' | b'-'), tail @ ..] => {
            let (oh, om) = match tail {
                [_, _] => (num2(tail, 0), Some(0)),
                [_, _, b':', _, _] => (num2(tail, 0), num2(tail, 3)),
                [_, _, _, _] => (num2(tail, 0), num2(tail, 2)),
                _ => (None, None),
            };
            let (oh, om) = match (oh, om) {
                (Some(oh), Some(om)) if oh <= 23 && om <= 59 => (oh, om),
                _ => return Err("bad UTC offset"),
            };
            let off = i64::from(oh * 3600 + om * 60) * NANOS_PER_SEC;
            let off = if *sign == b'-' { -off } else { off };
            wall.checked_sub(off)
                .map(Stamp::Utc)
                .ok_or("out of range for nanosecond timestamps")
        }
        _ => Err(BAD),
    }
}

/// Parse an integer epoch value (`-?[0-9]+`); `None` if `s` is not such an integer.
pub(crate) fn parse_epoch(s: &[u8]) -> Option<Result<i64, &'static str>> {
    let (neg, digits) = match s {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut v: i64 = 0;
    for b in digits {
        let d = i64::from(b - b'0');
        v = match v.checked_mul(10).and_then(|v| v.checked_add(d)) {
            Some(v) => v,
            None => return Some(Err("epoch integer out of range")),
        };
    }
    Some(Ok(if neg { -v } else { v }))
}

/// Converts exchange-local wall times to UTC, caching one local day's UTC offset.
///
/// A day whose offset is the same at 00:00 and 23:59:59.999999999 (every day but the two
/// DST-change days of a year) converts with one subtraction; change days fall back to a
/// chrono-tz lookup per value. A wall time in a DST gap is an error; an ambiguous one (the
/// repeated hour) resolves to the earlier instant.
#[derive(Clone, Debug)]
pub(crate) struct LocalToUtc {
    tz: Tz,
    day: i64,
    offset: i64,
    uniform: bool,
}

impl LocalToUtc {
    pub(crate) fn new(tz: Tz) -> Self {
        LocalToUtc {
            tz,
            day: i64::MIN,
            offset: 0,
            uniform: false,
        }
    }

    /// UTC nanoseconds of the wall time `wall` (nanoseconds "as if UTC").
    #[inline]
    pub(crate) fn convert(&mut self, wall: i64) -> Result<i64, String> {
        let day = wall.div_euclid(NANOS_PER_DAY);
        if day != self.day {
            self.refresh(day);
        }
        if self.uniform {
            return Ok(wall - self.offset);
        }
        let naive = naive_from_nanos(wall).ok_or("out of range for nanosecond timestamps")?;
        match self.tz.from_local_datetime(&naive) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => nanos_of(&t),
            LocalResult::None => Err(format!(
                "nonexistent local time in {} (DST gap)",
                self.tz.name()
            )),
        }
    }

    fn refresh(&mut self, day: i64) {
        self.day = day;
        self.uniform = false;
        let start = day.checked_mul(NANOS_PER_DAY);
        let (Some(first), Some(last)) = (
            start.and_then(naive_from_nanos),
            start
                .and_then(|s| s.checked_add(NANOS_PER_DAY - 1))
                .and_then(naive_from_nanos),
        ) else {
            return;
        };
        if let (LocalResult::Single(a), LocalResult::Single(b)) = (
            self.tz.from_local_datetime(&first),
            self.tz.from_local_datetime(&last),
        ) {
            let oa = a.offset().fix().local_minus_utc();
            if oa == b.offset().fix().local_minus_utc() {
                self.offset = i64::from(oa) * NANOS_PER_SEC;
                self.uniform = true;
            }
        }
    }
}

fn naive_from_nanos(wall: i64) -> Option<NaiveDateTime> {
    let secs = wall.div_euclid(NANOS_PER_SEC);
    let nsec = wall.rem_euclid(NANOS_PER_SEC) as u32;
    chrono::DateTime::from_timestamp(secs, nsec).map(|d| d.naive_utc())
}

fn nanos_of<T: TimeZone>(t: &chrono::DateTime<T>) -> Result<i64, String> {
    t.timestamp_nanos_opt()
        .ok_or_else(|| "out of range for nanosecond timestamps".to_string())
}

/// Turns timestamp cells of any supported representation into UTC nanoseconds.
///
/// Keeps the state a column needs: the epoch unit (forced, or inferred from the first epoch
/// value), the local-time offset cache, and the date of the last fast-layout string (bars
/// of one day share it, so only the time of day is parsed).
#[derive(Clone, Debug)]
pub(crate) struct TsConverter {
    unit: Option<TsUnit>,
    local: LocalToUtc,
    /// `YYYY-MM-DD` bytes of the last fast-layout string and its day number.
    date: Option<([u8; 10], i64)>,
}

impl TsConverter {
    pub(crate) fn new(tz: Tz, unit: Option<TsUnit>) -> Self {
        TsConverter {
            unit,
            local: LocalToUtc::new(tz),
            date: None,
        }
    }

    /// A text cell: ISO-8601 or an epoch integer.
    #[inline]
    pub(crate) fn text(&mut self, s: &str) -> Result<i64, String> {
        let b = s.as_bytes();
        if let Some(stamp) = self.same_day(b) {
            return self.resolve(stamp);
        }
        if let Some(v) = parse_epoch(b.trim_ascii()) {
            return self.epoch(v?);
        }
        let stamp = parse_iso(b)?;
        if is_fast_layout(b) {
            let (Stamp::Utc(wall) | Stamp::Local(wall)) = stamp;
            let mut key = [0u8; 10];
            key.copy_from_slice(&b[..10]);
            self.date = Some((key, wall.div_euclid(NANOS_PER_DAY)));
        }
        self.resolve(stamp)
    }

    /// A fast-layout string on the cached date, with a valid time of day.
    #[inline]
    fn same_day(&self, b: &[u8]) -> Option<Stamp> {
        let (key, days) = self.date.as_ref()?;
        if !is_fast_layout(b) || b[..10] != key[..] {
            return None;
        }
        let (h, mi, sec) = (num2(b, 11)?, num2(b, 14)?, num2(b, 17)?);
        if h > 23 || mi > 59 || sec > 59 {
            return None;
        }
        let wall = days
            .checked_mul(NANOS_PER_DAY)?
            .checked_add(i64::from(h * 3600 + mi * 60 + sec) * NANOS_PER_SEC)?;
        Some(if b.len() == 20 {
            Stamp::Utc(wall)
        } else {
            Stamp::Local(wall)
        })
    }

    #[inline]
    fn resolve(&mut self, stamp: Stamp) -> Result<i64, String> {
        match stamp {
            Stamp::Utc(t) => Ok(t),
            Stamp::Local(w) => self.local.convert(w),
        }
    }

    /// An integer epoch cell.
    #[inline]
    pub(crate) fn epoch(&mut self, v: i64) -> Result<i64, String> {
        let unit = *self.unit.get_or_insert_with(|| TsUnit::infer(v));
        v.checked_mul(unit.nanos())
            .ok_or_else(|| "out of range for nanosecond timestamps".to_string())
    }

    /// A naive (exchange-local) wall time in nanoseconds.
    #[inline]
    pub(crate) fn local(&mut self, wall: i64) -> Result<i64, String> {
        self.local.convert(wall)
    }
}

/// Format UTC nanoseconds as ISO-8601 (`2024-01-02T14:30:00Z`, with `.fff`, `.ffffff` or
/// `.fffffffff` when the value has a sub-second part).
pub fn format_utc(ts: Ts) -> String {
    let mut buf = [0u8; 32];
    let n = write_utc(ts, &mut buf);
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

/// Write [`format_utc`]'s text into `buf`, returning the number of bytes written.
pub(crate) fn write_utc(ts: Ts, buf: &mut [u8; 32]) -> usize {
    fn put(buf: &mut [u8], at: usize, v: u32, width: usize) {
        let mut v = v;
        for k in (0..width).rev() {
            buf[at + k] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    }
    let days = ts.div_euclid(NANOS_PER_DAY);
    let rem = ts.rem_euclid(NANOS_PER_DAY);
    let (y, m, d) = civil_from_days(days);
    let secs = (rem / NANOS_PER_SEC) as u32;
    let frac = (rem % NANOS_PER_SEC) as u32;
    // i64 nanoseconds span the years 1677..=2262, so the year always has four digits.
    put(buf, 0, y as u32, 4);
    buf[4] = b'-';
    put(buf, 5, m, 2);
    buf[7] = b'-';
    put(buf, 8, d, 2);
    buf[10] = b'T';
    put(buf, 11, secs / 3600, 2);
    buf[13] = b':';
    put(buf, 14, secs / 60 % 60, 2);
    buf[16] = b':';
    put(buf, 17, secs % 60, 2);
    let mut n = 19;
    if frac != 0 {
        buf[n] = b'.';
        if frac.is_multiple_of(1_000_000) {
            put(buf, n + 1, frac / 1_000_000, 3);
            n += 4;
        } else if frac.is_multiple_of(1_000) {
            put(buf, n + 1, frac / 1_000, 6);
            n += 7;
        } else {
            put(buf, n + 1, frac, 9);
            n += 10;
        }
    }
    buf[n] = b'Z';
    n + 1
}

/// UTC nanoseconds of a local date and time in `tz` (earlier instant if ambiguous, `None`
/// in a DST gap).
pub(crate) fn local_to_utc(tz: Tz, date: NaiveDate, h: u32, m: u32) -> Option<Ts> {
    let naive = date.and_hms_opt(h, m, 0)?;
    tz.from_local_datetime(&naive)
        .earliest()?
        .timestamp_nanos_opt()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns(y: i64, mo: u32, d: u32, h: i64, mi: i64, s: i64) -> i64 {
        days_from_civil(y, mo, d) * NANOS_PER_DAY + (h * 3600 + mi * 60 + s) * NANOS_PER_SEC
    }

    #[test]
    fn civil_round_trip() {
        for z in [-800_000, -1, 0, 1, 19_723, 60_000, 106_000] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2024, 1, 2), 19_724);
    }

    #[test]
    fn fast_and_general_paths_agree() {
        let t = ns(2024, 1, 2, 14, 30, 0);
        assert_eq!(parse_iso(b"2024-01-02T14:30:00Z"), Ok(Stamp::Utc(t)));
        assert_eq!(parse_iso(b"2024-01-02 14:30:00"), Ok(Stamp::Local(t)));
        assert_eq!(parse_iso(b" 2024-01-02t14:30:00z "), Ok(Stamp::Utc(t)));
        assert_eq!(parse_iso(b"2024-01-02T14:30"), Ok(Stamp::Local(t)));
        assert_eq!(parse_iso(b"2024-01-02T09:30:00-05:00"), Ok(Stamp::Utc(t)));
        assert_eq!(parse_iso(b"2024-01-02T19:30:00+0500"), Ok(Stamp::Utc(t)));
        assert_eq!(parse_iso(b"2024-01-02T16:30:00+02"), Ok(Stamp::Utc(t)));
        assert_eq!(
            parse_iso(b"2024-01-02T14:30:00.25Z"),
            Ok(Stamp::Utc(t + 250_000_000))
        );
        assert_eq!(
            parse_iso(b"2024-01-02T14:30:00.000000001"),
            Ok(Stamp::Local(t + 1))
        );
        assert_eq!(
            parse_iso(b"2024-01-02"),
            Ok(Stamp::Local(ns(2024, 1, 2, 0, 0, 0)))
        );
    }

    #[test]
    fn rejects_bad_fields() {
        assert_eq!(parse_iso(b"2024-13-02T14:30:00"), Err("month out of range"));
        assert_eq!(parse_iso(b"2023-02-29T14:30:00"), Err("day out of range"));
        assert_eq!(
            parse_iso(b"2024-01-02T24:00:00"),
            Err("time of day out of range")
        );
        assert!(parse_iso(b"2024-01-02T14:30:00+25:00").is_err());
        assert!(parse_iso(b"2024-01-02T14:30:00.").is_err());
        assert!(parse_iso(b"2024-01-02T14:30:00.1234567890").is_err());
        assert!(parse_iso(b"2024-01-02X14:30:00").is_err());
        assert!(parse_iso(b"2024-01-02T14:30:00 junk").is_err());
    }

    #[test]
    fn formats_and_reparses() {
        for t in [
            0,
            ns(2024, 1, 2, 14, 30, 0),
            ns(2024, 1, 2, 14, 30, 0) + 123_000_000,
            ns(2024, 1, 2, 14, 30, 0) + 123_456_000,
            ns(2024, 1, 2, 14, 30, 0) + 123_456_789,
            -1,
        ] {
            let s = format_utc(t);
            assert_eq!(parse_iso(s.as_bytes()), Ok(Stamp::Utc(t)), "{s}");
        }
        assert_eq!(
            format_utc(ns(2024, 1, 2, 14, 30, 0)),
            "2024-01-02T14:30:00Z"
        );
    }

    #[test]
    fn epoch_units() {
        assert_eq!(TsUnit::infer(1_704_205_800), TsUnit::Seconds);
        assert_eq!(TsUnit::infer(1_704_205_800_000), TsUnit::Millis);
        assert_eq!(TsUnit::infer(1_704_205_800_000_000), TsUnit::Micros);
        assert_eq!(TsUnit::infer(1_704_205_800_000_000_000), TsUnit::Nanos);
        assert_eq!(parse_epoch(b"-12"), Some(Ok(-12)));
        assert_eq!(parse_epoch(b"12a"), None);
        assert_eq!(
            parse_epoch(b"99999999999999999999"),
            Some(Err("epoch integer out of range"))
        );
    }

    #[test]
    fn converter_date_cache_matches_full_parse() {
        let mut c = TsConverter::new(chrono_tz::UTC, None);
        let t = ns(2024, 1, 2, 14, 30, 0);
        assert_eq!(c.text("2024-01-02T14:30:00Z"), Ok(t));
        assert_eq!(c.text("2024-01-02T14:31:05Z"), Ok(t + 65 * NANOS_PER_SEC));
        assert_eq!(c.text("2024-01-02 14:32:00"), Ok(t + 120 * NANOS_PER_SEC));
        assert!(c.text("2024-01-02T24:31:00Z").is_err());
        assert!(c.text("2024-01-02T14:3x:00Z").is_err());
        assert_eq!(c.text("2024-01-03T00:00:00Z"), Ok(ns(2024, 1, 3, 0, 0, 0)));
        assert_eq!(c.text("1704205800"), Ok(t));
    }

    #[test]
    fn local_conversion_across_dst() {
        let mut c = LocalToUtc::new(chrono_tz::America::New_York);
        // Winter: UTC-5; summer: UTC-4.
        assert_eq!(
            c.convert(ns(2024, 3, 8, 9, 30, 0)),
            Ok(ns(2024, 3, 8, 14, 30, 0))
        );
        assert_eq!(
            c.convert(ns(2024, 3, 11, 9, 30, 0)),
            Ok(ns(2024, 3, 11, 13, 30, 0))
        );
        // Change day: before and after 02:00, and the gap.
        assert_eq!(
            c.convert(ns(2024, 3, 10, 1, 59, 0)),
            Ok(ns(2024, 3, 10, 6, 59, 0))
        );
        assert_eq!(
            c.convert(ns(2024, 3, 10, 3, 0, 0)),
            Ok(ns(2024, 3, 10, 7, 0, 0))
        );
        assert!(c.convert(ns(2024, 3, 10, 2, 30, 0)).is_err());
        // Fall back: 01:30 happens twice; the earlier instant (EDT, UTC-4) wins.
        assert_eq!(
            c.convert(ns(2024, 11, 3, 1, 30, 0)),
            Ok(ns(2024, 11, 3, 5, 30, 0))
        );
    }
}
