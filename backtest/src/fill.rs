//! Fill rules of the simulated broker: how an order meets a bar.
//!
//! A bar is walked along a fixed intrabar path: **open → nearer extreme → farther extreme →
//! close** (the extreme closer to the open comes first; on a tie, the high). Prices move
//! monotonically along each leg, so a level is touched on a leg iff it lies between the leg's
//! ends.
//!
//! * Market: fills at the open (next-open mode) plus slippage.
//! * Limit buy at L: if the open is at or below L (gap through) it fills at the open, else at L
//!   when the path first reaches L. Sells mirror it. Limits get no slippage.
//! * Stop buy at S: if the open is at or above S (gap through) it triggers and fills at the
//!   open, else at S when first reached; slippage is added and the price is kept inside the
//!   bar's range. Sells mirror it.
//! * Stop-limit: triggers like a stop (at the open on a gap, else at S); from the trigger point
//!   on it is a limit at L along the rest of the path. If the bar ends before it fills it
//!   stays working as a triggered limit.

use rust_decimal::Decimal;

use tickline_engine::domain::{Instrument, OrderType, Side, Trail};
use tickline_engine::money;

/// The four points of the intrabar path.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BarPath {
    pub points: [Decimal; 4],
    pub high: Decimal,
    pub low: Decimal,
}

impl BarPath {
    /// Build the path of a bar given as Decimal OHLC.
    pub fn new(open: Decimal, high: Decimal, low: Decimal, close: Decimal) -> BarPath {
        let (first, second) = if (high - open) <= (open - low) {
            (high, low)
        } else {
            (low, high)
        };
        BarPath {
            points: [open, first, second, close],
            high,
            low,
        }
    }

    /// Build from an f64 bar using the instrument's price conversion.
    pub fn from_f64(
        inst: &Instrument,
        open: f64,
        high: f64,
        low: f64,
        close: f64,
    ) -> Option<BarPath> {
        Some(BarPath::new(
            inst.price_from_f64(open)?,
            inst.price_from_f64(high)?,
            inst.price_from_f64(low)?,
            inst.price_from_f64(close)?,
        ))
    }

    pub fn open(&self) -> Decimal {
        self.points[0]
    }

    /// The first point at or after `(leg, from)` where the price touches `level`, as
    /// `(leg index, price)`. `from` is where the walk starts on leg `leg`.
    fn touch(&self, leg: usize, from: Decimal, level: Decimal) -> Option<usize> {
        let mut a = from;
        for i in leg..3 {
            let b = self.points[i + 1];
            if (a <= level && level <= b) || (b <= level && level <= a) {
                return Some(i);
            }
            a = b;
        }
        None
    }
}

/// A point on the intrabar path: on leg `leg` (0 = open → nearer extreme, 1 = → farther
/// extreme, 2 = → close) at `price`. Orders activated mid-bar (bracket exits whose parent
/// just filled) start there instead of at the open.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PathPoint {
    pub leg: usize,
    pub price: Decimal,
}

impl PathPoint {
    /// The bar's open.
    pub fn open(path: &BarPath) -> PathPoint {
        PathPoint {
            leg: 0,
            price: path.open(),
        }
    }

    /// Ordering key along the path: the leg, then the distance travelled on it. Fills are
    /// applied in this order, which is how the tie between two OCA members that could both
    /// fill on one bar is broken: the one the path reaches first wins.
    pub fn key(self, path: &BarPath) -> (usize, Decimal) {
        (self.leg, (self.price - path.points[self.leg]).abs())
    }
}

/// A resting order as the fill rules see it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Resting {
    pub order_type: OrderType,
    pub side: Side,
    pub limit: Option<Decimal>,
    pub stop: Option<Decimal>,
    pub trail: Option<Trail>,
    pub limit_offset: Option<Decimal>,
    /// A stop-limit (or trailing stop-limit) triggered on an earlier bar: now a limit.
    pub triggered: bool,
    /// A trailing stop's current stop (`None` before its first bar: `stop`, else set from
    /// the first price it sees).
    pub trail_stop: Option<Decimal>,
}

