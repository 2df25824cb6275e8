//! JSON payloads of the journal's append-only tables (intents, commands, venue events) and
//! of an order's pending modification: journal-private serialisable mirrors of the engine
//! types, so the engine needs no serde for this. The `kind` column holds the variant; the
//! payload holds its fields.

use std::borrow::Cow;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tickline_engine::domain::{
    ClientOrderId, InstrumentId, OrderId, OrderModify, OrderRequest, OrderType, Side, TimeInForce,
    Trail, Ts,
};
use tickline_engine::execution::{ExecCommand, ExecEvent};

/// An order request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct RequestJson<'a> {
    pub instrument: u32,
    pub side: Side,
    pub quantity: Decimal,
    pub order_type: OrderType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit_price: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_price: Option<Decimal>,
    pub tif: TimeInForce,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub client_order_id: Option<Cow<'a, str>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links: Option<LinksJson>,
}

/// The parts of a request beyond a plain order: trail, trailing limit offset, bracket parent,
/// OCA group (the `orders.links` column and a request payload's `links`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub(crate) struct LinksJson {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trail: Option<Trail>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit_offset: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oca_group: Option<u64>,
}

impl LinksJson {
    /// `None` for a plain order.
    pub fn of(r: &OrderRequest) -> Option<LinksJson> {
        let l = LinksJson {
            trail: r.trail,
            limit_offset: r.limit_offset,
            parent: r.parent.map(|p| p.0),
            oca_group: r.oca_group.map(|g| g.0),
        };
        (l.trail.is_some()
            || l.limit_offset.is_some()
            || l.parent.is_some()
            || l.oca_group.is_some())
        .then_some(l)
    }

    /// Put these links on `r`.
    pub fn apply(links: Option<LinksJson>, r: &mut OrderRequest) {
        let l = links.unwrap_or(LinksJson {
            trail: None,
            limit_offset: None,
            parent: None,
            oca_group: None,
        });
        r.trail = l.trail;
        r.limit_offset = l.limit_offset;
        r.parent = l.parent.map(OrderId);
        r.oca_group = l.oca_group.map(OrderId);
    }
}

impl<'a> RequestJson<'a> {
    pub fn new(r: &'a OrderRequest) -> Self {
        RequestJson {
            instrument: r.instrument.0,
            side: r.side,
            quantity: r.quantity,
            order_type: r.order_type,
            limit_price: r.limit_price,
            stop_price: r.stop_price,
            tif: r.tif,
            client_order_id: r
                .client_order_id
                .as_ref()
                .map(|c| Cow::Borrowed(c.as_str())),
            links: LinksJson::of(r),
        }
    }

    /// The request, or why it cannot be one (a client order id that is not valid).
    pub fn to_request(&self) -> Result<OrderRequest, String> {
        let client_order_id = match &self.client_order_id {
            None => None,
            Some(c) => Some(
                ClientOrderId::new(c).ok_or_else(|| format!("{c:?} is not a client order id"))?,
            ),
        };
        let mut r = OrderRequest::market(InstrumentId(self.instrument), self.side, self.quantity);
        r.order_type = self.order_type;
        r.limit_price = self.limit_price;
        r.stop_price = self.stop_price;
        r.tif = self.tif;
        r.client_order_id = client_order_id;
        LinksJson::apply(self.links, &mut r);
        Ok(r)
    }
}

/// A strategy's intent.
#[derive(Serialize)]
#[serde(untagged)]
pub(crate) enum IntentJson<'a> {
    Submit { request: RequestJson<'a> },
    Modify(ModifyJson),
}

#[derive(Serialize)]
pub(crate) struct ModifyJson {
    #[serde(skip_serializing_if = "Option::is_none")]
    quantity: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    limit_price: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stop_price: Option<Decimal>,
}

impl From<&OrderModify> for ModifyJson {
    fn from(m: &OrderModify) -> Self {
        ModifyJson {
            quantity: m.quantity,
            limit_price: m.limit_price,
            stop_price: m.stop_price,
        }
    }
}

/// A command to the venue.
#[derive(Serialize)]
#[serde(untagged)]
pub(crate) enum CommandJson<'a> {
    Submit {
        client_order_id: &'a str,
        request: RequestJson<'a>,
    },
    Modify {
        request: RequestJson<'a>,
    },
    Cancel {},
    ReplyPrompt {
        reply_id: &'a str,
        confirmed: bool,
    },
    SuppressQuestions {
        message_ids: &'a [String],
    },
}

/// The command's `kind` and payload.
pub(crate) fn command(c: &ExecCommand) -> (&'static str, CommandJson<'_>) {
    match c {
        ExecCommand::Submit {
            client_order_id,
            request,
            ..
        } => (
            "submit",
            CommandJson::Submit {
                client_order_id: client_order_id.as_str(),
                request: RequestJson::new(request),
            },
        ),
        ExecCommand::Modify { request, .. } => (
            "modify",
            CommandJson::Modify {
                request: RequestJson::new(request),
            },
        ),
        ExecCommand::Cancel { .. } => ("cancel", CommandJson::Cancel {}),
        ExecCommand::ReplyPrompt {
            reply_id,
            confirmed,
            ..
        } => (
            "reply_prompt",
            CommandJson::ReplyPrompt {
                reply_id,
                confirmed: *confirmed,
            },
        ),
        ExecCommand::SuppressQuestions { message_ids } => (
            "suppress_questions",
            CommandJson::SuppressQuestions { message_ids },
        ),
    }
}

