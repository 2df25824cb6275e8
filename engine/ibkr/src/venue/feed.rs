//! Market data for the live runtime: the websocket's `smd` frames turned into ticks, REST
//! snapshots while the socket is down, and history bars for warm-up and the `history` bar
//! source.
//!
//! * [`TickMaker`] keeps one merged [`Snapshot`] per traded instrument (`smd` sends deltas)
//!   and turns each update into a [`Tick`] stamped with the wall-clock time it arrived.
//! * [`IbkrFeed`] is the runtime's [`MarketFeed`]. The websocket itself is owned by the
//!   dispatcher ([`super::stream`]); the feed hands it the tick channel at start and runs the
//!   snapshot poller, which works only while the socket is down.
//! * [`to_wall`] maps history bars onto the run's wall-clock time line: with a venue clock
//!   that runs `time_scale` times faster than the wall (the emulator's accelerated market),
//!   bar `k` is re-stamped relative to an anchor fixed by the first read, so repeated reads
//!   give the same times.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tickline_engine::connectivity::LinkState;
use tickline_engine::domain::{Bar, InstrumentId, Ts};
use tickline_live::venue::{BoxFuture, FeedEvent, MarketFeed, VenueError};
use tokio::sync::mpsc;

use super::venue_error;
use crate::client::Client;
use crate::marketdata::{BarSize, Field, Snapshot, history_to_bars};
use crate::models::HistoryRequest;
use crate::ws::MarketDataUpdate;

/// Fields the live feed asks for.
pub const FEED_FIELDS: &[Field] = &[
    Field::Last,
    Field::Bid,
    Field::Ask,
    Field::BidSize,
    Field::AskSize,
    Field::LastSize,
    Field::VolumeLong,
    Field::Availability,
];

/// The `smd` field ids of [`FEED_FIELDS`].
pub fn feed_field_ids() -> Vec<u32> {
    FEED_FIELDS.iter().map(|f| u32::from(f.id())).collect()
}

