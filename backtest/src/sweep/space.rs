//! The parameter space of a sweep: `--grid` specifications, the grid's enumeration and random
//! draws from it.
//!
//! A specification is `NAME=VALUES` where `VALUES` is
//! * a list `a,b,c` (one value is a list of one): integers, decimals (`0.25`), `true`/`false`,
//!   or strings (anything else; quote with `"…"` to force a string such as `"5"`);
//! * an inclusive range `A..B:STEP` of integers or decimals (`5..30:5`, `0.5..2:0.25`); the
//!   step defaults to 1 for integers. Decimal ranges are stepped in exact decimal arithmetic,
//!   so `0.1..0.3:0.1` is exactly 0.1, 0.2, 0.3.
//!
//! One parameter has one type: integers mixed with decimals become decimals (floats to the
//! strategy); any other mix is an error.
//!
//! The grid enumerates every combination with the first parameter varying slowest (nested
//! loops in the order given); a combination's *index* is its position in that order. Random
//! search draws combinations with a fixed generator ([`SplitMix64`]) from the seed, so the
//! same seed always gives the same draws.

use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

/// The value of one parameter in one run.
#[derive(Clone, Debug, PartialEq)]
pub enum ParamValue {
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(String),
}

impl ParamValue {
    /// The value as the strategy reads it from `[strategy.params]`.
    pub fn to_toml(&self) -> toml::Value {
        match self {
            ParamValue::Int(i) => toml::Value::Integer(*i),
            ParamValue::Float(f) => toml::Value::Float(*f),
            ParamValue::Bool(b) => toml::Value::Boolean(*b),
            ParamValue::Str(s) => toml::Value::String(s.clone()),
        }
    }

    /// As a number (integers and floats).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            ParamValue::Int(i) => Some(*i as f64),
            ParamValue::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// The value as `--set` / TOML text (`5`, `0.25`, `true`, `"x"`).
    pub fn toml_text(&self) -> String {
        match self {
            ParamValue::Str(s) => toml::Value::String(s.clone()).to_string(),
            other => other.to_string(),
        }
    }
}

impl fmt::Display for ParamValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamValue::Int(i) => write!(f, "{i}"),
            ParamValue::Float(x) => write!(f, "{x}"),
            ParamValue::Bool(b) => write!(f, "{b}"),
            ParamValue::Str(s) => f.write_str(s),
        }
    }
}

/// The type of a parameter's column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamKind {
    Int,
    Float,
    Bool,
    Str,
}

impl ParamKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ParamKind::Int => "integer",
            ParamKind::Float => "decimal",
            ParamKind::Bool => "boolean",
            ParamKind::Str => "string",
        }
    }
}

/// A bad `--grid` specification.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SpaceError {
    #[error("--grid {spec}: expected NAME=VALUES, e.g. fast=5..30:5 or slow=20,40,80 or mode=a,b")]
    Syntax { spec: String },
    #[error("--grid {spec}: {reason}")]
    Invalid { spec: String, reason: String },
    #[error("parameter `{name}` is given twice")]
    Duplicate { name: String },
    #[error("no parameters to sweep: give at least one --grid NAME=VALUES")]
    Empty,
    #[error("the grid has {size} combinations, more than the limit of {limit}")]
    TooLarge { size: u128, limit: u64 },
}

/// Most combinations a grid may have (a sweep holds one result row per combination).
pub const MAX_COMBOS: u64 = 50_000_000;

/// Most values one range may expand to.
const MAX_RANGE_VALUES: usize = 1_000_000;

/// How a parameter's values are given.
#[derive(Clone, Debug, PartialEq)]
pub enum Domain {
    /// Explicit values.
    List(Vec<ParamValue>),
    /// `lo..hi[:step]` (inclusive). `step` is `None` for a decimal range without a step
    /// (continuous in random search; not allowed in a grid).
    Range {
        lo: Decimal,
        hi: Decimal,
        step: Option<Decimal>,
        integer: bool,
    },
}

/// One swept parameter.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamSpec {
    pub name: String,
    /// The text after `=`, as given.
    pub text: String,
    pub domain: Domain,
    pub kind: ParamKind,
}

impl FromStr for ParamSpec {
    type Err = SpaceError;

