//! Test harness: the emulator in-process on 127.0.0.1:0, raw HTTP through reqwest and
//! websockets through tokio-tungstenite.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

use tickline_gateway::config::{InitialSession, MarketMode};
use tickline_gateway::{GatewayConfig, GatewayError, run};

pub const AAPL: i64 = 265598;
pub const MSFT: i64 = 272093;
pub const SPY: i64 = 756733;
pub const ES: i64 = 495512563;
pub const EURUSD: i64 = 12087792;
pub const ACCT: &str = "DU1234567";

/// A manual-market config (deterministic), starting at 2024-01-02 09:30 New York.
pub fn manual() -> GatewayConfig {
    let mut cfg = GatewayConfig::default();
    cfg.market.mode = MarketMode::Manual;
    cfg.market.history_days = 2;
    cfg
}

/// `manual()` with a primed session, no prompt rules.
pub fn ready() -> GatewayConfig {
    let mut cfg = manual();
    cfg.session.initial = InitialSession::Ready;
    cfg.prompts.clear();
    cfg
}

pub struct Gw {
    pub addr: SocketAddr,
    pub base: String,
    pub http: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<Result<(), GatewayError>>>,
}

pub fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

impl Gw {
    pub async fn start(cfg: GatewayConfig) -> Gw {
        install_crypto();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let handle = tokio::spawn(run(listener, cfg, async {
            let _ = rx.await;
        }));
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        Gw {
            addr,
            base: format!("http://{addr}"),
            http,
            stop: Some(tx),
            handle: Some(handle),
        }
    }

    /// Start and prime (`/iserver/accounts`, `/portfolio/accounts`).
    pub async fn ready(cfg: GatewayConfig) -> Gw {
        let gw = Gw::start(cfg).await;
        gw.prime().await;
        gw
    }

    pub async fn prime(&self) {
        assert_eq!(self.get("/v1/api/iserver/accounts").await.0, 200);
        assert_eq!(self.get("/v1/api/portfolio/accounts").await.0, 200);
    }

    async fn finish(resp: reqwest::Response) -> (u16, Value) {
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        let v = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, v)
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        Self::finish(
            self.http
                .get(format!("{}{path}", self.base))
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        Self::finish(
            self.http
                .post(format!("{}{path}", self.base))
                .json(&body)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// A POST whose raw response (headers, content type) the test inspects.
    pub async fn post_raw(&self, path: &str, body: Value) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.base))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// Advance the service clock.
    pub async fn advance_secs(&self, secs: u64) {
        let (s, v) = self
            .post("/control/clock/advance", json!({"secs": secs}))
            .await;
        assert_eq!(s, 200, "{v}");
    }

    /// The live orders of ACCT (`GET /iserver/account/orders` with `query`).
    pub async fn live_orders(&self, query: &str) -> Vec<Value> {
        let (s, v) = self
            .get(&format!("/v1/api/iserver/account/orders{query}"))
            .await;
        assert_eq!(s, 200, "{v}");
        v["orders"].as_array().cloned().unwrap_or_default()
    }

