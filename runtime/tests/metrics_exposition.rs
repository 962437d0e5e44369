//! Aggregations as OpenMetrics text: every aggregating function, keys as
//! labels (escaped), empty aggregations, counters that become gauges, and
//! rdtrace's own metrics. The expected text is written by hand from the
//! OpenMetrics format (counter samples end in `_total`, histogram buckets
//! are cumulative with an inclusive upper bound `le`, the text ends with
//! `# EOF`) and the values printa prints for the same aggregations.

use std::sync::Arc;

use rdtrace_lang::CheckOptions;
use rdtrace_probes::catalog::{catalog, DTRACE_BEGIN};
use rdtrace_probes::event::EventHeader;
use rdtrace_runtime::metrics::{exposition, MetricsPlan, Snapshot, TracerStats};
use rdtrace_runtime::{CompiledProgram, FireContext, Options};

/// Runs BEGIN of `src` and returns the exposition of its aggregations.
fn exposition_of(src: &str, labels: &[(&str, &[&str])]) -> String {
    let program = rdtrace_lang::compile("m.d", src, &catalog(), &CheckOptions::default())
        .unwrap_or_else(|d| panic!("{d:?}"));
    let labels: Vec<(String, Vec<String>)> = labels
        .iter()
        .map(|(a, n)| (a.to_string(), n.iter().map(|s| s.to_string()).collect()))
        .collect();
    let plan = MetricsPlan::new(&program, &labels).expect("plan");
    let mut jit = CompiledProgram::new(&program, &Options::default()).expect("jit");
    if let Some(begin) = program.probes.iter().position(|p| p.id == DTRACE_BEGIN) {
        let h = EventHeader {
            probe: DTRACE_BEGIN,
            ..Default::default()
        };
        // SAFETY: plain repr(C) data.
        let rec = unsafe {
            std::slice::from_raw_parts(
                &h as *const EventHeader as *const u8,
                std::mem::size_of::<EventHeader>(),
            )
        };
        let (mut out, mut err) = (Vec::new(), Vec::new());
        jit.fire(begin, rec, &FireContext::default(), &mut out, &mut err);
        assert!(err.is_empty(), "{}", String::from_utf8_lossy(&err));
    }
    let snapshot = Snapshot {
        families: jit.export_aggregations(&plan),
        stats: TracerStats::default(),
    };
    let text = exposition::encode(&Arc::new(snapshot));
    // rdtrace's own metrics come last; these tests look at the aggregations.
    let own = text
        .find("# HELP rdtrace_tracer_events")
        .expect("own metrics");
    text[..own].to_string()
}

#[test]
fn count_and_sum_are_counters_with_keys_as_labels() {
    let text = exposition_of(
        r#"BEGIN { @["sshd", 22] = count(); @["sshd", 22] = count(); @["cron", 7] = count();
                   @bytes[443] = sum(1500); @bytes[80] = sum(40); @bytes[443] = sum(60); }"#,
        &[],
    );
    assert_eq!(
        text,
        "# HELP rdtrace_agg @ = count()\n\
         # TYPE rdtrace_agg counter\n\
         rdtrace_agg_total{key0=\"cron\",key1=\"7\"} 1\n\
         rdtrace_agg_total{key0=\"sshd\",key1=\"22\"} 2\n\
         # HELP rdtrace_bytes @bytes = sum()\n\
         # TYPE rdtrace_bytes counter\n\
         rdtrace_bytes_total{key0=\"80\"} 40\n\
         rdtrace_bytes_total{key0=\"443\"} 1560\n"
    );
}

#[test]
fn metriclabels_name_the_keys() {
    let text = exposition_of(
        r#"BEGIN { @bytes["10.0.0.1", 443] = sum(100); }"#,
        &[("bytes", &["daddr", "dport"])],
    );
    assert!(
        text.contains("rdtrace_bytes_total{daddr=\"10.0.0.1\",dport=\"443\"} 100\n"),
        "{text}"
    );
}

