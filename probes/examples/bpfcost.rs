//! Measures the kernel-side cost of the tcp programs: average ns per run
//! from the kernel's BPF statistics, while iperf3 pushes loopback traffic
//! for a few seconds. Needs root and iperf3; turns
//! `kernel.bpf_stats_enabled` on for the run and restores it.
//!
//!   cargo run -p rdtrace-probes --example bpfcost [raw] [segments]
//!
//! `segments`: without connection tracking (what tcpio.d needs: no clause
//! reads the socket state).

use rdtrace_probes::{LiveOptions, LiveSource, Source, TCP_RECEIVE, TCP_SEND};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const STATS: &str = "/proc/sys/kernel/bpf_stats_enabled";

fn main() {
    let raw = std::env::args().any(|a| a == "raw");
    let opts = LiveOptions {
        probes: vec![TCP_SEND, TCP_RECEIVE],
        socket_state: !std::env::args().any(|a| a == "segments"),
        ..Default::default()
    };
    let opened = if raw {
        LiveSource::open_raw_tp(&opts)
    } else {
        LiveSource::open(&opts)
    };
    let mut src = opened.unwrap_or_else(|e| {
        eprintln!("bpfcost: {e}");
        std::process::exit(1)
    });
    let ids = src.program_ids();
    let previous = std::fs::read_to_string(STATS).unwrap_or_else(|_| "0".into());
    std::fs::write(STATS, "1").expect("enable BPF stats");
    let quiet = || Stdio::null();
    let mut server = Command::new("iperf3")
        .args(["-s", "-1", "-p", "5299"])
        .stdout(quiet())
        .spawn()
        .expect("iperf3");
    std::thread::sleep(Duration::from_millis(300));
    let mut client = Command::new("iperf3")
        .args(["-c", "127.0.0.1", "-p", "5299", "-t", "3", "-M", "1400"])
        .stdout(quiet())
        .spawn()
        .expect("iperf3");
    let end = Instant::now() + Duration::from_secs(4);
    let mut records = 0u64;
    while Instant::now() < end {
        src.poll(Duration::from_millis(100), &mut |_| records += 1)
            .expect("poll");
    }
    let _ = client.wait();
    let _ = server.wait();
    for info in aya::programs::loaded_programs()
        .flatten()
        .filter(|i| ids.contains(&i.id()))
    {
        let runs = info.run_count().max(1);
        println!(
            "{}: {} runs, {} ns/run",
            info.name_as_str().unwrap_or("?"),
            runs,
            info.run_time().as_nanos() as u64 / runs
        );
    }
    let _ = std::fs::write(STATS, previous.trim());
    let drops: u64 = src.drops().iter().map(|d| d.1).sum();
    println!("{records} records, {drops} drops");
}