    pub async fn delete(&self, path: &str) -> (u16, Value) {
        Self::finish(
            self.http
                .delete(format!("{}{path}", self.base))
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    pub async fn step(&self, n: u64) -> Value {
        let (s, v) = self.post("/control/market/step", json!({"steps": n})).await;
        assert_eq!(s, 200, "{v}");
        v
    }

    /// Force the next bar of `conid`.
    pub async fn bar(&self, conid: i64, o: f64, h: f64, l: f64, c: f64) {
        let (s, v) = self
            .post("/control/market/bar", json!({"conid": conid, "open": o, "high": h, "low": l, "close": c, "volume": 1_000_000}))
            .await;
        assert_eq!(s, 200, "{v}");
    }

    pub async fn faults(&self, patch: Value) {
        let (s, v) = self.post("/control/faults", patch).await;
        assert_eq!(s, 200, "{v}");
    }

    pub async fn state(&self) -> Value {
        self.get("/control/state").await.1
    }

    /// The last price the control endpoint reports for `conid`.
    pub async fn last(&self, conid: i64) -> f64 {
        let s = self.state().await;
        s["market"]["quotes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|q| q["conid"] == conid)
            .unwrap()["last"]
            .as_f64()
            .unwrap()
    }

    /// Place one order for ACCT; returns the response.
    pub async fn place(&self, ticket: Value) -> (u16, Value) {
        self.post(
            &format!("/v1/api/iserver/account/{ACCT}/orders"),
            json!({"orders": [ticket]}),
        )
        .await
    }

    pub async fn order_status(&self, id: &str) -> Value {
        let (s, v) = self
            .get(&format!("/v1/api/iserver/account/order/status/{id}"))
            .await;
        assert_eq!(s, 200, "{v}");
        v
    }

    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            let r = tokio::time::timeout(Duration::from_secs(10), h).await;
            assert!(matches!(r, Ok(Ok(Ok(())))), "graceful shutdown: {r:?}");
        }
    }

    /// Session id from `/tickle`.
    pub async fn session_id(&self) -> String {
        self.post("/v1/api/tickle", json!({})).await.1["session"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// A websocket with the session cookie.
    pub async fn ws(&self) -> Ws {
        let id = self.session_id().await;
        let mut req =
            tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
                format!("ws://{}/v1/api/ws", self.addr),
            )
            .unwrap();
        req.headers_mut().insert(
            "cookie",
            format!("api={{\"session\":\"{id}\"}}").parse().unwrap(),
        );
        let (s, _) = tokio_tungstenite::connect_async(req).await.unwrap();
        Ws { s }
    }
}

impl Drop for Gw {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

pub struct Ws {
    pub s: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
}

impl Ws {
    pub async fn send(&mut self, text: &str) {
        self.s
            .send(Message::Text(text.to_string().into()))
            .await
            .unwrap();
    }

    /// Next JSON frame (skips heartbeats), or `None` on close / 5 s timeout.
    pub async fn next(&mut self) -> Option<Value> {
        loop {
            let m = tokio::time::timeout(Duration::from_secs(5), self.s.next())
                .await
                .ok()??;
            match m {
                Ok(Message::Text(t)) => {
                    let v: Value =
                        serde_json::from_str(t.as_str()).unwrap_or(Value::String(t.to_string()));
                    if v["topic"] == "system" && v.get("hb").is_some() {
                        continue;
                    }
                    return Some(v);
                }
                Ok(Message::Close(_)) | Err(_) => return None,
                Ok(_) => continue,
            }
        }
    }

    /// Next frame whose topic is `topic` (others are skipped).
    pub async fn next_topic(&mut self, topic: &str) -> Option<Value> {
        loop {
            let v = self.next().await?;
            if v["topic"] == topic {
                return Some(v);
            }
        }
    }

    /// Read the hello frames: `system`, `act` and the two `sts` frames (IBKR sends
    /// `authenticated` and `competing` separately). Returns the two `sts` frames.
    pub async fn hello(&mut self) -> (Value, Value) {
        assert_eq!(self.next().await.expect("system")["topic"], "system");
        assert_eq!(self.next().await.expect("act")["topic"], "act");
        let auth = self.next().await.expect("sts authenticated");
        let competing = self.next().await.expect("sts competing");
        assert_eq!(
            (&auth["topic"], &competing["topic"]),
            (&json!("sts"), &json!("sts"))
        );
        (auth, competing)
    }

    /// Round-trip a `tic`: every command sent before has been handled.
    pub async fn sync(&mut self) {
        self.send("tic").await;
        self.next_topic("tic").await.expect("tic answered");
    }

    /// Is anything (other than heartbeats) received within `ms`?
    /// Next frame if one comes within `ms`.
    pub async fn next_within(&mut self, ms: u64) -> Option<Value> {
        tokio::time::timeout(Duration::from_millis(ms), self.next())
            .await
            .ok()
            .flatten()
    }

    pub async fn silent_for(&mut self, ms: u64) -> bool {
        tokio::time::timeout(Duration::from_millis(ms), self.next())
            .await
            .is_err()
    }
}
