//! Order placement: question → reply chains, reject prompts, brackets, serialisation, and the
//! guarantee that an ambiguous failure never turns one intent into two orders.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{MockServer, Recorded, Reply};
use rust_decimal::dec;
use serde_json::json;
use tickline_ibkr::models::{OrderTicket, Side};
use tickline_ibkr::prompts::{AllowList, ConfirmAll, DeclineAll};
use tickline_ibkr::{Client, IbkrError, OrderSafety, PlaceOutcome};

const PLACE: &str = "/v1/api/iserver/account/DU1234567/orders";
const ORDERS: &str = "/v1/api/iserver/account/orders";

fn question(id: &str, message_id: &str) -> Reply {
    Reply::value(json!([{
        "id": id,
        "message": [format!("question {message_id}?")],
        "isSuppressed": false,
        "messageIds": [message_id],
    }]))
}

fn ticket(coid: &str) -> OrderTicket {
    OrderTicket::limit(265598, Side::Buy, dec!(100), dec!(165)).with_coid(coid)
}

fn client_with(server: &MockServer, timeout: Option<Duration>) -> Client {
    let mut config = common::test_config(server);
    config.request_timeout = timeout;
    Client::builder(config, tickline_ibkr::Auth::Gateway)
        .order_safety(OrderSafety {
            lookups: 2,
            lookup_interval: Duration::from_millis(10),
            max_resubmits: 1,
            max_prompt_replies: 20,
        })
        .build()
        .expect("client")
}

#[tokio::test]
async fn question_chain_confirmed() {
    let server = MockServer::with_session().await;
    server.route_reply("POST", PLACE, question("q1", "o163"));
    server.route_reply("POST", "/v1/api/iserver/reply/q1", question("q2", "o354"));
    server.route_sample("POST", "/v1/api/iserver/reply/q2", "reply_success.json");
    let client = common::client(&server);
    let outcome = client
        .place_orders_confirming("DU1234567", &[ticket("c-1")], &mut ConfirmAll)
        .await
        .expect("placed");
    match outcome {
        PlaceOutcome::Placed(acks) => {
            assert_eq!(acks[0].order_id, 1370093239);
            assert_eq!(acks[0].order_status, "Submitted");
        }
        other => panic!("{other:?}"),
    }
    for id in ["q1", "q2"] {
        let r = server.requests_to("POST", &format!("/v1/api/iserver/reply/{id}"));
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].json(), json!({"confirmed": true}));
    }
    let sent = server.requests_to("POST", PLACE)[0].json();
    assert_eq!(sent["orders"][0]["cOID"], "c-1");
    assert_eq!(sent["orders"][0]["price"], json!(165.0));
}

#[tokio::test]
async fn question_chain_step_by_step() {
    let server = MockServer::with_session().await;
    server.route_sample("POST", PLACE, "orders_place_question.json");
    server.route_sample(
        "POST",
        "/v1/api/iserver/reply/07a13a5a-4a48-44a5-bb25-5ab37b79186c",
        "reply_success.json",
    );
    let client = common::client(&server);
    let first = client
        .place_order("DU1234567", &ticket("c-2"))
        .await
        .expect("answer");
    let PlaceOutcome::Question(prompt) = first else {
        panic!("expected a question, got {first:?}");
    };
    assert_eq!(prompt.message_ids, vec!["o163".to_string()]);
    let second = client.reply(&prompt.reply_id, true).await.expect("reply");
    assert!(matches!(second, PlaceOutcome::Placed(ref a) if a.len() == 1));
}

