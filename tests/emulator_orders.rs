//! Brackets, OCA groups and trailing stops through the live IBKR execution client against
//! the gateway emulator give the same fills as the backtest's simulated broker on the same
//! bars. The client sends each group as one IBKR request (children naming their parent's
//! `cOID`, `isSingleGroup`, `trailingAmt`/`trailingType`); the emulator parses the wire on its
//! own and runs the one matching engine. A misreading on either side changes a fill here.

use std::collections::BTreeMap;
use std::time::Duration;

use rust_decimal::Decimal;
use rust_decimal::dec;
use serde_json::json;
use tickline_backtest::broker::SimBroker;
use tickline_engine::domain::{
    Bar, ClientOrderId, Instrument, InstrumentId, OrderId, OrderRequest, Side, TimeInForce, Trail,
};
use tickline_engine::execution::{ExecCommand, ExecEvent, ExecutionClient};
use tickline_gateway::GatewayConfig;
use tickline_gateway::config::MarketMode;
use tickline_ibkr::execution::{IbkrExecution, IbkrExecutionConfig};
use tickline_ibkr::{Client, ClientConfig};

const AAPL: i64 = 265598;
const I: InstrumentId = InstrumentId(0);

/// What happened to each order: its fills (quantity, price) and how it ended.
#[derive(Debug, Default, PartialEq)]
struct Outcome {
    fills: Vec<(Decimal, Decimal)>,
    cancelled: bool,
    rejected: Option<String>,
}

fn record(book: &mut BTreeMap<u64, Outcome>, e: &ExecEvent) {
    let o = book.entry(e.order_id().0).or_default();
    match e {
        ExecEvent::Filled(f) => o.fills.push((f.quantity.normalize(), f.price.normalize())),
        ExecEvent::Cancelled { .. } | ExecEvent::Expired { .. } => o.cancelled = true,
        ExecEvent::Rejected { reason, .. } => o.rejected = Some(reason.clone()),
        _ => {}
    }
}

/// The orders: a bracket (1 entry, 2 take profit, 3 stop loss), an OCA breakout pair (4 buy
/// stop above, 5 sell stop below) and a percent trailing stop (6), all GTC.
fn orders(last: Decimal) -> Vec<OrderRequest> {
    let gtc = |r: OrderRequest| r.with_tif(TimeInForce::Gtc);
    let exit = |mut r: OrderRequest| {
        r.parent = Some(OrderId(1));
        r.oca_group = Some(OrderId(1));
        gtc(r)
    };
    let oca = |mut r: OrderRequest| {
        r.oca_group = Some(OrderId(4));
        gtc(r)
    };
    vec![
        gtc(OrderRequest::market(I, Side::Buy, dec!(10))),
        exit(OrderRequest::limit(I, Side::Sell, dec!(10), last + dec!(3))),
        exit(OrderRequest::stop(I, Side::Sell, dec!(10), last - dec!(2))),
        oca(OrderRequest::stop(I, Side::Buy, dec!(3), last + dec!(1.5))),
        oca(OrderRequest::stop(I, Side::Sell, dec!(3), last - dec!(1.5))),
        gtc(OrderRequest::trailing_stop(
            I,
            Side::Sell,
            dec!(4),
            Trail::Percent(dec!(1)),
        )),
    ]
}

/// Bars around `p`: up through the buy stop and take profit with a dip on the way, which
/// drags the trailing stop up and then hits it.
fn bars(p: f64) -> Vec<(f64, f64, f64, f64)> {
    vec![
        (p, p + 0.8, p - 0.3, p + 0.5),
        (p + 0.5, p + 1.9, p + 0.2, p + 1.7),
        (p + 1.7, p + 3.4, p + 1.5, p + 3.1),
        (p + 3.1, p + 3.3, p + 0.9, p + 1.2),
        (p + 1.2, p + 1.4, p - 2.5, p - 2.2),
    ]
}

fn submit_all(exec: &mut dyn ExecutionClient, orders: &[OrderRequest], prefix: &str) {
    for (k, r) in orders.iter().enumerate() {
        let id = k as u64 + 1;
        exec.send(ExecCommand::Submit {
            order_id: OrderId(id),
            client_order_id: ClientOrderId::with_number(prefix, id),
            request: *r,
        });
    }
}

/// Collect the live side's events, answering questions (the emulator asks like IBKR) as
/// the engine's prompt policy would; true when there were any.
fn settle(exec: &mut IbkrExecution, live: &mut BTreeMap<u64, Outcome>) -> bool {
    let mut out = Vec::new();
    exec.poll(&mut out);
    for e in &out {
        if let ExecEvent::Prompt {
            order_id, prompt, ..
        } = e
        {
            exec.send(ExecCommand::ReplyPrompt {
                order_id: *order_id,
                reply_id: prompt.reply_id.clone(),
                confirmed: true,
            });
        }
        record(live, e);
    }
    !out.is_empty()
}

