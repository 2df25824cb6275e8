//! [`WsClient`]: one background task that owns the socket, sends heartbeats, publishes parsed
//! frames as [`WsEvent`]s, watches streaming subscriptions for silence, and reconnects with
//! backoff — re-sending every active subscription — when the connection drops.

use std::collections::HashMap;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::http::header::{COOKIE, USER_AGENT};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

use super::config::{WsConfig, redacted_url};
use super::error::WsError;
use super::event::WsEvent;
use super::message::WsMessage;
use super::subscription::{Subscription, Topic};
use super::tls;

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The client → server heartbeat.
const HEARTBEAT: &str = "tic";
/// Malformed frames are reported with at most this many characters.
const MAX_FRAME_IN_EVENT: usize = 1000;

enum Command {
    Subscribe(Subscription),
    Unsubscribe(Topic),
    Send(String),
    Close,
}

/// A connected streaming client. Events arrive through [`WsClient::next_event`] (or the
/// receiver from [`WsClient::events`]); dropping the client stops its task.
pub struct WsClient {
    commands: mpsc::UnboundedSender<Command>,
    events: mpsc::Receiver<WsEvent>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for WsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WsClient")
            .field("running", &!self.task.is_finished())
            .finish_non_exhaustive()
    }
}

impl WsClient {
    /// Connect (TCP, TLS, upgrade with cookie / OAuth token) and start the background task.
    /// The first connection attempt is made here and its failure returned; later losses are
    /// handled by reconnecting. The first event is [`WsEvent::Connected`].
    pub async fn connect(config: WsConfig) -> Result<Self, WsError> {
        let connector = tls::connector(config.insecure_tls)?;
        let socket = open(&config, connector.clone()).await?;
        let (commands, command_rx) = mpsc::unbounded_channel();
        let (event_tx, events) = mpsc::channel(config.event_capacity.max(1));
        let supervisor = Supervisor {
            config,
            connector,
            commands: command_rx,
            events: event_tx,
            active: Vec::new(),
            history_servers: HashMap::new(),
            feeds: HashMap::new(),
            pending: Vec::new(),
        };
        let task = tokio::spawn(supervisor.run(socket));
        Ok(WsClient {
            commands,
            events,
            task,
        })
    }

    /// Subscribe (sent now, and again after every reconnect). Subscribing to a topic that is
    /// already active replaces it (e.g. more market-data fields).
    pub fn subscribe(&self, subscription: Subscription) -> Result<(), WsError> {
        self.command(Command::Subscribe(subscription))
    }

    /// Unsubscribe from a topic (no-op if it is not active).
    pub fn unsubscribe(&self, topic: Topic) -> Result<(), WsError> {
        self.command(Command::Unsubscribe(topic))
    }

    /// Send raw text (e.g. `{"session":"…"}` after `waiting for session`). While disconnected
    /// the text is queued and sent once the connection is back.
    pub fn send_text(&self, text: impl Into<String>) -> Result<(), WsError> {
        self.command(Command::Send(text.into()))
    }

    /// The next event; `None` once the client has stopped (closed or gave up reconnecting).
    pub async fn next_event(&mut self) -> Option<WsEvent> {
        self.events.recv().await
    }

    /// The event receiver, for use in a `select!`.
    pub fn events(&mut self) -> &mut mpsc::Receiver<WsEvent> {
        &mut self.events
    }

    /// Close the socket (close frame) and wait for the task to stop. Events still queued are
    /// discarded.
    pub async fn close(self) {
        let WsClient {
            commands,
            mut events,
            mut task,
        } = self;
        let _ = commands.send(Command::Close);
        loop {
            tokio::select! {
                _ = &mut task => return,
                event = events.recv() => {
                    if event.is_none() {
                        let _ = task.await;
                        return;
                    }
                }
            }
        }
    }

    fn command(&self, command: Command) -> Result<(), WsError> {
        self.commands.send(command).map_err(|_| WsError::Closed)
    }
}

