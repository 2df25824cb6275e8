//! The IBKR execution client driven by a real engine kernel against the scriptable server:
//! acknowledgement and fills from the trades poll, question chains answered by the kernel's
//! prompt policy, declines, suppression, cancels, modifications and broker-side cancels.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{MockServer, Recorded, Reply};
use rust_decimal::dec;
use serde_json::json;
use tickline_engine::audit::AuditKind;
use tickline_engine::clock::LiveClock;
use tickline_engine::domain::{
    Bar, Instrument, InstrumentId, OrderId, OrderModify, OrderRequest, Side, TimeInForce,
};
use tickline_engine::kernel::{Kernel, KernelConfig};
use tickline_engine::order::{OrderState, OrderUpdate, PromptDecision, PromptPolicy};
use tickline_engine::strategy::{Ctx, Strategy};
use tickline_ibkr::execution::{ExecutionSetupError, IbkrExecution, IbkrExecutionConfig};

const ACCOUNT: &str = "DU1234567";
const PLACE: &str = "/v1/api/iserver/account/DU1234567/orders";
const TRADES: &str = "/v1/api/iserver/account/trades";
const LIVE: &str = "/v1/api/iserver/account/orders";
const SUPPRESS: &str = "/v1/api/iserver/questions/suppress";
/// The order id of `reply_success.json`.
const BROKER_ID: i64 = 1370093239;
const ORDER: &str = "/v1/api/iserver/account/DU1234567/order/1370093239";
const STATUS: &str = "/v1/api/iserver/account/order/status/1370093239";
const CONID: i64 = 265598;
const I: InstrumentId = InstrumentId(0);

fn question(id: &str, message_id: &str) -> Reply {
    Reply::value(json!([{
        "id": id,
        "message": [format!("question {message_id}?")],
        "isSuppressed": false,
        "messageIds": [message_id],
    }]))
}

fn trade(
    execution_id: &str,
    order_id: i64,
    order_ref: &str,
    size: &str,
    price: &str,
    ms: i64,
) -> serde_json::Value {
    json!({
        "execution_id": execution_id,
        "symbol": "AAPL",
        "side": "B",
        "trade_time": "20231211-18:00:49",
        "trade_time_r": ms,
        "size": size,
        "price": price,
        "order_ref": order_ref,
        "commission": "0.50",
        "account": ACCOUNT,
        "conid": CONID,
        "order_id": order_id,
    })
}

/// Session basics plus empty trades and live orders.
async fn server() -> MockServer {
    let s = MockServer::with_session().await;
    s.route_reply("GET", TRADES, Reply::value(json!([])));
    s.route_reply(
        "GET",
        LIVE,
        Reply::value(json!({"orders": [], "snapshot": true})),
    );
    s
}

fn exec_config() -> IbkrExecutionConfig {
    IbkrExecutionConfig {
        poll_interval: Duration::from_millis(20),
        cancel_check_delay: Duration::from_millis(10),
        cancel_check_max_delay: Duration::from_millis(40),
        cancel_checks: 6,
        ..IbkrExecutionConfig::new(ACCOUNT)
    }
}

/// Submits `orders` on the first bar; cancels or modifies order 1 once it works, if asked.
struct Trader {
    orders: Vec<OrderRequest>,
    cancel_when_working: bool,
    modify_when_working: Option<OrderModify>,
    log: Arc<Mutex<Vec<String>>>,
}

impl Strategy for Trader {
    fn on_bar(&mut self, _bar: &Bar, ctx: &mut dyn Ctx) {
        for r in self.orders.drain(..) {
            ctx.submit(r);
        }
    }

    fn on_order(&mut self, u: &OrderUpdate, ctx: &mut dyn Ctx) {
        let fill = u
            .fill
            .map(|f| format!(" fill {}@{}", f.quantity, f.price))
            .unwrap_or_default();
        self.log
            .lock()
            .unwrap()
            .push(format!("order {} {:?}{fill}", u.order_id, u.state));
        if u.state == OrderState::Working && u.previous == OrderState::PendingSubmit {
            if self.cancel_when_working {
                ctx.cancel(u.order_id);
            }
            if let Some(m) = self.modify_when_working.take() {
                ctx.modify(u.order_id, m);
            }
        }
    }
}

