//! The live loop against an in-memory venue and journal: start-up reconciliation, warm-up,
//! bars from ticks, fills, paused entries, the stop with cancels, the final position check.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rust_decimal::{Decimal, dec};
use tickline_backtest::config::ForeignPolicy;
use tickline_backtest::output::Written;
use tickline_engine::connectivity::Connectivity;
use tickline_engine::domain::{
    Bar, ExecId, Fill, Instrument, InstrumentId, OrderId, OrderRequest, Side, Tick,
};
use tickline_engine::execution::{ExecCommand, ExecEvent, ExecutionClient};
use tickline_engine::kernel::KernelConfig;
use tickline_engine::record::{Record, RecordError, Recorder};
use tickline_engine::strategy::{Ctx, Strategy};
use tickline_live::runner::{
    ControlCommand, LiveError, LiveRun, LiveSettings, Resume, RunJournal, StopReason, run,
};
use tickline_live::venue::{
    AccountInfo, BoxFuture, BrokerExecution, BrokerOrder, BrokerOrderStatus, BrokerPosition,
    BrokerReports, BrokerSnapshot, FeedEvent, LiveExecution, MarketFeed, SessionNotice,
    TrackedOrder, Venue, VenueError,
};
use tokio::sync::{Notify, mpsc};

const SPY: InstrumentId = InstrumentId(0);

/// The broker: fills market orders at 100 at once, keeps limit orders working.
#[derive(Default)]
struct Broker {
    positions: Decimal,
    executions: Vec<BrokerExecution>,
    orders: Vec<BrokerOrder>,
    next: u64,
    /// A cancel arrives too late: the broker fills the order instead, and the report of
    /// that fill is lost on its way (only the broker's executions list knows it).
    fill_on_cancel: bool,
    /// Refuse this many cancels (as a 500 would) before accepting them.
    refuse_cancels: u32,
    /// Cancels received.
    cancels: u32,
    /// Fail this many snapshots (the reports cannot be read) before answering again.
    fail_snapshots: u32,
    /// Snapshots asked for.
    snapshots: u32,
}

struct Exec {
    broker: Arc<Mutex<Broker>>,
    out: Vec<ExecEvent>,
    ready: Arc<Notify>,
    tracked: Arc<Mutex<Vec<TrackedOrder>>>,
}

impl ExecutionClient for Exec {
    fn send(&mut self, cmd: ExecCommand) {
        let mut b = self.broker.lock().unwrap();
        match cmd {
            ExecCommand::Submit {
                order_id,
                client_order_id,
                request,
            } => {
                b.next += 1;
                let id = 500 + b.next;
                self.out.push(ExecEvent::Accepted {
                    order_id,
                    broker_order_id: Some(id),
                    ts: 1,
                });
                let market = request.limit_price.is_none();
                b.orders.push(BrokerOrder {
                    broker_order_id: id,
                    client_order_id: Some(client_order_id.to_string()),
                    instrument: Some(SPY),
                    name: "SPY".into(),
                    side: request.side,
                    quantity: request.quantity,
                    filled: if market { request.quantity } else { dec!(0) },
                    order_type: Some(request.order_type),
                    limit_price: request.limit_price,
                    stop_price: None,
                    tif: Some(request.tif),
                    status: if market {
                        BrokerOrderStatus::Filled
                    } else {
                        BrokerOrderStatus::Working
                    },
                });
                if market {
                    let exec_id = ExecId::new(&format!("X{id}")).unwrap();
                    b.positions += request.signed_quantity();
                    b.executions.push(BrokerExecution {
                        exec_id,
                        broker_order_id: Some(id),
                        client_order_id: Some(client_order_id.to_string()),
                        instrument: Some(SPY),
                        name: "SPY".into(),
                        side: request.side,
                        quantity: request.quantity,
                        price: dec!(100),
                        commission: Some(dec!(1)),
                        ts: 2,
                    });
                    self.out.push(ExecEvent::Filled(Fill {
                        order_id,
                        instrument: SPY,
                        side: request.side,
                        quantity: request.quantity,
                        price: dec!(100),
                        commission: dec!(1),
                        ts: 2,
                        exec_id,
                    }));
                }
            }
            ExecCommand::Cancel { order_id } if b.refuse_cancels > 0 => {
                b.refuse_cancels -= 1;
                b.cancels += 1;
                self.out.push(ExecEvent::CancelRejected {
                    order_id,
                    reason: "500 Internal Server Error".into(),
                    ts: 3,
                });
            }
            ExecCommand::Cancel { order_id } if b.fill_on_cancel => {
                let coid = format!("TL-test0001-{}", order_id.0);
                let b = &mut *b;
                if let Some(o) = b.orders.iter_mut().find(|o| {
                    o.client_order_id.as_deref() == Some(coid.as_str())
                        && o.status != BrokerOrderStatus::Filled
                }) {
                    o.status = BrokerOrderStatus::Filled;
                    o.filled = o.quantity;
                    b.positions += o.quantity;
                    b.executions.push(BrokerExecution {
                        exec_id: ExecId::new(&format!("LATE{}", o.broker_order_id)).unwrap(),
                        broker_order_id: Some(o.broker_order_id),
                        client_order_id: Some(coid),
                        instrument: Some(SPY),
                        name: "SPY".into(),
                        side: o.side,
                        quantity: o.quantity,
                        price: dec!(90),
                        commission: Some(dec!(1)),
                        ts: 4,
                    });
                }
                self.out.push(ExecEvent::CancelRejected {
                    order_id,
                    reason: "too late: filled".into(),
                    ts: 3,
                });
            }
            ExecCommand::Cancel { order_id } => {
                b.cancels += 1;
                self.out.push(ExecEvent::Cancelled {
                    order_id,
                    reason: None,
                    ts: 3,
                });
            }
            _ => {}
        }
        self.ready.notify_one();
    }
    fn poll(&mut self, out: &mut Vec<ExecEvent>) {
        out.append(&mut self.out);
    }
    fn name(&self) -> &str {
        "fake"
    }
}

