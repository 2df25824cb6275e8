//! Order prompts: the four shapes of the submit / modify / reply answers (reference §6.4)
//! and the policy that decides which questions to confirm.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::models::OrderAck;
use crate::models::lenient;

/// A confirmation question: answer it with `Client::reply(reply_id, confirmed)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prompt {
    /// The reply id (expires within seconds).
    pub reply_id: String,
    /// Message ids classifying each message (`o163`, `o354`, …; unknown ids are kept).
    pub message_ids: Vec<String>,
    /// Question texts.
    pub messages: Vec<String>,
    /// IBKR's `isSuppressed` flag.
    pub is_suppressed: bool,
    /// Further question items of the same answer (one per ticket; rare).
    pub more: Vec<Prompt>,
}

/// A server prompt (e.g. `p12`, "Use the Price Management Algo?"): answer it with
/// `Client::answer_notification` choosing one of `options`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectPrompt {
    pub order_id: Option<i64>,
    pub req_id: Option<String>,
    pub message_id: Option<String>,
    pub text: String,
    pub options: Vec<String>,
    pub dismissable: Vec<String>,
    pub kind: Option<String>,
}

impl RejectPrompt {
    /// The option that says yes (`confirmed`) or no: IBKR lists the answer for this order
    /// first ("Use on this order") and the refusal last ("Do not use"); `None` when the
    /// prompt offers fewer than two options.
    pub fn option(&self, confirmed: bool) -> Option<&str> {
        if self.options.len() < 2 {
            return None;
        }
        let pick = if confirmed {
            self.options.first()
        } else {
            self.options.last()
        };
        pick.map(String::as_str)
    }
}

/// What submitting, modifying or replying produced.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PlaceOutcome {
    /// Accepted; one ack per ticket.
    Placed(Vec<OrderAck>),
    /// A question must be answered first.
    Question(Prompt),
    /// A server prompt with options.
    RejectPrompt(RejectPrompt),
    /// Rejected or not confirmed (IBKR's message).
    Error(String),
}

impl PlaceOutcome {
    /// The acks when placed.
    pub fn acks(&self) -> Option<&[OrderAck]> {
        match self {
            PlaceOutcome::Placed(a) => Some(a),
            _ => None,
        }
    }
}

#[derive(Deserialize)]
struct RawQuestion {
    #[serde(deserialize_with = "lenient::string")]
    id: String,
    #[serde(default, deserialize_with = "lenient::null_vec")]
    message: Vec<String>,
    #[serde(rename = "messageIds", default, deserialize_with = "lenient::null_vec")]
    message_ids: Vec<String>,
    #[serde(rename = "isSuppressed", default, deserialize_with = "lenient::bool")]
    is_suppressed: bool,
}

#[derive(Deserialize)]
struct RawRejectPrompt {
    #[serde(rename = "orderId", default, deserialize_with = "lenient::opt_i64")]
    order_id: Option<i64>,
    #[serde(rename = "reqId", default, deserialize_with = "lenient::opt_string")]
    req_id: Option<String>,
    #[serde(
        rename = "messageId",
        default,
        deserialize_with = "lenient::opt_string"
    )]
    message_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::string")]
    text: String,
    #[serde(default, deserialize_with = "lenient::null_vec")]
    options: Vec<String>,
    #[serde(default, deserialize_with = "lenient::null_vec")]
    dismissable: Vec<String>,
    #[serde(rename = "type", default, deserialize_with = "lenient::opt_string")]
    kind: Option<String>,
}

/// Why an answer could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PromptShapeError(pub String);

/// Discriminate the order answer by JSON shape: ack list, question list, `{"error"}`, or
/// reject prompt.
pub fn parse_place_response(body: &[u8]) -> Result<PlaceOutcome, PromptShapeError> {
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
        PromptShapeError(format!(
            "not JSON: {}",
            crate::error::sanitize_decode_message(&e)
        ))
    })?;
    parse_place_value(value)
}

