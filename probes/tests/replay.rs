//! Replay of captures written by the tests themselves (pcap-file writers,
//! etherparse packet builder): link types, IPv4/IPv6, directions,
//! timestamps, skipped packets and malformed files.

use etherparse::{LinuxSllPacketType, PacketBuilder, PacketBuilderStep, TcpHeader, UdpHeader};
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::{DataLink, TsResolution};
use rdtrace_probes::event::{Record, TcpEvent, DIR_RECEIVE, DIR_SEND};
use rdtrace_probes::{Poll, ProbeErrorKind, ReplaySource, Source, TCP_RECEIVE, TCP_SEND};
use std::borrow::Cow;
use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

const CLIENT: [u8; 4] = [192, 0, 2, 40];
const SERVER: [u8; 4] = [192, 0, 2, 8];
const MAC_A: [u8; 6] = [2, 0, 0, 0, 0, 1];
const MAC_B: [u8; 6] = [2, 0, 0, 0, 0, 2];
const MSS: [u8; 4] = [2, 4, 0x05, 0xb4];

/// Serializes a finished packet builder with `payload`.
trait Bytes {
    fn bytes(self, payload: &[u8]) -> Vec<u8>;
}
impl Bytes for PacketBuilderStep<TcpHeader> {
    fn bytes(self, payload: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        self.write(&mut v, payload).unwrap();
        v
    }
}
impl Bytes for PacketBuilderStep<UdpHeader> {
    fn bytes(self, payload: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        self.write(&mut v, payload).unwrap();
        v
    }
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// Reads every event of a capture; returns them and the source (for counters).
fn replay(path: &Path, locals: &[IpAddr], probes: &[u32]) -> (Vec<TcpEvent>, ReplaySource) {
    let mut src = ReplaySource::open(path, locals, probes).expect("open capture");
    let mut out = Vec::new();
    for _ in 0..1000 {
        let mut push = |b: &[u8]| out.push(TcpEvent::read_from(b).expect("full record"));
        if src.poll(Duration::ZERO, &mut push).unwrap() == Poll::End {
            return (out, src);
        }
    }
    panic!("replay did not end");
}

/// The IPv4 handshake and a 20-byte data segment, client → server, over Ethernet.
fn ipv4_conversation() -> Vec<Vec<u8>> {
    let eth_v4 = |from_client: bool| {
        let (s, d, ms, md) = if from_client {
            (CLIENT, SERVER, MAC_A, MAC_B)
        } else {
            (SERVER, CLIENT, MAC_B, MAC_A)
        };
        PacketBuilder::ethernet2(ms, md).ipv4(s, d, 64)
    };
    let mut v = Vec::new();
    let b = eth_v4(true)
        .tcp(40000, 80, 1000, 64240)
        .syn()
        .options_raw(&MSS)
        .unwrap();
    v.push(b.bytes(&[]));
    let b = eth_v4(false)
        .tcp(80, 40000, 5000, 65160)
        .syn()
        .ack(1001)
        .options_raw(&MSS)
        .unwrap();
    v.push(b.bytes(&[]));
    v.push(eth_v4(true).tcp(40000, 80, 1001, 502).ack(5001).bytes(&[]));
    v.push(
        eth_v4(true)
            .tcp(40000, 80, 1001, 502)
            .ack(5001)
            .psh()
            .bytes(&[7u8; 20]),
    );
    v
}

fn write_pcap(
    path: &Path,
    link: DataLink,
    ts_resolution: TsResolution,
    frames: &[(Duration, Vec<u8>)],
) {
    let header = PcapHeader {
        datalink: link,
        ts_resolution,
        ..Default::default()
    };
    let mut w = PcapWriter::with_header(std::fs::File::create(path).unwrap(), header).unwrap();
    for (ts, data) in frames {
        w.write_packet(&PcapPacket::new(*ts, data.len() as u32, data))
            .unwrap();
    }
}

/// pcapng with one interface; `tsresol` None leaves the default (µs).
fn write_pcapng(path: &Path, link: DataLink, tsresol: Option<u8>, frames: &[(u64, Vec<u8>)]) {
    let mut w = PcapNgWriter::new(std::fs::File::create(path).unwrap()).unwrap();
    let mut idb = InterfaceDescriptionBlock::new(link, 65535);
    if let Some(r) = tsresol {
        idb.options.push(InterfaceDescriptionOption::IfTsResol(r));
    }
    w.write_pcapng_block(idb).unwrap();
    for (units, data) in frames {
        let epb = EnhancedPacketBlock {
            interface_id: 0,
            // pcap-file writes the raw timestamp units from as_nanos().
            timestamp: Duration::from_nanos(*units),
            original_len: data.len() as u32,
            data: Cow::Borrowed(data),
            options: vec![],
        };
        w.write_pcapng_block(epb).unwrap();
    }
}

#[test]
fn pcap_ethernet_ipv4_client_view() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v4.pcap");
    let mut frames: Vec<(Duration, Vec<u8>)> = ipv4_conversation()
        .into_iter()
        .enumerate()
        .map(|(i, f)| (Duration::new(1_700_000_000, i as u32 * 1000), f))
        .collect();
    // Not TCP: a UDP datagram and an ARP-ish runt; a TCP segment between strangers.
    let udp = PacketBuilder::ethernet2(MAC_A, MAC_B)
        .ipv4(CLIENT, SERVER, 64)
        .udp(5353, 53)
        .bytes(&[1, 2]);
    frames.push((Duration::new(1_700_000_001, 0), udp));
    frames.push((Duration::new(1_700_000_001, 0), vec![0xff; 10]));
    let foreign = PacketBuilder::ethernet2(MAC_A, MAC_B)
        .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
        .tcp(1, 2, 3, 4)
        .bytes(&[]);
    frames.push((Duration::new(1_700_000_001, 0), foreign));
    write_pcap(
        &path,
        DataLink::ETHERNET,
        TsResolution::MicroSecond,
        &frames,
    );

