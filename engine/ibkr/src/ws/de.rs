//! Tolerant deserialisers for websocket payloads: IBKR sends ids and numbers sometimes as JSON
//! numbers and sometimes as strings (`"conid": 265598` vs `"conidEx": "265598"`, `"price": 372`
//! vs `"avgPrice": "382.45"`).

use std::fmt;

use rust_decimal::Decimal;
use serde::de::{self, Deserializer, Visitor};

/// An unsigned id given as a number or a numeric string. Ids can exceed 2^53, so they are never
/// routed through `f64`.
pub fn u64_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    d.deserialize_any(U64Visitor)
}

/// As [`u64_lenient`], `null` or absent → `None`.
pub fn opt_u64_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    d.deserialize_any(OptVisitor::blank_is_none(U64Visitor))
}

/// A signed integer (epoch ms and the like) given as a number or a numeric string; `null` →
/// `None`.
pub fn opt_i64_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    d.deserialize_any(OptVisitor::blank_is_none(I64Visitor))
}

/// A decimal given as a number or a string (`"1,300.5"` thousands separators accepted); empty
/// strings and `null` → `None`.
pub fn opt_decimal_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    d.deserialize_any(OptVisitor::blank_is_none(DecimalVisitor))
}

/// A boolean given as `true`/`false`, `0`/`1` or `"0"`/`"1"`/`"true"`/`"false"`; `null` → `None`.
pub fn opt_bool_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    d.deserialize_any(OptVisitor::new(BoolVisitor))
}

/// A string, or a number rendered as text; `null` → `None`.
pub fn opt_string_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    d.deserialize_any(OptVisitor::new(StringVisitor))
}

/// Parse a decimal text leniently: trims, drops thousands separators.
pub fn parse_decimal_text(s: &str) -> Option<Decimal> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    if t.contains(',') {
        t.replace(',', "").parse().ok()
    } else {
        t.parse().ok()
    }
}

/// Wraps a visitor so that `null` / unit (and, for numbers, a blank string) becomes `None` and
/// everything else `Some(inner)`.
struct OptVisitor<V> {
    inner: V,
    blank_is_none: bool,
}

impl<V> OptVisitor<V> {
    fn new(inner: V) -> Self {
        OptVisitor {
            inner,
            blank_is_none: false,
        }
    }

    fn blank_is_none(inner: V) -> Self {
        OptVisitor {
            inner,
            blank_is_none: true,
        }
    }
}

impl<'de, V: Visitor<'de>> Visitor<'de> for OptVisitor<V> {
    type Value = Option<V::Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.expecting(f)?;
        f.write_str(" or null")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        self.inner.visit_u64(v).map(Some)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        self.inner.visit_i64(v).map(Some)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        self.inner.visit_f64(v).map(Some)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        self.inner.visit_bool(v).map(Some)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        if self.blank_is_none && v.trim().is_empty() {
            return Ok(None);
        }
        self.inner.visit_str(v).map(Some)
    }
}

struct U64Visitor;

impl Visitor<'_> for U64Visitor {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an unsigned integer or a numeric string")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
        Ok(v)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
        u64::try_from(v).map_err(|_| E::custom(format!("negative id {v}")))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<u64, E> {
        if v.fract() == 0.0 && (0.0..9_007_199_254_740_992.0).contains(&v) {
            // Exact for integers below 2^53.
            Ok(v as u64)
        } else {
            Err(E::custom(format!("id {v} is not a whole number")))
        }
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<u64, E> {
        Err(E::invalid_type(de::Unexpected::Bool(v), &self))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<u64, E> {
        v.trim()
            .parse()
            .map_err(|_| E::custom(format!("{v:?} is not an unsigned integer")))
    }
}

struct I64Visitor;

impl Visitor<'_> for I64Visitor {
    type Value = i64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an integer or a numeric string")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
        i64::try_from(v).map_err(|_| E::custom(format!("integer {v} out of range")))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
        Ok(v)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<i64, E> {
        if v.fract() == 0.0 && v.abs() < 9_007_199_254_740_992.0 {
            Ok(v as i64)
        } else {
            Err(E::custom(format!("{v} is not a whole number")))
        }
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<i64, E> {
        Err(E::invalid_type(de::Unexpected::Bool(v), &self))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<i64, E> {
        v.trim()
            .parse()
            .map_err(|_| E::custom(format!("{v:?} is not an integer")))
    }
}

struct DecimalVisitor;

impl Visitor<'_> for DecimalVisitor {
    type Value = Decimal;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number or a decimal string")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Decimal, E> {
        Ok(Decimal::from(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Decimal, E> {
        Ok(Decimal::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Decimal, E> {
        // Through the shortest round-trip text, so 382.4 stays 382.4 (not 382.39999…).
        parse_decimal_text(&v.to_string())
            .ok_or_else(|| E::custom(format!("{v} is not a finite decimal")))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Decimal, E> {
        Err(E::invalid_type(de::Unexpected::Bool(v), &self))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Decimal, E> {
        parse_decimal_text(v).ok_or_else(|| E::custom(format!("{v:?} is not a decimal")))
    }
}

struct BoolVisitor;

impl Visitor<'_> for BoolVisitor {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a boolean, 0/1 or \"true\"/\"false\"")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
        Ok(v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<bool, E> {
        match v {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(E::custom(format!("{v} is not a boolean"))),
        }
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<bool, E> {
        u64::try_from(v)
            .map_err(|_| E::custom(format!("{v} is not a boolean")))
            .and_then(|u| self.visit_u64(u))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<bool, E> {
        Err(E::invalid_type(de::Unexpected::Float(v), &self))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
        match v.trim() {
            "1" | "true" | "TRUE" | "True" => Ok(true),
            "0" | "false" | "FALSE" | "False" | "" => Ok(false),
            other => Err(E::custom(format!("{other:?} is not a boolean"))),
        }
    }
}

struct StringVisitor;

impl Visitor<'_> for StringVisitor {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or a number")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
        Ok(v.to_string())
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;
    use serde::Deserialize;

    use super::*;

    #[derive(Deserialize)]
    struct Probe {
        #[serde(default, deserialize_with = "opt_u64_lenient")]
        id: Option<u64>,
        #[serde(default, deserialize_with = "opt_decimal_lenient")]
        px: Option<Decimal>,
        #[serde(default, deserialize_with = "opt_bool_lenient")]
        flag: Option<bool>,
    }

    fn probe(json: &str) -> Probe {
        serde_json::from_str(json).expect("probe parses")
    }

    #[test]
    fn ids_accept_numbers_and_strings_beyond_2_pow_53() {
        assert_eq!(
            probe(r#"{"id":"9007199254740993"}"#).id,
            Some(9_007_199_254_740_993)
        );
        assert_eq!(
            probe(r#"{"id":9007199254740993}"#).id,
            Some(9_007_199_254_740_993)
        );
        assert_eq!(probe(r#"{"id":null}"#).id, None);
        assert!(serde_json::from_str::<Probe>(r#"{"id":"x"}"#).is_err());
    }

    #[test]
    fn decimals_keep_their_digits() {
        assert_eq!(probe(r#"{"px":382.4}"#).px, Some(Decimal::new(3824, 1)));
        assert_eq!(
            probe(r#"{"px":"1,300.5"}"#).px,
            Some(Decimal::new(13005, 1))
        );
        assert_eq!(probe(r#"{"px":""}"#).px, None);
    }

    #[test]
    fn booleans_accept_flags() {
        assert_eq!(probe(r#"{"flag":"1"}"#).flag, Some(true));
        assert_eq!(probe(r#"{"flag":0}"#).flag, Some(false));
    }
}
