//! Load test of the gateway emulator on loopback (bounded in count and time):
//!
//! * REST: `--clients` concurrent keep-alive clients issue `--requests` operations in total,
//!   rate limits off: 40 % snapshots of two conids, 20 % auth status, 10 % working orders
//!   (`/iserver/account/orders?filters=submitted,pre_submitted`), 10 % positions, 20 % a
//!   limit order placed and then cancelled (two requests); reports requests/s and latency
//!   percentiles per operation. `--only snapshot|status|orders|positions|place` runs one kind.
//! * Websocket: `--subscribers` sockets each subscribe to `smd` for three instruments plus
//!   `sor`, while the market steps every 50 ms for `--ws-secs` seconds; reports frames
//!   received, delivery latency (step time → receipt) and whether any subscriber fell behind.
//!
//! `cargo run --release -p tickline-gateway --example loadtest`

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

use tickline_gateway::config::{InitialSession, MarketMode};
use tickline_gateway::{GatewayConfig, run};

#[derive(Parser)]
struct Args {
    /// Concurrent REST clients.
    #[arg(long, default_value_t = 32)]
    clients: usize,
    /// REST requests in total.
    #[arg(long, default_value_t = 40_000)]
    requests: usize,
    /// Websocket subscribers.
    #[arg(long, default_value_t = 100)]
    subscribers: usize,
    /// Only this kind of request (snapshot, status, orders, positions, place) instead of the mix.
    #[arg(long)]
    only: Option<String>,
    /// Seconds of websocket streaming.
    #[arg(long, default_value_t = 10)]
    ws_secs: u64,
}

const CONIDS: [i64; 3] = [265598, 272093, 756733];

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let k = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[k.min(sorted.len() - 1)]
}

async fn start(
    cfg: GatewayConfig,
) -> (
    String,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let h = tokio::spawn(async move {
        if let Err(e) = run(listener, cfg, async {
            let _ = rx.await;
        })
        .await
        {
            eprintln!("gateway: {e}");
        }
    });
    (addr.to_string(), tx, h)
}

async fn rest(args: &Args) -> anyhow::Result<()> {
    let mut cfg = GatewayConfig::default();
    cfg.market.mode = MarketMode::Manual;
    cfg.session.initial = InitialSession::Ready;
    cfg.prompts.clear();
    cfg.faults.rate_limits = false;
    let (addr, stop, handle) = start(cfg).await;
    let base = format!("http://{addr}/v1/api");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.clients)
        .build()?;
    client
        .get(format!("{base}/portfolio/accounts"))
        .send()
        .await?;
    client
        .get(format!(
            "{base}/iserver/marketdata/snapshot?conids=265598,272093"
        ))
        .send()
        .await?;

    let next = Arc::new(AtomicUsize::new(0));
    let errors = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..args.clients {
        let (client, base, next, errors) =
            (client.clone(), base.clone(), next.clone(), errors.clone());
        let total = args.requests;
        let only = args.only.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat: Vec<(usize, f64)> = Vec::with_capacity(total / 8);
            loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                if k >= total {
                    break;
                }
                let t = Instant::now();
                let kind = match only.as_deref() {
                    Some("snapshot") => 0,
                    Some("status") => 4,
                    Some("orders") => 6,
                    Some("positions") => 7,
                    Some("place") => 8,
                    _ => k % 10,
                };
                let ok = match kind {
                    0..=3 => client.get(format!("{base}/iserver/marketdata/snapshot?conids=265598,272093&fields=31,84,86")).send().await,
                    4 | 5 => client.post(format!("{base}/iserver/auth/status")).json(&json!({})).send().await,
                    6 => client.get(format!("{base}/iserver/account/orders?filters=submitted,pre_submitted")).send().await,
                    7 => client.get(format!("{base}/portfolio/DU1234567/positions/0")).send().await,
                    _ => {
                        let r = client
                            .post(format!("{base}/iserver/account/DU1234567/orders"))
                            .json(&json!({"orders": [{"conid": 265598, "orderType": "LMT", "price": 100.0, "side": "BUY", "tif": "GTC", "quantity": 1}]}))
                            .send()
                            .await;
                        match r {
                            Ok(r) => {
                                let v: Value = r.json().await.unwrap_or(Value::Null);
                                match v[0]["order_id"].as_str() {
                                    Some(id) => client.delete(format!("{base}/iserver/account/DU1234567/order/{id}")).send().await,
                                    None => {
                                        errors.fetch_add(1, Ordering::Relaxed);
                                        continue;
                                    }
                                }
                            }
                            Err(e) => Err(e),
                        }
                    }
                };
                match ok {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                    }
                    _ => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
                lat.push((kind.min(8), t.elapsed().as_secs_f64() * 1_000.0));
            }
            lat
        }));
    }
    let mut by_kind: Vec<(usize, f64)> = Vec::with_capacity(args.requests);
    for t in tasks {
        by_kind.extend(t.await?);
    }
    let mut lat: Vec<f64> = by_kind.iter().map(|(_, l)| *l).collect();
    let secs = started.elapsed().as_secs_f64();
    lat.sort_by(f64::total_cmp);
    // Place + cancel counts two HTTP requests.
    let http_requests = match args.only.as_deref() {
        Some("place") => args.requests * 2,
        Some(_) => args.requests,
        None => args.requests + args.requests / 5,
    };
    println!(
        "REST: {} operations ({} HTTP requests) by {} clients in {:.2} s → {:.0} req/s; latency ms p50 {:.3} p90 {:.3} p99 {:.3} max {:.3}; errors {}",
        args.requests,
        http_requests,
        args.clients,
        secs,
        http_requests as f64 / secs,
        pct(&lat, 0.5),
        pct(&lat, 0.9),
        pct(&lat, 0.99),
        lat.last().copied().unwrap_or(f64::NAN),
        errors.load(Ordering::Relaxed)
    );
    for (name, kinds) in [
        ("snapshot", [0usize, 1, 2, 3].as_slice()),
        ("auth status", &[4, 5]),
        ("working orders", &[6]),
        ("positions", &[7]),
        ("place+cancel", &[8]),
    ] {
        let mut l: Vec<f64> = by_kind
            .iter()
            .filter(|(k, _)| kinds.contains(k))
            .map(|(_, l)| *l)
            .collect();
        if l.is_empty() {
            continue;
        }
        l.sort_by(f64::total_cmp);
        println!(
            "  {name:>14}: {:>6} ops, ms p50 {:.3} p99 {:.3}",
            l.len(),
            pct(&l, 0.5),
            pct(&l, 0.99)
        );
    }
    let _ = stop.send(());
    let _ = handle.await;
    Ok(())
}