/// Where an order fills on the path.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Touch {
    pub at: PathPoint,
    /// Before slippage; see [`apply_slippage`].
    pub price: Decimal,
    /// Whether slippage applies (market, stop and trailing-stop fills).
    pub slipped: bool,
}

/// One order's walk along one bar from a starting point.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Step {
    pub fill: Option<Touch>,
    /// A stop-limit's stop was hit (on this bar or before): it is a limit from now on.
    pub triggered: bool,
    /// The limit a trailing stop-limit got when it triggered.
    pub limit: Option<Decimal>,
    /// A trailing stop's stop after the walk (moved with the market, never back).
    pub trail_stop: Option<Decimal>,
}

impl Step {
    fn none(o: &Resting) -> Step {
        Step {
            fill: None,
            triggered: o.triggered,
            limit: None,
            trail_stop: o.trail_stop,
        }
    }

    fn fill(o: &Resting, at: PathPoint, price: Decimal, slipped: bool) -> Step {
        Step {
            fill: Some(Touch { at, price, slipped }),
            ..Step::none(o)
        }
    }
}

/// Where a limit order first fills, walking from `from`.
fn limit_fill(path: &BarPath, side: Side, limit: Decimal, from: PathPoint) -> Option<PathPoint> {
    let marketable = match side {
        Side::Buy => from.price <= limit,
        Side::Sell => from.price >= limit,
    };
    if marketable {
        return Some(from);
    }
    path.touch(from.leg, from.price, limit)
        .map(|leg| PathPoint { leg, price: limit })
}

/// Where a stop at `stop` triggers walking from `from`: at `from` if the price is already
/// through it (a gap), else where the path first reaches it.
fn stop_trigger(path: &BarPath, side: Side, stop: Decimal, from: PathPoint) -> Option<PathPoint> {
    let gapped = match side {
        Side::Buy => from.price >= stop,
        Side::Sell => from.price <= stop,
    };
    if gapped {
        return Some(from);
    }
    path.touch(from.leg, from.price, stop)
        .map(|leg| PathPoint { leg, price: stop })
}

/// A trailing stop's walk: the stop follows each favourable leg (a sell's up, a buy's down)
/// to `trail` from the price, rounded to tick, and triggers where an adverse leg reaches it.
/// Returns the trigger point, if any, and the stop after the walk.
fn trail_walk(
    path: &BarPath,
    inst: &Instrument,
    o: &Resting,
    trail: Trail,
    from: PathPoint,
) -> (Option<(PathPoint, Decimal)>, Decimal) {
    let sell = o.side == Side::Sell;
    let follow = |p: Decimal| inst.round_price(trail.stop_for(o.side, p));
    let tighter = |a: Decimal, b: Decimal| if sell { a.max(b) } else { a.min(b) };
    let hit = |p: Decimal, stop: Decimal| if sell { p <= stop } else { p >= stop };
    let mut stop = match o.trail_stop.or(o.stop) {
        Some(s) => tighter(s, follow(from.price)),
        None => follow(from.price),
    };
    if hit(from.price, stop) {
        return (Some((from, stop)), stop);
    }
    let mut a = from.price;
    for leg in from.leg..3 {
        let b = path.points[leg + 1];
        let favourable = if sell { b > a } else { b < a };
        if favourable {
            stop = tighter(stop, follow(b));
        } else if hit(b, stop) {
            return (Some((PathPoint { leg, price: stop }, stop)), stop);
        }
        a = b;
    }
    (None, stop)
}

