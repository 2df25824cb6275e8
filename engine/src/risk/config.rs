use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// What the kill switch does when the daily-loss or drawdown limit is hit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KillSwitchAction {
    /// Only exposure-reducing orders pass.
    Reduce,
    /// No orders pass; open orders are cancelled.
    #[default]
    Halt,
}

/// `[risk]` configuration. Every limit is off when absent.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskConfig {
    /// Largest quantity of one order.
    pub max_order_quantity: Option<Decimal>,
    /// Largest value of one order (quantity × price × multiplier).
    pub max_order_notional: Option<Decimal>,
    /// Largest absolute position per instrument, counting working orders.
    pub max_position: Option<Decimal>,
    /// Largest Σ |market value| over all positions after the order.
    pub max_gross_exposure: Option<Decimal>,
    /// Limit and stop prices must lie within this many basis points of the last price.
    pub price_band_bps: Option<Decimal>,
    /// Most orders open at once.
    pub max_open_orders: Option<usize>,
    /// Most orders approved within any one second.
    pub max_orders_per_second: Option<usize>,
    /// Loss (in account currency) from the start of the exchange day that trips the kill switch.
    pub max_daily_loss: Option<Decimal>,
    /// Drawdown from the equity peak, as a fraction (0.2 = 20 %), that trips the kill switch.
    pub max_drawdown: Option<Decimal>,
    /// What the kill switch does when tripped: "halt" (default) or "reduce".
    #[serde(default)]
    pub kill_switch_action: KillSwitchAction,
    /// The account's type, for the buying-power check (off when absent).
    pub account: Option<AccountKind>,
    /// Margin accounts: the fraction of a position's value held as initial margin (Reg T:
    /// 0.5, so buying power is twice the equity). Futures with a per-contract
    /// `initial_margin` use that instead. Default 0.5.
    pub initial_margin: Option<Decimal>,
}

/// What an account may hold, for the buying-power check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccountKind {
    /// Positions are paid in full from cash; no short sales.
    Cash,
    /// Positions need their initial margin; short sales allowed.
    Margin,
}

/// Reg T initial margin for stocks.
pub const REG_T_INITIAL_MARGIN: Decimal = Decimal::from_parts(5, 0, 0, false, 1);
