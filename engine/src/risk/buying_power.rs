use rust_decimal::Decimal;

use super::config::AccountKind;
use super::{RefusalReason, RiskCheck, RiskContext};
use crate::domain::{Instrument, OrderRequest};

/// The margin the book needs after the order may not exceed the equity, unless the order
/// reduces exposure. A cash account pays positions in full (so buying needs the cash) and
/// sells nothing short; a margin account holds `initial_margin` of each position's value, or
/// a future's per-contract `initial_margin`. Working orders of the instrument count as filled.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BuyingPower {
    pub account: AccountKind,
    /// Fraction of value held by a margin account (Reg T: 0.5).
    pub initial_margin: Decimal,
}

impl BuyingPower {
    /// The margin the current book holds: value-based positions (Σ |value| − the
    /// per-contract ones) at the account's rate, plus the per-contract margins.
    fn in_use(&self, ctx: &RiskContext<'_>) -> Decimal {
        let valued = ctx.gross_exposure - ctx.per_contract_exposure;
        let rate = match self.account {
            AccountKind::Cash => Decimal::ONE,
            AccountKind::Margin => self.initial_margin,
        };
        valued * rate + ctx.per_contract_margin
    }

    /// What new value-based positions may still take: the equity the book's margin leaves
    /// free, at the account's rate (a margin account's free equity buys twice its value at
    /// Reg T). Zero when the book already needs more than the equity.
    pub fn available(&self, ctx: &RiskContext<'_>) -> Decimal {
        let free = (ctx.equity - self.in_use(ctx)).max(Decimal::ZERO);
        match self.account {
            AccountKind::Cash => free,
            AccountKind::Margin if self.initial_margin > Decimal::ZERO => {
                free / self.initial_margin
            }
            AccountKind::Margin => free,
        }
    }

    /// The margin `quantity` of `inst` worth `value` (absolute) needs.
    fn margin(&self, inst: &Instrument, quantity: Decimal, value: Decimal) -> Decimal {
        match (self.account, inst.initial_margin) {
            (AccountKind::Margin, Some(per_contract)) => quantity.abs() * per_contract,
            (AccountKind::Margin, None) => value.abs() * self.initial_margin,
            (AccountKind::Cash, _) => value.abs(),
        }
    }
}

