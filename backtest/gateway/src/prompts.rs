//! Order prompt rules: which IBKR questions (message ids such as `o163`, `o451`, `o10151`)
//! a placement or modification must confirm through `/iserver/reply/{id}` before the order
//! exists. The default texts carry IBKR's wording, so clients that match question text
//! (e.g. ibind's `QuestionType`) recognise them.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use tickline_engine::domain::{OrderType, Side};

use crate::contract::Contract;

/// When a rule fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PromptTrigger {
    /// Every order.
    Always,
    /// Market orders.
    MarketOrder,
    /// Market orders placed outside the contract's regular trading hours.
    MarketOutsideRth,
    /// Any order placed outside regular trading hours.
    OutsideRth,
    /// Stop and stop-limit orders.
    StopOrder,
    /// Order value (quantity × price × multiplier, at the limit/stop or last price) above
    /// `threshold`.
    OrderValueAbove,
    /// Quantity above `threshold`.
    QuantityAbove,
    /// Limit or stop price more than `threshold` percent away from the last price.
    PriceAwayPct,
    /// The session has no market-data stream for the contract (no snapshot / `smd` yet).
    NoMarketData,
}

/// How a rule asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PromptStyle {
    /// A question in the reply loop (`/iserver/reply/{id}`).
    Question,
    /// A server ("reject") prompt with options, answered through `/iserver/notification`;
    /// the order exists but waits until then (IBKR's `p12`).
    ServerPrompt,
}

/// The options of IBKR's `p12` prompt; the last declines.
pub const P12_OPTIONS: [&str; 3] = ["Use on this order", "Always use", "Do not use"];

/// One `[[prompts]]` rule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromptRule {
    pub message_id: String,
    pub when: PromptTrigger,
    #[serde(default)]
    pub threshold: Option<Decimal>,
    /// Question text; IBKR's wording is used for the common ids when absent.
    #[serde(default)]
    pub text: Option<String>,
    /// `question` or `server-prompt`; default: `server-prompt` for `p12`, else `question`.
    #[serde(default)]
    pub style: Option<PromptStyle>,
}

/// What a rule looks at.
#[derive(Clone, Copy, Debug)]
pub struct OrderFacts<'a> {
    pub contract: &'a Contract,
    pub side: Side,
    pub quantity: Decimal,
    pub order_type: OrderType,
    pub limit: Option<Decimal>,
    pub stop: Option<Decimal>,
    pub last: Option<Decimal>,
    pub rth: bool,
    pub has_market_data: bool,
}

impl OrderFacts<'_> {
    fn price(&self) -> Option<Decimal> {
        match self.order_type {
            OrderType::Stop => self.stop,
            _ => self.limit.or(self.stop),
        }
    }

    fn value(&self) -> Option<Decimal> {
        self.price()
            .or(self.last)
            .map(|p| self.quantity * p * self.contract.inst.multiplier)
    }

    fn describe(&self) -> String {
        format!(
            "{} {} {} {}",
            self.side.as_str(),
            self.quantity.normalize(),
            self.contract.symbol(),
            self.contract.inst.exchange
        )
    }
}

/// A question to put to the client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Question {
    pub message_id: String,
    pub text: String,
}

fn thousands(d: Decimal) -> String {
    crate::wire::fmt_thousands(d.round_dp(2), 2)
}

impl PromptRule {
    /// The default rules: price far from the market (o163, 3 %), order value above
    /// USD 1,000,000 (o451) and market orders outside regular hours (o10151).
    pub fn defaults() -> Vec<PromptRule> {
        vec![
            PromptRule {
                message_id: "o163".into(),
                when: PromptTrigger::PriceAwayPct,
                threshold: Some(Decimal::from(3)),
                text: None,
                style: None,
            },
            PromptRule {
                message_id: "o451".into(),
                when: PromptTrigger::OrderValueAbove,
                threshold: Some(Decimal::from(1_000_000)),
                text: None,
                style: None,
            },
            PromptRule {
                message_id: "o10151".into(),
                when: PromptTrigger::MarketOutsideRth,
                threshold: None,
                text: None,
                style: None,
            },
        ]
    }

    /// Check the rule is usable.
    pub fn validate(&self) -> Result<(), String> {
        if self.message_id.trim().is_empty() {
            return Err("message_id must not be empty".into());
        }
        let needs = matches!(
            self.when,
            PromptTrigger::OrderValueAbove
                | PromptTrigger::QuantityAbove
                | PromptTrigger::PriceAwayPct
        );
        match (needs, self.threshold) {
            (true, None) => Err(format!("{:?} needs a threshold", self.when)),
            (_, Some(t)) if t < Decimal::ZERO => Err("threshold must not be negative".into()),
            _ => Ok(()),
        }
    }

    /// Does the rule fire?
    pub fn fires(&self, f: &OrderFacts) -> bool {
        let t = self.threshold.unwrap_or_default();
        match self.when {
            PromptTrigger::Always => true,
            PromptTrigger::MarketOrder => f.order_type == OrderType::Market,
            PromptTrigger::MarketOutsideRth => f.order_type == OrderType::Market && !f.rth,
            PromptTrigger::OutsideRth => !f.rth,
            PromptTrigger::StopOrder => {
                matches!(f.order_type, OrderType::Stop | OrderType::StopLimit)
            }
            PromptTrigger::QuantityAbove => f.quantity > t,
            PromptTrigger::OrderValueAbove => f.value().is_some_and(|v| v > t),
            PromptTrigger::PriceAwayPct => match (f.price(), f.last) {
                (Some(p), Some(l)) if l > Decimal::ZERO => {
                    (p - l).abs() / l * Decimal::from(100) > t
                }
                _ => false,
            },
            PromptTrigger::NoMarketData => !f.has_market_data,
        }
    }

