//! Backtest statistics: round trips, the performance summary and chart series.
//!
//! This module is independent of the engine's types: the backtest converts its
//! fills into [`StatsFill`] and hands the equity curve over as plain slices.

mod curve;
mod trips;

use chrono::{DateTime, SecondsFormat};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};

pub use curve::{
    MaxDrawdown, TRADING_DAYS_PER_YEAR, daily_returns, downsample_minmax, drawdown_series,
    max_drawdown, sharpe, sortino,
};
pub use trips::{Direction, RoundTrip, round_trips, set_bars_held};

use curve::finite;

const NS_PER_SECOND: f64 = 1e9;
const SECONDS_PER_YEAR: f64 = 365.25 * 86_400.0;

/// One fill as the backtest produced it (the backtest converts engine fills into this).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatsFill {
    /// Fill time, UTC ns.
    pub ts: i64,
    /// Instrument id.
    pub instrument: u32,
    /// Instrument symbol, for display.
    pub symbol: String,
    /// Signed quantity: + buy, − sell.
    pub quantity: Decimal,
    /// Fill price.
    pub price: Decimal,
    /// Contract multiplier (1 for stocks).
    pub multiplier: Decimal,
    /// Commission, ≥ 0.
    pub commission: Decimal,
    /// Gross PnL this fill realised (0 for opening fills), before commission.
    pub realized_pnl: Decimal,
    /// Signed position in the instrument after the fill.
    pub position_after: Decimal,
    /// Order that produced the fill.
    pub order_id: u64,
}

/// Everything [`compute_summary`] needs: the equity curve, the fills and run counters.
#[derive(Debug, Clone, Copy)]
pub struct StatsInput<'a> {
    /// Starting equity.
    pub initial_equity: f64,
    /// Equity-curve timestamps (UTC ns), strictly increasing, one per bar time.
    pub ts: &'a [i64],
    /// Equity at each timestamp of `ts`.
    pub equity: &'a [f64],
    /// All fills in execution order.
    pub fills: &'a [StatsFill],
    /// Bars processed.
    pub bars: u64,
    /// Bars during which any position was open.
    pub bars_in_market: u64,
    /// Seconds spent loading data.
    pub load_seconds: f64,
    /// Seconds spent running the backtest.
    pub run_seconds: f64,
}

/// Inconsistent [`StatsInput`], reported by [`StatsInput::validate`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StatsError {
    /// `ts` and `equity` differ in length.
    #[error("equity curve has {ts} timestamps but {equity} equity values")]
    LengthMismatch {
        /// Length of `ts`.
        ts: usize,
        /// Length of `equity`.
        equity: usize,
    },
    /// A timestamp is not greater than the one before it.
    #[error("equity curve timestamps must increase: index {index} has {ts} after {prev}")]
    TimestampsNotIncreasing {
        /// Index of the offending timestamp.
        index: usize,
        /// The timestamp before it.
        prev: i64,
        /// The offending timestamp.
        ts: i64,
    },
    /// An equity value is NaN or infinite.
    #[error("equity value at index {index} (ts {ts}) is not finite: {value}")]
    NonFiniteEquity {
        /// Index in the curve.
        index: usize,
        /// Its timestamp.
        ts: i64,
        /// The value.
        value: f64,
    },
    /// The initial equity is NaN, infinite or not positive.
    #[error("initial equity must be finite and positive, got {0}")]
    InvalidInitialEquity(f64),
    /// A fill is earlier than the fill before it.
    #[error(
        "fill {index} (order {order_id}, {symbol}) at {ts} is earlier than the previous fill at {prev}"
    )]
    FillsOutOfOrder {
        /// Index of the fill.
        index: usize,
        /// Its order id.
        order_id: u64,
        /// Its symbol.
        symbol: String,
        /// Its timestamp.
        ts: i64,
        /// The previous fill's timestamp.
        prev: i64,
    },
    /// A fill has a negative commission.
    #[error("fill {index} (order {order_id}, {symbol}) has a negative commission {commission}")]
    NegativeCommission {
        /// Index of the fill.
        index: usize,
        /// Its order id.
        order_id: u64,
        /// Its symbol.
        symbol: String,
        /// The commission.
        commission: Decimal,
    },
    /// A fill's `position_after` differs from the position rebuilt from the
    /// signed quantities (starting flat).
    #[error(
        "fill {index} (order {order_id}, {symbol}) says position {reported} but the fills add up to {expected}"
    )]
    PositionMismatch {
        /// Index of the fill.
        index: usize,
        /// Its order id.
        order_id: u64,
        /// Its symbol.
        symbol: String,
        /// `position_after` of the fill.
        reported: Decimal,
        /// Sum of the instrument's quantities up to and including this fill.
        expected: Decimal,
    },
    /// More bars in the market than bars.
    #[error("bars_in_market ({in_market}) exceeds bars ({bars})")]
    ExposureOverflow {
        /// `bars_in_market`.
        in_market: u64,
        /// `bars`.
        bars: u64,
    },
}