impl LiveExecution for Exec {
    fn track(&mut self, orders: &[TrackedOrder], _booked: &[ExecId]) {
        self.tracked.lock().unwrap().extend_from_slice(orders);
    }
    fn ready(&self) -> Arc<Notify> {
        self.ready.clone()
    }
}

struct Feed;

impl MarketFeed for Feed {
    fn start(&mut self, tx: mpsc::Sender<FeedEvent>) -> BoxFuture<'_, Result<(), VenueError>> {
        Box::pin(async move {
            tokio::spawn(async move {
                let mut price = 100.0;
                loop {
                    price += 0.01;
                    let now =
                        tickline_engine::clock::Clock::now(&tickline_engine::clock::LiveClock);
                    let tick = Tick {
                        instrument: SPY,
                        ts: now,
                        last: Some(price),
                        ..Tick::default()
                    };
                    if tx
                        .send(FeedEvent::Tick {
                            tick,
                            day_volume: None,
                        })
                        .await
                        .is_err()
                    {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            });
            Ok(())
        })
    }
    fn history(
        &self,
        instrument: InstrumentId,
        bar: Duration,
        n: usize,
    ) -> BoxFuture<'static, Result<Vec<Bar>, VenueError>> {
        Box::pin(async move {
            let now = tickline_engine::clock::Clock::now(&tickline_engine::clock::LiveClock);
            let len = bar.as_nanos() as i64;
            let end0 = now - now.rem_euclid(len);
            Ok((0..n as i64)
                .rev()
                .map(|k| Bar {
                    instrument,
                    ts: end0 - (k + 1) * len,
                    ts_end: end0 - k * len,
                    open: 99.0,
                    high: 99.5,
                    low: 98.5,
                    close: 99.0,
                    volume: 10.0,
                })
                .collect())
        })
    }
}

struct Reports {
    broker: Arc<Mutex<Broker>>,
}

impl BrokerReports for Reports {
    fn snapshot(&self) -> BoxFuture<'_, Result<BrokerSnapshot, VenueError>> {
        let mut b = self.broker.lock().unwrap();
        b.snapshots += 1;
        if b.fail_snapshots > 0 {
            b.fail_snapshots -= 1;
            return Box::pin(async { Err(VenueError::Transient("reports unreadable".into())) });
        }
        let snap = BrokerSnapshot {
            account: AccountInfo {
                id: "DU1".into(),
                is_paper: true,
                currency: "USD".into(),
            },
            cash: dec!(50000),
            positions: vec![BrokerPosition {
                instrument: Some(SPY),
                name: "SPY".into(),
                quantity: b.positions,
                avg_price: dec!(100),
            }],
            orders: b.orders.clone(),
            executions: b.executions.clone(),
            taken_at: 0,
        };
        Box::pin(async move { Ok(snap) })
    }
}

/// Buys 1 on the first live bar and keeps a limit order working; counts warm-up bars.
struct Trader {
    log: Arc<Mutex<Vec<String>>>,
    live_bars: usize,
}

