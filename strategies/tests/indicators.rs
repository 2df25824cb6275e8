//! Hand-computed examples, parameter validation and non-finite handling for the streaming
//! indicators. Property tests against naive recomputation live in `indicators_props.rs`.

use tickline_strategies::indicators::{
    Atr, Bollinger, BollingerValue, Ema, Highest, IndicatorError, Lowest, Macd, MacdValue,
    RollingStd, Rsi, Sma,
};

type TestResult = Result<(), IndicatorError>;

fn assert_close(actual: Option<f64>, expected: f64, tol: f64) {
    match actual {
        Some(a) => assert!(
            (a - expected).abs() <= tol,
            "expected {expected} ± {tol}, got {a}"
        ),
        None => panic!("expected {expected}, got None"),
    }
}

// ---------------------------------------------------------------- SMA

#[test]
fn sma_hand_computed() -> TestResult {
    let mut sma = Sma::new(3)?;
    let out: Vec<_> = [1.0, 2.0, 3.0, 4.0, 5.0, 9.0]
        .iter()
        .map(|&x| sma.update(x))
        .collect();
    assert_eq!(
        out,
        vec![None, None, Some(2.0), Some(3.0), Some(4.0), Some(6.0)]
    );
    assert_eq!(sma.value(), Some(6.0));
    assert!(sma.is_ready());
    assert_eq!(sma.period(), 3);
    Ok(())
}

#[test]
fn sma_period_one_is_identity() -> TestResult {
    let mut sma = Sma::new(1)?;
    for x in [5.0, -2.5, 1e9, 0.1] {
        assert_eq!(sma.update(x), Some(x));
    }
    Ok(())
}

// ---------------------------------------------------------------- EMA

#[test]
fn ema_seeded_with_first_value() -> TestResult {
    // period 3 -> alpha = 2 / 4 = 0.5
    let mut ema = Ema::new(3)?;
    assert_eq!(ema.alpha(), 0.5);
    assert_eq!(ema.count(), 0);
    assert!(!ema.is_ready());
    assert_eq!(ema.value(), None);
    assert_eq!(ema.update(2.0), Some(2.0));
    assert_eq!(ema.update(4.0), Some(3.0));
    assert_eq!(ema.update(8.0), Some(5.5));
    assert_eq!(ema.count(), 3);
    assert!(ema.is_ready());
    assert_eq!(ema.period(), Some(3));
    Ok(())
}

#[test]
fn ema_with_alpha() -> TestResult {
    let mut ema = Ema::with_alpha(0.25)?;
    assert_eq!(ema.period(), None);
    assert_eq!(ema.update(4.0), Some(4.0));
    assert_eq!(ema.update(8.0), Some(5.0)); // 0.25*8 + 0.75*4
    assert_eq!(ema.update(0.0), Some(3.75)); // 0.75*5
    // alpha = 1 tracks the input exactly.
    let mut tracker = Ema::with_alpha(1.0)?;
    for x in [3.0, 0.1, 7.7] {
        assert_eq!(tracker.update(x), Some(x));
    }
    Ok(())
}

#[test]
fn ema_rejects_bad_alpha() {
    for alpha in [0.0, -0.5, 1.0001, f64::NAN, f64::INFINITY] {
        let err = Ema::with_alpha(alpha).err();
        assert!(
            matches!(err, Some(IndicatorError::InvalidAlpha { alpha: a }) if a.to_bits() == alpha.to_bits()),
            "alpha {alpha}: {err:?}"
        );
    }
}

// ---------------------------------------------------------------- RSI

