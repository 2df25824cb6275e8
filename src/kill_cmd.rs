//! `tickline kill --journal FILE [--reduce | --resume | --stop]`: the manual kill switch of
//! a running paper or live run, from another terminal.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Args;
use tickline_backtest::stats::rfc3339;
use tickline_engine::clock::{Clock, LiveClock};
use tickline_engine::risk::KillSwitchState;
use tickline_live::journal::Journal;
use tickline_live::journal::control::control_name;
use tickline_live::runner::ControlCommand;

use crate::Failure;
use crate::journal_cmd::failure;

#[derive(Args)]
pub struct KillArgs {
    /// The run's journal.
    #[arg(long)]
    journal: PathBuf,
    /// Only orders that reduce a position pass (instead of halting).
    #[arg(long, conflicts_with_all = ["resume", "stop"])]
    reduce: bool,
    /// Back to normal trading.
    #[arg(long, conflicts_with = "stop")]
    resume: bool,
    /// Stop the run as Ctrl-C would (its `on_stop` applies).
    #[arg(long)]
    stop: bool,
    /// Wait up to this many seconds for the run to apply the command (exit 1 if it did not).
    #[arg(long, default_value_t = 0.0)]
    wait: f64,
}

pub fn run(args: KillArgs) -> Result<(), Failure> {
    if !(args.wait.is_finite() && (0.0..=3600.0).contains(&args.wait)) {
        return Err(Failure::User(anyhow::anyhow!(
            "--wait must be between 0 and 3600 seconds, got {}",
            args.wait
        )));
    }
    let command = if args.stop {
        ControlCommand::Stop
    } else if args.resume {
        ControlCommand::KillSwitch(KillSwitchState::Active)
    } else if args.reduce {
        ControlCommand::KillSwitch(KillSwitchState::Reducing)
    } else {
        ControlCommand::KillSwitch(KillSwitchState::Halted)
    };
    let j = Journal::open(&args.journal).map_err(failure)?;
    let id = j
        .request_control(command, LiveClock.now())
        .map_err(failure)?;
    let name = control_name(command);
    let who = match j.last_run().map_err(failure)? {
        Some(r) if r.ended.is_none() => format!(
            "run {} (started {}) applies it on its next loop turn",
            r.run,
            rfc3339(r.started)
        ),
        Some(r) => format!(
            "no run is active (run {} ended {}): the next run applies it when it starts",
            r.run,
            r.ended.map(rfc3339).unwrap_or_default()
        ),
        None => "the journal has no run yet: its first run applies it when it starts".into(),
    };
    println!(
        "{name} queued as command #{id} in journal {} ({}); {who}",
        j.id(),
        args.journal.display()
    );
    if args.wait > 0.0 {
        let until = Instant::now() + Duration::from_secs_f64(args.wait);
        loop {
            if let Some((ts, run)) = j
                .control_entry(id)
                .map_err(failure)?
                .and_then(|e| e.applied)
            {
                println!("{name} applied by run {run} at {}", rfc3339(ts));
                return Ok(());
            }
            if Instant::now() >= until {
                return Err(Failure::Internal(anyhow::anyhow!(
                    "{name} (command #{id}) not applied within {}s: is a run active on {}?",
                    args.wait,
                    args.journal.display()
                )));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    Ok(())
}
