//! Strategy parameters: a TOML table read with typed getters that name the parameter, the
//! expected type and the valid keys when something is wrong.

use std::cell::RefCell;
use std::collections::BTreeSet;

use rust_decimal::Decimal;

/// A problem with a strategy's parameters.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParamError {
    #[error("strategy {strategy}: parameter `{key}` must be {expected}, got {got}")]
    WrongType {
        strategy: String,
        key: String,
        expected: &'static str,
        got: String,
    },
    #[error("strategy {strategy}: parameter `{key}` {reason}")]
    Invalid {
        strategy: String,
        key: String,
        reason: String,
    },
    #[error("strategy {strategy}: unknown parameter `{key}` (valid: {valid})")]
    Unknown {
        strategy: String,
        key: String,
        valid: String,
    },
}

/// Typed access to `[strategy.params]`. Call the getters, then [`Params::finish`] to reject
/// keys no getter asked for (typos).
pub struct Params<'a> {
    strategy: &'a str,
    table: &'a toml::Table,
    seen: RefCell<BTreeSet<&'static str>>,
}

fn type_name(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => format!("string {s:?}"),
        toml::Value::Integer(i) => format!("integer {i}"),
        toml::Value::Float(f) => format!("float {f}"),
        toml::Value::Boolean(b) => format!("boolean {b}"),
        toml::Value::Datetime(d) => format!("datetime {d}"),
        toml::Value::Array(_) => "an array".into(),
        toml::Value::Table(_) => "a table".into(),
    }
}

impl<'a> Params<'a> {
    pub fn new(strategy: &'a str, table: &'a toml::Table) -> Self {
        Params {
            strategy,
            table,
            seen: RefCell::new(BTreeSet::new()),
        }
    }