/// StockCharts ChartSchool RSI example (14-period, closes from their spreadsheet), with the
/// published RSI column rounded to two decimals.
#[test]
fn rsi_stockcharts_textbook_example() -> TestResult {
    let closes = [
        44.3389, 44.0902, 44.1497, 43.6124, 44.3278, 44.8264, 45.0955, 45.4245, 45.8433, 46.0826,
        45.8931, 46.0328, 45.614, 46.282, 46.282, 46.0028, 46.0328, 46.4116, 46.2222, 45.6439,
        46.2122, 46.2521, 45.7137, 46.4515, 45.7835, 45.3548, 44.0288, 44.1783, 44.2181, 44.5672,
        43.4205, 42.6628, 43.1314,
    ];
    let published = [
        70.53, 66.32, 66.55, 69.41, 66.36, 57.97, 62.93, 63.26, 56.06, 62.38, 54.71, 50.42, 39.99,
        41.46, 41.87, 45.46, 37.30, 33.08, 37.77,
    ];
    let mut rsi = Rsi::new(14)?;
    let mut outputs = Vec::new();
    for (i, &c) in closes.iter().enumerate() {
        let out = rsi.update(c);
        if i < 14 {
            assert_eq!(out, None, "close #{i} should still be warming up");
            assert!(!rsi.is_ready());
        } else if let Some(v) = out {
            outputs.push(v);
        }
    }
    assert_eq!(outputs.len(), published.len());
    for (i, (&got, &want)) in outputs.iter().zip(&published).enumerate() {
        assert!(
            (got - want).abs() <= 0.005 + 1e-9,
            "RSI #{i}: got {got}, published {want}"
        );
    }
    Ok(())
}

#[test]
fn rsi_small_hand_example() -> TestResult {
    // period 2, closes 10, 11, 10.5, 12, 12
    // changes +1, -0.5, +1.5, 0
    // first averages (over 2 changes): gain 0.5, loss 0.25 -> RS 2 -> RSI 66.666..
    // then gain (0.5*1 + 1.5)/2 = 1.0, loss (0.25*1 + 0)/2 = 0.125 -> RS 8 -> 88.888..
    // then gain (1.0 + 0)/2 = 0.5, loss 0.0625 -> RS 8 -> 88.888..
    let mut rsi = Rsi::new(2)?;
    assert_eq!(rsi.update(10.0), None);
    assert_eq!(rsi.update(11.0), None);
    assert_close(rsi.update(10.5), 200.0 / 3.0, 1e-12);
    assert_close(rsi.update(12.0), 800.0 / 9.0, 1e-12);
    assert_close(rsi.update(12.0), 800.0 / 9.0, 1e-12);
    assert_eq!(rsi.period(), 2);
    Ok(())
}

#[test]
fn rsi_zero_loss_conventions() -> TestResult {
    let mut flat = Rsi::new(3)?;
    let last = [5.0; 6].iter().map(|&c| flat.update(c)).last().flatten();
    assert_eq!(last, Some(50.0), "flat market");

    let mut rising = Rsi::new(3)?;
    let last = [1.0, 2.0, 3.0, 4.0, 4.0]
        .iter()
        .map(|&c| rising.update(c))
        .last()
        .flatten();
    assert_eq!(last, Some(100.0), "no losses");

    let mut falling = Rsi::new(3)?;
    let last = [4.0, 3.0, 2.0, 1.0]
        .iter()
        .map(|&c| falling.update(c))
        .last()
        .flatten();
    assert_eq!(last, Some(0.0), "no gains");
    Ok(())
}

// ---------------------------------------------------------------- ATR