#[tokio::test]
async fn unlisted_question_is_declined() {
    let server = MockServer::with_session().await;
    server.route_reply("POST", PLACE, question("q1", "o163"));
    server.route_reply("POST", "/v1/api/iserver/reply/q1", question("q2", "o10151"));
    server.route("POST", "/v1/api/iserver/reply/q2", |r: &Recorded| {
        if r.json()["confirmed"] == json!(false) {
            Reply::value(json!({"error": "Order not confirmed "}))
        } else {
            Reply::sample("reply_success.json")
        }
    });
    let client = common::client(&server);
    let outcome = client
        .place_orders_confirming("DU1234567", &[ticket("c-3")], &mut AllowList::new(["o163"]))
        .await
        .expect("answer");
    assert_eq!(outcome, PlaceOutcome::Error("Order not confirmed ".into()));
    assert_eq!(
        server.requests_to("POST", "/v1/api/iserver/reply/q1")[0].json(),
        json!({"confirmed": true})
    );
    assert_eq!(
        server.requests_to("POST", "/v1/api/iserver/reply/q2")[0].json(),
        json!({"confirmed": false})
    );
    // Declining everything stops at the first question.
    server.clear_log();
    let outcome = client
        .place_orders_confirming("DU1234567", &[ticket("c-4")], &mut DeclineAll)
        .await
        .expect("answer");
    assert_eq!(outcome, PlaceOutcome::Error("Order not confirmed ".into()));
    assert_eq!(
        server.requests_to("POST", "/v1/api/iserver/reply/q1")[0].json(),
        json!({"confirmed": false})
    );
}