    let (evs, src) = replay(&path, &[ip("192.0.2.40")], &[TCP_SEND, TCP_RECEIVE]);
    assert_eq!(src.skipped(), 2);
    assert_eq!(src.not_local(), 1);
    let summary: Vec<(u32, u8, u8, u32)> = evs
        .iter()
        .map(|e| (e.hdr.probe, e.dir, e.tcp_flags, e.payload_len()))
        .collect();
    assert_eq!(
        summary,
        vec![
            (TCP_SEND, DIR_SEND, 0x02, 0),
            (TCP_RECEIVE, DIR_RECEIVE, 0x12, 0),
            (TCP_SEND, DIR_SEND, 0x10, 0),
            (TCP_SEND, DIR_SEND, 0x18, 20),
        ]
    );
    let syn = &evs[0];
    assert_eq!(
        (syn.src_ip(), syn.dst_ip()),
        (ip("192.0.2.40"), ip("192.0.2.8"))
    );
    assert_eq!(
        (syn.sport, syn.dport, syn.lport, syn.rport),
        (40000, 80, 40000, 80)
    );
    assert_eq!(
        (syn.seq, syn.tcp_offset, syn.ipver, syn.ttl, syn.window),
        (1000, 24, 4, 64, 64240)
    );
    assert_eq!(syn.ip_plength, 24);
    assert_eq!(syn.hdr.ts_ns, 1_700_000_000_000_000_000);
    assert_eq!((syn.hdr.cpu, syn.hdr.pid, syn.sk), (0, 0, 0));
    let synack = &evs[1];
    assert_eq!((synack.seq, synack.ack), (5000, 1001));
    assert_eq!(synack.laddr[..4], CLIENT);
    assert_eq!(synack.raddr[..4], SERVER);
    assert_eq!((synack.lport, synack.rport), (40000, 80));
    assert_eq!(synack.hdr.ts_ns, 1_700_000_000_000_001_000);
    assert_eq!(evs[3].ip_plength, 40);
    assert_ne!(evs[3].checksum, 0);
}

