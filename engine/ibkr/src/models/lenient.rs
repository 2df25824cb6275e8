//! Tolerant deserialisers for IBKR's type drift: numbers sent as strings (`"457.00"`,
//! `"8314"`), strings sent as numbers, booleans as `0`/`1`/`"true"`, and `null` or `""` for
//! "no value". Use them with `#[serde(deserialize_with = "...", default)]`.

use std::fmt;

use rust_decimal::Decimal;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

/// A value IBKR sends either as a JSON string or as a JSON number (conids, ids). Kept as the
/// text it arrived as.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Default)]
#[serde(transparent)]
pub struct StringOrNumber(pub String);

impl StringOrNumber {
    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The value as an integer, when it is one.
    pub fn as_i64(&self) -> Option<i64> {
        self.0.trim().parse().ok()
    }
}

impl fmt::Display for StringOrNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for StringOrNumber {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = StringOrNumber;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or a number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(StringOrNumber(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(StringOrNumber(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(StringOrNumber(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(StringOrNumber(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(StringOrNumber(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(StringOrNumber(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// Convert an `f64` into the shortest decimal that prints the same (`0.1` stays `0.1`, not
/// `0.1000000000000000055…`).
pub fn decimal_from_f64(v: f64) -> Option<Decimal> {
    if !v.is_finite() {
        return None;
    }
    let mut buf = StackBuf::new();
    fmt::write(&mut buf, format_args!("{v}")).ok()?;
    let s = buf.as_str();
    if s.contains('e') {
        Decimal::from_scientific(s).ok()
    } else {
        s.parse().ok()
    }
}

/// Parse a decimal that may carry thousands separators or surrounding spaces (`"1,977.60"`).
pub fn parse_decimal_str(s: &str) -> Option<Decimal> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    if t.contains(',') {
        let mut buf = StackBuf::new();
        for ch in t.chars().filter(|c| *c != ',') {
            if fmt::Write::write_char(&mut buf, ch).is_err() {
                return None;
            }
        }
        parse_plain_decimal(buf.as_str())
    } else {
        parse_plain_decimal(t)
    }
}

fn parse_plain_decimal(t: &str) -> Option<Decimal> {
    let t = t.strip_prefix('+').unwrap_or(t);
    if t.contains(['e', 'E']) {
        Decimal::from_scientific(t).ok()
    } else {
        t.parse().ok()
    }
}

/// A small fixed-size text buffer, so number conversion does not allocate.
pub(crate) struct StackBuf {
    buf: [u8; 64],
    len: usize,
}

impl StackBuf {
    pub(crate) fn new() -> Self {
        StackBuf {
            buf: [0; 64],
            len: 0,
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        // Only whole UTF-8 sequences are ever written (see `write_str`).
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }
}

impl fmt::Write for StackBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        if end > self.buf.len() {
            return Err(fmt::Error);
        }
        self.buf[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

struct OptDecimalVisitor;

impl<'de> Visitor<'de> for OptDecimalVisitor {
    type Value = Option<Decimal>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a decimal number, a numeric string, an empty string or null")
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(OptDecimalVisitor)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(Decimal::from(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(Decimal::from(v)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        decimal_from_f64(v)
            .map(Some)
            .ok_or_else(|| E::custom("number out of decimal range"))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        if v.trim().is_empty() {
            return Ok(None);
        }
        parse_decimal_str(v)
            .map(Some)
            .ok_or_else(|| E::invalid_value(de::Unexpected::Other("non-numeric string"), &self))
    }
}

/// `Option<Decimal>` from a number, a numeric string (`"1,300.5"`), `""` or `null`.
pub fn opt_decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    d.deserialize_option(OptDecimalVisitor)
}

/// `Decimal` from a number or a numeric string; `null`/`""` are errors.
pub fn decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    opt_decimal(d)?.ok_or_else(|| de::Error::custom("missing decimal value"))
}

/// `Vec<Decimal>` whose items may be numbers or strings.
pub fn decimal_vec<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Decimal>, D::Error> {
    #[derive(Deserialize)]
    struct Item(#[serde(deserialize_with = "decimal")] Decimal);
    let items: Option<Vec<Item>> = Option::deserialize(d)?;
    Ok(items.unwrap_or_default().into_iter().map(|i| i.0).collect())
}

struct OptI64Visitor;

impl<'de> Visitor<'de> for OptI64Visitor {
    type Value = Option<i64>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an integer, an integer string, an empty string or null")
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(OptI64Visitor)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        i64::try_from(v)
            .map(Some)
            .map_err(|_| E::custom("integer larger than i64"))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        if v.fract() == 0.0 && v.abs() < 9.0e15 {
            Ok(Some(v as i64))
        } else {
            Err(E::invalid_value(de::Unexpected::Float(v), &self))
        }
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        let t = v.trim();
        if t.is_empty() {
            return Ok(None);
        }
        t.parse()
            .map(Some)
            .map_err(|_| E::invalid_value(de::Unexpected::Other("non-integer string"), &self))
    }
}

/// `Option<i64>` from a number, an integer string, `""` or `null`.
pub fn opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    d.deserialize_option(OptI64Visitor)
}

/// `i64` from a number or an integer string.
pub fn i64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    opt_i64(d)?.ok_or_else(|| de::Error::custom("missing integer value"))
}

struct OptBoolVisitor;

impl<'de> Visitor<'de> for OptBoolVisitor {
    type Value = Option<bool>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a boolean, 0/1, \"true\"/\"false\", \"0\"/\"1\" or null")
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(OptBoolVisitor)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Some(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v != 0))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(v != 0))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        match v.trim() {
            "" => Ok(None),
            "1" | "true" | "TRUE" | "True" | "Y" | "y" => Ok(Some(true)),
            "0" | "false" | "FALSE" | "False" | "N" | "n" => Ok(Some(false)),
            _ => Err(E::invalid_value(
                de::Unexpected::Other("non-boolean string"),
                &self,
            )),
        }
    }
}

/// `Option<bool>` from `true`/`false`, `0`/`1`, `"true"`/`"0"`, `""` or `null`.
pub fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    d.deserialize_option(OptBoolVisitor)
}

/// `bool` like [`opt_bool`], with `null`/`""` meaning `false`.
pub fn bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(opt_bool(d)?.unwrap_or(false))
}

struct OptStringVisitor;

impl<'de> Visitor<'de> for OptStringVisitor {
    type Value = Option<String>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string, a number or null")
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(OptStringVisitor)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Some(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
}

/// `Option<String>` from a string, a number (as its text) or `null`.
pub fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    d.deserialize_option(OptStringVisitor)
}

/// `String` from a string or a number; `null` becomes `""`.
pub fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(opt_string(d)?.unwrap_or_default())
}

/// `Vec<T>` where `null` means empty.
pub fn null_vec<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::dec;

    #[derive(Deserialize)]
    struct D {
        #[serde(deserialize_with = "opt_decimal", default)]
        v: Option<Decimal>,
    }

    fn dv(json: &str) -> Option<Decimal> {
        serde_json::from_str::<D>(json).expect("parses").v
    }

    #[test]
    fn decimals_from_numbers_and_strings() {
        assert_eq!(dv(r#"{"v":"457.00"}"#), Some(dec!(457.00)));
        assert_eq!(dv(r#"{"v":372}"#), Some(dec!(372)));
        assert_eq!(dv(r#"{"v":0.1}"#), Some(dec!(0.1)));
        assert_eq!(dv(r#"{"v":0.00365831}"#), Some(dec!(0.00365831)));
        assert_eq!(dv(r#"{"v":"1,977.60"}"#), Some(dec!(1977.60)));
        assert_eq!(dv(r#"{"v":"+0.52"}"#), Some(dec!(0.52)));
        assert_eq!(dv(r#"{"v":""}"#), None);
        assert_eq!(dv(r#"{"v":null}"#), None);
        assert_eq!(dv(r#"{}"#), None);
        assert!(serde_json::from_str::<D>(r#"{"v":"abc"}"#).is_err());
    }

    #[derive(Deserialize)]
    struct I {
        #[serde(deserialize_with = "opt_i64", default)]
        v: Option<i64>,
    }

    #[test]
    fn integers_from_numbers_and_strings() {
        let p = |j: &str| serde_json::from_str::<I>(j).map(|i| i.v);
        assert_eq!(p(r#"{"v":"8314"}"#).ok(), Some(Some(8314)));
        assert_eq!(
            p(r#"{"v":9007199254740993}"#).ok(),
            Some(Some(9007199254740993))
        );
        assert_eq!(p(r#"{"v":1370093239.0}"#).ok(), Some(Some(1370093239)));
        assert!(p(r#"{"v":"12x"}"#).is_err());
        assert!(p(r#"{"v":1.5}"#).is_err());
    }

    #[derive(Deserialize)]
    struct B {
        #[serde(deserialize_with = "opt_bool", default)]
        v: Option<bool>,
    }

    #[test]
    fn booleans_from_many_shapes() {
        let p = |j: &str| serde_json::from_str::<B>(j).map(|i| i.v).ok().flatten();
        assert_eq!(p(r#"{"v":"1"}"#), Some(true));
        assert_eq!(p(r#"{"v":0}"#), Some(false));
        assert_eq!(p(r#"{"v":true}"#), Some(true));
        assert_eq!(p(r#"{"v":null}"#), None);
    }

    #[test]
    fn string_or_number() {
        let a: StringOrNumber = serde_json::from_str("265598").expect("number");
        let b: StringOrNumber = serde_json::from_str("\"265598\"").expect("string");
        assert_eq!(a, b);
        assert_eq!(a.as_i64(), Some(265598));
    }

    proptest::proptest! {
        #[test]
        fn f64_roundtrip(v in -1.0e12f64..1.0e12) {
            let d = decimal_from_f64(v).expect("finite");
            let back: f64 = d.to_string().parse().expect("decimal prints a float");
            proptest::prop_assert_eq!(back, v);
        }
    }
}
