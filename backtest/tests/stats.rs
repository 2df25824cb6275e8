//! Statistics on hand-made curves and fills with known answers.

use rust_decimal::Decimal;
use rust_decimal::dec;
use tickline_backtest::stats::{
    Direction, StatsError, StatsFill, StatsInput, Summary, compute_summary, daily_returns,
    round_trips, set_bars_held, sharpe, sortino,
};

const DAY: i64 = 86_400 * 1_000_000_000;
const HOUR: i64 = 3_600 * 1_000_000_000;
/// 2024-01-01T00:00:00Z in ns.
const T0: i64 = 1_704_067_200 * 1_000_000_000;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * (1.0 + b.abs())
}

/// A fill with multiplier 1; `pos` is the position after the fill.
fn fill(
    ts: i64,
    instrument: u32,
    qty: Decimal,
    price: Decimal,
    commission: Decimal,
    realized: Decimal,
    pos: Decimal,
) -> StatsFill {
    StatsFill {
        ts,
        instrument,
        symbol: format!("SYM{instrument}"),
        quantity: qty,
        price,
        multiplier: dec!(1),
        commission,
        realized_pnl: realized,
        position_after: pos,
        order_id: ts as u64,
    }
}

fn input<'a>(ts: &'a [i64], equity: &'a [f64], fills: &'a [StatsFill]) -> StatsInput<'a> {
    StatsInput {
        initial_equity: 100.0,
        ts,
        equity,
        fills,
        bars: ts.len() as u64,
        bars_in_market: 0,
        load_seconds: 0.5,
        run_seconds: 2.0,
    }
}

fn days(n: &[i64]) -> Vec<i64> {
    n.iter().map(|d| T0 + d * DAY).collect()
}

fn assert_all_finite(summary: &Summary) {
    let json = serde_json::to_value(summary).expect("summary serialises");
    let obj = json.as_object().expect("object");
    for (key, value) in obj {
        if let Some(n) = value.as_number() {
            let x = n.as_f64().expect("number as f64");
            assert!(x.is_finite(), "{key} = {x}");
        }
    }
    let text = serde_json::to_string(summary).expect("serialise");
    assert!(!text.contains("NaN") && !text.contains("inf"), "{text}");
}

#[test]
fn monotone_equity_has_no_drawdown() {
    let ts = days(&[0, 1, 2, 3]);
    let equity = [100.0, 101.0, 105.0, 110.0];
    let s = compute_summary(&input(&ts, &equity, &[]));
    assert_eq!(s.max_drawdown, 0.0);
    assert_eq!(s.max_drawdown_amount, 0.0);
    assert_eq!(s.max_drawdown_start, None);
    assert_eq!(s.max_drawdown_end, None);
    assert_eq!(s.max_drawdown_duration_seconds, 0.0);
    assert!(close(s.total_return, 0.10));
    assert_eq!(s.final_equity, 110.0);
    // All daily returns positive: no downside deviation, Sortino reported as 0.
    assert_eq!(s.sortino, 0.0);
    assert!(s.sharpe > 0.0);
}

#[test]
fn drawdown_recovered() {
    let ts = days(&[0, 1, 2, 3]);
    let equity = [100.0, 120.0, 90.0, 130.0];
    let s = compute_summary(&input(&ts, &equity, &[]));
    assert!(close(s.max_drawdown, 0.25));
    assert!(close(s.max_drawdown_amount, 30.0));
    assert_eq!(
        s.max_drawdown_start.as_deref(),
        Some("2024-01-02T00:00:00Z")
    );
    assert_eq!(s.max_drawdown_end.as_deref(), Some("2024-01-03T00:00:00Z"));
    // Peak on day 1, back above it on day 3.
    assert_eq!(s.max_drawdown_duration_seconds, 2.0 * 86_400.0);
    assert_eq!(s.start, "2024-01-01T00:00:00Z");
    assert_eq!(s.end, "2024-01-04T00:00:00Z");
}

#[test]
fn drawdown_not_recovered_lasts_until_the_end() {
    let ts = days(&[0, 1, 3, 7]);
    let equity = [100.0, 120.0, 90.0, 110.0];
    let s = compute_summary(&input(&ts, &equity, &[]));
    assert!(close(s.max_drawdown, 0.25));
    assert_eq!(s.max_drawdown_duration_seconds, 6.0 * 86_400.0);
}

