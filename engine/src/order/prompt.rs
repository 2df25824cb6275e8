//! The prompt policy: how the engine answers broker questions (IBKR order *prompts*).
//!
//! Per message id the policy says confirm, reject, or confirm and suppress (pre-answer the id
//! for the rest of the session via `/iserver/questions/suppress`). Ids without a rule get the
//! default. If any id of a prompt resolves to reject, the whole prompt is declined.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::execution::Prompt;

/// The answer for one message id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PromptDecision {
    Confirm,
    Reject,
    ConfirmAndSuppress,
}

impl PromptDecision {
    pub fn as_str(self) -> &'static str {
        match self {
            PromptDecision::Confirm => "confirm",
            PromptDecision::Reject => "reject",
            PromptDecision::ConfirmAndSuppress => "confirm-and-suppress",
        }
    }
}

/// `[prompts]` configuration: `default` plus per-message-id `rules`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromptPolicy {
    /// Decision for ids without a rule. Reject is the safe default for live trading.
    #[serde(default = "default_decision")]
    pub default: PromptDecision,
    /// Per message id (`o163`, `o354`, …).
    #[serde(default)]
    pub rules: BTreeMap<String, PromptDecision>,
}

fn default_decision() -> PromptDecision {
    PromptDecision::Reject
}

impl Default for PromptPolicy {
    fn default() -> Self {
        PromptPolicy {
            default: PromptDecision::Reject,
            rules: BTreeMap::new(),
        }
    }
}

/// The policy's answer to one prompt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PromptVerdict {
    pub confirmed: bool,
    /// Ids to suppress for the rest of the session (only when confirmed).
    pub suppress: Vec<String>,
    /// The decision for each message id, in prompt order (for the audit trail).
    pub decisions: Vec<(String, PromptDecision)>,
}

impl PromptPolicy {
    pub fn decision_for(&self, message_id: &str) -> PromptDecision {
        self.rules.get(message_id).copied().unwrap_or(self.default)
    }

    pub fn decide(&self, prompt: &Prompt) -> PromptVerdict {
        let mut decisions: Vec<(String, PromptDecision)> = prompt
            .message_ids
            .iter()
            .map(|id| (id.clone(), self.decision_for(id)))
            .collect();
        if decisions.is_empty() {
            decisions.push(("(none)".to_string(), self.default));
        }
        let confirmed = decisions.iter().all(|(_, d)| *d != PromptDecision::Reject);
        let suppress = if confirmed {
            decisions
                .iter()
                .filter(|(id, d)| *d == PromptDecision::ConfirmAndSuppress && id != "(none)")
                .map(|(id, _)| id.clone())
                .collect()
        } else {
            Vec::new()
        };
        PromptVerdict {
            confirmed,
            suppress,
            decisions,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prompt(ids: &[&str]) -> Prompt {
        Prompt {
            reply_id: "r1".into(),
            message_ids: ids.iter().map(|s| s.to_string()).collect(),
            messages: ids.iter().map(|s| format!("question {s}")).collect(),
        }
    }

    #[test]
    fn per_id_rules_and_default() {
        let mut p = PromptPolicy::default();
        p.rules.insert("o163".into(), PromptDecision::Confirm);
        p.rules
            .insert("o354".into(), PromptDecision::ConfirmAndSuppress);
        let v = p.decide(&prompt(&["o163", "o354"]));
        assert!(v.confirmed);
        assert_eq!(v.suppress, vec!["o354".to_string()]);
        let v = p.decide(&prompt(&["o163", "o10082"]));
        assert!(!v.confirmed, "unknown id falls back to the reject default");
        assert!(v.suppress.is_empty());
        p.default = PromptDecision::Confirm;
        assert!(p.decide(&prompt(&["o10082"])).confirmed);
    }

    #[test]
    fn parses_from_toml() {
        let p: PromptPolicy = toml::from_str(
            "default = \"confirm\"\n[rules]\no383 = \"reject\"\no163 = \"confirm-and-suppress\"\n",
        )
        .unwrap();
        assert_eq!(p.decision_for("o383"), PromptDecision::Reject);
        assert_eq!(p.decision_for("o163"), PromptDecision::ConfirmAndSuppress);
        assert_eq!(p.decision_for("x"), PromptDecision::Confirm);
        assert!(toml::from_str::<PromptPolicy>("defualt = \"confirm\"").is_err());
    }
}