impl Strategy for Trader {
    fn on_bar(&mut self, bar: &Bar, ctx: &mut dyn Ctx) {
        if ctx.is_warming_up() {
            self.log.lock().unwrap().push("warm".into());
            return;
        }
        self.live_bars += 1;
        self.log.lock().unwrap().push("bar".into());
        if self.live_bars == 1 {
            ctx.submit(OrderRequest::market(bar.instrument, Side::Buy, dec!(1)));
            ctx.submit(OrderRequest::limit(
                bar.instrument,
                Side::Buy,
                dec!(1),
                dec!(90),
            ));
        }
    }
    fn on_connectivity(&mut self, state: &Connectivity, _ctx: &mut dyn Ctx) {
        self.log.lock().unwrap().push(format!("link {state}"));
    }
}

#[derive(Default)]
struct Memory {
    records: Vec<String>,
    committed: usize,
    results: usize,
    ended: Option<serde_json::Value>,
    control: Vec<ControlCommand>,
}

struct MemRecorder(Arc<Mutex<Memory>>);

impl Recorder for MemRecorder {
    fn record(&mut self, record: Record<'_>) {
        let kind = match record {
            Record::Command { .. } => "command",
            Record::Fill(_) => "fill",
            Record::Order(_) => "order",
            Record::Event(_) => "event",
            Record::Equity { .. } => "equity",
            _ => "other",
        };
        self.0.lock().unwrap().records.push(kind.into());
    }
    fn commit(&mut self) -> Result<(), RecordError> {
        let mut m = self.0.lock().unwrap();
        m.committed = m.records.len();
        Ok(())
    }
}

struct MemJournal(Arc<Mutex<Memory>>);

impl RunJournal for MemJournal {
    fn recorder(&mut self) -> Result<Box<dyn Recorder>, RecordError> {
        Ok(Box::new(MemRecorder(self.0.clone())))
    }
    fn take_control(&mut self) -> Result<Vec<ControlCommand>, RecordError> {
        Ok(std::mem::take(&mut self.0.lock().unwrap().control))
    }
    fn write_results(&mut self) -> Result<Written, RecordError> {
        self.0.lock().unwrap().results += 1;
        Ok(Written {
            summary: Default::default(),
            files: Vec::new(),
        })
    }
    fn end_run(
        &mut self,
        _ts: i64,
        _stop: &str,
        summary: &serde_json::Value,
    ) -> Result<(), RecordError> {
        self.0.lock().unwrap().ended = Some(summary.clone());
        Ok(())
    }
}

struct Setup {
    broker: Arc<Mutex<Broker>>,
    memory: Arc<Mutex<Memory>>,
    log: Arc<Mutex<Vec<String>>>,
    tracked: Arc<Mutex<Vec<TrackedOrder>>>,
    session: mpsc::Sender<SessionNotice>,
}

fn setup(broker: Broker, settings: LiveSettings, resume: Resume) -> (Setup, LiveRun, Venue) {
    let broker = Arc::new(Mutex::new(broker));
    let memory = Arc::new(Mutex::new(Memory::default()));
    let log = Arc::new(Mutex::new(Vec::new()));
    let tracked = Arc::new(Mutex::new(Vec::new()));
    let (session_tx, session_rx) = mpsc::channel(16);
    let venue = Venue {
        name: "fake".into(),
        account: AccountInfo {
            id: "DU1".into(),
            is_paper: true,
            currency: "USD".into(),
        },
        execution: Box::new(Exec {
            broker: broker.clone(),
            out: Vec::new(),
            ready: Arc::new(Notify::new()),
            tracked: tracked.clone(),
        }),
        feed: Box::new(Feed),
        reports: Arc::new(Reports {
            broker: broker.clone(),
        }),
        session: session_rx,
    };
    let run = LiveRun {
        settings,
        kernel: KernelConfig {
            client_id_prefix: "TL-test0001-".into(),
            ..KernelConfig::default()
        },
        instruments: vec![Instrument::stock("SPY")],
        trade: vec![SPY],
        strategy: Box::new(Trader {
            log: log.clone(),
            live_bars: 0,
        }),
        resume,
        journal: Box::new(MemJournal(memory.clone())),
    };
    (
        Setup {
            broker,
            memory,
            log,
            tracked,
            session: session_tx,
        },
        run,
        venue,
    )
}

