//! Support for the provider tests: rdtrace running a script live while the
//! test drives traffic and waits for the lines it expects.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use crate::common::netns::{required, unavailable, DEADLINE};

/// Skips (returns true after saying why) or fails the test, when live
/// tracing cannot run here.
pub fn skip(why: &str) -> bool {
    if required() {
        panic!("RDTRACE_REQUIRE_BPF=1 but live tracing is unavailable: {why}");
    }
    eprintln!("skipping live test: {why}");
    true
}

/// A bundled test script's path.
pub fn script(name: &str) -> String {
    crate::common::repo_file(&format!("tests/provider_scripts/{name}"))
        .display()
        .to_string()
}

/// rdtrace running live, its stdout lines collected as they come. The
/// script prints `ready` from BEGIN, which fires once the probes are
/// attached. Killed when dropped.
pub struct Tracer {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
    stderr: Option<std::thread::JoinHandle<String>>,
}

impl Tracer {
    /// Starts `rdtrace args…` and waits for `ready`. None when live tracing
    /// is unavailable here (the test then passes, unless required).
    pub fn start(args: &[&str]) -> Option<Tracer> {
        if let Some(why) = unavailable() {
            skip(&why);
            return None;
        }
        let mut child = crate::common::rdtrace()
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run rdtrace");
        let (tx, lines) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut err = child.stderr.take().unwrap();
        let stderr = Some(std::thread::spawn(move || {
            let mut s = String::new();
            let _ = err.read_to_string(&mut s);
            s
        }));
        let mut t = Tracer {
            child,
            lines,
            seen: Vec::new(),
            stderr,
        };
        match t.lines.recv_timeout(DEADLINE) {
            Ok(l) if l == "ready" => Some(t),
            first => {
                let _ = t.child.kill();
                let status = t.child.wait().unwrap();
                let err = t.stderr.take().unwrap().join().unwrap_or_default();
                let why = format!("rdtrace did not start ({status}; first line {first:?}): {err}");
                // A tracer that could not load BPF skips; anything else is a bug.
                assert!(
                    err.contains("BPF") || err.contains("BTF") || err.contains("permission"),
                    "{why}"
                );
                skip(&why);
                None
            }
        }
    }

    /// Collects lines until `done` holds for all seen so far (or the
    /// deadline passes); returns them.
    pub fn wait_for(&mut self, done: impl Fn(&[String]) -> bool) -> &[String] {
        let end = Instant::now() + DEADLINE;
        while !done(&self.seen) {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            match self
                .lines
                .recv_timeout(left.min(Duration::from_millis(200)))
            {
                Ok(l) => self.seen.push(l),
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
        &self.seen
    }

    /// Stops rdtrace with SIGINT (it drains, runs END and exits) and
    /// returns every line it printed after `ready`, and its stderr.
    pub fn stop(mut self) -> (Vec<String>, String) {
        // SAFETY: signalling our own child process.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGINT) };
        let status = self.child.wait().unwrap();
        while let Ok(l) = self.lines.recv_timeout(Duration::from_secs(2)) {
            self.seen.push(l);
        }
        let err = self.stderr.take().unwrap().join().unwrap_or_default();
        assert!(status.success(), "rdtrace exited with {status}: {err}");
        (std::mem::take(&mut self.seen), err)
    }
}

impl Drop for Tracer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