impl StatsInput<'_> {
    /// Checks the input for inconsistencies that would make the statistics
    /// misleading. [`compute_summary`] does not require a valid input (it never
    /// panics and always returns finite numbers), but its figures are only
    /// meaningful for input that passes this check.
    pub fn validate(&self) -> Result<(), StatsError> {
        if !(self.initial_equity.is_finite() && self.initial_equity > 0.0) {
            return Err(StatsError::InvalidInitialEquity(self.initial_equity));
        }
        if self.ts.len() != self.equity.len() {
            return Err(StatsError::LengthMismatch {
                ts: self.ts.len(),
                equity: self.equity.len(),
            });
        }
        for (index, pair) in self.ts.windows(2).enumerate() {
            if pair[1] <= pair[0] {
                return Err(StatsError::TimestampsNotIncreasing {
                    index: index + 1,
                    prev: pair[0],
                    ts: pair[1],
                });
            }
        }
        if let Some(index) = self.equity.iter().position(|e| !e.is_finite()) {
            return Err(StatsError::NonFiniteEquity {
                index,
                ts: self.ts[index],
                value: self.equity[index],
            });
        }
        if self.bars_in_market > self.bars {
            return Err(StatsError::ExposureOverflow {
                in_market: self.bars_in_market,
                bars: self.bars,
            });
        }
        validate_fills(self.fills)
    }
}

fn validate_fills(fills: &[StatsFill]) -> Result<(), StatsError> {
    let mut positions: std::collections::HashMap<u32, Decimal> = std::collections::HashMap::new();
    let mut prev_ts = i64::MIN;
    for (index, fill) in fills.iter().enumerate() {
        if fill.ts < prev_ts {
            return Err(StatsError::FillsOutOfOrder {
                index,
                order_id: fill.order_id,
                symbol: fill.symbol.clone(),
                ts: fill.ts,
                prev: prev_ts,
            });
        }
        prev_ts = fill.ts;
        if fill.commission < Decimal::ZERO {
            return Err(StatsError::NegativeCommission {
                index,
                order_id: fill.order_id,
                symbol: fill.symbol.clone(),
                commission: fill.commission,
            });
        }
        let position = positions.entry(fill.instrument).or_default();
        *position += fill.quantity;
        if *position != fill.position_after {
            return Err(StatsError::PositionMismatch {
                index,
                order_id: fill.order_id,
                symbol: fill.symbol.clone(),
                reported: fill.position_after,
                expected: *position,
            });
        }
    }
    Ok(())
}

/// The backtest's key figures. Every number is finite (NaN/∞ never appear).
/// Money amounts are f64: this is a report, the exact values live in the fills.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// First equity-curve timestamp, RFC 3339 UTC (empty string for an empty curve).
    pub start: String,
    /// Last equity-curve timestamp, RFC 3339 UTC (empty string for an empty curve).
    pub end: String,
    /// Starting equity.
    pub initial_equity: f64,
    /// Last equity value (the initial equity for an empty curve).
    pub final_equity: f64,
    /// `final_equity / initial_equity - 1` (0 when the initial equity is not positive).
    pub total_return: f64,
    /// Compound annual growth rate over the calendar time between the first and last
    /// timestamp (365.25-day years). Spans shorter than a year are extrapolated, so a
    /// short backtest can show a very large figure. 0 for spans shorter than a day (see
    /// `annualised`), −1 when the final equity is ≤ 0.
    pub cagr: f64,
    /// The span covers at least a day, so CAGR, Sharpe and Sortino mean something; false
    /// for shorter runs (a paper session of minutes), whose annualised figures are 0 and
    /// shown as not applicable.
    pub annualised: bool,
    /// Annualised Sharpe ratio of daily returns (see [`sharpe`]).
    pub sharpe: f64,
    /// Annualised Sortino ratio of daily returns (see [`sortino`]).
    pub sortino: f64,
    /// Deepest drop below the running peak, positive fraction of the peak.
    pub max_drawdown: f64,
    /// `peak - trough` of that drawdown.
    pub max_drawdown_amount: f64,
    /// Time of that drawdown's peak, RFC 3339 UTC (`None` without drawdown).
    pub max_drawdown_start: Option<String>,
    /// Time of that drawdown's trough, RFC 3339 UTC (`None` without drawdown).
    pub max_drawdown_end: Option<String>,
    /// Longest peak-to-recovery time in seconds (until the end if not recovered).
    pub max_drawdown_duration_seconds: f64,
    /// Closed round trips.
    pub trades: u64,
    /// Round trips still open at the end.
    pub open_trades: u64,
    /// Closed trips with net PnL > 0.
    pub winning_trades: u64,
    /// Closed trips with net PnL < 0.
    pub losing_trades: u64,
    /// `winning_trades / trades` (0 without trades).
    pub win_rate: f64,
    /// Σ net PnL of winners / |Σ net PnL of losers|; `None` when there are no losers.
    pub profit_factor: Option<f64>,
    /// Mean net PnL of winners (0 without winners).
    pub avg_win: f64,
    /// Mean net PnL of losers, ≤ 0 (0 without losers).
    pub avg_loss: f64,
    /// Largest net PnL of a winner (0 without winners).
    pub largest_win: f64,
    /// Most negative net PnL of a loser (0 without losers).
    pub largest_loss: f64,
    /// Number of fills.
    pub fills: u64,
    /// `bars_in_market / bars` (0 without bars).
    pub exposure: f64,
    /// Σ commissions of all fills (open trips included).
    pub commissions: f64,
    /// Bars processed.
    pub bars: u64,
    /// Seconds spent loading data.
    pub load_seconds: f64,
    /// Seconds spent running.
    pub run_seconds: f64,
    /// `bars / run_seconds` (0 when `run_seconds` is not positive).
    pub bars_per_second: f64,
}

