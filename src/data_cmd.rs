//! `tickline data …`

use std::path::PathBuf;

use anyhow::Context;
use chrono::NaiveDate;
use clap::Subcommand;

use crate::UserError;

#[derive(Subcommand)]
pub enum DataCommand {
    /// Generate deterministic synthetic one-minute bars (US session, stochastic volatility,
    /// intraday seasonality, open gaps, 0.01 tick) into a CSV or Parquet file.
    Synth {
        /// Number of bars.
        #[arg(long, default_value_t = 390 * 21)]
        bars: usize,
        /// Random seed (same seed, same bars).
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Output file (.csv or .parquet).
        #[arg(long)]
        out: PathBuf,
        /// Symbol written into the file.
        #[arg(long, default_value = "SYNTH")]
        symbol: String,
        /// First session date (YYYY-MM-DD).
        #[arg(long, default_value = "2024-01-02")]
        start: NaiveDate,
        /// Opening price.
        #[arg(long, default_value_t = 100.0)]
        price: f64,
        /// Annualised volatility (0.2 = 20%).
        #[arg(long, default_value_t = 0.2)]
        vol: f64,
    },
}

pub fn run(cmd: DataCommand) -> Result<(), UserError> {
    match cmd {
        DataCommand::Synth {
            bars,
            seed,
            out,
            symbol,
            start,
            price,
            vol,
        } => {
            if bars == 0 {
                return Err(anyhow::anyhow!("--bars must be at least 1").into());
            }
            if !(price.is_finite() && price > 0.0) {
                return Err(
                    anyhow::anyhow!("--price must be a positive number, got {price}").into(),
                );
            }
            if !(vol.is_finite() && vol > 0.0 && vol < 5.0) {
                return Err(anyhow::anyhow!("--vol must be in (0, 5), got {vol}").into());
            }
            let cfg = tickline_data::synth::SynthConfig {
                bars,
                seed,
                symbol,
                start_price: price,
                start_date: start,
                annual_vol: vol,
                ..Default::default()
            };
            let series = tickline_data::synth::generate(&cfg);
            if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
            }
            tickline_data::write_bars(&series, &out)?;
            println!(
                "wrote {} bars of {} ({} to {}) to {}",
                series.len(),
                series.symbol,
                tickline_backtest::stats::rfc3339(series.ts.first().copied().unwrap_or(0)),
                tickline_backtest::stats::rfc3339(series.ts.last().copied().unwrap_or(0)),
                out.display()
            );
            Ok(())
        }
    }
}
