//! The kernel's live-runtime behaviour: journaling before sending, exactly-once executions,
//! late venue reports, prompts on modifications, warm-up, restore, paused entries.

use std::sync::{Arc, Mutex};

use rust_decimal::dec;

use super::{I, MIN, bar};
use crate::audit::AuditKind;
use crate::clock::SimClock;
use crate::connectivity::{Connectivity, LinkState};
use crate::domain::{
    Bar, ExecId, Fill, Instrument, OrderId, OrderModify, OrderRequest, Side, TimeInForce,
};
use crate::execution::{ExecCommand, ExecEvent, ExecutionClient, Prompt};
use crate::kernel::{Kernel, KernelConfig};
use crate::order::{OrderState, OrderUpdate, PromptDecision, PromptPolicy};
use crate::record::{Record, RecordError, Recorder};
use crate::risk::{KillSwitchState, PauseReason, RefusalReason};
use crate::strategy::{Ctx, Strategy};

type Log = Arc<Mutex<Vec<String>>>;

/// A venue that answers nothing by itself: tests inject its reports.
struct QuietExec {
    log: Log,
}

impl ExecutionClient for QuietExec {
    fn send(&mut self, cmd: ExecCommand) {
        let what = match &cmd {
            ExecCommand::Submit { order_id, .. } => format!("send submit {order_id}"),
            ExecCommand::Cancel { order_id } => format!("send cancel {order_id}"),
            ExecCommand::Modify { order_id, .. } => format!("send modify {order_id}"),
            ExecCommand::ReplyPrompt {
                order_id,
                confirmed,
                ..
            } => format!("send reply {order_id} {confirmed}"),
            ExecCommand::SuppressQuestions { .. } => "send suppress".to_string(),
        };
        self.log.lock().unwrap().push(what);
    }
    fn poll(&mut self, _out: &mut Vec<ExecEvent>) {}
    fn name(&self) -> &str {
        "quiet"
    }
}

/// A journal double: logs records and commits; `fail` makes commits of new records fail.
struct JournalDouble {
    log: Log,
    fail: bool,
    dirty: bool,
}

impl Recorder for JournalDouble {
    fn record(&mut self, record: Record<'_>) {
        self.dirty = true;
        let what = match record {
            Record::Command { command, .. } => {
                format!("journal command {:?}", command.order_id())
            }
            Record::Fill(f) => format!(
                "journal fill {} {} commission {}",
                f.fill.order_id, f.fill.exec_id, f.fill.commission
            ),
            Record::SubmitIntent { order_id, .. } => format!("journal intent {order_id}"),
            Record::RiskDecision {
                order_id, refusal, ..
            } => format!("journal risk {order_id} {}", refusal.is_none()),
            _ => return,
        };
        self.log.lock().unwrap().push(what);
    }
    fn commit(&mut self) -> Result<(), RecordError> {
        if !std::mem::take(&mut self.dirty) {
            return Ok(());
        }
        if self.fail {
            return Err(RecordError("disk full".into()));
        }
        self.log.lock().unwrap().push("commit".into());
        Ok(())
    }
}

/// What a test strategy does on bar `k`.
type Plan = Box<dyn FnMut(usize, &Bar, &mut dyn Ctx) + Send>;

struct Scripted {
    plan: Plan,
    k: usize,
    log: Log,
}

impl Strategy for Scripted {
    fn on_bar(&mut self, bar: &Bar, ctx: &mut dyn Ctx) {
        if ctx.is_warming_up() {
            self.log.lock().unwrap().push("warm-up bar".into());
        }
        (self.plan)(self.k, bar, ctx);
        self.k += 1;
    }
    fn on_order(&mut self, u: &OrderUpdate, _ctx: &mut dyn Ctx) {
        self.log
            .lock()
            .unwrap()
            .push(format!("strategy order {} {:?}", u.order_id, u.state));
    }
    fn on_connectivity(&mut self, state: &Connectivity, _ctx: &mut dyn Ctx) {
        self.log
            .lock()
            .unwrap()
            .push(format!("strategy link {state}"));
    }
}

