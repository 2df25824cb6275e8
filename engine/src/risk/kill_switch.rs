use chrono::{NaiveTime, TimeZone};
use rust_decimal::Decimal;
use serde::Serialize;

use super::KillSwitchAction;
use crate::domain::Ts;
use crate::money;

/// The kill switch's three states.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum KillSwitchState {
    /// Normal trading.
    Active,
    /// Only orders that reduce a position pass.
    Reducing,
    /// No orders pass.
    Halted,
}

/// A change of the kill switch state, with the reason.
#[derive(Clone, Debug, PartialEq)]
pub struct KillSwitchChange {
    pub from: KillSwitchState,
    pub to: KillSwitchState,
    pub reason: String,
}

/// Watches equity for the max-daily-loss and max-drawdown limits. Per update it does at most
/// two `Decimal` comparisons: thresholds are recomputed only when the peak or the day changes.
pub struct KillSwitch {
    state: KillSwitchState,
    action: KillSwitchAction,
    max_daily_loss: Option<Decimal>,
    max_drawdown: Option<Decimal>,
    tz: chrono_tz::Tz,
    /// Fixed-point (10⁻¹²) equity figures, so the per-bar check is integer compares.
    peak: i128,
    /// `1 − max_drawdown` in fixed point.
    keep_ratio: Option<i128>,
    dd_floor: Option<i128>,
    day_floor: Option<i128>,
    day_start_equity: i128,
    next_day: Ts,
    started: bool,
    /// Per-update fast path: on the same day, with equity in `[guard, peak]`, nothing can
    /// change (no new peak, no day roll, no limit breached).
    guard: i128,
}

impl KillSwitch {
    pub fn new(
        max_daily_loss: Option<Decimal>,
        max_drawdown: Option<Decimal>,
        action: KillSwitchAction,
        tz: chrono_tz::Tz,
    ) -> Self {
        KillSwitch {
            state: KillSwitchState::Active,
            action,
            max_daily_loss,
            max_drawdown,
            tz,
            peak: 0,
            keep_ratio: max_drawdown.map(|d| money::to_fixed(Decimal::ONE - d)),
            dd_floor: None,
            day_floor: None,
            day_start_equity: 0,
            next_day: Ts::MIN,
            started: false,
            guard: i128::MAX,
        }
    }

    pub fn state(&self) -> KillSwitchState {
        self.state
    }

    pub fn set(&mut self, to: KillSwitchState) -> Option<KillSwitchChange> {
        let change = self.change(to, "set by operator".to_string());
        self.guard = self.guard();
        change
    }

    fn change(&mut self, to: KillSwitchState, reason: String) -> Option<KillSwitchChange> {
        if self.state == to {
            return None;
        }
        let from = self.state;
        self.state = to;
        Some(KillSwitchChange { from, to, reason })
    }

    /// The first instant of the exchange-local day after the one containing `now`.
    fn next_day_start(&self, now: Ts) -> Ts {
        let utc = chrono::DateTime::from_timestamp_nanos(now);
        let local = utc.with_timezone(&self.tz).date_naive();
        let next = local.succ_opt().unwrap_or(local).and_time(NaiveTime::MIN);
        self.tz
            .from_local_datetime(&next)
            .earliest()
            .and_then(|t| t.timestamp_nanos_opt())
            .unwrap_or(now.saturating_add(86_400_000_000_000))
    }

    /// True when a limit is configured (otherwise equity need not be fed).
    #[inline]
    pub fn is_armed(&self) -> bool {
        self.max_daily_loss.is_some() || self.max_drawdown.is_some()
    }

    /// Feed equity at `now`. Returns the state change when a limit trips.
    pub fn on_equity(&mut self, now: Ts, equity: Decimal) -> Option<KillSwitchChange> {
        self.on_equity_fixed(now, money::to_fixed(equity))
    }

    /// [`Self::on_equity`] with equity in fixed point (the kernel's per-bar path).
    #[inline]
    pub fn on_equity_fixed(&mut self, now: Ts, equity: i128) -> Option<KillSwitchChange> {
        if now < self.next_day && equity <= self.peak && equity >= self.guard {
            return None;
        }
        let change = self.update(now, equity);
        self.guard = self.guard();
        change
    }