#[test]
fn longest_drawdown_is_not_necessarily_the_deepest() {
    // Deep but short (day 1 → day 2), then shallow but long (day 3 → day 10).
    let ts = days(&[0, 1, 2, 3, 5, 10]);
    let equity = [100.0, 50.0, 100.0, 110.0, 105.0, 111.0];
    let s = compute_summary(&input(&ts, &equity, &[]));
    assert!(close(s.max_drawdown, 0.5));
    assert!(close(s.max_drawdown_amount, 50.0));
    assert_eq!(
        s.max_drawdown_start.as_deref(),
        Some("2024-01-01T00:00:00Z")
    );
    assert_eq!(s.max_drawdown_duration_seconds, 7.0 * 86_400.0);
}

#[test]
fn cagr_over_two_years() {
    let ts = [T0, T0 + (2.0 * 365.25 * DAY as f64) as i64];
    let equity = [100.0, 121.0];
    let s = compute_summary(&input(&ts, &equity, &[]));
    assert!(close(s.total_return, 0.21));
    assert!(close(s.cagr, 0.10), "{}", s.cagr);
}

#[test]
fn daily_resampling_takes_the_last_value_of_each_utc_day() {
    // Several bars per day; only each day's last value matters.
    let ts = [
        T0 + 14 * HOUR,
        T0 + 20 * HOUR,
        T0 + DAY + 14 * HOUR,
        T0 + DAY + 23 * HOUR,
        T0 + 2 * DAY + 15 * HOUR,
        T0 + 3 * DAY + 15 * HOUR,
        T0 + 3 * DAY + 16 * HOUR,
    ];
    let equity = [90.0, 100.0, 130.0, 110.0, 99.0, 500.0, 108.9];
    let r = daily_returns(&ts, &equity);
    assert_eq!(r.len(), 3);
    assert!(
        close(r[0], 0.1) && close(r[1], -0.1) && close(r[2], 0.1),
        "{r:?}"
    );

    // Returns [0.1, -0.1, 0.1]: mean 1/30, sample std 1/sqrt(75),
    // Sharpe = sqrt(75)/30 * sqrt(252) = sqrt(18900)/30;
    // downside deviation sqrt(0.01/3), Sortino = sqrt(3)/3 * sqrt(252) = sqrt(84).
    assert!(close(sharpe(&r), 18_900f64.sqrt() / 30.0), "{}", sharpe(&r));
    assert!(close(sortino(&r), 84f64.sqrt()), "{}", sortino(&r));
    let s = compute_summary(&input(&ts, &equity, &[]));
    assert!(close(s.sharpe, 4.582_575_694_955_84));
    assert!(close(s.sortino, 9.165_151_389_911_68));
}

#[test]
fn sharpe_and_sortino_are_zero_when_undefined() {
    assert_eq!(sharpe(&[]), 0.0);
    assert_eq!(sharpe(&[0.05]), 0.0);
    assert_eq!(sortino(&[0.05]), 0.0);
    assert_eq!(sharpe(&[0.01, 0.01, 0.01]), 0.0);
    assert_eq!(sortino(&[0.01, 0.02]), 0.0);
    // Intraday-only curve: one day, no daily return.
    let ts = [T0, T0 + HOUR, T0 + 2 * HOUR];
    let s = compute_summary(&input(&ts, &[100.0, 90.0, 120.0], &[]));
    assert_eq!((s.sharpe, s.sortino), (0.0, 0.0));
    assert!(close(s.max_drawdown, 0.1));
}

#[test]
fn simple_long_round_trip() {
    let fills = [
        fill(T0, 1, dec!(100), dec!(10), dec!(1), dec!(0), dec!(100)),
        fill(
            T0 + DAY,
            1,
            dec!(-100),
            dec!(12),
            dec!(1),
            dec!(200),
            dec!(0),
        ),
    ];
    let trips = round_trips(&fills);
    assert_eq!(trips.len(), 1);
    let t = &trips[0];
    assert_eq!(t.direction, Direction::Long);
    assert_eq!((t.entry_ts, t.exit_ts), (T0, T0 + DAY));
    assert_eq!(t.quantity, dec!(100));
    assert_eq!((t.entry_price, t.exit_price), (dec!(10), dec!(12)));
    assert_eq!(
        (t.gross_pnl, t.commissions, t.net_pnl),
        (dec!(200), dec!(2), dec!(198))
    );
    assert!(close(t.return_pct, 0.198));
    assert_eq!(t.fills, 2);
    assert_eq!(t.symbol, "SYM1");
}