fn now_ns() -> Ts {
    tickline_engine::clock::Clock::now(&tickline_engine::clock::LiveClock)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Merged quotes per traded instrument, turned into ticks.
#[derive(Debug)]
pub struct TickMaker {
    conids: Vec<i64>,
    ids: Vec<InstrumentId>,
    snaps: Vec<Snapshot>,
    /// `_updated` of the last REST snapshot used (an unchanged one is not a new tick).
    last_rest: Vec<Option<i64>>,
}

impl TickMaker {
    /// For `(instrument, conid)` pairs.
    pub fn new(pairs: &[(InstrumentId, i64)]) -> Self {
        TickMaker {
            conids: pairs.iter().map(|p| p.1).collect(),
            ids: pairs.iter().map(|p| p.0).collect(),
            snaps: pairs
                .iter()
                .map(|p| Snapshot {
                    conid: p.1,
                    ..Snapshot::default()
                })
                .collect(),
            last_rest: vec![None; pairs.len()],
        }
    }

    fn index(&self, conid: i64) -> Option<usize> {
        self.conids.iter().position(|c| *c == conid)
    }

    /// A websocket delta: merged, then the tick it makes (`None` for conids not traded, or
    /// while no price is known).
    pub fn on_stream(&mut self, u: &MarketDataUpdate, now: Ts) -> Option<FeedEvent> {
        let k = i64::try_from(u.conid).ok().and_then(|c| self.index(c))?;
        let snap = &mut self.snaps[k];
        for (id, value) in u.fields() {
            let Ok(id) = u16::try_from(id) else { continue };
            match snap.fields.get_mut(&id) {
                Some(v) => {
                    v.clear();
                    v.push_str(value);
                }
                None => {
                    snap.fields.insert(id, value.to_string());
                }
            }
        }
        if u.updated_ms.is_some() {
            snap.updated_ms = u.updated_ms;
        }
        self.tick(k, now)
    }

    /// A REST snapshot (fallback polling): the tick it makes when it carries new data.
    pub fn on_rest(&mut self, s: &Snapshot, now: Ts) -> Option<FeedEvent> {
        if s.is_preflight() {
            return None;
        }
        let k = self.index(s.conid)?;
        if s.updated_ms.is_some() && s.updated_ms == self.last_rest[k] {
            return None;
        }
        self.last_rest[k] = s.updated_ms;
        self.snaps[k].merge(s);
        self.tick(k, now)
    }

    fn tick(&self, k: usize, now: Ts) -> Option<FeedEvent> {
        let snap = &self.snaps[k];
        if snap.is_preflight() {
            return None;
        }
        let mut tick = snap.to_tick(self.ids[k], now);
        tick.ts = now;
        // No price known yet (neither a trade nor a quote): nothing to deliver.
        tick.price()?;
        Some(FeedEvent::Tick {
            tick,
            day_volume: snap.volume(),
        })
    }
}

/// What the dispatcher and the feed share.
#[derive(Debug)]
pub(super) struct Hub {
    pub ticks: Mutex<TickMaker>,
    tx: Mutex<Option<mpsc::Sender<FeedEvent>>>,
    /// The websocket is connected.
    pub stream_up: AtomicBool,
    dropped: AtomicU64,
}

impl Hub {
    pub fn new(pairs: &[(InstrumentId, i64)]) -> Self {
        Hub {
            ticks: Mutex::new(TickMaker::new(pairs)),
            tx: Mutex::new(None),
            stream_up: AtomicBool::new(false),
            dropped: AtomicU64::new(0),
        }
    }

    pub fn started(&self) -> bool {
        lock(&self.tx).is_some()
    }

    fn attach(&self, tx: mpsc::Sender<FeedEvent>) {
        *lock(&self.tx) = Some(tx);
    }

    /// Deliver to the runtime (nothing before the feed started). A full channel drops the
    /// event, counted and logged: the loop is behind and the next tick supersedes it.
    pub fn send(&self, ev: FeedEvent) {
        self.send_on(&lock(&self.tx), ev);
    }

    fn send_on(&self, tx: &Option<mpsc::Sender<FeedEvent>>, ev: FeedEvent) {
        let Some(tx) = tx.as_ref() else { return };
        if let Err(mpsc::error::TrySendError::Full(_)) = tx.try_send(ev) {
            let n = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if n.is_power_of_two() {
                tracing::warn!(
                    dropped = n,
                    "market data: the live loop is behind; ticks dropped"
                );
            }
        }
    }

    /// The websocket came up or went down. Link changes are sent under the sender's lock,
    /// so one from the snapshot poller cannot overtake this one.
    pub fn set_stream(&self, up: bool) {
        let tx = lock(&self.tx);
        let was = self.stream_up.swap(up, Ordering::Relaxed);
        if was != up {
            self.send_on(
                &tx,
                FeedEvent::Link(if up {
                    LinkState::Up
                } else {
                    LinkState::Degraded
                }),
            );
        }
    }

    /// Snapshots answer again after the feed was down: `Degraded` (polling), unless the
    /// stream came back meanwhile and reported `Up` itself.
    fn snapshots_back(&self) {
        let tx = lock(&self.tx);
        if !self.stream_up.load(Ordering::Relaxed) {
            tracing::warn!("market data snapshots answer again");
            self.send_on(&tx, FeedEvent::Link(LinkState::Degraded));
        }
    }
}

/// Settings of the feed.
#[derive(Clone, Debug, PartialEq)]
pub struct FeedOptions {
    /// Venue seconds per wall second (the emulator's market speed; 1 for IBKR).
    pub time_scale: f64,
    /// Snapshot polling interval while the websocket is down.
    pub snapshot_poll: Duration,
    /// Consecutive failed snapshot polls after which the feed reports itself down.
    pub down_after: u32,
}

impl Default for FeedOptions {
    fn default() -> Self {
        FeedOptions {
            time_scale: 1.0,
            snapshot_poll: Duration::from_secs(1),
            down_after: 5,
        }
    }
}

/// The runtime's market feed for IBKR.
pub struct IbkrFeed {
    client: Client,
    /// Every instrument with a conid (history), by id.
    conids: HashMap<InstrumentId, i64>,
    /// The traded ones.
    trade: Vec<i64>,
    hub: Arc<Hub>,
    /// Asks the dispatcher to subscribe market data.
    subscribe: mpsc::UnboundedSender<()>,
    opts: FeedOptions,
    anchor: Arc<Mutex<Option<Anchor>>>,
}

impl IbkrFeed {
    pub(super) fn new(
        client: Client,
        conids: HashMap<InstrumentId, i64>,
        trade: Vec<i64>,
        hub: Arc<Hub>,
        subscribe: mpsc::UnboundedSender<()>,
        opts: FeedOptions,
    ) -> Self {
        IbkrFeed {
            client,
            conids,
            trade,
            hub,
            subscribe,
            opts,
            anchor: Arc::new(Mutex::new(None)),
        }
    }
}

impl MarketFeed for IbkrFeed {
    fn start(&mut self, tx: mpsc::Sender<FeedEvent>) -> BoxFuture<'_, Result<(), VenueError>> {
        Box::pin(async move {
            let up = self.hub.stream_up.load(Ordering::Relaxed);
            let _ = tx.try_send(FeedEvent::Link(if up {
                LinkState::Up
            } else {
                LinkState::Degraded
            }));
            self.hub.attach(tx);
            let _ = self.subscribe.send(());
            tokio::spawn(poll_while_down(
                self.client.clone(),
                self.trade.clone(),
                self.hub.clone(),
                self.opts.clone(),
            ));
            Ok(())
        })
    }

    fn history(
        &self,
        instrument: InstrumentId,
        bar: Duration,
        n: usize,
    ) -> BoxFuture<'static, Result<Vec<Bar>, VenueError>> {
        let client = self.client.clone();
        let conid = self.conids.get(&instrument).copied();
        let scale = self.opts.time_scale;
        let anchor = self.anchor.clone();
        Box::pin(async move {
            let conid = conid.ok_or_else(|| {
                VenueError::Permanent(format!("instrument {} has no IBKR conid", instrument.0))
            })?;
            let size = history_bar_size(bar, scale)?;
            // One more than asked: the last bar may be the one still forming.
            let want = n.saturating_add(1);
            let mut req = HistoryRequest::new(conid, history_period(size, want), size.as_str());
            req.outside_rth = Some(true);
            let paging = crate::HistoryPaging {
                max_bars: Some(want),
                ..crate::HistoryPaging::default()
            };
            let resp = client
                .history_paged(&req, paging)
                .await
                .map_err(venue_error)?;
            let bars = history_to_bars(&resp, instrument)
                .map_err(|e| VenueError::Permanent(format!("history of conid {conid}: {e}")))?;
            let wall_bar = i64::try_from(bar.as_nanos()).unwrap_or(i64::MAX);
            Ok(to_wall(
                bars,
                now_ns(),
                wall_bar,
                scale,
                &mut lock(&anchor),
                n,
            ))
        })
    }
}

