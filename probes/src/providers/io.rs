//! The io provider: block device requests issued and completed
//! (`io:::start` on `block:block_rq_issue`, `io:::done` on
//! `block:block_rq_complete`), with dtrace-utils' `bufinfo_t`,
//! `devinfo_t` and `fileinfo_t`. Kernel part: `bpf/task.h`.
//!
//! The block layer does not know the file a request is for: every
//! `fileinfo_t` string is `<unknown>` (as dtrace-utils' buffer_head
//! translator). `b_blkno`/`b_lblkno` are 512-byte sectors; `b_flags` has
//! B_READ or B_WRITE, B_ASYNC unless the request is REQ_SYNC, and at done
//! B_DONE (and B_ERROR with `b_error` the errno). `dev_name` is the
//! driver of the disk's parent device or of the disk (`<none>` for
//! virtual disks such as loop devices), `dev_statname` the disk's name
//! with the partition number, `dev_pathname` `/dev/` and that. `wait-start`
//! and `wait-done` need kprobes: known and refused.

use super::task::{btf, hooks_of, missing, present, task_probe_defs, TaskProbe};
use super::{Hook, Provider};
use crate::catalog::ptr_args;
use rdtrace_lang::catalog::{ArgDef, ConstDef, ProbeDef};

pub const IO_START: u32 = 40;
pub const IO_DONE: u32 = 41;

fn io_args() -> Vec<ArgDef> {
    ptr_args(&["bufinfo_t", "devinfo_t", "fileinfo_t"])
}

const WAIT: &str = "Linux has no tracepoint where a thread starts or stops waiting for a block \
     request (without kprobes); sched:::sleep and io:::done show both ends";

const PROBES: &[TaskProbe] = &[
    present(
        IO_START,
        "start",
        io_args,
        &[btf("block_rq_issue", "task_block_rq_issue")],
    ),
    present(
        IO_DONE,
        "done",
        io_args,
        &[btf("block_rq_complete", "task_block_rq_complete")],
    ),
    missing(42, "wait-start", WAIT),
    missing(43, "wait-done", WAIT),
];

/// illumos's bufinfo_t flags (io.d).
pub const B_FLAGS: &[(&str, i64)] = &[
    ("B_BUSY", 0x1),
    ("B_DONE", 0x2),
    ("B_ERROR", 0x4),
    ("B_PAGEIO", 0x10),
    ("B_PHYS", 0x20),
    ("B_READ", 0x40),
    ("B_WRITE", 0x100),
    ("B_ASYNC", 0x400),
];

pub struct Io;

impl Provider for Io {
    fn name(&self) -> &'static str {
        "io"
    }
    fn probes(&self) -> Vec<ProbeDef> {
        task_probe_defs("io", PROBES)
    }
    fn hooks(&self, probe: u32, _socket_state: bool) -> Vec<Hook> {
        hooks_of(PROBES, probe)
    }
    fn constants(&self) -> Vec<ConstDef> {
        B_FLAGS
            .iter()
            .copied()
            .map(crate::catalog::int_const)
            .collect()
    }
}