/// Dial the socket once.
async fn open(config: &WsConfig, connector: Option<Connector>) -> Result<Socket, WsError> {
    let url = config.connect_url();
    let shown = redacted_url(&url);
    let secrets = secrets_of(config);
    let mut request = url
        .as_str()
        .into_client_request()
        .map_err(|e| WsError::InvalidUrl(scrub(&e.to_string(), &secrets)))?;
    let headers = request.headers_mut();
    headers.insert(
        USER_AGENT,
        HeaderValue::from_str(&config.user_agent)
            .map_err(|_| WsError::InvalidHeader("User-Agent"))?,
    );
    if let Some(cookie) = &config.cookie {
        headers.insert(
            COOKIE,
            HeaderValue::from_str(cookie).map_err(|_| WsError::InvalidHeader("Cookie"))?,
        );
    }
    let dial = tokio_tungstenite::connect_async_tls_with_config(request, None, true, connector);
    match tokio::time::timeout(config.connect_timeout, dial).await {
        Err(_) => Err(WsError::Connect {
            url: shown,
            message: format!("timed out after {:?}", config.connect_timeout),
        }),
        Ok(Err(e)) => Err(WsError::Connect {
            url: shown,
            message: scrub(&describe(&e), &secrets),
        }),
        Ok(Ok((socket, _response))) => Ok(socket),
    }
}

fn describe(e: &tungstenite::Error) -> String {
    match e {
        tungstenite::Error::Http(response) => format!("HTTP {} on upgrade", response.status()),
        other => other.to_string(),
    }
}

fn secrets_of(config: &WsConfig) -> Vec<String> {
    config
        .cookie
        .iter()
        .chain(config.oauth_token.iter())
        .cloned()
        .collect()
}

fn scrub(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_owned();
    for s in secrets.iter().filter(|s| s.len() >= 4) {
        out = out.replace(s.as_str(), "<redacted>");
    }
    out
}

/// Silence tracking of one streaming subscription.
struct FeedState {
    last_data: Instant,
    reported: bool,
}

/// How a connected session ended.
enum SessionEnd {
    /// The connection was lost; reconnect.
    Lost(String),
    /// The user closed the client or dropped it; stop.
    Closed,
}

/// How a reconnection round ended.
enum Reconnect {
    Up(Box<Socket>, u32),
    Closed,
    GaveUp(String),
}

/// The background task's state.
struct Supervisor {
    config: WsConfig,
    connector: Option<Connector>,
    commands: mpsc::UnboundedReceiver<Command>,
    events: mpsc::Sender<WsEvent>,
    /// Active subscriptions, one per topic, in the order they were made.
    active: Vec<Subscription>,
    /// `smh` stream ids by conid, for `umh+{serverId}`.
    history_servers: HashMap<u64, String>,
    /// Streaming topics watched for silence.
    feeds: HashMap<Topic, FeedState>,
    /// Raw texts queued while disconnected.
    pending: Vec<String>,
}

