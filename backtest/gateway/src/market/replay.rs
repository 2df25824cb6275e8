//! Replay of bar files: every loaded bar of every symbol in time order, consumed a group of
//! equal timestamps per step.

use std::path::PathBuf;
use std::str::FromStr;

use tickline_data::{LoadOptions, load_bars};
use tickline_engine::domain::{Bar, InstrumentId};

use crate::contract::Contract;
use crate::error::GatewayError;

/// The merged bars of all replay files.
#[derive(Clone, Debug, Default)]
pub struct Replay {
    bars: Vec<Bar>,
    pos: usize,
}

impl Replay {
    /// Load `paths` and map their symbols onto the universe.
    pub fn load(
        paths: &[PathBuf],
        universe: &[Contract],
        timezone: &str,
    ) -> Result<Replay, GatewayError> {
        let tz = chrono_tz::Tz::from_str(timezone).map_err(|_| {
            GatewayError::value(
                "market.replay_timezone",
                format!("unknown time zone {timezone:?}"),
            )
        })?;
        let opts = LoadOptions {
            timezone: tz,
            ..LoadOptions::default()
        };
        let mut bars = Vec::new();
        for path in paths {
            for series in load_bars(path, &opts)? {
                let Some(c) = universe
                    .iter()
                    .find(|c| c.symbol().eq_ignore_ascii_case(&series.symbol))
                else {
                    return Err(GatewayError::UnknownReplaySymbol {
                        path: path.clone(),
                        symbol: series.symbol.clone(),
                        known: universe
                            .iter()
                            .map(|c| c.symbol())
                            .collect::<Vec<_>>()
                            .join(", "),
                    });
                };
                let id: InstrumentId = c.inst.id;
                bars.extend((0..series.len()).map(|i| series.bar(id, i)));
            }
        }
        bars.sort_by_key(|b| (b.ts, b.instrument));
        Ok(Replay { bars, pos: 0 })
    }

    /// The next group of bars sharing one open time, or `None` at the end.
    pub fn next_group(&mut self) -> Option<&[Bar]> {
        let start = self.pos;
        let ts = self.bars.get(start)?.ts;
        let len = self.bars[start..].iter().take_while(|b| b.ts == ts).count();
        self.pos = start + len;
        Some(&self.bars[start..start + len])
    }

    /// Bars left to replay.
    pub fn remaining(&self) -> usize {
        self.bars.len() - self.pos
    }

    /// Length of the replayed bars (UTC ns), from the first bar.
    pub fn bar_len(&self) -> Option<i64> {
        self.bars
            .first()
            .map(|b| b.ts_end - b.ts)
            .filter(|d| *d > 0)
    }

    /// Open time of the first bar (UTC ns).
    pub fn first_ts(&self) -> Option<i64> {
        self.bars.first().map(|b| b.ts)
    }
}
