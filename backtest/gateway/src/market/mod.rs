//! The market: a seeded walk per instrument (or replayed bar files), stepped by a timer or
//! by the control endpoint. Each step yields one bar per instrument; the core feeds them to
//! the simulated broker, so working orders match against exactly what clients see.

pub mod history;
pub mod quote;
pub mod replay;
pub mod walk;

use std::collections::HashMap;

use tickline_engine::domain::{Bar, Ts};

use crate::config::MarketConfig;
use crate::contract::Contract;
use crate::rng::Rng;

use history::{DEEP_RES_MS, DeepHistory, HBar, History};
use quote::Quote;
use replay::Replay;
use walk::{Ohlcv, Walk};

const NANOS_PER_MS: i64 = 1_000_000;

/// Where bars come from.
#[derive(Debug)]
enum Source {
    Walk(Vec<Walk>),
    Replay(Replay),
}

/// A bar to force on one instrument at the next step (control endpoint).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Injected {
    pub index: usize,
    pub bar: Ohlcv,
}

/// The simulated (or replayed) market.
#[derive(Debug)]
pub struct Market {
    pub contracts: Vec<Contract>,
    by_conid: HashMap<i64, usize>,
    source: Source,
    pub quotes: Vec<Quote>,
    pub history: Vec<History>,
    /// History older than `history`, generated on demand (simulated markets only).
    deep: Vec<Option<DeepHistory>>,
    seed: u64,
    now: Ts,
    step_ms: u64,
    rng: Rng,
    steps: u64,
}

impl Market {
    /// Build the market at `start` (UTC ns) with generated history, or over `replay`.
    pub fn new(
        cfg: &MarketConfig,
        contracts: Vec<Contract>,
        seed: u64,
        start: Ts,
        replay: Option<Replay>,
    ) -> Market {
        let res_ms = (cfg.history_bar_secs * 1_000) as i64;
        let hist_bars =
            (u64::from(cfg.history_days) * 86_400 / cfg.history_bar_secs.max(1)) as usize;
        let cap = (hist_bars * 2).max(10_000);
        let by_conid = contracts
            .iter()
            .enumerate()
            .map(|(i, c)| (c.conid, i))
            .collect();
        let mut m = Market {
            quotes: vec![Quote::default(); contracts.len()],
            history: (0..contracts.len())
                .map(|_| History::new(res_ms, cap))
                .collect(),
            deep: (0..contracts.len()).map(|_| None).collect(),
            seed,
            by_conid,
            source: Source::Walk(Vec::new()),
            now: start,
            step_ms: cfg.step_ms,
            rng: Rng::derive(seed, 0x0B00C),
            steps: 0,
            contracts,
        };
        match replay {
            Some(mut r) => {
                if let Some(first) = r.first_ts() {
                    m.now = first;
                }
                let mut scratch = Vec::new();
                for _ in 0..cfg.replay_warmup {
                    if !m.replay_step(&mut r, &mut scratch) {
                        break;
                    }
                }
                m.source = Source::Replay(r);
            }
            None => {
                let volume_scale =
                    cfg.history_bar_secs as f64 * 1_000.0 / cfg.step_ms.max(1) as f64;
                let mut walks: Vec<Walk> = m.contracts.iter().map(|c| Walk::new(seed, c)).collect();
                let start_ms = start.div_euclid(NANOS_PER_MS);
                for (i, w) in walks.iter_mut().enumerate() {
                    let mut back = Walk::new(seed ^ 0x4157_0000, &m.contracts[i]);
                    let bars = back.backfill(hist_bars, cfg.history_bar_secs * 1_000, volume_scale);
                    let n = bars.len() as i64;
                    for (k, b) in bars.iter().enumerate() {
                        let t = start_ms - (n - k as i64) * res_ms;
                        m.history[i].push(t, b.open, b.high, b.low, b.close, b.volume);
                        m.quotes[i].apply(&m.contracts[i], b, t + res_ms, &mut m.rng);
                    }
                    if bars.is_empty() {
                        let px = w.price();
                        let flat = Ohlcv {
                            open: px,
                            high: px,
                            low: px,
                            close: px,
                            volume: 0.0,
                        };
                        m.quotes[i].apply(&m.contracts[i], &flat, start_ms, &mut m.rng);
                    }
                    w.set_price(m.quotes[i].last);
                }
                m.source = Source::Walk(walks);
            }
        }
        m
    }

    /// Simulated now (UTC ns): the close time of the latest bar.
    pub fn now(&self) -> Ts {
        self.now
    }

    pub fn now_ms(&self) -> i64 {
        self.now.div_euclid(NANOS_PER_MS)
    }