struct Rig {
    kernel: Kernel,
    log: Arc<Mutex<Vec<String>>>,
}

fn policy(rules: &[(&str, PromptDecision)]) -> PromptPolicy {
    let mut p = PromptPolicy::default();
    for (id, d) in rules {
        p.rules.insert(id.to_string(), *d);
    }
    p
}

fn limit_buy() -> OrderRequest {
    OrderRequest::limit(I, Side::Buy, dec!(10), dec!(150))
}

fn rig(server: &MockServer, prompts: PromptPolicy, trader: Trader) -> Rig {
    let instruments = vec![Instrument::stock("AAPL").with_conid(CONID)];
    let exec = IbkrExecution::new(
        tokio::runtime::Handle::current(),
        common::client(server),
        instruments.clone(),
        exec_config(),
    )
    .expect("execution client");
    let log = trader.log.clone();
    let kernel = Kernel::new(
        KernelConfig {
            prompts,
            ..KernelConfig::default()
        },
        instruments,
        Box::new(trader),
        Box::new(exec),
        Box::new(LiveClock),
    )
    .expect("kernel");
    Rig { kernel, log }
}

fn trader(orders: Vec<OrderRequest>) -> Trader {
    Trader {
        orders,
        cancel_when_working: false,
        modify_when_working: None,
        log: Arc::new(Mutex::new(Vec::new())),
    }
}

impl Rig {
    /// Show one bar (the trader submits on it).
    fn bar(&mut self) {
        let now = chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default();
        self.kernel.on_bar(&Bar {
            instrument: I,
            ts: now - 60_000_000_000,
            ts_end: now,
            open: 150.0,
            high: 151.0,
            low: 149.0,
            close: 150.0,
            volume: 1000.0,
        });
    }

