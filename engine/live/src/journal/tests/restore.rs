//! Restore: random orders and fills recorded through the recorder come back equal; a
//! restarted kernel resumes from them.

use proptest::prelude::*;
use rust_decimal::{Decimal, dec};
use tickline_engine::domain::{
    ClientOrderId, ExecId, Fill, InstrumentId, OrderId, OrderRequest, OrderType, Side, TimeInForce,
    Trail,
};
use tickline_engine::execution::ExecEvent;
use tickline_engine::kernel::FillRecord;
use tickline_engine::order::{Order, OrderState};
use tickline_engine::record::{Record, Recorder};

use super::support::{Dir, MIN, bar, begin, kernel, stocks};
use crate::journal::Journal;

fn decimal() -> impl Strategy<Value = Decimal> {
    (any::<i64>(), 0u32..=12).prop_map(|(m, s)| Decimal::new(m, s))
}

fn coid() -> impl Strategy<Value = ClientOrderId> {
    "[!-~]{1,32}".prop_map(|s| ClientOrderId::new(&s).unwrap())
}

fn trail() -> impl Strategy<Value = Trail> {
    prop_oneof![
        decimal().prop_map(Trail::Amount),
        decimal().prop_map(Trail::Percent)
    ]
}

fn request() -> impl Strategy<Value = OrderRequest> {
    (
        (
            0u32..3,
            prop_oneof![Just(Side::Buy), Just(Side::Sell)],
            decimal(),
            proptest::sample::select(OrderType::ALL.to_vec()),
            proptest::option::of(decimal()),
            proptest::option::of(decimal()),
            proptest::sample::select(TimeInForce::ALL.to_vec()),
            proptest::option::of(coid()),
        ),
        (
            proptest::option::of(trail()),
            proptest::option::of(decimal()),
            proptest::option::of(1u64..1000),
            proptest::option::of(1u64..1000),
        ),
    )
        .prop_map(
            |(
                (i, side, quantity, order_type, limit_price, stop_price, tif, c),
                (trail, limit_offset, parent, oca_group),
            )| OrderRequest {
                instrument: InstrumentId(i),
                side,
                quantity,
                order_type,
                limit_price,
                stop_price,
                tif,
                client_order_id: c,
                trail,
                limit_offset,
                parent: parent.map(OrderId),
                oca_group: oca_group.map(OrderId),
            },
        )
}

const STATES: [OrderState; 11] = [
    OrderState::Denied,
    OrderState::PendingSubmit,
    OrderState::AwaitingConfirmation,
    OrderState::Working,
    OrderState::PartiallyFilled,
    OrderState::Filled,
    OrderState::PendingModify,
    OrderState::PendingCancel,
    OrderState::Cancelled,
    OrderState::Rejected,
    OrderState::Expired,
];

/// One version of an order (its id is set later).
fn order() -> impl Strategy<Value = Order> {
    (
        (request(), proptest::sample::select(STATES.to_vec())),
        (decimal(), decimal(), decimal()),
        (
            any::<i64>(),
            any::<i64>(),
            proptest::option::of(any::<u64>()),
        ),
        (
            proptest::option::of(any::<String>()),
            proptest::option::of(request()),
            any::<u32>(),
        ),
    )
        .prop_map(
            |(
                (request, state),
                (filled, avg, commission),
                (created, updated, broker),
                (reason, pending, prompts),
            )| Order {
                id: OrderId(0),
                client_order_id: request
                    .client_order_id
                    .unwrap_or_else(|| ClientOrderId::with_number("TL-1a2b3c4d-", 0)),
                request,
                state,
                filled_qty: filled,
                avg_fill_price: avg,
                commission,
                created,
                updated,
                broker_order_id: broker,
                reason,
                refusal: None,
                pending_modify: pending.map(Box::new),
                prompts,
            },
        )
}

fn fill() -> impl Strategy<Value = FillRecord> {
    (
        (
            1u64..50,
            0u32..3,
            prop_oneof![Just(Side::Buy), Just(Side::Sell)],
        ),
        (decimal(), decimal(), decimal(), any::<i64>()),
        (decimal(), decimal()),
    )
        .prop_map(
            |(
                (order, i, side),
                (quantity, price, commission, ts),
                (realized_pnl, position_after),
            )| {
                FillRecord {
                    fill: Fill {
                        order_id: OrderId(order),
                        instrument: InstrumentId(i),
                        side,
                        quantity,
                        price,
                        commission,
                        ts,
                        exec_id: ExecId::NONE,
                    },
                    realized_pnl,
                    position_after,
                }
            },
        )
}

/// What is recorded, in order: order versions, fills, repeats of fills (new commission),
/// and commits in between.
#[derive(Clone, Debug)]
enum Step {
    Order(usize, Order),
    Fill(FillRecord, bool),
    Recommission(usize, Decimal),
    Commit,
}

