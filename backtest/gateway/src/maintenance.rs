//! IBKR's published maintenance windows, as the emulator applies them on its market clock
//! (IBKR system status page, "Daily Reset Schedule (Sunday to Friday)" and "Weekend
//! Reset/Maintenance Schedule"):
//!
//! | region | daily (local start dates Sunday–Friday) | weekend (every region) |
//! |---|---|---|
//! | North America | 00:15–01:45 US/Eastern | Friday 23:00 – Saturday 03:00 US/Eastern |
//! | Europe | 06:25–07:45 CET (Zug, Europe/Zurich) | same |
//! | Asia-Pacific | 04:45–06:05 and 20:15–21:15 Hong Kong | same |
//!
//! Written independently of the client's own table (`tickline-ibkr`), like the wire types:
//! each side is checked against the published schedule, not against the other.

use chrono::{DateTime, Datelike, Duration, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;

use crate::faults::MaintenanceRegion;

/// One maintenance window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// `daily` or `weekend`.
    pub kind: &'static str,
}

/// Hour and minute.
type Hm = (u32, u32);

/// (time zone, start, end) of the daily windows of a region.
fn daily(region: MaintenanceRegion) -> &'static [(Tz, Hm, Hm)] {
    use chrono_tz::{America, Asia, Europe};
    match region {
        MaintenanceRegion::Off => &[],
        MaintenanceRegion::NorthAmerica => &[(America::New_York, (0, 15), (1, 45))],
        MaintenanceRegion::Europe => &[(Europe::Zurich, (6, 25), (7, 45))],
        MaintenanceRegion::Asia => &[
            (Asia::Hong_Kong, (4, 45), (6, 5)),
            (Asia::Hong_Kong, (20, 15), (21, 15)),
        ],
    }
}

fn local(tz: Tz, date: chrono::NaiveDate, (h, m): Hm) -> Option<DateTime<Utc>> {
    let t = NaiveTime::from_hms_opt(h, m, 0)?;
    tz.from_local_datetime(&date.and_time(t))
        .earliest()
        .map(|d| d.with_timezone(&Utc))
}

/// The window of `region` that contains `at`, if any.
pub fn window_at(region: MaintenanceRegion, at: DateTime<Utc>) -> Option<Window> {
    if region == MaintenanceRegion::Off {
        return None;
    }
    let ny = chrono_tz::America::New_York;
    let ny_date = at.with_timezone(&ny).date_naive();
    // The weekend window starts on Friday (New York); look at today and yesterday.
    for back in 0..2 {
        let d = ny_date - Duration::days(back);
        if d.weekday() != Weekday::Fri {
            continue;
        }
        let (Some(start), Some(end)) = (
            local(ny, d, (23, 0)),
            local(ny, d + Duration::days(1), (3, 0)),
        ) else {
            continue;
        };
        if at >= start && at < end {
            return Some(Window {
                start,
                end,
                kind: "weekend",
            });
        }
    }
    for &(tz, from, to) in daily(region) {
        let date = at.with_timezone(&tz).date_naive();
        for back in 0..2 {
            let d = date - Duration::days(back);
            if d.weekday() == Weekday::Sat {
                continue;
            }
            let (Some(start), Some(mut end)) = (local(tz, d, from), local(tz, d, to)) else {
                continue;
            };
            if end <= start {
                end += Duration::days(1);
            }
            if at >= start && at < end {
                return Some(Window {
                    start,
                    end,
                    kind: "daily",
                });
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn published_windows_by_region() {
        use MaintenanceRegion::*;
        // (region, instant, inside?) — 2024-01-10 is a Wednesday (EST = UTC-5, CET = UTC+1).
        let table = [
            (NorthAmerica, "2024-01-10T05:14:59Z", false),
            (NorthAmerica, "2024-01-10T05:15:00Z", true),
            (NorthAmerica, "2024-01-10T06:44:59Z", true),
            (NorthAmerica, "2024-01-10T06:45:00Z", false),
            // Summer: EDT = UTC-4.
            (NorthAmerica, "2024-07-10T04:20:00Z", true),
            (NorthAmerica, "2024-07-10T05:50:00Z", false),
            (Europe, "2024-01-10T05:25:00Z", true),
            (Europe, "2024-01-10T06:45:00Z", false),
            (Europe, "2024-01-10T05:20:00Z", false),
            (Asia, "2024-01-09T20:45:00Z", true), // 04:45 HKT on the 10th
            (Asia, "2024-01-10T12:15:00Z", true), // 20:15 HKT
            (Asia, "2024-01-10T13:15:00Z", false),
            (Asia, "2024-01-10T05:15:00Z", false),
            // Europe's hours do not apply to North America and vice versa.
            (NorthAmerica, "2024-01-10T05:30:00Z", true),
            (Europe, "2024-01-10T05:14:00Z", false),
            (Off, "2024-01-10T05:30:00Z", false),
        ];
        for (region, at, inside) in table {
            assert_eq!(
                window_at(region, utc(at)).is_some(),
                inside,
                "{region:?} at {at}"
            );
        }
    }

    #[test]
    fn weekend_window_for_every_region() {
        // Friday 2024-01-12 23:00 EST = Saturday 04:00 UTC, until Saturday 03:00 EST.
        for region in [
            MaintenanceRegion::NorthAmerica,
            MaintenanceRegion::Europe,
            MaintenanceRegion::Asia,
        ] {
            let w = window_at(region, utc("2024-01-13T05:00:00Z")).unwrap();
            assert_eq!(w.kind, "weekend");
            assert_eq!(w.start, utc("2024-01-13T04:00:00Z"));
            assert_eq!(w.end, utc("2024-01-13T08:00:00Z"));
            assert!(window_at(region, utc("2024-01-13T08:00:01Z")).is_none());
        }
        // No daily window starts on a Saturday: Saturday 20:30 Hong Kong is free.
        assert!(window_at(MaintenanceRegion::Asia, utc("2024-01-20T12:30:00Z")).is_none());
        assert!(window_at(MaintenanceRegion::Asia, utc("2024-01-19T12:30:00Z")).is_some());
        // Saturday 00:15 New York falls inside the weekend window only.
        assert_eq!(
            window_at(MaintenanceRegion::NorthAmerica, utc("2024-01-13T05:20:00Z"))
                .unwrap()
                .kind,
            "weekend"
        );
        // Sunday 00:15 New York is a daily window again.
        assert!(
            window_at(MaintenanceRegion::NorthAmerica, utc("2024-01-14T05:20:00Z"))
                .is_some_and(|w| w.kind == "daily")
        );
    }
}