    fn from_str(spec: &str) -> Result<Self, SpaceError> {
        let syntax = || SpaceError::Syntax {
            spec: spec.to_string(),
        };
        let invalid = |reason: String| SpaceError::Invalid {
            spec: spec.to_string(),
            reason,
        };
        let (name, text) = spec.split_once('=').ok_or_else(syntax)?;
        let (name, text) = (name.trim(), text.trim());
        let name_ok = !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !name.starts_with(|c: char| c.is_ascii_digit());
        if !name_ok {
            return Err(invalid(format!(
                "`{name}` is not a parameter name (letters, digits, _)"
            )));
        }
        if text.is_empty() {
            return Err(syntax());
        }
        let domain = match parse_range(text).map_err(invalid)? {
            Some(range) => range,
            None => Domain::List(parse_list(text).map_err(invalid)?),
        };
        let kind = match &domain {
            Domain::Range { integer: true, .. } => ParamKind::Int,
            Domain::Range { .. } => ParamKind::Float,
            Domain::List(values) => unify(values).map_err(invalid)?,
        };
        let domain = match domain {
            Domain::List(values) if kind == ParamKind::Float => Domain::List(
                values
                    .into_iter()
                    .map(|v| match v {
                        ParamValue::Int(i) => ParamValue::Float(i as f64),
                        other => other,
                    })
                    .collect(),
            ),
            other => other,
        };
        let spec = ParamSpec {
            name: name.to_string(),
            text: text.to_string(),
            domain,
            kind,
        };
        if let Domain::List(values) = &spec.domain {
            let mut seen = Vec::<&ParamValue>::new();
            for v in values {
                if seen.contains(&v) {
                    return Err(invalid(format!("value {v} is listed twice")));
                }
                seen.push(v);
            }
        }
        Ok(spec)
    }
}

/// `A..B[:STEP]`, or `None` when `text` is not a range.
fn parse_range(text: &str) -> Result<Option<Domain>, String> {
    let Some((lo, rest)) = text.split_once("..") else {
        return Ok(None);
    };
    let (hi, step) = match rest.split_once(':') {
        Some((hi, step)) => (hi, Some(step)),
        None => (rest, None),
    };
    let num = |s: &str, what: &str| {
        Decimal::from_str(s.trim())
            .map_err(|_| format!("range {what} `{}` is not a number", s.trim()))
    };
    let lo = num(lo, "start")?;
    let hi = num(hi, "end")?;
    let step = step.map(|s| num(s, "step")).transpose()?;
    if hi < lo {
        return Err(format!("range end {hi} is below its start {lo}"));
    }
    if let Some(s) = step
        && s <= Decimal::ZERO
    {
        return Err(format!("range step must be positive, got {s}"));
    }
    let integer =
        lo.fract().is_zero() && hi.fract().is_zero() && step.is_none_or(|s| s.fract().is_zero());
    if integer && (lo.to_i64().is_none() || hi.to_i64().is_none()) {
        return Err("range bounds do not fit a 64-bit integer".into());
    }
    let step = if integer {
        Some(step.unwrap_or(Decimal::ONE))
    } else {
        step
    };
    if let Some(s) = step {
        let count = ((hi - lo) / s).floor().to_u64().unwrap_or(u64::MAX);
        if count >= MAX_RANGE_VALUES as u64 {
            return Err(format!(
                "range has more than {MAX_RANGE_VALUES} values; use a larger step"
            ));
        }
    }
    Ok(Some(Domain::Range {
        lo,
        hi,
        step,
        integer,
    }))
}

fn parse_list(text: &str) -> Result<Vec<ParamValue>, String> {
    let mut values = Vec::new();
    for item in split_list(text)? {
        values.push(parse_value(&item)?);
    }
    Ok(values)
}

/// Split at commas outside double quotes.
fn split_list(text: &str) -> Result<Vec<String>, String> {
    let mut items = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in text.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            ',' if !quoted => items.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    if quoted {
        return Err("unterminated quote".into());
    }
    items.push(cur);
    if items.iter().any(|i| i.trim().is_empty()) {
        return Err("empty value in the list".into());
    }
    Ok(items)
}