struct Live {
    kernel: Kernel,
    log: Log,
}

fn live(cfg: KernelConfig, journal: Option<bool>, plan: Plan) -> Live {
    let log: Log = Arc::default();
    let mut kernel = Kernel::new(
        cfg,
        vec![Instrument::stock("SPY")],
        Box::new(Scripted {
            plan,
            k: 0,
            log: log.clone(),
        }),
        Box::new(QuietExec { log: log.clone() }),
        Box::new(SimClock::new(0)),
    )
    .unwrap();
    if let Some(fail) = journal {
        kernel.set_recorder(Box::new(JournalDouble {
            log: log.clone(),
            fail,
            dirty: false,
        }));
    }
    Live { kernel, log }
}

fn lines(l: &Live) -> Vec<String> {
    l.log.lock().unwrap().clone()
}

fn buy_limit(qty: rust_decimal::Decimal) -> Plan {
    Box::new(move |k, bar, ctx| {
        if k == 0 {
            ctx.submit(OrderRequest::limit(
                bar.instrument,
                Side::Buy,
                qty,
                dec!(99),
            ));
        }
    })
}

fn fill(
    order: u64,
    qty: rust_decimal::Decimal,
    exec: &str,
    commission: rust_decimal::Decimal,
) -> ExecEvent {
    ExecEvent::Filled(Fill {
        order_id: OrderId(order),
        instrument: I,
        side: Side::Buy,
        quantity: qty,
        price: dec!(99),
        commission,
        ts: MIN,
        exec_id: ExecId::new(exec).unwrap(),
    })
}

fn accepted(order: u64) -> ExecEvent {
    ExecEvent::Accepted {
        order_id: OrderId(order),
        broker_order_id: Some(700 + order),
        ts: MIN,
    }
}

fn state(l: &Live, id: u64) -> OrderState {
    l.kernel.order_manager().get(OrderId(id)).unwrap().state
}

#[test]
fn commands_reach_the_venue_only_after_the_journal_committed_them() {
    let mut l = live(KernelConfig::default(), Some(false), buy_limit(dec!(10)));
    l.kernel.on_bar(&bar(0, 100.0));
    let log = lines(&l);
    let pos = |s: &str| {
        log.iter()
            .position(|x| x == s)
            .unwrap_or_else(|| panic!("{s} in {log:?}"))
    };
    assert!(pos("journal intent 1") < pos("journal risk 1 true"));
    assert!(pos("journal risk 1 true") < pos("journal command Some(OrderId(1))"));
    let command = pos("journal command Some(OrderId(1))");
    let commit = command + log[command..].iter().position(|x| x == "commit").unwrap();
    assert!(commit < pos("send submit 1"), "{log:?}");
    assert_eq!(l.kernel.held_commands(), 0);
}

#[test]
fn a_failed_commit_sends_nothing_rejects_and_halts() {
    let mut l = live(KernelConfig::default(), Some(true), buy_limit(dec!(10)));
    l.kernel.on_bar(&bar(0, 100.0));
    let log = lines(&l);
    assert!(!log.iter().any(|x| x.starts_with("send")), "{log:?}");
    assert_eq!(state(&l, 1), OrderState::Rejected);
    assert!(
        l.kernel
            .order_manager()
            .get(OrderId(1))
            .unwrap()
            .reason
            .as_deref()
            == Some("not sent: journal: disk full")
    );
    assert_eq!(l.kernel.risk().kill_switch(), KillSwitchState::Halted);
    assert_eq!(l.kernel.held_commands(), 0);
}

#[test]
fn an_execution_is_booked_once_whatever_reports_it_again() {
    let mut l = live(KernelConfig::default(), Some(false), buy_limit(dec!(10)));
    l.kernel.on_bar(&bar(0, 100.0));
    l.kernel
        .apply_reports([accepted(1), fill(1, dec!(4), "E1", dec!(1))]);
    l.kernel.apply_reports([fill(1, dec!(4), "E1", dec!(1))]);
    assert_eq!(l.kernel.portfolio().quantity(I), dec!(4));
    assert_eq!(l.kernel.fills().len(), 1);
    assert_eq!(state(&l, 1), OrderState::PartiallyFilled);
    assert_eq!(l.kernel.audit().count(AuditKind::VenueReport), 1);
}

