//! `smd` frames: level-1 market data as field id → value text.
//!
//! A frame is a delta: only changed fields are present, so consumers merge it into their own
//! per-conid state and never read a missing field as "cleared". Values stay IBKR's formatted
//! text (`"1,300"`, `"21.4M"`, `"C168.42"`); the snapshot field enum and value parsing live with
//! the REST market-data code. The values of one frame are packed into a single string, so a
//! frame costs two allocations however many fields it carries.

use std::fmt;

/// Where one field's value sits in the packed text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Span {
    start: u32,
    end: u32,
}

/// One level-1 market-data update (`{"topic":"smd+265598","31":"168.42",…}`).
#[derive(Clone, PartialEq, Eq)]
pub struct MarketDataUpdate {
    /// The contract id.
    pub conid: u64,
    /// `_updated`: server time of the update, epoch ms.
    pub updated_ms: Option<i64>,
    /// Non-numeric keys other than `topic`, `conid`, `conidEx`, `server_id` and `_updated`
    /// (usually empty; an empty map does not allocate).
    pub extra: serde_json::Map<String, serde_json::Value>,
    text: String,
    fields: Vec<(u32, Span)>,
    conid_ex: Option<Span>,
    server_id: Option<Span>,
}

impl fmt::Debug for MarketDataUpdate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MarketDataUpdate")
            .field("conid", &self.conid)
            .field("updated_ms", &self.updated_ms)
            .field("conid_ex", &self.conid_ex())
            .field("server_id", &self.server_id())
            .field("fields", &self.fields().collect::<Vec<_>>())
            .field("extra", &self.extra)
            .finish()
    }
}

impl MarketDataUpdate {
    /// The value of field `id` (e.g. 31 = last price), if this update carries it.
    pub fn get(&self, id: u32) -> Option<&str> {
        self.fields
            .iter()
            .find(|(fid, _)| *fid == id)
            .map(|(_, span)| self.slice(*span))
    }

    /// All `(field id, value)` pairs in frame order.
    pub fn fields(&self) -> impl Iterator<Item = (u32, &str)> + '_ {
        self.fields
            .iter()
            .map(|(id, span)| (*id, self.slice(*span)))
    }

    /// Number of fields carried.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Whether the update carries no field (IBKR's first, "pre-flight" frame can be empty).
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// `conidEx` (conid with optional `@EXCHANGE`).
    pub fn conid_ex(&self) -> Option<&str> {
        self.conid_ex.map(|s| self.slice(s))
    }

    /// `server_id` of the stream.
    pub fn server_id(&self) -> Option<&str> {
        self.server_id.map(|s| self.slice(s))
    }

    fn slice(&self, span: Span) -> &str {
        self.text
            .get(span.start as usize..span.end as usize)
            .unwrap_or_default()
    }
}

/// Builds a [`MarketDataUpdate`] while a frame is being read.
#[derive(Debug)]
pub(crate) struct MarketDataBuilder {
    text: String,
    fields: Vec<(u32, Span)>,
    conid_ex: Option<Span>,
    server_id: Option<Span>,
}

impl MarketDataBuilder {
    pub(crate) fn new() -> Self {
        MarketDataBuilder {
            text: String::with_capacity(96),
            fields: Vec::with_capacity(12),
            conid_ex: None,
            server_id: None,
        }
    }

    /// The packed text buffer, for appending a value in place.
    pub(crate) fn buffer(&mut self) -> &mut String {
        &mut self.text
    }

    /// Current end of the packed text (start of the next value).
    pub(crate) fn mark(&self) -> usize {
        self.text.len()
    }

    /// Record that the bytes since `start` are the value of field `id`.
    pub(crate) fn push_field(&mut self, id: u32, start: usize) {
        let span = self.span_from(start);
        self.fields.push((id, span));
    }

    /// Record that the bytes since `start` are `conidEx`.
    pub(crate) fn set_conid_ex(&mut self, start: usize) {
        self.conid_ex = Some(self.span_from(start));
    }

    /// Record that the bytes since `start` are `server_id`.
    pub(crate) fn set_server_id(&mut self, start: usize) {
        self.server_id = Some(self.span_from(start));
    }

    pub(crate) fn conid_ex_text(&self) -> Option<&str> {
        self.conid_ex
            .and_then(|s| self.text.get(s.start as usize..s.end as usize))
    }

    pub(crate) fn server_id_text(&self) -> Option<&str> {
        self.server_id
            .and_then(|s| self.text.get(s.start as usize..s.end as usize))
    }

    pub(crate) fn finish(self, conid: u64, updated_ms: Option<i64>) -> MarketDataUpdate {
        MarketDataUpdate {
            conid,
            updated_ms,
            extra: serde_json::Map::new(),
            text: self.text,
            fields: self.fields,
            conid_ex: self.conid_ex,
            server_id: self.server_id,
        }
    }

    fn span_from(&self, start: usize) -> Span {
        // Frames are websocket text messages far below 4 GiB.
        let to_u32 = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Span {
            start: to_u32(start),
            end: to_u32(self.text.len()),
        }
    }
}

/// Parse a top-level key that is a market-data field id (all ASCII digits).
pub(crate) fn field_id(key: &str) -> Option<u32> {
    if key.is_empty() || !key.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    key.parse().ok()
}

/// The conid in a market-data topic: `smd+265598` or `smd+265598@SMART` → 265598.
pub(crate) fn conid_from_topic(topic: &str) -> Option<u64> {
    let rest = topic.strip_prefix("smd+")?;
    let end = rest.find(['@', '+']).unwrap_or(rest.len());
    rest[..end].parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_packs_values() {
        let mut b = MarketDataBuilder::new();
        let s = b.mark();
        b.buffer().push_str("168.42");
        b.push_field(31, s);
        let s = b.mark();
        b.buffer().push_str("1,300");
        b.push_field(88, s);
        let s = b.mark();
        b.buffer().push_str("q0");
        b.set_server_id(s);
        let u = b.finish(265_598, Some(1));
        assert_eq!(u.get(31), Some("168.42"));
        assert_eq!(u.get(88), Some("1,300"));
        assert_eq!(u.get(84), None);
        assert_eq!(u.server_id(), Some("q0"));
        assert_eq!(u.fields().count(), 2);
    }

    #[test]
    fn topics_and_keys() {
        assert_eq!(conid_from_topic("smd+265598"), Some(265_598));
        assert_eq!(conid_from_topic("smd+265598@SMART"), Some(265_598));
        assert_eq!(conid_from_topic("sor"), None);
        assert_eq!(field_id("7059"), Some(7059));
        assert_eq!(field_id("_updated"), None);
        assert_eq!(field_id(""), None);
    }
}
