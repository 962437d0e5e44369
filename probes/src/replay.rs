//! Replays a packet capture (pcap or pcapng) as `tcp:::send` /
//! `tcp:::receive` events, in records identical to the live ones.
//!
//! A segment whose source address is local is a send, one whose destination
//! is local a receive; both local (loopback) gives both, send first.
//! Timestamps are the capture's (epoch ns), cpu is 0, and the task fields,
//! netns, ifindex and socket are 0. Packets that are not complete-enough
//! TCP segments (truncated before the end of the TCP header, non-IP,
//! non-TCP, non-first fragments, unknown link types) are skipped and counted.

use crate::catalog::{TCP_RECEIVE, TCP_SEND};
use crate::event::{addr_bytes, Record, TcpEvent, DIR_RECEIVE, DIR_SEND};
use crate::source::{Poll, ProbeError, ProbeErrorKind, Source};
use etherparse::{
    EtherType, LaxNetSlice, LaxSlicedPacket, LinuxSllProtocolType, LinuxSllSlice, TransportSlice,
};
use pcap_file::pcap::PcapReader;
use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionOption;
use pcap_file::pcapng::{Block, PcapNgReader};
use pcap_file::{DataLink, PcapError, TsResolution};
use std::fs::File;
use std::io::{BufReader, Read};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
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
    Unsupported,
}

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
        _ => Link::Unsupported,
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
        reader: PcapReader<BufReader<File>>,
        link: Link,
        nanos: bool,
    },
    PcapNg {
        reader: PcapNgReader<BufReader<File>>,
        interfaces: Vec<Interface>,
    },
}

/// One frame from the capture, with what is needed to decode it.
struct Frame {
    ts_ns: u64,
    link: Link,
    data: Vec<u8>,
}

/// A [`Source`] reading a capture file.
pub struct ReplaySource {
    path: PathBuf,
    reader: Reader,
    locals: Vec<IpAddr>,
    send: bool,
    receive: bool,
    /// Frames read so far (1-based number of the last one), for messages.
    frames: u64,
    skipped: u64,
    not_local: u64,
    ended: bool,
}

impl ReplaySource {
    /// Opens `path` (pcap or pcapng, detected by content). `locals` are this
    /// host's addresses (which decide send vs. receive); `probes` the catalog
    /// ids to produce (send/receive; other ids are ignored).
    pub fn open(
        path: impl AsRef<Path>,
        locals: &[IpAddr],
        probes: &[u32],
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
        let mut magic = [0u8; 4];
        File::open(&path)
            .map_err(io_err)?
            .read_exact(&mut magic)
            .map_err(|e| {
                if e.kind() == std::io::ErrorKind::UnexpectedEof {
                    capture_err(&path, "file is too short to be a pcap or pcapng capture")
                } else {
                    io_err(e)
                }
            })?;
        let file = BufReader::new(File::open(&path).map_err(io_err)?);
        let reader = match u32::from_le_bytes(magic) {
            0x0A0D_0D0A => {
                let reader = PcapNgReader::new(file).map_err(|e| pcap_err(&path, 0, e))?;
                Reader::PcapNg {
                    reader,
                    interfaces: Vec::new(),
                }
            }
            0xA1B2_C3D4 | 0xD4C3_B2A1 | 0xA1B2_3C4D | 0x4D3C_B2A1 => {
                let reader = PcapReader::new(file).map_err(|e| pcap_err(&path, 0, e))?;
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
            send: probes.contains(&TCP_SEND),
            receive: probes.contains(&TCP_RECEIVE),
            frames: 0,
            skipped: 0,
            not_local: 0,
            ended: false,
        })
    }

    /// Frames that were not usable TCP segments (see the module docs).
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    /// TCP segments neither from nor to a local address (not events).
    pub fn not_local(&self) -> u64 {
        self.not_local
    }

