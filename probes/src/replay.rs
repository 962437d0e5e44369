//! Replays a packet capture (pcap or pcapng) as the tcp, ip and udp
//! providers' events, in records identical to the live ones.
//!
//! A packet whose source address is local is a send, one whose destination
//! is local a receive; both local (loopback) gives both, send first.
//! Timestamps are the capture's (epoch ns), cpu is 0, and the task fields,
//! netns, ifindex, device and socket are 0 (if_name empty). The tcp
//! provider's connection probes and tcpsinfo_t come from following each
//! connection through its segments (`replay_tcp.rs`). Frames that no
//! enabled provider can use (non-IP, unknown link types, truncated before
//! the end of the transport header a tcp/udp probe needs, non-first
//! fragments for them) are skipped and counted.

use crate::catalog::{IP_RECEIVE, IP_SEND, TCP_ACCEPT_REFUSED, TCP_SEND, UDP_RECEIVE, UDP_SEND};
use crate::event::{addr_bytes, IpEvent, Record, TcpEvent, UdpEvent, DIR_RECEIVE, DIR_SEND};
use crate::providers::ip::protocol_name;
use crate::replay_tcp::TcpTracker;
use etherparse::{
    EtherType, LaxNetSlice, LaxSlicedPacket, LinuxSllProtocolType, LinuxSllSlice, TransportSlice,
};
use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionOption;
use pcap_file::pcapng::{Block, PcapNgReader};
use pcap_file::{DataLink, PcapError, TsResolution};
use rdtrace_record::{Clock, Poll, ProbeError, ProbeErrorKind, Source};
use std::io::{BufReader, Read};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

/// Packets turned into events per [`Source::poll`] call, to bound the work
/// done between the consumer's other duties.
const PACKETS_PER_POLL: usize = 4096;

/// How the bytes of one captured frame begin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Link {
    Ethernet,
    LinuxSll,
    LinuxSll2,
    /// Starts with the IP header.
    RawIp,
    /// BSD loopback: a 4-byte address family, then IP.
    Null,
    /// Another link type (its LINKTYPE_ number): frames are counted.
    Unsupported(u32),
}

/// The link "type" of a pcapng packet with no interface described.
const NO_INTERFACE: u32 = u32::MAX;

fn link_of(dl: DataLink) -> Link {
    match dl {
        DataLink::ETHERNET => Link::Ethernet,
        DataLink::LINUX_SLL => Link::LinuxSll,
        DataLink::LINUX_SLL2 => Link::LinuxSll2,
        // DLT_RAW is 12 or 14 on some BSDs (LINKTYPE_RAW 101 everywhere).
        DataLink::RAW
        | DataLink::IPV4
        | DataLink::IPV6
        | DataLink::Unknown(12)
        | DataLink::Unknown(14) => Link::RawIp,
        DataLink::NULL | DataLink::LOOP => Link::Null,
        other => Link::Unsupported(u32::from(other)),
    }
}

/// One pcapng interface: its link type and timestamp scale.
#[derive(Debug, Clone, Copy)]
struct Interface {
    link: Link,
    /// `if_tsresol`: high bit clear → 10^-n s per unit, set → 2^-n.
    tsresol: u8,
    /// `if_tsoffset`, seconds.
    tsoffset: u64,
}

impl Interface {
    fn ns(&self, units: u128) -> u64 {
        let r = (self.tsresol & 0x7f) as u32;
        let ns = if self.tsresol & 0x80 != 0 {
            (units * 1_000_000_000) >> r.min(127)
        } else if r >= 9 {
            units / 10u128.pow((r - 9).min(38))
        } else {
            units * 10u128.pow(9 - r)
        };
        (ns as u64).saturating_add(self.tsoffset.saturating_mul(1_000_000_000))
    }
}

enum Reader {
    Pcap {
        reader: crate::replay_pcap::PcapStream,
        link: Link,
        nanos: bool,
    },
    PcapNg {
        reader: PcapNgReader<BufReader<Box<dyn Read>>>,
        interfaces: Vec<Interface>,
    },
    /// While `poll` holds the reader (frames borrow its buffer).
    Taken,
}

/// One frame from the capture, with what is needed to decode it. A
/// classic pcap frame borrows the reader's buffer: copying each frame
/// (and its allocation) was ~10% of a replay with payloads.
struct Frame<'a> {
    ts_ns: u64,
    link: Link,
    data: std::borrow::Cow<'a, [u8]>,
}

