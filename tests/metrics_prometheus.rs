//! `--metrics` end to end with a real Prometheus server scraping rdtrace
//! on loopback: the values Prometheus stores (queried through its HTTP
//! API) are the values printa prints for the same aggregations — over a
//! capture (deterministic) and live, while tracing goes on and after it
//! ended.

mod common;

use std::collections::BTreeMap;
use std::io::BufRead;
use std::net::SocketAddr;
use std::process::{Child, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use common::capture::{seg, write_pcap, Conversation, From};
use common::netns::{live_tests_possible, DEADLINE};
use common::prometheus::{available, Prometheus};
use common::rdtrace;

/// A running rdtrace whose stderr lines arrive on a channel.
struct Tracer {
    child: Child,
    stderr: Receiver<String>,
    seen: Vec<String>,
    stdout: std::path::PathBuf,
}

impl Tracer {
    fn start(args: &[&str], stdout: std::path::PathBuf) -> Tracer {
        let mut child = rdtrace()
            .args(args)
            .stdout(std::fs::File::create(&stdout).unwrap())
            .stderr(Stdio::piped())
            .spawn()
            .expect("rdtrace starts");
        let (tx, stderr) = channel();
        let err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(err).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        Tracer {
            child,
            stderr,
            seen: Vec::new(),
            stdout,
        }
    }

    /// Waits for a stderr line containing `needle` (bounded).
    fn line_with(&mut self, needle: &str) -> String {
        let end = Instant::now() + DEADLINE;
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            match self.stderr.recv_timeout(left) {
                Ok(l) => {
                    self.seen.push(l.clone());
                    if l.contains(needle) {
                        return l;
                    }
                }
                Err(_) => break,
            }
        }
        let _ = self.child.kill();
        panic!("rdtrace never said '{needle}'; it said {:#?}", self.seen);
    }

    /// The metrics address rdtrace says it serves.
    fn metrics_addr(&mut self) -> SocketAddr {
        let l = self.line_with("as metrics on http://");
        let addr = l
            .rsplit("http://")
            .next()
            .unwrap()
            .trim_end_matches("/metrics");
        addr.parse().unwrap_or_else(|_| panic!("an address in {l}"))
    }

    /// SIGINT (ends the linger), then the exit status and stdout.
    fn stop(mut self) -> String {
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGINT) };
        let status = self.child.wait().unwrap();
        assert!(
            status.success(),
            "rdtrace: {status}; stderr {:#?}",
            self.seen
        );
        std::fs::read_to_string(&self.stdout).unwrap()
    }
}

impl Drop for Tracer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

type Series = Vec<(Vec<(String, String)>, f64)>;

/// `printa("<tag> %s… %@d\n", @a)` rows: keys → value.
fn printa_rows(out: &str, tag: &str) -> BTreeMap<Vec<String>, i64> {
    out.lines()
        .filter_map(|l| l.strip_prefix(tag).and_then(|r| r.strip_prefix(' ')))
        .map(|r| {
            let mut w: Vec<String> = r.split(' ').map(str::to_string).collect();
            let v = w.pop().unwrap().parse().unwrap();
            (w, v)
        })
        .collect()
}

/// The same from Prometheus: label values in label-name order → value.
fn metric_rows(series: &Series, labels: &[&str]) -> BTreeMap<Vec<String>, i64> {
    series
        .iter()
        .map(|(l, v)| {
            let keys = labels
                .iter()
                .map(|n| l.iter().find(|(k, _)| k == n).unwrap().1.clone())
                .collect();
            (keys, *v as i64)
        })
        .collect()
}

/// The count of each row of printa's quantize table, in order.
fn distribution_counts(out: &str) -> Vec<(i64, u64)> {
    out.lines()
        .filter_map(|l| {
            let (value, rest) = l.split_once('|')?;
            let value = value.trim().parse().ok()?;
            let count = rest.trim_start_matches(['@', ' ']).trim().parse().ok()?;
            Some((value, count))
        })
        .collect()
}

/// A histogram's buckets from Prometheus as (le, count in that bucket
/// alone), +Inf last.
fn buckets(series: &Series) -> Vec<(f64, u64)> {
    let mut cumulative: Vec<(f64, f64)> = series
        .iter()
        .map(|(l, v)| {
            let le = &l.iter().find(|(k, _)| k == "le").unwrap().1;
            (
                if le == "+Inf" {
                    f64::INFINITY
                } else {
                    le.parse().unwrap()
                },
                *v,
            )
        })
        .collect();
    cumulative.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut prev = 0.0;
    cumulative
        .into_iter()
        .map(|(le, c)| {
            let n = (c - prev) as u64;
            prev = c;
            (le, n)
        })
        .collect()
}

