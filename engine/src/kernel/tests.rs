use std::sync::{Arc, Mutex};

use rust_decimal::dec;

use super::*;
use crate::clock::SimClock;
use crate::domain::{ExecId, Side};
use crate::execution::Prompt;
use crate::order::PromptDecision;

const I: InstrumentId = InstrumentId(0);
const MIN: Ts = 60_000_000_000;

/// A venue that answers at once: optional prompt, then accept + fill at the last bar's close
/// (or rest as working when `rest` is set).
#[derive(Default)]
struct TestExec {
    prompt: Option<Vec<String>>,
    rest: bool,
    last_close: Decimal,
    now: Ts,
    out: Vec<ExecEvent>,
    seen: Arc<Mutex<Vec<ExecCommand>>>,
}

impl ExecutionClient for TestExec {
    fn send(&mut self, cmd: ExecCommand) {
        self.seen.lock().unwrap().push(cmd.clone());
        match cmd {
            ExecCommand::Submit {
                order_id, request, ..
            } => {
                if let Some(ids) = &self.prompt {
                    self.out.push(ExecEvent::Prompt {
                        order_id,
                        prompt: Prompt {
                            reply_id: format!("r{}", order_id.0),
                            message_ids: ids.clone(),
                            messages: ids.clone(),
                        },
                        ts: self.now,
                    });
                } else {
                    self.accept(order_id, request);
                }
            }
            ExecCommand::ReplyPrompt {
                order_id,
                confirmed,
                ..
            } => {
                if confirmed {
                    let req = OrderRequest::market(I, Side::Buy, dec!(10));
                    self.accept(order_id, req);
                } else {
                    self.out.push(ExecEvent::Rejected {
                        order_id,
                        reason: "Order not confirmed".into(),
                        ts: self.now,
                    });
                }
            }
            ExecCommand::Cancel { order_id } => self.out.push(ExecEvent::Cancelled {
                order_id,
                reason: None,
                ts: self.now,
            }),
            _ => {}
        }
    }
    fn poll(&mut self, out: &mut Vec<ExecEvent>) {
        out.append(&mut self.out);
    }
    fn on_bar(&mut self, bar: &Bar, out: &mut Vec<ExecEvent>) {
        self.now = bar.ts_end;
        self.last_close = Decimal::try_from(bar.close).unwrap();
        self.poll(out);
    }
    fn name(&self) -> &str {
        "test"
    }
}

impl TestExec {
    fn accept(&mut self, order_id: OrderId, request: OrderRequest) {
        self.out.push(ExecEvent::Accepted {
            order_id,
            broker_order_id: Some(order_id.0 + 100),
            ts: self.now,
        });
        if !self.rest {
            self.out.push(ExecEvent::Filled(Fill {
                order_id,
                instrument: request.instrument,
                side: request.side,
                quantity: request.quantity,
                price: self.last_close,
                commission: Decimal::ZERO,
                ts: self.now,
                exec_id: ExecId::NONE,
            }));
        }
    }
}

type Script = Box<dyn FnMut(usize, &Bar, &mut dyn Ctx) + Send>;

/// Records what it sees; runs `script` on each bar.
struct Recorder {
    log: Arc<Mutex<Vec<String>>>,
    bars: usize,
    script: Script,
    timers: Vec<(Ts, u64)>,
}

