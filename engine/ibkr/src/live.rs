//! The live runtime: drives a [`Kernel`] from IBKR market data in wall-clock time.
//!
//! [`run_live`] polls `/iserver/marketdata/snapshot` for the instruments' conids every
//! [`LiveOptions::poll`] (the first, pre-flight answer only opens the stream and is skipped),
//! turns each changed snapshot into a [`Tick`] for [`Kernel::on_tick`], and aggregates the
//! ticks into bars of [`LiveOptions::bar`] aligned to the wall clock (OHLC from the tick
//! price, volume from day-volume deltas). At each bar close every instrument that traded in the
//! window gets [`Kernel::on_bar`] and the equity is sampled once. Every iteration also calls
//! [`Kernel::poll_execution`] and [`Kernel::advance_time`]. The run ends on the shutdown
//! future, after [`LiveOptions::duration`], or when the feed keeps failing; the kernel is then
//! stopped and execution events are drained for up to [`LiveOptions::drain`].
//!
//! Ticks and bars are stamped with the kernel's clock (a `LiveClock`: UTC ns of receipt),
//! so ticks, bars, timers and equity samples share one time line even when the venue runs an
//! accelerated simulated clock.

use std::future::Future;
use std::time::Duration;

use tickline_engine::domain::{Bar, Instrument, InstrumentId, Tick, Ts};
use tickline_engine::kernel::{Kernel, KernelRecords};

use crate::client::Client;
use crate::error::IbkrError;
use crate::marketdata::{Field, Snapshot};

/// Fields the live feed asks for.
const FEED_FIELDS: &[Field] = &[
    Field::Last,
    Field::Bid,
    Field::Ask,
    Field::BidSize,
    Field::AskSize,
    Field::LastSize,
    Field::VolumeLong,
    Field::Availability,
];

/// How often execution events are drained after the kernel stopped.
const DRAIN_STEP: Duration = Duration::from_millis(100);

/// Settings of [`run_live`].
#[derive(Clone, Debug, PartialEq)]
pub struct LiveOptions {
    /// Interval between loop iterations (snapshot request, execution poll, timers).
    pub poll: Duration,
    /// Bar length (at least 100 ms).
    pub bar: Duration,
    /// Stop after this long (`None` = until the shutdown future resolves).
    pub duration: Option<Duration>,
    /// After stopping, keep collecting execution events this long while orders are open.
    pub drain: Duration,
    /// Consecutive failed snapshot requests after which the run stops.
    pub max_feed_errors: u32,
}

impl Default for LiveOptions {
    fn default() -> Self {
        LiveOptions {
            poll: Duration::from_millis(250),
            bar: Duration::from_secs(60),
            duration: None,
            drain: Duration::from_secs(5),
            max_feed_errors: 20,
        }
    }
}

/// Bad [`LiveOptions`] or instruments.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LiveError {
    #[error("live runtime: instrument {index} ({symbol}) has no IBKR conid")]
    MissingConid { index: usize, symbol: String },
    #[error("live runtime: poll interval must be positive")]
    ZeroPoll,
    #[error("live runtime: bar length must be at least 100 ms, got {0:?}")]
    BarTooShort(Duration),
}

/// Why the run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopReason {
    /// [`LiveOptions::duration`] elapsed.
    Duration,
    /// The shutdown future resolved.
    Shutdown,
    /// Snapshot requests failed [`LiveOptions::max_feed_errors`] times in a row; the last
    /// error's text.
    FeedFailed(String),
}

/// What a live run produced.
#[derive(Debug)]
pub struct LiveReport {
    /// The kernel's records (fills, orders, audit, equity at bar closes, portfolio).
    pub records: KernelRecords,
    /// The instruments in kernel order (ids assigned).
    pub instruments: Vec<Instrument>,
    pub stop: StopReason,
    /// Ticks fed to the kernel.
    pub ticks: u64,
    /// Bars fed to the kernel.
    pub bars: u64,
    /// Snapshot requests that failed (each was logged).
    pub feed_errors: u64,
    /// Orders still open when the drain ended.
    pub open_orders_at_end: usize,
    /// Start and end of the run, UTC ns.
    pub started: Ts,
    pub ended: Ts,
}

/// Snapshot polling for a set of instruments.
pub struct LiveFeed {
    client: Client,
    conids: Vec<i64>,
    /// Last `_updated` seen per instrument (unchanged snapshots are not new ticks).
    last_update: Vec<Option<i64>>,
    snapshots: Vec<Snapshot>,
}

