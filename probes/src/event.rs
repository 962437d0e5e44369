//! Event records as they arrive from the BPF ring buffer (or are built by the
//! replay source). Defined once here and once in `bpf/event.h`; a test checks
//! that the two layouts agree (`tests/event_layout.rs`).

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

/// `TcpEvent::dir` of a segment this host's TCP stack sent.
pub const DIR_SEND: u8 = 0;
/// `TcpEvent::dir` of a segment this host's TCP stack received.
pub const DIR_RECEIVE: u8 = 1;

/// One TCP segment, sent or received (`tcp:::send`, `tcp:::receive`; layout 1).
/// Multi-byte fields are host order. Addresses are network order as on the
/// wire, IPv4 in the first 4 bytes and the rest zero.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    /// Kernel socket (`skb->sk`) when the kernel has one at the hook, else 0.
    /// Always 0 in replay.
    pub sk: u64,
    /// Room to grow (socket state, more task fields); zero for now.
    pub reserved: [u8; 88],
}

impl Default for TcpEvent {
    fn default() -> Self {
        TcpEvent {
            hdr: EventHeader::default(),
            ifindex: 0,
            dir: 0,
            ipver: 0,
            tcp_offset: 0,
            tcp_flags: 0,
            saddr: [0; 16],
            daddr: [0; 16],
            laddr: [0; 16],
            raddr: [0; 16],
            ip_plength: 0,
            seq: 0,
            ack: 0,
            sport: 0,
            dport: 0,
            lport: 0,
            rport: 0,
            window: 0,
            checksum: 0,
            urgent: 0,
            ttl: 0,
            pad0: 0,
            pad1: 0,
            sk: 0,
            reserved: [0; 88],
        }
    }
}

/// Plain-old-data records that can be viewed as and read from raw bytes.
///
/// # Safety
/// Implementors are `#[repr(C)]`, have no implicit padding and accept every
/// bit pattern.
pub unsafe trait Record: Copy + Sized {
    /// The record's bytes, as the ring buffer carries them.
    fn as_bytes(&self) -> &[u8] {
        // SAFETY: Record types are repr(C) without implicit padding.
        unsafe {
            std::slice::from_raw_parts(
                self as *const Self as *const u8,
                std::mem::size_of::<Self>(),
            )
        }
    }
    /// Reads a record from the start of `bytes`; None when too short.
    fn read_from(bytes: &[u8]) -> Option<Self> {
        if bytes.len() < std::mem::size_of::<Self>() {
            return None;
        }
        // SAFETY: length checked; every bit pattern is valid; unaligned read.
        Some(unsafe { std::ptr::read_unaligned(bytes.as_ptr() as *const Self) })
    }
}

// SAFETY: both are repr(C), every field is an integer or byte array, and the
// explicit pad fields leave no implicit padding (checked by tests).
unsafe impl Record for EventHeader {}
unsafe impl Record for TcpEvent {}

/// The header of any record; None when `bytes` is shorter than a header.
pub fn header_of(bytes: &[u8]) -> Option<EventHeader> {
    EventHeader::read_from(bytes)
}

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
        let fields = size_of::<EventHeader>() + 4 + 4 + 4 * 16 + 3 * 4 + 7 * 2 + 2 + 4 + 8 + 88;
        assert_eq!(size_of::<TcpEvent>(), fields);
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