/// One list item: bool, integer, decimal, quoted or bare string.
fn parse_value(item: &str) -> Result<ParamValue, String> {
    let t = item.trim();
    if let Some(inner) = t.strip_prefix('"') {
        return inner
            .strip_suffix('"')
            .map(|s| ParamValue::Str(s.to_string()))
            .ok_or_else(|| format!("bad quoted value {t}"));
    }
    Ok(match t {
        "true" => ParamValue::Bool(true),
        "false" => ParamValue::Bool(false),
        _ => {
            if let Ok(i) = t.parse::<i64>() {
                ParamValue::Int(i)
            } else if let Ok(d) = Decimal::from_str(t) {
                ParamValue::Float(decimal_to_f64(d))
            } else {
                ParamValue::Str(t.to_string())
            }
        }
    })
}

/// The f64 nearest the decimal's text (`0.1` → 0.1, not 0.1000000000000000055…).
fn decimal_to_f64(d: Decimal) -> f64 {
    d.normalize().to_string().parse().unwrap_or(f64::NAN)
}

fn kind_of(v: &ParamValue) -> ParamKind {
    match v {
        ParamValue::Int(_) => ParamKind::Int,
        ParamValue::Float(_) => ParamKind::Float,
        ParamValue::Bool(_) => ParamKind::Bool,
        ParamValue::Str(_) => ParamKind::Str,
    }
}

fn unify(values: &[ParamValue]) -> Result<ParamKind, String> {
    let mut kind = kind_of(&values[0]);
    for v in &values[1..] {
        kind = match (kind, kind_of(v)) {
            (a, b) if a == b => a,
            (ParamKind::Int, ParamKind::Float) | (ParamKind::Float, ParamKind::Int) => {
                ParamKind::Float
            }
            (a, b) => {
                return Err(format!(
                    "values mix {} and {} ({v}); quote strings, e.g. \"5\"",
                    a.as_str(),
                    b.as_str()
                ));
            }
        };
    }
    Ok(kind)
}

impl ParamSpec {
    /// Every value of a grid axis, in order; an error for a decimal range without a step.
    pub fn grid_values(&self) -> Result<Vec<ParamValue>, SpaceError> {
        match &self.domain {
            Domain::List(values) => Ok(values.clone()),
            Domain::Range {
                lo,
                hi,
                step,
                integer,
            } => {
                let step = step.ok_or_else(|| SpaceError::Invalid {
                    spec: format!("{}={}", self.name, self.text),
                    reason: "a decimal range in a grid needs a step (A..B:STEP)".into(),
                })?;
                let mut out = Vec::new();
                let mut v = *lo;
                while v <= *hi {
                    out.push(if *integer {
                        ParamValue::Int(v.to_i64().unwrap_or(0))
                    } else {
                        ParamValue::Float(decimal_to_f64(v))
                    });
                    v += step;
                }
                Ok(out)
            }
        }
    }

    /// One random value.
    fn draw(&self, rng: &mut SplitMix64) -> ParamValue {
        match &self.domain {
            Domain::List(values) => values[rng.below(values.len() as u64) as usize].clone(),
            Domain::Range {
                lo,
                hi,
                step: Some(step),
                integer,
            } => {
                let count = ((*hi - *lo) / *step).floor().to_u64().unwrap_or(0) + 1;
                let v = *lo + *step * Decimal::from(rng.below(count));
                if *integer {
                    ParamValue::Int(v.to_i64().unwrap_or(0))
                } else {
                    ParamValue::Float(decimal_to_f64(v))
                }
            }
            Domain::Range { lo, hi, .. } => {
                let (a, b) = (decimal_to_f64(*lo), decimal_to_f64(*hi));
                ParamValue::Float(a + (b - a) * rng.unit())
            }
        }
    }
}

/// SplitMix64 (Steele, Lea & Flood 2014): a fixed generator, so random sweeps never change
/// with a dependency upgrade.
#[derive(Clone, Debug)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, n)` (Lemire's multiply-shift with rejection; `n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        let n = n.max(1);
        let threshold = n.wrapping_neg() % n;
        loop {
            let m = (self.next_u64() as u128) * (n as u128);
            if (m as u64) >= threshold {
                return (m >> 64) as u64;
            }
        }
    }

    /// Uniform in `[0, 1]` with 53 bits.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / ((1u64 << 53) - 1) as f64
    }
}

