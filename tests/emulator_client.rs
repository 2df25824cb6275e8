//! The Tickline IBKR client against the Tickline gateway emulator, in-process on
//! 127.0.0.1:0 with a manually stepped (deterministic) market: session and accounts,
//! contract search, the snapshot pre-flight, history, the prompt flow (question → reply →
//! order), suppression, cancel, a market fill and the resulting position. The two sides share
//! no wire types, so a misreading on either side fails here.

use std::time::Duration;

use rust_decimal::Decimal;
use tickline_gateway::GatewayConfig;
use tickline_gateway::config::MarketMode;
use tickline_ibkr::models::{
    HistoryRequest, LiveOrdersQuery, OrderTicket, SecdefSearchRequest, Side,
};
use tickline_ibkr::{Client, ClientConfig, PlaceOutcome};

const AAPL: i64 = 265598;

type Running = (
    Client,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
);

async fn start() -> Running {
    start_with(|_, _| {}).await
}

/// The emulator (seed 5, manual market) and a client, with `adjust` applied to their
/// configurations.
async fn start_with(adjust: impl FnOnce(&mut GatewayConfig, &mut ClientConfig)) -> Running {
    let mut cfg = GatewayConfig {
        seed: 5,
        ..GatewayConfig::default()
    };
    cfg.market.mode = MarketMode::Manual;
    let mut cc =
        ClientConfig::gateway(ClientConfig::parse_base_url("http://127.0.0.1:1/v1/api").unwrap());
    adjust(&mut cfg, &mut cc);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        tickline_gateway::run(listener, cfg, async {
            let _ = rx.await;
        })
        .await
        .expect("gateway runs");
    });
    tickline_ibkr::install_crypto_provider();
    cc.base_url = ClientConfig::parse_base_url(&format!("http://{addr}/v1/api")).unwrap();
    // Start-up retries and session polls at test speed (the same counts as in production).
    let session = tickline_ibkr::SessionConfig {
        reauth_poll_interval: Duration::from_millis(50),
        startup_backoff: Duration::from_millis(50),
        startup_max_backoff: Duration::from_millis(200),
        ..tickline_ibkr::SessionConfig::default()
    };
    let client = Client::builder(cc, tickline_ibkr::transport::Auth::Gateway)
        .session_config(session)
        .build()
        .unwrap();
    (client, tx, server)
}