fn settings() -> LiveSettings {
    LiveSettings {
        bar: Duration::from_millis(200),
        warmup_bars: 5,
        duration: Some(Duration::from_millis(1500)),
        status_every: None,
        refresh_every: Duration::from_millis(300),
        ..LiveSettings::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_warms_up_trades_cancels_at_the_end_and_agrees_with_the_broker() {
    let (s, run_, venue) = setup(Broker::default(), settings(), Resume::default());
    let (_sig_tx, sig_rx) = mpsc::channel(1);
    let out = run(run_, venue, sig_rx).await.expect("run");
    assert_eq!(out.stop, StopReason::Duration);
    assert_eq!(out.warmup_bars, 5);
    let log = s.log.lock().unwrap().clone();
    assert_eq!(log.iter().filter(|x| *x == "warm").count(), 5);
    assert!(log.iter().filter(|x| *x == "bar").count() >= 2, "{log:?}");
    // The market order filled; the limit order was cancelled at the end.
    let rec = &out.records;
    assert_eq!(rec.fills.len(), 1);
    assert_eq!(rec.fills[0].fill.exec_id.as_str(), "X501");
    assert_eq!(rec.orders.len(), 2);
    assert_eq!(
        rec.orders[1].state,
        tickline_engine::order::OrderState::Cancelled
    );
    assert_eq!(rec.orders[0].client_order_id.as_str(), "TL-test0001-1");
    assert_eq!(out.left_working, 0);
    assert_eq!(out.agreed, Some(true));
    // Books: the broker's cash at start, then the fill.
    assert_eq!(rec.portfolio.cash(), dec!(50000) - dec!(100) - dec!(1));
    let m = s.memory.lock().unwrap();
    assert!(m.results >= 2, "refreshed while running and at the end");
    assert_eq!(m.committed, m.records.len(), "everything committed");
    let ended = m.ended.as_ref().expect("run closed");
    assert_eq!(ended["positions_agree"], serde_json::json!(true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fill_that_raced_the_final_cancel_is_booked_by_the_final_reconciliation() {
    let broker = Broker {
        fill_on_cancel: true,
        ..Broker::default()
    };
    let mut st = settings();
    st.stop_timeout = Duration::from_millis(300);
    let (s, run_, venue) = setup(broker, st, Resume::default());
    let (_sig_tx, sig_rx) = mpsc::channel(1);
    let out = run(run_, venue, sig_rx).await.expect("run");
    assert_eq!(out.missed_at_stop, 1);
    let rec = &out.records;
    let execs: Vec<&str> = rec.fills.iter().map(|f| f.fill.exec_id.as_str()).collect();
    assert_eq!(execs, ["X501", "LATE502"]);
    assert_eq!(
        rec.orders[1].state,
        tickline_engine::order::OrderState::Filled
    );
    assert_eq!(out.left_working, 1, "the cancel was refused");
    assert_eq!(out.agreed, Some(true), "{:?}", out.positions);
    assert_eq!(rec.portfolio.quantity(SPY), dec!(2));
    let m = s.memory.lock().unwrap();
    assert_eq!(
        m.ended.as_ref().unwrap()["missed_at_stop"],
        serde_json::json!(1)
    );
    assert_eq!(m.committed, m.records.len(), "the late fill is committed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_refused_at_the_stop_is_sent_again() {
    let broker = Broker {
        refuse_cancels: 1,
        ..Broker::default()
    };
    let mut st = settings();
    st.stop_timeout = Duration::from_secs(6);
    let (s, run_, venue) = setup(broker, st, Resume::default());
    let (_sig_tx, sig_rx) = mpsc::channel(1);
    let out = run(run_, venue, sig_rx).await.expect("run");
    assert_eq!(
        s.broker.lock().unwrap().cancels,
        2,
        "refused once, sent again"
    );
    assert_eq!(out.left_working, 0);
    assert_eq!(
        out.records.orders[1].state,
        tickline_engine::order::OrderState::Cancelled
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_books_what_the_broker_did_meanwhile_and_tracks_working_orders() {
    // Run 1 left a limit order working (broker id 777, cOID TL-test0001-1); it filled
    // while no run was watching.
    let working = BrokerOrder {
        broker_order_id: 777,
        client_order_id: Some("TL-test0001-1".into()),
        instrument: Some(SPY),
        name: "SPY".into(),
        side: Side::Buy,
        quantity: dec!(3),
        filled: dec!(3),
        order_type: Some(tickline_engine::domain::OrderType::Limit),
        limit_price: Some(dec!(95)),
        stop_price: None,
        tif: Some(tickline_engine::domain::TimeInForce::Gtc),
        status: BrokerOrderStatus::Filled,
    };
    let other = BrokerOrder {
        broker_order_id: 778,
        client_order_id: Some("TL-test0001-2".into()),
        quantity: dec!(2),
        filled: dec!(0),
        status: BrokerOrderStatus::Working,
        ..working.clone()
    };
    let broker = Broker {
        positions: dec!(3),
        executions: vec![BrokerExecution {
            exec_id: ExecId::new("DOWN1").unwrap(),
            broker_order_id: Some(777),
            client_order_id: Some("TL-test0001-1".into()),
            instrument: Some(SPY),
            name: "SPY".into(),
            side: Side::Buy,
            quantity: dec!(3),
            price: dec!(95),
            commission: Some(dec!(1)),
            ts: 5,
        }],
        orders: vec![working, other],
        ..Broker::default()
    };
    let mut o1 = tickline_engine::order::Order {
        id: OrderId(1),
        client_order_id: tickline_engine::domain::ClientOrderId::new("TL-test0001-1").unwrap(),
        request: OrderRequest::limit(SPY, Side::Buy, dec!(3), dec!(95)),
        state: tickline_engine::order::OrderState::Working,
        filled_qty: dec!(0),
        avg_fill_price: dec!(0),
        commission: dec!(0),
        created: 0,
        updated: 0,
        broker_order_id: Some(777),
        reason: None,
        refusal: None,
        pending_modify: None,
        prompts: 0,
    };
    let mut o2 = o1.clone();
    o2.id = OrderId(2);
    o2.client_order_id = tickline_engine::domain::ClientOrderId::new("TL-test0001-2").unwrap();
    o2.request.quantity = dec!(2);
    o2.broker_order_id = Some(778);
    o1.request.tif = tickline_engine::domain::TimeInForce::Gtc;
    let mut st = settings();
    st.on_stop = tickline_backtest::config::OnStop::Leave;
    st.warmup_bars = 0;
    let (s, run_, venue) = setup(
        broker,
        st,
        Resume {
            orders: vec![o1, o2],
            fills: Vec::new(),
        },
    );
    let (_sig_tx, sig_rx) = mpsc::channel(1);
    let out = run(run_, venue, sig_rx).await.expect("run");
    assert_eq!(out.missed_at_start, 1);
    let rec = &out.records;
    assert_eq!(rec.fills[0].fill.exec_id.as_str(), "DOWN1");
    assert_eq!(
        rec.orders[0].state,
        tickline_engine::order::OrderState::Filled
    );
    // Order 2 is still working at the broker: tracked, and left working at the end.
    let tracked = s.tracked.lock().unwrap().clone();
    assert_eq!(tracked.len(), 1);
    assert_eq!(tracked[0].order_id, OrderId(2));
    assert_eq!(
        rec.orders[1].state,
        tickline_engine::order::OrderState::Working
    );
    assert!(out.left_working >= 1);
    // New orders continue the journal's numbering.
    assert_eq!(rec.orders[2].client_order_id.as_str(), "TL-test0001-3");
    assert_eq!(out.agreed, Some(true), "{:?}", out.positions);
    let _ = s.broker;
}

/// At 300 ms the session is lost; at 600 ms it is back, and the broker's next
/// `fail_snapshots` reports cannot be read.
fn lose_and_restore_session(s: &Setup, fail_snapshots: u32) {
    let session = s.session.clone();
    let broker = s.broker.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let _ = session
            .send(SessionNotice::Lost {
                reason: "test".into(),
            })
            .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        broker.lock().unwrap().fail_snapshots = fail_snapshots;
        let _ = session.send(SessionNotice::Connected).await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_loss_pauses_entries_and_the_return_reconciles() {
    let mut st = settings();
    st.duration = Some(Duration::from_millis(1200));
    st.warmup_bars = 0;
    let (s, run_, venue) = setup(Broker::default(), st, Resume::default());
    lose_and_restore_session(&s, 0);
    let (_sig_tx, sig_rx) = mpsc::channel(1);
    let out = run(run_, venue, sig_rx).await.expect("run");
    let log = s.log.lock().unwrap().clone();
    assert!(
        log.iter()
            .any(|l| l == "link session down, feed up, entries paused (session lost)"),
        "{log:?}"
    );
    assert!(
        log.iter()
            .any(|l| l.contains("entries paused (reconciling)")),
        "{log:?}"
    );
    assert!(log.last().is_some());
    assert!(out.reconciliations >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_wait_for_a_reconciliation_that_failed_after_a_reconnect() {
    let mut st = settings();
    st.duration = Some(Duration::from_millis(4000));
    st.warmup_bars = 0;
    let (s, run_, venue) = setup(Broker::default(), st, Resume::default());
    lose_and_restore_session(&s, 1);
    let (_sig_tx, sig_rx) = mpsc::channel(1);
    let out = run(run_, venue, sig_rx).await.expect("run");
    let log = s.log.lock().unwrap().clone();
    let links: Vec<&String> = log.iter().filter(|l| l.starts_with("link ")).collect();
    let reconciling = links
        .iter()
        .position(|l| l.contains("entries paused (reconciling)"))
        .unwrap_or_else(|| panic!("{links:?}"));
    // Entries stayed paused through the failed reconciliation and resumed after the retry.
    assert_eq!(
        links[reconciling + 1..]
            .iter()
            .map(|l| l.as_str())
            .collect::<Vec<_>>(),
        ["link session up, feed up"],
        "{links:?}"
    );
    let b = s.broker.lock().unwrap();
    assert_eq!(b.fail_snapshots, 0);
    // Start, the failed one, the retry, the final check.
    assert!(b.snapshots >= 4, "{} snapshots", b.snapshots);
    assert!(out.reconciliations >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreign_positions_refuse_the_start_by_default() {
    let broker = Broker {
        positions: dec!(100),
        ..Broker::default()
    };
    let (_s, run_, venue) = setup(broker, settings(), Resume::default());
    let (_sig_tx, sig_rx) = mpsc::channel(1);
    let err = run(run_, venue, sig_rx).await.unwrap_err();
    assert!(err.is_user_error());
    assert!(
        err.to_string()
            .contains("position SPY: broker 100, this journal 0"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ignored_foreign_positions_stay_out_of_the_books_and_the_final_check_expects_them() {
    let broker = Broker {
        positions: dec!(100),
        ..Broker::default()
    };
    let mut st = settings();
    st.foreign = ForeignPolicy::Ignore;
    let (s, run_, venue) = setup(broker, st, Resume::default());
    let (_sig_tx, sig_rx) = mpsc::channel(1);
    let out = run(run_, venue, sig_rx).await.expect("run");
    // The books hold only this run's fill; the broker that plus the 100 ignored at start.
    assert_eq!(out.records.portfolio.quantity(SPY), dec!(1));
    assert_eq!(s.broker.lock().unwrap().positions, dec!(101));
    let checks = out.positions.clone().expect("broker read at the end");
    assert_eq!(
        (checks[0].kernel, checks[0].broker, checks[0].ignored),
        (dec!(1), Some(dec!(101)), dec!(100))
    );
    assert_eq!(out.agreed, Some(true), "{checks:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_signal_while_the_broker_is_read_at_the_end_stops_at_once() {
    let mut st = settings();
    st.duration = Some(Duration::from_secs(60));
    st.stop_timeout = Duration::from_millis(200);
    st.start_timeout = Duration::from_secs(30);
    let (s, run_, venue) = setup(Broker::default(), st, Resume::default());
    let (sig_tx, sig_rx) = mpsc::channel(4);
    let started = std::time::Instant::now();
    let task = tokio::spawn(run(run_, venue, sig_rx));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // The broker cannot be read any more: the final reconciliation would retry for 30 s.
    s.broker.lock().unwrap().fail_snapshots = u32::MAX;
    sig_tx.send(()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert!(!task.is_finished(), "still reading the broker");
    sig_tx.send(()).await.unwrap();
    let out = tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("stopped at once")
        .unwrap();
    assert!(matches!(out, Err(LiveError::Aborted)), "{out:?}");
    assert!(started.elapsed() < Duration::from_secs(10));
    let m = s.memory.lock().unwrap();
    assert_eq!(m.committed, m.records.len(), "everything journaled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_stop_ends_the_run() {
    let mut st = settings();
    st.duration = Some(Duration::from_secs(30));
    st.warmup_bars = 0;
    let (s, run_, venue) = setup(Broker::default(), st, Resume::default());
    s.memory.lock().unwrap().control.push(ControlCommand::Stop);
    let (_sig_tx, sig_rx) = mpsc::channel(1);
    let t0 = std::time::Instant::now();
    let out = run(run_, venue, sig_rx).await.expect("run");
    assert_eq!(out.stop, StopReason::Operator);
    assert!(t0.elapsed() < Duration::from_secs(20));
}
