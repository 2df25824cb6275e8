//! The websocket client against an in-test tokio-tungstenite server on 127.0.0.1: upgrade
//! headers, subscribe/unsubscribe texts, typed events, heartbeat, reconnect with
//! re-subscription, dead-feed and idle detection, bounded retries.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tickline_ibkr::ws::{
    Backoff, HistoryParams, Subscription, SystemMessage, Topic, WsClient, WsConfig, WsError,
    WsEvent,
};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{
    Callback, ErrorResponse, Request, Response,
};
use url::Url;

const WAIT: Duration = Duration::from_secs(5);

/// One accepted connection, with what the upgrade request carried.
struct Conn {
    uri: String,
    cookie: Option<String>,
    user_agent: Option<String>,
    ws: WebSocketStream<TcpStream>,
}

impl Conn {
    /// The next text frame, including heartbeats.
    async fn next_text(&mut self) -> Option<String> {
        loop {
            match tokio::time::timeout(WAIT, self.ws.next()).await {
                Err(_) => panic!("server: no frame within {WAIT:?}"),
                Ok(None) | Ok(Some(Err(_))) => return None,
                Ok(Some(Ok(Message::Text(t)))) => return Some(t.as_str().to_owned()),
                Ok(Some(Ok(Message::Close(_)))) => return None,
                Ok(Some(Ok(_))) => {}
            }
        }
    }

    /// The next text frame that is not the `tic` heartbeat.
    async fn command(&mut self) -> String {
        loop {
            match self.next_text().await {
                Some(t) if t == "tic" => {}
                Some(t) => return t,
                None => panic!("server: connection ended while waiting for a command"),
            }
        }
    }

    async fn send(&mut self, text: &str) {
        self.ws
            .send(Message::text(text.to_owned()))
            .await
            .expect("server send");
    }
}

/// The upgrade request's URI, `Cookie` and `User-Agent`, captured by the handshake callback.
#[derive(Clone, Default)]
struct Upgrade(Arc<Mutex<UpgradeSeen>>);

type UpgradeSeen = (String, Option<String>, Option<String>);

impl Upgrade {
    fn take(&self) -> UpgradeSeen {
        self.0.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl Callback for Upgrade {
    fn on_request(self, req: &Request, resp: Response) -> Result<Response, ErrorResponse> {
        let header = |name: &str| {
            req.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        if let Ok(mut s) = self.0.lock() {
            *s = (
                req.uri().to_string(),
                header("cookie"),
                header("user-agent"),
            );
        }
        Ok(resp)
    }
}

struct Server {
    addr: SocketAddr,
    conns: mpsc::UnboundedReceiver<Conn>,
    acceptor: JoinHandle<()>,
}

impl Server {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (tx, conns) = mpsc::unbounded_channel();
        let acceptor = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let seen = Upgrade::default();
                let callback = seen.clone();
                let Ok(ws) = tokio_tungstenite::accept_hdr_async(stream, callback).await else {
                    continue;
                };
                let (uri, cookie, user_agent) = seen.take();
                if tx
                    .send(Conn {
                        uri,
                        cookie,
                        user_agent,
                        ws,
                    })
                    .is_err()
                {
                    return;
                }
            }
        });
        Server {
            addr,
            conns,
            acceptor,
        }
    }

    async fn accept(&mut self) -> Conn {
        tokio::time::timeout(WAIT, self.conns.recv())
            .await
            .expect("client connected in time")
            .expect("acceptor alive")
    }

    fn config(&self) -> WsConfig {
        let mut cfg =
            WsConfig::new(Url::parse(&format!("ws://{}/v1/api/ws", self.addr)).expect("url"));
        cfg.heartbeat_interval = Duration::from_secs(30);
        cfg.dead_feed_after = Duration::from_secs(30);
        cfg.idle_timeout = Duration::from_secs(30);
        cfg.connect_timeout = Duration::from_secs(2);
        cfg.backoff = Backoff {
            base: Duration::from_millis(10),
            max: Duration::from_millis(50),
            max_attempts: 5,
        };
        cfg
    }
}

async fn next_event(client: &mut WsClient) -> WsEvent {
    tokio::time::timeout(WAIT, client.next_event())
        .await
        .expect("event in time")
        .expect("client running")
}

/// Skip heartbeat-ish events the server did not script.
async fn next_data_event(client: &mut WsClient) -> WsEvent {
    loop {
        match next_event(client).await {
            WsEvent::Tic(_) | WsEvent::Echo(_) => {}
            other => return other,
        }
    }
}

fn sample(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/reference/ibkr-samples")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).expect("sample")).expect("json")
}