/// Walk order `o` along `path` from `from` (the open, or where a bracket exit was
/// activated). On-close orders never fill on the path (the broker runs the closing auction).
pub fn walk(path: &BarPath, inst: &Instrument, o: &Resting, from: PathPoint) -> Step {
    let limit_step = |limit: Decimal, from: PathPoint, triggered: bool| {
        let mut step = match limit_fill(path, o.side, limit, from) {
            Some(at) => Step::fill(o, at, at.price, false),
            None => Step::none(o),
        };
        step.triggered = triggered;
        step
    };
    match o.order_type {
        OrderType::Market => Step::fill(o, from, from.price, true),
        OrderType::MidPrice => match o.limit {
            // Pegged to the mid: no spread crossed, so no slippage.
            None => Step::fill(o, from, from.price, false),
            Some(cap) => limit_step(cap, from, false),
        },
        OrderType::Limit => match o.limit {
            Some(l) => limit_step(l, from, false),
            None => Step::none(o),
        },
        OrderType::Stop | OrderType::StopLimit if o.triggered => match o.limit {
            Some(l) => limit_step(l, from, true),
            None => Step::none(o),
        },
        OrderType::Stop | OrderType::StopLimit => {
            let Some(stop) = o.stop else {
                return Step::none(o);
            };
            let Some(at) = stop_trigger(path, o.side, stop, from) else {
                return Step::none(o);
            };
            match (o.order_type, o.limit) {
                (OrderType::StopLimit, Some(l)) => limit_step(l, at, true),
                _ => Step::fill(o, at, at.price, true),
            }
        }
        OrderType::TrailingStopLimit if o.triggered => match o.limit {
            Some(l) => limit_step(l, from, true),
            None => Step::none(o),
        },
        OrderType::TrailingStop | OrderType::TrailingStopLimit => {
            let Some(trail) = o.trail else {
                return Step::none(o);
            };
            let (trigger, stop) = trail_walk(path, inst, o, trail, from);
            let mut step = match trigger {
                None => Step::none(o),
                Some((at, stop)) if o.order_type == OrderType::TrailingStopLimit => {
                    let offset = o.limit_offset.unwrap_or_default();
                    let limit = match o.side {
                        Side::Sell => stop - offset,
                        Side::Buy => stop + offset,
                    };
                    Step {
                        limit: Some(limit),
                        ..limit_step(limit, at, true)
                    }
                }
                Some((at, _)) => Step::fill(o, at, at.price, true),
            };
            step.trail_stop = Some(stop);
            step
        }
        OrderType::MarketOnClose | OrderType::LimitOnClose => Step::none(o),
    }
}

/// Slippage settings: basis points of price plus whole ticks, always against the trader.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Slippage {
    pub bps: Decimal,
    pub ticks: Decimal,
}

impl Slippage {
    /// `bps / 10 000`, computed once so a fill needs one multiplication.
    fn fraction(&self) -> Decimal {
        self.bps / Decimal::from(10_000)
    }

    /// Precompute for repeated use.
    pub fn prepared(self) -> PreparedSlippage {
        let f = self.fraction();
        let bps = self.bps.normalize();
        let (bps_m, bps_s) = match i64::try_from(bps.mantissa()) {
            Ok(m) if bps.scale() <= 10 && m.unsigned_abs() < 1 << 40 => (m, bps.scale()),
            _ => (0, 0),
        };
        let integer_ok = bps_m != 0 || bps.is_zero();
        let whole_ticks = (integer_ok && self.ticks.fract().is_zero())
            .then(|| i64::try_from(self.ticks.mantissa() / 10i128.pow(self.ticks.scale())).ok())
            .flatten()
            .filter(|t| *t >= 0 && *t < 1 << 40);
        PreparedSlippage {
            up: Decimal::ONE + f,
            down: Decimal::ONE - f,
            none: f.is_zero(),
            ticks: self.ticks,
            bps_m,
            bps_s,
            whole_ticks,
        }
    }
}

/// [`Slippage`] with the price factors precomputed (`1 ± bps/10 000`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PreparedSlippage {
    up: Decimal,
    down: Decimal,
    none: bool,
    ticks: Decimal,
    /// Integer form for the fast path: bps = `bps_m / 10^bps_s`, whole ticks.
    bps_m: i64,
    bps_s: u32,
    whole_ticks: Option<i64>,
}

