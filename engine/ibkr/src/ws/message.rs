//! Parsing server → client frames into [`WsMessage`].
//!
//! A frame is read in one pass over its top-level JSON object: numeric keys (market-data
//! fields) are appended straight into the update's packed text, `topic` is borrowed, and every
//! other key is kept as a JSON value for the topic-specific conversion that follows.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::{self, Write as _};

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value};

use super::de::{opt_i64_lenient, opt_string_lenient};
use super::frames::{
    AccountInfo, AuthStatus, BookRow, BookUpdate, Bulletin, Execution, HistoryUpdate, Notification,
    OrderUpdate, PnlEntry, PnlRow, SystemMessage, TicStatus,
};
use super::market_data::{MarketDataBuilder, MarketDataUpdate, conid_from_topic, field_id};

/// One parsed server frame.
#[derive(Clone, Debug, PartialEq)]
pub enum WsMessage {
    /// `smd+CONID`: level-1 market data (a delta).
    MarketData(MarketDataUpdate),
    /// `sor`: live order updates.
    Order(Vec<OrderUpdate>),
    /// `str`: executions.
    Trade(Vec<Execution>),
    /// `spl`: P&L rows.
    Pnl(Vec<PnlEntry>),
    /// `sbd+…`: price ladder.
    Book(BookUpdate),
    /// `smh+CONID`: streamed history.
    History(HistoryUpdate),
    /// `system`: welcome or heartbeat.
    System(SystemMessage),
    /// `sts`: brokerage session status.
    AuthStatus(AuthStatus),
    /// `ntf`: notifications.
    Notification(Vec<Notification>),
    /// `blt`: bulletins.
    Bulletin(Vec<Bulletin>),
    /// `act`: account information.
    Account(AccountInfo),
    /// `tic`: answer to the client's session ping.
    Tic(TicStatus),
    /// The echo of an `ech+…` heartbeat (not JSON).
    Echo(String),
    /// `{"message":"…"}` without topic (e.g. `waiting for session`), or any non-JSON text.
    Message(String),
    /// `{"error":"…","code":…}` (unknown topic and other problems); `topic` when the frame had one.
    Error {
        /// The frame's topic, if any.
        topic: Option<String>,
        /// The error text.
        message: String,
        /// The error code, if any.
        code: Option<i64>,
    },
    /// `{"result":…}` without topic (e.g. `unsubscribed from summary`).
    Result(Value),
    /// A topic this crate does not model (`ssd`, `sld`, …) or a frame without a known shape.
    Other {
        /// The frame's topic, if any.
        topic: Option<String>,
        /// The whole frame minus `topic`.
        payload: Value,
    },
}

/// A frame that could not be parsed into its topic's type.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("malformed websocket frame{}: {message}", .topic.as_deref().map(|t| format!(" (topic {t})")).unwrap_or_default())]
pub struct WsParseError {
    /// The topic, when it could be read.
    pub topic: Option<String>,
    /// What was wrong.
    pub message: String,
}

impl WsMessage {
    /// Parse one text frame.
    pub fn parse(text: &str) -> Result<WsMessage, WsParseError> {
        let trimmed = text.trim();
        if !trimmed.starts_with('{') {
            if trimmed.starts_with("ech+") {
                return Ok(WsMessage::Echo(trimmed.to_owned()));
            }
            if trimmed.starts_with('[') {
                let payload = serde_json::from_str(trimmed).map_err(|e| WsParseError {
                    topic: None,
                    message: e.to_string(),
                })?;
                return Ok(WsMessage::Other {
                    topic: None,
                    payload,
                });
            }
            return Ok(WsMessage::Message(trimmed.to_owned()));
        }
        let mut de = serde_json::Deserializer::from_str(trimmed);
        let raw = de.deserialize_map(FrameVisitor).map_err(|e| WsParseError {
            topic: None,
            message: e.to_string(),
        })?;
        de.end().map_err(|e| WsParseError {
            topic: None,
            message: e.to_string(),
        })?;
        raw.into_message()
    }
}

/// The top-level object of a frame after the single pass.
struct RawFrame<'a> {
    topic: Option<Cow<'a, str>>,
    market_data: Option<MarketDataBuilder>,
    conid: Option<u64>,
    updated_ms: Option<i64>,
    rest: Map<String, Value>,
}