impl Strategy for Recorder {
    fn on_start(&mut self, ctx: &mut dyn Ctx) {
        for (at, tag) in &self.timers {
            ctx.set_timer(*at, *tag);
        }
        self.log.lock().unwrap().push("start".into());
    }
    fn on_bar(&mut self, bar: &Bar, ctx: &mut dyn Ctx) {
        self.log.lock().unwrap().push(format!(
            "bar {} now={} pos={}",
            self.bars,
            ctx.now() - bar.ts_end,
            ctx.position(bar.instrument)
        ));
        (self.script)(self.bars, bar, ctx);
        self.bars += 1;
    }
    fn on_order(&mut self, u: &OrderUpdate, ctx: &mut dyn Ctx) {
        let what = match (&u.fill, &u.refusal) {
            (Some(f), _) => format!("fill {}@{}", f.quantity, f.price),
            (_, Some(r)) => format!("denied by {}", r.check),
            _ => String::new(),
        };
        self.log.lock().unwrap().push(format!(
            "order {} {:?} {what} pos={}",
            u.order_id,
            u.state,
            ctx.position(u.instrument)
        ));
    }
    fn on_timer(&mut self, t: &Timer, ctx: &mut dyn Ctx) {
        self.log
            .lock()
            .unwrap()
            .push(format!("timer {} at={} now={}", t.tag, t.at, ctx.now()));
    }
    fn on_stop(&mut self, _ctx: &mut dyn Ctx) {
        self.log.lock().unwrap().push("stop".into());
    }
}

struct Harness {
    kernel: Kernel,
    log: Arc<Mutex<Vec<String>>>,
    seen: Arc<Mutex<Vec<ExecCommand>>>,
}

fn harness(cfg: KernelConfig, exec: TestExec, script: Script, timers: Vec<(Ts, u64)>) -> Harness {
    let log = Arc::new(Mutex::new(Vec::new()));
    let seen = exec.seen.clone();
    let strategy = Recorder {
        log: log.clone(),
        bars: 0,
        script,
        timers,
    };
    let kernel = Kernel::new(
        cfg,
        vec![Instrument::stock("SPY")],
        Box::new(strategy),
        Box::new(exec),
        Box::new(SimClock::new(0)),
    )
    .unwrap();
    Harness { kernel, log, seen }
}

fn bar(k: i64, close: f64) -> Bar {
    Bar {
        instrument: I,
        ts: k * MIN,
        ts_end: (k + 1) * MIN,
        open: close,
        high: close + 1.0,
        low: close - 1.0,
        close,
        volume: 100.0,
    }
}

fn log(h: &Harness) -> Vec<String> {
    h.log.lock().unwrap().clone()
}

#[test]
fn commands_are_buffered_and_events_arrive_in_order() {
    let mut h = harness(
        KernelConfig::default(),
        TestExec::default(),
        Box::new(|k, bar, ctx| {
            if k == 1 {
                ctx.submit(OrderRequest::market(bar.instrument, Side::Buy, dec!(10)));
                assert!(
                    ctx.position(bar.instrument).is_zero(),
                    "submit is buffered until the hook returns"
                );
            }
        }),
        vec![],
    );
    for k in 0..3 {
        h.kernel.on_bar(&bar(k, 100.0 + k as f64));
        h.kernel.record_equity((k + 1) * MIN);
    }
    h.kernel.stop();
    assert_eq!(
        log(&h),
        vec![
            "start",
            "bar 0 now=0 pos=0",
            "bar 1 now=0 pos=0",
            "order 1 Working  pos=0",
            "order 1 Filled fill 10@101 pos=10",
            "bar 2 now=0 pos=10",
            "stop",
        ]
    );
    assert_eq!(h.kernel.portfolio().quantity(I), dec!(10));
    assert_eq!(
        h.kernel.equity_curve().equity,
        vec![dec!(100000), dec!(100000), dec!(100010)]
    );
    assert_eq!(h.kernel.bar_counts(), (3, 1), "held through bar 2 only");
    assert_eq!(h.kernel.fills().len(), 1);
}

