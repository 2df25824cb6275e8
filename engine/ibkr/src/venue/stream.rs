//! The websocket dispatcher: one task owns the [`WsClient`] and routes what it publishes —
//! `smd` to the feed's [`TickMaker`](super::feed::TickMaker), `sor` / `str` to the execution
//! client, `ntf` / `blt` and reconnects to the runtime's session notices, connection state to
//! both (the feed falls back to snapshots and the execution client to REST polling while the
//! socket is down).
//!
//! IBKR ends `smd` subscriptions silently after a while; the socket client re-subscribes a
//! topic that stays silent ([`WsEvent::DeadFeed`]), and this task renews the market-data
//! subscriptions every [`StreamOptions::renew_every`] before that happens. A socket that
//! cannot be opened is retried with a doubling pause (REST carries the run meanwhile).

use std::sync::Arc;
use std::time::Duration;

use tickline_live::venue::SessionNotice;
use tokio::sync::mpsc;

use super::feed::{Hub, feed_field_ids};
use crate::client::Client;
use crate::execution::StreamInput;
use crate::ws::{Subscription, WsClient, WsEvent};

/// `waiting for session` answers within this long of presenting it belong to the same burst.
const PRESENT_AGAIN_AFTER: Duration = Duration::from_secs(2);

/// Settings of the dispatcher.
#[derive(Clone, Debug, PartialEq)]
pub struct StreamOptions {
    /// Renew the market-data subscriptions this often (IBKR lapses them after ~15 min).
    pub renew_every: Duration,
    /// A market-data topic silent this long is re-subscribed by the socket client.
    pub dead_feed_after: Duration,
}

impl Default for StreamOptions {
    fn default() -> Self {
        StreamOptions {
            renew_every: Duration::from_secs(600),
            dead_feed_after: Duration::from_secs(15),
        }
    }
}

pub(super) struct Dispatcher {
    pub client: Client,
    pub conids: Vec<i64>,
    pub hub: Arc<Hub>,
    pub exec: mpsc::UnboundedSender<StreamInput>,
    pub notices: mpsc::Sender<SessionNotice>,
    /// The feed asks for market data (at its start).
    pub subscribe: mpsc::UnboundedReceiver<()>,
    pub opts: StreamOptions,
}

impl Dispatcher {
    /// Orders and executions, and market data once the feed started.
    fn subscribe_all(&self, ws: &WsClient, market_data: bool) {
        for sub in [
            Subscription::Orders {
                filters: Vec::new(),
            },
            Subscription::Trades {
                realtime_updates_only: false,
                days: None,
            },
        ] {
            if let Err(e) = ws.subscribe(sub) {
                tracing::warn!(error = %e, "websocket subscription failed");
            }
        }
        if market_data {
            self.subscribe_market_data(ws);
        }
    }

    fn subscribe_market_data(&self, ws: &WsClient) {
        for &conid in &self.conids {
            let Ok(conid) = u64::try_from(conid) else {
                continue;
            };
            if let Err(e) = ws.subscribe(Subscription::market_data(conid, feed_field_ids())) {
                tracing::warn!(conid, error = %e, "subscribing market data failed");
            }
        }
    }

    fn up(&self) {
        self.hub.set_stream(true);
        let _ = self.exec.send(StreamInput::Up);
    }

    fn down(&self) {
        self.hub.set_stream(false);
        let _ = self.exec.send(StreamInput::Down);
    }

    fn notice(&self, n: SessionNotice) {
        if self.notices.try_send(n).is_err() {
            tracing::warn!("session notice dropped: the live loop is not reading them");
        }
    }