#[test]
fn atr_hand_computed() -> TestResult {
    // (high, low, close) and true ranges with period 3:
    // bar1 10/8/9      TR = 2 (first bar: high - low)
    // bar2 11/9/10.5   TR = max(2, |11-9|, |9-9|)          = 2
    // bar3 10/7/8      TR = max(3, |10-10.5|, |7-10.5|)    = 3.5  -> ATR = 7.5/3 = 2.5
    // bar4 13/12/12.5  TR = max(1, |13-8|, |12-8|)         = 5    -> ATR = (2.5*2+5)/3 = 10/3
    // bar5 12.6/12.4/x TR = max(0.2, 0.1, 0.1)             = 0.2  -> ATR = (20/3+0.2)/3 = 103/45
    let mut atr = Atr::new(3)?;
    assert_eq!(atr.update(10.0, 8.0, 9.0), None);
    assert_eq!(atr.update(11.0, 9.0, 10.5), None);
    assert!(!atr.is_ready());
    assert_close(atr.update(10.0, 7.0, 8.0), 2.5, 1e-12);
    assert_close(atr.update(13.0, 12.0, 12.5), 10.0 / 3.0, 1e-12);
    assert_close(atr.update(12.6, 12.4, 12.5), 103.0 / 45.0, 1e-12);
    assert_close(atr.value(), 103.0 / 45.0, 1e-12);
    assert_eq!(atr.period(), 3);
    Ok(())
}

// ---------------------------------------------------------------- Bollinger / RollingStd

#[test]
fn bollinger_and_std_hand_computed() -> TestResult {
    // Classic example: mean 5, population std dev 2.
    let data = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
    let mut bb = Bollinger::new(8, 2.0)?;
    let mut sd = RollingStd::new(8)?;
    for (i, &x) in data.iter().enumerate() {
        let b = bb.update(x);
        let s = sd.update(x);
        if i < 7 {
            assert_eq!((b, s), (None, None));
        }
    }
    assert_close(sd.value(), 2.0, 1e-12);
    assert_close(sd.variance(), 4.0, 1e-12);
    assert_close(sd.mean(), 5.0, 1e-12);
    let b = bb
        .value()
        .ok_or(IndicatorError::ZeroPeriod { indicator: "test" })?;
    let want = BollingerValue {
        upper: 9.0,
        middle: 5.0,
        lower: 1.0,
    };
    for (got, want) in [
        (b.upper, want.upper),
        (b.middle, want.middle),
        (b.lower, want.lower),
    ] {
        assert!((got - want).abs() < 1e-12, "{b:?} vs {want:?}");
    }
    // Slide by one: window [4,4,4,5,5,7,9,1] -> mean 39/8, var = Σx²/8 - mean²
    bb.update(1.0);
    sd.update(1.0);
    let mean: f64 = 39.0 / 8.0;
    let var = (16.0 * 3.0 + 25.0 * 2.0 + 49.0 + 81.0 + 1.0) / 8.0 - mean * mean;
    assert_close(sd.value(), var.sqrt(), 1e-12);
    assert_close(bb.value().map(|v| v.upper), mean + 2.0 * var.sqrt(), 1e-12);
    assert_eq!(bb.k(), 2.0);
    assert_eq!(bb.period(), 8);
    Ok(())
}

#[test]
fn bollinger_rejects_bad_k() {
    for k in [-0.1, f64::NAN, f64::INFINITY] {
        assert!(
            matches!(
                Bollinger::new(20, k),
                Err(IndicatorError::InvalidMultiplier {
                    indicator: "Bollinger",
                    ..
                })
            ),
            "k = {k}"
        );
    }
    assert!(Bollinger::new(20, 0.0).is_ok());
}

// ---------------------------------------------------------------- MACD

#[test]
fn macd_hand_computed() -> TestResult {
    // fast 1 (alpha 1: tracks input), slow 3 (alpha 0.5), signal 2 (alpha 2/3).
    // x:      2      4      8      8
    // fast:   2      4      8      8
    // slow:   2      3      5.5    6.75
    // macd:   0      1      2.5    1.25
    // signal: 0      2/3    17/9   79/54
    // first reading at input slow + signal - 1 = 4.
    let mut macd = Macd::new(1, 3, 2)?;
    assert_eq!(macd.update(2.0), None);
    assert_eq!(macd.update(4.0), None);
    assert_eq!(macd.update(8.0), None);
    assert!(!macd.is_ready());
    let v = macd
        .update(8.0)
        .ok_or(IndicatorError::ZeroPeriod { indicator: "test" })?;
    let want = MacdValue {
        macd: 1.25,
        signal: 79.0 / 54.0,
        histogram: 1.25 - 79.0 / 54.0,
    };
    assert!((v.macd - want.macd).abs() < 1e-12, "{v:?}");
    assert!((v.signal - want.signal).abs() < 1e-12, "{v:?}");
    assert!((v.histogram - want.histogram).abs() < 1e-12, "{v:?}");
    assert_eq!(macd.value(), Some(v));
    assert_eq!(macd.period(), (1, 3, 2));
    Ok(())
}

