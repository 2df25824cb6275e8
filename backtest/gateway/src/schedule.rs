//! Trading hours per contract: regular ("liquid") and extended sessions by trade date, for
//! the schedule endpoints and the outside-RTH prompt. US stocks 09:30–16:00 New York
//! (extended 04:00–20:00); CME futures 08:30–15:00 Chicago (extended 17:00 the day before to
//! 16:00); IDEALPRO FX 17:15 the day before to 17:00 New York. Weekends closed; holidays are
//! not modelled.

use chrono::{Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Weekday};

use tickline_engine::domain::{SecType, Ts};

use crate::contract::Contract;

/// Sessions of one trade date, as epoch-second intervals.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DaySessions {
    pub date: NaiveDate,
    pub liquid: Vec<(i64, i64)>,
    pub extended: Vec<(i64, i64)>,
}

fn at(tz: chrono_tz::Tz, date: NaiveDate, h: u32, m: u32) -> i64 {
    let t = NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN);
    tz.from_local_datetime(&date.and_time(t))
        .earliest()
        .map(|d| d.timestamp())
        .unwrap_or_default()
}

/// Sessions of trade date `date`, or `None` on a weekend.
pub fn day_sessions(c: &Contract, date: NaiveDate) -> Option<DaySessions> {
    if matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
        return None;
    }
    let tz = c.tz();
    let prev = date - Duration::days(1);
    let (liquid, extended) = match c.inst.sec_type {
        SecType::Fut => (
            vec![(at(tz, date, 8, 30), at(tz, date, 15, 0))],
            vec![(at(tz, prev, 17, 0), at(tz, date, 16, 0))],
        ),
        SecType::Cash => {
            let s = (at(tz, prev, 17, 15), at(tz, date, 17, 0));
            (vec![s], vec![s])
        }
        _ => (
            vec![(at(tz, date, 9, 30), at(tz, date, 16, 0))],
            vec![(at(tz, date, 4, 0), at(tz, date, 20, 0))],
        ),
    };
    Some(DaySessions {
        date,
        liquid,
        extended,
    })
}

/// Is `ts` (UTC ns) inside a liquid session?
pub fn is_liquid(c: &Contract, ts: Ts) -> bool {
    let secs = ts.div_euclid(1_000_000_000);
    let local = chrono::DateTime::from_timestamp_nanos(ts)
        .with_timezone(&c.tz())
        .date_naive();
    [local, local + Duration::days(1)].into_iter().any(|d| {
        day_sessions(c, d).is_some_and(|s| s.liquid.iter().any(|(o, e)| (*o..*e).contains(&secs)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::build_universe;

    fn ns(s: &str) -> Ts {
        chrono::DateTime::parse_from_rfc3339(s)
            .unwrap()
            .timestamp_nanos_opt()
            .unwrap()
    }

    #[test]
    fn rth_by_asset_class() {
        let u = build_universe(&[], ns("2024-01-02T14:30:00Z")).unwrap();
        let (aapl, es, eur) = (&u[0], &u[5], &u[6]);
        assert!(aapl.is_rth(ns("2024-01-02T14:30:00Z")));
        assert!(!aapl.is_rth(ns("2024-01-02T14:29:00Z")));
        assert!(!aapl.is_rth(ns("2024-01-02T21:00:00Z")));
        assert!(!aapl.is_rth(ns("2024-01-06T15:00:00Z")), "Saturday");
        assert!(es.is_rth(ns("2024-01-02T15:00:00Z")));
        assert!(!es.is_rth(ns("2024-01-02T23:00:00Z")));
        // FX trades through the night, Sunday evening to Friday 17:00 New York.
        assert!(eur.is_rth(ns("2024-01-03T03:00:00Z")));
        assert!(
            eur.is_rth(ns("2024-01-07T23:00:00Z")),
            "Sunday evening opens Monday's session"
        );
        assert!(!eur.is_rth(ns("2024-01-06T12:00:00Z")));
    }
}