/// IBKR's bar size for a wall bar of `bar` on a venue clock `scale` times faster.
pub fn history_bar_size(bar: Duration, scale: f64) -> Result<BarSize, VenueError> {
    let secs = bar.as_secs_f64() * scale;
    BarSize::ALL
        .into_iter()
        .find(|b| (b.seconds() as f64 - secs).abs() < 1e-6)
        .ok_or_else(|| {
            VenueError::Permanent(format!(
                "IBKR history has no {secs} s bars (sizes: {})",
                BarSize::ALL.map(BarSize::as_str).join(", ")
            ))
        })
}

/// A period that covers `n` bars of `size` with room for gaps (nights, weekends).
pub fn history_period(size: BarSize, n: usize) -> String {
    let span = size
        .seconds()
        .saturating_mul(n.max(1) as i64)
        .saturating_mul(3);
    let ceil = |a: i64, b: i64| (a + b - 1) / b;
    if span <= 30 * 60 {
        format!("{}min", ceil(span, 60).max(1))
    } else if span <= 8 * 3600 {
        format!("{}h", ceil(span, 3600))
    } else {
        let days = ceil(span, 86_400) + 3;
        if days <= 1000 {
            format!("{days}d")
        } else {
            format!("{}y", ceil(days, 365).min(15))
        }
    }
}

/// Venue time ↔ wall time, fixed by the first history read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Anchor {
    venue_end: Ts,
    wall_end: Ts,
}