/// A venue event (its order id and time have their own columns).
#[derive(Serialize)]
#[serde(untagged)]
pub(crate) enum EventJson<'a> {
    Accepted {
        broker_order_id: Option<u64>,
    },
    Prompt {
        reply_id: &'a str,
        message_ids: &'a [String],
        messages: &'a [String],
    },
    Reason {
        reason: &'a str,
    },
    Filled {
        exec_id: &'a str,
        instrument: u32,
        side: Side,
        quantity: Decimal,
        price: Decimal,
        commission: Decimal,
    },
    Cancelled {
        reason: Option<&'a str>,
    },
    Modified {
        request: RequestJson<'a>,
    },
    Expired {},
    Commission {
        exec_id: &'a str,
        commission: Decimal,
    },
}

/// The event's `kind`, time and payload.
pub(crate) fn event(e: &ExecEvent) -> (&'static str, Ts, EventJson<'_>) {
    let ts = e.ts();
    let (kind, json) = match e {
        ExecEvent::Accepted {
            broker_order_id, ..
        } => (
            "accepted",
            EventJson::Accepted {
                broker_order_id: *broker_order_id,
            },
        ),
        ExecEvent::Prompt { prompt, .. } => (
            "prompt",
            EventJson::Prompt {
                reply_id: &prompt.reply_id,
                message_ids: &prompt.message_ids,
                messages: &prompt.messages,
            },
        ),
        ExecEvent::Rejected { reason, .. } => ("rejected", EventJson::Reason { reason }),
        ExecEvent::Filled(f) => (
            "filled",
            EventJson::Filled {
                exec_id: f.exec_id.as_str(),
                instrument: f.instrument.0,
                side: f.side,
                quantity: f.quantity,
                price: f.price,
                commission: f.commission,
            },
        ),
        ExecEvent::Cancelled { reason, .. } => (
            "cancelled",
            EventJson::Cancelled {
                reason: reason.as_deref(),
            },
        ),
        ExecEvent::CancelRejected { reason, .. } => {
            ("cancel_rejected", EventJson::Reason { reason })
        }
        ExecEvent::Modified { request, .. } => (
            "modified",
            EventJson::Modified {
                request: RequestJson::new(request),
            },
        ),
        ExecEvent::ModifyRejected { reason, .. } => {
            ("modify_rejected", EventJson::Reason { reason })
        }
        ExecEvent::Expired { .. } => ("expired", EventJson::Expired {}),
        ExecEvent::Commission {
            exec_id,
            commission,
            ..
        } => (
            "commission",
            EventJson::Commission {
                exec_id: exec_id.as_str(),
                commission: *commission,
            },
        ),
    };
    (kind, ts, json)
}

/// JSON text of a payload (serialising these plain structs cannot fail; an empty object
/// stands in if it ever did).
pub(crate) fn to_text<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "{}".into())
}

#[cfg(test)]
mod tests {
    use rust_decimal::dec;
    use tickline_engine::domain::{ExecId, Fill, OrderId};
    use tickline_engine::execution::Prompt;

    use super::*;

    #[test]
    fn a_request_reads_back_with_an_awkward_client_order_id() {
        let r =
            OrderRequest::stop_limit(InstrumentId(3), Side::Sell, dec!(5), dec!(9.5), dec!(9.4))
                .with_tif(TimeInForce::Gtc)
                .with_client_id("a\"b\\c");
        let text = to_text(&RequestJson::new(&r));
        let back: RequestJson<'_> = serde_json::from_str(&text).unwrap();
        assert_eq!(back.to_request().unwrap(), r);
    }

    #[test]
    fn payloads_name_their_fields() {
        let reply = ExecCommand::ReplyPrompt {
            order_id: OrderId(4),
            reply_id: "r-1".into(),
            confirmed: true,
        };
        let (kind, json) = command(&reply);
        assert_eq!(kind, "reply_prompt");
        assert_eq!(to_text(&json), r#"{"reply_id":"r-1","confirmed":true}"#);
        let filled = ExecEvent::Filled(Fill {
            order_id: OrderId(4),
            instrument: InstrumentId(0),
            side: Side::Buy,
            quantity: dec!(10),
            price: dec!(101.25),
            commission: dec!(1),
            ts: 77,
            exec_id: ExecId::new("e.1").unwrap(),
        });
        let (kind, ts, json) = event(&filled);
        assert_eq!((kind, ts), ("filled", 77));
        assert_eq!(
            to_text(&json),
            r#"{"exec_id":"e.1","instrument":0,"side":"BUY","quantity":"10","price":"101.25","commission":"1"}"#
        );
        let prompt = ExecEvent::Prompt {
            order_id: OrderId(1),
            prompt: Prompt {
                reply_id: "x".into(),
                message_ids: vec!["o163".into()],
                messages: vec!["price?".into()],
            },
            ts: 1,
        };
        let (kind, _, json) = event(&prompt);
        assert_eq!(kind, "prompt");
        assert_eq!(
            to_text(&json),
            r#"{"reply_id":"x","message_ids":["o163"],"messages":["price?"]}"#
        );
    }
}