/// A [`Source`] reading a capture file.
pub struct ReplaySource {
    path: PathBuf,
    reader: Reader,
    locals: Vec<IpAddr>,
    probes: Vec<u32>,
    tcp: TcpTracker,
    /// Frames read so far (1-based number of the last one), for messages.
    frames: u64,
    skipped: u64,
    not_local: u64,
    /// Packets from or to a local address.
    local: u64,
    /// Frames of link types rdtrace does not decode, per LINKTYPE_ number.
    unsupported_links: std::collections::BTreeMap<u32, u64>,
    /// Bytes of the capture read so far.
    bytes_read: Arc<AtomicU64>,
    ended: bool,
    /// Capture times of the first and the latest frame read, events or not.
    span: Option<(u64, u64)>,
}

impl ReplaySource {
    /// Opens `path` (pcap or pcapng, detected by content). `locals` are this
    /// host's addresses (which decide send vs. receive); `probes` the catalog
    /// ids to produce (others are ignored).
    pub fn open(
        path: impl AsRef<Path>,
        locals: &[IpAddr],
        probes: &[u32],
    ) -> Result<ReplaySource, ProbeError> {
        Self::open_interruptible(path, locals, probes, &|| false)
    }

    /// [`ReplaySource::open`], giving up when `interrupted` says so while
    /// the capture (a FIFO, a pipe) has no data yet.
    pub fn open_interruptible(
        path: impl AsRef<Path>,
        locals: &[IpAddr],
        probes: &[u32],
        interrupted: &dyn Fn() -> bool,
    ) -> Result<ReplaySource, ProbeError> {
        let path = path.as_ref().to_path_buf();
        if locals.is_empty() {
            return Err(ProbeError::new(
                ProbeErrorKind::Invalid,
                "replay needs the capturing host's local addresses to tell sends from receives",
            ));
        }
        let io_err = |e: std::io::Error| {
            ProbeError::new(ProbeErrorKind::Capture, format!("{}: {e}", path.display()))
        };
        // Read once (a pipe, `-` for stdin, /dev/stdin or <(…) cannot be
        // opened twice): the magic, then the rest after it.
        let bytes_read = Arc::new(AtomicU64::new(0));
        let mut input =
            crate::replay_input::open_counted(&path, interrupted, Arc::clone(&bytes_read))
                .map_err(|e| match e {
                    crate::replay_input::OpenError::Io(e) => io_err(e),
                    crate::replay_input::OpenError::Interrupted => ProbeError::new(
                        ProbeErrorKind::Capture,
                        format!(
                            "{}: interrupted before the capture had any data",
                            path.display()
                        ),
                    ),
                })?;
        let mut magic = [0u8; 4];
        input.read_exact(&mut magic).map_err(|e| {
            if e.kind() == std::io::ErrorKind::UnexpectedEof {
                capture_err(&path, "file is too short to be a pcap or pcapng capture")
            } else {
                io_err(e)
            }
        })?;
        let rest: Box<dyn Read> = Box::new(std::io::Cursor::new(magic).chain(input));
        let reader = match u32::from_le_bytes(magic) {
            0x0A0D_0D0A => {
                let reader =
                    PcapNgReader::new(BufReader::new(rest)).map_err(|e| pcap_err(&path, 0, e))?;
                Reader::PcapNg {
                    reader,
                    interfaces: Vec::new(),
                }
            }
            0xA1B2_C3D4 | 0xD4C3_B2A1 | 0xA1B2_3C4D | 0x4D3C_B2A1 => {
                let reader =
                    crate::replay_pcap::PcapStream::new(rest).map_err(|e| pcap_err(&path, 0, e))?;
                let header = reader.header();
                let nanos = header.ts_resolution == TsResolution::NanoSecond;
                Reader::Pcap {
                    link: link_of(header.datalink),
                    reader,
                    nanos,
                }
            }
            m => {
                return Err(capture_err(
                    &path,
                    &format!(
                        "not a pcap or pcapng capture (starts with 0x{:08x})",
                        m.swap_bytes()
                    ),
                ))
            }
        };
        Ok(ReplaySource {
            path,
            reader,
            locals: locals.to_vec(),
            probes: probes.to_vec(),
            tcp: TcpTracker::new(probes),
            frames: 0,
            skipped: 0,
            not_local: 0,
            local: 0,
            unsupported_links: Default::default(),
            bytes_read,
            ended: false,
            span: None,
        })
    }