/// [`parse_place_response`] on an already parsed value.
pub fn parse_place_value(value: serde_json::Value) -> Result<PlaceOutcome, PromptShapeError> {
    use serde_json::Value;
    match value {
        Value::Array(items) => {
            let Some(first) = items.first() else {
                return Err(PromptShapeError("empty order answer".into()));
            };
            let first = first
                .as_object()
                .ok_or_else(|| PromptShapeError("order answer items are not objects".into()))?;
            if first.contains_key("order_id") {
                let acks: Vec<OrderAck> = serde_json::from_value(Value::Array(items))
                    .map_err(|e| PromptShapeError(format!("ack list: {}", short(&e))))?;
                Ok(PlaceOutcome::Placed(acks))
            } else if first.contains_key("id") && first.contains_key("message") {
                let raw: Vec<RawQuestion> = serde_json::from_value(Value::Array(items))
                    .map_err(|e| PromptShapeError(format!("question list: {}", short(&e))))?;
                let mut prompts = raw.into_iter().map(|q| Prompt {
                    reply_id: q.id,
                    message_ids: q.message_ids,
                    messages: q.message,
                    is_suppressed: q.is_suppressed,
                    more: Vec::new(),
                });
                let mut prompt = prompts
                    .next()
                    .ok_or_else(|| PromptShapeError("empty question list".into()))?;
                prompt.more = prompts.collect();
                if prompt.reply_id.is_empty() {
                    return Err(PromptShapeError("question without reply id".into()));
                }
                Ok(PlaceOutcome::Question(prompt))
            } else if let Some(Value::String(e)) = first.get("error") {
                Ok(PlaceOutcome::Error(e.clone()))
            } else {
                Err(PromptShapeError(
                    "array items have neither order_id nor id+message".into(),
                ))
            }
        }
        Value::Object(map) => {
            if let Some(err) = map.get("error").filter(|e| !e.is_null()) {
                let msg = match err {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                Ok(PlaceOutcome::Error(msg))
            } else if map.contains_key("prompt") || map.contains_key("options") {
                let raw: RawRejectPrompt = serde_json::from_value(Value::Object(map))
                    .map_err(|e| PromptShapeError(format!("reject prompt: {}", short(&e))))?;
                Ok(PlaceOutcome::RejectPrompt(RejectPrompt {
                    order_id: raw.order_id,
                    req_id: raw.req_id,
                    message_id: raw.message_id,
                    text: raw.text,
                    options: raw.options,
                    dismissable: raw.dismissable,
                    kind: raw.kind,
                }))
            } else if map.contains_key("order_id") {
                let ack: OrderAck = serde_json::from_value(Value::Object(map))
                    .map_err(|e| PromptShapeError(format!("ack: {}", short(&e))))?;
                Ok(PlaceOutcome::Placed(vec![ack]))
            } else {
                Err(PromptShapeError(
                    "object is neither an error, an ack nor a prompt".into(),
                ))
            }
        }
        _ => Err(PromptShapeError(
            "order answer is neither an array nor an object".into(),
        )),
    }
}

fn short(e: &serde_json::Error) -> String {
    crate::error::sanitize_decode_message(e)
}

/// Decides whether to confirm a question. The engine's order manager supplies its own.
pub trait PromptPolicy {
    /// `true` to confirm, `false` to decline (the order is then abandoned).
    fn confirm(&mut self, prompt: &Prompt) -> bool;
}

/// Confirm a question when every one of its message ids is on the list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AllowList(pub BTreeSet<String>);

impl AllowList {
    /// Build from ids.
    pub fn new<I: IntoIterator<Item = S>, S: Into<String>>(ids: I) -> Self {
        AllowList(ids.into_iter().map(Into::into).collect())
    }
}

impl PromptPolicy for AllowList {
    fn confirm(&mut self, prompt: &Prompt) -> bool {
        let all = std::iter::once(prompt).chain(prompt.more.iter());
        let mut any = false;
        for p in all {
            for id in &p.message_ids {
                any = true;
                if !self.0.contains(id) {
                    return false;
                }
            }
        }
        any
    }
}

/// Confirm nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeclineAll;

impl PromptPolicy for DeclineAll {
    fn confirm(&mut self, _prompt: &Prompt) -> bool {
        false
    }
}

/// Confirm everything (tests, or after a human confirmed the order).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ConfirmAll;

impl PromptPolicy for ConfirmAll {
    fn confirm(&mut self, _prompt: &Prompt) -> bool {
        true
    }
}

impl<F: FnMut(&Prompt) -> bool> PromptPolicy for F {
    fn confirm(&mut self, prompt: &Prompt) -> bool {
        self(prompt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_samples::sample;

    fn parse(name: &str) -> PlaceOutcome {
        parse_place_response(sample(name).as_bytes()).expect("parses")
    }

    #[test]
    fn four_shapes() {
        match parse("orders_place_success.json") {
            PlaceOutcome::Placed(a) => {
                assert_eq!(a[0].order_id, 1370093239);
                assert_eq!(a[0].order_status, "PreSubmitted");
            }
            other => panic!("{other:?}"),
        }
        match parse("orders_place_bracket_success.json") {
            PlaceOutcome::Placed(a) => assert_eq!(a.len(), 3),
            other => panic!("{other:?}"),
        }
        match parse("orders_place_question.json") {
            PlaceOutcome::Question(p) => {
                assert_eq!(p.reply_id, "07a13a5a-4a48-44a5-bb25-5ab37b79186c");
                assert_eq!(p.message_ids, vec!["o163".to_string()]);
                assert!(p.messages[0].contains("Percentage constraint"));
            }
            other => panic!("{other:?}"),
        }
        match parse("orders_place_error.json") {
            PlaceOutcome::Error(e) => assert!(e.contains("already registered")),
            other => panic!("{other:?}"),
        }
        match parse("orders_place_reject_prompt.json") {
            PlaceOutcome::RejectPrompt(p) => {
                assert_eq!(p.order_id, Some(123456789));
                assert_eq!(p.req_id.as_deref(), Some("22170"));
                assert_eq!(p.options.len(), 3);
                assert_eq!(p.message_id.as_deref(), Some("p12"));
                assert_eq!(p.option(true), Some("Use on this order"));
                assert_eq!(p.option(false), Some("Do not use"));
                let one = RejectPrompt {
                    options: vec!["OK".into()],
                    ..p
                };
                assert_eq!(one.option(true), None, "one option is no choice");
            }
            other => panic!("{other:?}"),
        }
        match parse("reply_not_found.json") {
            PlaceOutcome::Error(e) => assert!(e.starts_with("reply id not found")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn malformed_answers_are_errors() {
        for body in [
            &b"[]"[..],
            b"[1,2]",
            b"{}",
            b"42",
            b"not json",
            br#"[{"order_id":{}}]"#,
            br#"[{"id":"","message":[]}]"#,
        ] {
            assert!(
                parse_place_response(body).is_err(),
                "{:?}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn allow_list_needs_every_id() {
        let p = Prompt {
            reply_id: "r".into(),
            message_ids: vec!["o163".into(), "o354".into()],
            messages: vec![],
            is_suppressed: false,
            more: vec![],
        };
        assert!(AllowList::new(["o163", "o354"]).confirm(&p));
        assert!(!AllowList::new(["o163"]).confirm(&p));
        let empty = Prompt {
            message_ids: vec![],
            ..p
        };
        assert!(!AllowList::new(["o163"]).confirm(&empty));
    }

    proptest::proptest! {
        #[test]
        fn never_panics_on_arbitrary_json(s in "\\PC{0,64}") {
            let _ = parse_place_response(s.as_bytes());
        }
    }
}
