//! Text helpers for the HTML report: escaping and human-readable numbers.

use rust_decimal::Decimal;

/// Escapes `&`, `<`, `>`, `"` and `'` for use in HTML text and quoted attributes.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Makes JSON safe to place inside a `<script>` element: `<`, `>` and `&` become
/// `\u003c`, `\u003e` and `\u0026` (outside strings JSON never contains them, inside
/// strings the escapes decode to the same text), so `</script>` and `<!--` cannot
/// appear. U+2028/U+2029 are escaped as well.
pub fn escape_json_for_script(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            _ => out.push(c),
        }
    }
    out
}

/// Groups the integer digits of an already formatted number in thousands:
/// `"-1234567.89"` → `"-1,234,567.89"`.
fn group_thousands(formatted: &str) -> String {
    let (sign, rest) = match formatted.strip_prefix('-') {
        Some(r) => ("-", r),
        None => ("", formatted),
    };
    let (int, frac) = match rest.find('.') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    if !int.bytes().all(|b| b.is_ascii_digit()) {
        return formatted.to_string();
    }
    let mut grouped = String::with_capacity(int.len() + int.len() / 3);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}{grouped}{frac}")
}

/// Money with two decimals and thousands separators.
pub fn money(x: f64) -> String {
    let s = format!("{x:.2}");
    group_thousands(if s == "-0.00" { "0.00" } else { &s })
}

/// A decimal (price, quantity, money) with trailing zeros removed and thousands
/// separators.
pub fn decimal(d: Decimal) -> String {
    group_thousands(&d.normalize().to_string())
}

/// A fraction as a percentage with two decimals: `0.1234` → `"12.34 %"`.
pub fn percent(x: f64) -> String {
    let s = format!("{:.2}", x * 100.0);
    let s = if s == "-0.00" { "0.00".to_string() } else { s };
    format!("{} %", group_thousands(&s))
}

/// A ratio with two decimals.
pub fn ratio(x: f64) -> String {
    let s = format!("{x:.2}");
    group_thousands(if s == "-0.00" { "0.00" } else { &s })
}

/// An integer count with thousands separators.
pub fn count(n: u64) -> String {
    group_thousands(&n.to_string())
}

/// A duration in seconds as `"3d 4h 5m"`, `"4h 5m 6s"`, `"12.5s"`.
pub fn duration(seconds: f64) -> String {
    if !seconds.is_finite() || seconds < 0.0 {
        return "0s".to_string();
    }
    if seconds < 60.0 {
        return format!("{}s", trim_zeros(&format!("{seconds:.3}")));
    }
    let total = seconds.round() as u64;
    let (d, h, m, s) = (
        total / 86_400,
        total % 86_400 / 3_600,
        total % 3_600 / 60,
        total % 60,
    );
    if d > 0 {
        format!("{d}d {h}h {m}m")
    } else if h > 0 {
        format!("{h}h {m}m {s}s")
    } else {
        format!("{m}m {s}s")
    }
}

fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// A UTC-ns timestamp as `2024-01-02 14:30:00` (UTC, fractional seconds when present).
pub fn timestamp(ts: i64) -> String {
    chrono::DateTime::from_timestamp_nanos(ts)
        .format("%Y-%m-%d %H:%M:%S%.f")
        .to_string()
}

/// An RFC 3339 timestamp for display: `T` → space, `Z` → ` UTC`.
pub fn rfc3339_display(s: &str) -> String {
    match s.strip_suffix('Z') {
        Some(body) => format!("{} UTC", body.replacen('T', " ", 1)),
        None => s.to_string(),
    }
}