    /// The count of the capture's bytes read so far, updated as it is read
    /// (a progress line watches it from another thread).
    pub fn bytes_read(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.bytes_read)
    }

    /// Frames that no enabled provider could use (see the module docs).
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    /// Packets neither from nor to a local address (not events).
    pub fn not_local(&self) -> u64 {
        self.not_local
    }

    /// The next frame, None at the end of the capture.
    fn next_frame<'a>(&mut self, reader: &'a mut Reader) -> Result<Option<Frame<'a>>, ProbeError> {
        loop {
            let n = self.frames + 1;
            match reader {
                Reader::Pcap {
                    reader,
                    link,
                    nanos,
                } => {
                    let Some(raw) = reader.next_raw_packet() else {
                        return Ok(None);
                    };
                    let raw = raw.map_err(|e| pcap_err(&self.path, n, e))?;
                    self.frames = n;
                    let frac = if *nanos {
                        raw.ts_frac as u64
                    } else {
                        raw.ts_frac as u64 * 1000
                    };
                    let ts_ns = (raw.ts_sec as u64) * 1_000_000_000 + frac;
                    return Ok(Some(Frame {
                        ts_ns,
                        link: *link,
                        data: raw.data,
                    }));
                }
                Reader::PcapNg { reader, interfaces } => {
                    let Some(block) = reader.next_block() else {
                        return Ok(None);
                    };
                    let block = block.map_err(|e| pcap_err(&self.path, n, e))?;
                    match block {
                        Block::SectionHeader(_) => interfaces.clear(),
                        Block::InterfaceDescription(idb) => {
                            let mut iface = Interface {
                                link: link_of(idb.linktype),
                                tsresol: 6,
                                tsoffset: 0,
                            };
                            for opt in &idb.options {
                                match opt {
                                    InterfaceDescriptionOption::IfTsResol(r) => iface.tsresol = *r,
                                    InterfaceDescriptionOption::IfTsOffset(o) => {
                                        iface.tsoffset = *o
                                    }
                                    _ => {}
                                }
                            }
                            interfaces.push(iface);
                        }
                        Block::EnhancedPacket(epb) => {
                            self.frames = n;
                            let iface = interfaces.get(epb.interface_id as usize).copied();
                            let Some(iface) = iface else {
                                return Err(capture_err(
                                    &self.path,
                                    &format!(
                                        "packet {n} names interface {} that was never described",
                                        epb.interface_id
                                    ),
                                ));
                            };
                            // pcap-file hands over the raw timestamp units as nanoseconds.
                            let ts_ns = iface.ns(epb.timestamp.as_nanos());
                            return Ok(Some(Frame {
                                ts_ns,
                                link: iface.link,
                                data: epb.data.into_owned().into(),
                            }));
                        }
                        Block::Packet(pb) => {
                            self.frames = n;
                            let iface = interfaces.get(pb.interface_id as usize).copied();
                            let Some(iface) = iface else {
                                return Err(capture_err(
                                    &self.path,
                                    &format!(
                                        "packet {n} names interface {} that was never described",
                                        pb.interface_id
                                    ),
                                ));
                            };
                            let ts_ns = iface.ns(pb.timestamp as u128);
                            return Ok(Some(Frame {
                                ts_ns,
                                link: iface.link,
                                data: pb.data.into_owned().into(),
                            }));
                        }
                        Block::SimplePacket(spb) => {
                            // No timestamp and always interface 0.
                            self.frames = n;
                            let link = interfaces
                                .first()
                                .map_or(Link::Unsupported(NO_INTERFACE), |i| i.link);
                            return Ok(Some(Frame {
                                ts_ns: 0,
                                link,
                                data: spb.data.into_owned().into(),
                            }));
                        }
                        _ => {}
                    }
                }
                Reader::Taken => return Ok(None),
            }
        }
    }

    /// Up to PACKETS_PER_POLL frames of `reader` (taken out of `self`
    /// meanwhile) turned into events.
    fn poll_frames(
        &mut self,
        reader: &mut Reader,
        f: &mut dyn FnMut(&[u8]),
    ) -> Result<Poll, ProbeError> {
        for _ in 0..PACKETS_PER_POLL {
            match self.next_frame(reader)? {
                Some(frame) => {
                    let first = self.span.map_or(frame.ts_ns, |(first, _)| first);
                    self.span = Some((first, frame.ts_ns));
                    self.emit(&frame, f)
                }
                None => {
                    self.ended = true;
                    return Ok(Poll::End);
                }
            }
        }
        Ok(Poll::More)
    }

    fn on(&self, probe: u32) -> bool {
        self.probes.contains(&probe)
    }

    /// Emits the events of one frame; counts it when no enabled provider
    /// can use it, or when it is not local.
    fn emit(&mut self, frame: &Frame, f: &mut dyn FnMut(&[u8])) {
        if let Link::Unsupported(n) = frame.link {
            *self.unsupported_links.entry(n).or_insert(0) += 1;
        }
        let Some(pkt) = decode(frame) else {
            self.skipped += 1;
            return;
        };
        let ip_on = self.on(IP_SEND) || self.on(IP_RECEIVE);
        let tcp_on = self
            .probes
            .iter()
            .any(|p| (TCP_SEND..=TCP_ACCEPT_REFUSED).contains(p));
        let udp_on = self.on(UDP_SEND) || self.on(UDP_RECEIVE);
        let usable = ip_on
            || match pkt.transport {
                Transport::Tcp(_) => tcp_on,
                Transport::Udp { .. } => udp_on,
                Transport::Other => false,
            };
        if !usable {
            self.skipped += 1;
            return;
        }
        let src_local = self.locals.contains(&ip_of(pkt.ipver, &pkt.saddr));
        let dst_local = self.locals.contains(&ip_of(pkt.ipver, &pkt.daddr));
        if src_local || dst_local {
            self.local += 1;
        }
        if !src_local && !dst_local {
            self.not_local += 1;
            return;
        }
        for (dir, local) in [(DIR_SEND, src_local), (DIR_RECEIVE, dst_local)] {
            if !local {
                continue;
            }
            let send = dir == DIR_SEND;
            if self.on(if send { IP_SEND } else { IP_RECEIVE }) {
                f(ip_event(&pkt, dir).as_bytes());
            }
            match pkt.transport {
                Transport::Tcp(seg) if tcp_on => {
                    let mut ev = seg;
                    ev.dir = dir;
                    (ev.laddr, ev.raddr, ev.lport, ev.rport) =
                        local_remote(dir, (ev.saddr, ev.sport), (ev.daddr, ev.dport));
                    self.tcp.segment(ev, f);
                }
                Transport::Udp { .. } if self.on(if send { UDP_SEND } else { UDP_RECEIVE }) => {
                    f(udp_event(&pkt, dir).as_bytes());
                }
                _ => {}
            }
        }
    }
}

