//! profile-N live, end to end (root + BPF): the probe fires on every online
//! CPU, and `pid`/`execname` name the interrupted process. Skipped with a
//! reason without root or BTF, unless RDTRACE_REQUIRE_BPF=1 (CI), where
//! the tests fail.
//!
//! Idle CPUs of some virtual machines get (almost) no cpu-clock samples
//! (bpftrace's profile:hz shows the same), so the tests keep every CPU busy
//! with a pinned spinning thread while they trace.

mod common;

use std::collections::HashMap;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use common::netns::live_tests_possible;
use common::{rdtrace, stderr, stdout};

fn online_cpus() -> Vec<usize> {
    let text = std::fs::read_to_string("/sys/devices/system/cpu/online").expect("online CPUs");
    text.trim()
        .split(',')
        .flat_map(|range| {
            let (a, b) = range.split_once('-').unwrap_or((range, range));
            a.parse::<usize>().unwrap()..=b.parse::<usize>().unwrap()
        })
        .collect()
}

/// One spinning thread pinned to each online CPU, until dropped.
struct Spinners {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl Spinners {
    fn start() -> Spinners {
        let stop = Arc::new(AtomicBool::new(false));
        let threads = online_cpus()
            .into_iter()
            .map(|cpu| {
                let stop = Arc::clone(&stop);
                std::thread::spawn(move || {
                    // SAFETY: a zeroed cpu_set_t with one bit set, for this thread.
                    unsafe {
                        let mut set: libc::cpu_set_t = std::mem::zeroed();
                        libc::CPU_SET(cpu, &mut set);
                        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
                    }
                    while !stop.load(Ordering::Relaxed) {
                        std::hint::spin_loop();
                    }
                })
            })
            .collect();
        Spinners { stop, threads }
    }
}

impl Drop for Spinners {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// A busy shell loop started by the test, killed when dropped.
struct BusyChild(Child);

impl Drop for BusyChild {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Lines of a printa/exit print: the words of each non-empty line.
fn rows(out: &str) -> Vec<Vec<String>> {
    out.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .collect()
}

/// `profile-97` for 2 s: every online CPU fires about 2 × 97 times.
#[test]
fn profile_fires_on_every_online_cpu() {
    if !live_tests_possible() {
        return;
    }
    let spinners = Spinners::start();
    let out = rdtrace()
        .args([
            "-q",
            "-n",
            "profile-97 { @[cpu] = count(); } tick-2s { exit(0); }",
        ])
        .output()
        .unwrap();
    drop(spinners);
    assert!(out.status.success(), "rdtrace failed: {}", stderr(&out));
    let counts: HashMap<usize, u64> = rows(&stdout(&out))
        .iter()
        .map(|r| {
            assert_eq!(r.len(), 2, "row {r:?} of {}", stdout(&out));
            (r[0].parse().unwrap(), r[1].parse().unwrap())
        })
        .collect();
    let mut cpus: Vec<usize> = counts.keys().copied().collect();
    cpus.sort();
    assert_eq!(cpus, online_cpus(), "CPUs that fired:\n{}", stdout(&out));
    for (cpu, n) in &counts {
        assert!(
            (50..=400).contains(n),
            "CPU {cpu} fired {n} times (2 s at 97 Hz)"
        );
    }
}

/// `-p PID` of a spinning shell: samples with `pid == $target` name it.
#[test]
fn profile_sees_the_target_process_by_pid() {
    if !live_tests_possible() {
        return;
    }
    let child = BusyChild(
        Command::new("sh")
            .args(["-c", "while :; do :; done"])
            .spawn()
            .unwrap(),
    );
    let pid = child.0.id().to_string();
    let out = rdtrace()
        .args([
            "-q",
            "-p",
            &pid,
            "-n",
            "profile-997 /pid == $target/ { @[pid, execname] = count(); } tick-1s { exit(0); }",
        ])
        .output()
        .unwrap();
    drop(child);
    assert!(out.status.success(), "rdtrace failed: {}", stderr(&out));
    let rows = rows(&stdout(&out));
    assert_eq!(rows.len(), 1, "one key, the target's:\n{}", stdout(&out));
    assert_eq!(rows[0][..2], [pid.as_str(), "sh"], "{}", stdout(&out));
    assert!(rows[0][2].parse::<u64>().unwrap() > 0);
}

/// `-c CMD`: the command's samples carry its pid (`$target`) and name; the
/// trace ends when it exits.
#[test]
fn profile_sees_the_command_of_dash_c() {
    if !live_tests_possible() {
        return;
    }
    let out = rdtrace()
        .args([
            "-q",
            "-c",
            "dd if=/dev/zero of=/dev/null bs=1 count=1000000",
            "-n",
            "profile-997 /pid == $target/ { @[execname] = count(); }",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "rdtrace failed: {}", stderr(&out));
    let rows = rows(&stdout(&out));
    // Until it execs dd, the target is the shell that started it.
    assert!(
        rows.iter().all(|r| r[0] == "dd" || r[0] == "sh"),
        "{}",
        stdout(&out)
    );
    let dd = rows
        .iter()
        .find(|r| r[0] == "dd")
        .unwrap_or_else(|| panic!("no dd samples:\n{}", stdout(&out)));
    assert!(dd[1].parse::<u64>().unwrap() > 0);
}
