//! Live profile-N probes: the perf_event program on every online CPU (root +
//! BPF). Skipped with a reason when BPF is unavailable, unless
//! RDTRACE_REQUIRE_BPF=1 (CI), where the tests fail.

use rdtrace_probes::event::EventHeader;
use rdtrace_probes::{LiveOptions, LiveSource, Source, TCP_RECEIVE, TCP_SEND};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "../../tests/common/netns.rs"]
#[allow(dead_code)]
mod netns;
use netns::{live_tests_possible, DEADLINE};

/// Probe ids far above the catalog's, as the checker gives profile probes.
const PROFILE_A: u32 = 9001;
const PROFILE_B: u32 = 9002;
const TEN_MS: u64 = 10_000_000;

fn online_cpus() -> Vec<u32> {
    let text = std::fs::read_to_string("/sys/devices/system/cpu/online").expect("online CPUs");
    text.trim()
        .split(',')
        .flat_map(|range| {
            let (a, b) = range.split_once('-').unwrap_or((range, range));
            a.parse::<u32>().unwrap()..=b.parse::<u32>().unwrap()
        })
        .collect()
}

fn header(rec: &[u8]) -> EventHeader {
    // Without stacks a sample is its ProfileEvent: the header and the PCs.
    assert_eq!(
        rec.len(),
        std::mem::size_of::<rdtrace_probes::event::ProfileEvent>(),
        "profile records without stacks"
    );
    // SAFETY: length checked; EventHeader is plain data.
    unsafe { std::ptr::read_unaligned(rec.as_ptr() as *const EventHeader) }
}

fn comm(h: &EventHeader) -> String {
    let end = h.comm.iter().position(|&b| b == 0).unwrap_or(h.comm.len());
    String::from_utf8_lossy(&h.comm[..end]).into_owned()
}

/// Two probes of the same interval both fire, on every online CPU, with the
/// interrupted task in the header: here spinning threads of this test, one
/// pinned to each CPU (idle CPUs of some virtual machines get almost no
/// cpu-clock samples; bpftrace's profile:hz shows the same).
#[test]
fn profile_fires_on_every_cpu_with_the_current_task() {
    if !live_tests_possible() {
        return;
    }
    let opts = LiveOptions {
        profile: vec![(PROFILE_A, TEN_MS), (PROFILE_B, TEN_MS)],
        ..Default::default()
    };
    let mut src = LiveSource::open(&opts).expect("live source with profile probes");
    assert_eq!(src.hooks(), ["perf_event/cpu-clock"]);

    let cpus = online_cpus();
    let stop = Arc::new(AtomicBool::new(false));
    let (pinned_tx, pinned) = std::sync::mpsc::channel();
    let threads: Vec<_> = cpus
        .iter()
        .map(|&cpu| {
            let stop = Arc::clone(&stop);
            let pinned_tx = pinned_tx.clone();
            std::thread::Builder::new()
                .name("rdtprofspin".into())
                .spawn(move || {
                    // SAFETY: plain syscalls on this thread; the set has one bit.
                    let tid = unsafe {
                        let mut set: libc::cpu_set_t = std::mem::zeroed();
                        libc::CPU_SET(cpu as usize, &mut set);
                        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
                        libc::gettid() as u32
                    };
                    pinned_tx.send((tid, cpu)).unwrap();
                    while !stop.load(Ordering::Relaxed) {
                        std::hint::spin_loop();
                    }
                })
                .unwrap()
        })
        .collect();
    // (tid, CPU) of each spinner once it runs on its CPU only.
    let spinners: HashSet<(u32, u32)> = pinned.iter().take(cpus.len()).collect();

    let mut seen: HashMap<(u32, u32), u64> = HashMap::new();
    let mut spinner_seen = HashSet::new();
    let me = std::process::id();
    let start = Instant::now();
    let done = |seen: &HashMap<(u32, u32), u64>, spinner_seen: &HashSet<(u32, u32)>| {
        spinners.is_subset(spinner_seen)
            && [PROFILE_A, PROFILE_B].iter().all(|&p| {
                cpus.iter()
                    .all(|&c| seen.get(&(p, c)).is_some_and(|&n| n >= 3))
            })
    };
    while !done(&seen, &spinner_seen) && start.elapsed() < DEADLINE {
        src.poll(Duration::from_millis(50), &mut |rec| {
            let h = header(rec);
            assert!(
                h.probe == PROFILE_A || h.probe == PROFILE_B,
                "unexpected probe {}",
                h.probe
            );
            *seen.entry((h.probe, h.cpu)).or_default() += 1;
            if h.pid == me && comm(&h) == "rdtprofspin" {
                assert_ne!(h.tid, me, "the spinner is not the main thread");
                assert!(h.netns > 0, "the task's network namespace");
                spinner_seen.insert((h.tid, h.cpu));
            }
        })
        .unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().unwrap();
    }
    for p in [PROFILE_A, PROFILE_B] {
        for &c in &cpus {
            assert!(
                seen.get(&(p, c)).is_some_and(|&n| n >= 3),
                "probe {p} on CPU {c}: {seen:?}"
            );
        }
    }
    assert!(
        spinners.is_subset(&spinner_seen),
        "samples of each spinning thread (tid, CPU) on its CPU: {spinner_seen:?}, spinners {spinners:?}"
    );
    assert!(
        src.drops().iter().all(|&(_, n)| n == 0),
        "no drops at 100 Hz"
    );
}

/// Without profile probes the perf_event program is neither loaded nor attached.
#[test]
fn no_profile_program_without_profile_probes() {
    if !live_tests_possible() {
        return;
    }
    let opts = LiveOptions {
        probes: vec![TCP_SEND, TCP_RECEIVE],
        ..Default::default()
    };
    let src = LiveSource::open(&opts).expect("live source");
    assert!(
        !src.hooks().iter().any(|h| h.starts_with("perf_event")),
        "{:?}",
        src.hooks()
    );
    assert_eq!(
        src.program_ids().len(),
        src.hooks().len(),
        "only the attached programs are loaded"
    );
}