    /// The next frame, None at the end of the capture.
    fn next_frame(&mut self) -> Result<Option<Frame>, ProbeError> {
        loop {
            let n = self.frames + 1;
            match &mut self.reader {
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
                        data: raw.data.into_owned(),
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
                                data: epb.data.into_owned(),
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
                                data: pb.data.into_owned(),
                            }));
                        }
                        Block::SimplePacket(spb) => {
                            // No timestamp and always interface 0.
                            self.frames = n;
                            let link = interfaces.first().map_or(Link::Unsupported, |i| i.link);
                            return Ok(Some(Frame {
                                ts_ns: 0,
                                link,
                                data: spb.data.into_owned(),
                            }));
                        }
                        _ => {}
                    }
                }
            }
        }
    }

    /// Emits the events of one frame; counts it when it is not a TCP segment.
    fn emit(&mut self, frame: &Frame, f: &mut dyn FnMut(&[u8])) {
        let Some(mut ev) = decode(frame) else {
            self.skipped += 1;
            return;
        };
        let src_local = self.locals.contains(&ev.src_ip());
        let dst_local = self.locals.contains(&ev.dst_ip());
        if !src_local && !dst_local {
            self.not_local += 1;
            return;
        }
        if src_local && self.send {
            ev.hdr.probe = TCP_SEND;
            ev.dir = DIR_SEND;
            ev.laddr = ev.saddr;
            ev.raddr = ev.daddr;
            ev.lport = ev.sport;
            ev.rport = ev.dport;
            f(ev.as_bytes());
        }
        if dst_local && self.receive {
            ev.hdr.probe = TCP_RECEIVE;
            ev.dir = DIR_RECEIVE;
            ev.laddr = ev.daddr;
            ev.raddr = ev.saddr;
            ev.lport = ev.dport;
            ev.rport = ev.sport;
            f(ev.as_bytes());
        }
    }
}

impl Source for ReplaySource {
    fn poll(&mut self, _timeout: Duration, f: &mut dyn FnMut(&[u8])) -> Result<Poll, ProbeError> {
        if self.ended {
            return Ok(Poll::End);
        }
        for _ in 0..PACKETS_PER_POLL {
            match self.next_frame()? {
                Some(frame) => self.emit(&frame, f),
                None => {
                    self.ended = true;
                    return Ok(Poll::End);
                }
            }
        }
        Ok(Poll::More)
    }

    fn drops(&mut self) -> Vec<(u32, u64)> {
        Vec::new()
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

/// The segment in `frame` as a record with direction-independent fields
/// filled, or None when it is not a usable TCP segment.
fn decode(frame: &Frame) -> Option<TcpEvent> {
    let data = frame.data.as_slice();
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
        Link::Unsupported => return None,
    };
    let Some(TransportSlice::Tcp(tcp)) = &packet.transport else {
        return None;
    };
    let mut ev = TcpEvent::default();
    ev.hdr.ts_ns = frame.ts_ns;
    let end = data.as_ptr() as usize + data.len();
    match packet.net.as_ref()? {
        LaxNetSlice::Ipv4(ip) => {
            let h = ip.header();
            let ihl = h.ihl() as u32 * 4;
            let total = h.total_len() as u32;
            ev.ip_plength = if total == 0 {
                // Captured TSO: the header's length is not filled in yet.
                (end - h.slice().as_ptr() as usize) as u32 - ihl
            } else {
                total.saturating_sub(ihl)
            };
            ev.ipver = 4;
            ev.ttl = h.ttl();
            ev.saddr = addr_bytes(IpAddr::from(h.source()));
            ev.daddr = addr_bytes(IpAddr::from(h.destination()));
        }
        LaxNetSlice::Ipv6(ip) => {
            let h = ip.header();
            let plen = h.payload_length() as u32;
            ev.ip_plength = if plen == 0 {
                (end - h.slice().as_ptr() as usize) as u32 - 40
            } else {
                plen
            };
            ev.ipver = 6;
            ev.ttl = h.hop_limit();
            ev.saddr = h.source();
            ev.daddr = h.destination();
        }
        LaxNetSlice::Arp(_) => return None,
    }
    ev.sport = tcp.source_port();
    ev.dport = tcp.destination_port();
    ev.seq = tcp.sequence_number();
    ev.ack = tcp.acknowledgment_number();
    ev.tcp_offset = tcp.data_offset() * 4;
    ev.tcp_flags = tcp.header_slice()[13];
    ev.window = tcp.window_size();
    ev.checksum = tcp.checksum();
    ev.urgent = tcp.urgent_pointer();
    Some(ev)
}
