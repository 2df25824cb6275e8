//! The results of a journal — every run of it — in the backtest's terms
//! ([`BacktestOutput`], [`RunInfo`]), and the usual results folder written from them.
//!
//! * orders, fills (`trades.csv` with client order and execution ids) and audit lines are
//!   the journal's, over all runs;
//! * the equity curve is every sample of every run in order (a sample at or before the
//!   previous one's time replaces it, so times strictly increase);
//! * "bars" are the equity samples, "bars in market" those with a position open (positions
//!   from the journal's fills);
//! * initial cash is the first equity sample (live books start from the broker's), final
//!   equity the last; final cash is the initial figure plus the cash flows of the journal's
//!   fills;
//! * the kill switch is where the last run's audit left it;
//! * run time is the sum of the runs' durations (a run still open counts up to its last
//!   equity sample).

use std::path::Path;

use rust_decimal::Decimal;
use tickline_backtest::output::{RunInfo, Written, write_results_titled};
use tickline_backtest::runner::BacktestOutput;
use tickline_backtest::stats::rfc3339;
use tickline_engine::audit::{AuditKind, AuditRecord};
use tickline_engine::domain::{OrderId, Ts};
use tickline_engine::kernel::{EquityCurve, FillRecord};
use tickline_engine::portfolio::Portfolio;
use tickline_engine::risk::KillSwitchState;

use super::codec;
use super::error::{JournalError, invalid, sql};
use super::handle::Journal;
use super::runs::RunRecord;

/// A journal's results, ready for [`tickline_backtest::output::write_results`].
#[derive(Debug)]
pub struct JournalResults {
    pub output: BacktestOutput,
    pub info: RunInfo,
    pub runs: Vec<RunRecord>,
    /// The report's title (`Tickline paper run: ema_cross`).
    pub title: String,
}

impl Journal {
    /// Build the results of every run of the journal.
    pub fn results(&self) -> Result<JournalResults, JournalError> {
        let r = self.restore()?;
        let runs = self.runs()?;
        let equity = self.equity()?;
        let audit_rows = self.audit_rows()?;
        let initial_cash = equity.equity.first().copied().unwrap_or_default();
        let final_equity = equity.equity.last().copied().unwrap_or(initial_cash);
        let (bars_in_market, mut portfolio) = exposure(&r.instruments, &r.fills, &equity.ts);
        portfolio.set_cash(initial_cash + cash_flow(&r.instruments, &r.fills));
        let last_seen = equity.ts.last().copied();
        let run_seconds = runs
            .iter()
            .map(|run| {
                let end = run.ended.or(last_seen).unwrap_or(run.started);
                (end.saturating_sub(run.started)).max(0) as f64 / 1e9
            })
            .sum();
        let last_run = runs.last().map(|x| x.run);
        let kill_switch = last_kill_switch(&audit_rows, last_run);
        let audit = audit_rows.into_iter().map(|(_, a)| a).collect();
        let output = BacktestOutput {
            positions: portfolio.positions().to_vec(),
            final_cash: portfolio.cash(),
            final_equity,
            bars: equity.ts.len() as u64,
            bars_in_market,
            instruments: r.instruments,
            fills: r.fills,
            orders: r.orders,
            audit,
            equity,
            initial_cash,
            kill_switch,
            run_seconds,
        };
        let (info, title) = self.run_info(&runs, &r.account);
        Ok(JournalResults {
            output,
            info,
            runs,
            title,
        })
    }

    /// Write the results folder (`trades.csv`, `orders.csv`, `equity.csv`, `audit.csv`,
    /// `summary.json`, and `report.html` when `html`) into `dir` from the journal.
    pub fn export(&self, dir: &Path, html: bool) -> Result<Written, JournalError> {
        let res = self.results()?;
        let mut written = write_results_titled(&res.output, &res.info, dir, html, &res.title)?;
        written.files.sort();
        Ok(written)
    }

    /// The equity samples of every run, times strictly increasing.
    pub fn equity(&self) -> Result<EquityCurve, JournalError> {
        let err = sql(&self.path, "reading the equity samples");
        let mut st = self
            .conn
            .prepare("SELECT seq, ts, equity FROM equity ORDER BY seq")
            .map_err(&err)?;
        let mut rows = st.query([]).map_err(&err)?;
        let mut curve = EquityCurve::default();
        while let Some(row) = rows.next().map_err(&err)? {
            let seq: i64 = row.get(0).map_err(&err)?;
            let ts: Ts = row.get(1).map_err(&err)?;
            let text: String = row.get(2).map_err(&err)?;
            let value = codec::decimal(&text)
                .map_err(|e| invalid(&self.path, format!("equity row {seq}"), e.0))?;
            match curve.ts.last() {
                Some(&prev) if ts <= prev => {
                    if let Some(v) = curve.equity.last_mut() {
                        *v = value;
                    }
                }
                _ => {
                    curve.ts.push(ts);
                    curve.equity.push(value);
                }
            }
        }
        Ok(curve)
    }

    /// Every audit line in order.
    pub fn audit(&self) -> Result<Vec<AuditRecord>, JournalError> {
        Ok(self.audit_rows()?.into_iter().map(|(_, a)| a).collect())
    }