    /// Steps taken since start-up.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    pub fn is_replay(&self) -> bool {
        matches!(self.source, Source::Replay(_))
    }

    /// Replay bars left (`None` when simulating).
    pub fn replay_remaining(&self) -> Option<usize> {
        match &self.source {
            Source::Replay(r) => Some(r.remaining()),
            Source::Walk(_) => None,
        }
    }

    /// Bars of instrument `idx` with `from <= t < to` older than the stored history, at
    /// [`DEEP_RES_MS`] (empty when replaying files).
    pub fn deep_bars(&mut self, idx: usize, from: i64, to: i64) -> Vec<HBar> {
        if self.is_replay() {
            return Vec::new();
        }
        let (Some(first_t), Some(first_open)) =
            (self.history[idx].first_t(), self.history[idx].first_open())
        else {
            return Vec::new();
        };
        if from >= first_t {
            return Vec::new();
        }
        let step_ms = self.step_ms.max(1) as f64;
        let contract = &self.contracts[idx];
        let seed = self.seed;
        let deep = self.deep[idx].get_or_insert_with(|| {
            let mut walk = Walk::new(seed ^ 0xDEE9_0000, contract);
            walk.set_price(first_open);
            DeepHistory::new(walk, first_t, DEEP_RES_MS as f64 / step_ms)
        });
        deep.extend_to(from);
        deep.range(from, to.min(first_t)).copied().collect()
    }

    /// Index of the contract with `conid`.
    pub fn index_of(&self, conid: i64) -> Option<usize> {
        self.by_conid.get(&conid).copied()
    }

    pub fn contract(&self, conid: i64) -> Option<&Contract> {
        self.index_of(conid).map(|i| &self.contracts[i])
    }

    /// The latest bar of every instrument with data, as a step bar ending now (primes the
    /// simulated broker's last prices at start-up).
    pub fn priming_bars(&self) -> Vec<Bar> {
        let step = self.step_ns();
        self.quotes
            .iter()
            .enumerate()
            .filter(|(_, q)| q.has_data)
            .map(|(i, q)| Bar {
                instrument: self.contracts[i].inst.id,
                ts: self.now - step,
                ts_end: self.now,
                open: q.last,
                high: q.last,
                low: q.last,
                close: q.last,
                volume: 0.0,
            })
            .collect()
    }

    fn step_ns(&self) -> i64 {
        self.step_ms as i64 * NANOS_PER_MS
    }

    /// Advance one step, appending the new bars to `out`. `inject` replaces one instrument's
    /// bar (simulated mode only). Returns false when a replay is exhausted.
    pub fn step(&mut self, inject: Option<Injected>, out: &mut Vec<Bar>) -> bool {
        if let Source::Replay(_) = self.source {
            let Source::Replay(mut r) =
                std::mem::replace(&mut self.source, Source::Walk(Vec::new()))
            else {
                return false;
            };
            let ok = self.replay_step(&mut r, out);
            self.source = Source::Replay(r);
            return ok;
        }
        let step = self.step_ns();
        let ts = self.now;
        let ts_end = ts + step;
        let Source::Walk(walks) = &mut self.source else {
            return false;
        };
        for (i, w) in walks.iter_mut().enumerate() {
            let b = match inject {
                Some(inj) if inj.index == i => {
                    w.set_price(inj.bar.close);
                    inj.bar
                }
                _ => w.next_bar(self.step_ms, 1.0),
            };
            out.push(Bar {
                instrument: self.contracts[i].inst.id,
                ts,
                ts_end,
                open: b.open,
                high: b.high,
                low: b.low,
                close: b.close,
                volume: b.volume,
            });
        }
        let first = out.len() - walks.len();
        self.now = ts_end;
        self.steps += 1;
        for bar in &out[first..] {
            self.record(bar);
        }
        true
    }

    fn replay_step(&mut self, r: &mut Replay, out: &mut Vec<Bar>) -> bool {
        let Some(group) = r.next_group() else {
            return false;
        };
        let first = out.len();
        out.extend_from_slice(group);
        let mut end = self.now;
        for bar in &out[first..] {
            end = end.max(bar.ts_end);
            self.record(bar);
        }
        self.now = end;
        self.steps += 1;
        true
    }

    /// Fold a bar into history and the quote.
    fn record(&mut self, bar: &Bar) {
        let i = bar.instrument.index();
        let o = Ohlcv {
            open: bar.open,
            high: bar.high,
            low: bar.low,
            close: bar.close,
            volume: bar.volume,
        };
        self.history[i].push(
            bar.ts.div_euclid(NANOS_PER_MS),
            o.open,
            o.high,
            o.low,
            o.close,
            o.volume,
        );
        self.quotes[i].apply(
            &self.contracts[i],
            &o,
            bar.ts_end.div_euclid(NANOS_PER_MS),
            &mut self.rng,
        );
    }

    /// Simulated milliseconds per step: `step_ms`, or the replayed bars' length.
    pub fn step_interval_ms(&self) -> u64 {
        match &self.source {
            Source::Replay(r) => r
                .bar_len()
                .map(|ns| (ns / NANOS_PER_MS).max(1) as u64)
                .unwrap_or(self.step_ms),
            Source::Walk(_) => self.step_ms,
        }
    }

    /// Wall-clock interval between timed steps at `speed`.
    pub fn wall_interval(step_ms: u64, speed: f64) -> std::time::Duration {
        std::time::Duration::try_from_secs_f64((step_ms as f64 / 1_000.0 / speed).max(0.001))
            .unwrap_or(std::time::Duration::from_secs(86_400))
    }
}

