//! The udp provider: datagrams sent and received (`udp:::send`,
//! `udp:::receive`). Kernel part: `bpf/net.bpf.c`; replay: `replay.rs`.

use super::{net, Hook, Provider};
use crate::catalog::{
    inet, kernel_pointer, load, member, member_as, packet_members, probe_defs, ptr_args, Members,
    Spec, TypedLayout, UINTPTR,
};
use crate::event::UdpEvent;
use rdtrace_lang::catalog::{ArgDef, FieldSource, ProbeDef};
use rdtrace_lang::types::IntType;
use std::mem::offset_of;

pub const UDP_SEND: u32 = 14;
pub const UDP_RECEIVE: u32 = 15;

/// Layout of [`UdpEvent`] records (`udp:::send`, `udp:::receive`).
pub const LAYOUT_UDP: u32 = 3;

const PROBES: [Spec; 2] = [
    Spec::new(UDP_SEND, "net_dev_queue", "send", LAYOUT_UDP, udp_args),
    Spec::new(
        UDP_RECEIVE,
        "netif_receive_skb",
        "receive",
        LAYOUT_UDP,
        udp_args,
    ),
];

pub struct Udp;

impl Provider for Udp {
    fn name(&self) -> &'static str {
        "udp"
    }
    fn probes(&self) -> Vec<ProbeDef> {
        probe_defs("udp", &PROBES)
    }
    fn layouts(&self) -> Vec<TypedLayout> {
        vec![crate::catalog::packet_layout(LAYOUT_UDP, udp_members())]
    }
    fn hooks(&self, probe: u32, _socket_state: bool) -> Vec<Hook> {
        match probe {
            UDP_SEND => vec![net::SEND],
            _ => vec![net::RECEIVE],
        }
    }
    fn replays(&self) -> bool {
        true
    }
}

fn udp_args() -> Vec<ArgDef> {
    ptr_args(&[
        "pktinfo_t",
        "csinfo_t",
        "ipinfo_t",
        "udpsinfo_t",
        "udpinfo_t",
    ])
}

/// Members a [`UdpEvent`] provides (`udp_hdr` is a kernel pointer: not).
fn udp_members() -> Members {
    use IntType as I;
    let m = member;
    let ver = offset_of!(UdpEvent, ipver);
    let sk = offset_of!(UdpEvent, sk);
    let mut members = packet_members!(UdpEvent, FieldSource::Const(0));
    members.extend([
        m("udpsinfo_t", "udps_addr", load(sk, UINTPTR)),
        m(
            "udpsinfo_t",
            "udps_lport",
            load(offset_of!(UdpEvent, lport), I::UINT16),
        ),
        m(
            "udpsinfo_t",
            "udps_rport",
            load(offset_of!(UdpEvent, rport), I::UINT16),
        ),
        m(
            "udpsinfo_t",
            "udps_laddr",
            inet(offset_of!(UdpEvent, laddr), ver),
        ),
        m(
            "udpsinfo_t",
            "udps_raddr",
            inet(offset_of!(UdpEvent, raddr), ver),
        ),
        m(
            "udpinfo_t",
            "udp_sport",
            load(offset_of!(UdpEvent, sport), I::UINT16),
        ),
        m(
            "udpinfo_t",
            "udp_dport",
            load(offset_of!(UdpEvent, dport), I::UINT16),
        ),
        m(
            "udpinfo_t",
            "udp_length",
            load(offset_of!(UdpEvent, length), I::UINT16),
        ),
        m(
            "udpinfo_t",
            "udp_checksum",
            load(offset_of!(UdpEvent, checksum), I::UINT16),
        ),
        kernel_pointer("udpinfo_t", "udp_hdr"),
    ]);
    members
}