    /// How this rule asks.
    pub fn style(&self) -> PromptStyle {
        self.style.unwrap_or(if self.message_id == "p12" {
            PromptStyle::ServerPrompt
        } else {
            PromptStyle::Question
        })
    }

    /// The question text for this order.
    pub fn text(&self, f: &OrderFacts) -> String {
        if let Some(t) = &self.text {
            return t.clone();
        }
        let t = self.threshold.unwrap_or_default().normalize();
        let ask = "Are you sure you want to submit this order?";
        match self.message_id.as_str() {
            "o163" => format!(
                "The following order \"{} @ {}\" price exceeds \nthe Percentage constraint of {t}%.\n{ask}",
                f.describe(),
                f.price().map(|p| p.normalize().to_string()).unwrap_or_default()
            ),
            "o354" => format!(
                "You are submitting an order without market data. We strongly recommend against this as it may result in erroneous and unexpected trades.\n{ask}"
            ),
            "o383" => format!("The following order {} size exceeds the Size Limit of {t}.\n{ask}", f.describe()),
            "o451" => format!(
                "The following order {} value estimate of {} {} exceeds \nthe Total Value Limit of {} {}.\n{ask}",
                f.describe(),
                f.value().map(thousands).unwrap_or_default(),
                f.contract.inst.currency,
                thousands(self.threshold.unwrap_or_default()),
                f.contract.inst.currency
            ),
            "o403" => format!("This order will most likely trigger and fill immediately.\n{ask}"),
            "o10151" => format!(
                "A Market Order is an instruction to trade your order at any available price. {}Market orders may execute at prices far from the last price.\n{ask}",
                if f.rth { "" } else { "This order is placed outside regular trading hours, when liquidity is thin. " }
            ),
            "o10152" => "A Stop Order - i.e. a Stop (Market) Order - is an instruction to buy or sell at the market price once your trigger (\"stop\") price is reached.".to_string(),
            "p12" => "If your order is not immediately executable, our systems may, depending on market conditions, reject your order if its limit price is more that the allowed amount away from the reference price at that time. If this happens, you will not receive a fill. This is a control designed to ensure that we comply with our regulatory obligations to avoid submitting disruptive orders to the marketplace.\nUse the Price Management Algo?".to_string(),
            "o10331" => format!(
                "You are about to submit a stop order. Please be aware of the various stop order types available and the risks associated with each one.\n{ask}"
            ),
            id => format!("Order confirmation required ({id}) for {}.\n{ask}", f.describe()),
        }
    }
}

/// The prompts of `style` that `rules` raise for one order, skipping suppressed ids.
pub fn questions(
    rules: &[PromptRule],
    f: &OrderFacts,
    suppressed: &dyn Fn(&str) -> bool,
    style: PromptStyle,
) -> Vec<Question> {
    rules
        .iter()
        .filter(|r| r.style() == style && !suppressed(&r.message_id) && r.fires(f))
        .map(|r| Question {
            message_id: r.message_id.clone(),
            text: r.text(f),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::build_universe;
    use rust_decimal::dec;

    fn facts(c: &Contract) -> OrderFacts<'_> {
        OrderFacts {
            contract: c,
            side: Side::Buy,
            quantity: dec!(100),
            order_type: OrderType::Limit,
            limit: Some(dec!(165)),
            stop: None,
            last: Some(dec!(190)),
            rth: true,
            has_market_data: true,
        }
    }

    #[test]
    fn default_rules_fire_and_read_like_ibkr() {
        let u = build_universe(&[], 0).unwrap();
        let rules = PromptRule::defaults();
        let f = facts(&u[0]);
        let q = questions(&rules, &f, &|_| false, PromptStyle::Question);
        assert_eq!(q.len(), 1);
        assert_eq!(q[0].message_id, "o163");
        // ibind strips newlines and matches this phrase.
        assert!(
            q[0].text
                .replace('\n', "")
                .contains("price exceeds the Percentage constraint of 3%"),
            "{}",
            q[0].text
        );
        assert!(
            questions(&rules, &f, &|id| id == "o163", PromptStyle::Question).is_empty(),
            "suppressed"
        );
        let mut m = facts(&u[0]);
        m.order_type = OrderType::Market;
        m.limit = None;
        m.quantity = dec!(10000);
        m.rth = false;
        let q = questions(&rules, &m, &|_| false, PromptStyle::Question);
        let ids: Vec<_> = q.iter().map(|q| q.message_id.as_str()).collect();
        assert_eq!(ids, ["o451", "o10151"]);
        assert!(
            q[0].text
                .replace('\n', "")
                .contains("exceeds the Total Value Limit of"),
            "{}",
            q[0].text
        );
        assert!(q[1].text.contains(
            "A Market Order is an instruction to trade your order at any available price"
        ));
    }

    #[test]
    fn thresholds_are_required() {
        let r = PromptRule {
            message_id: "o383".into(),
            when: PromptTrigger::QuantityAbove,
            threshold: None,
            text: None,
            style: None,
        };
        assert!(r.validate().is_err());
        let p12 = PromptRule {
            message_id: "p12".into(),
            when: PromptTrigger::Always,
            threshold: None,
            text: None,
            style: None,
        };
        assert_eq!(p12.style(), PromptStyle::ServerPrompt);
    }
}