/// One combination of parameter values, with its index in the enumeration.
#[derive(Clone, Debug, PartialEq)]
pub struct Combo {
    pub index: u64,
    pub values: Vec<ParamValue>,
}

/// How combinations are chosen.
#[derive(Clone, Debug, PartialEq)]
pub enum Search {
    /// Every combination of the grid.
    Grid,
    /// `n` distinct random combinations from the seed.
    Random { n: u64, seed: u64 },
}

/// Check names are unique and the space is not empty.
pub fn check_specs(specs: &[ParamSpec]) -> Result<(), SpaceError> {
    if specs.is_empty() {
        return Err(SpaceError::Empty);
    }
    for (k, s) in specs.iter().enumerate() {
        if specs[..k].iter().any(|o| o.name == s.name) {
            return Err(SpaceError::Duplicate {
                name: s.name.clone(),
            });
        }
    }
    Ok(())
}

/// The combinations to run, in index order, keeping those `keep` accepts.
///
/// Grid: every combination (index = position in the full enumeration, so a constraint that
/// removes some leaves gaps). Random: distinct draws until `n` are kept (index = order of
/// acceptance); it stops early when `100 × n` draws in a row were rejected or duplicates
/// (a small or heavily constrained space).
pub fn combos(
    specs: &[ParamSpec],
    search: &Search,
    keep: &mut dyn FnMut(&[ParamValue]) -> bool,
) -> Result<Vec<Combo>, SpaceError> {
    check_specs(specs)?;
    match search {
        Search::Grid => {
            let axes: Vec<Vec<ParamValue>> = specs
                .iter()
                .map(ParamSpec::grid_values)
                .collect::<Result<_, _>>()?;
            let size: u128 = axes.iter().map(|a| a.len() as u128).product();
            if size > MAX_COMBOS as u128 {
                return Err(SpaceError::TooLarge {
                    size,
                    limit: MAX_COMBOS,
                });
            }
            let mut out = Vec::new();
            let mut digits = vec![0usize; axes.len()];
            for index in 0..size as u64 {
                let values: Vec<ParamValue> = digits
                    .iter()
                    .zip(&axes)
                    .map(|(&d, a)| a[d].clone())
                    .collect();
                if keep(&values) {
                    out.push(Combo { index, values });
                }
                // Increment the mixed-radix counter, last axis fastest.
                for k in (0..axes.len()).rev() {
                    digits[k] += 1;
                    if digits[k] < axes[k].len() {
                        break;
                    }
                    digits[k] = 0;
                }
            }
            Ok(out)
        }
        Search::Random { n, seed } => {
            if *n > MAX_COMBOS {
                return Err(SpaceError::TooLarge {
                    size: *n as u128,
                    limit: MAX_COMBOS,
                });
            }
            let mut rng = SplitMix64::new(*seed);
            let mut seen: HashSet<String> = HashSet::new();
            let mut out = Vec::new();
            let mut misses = 0u64;
            while (out.len() as u64) < *n && misses < 100 * n.max(&1) {
                let values: Vec<ParamValue> = specs.iter().map(|s| s.draw(&mut rng)).collect();
                let key = values
                    .iter()
                    .map(|v| format!("{v:?}"))
                    .collect::<Vec<_>>()
                    .join("\u{1f}");
                if !seen.insert(key) || !keep(&values) {
                    misses += 1;
                    continue;
                }
                misses = 0;
                out.push(Combo {
                    index: out.len() as u64,
                    values,
                });
            }
            Ok(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(s: &str) -> ParamSpec {
        s.parse().unwrap()
    }

    #[test]
    fn ranges_and_lists() {
        let table: &[(&str, &[&str])] = &[
            ("fast=5..30:5", &["5", "10", "15", "20", "25", "30"]),
            ("slow=20,40,80", &["20", "40", "80"]),
            ("x=1..3", &["1", "2", "3"]),
            ("x=0.1..0.3:0.1", &["0.1", "0.2", "0.3"]),
            ("x=-1..1:0.5", &["-1", "-0.5", "0", "0.5", "1"]),
            ("x=1,2.5", &["1", "2.5"]),
            ("x=5..7:5", &["5"]),
            ("flag=true,false", &["true", "false"]),
            ("mode=fast,slow", &["fast", "slow"]),
            ("mode=\"5\",\"a,b\"", &["5", "a,b"]),
        ];
        for (text, want) in table {
            let got: Vec<String> = spec(text)
                .grid_values()
                .unwrap()
                .iter()
                .map(|v| v.to_string())
                .collect();
            assert_eq!(&got, want, "{text}");
        }
        assert_eq!(spec("x=1,2.5").kind, ParamKind::Float);
        assert_eq!(spec("x=1..3").kind, ParamKind::Int);
        assert_eq!(spec("x=\"5\"").kind, ParamKind::Str);
        assert_eq!(
            spec("x=0.1..0.3:0.1").grid_values().unwrap()[2],
            ParamValue::Float(0.3)
        );
    }

    #[test]
    fn bad_specs_name_the_problem() {
        let table = [
            ("fast", "expected NAME=VALUES"),
            ("=5", "is not a parameter name"),
            ("fast=", "expected NAME=VALUES"),
            ("fast=30..5", "range end 5 is below its start 30"),
            ("fast=5..30:0", "range step must be positive"),
            ("fast=5..x", "range end `x` is not a number"),
            ("x=1,true", "values mix integer and boolean"),
            ("x=1,,2", "empty value"),
            ("x=1,1", "value 1 is listed twice"),
            ("x=0..1e9:0.001", "more than 1000000 values"),
            ("x=0..10000000", "more than 1000000 values"),
        ];
        for (text, want) in table {
            let e = text.parse::<ParamSpec>().unwrap_err().to_string();
            assert!(e.contains(want), "{text}: {e}");
        }
        let e = spec("x=0.5..1").grid_values().unwrap_err().to_string();
        assert!(e.contains("needs a step"), "{e}");
        let specs = [spec("a=1,2"), spec("a=3")];
        assert_eq!(
            combos(&specs, &Search::Grid, &mut |_| true)
                .unwrap_err()
                .to_string(),
            "parameter `a` is given twice"
        );
    }

    #[test]
    fn grid_order_first_parameter_slowest_and_filter_keeps_indices() {
        let specs = [spec("fast=1..3"), spec("slow=2,3")];
        let all = combos(&specs, &Search::Grid, &mut |_| true).unwrap();
        let text: Vec<String> = all
            .iter()
            .map(|c| format!("{}:{}/{}", c.index, c.values[0], c.values[1]))
            .collect();
        assert_eq!(text, ["0:1/2", "1:1/3", "2:2/2", "3:2/3", "4:3/2", "5:3/3"]);
        let kept = combos(&specs, &Search::Grid, &mut |v| {
            v[0].as_f64() < v[1].as_f64()
        })
        .unwrap();
        let idx: Vec<u64> = kept.iter().map(|c| c.index).collect();
        assert_eq!(idx, [0, 1, 3]);
    }

    #[test]
    fn random_draws_are_seeded_distinct_and_in_range() {
        let specs = [spec("fast=2..50"), spec("w=0.5..1.5"), spec("m=a,b,c")];
        let a = combos(&specs, &Search::Random { n: 200, seed: 7 }, &mut |_| true).unwrap();
        let b = combos(&specs, &Search::Random { n: 200, seed: 7 }, &mut |_| true).unwrap();
        let c = combos(&specs, &Search::Random { n: 200, seed: 8 }, &mut |_| true).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.len(), 200);
        for combo in &a {
            let f = combo.values[0].as_f64().unwrap();
            let w = combo.values[1].as_f64().unwrap();
            assert!((2.0..=50.0).contains(&f) && f.fract() == 0.0);
            assert!((0.5..=1.5).contains(&w));
        }
        // A space of 6 combinations gives at most 6 distinct draws.
        let small = [spec("a=1..3"), spec("b=x,y")];
        let got = combos(&small, &Search::Random { n: 50, seed: 1 }, &mut |_| true).unwrap();
        assert_eq!(got.len(), 6);
    }

    #[test]
    fn splitmix_below_is_uniform_enough_and_bounded() {
        let mut r = SplitMix64::new(1);
        let mut counts = [0u32; 7];
        for _ in 0..70_000 {
            counts[r.below(7) as usize] += 1;
        }
        for c in counts {
            assert!((9_000..11_000).contains(&c), "{counts:?}");
        }
    }
}
