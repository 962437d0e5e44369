//! The tcp provider: segments sent and received and connection state
//! changes (illumos/Oracle `tcp:::*`). Kernel part: `bpf/net.bpf.c`
//! (send, receive and state-change hooks); replay: `replay_tcp.rs`.

use super::{net, Hook, Provider};
use crate::catalog::{
    inet, kernel_pointer, load, member, member_as, packet_members, probe_defs, ptr_arg, ptr_args,
    Members, Spec, TypedLayout, PID_T, UINTPTR,
};
use crate::event::{TcpEvent, TcpSockState};
use rdtrace_lang::catalog::{ArgDef, ConstDef, FieldSource, ProbeDef, StringTable};
use rdtrace_lang::types::{IntType, Type};
use std::mem::offset_of;

pub const TCP_SEND: u32 = 4;
pub const TCP_RECEIVE: u32 = 5;
pub const TCP_STATE_CHANGE: u32 = 6;
pub const TCP_CONNECT_REQUEST: u32 = 7;
pub const TCP_CONNECT_ESTABLISHED: u32 = 8;
pub const TCP_CONNECT_REFUSED: u32 = 9;
pub const TCP_ACCEPT_ESTABLISHED: u32 = 10;
pub const TCP_ACCEPT_REFUSED: u32 = 11;

/// `inet_sock_set_state`: TCP state changes (and the connection map).
pub const STATE_CHANGE: Hook = Hook::Raw {
    tracepoint: "inet_sock_set_state",
    btf_prog: "tcp_state",
    raw_prog: "tcp_state_raw",
};

/// Layout of [`TcpEvent`] records (`tcp:::*`).
pub const LAYOUT_TCP: u32 = 1;

/// Linux TCP states (`include/net/tcp_states.h`): the numbers `TCP_STATE_*`
/// carry. The one Rust definition; replay follows connections with them
/// and probes/tests/event_layout.rs compares them with `bpf/sockstate.h`.
pub mod state {
    pub const IDLE: i32 = 0;
    pub const ESTABLISHED: i32 = 1;
    pub const SYN_SENT: i32 = 2;
    pub const SYN_RECEIVED: i32 = 3;
    pub const FIN_WAIT_1: i32 = 4;
    pub const FIN_WAIT_2: i32 = 5;
    pub const TIME_WAIT: i32 = 6;
    pub const CLOSED: i32 = 7;
    pub const CLOSE_WAIT: i32 = 8;
    pub const LAST_ACK: i32 = 9;
    pub const LISTEN: i32 = 10;
    pub const CLOSING: i32 = 11;
    /// Linux TCP_NEW_SYN_RECV: a request socket, i.e. a connection in SYN_RECEIVED.
    pub const NEW_SYN_RECEIVED: i32 = 12;
    /// Linux TCP_BOUND_INACTIVE: bound, neither listening nor connected.
    pub const BOUND: i32 = 13;
}

/// TCP header flags (`TH_*`), shared by the catalog's constants, replay and
/// (compared by probes/tests/event_layout.rs) `bpf/net.bpf.c`.
pub mod flag {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PUSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
    pub const URG: u8 = 0x20;
    pub const ECE: u8 = 0x40;
    pub const CWR: u8 = 0x80;
}

