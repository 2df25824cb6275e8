//! Runs: numbering, the account binding, stable instrument ids, closing, the run lock, and
//! the journal's client order ids.

use tickline_engine::domain::{ClientOrderId, InstrumentId};

use super::support::{Dir, begin, stocks};
use crate::journal::{Journal, JournalError};

#[test]
fn client_order_ids_carry_the_journal_id_and_always_fit() {
    let d = Dir::new();
    let j = d.journal();
    assert_eq!(j.client_id_prefix(), "TL-1a2b3c4d-");
    let c = ClientOrderId::with_number(&j.client_id_prefix(), 17);
    assert_eq!(c.as_str(), "TL-1a2b3c4d-17");
    let longest = ClientOrderId::with_number(&j.client_id_prefix(), u64::MAX);
    assert_eq!(longest.as_str(), format!("TL-1a2b3c4d-{}", u64::MAX));
    assert!(longest.as_str().len() <= ClientOrderId::MAX_LEN);
}

#[test]
fn runs_are_numbered_bound_to_one_account_and_closed_with_a_summary() {
    let d = Dir::new();
    let mut j = d.journal();
    assert_eq!(j.account().unwrap(), None);
    assert_eq!(j.last_run().unwrap(), None);
    let r1 = begin(&mut j, "DU111", &stocks(&["SPY"]), 10).unwrap();
    assert_eq!(r1.run, 1);
    assert_eq!(j.account().unwrap().as_deref(), Some("DU111"));
    let last = j.last_run().unwrap().unwrap();
    assert!(!last.ended_cleanly(), "running");
    let summary = serde_json::json!({"positions_agree": true});
    j.end_run(1, 20, "duration elapsed", &summary).unwrap();
    drop(j);

    let mut j = Journal::open(d.path("j.sqlite")).unwrap();
    let err = begin(&mut j, "DU999", &stocks(&["SPY"]), 30).unwrap_err();
    assert!(matches!(err, JournalError::OtherAccount { .. }));
    assert_eq!(
        err.to_string(),
        format!(
            "journal {}: belongs to account DU111, not DU999",
            d.path("j.sqlite").display()
        )
    );
    assert!(j.check_account("DU999").is_err());
    j.check_account("DU111").unwrap();
    let r2 = begin(&mut j, "DU111", &stocks(&["SPY"]), 30).unwrap();
    assert_eq!(r2.run, 2);
    let runs = j.runs().unwrap();
    assert_eq!(runs.len(), 2);
    let first = &runs[0];
    assert_eq!(first.ended, Some(20));
    assert_eq!(first.stop_reason.as_deref(), Some("duration elapsed"));
    assert_eq!(first.summary.as_ref(), Some(&summary));
    assert_eq!(
        (
            first.mode.as_str(),
            first.venue.as_str(),
            first.strategy.as_str()
        ),
        ("paper", "test-venue", "ema_cross")
    );
    assert_eq!(first.params, "fast = 3, slow = 8");
    assert_eq!(first.instruments, vec!["SPY".to_string()]);
    assert!(first.ended_cleanly());
    assert!(!runs[1].ended_cleanly());
    let err = j.end_run(7, 1, "x", &serde_json::Value::Null).unwrap_err();
    assert!(
        err.to_string().contains("run 7: no such run to close"),
        "{err}"
    );
}

#[test]
fn instruments_keep_their_ids_across_runs_and_new_ones_come_after() {
    let d = Dir::new();
    let mut j = d.journal();
    let r1 = begin(&mut j, "DU1", &stocks(&["SPY", "QQQ"]), 1).unwrap();
    assert_eq!(r1.trade, vec![InstrumentId(0), InstrumentId(1)]);
    j.end_run(1, 2, "done", &serde_json::Value::Null).unwrap();
    // The next run trades AAPL and QQQ, with a changed definition of QQQ.
    let mut qqq = tickline_engine::domain::Instrument::stock("QQQ");
    qqq.tick_size = rust_decimal::dec!(0.05);
    let aapl = tickline_engine::domain::Instrument::stock("AAPL");
    let r2 = begin(&mut j, "DU1", &[aapl, qqq], 3).unwrap();
    assert_eq!(r2.trade, vec![InstrumentId(2), InstrumentId(1)]);
    let symbols: Vec<&str> = r2.instruments.iter().map(|i| i.symbol.as_str()).collect();
    assert_eq!(symbols, ["SPY", "QQQ", "AAPL"]);
    for (k, i) in r2.instruments.iter().enumerate() {
        assert_eq!(i.id, InstrumentId(k as u32));
    }
    assert_eq!(r2.instruments[1].tick_size, rust_decimal::dec!(0.05));
    // The stored definitions read back as prepared instruments.
    let mut spy = tickline_engine::domain::Instrument::stock("SPY");
    spy.id = InstrumentId(0);
    assert_eq!(j.instruments().unwrap()[0], spy);
}

#[test]
fn two_runs_never_share_a_journal_at_once() {
    let d = Dir::new();
    let mut a = d.journal();
    begin(&mut a, "DU1", &stocks(&["SPY"]), 1).unwrap();
    let mut b = Journal::open(d.path("j.sqlite")).unwrap();
    let err = begin(&mut b, "DU1", &stocks(&["SPY"]), 2).unwrap_err();
    assert!(matches!(err, JournalError::InUse { .. }), "{err:?}");
    assert!(err.to_string().contains("in use by another run"), "{err}");
    assert_eq!(
        b.runs().unwrap().len(),
        1,
        "nothing recorded by the refused run"
    );
    // The lock goes with the handle (or the process).
    drop(a);
    assert_eq!(begin(&mut b, "DU1", &stocks(&["SPY"]), 3).unwrap().run, 2);
}
