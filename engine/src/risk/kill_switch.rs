use chrono::{NaiveTime, TimeZone};
use rust_decimal::Decimal;
use serde::Serialize;

use super::KillSwitchAction;
use crate::domain::Ts;

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
    peak: Decimal,
    dd_floor: Option<Decimal>,
    day_floor: Option<Decimal>,
    day_start_equity: Decimal,
    next_day: Ts,
    started: bool,
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
            peak: Decimal::ZERO,
            dd_floor: None,
            day_floor: None,
            day_start_equity: Decimal::ZERO,
            next_day: Ts::MIN,
            started: false,
        }
    }

    pub fn state(&self) -> KillSwitchState {
        self.state
    }

    pub fn set(&mut self, to: KillSwitchState) -> Option<KillSwitchChange> {
        self.change(to, "set by operator".to_string())
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

    /// Feed equity at `now`. Returns the state change when a limit trips.
    #[inline]
    pub fn on_equity(&mut self, now: Ts, equity: Decimal) -> Option<KillSwitchChange> {
        if self.max_daily_loss.is_none() && self.max_drawdown.is_none() {
            return None;
        }
        if !self.started || now >= self.next_day {
            self.started = true;
            self.next_day = self.next_day_start(now);
            self.day_start_equity = equity;
            self.day_floor = self.max_daily_loss.map(|l| equity - l);
        }
        if equity > self.peak {
            self.peak = equity;
            self.dd_floor = self.max_drawdown.map(|d| equity * (Decimal::ONE - d));
        }
        if self.state != KillSwitchState::Active {
            return None;
        }
        let to = match self.action {
            KillSwitchAction::Halt => KillSwitchState::Halted,
            KillSwitchAction::Reduce => KillSwitchState::Reducing,
        };
        if let Some(floor) = self.day_floor
            && equity < floor
        {
            let loss = self.day_start_equity - equity;
            return self.change(
                to,
                format!(
                    "daily loss {loss} exceeds max_daily_loss {}",
                    self.max_daily_loss.unwrap_or_default()
                ),
            );
        }
        if let Some(floor) = self.dd_floor
            && equity < floor
        {
            let dd = ((self.peak - equity) / self.peak).round_dp(4);
            return self.change(
                to,
                format!(
                    "drawdown {dd} from peak {} exceeds max_drawdown {}",
                    self.peak,
                    self.max_drawdown.unwrap_or_default()
                ),
            );
        }
        None
    }
}