struct FrameVisitor;

impl<'de> Visitor<'de> for FrameVisitor {
    type Value = RawFrame<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawFrame<'de>, A::Error> {
        let mut frame = RawFrame {
            topic: None,
            market_data: None,
            conid: None,
            updated_ms: None,
            rest: Map::new(),
        };
        while let Some(key) = map.next_key::<Text<'de>>()? {
            let key = key.0;
            if let Some(id) = field_id(&key) {
                let md = frame.market_data.get_or_insert_with(MarketDataBuilder::new);
                let start = md.mark();
                map.next_value_seed(AppendScalar(md.buffer()))?;
                md.push_field(id, start);
                continue;
            }
            match key.as_ref() {
                "topic" => frame.topic = Some(map.next_value::<Text<'de>>()?.0),
                "conid" => {
                    frame.conid = map.next_value_seed(LenientU64)?;
                }
                "_updated" => {
                    frame.updated_ms = map.next_value_seed(LenientI64)?;
                }
                "conidEx" | "server_id" => {
                    let md = frame.market_data.get_or_insert_with(MarketDataBuilder::new);
                    let start = md.mark();
                    map.next_value_seed(AppendScalar(md.buffer()))?;
                    if key == "conidEx" {
                        md.set_conid_ex(start);
                    } else {
                        md.set_server_id(start);
                    }
                }
                _ => {
                    let value = map.next_value::<Value>()?;
                    frame.rest.insert(key.into_owned(), value);
                }
            }
        }
        Ok(frame)
    }
}

impl RawFrame<'_> {
    fn into_message(self) -> Result<WsMessage, WsParseError> {
        let Some(topic) = self.topic.as_deref().map(str::to_owned) else {
            return Ok(self.untitled());
        };
        let fail = |message: String| WsParseError {
            topic: Some(topic.clone()),
            message,
        };
        if let Some(message) = error_text(&self.rest) {
            let code = self.rest.get("code").and_then(Value::as_i64);
            return Ok(WsMessage::Error {
                topic: Some(topic),
                message,
                code,
            });
        }
        if topic.starts_with("smd") {
            let conid = self
                .conid
                .or_else(|| conid_from_topic(&topic))
                .ok_or_else(|| fail("market-data frame without conid".into()))?;
            let md = self.market_data.unwrap_or_else(MarketDataBuilder::new);
            let mut update = md.finish(conid, self.updated_ms);
            update.extra = self.rest;
            return Ok(WsMessage::MarketData(update));
        }
        let mut rest = self.restore_rest();
        let msg = match topic.as_str() {
            "sor" => WsMessage::Order(one_or_many(take(&mut rest, "args")).map_err(fail)?),
            "str" => WsMessage::Trade(one_or_many(take(&mut rest, "args")).map_err(fail)?),
            "spl" => WsMessage::Pnl(pnl_entries(take(&mut rest, "args")).map_err(fail)?),
            "system" => WsMessage::System(system_message(rest).map_err(fail)?),
            "sts" => WsMessage::AuthStatus(from_value(take(&mut rest, "args")).map_err(fail)?),
            "ntf" => WsMessage::Notification(one_or_many(take(&mut rest, "args")).map_err(fail)?),
            "blt" => WsMessage::Bulletin(one_or_many(take(&mut rest, "args")).map_err(fail)?),
            "act" => WsMessage::Account(from_value(take(&mut rest, "args")).map_err(fail)?),
            "tic" => WsMessage::Tic(from_value(Value::Object(rest)).map_err(fail)?),
            t if t.starts_with("sbd") => {
                let rows: Vec<BookRow> = one_or_many(take(&mut rest, "data")).map_err(fail)?;
                let mut parts = t.split('+').skip(1);
                let account = parts.next().filter(|s| !s.is_empty()).map(str::to_owned);
                let conid = parts.next().and_then(|s| s.parse().ok());
                WsMessage::Book(BookUpdate {
                    topic: topic.clone(),
                    account,
                    conid,
                    rows,
                })
            }
            t if t.starts_with("smh") => {
                let mut history: HistoryUpdate = from_value(Value::Object(rest)).map_err(fail)?;
                history.conid = t
                    .strip_prefix("smh+")
                    .and_then(|s| s.split(['+', '@']).next())
                    .and_then(|s| s.parse().ok());
                WsMessage::History(history)
            }
            _ => WsMessage::Other {
                topic: Some(topic.clone()),
                payload: Value::Object(rest),
            },
        };
        Ok(msg)
    }

    /// A frame without topic: `message`, `error`, `result`, or something else.
    fn untitled(self) -> WsMessage {
        let mut rest = self.restore_rest();
        if let Some(message) = error_text(&rest) {
            let code = rest.get("code").and_then(Value::as_i64);
            return WsMessage::Error {
                topic: None,
                message,
                code,
            };
        }
        if rest.len() == 1
            && let Some(Value::String(m)) = rest.get("message")
        {
            return WsMessage::Message(m.clone());
        }
        if rest.len() == 1
            && let Some(result) = rest.remove("result")
        {
            return WsMessage::Result(result);
        }
        WsMessage::Other {
            topic: None,
            payload: Value::Object(rest),
        }
    }

    /// Put the keys read specially (conid, `_updated`, conidEx, server_id, numeric keys) back
    /// into the generic map, for frames that turned out not to be market data.
    fn restore_rest(self) -> Map<String, Value> {
        let mut rest = self.rest;
        if let Some(conid) = self.conid {
            rest.insert("conid".into(), Value::from(conid));
        }
        if let Some(updated) = self.updated_ms {
            rest.insert("_updated".into(), Value::from(updated));
        }
        if let Some(md) = self.market_data {
            if let Some(s) = md.conid_ex_text() {
                rest.insert("conidEx".into(), Value::from(s));
            }
            if let Some(s) = md.server_id_text() {
                rest.insert("server_id".into(), Value::from(s));
            }
            let update = md.finish(0, None);
            for (id, value) in update.fields() {
                rest.insert(id.to_string(), Value::from(value));
            }
        }
        rest
    }
}