impl LiveFeed {
    /// A feed for `instruments` (kernel order; every one needs a conid).
    pub fn snapshots(client: Client, instruments: &[Instrument]) -> Result<LiveFeed, LiveError> {
        let conids = instruments
            .iter()
            .enumerate()
            .map(|(index, i)| {
                i.conid.ok_or_else(|| LiveError::MissingConid {
                    index,
                    symbol: i.symbol.clone(),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(LiveFeed {
            client,
            last_update: vec![None; conids.len()],
            snapshots: Vec::with_capacity(conids.len()),
            conids,
        })
    }

    /// Request one snapshot of every conid and keep the answer.
    async fn fetch(&mut self) -> Result<(), IbkrError> {
        self.snapshots = self.client.snapshot(&self.conids, FEED_FIELDS).await?;
        Ok(())
    }

    /// The ticks of the last answer that carry new data, stamped `now`.
    fn ticks(&mut self, now: Ts, out: &mut Vec<(Tick, Option<f64>)>) {
        out.clear();
        for snap in &self.snapshots {
            if snap.is_preflight() {
                continue;
            }
            let Some(k) = self.conids.iter().position(|c| *c == snap.conid) else {
                tracing::warn!(
                    conid = snap.conid,
                    "snapshot for a conid that was not requested"
                );
                continue;
            };
            if snap.updated_ms.is_some() && snap.updated_ms == self.last_update[k] {
                continue;
            }
            self.last_update[k] = snap.updated_ms;
            let mut tick = snap.to_tick(InstrumentId(k as u32), now);
            tick.ts = now;
            out.push((tick, snap.volume()));
        }
    }
}

/// One instrument's bar under construction.
#[derive(Clone, Copy, Debug, Default)]
struct BarBuilder {
    open: f64,
    high: f64,
    low: f64,
    close: f64,
    volume: f64,
    has_data: bool,
    /// Day volume at the previous tick (volume deltas).
    day_volume: Option<f64>,
}

impl BarBuilder {
    fn update(&mut self, price: Option<f64>, day_volume: Option<f64>) {
        if let Some(v) = day_volume {
            if let Some(prev) = self.day_volume
                && v > prev
            {
                self.volume += v - prev;
            }
            self.day_volume = Some(v);
        }
        let Some(p) = price.filter(|p| p.is_finite()) else {
            return;
        };
        if self.has_data {
            self.high = self.high.max(p);
            self.low = self.low.min(p);
        } else {
            self.open = p;
            self.high = p;
            self.low = p;
            self.has_data = true;
        }
        self.close = p;
    }

    /// The finished bar, if the window saw a price; resets for the next window.
    fn take(&mut self, instrument: InstrumentId, ts: Ts, ts_end: Ts) -> Option<Bar> {
        if !self.has_data {
            self.volume = 0.0;
            return None;
        }
        let bar = Bar {
            instrument,
            ts,
            ts_end,
            open: self.open,
            high: self.high,
            low: self.low,
            close: self.close,
            volume: self.volume,
        };
        self.has_data = false;
        self.volume = 0.0;
        Some(bar)
    }
}

/// Wall-clock aligned bar windows for every instrument.
struct Aggregator {
    bar_ns: i64,
    window_start: Ts,
    builders: Vec<BarBuilder>,
}

impl Aggregator {
    fn new(n: usize, bar_ns: i64, now: Ts) -> Self {
        Aggregator {
            bar_ns,
            window_start: now - now.rem_euclid(bar_ns),
            builders: vec![BarBuilder::default(); n],
        }
    }

    fn window_end(&self) -> Ts {
        self.window_start + self.bar_ns
    }

    /// Close the current window if `now` reached its end: feed the bars, sample equity once.
    /// Returns the number of bars fed. Skipped windows (a stalled loop) produce no bars.
    fn close_due(&mut self, now: Ts, kernel: &mut Kernel) -> u64 {
        if now < self.window_end() {
            return 0;
        }
        let (ts, ts_end) = (self.window_start, self.window_end());
        let mut fed = 0;
        for (k, b) in self.builders.iter_mut().enumerate() {
            if let Some(bar) = b.take(InstrumentId(k as u32), ts, ts_end) {
                kernel.on_bar(&bar);
                fed += 1;
            }
        }
        kernel.record_equity(ts_end);
        self.window_start = now - now.rem_euclid(self.bar_ns);
        fed
    }
}

fn nanos(d: Duration) -> i64 {
    d.as_nanos().min(i64::MAX as u128) as i64
}

/// Run `kernel` live on `feed` until `shutdown`, `opts.duration` or a failing feed, then stop
/// it, drain execution events and return its records. The kernel should use a `LiveClock`.
pub async fn run_live(
    mut kernel: Kernel,
    mut feed: LiveFeed,
    opts: LiveOptions,
    shutdown: impl Future<Output = ()>,
) -> Result<LiveReport, LiveError> {
    if opts.poll.is_zero() {
        return Err(LiveError::ZeroPoll);
    }
    if opts.bar < Duration::from_millis(100) {
        return Err(LiveError::BarTooShort(opts.bar));
    }
    let started = kernel.now();
    let deadline = opts.duration.map(|d| tokio::time::Instant::now() + d);
    let mut aggregator = Aggregator::new(feed.conids.len(), nanos(opts.bar), started);
    let mut ticks_buf = Vec::with_capacity(feed.conids.len());
    let (mut ticks, mut bars, mut feed_errors, mut consecutive) = (0u64, 0u64, 0u64, 0u32);
    kernel.start();
    let mut interval = tokio::time::interval(opts.poll);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let end_of_run = async {
        match deadline {
            Some(d) => tokio::time::sleep_until(d).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(shutdown, end_of_run);
    let stop = loop {
        tokio::select! {
            biased;
            _ = &mut shutdown => break StopReason::Shutdown,
            _ = &mut end_of_run => break StopReason::Duration,
            _ = interval.tick() => {}
        }
        let fetched = tokio::select! {
            biased;
            _ = &mut shutdown => break StopReason::Shutdown,
            _ = &mut end_of_run => break StopReason::Duration,
            r = feed.fetch() => r,
        };
        let now = kernel.now();
        match fetched {
            Ok(()) => {
                consecutive = 0;
                feed.ticks(now, &mut ticks_buf);
                for (tick, day_volume) in &ticks_buf {
                    kernel.on_tick(tick);
                    if let Some(b) = aggregator.builders.get_mut(tick.instrument.index()) {
                        b.update(tick.price(), *day_volume);
                    }
                    ticks += 1;
                }
            }
            Err(e) => {
                feed_errors += 1;
                consecutive += 1;
                tracing::warn!(error = %e, consecutive, "market data snapshot failed");
                if consecutive >= opts.max_feed_errors.max(1) {
                    break StopReason::FeedFailed(e.to_string());
                }
            }
        }
        bars += aggregator.close_due(now, &mut kernel);
        kernel.poll_execution();
        kernel.advance_time(kernel.now());
    };
    kernel.stop();
    let drain_until = tokio::time::Instant::now() + opts.drain;
    loop {
        kernel.poll_execution();
        kernel.advance_time(kernel.now());
        if kernel.order_manager().open_count() == 0 || tokio::time::Instant::now() >= drain_until {
            break;
        }
        tokio::time::sleep(DRAIN_STEP).await;
    }
    let open_orders_at_end = kernel.order_manager().open_count();
    let ended = kernel.now();
    let instruments = kernel.instruments().to_vec();
    Ok(LiveReport {
        records: kernel.into_records(),
        instruments,
        stop,
        ticks,
        bars,
        feed_errors,
        open_orders_at_end,
        started,
        ended,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bar_builder_tracks_ohlc_and_volume_deltas() {
        let mut b = BarBuilder::default();
        assert!(b.take(InstrumentId(0), 0, 10).is_none());
        b.update(Some(10.0), Some(1_000.0));
        b.update(Some(12.0), Some(1_500.0));
        b.update(Some(9.0), None);
        b.update(None, Some(1_700.0));
        b.update(Some(11.0), Some(1_600.0));
        let bar = b.take(InstrumentId(3), 100, 200).expect("bar");
        assert_eq!(
            (bar.open, bar.high, bar.low, bar.close, bar.volume),
            (10.0, 12.0, 9.0, 11.0, 700.0)
        );
        assert_eq!(
            (bar.instrument, bar.ts, bar.ts_end),
            (InstrumentId(3), 100, 200)
        );
        assert!(b.take(InstrumentId(3), 200, 300).is_none());
        b.update(Some(f64::NAN), Some(1_650.0));
        b.update(Some(13.0), Some(1_800.0));
        let bar = b.take(InstrumentId(3), 200, 300).expect("bar");
        assert_eq!((bar.open, bar.close, bar.volume), (13.0, 13.0, 200.0));
    }

    #[test]
    fn windows_align_to_the_bar_length() {
        let a = Aggregator::new(1, 1_000, 12_345);
        assert_eq!((a.window_start, a.window_end()), (12_000, 13_000));
    }
}