/// Wait until the live side has been quiet for a while (bounded).
async fn quiet(exec: &mut IbkrExecution, live: &mut BTreeMap<u64, Outcome>) {
    let mut idle = 0;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(40)).await;
        if settle(exec, live) {
            idle = 0;
        } else {
            idle += 1;
            if idle >= 8 {
                break;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn brackets_oca_and_trailing_stops_fill_as_in_the_backtest() {
    let mut gw_cfg = GatewayConfig {
        seed: 11,
        ..GatewayConfig::default()
    };
    gw_cfg.market.mode = MarketMode::Manual;
    let broker_cfg = gw_cfg.broker.broker_config();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        tickline_gateway::run(listener, gw_cfg, async {
            let _ = stopped.await;
        })
        .await
        .expect("gateway runs");
    });
    tickline_ibkr::install_crypto_provider();
    let base = format!("http://{addr}");
    let cc =
        ClientConfig::gateway(ClientConfig::parse_base_url(&format!("{base}/v1/api")).unwrap());
    let client = Client::builder(cc, tickline_ibkr::transport::Auth::Gateway)
        .build()
        .unwrap();
    let accounts = client.connect().await.expect("connect");
    let account = accounts.accounts[0].clone();
    let http = reqwest::Client::new();
    let inject = |b: (f64, f64, f64, f64)| {
        let http = http.clone();
        let url = format!("{base}/control/market/bar");
        async move {
            let r = http
                .post(url)
                .json(&json!({"conid": AAPL, "open": b.0, "high": b.1, "low": b.2, "close": b.3, "volume": 1_000_000}))
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success(), "{}", r.text().await.unwrap());
        }
    };

    // The same instrument and broker settings on both sides.
    let inst = Instrument::stock("AAPL").with_conid(AAPL);
    let mut sim = SimBroker::new(broker_cfg, std::slice::from_ref(&inst));
    let mut exec = IbkrExecution::new(
        tokio::runtime::Handle::current(),
        client.clone(),
        vec![inst],
        IbkrExecutionConfig {
            poll_interval: Duration::from_millis(50),
            streaming_poll_interval: Duration::from_millis(50),
            ..IbkrExecutionConfig::new(account)
        },
    )
    .unwrap();

    let p = 190.0;
    let mut ts = 1_704_205_800_000_000_000i64;
    let mut sim_bar = |b: (f64, f64, f64, f64)| {
        let bar = Bar {
            instrument: I,
            ts,
            ts_end: ts + 60_000_000_000,
            open: b.0,
            high: b.1,
            low: b.2,
            close: b.3,
            volume: 1_000_000.0,
        };
        ts += 60_000_000_000;
        bar
    };
    // A first bar sets the last price (the entry fills at its close on both sides).
    let first = (p, p + 0.2, p - 0.2, p);
    inject(first).await;
    sim.on_bar(&sim_bar(first));
    let last = Decimal::try_from(p).unwrap();
    submit_all(&mut sim, &orders(last), "BT-");
    submit_all(&mut exec, &orders(last), "LIVE-");

    let (mut backtest, mut live) = (BTreeMap::new(), BTreeMap::new());
    let mut events = Vec::new();
    sim.poll(&mut events);
    for e in events.drain(..) {
        record(&mut backtest, &e);
    }
    // Every order is working at the emulator before the first bar.
    quiet(&mut exec, &mut live).await;
    for b in bars(p) {
        inject(b).await;
        sim.on_bar(&sim_bar(b));
        sim.poll(&mut events);
        for e in events.drain(..) {
            record(&mut backtest, &e);
        }
    }
    // The live side learns of fills and cancels from IBKR's order and trade reports, which
    // the client reads at IBKR's pace (trades once per 5 s): wait for them, bounded.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(40);
    while live != backtest && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        settle(&mut exec, &mut live);
    }
    quiet(&mut exec, &mut live).await;

    if live != backtest {
        let st = http
            .get(format!("{base}/control/state"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        eprintln!("emulator state: {st}");
    }
    // Every order traded somewhere in the scenario, so a silent no-op fails too.
    for id in 1..=6 {
        assert!(
            backtest
                .get(&id)
                .is_some_and(|o| !o.fills.is_empty() || o.cancelled),
            "order {id} did nothing in the backtest: {backtest:?}"
        );
    }
    assert!(
        backtest[&4].fills.len() == 1 && backtest[&5].cancelled,
        "{backtest:?}"
    );
    assert!(
        !backtest[&6].fills.is_empty(),
        "the trailing stop was hit: {backtest:?}"
    );
    assert_eq!(live, backtest, "live (left) vs backtest (right)");

    drop(exec);
    let _ = stop.send(());
    let _ = server.await;
}