/// Parse the configured start: RFC 3339 or `now`.
pub fn parse_start(cfg: &MarketConfig) -> Result<Ts, crate::error::GatewayError> {
    let manual_default = "2024-01-02T14:30:00Z";
    let text = match (&cfg.start, cfg.mode) {
        (Some(s), _) => s.as_str(),
        (None, crate::config::MarketMode::Manual) => manual_default,
        (None, crate::config::MarketMode::Timed) => "now",
    };
    if text.eq_ignore_ascii_case("now") {
        return Ok(chrono::Utc::now().timestamp_millis() * NANOS_PER_MS);
    }
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .and_then(|d| d.timestamp_nanos_opt())
        .ok_or_else(|| {
            crate::error::GatewayError::value(
                "market.start",
                format!("expected RFC 3339 or \"now\", got {text:?}"),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{MarketConfig, MarketMode};
    use crate::contract::build_universe;

    fn manual() -> MarketConfig {
        MarketConfig {
            mode: MarketMode::Manual,
            history_days: 1,
            ..MarketConfig::default()
        }
    }

    #[test]
    fn same_seed_same_market() {
        let cfg = manual();
        let start = parse_start(&cfg).unwrap();
        let mk = || Market::new(&cfg, build_universe(&[], start).unwrap(), 9, start, None);
        let (mut a, mut b) = (mk(), mk());
        let (mut ba, mut bb) = (Vec::new(), Vec::new());
        for _ in 0..50 {
            a.step(None, &mut ba);
            b.step(None, &mut bb);
        }
        assert_eq!(ba, bb);
        assert_eq!(a.now(), start + 50 * 1_000_000_000);
        assert_eq!(a.history[0].len(), b.history[0].len());
        assert!(a.history[0].len() >= 1440);
    }

    #[test]
    fn timed_pace_follows_step_or_replayed_bar_length() {
        let cfg = manual();
        let start = parse_start(&cfg).unwrap();
        let m = Market::new(&cfg, build_universe(&[], start).unwrap(), 1, start, None);
        assert_eq!(m.step_interval_ms(), 1_000);
        assert_eq!(
            Market::wall_interval(1_000, 20.0),
            std::time::Duration::from_millis(50)
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("SPY_1m.csv");
        std::fs::write(
            &path,
            "ts,open,high,low,close,volume\n2024-03-01T14:30:00Z,1,1,1,1,1\n2024-03-01T14:31:00Z,1,1,1,1,1\n",
        )
        .unwrap();
        let u = build_universe(&[], start).unwrap();
        let r = Replay::load(&[path], &u, "America/New_York").unwrap();
        let m = Market::new(&cfg, u, 1, start, Some(r));
        assert_eq!(m.step_interval_ms(), 60_000, "one-minute bars");
        assert_eq!(
            Market::wall_interval(m.step_interval_ms(), 60.0),
            std::time::Duration::from_secs(1)
        );
    }

    #[test]
    fn injected_bar_replaces_one_instrument() {
        let cfg = manual();
        let start = parse_start(&cfg).unwrap();
        let mut m = Market::new(&cfg, build_universe(&[], start).unwrap(), 1, start, None);
        let bar = Ohlcv {
            open: 190.0,
            high: 195.0,
            low: 189.0,
            close: 194.0,
            volume: 100.0,
        };
        let mut out = Vec::new();
        m.step(Some(Injected { index: 0, bar }), &mut out);
        assert_eq!(out.len(), 7);
        assert_eq!(out[0].close, 194.0);
        assert_eq!(m.quotes[0].last, 194.0);
        out.clear();
        m.step(None, &mut out);
        assert_eq!(
            out[0].open, 194.0,
            "the walk continues from the injected close"
        );
    }
}