impl Source for ReplaySource {
    fn clock(&self) -> Clock {
        Clock::Capture
    }
    fn poll(&mut self, _timeout: Duration, f: &mut dyn FnMut(&[u8])) -> Result<Poll, ProbeError> {
        if self.ended {
            return Ok(Poll::End);
        }
        let mut reader = std::mem::replace(&mut self.reader, Reader::Taken);
        let polled = self.poll_frames(&mut reader, f);
        self.reader = reader;
        polled
    }

    fn drops(&mut self) -> Vec<(u32, u64)> {
        Vec::new()
    }

    fn capture_span_ns(&self) -> Option<(u64, u64)> {
        self.span
    }

    fn end_notices(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (&link, n) in &self.unsupported_links {
            let link = match link {
                NO_INTERFACE => "none (no interface block)".to_string(),
                l => l.to_string(),
            };
            out.push(format!(
                "dtrace: {n} frame{} of link type {link} skipped: rdtrace decodes Ethernet \
                 (with VLAN tags), Linux cooked (SLL, SLL2), raw IP and BSD loopback",
                if *n == 1 { "" } else { "s" }
            ));
        }
        if self.local == 0 && self.not_local > 0 {
            let locals: Vec<String> = self.locals.iter().map(IpAddr::to_string).collect();
            out.push(format!(
                "dtrace: --local {} matched no packet of the capture ({} packet{} between other \
                 hosts): nothing was sent or received",
                locals.join(","),
                self.not_local,
                if self.not_local == 1 { " is" } else { "s are" }
            ));
        }
        out
    }

