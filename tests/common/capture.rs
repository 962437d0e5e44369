//! Writes small TCP captures for the end-to-end tests: a conversation is a
//! list of segments; sequence and acknowledgement numbers follow from it.

use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use etherparse::{PacketBuilder, TcpOptionElement};
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::DataLink;

/// Who sends a segment.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum From {
    Client,
    Server,
}

#[derive(Clone, Copy, Debug)]
pub struct Segment {
    pub from: From,
    pub syn: bool,
    pub ack: bool,
    pub psh: bool,
    pub fin: bool,
    pub rst: bool,
    pub payload: usize,
}

pub const fn seg(from: From, flags: &str, payload: usize) -> Segment {
    let b = flags.as_bytes();
    let mut s = Segment {
        from,
        syn: false,
        ack: false,
        psh: false,
        fin: false,
        rst: false,
        payload,
    };
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'S' => s.syn = true,
            b'A' => s.ack = true,
            b'P' => s.psh = true,
            b'F' => s.fin = true,
            b'R' => s.rst = true,
            _ => {}
        }
        i += 1;
    }
    s
}

pub struct Conversation {
    pub client: (IpAddr, u16),
    pub server: (IpAddr, u16),
    /// Capture time of the first segment, since the epoch.
    pub start: Duration,
    pub step: Duration,
    pub segments: Vec<Segment>,
}

/// Writes the conversation as an Ethernet pcap file.
pub fn write_pcap(conv: &Conversation, path: &Path) {
    let file = std::fs::File::create(path).unwrap();
    let header = PcapHeader {
        datalink: DataLink::ETHERNET,
        ..Default::default()
    };
    let mut w = PcapWriter::with_header(file, header).unwrap();
    let (mut cseq, mut sseq) = (0x1f2e_3d4cu32, 0x5a69_7887u32);
    let (mut cack, mut sack) = (0u32, 0u32); // what each side acknowledges
    for (i, s) in conv.segments.iter().enumerate() {
        let ((src, sport), (dst, dport)) = match s.from {
            From::Client => (conv.client, conv.server),
            From::Server => (conv.server, conv.client),
        };
        let (mut seq, ack) = match s.from {
            From::Client => (cseq, cack),
            From::Server => (sseq, sack),
        };
        // A RST answering a bare SYN (a closed port) has sequence number 0
        // (RFC 793: the SYN carried no ACK to take it from), as Linux sends it.
        let prev = i.checked_sub(1).map(|j| conv.segments[j]);
        if s.rst && prev.is_some_and(|p| p.from != s.from && p.syn && !p.ack) {
            seq = 0;
        }
        let b = match (src, dst) {
            (IpAddr::V4(a), IpAddr::V4(b)) => PacketBuilder::ethernet2(
                [2, 0, 0, 0, 0, 1],
                [2, 0, 0, 0, 0, 2],
            )
            .ipv4(a.octets(), b.octets(), 64),
            (IpAddr::V6(a), IpAddr::V6(b)) => PacketBuilder::ethernet2(
                [2, 0, 0, 0, 0, 1],
                [2, 0, 0, 0, 0, 2],
            )
            .ipv6(a.octets(), b.octets(), 64),
            _ => panic!("mixed address families"),
        };
        let mut t = b.tcp(sport, dport, seq, 64240);
        if s.syn {
            t = t.syn();
        }
        if s.ack {
            t = t.ack(ack);
        }
        if s.psh {
            t = t.psh();
        }
        if s.fin {
            t = t.fin();
        }
        if s.rst {
            t = t.rst();
        }
        // SYNs carry the usual options; the rest a timestamp, so that
        // tcp_offset is not always 20.
        let t = if s.syn {
            t.options(&[
                TcpOptionElement::MaximumSegmentSize(1460),
                TcpOptionElement::SelectiveAcknowledgementPermitted,
                TcpOptionElement::Timestamp(1000 + i as u32, 0),
                TcpOptionElement::Noop,
                TcpOptionElement::WindowScale(7),
            ])
            .unwrap()
        } else {
            t.options(&[
                TcpOptionElement::Noop,
                TcpOptionElement::Noop,
                TcpOptionElement::Timestamp(1000 + i as u32, 999),
            ])
            .unwrap()
        };
        let payload = vec![0x41u8; s.payload];
        let mut bytes = Vec::new();
        t.write(&mut bytes, &payload).unwrap();
        let ts = conv.start + conv.step * i as u32;
        w.write_packet(&PcapPacket::new(ts, bytes.len() as u32, &bytes))
            .unwrap();

        let advance = s.payload as u32 + (s.syn as u32) + (s.fin as u32);
        match s.from {
            From::Client => {
                cseq = cseq.wrapping_add(advance);
                sack = cseq;
            }
            From::Server => {
                sseq = sseq.wrapping_add(advance);
                cack = sseq;
            }
        }
    }
}