#[test]
fn macd_validates_periods() {
    assert_eq!(
        Macd::new(0, 26, 9).err(),
        Some(IndicatorError::ZeroPeriod {
            indicator: "Macd(fast)"
        })
    );
    assert_eq!(
        Macd::new(12, 0, 9).err(),
        Some(IndicatorError::ZeroPeriod {
            indicator: "Macd(slow)"
        })
    );
    assert_eq!(
        Macd::new(12, 26, 0).err(),
        Some(IndicatorError::ZeroPeriod {
            indicator: "Macd(signal)"
        })
    );
    assert_eq!(
        Macd::new(26, 12, 9).err(),
        Some(IndicatorError::MacdPeriodOrder { fast: 26, slow: 12 })
    );
    assert_eq!(
        Macd::new(12, 12, 9).err(),
        Some(IndicatorError::MacdPeriodOrder { fast: 12, slow: 12 })
    );
    assert!(Macd::new(12, 26, 9).is_ok());
}

// ---------------------------------------------------------------- Highest / Lowest

#[test]
fn highest_lowest_hand_computed() -> TestResult {
    let data = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0, 5.0, 3.0];
    let mut hi = Highest::new(3)?;
    let mut lo = Lowest::new(3)?;
    let highs: Vec<_> = data.iter().map(|&x| hi.update(x)).collect();
    let lows: Vec<_> = data.iter().map(|&x| lo.update(x)).collect();
    let s = Some;
    assert_eq!(
        highs,
        vec![
            None,
            None,
            s(4.0),
            s(4.0),
            s(5.0),
            s(9.0),
            s(9.0),
            s(9.0),
            s(6.0),
            s(6.0)
        ]
    );
    assert_eq!(
        lows,
        vec![
            None,
            None,
            s(1.0),
            s(1.0),
            s(1.0),
            s(1.0),
            s(2.0),
            s(2.0),
            s(2.0),
            s(3.0)
        ]
    );
    assert_eq!((hi.period(), lo.period()), (3, 3));
    Ok(())
}

// ---------------------------------------------------------------- construction errors

#[test]
fn zero_period_is_a_typed_error_naming_the_indicator() {
    assert_eq!(
        Sma::new(0).err(),
        Some(IndicatorError::ZeroPeriod { indicator: "Sma" })
    );
    assert_eq!(
        Ema::new(0).err(),
        Some(IndicatorError::ZeroPeriod { indicator: "Ema" })
    );
    assert_eq!(
        Rsi::new(0).err(),
        Some(IndicatorError::ZeroPeriod { indicator: "Rsi" })
    );
    assert_eq!(
        Atr::new(0).err(),
        Some(IndicatorError::ZeroPeriod { indicator: "Atr" })
    );
    assert_eq!(
        Bollinger::new(0, 2.0).err(),
        Some(IndicatorError::ZeroPeriod {
            indicator: "Bollinger"
        })
    );
    assert_eq!(
        RollingStd::new(0).err(),
        Some(IndicatorError::ZeroPeriod {
            indicator: "RollingStd"
        })
    );
    assert_eq!(
        Highest::new(0).err(),
        Some(IndicatorError::ZeroPeriod {
            indicator: "Highest"
        })
    );
    assert_eq!(
        Lowest::new(0).err(),
        Some(IndicatorError::ZeroPeriod {
            indicator: "Lowest"
        })
    );
    let msg = Sma::new(0).err().map(|e| e.to_string());
    assert_eq!(
        msg.as_deref(),
        Some("Sma: period must be at least 1, got 0")
    );
}