/// D's name, value and `tcp_state_string` entry of every state.
pub const TCP_STATES: [(&str, i32, &str); 14] = [
    ("TCP_STATE_IDLE", state::IDLE, "state-idle"),
    (
        "TCP_STATE_ESTABLISHED",
        state::ESTABLISHED,
        "state-established",
    ),
    ("TCP_STATE_SYN_SENT", state::SYN_SENT, "state-syn-sent"),
    (
        "TCP_STATE_SYN_RECEIVED",
        state::SYN_RECEIVED,
        "state-syn-received",
    ),
    (
        "TCP_STATE_FIN_WAIT_1",
        state::FIN_WAIT_1,
        "state-fin-wait-1",
    ),
    (
        "TCP_STATE_FIN_WAIT_2",
        state::FIN_WAIT_2,
        "state-fin-wait-2",
    ),
    ("TCP_STATE_TIME_WAIT", state::TIME_WAIT, "state-time-wait"),
    ("TCP_STATE_CLOSED", state::CLOSED, "state-closed"),
    (
        "TCP_STATE_CLOSE_WAIT",
        state::CLOSE_WAIT,
        "state-close-wait",
    ),
    ("TCP_STATE_LAST_ACK", state::LAST_ACK, "state-last-ack"),
    ("TCP_STATE_LISTEN", state::LISTEN, "state-listen"),
    ("TCP_STATE_CLOSING", state::CLOSING, "state-closing"),
    (
        "TCP_STATE_NEW_SYN_RECEIVED",
        state::NEW_SYN_RECEIVED,
        "state-syn-received",
    ),
    ("TCP_STATE_BOUND", state::BOUND, "state-bound"),
];

/// D's name and value of every flag (`TH_PSH` is illumos's alias of `TH_PUSH`).
pub const TH_FLAGS: [(&str, u8); 9] = [
    ("TH_FIN", flag::FIN),
    ("TH_SYN", flag::SYN),
    ("TH_RST", flag::RST),
    ("TH_PUSH", flag::PUSH),
    ("TH_PSH", flag::PUSH),
    ("TH_ACK", flag::ACK),
    ("TH_URG", flag::URG),
    ("TH_ECE", flag::ECE),
    ("TH_CWR", flag::CWR),
];

const PROBES: [Spec; 8] = [
    Spec::new(TCP_SEND, "net_dev_queue", "send", LAYOUT_TCP, tcp_args),
    Spec::new(
        TCP_RECEIVE,
        "netif_receive_skb",
        "receive",
        LAYOUT_TCP,
        tcp_args,
    ),
    Spec::new(
        TCP_STATE_CHANGE,
        "inet_sock_set_state",
        "state-change",
        LAYOUT_TCP,
        state_change_args,
    ),
    Spec::new(
        TCP_CONNECT_REQUEST,
        "net_dev_queue",
        "connect-request",
        LAYOUT_TCP,
        tcp_args,
    ),
    Spec::new(
        TCP_CONNECT_ESTABLISHED,
        "inet_sock_set_state",
        "connect-established",
        LAYOUT_TCP,
        tcp_args,
    ),
    Spec::new(
        TCP_CONNECT_REFUSED,
        "netif_receive_skb",
        "connect-refused",
        LAYOUT_TCP,
        tcp_args,
    ),
    Spec::new(
        TCP_ACCEPT_ESTABLISHED,
        "inet_sock_set_state",
        "accept-established",
        LAYOUT_TCP,
        tcp_args,
    ),
    Spec::new(
        TCP_ACCEPT_REFUSED,
        "net_dev_queue",
        "accept-refused",
        LAYOUT_TCP,
        tcp_args,
    ),
];

pub struct Tcp;

impl Provider for Tcp {
    fn name(&self) -> &'static str {
        "tcp"
    }
    fn probes(&self) -> Vec<ProbeDef> {
        probe_defs("tcp", &PROBES)
    }
    fn layouts(&self) -> Vec<TypedLayout> {
        vec![crate::catalog::packet_layout(LAYOUT_TCP, tcp_members())]
    }
    fn constants(&self) -> Vec<ConstDef> {
        let flags = TH_FLAGS.iter().map(|&(n, v)| (n, i64::from(v)));
        let states = TCP_STATES.iter().map(|&(n, v, _)| (n, i64::from(v)));
        flags.chain(states).map(crate::catalog::int_const).collect()
    }
    fn string_tables(&self) -> Vec<StringTable> {
        vec![StringTable {
            name: "tcp_state_string".into(),
            entries: TCP_STATES.iter().map(|&(_, _, s)| s.to_string()).collect(),
        }]
    }
    /// Every tcp probe needs its packet or state hook; the state-change
    /// program also keeps the connection map, which send/receive alone
    /// need only when a clause reads the socket state.
    fn hooks(&self, probe: u32, socket_state: bool) -> Vec<Hook> {
        let mut hooks = vec![net::SEND, net::RECEIVE];
        if socket_state || (probe != TCP_SEND && probe != TCP_RECEIVE) {
            hooks.push(STATE_CHANGE);
        }
        hooks
    }
    fn replays(&self) -> bool {
        true
    }
}