/// The last `n` completed bars on the wall-clock time line, oldest first.
///
/// `scale == 1`: the venue's times are wall times; bars still forming (`ts_end > now`) are
/// dropped. Otherwise the venue's clock runs `scale` times faster and on its own epoch: the
/// last bar is taken as still forming and dropped, and the first read anchors the last
/// remaining bar's close at the wall-clock bar boundary at or before `now`; every bar is
/// then mapped linearly (wall = anchor + (venue − venue anchor) / scale), so bars read later
/// line up with those read before.
pub fn to_wall(
    mut bars: Vec<Bar>,
    now: Ts,
    wall_bar: i64,
    scale: f64,
    anchor: &mut Option<Anchor>,
    n: usize,
) -> Vec<Bar> {
    if (scale - 1.0).abs() < 1e-9 {
        bars.retain(|b| b.ts_end <= now);
    } else {
        bars.pop();
        let Some(last) = bars.last() else {
            return bars;
        };
        let a = *anchor.get_or_insert_with(|| Anchor {
            venue_end: last.ts_end,
            wall_end: now - now.rem_euclid(wall_bar.max(1)),
        });
        let map = |t: Ts| a.wall_end + ((t - a.venue_end) as f64 / scale).round() as i64;
        for b in &mut bars {
            b.ts = map(b.ts);
            b.ts_end = map(b.ts_end);
        }
        bars.retain(|b| b.ts_end <= now);
    }
    let skip = bars.len().saturating_sub(n);
    bars.drain(..skip);
    bars
}