#[test]
fn risk_refusal_reaches_strategy_and_audit_but_not_the_venue() {
    let cfg = KernelConfig {
        risk: RiskConfig {
            max_order_quantity: Some(dec!(5)),
            ..RiskConfig::default()
        },
        ..KernelConfig::default()
    };
    let mut h = harness(
        cfg,
        TestExec::default(),
        Box::new(|_, bar, ctx| {
            ctx.submit(OrderRequest::market(bar.instrument, Side::Buy, dec!(10)));
        }),
        vec![],
    );
    h.kernel.on_bar(&bar(0, 100.0));
    assert!(log(&h).contains(&"order 1 Denied denied by max_order_quantity pos=0".to_string()));
    assert!(h.seen.lock().unwrap().is_empty());
    assert_eq!(h.kernel.audit().count(AuditKind::RiskRefusal), 1);
    assert_eq!(
        h.kernel.order_manager().get(OrderId(1)).unwrap().state,
        OrderState::Denied
    );
}

#[test]
fn prompts_are_answered_by_policy() {
    for (decision, want_state, confirmed) in [
        (PromptDecision::Confirm, OrderState::Filled, true),
        (PromptDecision::Reject, OrderState::Rejected, false),
    ] {
        let mut prompts = PromptPolicy::default();
        prompts.rules.insert("o163".into(), decision);
        let cfg = KernelConfig {
            prompts,
            ..KernelConfig::default()
        };
        let exec = TestExec {
            prompt: Some(vec!["o163".into()]),
            ..TestExec::default()
        };
        let mut h = harness(
            cfg,
            exec,
            Box::new(|k, bar, ctx| {
                if k == 0 {
                    ctx.submit(OrderRequest::market(bar.instrument, Side::Buy, dec!(10)));
                }
            }),
            vec![],
        );
        h.kernel.on_bar(&bar(0, 100.0));
        let o = h.kernel.order_manager().get(OrderId(1)).unwrap();
        assert_eq!(o.state, want_state);
        assert_eq!(o.prompts, 1);
        let seen = h.seen.lock().unwrap();
        assert!(seen.iter().any(
            |c| matches!(c, ExecCommand::ReplyPrompt { confirmed: c, .. } if *c == confirmed)
        ));
        assert_eq!(h.kernel.audit().count(AuditKind::PromptDecision), 1);
    }
}

#[test]
fn timers_fire_in_time_order_before_later_events() {
    let mut h = harness(
        KernelConfig::default(),
        TestExec::default(),
        Box::new(|_, _, _| {}),
        vec![(MIN + 5, 2), (MIN + 2, 1), (10 * MIN, 3)],
    );
    h.kernel.on_bar(&bar(0, 100.0)); // ends at MIN: no timer yet
    h.kernel.on_bar(&bar(1, 100.0)); // ends at 2·MIN: timers 1 and 2
    let l = log(&h);
    assert_eq!(
        &l[1..],
        &[
            "bar 0 now=0 pos=0".to_string(),
            format!("timer 1 at={} now={}", MIN + 2, MIN + 2),
            format!("timer 2 at={} now={}", MIN + 5, MIN + 5),
            "bar 1 now=0 pos=0".to_string(),
        ]
    );
    assert_eq!(h.kernel.next_timer_due(), Some(10 * MIN));
}

#[test]
fn kill_switch_halts_trading_and_cancels_open_orders() {
    let cfg = KernelConfig {
        risk: RiskConfig {
            max_drawdown: Some(dec!(0.01)),
            ..RiskConfig::default()
        },
        ..KernelConfig::default()
    };
    let exec = TestExec {
        rest: true,
        ..TestExec::default()
    };
    let mut h = harness(
        cfg,
        exec,
        Box::new(|k, bar, ctx| {
            if k <= 2 {
                // The first order is big enough to carry the position the test fakes.
                let qty = if k == 0 { dec!(1000) } else { dec!(10) };
                ctx.submit(OrderRequest::limit(
                    bar.instrument,
                    Side::Buy,
                    qty,
                    dec!(50),
                ));
            }
        }),
        vec![],
    );
    h.kernel.on_bar(&bar(0, 100.0));
    // Fake a position by hand through a fill event on a resting order (the kernel books
    // only fills the order manager accepts, so it must fit the order).
    h.kernel
        .exec_fill_for_test(OrderId(1), dec!(1000), dec!(100));
    h.kernel.on_bar(&bar(1, 100.0));
    assert_eq!(h.kernel.risk().kill_switch(), KillSwitchState::Active);
    h.kernel.on_bar(&bar(2, 98.0)); // equity 100000 → 98000: 2 % drawdown
    assert_eq!(h.kernel.risk().kill_switch(), KillSwitchState::Halted);
    let om = h.kernel.order_manager();
    assert_eq!(om.get(OrderId(2)).unwrap().state, OrderState::Cancelled);
    assert_eq!(
        om.get(OrderId(3)).unwrap().state,
        OrderState::Denied,
        "orders after the halt are refused"
    );
    assert_eq!(h.kernel.audit().count(AuditKind::KillSwitch), 1);
}

