//! The ip provider: IPv4/IPv6 packets sent and received (`ip:::send`,
//! `ip:::receive`). Kernel part: `bpf/net.bpf.c`; replay: `replay.rs`.

use super::{net, Hook, Provider};
use crate::catalog::{
    inet, kernel_pointer, load, member, member_as, packet_members, probe_defs, ptr_args, Members,
    Spec, TypedLayout, UINTPTR,
};
use crate::event::{EventHeader, IpEvent};
use rdtrace_lang::catalog::{ArgDef, ConstDef, FieldSource, ProbeDef};
use rdtrace_lang::types::IntType;
use std::mem::offset_of;

pub const IP_SEND: u32 = 12;
pub const IP_RECEIVE: u32 = 13;

/// Layout of [`IpEvent`] records (`ip:::send`, `ip:::receive`).
pub const LAYOUT_IP: u32 = 2;

/// `ipv4_flags` bits, as illumos defines them.
pub(crate) const IPH_FLAGS: [(&str, i64); 2] = [("IPH_DF", 0x40), ("IPH_MF", 0x20)];

const PROBES: [Spec; 2] = [
    Spec::new(IP_SEND, "net_dev_queue", "send", LAYOUT_IP, ip_args),
    Spec::new(
        IP_RECEIVE,
        "netif_receive_skb",
        "receive",
        LAYOUT_IP,
        ip_args,
    ),
];

pub struct Ip;

impl Provider for Ip {
    fn name(&self) -> &'static str {
        "ip"
    }
    fn probes(&self) -> Vec<ProbeDef> {
        probe_defs("ip", &PROBES)
    }
    fn layouts(&self) -> Vec<TypedLayout> {
        vec![crate::catalog::packet_layout(LAYOUT_IP, ip_members())]
    }
    fn constants(&self) -> Vec<ConstDef> {
        IPH_FLAGS
            .iter()
            .chain(super::sysconsts::IP_PROTOCOLS)
            .copied()
            .map(crate::catalog::int_const)
            .collect()
    }
    fn hooks(&self, probe: u32, _socket_state: bool) -> Vec<Hook> {
        match probe {
            IP_SEND => vec![net::SEND],
            _ => vec![net::RECEIVE],
        }
    }
    fn replays(&self) -> bool {
        true
    }
}

fn ip_args() -> Vec<ArgDef> {
    ptr_args(&[
        "pktinfo_t",
        "csinfo_t",
        "ipinfo_t",
        "ifinfo_t",
        "ipv4info_t",
        "ipv6info_t",
    ])
}