    fn wall_offset_ns(&self) -> i64 {
        0
    }

    fn program_ids(&self) -> Vec<u32> {
        Vec::new()
    }
}

fn capture_err(path: &Path, what: &str) -> ProbeError {
    ProbeError::new(
        ProbeErrorKind::Capture,
        format!("{}: {what}", path.display()),
    )
}

fn pcap_err(path: &Path, frame: u64, e: PcapError) -> ProbeError {
    let what = match &e {
        PcapError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            "the file ends in the middle of a record".to_string()
        }
        _ => e.to_string(),
    };
    let at = if frame == 0 {
        "invalid capture header".to_string()
    } else {
        format!("corrupt capture at record {frame}")
    };
    capture_err(path, &format!("{at}: {what}"))
}

/// What a packet carries above IP. (Short-lived, one per frame: the
/// large TCP variant is not worth a box.)
#[derive(Clone, Copy)]
#[allow(clippy::large_enum_variant)]
enum Transport {
    /// The segment, its direction-independent fields filled.
    Tcp(TcpEvent),
    Udp {
        sport: u16,
        dport: u16,
        length: u16,
        checksum: u16,
    },
    Other,
}

/// One IP packet of the capture.
struct Packet {
    ts_ns: u64,
    ipver: u8,
    saddr: [u8; 16],
    daddr: [u8; 16],
    /// IP payload length (see [`TcpEvent::ip_plength`]).
    plen: u32,
    ttl: u8,
    /// IPv4 protocol / IPv6 next header (the first).
    proto: u8,
    /// The start of the IP header (IPv4: 20 bytes, IPv6: 40).
    hdr: [u8; 40],
    transport: Transport,
}

fn ip_of(ver: u8, a: &[u8; 16]) -> IpAddr {
    if ver == 4 {
        IpAddr::from([a[0], a[1], a[2], a[3]])
    } else {
        IpAddr::from(*a)
    }
}

/// The packet in `frame`, or None when it is not an IP packet.
fn decode(frame: &Frame) -> Option<Packet> {
    let data: &[u8] = &frame.data;
    let packet = match frame.link {
        Link::Ethernet => LaxSlicedPacket::from_ethernet(data).ok()?,
        Link::LinuxSll => {
            let sll = LinuxSllSlice::from_slice(data).ok()?;
            let LinuxSllProtocolType::EtherType(et) = sll.protocol_type() else {
                return None;
            };
            LaxSlicedPacket::from_ether_type(et, sll.payload_slice())
        }
        Link::LinuxSll2 => {
            // SLL2 (20 bytes): protocol type, reserved, ifindex, ARPHRD type,
            // packet type, address length, address[8]. etherparse lacks it.
            let proto = u16::from_be_bytes([*data.first()?, *data.get(1)?]);
            LaxSlicedPacket::from_ether_type(EtherType(proto), data.get(20..)?)
        }
        Link::RawIp => LaxSlicedPacket::from_ip(data).ok()?,
        Link::Null => LaxSlicedPacket::from_ip(data.get(4..)?).ok()?,
        Link::Unsupported(_) => return None,
    };
    let end = data.as_ptr() as usize + data.len();
    let mut pkt = Packet {
        ts_ns: frame.ts_ns,
        ipver: 0,
        saddr: [0; 16],
        daddr: [0; 16],
        plen: 0,
        ttl: 0,
        proto: 0,
        hdr: [0; 40],
        transport: Transport::Other,
    };
    match packet.net.as_ref()? {
        LaxNetSlice::Ipv4(ip) => {
            let h = ip.header();
            let ihl = h.ihl() as u32 * 4;
            let total = h.total_len() as u32;
            pkt.plen = if total == 0 {
                // Captured TSO: the header's length is not filled in yet.
                (end - h.slice().as_ptr() as usize) as u32 - ihl
            } else {
                total.saturating_sub(ihl)
            };
            pkt.ipver = 4;
            pkt.ttl = h.ttl();
            pkt.proto = h.protocol().0;
            pkt.saddr = addr_bytes(IpAddr::from(h.source()));
            pkt.daddr = addr_bytes(IpAddr::from(h.destination()));
            pkt.hdr[..20].copy_from_slice(&h.slice()[..20]);
        }
        LaxNetSlice::Ipv6(ip) => {
            let h = ip.header();
            let plen = h.payload_length() as u32;
            pkt.plen = if plen == 0 {
                (end - h.slice().as_ptr() as usize) as u32 - 40
            } else {
                plen
            };
            pkt.ipver = 6;
            pkt.ttl = h.hop_limit();
            pkt.proto = h.next_header().0;
            pkt.saddr = h.source();
            pkt.daddr = h.destination();
            pkt.hdr.copy_from_slice(&h.slice()[..40]);
        }
        LaxNetSlice::Arp(_) => return None,
    }
    pkt.transport = match &packet.transport {
        Some(TransportSlice::Tcp(tcp)) => {
            let mut ev = TcpEvent::default();
            ev.hdr.ts_ns = frame.ts_ns;
            ev.ip_plength = pkt.plen;
            ev.ipver = pkt.ipver;
            ev.ttl = pkt.ttl;
            ev.saddr = pkt.saddr;
            ev.daddr = pkt.daddr;
            ev.sport = tcp.source_port();
            ev.dport = tcp.destination_port();
            ev.seq = tcp.sequence_number();
            ev.ack = tcp.acknowledgment_number();
            ev.tcp_offset = tcp.data_offset() * 4;
            ev.tcp_flags = tcp.header_slice()[13];
            ev.window = tcp.window_size();
            ev.checksum = tcp.checksum();
            ev.urgent = tcp.urgent_pointer();
            Transport::Tcp(ev)
        }
        Some(TransportSlice::Udp(udp)) => Transport::Udp {
            sport: udp.source_port(),
            dport: udp.destination_port(),
            length: udp.length(),
            checksum: udp.checksum(),
        },
        _ => Transport::Other,
    };
    Some(pkt)
}