    /// The lowest equity the fast path may let through: the higher of the two floors while
    /// Active; the peak itself while the drawdown floor is not computed yet (so the first
    /// dip below a new peak computes it); no floor once tripped.
    fn guard(&self) -> i128 {
        if self.state != KillSwitchState::Active {
            return i128::MIN;
        }
        let dd = match (self.keep_ratio, self.dd_floor) {
            (None, _) => i128::MIN,
            (Some(_), Some(f)) => f,
            (Some(_), None) => self.peak,
        };
        dd.max(self.day_floor.unwrap_or(i128::MIN))
    }

    fn update(&mut self, now: Ts, equity: i128) -> Option<KillSwitchChange> {
        if !self.is_armed() {
            return None;
        }
        if !self.started || now >= self.next_day {
            self.started = true;
            self.next_day = self.next_day_start(now);
            self.day_start_equity = equity;
            self.day_floor = self.max_daily_loss.map(|l| equity - money::to_fixed(l));
        }
        if equity >= self.peak {
            // A new high cannot breach the drawdown limit; the floor is recomputed (one
            // division) only once equity is below a new peak.
            if equity > self.peak {
                self.peak = equity;
                self.dd_floor = None;
            }
        } else if self.dd_floor.is_none()
            && let Some(k) = self.keep_ratio
        {
            let peak = self.peak;
            self.dd_floor = Some(
                peak.checked_mul(k)
                    .map(|x| x / money::ONE)
                    .unwrap_or_else(|| (peak / money::ONE) * k),
            );
        }
        if self.state != KillSwitchState::Active {
            return None;
        }
        let tripped_day = self.day_floor.is_some_and(|f| equity < f);
        let tripped_dd = self.dd_floor.is_some_and(|f| equity < f);
        if !tripped_day && !tripped_dd {
            return None;
        }
        self.trip(equity, tripped_day)
    }

    #[cold]
    fn trip(&mut self, equity: i128, daily: bool) -> Option<KillSwitchChange> {
        let to = match self.action {
            KillSwitchAction::Halt => KillSwitchState::Halted,
            KillSwitchAction::Reduce => KillSwitchState::Reducing,
        };
        let reason = if daily {
            let loss = money::from_fixed(self.day_start_equity - equity).normalize();
            format!(
                "daily loss {loss} exceeds max_daily_loss {}",
                self.max_daily_loss.unwrap_or_default()
            )
        } else {
            let peak = money::from_fixed(self.peak);
            let dd = ((peak - money::from_fixed(equity)) / peak).round_dp(4);
            format!(
                "drawdown {dd} from peak {} exceeds max_drawdown {}",
                peak.normalize(),
                self.max_drawdown.unwrap_or_default()
            )
        };
        self.change(to, reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The per-update fast path never changes an outcome: a switch fed through
        /// `on_equity_fixed` trips exactly when one that always takes the full path does.
        #[test]
        fn fast_path_agrees_with_the_full_update(
            steps in proptest::collection::vec((0i64..4, -800i64..800), 1..300),
            daily in proptest::option::of(1i64..3_000),
            drawdown in proptest::option::of(1i64..90),
            reduce in any::<bool>(),
        ) {
            let action = if reduce { KillSwitchAction::Reduce } else { KillSwitchAction::Halt };
            let make = || KillSwitch::new(
                daily.map(Decimal::from),
                drawdown.map(|p| Decimal::new(p, 2)),
                action,
                chrono_tz::America::New_York,
            );
            let (mut fast, mut full) = (make(), make());
            let mut now: Ts = 1_700_000_000_000_000_000;
            let mut equity: i128 = 20_000 * money::ONE;
            for (hours, delta) in steps {
                now += hours * 5 * 3_600_000_000_000;
                equity += delta as i128 * money::ONE;
                prop_assert_eq!(fast.on_equity_fixed(now, equity), full.update(now, equity));
                prop_assert_eq!(fast.state(), full.state());
            }
        }
    }
}