#[test]
fn a_late_commission_corrects_the_fill_the_order_and_cash() {
    let mut l = live(KernelConfig::default(), Some(false), buy_limit(dec!(10)));
    l.kernel.on_bar(&bar(0, 100.0));
    l.kernel
        .apply_reports([accepted(1), fill(1, dec!(10), "E1", dec!(0))]);
    let cash_before = l.kernel.portfolio().cash();
    l.kernel.apply_reports([ExecEvent::Commission {
        order_id: OrderId(1),
        exec_id: ExecId::new("E1").unwrap(),
        commission: dec!(1.25),
        ts: MIN,
    }]);
    assert_eq!(l.kernel.fills()[0].fill.commission, dec!(1.25));
    assert_eq!(l.kernel.portfolio().cash(), cash_before - dec!(1.25));
    assert_eq!(l.kernel.portfolio().commissions(), dec!(1.25));
    let o = l.kernel.order_manager().get(OrderId(1)).unwrap();
    assert_eq!(o.commission, dec!(1.25));
    assert!(lines(&l).contains(&"journal fill 1 E1 commission 1.25".to_string()));
    // A commission for an execution nobody reported is noted, not booked.
    l.kernel.apply_reports([ExecEvent::Commission {
        order_id: OrderId(1),
        exec_id: ExecId::new("E9").unwrap(),
        commission: dec!(3),
        ts: MIN,
    }]);
    assert_eq!(l.kernel.portfolio().commissions(), dec!(1.25));
    assert_eq!(l.kernel.audit().count(AuditKind::VenueReport), 1);
}

#[test]
fn a_fill_after_the_cancel_is_booked() {
    let plan: Plan = Box::new(|k, bar, ctx| match k {
        0 => {
            ctx.submit(OrderRequest::limit(
                bar.instrument,
                Side::Buy,
                dec!(10),
                dec!(99),
            ));
        }
        1 => ctx.cancel(OrderId(1)),
        _ => {}
    });
    let mut l = live(KernelConfig::default(), Some(false), plan);
    l.kernel.on_bar(&bar(0, 100.0));
    l.kernel.apply_reports([accepted(1)]);
    l.kernel.on_bar(&bar(1, 100.0));
    assert_eq!(state(&l, 1), OrderState::PendingCancel);
    l.kernel.apply_reports([ExecEvent::Cancelled {
        order_id: OrderId(1),
        reason: None,
        ts: MIN,
    }]);
    assert_eq!(state(&l, 1), OrderState::Cancelled);
    // IBKR reports an execution of the cancelled order afterwards.
    l.kernel.apply_reports([fill(1, dec!(3), "late", dec!(1))]);
    assert_eq!(state(&l, 1), OrderState::Cancelled);
    assert_eq!(l.kernel.portfolio().quantity(I), dec!(3));
    assert_eq!(
        l.kernel.order_manager().get(OrderId(1)).unwrap().filled_qty,
        dec!(3)
    );
    assert!(l.kernel.order_manager().open_ids().is_empty());
    assert_eq!(l.kernel.audit().count(AuditKind::IllegalTransition), 0);
}

#[test]
fn a_rejection_after_the_cancel_request_is_applied() {
    let plan: Plan = Box::new(|k, bar, ctx| match k {
        0 => {
            ctx.submit(OrderRequest::limit(
                bar.instrument,
                Side::Buy,
                dec!(10),
                dec!(99),
            ));
        }
        1 => ctx.cancel(OrderId(1)),
        _ => {}
    });
    let mut l = live(KernelConfig::default(), Some(false), plan);
    l.kernel.on_bar(&bar(0, 100.0));
    l.kernel.on_bar(&bar(1, 100.0));
    assert_eq!(
        state(&l, 1),
        OrderState::PendingCancel,
        "cancel before the ack"
    );
    l.kernel.apply_reports([ExecEvent::Rejected {
        order_id: OrderId(1),
        reason: "price too far".into(),
        ts: MIN,
    }]);
    assert_eq!(state(&l, 1), OrderState::Rejected);
    assert!(lines(&l).contains(&"strategy order 1 Rejected".to_string()));
    assert!(l.kernel.order_manager().open_ids().is_empty());
    assert_eq!(l.kernel.audit().count(AuditKind::IllegalTransition), 0);
}