/// Formats a UTC-ns timestamp as RFC 3339 (`2024-01-02T14:30:00Z`, with fractional
/// seconds only when present).
pub fn rfc3339(ts: i64) -> String {
    DateTime::from_timestamp_nanos(ts).to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn to_f64(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(0.0)
}

/// Computes the [`Summary`]. Never panics; see [`StatsInput::validate`] for the
/// input it expects. Only the common prefix of `ts` and `equity` is used.
pub fn compute_summary(input: &StatsInput) -> Summary {
    let n = input.ts.len().min(input.equity.len());
    let (ts, equity) = (&input.ts[..n], &input.equity[..n]);
    let initial = finite(input.initial_equity);
    let final_equity = equity.last().copied().map_or(initial, finite);
    let total_return = if initial > 0.0 {
        finite(final_equity / initial - 1.0)
    } else {
        0.0
    };
    let span_seconds = match (ts.first(), ts.last()) {
        (Some(&a), Some(&b)) => (b as f64 - a as f64) / NS_PER_SECOND,
        _ => 0.0,
    };
    let daily = daily_returns(ts, equity);
    let dd = max_drawdown(ts, equity);
    let book = trips::build(input.fills);
    let trades = TradeStats::of(&book.closed);
    let commissions: Decimal = input.fills.iter().map(|f| f.commission).sum();

    Summary {
        start: ts.first().map(|&t| rfc3339(t)).unwrap_or_default(),
        end: ts.last().map(|&t| rfc3339(t)).unwrap_or_default(),
        initial_equity: initial,
        final_equity,
        total_return,
        cagr: cagr(initial, final_equity, span_seconds),
        annualised: span_seconds >= 86_400.0,
        sharpe: sharpe(&daily),
        sortino: sortino(&daily),
        max_drawdown: dd.fraction,
        max_drawdown_amount: dd.amount,
        max_drawdown_start: dd.peak_index.map(|i| rfc3339(ts[i])),
        max_drawdown_end: dd.trough_index.map(|i| rfc3339(ts[i])),
        max_drawdown_duration_seconds: dd.longest_duration_ns as f64 / NS_PER_SECOND,
        trades: book.closed.len() as u64,
        open_trades: book.open as u64,
        winning_trades: trades.winners,
        losing_trades: trades.losers,
        win_rate: ratio_or_zero(trades.winners as f64, book.closed.len() as f64),
        profit_factor: (trades.losers > 0)
            .then(|| finite(to_f64(trades.gross_win) / to_f64(trades.gross_loss.abs()))),
        avg_win: ratio_or_zero(to_f64(trades.gross_win), trades.winners as f64),
        avg_loss: ratio_or_zero(to_f64(trades.gross_loss), trades.losers as f64),
        largest_win: to_f64(trades.largest_win),
        largest_loss: to_f64(trades.largest_loss),
        fills: input.fills.len() as u64,
        exposure: ratio_or_zero(input.bars_in_market as f64, input.bars as f64),
        commissions: to_f64(commissions),
        bars: input.bars,
        load_seconds: finite(input.load_seconds),
        run_seconds: finite(input.run_seconds),
        bars_per_second: ratio_or_zero(input.bars as f64, input.run_seconds),
    }
}

fn ratio_or_zero(num: f64, den: f64) -> f64 {
    if den > 0.0 { finite(num / den) } else { 0.0 }
}

fn cagr(initial: f64, final_equity: f64, span_seconds: f64) -> f64 {
    if initial <= 0.0 || span_seconds < 86_400.0 {
        return 0.0;
    }
    if final_equity <= 0.0 {
        return -1.0;
    }
    let years = span_seconds / SECONDS_PER_YEAR;
    finite((final_equity / initial).powf(1.0 / years) - 1.0)
}

/// Win/loss aggregates of closed trips (net PnL).
#[derive(Default)]
struct TradeStats {
    winners: u64,
    losers: u64,
    gross_win: Decimal,
    gross_loss: Decimal,
    largest_win: Decimal,
    largest_loss: Decimal,
}

impl TradeStats {
    fn of(trips: &[RoundTrip]) -> Self {
        let mut s = TradeStats::default();
        for t in trips {
            if t.net_pnl > Decimal::ZERO {
                s.winners += 1;
                s.gross_win += t.net_pnl;
                s.largest_win = s.largest_win.max(t.net_pnl);
            } else if t.net_pnl < Decimal::ZERO {
                s.losers += 1;
                s.gross_loss += t.net_pnl;
                s.largest_loss = s.largest_loss.min(t.net_pnl);
            }
        }
        s
    }
}