    /// Poll the execution client until `cond` holds (at most 10 s).
    async fn wait(&mut self, what: &str, cond: impl Fn(&Kernel) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            self.kernel.poll_execution();
            if cond(&self.kernel) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; strategy saw {:?}; audit {:?}",
                self.log.lock().unwrap(),
                self.kernel.audit().records()
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    fn state(&self, id: u64) -> Option<OrderState> {
        self.kernel
            .order_manager()
            .get(OrderId(id))
            .map(|o| o.state)
    }

    fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    fn assert_clean_audit(&self) {
        let k = &self.kernel;
        assert_eq!(
            k.audit().count(AuditKind::IllegalTransition),
            0,
            "{:?}",
            k.audit().records()
        );
        assert_eq!(k.audit().count(AuditKind::CommandError), 0);
    }
}

async fn wait_requests(server: &MockServer, method: &str, path: &str, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while server.count(method, path) < n {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {method} {path}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_is_accepted_then_filled_from_trades_polling() {
    let server = server().await;
    server.route_sample("POST", PLACE, "reply_success.json");
    // The first poll sees one execution, later polls both (plus someone else's trade): the
    // first must not be booked twice.
    server.route_seq(
        "GET",
        TRADES,
        vec![
            Reply::value(json!([trade(
                "e1",
                BROKER_ID,
                "TL-1",
                "4",
                "150.25",
                1_702_317_649_000
            )])),
            Reply::value(json!([
                trade("e2", BROKER_ID, "TL-1", "6.0", "150.5", 1_702_317_650_000),
                trade("x9", 999, "other", "100", "1", 1_702_317_640_000),
                trade("e1", BROKER_ID, "TL-1", "4", "150.25", 1_702_317_649_000),
            ])),
        ],
    );
    let mut rig = rig(&server, PromptPolicy::default(), trader(vec![limit_buy()]));
    rig.bar();
    rig.wait("the fill", |k| k.fills().len() == 2).await;
    // Later polls must not add anything.
    let polls = server.count("GET", TRADES);
    tokio::time::sleep(Duration::from_millis(100)).await;
    rig.kernel.poll_execution();
    assert_eq!(rig.kernel.fills().len(), 2);
    assert_eq!(
        server.count("GET", TRADES),
        polls,
        "a filled order is no longer polled for"
    );

    let o = rig.kernel.order_manager().get(OrderId(1)).expect("order");
    assert_eq!(o.state, OrderState::Filled);
    assert_eq!(o.broker_order_id, Some(BROKER_ID as u64));
    assert_eq!(o.filled_qty, dec!(10));
    assert_eq!(o.avg_fill_price, dec!(150.4));
    assert_eq!(o.commission, dec!(1.00));
    let fills = rig.kernel.fills();
    assert_eq!(fills[0].fill.ts, 1_702_317_649_000_000_000);
    assert_eq!(fills[0].fill.quantity, dec!(4));
    assert_eq!(fills[1].fill.price, dec!(150.5));
    assert_eq!(rig.kernel.portfolio().quantity(I), dec!(10));
    assert_eq!(
        rig.log(),
        vec![
            "order 1 Working",
            "order 1 PartiallyFilled fill 4@150.25",
            "order 1 Filled fill 6.0@150.5",
        ]
    );
    rig.assert_clean_audit();

    let sent = server.requests_to("POST", PLACE);
    assert_eq!(sent.len(), 1);
    let t = &sent[0].json()["orders"][0];
    assert_eq!(t["cOID"], "TL-1");
    assert_eq!(t["acctId"], ACCOUNT);
    assert_eq!(t["conid"], CONID);
    assert_eq!(t["orderType"], "LMT");
    assert_eq!(t["side"], "BUY");
    assert_eq!(t["tif"], "DAY");
    assert_eq!(t["price"], json!(150.0));
    assert_eq!(t["quantity"], json!(10.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn question_chain_is_answered_by_the_kernel_policy() {
    let server = server().await;
    server.route_reply("POST", PLACE, question("q1", "o163"));
    server.route_reply("POST", "/v1/api/iserver/reply/q1", question("q2", "o354"));
    server.route_sample("POST", "/v1/api/iserver/reply/q2", "reply_success.json");
    let prompts = policy(&[
        ("o163", PromptDecision::Confirm),
        ("o354", PromptDecision::Confirm),
    ]);
    let mut rig = rig(&server, prompts, trader(vec![limit_buy()]));
    rig.bar();
    rig.wait("acceptance", |k| {
        k.order_manager()
            .get(OrderId(1))
            .is_some_and(|o| o.state == OrderState::Working)
    })
    .await;
    for id in ["q1", "q2"] {
        let r = server.requests_to("POST", &format!("/v1/api/iserver/reply/{id}"));
        assert_eq!(r.len(), 1, "{id} answered once");
        assert_eq!(r[0].json(), json!({"confirmed": true}));
    }
    let o = rig.kernel.order_manager().get(OrderId(1)).expect("order");
    assert_eq!(o.prompts, 2);
    assert_eq!(o.broker_order_id, Some(BROKER_ID as u64));
    assert_eq!(rig.kernel.audit().count(AuditKind::PromptDecision), 2);
    assert_eq!(server.count("POST", PLACE), 1);
    assert_eq!(
        server.count("POST", SUPPRESS),
        0,
        "plain confirmations suppress nothing"
    );
    rig.assert_clean_audit();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declined_question_sends_confirmed_false_and_the_order_ends_rejected() {
    let server = server().await;
    server.route_reply("POST", PLACE, question("q1", "o163"));
    server.route("POST", "/v1/api/iserver/reply/q1", |r: &Recorded| {
        if r.json()["confirmed"] == json!(false) {
            Reply::value(json!({"error": "Order not confirmed "}))
        } else {
            Reply::sample("reply_success.json")
        }
    });
    // Default policy: reject every question.
    let mut rig = rig(&server, PromptPolicy::default(), trader(vec![limit_buy()]));
    rig.bar();
    rig.wait("rejection", |k| {
        k.order_manager()
            .get(OrderId(1))
            .is_some_and(|o| o.state == OrderState::Rejected)
    })
    .await;
    wait_requests(&server, "POST", "/v1/api/iserver/reply/q1", 1).await;
    assert_eq!(
        server.requests_to("POST", "/v1/api/iserver/reply/q1")[0].json(),
        json!({"confirmed": false})
    );
    // Give the worker time to (wrongly) report more; nothing may arrive.
    tokio::time::sleep(Duration::from_millis(100)).await;
    rig.kernel.poll_execution();
    let o = rig.kernel.order_manager().get(OrderId(1)).expect("order");
    assert_eq!(o.reason.as_deref(), Some("prompt declined by policy: o163"));
    assert_eq!(rig.log(), vec!["order 1 Rejected"]);
    rig.assert_clean_audit();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn order_lost_to_an_ambiguous_reply_is_placed_again_with_the_same_coid() {
    let server = server().await;
    server.route_seq(
        "POST",
        PLACE,
        vec![question("q1", "o163"), Reply::sample("reply_success.json")],
    );
    server.route_reply("POST", "/v1/api/iserver/reply/q1", Reply::status(503, ""));
    let prompts = policy(&[("o163", PromptDecision::Confirm)]);
    let mut rig = rig(&server, prompts, trader(vec![limit_buy()]));
    rig.bar();
    rig.wait("acceptance", |k| {
        k.order_manager()
            .get(OrderId(1))
            .is_some_and(|o| o.state == OrderState::Working)
    })
    .await;
    assert_eq!(
        server.count("POST", "/v1/api/iserver/reply/q1"),
        1,
        "never re-sent"
    );
    let placed = server.requests_to("POST", PLACE);
    assert_eq!(
        placed.len(),
        2,
        "placed again once, after the lookup found nothing"
    );
    let coid = |k: usize| placed[k].json()["orders"][0]["cOID"].clone();
    assert_eq!(coid(0), coid(1), "the same cOID both times");
    assert!(
        server.count("GET", LIVE) >= 2,
        "the lookup looked (and refreshed) before placing again"
    );
    let o = rig.kernel.order_manager().get(OrderId(1)).expect("order");
    assert_eq!(o.broker_order_id, Some(BROKER_ID as u64));
    rig.assert_clean_audit();
}

const NOTIFICATION: &str = "/v1/api/iserver/notification";
/// The order id of `orders_place_reject_prompt.json`.
const HELD_ID: i64 = 123456789;

/// A `p12` server prompt: the order is held at IBKR until `/iserver/notification` answers.
async fn server_prompt_rig(prompts: PromptPolicy) -> (MockServer, Rig) {
    let server = server().await;
    server.route_sample("POST", PLACE, "orders_place_reject_prompt.json");
    server.route(
        "POST",
        NOTIFICATION,
        |r: &Recorded| match r.json()["text"].as_str() {
            Some("Do not use") => Reply::text(200, "Order 123456789 rejected"),
            _ => Reply::text(200, "Order 123456789 submitted"),
        },
    );
    let rig = rig(&server, prompts, trader(vec![limit_buy()]));
    (server, rig)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_prompt_is_answered_through_the_notification_by_the_policy() {
    let (server, mut rig) = server_prompt_rig(policy(&[("p12", PromptDecision::Confirm)])).await;
    rig.bar();
    rig.wait("acceptance", |k| {
        k.order_manager()
            .get(OrderId(1))
            .is_some_and(|o| o.state == OrderState::Working)
    })
    .await;
    let answers = server.requests_to("POST", NOTIFICATION);
    assert_eq!(answers.len(), 1);
    assert_eq!(
        answers[0].json(),
        json!({"orderId": HELD_ID, "reqId": "22170", "text": "Use on this order"})
    );
    let o = rig.kernel.order_manager().get(OrderId(1)).expect("order");
    assert_eq!(o.prompts, 1);
    assert_eq!(o.broker_order_id, Some(HELD_ID as u64));
    let decisions: Vec<String> = rig
        .kernel
        .audit()
        .records()
        .iter()
        .filter(|r| r.kind == AuditKind::PromptDecision)
        .map(|r| r.detail.clone())
        .collect();
    assert_eq!(decisions.len(), 1, "{decisions:?}");
    assert!(
        decisions[0].contains("message p12: confirm")
            && decisions[0].contains("Price Management Algo"),
        "{decisions:?}"
    );
    assert_eq!(server.count("POST", PLACE), 1);
    assert_eq!(server.count("POST", "/v1/api/iserver/reply/22170"), 0);
    rig.assert_clean_audit();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declined_server_prompt_answers_do_not_use_and_the_order_ends_rejected() {
    // Default policy: reject.
    let (server, mut rig) = server_prompt_rig(PromptPolicy::default()).await;
    rig.bar();
    rig.wait("rejection", |k| {
        k.order_manager()
            .get(OrderId(1))
            .is_some_and(|o| o.state == OrderState::Rejected)
    })
    .await;
    wait_requests(&server, "POST", NOTIFICATION, 1).await;
    assert_eq!(
        server.requests_to("POST", NOTIFICATION)[0].json()["text"],
        "Do not use"
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    rig.kernel.poll_execution();
    let o = rig.kernel.order_manager().get(OrderId(1)).expect("order");
    assert_eq!(o.reason.as_deref(), Some("prompt declined by policy: p12"));
    assert_eq!(rig.log(), vec!["order 1 Rejected"]);
    rig.assert_clean_audit();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confirm_and_suppress_reaches_the_suppress_endpoint() {
    let server = server().await;
    server.route_reply("POST", PLACE, question("q1", "o163"));
    server.route_sample("POST", "/v1/api/iserver/reply/q1", "reply_success.json");
    server.route_sample("POST", SUPPRESS, "questions_suppress.json");
    let prompts = policy(&[("o163", PromptDecision::ConfirmAndSuppress)]);
    let mut rig = rig(&server, prompts, trader(vec![limit_buy()]));
    rig.bar();
    rig.wait("acceptance", |k| {
        k.order_manager()
            .get(OrderId(1))
            .is_some_and(|o| o.state == OrderState::Working)
    })
    .await;
    wait_requests(&server, "POST", SUPPRESS, 1).await;
    let s = server.requests_to("POST", SUPPRESS);
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].json(), json!({"messageIds": ["o163"]}));
    assert_eq!(
        server.requests_to("POST", "/v1/api/iserver/reply/q1")[0].json(),
        json!({"confirmed": true})
    );
    rig.assert_clean_audit();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ambiguous_reply_is_resolved_by_coid_lookup() {
    let server = server().await;
    server.route_reply("POST", PLACE, question("q1", "o163"));
    server.route_reply(
        "POST",
        "/v1/api/iserver/reply/q1",
        Reply::status(500, r#"{"error":"internal error"}"#),
    );
    server.route_reply(
        "GET",
        LIVE,
        Reply::value(json!({"orders": [{
            "orderId": BROKER_ID,
            "conid": CONID,
            "status": "Submitted",
            "filledQuantity": 0.0,
            "totalSize": 10.0,
            "order_ref": "TL-1",
        }], "snapshot": true})),
    );
    let prompts = policy(&[("o163", PromptDecision::Confirm)]);
    let mut rig = rig(&server, prompts, trader(vec![limit_buy()]));
    rig.bar();
    rig.wait("acceptance", |k| {
        k.order_manager()
            .get(OrderId(1))
            .is_some_and(|o| o.state == OrderState::Working)
    })
    .await;
    assert_eq!(
        server.count("POST", "/v1/api/iserver/reply/q1"),
        1,
        "never re-sent"
    );
    assert_eq!(server.count("POST", PLACE), 1, "one intent, one order");
    let o = rig.kernel.order_manager().get(OrderId(1)).expect("order");
    assert_eq!(o.broker_order_id, Some(BROKER_ID as u64));
    rig.assert_clean_audit();
}

fn status(state: &str, description: &str) -> Reply {
    Reply::value(json!({
        "order_id": BROKER_ID,
        "conid": CONID,
        "order_status": state,
        "order_status_description": description,
        "size": "10.0",
        "total_size": "10.0",
        "cum_fill": "0.0",
    }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_is_confirmed_through_order_status() {
    let server = server().await;
    server.route_sample("POST", PLACE, "reply_success.json");
    server.route_sample("DELETE", ORDER, "order_cancel.json");
    server.route_seq(
        "GET",
        STATUS,
        vec![
            status("PreSubmitted", "Order Submitted"),
            status("Cancelled", "Order Cancelled"),
        ],
    );
    let mut t = trader(vec![limit_buy()]);
    t.cancel_when_working = true;
    let mut rig = rig(&server, PromptPolicy::default(), t);
    rig.bar();
    rig.wait("cancellation", |k| {
        k.order_manager()
            .get(OrderId(1))
            .is_some_and(|o| o.state == OrderState::Cancelled)
    })
    .await;
    assert_eq!(server.count("DELETE", ORDER), 1);
    assert_eq!(server.count("GET", STATUS), 2, "checked until cancelled");
    let o = rig.kernel.order_manager().get(OrderId(1)).expect("order");
    assert_eq!(o.reason.as_deref(), Some("Order Cancelled"));
    assert_eq!(rig.log(), vec!["order 1 Working", "order 1 Cancelled"]);
    rig.assert_clean_audit();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_cancel_reports_ibkr_message() {
    let server = server().await;
    server.route_sample("POST", PLACE, "reply_success.json");
    server.route_reply(
        "DELETE",
        ORDER,
        Reply::value(json!({"error": "OrderID 1370093239 doesn't exist"})),
    );
    let mut t = trader(vec![limit_buy()]);
    t.cancel_when_working = true;
    let mut rig = rig(&server, PromptPolicy::default(), t);
    rig.bar();
    rig.wait("the refusal", |k| {
        k.audit().count(AuditKind::BrokerRejection) == 1
    })
    .await;
    assert_eq!(rig.state(1), Some(OrderState::Working));
    let detail = &rig.kernel.audit().records().last().expect("record").detail;
    assert_eq!(detail, "cancel rejected: OrderID 1370093239 doesn't exist");
    assert_eq!(server.count("GET", STATUS), 0);
    rig.assert_clean_audit();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unconfirmed_cancel_is_reported_after_bounded_checks() {
    let server = server().await;
    server.route_sample("POST", PLACE, "reply_success.json");
    server.route_sample("DELETE", ORDER, "order_cancel.json");
    server.route_reply("GET", STATUS, status("Submitted", "Order Submitted"));
    let mut t = trader(vec![limit_buy()]);
    t.cancel_when_working = true;
    let mut rig = rig(&server, PromptPolicy::default(), t);
    rig.bar();
    rig.wait("the refusal", |k| {
        k.audit().count(AuditKind::BrokerRejection) == 1
    })
    .await;
    assert_eq!(
        server.count("GET", STATUS),
        6,
        "exactly cancel_checks checks"
    );
    assert_eq!(rig.state(1), Some(OrderState::Working));
    let detail = &rig.kernel.audit().records().last().expect("record").detail;
    assert!(detail.contains("last status: Submitted"), "{detail}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_side_cancel_from_live_orders() {
    let server = server().await;
    server.route_sample("POST", PLACE, "reply_success.json");
    server.route_reply(
        "GET",
        LIVE,
        Reply::value(json!({"orders": [{
            "orderId": BROKER_ID,
            "conid": CONID,
            "status": "Cancelled",
            "filledQuantity": 0.0,
            "remainingQuantity": 0.0,
            "totalSize": 10.0,
            "order_ref": "TL-1",
        }], "snapshot": true})),
    );
    let req = limit_buy().with_tif(TimeInForce::Ioc);
    let mut rig = rig(&server, PromptPolicy::default(), trader(vec![req]));
    rig.bar();
    rig.wait("cancellation", |k| {
        k.order_manager()
            .get(OrderId(1))
            .is_some_and(|o| o.state == OrderState::Cancelled)
    })
    .await;
    let o = rig.kernel.order_manager().get(OrderId(1)).expect("order");
    assert_eq!(
        o.reason.as_deref(),
        Some("IBKR reports the order Cancelled")
    );
    assert_eq!(
        server.requests_to("POST", PLACE)[0].json()["orders"][0]["tif"],
        "IOC"
    );
    rig.assert_clean_audit();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ibkr_error_rejects_the_order_with_its_text() {
    let server = server().await;
    server.route_reply(
        "POST",
        PLACE,
        Reply::value(json!({"error": "Order rejected: insufficient buying power "})),
    );
    let mut rig = rig(&server, PromptPolicy::default(), trader(vec![limit_buy()]));
    rig.bar();
    rig.wait("rejection", |k| {
        k.order_manager()
            .get(OrderId(1))
            .is_some_and(|o| o.state == OrderState::Rejected)
    })
    .await;
    let o = rig.kernel.order_manager().get(OrderId(1)).expect("order");
    assert_eq!(
        o.reason.as_deref(),
        Some("Order rejected: insufficient buying power")
    );
    rig.assert_clean_audit();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn modify_is_sent_as_a_full_ticket_and_acknowledged() {
    let server = server().await;
    server.route_sample("POST", PLACE, "reply_success.json");
    server.route_sample("POST", ORDER, "reply_success.json");
    let mut t = trader(vec![limit_buy()]);
    t.modify_when_working = Some(OrderModify {
        limit_price: Some(dec!(149.5)),
        ..OrderModify::default()
    });
    let mut rig = rig(&server, PromptPolicy::default(), t);
    rig.bar();
    rig.wait("the modification", |k| {
        k.order_manager()
            .get(OrderId(1))
            .is_some_and(|o| o.request.limit_price == Some(dec!(149.5)))
    })
    .await;
    assert_eq!(rig.state(1), Some(OrderState::Working));
    let m = server.requests_to("POST", ORDER);
    assert_eq!(m.len(), 1);
    let body = m[0].json();
    assert_eq!(body["price"], json!(149.5));
    assert_eq!(body["quantity"], json!(10.0));
    assert_eq!(body["conid"], CONID);
    assert_eq!(body["orderType"], "LMT");
    assert!(body.get("orders").is_none(), "a bare ticket");
    rig.assert_clean_audit();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn modify_question_is_declined_by_default() {
    let server = server().await;
    server.route_sample("POST", PLACE, "reply_success.json");
    server.route_reply("POST", ORDER, question("m1", "o10138"));
    server.route_reply(
        "POST",
        "/v1/api/iserver/reply/m1",
        Reply::value(json!({"error": "Order not confirmed "})),
    );
    let mut t = trader(vec![limit_buy()]);
    t.modify_when_working = Some(OrderModify {
        quantity: Some(dec!(500)),
        ..OrderModify::default()
    });
    let mut rig = rig(&server, PromptPolicy::default(), t);
    rig.bar();
    rig.wait("the refusal", |k| {
        k.audit().count(AuditKind::BrokerRejection) == 1
    })
    .await;
    assert_eq!(
        server.requests_to("POST", "/v1/api/iserver/reply/m1")[0].json(),
        json!({"confirmed": false})
    );
    let o = rig.kernel.order_manager().get(OrderId(1)).expect("order");
    assert_eq!(o.state, OrderState::Working);
    assert_eq!(o.request.quantity, dec!(10), "unchanged");
    let detail = &rig.kernel.audit().records().last().expect("record").detail;
    assert!(detail.contains("o10138"), "{detail}");
    rig.assert_clean_audit();
}

#[tokio::test]
async fn setup_errors_are_typed() {
    let server = server().await;
    let handle = tokio::runtime::Handle::current();
    let no_conid = IbkrExecution::new(
        handle.clone(),
        common::client(&server),
        vec![Instrument::stock("AAPL")],
        exec_config(),
    );
    assert_eq!(
        no_conid.err(),
        Some(ExecutionSetupError::MissingConid {
            index: 0,
            symbol: "AAPL".into()
        })
    );
    let instruments = vec![Instrument::stock("AAPL").with_conid(CONID)];
    let no_account = IbkrExecution::new(
        handle.clone(),
        common::client(&server),
        instruments.clone(),
        IbkrExecutionConfig::new(" "),
    );
    assert_eq!(no_account.err(), Some(ExecutionSetupError::EmptyAccount));
    let zero = IbkrExecution::new(
        handle,
        common::client(&server),
        instruments,
        IbkrExecutionConfig {
            poll_interval: Duration::ZERO,
            ..exec_config()
        },
    );
    assert_eq!(
        zero.err(),
        Some(ExecutionSetupError::NotPositive {
            field: "poll_interval"
        })
    );
}