#[test]
fn a_fill_the_order_manager_refuses_is_never_booked() {
    let mut l = live(KernelConfig::default(), Some(false), buy_limit(dec!(10)));
    l.kernel.on_bar(&bar(0, 100.0));
    l.kernel
        .apply_reports([accepted(1), fill(1, dec!(50), "E1", dec!(1))]);
    assert_eq!(l.kernel.portfolio().quantity(I), dec!(0));
    assert!(l.kernel.fills().is_empty());
    assert_eq!(l.kernel.audit().count(AuditKind::IllegalTransition), 1);
    // The execution id was not consumed: the corrected report still books.
    l.kernel.apply_reports([fill(1, dec!(10), "E1", dec!(1))]);
    assert_eq!(l.kernel.portfolio().quantity(I), dec!(10));
}

#[test]
fn questions_about_a_modification_go_through_the_prompt_policy() {
    let mut prompts = PromptPolicy::default();
    prompts.rules.insert("o163".into(), PromptDecision::Confirm);
    let cfg = KernelConfig {
        prompts,
        ..KernelConfig::default()
    };
    let plan: Plan = Box::new(|k, bar, ctx| match k {
        0 => {
            ctx.submit(OrderRequest::limit(
                bar.instrument,
                Side::Buy,
                dec!(10),
                dec!(99),
            ));
        }
        1 | 2 => ctx.modify(
            OrderId(1),
            OrderModify {
                limit_price: Some(dec!(95)),
                ..OrderModify::default()
            },
        ),
        _ => {}
    });
    let mut l = live(cfg, Some(false), plan);
    l.kernel.on_bar(&bar(0, 100.0));
    l.kernel.apply_reports([accepted(1)]);
    l.kernel.on_bar(&bar(1, 100.0));
    assert_eq!(state(&l, 1), OrderState::PendingModify);
    let prompt = |id: &str| ExecEvent::Prompt {
        order_id: OrderId(1),
        prompt: Prompt {
            reply_id: format!("r-{id}"),
            message_ids: vec![id.to_string()],
            messages: vec![format!("question {id}")],
        },
        ts: MIN,
    };
    l.kernel.apply_reports([prompt("o163")]);
    assert_eq!(state(&l, 1), OrderState::PendingModify);
    assert!(lines(&l).contains(&"send reply 1 true".to_string()));
    l.kernel.apply_reports([ExecEvent::Modified {
        order_id: OrderId(1),
        request: Box::new(OrderRequest::limit(I, Side::Buy, dec!(10), dec!(95))),
        ts: MIN,
    }]);
    assert_eq!(state(&l, 1), OrderState::Working);
    // A question the policy does not confirm abandons the modification, not the order.
    l.kernel.on_bar(&bar(2, 100.0));
    l.kernel.apply_reports([prompt("o999")]);
    let o = l.kernel.order_manager().get(OrderId(1)).unwrap();
    assert_eq!(o.state, OrderState::Working);
    assert!(o.pending_modify.is_none());
    assert_eq!(o.request.limit_price, Some(dec!(95)));
    assert!(lines(&l).contains(&"send reply 1 false".to_string()));
    assert_eq!(l.kernel.audit().count(AuditKind::PromptDecision), 2);
}