impl RiskCheck for BuyingPower {
    fn name(&self) -> &'static str {
        "buying_power"
    }

    fn check(&self, req: &OrderRequest, ctx: &RiskContext<'_>) -> Result<(), RefusalReason> {
        if ctx.reduces_exposure(req) {
            return Ok(());
        }
        let after = ctx.position + ctx.open_order_qty + req.signed_quantity();
        if self.account == AccountKind::Cash && after.is_sign_negative() && !after.is_zero() {
            return Err(RefusalReason::ShortSaleNeedsMargin { position: after });
        }
        let price = ctx
            .reference_price(req)
            .ok_or(RefusalReason::NoReferencePrice)?;
        let inst = ctx.instrument;
        let m = inst.multiplier;
        // The book's margin today, with this instrument's part replaced by what it needs
        // after the order.
        let in_use = self.in_use(ctx);
        let mark = ctx.last_price.unwrap_or(price);
        let now = self.margin(inst, ctx.position, ctx.position * mark * m);
        let needed = self.margin(inst, after, after * price * m);
        let required = (in_use - now).max(Decimal::ZERO) + needed;
        if required > ctx.equity {
            return Err(RefusalReason::BuyingPower {
                required,
                equity: ctx.equity,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal::dec;

    use super::*;
    use crate::domain::{Instrument, InstrumentId, OrderRequest, SecType, Side};

    fn ctx<'a>(inst: &'a Instrument, position: Decimal, equity: Decimal) -> RiskContext<'a> {
        let value = (position * dec!(100) * inst.multiplier).abs();
        RiskContext {
            now: 0,
            instrument: inst,
            last_price: Some(dec!(100)),
            position,
            open_order_qty: Decimal::ZERO,
            open_orders: 0,
            gross_exposure: value,
            per_contract_margin: inst
                .initial_margin
                .map_or(Decimal::ZERO, |m| position.abs() * m),
            per_contract_exposure: if inst.initial_margin.is_some() {
                value
            } else {
                Decimal::ZERO
            },
            equity,
            parent: None,
        }
    }

    const I: InstrumentId = InstrumentId(0);

    /// (account, position, order (signed), equity, refused?) on a stock at 100.
    #[test]
    fn stock_table() {
        let cash = BuyingPower {
            account: AccountKind::Cash,
            initial_margin: dec!(0.5),
        };
        let margin = BuyingPower {
            account: AccountKind::Margin,
            initial_margin: dec!(0.5),
        };
        let inst = Instrument::stock("SPY");
        let cases: &[(&BuyingPower, Decimal, Decimal, Decimal, Option<&str>)] = &[
            // Cash: 10,000 buys 100 shares at 100, not 101.
            (&cash, dec!(0), dec!(100), dec!(10000), None),
            (&cash, dec!(0), dec!(101), dec!(10000), Some("buying")),
            // Holding 50 (5,000 of the 10,000 equity in stock): 50 more fit, 51 do not.
            (&cash, dec!(50), dec!(50), dec!(10000), None),
            (&cash, dec!(50), dec!(51), dec!(10000), Some("buying")),
            // No short sales in a cash account; selling what is held is fine.
            (&cash, dec!(0), dec!(-1), dec!(10000), Some("short")),
            (&cash, dec!(50), dec!(-50), dec!(10000), None),
            // Margin (Reg T): twice the equity, long or short.
            (&margin, dec!(0), dec!(200), dec!(10000), None),
            (&margin, dec!(0), dec!(201), dec!(10000), Some("buying")),
            (&margin, dec!(0), dec!(-200), dec!(10000), None),
            (&margin, dec!(100), dec!(100), dec!(10000), None),
            (&margin, dec!(100), dec!(101), dec!(10000), Some("buying")),
            // Reversing long 100 to short 100 needs margin for the short 100 only.
            (&margin, dec!(100), dec!(-200), dec!(10000), None),
            (&margin, dec!(100), dec!(-301), dec!(10000), Some("buying")),
        ];
        for (k, (check, pos, order, equity, refused)) in cases.iter().enumerate() {
            let req = OrderRequest::market_signed(I, *order);
            let got = check.check(&req, &ctx(&inst, *pos, *equity));
            match (refused, got) {
                (None, Ok(())) => {}
                (Some("short"), Err(RefusalReason::ShortSaleNeedsMargin { .. })) => {}
                (Some("buying"), Err(RefusalReason::BuyingPower { .. })) => {}
                (want, got) => panic!("case {k}: want {want:?}, got {got:?}"),
            }
        }
    }

    #[test]
    fn available_buying_power() {
        let inst = Instrument::stock("SPY");
        let cash = BuyingPower {
            account: AccountKind::Cash,
            initial_margin: dec!(0.5),
        };
        let margin = BuyingPower {
            account: AccountKind::Margin,
            initial_margin: dec!(0.5),
        };
        // 10,000 equity holding 50 at 100 (5,000).
        let c = ctx(&inst, dec!(50), dec!(10000));
        assert_eq!(cash.available(&c), dec!(5000));
        assert_eq!(margin.available(&c), dec!(15000));
        // Over-extended: nothing left, not a negative figure.
        assert_eq!(cash.available(&ctx(&inst, dec!(200), dec!(10000))), dec!(0));
    }

    #[test]
    fn futures_need_their_per_contract_margin() {
        let mut es = Instrument::stock("ES");
        es.sec_type = SecType::Fut;
        es.multiplier = dec!(50);
        es.initial_margin = Some(dec!(15000));
        let margin = BuyingPower {
            account: AccountKind::Margin,
            initial_margin: dec!(0.5),
        };
        let buy = |n| OrderRequest::market(I, Side::Buy, n);
        // 50,000 of equity: three contracts (45,000), not four, whatever the notional.
        assert!(
            margin
                .check(&buy(dec!(3)), &ctx(&es, dec!(0), dec!(50000)))
                .is_ok()
        );
        assert!(
            margin
                .check(&buy(dec!(4)), &ctx(&es, dec!(0), dec!(50000)))
                .is_err()
        );
        assert!(
            margin
                .check(&buy(dec!(1)), &ctx(&es, dec!(2), dec!(50000)))
                .is_ok()
        );
        assert!(
            margin
                .check(&buy(dec!(2)), &ctx(&es, dec!(2), dec!(50000)))
                .is_err()
        );
    }
}
