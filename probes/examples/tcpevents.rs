//! Prints every tcp:::send/receive record for a few seconds: a debugging aid
//! for the BPF side (`cargo run -p rdtrace-probes --example tcpevents -- 5`).
//! A second argument `raw` attaches the raw_tp fallback programs instead.

use rdtrace_probes::event::{Record, TcpEvent};
use rdtrace_probes::{LiveOptions, LiveSource, Source, TCP_RECEIVE, TCP_SEND};
use std::time::{Duration, Instant};

fn main() {
    let secs: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let opts = LiveOptions {
        probes: vec![TCP_SEND, TCP_RECEIVE],
        ..Default::default()
    };
    let raw = std::env::args().nth(2).is_some_and(|a| a == "raw");
    let opened = if raw {
        LiveSource::open_raw_tp(&opts)
    } else {
        LiveSource::open(&opts)
    };
    let mut src = match opened {
        Ok(s) => s,
        Err(e) => {
            eprintln!("tcpevents: {e}");
            std::process::exit(1);
        }
    };
    eprintln!("attached: {:?}", src.hooks());
    let end = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < end {
        src.poll(Duration::from_millis(100), &mut |b| {
            let Some(e) = TcpEvent::read_from(b) else { return };
            let comm = String::from_utf8_lossy(&e.hdr.comm);
            println!(
                "{} {} cpu{} pid{} {} ns{} if{} {}:{} > {}:{} flags={:#04x} seq={} ack={} len={} off={} win={} ttl={} sk={:#x}",
                e.hdr.ts_ns,
                if e.hdr.probe == TCP_SEND { "send" } else { "recv" },
                e.hdr.cpu,
                e.hdr.pid,
                comm.trim_end_matches('\0'),
                e.hdr.netns,
                e.ifindex,
                e.src_ip(),
                e.sport,
                e.dst_ip(),
                e.dport,
                e.tcp_flags,
                e.seq,
                e.ack,
                e.payload_len(),
                e.tcp_offset,
                e.window,
                e.ttl,
                e.sk
            );
        })
        .unwrap();
    }
    eprintln!(
        "drops: {:?}",
        src.drops().iter().filter(|d| d.1 > 0).collect::<Vec<_>>()
    );
}
