//! Formatting helpers for IBKR's wire conventions: numbers as display strings
//! (`"1,300"`, `"21.4M"`, `"+0.52"`), compact timestamps (`YYMMDDhhmmss`,
//! `YYYYMMDD-hh:mm:ss`), and JSON numbers from `Decimal`.

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde_json::Value;

/// `Decimal` as a JSON number.
pub fn num(d: Decimal) -> Value {
    d.to_f64().map(Value::from).unwrap_or(Value::Null)
}

/// `1234567.891` → `"1,234,567.89"` (at `dp` places).
pub fn fmt_thousands(d: Decimal, dp: u32) -> String {
    let s = format!("{:.*}", dp as usize, d.round_dp(dp));
    let (sign, body) = s.strip_prefix('-').map_or(("", s.as_str()), |b| ("-", b));
    let (int, frac) = body
        .split_once('.')
        .map_or((body, None), |(i, f)| (i, Some(f)));
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    out.push_str(sign);
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
    out
}

/// Volume for display: `950`, `1.2K`, `21.4M`, `3.1B`.
pub fn fmt_short(x: f64) -> String {
    let a = x.abs();
    if a >= 1e9 {
        format!("{:.1}B", x / 1e9)
    } else if a >= 1e6 {
        format!("{:.1}M", x / 1e6)
    } else if a >= 1e3 {
        format!("{:.1}K", x / 1e3)
    } else {
        format!("{}", x.round())
    }
}

/// A signed change with a leading `+` (`"+0.52"`, `"-1.30"`).
pub fn fmt_signed(x: f64, dp: usize) -> String {
    if x >= 0.0 {
        format!("+{x:.dp$}")
    } else {
        format!("{x:.dp$}")
    }
}

/// A whole count with separators (`"1,300"`).
pub fn fmt_count(x: f64) -> String {
    fmt_thousands(Decimal::from_f64_retain(x.round()).unwrap_or_default(), 0)
}

fn utc(ms: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// `YYMMDDhhmmss` (UTC), as in `lastExecutionTime` / `order_time`.
pub fn time_compact(ms: i64) -> String {
    utc(ms).format("%y%m%d%H%M%S").to_string()
}

/// `YYYYMMDD-hh:mm:ss` (UTC), as in `trade_time` / `startTime`.
pub fn time_dash(ms: i64) -> String {
    utc(ms).format("%Y%m%d-%H:%M:%S").to_string()
}

/// Parse `YYYYMMDD-hh:mm:ss` (UTC) or `YYYYMMDD hh:mm:ss` into epoch ms.
pub fn parse_time_dash(s: &str) -> Option<i64> {
    let s = s.trim();
    ["%Y%m%d-%H:%M:%S", "%Y%m%d %H:%M:%S", "%Y%m%d-%H%M%S"]
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(s, f).ok())
        .map(|d| d.and_utc().timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::dec;

    #[test]
    fn display_formats() {
        assert_eq!(fmt_thousands(dec!(1977.6), 2), "1,977.60");
        assert_eq!(fmt_thousands(dec!(-1234567.891), 2), "-1,234,567.89");
        assert_eq!(fmt_thousands(dec!(999), 0), "999");
        assert_eq!(fmt_count(1300.0), "1,300");
        assert_eq!(fmt_short(21_412_987.0), "21.4M");
        assert_eq!(fmt_short(1_200.0), "1.2K");
        assert_eq!(fmt_short(950.0), "950");
        assert_eq!(fmt_signed(0.52, 2), "+0.52");
        assert_eq!(fmt_signed(-1.3, 2), "-1.30");
    }

    #[test]
    fn timestamps() {
        let ms = 1_702_317_649_000; // 2023-12-11 18:00:49 UTC
        assert_eq!(time_compact(ms), "231211180049");
        assert_eq!(time_dash(ms), "20231211-18:00:49");
        assert_eq!(parse_time_dash("20231211-18:00:49"), Some(ms));
        assert_eq!(parse_time_dash("2023-12-11"), None);
    }
}
