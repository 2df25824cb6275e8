//! A string that must never be printed: session ids, cookies, tokens.

use std::fmt;

use serde::Deserialize;

/// A secret string. `Debug` prints `***`; there is no `Display` and no `Serialize`, so it
/// cannot end up in logs, errors or JSON output by accident. Read it with
/// [`Secret::expose`] at the one place it is sent.
#[derive(Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wrap a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret value, for the request that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// True when no value is held.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_value() {
        let s = Secret::new("ce109cbeb462a76dc3f6f4182c830cc1");
        assert_eq!(format!("{s:?}"), "Secret(***)");
        assert_eq!(s.expose(), "ce109cbeb462a76dc3f6f4182c830cc1");
    }
}