fn steps() -> impl Strategy<Value = (usize, Vec<Step>)> {
    (1usize..12).prop_flat_map(|n| {
        let step = prop_oneof![
            4 => (0..n, order()).prop_map(|(k, o)| Step::Order(k, o)),
            3 => (fill(), any::<bool>()).prop_map(|(f, e)| Step::Fill(f, e)),
            1 => (any::<usize>(), decimal()).prop_map(|(k, c)| Step::Recommission(k, c)),
            1 => Just(Step::Commit),
        ];
        // Every order has at least one version.
        (
            proptest::collection::vec(order(), n),
            proptest::collection::vec(step, 0..40),
        )
            .prop_map(move |(firsts, mut rest)| {
                let mut all: Vec<Step> = firsts
                    .into_iter()
                    .enumerate()
                    .map(|(k, o)| Step::Order(k, o))
                    .collect();
                all.append(&mut rest);
                (n, all)
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn what_the_recorder_wrote_restores_equal((n, steps) in steps()) {
        let d = Dir::new();
        let mut j = d.journal();
        let run = begin(&mut j, "DU1", &stocks(&["A", "B", "C"]), 0).unwrap();
        let mut rec = j.recorder(run.run).unwrap();
        let mut orders: Vec<Option<Order>> = vec![None; n];
        let mut fills: Vec<FillRecord> = Vec::new();
        let mut next_exec = 0;
        for step in steps {
            match step {
                Step::Order(k, mut o) => {
                    o.id = OrderId(k as u64 + 1);
                    if o.request.client_order_id.is_none() {
                        o.client_order_id = ClientOrderId::with_number(&j.client_id_prefix(), o.id.0);
                    }
                    rec.record(Record::Order(&o));
                    orders[k] = Some(o);
                }
                Step::Fill(mut f, with_exec) => {
                    if with_exec {
                        next_exec += 1;
                        f.fill.exec_id = ExecId::new(&format!("0000e0d5.{next_exec:08x}.01.01")).unwrap();
                    }
                    rec.record(Record::Fill(&f));
                    fills.push(f);
                }
                Step::Recommission(k, c) => {
                    let with_exec: Vec<usize> = (0..fills.len()).filter(|&i| !fills[i].fill.exec_id.is_none()).collect();
                    if !with_exec.is_empty() {
                        let i = with_exec[k % with_exec.len()];
                        fills[i].fill.commission = c;
                        // The repeat carries the corrected commission only.
                        rec.record(Record::Fill(&fills[i]));
                    }
                }
                Step::Commit => rec.commit().unwrap(),
            }
        }
        rec.commit().unwrap();
        let r = j.restore().unwrap();
        let orders: Vec<Order> = orders.into_iter().map(Option::unwrap).collect();
        prop_assert_eq!(&r.orders, &orders);
        prop_assert_eq!(&r.fills, &fills);
        prop_assert_eq!(r.instruments.len(), 3);
        prop_assert_eq!(r.account.as_deref(), Some("DU1"));
        prop_assert_eq!(r.last_run.map(|x| x.run), Some(1));
    }
}

#[test]
fn a_restarted_kernel_resumes_from_the_journal_with_the_same_books_and_ids() {
    let d = Dir::new();
    let mut j = d.journal();
    let run = begin(&mut j, "DU1", &stocks(&["SPY"]), 0).unwrap();
    let buy = OrderRequest::limit(InstrumentId(0), Side::Buy, dec!(10), dec!(99));
    let (mut k, _) = kernel(&j, run.instruments.clone(), vec![vec![buy, buy]]);
    k.set_recorder(Box::new(j.recorder(run.run).unwrap()));
    k.on_bar(&bar(0, 100.0));
    let fill = |exec: &str, qty| {
        ExecEvent::Filled(Fill {
            order_id: OrderId(1),
            instrument: InstrumentId(0),
            side: Side::Buy,
            quantity: qty,
            price: dec!(99),
            commission: dec!(1),
            ts: MIN,
            exec_id: ExecId::new(exec).unwrap(),
        })
    };
    k.apply_reports([
        ExecEvent::Accepted {
            order_id: OrderId(1),
            broker_order_id: Some(5),
            ts: MIN,
        },
        fill("x.1", dec!(3)),
    ]);
    j.end_run(run.run, MIN, "interrupted", &serde_json::Value::Null)
        .unwrap();
    let before_cash = k.portfolio().cash();
    drop(k);
    drop(j);

    // Run 2.
    let mut j = Journal::open(d.path("j.sqlite")).unwrap();
    let run2 = begin(&mut j, "DU1", &stocks(&["SPY"]), 2 * MIN).unwrap();
    assert_eq!(run2.run, 2);
    let r = j.restore().unwrap();
    assert!(r.last_run.as_ref().unwrap().run == 2);
    let (mut k, _) = kernel(&j, run2.instruments.clone(), vec![vec![buy]]);
    k.set_recorder(Box::new(j.recorder(run2.run).unwrap()));
    k.restore(r.orders.clone(), r.fills.clone()).unwrap();
    assert_eq!(k.portfolio().quantity(InstrumentId(0)), dec!(3));
    assert_eq!(k.portfolio().cash(), before_cash);
    assert_eq!(k.order_manager().open_ids(), &[OrderId(1), OrderId(2)]);
    // The venue repeats the execution after the restart: not booked again.
    k.apply_reports([fill("x.1", dec!(3))]);
    assert_eq!(k.portfolio().quantity(InstrumentId(0)), dec!(3));
    // A new order continues the numbering, with this journal's prefix.
    k.on_bar(&bar(2, 100.0));
    let o3 = k.order_manager().get(OrderId(3)).unwrap();
    assert_eq!(o3.client_order_id.as_str(), "TL-1a2b3c4d-3");
    let again = j.restore().unwrap();
    assert_eq!(again.orders.len(), 3);
    assert_eq!(again.fills.len(), 1);
    let runs: Vec<i64> = {
        let mut st = j
            .conn
            .prepare("SELECT run, last_run FROM orders ORDER BY order_id")
            .unwrap();
        st.query_map([], |r| Ok(r.get::<_, i64>(0)? * 10 + r.get::<_, i64>(1)?))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    };
    assert_eq!(
        runs,
        [11, 11, 22],
        "orders 1 and 2 from run 1, order 3 from run 2"
    );
}
