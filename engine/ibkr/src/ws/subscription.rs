//! Client → server subscription commands (reference §10.2–10.3).

use std::fmt;

use serde::Serialize;

/// Something to stream. [`Subscription::command`] is the text sent to subscribe and
/// [`Subscription::topic`] the key used to unsubscribe and to route frames.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subscription {
    /// Level-1 market data: `smd+CONID[@EXCH]+{"fields":["31",…]}`.
    MarketData {
        /// Contract id.
        conid: u64,
        /// Optional exchange (`smd+265598@SMART`).
        exchange: Option<String>,
        /// Field ids (sent as strings).
        fields: Vec<u32>,
    },
    /// Streamed history: `smh+CONID+{…}`.
    History {
        /// Contract id.
        conid: u64,
        /// Request parameters.
        params: HistoryParams,
    },
    /// Live orders: `sor+{}` or `sor+{"filters":[…]}`.
    Orders {
        /// Status filters (empty = all).
        filters: Vec<String>,
    },
    /// Executions: `str+{"realtimeUpdatesOnly":…,"days":…}`.
    Trades {
        /// Only new fills, no snapshot of recent ones.
        realtime_updates_only: bool,
        /// Days of history in the initial snapshot.
        days: Option<u32>,
    },
    /// P&L: `spl+{}`.
    Pnl,
    /// BookTrader price ladder: `sbd+ACCOUNT+CONID[+EXCHANGE]`.
    Book {
        /// Account id.
        account: String,
        /// Contract id.
        conid: u64,
        /// Optional exchange.
        exchange: Option<String>,
    },
}

/// Parameters of an `smh` request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryParams {
    /// Exchange, e.g. `ISLAND`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exchange: Option<String>,
    /// Period, e.g. `2h`, `1d`.
    pub period: String,
    /// Bar size, e.g. `5min`.
    pub bar: String,
    /// Include bars outside regular trading hours.
    pub outside_rth: bool,
    /// `trades`, `midpoint`, `bid_ask`, `bid`, `ask`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Field format, e.g. `%o/%c/%h/%l/%v`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
}

/// The identity of a subscription: what `unsubscribe` takes and what frames are routed by.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Topic {
    /// `smd` for a conid.
    MarketData(u64),
    /// `smh` for a conid.
    History(u64),
    /// `sor`.
    Orders,
    /// `str`.
    Trades,
    /// `spl`.
    Pnl,
    /// `sbd` for an account.
    Book {
        /// Account id.
        account: String,
    },
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Topic::MarketData(conid) => write!(f, "smd+{conid}"),
            Topic::History(conid) => write!(f, "smh+{conid}"),
            Topic::Orders => f.write_str("sor"),
            Topic::Trades => f.write_str("str"),
            Topic::Pnl => f.write_str("spl"),
            Topic::Book { account } => write!(f, "sbd+{account}"),
        }
    }
}

impl Topic {
    /// The unsubscribe command. History streams are cancelled by their server id
    /// (`umh+{serverId}`), so `history_server_id` is needed for them; without it there is no
    /// command to send.
    pub fn unsubscribe_command(&self, history_server_id: Option<&str>) -> Option<String> {
        match self {
            Topic::MarketData(conid) => Some(format!("umd+{conid}+{{}}")),
            Topic::History(_) => history_server_id.map(|id| format!("umh+{id}")),
            Topic::Orders => Some("uor+{}".to_owned()),
            Topic::Trades => Some("utr".to_owned()),
            Topic::Pnl => Some("upl+{}".to_owned()),
            Topic::Book { account } => Some(format!("ubd+{account}")),
        }
    }

    /// Whether the topic streams continuously, so that silence means a dead feed. Orders and
    /// trades only speak when something happens; history answers once.
    pub fn is_streaming(&self) -> bool {
        matches!(self, Topic::MarketData(_) | Topic::Pnl | Topic::Book { .. })
    }
}

impl Subscription {
    /// Level-1 market data for `conid` with the given field ids.
    pub fn market_data(conid: u64, fields: impl IntoIterator<Item = u32>) -> Self {
        Subscription::MarketData {
            conid,
            exchange: None,
            fields: fields.into_iter().collect(),
        }
    }