fn error_text(rest: &Map<String, Value>) -> Option<String> {
    match rest.get("error") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Null) | None => None,
        Some(other) => Some(other.to_string()),
    }
}

fn take(map: &mut Map<String, Value>, key: &str) -> Value {
    map.remove(key).unwrap_or(Value::Null)
}

fn from_value<T: for<'de> Deserialize<'de>>(value: Value) -> Result<T, String> {
    serde_json::from_value(value).map_err(|e| e.to_string())
}

/// `args` may be one object or an array of them; `null` → empty.
fn one_or_many<T: for<'de> Deserialize<'de>>(value: Value) -> Result<Vec<T>, String> {
    match value {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => items.into_iter().map(from_value).collect(),
        other => Ok(vec![from_value(other)?]),
    }
}

fn pnl_entries(value: Value) -> Result<Vec<PnlEntry>, String> {
    let rows: BTreeMap<String, PnlRow> = match value {
        Value::Null => BTreeMap::new(),
        other => from_value(other)?,
    };
    Ok(rows
        .into_iter()
        .map(|(key, row)| PnlEntry { key, row })
        .collect())
}

fn system_message(rest: Map<String, Value>) -> Result<SystemMessage, String> {
    #[derive(Deserialize)]
    struct Hb {
        #[serde(deserialize_with = "opt_i64_lenient")]
        hb: Option<i64>,
    }
    #[derive(Deserialize)]
    struct Welcome {
        #[serde(deserialize_with = "opt_string_lenient")]
        success: Option<String>,
        #[serde(default, rename = "isFT")]
        is_ft: Option<bool>,
        #[serde(default, rename = "isPaper")]
        is_paper: Option<bool>,
    }
    if rest.contains_key("hb") {
        let hb: Hb = from_value(Value::Object(rest))?;
        return Ok(SystemMessage::Heartbeat {
            server_time_ms: hb.hb.unwrap_or_default(),
        });
    }
    if rest.contains_key("success") {
        let w: Welcome = from_value(Value::Object(rest))?;
        return Ok(SystemMessage::Welcome {
            username: w.success.unwrap_or_default(),
            is_ft: w.is_ft,
            is_paper: w.is_paper,
        });
    }
    Ok(SystemMessage::Other(rest))
}

/// A string that borrows from the input when it has no escapes.
struct Text<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(V)
    }
}