#[test]
fn warm_up_bars_reach_the_strategy_but_no_order_is_made() {
    let plan: Plan = Box::new(|_, bar, ctx| {
        ctx.submit(OrderRequest::market(bar.instrument, Side::Buy, dec!(1)));
        ctx.set_timer(ctx.now() + 1, 0);
    });
    let mut l = live(KernelConfig::default(), Some(false), plan);
    for k in 0..3 {
        l.kernel.warm_up(&bar(k, 100.0));
    }
    assert_eq!(l.kernel.warmup_ignored(), 6);
    assert!(l.kernel.order_manager().orders().is_empty());
    assert_eq!(l.kernel.next_timer_due(), None);
    assert_eq!(
        l.kernel.bar_counts(),
        (0, 0),
        "warm-up bars are not part of the run"
    );
    l.kernel.on_bar(&bar(3, 100.0));
    assert_eq!(l.kernel.order_manager().orders().len(), 1);
    assert_eq!(l.kernel.order_manager().orders()[0].id, OrderId(1));
    let log = lines(&l);
    assert_eq!(log.iter().filter(|x| *x == "warm-up bar").count(), 3);
}

#[test]
fn a_restored_journal_resumes_ids_books_and_known_executions() {
    // Run 1: one order, filled.
    let mut first = live(KernelConfig::default(), Some(false), buy_limit(dec!(10)));
    first.kernel.on_bar(&bar(0, 100.0));
    first
        .kernel
        .apply_reports([accepted(1), fill(1, dec!(10), "E1", dec!(1))]);
    let orders = first.kernel.order_manager().orders().to_vec();
    let fills = first.kernel.fills().to_vec();

    // Run 2 on the same journal.
    let plan: Plan = Box::new(|k, bar, ctx| {
        if k == 0 {
            assert_eq!(ctx.position(bar.instrument), dec!(10));
            let id = ctx.submit(
                OrderRequest::limit(bar.instrument, Side::Sell, dec!(10), dec!(101))
                    .with_tif(TimeInForce::Gtc),
            );
            assert_eq!(id, OrderId(2), "ids continue after the journal's last");
        }
    });
    let mut second = live(KernelConfig::default(), Some(false), plan);
    second.kernel.restore(orders, fills).unwrap();
    assert_eq!(second.kernel.portfolio().quantity(I), dec!(10));
    second.kernel.on_bar(&bar(1, 100.0));
    assert_eq!(state(&second, 2), OrderState::PendingSubmit);
    // The venue replays run 1's execution (e.g. the trades endpoint after a reconnect).
    second
        .kernel
        .apply_reports([fill(1, dec!(10), "E1", dec!(1))]);
    assert_eq!(second.kernel.portfolio().quantity(I), dec!(10));
    assert_eq!(second.kernel.fills().len(), 1);
    // Restoring twice is refused.
    assert!(second.kernel.restore(Vec::new(), Vec::new()).is_err());
}

#[test]
fn paused_entries_let_only_exits_through_and_the_strategy_hears_of_it() {
    let plan: Plan = Box::new(|k, bar, ctx| match k {
        0 => {
            ctx.submit(OrderRequest::market(bar.instrument, Side::Buy, dec!(5)));
        }
        1 => {
            ctx.submit(OrderRequest::market(bar.instrument, Side::Sell, dec!(5)));
        }
        _ => {}
    });
    let mut l = live(KernelConfig::default(), None, plan);
    l.kernel.set_books(dec!(100000), &[(I, dec!(5), dec!(100))]);
    let degraded = Connectivity {
        session: LinkState::Down,
        feed: LinkState::Up,
        entries_paused: Some(PauseReason::SessionLost),
    };
    l.kernel.set_connectivity(degraded);
    l.kernel.on_bar(&bar(0, 100.0));
    let o = l.kernel.order_manager().get(OrderId(1)).unwrap();
    assert_eq!(o.state, OrderState::Denied);
    assert_eq!(
        o.refusal.as_ref().unwrap().reason,
        RefusalReason::EntriesPaused {
            reason: PauseReason::SessionLost
        }
    );
    l.kernel.on_bar(&bar(1, 100.0));
    assert_eq!(state(&l, 2), OrderState::PendingSubmit, "an exit passes");
    l.kernel.set_connectivity(Connectivity::UP);
    let log = lines(&l);
    assert!(log.contains(
        &"strategy link session down, feed up, entries paused (session lost)".to_string()
    ));
    assert!(log.contains(&"strategy link session up, feed up".to_string()));
    assert_eq!(l.kernel.audit().count(AuditKind::Connectivity), 2);
}