    /// The identity of this subscription.
    pub fn topic(&self) -> Topic {
        match self {
            Subscription::MarketData { conid, .. } => Topic::MarketData(*conid),
            Subscription::History { conid, .. } => Topic::History(*conid),
            Subscription::Orders { .. } => Topic::Orders,
            Subscription::Trades { .. } => Topic::Trades,
            Subscription::Pnl => Topic::Pnl,
            Subscription::Book { account, .. } => Topic::Book {
                account: account.clone(),
            },
        }
    }

    /// The subscribe command text.
    pub fn command(&self) -> String {
        match self {
            Subscription::MarketData {
                conid,
                exchange,
                fields,
            } => {
                let ids: Vec<String> = fields.iter().map(u32::to_string).collect();
                let args = serde_json::json!({ "fields": ids });
                match exchange {
                    Some(ex) => format!("smd+{conid}@{ex}+{args}"),
                    None => format!("smd+{conid}+{args}"),
                }
            }
            Subscription::History { conid, params } => {
                let args = serde_json::to_string(params).unwrap_or_else(|_| "{}".to_owned());
                format!("smh+{conid}+{args}")
            }
            Subscription::Orders { filters } if filters.is_empty() => "sor+{}".to_owned(),
            Subscription::Orders { filters } => {
                format!("sor+{}", serde_json::json!({ "filters": filters }))
            }
            Subscription::Trades {
                realtime_updates_only,
                days,
            } => match days {
                Some(d) => {
                    format!("str+{{\"realtimeUpdatesOnly\":{realtime_updates_only},\"days\":{d}}}")
                }
                None => format!("str+{{\"realtimeUpdatesOnly\":{realtime_updates_only}}}"),
            },
            Subscription::Pnl => "spl+{}".to_owned(),
            Subscription::Book {
                account,
                conid,
                exchange,
            } => match exchange {
                Some(ex) => format!("sbd+{account}+{conid}+{ex}"),
                None => format!("sbd+{account}+{conid}"),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_follow_the_reference_grammar() {
        assert_eq!(
            Subscription::market_data(265_598, [31, 84, 86]).command(),
            r#"smd+265598+{"fields":["31","84","86"]}"#
        );
        assert_eq!(Subscription::Orders { filters: vec![] }.command(), "sor+{}");
        assert_eq!(
            Subscription::Trades {
                realtime_updates_only: false,
                days: Some(1)
            }
            .command(),
            r#"str+{"realtimeUpdatesOnly":false,"days":1}"#
        );
        assert_eq!(Subscription::Pnl.command(), "spl+{}");
        assert_eq!(
            Subscription::Book {
                account: "DU1234567".into(),
                conid: 265_598,
                exchange: Some("SMART".into())
            }
            .command(),
            "sbd+DU1234567+265598+SMART"
        );
        let h = Subscription::History {
            conid: 265_598,
            params: HistoryParams {
                exchange: Some("ISLAND".into()),
                period: "2h".into(),
                bar: "5min".into(),
                outside_rth: false,
                source: Some("trades".into()),
                format: Some("%o/%c/%h/%l/%v".into()),
            },
        };
        assert_eq!(
            h.command(),
            r#"smh+265598+{"exchange":"ISLAND","period":"2h","bar":"5min","outsideRth":false,"source":"trades","format":"%o/%c/%h/%l/%v"}"#
        );
    }

    #[test]
    fn unsubscribe_commands() {
        assert_eq!(
            Topic::MarketData(265_598)
                .unsubscribe_command(None)
                .as_deref(),
            Some("umd+265598+{}")
        );
        assert_eq!(
            Topic::Trades.unsubscribe_command(None).as_deref(),
            Some("utr")
        );
        assert_eq!(
            Topic::Orders.unsubscribe_command(None).as_deref(),
            Some("uor+{}")
        );
        assert_eq!(
            Topic::Pnl.unsubscribe_command(None).as_deref(),
            Some("upl+{}")
        );
        assert_eq!(Topic::History(1).unsubscribe_command(None), None);
        assert_eq!(
            Topic::History(1)
                .unsubscribe_command(Some("4155816"))
                .as_deref(),
            Some("umh+4155816")
        );
        assert_eq!(
            Topic::Book {
                account: "DU1".into()
            }
            .unsubscribe_command(None)
            .as_deref(),
            Some("ubd+DU1")
        );
    }
}