/// Appends a scalar value (string, number, bool; `null` → nothing) to a buffer.
struct AppendScalar<'b>(&'b mut String);

impl<'de> DeserializeSeed<'de> for AppendScalar<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for AppendScalar<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or number")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.0.push_str(v);
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        write!(self.0, "{v}").map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        write!(self.0, "{v}").map_err(E::custom)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        write!(self.0, "{v}").map_err(E::custom)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        self.0.push_str(if v { "true" } else { "false" });
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
}

/// A `u64` given as number or string; `null` → `None`.
struct LenientU64;

impl<'de> DeserializeSeed<'de> for LenientU64 {
    type Value = Option<u64>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<u64>, D::Error> {
        super::de::opt_u64_lenient(d)
    }
}

/// An `i64` given as number or string; `null` → `None`.
struct LenientI64;

impl<'de> DeserializeSeed<'de> for LenientI64 {
    type Value = Option<i64>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<i64>, D::Error> {
        opt_i64_lenient(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn market_data_frame_is_parsed_in_one_pass() {
        let m = WsMessage::parse(
            r#"{"31":"168.42","84":"168.41","88":"1,300","6509":"RpB","server_id":"q0","conidEx":"265598","conid":265598,"_updated":1712596911593,"topic":"smd+265598"}"#,
        )
        .expect("parses");
        let WsMessage::MarketData(md) = m else {
            panic!("expected market data, got {m:?}");
        };
        assert_eq!(md.conid, 265_598);
        assert_eq!(md.updated_ms, Some(1_712_596_911_593));
        assert_eq!(md.get(31), Some("168.42"));
        assert_eq!(md.get(88), Some("1,300"));
        assert_eq!(md.get(6509), Some("RpB"));
        assert_eq!(md.server_id(), Some("q0"));
        assert_eq!(md.conid_ex(), Some("265598"));
        assert_eq!(md.len(), 4);
    }

    #[test]
    fn conid_falls_back_to_topic_and_numbers_become_text() {
        let m = WsMessage::parse(r#"{"topic":"smd+8314@SMART","31":12.5,"7059":null}"#)
            .expect("parses");
        let WsMessage::MarketData(md) = m else {
            panic!("expected market data");
        };
        assert_eq!(md.conid, 8314);
        assert_eq!(md.get(31), Some("12.5"));
        assert_eq!(md.get(7059), Some(""));
    }

    #[test]
    fn untitled_frames() {
        assert_eq!(
            WsMessage::parse(r#"{"message":"waiting for session"}"#).expect("parses"),
            WsMessage::Message("waiting for session".into())
        );
        assert_eq!(
            WsMessage::parse(r#"{"error":"Topic unknown","code":1}"#).expect("parses"),
            WsMessage::Error {
                topic: None,
                message: "Topic unknown".into(),
                code: Some(1)
            }
        );
        assert_eq!(
            WsMessage::parse("ech+hb").expect("parses"),
            WsMessage::Echo("ech+hb".into())
        );
        assert!(matches!(
            WsMessage::parse(r#"{"result":"unsubscribed from summary"}"#),
            Ok(WsMessage::Result(_))
        ));
    }

    #[test]
    fn malformed_frames_are_errors_not_panics() {
        assert!(WsMessage::parse("{").is_err());
        assert!(WsMessage::parse(r#"{"topic":"sor","args":[{"acct":"DU1"}]}"#).is_err());
        assert!(WsMessage::parse(r#"{"topic":"smd+x","31":"1"}"#).is_err());
        assert!(WsMessage::parse(r#"{"topic":"smd+1","31":{"nested":1}}"#).is_err());
        assert!(WsMessage::parse(r#"{"topic":5}"#).is_err());
    }

    #[test]
    fn unknown_topics_keep_their_payload() {
        let m = WsMessage::parse(r#"{"topic":"ssd+DU1","result":[{"key":"x"}],"conid":5}"#)
            .expect("parses");
        let WsMessage::Other { topic, payload } = m else {
            panic!("expected other");
        };
        assert_eq!(topic.as_deref(), Some("ssd+DU1"));
        assert_eq!(payload["conid"], 5);
        assert_eq!(payload["result"][0]["key"], "x");
    }
}
