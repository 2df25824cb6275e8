//! Simulated broker prompts: rules that answer a submission with IBKR-style questions
//! (message ids like `o163`, `o383`, `o10151`) which must be confirmed before the order exists.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use tickline_engine::domain::{Instrument, OrderRequest, OrderType};

/// When a prompt rule fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PromptTrigger {
    /// Every order.
    Always,
    /// Market orders (IBKR o10151 "risks of market orders").
    MarketOrder,
    /// Stop and stop-limit orders (o10152 / o10331).
    StopOrder,
    /// Order value (quantity × price × multiplier) above `threshold` (o383 / o451).
    OrderValueAbove,
    /// Quantity above `threshold` (o383 size limit).
    QuantityAbove,
    /// Limit or stop price more than `threshold` percent away from the last price (o163).
    PriceAwayPct,
}

/// One `[[broker.prompts]]` rule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromptRule {
    pub message_id: String,
    pub when: PromptTrigger,
    #[serde(default)]
    pub threshold: Option<Decimal>,
    /// Question text; IBKR-like defaults exist for the common ids.
    #[serde(default)]
    pub text: Option<String>,
}

impl PromptRule {
    /// Does this rule fire for `req`, given the last price?
    pub fn fires(&self, req: &OrderRequest, inst: &Instrument, last: Option<Decimal>) -> bool {
        let threshold = self.threshold.unwrap_or_default();
        match self.when {
            PromptTrigger::Always => true,
            PromptTrigger::MarketOrder => req.order_type == OrderType::Market,
            PromptTrigger::StopOrder => {
                matches!(req.order_type, OrderType::Stop | OrderType::StopLimit)
            }
            PromptTrigger::QuantityAbove => req.quantity > threshold,
            PromptTrigger::OrderValueAbove => {
                let px = req.limit_price.or(req.stop_price).or(last);
                px.is_some_and(|p| req.quantity * p * inst.multiplier > threshold)
            }
            PromptTrigger::PriceAwayPct => match (req.limit_price.or(req.stop_price), last) {
                (Some(p), Some(l)) if l > Decimal::ZERO => {
                    (p - l).abs() / l * Decimal::from(100) > threshold
                }
                _ => false,
            },
        }
    }

    /// The question text.
    pub fn text(&self) -> String {
        if let Some(t) = &self.text {
            return t.clone();
        }
        let t = self.threshold.unwrap_or_default();
        match self.message_id.as_str() {
            "o163" => format!("The following order exceeds the price percentage limit of {t}%. Are you sure you want to submit this order?"),
            "o354" => "You are submitting an order without market data. We strongly recommend against this as it may result in erroneous and unexpected trades. Are you sure you want to submit this order?".into(),
            "o383" => format!("The following order size exceeds the Size Limit of {t}. Are you sure you want to submit this order?"),
            "o451" => format!("The following order value estimate exceeds the Total Value Limit of {t}. Are you sure you want to submit this order?"),
            "o10151" => "You are about to submit a market order. Market orders may execute at prices far from the last price. Are you sure you want to submit this order?".into(),
            "o10152" | "o10331" => "You are submitting a stop order. Once triggered, a stop order becomes a market order and may execute far from the stop price. Are you sure you want to submit this order?".into(),
            id => format!("Order confirmation required ({id}). Are you sure you want to submit this order?"),
        }
    }
}