#[test]
fn min_max_avg_stddev_are_gauges() {
    let text = exposition_of(
        "BEGIN { @lo = min(5); @lo = min(-3); @hi = max(5); @hi = max(9); \
                 @mean = avg(2); @mean = avg(5); @sd = stddev(2); @sd = stddev(4); @sd = stddev(9); }",
        &[],
    );
    // avg: (2 + 5) / 2 = 3 (integer, as printa); stddev of 2, 4, 9: the
    // integer square root of 101/3 - 5*5 = 8 (dtrace's arithmetic) = 2.
    assert_eq!(
        text,
        "# HELP rdtrace_lo @lo = min()\n\
         # TYPE rdtrace_lo gauge\n\
         rdtrace_lo -3\n\
         # HELP rdtrace_hi @hi = max()\n\
         # TYPE rdtrace_hi gauge\n\
         rdtrace_hi 9\n\
         # HELP rdtrace_mean @mean = avg()\n\
         # TYPE rdtrace_mean gauge\n\
         rdtrace_mean 3\n\
         # HELP rdtrace_sd @sd = stddev()\n\
         # TYPE rdtrace_sd gauge\n\
         rdtrace_sd 2\n"
    );
}

#[test]
fn quantize_is_a_histogram_over_the_rows_printa_shows() {
    let text = exposition_of(
        "BEGIN { @lat = quantize(1); @lat = quantize(2); @lat = quantize(3); @lat = quantize(100); }",
        &[],
    );
    // printa shows the rows 0 (empty), 1, 2, 4 … 64, 128 (empty); bucket
    // "2" holds 2 and 3, so its le is 3; "64" holds 64..127.
    assert_eq!(
        text,
        "# HELP rdtrace_lat @lat = quantize()\n\
         # TYPE rdtrace_lat histogram\n\
         rdtrace_lat_sum 106.0\n\
         rdtrace_lat_count 4\n\
         rdtrace_lat_bucket{le=\"0.0\"} 0\n\
         rdtrace_lat_bucket{le=\"1.0\"} 1\n\
         rdtrace_lat_bucket{le=\"3.0\"} 3\n\
         rdtrace_lat_bucket{le=\"7.0\"} 3\n\
         rdtrace_lat_bucket{le=\"15.0\"} 3\n\
         rdtrace_lat_bucket{le=\"31.0\"} 3\n\
         rdtrace_lat_bucket{le=\"63.0\"} 3\n\
         rdtrace_lat_bucket{le=\"127.0\"} 4\n\
         rdtrace_lat_bucket{le=\"255.0\"} 4\n\
         rdtrace_lat_bucket{le=\"+Inf\"} 4\n"
    );
}

#[test]
fn negative_values_get_negative_buckets() {
    let text = exposition_of("BEGIN { @q = quantize(-5); @q = quantize(0); }", &[]);
    // -5 is in the row "-4" (-7..-4), 0 in "0"; one empty row either side.
    assert!(
        text.contains(
            "rdtrace_q_sum -5.0\n\
             rdtrace_q_count 2\n\
             rdtrace_q_bucket{le=\"-8.0\"} 0\n\
             rdtrace_q_bucket{le=\"-4.0\"} 1\n\
             rdtrace_q_bucket{le=\"-2.0\"} 1\n\
             rdtrace_q_bucket{le=\"-1.0\"} 1\n\
             rdtrace_q_bucket{le=\"0.0\"} 2\n\
             rdtrace_q_bucket{le=\"1.0\"} 2\n\
             rdtrace_q_bucket{le=\"+Inf\"} 2\n"
        ),
        "{text}"
    );
}

