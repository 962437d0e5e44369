//! What every event source (live BPF, capture replay) offers the consumer.

use std::fmt;
use std::time::Duration;

/// Whose clock drives `timestamp` and `tick-N`: a property of the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// Live tracing: CLOCK_MONOTONIC, as `bpf_ktime_get_ns()`.
    Monotonic,
    /// Replay: the capture's packet timestamps; nothing sleeps.
    Capture,
}

/// Whether more events may come after a [`Source::poll`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Poll {
    /// Poll again for more.
    More,
    /// The source is exhausted: this call delivered the last records
    /// (possibly none); later polls deliver nothing.
    End,
}

/// A stream of event records (each starts with an
/// [`EventHeader`](crate::EventHeader); `hdr.probe` is the catalog id).
pub trait Source {
    /// The clock its timestamps follow.
    fn clock(&self) -> Clock;
    /// Delivers every record available now to `f`, waiting up to `timeout`
    /// when none is.
    fn poll(&mut self, timeout: Duration, f: &mut dyn FnMut(&[u8])) -> Result<Poll, ProbeError>;
    /// Records lost because the buffer was full, per CPU: (cpu, cumulative count).
    fn drops(&mut self) -> Vec<(u32, u64)>;
    /// Add to `hdr.ts_ns` to get nanoseconds since the epoch.
    fn wall_offset_ns(&self) -> i64;
    /// IDs of the loaded BPF programs (empty for replay); for tests.
    fn program_ids(&self) -> Vec<u32>;
    /// Stops new events (detaches kernel programs); records already
    /// buffered can still be polled. Nothing to do for replay.
    fn stop(&mut self) {}
    /// Replay: capture times of the first and the latest frame read so far,
    /// including frames that produced no event — the clock `tick-N` follows.
    fn capture_span_ns(&self) -> Option<(u64, u64)> {
        None
    }
    /// Warnings once the source is over (a replay: frames it could not
    /// decode, `--local` addresses that matched nothing).
    fn end_notices(&self) -> Vec<String> {
        Vec::new()
    }
    /// Live: the totals of the aggregations the kernel keeps, each key
    /// once with its total over CPUs since tracing began (the consumer
    /// folds what grew since it last asked). Readable after [`stop`].
    ///
    /// [`stop`]: Source::stop
    fn kernel_agg_totals(&mut self, _f: &mut dyn FnMut(&KernelAggKey, i64)) {}
    /// New keys the kernel could not keep (its table was full), per CPU,
    /// cumulative.
    fn kernel_agg_drops(&mut self) -> Vec<(u32, u64)> {
        Vec::new()
    }
}

/// A key of the kernel's aggregation totals: which update of the program
/// (`lang::kagg::KernelAggPlan::actions`), its integer key parts in order,
/// its char-array part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct KernelAggKey {
    pub action: u32,
    pub ints: [u64; 3],
    pub chars: [u8; 16],
}

/// What went wrong, for callers that react differently (exit codes, hints).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeErrorKind {
    /// Not allowed to load BPF programs (not root / no CAP_BPF+CAP_PERFMON).
    Permission,
    /// The kernel lacks BPF, BTF (/sys/kernel/btf/vmlinux) or a needed hook.
    Unsupported,
    /// The verifier rejected a program; the message ends with its log.
    Verifier,
    /// A program loaded but could not be attached to its hook.
    Attach,
    /// Bad option (unknown probe id, zero buffer size, …).
    Invalid,
    /// Reading a capture failed or the file is not a valid pcap/pcapng.
    Capture,
    /// Other I/O or system call failures.
    Io,
}

/// An error from a source, with a message that names the cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeError {
    pub kind: ProbeErrorKind,
    pub message: String,
}

impl ProbeError {
    pub fn new(kind: ProbeErrorKind, message: impl Into<String>) -> Self {
        ProbeError {
            kind,
            message: message.into(),
        }
    }
}

impl fmt::Display for ProbeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ProbeError {}
