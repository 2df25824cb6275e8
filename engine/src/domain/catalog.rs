//! Built-in instrument definitions (real IBKR conids, exchanges and tick sizes), used when a
//! configuration does not define a symbol itself, and by the gateway emulator's default
//! universe.

use rust_decimal::Decimal;

use super::{Instrument, SecType};

#[allow(clippy::too_many_arguments)]
fn def(
    symbol: &str,
    conid: i64,
    sec_type: SecType,
    exchange: &str,
    currency: &str,
    tick: Decimal,
    lot: Decimal,
    multiplier: Decimal,
    tz: &str,
) -> Instrument {
    let mut i = Instrument::stock(symbol);
    i.conid = Some(conid);
    i.sec_type = sec_type;
    i.exchange = exchange.to_string();
    i.currency = currency.to_string();
    i.tick_size = tick;
    i.lot_size = lot;
    i.multiplier = multiplier;
    i.timezone = tz.to_string();
    i.prepare().expect("built-in definitions are valid");
    i
}

/// The built-in instruments: AAPL, MSFT, SPY, QQQ, IWM (stocks/ETFs), ES (E-mini S&P 500
/// future), EUR.USD (IDEALPRO FX) and SYNTH (the synthetic stock of `tickline data synth`).
pub fn builtin_instruments() -> Vec<Instrument> {
    let ny = "America/New_York";
    let chi = "America/Chicago";
    let one = Decimal::ONE;
    let cent = Decimal::new(1, 2);
    vec![
        def(
            "AAPL",
            265598,
            SecType::Stk,
            "NASDAQ",
            "USD",
            cent,
            one,
            one,
            ny,
        ),
        def(
            "MSFT",
            272093,
            SecType::Stk,
            "NASDAQ",
            "USD",
            cent,
            one,
            one,
            ny,
        ),
        def(
            "SPY",
            756733,
            SecType::Stk,
            "ARCA",
            "USD",
            cent,
            one,
            one,
            ny,
        ),
        def(
            "QQQ",
            320227571,
            SecType::Stk,
            "NASDAQ",
            "USD",
            cent,
            one,
            one,
            ny,
        ),
        def(
            "IWM",
            9579970,
            SecType::Stk,
            "ARCA",
            "USD",
            cent,
            one,
            one,
            ny,
        ),
        {
            let mut es = def(
                "ES",
                495512563,
                SecType::Fut,
                "CME",
                "USD",
                Decimal::new(25, 2),
                one,
                Decimal::from(50),
                chi,
            );
            // CME's initial margin for one E-mini S&P 500 contract, roughly (it changes).
            es.initial_margin = Some(Decimal::from(15_000));
            es
        },
        def(
            "EUR.USD",
            12087792,
            SecType::Cash,
            "IDEALPRO",
            "USD",
            Decimal::new(5, 5),
            one,
            one,
            ny,
        ),
        def(
            "SYNTH",
            900000001,
            SecType::Stk,
            "SMART",
            "USD",
            cent,
            one,
            one,
            ny,
        ),
    ]
}

/// A built-in instrument by symbol.
pub fn builtin(symbol: &str) -> Option<Instrument> {
    builtin_instruments()
        .into_iter()
        .find(|i| i.symbol == symbol)
}