#[tokio::test]
async fn upgrade_headers_and_subscription_grammar() {
    let mut server = Server::start().await;
    let mut cfg = server.config();
    cfg.cookie = Some("api=0123456789abcdef0123456789abcdef".into());
    cfg.oauth_token = Some("0f1e2d3c4b5a69788796".into());
    let mut client = WsClient::connect(cfg).await.expect("connects");
    let mut conn = server.accept().await;
    assert_eq!(conn.uri, "/v1/api/ws?oauth_token=0f1e2d3c4b5a69788796");
    assert_eq!(
        conn.cookie.as_deref(),
        Some("api=0123456789abcdef0123456789abcdef")
    );
    assert!(
        conn.user_agent
            .as_deref()
            .is_some_and(|ua| ua.starts_with("tickline/"))
    );
    assert_eq!(next_event(&mut client).await, WsEvent::Connected);

    let subs = [
        (
            Subscription::market_data(265_598, [31, 84, 86]),
            r#"smd+265598+{"fields":["31","84","86"]}"#,
        ),
        (Subscription::Orders { filters: vec![] }, "sor+{}"),
        (
            Subscription::Orders {
                filters: vec!["Submitted".into()],
            },
            r#"sor+{"filters":["Submitted"]}"#,
        ),
        (
            Subscription::Trades {
                realtime_updates_only: true,
                days: None,
            },
            r#"str+{"realtimeUpdatesOnly":true}"#,
        ),
        (Subscription::Pnl, "spl+{}"),
        (
            Subscription::Book {
                account: "DU1234567".into(),
                conid: 265_598,
                exchange: None,
            },
            "sbd+DU1234567+265598",
        ),
        (
            Subscription::History {
                conid: 265_598,
                params: HistoryParams {
                    exchange: Some("ISLAND".into()),
                    period: "2h".into(),
                    bar: "5min".into(),
                    outside_rth: false,
                    source: Some("trades".into()),
                    format: Some("%o/%c/%h/%l/%v".into()),
                },
            },
            r#"smh+265598+{"exchange":"ISLAND","period":"2h","bar":"5min","outsideRth":false,"source":"trades","format":"%o/%c/%h/%l/%v"}"#,
        ),
    ];
    for (sub, text) in subs {
        client.subscribe(sub).expect("subscribe");
        assert_eq!(conn.command().await, text);
    }

    // The history stream id comes from its first frame; umh needs it.
    let mut history = sample("marketdata_history.json");
    history["topic"] = Value::from("smh+265598");
    conn.send(&history.to_string()).await;
    let WsEvent::History(h) = next_data_event(&mut client).await else {
        panic!("expected history");
    };
    assert_eq!(h.bars.len(), 4);

    let unsubs = [
        (Topic::History(265_598), "umh+4155816"),
        (Topic::MarketData(265_598), "umd+265598+{}"),
        (Topic::Orders, "uor+{}"),
        (Topic::Trades, "utr"),
        (Topic::Pnl, "upl+{}"),
        (
            Topic::Book {
                account: "DU1234567".into(),
            },
            "ubd+DU1234567",
        ),
    ];
    for (topic, text) in unsubs {
        client.unsubscribe(topic).expect("unsubscribe");
        assert_eq!(conn.command().await, text);
    }
    // Unsubscribing something inactive sends nothing: the next frame is the marker.
    client
        .unsubscribe(Topic::MarketData(1))
        .expect("unsubscribe");
    client.send_text("ech+hb").expect("send");
    assert_eq!(conn.command().await, "ech+hb");
    client.close().await;
}