    fn get(&self, key: &'static str) -> Option<&'a toml::Value> {
        self.seen.borrow_mut().insert(key);
        self.table.get(key)
    }

    fn wrong(&self, key: &str, expected: &'static str, v: &toml::Value) -> ParamError {
        ParamError::WrongType {
            strategy: self.strategy.to_string(),
            key: key.to_string(),
            expected,
            got: type_name(v),
        }
    }

    /// An error about `key`, for checks the strategy does itself.
    pub fn invalid(&self, key: &str, reason: impl Into<String>) -> ParamError {
        ParamError::Invalid {
            strategy: self.strategy.to_string(),
            key: key.to_string(),
            reason: reason.into(),
        }
    }

    /// A positive integer (e.g. a period).
    pub fn usize(&self, key: &'static str, default: usize) -> Result<usize, ParamError> {
        match self.get(key) {
            None => Ok(default),
            Some(toml::Value::Integer(i)) if *i > 0 => Ok(*i as usize),
            Some(v @ toml::Value::Integer(_)) => Err(self.wrong(key, "a positive integer", v)),
            Some(v) => Err(self.wrong(key, "a positive integer", v)),
        }
    }

    /// A non-negative integer (a count where 0 means "off").
    pub fn usize_or_zero(&self, key: &'static str, default: usize) -> Result<usize, ParamError> {
        match self.get(key) {
            None => Ok(default),
            Some(toml::Value::Integer(i)) if *i >= 0 => Ok(*i as usize),
            Some(v) => Err(self.wrong(key, "a non-negative integer", v)),
        }
    }

    /// A float (integers accepted).
    pub fn f64(&self, key: &'static str, default: f64) -> Result<f64, ParamError> {
        match self.get(key) {
            None => Ok(default),
            Some(toml::Value::Float(f)) if f.is_finite() => Ok(*f),
            Some(toml::Value::Integer(i)) => Ok(*i as f64),
            Some(v) => Err(self.wrong(key, "a number", v)),
        }
    }

    /// A fraction in (0, 1] (of equity, say), given like [`Self::decimal`].
    pub fn fraction(&self, key: &'static str, default: Decimal) -> Result<Decimal, ParamError> {
        let f = self.decimal(key, default)?;
        if f <= Decimal::ZERO || f > Decimal::ONE {
            return Err(self.invalid(key, format!("must be in (0, 1], got {f}")));
        }
        Ok(f)
    }

    /// A decimal quantity or price (integer, float or string like "0.25").
    pub fn decimal(&self, key: &'static str, default: Decimal) -> Result<Decimal, ParamError> {
        match self.get(key) {
            None => Ok(default),
            Some(toml::Value::Integer(i)) => Ok(Decimal::from(*i)),
            Some(v @ toml::Value::Float(f)) => {
                Decimal::try_from(*f).map_err(|_| self.wrong(key, "a decimal number", v))
            }
            Some(v @ toml::Value::String(s)) => s
                .parse::<Decimal>()
                .map_err(|_| self.wrong(key, "a decimal number", v)),
            Some(v) => Err(self.wrong(key, "a decimal number", v)),
        }
    }

    pub fn bool(&self, key: &'static str, default: bool) -> Result<bool, ParamError> {
        match self.get(key) {
            None => Ok(default),
            Some(toml::Value::Boolean(b)) => Ok(*b),
            Some(v) => Err(self.wrong(key, "true or false", v)),
        }
    }

    pub fn string(&self, key: &'static str, default: &str) -> Result<String, ParamError> {
        match self.get(key) {
            None => Ok(default.to_string()),
            Some(toml::Value::String(s)) => Ok(s.clone()),
            Some(v) => Err(self.wrong(key, "a string", v)),
        }
    }

    /// A list of strings (e.g. symbols); empty when absent.
    pub fn strings(&self, key: &'static str) -> Result<Vec<String>, ParamError> {
        match self.get(key) {
            None => Ok(Vec::new()),
            Some(toml::Value::Array(a)) => a
                .iter()
                .map(|v| match v {
                    toml::Value::String(s) => Ok(s.clone()),
                    other => Err(self.wrong(key, "an array of strings", other)),
                })
                .collect(),
            Some(v) => Err(self.wrong(key, "an array of strings", v)),
        }
    }

    /// Reject keys that no getter asked for, listing the valid ones.
    pub fn finish(self) -> Result<(), ParamError> {
        let seen = self.seen.into_inner();
        for key in self.table.keys() {
            if !seen.contains(key.as_str()) {
                return Err(ParamError::Unknown {
                    strategy: self.strategy.to_string(),
                    key: key.clone(),
                    valid: seen.iter().copied().collect::<Vec<_>>().join(", "),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_getters_and_unknown_keys() {
        let t: toml::Table =
            toml::from_str("fast = 5\nslow = \"x\"\nqty = 2.5\nextra = 1").unwrap();
        let p = Params::new("demo", &t);
        assert_eq!(p.usize("fast", 10).unwrap(), 5);
        assert_eq!(
            p.usize("slow", 30).unwrap_err().to_string(),
            "strategy demo: parameter `slow` must be a positive integer, got string \"x\""
        );
        assert_eq!(p.decimal("qty", Decimal::ONE).unwrap(), Decimal::new(25, 1));
        assert_eq!(p.f64("missing", 1.5).unwrap(), 1.5);
        assert_eq!(
            p.finish().unwrap_err().to_string(),
            "strategy demo: unknown parameter `extra` (valid: fast, missing, qty, slow)"
        );
    }

    #[test]
    fn fractions_are_checked_at_both_ends() {
        let t: toml::Table = toml::from_str(
            "one = 1
zero = 0
big = 1.5
half = \"0.5\"",
        )
        .unwrap();
        let p = Params::new("demo", &t);
        assert_eq!(p.fraction("one", Decimal::ONE).unwrap(), Decimal::ONE);
        assert_eq!(
            p.fraction("half", Decimal::ONE).unwrap(),
            Decimal::new(5, 1)
        );
        assert_eq!(
            p.fraction("missing", Decimal::new(1, 1)).unwrap(),
            Decimal::new(1, 1)
        );
        for key in ["zero", "big"] {
            assert!(
                p.fraction(key, Decimal::ONE)
                    .unwrap_err()
                    .to_string()
                    .contains(&format!("parameter `{key}` must be in (0, 1]")),
                "{key}"
            );
        }
    }

    #[test]
    fn usize_or_zero_allows_zero_only() {
        let t: toml::Table = toml::from_str(
            "off = 0
neg = -1",
        )
        .unwrap();
        let p = Params::new("demo", &t);
        assert_eq!(p.usize_or_zero("off", 5).unwrap(), 0);
        assert_eq!(p.usize_or_zero("missing", 5).unwrap(), 5);
        assert!(p.usize_or_zero("neg", 5).is_err());
    }
}
