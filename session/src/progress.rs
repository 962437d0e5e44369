//! A progress line on stderr for long replays (indicatif): shown when
//! stderr is a terminal and the trace output is not (it would interleave
//! with the line), once a replay has taken a second, cleared at the end.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress {
    done: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// How long a replay runs before its progress is shown
/// (`RDTRACE_PROGRESS_AFTER_MS` changes it, for tests).
fn delay() -> Duration {
    std::env::var("RDTRACE_PROGRESS_AFTER_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map_or(Duration::from_secs(1), Duration::from_millis)
}

fn is_terminal(fd: i32) -> bool {
    // SAFETY: isatty only inspects the descriptor.
    unsafe { libc::isatty(fd) == 1 }
}

impl Progress {
    /// Watches `read` grow towards `total` bytes; None where no line is
    /// wanted (not a terminal, output on the terminal, size unknown).
    pub fn start(
        total: Option<u64>,
        read: Arc<AtomicU64>,
        output_to_file: bool,
    ) -> Option<Progress> {
        let total = total.filter(|t| *t > 0)?;
        let output_on_terminal = !output_to_file && is_terminal(1);
        if !is_terminal(2) || output_on_terminal {
            return None;
        }
        let done = Arc::new(AtomicBool::new(false));
        let stop = Arc::clone(&done);
        let thread = std::thread::Builder::new()
            .name("rdtrace-progress".into())
            .spawn(move || show(total, &read, &stop))
            .ok()?;
        Some(Progress {
            done,
            thread: Some(thread),
        })
    }
}

fn show(total: u64, read: &AtomicU64, done: &AtomicBool) {
    let started = Instant::now();
    let delay = delay();
    while started.elapsed() < delay {
        if done.load(Ordering::Relaxed) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr())
        .with_elapsed(started.elapsed());
    if let Ok(style) = ProgressStyle::with_template(
        "rdtrace: replaying {bytes}/{total_bytes} ({percent}%), {elapsed} so far, about {eta} left",
    ) {
        bar.set_style(style);
    }
    loop {
        bar.set_position(read.load(Ordering::Relaxed).min(total));
        if done.load(Ordering::Relaxed) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    bar.finish_and_clear();
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