#[test]
fn absurd_period_is_an_error_not_an_abort() {
    assert_eq!(
        Sma::new(usize::MAX).err(),
        Some(IndicatorError::PeriodTooLarge {
            indicator: "Sma",
            period: usize::MAX
        })
    );
    assert!(matches!(
        Highest::new(usize::MAX),
        Err(IndicatorError::PeriodTooLarge {
            indicator: "Highest",
            ..
        })
    ));
    assert!(matches!(
        Bollinger::new(usize::MAX, 2.0),
        Err(IndicatorError::PeriodTooLarge {
            indicator: "Bollinger",
            ..
        })
    ));
}

// ---------------------------------------------------------------- reset

#[test]
fn reset_behaves_like_a_fresh_indicator() -> TestResult {
    let warm = [5.0, 7.0, 6.0, 9.0, 4.0, 8.0, 10.0];
    let probe = [3.0, 2.0, 6.0, 7.0, 1.0];

    let mut sma = Sma::new(3)?;
    let mut ema = Ema::new(3)?;
    let mut rsi = Rsi::new(3)?;
    let mut atr = Atr::new(3)?;
    let mut bb = Bollinger::new(3, 2.0)?;
    let mut sd = RollingStd::new(3)?;
    let mut macd = Macd::new(2, 3, 2)?;
    let mut hi = Highest::new(3)?;
    let mut lo = Lowest::new(3)?;
    for &x in &warm {
        sma.update(x);
        ema.update(x);
        rsi.update(x);
        atr.update(x + 1.0, x - 1.0, x);
        bb.update(x);
        sd.update(x);
        macd.update(x);
        hi.update(x);
        lo.update(x);
    }
    sma.reset();
    ema.reset();
    rsi.reset();
    atr.reset();
    bb.reset();
    sd.reset();
    macd.reset();
    hi.reset();
    lo.reset();
    assert!(!sma.is_ready() && !ema.is_ready() && !rsi.is_ready() && !atr.is_ready());
    assert!(!bb.is_ready() && !sd.is_ready() && !macd.is_ready());
    assert!(!hi.is_ready() && !lo.is_ready());
    assert_eq!(ema.count(), 0);

    let mut f_sma = Sma::new(3)?;
    let mut f_ema = Ema::new(3)?;
    let mut f_rsi = Rsi::new(3)?;
    let mut f_atr = Atr::new(3)?;
    let mut f_bb = Bollinger::new(3, 2.0)?;
    let mut f_sd = RollingStd::new(3)?;
    let mut f_macd = Macd::new(2, 3, 2)?;
    let mut f_hi = Highest::new(3)?;
    let mut f_lo = Lowest::new(3)?;
    for &x in &probe {
        assert_eq!(sma.update(x), f_sma.update(x));
        assert_eq!(ema.update(x), f_ema.update(x));
        assert_eq!(rsi.update(x), f_rsi.update(x));
        assert_eq!(
            atr.update(x + 1.0, x - 1.0, x),
            f_atr.update(x + 1.0, x - 1.0, x)
        );
        assert_eq!(bb.update(x), f_bb.update(x));
        assert_eq!(sd.update(x), f_sd.update(x));
        assert_eq!(macd.update(x), f_macd.update(x));
        assert_eq!(hi.update(x), f_hi.update(x));
        assert_eq!(lo.update(x), f_lo.update(x));
    }
    Ok(())
}

// ---------------------------------------------------------------- non-finite inputs

fn is_nan(v: Option<f64>) -> bool {
    v.is_some_and(f64::is_nan)
}

