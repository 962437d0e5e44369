//! Event records as they arrive from the BPF ring buffer (or are built by the
//! replay source). Defined once here and once in `bpf/event.h`; a test checks
//! that the two layouts agree.

/// Common header at offset 0 of every record. Built-in variables such as
/// `cpu`, `pid`, `execname` and `timestamp` read from here.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventHeader {
    /// Live: `bpf_ktime_get_ns()` (CLOCK_MONOTONIC). Replay: capture time,
    /// nanoseconds since the epoch.
    pub ts_ns: u64,
    /// Catalog probe ID (`tcp:::send`, …) this record fires.
    pub probe: u32,
    pub cpu: u32,
    /// Current task (tgid, pid in Linux terms); 0 in softirq context and in replay.
    pub pid: u32,
    pub tid: u32,
    pub ppid: u32,
    pub uid: u32,
    pub gid: u32,
    /// Network namespace inode of the device the packet crossed.
    pub netns: u32,
    pub comm: [u8; 16],
}