/// printa's rows are the histogram's buckets but +Inf (which holds none
/// of the rows printa leaves out), each up to the next row's value.
fn assert_histogram_is_the_distribution(buckets: &[(f64, u64)], rows: &[(i64, u64)]) {
    assert!(!rows.is_empty());
    let (inf, finite) = buckets.split_last().unwrap();
    assert!(inf.0.is_infinite(), "{buckets:?}");
    assert_eq!(
        finite.iter().map(|b| b.1).collect::<Vec<_>>(),
        rows.iter().map(|r| r.1).collect::<Vec<_>>(),
        "bucket counts {buckets:?} vs printa rows {rows:?}"
    );
    for (b, next) in finite.iter().zip(&rows[1..]) {
        assert_eq!(
            b.0 as i64 + 1,
            next.0,
            "le of {b:?} vs the next row {next:?}"
        );
    }
    assert_eq!(inf.1, 0);
}

const REPLAY_SCRIPT: &str = r#"#pragma D option metriclabels=bytes:daddr,dport
tcp:::send, tcp:::receive
{
	@segments[probename] = count();
	@bytes[args[2]->ip_daddr, args[4]->tcp_dport] = sum(args[2]->ip_plength);
	@biggest[probename] = max(args[2]->ip_plength);
	@size = quantize(args[2]->ip_plength);
}
END
{
	/* Not quiet: the rows start after END's probe line. */
	printf("\n");
	printa("segments %s %@d\n", @segments);
	printa("bytes %s %d %@d\n", @bytes);
	printa("biggest %s %@d\n", @biggest);
	printa(@size);
}
"#;