#[test]
fn scale_in_and_partial_closes_form_one_trip() {
    let fills = [
        fill(T0, 1, dec!(100), dec!(10), dec!(1), dec!(0), dec!(100)),
        fill(T0 + 1, 1, dec!(100), dec!(12), dec!(1), dec!(0), dec!(200)),
        fill(
            T0 + 2,
            1,
            dec!(-50),
            dec!(13),
            dec!(1),
            dec!(100),
            dec!(150),
        ),
        fill(T0 + 3, 1, dec!(-150), dec!(14), dec!(1), dec!(450), dec!(0)),
    ];
    let trips = round_trips(&fills);
    assert_eq!(trips.len(), 1);
    let t = &trips[0];
    assert_eq!(t.quantity, dec!(200));
    assert_eq!(t.entry_price, dec!(11));
    assert_eq!(t.exit_price, dec!(13.75));
    assert_eq!(
        (t.gross_pnl, t.commissions, t.net_pnl),
        (dec!(550), dec!(4), dec!(546))
    );
    // Entry notional 100*10 + 100*12 = 2200.
    assert!(close(t.return_pct, 546.0 / 2200.0));
    assert_eq!(t.fills, 4);
}

#[test]
fn short_trip_with_multiplier() {
    let mut fills = [
        fill(T0, 7, dec!(-10), dec!(50), dec!(2.5), dec!(0), dec!(-10)),
        fill(
            T0 + HOUR,
            7,
            dec!(10),
            dec!(45),
            dec!(2.5),
            dec!(250),
            dec!(0),
        ),
    ];
    for f in &mut fills {
        f.multiplier = dec!(5);
    }
    let trips = round_trips(&fills);
    assert_eq!(trips.len(), 1);
    let t = &trips[0];
    assert_eq!(t.direction, Direction::Short);
    assert_eq!(t.quantity, dec!(10));
    assert_eq!((t.entry_price, t.exit_price), (dec!(50), dec!(45)));
    assert_eq!(t.net_pnl, dec!(245));
    assert!(close(t.return_pct, 245.0 / 2500.0));
}

#[test]
fn reversal_splits_quantity_and_commission() {
    let fills = [
        fill(T0, 1, dec!(100), dec!(10), dec!(1), dec!(0), dec!(100)),
        // Sells 300: closes the long 100, opens a short 200. Commission 3 → 1 + 2.
        fill(
            T0 + DAY,
            1,
            dec!(-300),
            dec!(11),
            dec!(3),
            dec!(100),
            dec!(-200),
        ),
        fill(
            T0 + 2 * DAY,
            1,
            dec!(200),
            dec!(10),
            dec!(2),
            dec!(200),
            dec!(0),
        ),
    ];
    let trips = round_trips(&fills);
    assert_eq!(trips.len(), 2);
    let (a, b) = (&trips[0], &trips[1]);
    assert_eq!(a.direction, Direction::Long);
    assert_eq!((a.entry_ts, a.exit_ts), (T0, T0 + DAY));
    assert_eq!(a.quantity, dec!(100));
    assert_eq!(a.exit_price, dec!(11));
    assert_eq!(
        (a.gross_pnl, a.commissions, a.net_pnl),
        (dec!(100), dec!(2), dec!(98))
    );

    assert_eq!(b.direction, Direction::Short);
    assert_eq!((b.entry_ts, b.exit_ts), (T0 + DAY, T0 + 2 * DAY));
    assert_eq!(b.quantity, dec!(200));
    assert_eq!((b.entry_price, b.exit_price), (dec!(11), dec!(10)));
    assert_eq!(
        (b.gross_pnl, b.commissions, b.net_pnl),
        (dec!(200), dec!(4), dec!(196))
    );
    // Total commission preserved across the split.
    let total: Decimal = trips.iter().map(|t| t.commissions).sum();
    assert_eq!(total, dec!(6));
}

