//! Attaching a loaded tracepoint program to a tracefs tracepoint with a
//! BPF cookie (aya 0.14 attaches tracepoints without one). The cookie is
//! the probe id: one program serves many tracepoints and asks
//! `bpf_get_attach_cookie` which probe fired. Syscall tracepoints cannot
//! say it otherwise: their context starts with a `pt_regs` pointer, not
//! the event's `common_type`.

use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// `perf_event_attr`, up to the fields used (the kernel accepts any known
/// size; PERF_ATTR_SIZE_VER0 is 64).
#[repr(C)]
#[derive(Default)]
struct PerfEventAttr {
    type_: u32,
    size: u32,
    config: u64,
    sample_period: u64,
    sample_type: u64,
    read_format: u64,
    flags: u64,
    wakeup_events: u32,
    bp_type: u32,
    config1: u64,
}

const PERF_TYPE_TRACEPOINT: u32 = 2;
const PERF_FLAG_FD_CLOEXEC: libc::c_ulong = 8;
const BPF_LINK_CREATE: libc::c_long = 28;
const BPF_PERF_EVENT: u32 = 41;

/// `union bpf_attr` as BPF_LINK_CREATE reads it for a perf event link.
#[repr(C)]
#[derive(Default)]
struct LinkCreateAttr {
    prog_fd: u32,
    target_fd: u32,
    attach_type: u32,
    flags: u32,
    bpf_cookie: u64,
    pad: [u64; 6],
}

/// An attachment: the perf event and the link; dropping it detaches.
pub struct TracepointLink {
    _perf: OwnedFd,
    _link: OwnedFd,
}

/// Attaches `prog` to the tracepoint whose tracefs event id is `event_id`,
/// with `cookie`.
pub fn attach(prog: BorrowedFd<'_>, event_id: u32, cookie: u64) -> std::io::Result<TracepointLink> {
    let attr = PerfEventAttr {
        type_: PERF_TYPE_TRACEPOINT,
        size: std::mem::size_of::<PerfEventAttr>() as u32,
        config: u64::from(event_id),
        sample_period: 1,
        wakeup_events: 1,
        ..PerfEventAttr::default()
    };
    // SAFETY: perf_event_open reads `size` bytes of a valid, initialised
    // attr; pid -1 with cpu 0 is how a tracepoint's BPF program is attached
    // for every CPU (the program hangs off the tracepoint, not the event).
    let fd = unsafe {
        libc::syscall(
            libc::SYS_perf_event_open,
            &attr as *const PerfEventAttr,
            -1 as libc::pid_t,
            0 as libc::c_int,
            -1 as libc::c_int,
            PERF_FLAG_FD_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: the syscall returned a new descriptor we now own.
    let perf = unsafe { OwnedFd::from_raw_fd(fd as i32) };
    let link_attr = LinkCreateAttr {
        prog_fd: prog.as_raw_fd() as u32,
        target_fd: perf.as_raw_fd() as u32,
        attach_type: BPF_PERF_EVENT,
        bpf_cookie: cookie,
        ..LinkCreateAttr::default()
    };
    // SAFETY: bpf(BPF_LINK_CREATE) reads `size` bytes of a valid attr.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            BPF_LINK_CREATE,
            &link_attr as *const LinkCreateAttr,
            std::mem::size_of::<LinkCreateAttr>() as libc::c_uint,
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: as above, a new descriptor.
    let link = unsafe { OwnedFd::from_raw_fd(fd as i32) };
    Ok(TracepointLink {
        _perf: perf,
        _link: link,
    })
}