#[test]
fn server_view_and_probe_selection() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v4ns.pcap");
    let frames: Vec<(Duration, Vec<u8>)> = ipv4_conversation()
        .into_iter()
        .map(|f| (Duration::new(5, 123_456_789), f))
        .collect();
    write_pcap(&path, DataLink::ETHERNET, TsResolution::NanoSecond, &frames);
    let (evs, _) = replay(&path, &[ip("192.0.2.8")], &[TCP_RECEIVE]);
    let flags: Vec<u8> = evs.iter().map(|e| e.tcp_flags).collect();
    assert_eq!(flags, vec![0x02, 0x10, 0x18]);
    assert!(evs
        .iter()
        .all(|e| e.hdr.probe == TCP_RECEIVE && e.lport == 80 && e.laddr[..4] == SERVER));
    assert_eq!(evs[0].hdr.ts_ns, 5_123_456_789);
}

/// IPv6 on loopback over Linux cooked capture (SLL), pcapng with ns
/// timestamps: both ends local, so each segment is a send then a receive.
#[test]
fn pcapng_sll_ipv6_loopback_both_directions() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v6.pcapng");
    let lo = std::net::Ipv6Addr::LOCALHOST.octets();
    let seg = PacketBuilder::linux_sll(LinuxSllPacketType::HOST, 0, [0; 8])
        .ipv6(lo, lo, 64)
        .tcp(5555, 6666, 42, 100)
        .psh()
        .ack(7)
        .bytes(&[9u8; 376]);
    write_pcapng(
        &path,
        DataLink::LINUX_SLL,
        Some(9),
        &[(1_700_000_000_123_456_789, seg)],
    );
    let (evs, src) = replay(&path, &[ip("::1")], &[TCP_SEND, TCP_RECEIVE]);
    assert_eq!(src.skipped(), 0);
    assert_eq!(evs.len(), 2);
    assert_eq!(
        (evs[0].hdr.probe, evs[1].hdr.probe),
        (TCP_SEND, TCP_RECEIVE)
    );
    for e in &evs {
        assert_eq!(
            (e.ipver, e.ip_plength, e.payload_len(), e.seq, e.ack),
            (6, 396, 376, 42, 7)
        );
        assert_eq!(e.src_ip(), ip("::1"));
        assert_eq!(e.hdr.ts_ns, 1_700_000_000_123_456_789);
    }
    assert_eq!((evs[0].lport, evs[0].rport), (5555, 6666));
    assert_eq!((evs[1].lport, evs[1].rport), (6666, 5555));
}

/// IPv6 with a hop-by-hop extension header before TCP, in pcapng with the
/// default microsecond timestamps, on an Ethernet link.
#[test]
fn pcapng_ipv6_extension_header_and_default_tsresol() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v6ext.pcapng");
    let a = ip("2001:db8::1");
    let b = ip("2001:db8::2");
    let (IpAddr::V6(a6), IpAddr::V6(b6)) = (a, b) else {
        unreachable!()
    };
    let mut frame = PacketBuilder::ethernet2(MAC_A, MAC_B)
        .ipv6(a6.octets(), b6.octets(), 9)
        .tcp(1234, 443, 77, 1000)
        .ack(1)
        .bytes(&[1u8; 10]);
    // Insert an 8-byte hop-by-hop header (PadN) between IPv6 and TCP.
    let ip6 = 14;
    frame[ip6 + 6] = 0; // next header: hop-by-hop
    let plen = u16::from_be_bytes([frame[ip6 + 4], frame[ip6 + 5]]) + 8;
    frame[ip6 + 4..ip6 + 6].copy_from_slice(&plen.to_be_bytes());
    frame.splice(ip6 + 40..ip6 + 40, [6, 0, 1, 4, 0, 0, 0, 0]);
    write_pcapng(
        &path,
        DataLink::ETHERNET,
        None,
        &[(1_700_000_000_000_001, frame)],
    );
    let (evs, _) = replay(&path, &[a], &[TCP_SEND, TCP_RECEIVE]);
    assert_eq!(evs.len(), 1);
    let e = &evs[0];
    assert_eq!(
        (e.hdr.probe, e.sport, e.dport, e.seq, e.ttl),
        (TCP_SEND, 1234, 443, 77, 9)
    );
    // ip_plength is the IPv6 payload length, extension headers included (as DTrace).
    assert_eq!(e.ip_plength, 8 + 20 + 10);
    assert_eq!(e.hdr.ts_ns, 1_700_000_000_000_001_000);
}