#[test]
fn instruments_are_independent_and_open_trips_are_counted_separately() {
    let fills = [
        fill(T0, 1, dec!(10), dec!(100), dec!(1), dec!(0), dec!(10)),
        fill(T0 + 1, 2, dec!(-5), dec!(20), dec!(1), dec!(0), dec!(-5)),
        fill(T0 + 2, 1, dec!(-10), dec!(95), dec!(1), dec!(-50), dec!(0)),
        fill(T0 + 3, 3, dec!(1), dec!(1), dec!(0), dec!(0), dec!(1)),
        fill(T0 + 4, 2, dec!(5), dec!(18), dec!(1), dec!(10), dec!(0)),
    ];
    let trips = round_trips(&fills);
    assert_eq!(trips.len(), 2);
    assert_eq!((trips[0].instrument, trips[0].net_pnl), (1, dec!(-52)));
    assert_eq!((trips[1].instrument, trips[1].net_pnl), (2, dec!(8)));

    let ts = days(&[0, 1]);
    let mut inp = input(&ts, &[100.0, 100.0], &fills);
    inp.bars = 10;
    inp.bars_in_market = 4;
    assert_eq!(inp.validate(), Ok(()));
    let s = compute_summary(&inp);
    assert_eq!((s.trades, s.open_trades, s.fills), (2, 1, 5));
    assert_eq!((s.winning_trades, s.losing_trades), (1, 1));
    assert!(close(s.win_rate, 0.5));
    assert!(close(s.profit_factor.expect("has a loser"), 8.0 / 52.0));
    assert!(close(s.avg_win, 8.0) && close(s.avg_loss, -52.0));
    assert!(close(s.largest_win, 8.0) && close(s.largest_loss, -52.0));
    assert!(close(s.commissions, 4.0));
    assert!(close(s.exposure, 0.4));
    assert!(close(s.bars_per_second, 5.0));
}

#[test]
fn trade_statistics_over_several_trips() {
    let fills = [
        fill(T0, 1, dec!(1), dec!(100), dec!(0), dec!(0), dec!(1)),
        fill(T0 + 1, 1, dec!(-1), dec!(130), dec!(0), dec!(30), dec!(0)),
        fill(T0 + 2, 1, dec!(1), dec!(100), dec!(0), dec!(0), dec!(1)),
        fill(T0 + 3, 1, dec!(-1), dec!(110), dec!(0), dec!(10), dec!(0)),
        fill(T0 + 4, 1, dec!(1), dec!(100), dec!(0), dec!(0), dec!(1)),
        fill(T0 + 5, 1, dec!(-1), dec!(80), dec!(0), dec!(-20), dec!(0)),
        // Break-even trip: neither a winner nor a loser.
        fill(T0 + 6, 1, dec!(1), dec!(100), dec!(0), dec!(0), dec!(1)),
        fill(T0 + 7, 1, dec!(-1), dec!(100), dec!(0), dec!(0), dec!(0)),
    ];
    let ts = days(&[0]);
    let s = compute_summary(&input(&ts, &[100.0], &fills));
    assert_eq!((s.trades, s.winning_trades, s.losing_trades), (4, 2, 1));
    assert!(close(s.win_rate, 0.5));
    assert!(close(s.profit_factor.expect("loser"), 2.0));
    assert!(close(s.avg_win, 20.0) && close(s.avg_loss, -20.0));
    assert!(close(s.largest_win, 30.0) && close(s.largest_loss, -20.0));
}

#[test]
fn profit_factor_is_none_without_losers() {
    let fills = [
        fill(T0, 1, dec!(1), dec!(10), dec!(0), dec!(0), dec!(1)),
        fill(T0 + 1, 1, dec!(-1), dec!(11), dec!(0), dec!(1), dec!(0)),
    ];
    let ts = days(&[0, 1]);
    let s = compute_summary(&input(&ts, &[100.0, 101.0], &fills));
    assert_eq!(s.profit_factor, None);
    assert_eq!(s.win_rate, 1.0);
    let json = serde_json::to_value(&s).expect("serialise");
    assert!(json["profit_factor"].is_null());
    let s = compute_summary(&input(&ts, &[100.0, 101.0], &[]));
    assert_eq!((s.profit_factor, s.win_rate, s.trades), (None, 0.0, 0));
}

#[test]
fn empty_and_single_point_inputs_are_finite() {
    let s = compute_summary(&input(&[], &[], &[]));
    assert_all_finite(&s);
    assert_eq!((s.start.as_str(), s.end.as_str()), ("", ""));
    assert_eq!(s.final_equity, 100.0);
    assert_eq!(
        (s.total_return, s.cagr, s.sharpe, s.sortino),
        (0.0, 0.0, 0.0, 0.0)
    );

    let s = compute_summary(&input(&[T0], &[100.0], &[]));
    assert_all_finite(&s);
    assert_eq!(s.start, s.end);
    assert_eq!((s.cagr, s.max_drawdown), (0.0, 0.0));

    let mut zero = input(&[], &[], &[]);
    zero.initial_equity = 0.0;
    zero.run_seconds = 0.0;
    zero.bars = 0;
    let s = compute_summary(&zero);
    assert_all_finite(&s);
    assert_eq!(
        (s.bars_per_second, s.exposure, s.total_return),
        (0.0, 0.0, 0.0)
    );
}

