//! `channel`: the README's example strategy. Long `quantity` when the close breaks above the
//! highest close of the previous `period` bars, flat when it breaks below the lowest. One
//! instrument (the first one it sees).
use rust_decimal::Decimal;
use tickline_engine::domain::{Bar, InstrumentId, OrderRequest};
use tickline_engine::params::Params;
use tickline_engine::strategy::{Ctx, Strategy};

use crate::indicators::{Highest, Lowest};
use crate::registry::StrategyInfo;

pub const INFO: StrategyInfo = StrategyInfo {
    name: "channel",
    summary: "Long above the previous N-bar high close, flat below the N-bar low close",
    params: "period = 50, quantity = 10",
    build: |table| {
        let p = Params::new("channel", table);
        let period = p.usize("period", 50)?;
        let quantity = p.decimal("quantity", Decimal::from(10))?;
        let high = Highest::new(period).map_err(|e| p.invalid("period", e.to_string()))?;
        let low = Lowest::new(period).map_err(|e| p.invalid("period", e.to_string()))?;
        p.finish()?;
        Ok(Box::new(Channel {
            quantity,
            high,
            low,
            instrument: None,
        }))
    },
};

pub struct Channel {
    quantity: Decimal,
    high: Highest,
    low: Lowest,
    instrument: Option<InstrumentId>,
}

impl Strategy for Channel {
    fn on_bar(&mut self, bar: &Bar, ctx: &mut dyn Ctx) {
        if *self.instrument.get_or_insert(bar.instrument) != bar.instrument {
            return; // trades one instrument
        }
        // The channel of the *previous* bars: read before adding this close.
        let (hi, lo) = (self.high.value(), self.low.value());
        self.high.update(bar.close);
        self.low.update(bar.close);
        let (Some(hi), Some(lo)) = (hi, lo) else {
            return;
        };
        let position = ctx.position(bar.instrument);
        let target = if bar.close > hi {
            self.quantity
        } else if bar.close < lo {
            Decimal::ZERO
        } else {
            return;
        };
        if target != position && ctx.open_orders().is_empty() {
            ctx.submit(OrderRequest::market_signed(
                bar.instrument,
                target - position,
            ));
        }
    }
}