async fn websockets(args: &Args) -> anyhow::Result<()> {
    let mut cfg = GatewayConfig::default();
    cfg.market.mode = MarketMode::Timed;
    cfg.market.step_ms = 50;
    cfg.market.speed = 1.0;
    cfg.market.history_days = 0;
    cfg.session.initial = InitialSession::Ready;
    cfg.faults.session_timeout_secs = 0;
    let (addr, stop, handle) = start(cfg).await;
    let http = reqwest::Client::new();
    let tickle: Value = http
        .post(format!("http://{addr}/v1/api/tickle"))
        .json(&json!({}))
        .send()
        .await?
        .json()
        .await?;
    let session = tickle["session"].as_str().unwrap_or_default().to_string();
    let deadline = Duration::from_secs(args.ws_secs);
    let mut tasks = Vec::new();
    for _ in 0..args.subscribers {
        let url = format!("ws://{addr}/v1/api/ws");
        let cookie = format!("api={session}");
        tasks.push(tokio::spawn(async move {
            let mut req =
                tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
                    url,
                )?;
            req.headers_mut().insert("cookie", cookie.parse()?);
            let (mut ws, _) = tokio_tungstenite::connect_async(req).await?;
            for c in CONIDS {
                ws.send(Message::Text(
                    format!(r#"smd+{c}+{{"fields":["31","84","86","85","88","7059"]}}"#).into(),
                ))
                .await?;
            }
            ws.send(Message::Text("sor+{}".to_string().into())).await?;
            let started = Instant::now();
            let mut frames = 0usize;
            let mut lat = Vec::new();
            let mut last_updated = [0i64; 3];
            let mut gaps = 0usize;
            while started.elapsed() < deadline {
                let Ok(Some(Ok(m))) = tokio::time::timeout(Duration::from_secs(2), ws.next()).await
                else {
                    break;
                };
                let Message::Text(t) = m else { continue };
                let v: Value = serde_json::from_str(t.as_str()).unwrap_or(Value::Null);
                let Some(k) = CONIDS.iter().position(|c| v["conid"] == *c) else {
                    continue;
                };
                frames += 1;
                let upd = v["_updated"].as_i64().unwrap_or(0);
                let now = chrono::Utc::now().timestamp_millis();
                lat.push((now - upd) as f64);
                if last_updated[k] != 0 && upd - last_updated[k] > 50 * 4 {
                    gaps += 1;
                }
                last_updated[k] = upd;
            }
            Ok::<_, anyhow::Error>((frames, lat, gaps))
        }));
    }
    let mut frames = Vec::new();
    let mut lat = Vec::new();
    let mut gaps = 0;
    for t in tasks {
        let (f, l, g) = t.await??;
        frames.push(f);
        lat.extend(l);
        gaps += g;
    }
    lat.sort_by(f64::total_cmp);
    let total: usize = frames.iter().sum();
    let min = frames.iter().min().copied().unwrap_or(0);
    let max = frames.iter().max().copied().unwrap_or(0);
    println!(
        "WS: {} subscribers × {} instruments, a market step every 50 ms for {} s: {} smd frames ({:.0}/s), per subscriber min {} max {}; delivery latency ms p50 {:.1} p99 {:.1} max {:.1}; gaps > 4 steps: {}",
        args.subscribers,
        CONIDS.len(),
        args.ws_secs,
        total,
        total as f64 / args.ws_secs as f64,
        min,
        max,
        pct(&lat, 0.5),
        pct(&lat, 0.99),
        lat.last().copied().unwrap_or(f64::NAN),
        gaps
    );
    let _ = stop.send(());
    let _ = handle.await;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let _ = rustls::crypto::ring::default_provider().install_default();
    rest(&args).await?;
    websockets(&args).await?;
    Ok(())
}
