//! Aggregations as Prometheus metrics (`--metrics ADDR:PORT`,
//! `-x metrics=…`): what each aggregation exports as ([`plan`]), the
//! values the consumer hands over at a scrape ([`Snapshot`], through a
//! [`Hub`]), their OpenMetrics text ([`exposition`]) and the HTTP
//! endpoint serving it ([`server`]).
//!
//! The consumer is single-threaded and owns the aggregations; the server
//! thread never touches them. A scrape asks the consumer for a fresh
//! snapshot (it looks after every drain, so at least every `switchrate`)
//! and serves the newest one it has when none comes in time.

pub mod exposition;
pub mod plan;
pub mod server;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

pub use plan::MetricsPlan;

/// How an aggregation is exposed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    /// count() and sum() while no value has gone down.
    Counter,
    /// min, max, avg, stddev; count and sum once cleared, truncated,
    /// normalized or (sum) given a negative value.
    Gauge,
    /// quantize, lquantize, llquantize.
    Histogram,
}

/// One aggregation's metric family.
#[derive(Debug, Clone, PartialEq)]
pub struct Family {
    /// The metric name without the `_total` a counter's samples get.
    pub name: String,
    pub help: String,
    pub kind: MetricKind,
    pub samples: Vec<Sample>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// (label name, value) per key, in key order.
    pub labels: Vec<(String, String)>,
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Int(i64),
    /// Buckets as (inclusive upper bound, count in that bucket alone), in
    /// increasing order, the last one +Inf.
    Histogram {
        buckets: Vec<(f64, u64)>,
        sum: i64,
        count: u64,
    },
}

/// rdtrace's own counters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TracerStats {
    /// Records the consumer processed.
    pub events: u64,
    /// Records the kernel could not deliver (ring buffer full), per CPU.
    pub drops: Vec<(u32, u64)>,
    /// New aggregation keys that did not fit in aggsize, per CPU.
    pub aggregation_drops: Vec<(u32, u64)>,
    pub dynvar_drops: u64,
    pub probes_enabled: u64,
    /// False once tracing has ended (the final values stay served).
    pub tracing: bool,
}

/// What a scrape shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    pub families: Vec<Family>,
    pub stats: TracerStats,
}

/// Where the consumer leaves snapshots and the server picks them up.
#[derive(Debug, Default)]
pub struct Hub {
    latest: Mutex<Published>,
    fresh: Condvar,
    /// A scrape is waiting for a snapshot.
    wanted: AtomicBool,
}

#[derive(Debug, Default)]
struct Published {
    snapshot: Arc<Snapshot>,
    generation: u64,
    /// Tracing has ended: this snapshot is the last.
    last: bool,
}

impl Hub {
    pub fn new() -> Arc<Hub> {
        Arc::new(Hub::default())
    }

    /// Whether a scrape waits for a snapshot (the flag is taken).
    pub fn wanted(&self) -> bool {
        self.wanted.load(Ordering::Relaxed) && self.wanted.swap(false, Ordering::AcqRel)
    }

    /// Hands over a snapshot; `last` once tracing has ended.
    pub fn publish(&self, snapshot: Snapshot, last: bool) {
        let mut p = self.latest.lock().unwrap_or_else(|e| e.into_inner());
        p.snapshot = Arc::new(snapshot);
        p.generation += 1;
        p.last |= last;
        self.fresh.notify_all();
    }

    /// A snapshot taken after this call, or the newest one after `wait`.
    pub fn fetch(&self, wait: Duration) -> Arc<Snapshot> {
        let p = self.latest.lock().unwrap_or_else(|e| e.into_inner());
        if p.last {
            return Arc::clone(&p.snapshot);
        }
        let asked = p.generation;
        self.wanted.store(true, Ordering::Release);
        let (p, _) = self
            .fresh
            .wait_timeout_while(p, wait, |p| p.generation == asked && !p.last)
            .unwrap_or_else(|e| e.into_inner());
        Arc::clone(&p.snapshot)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scrape_gets_the_snapshot_published_after_it_asked() {
        let hub = Hub::new();
        hub.publish(Snapshot::default(), false);
        let h = Arc::clone(&hub);
        let consumer = std::thread::spawn(move || {
            // The consumer's loop: publish when asked (bounded).
            for _ in 0..2000 {
                if h.wanted() {
                    let mut s = Snapshot::default();
                    s.stats.events = 7;
                    h.publish(s, false);
                    return true;
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            false
        });
        let s = hub.fetch(Duration::from_secs(5));
        assert!(consumer.join().unwrap());
        assert_eq!(s.stats.events, 7);
    }

    #[test]
    fn after_the_last_snapshot_nothing_waits() {
        let hub = Hub::new();
        let mut s = Snapshot::default();
        s.stats.events = 3;
        hub.publish(s, true);
        let t = std::time::Instant::now();
        assert_eq!(hub.fetch(Duration::from_secs(10)).stats.events, 3);
        assert!(t.elapsed() < Duration::from_secs(5));
        assert!(!hub.wanted());
    }
}