#[tokio::test]
async fn sample_frames_arrive_as_typed_events() {
    let mut server = Server::start().await;
    let mut client = WsClient::connect(server.config()).await.expect("connects");
    let mut conn = server.accept().await;
    assert_eq!(next_event(&mut client).await, WsEvent::Connected);

    for name in [
        "ws_system.json",
        "ws_smd.json",
        "ws_sor.json",
        "ws_str.json",
        "ws_spl.json",
    ] {
        for frame in sample(name)["receive"].as_array().expect("frames") {
            conn.send(&frame.to_string()).await;
        }
    }
    conn.send("ech+hb").await;
    conn.send("{not json").await;
    conn.send(r#"{"topic":"spl","args":{}}"#).await;

    let mut kinds = Vec::new();
    for _ in 0..17 {
        let event = next_event(&mut client).await;
        let kind = match &event {
            WsEvent::System(SystemMessage::Welcome { username, .. }) => {
                assert_eq!(username, "user1234");
                "welcome"
            }
            WsEvent::System(SystemMessage::Heartbeat { .. }) => "hb",
            WsEvent::Account(a) => {
                assert_eq!(a.accounts, ["DU1234567"]);
                "act"
            }
            WsEvent::AuthStatus(s) => {
                assert_eq!(s.authenticated, Some(true));
                "sts"
            }
            WsEvent::Notification(_) => "ntf",
            WsEvent::Bulletin(_) => "blt",
            WsEvent::Message(m) => {
                assert_eq!(m, "waiting for session");
                "message"
            }
            WsEvent::MarketData(md) => {
                assert_eq!(md.conid, 265_598);
                assert!(md.get(31).is_some());
                "smd"
            }
            WsEvent::Order(o) => {
                assert!(!o.is_empty());
                "sor"
            }
            WsEvent::Trade(t) => {
                assert_eq!(t[0].execution_id, "00025b49.6a4ffd74.01.01");
                "str"
            }
            WsEvent::Pnl(p) => {
                if p.is_empty() {
                    "spl-empty"
                } else {
                    "spl"
                }
            }
            WsEvent::Echo(e) => {
                assert_eq!(e, "ech+hb");
                "echo"
            }
            WsEvent::Malformed { frame, .. } => {
                assert_eq!(frame, "{not json");
                "malformed"
            }
            other => panic!("unexpected event {other:?}"),
        };
        kinds.push(kind);
    }
    assert_eq!(
        kinds,
        [
            "welcome",
            "act",
            "sts",
            "hb",
            "ntf",
            "blt",
            "message",
            "smd",
            "smd",
            "sor",
            "sor",
            "sor",
            "str",
            "spl",
            "echo",
            "malformed",
            "spl-empty"
        ]
    );
    client.close().await;
}

#[tokio::test]
async fn heartbeat_is_sent_periodically() {
    let mut server = Server::start().await;
    let mut cfg = server.config();
    cfg.heartbeat_interval = Duration::from_millis(40);
    let mut client = WsClient::connect(cfg).await.expect("connects");
    let mut conn = server.accept().await;
    assert_eq!(next_event(&mut client).await, WsEvent::Connected);
    let started = tokio::time::Instant::now();
    for _ in 0..3 {
        assert_eq!(conn.next_text().await.as_deref(), Some("tic"));
    }
    // Three heartbeats 40 ms apart take at least ~80 ms.
    assert!(started.elapsed() >= Duration::from_millis(60));
    client.close().await;
}

#[tokio::test]
async fn dropped_connection_reconnects_and_resubscribes() {
    let mut server = Server::start().await;
    let mut client = WsClient::connect(server.config()).await.expect("connects");
    let mut conn = server.accept().await;
    assert_eq!(next_event(&mut client).await, WsEvent::Connected);
    let subs = [
        Subscription::market_data(265_598, [31, 84]),
        Subscription::Orders { filters: vec![] },
        Subscription::Pnl,
    ];
    let mut texts = Vec::new();
    for sub in subs {
        texts.push(sub.command());
        client.subscribe(sub).expect("subscribe");
        assert_eq!(&conn.command().await, texts.last().expect("text"));
    }
    // Replacing a subscription keeps one entry per topic.
    let wider = Subscription::market_data(265_598, [31, 84, 86]);
    texts[0] = wider.command();
    client.subscribe(wider).expect("subscribe");
    assert_eq!(conn.command().await, texts[0]);
    client.unsubscribe(Topic::Pnl).expect("unsubscribe");
    assert_eq!(conn.command().await, "upl+{}");
    texts.pop();

    drop(conn);
    assert!(matches!(
        next_data_event(&mut client).await,
        WsEvent::Disconnected { .. }
    ));
    let mut conn = server.accept().await;
    assert_eq!(
        next_data_event(&mut client).await,
        WsEvent::Reconnected { attempts: 1 }
    );
    for text in &texts {
        assert_eq!(&conn.command().await, text);
    }
    // Data flows on the new connection.
    conn.send(r#"{"topic":"smd+265598","31":"170.01","conid":265598}"#)
        .await;
    let WsEvent::MarketData(md) = next_data_event(&mut client).await else {
        panic!("expected market data");
    };
    assert_eq!(md.get(31), Some("170.01"));

    // A server close frame is a loss too.
    conn.ws.close(None).await.expect("close");
    let WsEvent::Disconnected { reason } = next_data_event(&mut client).await else {
        panic!("expected disconnect");
    };
    assert!(reason.contains("closed"), "{reason}");
    let mut conn = server.accept().await;
    assert!(matches!(
        next_data_event(&mut client).await,
        WsEvent::Reconnected { .. }
    ));
    for text in &texts {
        assert_eq!(&conn.command().await, text);
    }
    client.close().await;
}

#[tokio::test]
async fn dead_feed_is_reported_once_per_silence_and_resubscribed() {
    let mut server = Server::start().await;
    let mut cfg = server.config();
    cfg.dead_feed_after = Duration::from_millis(150);
    let mut client = WsClient::connect(cfg).await.expect("connects");
    let mut conn = server.accept().await;
    assert_eq!(next_event(&mut client).await, WsEvent::Connected);
    let smd = Subscription::market_data(265_598, [31]);
    client.subscribe(smd.clone()).expect("subscribe");
    client
        .subscribe(Subscription::Orders { filters: vec![] })
        .expect("subscribe");
    assert_eq!(conn.command().await, smd.command());
    assert_eq!(conn.command().await, "sor+{}");

    let started = tokio::time::Instant::now();
    let WsEvent::DeadFeed { topic, silent_for } = next_data_event(&mut client).await else {
        panic!("expected dead feed");
    };
    assert_eq!(topic, Topic::MarketData(265_598));
    assert!(silent_for >= Duration::from_millis(150), "{silent_for:?}");
    assert!(started.elapsed() >= Duration::from_millis(100));
    // The subscription is re-sent once; orders (event driven) are never reported.
    assert_eq!(conn.command().await, smd.command());

    // Data re-arms the detector; the next silence is reported again.
    conn.send(r#"{"topic":"smd+265598","31":"1.5","conid":265598}"#)
        .await;
    assert!(matches!(
        next_data_event(&mut client).await,
        WsEvent::MarketData(_)
    ));
    let WsEvent::DeadFeed { topic, .. } = next_data_event(&mut client).await else {
        panic!("expected a second dead feed");
    };
    assert_eq!(topic, Topic::MarketData(265_598));
    assert_eq!(conn.command().await, smd.command());
    client.close().await;
}

#[tokio::test]
async fn silent_connection_is_replaced() {
    let mut server = Server::start().await;
    let mut cfg = server.config();
    cfg.idle_timeout = Duration::from_millis(150);
    let mut client = WsClient::connect(cfg).await.expect("connects");
    let _first = server.accept().await;
    assert_eq!(next_event(&mut client).await, WsEvent::Connected);
    let WsEvent::Disconnected { reason } = next_data_event(&mut client).await else {
        panic!("expected disconnect");
    };
    assert!(reason.contains("no frame"), "{reason}");
    let _second = server.accept().await;
    assert!(matches!(
        next_data_event(&mut client).await,
        WsEvent::Reconnected { .. }
    ));
    client.close().await;
}

#[tokio::test]
async fn reconnection_gives_up_after_bounded_attempts() {
    let mut server = Server::start().await;
    let mut cfg = server.config();
    cfg.backoff.max_attempts = 2;
    cfg.oauth_token = Some("0f1e2d3c4b5a69788796".into());
    let mut client = WsClient::connect(cfg).await.expect("connects");
    let conn = server.accept().await;
    assert_eq!(next_event(&mut client).await, WsEvent::Connected);
    client
        .subscribe(Subscription::Pnl)
        .expect("subscribe while connected");
    // Stop accepting and drop the connection: every reconnect is refused.
    server.acceptor.abort();
    let _ = (&mut server.acceptor).await;
    drop(conn);
    assert!(matches!(
        next_data_event(&mut client).await,
        WsEvent::Disconnected { .. }
    ));
    let WsEvent::Disconnected { reason } = next_data_event(&mut client).await else {
        panic!("expected the final disconnect");
    };
    assert!(reason.contains("gave up after 2 attempts"), "{reason}");
    assert!(!reason.contains("0f1e2d3c4b5a69788796"), "{reason}");
    let end = tokio::time::timeout(WAIT, client.next_event())
        .await
        .expect("stream ends");
    assert_eq!(end, None);
    assert_eq!(client.subscribe(Subscription::Pnl), Err(WsError::Closed));
}

#[tokio::test]
async fn first_connection_failure_is_returned_without_the_token() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let mut cfg = WsConfig::new(Url::parse(&format!("ws://{addr}/v1/api/ws")).expect("url"));
    cfg.oauth_token = Some("0f1e2d3c4b5a69788796".into());
    let err = WsClient::connect(cfg).await.expect_err("refused");
    let WsError::Connect { url, .. } = &err else {
        panic!("expected a connect error, got {err:?}");
    };
    assert_eq!(url, &format!("ws://{addr}/v1/api/ws"));
    assert!(!err.to_string().contains("0f1e2d3c4b5a69788796"));
}

#[tokio::test]
async fn close_sends_a_close_frame() {
    let mut server = Server::start().await;
    let mut client = WsClient::connect(server.config()).await.expect("connects");
    let mut conn = server.accept().await;
    assert_eq!(next_event(&mut client).await, WsEvent::Connected);
    client.close().await;
    assert_eq!(conn.next_text().await, None);
}
