//! The durable journal of paper and live runs: one SQLite file (WAL, `synchronous=FULL`)
//! that holds everything the kernel decided or learnt, in every run of the journal, so a
//! restarted run resumes exactly where the last one stopped and the results folder can be
//! rebuilt from it at any time.
//!
//! * [`Journal`] ([`handle`]): open or create a file, its identity — a random journal id
//!   drawn at creation, which makes client order ids (`TL-<id>-<n>`) unique across runs and
//!   journals — and the broker account it is bound to by its first run.
//! * [`runs`]: [`Journal::begin_run`] / [`Journal::end_run`]; instruments get stable ids.
//! * [`JournalRecorder`] ([`recorder`]): the kernel's
//!   [`tickline_engine::record::Recorder`]; records are batched in memory and each
//!   commit writes the batch in one transaction (one fsync), before the kernel sends the
//!   commands it holds.
//! * [`Restored`] ([`restore`]): what a restarted run resumes from.
//! * [`export`]: the results folder from the journal, over every run.
//! * [`control`]: operator commands from another terminal (`tickline kill`).
//! * [`show`]: `tickline journal show`'s overview. [`LiveJournal`] ([`live`]) is the
//!   journal as the live loop uses it.
//!
//! # Schema (version 1)
//!
//! `application_id` = [`schema::APPLICATION_ID`] ("TKLJ"), `user_version` = schema version
//! (migrations in [`schema::MIGRATIONS`]). Times are UTC nanoseconds (`INTEGER`; in the
//! sqlite3 shell: `datetime(ts / 1e9, 'unixepoch')`); prices, quantities and money are exact
//! decimal `TEXT`; enums by name (`BUY`, `LMT`, `GTC`, `Working`). Every row of a run's
//! tables carries its `run`; `seq` is the order rows were written in.
//!
//! | table | rows | key columns |
//! |---|---|---|
//! | `meta` | `journal_id`, `account` | `key`, `value` |
//! | `runs` | one per run | `run`, `mode` (paper/live), `venue`, `account`, `strategy`, `params`, `instruments` (JSON symbols), `started`, `version`, `ended`, `stop_reason`, `summary` (JSON; `NULL` `ended` = running or crashed) |
//! | `instruments` | one per symbol, first-seen order | `id` (the kernel's instrument id), `symbol` (unique), `definition` (JSON), `first_run` |
//! | `intents` | each strategy submit / modify / cancel | `ts`, `order_id`, `kind`, `payload` (JSON) |
//! | `risk_decisions` | each risk decision | `ts`, `order_id`, `approved`, `check_name`, `reason` |
//! | `commands` | each command to the venue, written before it is sent | `ts`, `order_id`, `kind` (submit, modify, cancel, reply_prompt, suppress_questions), `payload` |
//! | `events` | each venue event as received | `ts`, `order_id`, `kind` (accepted, prompt, rejected, filled, cancelled, cancel_rejected, modified, modify_rejected, expired, commission), `payload` |
//! | `orders` | one per order, upserted as it changes | `order_id` (dense from 1 over all runs), `run` (created by), `last_run`, `client_order_id`, `broker_order_id`, `instrument`, `side`, `quantity`, `order_type`, `limit_price`, `stop_price`, `tif`, `state`, `filled`, `avg_fill_price`, `commission`, `created`, `updated`, `reason`, `pending_modify` (JSON), `prompts` |
//! | `order_updates` | each order change | `ts`, `order_id`, `state`, `filled` |
//! | `fills` | one per execution, in booking order | `exec_id` (unique: a repeat only updates `commission`), `ts`, `order_id`, `instrument`, `side`, `quantity`, `price`, `commission`, `realized_pnl`, `position_after` |
//! | `audit` | each audit line | `ts`, `kind`, `order_id`, `detail` |
//! | `equity` | each equity sample | `ts`, `equity` |
//! | `control` | operator commands | `id`, `requested`, `command` (halt, reduce, resume, stop), `applied`, `run` |

mod codec;
pub mod control;
pub mod error;
pub mod export;
pub mod handle;
pub mod live;
mod payload;
pub mod recorder;
pub mod restore;
pub mod runs;
pub mod schema;
pub mod show;

pub use control::ControlEntry;
pub use error::JournalError;
pub use export::JournalResults;
pub use handle::{Journal, JournalId};
pub use live::LiveJournal;
pub use recorder::JournalRecorder;
pub use restore::Restored;
pub use runs::{NewRun, RunNumber, RunRecord, RunStarted};
pub use show::{EventLine, JournalPosition, Overview};

#[cfg(test)]
mod tests;