/// Snapshot polling while the websocket is down; `Down` after repeated failures.
async fn poll_while_down(client: Client, conids: Vec<i64>, hub: Arc<Hub>, opts: FeedOptions) {
    let mut failures = 0u32;
    let mut warned = false;
    loop {
        tokio::time::sleep(opts.snapshot_poll).await;
        if !hub.started() {
            continue;
        }
        if hub.stream_up.load(Ordering::Relaxed) {
            failures = 0;
            warned = false;
            continue;
        }
        if !warned {
            tracing::warn!(
                every = ?opts.snapshot_poll,
                "market data websocket is down: polling snapshots until it is back"
            );
            warned = true;
        }
        match client.snapshot(&conids, FEED_FIELDS).await {
            Ok(snaps) => {
                if failures >= opts.down_after {
                    hub.snapshots_back();
                }
                failures = 0;
                let now = now_ns();
                let mut ticks = lock(&hub.ticks);
                let events: Vec<FeedEvent> =
                    snaps.iter().filter_map(|s| ticks.on_rest(s, now)).collect();
                drop(ticks);
                for ev in events {
                    hub.send(ev);
                }
            }
            Err(e) => {
                failures += 1;
                // The first failures and then one in a minute of polls at WARN; a session
                // that stays down would otherwise print a line every poll.
                if failures <= opts.down_after || failures.is_multiple_of(60) {
                    tracing::warn!(error = %e, failures, "market data snapshot failed");
                } else {
                    tracing::debug!(error = %e, failures, "market data snapshot failed");
                }
                if failures == opts.down_after {
                    hub.send(FeedEvent::Link(LinkState::Down));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000_000;

    fn bar(ts: Ts, len: i64, close: f64) -> Bar {
        Bar {
            instrument: InstrumentId(0),
            ts,
            ts_end: ts + len,
            open: close,
            high: close,
            low: close,
            close,
            volume: 1.0,
        }
    }

    #[test]
    fn bar_sizes_follow_the_time_scale() {
        let s = |secs: f64, scale| history_bar_size(Duration::from_secs_f64(secs), scale);
        assert_eq!(s(60.0, 1.0), Ok(BarSize::Min1));
        assert_eq!(s(1.0, 60.0), Ok(BarSize::Min1));
        assert_eq!(s(5.0, 60.0), Ok(BarSize::Min5));
        assert_eq!(s(86_400.0, 1.0), Ok(BarSize::Day1));
        let e = s(5.0, 1.0).unwrap_err();
        assert!(
            !e.is_transient() && e.to_string().contains("no 5 s bars"),
            "{e}"
        );
    }

    #[test]
    fn periods_cover_the_bars_within_ibkr_limits() {
        for (size, n, want) in [
            (BarSize::Min1, 5, "15min"),
            (BarSize::Min1, 100, "5h"),
            (BarSize::Min1, 200, "4d"),
            (BarSize::Day1, 50, "153d"),
            (BarSize::Day1, 400, "4y"),
            (BarSize::Month1, 1000, "15y"),
        ] {
            let p = history_period(size, n);
            assert_eq!(p, want, "{size:?} × {n}");
            p.parse::<crate::marketdata::Period>()
                .unwrap_or_else(|e| panic!("{p}: {e}"));
        }
    }

    #[test]
    fn real_time_bars_drop_the_one_still_forming() {
        let bars: Vec<Bar> = (0..5).map(|k| bar(k * 60 * S, 60 * S, k as f64)).collect();
        let now = 4 * 60 * S + 10 * S; // inside the fifth bar
        let out = to_wall(bars, now, 60 * S, 1.0, &mut None, 3);
        let closes: Vec<f64> = out.iter().map(|b| b.close).collect();
        assert_eq!(closes, vec![1.0, 2.0, 3.0]);
    }

    #[test]
    fn accelerated_bars_map_onto_the_wall_clock_and_stay_put() {
        // Venue bars of 60 s on a clock 60× faster: 1 s wall bars.
        let venue0 = 1_700_000_000 * S;
        let bars: Vec<Bar> = (0..6)
            .map(|k| bar(venue0 + k * 60 * S, 60 * S, k as f64))
            .collect();
        let now = 5_000 * S + 300_000_000; // 5000.3 s
        let mut anchor = None;
        let out = to_wall(bars.clone(), now, S, 60.0, &mut anchor, 3);
        let ends: Vec<Ts> = out.iter().map(|b| b.ts_end).collect();
        assert_eq!(ends, vec![4_998 * S, 4_999 * S, 5_000 * S]);
        assert_eq!(out[2].close, 4.0, "the forming sixth bar is dropped");
        assert_eq!(out[0].ts, 4_997 * S);
        // A later read with one more venue bar: the same bars at the same times.
        let mut later = bars;
        later.push(bar(venue0 + 6 * 60 * S, 60 * S, 6.0));
        let out2 = to_wall(later, now + S, S, 60.0, &mut anchor, 3);
        let ends2: Vec<Ts> = out2.iter().map(|b| b.ts_end).collect();
        assert_eq!(ends2, vec![4_999 * S, 5_000 * S, 5_001 * S]);
        assert_eq!(out2[2].close, 5.0);
    }

    #[test]
    fn ticks_merge_stream_deltas_and_skip_unchanged_snapshots() {
        let mut m = TickMaker::new(&[(InstrumentId(1), 265598)]);
        let frame = |s: &str| match crate::ws::WsMessage::parse(s).expect("frame") {
            crate::ws::WsMessage::MarketData(u) => u,
            other => panic!("{other:?}"),
        };
        // Only a bid: no last yet, the mid is the price.
        let ev = m.on_stream(
            &frame(
                r#"{"topic":"smd+265598","conid":265598,"_updated":1,"84":"100.00","86":"100.10"}"#,
            ),
            7,
        );
        let Some(FeedEvent::Tick { tick, .. }) = ev else {
            panic!("{ev:?}")
        };
        assert_eq!(
            (tick.instrument, tick.ts, tick.last),
            (InstrumentId(1), 7, None)
        );
        let ev = m.on_stream(
            &frame(
                r#"{"topic":"smd+265598","conid":265598,"_updated":2,"31":"100.05","7762":"500"}"#,
            ),
            8,
        );
        let Some(FeedEvent::Tick { tick, day_volume }) = ev else {
            panic!("{ev:?}")
        };
        assert_eq!(
            (tick.bid, tick.last, day_volume),
            (Some(100.0), Some(100.05), Some(500.0))
        );
        // Another conid is not ours.
        assert!(
            m.on_stream(&frame(r#"{"topic":"smd+1","conid":1,"31":"5"}"#), 9)
                .is_none()
        );
        let snap = Snapshot {
            conid: 265598,
            updated_ms: Some(3),
            fields: [(31u16, "101".to_string())].into_iter().collect(),
            ..Snapshot::default()
        };
        assert!(m.on_rest(&snap, 10).is_some());
        assert!(m.on_rest(&snap, 11).is_none(), "unchanged snapshot");
    }
}
