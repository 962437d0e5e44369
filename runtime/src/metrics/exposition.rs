//! A snapshot in the OpenMetrics text format, written by prometheus-client
//! (names, `_total`, label escaping, histogram buckets, `# EOF`): one
//! collector per scrape, over values the consumer already computed.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::DescriptorEncoder;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;

use super::{Family, MetricKind, Snapshot, Value};

/// The content type of the text [`encode`] writes.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// rdtrace's own metrics (family names).
const EVENTS: &str = "rdtrace_tracer_events";
const DROPS: &str = "rdtrace_tracer_drops";
const AGG_DROPS: &str = "rdtrace_tracer_aggregation_drops";
const DYNVAR_DROPS: &str = "rdtrace_tracer_dynvar_drops";
const PROBES: &str = "rdtrace_tracer_probes_enabled";
const TRACING: &str = "rdtrace_tracer_tracing";

/// The sample names rdtrace's own metrics take (an aggregation may not
/// take one of them).
pub const TRACER_SAMPLES: &[&str] = &[
    "rdtrace_tracer_events_total",
    "rdtrace_tracer_drops_total",
    "rdtrace_tracer_aggregation_drops_total",
    "rdtrace_tracer_dynvar_drops_total",
    PROBES,
    TRACING,
];

/// The whole exposition of `snapshot`.
pub fn encode(snapshot: &std::sync::Arc<Snapshot>) -> String {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(SnapshotCollector(std::sync::Arc::clone(snapshot))));
    let mut out = String::new();
    // Writing to a String cannot fail; a value prometheus-client refuses
    // would leave a truncated text, which Prometheus reports as a failed
    // scrape rather than wrong values.
    let _ = prometheus_client::encoding::text::encode(&mut out, &registry);
    out
}

#[derive(Debug)]
struct SnapshotCollector(std::sync::Arc<Snapshot>);

impl Collector for SnapshotCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        for f in &self.0.families {
            encode_family(&mut encoder, f)?;
        }
        let s = &self.0.stats;
        encode_scalar(
            &mut encoder,
            EVENTS,
            "records rdtrace processed",
            MetricType::Counter,
            s.events,
        )?;
        encode_per_cpu(
            &mut encoder,
            DROPS,
            "records the kernel dropped (buffer full), per CPU",
            &s.drops,
        )?;
        encode_per_cpu(
            &mut encoder,
            AGG_DROPS,
            "new aggregation keys that did not fit in aggsize, per CPU",
            &s.aggregation_drops,
        )?;
        encode_scalar(
            &mut encoder,
            DYNVAR_DROPS,
            "dynamic variables that did not fit in dynvarsize",
            MetricType::Counter,
            s.dynvar_drops,
        )?;
        encode_scalar(
            &mut encoder,
            PROBES,
            "probes the program enables",
            MetricType::Gauge,
            s.probes_enabled,
        )?;
        encode_scalar(
            &mut encoder,
            TRACING,
            "1 while tracing, 0 once it has ended (the final values are served)",
            MetricType::Gauge,
            u64::from(s.tracing),
        )
    }
}

fn encode_scalar(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    ty: MetricType,
    v: u64,
) -> Result<(), std::fmt::Error> {
    let mut m = encoder.encode_descriptor(name, help, None, ty)?;
    match ty {
        MetricType::Counter => m.encode_counter::<NoExemplar, _, u64>(&v, None),
        _ => m.encode_gauge(&v),
    }
}

fn encode_per_cpu(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    per_cpu: &[(u32, u64)],
) -> Result<(), std::fmt::Error> {
    let mut m = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
    for (cpu, n) in per_cpu {
        let labels = vec![("cpu".to_string(), cpu.to_string())];
        m.encode_family(&labels)?
            .encode_counter::<NoExemplar, _, u64>(n, None)?;
    }
    Ok(())
}

type NoExemplar = prometheus_client::encoding::NoLabelSet;

fn encode_family(encoder: &mut DescriptorEncoder, f: &Family) -> Result<(), std::fmt::Error> {
    let ty = match f.kind {
        MetricKind::Counter => MetricType::Counter,
        MetricKind::Gauge => MetricType::Gauge,
        MetricKind::Histogram => MetricType::Histogram,
    };
    let mut m = encoder.encode_descriptor(&f.name, &f.help, None, ty)?;
    for s in &f.samples {
        let mut e = m.encode_family(&s.labels)?;
        match (&s.value, f.kind) {
            (Value::Int(v), MetricKind::Counter) => {
                e.encode_counter::<NoExemplar, _, u64>(&(*v).max(0).unsigned_abs(), None)?
            }
            (Value::Int(v), _) => e.encode_gauge(v)?,
            (
                Value::Histogram {
                    buckets,
                    sum,
                    count,
                },
                _,
            ) => e.encode_histogram::<NoExemplar>(*sum as f64, *count, buckets, None)?,
        }
    }
    Ok(())
}
