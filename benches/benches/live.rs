//! The live runtime's hot spots.
//!
//! * `live/tick_to_wire`: one tick through the kernel — strategy `on_tick` submits a limit
//!   order, risk chain, order manager, the execution client maps it to IBKR's ticket and
//!   serialises the JSON body it would send — plus applying its acceptance and fill (so the
//!   state stays the same from one iteration to the next).
//! * `live/journal_commit_order` / `live/journal_commit_equity`: one loop turn's records
//!   written to the SQLite journal (WAL, `synchronous=FULL`) in one transaction: an order's
//!   intent, risk decision, command and state; or one equity sample.
//! * `live/reconcile_100_positions_500_orders`: reconciliation of a journal holding 500
//!   working orders over 100 instruments (and 200 booked executions) with a broker snapshot
//!   listing them, 100 positions and the 200 executions.

use std::hint::black_box;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use rust_decimal::Decimal;
use tickline_backtest::config::ForeignPolicy;
use tickline_engine::clock::LiveClock;
use tickline_engine::domain::{
    Bar, ClientOrderId, ExecId, Fill, Instrument, InstrumentId, OrderId, OrderRequest, Side, Tick,
    TimeInForce,
};
use tickline_engine::execution::{ExecCommand, ExecEvent, ExecutionClient};
use tickline_engine::kernel::{FillRecord, Kernel, KernelConfig};
use tickline_engine::order::{Order, OrderState};
use tickline_engine::record::{Record, Recorder};
use tickline_engine::strategy::{Ctx, Strategy};
use tickline_ibkr::execution::order_ticket;
use tickline_live::journal::{Journal, NewRun};
use tickline_live::reconcile::{Books, reconcile};
use tickline_live::runner::RunMode;
use tickline_live::venue::{
    AccountInfo, BrokerExecution, BrokerOrder, BrokerOrderStatus, BrokerPosition, BrokerSnapshot,
};

/// Buys one share on a tick, sells it on the next.
struct PingPong(bool);

impl Strategy for PingPong {
    fn on_bar(&mut self, _bar: &Bar, _ctx: &mut dyn Ctx) {}
    fn on_tick(&mut self, tick: &Tick, ctx: &mut dyn Ctx) {
        self.0 = !self.0;
        let side = if self.0 { Side::Buy } else { Side::Sell };
        let px = Decimal::try_from(tick.last.unwrap_or(100.0)).unwrap_or(Decimal::ONE_HUNDRED);
        ctx.submit(OrderRequest::limit(tick.instrument, side, Decimal::ONE, px));
    }
}

/// Maps each submission to IBKR's JSON body, then accepts and fills it.
struct Wire {
    body: Vec<u8>,
    events: Vec<ExecEvent>,
    seq: u64,
}

impl ExecutionClient for Wire {
    fn send(&mut self, cmd: ExecCommand) {
        if let ExecCommand::Submit {
            order_id,
            client_order_id,
            request,
        } = cmd
        {
            let ticket = order_ticket(
                &request,
                265598,
                "DU1234567",
                Some(client_order_id.as_str()),
            )
            .expect("ticket");
            self.body.clear();
            serde_json::to_writer(&mut self.body, &serde_json::json!({ "orders": [ticket] }))
                .expect("json");
            self.seq += 1;
            self.events.push(ExecEvent::Accepted {
                order_id,
                broker_order_id: Some(self.seq),
                ts: 0,
            });
            let exec = format!("e{}", self.seq);
            self.events.push(ExecEvent::Filled(Fill {
                order_id,
                instrument: request.instrument,
                side: request.side,
                quantity: request.quantity,
                price: request.limit_price.unwrap_or_default(),
                commission: Decimal::ONE,
                ts: 0,
                exec_id: ExecId::new(&exec).expect("exec id"),
            }));
        }
    }
    fn poll(&mut self, out: &mut Vec<ExecEvent>) {
        out.append(&mut self.events);
    }
    fn name(&self) -> &str {
        "wire"
    }
}

fn kernel_config() -> KernelConfig {
    KernelConfig {
        initial_cash: Decimal::from(1_000_000),
        risk: Default::default(),
        prompts: Default::default(),
        client_id_prefix: "TL-bench-".into(),
        timezone: chrono_tz::America::New_York,
    }
}

fn tick_to_wire(c: &mut Criterion) {
    let mut aapl = Instrument::stock("AAPL");
    aapl.conid = Some(265598);
    let wire = Wire {
        body: Vec::with_capacity(512),
        events: Vec::new(),
        seq: 0,
    };
    let mut kernel = Kernel::new(
        kernel_config(),
        vec![aapl],
        Box::new(PingPong(false)),
        Box::new(wire),
        Box::new(LiveClock),
    )
    .expect("kernel");
    kernel.start();
    let mut k = 0u64;
    c.bench_function("live/tick_to_wire", |b| {
        b.iter(|| {
            k += 1;
            let tick = Tick {
                instrument: InstrumentId(0),
                ts: 0,
                bid: Some(189.99),
                ask: Some(190.01),
                last: Some(190.0 + (k % 7) as f64 * 0.01),
                bid_size: Some(100.0),
                ask_size: Some(100.0),
                last_size: Some(10.0),
            };
            kernel.on_tick(black_box(&tick));
            kernel.flush();
            kernel.poll_execution();
        })
    });
}

fn instruments(n: usize) -> Vec<Instrument> {
    (0..n)
        .map(|k| {
            let mut i = Instrument::stock(&format!("S{k:03}"));
            i.id = InstrumentId(k as u32);
            i.conid = Some(1_000 + k as i64);
            i
        })
        .collect()
}