/// Slippage in integer arithmetic when the tick is a power of ten and every number is small:
/// `price · (1 ± bps/10⁴) ± ticks`, rounded to the tick against the trader. `None` means
/// "use the Decimal path".
fn integer_slippage(
    inst: &Instrument,
    buy: bool,
    price: Decimal,
    s: &PreparedSlippage,
) -> Option<Decimal> {
    let dp = inst.tick_decimals()?;
    let ticks = s.whole_ticks?;
    let (pm, ps) = (i64::try_from(price.mantissa()).ok()?, price.scale());
    let k = 4 + s.bps_s as usize;
    if ps < dp || k + (ps - dp) as usize >= 30 || ps > 28 {
        return None;
    }
    let base = money::pow10(k as u32);
    let factor = if buy {
        base + s.bps_m as i128
    } else {
        base - s.bps_m as i128
    };
    let num = pm as i128 * factor;
    let den = money::pow10(k as u32 + ps - dp);
    // 64-bit division when both fit (128-bit division is a slow library call).
    let (q, exact) = match (i64::try_from(num), i64::try_from(den)) {
        (Ok(n), Ok(d)) => (n.div_euclid(d) as i128, n.rem_euclid(d) == 0),
        _ => (num.div_euclid(den), num.rem_euclid(den) == 0),
    };
    let m =
        if buy && !exact { q + 1 } else { q } + if buy { ticks as i128 } else { -(ticks as i128) };
    let m = i64::try_from(m).ok()?;
    Some(money::decimal_from_i64(m, dp))
}

/// Move `price` against the trader by the slippage, round to the tick (adversely) and, when a
/// bar range is given, keep it inside the range.
pub fn apply_slippage(
    inst: &Instrument,
    side: Side,
    price: Decimal,
    slippage: Slippage,
    range: Option<(Decimal, Decimal)>,
) -> Decimal {
    apply_prepared_slippage(inst, side, price, slippage.prepared(), range)
}

/// [`apply_slippage`] with precomputed settings (the simulated broker's hot path).
pub fn apply_prepared_slippage(
    inst: &Instrument,
    side: Side,
    price: Decimal,
    slippage: PreparedSlippage,
    range: Option<(Decimal, Decimal)>,
) -> Decimal {
    let buy = side == Side::Buy;
    let p = integer_slippage(inst, buy, price, &slippage)
        .unwrap_or_else(|| decimal_slippage(inst, buy, price, &slippage));
    clamp_to_range(inst, p, range)
}

/// [`apply_prepared_slippage`] with the bar's range given as market-data `f64`s (the
/// simulated broker's per-fill path): slippage, adverse rounding and the clamp to
/// `[low, high]` (each converted with [`Instrument::price_from_f64`]) all on integer
/// mantissas. `None` when that path does not apply (tick not a power of ten, unusual
/// slippage settings, huge numbers); the caller then uses [`apply_prepared_slippage`].
#[inline]
pub fn slip_within_f64_range(
    inst: &Instrument,
    side: Side,
    price: Decimal,
    slippage: PreparedSlippage,
    low: f64,
    high: f64,
) -> Option<Decimal> {
    let buy = side == Side::Buy;
    let p = integer_slippage(inst, buy, price, &slippage)?;
    let dp = p.scale();
    let ps = inst.price_scale();
    if ps < dp || ps - dp > 18 {
        return None;
    }
    let k = money::pow10(ps - dp) as i64;
    let m = i64::try_from(p.mantissa()).ok()?;
    let (lm, hm) = (
        inst.price_mantissa_from_f64(low)?,
        inst.price_mantissa_from_f64(high)?,
    );
    let at_ps = m.checked_mul(k)?;
    if at_ps < lm || at_ps > hm {
        // Inward to the tick: the low rounds up, the high down.
        let lo = -((-lm).div_euclid(k));
        let hi = hm.div_euclid(k);
        if lo <= hi {
            return Some(money::decimal_from_i64(m.clamp(lo, hi), dp));
        }
    }
    Some(p)
}