#[test]
fn windowed_indicators_recover_after_nan_leaves_the_window() -> TestResult {
    let mut sma = Sma::new(3)?;
    let mut sd = RollingStd::new(3)?;
    let mut bb = Bollinger::new(3, 1.0)?;
    let mut hi = Highest::new(3)?;
    let mut lo = Lowest::new(3)?;
    let seq = [1.0, f64::NAN, 2.0, 3.0, 4.0, 5.0];
    for (i, &x) in seq.iter().enumerate() {
        let s = sma.update(x);
        let d = sd.update(x);
        let b = bb.update(x);
        let h = hi.update(x);
        let l = lo.update(x);
        if i == 2 || i == 3 {
            // NaN (index 1) is inside the window
            assert!(is_nan(s) && is_nan(d) && is_nan(h) && is_nan(l), "step {i}");
            assert!(b.is_some_and(|b| b.middle.is_nan() && b.upper.is_nan()));
        }
    }
    // window is now [3, 4, 5]
    assert_eq!(sma.value(), Some(4.0));
    assert_close(sd.value(), (2.0f64 / 3.0).sqrt(), 1e-12);
    assert_close(
        bb.value().map(|b| b.lower),
        4.0 - (2.0f64 / 3.0).sqrt(),
        1e-12,
    );
    assert_eq!(hi.value(), Some(5.0));
    assert_eq!(lo.value(), Some(3.0));
    Ok(())
}

#[test]
fn windowed_indicators_follow_naive_rules_for_infinities() -> TestResult {
    let mut sma = Sma::new(2)?;
    let mut sd = RollingStd::new(2)?;
    let mut hi = Highest::new(2)?;
    let mut lo = Lowest::new(2)?;
    for x in [1.0, f64::INFINITY] {
        sma.update(x);
        sd.update(x);
        hi.update(x);
        lo.update(x);
    }
    assert_eq!(sma.value(), Some(f64::INFINITY));
    assert!(is_nan(sd.value()));
    assert_eq!(sd.mean(), Some(f64::INFINITY));
    assert_eq!(hi.value(), Some(f64::INFINITY));
    assert_eq!(lo.value(), Some(1.0));
    // +inf and -inf together: the sum is NaN
    sma.update(f64::NEG_INFINITY);
    assert!(is_nan(sma.value()));
    // both infinities leave the window
    for x in [2.0, 4.0] {
        sma.update(x);
        sd.update(x);
        hi.update(x);
        lo.update(x);
    }
    assert_eq!(sma.value(), Some(3.0));
    assert_eq!(sd.value(), Some(1.0));
    assert_eq!(hi.value(), Some(4.0));
    assert_eq!(lo.value(), Some(2.0));
    Ok(())
}

#[test]
fn recursive_indicators_stay_nan_until_reset() -> TestResult {
    let mut ema = Ema::new(3)?;
    let mut rsi = Rsi::new(2)?;
    let mut atr = Atr::new(2)?;
    let mut macd = Macd::new(1, 2, 1)?;
    for x in [1.0, 2.0, 3.0, f64::NAN, 4.0, 5.0, 6.0, 7.0] {
        ema.update(x);
        rsi.update(x);
        atr.update(x + 1.0, x - 1.0, x);
        macd.update(x);
    }
    assert!(is_nan(ema.value()));
    assert!(is_nan(rsi.value()));
    assert!(is_nan(atr.value()));
    assert!(macd.value().is_some_and(|m| m.macd.is_nan()));
    ema.reset();
    assert_eq!(ema.update(1.5), Some(1.5));
    Ok(())
}

#[test]
fn atr_nan_in_high_is_not_silently_ignored() -> TestResult {
    let mut atr = Atr::new(1)?;
    atr.update(10.0, 9.0, 9.5);
    // a NaN high must not be dropped by max(): the TR (and so the ATR) is NaN
    assert!(is_nan(atr.update(f64::NAN, 9.0, 9.5)));
    Ok(())
}