#[test]
fn prometheus_scrapes_a_replay_and_stores_what_printa_prints() {
    if !available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("c.pcap");
    let conv = Conversation {
        client: ("192.0.2.71".parse().unwrap(), 40711),
        server: ("192.0.2.72".parse().unwrap(), 8471),
        start: Duration::from_secs(1_700_000_000),
        step: Duration::from_millis(1),
        segments: vec![
            seg(From::Client, "S", 0),
            seg(From::Server, "SA", 0),
            seg(From::Client, "A", 0),
            seg(From::Client, "PA", 100),
            seg(From::Server, "A", 0),
            seg(From::Server, "PA", 1400),
            seg(From::Server, "PA", 300),
            seg(From::Client, "A", 0),
            seg(From::Client, "FA", 0),
            seg(From::Server, "FA", 0),
            seg(From::Client, "A", 0),
        ],
    };
    write_pcap(&conv, &pcap);
    let script = dir.path().join("m.d");
    std::fs::write(&script, REPLAY_SCRIPT).unwrap();
    let replay = [
        "-s",
        script.to_str().unwrap(),
        "--replay",
        pcap.to_str().unwrap(),
        "--local",
        "192.0.2.71",
    ];
    // Not quiet: the notices tell the port and the end of tracing.
    let mut t = Tracer::start(
        &[
            &replay[..],
            &["--metrics", "127.0.0.1:0", "-x", "metricslinger=120s"],
        ]
        .concat(),
        dir.path().join("out"),
    );
    let addr = t.metrics_addr();
    // Tracing is over before Prometheus scrapes at all: every sample it
    // stores is final.
    t.line_with("tracing has ended");
    let prom = Prometheus::start(addr);
    prom.wait_for("rdtrace_tracer_tracing", |r| r.len() == 1 && r[0].1 == 0.0);

    let segments = prom.query("rdtrace_segments_total");
    let bytes = prom.query("rdtrace_bytes_total");
    let biggest = prom.query("rdtrace_biggest");
    let size = prom.query("rdtrace_size_bucket");
    let size_count = prom.query("rdtrace_size_count");
    let size_sum = prom.query("rdtrace_size_sum");
    let events = prom.query("rdtrace_tracer_events_total");
    // The README's PromQL examples are queries Prometheus takes.
    for q in readme_promql() {
        prom.query(&q);
    }
    let out = t.stop();

    let printed = printa_rows(&out, "segments");
    assert_eq!(printed.len(), 2, "{out}");
    assert_eq!(metric_rows(&segments, &["key0"]), printed);
    assert_eq!(printed.values().sum::<i64>(), 11, "{out}");
    assert_eq!(
        metric_rows(&bytes, &["daddr", "dport"]),
        printa_rows(&out, "bytes")
    );
    assert_eq!(
        metric_rows(&biggest, &["key0"]),
        printa_rows(&out, "biggest")
    );
    let rows = distribution_counts(&out);
    assert_histogram_is_the_distribution(&buckets(&size), &rows);
    assert_eq!(
        size_count[0].1 as u64,
        rows.iter().map(|r| r.1).sum::<u64>()
    );
    // The histogram's sum is every value quantize() took: all the bytes.
    assert_eq!(
        size_sum[0].1 as i64,
        printa_rows(&out, "bytes").values().sum::<i64>()
    );
    assert_eq!(events[0].1, 11.0);
    // The trace output is what it is without --metrics (but for the CPU
    // END fires on: the one rdtrace runs on).
    let plain = rdtrace().args(replay).output().unwrap();
    assert!(plain.status.success());
    let without_cpu = |s: &str| {
        s.lines()
            .map(|l| if l.ends_with(":END ") { ":END" } else { l })
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(without_cpu(&common::stdout(&plain)), without_cpu(&out));
}

/// The queries of the README's `promql` block.
fn readme_promql() -> Vec<String> {
    let readme = std::fs::read_to_string(common::repo_file("README.md")).unwrap();
    let block = readme
        .split("```promql\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("a promql block in the README");
    let queries: Vec<String> = block.lines().map(str::to_string).collect();
    assert_eq!(queries.len(), 2, "{block}");
    queries
}

#[test]
fn the_scrape_config_in_dist_is_valid() {
    if !available() {
        return;
    }
    let o = std::process::Command::new("promtool")
        .arg("check")
        .arg("config")
        .arg(common::repo_file("dist/prometheus/rdtrace.yml"))
        .output()
        .expect("promtool comes with prometheus");
    assert!(
        o.status.success(),
        "{}{}",
        common::stdout(&o),
        common::stderr(&o)
    );
}

const LIVE_PROGRAM: &str = r#"
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* 1000 getppid(), then wait (at most 60 s) for the file argv[1], then 500 more. */
int main(int argc, char **argv) {
    struct stat st;
    struct timespec pause = {0, 20 * 1000 * 1000};
    for (int i = 0; i < 1000; i++) getppid();
    for (int i = 0; i < 3000 && argc > 1 && stat(argv[1], &st) != 0; i++) nanosleep(&pause, 0);
    for (int i = 0; i < 500; i++) getppid();
    return 0;
}
"#;

const LIVE_SCRIPT: &str = r#"
syscall::getppid:entry /pid == $target/ { @calls[probefunc] = count(); self->ts = timestamp; }
syscall::getppid:return /self->ts/ { @lat = quantize(timestamp - self->ts); self->ts = 0; }
END { printf("\n"); printa("calls %s %@d\n", @calls); printa(@lat); }
"#;

#[test]
fn prometheus_scrapes_live_tracing_while_it_goes_on_and_after() {
    if !live_tests_possible() || !available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let exe = common::build_c(dir.path(), "rdt-getppid", LIVE_PROGRAM, &[]);
    let go = dir.path().join("go");
    let script = dir.path().join("live.d");
    std::fs::write(&script, LIVE_SCRIPT).unwrap();
    let command = format!("{} {}", exe.display(), go.display());
    let mut t = Tracer::start(
        &[
            "-s",
            script.to_str().unwrap(),
            "-c",
            &command,
            "--metrics",
            "127.0.0.1:0",
            "-x",
            "metricslinger=120s",
        ],
        dir.path().join("out"),
    );
    let addr = t.metrics_addr();
    let prom = Prometheus::start(addr);
    // While the command waits, tracing goes on and the first 1000 calls
    // are scraped.
    prom.wait_for("rdtrace_calls_total", |r| r.len() == 1 && r[0].1 == 1000.0);
    assert_eq!(prom.query("rdtrace_tracer_tracing")[0].1, 1.0);
    std::fs::write(&go, "").unwrap();
    t.line_with("tracing has ended");
    prom.wait_for("rdtrace_tracer_tracing", |r| r.len() == 1 && r[0].1 == 0.0);
    let calls = prom.query("rdtrace_calls_total");
    let lat = prom.query("rdtrace_lat_bucket");
    let out = t.stop();
    let printed = printa_rows(&out, "calls");
    assert_eq!(
        printed.values().copied().collect::<Vec<_>>(),
        [1500],
        "{out}"
    );
    assert_eq!(metric_rows(&calls, &["key0"]), printed);
    assert_histogram_is_the_distribution(&buckets(&lat), &distribution_counts(&out));
}

#[test]
fn a_port_in_use_is_an_error_before_tracing() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let o = rdtrace()
        .args(["-n", "BEGIN { @ = count(); exit(0); }", "--metrics", &addr])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = common::stderr(&o);
    assert!(
        err.contains(&format!("cannot serve metrics on {addr}")),
        "{err}"
    );
    assert!(err.contains("Address already in use"), "{err}");
    // Nothing was traced: BEGIN did not fire.
    assert!(common::stdout(&o).is_empty(), "{}", common::stdout(&o));
}

#[test]
fn bad_metrics_options_are_errors() {
    for (args, want) in [
        (
            vec!["--metrics", "localhost"],
            "failed to set option 'metrics' to 'localhost'",
        ),
        (
            vec!["-x", "metriclabels=@:1abc"],
            "failed to set option 'metriclabels'",
        ),
        (
            vec!["-x", "metriclabels=@nope:a", "--metrics", "127.0.0.1:0"],
            "metriclabels names @nope, which the program does not use",
        ),
    ] {
        let o = rdtrace()
            .args(["-e", "-n", "BEGIN { @ = count(); }"])
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        assert!(
            common::stderr(&o).contains(want),
            "{args:?}: {}",
            common::stderr(&o)
        );
    }
}
