//! `tickline journal show|export FILE`: print a journal, or write its results folder.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use comfy_table::{Table, presets};
use tickline_backtest::stats::rfc3339;
use tickline_live::journal::{Journal, JournalError, Overview};

use crate::Failure;

#[derive(Subcommand)]
pub enum JournalCommand {
    /// Print a journal: identity, account, runs, orders by state, open orders, positions
    /// from its fills, fills, the latest venue events and operator commands.
    Show {
        /// The journal file (`journal.sqlite` of a paper or live run).
        file: PathBuf,
        /// How many of the latest venue events to list.
        #[arg(long, default_value_t = 10)]
        events: usize,
    },
    /// Write the results folder (trades.csv, orders.csv, equity.csv, audit.csv,
    /// summary.json, report.html) from the journal, covering every run of it.
    Export {
        /// The journal file.
        file: PathBuf,
        /// Output folder (default: the journal's folder, where its runs write their results).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Skip report.html.
        #[arg(long)]
        no_report: bool,
    },
}

/// A journal that cannot be read is the user's to fix (exit 2); failing to write results
/// is not (exit 1).
pub fn failure(e: JournalError) -> Failure {
    match e {
        JournalError::Results(_) => Failure::Internal(e.into()),
        e => Failure::User(e.into()),
    }
}

pub fn run(cmd: JournalCommand) -> Result<(), Failure> {
    match cmd {
        JournalCommand::Show { file, events } => {
            let j = Journal::open(&file).map_err(failure)?;
            let o = j.overview(events).map_err(failure)?;
            print!("{}", render(&file, &o));
            Ok(())
        }
        JournalCommand::Export {
            file,
            out,
            no_report,
        } => {
            let j = Journal::open(&file).map_err(failure)?;
            let dir = out.unwrap_or_else(|| folder_of(&file));
            let written = j.export(&dir, !no_report).map_err(failure)?;
            let s = &written.summary;
            let runs = j.runs().map_err(failure)?.len();
            println!(
                "journal {} exported to {}: {runs} run{}, {} fills, final equity {:.2}",
                j.id(),
                dir.display(),
                if runs == 1 { "" } else { "s" },
                s.fills,
                s.final_equity
            );
            for f in &written.files {
                println!("  {}", f.display());
            }
            Ok(())
        }
    }
}

/// The folder a file is in (`.` for a bare file name).
fn folder_of(file: &Path) -> PathBuf {
    match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_style(presets::UTF8_FULL_CONDENSED);
    t.set_header(header.to_vec());
    t
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// `journal show`'s text.
fn render(file: &Path, o: &Overview) -> String {
    let mut s = String::new();
    let line = |s: &mut String, t: String| {
        s.push_str(&t);
        s.push('\n');
    };
    line(
        &mut s,
        format!(
            "journal {} ({}), schema version {}",
            o.journal_id,
            file.display(),
            o.schema_version
        ),
    );
    line(
        &mut s,
        format!(
            "account {}, client order ids {}<n>",
            o.account.as_deref().unwrap_or("(none yet)"),
            o.client_id_prefix
        ),
    );
    if o.runs.is_empty() {
        line(&mut s, "no runs".into());
    } else {
        let mut t = table(&[
            "run", "mode", "venue", "account", "strategy", "started", "ended", "stop",
        ]);
        for r in &o.runs {
            t.add_row(vec![
                r.run.to_string(),
                r.mode.clone(),
                r.venue.clone(),
                r.account.clone(),
                format!("{} ({})", r.strategy, r.params),
                rfc3339(r.started),
                r.ended.map(rfc3339).unwrap_or_else(|| "-".into()),
                r.stop_reason
                    .clone()
                    .unwrap_or_else(|| "not closed (running, or it crashed)".into()),
            ]);
        }
        line(&mut s, t.to_string());
    }
    let states: Vec<String> = o
        .orders_by_state
        .iter()
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
    line(
        &mut s,
        format!(
            "orders: {}{}",
            o.orders,
            if states.is_empty() {
                String::new()
            } else {
                format!(" ({})", states.join(", "))
            }
        ),
    );
    if !o.open_orders.is_empty() {
        let mut t = table(&[
            "order",
            "client order id",
            "symbol",
            "side",
            "type",
            "quantity",
            "limit",
            "stop",
            "tif",
            "state",
            "filled",
            "broker id",
            "updated",
        ]);
        for (ord, symbol) in &o.open_orders {
            let r = &ord.request;
            t.add_row(vec![
                ord.id.to_string(),
                ord.client_order_id.to_string(),
                symbol.clone(),
                r.side.as_str().into(),
                r.order_type.as_str().into(),
                r.quantity.to_string(),
                opt(r.limit_price),
                opt(r.stop_price),
                r.tif.as_str().into(),
                ord.state.as_str().into(),
                ord.filled_qty.to_string(),
                opt(ord.broker_order_id),
                rfc3339(ord.updated),
            ]);
        }
        line(&mut s, "open orders:".into());
        line(&mut s, t.to_string());
    }
    if o.positions.is_empty() {
        line(&mut s, "positions from the journal's fills: flat".into());
    } else {
        let mut t = table(&["symbol", "quantity", "average price"]);
        for p in &o.positions {
            t.add_row(vec![
                p.symbol.clone(),
                p.quantity.to_string(),
                p.avg_price.round_dp(6).to_string(),
            ]);
        }
        line(&mut s, "positions from the journal's fills:".into());
        line(&mut s, t.to_string());
    }
    line(&mut s, format!("fills: {}", o.fills));
    if !o.last_events.is_empty() {
        let mut t = table(&["time", "run", "order", "event", "detail"]);
        for e in &o.last_events {
            t.add_row(vec![
                rfc3339(e.ts),
                e.run.to_string(),
                e.order_id.to_string(),
                e.kind.clone(),
                e.payload.clone(),
            ]);
        }
        line(&mut s, "latest venue events:".into());
        line(&mut s, t.to_string());
    }
    if !o.control.is_empty() {
        let mut t = table(&["command", "requested", "applied"]);
        for c in &o.control {
            t.add_row(vec![
                format!(
                    "#{} {}",
                    c.id,
                    tickline_live::journal::control::control_name(c.command)
                ),
                rfc3339(c.requested),
                match c.applied {
                    Some((ts, run)) => format!("{} by run {run}", rfc3339(ts)),
                    None => "waiting for a run".into(),
                },
            ]);
        }
        line(&mut s, "operator commands:".into());
        line(&mut s, t.to_string());
    }
    s
}