/// Members an [`IpEvent`] provides. Where illumos passes NULL
/// (`ipv4info_t` of an IPv6 packet, `ipv6info_t` of an IPv4 one), the
/// members shared by both versions (version, protocol/next header and its
/// name, TTL/hop limit, addresses) describe the packet and the others are
/// zero. The kernel pointers (`ipv4_hdr`, `ipv6_src`, …) are not provided.
/// `cs_pid` is 0: the ip provider does not track owners.
fn ip_members() -> Members {
    use IntType as I;
    let m = member;
    let ver = offset_of!(IpEvent, ipver);
    let saddr = offset_of!(IpEvent, saddr);
    let daddr = offset_of!(IpEvent, daddr);
    let mut members = packet_members!(IpEvent, FieldSource::Const(0));
    members.extend([
        m(
            "ifinfo_t",
            "if_name",
            FieldSource::Chars {
                offset: offset_of!(IpEvent, if_name) as u32,
                len: 16,
            },
        ),
        m(
            "ifinfo_t",
            "if_local",
            load(offset_of!(IpEvent, if_local), I::CHAR),
        ),
        // The network namespace stands for illumos's IP stack instance.
        m(
            "ifinfo_t",
            "if_ipstack",
            load(offset_of!(EventHeader, netns), I::INT),
        ),
        m(
            "ifinfo_t",
            "if_addr",
            load(offset_of!(IpEvent, dev), UINTPTR),
        ),
        m("ipv4info_t", "ipv4_ver", load(ver, I::UINT8)),
        m(
            "ipv4info_t",
            "ipv4_ihl",
            load(offset_of!(IpEvent, v4_ihl), I::UINT8),
        ),
        m(
            "ipv4info_t",
            "ipv4_tos",
            load(offset_of!(IpEvent, v4_tos), I::UINT8),
        ),
        m(
            "ipv4info_t",
            "ipv4_length",
            load(offset_of!(IpEvent, v4_length), I::UINT16),
        ),
        m(
            "ipv4info_t",
            "ipv4_ident",
            load(offset_of!(IpEvent, v4_ident), I::UINT16),
        ),
        m(
            "ipv4info_t",
            "ipv4_flags",
            load(offset_of!(IpEvent, v4_flags), I::UINT8),
        ),
        m(
            "ipv4info_t",
            "ipv4_offset",
            load(offset_of!(IpEvent, v4_offset), I::UINT16),
        ),
        m(
            "ipv4info_t",
            "ipv4_ttl",
            load(offset_of!(IpEvent, ttl), I::UINT8),
        ),
        m(
            "ipv4info_t",
            "ipv4_protocol",
            load(offset_of!(IpEvent, protocol), I::UINT8),
        ),
        m(
            "ipv4info_t",
            "ipv4_protostr",
            FieldSource::Chars {
                offset: offset_of!(IpEvent, protostr) as u32,
                len: 8,
            },
        ),
        m(
            "ipv4info_t",
            "ipv4_checksum",
            load(offset_of!(IpEvent, v4_checksum), I::UINT16),
        ),
        // ipaddr_t: the address bytes in network order, as in memory.
        m("ipv4info_t", "ipv4_src", load(saddr, I::UINT32)),
        m("ipv4info_t", "ipv4_dst", load(daddr, I::UINT32)),
        m("ipv4info_t", "ipv4_saddr", inet(saddr, ver)),
        m("ipv4info_t", "ipv4_daddr", inet(daddr, ver)),
        kernel_pointer("ipv4info_t", "ipv4_hdr"),
        m("ipv6info_t", "ipv6_ver", load(ver, I::UINT8)),
        m(
            "ipv6info_t",
            "ipv6_tclass",
            load(offset_of!(IpEvent, v6_tclass), I::UINT8),
        ),
        m(
            "ipv6info_t",
            "ipv6_flow",
            load(offset_of!(IpEvent, v6_flow), I::UINT32),
        ),
        m(
            "ipv6info_t",
            "ipv6_plen",
            load(offset_of!(IpEvent, v6_plen), I::UINT16),
        ),
        m(
            "ipv6info_t",
            "ipv6_nexthdr",
            load(offset_of!(IpEvent, protocol), I::UINT8),
        ),
        m(
            "ipv6info_t",
            "ipv6_nextstr",
            FieldSource::Chars {
                offset: offset_of!(IpEvent, protostr) as u32,
                len: 8,
            },
        ),
        m(
            "ipv6info_t",
            "ipv6_hlim",
            load(offset_of!(IpEvent, ttl), I::UINT8),
        ),
        m("ipv6info_t", "ipv6_saddr", inet(saddr, ver)),
        m("ipv6info_t", "ipv6_daddr", inet(daddr, ver)),
        kernel_pointer("ipv6info_t", "ipv6_src"),
        kernel_pointer("ipv6info_t", "ipv6_dst"),
        kernel_pointer("ipv6info_t", "ipv6_hdr"),
    ]);
    members
}

/// illumos's name of an IP protocol (ipv4_protostr, ipv6_nextstr), else
/// its number in decimal, NUL-padded; the same table as `bpf/protocols.h`
/// (compared by probes/tests/event_layout.rs).
pub fn protocol_name(proto: u8) -> [u8; 8] {
    let name = match proto {
        0 => "HOPOPTS",
        1 => "ICMP",
        2 => "IGMP",
        6 => "TCP",
        17 => "UDP",
        41 => "IPv6",
        43 => "ROUTE",
        44 => "FRAGMENT",
        50 => "ESP",
        51 => "AH",
        58 => "ICMPv6",
        59 => "NONE",
        60 => "DSTOPTS",
        132 => "SCTP",
        255 => "RAW",
        n => return padded(&n.to_string()),
    };
    padded(name)
}

fn padded(s: &str) -> [u8; 8] {
    let mut out = [0u8; 8];
    out[..s.len()].copy_from_slice(s.as_bytes());
    out
}
