//! The providers' event records as they arrive from the BPF ring buffer (or
//! are built by the replay source), each after the common header of
//! `rdtrace-record`. Defined once here and once in `bpf/event.h`; a test
//! checks that the two layouts agree (`tests/event_layout.rs`).

pub use rdtrace_record::{header_of, EventHeader, Record};

/// `TcpEvent::dir` of a segment this host's TCP stack sent.
pub const DIR_SEND: u8 = 0;
/// `TcpEvent::dir` of a segment this host's TCP stack received.
pub const DIR_RECEIVE: u8 = 1;

/// What the kernel socket says about a TCP connection (`tcpsinfo_t`,
/// `tcplsinfo_t`, `csinfo_t.cs_pid`); all zero when the socket is unknown.
/// See `bpf/event.h` for each field's source and unit.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TcpSockState {
    /// Owning process when known, else 0.
    pub pid: i32,
    pub iss: u32,
    pub irs: u32,
    pub suna: u32,
    pub snxt: u32,
    /// rcv_wup: rcv_nxt when the last window update was sent.
    pub rack: u32,
    pub rnxt: u32,
    pub swnd: u32,
    pub rwnd: u32,
    /// Segments (Linux snd_cwnd).
    pub cwnd: u32,
    pub ssthresh: u32,
    pub sack_fack: u32,
    pub sack_snxt: u32,
    /// Milliseconds.
    pub rto: u32,
    pub mss: u32,
    pub retransmit: i32,
    /// Smoothed RTT and its deviation, milliseconds.
    pub rtt: i32,
    pub rtt_sd: i32,
    /// Linux TCP state, 0 when unknown.
    pub state: i32,
    /// state-change: the state left.
    pub prev_state: i32,
    pub active: u8,
    pub local: u8,
    pub snd_ws: u8,
    pub rcv_ws: u8,
    pub pad: u32,
}

/// One TCP segment or connection event (`tcp:::*`; layout 1).
/// Multi-byte fields are host order. Addresses are network order as on the
/// wire, IPv4 in the first 4 bytes and the rest zero.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TcpEvent {
    pub hdr: EventHeader,
    /// Interface the segment left by (send) or arrived on (receive).
    pub ifindex: i32,
    /// [`DIR_SEND`] or [`DIR_RECEIVE`].
    pub dir: u8,
    /// 4 or 6.
    pub ipver: u8,
    /// TCP header length in bytes (data offset × 4).
    pub tcp_offset: u8,
    /// TCP flags byte (FIN 0x01 … CWR 0x80).
    pub tcp_flags: u8,
    pub saddr: [u8; 16],
    pub daddr: [u8; 16],
    /// Local end: the source on send, the destination on receive.
    pub laddr: [u8; 16],
    /// Remote end: the destination on send, the source on receive.
    pub raddr: [u8; 16],
    /// IP payload length: IPv4 total length − header length, IPv6 payload
    /// length (extension headers included, as in DTrace). When the header
    /// says 0 (TSO/BIG TCP), derived from the packet length.
    pub ip_plength: u32,
    pub seq: u32,
    pub ack: u32,
    pub sport: u16,
    pub dport: u16,
    pub lport: u16,
    pub rport: u16,
    /// Raw (unscaled) window.
    pub window: u16,
    pub checksum: u16,
    pub urgent: u16,
    /// IPv4 TTL or IPv6 hop limit.
    pub ttl: u8,
    pub pad0: u8,
    pub pad1: u32,
    /// The connection's kernel socket when known, else 0 (always in replay).
    pub sk: u64,
    pub sock: TcpSockState,
}

/// One IPv4 or IPv6 packet (`ip:::send`, `ip:::receive`; layout 2).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IpEvent {
    pub hdr: EventHeader,
    pub ifindex: i32,
    pub dir: u8,
    pub ipver: u8,
    /// IPv4 protocol / IPv6 next header.
    pub protocol: u8,
    /// The device is a loopback device.
    pub if_local: i8,
    pub saddr: [u8; 16],
    pub daddr: [u8; 16],
    pub ip_plength: u32,
    pub v6_flow: u32,
    pub v4_length: u16,
    pub v4_ident: u16,
    /// Fragment offset in 8-byte units.
    pub v4_offset: u16,
    pub v4_checksum: u16,
    pub v6_plen: u16,
    /// Header length in bytes.
    pub v4_ihl: u8,
    pub v4_tos: u8,
    /// `IPH_DF` 0x40, `IPH_MF` 0x20.
    pub v4_flags: u8,
    pub ttl: u8,
    pub v6_tclass: u8,
    pub pad0: u8,
    pub sk: u64,
    /// The `struct net_device` address.
    pub dev: u64,
    pub if_name: [u8; 16],
    /// illumos's name of `protocol` (`TCP`, `ICMPv6`, …), NUL-padded.
    pub protostr: [u8; 8],
    pub reserved: [u8; 32],
}