impl Supervisor {
    async fn run(mut self, first: Socket) {
        let mut socket = first;
        if self.emit(WsEvent::Connected).await.is_err() {
            return;
        }
        loop {
            let reason = match self.session(&mut socket).await {
                SessionEnd::Closed => return,
                SessionEnd::Lost(reason) => reason,
            };
            tracing::warn!(url = %redacted_url(&self.config.url), %reason, "websocket lost");
            if self.emit(WsEvent::Disconnected { reason }).await.is_err() {
                return;
            }
            loop {
                match self.reconnect().await {
                    Reconnect::Closed => return,
                    Reconnect::GaveUp(reason) => {
                        tracing::error!(%reason, "websocket reconnection gave up");
                        let _ = self.emit(WsEvent::Disconnected { reason }).await;
                        return;
                    }
                    Reconnect::Up(mut fresh, attempts) => {
                        match self.resubscribe(&mut fresh).await {
                            Ok(()) => {
                                socket = *fresh;
                                tracing::info!(attempts, "websocket reconnected");
                                if self.emit(WsEvent::Reconnected { attempts }).await.is_err() {
                                    return;
                                }
                                break;
                            }
                            Err(reason) => {
                                if self.emit(WsEvent::Disconnected { reason }).await.is_err() {
                                    return;
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Serve one connection until it is lost or the client is closed.
    async fn session(&mut self, socket: &mut Socket) -> SessionEnd {
        let now = Instant::now();
        let mut last_frame = now;
        let mut last_heartbeat = now;
        for feed in self.feeds.values_mut() {
            feed.last_data = now;
            feed.reported = false;
        }
        let mut tick = tokio::time::interval(self.tick_period());
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                frame = socket.next() => {
                    let message = match frame {
                        None => return SessionEnd::Lost("connection ended".into()),
                        Some(Err(e)) => return SessionEnd::Lost(e.to_string()),
                        Some(Ok(m)) => m,
                    };
                    last_frame = Instant::now();
                    let delivered = match message {
                        Message::Text(text) => self.handle_text(text.as_str()).await,
                        Message::Binary(bytes) => match std::str::from_utf8(&bytes) {
                            Ok(text) => self.handle_text(text).await,
                            Err(_) => Ok(()),
                        },
                        Message::Close(frame) => return SessionEnd::Lost(close_reason(frame)),
                        Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => Ok(()),
                    };
                    if delivered.is_err() {
                        let _ = socket.close(None).await;
                        return SessionEnd::Closed;
                    }
                }
                command = self.commands.recv() => {
                    let text = match command {
                        None | Some(Command::Close) => {
                            let _ = socket.close(None).await;
                            return SessionEnd::Closed;
                        }
                        Some(Command::Subscribe(sub)) => Some(self.add(sub)),
                        Some(Command::Unsubscribe(topic)) => self.remove(&topic),
                        Some(Command::Send(text)) => Some(text),
                    };
                    if let Some(text) = text
                        && let Err(e) = socket.send(Message::text(text)).await
                    {
                        return SessionEnd::Lost(format!("send failed: {e}"));
                    }
                }
                _ = tick.tick() => {
                    let now = Instant::now();
                    let idle = now.duration_since(last_frame);
                    if idle >= self.config.idle_timeout {
                        return SessionEnd::Lost(format!("no frame received for {idle:?}"));
                    }
                    if now.duration_since(last_heartbeat) >= self.config.heartbeat_interval {
                        last_heartbeat = now;
                        if let Err(e) = socket.send(Message::text(HEARTBEAT)).await {
                            return SessionEnd::Lost(format!("heartbeat failed: {e}"));
                        }
                    }
                    match self.check_feeds(socket, now).await {
                        Ok(true) => {}
                        Ok(false) => {
                            let _ = socket.close(None).await;
                            return SessionEnd::Closed;
                        }
                        Err(reason) => return SessionEnd::Lost(reason),
                    }
                }
            }
        }
    }

    /// Parse and publish one frame; `Err` when the consumer is gone.
    async fn handle_text(&mut self, text: &str) -> Result<(), ()> {
        let event = match WsMessage::parse(text) {
            Ok(message) => {
                if let Some(topic) = message.data_topic()
                    && let Some(feed) = self.feeds.get_mut(&topic)
                {
                    feed.last_data = Instant::now();
                    feed.reported = false;
                }
                if let WsMessage::History(h) = &message
                    && let (Some(conid), Some(server)) = (h.conid, &h.server_id)
                {
                    self.history_servers.insert(conid, server.clone());
                }
                WsEvent::from(message)
            }
            Err(error) => {
                tracing::warn!(%error, "malformed websocket frame");
                WsEvent::Malformed {
                    error,
                    frame: text.chars().take(MAX_FRAME_IN_EVENT).collect(),
                }
            }
        };
        self.emit(event).await
    }

    /// Report streaming subscriptions silent for `dead_feed_after` and re-send their
    /// subscription. `Ok(false)` when the consumer is gone, `Err` when the socket failed.
    async fn check_feeds(&mut self, socket: &mut Socket, now: Instant) -> Result<bool, String> {
        let limit = self.config.dead_feed_after;
        let mut dead: Vec<(Topic, Duration)> = self
            .feeds
            .iter()
            .filter(|(_, f)| !f.reported && now.duration_since(f.last_data) >= limit)
            .map(|(t, f)| (t.clone(), now.duration_since(f.last_data)))
            .collect();
        dead.sort();
        for (topic, silent_for) in dead {
            if let Some(feed) = self.feeds.get_mut(&topic) {
                feed.reported = true;
            }
            tracing::warn!(%topic, ?silent_for, "dead feed");
            if self
                .emit(WsEvent::DeadFeed {
                    topic: topic.clone(),
                    silent_for,
                })
                .await
                .is_err()
            {
                return Ok(false);
            }
            if let Some(sub) = self.active.iter().find(|s| s.topic() == topic) {
                socket
                    .send(Message::text(sub.command()))
                    .await
                    .map_err(|e| format!("re-subscribe failed: {e}"))?;
            }
        }
        Ok(true)
    }

    /// Wait out the backoff and dial again, serving commands meanwhile.
    async fn reconnect(&mut self) -> Reconnect {
        let backoff = self.config.backoff;
        let mut last_error = String::from("reconnection disabled");
        for attempt in 1..=backoff.max_attempts {
            let deadline = Instant::now() + backoff.delay(attempt);
            loop {
                tokio::select! {
                    _ = tokio::time::sleep_until(deadline) => break,
                    command = self.commands.recv() => match command {
                        None | Some(Command::Close) => return Reconnect::Closed,
                        Some(Command::Subscribe(sub)) => {
                            self.add(sub);
                        }
                        Some(Command::Unsubscribe(topic)) => {
                            self.remove(&topic);
                        }
                        Some(Command::Send(text)) => self.pending.push(text),
                    },
                }
            }
            match open(&self.config, self.connector.clone()).await {
                Ok(socket) => return Reconnect::Up(Box::new(socket), attempt),
                Err(e) => {
                    tracing::warn!(attempt, error = %e, "websocket reconnect attempt failed");
                    last_error = e.to_string();
                }
            }
        }
        Reconnect::GaveUp(format!(
            "reconnection gave up after {} attempts: {last_error}",
            backoff.max_attempts
        ))
    }

    /// Send every active subscription and the queued texts on a fresh socket.
    async fn resubscribe(&mut self, socket: &mut Socket) -> Result<(), String> {
        let mut texts: Vec<String> = self.active.iter().map(Subscription::command).collect();
        texts.append(&mut self.pending);
        for text in texts {
            socket
                .send(Message::text(text))
                .await
                .map_err(|e| format!("re-subscribe failed: {e}"))?;
        }
        Ok(())
    }

    /// Record a subscription; returns its command text.
    fn add(&mut self, sub: Subscription) -> String {
        let topic = sub.topic();
        let text = sub.command();
        if topic.is_streaming() {
            self.feeds.insert(
                topic.clone(),
                FeedState {
                    last_data: Instant::now(),
                    reported: false,
                },
            );
        }
        match self.active.iter_mut().find(|s| s.topic() == topic) {
            Some(existing) => *existing = sub,
            None => self.active.push(sub),
        }
        text
    }

    /// Forget a subscription; returns the unsubscribe text, if there is one to send.
    fn remove(&mut self, topic: &Topic) -> Option<String> {
        let was_active = self.active.iter().any(|s| &s.topic() == topic);
        self.active.retain(|s| &s.topic() != topic);
        self.feeds.remove(topic);
        let server_id = match topic {
            Topic::History(conid) => self.history_servers.remove(conid),
            _ => None,
        };
        if !was_active {
            return None;
        }
        topic.unsubscribe_command(server_id.as_deref())
    }

    fn tick_period(&self) -> Duration {
        let shortest = self
            .config
            .heartbeat_interval
            .min(self.config.dead_feed_after)
            .min(self.config.idle_timeout);
        (shortest / 4).clamp(Duration::from_millis(1), Duration::from_secs(1))
    }

    async fn emit(&self, event: WsEvent) -> Result<(), ()> {
        self.events.send(event).await.map_err(|_| ())
    }
}

fn close_reason(frame: Option<CloseFrame>) -> String {
    match frame {
        Some(f) if !f.reason.is_empty() => {
            format!("server closed the connection ({}: {})", f.code, f.reason)
        }
        Some(f) => format!("server closed the connection ({})", f.code),
        None => "server closed the connection".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_hides_tokens() {
        let s = scrub(
            "GET /ws?oauth_token=0f1e2d3c failed",
            &["0f1e2d3c".to_owned(), "ab".to_owned()],
        );
        assert_eq!(s, "GET /ws?oauth_token=<redacted> failed");
    }
}