#[test]
fn lquantize_and_llquantize_buckets() {
    let text = exposition_of(
        "BEGIN { @l = lquantize(3, 0, 10, 5); @l = lquantize(7, 0, 10, 5); @l = lquantize(12, 0, 10, 5);
                 @ll = llquantize(5, 10, 0, 2, 10); @ll = llquantize(250, 10, 0, 2, 10); }",
        &[],
    );
    // lquantize rows: < 0, 0 (0..4), 5 (5..9), >= 10.
    assert!(
        text.contains(
            "rdtrace_l_sum 22.0\n\
             rdtrace_l_count 3\n\
             rdtrace_l_bucket{le=\"-1.0\"} 0\n\
             rdtrace_l_bucket{le=\"4.0\"} 1\n\
             rdtrace_l_bucket{le=\"9.0\"} 2\n\
             rdtrace_l_bucket{le=\"+Inf\"} 3\n"
        ),
        "{text}"
    );
    // llquantize(10, 0, 2, 10) rows: < 1, 1 … 9 (one each), 10, 20 … 90,
    // 100, 200 … 900, >= 1000. 5 is in "5", 250 in "200" (200..299).
    assert!(
        text.contains(
            "rdtrace_ll_sum 255.0\n\
             rdtrace_ll_count 2\n\
             rdtrace_ll_bucket{le=\"4.0\"} 0\n\
             rdtrace_ll_bucket{le=\"5.0\"} 1\n"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "rdtrace_ll_bucket{le=\"199.0\"} 1\n\
             rdtrace_ll_bucket{le=\"299.0\"} 2\n\
             rdtrace_ll_bucket{le=\"399.0\"} 2\n\
             rdtrace_ll_bucket{le=\"+Inf\"} 2\n"
        ),
        "{text}"
    );
}

#[test]
fn label_values_are_escaped() {
    let text = exposition_of(
        "BEGIN { @[\"say \\\"hi\\\"\\nback\\\\slash\"] = count(); }",
        &[],
    );
    assert!(
        text.contains("rdtrace_agg_total{key0=\"say \\\"hi\\\"\\nback\\\\slash\"} 1\n"),
        "{text}"
    );
}

#[test]
fn an_empty_aggregation_is_a_family_without_samples() {
    let text = exposition_of(
        "BEGIN { x = 1; } tick-1s { @never[execname] = count(); }",
        &[],
    );
    assert_eq!(
        text,
        "# HELP rdtrace_never @never = count()\n# TYPE rdtrace_never counter\n"
    );
}

#[test]
fn values_that_can_go_down_are_gauges() {
    let text = exposition_of(
        "BEGIN { @c = count(); @c = count(); clear(@c); @s = sum(5); @s = sum(-2);
                 @n = sum(1000); normalize(@n, 10); }
         tick-1s { @t = count(); } END { trunc(@t); }",
        &[],
    );
    assert!(
        text.contains("# TYPE rdtrace_c gauge\nrdtrace_c 0\n"),
        "{text}"
    );
    assert!(
        text.contains("# TYPE rdtrace_s gauge\nrdtrace_s 3\n"),
        "{text}"
    );
    // printa shows a normalized sum divided by the factor.
    assert!(
        text.contains("# TYPE rdtrace_n gauge\nrdtrace_n 100\n"),
        "{text}"
    );
    // trunc() appears in the program: a gauge before it ever runs.
    assert!(text.contains("# TYPE rdtrace_t gauge\n"), "{text}");
}

#[test]
fn a_script_without_aggregations_serves_only_rdtraces_own_metrics() {
    let text = exposition_of("BEGIN { trace(1); }", &[]);
    assert_eq!(text, "");
}

#[test]
fn own_metrics() {
    let snapshot = Snapshot {
        families: Vec::new(),
        stats: TracerStats {
            events: 12,
            drops: vec![(0, 3), (1, 0)],
            aggregation_drops: vec![(1, 2)],
            dynvar_drops: 4,
            probes_enabled: 5,
            tracing: true,
        },
    };
    let text = exposition::encode(&Arc::new(snapshot));
    for line in [
        "# TYPE rdtrace_tracer_events counter\nrdtrace_tracer_events_total 12\n",
        "rdtrace_tracer_drops_total{cpu=\"0\"} 3\nrdtrace_tracer_drops_total{cpu=\"1\"} 0\n",
        "rdtrace_tracer_aggregation_drops_total{cpu=\"1\"} 2\n",
        "rdtrace_tracer_dynvar_drops_total 4\n",
        "# TYPE rdtrace_tracer_probes_enabled gauge\nrdtrace_tracer_probes_enabled 5\n",
        "rdtrace_tracer_tracing 1\n",
    ] {
        assert!(text.contains(line), "{line} not in\n{text}");
    }
    assert!(text.ends_with("# EOF\n"));
}