/// One UDP datagram (`udp:::send`, `udp:::receive`; layout 3).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UdpEvent {
    pub hdr: EventHeader,
    pub ifindex: i32,
    pub dir: u8,
    pub ipver: u8,
    pub ttl: u8,
    pub pad0: u8,
    pub saddr: [u8; 16],
    pub daddr: [u8; 16],
    pub laddr: [u8; 16],
    pub raddr: [u8; 16],
    pub ip_plength: u32,
    pub sport: u16,
    pub dport: u16,
    pub lport: u16,
    pub rport: u16,
    /// The UDP header's length field (header included).
    pub length: u16,
    pub checksum: u16,
    pub sk: u64,
}

/// One system call entry or return (`syscall::NAME:entry/return`; layout
/// 4), followed by `captures` bytes of user memory read when the probe
/// fired (a [`CaptureHeader`] and its bytes, each padded to 8).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyscallEvent {
    pub hdr: EventHeader,
    /// Entry: the argument registers. Return: `args[0]` = `args[1]` = the
    /// return value.
    pub args: [u64; 6],
    /// Return: `-ret` when `-2048 < ret < 0` (as dtrace-utils), else 0.
    pub err: i32,
    /// Bytes of captures after the record.
    pub captures: u32,
}

pub use rdtrace_record::{CaptureHeader, CAPTURE_FAULT, CAPTURE_OK};

/// `psinfo_t` and `lwpsinfo_t` of one thread, read in the kernel when the
/// probe fired (`bpf/task.h`'s `read_task_info`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskInfo {
    /// The task_struct's address (`pr_addr`).
    pub addr: u64,
    /// Start time, ns since boot.
    pub start_ns: u64,
    /// On-CPU time, ns (`vtimestamp`).
    pub vtime_ns: u64,
    pub pid: i32,
    pub ppid: i32,
    pub pgid: i32,
    pub sid: i32,
    pub uid: u32,
    pub euid: u32,
    pub gid: u32,
    pub egid: u32,
    pub lwpid: i32,
    pub pri: i32,
    pub nlwp: i32,
    pub onpro: i32,
    pub flag: i32,
    /// illumos's SSLEEP 1, SRUN 2, SZOMB 3, SSTOP 4, SONPROC 6, SWAIT 7.
    pub state: u8,
    /// The state's letter.
    pub sname: u8,
    pub dmodel: u8,
    pub pad: u8,
    pub fname: [u8; 16],
    /// The command line, arguments separated by spaces.
    pub psargs: [u8; PSARGS],
    /// Scheduling class: `TS`, `RT`, `DL` or `IA`.
    pub clname: [u8; 8],
}

/// `pr_psargs`' size, as illumos's PRARGSZ.
pub const PSARGS: usize = 80;
/// Bytes of [`TaskEvent::raw`].
pub const RAW_MAX: usize = 512;

/// A proc, sched, io or sdt probe (layout 5): the thread it fires for
/// (`hdr`, `cur`), the one an argument points to (`other`), integer
/// arguments, and the tracepoint's record (sdt), the exec path
/// (proc:::exec) or an [`IoInfo`] (io) in `raw`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskEvent {
    pub hdr: EventHeader,
    pub args: [i64; 6],
    /// The CPU's package (`cpu_chip`) and NUMA node (`cpu_lgrp`).
    pub chip: i32,
    pub lgrp: i32,
    /// Bytes of `raw` filled.
    pub raw_len: u32,
    /// Bytes of captures (stacks) after the whole record.
    pub captures: u32,
    pub cur: TaskInfo,
    pub other: TaskInfo,
    pub raw: [u8; RAW_MAX],
}

