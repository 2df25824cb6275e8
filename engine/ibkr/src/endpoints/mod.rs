//! Endpoint methods on [`crate::Client`], one module per group of the reference
//! (`ibkr-web-api.md` §5). Each method builds its request from the matching
//! [`crate::catalog`] constant.

mod account_management;
mod accounts;
mod alerts;
mod authorization;
mod contracts;
mod echo;
mod event_contracts;
mod fa_allocation;
mod fyi;
mod market_data;
mod oauth;
mod orders;
mod portfolio;
mod portfolio_analyst;
mod pretrade_compliance;
mod scanner;
mod session;
mod third_parties;
mod watchlists;
mod websocket;

pub use contracts::SECDEF_BATCH;
pub use fyi::MAX_FYI_NOTIFICATIONS;
pub use market_data::{HISTORY_PAGE_BARS, HistoryPaging};
pub use orders::{MAX_TRADE_DAYS, generate_coid};
pub use portfolio::POSITIONS_PAGE_SIZE;
pub use portfolio_analyst::PA_PERIODS;