/// Raw IP link type with an IPv4 total length of 0 (captured TSO), SLL2,
/// BSD loopback, a snaplen-truncated segment, and a segment cut inside its
/// TCP header.
#[test]
fn other_link_types_tso_and_truncation() {
    let dir = tempfile::tempdir().unwrap();
    let ipv4 = |payload: &[u8]| {
        PacketBuilder::ipv4(CLIENT, SERVER, 64)
            .tcp(40000, 80, 1, 2)
            .ack(3)
            .bytes(payload)
    };
    let locals = [ip("192.0.2.40")];

    let mut tso = ipv4(&[0u8; 1000]);
    tso[2] = 0;
    tso[3] = 0;
    let raw = dir.path().join("raw.pcap");
    write_pcap(
        &raw,
        DataLink::RAW,
        TsResolution::MicroSecond,
        &[(Duration::ZERO, tso)],
    );
    let (evs, _) = replay(&raw, &locals, &[TCP_SEND]);
    assert_eq!(evs.len(), 1);
    assert_eq!((evs[0].ip_plength, evs[0].payload_len()), (1020, 1000));

    let mut sll2 = vec![
        0x08, 0x00, 0, 0, 0, 0, 0, 3, 0, 1, 4, 6, 2, 0, 0, 0, 0, 1, 0, 0,
    ];
    sll2.extend(ipv4(&[5u8; 20]));
    let path = dir.path().join("sll2.pcap");
    write_pcap(
        &path,
        DataLink::LINUX_SLL2,
        TsResolution::MicroSecond,
        &[(Duration::ZERO, sll2)],
    );
    let (evs, src) = replay(&path, &locals, &[TCP_SEND]);
    assert_eq!((evs.len(), src.skipped()), (1, 0));
    assert_eq!(evs[0].payload_len(), 20);

    let mut null = 2u32.to_ne_bytes().to_vec();
    null.extend(ipv4(&[5u8; 376]));
    let path = dir.path().join("null.pcap");
    write_pcap(
        &path,
        DataLink::NULL,
        TsResolution::MicroSecond,
        &[(Duration::ZERO, null)],
    );
    let (evs, _) = replay(&path, &locals, &[TCP_SEND]);
    assert_eq!(evs.len(), 1);
    assert_eq!(evs[0].payload_len(), 376);

    // Snaplen 60: the TCP header is intact, the payload cut; lengths come
    // from the IP header. Then a frame cut inside the TCP header: skipped.
    let full = ipv4(&[5u8; 464]);
    let path = dir.path().join("trunc.pcap");
    let header = PcapHeader {
        datalink: DataLink::RAW,
        snaplen: 65535,
        ..Default::default()
    };
    let mut w = PcapWriter::with_header(std::fs::File::create(&path).unwrap(), header).unwrap();
    w.write_packet(&PcapPacket::new(
        Duration::ZERO,
        full.len() as u32,
        &full[..60],
    ))
    .unwrap();
    w.write_packet(&PcapPacket::new(
        Duration::ZERO,
        full.len() as u32,
        &full[..30],
    ))
    .unwrap();
    drop(w);
    let (evs, src) = replay(&path, &locals, &[TCP_SEND]);
    assert_eq!(src.skipped(), 1);
    assert_eq!(evs.len(), 1);
    assert_eq!(evs[0].payload_len(), 464);

    // An unsupported link type: every frame is skipped, no error.
    let path = dir.path().join("ppp.pcap");
    write_pcap(
        &path,
        DataLink::PPP,
        TsResolution::MicroSecond,
        &[(Duration::ZERO, ipv4(&[]))],
    );
    let (evs, src) = replay(&path, &locals, &[TCP_SEND]);
    assert_eq!((evs.len(), src.skipped()), (0, 1));
}