mod live;

#[test]
fn sizing_helpers_trade_to_their_targets() {
    let seen_state = Arc::new(Mutex::new(Vec::new()));
    let state = seen_state.clone();
    let mut h = harness(
        KernelConfig::default(),
        TestExec::default(),
        Box::new(move |k, bar, ctx| {
            let i = bar.instrument;
            state.lock().unwrap().push((
                k,
                ctx.position(i),
                ctx.position_avg_price(i),
                ctx.open_quantity(i),
            ));
            let id = match k {
                // 10 % of 100,000 at 100: 100 shares (the fill comes at this close).
                1 => ctx.order_target_percent(i, dec!(0.10)),
                // Asked again at the same price: nothing more to do (a percent target
                // rebalances when the price moves).
                2 => ctx.order_target_percent(i, dec!(0.10)),
                3 => ctx.order_target(i, dec!(400)),
                // 5,000 at 104: 48.07 → 48 shares, toward zero.
                4 => ctx.order_target_value(i, dec!(5000)),
                5 => ctx.close_position(i),
                6 => ctx.close_position(i),
                _ => None,
            };
            assert_eq!(
                id.is_some(),
                matches!(k, 1 | 3 | 4 | 5),
                "bar {k}: an order only when the target differs"
            );
        }),
        vec![],
    );
    for (k, close) in [100.0, 100.0, 100.0, 103.0, 104.0, 105.0, 106.0]
        .iter()
        .enumerate()
    {
        h.kernel.on_bar(&bar(k as i64, *close));
    }
    h.kernel.stop();
    let fills: Vec<String> = log(&h).into_iter().filter(|l| l.contains("fill")).collect();
    assert_eq!(
        fills,
        [
            "order 1 Filled fill 100@100 pos=100",
            "order 2 Filled fill 300@103 pos=400",
            "order 3 Filled fill 352@104 pos=48",
            "order 4 Filled fill 48@105 pos=0",
        ]
    );
    let seen = seen_state.lock().unwrap();
    assert_eq!(seen[2], (2, dec!(100), Some(dec!(100)), dec!(0)));
    assert_eq!(seen[6].1, dec!(0));
    assert_eq!(seen[6].2, None, "flat: no average price");
}

#[test]
fn history_is_the_last_kept_bars_including_the_one_shown() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    let mut h = harness(
        KernelConfig::default(),
        TestExec::default(),
        Box::new(move |k, bar, ctx| {
            if k == 0 {
                assert!(
                    ctx.history(bar.instrument, 5).is_empty(),
                    "nothing kept yet"
                );
                ctx.keep_history(3);
            }
            let w = ctx.history(bar.instrument, 10);
            s.lock().unwrap().push(w.closes().collect::<Vec<_>>());
            if let Some(last) = w.last() {
                assert_eq!(last.ts_end, bar.ts_end, "the bar being shown is the newest");
            }
        }),
        vec![],
    );
    for k in 0..5 {
        h.kernel.on_bar(&bar(k, 100.0 + k as f64));
    }
    let seen = seen.lock().unwrap();
    assert_eq!(seen[0], Vec::<f64>::new());
    assert_eq!(seen[1], [101.0]);
    assert_eq!(seen[4], [102.0, 103.0, 104.0]);
}