fn tcp_args() -> Vec<ArgDef> {
    ptr_args(&[
        "pktinfo_t",
        "csinfo_t",
        "ipinfo_t",
        "tcpsinfo_t",
        "tcpinfo_t",
    ])
}

/// As in DTrace: args[2] and args[4] exist in the signature but carry no
/// segment; args[5] is the previous state.
fn state_change_args() -> Vec<ArgDef> {
    [
        "pktinfo_t",
        "csinfo_t",
        "void",
        "tcpsinfo_t",
        "void",
        "tcplsinfo_t",
    ]
    .into_iter()
    .map(|st| {
        if st == "void" {
            ArgDef {
                ty: Type::Void,
                display: "void".into(),
                source: Some(FieldSource::Unavailable),
            }
        } else {
            ptr_arg(st)
        }
    })
    .collect()
}

/// Members a [`TcpEvent`] provides. Pointers into kernel packets
/// (`tcp_hdr`) are not: rdtrace cannot dereference kernel memory. On
/// `tcp:::state-change`, args[2] and args[4] are void (no segment).
fn tcp_members() -> Members {
    use IntType as I;
    let m = member;
    let sk = offset_of!(TcpEvent, sk);
    let ver = offset_of!(TcpEvent, ipver);
    let sock = |off: usize| offset_of!(TcpEvent, sock) + off;
    let pid = load(sock(offset_of!(TcpSockState, pid)), PID_T);
    let mut members = packet_members!(TcpEvent, pid);
    members.extend([
        m("tcpsinfo_t", "tcps_addr", load(sk, UINTPTR)),
        member_as(
            "tcpsinfo_t",
            "tcps_local",
            I::INT,
            load(sock(offset_of!(TcpSockState, local)), I::UINT8),
        ),
        member_as(
            "tcpsinfo_t",
            "tcps_active",
            I::INT,
            load(sock(offset_of!(TcpSockState, active)), I::UINT8),
        ),
        m(
            "tcpsinfo_t",
            "tcps_lport",
            load(offset_of!(TcpEvent, lport), I::UINT16),
        ),
        m(
            "tcpsinfo_t",
            "tcps_rport",
            load(offset_of!(TcpEvent, rport), I::UINT16),
        ),
        m(
            "tcpsinfo_t",
            "tcps_laddr",
            inet(offset_of!(TcpEvent, laddr), ver),
        ),
        m(
            "tcpsinfo_t",
            "tcps_raddr",
            inet(offset_of!(TcpEvent, raddr), ver),
        ),
        m(
            "tcpsinfo_t",
            "tcps_state",
            load(sock(offset_of!(TcpSockState, state)), I::INT),
        ),
        m(
            "tcpsinfo_t",
            "tcps_iss",
            load(sock(offset_of!(TcpSockState, iss)), I::UINT32),
        ),
        m(
            "tcpsinfo_t",
            "tcps_irs",
            load(sock(offset_of!(TcpSockState, irs)), I::UINT32),
        ),
        m(
            "tcpsinfo_t",
            "tcps_suna",
            load(sock(offset_of!(TcpSockState, suna)), I::UINT32),
        ),
        m(
            "tcpsinfo_t",
            "tcps_snxt",
            load(sock(offset_of!(TcpSockState, snxt)), I::UINT32),
        ),
        m(
            "tcpsinfo_t",
            "tcps_rack",
            load(sock(offset_of!(TcpSockState, rack)), I::UINT32),
        ),
        m(
            "tcpsinfo_t",
            "tcps_rnxt",
            load(sock(offset_of!(TcpSockState, rnxt)), I::UINT32),
        ),
        m(
            "tcpsinfo_t",
            "tcps_swnd",
            load(sock(offset_of!(TcpSockState, swnd)), I::UINT32),
        ),
        member_as(
            "tcpsinfo_t",
            "tcps_snd_ws",
            I::INT,
            load(sock(offset_of!(TcpSockState, snd_ws)), I::UINT8),
        ),
        m(
            "tcpsinfo_t",
            "tcps_rwnd",
            load(sock(offset_of!(TcpSockState, rwnd)), I::UINT32),
        ),
        member_as(
            "tcpsinfo_t",
            "tcps_rcv_ws",
            I::INT,
            load(sock(offset_of!(TcpSockState, rcv_ws)), I::UINT8),
        ),
        m(
            "tcpsinfo_t",
            "tcps_cwnd",
            load(sock(offset_of!(TcpSockState, cwnd)), I::UINT32),
        ),
        m(
            "tcpsinfo_t",
            "tcps_cwnd_ssthresh",
            load(sock(offset_of!(TcpSockState, ssthresh)), I::UINT32),
        ),
        m(
            "tcpsinfo_t",
            "tcps_sack_fack",
            load(sock(offset_of!(TcpSockState, sack_fack)), I::UINT32),
        ),
        m(
            "tcpsinfo_t",
            "tcps_sack_snxt",
            load(sock(offset_of!(TcpSockState, sack_snxt)), I::UINT32),
        ),
        m(
            "tcpsinfo_t",
            "tcps_rto",
            load(sock(offset_of!(TcpSockState, rto)), I::UINT32),
        ),
        m(
            "tcpsinfo_t",
            "tcps_mss",
            load(sock(offset_of!(TcpSockState, mss)), I::UINT32),
        ),
        m(
            "tcpsinfo_t",
            "tcps_retransmit",
            load(sock(offset_of!(TcpSockState, retransmit)), I::INT),
        ),
        m(
            "tcpsinfo_t",
            "tcps_rtt",
            load(sock(offset_of!(TcpSockState, rtt)), I::INT),
        ),
        m(
            "tcpsinfo_t",
            "tcps_rtt_sd",
            load(sock(offset_of!(TcpSockState, rtt_sd)), I::INT),
        ),
        m(
            "tcplsinfo_t",
            "tcps_state",
            load(sock(offset_of!(TcpSockState, prev_state)), I::INT),
        ),
        m(
            "tcpinfo_t",
            "tcp_sport",
            load(offset_of!(TcpEvent, sport), I::UINT16),
        ),
        m(
            "tcpinfo_t",
            "tcp_dport",
            load(offset_of!(TcpEvent, dport), I::UINT16),
        ),
        m(
            "tcpinfo_t",
            "tcp_seq",
            load(offset_of!(TcpEvent, seq), I::UINT32),
        ),
        m(
            "tcpinfo_t",
            "tcp_ack",
            load(offset_of!(TcpEvent, ack), I::UINT32),
        ),
        m(
            "tcpinfo_t",
            "tcp_offset",
            load(offset_of!(TcpEvent, tcp_offset), I::UINT8),
        ),
        m(
            "tcpinfo_t",
            "tcp_flags",
            load(offset_of!(TcpEvent, tcp_flags), I::UINT8),
        ),
        m(
            "tcpinfo_t",
            "tcp_window",
            load(offset_of!(TcpEvent, window), I::UINT16),
        ),
        m(
            "tcpinfo_t",
            "tcp_checksum",
            load(offset_of!(TcpEvent, checksum), I::UINT16),
        ),
        m(
            "tcpinfo_t",
            "tcp_urgent",
            load(offset_of!(TcpEvent, urgent), I::UINT16),
        ),
        kernel_pointer("tcpinfo_t", "tcp_hdr"),
    ]);
    members
}