/// An io probe's request (`bufinfo_t`, `devinfo_t`), at the start of
/// [`TaskEvent::raw`].
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IoInfo {
    pub blkno: u64,
    pub bcount: u64,
    pub resid: u64,
    /// illumos's B_READ, B_WRITE, B_ASYNC, B_DONE, B_ERROR.
    pub flags: i32,
    pub error: i32,
    /// dev_t of the partition, major << 20 | minor.
    pub dev: u32,
    pub major: i32,
    pub minor: i32,
    pub pad: i32,
    pub name: [u8; 32],
    pub statname: [u8; 40],
    pub pathname: [u8; 48],
    /// "<unknown>", for fileinfo_t's strings.
    pub unknown: [u8; 16],
}

/// `TpProbe::flags` of sdt and proc:::exec probes: read the command line
/// (curpsinfo->pr_psargs); the low 16 bits are the program's parameter.
pub const TASK_PSARGS: u32 = 1 << 16;
/// `TpProbe::flags` / `NrProbe` flags of a syscall probe whose clauses read
/// `curpsinfo` or `curlwpsinfo`: its record's first capture is a
/// [`TaskInfo`] of capture site [`TASK_SITE`].
pub const TASK_INFO: u32 = 1 << 17;
pub const TASK_SITE: u16 = 0xffff;
/// Flags of a probe whose clauses use `stack()` / `ustack()`: the record's
/// captures hold the frames (site [`KSTACK_SITE`] / [`USTACK_SITE`]).
pub const KSTACK: u32 = 1 << 18;
pub const USTACK: u32 = 1 << 19;
/// tp_probes / nr_probe flags of a syscall probe: it has a
/// `probe_filters` entry; it has a `kagg_plans` entry.
pub const FILTERED: u32 = 1 << 20;
pub const KAGG: u32 = 1 << 21;
pub const KSTACK_SITE: u16 = 0xfffe;
pub const USTACK_SITE: u16 = 0xfffd;
/// The most frames a captured stack has.
pub const MAX_FRAMES: u32 = 127;

/// A `profile-N` sample (layout 6): the interrupted PCs (`arg0` kernel, 0
/// in user mode; `arg1` user, 0 for a kernel thread), then `captures`
/// bytes of stacks.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProfileEvent {
    pub hdr: EventHeader,
    pub kpc: u64,
    pub upc: u64,
    pub captures: u32,
    pub pad: u32,
}
/// `TpProbe::flags` of an sdt probe whose record has `__data_loc` strings
/// (after its fixed fields, whose size is the low bits).
pub const SDT_DYNAMIC: u32 = 0x8000;

/// `TpProbe::flags`: keep the entry's arguments for its return probe's
/// captures.
pub const SAVE_ENTRY_ARGS: u32 = 1;
/// `TpProbe::flags >> NARGS_SHIFT`: the entry's number of arguments (the
/// program copies only those: a tracepoint's record ends after them).
pub const NARGS_SHIFT: u32 = 8;

/// A tracepoint probe's entry in `tp_probes` (`bpf/syscall.h`), keyed by
/// the probe id (the cookie its tracepoint was attached with).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TpProbe {
    pub probe: u32,
    pub flags: u32,
}

/// Where a capture's address or length comes from (`RDT_FROM_*`).
pub mod from {
    /// The length is `len_max` itself.
    pub const CONST: u8 = 0;
    /// The u64 at a record offset of the event.
    pub const RECORD: u8 = 1;
    /// The u64 at a record offset of this call's entry record.
    pub const ENTRY: u8 = 2;
}

/// `CaptureSite::kind`: copyinstr (up to a NUL).
pub const COPY_STR: u8 = 1;
/// `CaptureSite::kind`: copyin (a length of bytes).
pub const COPY_BYTES: u8 = 2;
/// Capture sites per probe.
pub const MAX_CAPTURES: usize = 4;
/// Bytes of one capture at most.
pub const CAPTURE_MAX: u32 = 4096;

/// One piece of user memory a probe copies when it fires.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CaptureSite {
    pub site: u16,
    pub kind: u8,
    pub addr_from: u8,
    pub addr_off: u16,
    pub len_from: u8,
    pub pad: u8,
    pub len_off: u16,
    pub pad2: u16,
    pub len_max: u32,
}

/// A probe's captures (`capture_plans` map, keyed by probe id).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CapturePlanMap {
    pub n: u32,
    pub pad: u32,
    pub sites: [CaptureSite; MAX_CAPTURES],
}