fn journal_commits(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut j = Journal::open_or_create(dir.path().join("bench.sqlite")).expect("journal");
    let insts = instruments(1);
    let run = j
        .begin_run(&NewRun {
            mode: RunMode::Paper,
            venue: "bench",
            account: "DU1",
            strategy: "bench",
            params: "",
            instruments: &insts,
            started: 0,
            version: "bench",
        })
        .expect("run")
        .run;
    let mut rec = j.recorder(run).expect("recorder");
    let request = OrderRequest::limit(InstrumentId(0), Side::Buy, Decimal::ONE, Decimal::from(100));
    let mut id = 0u64;
    c.bench_function("live/journal_commit_order", |b| {
        b.iter(|| {
            id += 1;
            let order_id = OrderId(id);
            let order = working_order(id, &request);
            let command = ExecCommand::Submit {
                order_id,
                client_order_id: order.client_order_id,
                request,
            };
            rec.record(Record::SubmitIntent {
                ts: 1,
                order_id,
                request: &request,
            });
            rec.record(Record::RiskDecision {
                ts: 1,
                order_id,
                refusal: None,
            });
            rec.record(Record::Command {
                ts: 1,
                command: &command,
            });
            rec.record(Record::Order(&order));
            rec.commit().expect("commit");
        })
    });
    c.bench_function("live/journal_commit_equity", |b| {
        b.iter(|| {
            rec.record(Record::Equity {
                ts: 1,
                equity: Decimal::from(100_000),
            });
            rec.commit().expect("commit");
        })
    });
}

fn working_order(id: u64, request: &OrderRequest) -> Order {
    Order {
        id: OrderId(id),
        client_order_id: ClientOrderId::with_number("TL-bench-", id),
        request: *request,
        state: OrderState::Working,
        filled_qty: Decimal::ZERO,
        avg_fill_price: Decimal::ZERO,
        commission: Decimal::ZERO,
        created: 1,
        updated: 1,
        broker_order_id: Some(id),
        reason: None,
        refusal: None,
        pending_modify: None,
        prompts: 0,
    }
}

fn reconciliation(c: &mut Criterion) {
    let insts = instruments(100);
    let orders: Vec<Order> = (1..=500u64)
        .map(|id| {
            let inst = InstrumentId(((id - 1) % 100) as u32);
            let request =
                OrderRequest::limit(inst, Side::Buy, Decimal::from(10), Decimal::from(50))
                    .with_tif(TimeInForce::Gtc);
            working_order(id, &request)
        })
        .collect();
    // 200 filled executions of earlier orders are in the journal: positions 2 per instrument.
    let fills: Vec<FillRecord> = (0..200u64)
        .map(|k| FillRecord {
            fill: Fill {
                order_id: OrderId(k + 1),
                instrument: InstrumentId((k % 100) as u32),
                side: Side::Buy,
                quantity: Decimal::ONE,
                price: Decimal::from(50),
                commission: Decimal::ONE,
                ts: 1,
                exec_id: ExecId::new(&format!("x{k}")).expect("exec id"),
            },
            realized_pnl: Decimal::ZERO,
            position_after: Decimal::ONE,
        })
        .collect();
    let positions = vec![Decimal::TWO; 100];
    let snapshot = BrokerSnapshot {
        account: AccountInfo {
            id: "DU1".into(),
            is_paper: true,
            currency: "USD".into(),
        },
        cash: Decimal::from(1_000_000),
        positions: insts
            .iter()
            .map(|i| BrokerPosition {
                instrument: Some(i.id),
                name: i.symbol.clone(),
                quantity: Decimal::TWO,
                avg_price: Decimal::from(50),
            })
            .collect(),
        orders: orders
            .iter()
            .map(|o| BrokerOrder {
                broker_order_id: o.broker_order_id.unwrap_or_default(),
                client_order_id: Some(o.client_order_id.to_string()),
                instrument: Some(o.request.instrument),
                name: "S".into(),
                side: Side::Buy,
                quantity: o.request.quantity,
                filled: Decimal::ZERO,
                order_type: Some(o.request.order_type),
                limit_price: o.request.limit_price,
                stop_price: None,
                tif: Some(TimeInForce::Gtc),
                status: BrokerOrderStatus::Working,
            })
            .collect(),
        executions: fills
            .iter()
            .map(|f| BrokerExecution {
                exec_id: f.fill.exec_id,
                broker_order_id: Some(f.fill.order_id.0),
                client_order_id: Some(
                    ClientOrderId::with_number("TL-bench-", f.fill.order_id.0).to_string(),
                ),
                instrument: Some(f.fill.instrument),
                name: "S".into(),
                side: Side::Buy,
                quantity: Decimal::ONE,
                price: Decimal::from(50),
                commission: Some(Decimal::ONE),
                ts: 1,
            })
            .collect(),
        taken_at: 2,
    };
    c.bench_function("live/reconcile_100_positions_500_orders", |b| {
        b.iter_batched(
            || (),
            |()| {
                let books = Books {
                    instruments: &insts,
                    orders: &orders,
                    fills: &fills,
                    positions: &positions,
                };
                let r = reconcile(books, black_box(&snapshot), ForeignPolicy::Refuse, true, 3)
                    .expect("no foreign orders");
                assert_eq!(r.missed_fills, 0);
                r
            },
            BatchSize::SmallInput,
        )
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30);
    targets = tick_to_wire, journal_commits, reconciliation
}
criterion_main!(benches);
