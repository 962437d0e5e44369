//! Network namespaces for live tests: created per test, joined by veth pairs,
//! deleted (with their devices) when the guard drops, also on failure.
//! Shared by the root package's tests and probes/tests (through `#[path]`).

use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::process::Command;
use std::time::{Duration, Instant};

/// Upper bound for any wait in live tests (never asserted on as a timing).
pub const DEADLINE: Duration = Duration::from_secs(20);

/// CI sets RDTRACE_REQUIRE_BPF=1: live tests must run there, not skip.
pub fn required() -> bool {
    std::env::var("RDTRACE_REQUIRE_BPF").is_ok_and(|v| v == "1")
}

/// Why live tests cannot run here (None when they can): root and BTF.
pub fn unavailable() -> Option<String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Some("not root (network namespaces and BPF need root)".into());
    }
    if !std::path::Path::new("/sys/kernel/btf/vmlinux").exists() {
        return Some("no kernel BTF at /sys/kernel/btf/vmlinux".into());
    }
    None
}

/// True when the test should go on; prints why it is skipped otherwise, and
/// panics instead when RDTRACE_REQUIRE_BPF=1.
pub fn live_tests_possible() -> bool {
    match unavailable() {
        None => true,
        Some(why) if required() => {
            panic!("RDTRACE_REQUIRE_BPF=1 but live tracing is unavailable: {why}")
        }
        Some(why) => {
            eprintln!("skipping live test: {why}");
            false
        }
    }
}

pub fn run(args: &[&str]) {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", args[0]));
    assert!(
        out.status.success(),
        "{:?} failed: {}",
        args,
        String::from_utf8_lossy(&out.stderr)
    );
}

pub struct Namespaces {
    names: Vec<String>,
}

impl Namespaces {
    /// Creates `rdt<pid><test><suffix>` for each suffix, with loopback up.
    pub fn new(test: &str, suffixes: &[&str]) -> Namespaces {
        let mut ns = Namespaces { names: Vec::new() };
        for s in suffixes {
            let name = format!("rdt{}{test}{s}", std::process::id());
            run(&["ip", "netns", "add", &name]);
            ns.names.push(name.clone());
            run(&["ip", "-n", &name, "link", "set", "lo", "up"]);
        }
        ns
    }
    pub fn name(&self, i: usize) -> &str {
        &self.names[i]
    }
    /// Inode of namespace `i`, as records carry it in `hdr.netns`.
    pub fn inode(&self, i: usize) -> u32 {
        std::fs::metadata(format!("/var/run/netns/{}", self.names[i]))
            .unwrap()
            .ino() as u32
    }
}

impl Drop for Namespaces {
    fn drop(&mut self) {
        for name in &self.names {
            let _ = Command::new("ip").args(["netns", "del", name]).status();
        }
    }
}

/// A veth pair between two namespaces, each end up with an address when
/// one is given ("" for a bridge port).
pub fn veth(ns_a: &str, dev_a: &str, addr_a: &str, ns_b: &str, dev_b: &str, addr_b: &str) {
    run(&[
        "ip", "link", "add", dev_a, "netns", ns_a, "type", "veth", "peer", "name", dev_b, "netns",
        ns_b,
    ]);
    for (ns, dev, addr) in [(ns_a, dev_a, addr_a), (ns_b, dev_b, addr_b)] {
        if !addr.is_empty() {
            run(&["ip", "-n", ns, "addr", "add", addr, "dev", dev]);
        }
        run(&["ip", "-n", ns, "link", "set", dev, "up"]);
    }
}

/// 192.0.2.8/27 and 192.0.2.40/27 are different /27s: route each end's
/// peer on-link through its device.
pub fn route_to(ns: &str, dev: &str, peer: &str) {
    run(&["ip", "-n", ns, "route", "add", peer, "dev", dev]);
}

/// Waits until `dev` in `ns` has its real qdisc (linkwatch activates it
/// asynchronously; until then the device drops what it is given).
pub fn wait_ready(ns: &str, dev: &str) {
    let end = Instant::now() + DEADLINE;
    while Instant::now() < end {
        let out = Command::new("ip")
            .args(["-n", ns, "-o", "link", "show", "dev", dev])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        if !text.contains("qdisc noop") && text.contains("state UP") {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("{dev} in {ns} did not come up");
}

/// Two namespaces joined by a veth pair with the seed's addresses:
/// namespace 0 has `a` (e.g. 192.0.2.8), namespace 1 has `b` (192.0.2.40).
pub fn seed_pair(test: &str, a: &str, b: &str) -> Namespaces {
    let ns = Namespaces::new(test, &["a", "b"]);
    let (da, db) = (
        format!("v{}a", std::process::id() % 100000),
        format!("v{}b", std::process::id() % 100000),
    );
    let (da, db) = (
        format!("{da}{}", &test[..test.len().min(3)]),
        format!("{db}{}", &test[..test.len().min(3)]),
    );
    veth(
        ns.name(0),
        &da,
        &format!("{a}/27"),
        ns.name(1),
        &db,
        &format!("{b}/27"),
    );
    route_to(ns.name(0), &da, b);
    route_to(ns.name(1), &db, a);
    wait_ready(ns.name(0), &da);
    wait_ready(ns.name(1), &db);
    ns
}

/// Runs `f` on a thread that has entered network namespace `ns`.
pub fn in_netns<T: Send + 'static>(
    ns: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> std::thread::JoinHandle<T> {
    let path = format!("/var/run/netns/{ns}");
    std::thread::spawn(move || {
        let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        // SAFETY: a valid namespace fd; affects only this thread.
        let r = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
        assert_eq!(r, 0, "setns {path}: {}", std::io::Error::last_os_error());
        f()
    })
}