fn placed(outcome: &PlaceOutcome) -> i64 {
    match outcome {
        PlaceOutcome::Placed(acks) => acks[0].order_id,
        other => panic!("expected an ack, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_and_emulator_agree_on_every_step() {
    let (client, stop, server) = start().await;

    // Session, accounts (the priming call).
    let accounts = client.connect().await.expect("connect");
    let acct = accounts.accounts.first().expect("a paper account").clone();
    assert!(acct.starts_with("DU"), "{acct}");
    assert!(client.auth_status().await.unwrap().authenticated);

    // Contract search.
    let found = client
        .search_contracts(&SecdefSearchRequest::symbol("AAPL"))
        .await
        .unwrap();
    assert!(found.iter().any(|c| c.conid == Some(AAPL)), "{found:?}");

    // Snapshot: the first answer only opens the stream; the helper waits it out.
    let first = client.snapshot(&[AAPL], &[]).await.unwrap();
    assert!(
        first.iter().all(|s| s.is_preflight()),
        "first snapshot carries no prices"
    );
    let snap = client
        .snapshot_ready(&[AAPL], &[], 20, Duration::from_millis(50))
        .await
        .unwrap();
    let last = snap[0].last().expect("a last price").price;
    assert!(last > Decimal::ZERO);

    // History converts to engine bars.
    let bars = client
        .history_series(
            &HistoryRequest::new(AAPL, "1d", "5min"),
            tickline_ibkr::HistoryPaging::default(),
            "AAPL",
        )
        .await
        .unwrap();
    assert!(bars.len() > 10, "{} bars", bars.len());

    // A limit far from the market asks o163; confirming places the order.
    let far = (last / Decimal::from(2)).round_dp(2);
    let q = client
        .place_order(
            &acct,
            &OrderTicket::limit(AAPL, Side::Buy, Decimal::from(5), far),
        )
        .await
        .unwrap();
    let PlaceOutcome::Question(prompt) = q else {
        panic!("expected a question, got {q:?}")
    };
    assert!(prompt.message_ids.iter().any(|m| m == "o163"), "{prompt:?}");
    let resting = placed(&client.reply(&prompt.reply_id, true).await.unwrap());
    // The reply id is spent.
    let again = client.reply(&prompt.reply_id, true).await;
    assert!(format!("{again:?}").contains("reply id"), "{again:?}");
    let live = client
        .live_orders(&LiveOrdersQuery::default())
        .await
        .unwrap();
    assert!(live.orders.iter().any(|o| o.order_id == Some(resting)));

    // Suppressing o163 removes the question.
    client.suppress(&["o163".to_string()]).await.unwrap();
    let second = placed(
        &client
            .place_order(
                &acct,
                &OrderTicket::limit(AAPL, Side::Buy, Decimal::from(5), far),
            )
            .await
            .unwrap(),
    );

    // Cancel both.
    for id in [resting, second] {
        client.cancel_order(&acct, id).await.unwrap();
    }
    let mut cancelled = false;
    for _ in 0..40 {
        let s = client.order_status(resting).await.unwrap();
        if s.order_status.as_deref() == Some("Cancelled") {
            cancelled = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(cancelled, "the order reached Cancelled");

    // A market buy fills and becomes a position.
    let mut outcome = client
        .place_order(
            &acct,
            &OrderTicket::market(AAPL, Side::Buy, Decimal::from(10)),
        )
        .await
        .unwrap();
    for _ in 0..5 {
        match outcome {
            PlaceOutcome::Question(p) => outcome = client.reply(&p.reply_id, true).await.unwrap(),
            _ => break,
        }
    }
    placed(&outcome);
    let mut qty = None;
    for _ in 0..40 {
        let positions = client.all_positions(&acct).await.unwrap();
        qty = positions
            .iter()
            .find(|p| p.conid == Some(AAPL))
            .and_then(|p| p.position);
        if qty.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(qty, Some(Decimal::from(10)));

    let _ = stop.send(());
    server.await.unwrap();
}

/// A history longer than IBKR's 1,000 bars per answer is read page by page from the
/// emulator (which keeps to that limit): the whole window, oldest first, no bar twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_history_is_read_in_pages() {
    let (client, stop, server) = start().await;
    client.connect().await.expect("connect");
    let mut req = HistoryRequest::new(AAPL, "3d", "1min");
    req.outside_rth = Some(true);
    let one = client.history(&req).await.expect("one answer");
    assert_eq!(
        one.data.len(),
        tickline_ibkr::HISTORY_PAGE_BARS,
        "the emulator caps an answer"
    );
    let since = "3d"
        .parse::<tickline_ibkr::marketdata::Period>()
        .unwrap()
        .start_before(client.venue_now())
        .timestamp_millis();
    let paging = tickline_ibkr::HistoryPaging {
        since_ms: Some(since),
        ..tickline_ibkr::HistoryPaging::default()
    };
    let all = client.history_paged(&req, paging).await.expect("paged");
    assert!(
        all.data.len() > 3 * tickline_ibkr::HISTORY_PAGE_BARS,
        "{}",
        all.data.len()
    );
    assert!(
        all.data.windows(2).all(|w| w[0].t < w[1].t),
        "ascending, no bar twice"
    );
    assert!(all.data[0].t >= since);
    assert!(
        all.data[0].t < since + 10 * 60_000,
        "the window's start is reached"
    );
    assert_eq!(
        all.data.last().map(|b| b.t),
        one.data.last().map(|b| b.t),
        "the newest bar is the single answer's"
    );
    // Every one-minute step of the window is there (the emulator's market never closes
    // outside regular hours).
    let minutes = (all.data.last().unwrap().t - all.data[0].t) / 60_000 + 1;
    assert_eq!(all.data.len() as i64, minutes);
    let _ = stop.send(());
    let _ = server.await;
}

/// IBKR's brokerage session that stays "connected but not authenticated" whatever the client
/// does: connecting fails after its bounded retries with what IBKR said and what to do,
/// not a hang. An `ssodh/init` that needs a few tries is retried until the session is up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stuck_and_slow_brokerage_sessions() {
    let (client, stop, server) = start_with(|c, _| c.faults.stuck_brokerage = true).await;
    match client.connect().await {
        Err(e @ tickline_ibkr::IbkrError::SessionNotReady(_)) => {
            let msg = e.to_string();
            assert!(
                msg.contains("authenticated=false connected=true")
                    && msg.contains("connected but not authenticated")
                    && !msg.contains("fail=\"\""),
                "{msg}"
            );
        }
        other => panic!("expected a session that never became ready, got {other:?}"),
    }
    let _ = stop.send(());
    let _ = server.await;

    let (client, stop, server) = start_with(|c, _| {
        c.session.initial = tickline_gateway::config::InitialSession::Readonly;
        c.faults.ssodh_init_failures = 2;
    })
    .await;
    let accounts = client
        .connect()
        .await
        .expect("connected after ssodh/init retries");
    assert!(!accounts.accounts.is_empty());
    assert!(client.auth_status().await.unwrap().authenticated);
    let _ = stop.send(());
    let _ = server.await;
}

/// IBKR's `/iserver/account/orders` outside regular hours keeps serving a stale list until a
/// `force=true` call (which itself answers nothing), and its first call of a session answers
/// nothing: an order placed into that, its creation answered 503 after the backend timeout
/// but made anyway, is found by the client's cOID lookup, not placed twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coid_lookup_sees_through_the_stale_after_hours_orders_list() {
    let (client, stop, server) = start_with(|c, cc| {
        // IBKR paces the orders endpoint at 1 per 5 s; the emulator does not need it here.
        cc.limits.per_endpoint = false;
        c.market.start = Some("2024-01-02T23:00:00Z".into()); // 18:00 New York
        c.faults.orders_stale_after_hours = true;
        c.faults.order_503_rate = 1.0;
        c.faults.order_503_outcome = tickline_gateway::faults::Order503::Created;
    })
    .await;
    let acct = client.connect().await.expect("connect").accounts[0].clone();
    // The first call answers nothing; the second is cached while the market is closed.
    for _ in 0..2 {
        let live = client
            .live_orders(&LiveOrdersQuery::default())
            .await
            .unwrap();
        assert!(live.orders.is_empty());
    }
    client.suppress(&["o163".to_string()]).await.unwrap();
    let mut ticket = OrderTicket::limit(AAPL, Side::Buy, Decimal::from(3), Decimal::from(150));
    ticket.outside_rth = Some(true);
    ticket.c_oid = Some("stale-1".into());
    let outcome = client
        .place_order(&acct, &ticket)
        .await
        .expect("resolved by the lookup");
    let id = placed(&outcome);
    // Refresh, then read: exactly one order carries the cOID.
    let force = LiveOrdersQuery {
        force: true,
        ..LiveOrdersQuery::default()
    };
    client.live_orders(&force).await.unwrap();
    let live = client
        .live_orders(&LiveOrdersQuery::default())
        .await
        .unwrap();
    let mine: Vec<_> = live
        .orders
        .iter()
        .filter(|o| o.order_ref.as_deref() == Some("stale-1"))
        .collect();
    assert_eq!(mine.len(), 1, "{:?}", live.orders);
    assert_eq!(mine[0].order_id, Some(id));
    let _ = stop.send(());
    let _ = server.await;
}