/// The local and remote address and port of a packet from its source and
/// destination, by direction (as the BPF program's `LOCAL_REMOTE`).
fn local_remote(
    dir: u8,
    (saddr, sport): ([u8; 16], u16),
    (daddr, dport): ([u8; 16], u16),
) -> ([u8; 16], [u8; 16], u16, u16) {
    if dir == DIR_SEND {
        (saddr, daddr, sport, dport)
    } else {
        (daddr, saddr, dport, sport)
    }
}

fn ip_event(p: &Packet, dir: u8) -> IpEvent {
    let h = &p.hdr;
    let mut e = IpEvent {
        dir,
        ipver: p.ipver,
        protocol: p.proto,
        saddr: p.saddr,
        daddr: p.daddr,
        ip_plength: p.plen,
        ttl: p.ttl,
        protostr: protocol_name(p.proto),
        ..IpEvent::default()
    };
    e.hdr.ts_ns = p.ts_ns;
    e.hdr.probe = if dir == DIR_SEND { IP_SEND } else { IP_RECEIVE };
    let be16 = |i: usize| u16::from_be_bytes([h[i], h[i + 1]]);
    if p.ipver == 4 {
        let frag = be16(6);
        e.v4_length = be16(2);
        e.v4_ident = be16(4);
        e.v4_offset = frag & 0x1fff;
        e.v4_flags = ((frag & 0xe000) >> 8) as u8;
        e.v4_checksum = be16(10);
        e.v4_ihl = (h[0] & 0x0f) * 4;
        e.v4_tos = h[1];
    } else {
        e.v6_flow = ((h[1] as u32 & 0x0f) << 16) | (h[2] as u32) << 8 | h[3] as u32;
        e.v6_plen = be16(4);
        e.v6_tclass = (h[0] & 0x0f) << 4 | h[1] >> 4;
    }
    e
}

fn udp_event(p: &Packet, dir: u8) -> UdpEvent {
    let Transport::Udp {
        sport,
        dport,
        length,
        checksum,
    } = p.transport
    else {
        return UdpEvent::default();
    };
    let mut e = UdpEvent {
        dir,
        ipver: p.ipver,
        ttl: p.ttl,
        saddr: p.saddr,
        daddr: p.daddr,
        ip_plength: p.plen,
        sport,
        dport,
        length,
        checksum,
        ..UdpEvent::default()
    };
    e.hdr.ts_ns = p.ts_ns;
    e.hdr.probe = if dir == DIR_SEND {
        UDP_SEND
    } else {
        UDP_RECEIVE
    };
    (e.laddr, e.raddr, e.lport, e.rport) = local_remote(dir, (p.saddr, sport), (p.daddr, dport));
    e
}