#[test]
fn malformed_captures_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let locals = [ip("192.0.2.40")];
    let open_err = |name: &str, bytes: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        match ReplaySource::open(&path, &locals, &[TCP_SEND]) {
            Ok(_) => panic!("{name} opened"),
            Err(e) => e,
        }
    };
    let e = open_err("empty.pcap", b"");
    assert_eq!(e.kind, ProbeErrorKind::Capture);
    assert!(e.to_string().contains("too short"), "{e}");
    let e = open_err("text.pcap", b"hello, this is not a capture\n");
    assert!(
        e.to_string().contains("not a pcap or pcapng capture"),
        "{e}"
    );
    assert!(e.to_string().contains("text.pcap"), "{e}");
    let e = open_err("header.pcap", &[0xd4, 0xc3, 0xb2, 0xa1, 2, 0]);
    assert_eq!(e.kind, ProbeErrorKind::Capture);

    // A valid capture whose second record is cut short, and one whose
    // record header claims more bytes than the snaplen allows.
    let path = dir.path().join("cut.pcap");
    let frames: Vec<(Duration, Vec<u8>)> = ipv4_conversation()
        .into_iter()
        .map(|f| (Duration::ZERO, f))
        .collect();
    write_pcap(
        &path,
        DataLink::ETHERNET,
        TsResolution::MicroSecond,
        &frames[..2],
    );
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() - 10]).unwrap();
    let mut src = ReplaySource::open(&path, &locals, &[TCP_SEND, TCP_RECEIVE]).unwrap();
    let mut n = 0;
    let err = loop {
        match src.poll(Duration::ZERO, &mut |_| n += 1) {
            Ok(Poll::End) => panic!("cut capture read to the end"),
            Ok(Poll::More) => {}
            Err(e) => break e,
        }
    };
    assert_eq!(n, 1, "the intact first record is delivered");
    assert_eq!(err.kind, ProbeErrorKind::Capture);
    assert!(err.to_string().contains("record 2"), "{err}");

    let mut bytes = bytes.clone();
    bytes[24 + 8..24 + 12].copy_from_slice(&0x7fff_0000u32.to_ne_bytes());
    let path = dir.path().join("huge.pcap");
    std::fs::write(&path, &bytes).unwrap();
    let mut src = ReplaySource::open(&path, &locals, &[TCP_SEND]).unwrap();
    let err = src.poll(Duration::ZERO, &mut |_| {}).unwrap_err();
    assert_eq!(err.kind, ProbeErrorKind::Capture);
    assert!(err.to_string().contains("record 1"), "{err}");

    // pcapng garbage after a valid section header.
    let path = dir.path().join("bad.pcapng");
    write_pcapng(&path, DataLink::ETHERNET, None, &[]);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend([6, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f, 1, 2, 3, 4]);
    std::fs::write(&path, &bytes).unwrap();
    let mut src = ReplaySource::open(&path, &locals, &[TCP_SEND]).unwrap();
    let err = src.poll(Duration::ZERO, &mut |_| {}).unwrap_err();
    assert_eq!(err.kind, ProbeErrorKind::Capture);

    let e = ReplaySource::open(dir.path().join("missing.pcap"), &locals, &[TCP_SEND])
        .err()
        .unwrap();
    assert!(e.to_string().contains("missing.pcap"), "{e}");
    let e = ReplaySource::open(&path, &[], &[TCP_SEND]).err().unwrap();
    assert_eq!(e.kind, ProbeErrorKind::Invalid);
}
