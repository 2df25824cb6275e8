//! Operator commands across two connections (two processes in `tests/journal.rs` of the
//! CLI), and `journal show`'s overview.

use rust_decimal::dec;
use tickline_engine::risk::KillSwitchState;

use super::support::{Dir, begin, stocks};
use crate::journal::{Journal, LiveJournal};
use crate::runner::{ControlCommand, RunJournal};

#[test]
fn a_command_from_another_connection_is_taken_once_and_marked_applied() {
    let d = Dir::new();
    let mut runtime = d.journal();
    let run = begin(&mut runtime, "DU1", &stocks(&["SPY"]), 0)
        .unwrap()
        .run;
    assert!(runtime.take_control_commands(run, 1).unwrap().is_empty());

    let operator = Journal::open(d.path("j.sqlite")).unwrap();
    let halt = operator
        .request_control(ControlCommand::KillSwitch(KillSwitchState::Halted), 5)
        .unwrap();
    let reduce = operator
        .request_control(ControlCommand::KillSwitch(KillSwitchState::Reducing), 6)
        .unwrap();
    assert_eq!(operator.control_entry(halt).unwrap().unwrap().applied, None);

    assert_eq!(
        runtime.take_control_commands(run, 7).unwrap(),
        [
            ControlCommand::KillSwitch(KillSwitchState::Halted),
            ControlCommand::KillSwitch(KillSwitchState::Reducing)
        ]
    );
    assert!(
        runtime.take_control_commands(run, 8).unwrap().is_empty(),
        "once"
    );
    let log = operator.control_log().unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].id, halt);
    assert_eq!(log[1].id, reduce);
    assert_eq!(log[0].requested, 5);
    assert!(log.iter().all(|e| e.applied == Some((7, run))));
}

#[test]
fn every_command_reads_back_and_an_unknown_one_is_an_error() {
    use crate::journal::control::{control_name, parse_control};
    for c in [
        ControlCommand::KillSwitch(KillSwitchState::Halted),
        ControlCommand::KillSwitch(KillSwitchState::Reducing),
        ControlCommand::KillSwitch(KillSwitchState::Active),
        ControlCommand::Stop,
    ] {
        assert_eq!(parse_control(control_name(c)), Some(c));
    }
    let d = Dir::new();
    let mut j = d.journal();
    j.conn
        .execute(
            "INSERT INTO control (requested, command) VALUES (1, 'explode')",
            [],
        )
        .unwrap();
    let err = j.take_control_commands(1, 2).unwrap_err();
    assert!(
        err.to_string()
            .contains("control row 1: unknown command \"explode\""),
        "{err}"
    );
    assert_eq!(j.control_log().unwrap_err().to_string(), err.to_string());
}

#[test]
fn the_live_journal_serves_the_loop() {
    let d = Dir::new();
    let mut j = d.journal();
    let run = begin(&mut j, "DU1", &stocks(&["SPY"]), 0).unwrap().run;
    let operator = Journal::open(d.path("j.sqlite")).unwrap();
    let mut live = LiveJournal::new(j, run, d.path("out"), false);
    operator.request_control(ControlCommand::Stop, 1).unwrap();
    assert_eq!(live.take_control().unwrap(), [ControlCommand::Stop]);
    let mut rec = live.recorder().unwrap();
    rec.record(tickline_engine::record::Record::Equity {
        ts: 3,
        equity: dec!(5),
    });
    rec.commit().unwrap();
    let written = live.write_results().unwrap();
    assert!(written.files.iter().any(|f| f.ends_with("equity.csv")));
    live.end_run(
        4,
        "stopped by operator",
        &serde_json::json!({"positions_agree": true}),
    )
    .unwrap();
    let last = operator.last_run().unwrap().unwrap();
    assert_eq!(last.stop_reason.as_deref(), Some("stopped by operator"));
    assert_eq!(last.ended, Some(4));
}

#[test]
fn the_overview_shows_runs_orders_positions_and_events() {
    use tickline_engine::domain::{ExecId, Fill, InstrumentId, OrderId, OrderRequest, Side};
    use tickline_engine::execution::ExecEvent;

    use super::support::{MIN, bar, kernel};
    let d = Dir::new();
    let mut j = d.journal();
    let r = begin(&mut j, "DU7", &stocks(&["SPY", "QQQ"]), 0).unwrap();
    let buy = OrderRequest::market(InstrumentId(1), Side::Buy, dec!(5));
    let rest = OrderRequest::limit(InstrumentId(0), Side::Sell, dec!(2), dec!(200));
    let (mut k, _) = kernel(&j, r.instruments.clone(), vec![vec![buy, rest]]);
    k.set_recorder(Box::new(j.recorder(r.run).unwrap()));
    k.on_bar(&bar(0, 100.0));
    k.apply_reports([
        ExecEvent::Accepted {
            order_id: OrderId(2),
            broker_order_id: Some(9),
            ts: MIN,
        },
        ExecEvent::Filled(Fill {
            order_id: OrderId(1),
            instrument: InstrumentId(1),
            side: Side::Buy,
            quantity: dec!(5),
            price: dec!(300),
            commission: dec!(1),
            ts: MIN,
            exec_id: ExecId::new("q.1").unwrap(),
        }),
    ]);
    j.request_control(ControlCommand::KillSwitch(KillSwitchState::Halted), MIN)
        .unwrap();
    let o = j.overview(1).unwrap();
    assert_eq!(o.journal_id.as_str(), "1a2b3c4d");
    assert_eq!(o.account.as_deref(), Some("DU7"));
    assert_eq!(o.runs.len(), 1);
    assert_eq!(o.orders, 2);
    assert_eq!(o.orders_by_state, [("Filled", 1), ("Working", 1)]);
    assert_eq!(o.open_orders.len(), 1);
    assert_eq!(o.open_orders[0].1, "SPY");
    assert_eq!(o.fills, 1);
    assert_eq!(o.positions.len(), 1);
    assert_eq!(
        (
            o.positions[0].symbol.as_str(),
            o.positions[0].quantity,
            o.positions[0].avg_price
        ),
        ("QQQ", dec!(5), dec!(300))
    );
    assert_eq!(o.last_events.len(), 1);
    assert_eq!(o.last_events[0].kind, "filled");
    assert_eq!(o.control.len(), 1);
}