/// Asks for 5-minute bars at the start; logs base and resampled bars with the time it sees.
struct TwoTimeframes {
    log: Arc<Mutex<Vec<String>>>,
}

impl Strategy for TwoTimeframes {
    fn on_start(&mut self, ctx: &mut dyn Ctx) {
        ctx.resample(crate::resample::Timeframe::minutes(5));
    }
    fn on_bar(&mut self, bar: &Bar, ctx: &mut dyn Ctx) {
        assert_eq!(ctx.now(), bar.ts_end);
        self.log.lock().unwrap().push(format!("1min {}", bar.close));
    }
    fn on_resampled(&mut self, tf: crate::resample::Timeframe, bar: &Bar, ctx: &mut dyn Ctx) {
        assert!(ctx.now() >= bar.ts_end, "no look-ahead");
        self.log.lock().unwrap().push(format!(
            "{} {}..{} o={} h={} l={} c={} v={}",
            tf.label(),
            bar.ts / MIN,
            bar.ts_end / MIN,
            bar.open,
            bar.high,
            bar.low,
            bar.close,
            bar.volume
        ));
        if bar.close > 104.0 {
            ctx.submit(OrderRequest::market(bar.instrument, Side::Buy, dec!(1)));
        }
    }
}

#[test]
fn a_second_timeframe_arrives_at_its_own_close_after_the_bar_that_completes_it() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut kernel = Kernel::new(
        KernelConfig::default(),
        vec![Instrument::stock("SPY")],
        Box::new(TwoTimeframes { log: log.clone() }),
        Box::new(TestExec::default()),
        Box::new(SimClock::new(0)),
    )
    .unwrap();
    for k in 0..12 {
        kernel.on_bar(&bar(k, 100.0 + k as f64));
    }
    kernel.stop();
    let log = log.lock().unwrap().clone();
    let at = |what: &str| log.iter().position(|l| l == what).unwrap_or(usize::MAX);
    assert_eq!(
        log[at("1min 104") + 1],
        "5min 0..5 o=100 h=105 l=99 c=104 v=500",
        "{log:?}"
    );
    assert_eq!(
        log[at("1min 109") + 1],
        "5min 5..10 o=105 h=110 l=104 c=109 v=500"
    );
    assert_eq!(
        log.iter().filter(|l| l.starts_with("5min")).count(),
        2,
        "10-11 never complete"
    );
    // Orders from a resampled bar go through like any other (the second 5-minute close).
    assert_eq!(kernel.order_manager().open_count(), 0);
    assert!(kernel.order_manager().get(OrderId(1)).is_some());
}

#[test]
fn buying_power_is_what_the_account_rule_leaves() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    let cfg = KernelConfig {
        risk: RiskConfig {
            account: Some(crate::risk::AccountKind::Margin),
            ..RiskConfig::default()
        },
        ..KernelConfig::default()
    };
    let mut h = harness(
        cfg,
        TestExec::default(),
        Box::new(move |k, bar, ctx| {
            s.lock().unwrap().push(ctx.buying_power());
            if k == 0 {
                ctx.submit(OrderRequest::market(bar.instrument, Side::Buy, dec!(100)));
            }
        }),
        vec![],
    );
    h.kernel.on_bar(&bar(0, 100.0));
    h.kernel.on_bar(&bar(1, 100.0));
    // Reg T: 100,000 of equity buys 200,000; holding 10,000 leaves (100,000 − 5,000) / 0.5.
    assert_eq!(
        *seen.lock().unwrap(),
        [Some(dec!(200000)), Some(dec!(190000))]
    );
    let none = harness(
        KernelConfig::default(),
        TestExec::default(),
        Box::new(|_, _, ctx| {
            assert_eq!(ctx.buying_power(), None, "no account configured");
        }),
        vec![],
    );
    let mut none = none;
    none.kernel.on_bar(&bar(0, 100.0));
}