/// The probes of one syscall number in raw_syscalls mode (`nr_probes`
/// map of `bpf/syscall.h`, indexed by the number; 0: not traced).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NrProbe {
    pub entry: u32,
    pub ret: u32,
    /// [`SAVE_ENTRY_ARGS`] when the return's captures read the entry's
    /// arguments; [`TASK_INFO`], [`TASK_PSARGS`].
    pub entry_flags: u32,
    /// [`TASK_INFO`], [`TASK_PSARGS`] of the return probe.
    pub ret_flags: u32,
}

impl NrProbe {
    /// The value as the loader writes a table row.
    pub fn words(self) -> [u32; 4] {
        [self.entry, self.ret, self.entry_flags, self.ret_flags]
    }
}

/// One condition of a [`ProbeFilter`] (`bpf/filter.h`).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FilterCond {
    pub offset: u16,
    pub size: u8,
    /// [`COND_SIGNED`], [`COND_UNSIGNED`].
    pub flags: u8,
    /// [`filter_op`].
    pub op: u8,
    pub pad: [u8; 3],
    pub value: i64,
}

pub const COND_SIGNED: u8 = 1;
pub const COND_UNSIGNED: u8 = 2;

/// The comparison operators of a [`FilterCond`].
pub mod filter_op {
    pub const EQ: u8 = 0;
    pub const NE: u8 = 1;
    pub const LT: u8 = 2;
    pub const LE: u8 = 3;
    pub const GT: u8 = 4;
    pub const GE: u8 = 5;
}

/// The `probe_filters` map value: conditions a probe's records must meet
/// to be sent.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProbeFilter {
    pub n: u32,
    pub pad: u32,
    pub conds: [FilterCond; 4],
}

/// Updates of one probe the kernel performs (`bpf/kagg.h`).
pub const KAGG_PER_PROBE: usize = 4;
/// Probe ids below this (syscall probes) have array-indexed maps (`kagg_plans`, `low_probe_filters`).
pub const LOW_PROBES: u32 = 4096;
/// Key parts (and integer parts) of one kernel update.
pub const KAGG_PARTS: usize = 4;
pub const KAGG_INTS: usize = 3;
/// [`KaggField::kind`]: an integer field, or 16 bytes of a char array.
pub const KPART_INT: u8 = 1;
pub const KPART_CHARS: u8 = 2;
/// [`KaggAction::value_kind`]: count (1), a constant, a field.
pub const KVAL_ONE: u8 = 0;
pub const KVAL_CONST: u8 = 1;
pub const KVAL_FIELD: u8 = 2;

/// A record field a kernel update reads.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KaggField {
    pub offset: u16,
    pub kind: u8,
    pub size: u8,
    pub sign: u8,
    pub pad: [u8; 3],
}

/// One `@a[parts] = count()/sum(value)` the kernel performs.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KaggAction {
    /// The totals' key: index into the program's kernel updates.
    pub id: u32,
    pub nparts: u8,
    pub value_kind: u8,
    pub pad: [u8; 2],
    pub value: KaggField,
    pub value_const: i64,
    pub parts: [KaggField; KAGG_PARTS],
}

/// [`KaggPlan::needs`]: header fields read beyond pid, tid, probe, cpu.
pub const KNEED_IDS: u32 = 1;
pub const KNEED_PPID: u32 = 2;
pub const KNEED_COMM: u32 = 4;
pub const KNEED_ALL: u32 = 7;
/// A key part or value other than the task's name, the probe id and
/// constants, or a filter: the kernel builds the record to aggregate.
pub const KNEED_RECORD: u32 = 8;

/// The `kagg_plans` map value: a probe's kernel updates.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KaggPlan {
    pub n: u32,
    /// The [`KNEED_IDS`] … bits.
    pub needs: u32,
    pub actions: [KaggAction; KAGG_PER_PROBE],
}

/// The `kagg_totals` key (per-CPU values: the running total).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct KaggKey {
    pub action: u32,
    pub pad: u32,
    pub ints: [u64; KAGG_INTS],
    pub chars: [u8; 16],
}

/// Syscall numbers the `nr_probes` table has room for.
pub const MAX_SYSCALL_NR: u32 = 1024;

