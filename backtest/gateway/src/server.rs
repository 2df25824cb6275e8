//! Serving: build the state, the router (`/v1/api/*`, `/v1/api/ws`, `/control/*`), the
//! market and housekeeping tasks, and run until the shutdown future resolves (then drain:
//! tasks and websockets stop, in-flight requests finish).

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::response::IntoResponse;
use axum::routing::{any, get};
use tokio::net::TcpListener;
use tokio::sync::{broadcast, watch};

use crate::api;
use crate::api::error::ApiError;
use crate::clock::ServiceClock;
use crate::config::{GatewayConfig, MarketMode};
use crate::contract::build_universe;
use crate::control;
use crate::error::GatewayError;
use crate::market::replay::Replay;
use crate::market::{Market, parse_start};
use crate::orders::exchange::Exchange;
use crate::state::{Core, Shared};
use crate::tls::{TlsIdentity, TlsListener};
use crate::ws;

/// Build the shared state from a validated config; `scheme` and `addr` are where it
/// listens (OAuth signs absolute URLs, and the client files name the base URL).
fn build_state(
    mut config: GatewayConfig,
    shutdown: watch::Receiver<bool>,
    scheme: &str,
    addr: std::net::SocketAddr,
) -> Result<Arc<Shared>, GatewayError> {
    config.validate()?;
    let origins = vec![
        format!("{scheme}://{addr}"),
        format!("{scheme}://localhost:{}", addr.port()),
    ];
    let oauth = match &config.oauth {
        Some(dir) => {
            let base = format!("{}/v1/api", origins[0]);
            let material = crate::oauth::load_or_create(dir, &base)?;
            tracing::info!(dir = %dir.display(), consumer = %material.consumer_key, "OAuth 1.0a verification on");
            // No session until a live session token is obtained.
            config.session.initial = crate::config::InitialSession::None;
            Some(Mutex::new(crate::oauth::OAuthState::new(material)))
        }
        None => None,
    };
    let start = parse_start(&config.market)?;
    let contracts = build_universe(&config.instruments, start)?;
    let replay = if config.market.data.is_empty() {
        None
    } else {
        Some(Replay::load(
            &config.market.data,
            &contracts,
            &config.market.replay_timezone,
        )?)
    };
    let exchange = Exchange::new(config.broker.broker_config(), &contracts, config.seed);
    let market = Market::new(&config.market, contracts, config.seed, start, replay);
    let clock = ServiceClock::new();
    let (push, _) = broadcast::channel(config.websocket.push_buffer);
    let core = Core::new(config, market, exchange, push.clone(), clock.now_ms());
    Ok(Arc::new(Shared {
        core: Mutex::new(core),
        clock,
        push,
        shutdown,
        oauth,
        origins,
    }))
}

async fn fallback(uri: axum::http::Uri) -> axum::response::Response {
    ApiError::NotFound(uri.path().to_string()).into_response()
}

async fn method_not_allowed(
    method: axum::http::Method,
    uri: axum::http::Uri,
) -> axum::response::Response {
    ApiError::MethodNotAllowed {
        method: method.to_string(),
        path: uri.path().to_string(),
    }
    .into_response()
}

/// The HTTP router over `shared`.
pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v1/api/ws", get(ws::upgrade))
        .route("/v1/api", any(api::handle))
        .route("/v1/api/", any(api::handle))
        .route("/v1/api/{*rest}", any(api::handle))
        .merge(control::router())
        .fallback(fallback)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(shared)
}

/// Background duties: timed market steps and housekeeping, until shutdown.
fn spawn_tasks(shared: &Arc<Shared>) -> Vec<tokio::task::JoinHandle<()>> {
    let mut tasks = Vec::new();
    let (mode, step_ms, speed) = {
        let core = shared.lock();
        (
            core.cfg.market.mode,
            core.market.step_interval_ms(),
            core.cfg.market.speed,
        )
    };
    if mode == MarketMode::Timed {
        let s = shared.clone();
        let mut stop = shared.shutdown.clone();
        tasks.push(tokio::spawn(async move {
            let period = Market::wall_interval(step_ms, speed);
            let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = tick.tick() => {
                        let now = s.clock.now_ms();
                        let mut core = s.lock();
                        if core.step_market(1, None, now) == 0 && core.market.is_replay() {
                            tracing::info!("replay finished: the market stops");
                            return;
                        }
                    }
                    _ = stop.changed() => return,
                }
            }
        }));
    }
    let s = shared.clone();
    let mut stop = shared.shutdown.clone();
    tasks.push(tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    let now = s.clock.now_ms();
                    s.lock().housekeeping(now);
                }
                _ = stop.changed() => return,
            }
        }
    }));
    tasks
}

async fn finish(tasks: Vec<tokio::task::JoinHandle<()>>) {
    for t in tasks {
        let _ = t.await;
    }
}

/// Serve plain HTTP (or HTTPS when `config.tls` is set, with a fresh self-signed
/// certificate) on `listener` until `shutdown` resolves.
pub async fn run(
    listener: TcpListener,
    config: GatewayConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), GatewayError> {
    if config.tls {
        let identity = TlsIdentity::self_signed()?;
        return run_tls(listener, config, identity, shutdown).await;
    }
    let (stop_tx, stop_rx) = watch::channel(false);
    let addr = listener
        .local_addr()
        .map_err(|e| GatewayError::io("local address", e))?;
    let shared = build_state(config, stop_rx, "http", addr)?;
    let tasks = spawn_tasks(&shared);
    let app = router(shared);
    let result = axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            let _ = stop_tx.send(true);
        })
        .await
        .map_err(|e| GatewayError::io("serve", e));
    finish(tasks).await;
    result
}

/// Serve HTTPS/WSS with `identity` until `shutdown` resolves.
pub async fn run_tls(
    listener: TcpListener,
    config: GatewayConfig,
    identity: TlsIdentity,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), GatewayError> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let addr = listener
        .local_addr()
        .map_err(|e| GatewayError::io("local address", e))?;
    let shared = build_state(config, stop_rx.clone(), "https", addr)?;
    let tasks = spawn_tasks(&shared);
    let tls = TlsListener::new(listener, &identity, stop_rx)?;
    let app = router(shared);
    let result = axum::serve(tls, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            let _ = stop_tx.send(true);
        })
        .await
        .map_err(|e| GatewayError::io("serve", e));
    finish(tasks).await;
    result
}