    /// Run until the runtime is gone (the execution client and the feed dropped).
    pub async fn run(mut self) {
        let mut pause = Duration::from_millis(500);
        loop {
            // `/tickle` gives the session id the socket presents (`api` cookie).
            if let Err(e) = self.client.tickle().await {
                tracing::warn!(error = %e, "tickle before opening the websocket failed");
            }
            let mut config = self.client.ws_config();
            config.dead_feed_after = self.opts.dead_feed_after;
            let ws = match WsClient::connect(config).await {
                Ok(ws) => ws,
                Err(e) => {
                    tracing::warn!(error = %e, retry_in = ?pause, "websocket connection failed: orders and market data are read over REST meanwhile");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(30));
                    if self.exec.is_closed() {
                        return;
                    }
                    continue;
                }
            };
            pause = Duration::from_millis(500);
            if !self.serve(ws).await {
                return;
            }
            self.down();
        }
    }

    /// One socket's life. `false`: the runtime is gone, stop.
    async fn serve(&mut self, mut ws: WsClient) -> bool {
        let mut market_data = self.hub.started();
        self.subscribe_all(&ws, market_data);
        // Every command sent before the session is presented is answered `waiting for
        // session`: present it (and subscribe again) once for such a burst.
        let mut presented: Option<tokio::time::Instant> = None;
        let mut renew = tokio::time::interval(self.opts.renew_every);
        renew.tick().await;
        loop {
            tokio::select! {
                ev = ws.next_event() => {
                    let Some(ev) = ev else {
                        tracing::warn!("websocket gave up reconnecting; opening a new one");
                        return true;
                    };
                    if let WsEvent::Message(m) = &ev
                        && m.contains("waiting for session")
                    {
                        // Subscriptions sent before the session was presented (a socket
                        // reopened after a new login) were not taken: send them again.
                        if presented.is_none_or(|t| t.elapsed() >= PRESENT_AGAIN_AFTER) {
                            presented = Some(tokio::time::Instant::now());
                            self.present_session(&ws).await;
                            self.subscribe_all(&ws, market_data);
                        }
                        continue;
                    }
                    self.on_event(ev);
                }
                req = self.subscribe.recv() => match req {
                    Some(()) => {
                        market_data = true;
                        self.subscribe_market_data(&ws);
                    }
                    None => {
                        ws.close().await;
                        return false;
                    }
                },
                _ = renew.tick() => if market_data {
                    tracing::debug!("renewing market data subscriptions");
                    self.subscribe_market_data(&ws);
                },
                _ = self.exec.closed() => {
                    ws.close().await;
                    return false;
                }
            }
        }
    }

    /// The server waits for `{"session":"…"}`: the id from a fresh `/tickle`.
    async fn present_session(&self, ws: &WsClient) {
        if let Err(e) = self.client.tickle().await {
            tracing::warn!(error = %e, "websocket waits for a session but /tickle failed");
        }
        match self.client.websocket_session() {
            Some(id) => {
                let msg = serde_json::json!({ "session": id.expose() }).to_string();
                if let Err(e) = ws.send_text(msg) {
                    tracing::warn!(error = %e, "sending the websocket session failed");
                }
            }
            None => tracing::warn!("websocket waits for a session; /tickle gave none"),
        }
    }

    fn on_event(&self, ev: WsEvent) {
        match ev {
            WsEvent::Connected => {
                tracing::info!("websocket connected: streaming orders, fills and market data");
                self.up();
            }
            WsEvent::Reconnected { attempts } => {
                tracing::warn!(
                    attempts,
                    "websocket reconnected and resubscribed; reconciling what it missed"
                );
                self.up();
                self.notice(SessionNotice::StreamReconnected);
            }
            WsEvent::Disconnected { reason } => {
                tracing::warn!(%reason, "websocket lost: polling REST until it is back");
                self.down();
            }
            WsEvent::DeadFeed { topic, silent_for } => {
                tracing::warn!(%topic, ?silent_for, "market data stream silent: resubscribed");
            }
            WsEvent::MarketData(u) => {
                let now = tickline_engine::clock::Clock::now(&tickline_engine::clock::LiveClock);
                let ev = self
                    .hub
                    .ticks
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .on_stream(&u, now);
                if let Some(ev) = ev {
                    self.hub.send(ev);
                }
            }
            WsEvent::Order(updates) => {
                tracing::debug!(updates = updates.len(), "websocket order updates");
                let _ = self.exec.send(StreamInput::Orders(updates));
            }
            WsEvent::Trade(execs) => {
                tracing::debug!(executions = execs.len(), "websocket executions");
                let _ = self.exec.send(StreamInput::Trades(execs));
            }
            WsEvent::Notification(items) => {
                for n in items {
                    let text = match (n.title, n.text) {
                        (Some(t), Some(x)) => format!("{t}: {x}"),
                        (t, x) => t.or(x).unwrap_or_default(),
                    };
                    self.notice(SessionNotice::Notice { text });
                }
            }
            WsEvent::Bulletin(items) => {
                for b in items {
                    self.notice(SessionNotice::Notice {
                        text: b.message.unwrap_or_default(),
                    });
                }
            }
            WsEvent::AuthStatus(sts) => {
                tracing::debug!(?sts, "websocket session status");
                self.client.observe_stream_status(&sts);
            }
            WsEvent::Error {
                topic,
                message,
                code,
            } => {
                tracing::warn!(?topic, ?code, %message, "websocket error frame");
            }
            WsEvent::Malformed { error, frame } => {
                tracing::warn!(%error, frame = %frame.chars().take(200).collect::<String>(), "malformed websocket frame ignored");
            }
            _ => {}
        }
    }
}