#[test]
fn extreme_curves_stay_finite() {
    // One-hour span with a 10x gain: too short to annualise (it would overflow f64).
    let ts = [T0, T0 + HOUR];
    let s = compute_summary(&input(&ts, &[100.0, 1000.0], &[]));
    assert_all_finite(&s);
    assert_eq!((s.cagr, s.annualised), (0.0, false));
    // Two days with a 10x gain: annualised, extrapolated to a huge but finite figure.
    let ts = days(&[0, 2]);
    let s = compute_summary(&input(&ts, &[100.0, 1000.0], &[]));
    assert_all_finite(&s);
    assert!(s.annualised && s.cagr > 1e100, "{}", s.cagr);
    // Blown account.
    let ts = days(&[0, 1, 2]);
    let s = compute_summary(&input(&ts, &[100.0, 0.0, -50.0], &[]));
    assert_all_finite(&s);
    assert_eq!(s.cagr, -1.0);
    assert!(close(s.max_drawdown, 1.5));
    // NaN in the curve (invalid input) does not leak into the summary.
    let s = compute_summary(&input(&ts, &[100.0, f64::NAN, 90.0], &[]));
    assert_all_finite(&s);
}

#[test]
fn bars_held_counts_bar_times_inside_the_trip() {
    let fills = [
        fill(
            T0 + 2 * HOUR,
            1,
            dec!(1),
            dec!(10),
            dec!(0),
            dec!(0),
            dec!(1),
        ),
        fill(
            T0 + 5 * HOUR,
            1,
            dec!(-1),
            dec!(11),
            dec!(0),
            dec!(1),
            dec!(0),
        ),
    ];
    let mut trips = round_trips(&fills);
    assert_eq!(trips[0].bars_held, None);
    let bars: Vec<i64> = (0..10).map(|h| T0 + h * HOUR).collect();
    set_bars_held(&mut trips, &bars);
    assert_eq!(trips[0].bars_held, Some(3));
}

#[test]
fn validate_reports_inconsistent_input() {
    let ts = days(&[0, 1]);
    assert_eq!(
        input(&ts, &[100.0], &[]).validate(),
        Err(StatsError::LengthMismatch { ts: 2, equity: 1 })
    );
    let back = [T0, T0];
    assert!(matches!(
        input(&back, &[1.0, 1.0], &[]).validate(),
        Err(StatsError::TimestampsNotIncreasing { index: 1, .. })
    ));
    assert!(matches!(
        input(&ts, &[1.0, f64::INFINITY], &[]).validate(),
        Err(StatsError::NonFiniteEquity { index: 1, .. })
    ));
    let bad_pos = [fill(T0, 1, dec!(5), dec!(1), dec!(0), dec!(0), dec!(4))];
    let err = input(&ts, &[1.0, 1.0], &bad_pos)
        .validate()
        .expect_err("mismatch");
    assert!(err.to_string().contains("position 4"), "{err}");
    let order = [
        fill(T0 + 1, 1, dec!(1), dec!(1), dec!(0), dec!(0), dec!(1)),
        fill(T0, 1, dec!(-1), dec!(1), dec!(0), dec!(0), dec!(0)),
    ];
    assert!(matches!(
        input(&ts, &[1.0, 1.0], &order).validate(),
        Err(StatsError::FillsOutOfOrder { index: 1, .. })
    ));
    let neg = [fill(T0, 1, dec!(1), dec!(1), dec!(-1), dec!(0), dec!(1))];
    assert!(matches!(
        input(&ts, &[1.0, 1.0], &neg).validate(),
        Err(StatsError::NegativeCommission { index: 0, .. })
    ));
    let mut exp = input(&ts, &[1.0, 1.0], &[]);
    exp.bars_in_market = 3;
    assert!(matches!(
        exp.validate(),
        Err(StatsError::ExposureOverflow { .. })
    ));
    let mut init = input(&ts, &[1.0, 1.0], &[]);
    init.initial_equity = f64::NAN;
    assert!(matches!(
        init.validate(),
        Err(StatsError::InvalidInitialEquity(_))
    ));
}