/// The general (Decimal) slippage computation.
fn decimal_slippage(
    inst: &Instrument,
    buy: bool,
    price: Decimal,
    slippage: &PreparedSlippage,
) -> Decimal {
    let mut p = match (slippage.none, buy) {
        (true, _) => price,
        (false, true) => price * slippage.up,
        (false, false) => price * slippage.down,
    };
    if !slippage.ticks.is_zero() {
        let t = slippage.ticks * inst.tick_size;
        p = if buy { p + t } else { p - t };
    }
    inst.round_price_adverse(p, buy)
}

/// Keep a slipped price inside the bar's range (rounded inward to the tick).
fn clamp_to_range(inst: &Instrument, mut p: Decimal, range: Option<(Decimal, Decimal)>) -> Decimal {
    if let Some((low, high)) = range
        && (p < low || p > high)
    {
        let (lo, hi) = (
            inst.round_price_adverse(low, true),
            inst.round_price_adverse(high, false),
        );
        if lo <= hi {
            p = p.clamp(lo, hi);
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::dec;

    /// What happened to an order on one bar.
    #[derive(Clone, Copy, Debug, PartialEq)]
    enum BarOutcome {
        /// Not filled; `triggered` is true when a stop-limit's stop was hit on this bar.
        NoFill { triggered: bool },
        /// Filled at `price` (before slippage; see [`apply_slippage`]); `slipped` tells whether
        /// slippage applies (market and stop fills).
        Fill { price: Decimal, slipped: bool },
    }

    impl Resting {
        /// A plain order of the four classic types.
        fn plain(
            order_type: OrderType,
            side: Side,
            limit: Option<Decimal>,
            stop: Option<Decimal>,
            triggered: bool,
        ) -> Resting {
            Resting {
                order_type,
                side,
                limit,
                stop,
                trail: None,
                limit_offset: None,
                triggered,
                trail_stop: None,
            }
        }
    }

    /// Evaluate one classic order (market, limit, stop, stop-limit) against a whole bar: a
    /// [`walk`] from the open. `triggered` says whether a stop-limit was triggered on an earlier
    /// bar (it then behaves as a plain limit).
    fn match_bar(
        path: &BarPath,
        order_type: OrderType,
        side: Side,
        limit: Option<Decimal>,
        stop: Option<Decimal>,
        triggered: bool,
    ) -> BarOutcome {
        // The classic types never round to a tick here, so any instrument will do.
        let inst = Instrument::stock("X");
        let o = Resting::plain(order_type, side, limit, stop, triggered);
        let step = walk(path, &inst, &o, PathPoint::open(path));
        match step.fill {
            Some(t) => BarOutcome::Fill {
                price: t.price,
                slipped: t.slipped,
            },
            None => BarOutcome::NoFill {
                triggered: step.triggered,
            },
        }
    }

    fn path(o: Decimal, h: Decimal, l: Decimal, c: Decimal) -> BarPath {
        BarPath::new(o, h, l, c)
    }

    fn fill(price: Decimal, slipped: bool) -> BarOutcome {
        BarOutcome::Fill { price, slipped }
    }

    const NO: BarOutcome = BarOutcome::NoFill { triggered: false };

    #[test]
    fn path_order_nearer_extreme_first() {
        assert_eq!(
            path(dec!(100), dec!(101), dec!(95), dec!(99)).points,
            [dec!(100), dec!(101), dec!(95), dec!(99)]
        );
        assert_eq!(
            path(dec!(100), dec!(105), dec!(99), dec!(101)).points,
            [dec!(100), dec!(99), dec!(105), dec!(101)]
        );
        // Tie: high first.
        assert_eq!(
            path(dec!(100), dec!(102), dec!(98), dec!(100)).points[1],
            dec!(102)
        );
    }

    /// Every fill rule, table-driven: (bar o/h/l/c, type, side, limit, stop, triggered) → outcome.
    #[test]
    fn fill_rule_table() {
        use OrderType::*;
        use Side::*;
        let bar = path(dec!(100), dec!(103), dec!(98), dec!(101)); // path 100 → 98 → 103 → 101
        let gap_up = path(dec!(106), dec!(107), dec!(105), dec!(106));
        let gap_down = path(dec!(94), dec!(95), dec!(93), dec!(94));
        type Row = (
            BarPath,
            OrderType,
            Side,
            Option<Decimal>,
            Option<Decimal>,
            bool,
            BarOutcome,
        );
        let rows: Vec<Row> = vec![
            (bar, Market, Buy, None, None, false, fill(dec!(100), true)),
            (bar, Market, Sell, None, None, false, fill(dec!(100), true)),
            // Limits
            (
                bar,
                Limit,
                Buy,
                Some(dec!(99)),
                None,
                false,
                fill(dec!(99), false),
            ),
            (bar, Limit, Buy, Some(dec!(97)), None, false, NO),
            (
                bar,
                Limit,
                Buy,
                Some(dec!(100.5)),
                None,
                false,
                fill(dec!(100), false),
            ),
            (
                gap_down,
                Limit,
                Buy,
                Some(dec!(99)),
                None,
                false,
                fill(dec!(94), false),
            ),
            (
                bar,
                Limit,
                Sell,
                Some(dec!(102)),
                None,
                false,
                fill(dec!(102), false),
            ),
            (bar, Limit, Sell, Some(dec!(104)), None, false, NO),
            (
                gap_up,
                Limit,
                Sell,
                Some(dec!(102)),
                None,
                false,
                fill(dec!(106), false),
            ),
            // Stops
            (
                bar,
                Stop,
                Buy,
                None,
                Some(dec!(102)),
                false,
                fill(dec!(102), true),
            ),
            (bar, Stop, Buy, None, Some(dec!(104)), false, NO),
            (
                gap_up,
                Stop,
                Buy,
                None,
                Some(dec!(102)),
                false,
                fill(dec!(106), true),
            ),
            (
                bar,
                Stop,
                Sell,
                None,
                Some(dec!(99)),
                false,
                fill(dec!(99), true),
            ),
            (
                gap_down,
                Stop,
                Sell,
                None,
                Some(dec!(99)),
                false,
                fill(dec!(94), true),
            ),
            (bar, Stop, Sell, None, Some(dec!(97)), false, NO),
            // Stop-limits: buy stop 102 limit 102.5 triggers on the way up and fills at 102.
            (
                bar,
                StopLimit,
                Buy,
                Some(dec!(102.5)),
                Some(dec!(102)),
                false,
                fill(dec!(102), false),
            ),
            // Stop 102, limit 101: triggers at 102 (leg 98→103), needs ≤ 101 afterwards: 103→101 reaches 101.
            (
                bar,
                StopLimit,
                Buy,
                Some(dec!(101)),
                Some(dec!(102)),
                false,
                fill(dec!(101), false),
            ),
            // Stop 102, limit 100: triggers, never comes back to 100 → triggered, no fill.
            (
                bar,
                StopLimit,
                Buy,
                Some(dec!(100)),
                Some(dec!(102)),
                false,
                BarOutcome::NoFill { triggered: true },
            ),
            // Gap above the limit: triggered at the open, open above limit, path 106→105 doesn't reach 104.
            (
                gap_up,
                StopLimit,
                Buy,
                Some(dec!(104)),
                Some(dec!(102)),
                false,
                BarOutcome::NoFill { triggered: true },
            ),
            // Already triggered: behaves as a limit.
            (
                bar,
                StopLimit,
                Buy,
                Some(dec!(99)),
                Some(dec!(150)),
                true,
                fill(dec!(99), false),
            ),
            // Sell stop-limit: stop 99 limit 98.5 → triggers on the way down to 98, fills at 99 (≥ 98.5).
            (
                bar,
                StopLimit,
                Sell,
                Some(dec!(98.5)),
                Some(dec!(99)),
                false,
                fill(dec!(99), false),
            ),
        ];
        for (i, (p, t, s, l, st, trig, want)) in rows.into_iter().enumerate() {
            assert_eq!(
                match_bar(&p, t, s, l, st, trig),
                want,
                "row {i}: {t:?} {s:?} l={l:?} s={st:?}"
            );
        }
    }

    proptest::proptest! {
        /// The integer fast path gives exactly what the Decimal path gives.
        #[test]
        fn integer_slippage_equals_decimal(
            pm in 1i64..100_000_000,
            ps in 2u32..6,
            bps in 0i64..5_000,
            bps_scale in 0u32..3,
            ticks in 0i64..20,
            buy in proptest::bool::ANY,
        ) {
            let inst = Instrument::stock("SPY");
            let price = Decimal::new(pm, ps);
            let s = Slippage { bps: Decimal::new(bps, bps_scale), ticks: Decimal::from(ticks) }.prepared();
            let fast = integer_slippage(&inst, buy, price, &s);
            proptest::prop_assert!(fast.is_some());
            proptest::prop_assert_eq!(fast.unwrap(), decimal_slippage(&inst, buy, price, &s));
        }
    }

    proptest::proptest! {
        /// The broker's integer range path gives exactly what the Decimal path gives.
        #[test]
        fn slip_within_f64_range_equals_decimal(
            open in 1i64..10_000_000,
            low_off in 0i64..50_000,
            high_off in 0i64..50_000,
            bps in 0i64..3_000,
            ticks in 0i64..10,
            buy in proptest::bool::ANY,
        ) {
            let inst = Instrument::stock("SPY");
            let open_f = open as f64 / 1e4;
            let (low, high) = ((open - low_off) as f64 / 1e4, (open + high_off) as f64 / 1e4);
            let price = inst.price_from_f64(open_f).unwrap();
            let s = Slippage { bps: Decimal::new(bps, 1), ticks: Decimal::from(ticks) }.prepared();
            let side = if buy { Side::Buy } else { Side::Sell };
            let range = Some((inst.price_from_f64(low).unwrap(), inst.price_from_f64(high).unwrap()));
            let fast = slip_within_f64_range(&inst, side, price, s, low, high);
            proptest::prop_assert!(fast.is_some());
            proptest::prop_assert_eq!(fast.unwrap(), apply_prepared_slippage(&inst, side, price, s, range));
        }
    }

    #[test]
    fn slippage_is_adverse_rounded_and_clamped() {
        let inst = Instrument::stock("SPY");
        let s = Slippage {
            bps: dec!(10),
            ticks: dec!(0),
        };
        assert_eq!(
            apply_slippage(&inst, Side::Buy, dec!(100), s, None),
            dec!(100.10)
        );
        assert_eq!(
            apply_slippage(&inst, Side::Sell, dec!(100), s, None),
            dec!(99.90)
        );
        let s = Slippage {
            bps: dec!(1),
            ticks: dec!(0),
        };
        // 100.003 rounds up for a buy, 99.997 down for a sell.
        assert_eq!(
            apply_slippage(&inst, Side::Buy, dec!(30.01), s, None),
            dec!(30.02)
        );
        assert_eq!(
            apply_slippage(&inst, Side::Sell, dec!(30.01), s, None),
            dec!(30.00)
        );
        let s = Slippage {
            bps: dec!(0),
            ticks: dec!(5),
        };
        assert_eq!(
            apply_slippage(
                &inst,
                Side::Buy,
                dec!(100),
                s,
                Some((dec!(99), dec!(100.02)))
            ),
            dec!(100.02)
        );
    }
}