    /// Every audit line in order, with its run.
    fn audit_rows(&self) -> Result<Vec<(u32, AuditRecord)>, JournalError> {
        let err = sql(&self.path, "reading the audit");
        let mut st = self
            .conn
            .prepare("SELECT seq, run, ts, kind, order_id, detail FROM audit ORDER BY seq")
            .map_err(&err)?;
        let mut rows = st.query([]).map_err(&err)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(&err)? {
            let seq: i64 = row.get(0).map_err(&err)?;
            let kind: String = row.get(3).map_err(&err)?;
            let kind = codec::audit_kind(&kind)
                .map_err(|e| invalid(&self.path, format!("audit row {seq}"), e.0))?;
            let record = AuditRecord {
                ts: row.get(2).map_err(&err)?,
                kind,
                order_id: row
                    .get::<_, Option<i64>>(4)
                    .map_err(&err)?
                    .map(|o| OrderId(o as u64)),
                detail: row.get(5).map_err(&err)?,
            };
            out.push((row.get(1).map_err(&err)?, record));
        }
        Ok(out)
    }

    fn run_info(&self, runs: &[RunRecord], account: &Option<String>) -> (RunInfo, String) {
        let mut strategies: Vec<&str> = Vec::new();
        let mut modes: Vec<&str> = Vec::new();
        for r in runs {
            if !strategies.contains(&r.strategy.as_str()) {
                strategies.push(&r.strategy);
            }
            if !modes.contains(&r.mode.as_str()) {
                modes.push(&r.mode);
            }
        }
        let strategy = strategies.join(", ");
        let mode = if modes.is_empty() {
            "live".to_string()
        } else {
            modes.join("/")
        };
        let mut extra = vec![
            ("Mode".to_string(), mode.clone()),
            (
                "Journal".to_string(),
                format!("{} ({})", self.id, self.path.display()),
            ),
            (
                "Account".to_string(),
                account.clone().unwrap_or_else(|| "-".into()),
            ),
            ("Runs".to_string(), runs.len().to_string()),
        ];
        for r in runs {
            let end = match (&r.ended, &r.stop_reason) {
                (Some(t), Some(why)) => format!("{} ({why})", rfc3339(*t)),
                (Some(t), None) => rfc3339(*t),
                (None, _) => "not closed (running, or it crashed)".to_string(),
            };
            extra.push((
                format!("Run {}", r.run),
                format!(
                    "{} on {} {}, {} → {end}",
                    r.strategy,
                    r.venue,
                    r.mode,
                    rfc3339(r.started)
                ),
            ));
        }
        let info = RunInfo {
            strategy: strategy.clone(),
            params: runs.last().map(|r| r.params.clone()).unwrap_or_default(),
            data_files: Vec::new(),
            load_seconds: 0.0,
            extra,
        };
        let title = format!("Tickline {mode} run: {strategy}");
        (info, title)
    }
}

/// Bars with a position open (samples whose time is after fills leaving a position), and
/// the portfolio the fills build.
fn exposure(
    instruments: &[tickline_engine::domain::Instrument],
    fills: &[FillRecord],
    ts: &[Ts],
) -> (u64, Portfolio) {
    let mut portfolio = Portfolio::new(Decimal::ZERO, instruments);
    let mut by_time: Vec<&FillRecord> = fills.iter().collect();
    by_time.sort_by_key(|f| f.fill.ts);
    let mut next = 0;
    let mut in_market = 0;
    for &t in ts {
        while let Some(f) = by_time.get(next).filter(|f| f.fill.ts <= t) {
            portfolio.apply_fill(&f.fill);
            next += 1;
        }
        if portfolio.in_market() {
            in_market += 1;
        }
    }
    for f in &by_time[next..] {
        portfolio.apply_fill(&f.fill);
    }
    (in_market, portfolio)
}

/// Cash the fills moved: sales in, purchases out, commissions out.
fn cash_flow(instruments: &[tickline_engine::domain::Instrument], fills: &[FillRecord]) -> Decimal {
    fills
        .iter()
        .map(|r| {
            let f = &r.fill;
            let m = instruments
                .get(f.instrument.index())
                .map_or(Decimal::ONE, |i| i.multiplier);
            -f.signed_quantity() * f.price * m - f.commission
        })
        .sum()
}

/// The kill switch as the last run's audit left it (a new run starts `Active`).
fn last_kill_switch(audit: &[(u32, AuditRecord)], last_run: Option<u32>) -> KillSwitchState {
    audit
        .iter()
        .rev()
        .take_while(|(run, _)| Some(*run) == last_run)
        .find(|(_, a)| a.kind == AuditKind::KillSwitch)
        .and_then(|(_, a)| kill_switch_target(&a.detail))
        .unwrap_or(KillSwitchState::Active)
}

/// The state a kill-switch audit line moved to (`kill switch Active -> Halted: …`).
fn kill_switch_target(detail: &str) -> Option<KillSwitchState> {
    let after = detail.split_once("-> ")?.1;
    let word: String = after
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect();
    [
        KillSwitchState::Active,
        KillSwitchState::Reducing,
        KillSwitchState::Halted,
    ]
    .into_iter()
    .find(|k| format!("{k:?}") == word)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kill_switch_lines_name_their_target() {
        assert_eq!(
            kill_switch_target("kill switch Active -> Halted: operator"),
            Some(KillSwitchState::Halted)
        );
        assert_eq!(
            kill_switch_target("kill switch Halted -> Reducing: x -> y"),
            Some(KillSwitchState::Reducing)
        );
        assert_eq!(kill_switch_target("kill switch went away"), None);
    }
}