#[tokio::test]
async fn endless_question_chain_is_bounded() {
    let server = MockServer::with_session().await;
    let n = Arc::new(AtomicUsize::new(0));
    server.route_reply("POST", PLACE, question("q0", "o163"));
    let counter = n.clone();
    server.fallback(move |r: &Recorded| {
        if r.path.starts_with("/v1/api/iserver/reply/") {
            let i = counter.fetch_add(1, Ordering::SeqCst) + 1;
            question(&format!("q{i}"), "o163")
        } else {
            Reply::text(404, "")
        }
    });
    let client = common::client(&server);
    match client
        .place_orders_confirming("DU1234567", &[ticket("c-5")], &mut ConfirmAll)
        .await
    {
        Err(IbkrError::PromptChainTooLong { limit, reply_id }) => {
            assert_eq!(limit, 20);
            assert_eq!(reply_id, "q20");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(n.load(Ordering::SeqCst), 20);
}

#[tokio::test]
async fn reject_prompt_expired_reply_and_rejection() {
    let server = MockServer::with_session().await;
    server.route_seq(
        "POST",
        PLACE,
        vec![
            Reply::sample("orders_place_reject_prompt.json"),
            Reply::sample("orders_place_error.json"),
        ],
    );
    server.route_sample("POST", "/v1/api/iserver/reply/gone", "reply_not_found.json");
    let client = common::client(&server);
    match client.place_order("DU1234567", &ticket("c-6")).await {
        Ok(PlaceOutcome::RejectPrompt(p)) => {
            assert_eq!(
                p.options,
                vec!["Use on this order", "Always use", "Do not use"]
            );
        }
        other => panic!("{other:?}"),
    }
    match client.place_order("DU1234567", &ticket("c-6")).await {
        Ok(PlaceOutcome::Error(e)) => assert!(e.contains("is already registered")),
        other => panic!("{other:?}"),
    }
    match client.reply("gone", true).await {
        Ok(PlaceOutcome::Error(e)) => assert!(e.starts_with("reply id not found")),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn bracket_is_one_request() {
    let server = MockServer::with_session().await;
    server.route_sample("POST", PLACE, "orders_place_bracket_success.json");
    let client = common::client(&server);
    let parent = ticket("BRK-1");
    let mut stop = OrderTicket::new(
        265598,
        Side::Sell,
        dec!(100),
        tickline_ibkr::models::OrderType::Stop,
        tickline_ibkr::models::Tif::Gtc,
    );
    stop.price = Some(dec!(150));
    stop.parent_id = Some("BRK-1".into());
    let mut take = OrderTicket::limit(265598, Side::Sell, dec!(100), dec!(180));
    take.parent_id = Some("BRK-1".into());
    let outcome = client
        .place_orders("DU1234567", &[parent, stop, take])
        .await
        .expect("bracket");
    assert_eq!(outcome.acks().map(<[_]>::len), Some(3));
    let body = server.requests_to("POST", PLACE)[0].json();
    assert_eq!(body["orders"].as_array().map(Vec::len), Some(3));
    assert_eq!(body["orders"][1]["parentId"], "BRK-1");
    assert_eq!(body["orders"][1]["orderType"], "STP");
    assert!(body["orders"][1].get("cOID").is_none());
}

#[tokio::test]
async fn missing_coid_is_generated_and_invalid_tickets_refused() {
    let server = MockServer::with_session().await;
    server.route_sample("POST", PLACE, "orders_place_success.json");
    let client = common::client(&server);
    let t = OrderTicket::market(265598, Side::Buy, dec!(1));
    client.place_order("DU1234567", &t).await.expect("placed");
    let body = server.requests_to("POST", PLACE)[0].json();
    assert!(
        body["orders"][0]["cOID"]
            .as_str()
            .is_some_and(|c| c.starts_with("tl-"))
    );
    let bad = OrderTicket::limit(265598, Side::Buy, dec!(-5), dec!(1));
    assert!(matches!(
        client.place_order("DU1234567", &bad).await,
        Err(IbkrError::InvalidInput { .. })
    ));
    assert_eq!(server.count("POST", PLACE), 1);
}

#[tokio::test]
async fn submissions_are_serialised() {
    let server = MockServer::with_session().await;
    // Each answer takes 50 ms; serialised submissions therefore arrive at least 50 ms apart.
    server.route_reply(
        "POST",
        PLACE,
        Reply::sample("orders_place_success.json").delayed(Duration::from_millis(50)),
    );
    let client = common::client(&server);
    let mut tasks = Vec::new();
    for i in 0..4 {
        let c = client.clone();
        tasks.push(tokio::spawn(async move {
            c.place_order("DU1234567", &ticket(&format!("s-{i}"))).await
        }));
    }
    for t in tasks {
        t.await.expect("task").expect("placed");
    }
    let mut at: Vec<_> = server
        .requests_to("POST", PLACE)
        .iter()
        .map(|r| r.at)
        .collect();
    at.sort();
    assert_eq!(at.len(), 4);
    for w in at.windows(2) {
        assert!(
            w[1] - w[0] >= Duration::from_millis(50),
            "overlapping submissions"
        );
    }
}

/// A broker that registers orders by `cOID` and refuses duplicates, with one scripted
/// behaviour per submission attempt.
#[derive(Clone, Copy, Debug)]
enum Attempt {
    /// Register and acknowledge.
    Ack,
    /// Register, then answer only after the client's timeout.
    RegisterThenHang,
    /// Register, then answer 503.
    RegisterThen503,
    /// Answer 500 without registering.
    Fail500,
    /// Answer 502 without registering.
    Fail502,
}

#[derive(Default)]
struct Broker {
    registered: Vec<(String, i64)>,
    attempts: usize,
    lookups: usize,
}

fn broker(
    server: &MockServer,
    script: Vec<Attempt>,
    hidden_lookups: usize,
    lookups_fail: bool,
) -> Arc<Mutex<Broker>> {
    let state = Arc::new(Mutex::new(Broker::default()));
    let s = state.clone();
    server.route("POST", PLACE, move |r: &Recorded| {
        let mut b = s.lock().expect("lock");
        let coid = r.json()["orders"][0]["cOID"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let attempt = b.attempts;
        b.attempts += 1;
        if b.registered.iter().any(|(c, _)| *c == coid) {
            return Reply::value(json!({"error": format!(
                "Order couldn't be submitted: Local order ID={coid} is already registered.")}));
        }
        let action = script.get(attempt).copied().unwrap_or(Attempt::Ack);
        let id = 5000 + attempt as i64;
        match action {
            Attempt::Ack => {
                b.registered.push((coid, id));
                Reply::value(json!([{"order_id": id.to_string(), "order_status": "PreSubmitted"}]))
            }
            Attempt::RegisterThenHang => {
                b.registered.push((coid, id));
                Reply::value(json!([{"order_id": id.to_string(), "order_status": "PreSubmitted"}]))
                    .delayed(Duration::from_secs(3))
            }
            Attempt::RegisterThen503 => {
                b.registered.push((coid, id));
                Reply::status(503, r#"{"error":"timeout","statusCode":503}"#)
            }
            Attempt::Fail500 => Reply::status(500, r#"{"error":"internal"}"#),
            Attempt::Fail502 => Reply::text(502, "bad gateway"),
        }
    });
    let s = state.clone();
    server.route("GET", ORDERS, move |_| {
        let mut b = s.lock().expect("lock");
        b.lookups += 1;
        if lookups_fail {
            return Reply::status(500, r#"{"error":"internal"}"#);
        }
        let orders: Vec<serde_json::Value> = if b.lookups <= hidden_lookups {
            Vec::new()
        } else {
            b.registered
                .iter()
                .map(|(c, id)| {
                    json!({"acct": "DU1234567", "orderId": id, "order_ref": c,
                    "status": "PreSubmitted"})
                })
                .collect()
        };
        Reply::value(json!({"orders": orders, "snapshot": true}))
    });
    state
}

#[tokio::test]
async fn timeout_after_registration_finds_the_order() {
    let server = MockServer::with_session().await;
    let state = broker(&server, vec![Attempt::RegisterThenHang], 0, false);
    let client = client_with(&server, Some(Duration::from_millis(500)));
    let outcome = client
        .place_order("DU1234567", &ticket("amb-1"))
        .await
        .expect("found by cOID");
    assert_eq!(outcome.acks().map(|a| a[0].order_id), Some(5000));
    let b = state.lock().expect("lock");
    assert_eq!(b.attempts, 1, "no resubmission");
    assert_eq!(b.registered.len(), 1);
}

#[tokio::test]
async fn server_error_before_registration_resubmits_once() {
    let server = MockServer::with_session().await;
    let state = broker(&server, vec![Attempt::Fail500, Attempt::Ack], 0, false);
    let client = client_with(&server, None);
    let outcome = client
        .place_order("DU1234567", &ticket("amb-2"))
        .await
        .expect("placed on resubmission");
    assert_eq!(outcome.acks().map(|a| a[0].order_id), Some(5001));
    let b = state.lock().expect("lock");
    assert_eq!(b.attempts, 2);
    assert_eq!(b.registered.len(), 1);
    assert!(b.lookups >= 1, "looked up before resubmitting");
}

#[tokio::test]
async fn lagging_lookup_then_duplicate_refusal_finds_the_order() {
    let server = MockServer::with_session().await;
    // Registered on the first attempt, but invisible to the first four live-orders calls
    // (the first look asks twice, as IBKR's first answer of a session is empty; the last
    // look follows a force=true refresh).
    let state = broker(&server, vec![Attempt::RegisterThen503], 4, false);
    let client = client_with(&server, None);
    let outcome = client
        .place_order("DU1234567", &ticket("amb-3"))
        .await
        .expect("found after the duplicate refusal");
    assert_eq!(outcome.acks().map(|a| a[0].order_id), Some(5000));
    let b = state.lock().expect("lock");
    assert_eq!(b.registered.len(), 1, "one intent, one order");
    assert_eq!(b.attempts, 2, "the resubmission was refused as a duplicate");
}

#[tokio::test]
async fn a_stale_after_hours_list_is_refreshed_before_the_order_is_taken_for_absent() {
    let server = MockServer::with_session().await;
    // Registered, then 503. The live-orders list is the stale cache IBKR serves after
    // hours: it shows the order only after a `force=true` call (which answers nothing).
    let state = broker(&server, vec![Attempt::RegisterThen503], 0, false);
    let forced = Arc::new(Mutex::new(false));
    let (s, f) = (state.clone(), forced.clone());
    server.route("GET", ORDERS, move |r: &Recorded| {
        let mut b = s.lock().expect("lock");
        b.lookups += 1;
        let mut forced = f.lock().expect("lock");
        if r.query.as_deref().is_some_and(|q| q.contains("force=true")) {
            *forced = true;
            return Reply::value(json!({"orders": [], "snapshot": true}));
        }
        let orders: Vec<serde_json::Value> = if *forced {
            b.registered
                .iter()
                .map(|(c, id)| json!({"orderId": id, "order_ref": c, "status": "Submitted"}))
                .collect()
        } else {
            Vec::new()
        };
        Reply::value(json!({"orders": orders, "snapshot": true}))
    });
    let client = client_with(&server, None);
    let outcome = client
        .place_order("DU1234567", &ticket("amb-7"))
        .await
        .expect("found after the refresh");
    assert_eq!(outcome.acks().map(|a| a[0].order_id), Some(5000));
    assert!(*forced.lock().unwrap(), "refreshed with force=true");
    assert_eq!(state.lock().unwrap().attempts, 1, "never placed again");
}

#[tokio::test]
async fn failing_lookup_never_resubmits() {
    let server = MockServer::with_session().await;
    let state = broker(&server, vec![Attempt::Fail502], 0, true);
    let client = client_with(&server, None);
    match client.place_order("DU1234567", &ticket("amb-4")).await {
        Err(IbkrError::OrderStateUnknown { coid, cause }) => {
            assert_eq!(coid, "amb-4");
            assert_eq!(cause.status(), Some(502));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(state.lock().expect("lock").attempts, 1);
}

#[tokio::test]
async fn resubmissions_are_bounded() {
    let server = MockServer::with_session().await;
    let state = broker(
        &server,
        vec![Attempt::Fail500, Attempt::Fail500, Attempt::Fail500],
        0,
        false,
    );
    let client = client_with(&server, None);
    assert!(matches!(
        client.place_order("DU1234567", &ticket("amb-5")).await,
        Err(IbkrError::OrderStateUnknown { .. })
    ));
    let b = state.lock().expect("lock");
    assert_eq!(b.attempts, 2, "one resubmission at most");
    assert!(b.registered.is_empty());
}

#[tokio::test]
async fn ambiguous_reply_is_resolved_by_lookup() {
    let server = MockServer::with_session().await;
    server.route_reply("POST", PLACE, question("q1", "o163"));
    let registered = Arc::new(Mutex::new(false));
    let r2 = registered.clone();
    server.route("POST", "/v1/api/iserver/reply/q1", move |_| {
        *r2.lock().expect("lock") = true;
        Reply::status(500, r#"{"error":"internal"}"#)
    });
    let r3 = registered.clone();
    server.route("GET", ORDERS, move |_| {
        let orders = if *r3.lock().expect("lock") {
            vec![json!({"orderId": 77, "order_ref": "amb-6", "status": "Submitted"})]
        } else {
            vec![]
        };
        Reply::value(json!({ "orders": orders }))
    });
    let client = client_with(&server, None);
    let outcome = client
        .place_orders_confirming("DU1234567", &[ticket("amb-6")], &mut ConfirmAll)
        .await
        .expect("resolved");
    assert_eq!(outcome.acks().map(|a| a[0].order_id), Some(77));
    assert_eq!(server.count("POST", PLACE), 1);
    assert_eq!(server.count("POST", "/v1/api/iserver/reply/q1"), 1);
}

/// A placement answered with a question whose confirming reply fails with a 503 after IBKR's
/// backend timeout; whether the order then exists is `created` (per reply, in order).
fn question_then_503(server: &MockServer, created: Vec<bool>) -> Arc<Mutex<Vec<String>>> {
    let orders = Arc::new(Mutex::new(Vec::<String>::new()));
    let placements = Arc::new(Mutex::new(0usize));
    let (o, n) = (orders.clone(), placements);
    server.route("POST", PLACE, move |r: &Recorded| {
        let coid = r.json()["orders"][0]["cOID"]
            .as_str()
            .unwrap_or("")
            .to_string();
        if o.lock().expect("lock").contains(&coid) {
            return Reply::value(json!({"error": format!(
                "Order couldn't be submitted: Local order ID={coid} is already registered.")}));
        }
        let mut k = n.lock().expect("lock");
        *k += 1;
        question(&format!("q{k}"), "o163")
    });
    let o = orders.clone();
    server.fallback(move |r: &Recorded| {
        let Some(id) = r.path.strip_prefix("/v1/api/iserver/reply/q") else {
            return Reply::text(404, "not found");
        };
        let k: usize = id.parse().unwrap_or(1).max(1);
        if created.get(k - 1).copied().unwrap_or(false) {
            o.lock().expect("lock").push("amb-r".into());
        }
        if k <= created.len() {
            Reply::status(503, "")
        } else {
            o.lock().expect("lock").push("amb-r".into());
            Reply::value(json!([{"order_id": "900", "order_status": "Submitted"}]))
        }
    });
    let o = orders.clone();
    server.route("GET", ORDERS, move |_| {
        let list: Vec<serde_json::Value> = o
            .lock()
            .expect("lock")
            .iter()
            .map(|c| json!({"orderId": 900, "order_ref": c, "status": "Submitted"}))
            .collect();
        Reply::value(json!({ "orders": list }))
    });
    orders
}

#[tokio::test]
async fn an_order_lost_to_an_ambiguous_reply_is_placed_again_with_the_same_coid() {
    let server = MockServer::with_session().await;
    // The first confirmation dies with a 503 and the order was not created; the second
    // placement's confirmation goes through.
    let orders = question_then_503(&server, vec![false]);
    let client = client_with(&server, None);
    let outcome = client
        .place_orders_confirming("DU1234567", &[ticket("amb-r")], &mut ConfirmAll)
        .await
        .expect("placed again");
    assert_eq!(outcome.acks().map(|a| a[0].order_id), Some(900));
    let placed: Vec<String> = server
        .requests_to("POST", PLACE)
        .iter()
        .map(|r| r.json()["orders"][0]["cOID"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(placed, ["amb-r", "amb-r"], "the same cOID both times");
    assert_eq!(orders.lock().unwrap().len(), 1, "one order");
}

#[tokio::test]
async fn a_reply_lost_after_the_order_was_created_never_makes_a_second() {
    let server = MockServer::with_session().await;
    // The 503'd confirmation did create the order, but the lookup does not see it at first
    // (IBKR's first live-orders answer of a session is empty, and here the next ones too):
    // the client places again, IBKR refuses the cOID as a duplicate, and the lookup then
    // finds the one order.
    let orders = question_then_503(&server, vec![true]);
    let hidden = Arc::new(Mutex::new(0usize));
    let (o, h) = (orders.clone(), hidden.clone());
    server.route("GET", ORDERS, move |_| {
        let mut seen = h.lock().expect("lock");
        *seen += 1;
        // Hidden from the whole first lookup (two calls, a refresh, one more call).
        let list: Vec<serde_json::Value> = if *seen <= 4 {
            Vec::new()
        } else {
            o.lock()
                .expect("lock")
                .iter()
                .map(|c| json!({"orderId": 901, "order_ref": c, "status": "Submitted"}))
                .collect()
        };
        Reply::value(json!({ "orders": list }))
    });
    let client = client_with(&server, None);
    let outcome = client
        .place_orders_confirming("DU1234567", &[ticket("amb-r")], &mut ConfirmAll)
        .await
        .expect("found after the duplicate refusal");
    assert_eq!(outcome.acks().map(|a| a[0].order_id), Some(901));
    assert_eq!(
        server.count("POST", PLACE),
        2,
        "placed again, refused as a duplicate"
    );
    assert_eq!(orders.lock().unwrap().len(), 1, "one order");
}

#[tokio::test]
async fn suppression_is_remembered() {
    let server = MockServer::with_session().await;
    server.route_sample(
        "POST",
        "/v1/api/iserver/questions/suppress",
        "questions_suppress.json",
    );
    server.route_sample(
        "POST",
        "/v1/api/iserver/questions/suppress/reset",
        "questions_suppress.json",
    );
    let client = common::client(&server);
    let ids = vec!["o163".to_string(), "o354".to_string()];
    assert_eq!(
        client.suppress(&ids).await.expect("suppress").status,
        "submitted"
    );
    assert_eq!(
        server.requests_to("POST", "/v1/api/iserver/questions/suppress")[0].json(),
        json!({"messageIds": ["o163", "o354"]})
    );
    assert_eq!(client.suppressed_ids(), ids);
    client.suppress_reset().await.expect("reset");
    assert!(client.suppressed_ids().is_empty());
}