// SAFETY: repr(C) integers without implicit padding (checked by
// tests/event_layout.rs): every bit pattern is valid.
unsafe impl aya::Pod for TpProbe {}
// SAFETY: as above.
unsafe impl aya::Pod for CaptureSite {}
// SAFETY: as above.
unsafe impl aya::Pod for CapturePlanMap {}
// SAFETY: as above.
unsafe impl aya::Pod for ProbeFilter {}
// SAFETY: as above.
unsafe impl aya::Pod for KaggPlan {}
// SAFETY: as above.
unsafe impl aya::Pod for KaggKey {}

// SAFETY: repr(C), every field an integer or byte array, explicit pad
// fields and no implicit padding (checked by tests/event_layout.rs).
unsafe impl Record for TcpEvent {}
// SAFETY: repr(C), integers only, no implicit padding (56 + 48 + 8 bytes;
// checked by tests/event_layout.rs).
unsafe impl Record for SyscallEvent {}

// SAFETY: repr(C), every field an integer or byte array, explicit pad
// fields and no implicit padding (checked by tests/event_layout.rs).
unsafe impl Record for IpEvent {}
// SAFETY: repr(C), every field an integer, byte array or TaskInfo (the
// same), explicit pad fields, no implicit padding (tests/event_layout.rs).
unsafe impl Record for TaskEvent {}
// SAFETY: repr(C) integers, explicit pad (tests/event_layout.rs).
unsafe impl Record for ProfileEvent {}
// SAFETY: repr(C), every field an integer or byte array, explicit pad
// fields and no implicit padding (checked by tests/event_layout.rs).
unsafe impl Record for UdpEvent {}

impl TcpEvent {
    /// Source address as a std type (by `ipver`).
    pub fn src_ip(&self) -> std::net::IpAddr {
        ip_of(self.ipver, &self.saddr)
    }
    /// Destination address as a std type (by `ipver`).
    pub fn dst_ip(&self) -> std::net::IpAddr {
        ip_of(self.ipver, &self.daddr)
    }
    /// TCP payload bytes carried (`ip_plength - tcp_offset`, never negative).
    pub fn payload_len(&self) -> u32 {
        self.ip_plength.saturating_sub(self.tcp_offset as u32)
    }
}

fn ip_of(ver: u8, a: &[u8; 16]) -> std::net::IpAddr {
    if ver == 4 {
        std::net::IpAddr::from([a[0], a[1], a[2], a[3]])
    } else {
        std::net::IpAddr::from(*a)
    }
}

/// Stores `ip` the way records carry addresses: IPv4 in the first 4 bytes.
pub fn addr_bytes(ip: std::net::IpAddr) -> [u8; 16] {
    let mut out = [0u8; 16];
    match ip {
        std::net::IpAddr::V4(v4) => out[..4].copy_from_slice(&v4.octets()),
        std::net::IpAddr::V6(v6) => out = v6.octets(),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{offset_of, size_of};

    #[test]
    fn no_implicit_padding() {
        assert_eq!(size_of::<EventHeader>(), 56);
        let sock = 4 + 14 * 4 + 3 * 4 + 2 * 4 + 4 + 4;
        assert_eq!(size_of::<TcpSockState>(), sock);
        let fields = size_of::<EventHeader>() + 4 + 4 + 4 * 16 + 3 * 4 + 7 * 2 + 2 + 4 + 8 + sock;
        assert_eq!(size_of::<TcpEvent>(), fields);
        let ip = size_of::<EventHeader>() + 8 + 32 + 8 + 10 + 6 + 16 + 16 + 8 + 32;
        assert_eq!(size_of::<IpEvent>(), ip);
        let udp = size_of::<EventHeader>() + 8 + 64 + 4 + 12 + 8;
        assert_eq!(size_of::<UdpEvent>(), udp);
        assert_eq!(size_of::<TcpEvent>() % 8, 0);
        assert_eq!(offset_of!(TcpEvent, hdr), 0);
    }

    #[test]
    fn bytes_round_trip() {
        let mut e = TcpEvent::default();
        e.hdr.probe = 4;
        e.seq = 0xdead_beef;
        e.saddr = addr_bytes("192.0.2.8".parse().unwrap());
        e.ipver = 4;
        let back = TcpEvent::read_from(e.as_bytes()).unwrap();
        assert_eq!(back, e);
        assert_eq!(back.src_ip().to_string(), "192.0.2.8");
        assert_eq!(header_of(e.as_bytes()).unwrap().probe, 4);
        assert!(TcpEvent::read_from(&e.as_bytes()[..100]).is_none());
    }
}
