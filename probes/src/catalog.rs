//! The provider catalog: every probe rdtrace knows (with stable dtrace-like
//! IDs, as `rdtrace -l` prints them), the argument structs with illumos/Oracle
//! member names and types, where each member lives in the event record, and
//! the providers' constants.

use crate::event::{EventHeader, IpEvent, TcpEvent, TcpSockState, UdpEvent};
use rdtrace_lang::catalog::{
    ArgDef, Catalog, ConstDef, FieldSource, Layout, MemberDef, ProbeDef, ProbeKind, StringTable,
    StructDef,
};
use rdtrace_lang::types::{IntType, Type};
use std::mem::offset_of;

pub const DTRACE_BEGIN: u32 = 1;
pub const DTRACE_END: u32 = 2;
pub const DTRACE_ERROR: u32 = 3;
pub const TCP_SEND: u32 = 4;
pub const TCP_RECEIVE: u32 = 5;
pub const TCP_STATE_CHANGE: u32 = 6;
pub const TCP_CONNECT_REQUEST: u32 = 7;
pub const TCP_CONNECT_ESTABLISHED: u32 = 8;
pub const TCP_CONNECT_REFUSED: u32 = 9;
pub const TCP_ACCEPT_ESTABLISHED: u32 = 10;
pub const TCP_ACCEPT_REFUSED: u32 = 11;
pub const IP_SEND: u32 = 12;
pub const IP_RECEIVE: u32 = 13;
pub const UDP_SEND: u32 = 14;
pub const UDP_RECEIVE: u32 = 15;

/// Layout of records that carry only an [`EventHeader`].
pub const LAYOUT_HEADER: u32 = 0;
/// Layout of [`TcpEvent`] records (`tcp:::*`).
pub const LAYOUT_TCP: u32 = 1;
/// Layout of [`IpEvent`] records (`ip:::send`, `ip:::receive`).
pub const LAYOUT_IP: u32 = 2;
/// Layout of [`UdpEvent`] records (`udp:::send`, `udp:::receive`).
pub const LAYOUT_UDP: u32 = 3;

/// Linux TCP states (`include/net/tcp_states.h`), as `TCP_STATE_*` carries them.
const TCP_STATES: [(&str, i64, &str); 14] = [
    ("TCP_STATE_IDLE", 0, "state-idle"),
    ("TCP_STATE_ESTABLISHED", 1, "state-established"),
    ("TCP_STATE_SYN_SENT", 2, "state-syn-sent"),
    ("TCP_STATE_SYN_RECEIVED", 3, "state-syn-received"),
    ("TCP_STATE_FIN_WAIT_1", 4, "state-fin-wait-1"),
    ("TCP_STATE_FIN_WAIT_2", 5, "state-fin-wait-2"),
    ("TCP_STATE_TIME_WAIT", 6, "state-time-wait"),
    ("TCP_STATE_CLOSED", 7, "state-closed"),
    ("TCP_STATE_CLOSE_WAIT", 8, "state-close-wait"),
    ("TCP_STATE_LAST_ACK", 9, "state-last-ack"),
    ("TCP_STATE_LISTEN", 10, "state-listen"),
    ("TCP_STATE_CLOSING", 11, "state-closing"),
    // Linux TCP_NEW_SYN_RECV: a request socket, i.e. a connection in SYN_RECEIVED.
    ("TCP_STATE_NEW_SYN_RECEIVED", 12, "state-syn-received"),
    // Linux TCP_BOUND_INACTIVE: bound, neither listening nor connected.
    ("TCP_STATE_BOUND", 13, "state-bound"),
];

const TH_FLAGS: [(&str, i64); 9] = [
    ("TH_FIN", 0x01),
    ("TH_SYN", 0x02),
    ("TH_RST", 0x04),
    ("TH_PUSH", 0x08),
    ("TH_PSH", 0x08),
    ("TH_ACK", 0x10),
    ("TH_URG", 0x20),
    ("TH_ECE", 0x40),
    ("TH_CWR", 0x80),
];

/// `ipv4_flags` bits, as illumos defines them.
const IPH_FLAGS: [(&str, i64); 2] = [("IPH_DF", 0x40), ("IPH_MF", 0x20)];

const UINTPTR: IntType = IntType::UINT64;
const PID_T: IntType = IntType::INT;

/// One provider probe: id, provider, function (the kernel hook), name,
/// layout and argument types.
struct Spec {
    id: u32,
    provider: &'static str,
    function: &'static str,
    name: &'static str,
    layout: u32,
    args: fn() -> Vec<ArgDef>,
}

const PROBES: [Spec; 12] = [
    Spec {
        id: TCP_SEND,
        provider: "tcp",
        function: "net_dev_queue",
        name: "send",
        layout: LAYOUT_TCP,
        args: tcp_args,
    },
    Spec {
        id: TCP_RECEIVE,
        provider: "tcp",
        function: "netif_receive_skb",
        name: "receive",
        layout: LAYOUT_TCP,
        args: tcp_args,
    },
    Spec {
        id: TCP_STATE_CHANGE,
        provider: "tcp",
        function: "inet_sock_set_state",
        name: "state-change",
        layout: LAYOUT_TCP,
        args: state_change_args,
    },
    Spec {
        id: TCP_CONNECT_REQUEST,
        provider: "tcp",
        function: "net_dev_queue",
        name: "connect-request",
        layout: LAYOUT_TCP,
        args: tcp_args,
    },
    Spec {
        id: TCP_CONNECT_ESTABLISHED,
        provider: "tcp",
        function: "inet_sock_set_state",
        name: "connect-established",
        layout: LAYOUT_TCP,
        args: tcp_args,
    },
    Spec {
        id: TCP_CONNECT_REFUSED,
        provider: "tcp",
        function: "netif_receive_skb",
        name: "connect-refused",
        layout: LAYOUT_TCP,
        args: tcp_args,
    },
    Spec {
        id: TCP_ACCEPT_ESTABLISHED,
        provider: "tcp",
        function: "inet_sock_set_state",
        name: "accept-established",
        layout: LAYOUT_TCP,
        args: tcp_args,
    },
    Spec {
        id: TCP_ACCEPT_REFUSED,
        provider: "tcp",
        function: "net_dev_queue",
        name: "accept-refused",
        layout: LAYOUT_TCP,
        args: tcp_args,
    },
    Spec {
        id: IP_SEND,
        provider: "ip",
        function: "net_dev_queue",
        name: "send",
        layout: LAYOUT_IP,
        args: ip_args,
    },
    Spec {
        id: IP_RECEIVE,
        provider: "ip",
        function: "netif_receive_skb",
        name: "receive",
        layout: LAYOUT_IP,
        args: ip_args,
    },
    Spec {
        id: UDP_SEND,
        provider: "udp",
        function: "net_dev_queue",
        name: "send",
        layout: LAYOUT_UDP,
        args: udp_args,
    },
    Spec {
        id: UDP_RECEIVE,
        provider: "udp",
        function: "netif_receive_skb",
        name: "receive",
        layout: LAYOUT_UDP,
        args: udp_args,
    },
];

/// The full catalog: dtrace, tcp, ip and udp providers.
pub fn catalog() -> Catalog {
    let mut probes = vec![
        special(DTRACE_BEGIN, "BEGIN", ProbeKind::Begin),
        special(DTRACE_END, "END", ProbeKind::End),
        special(DTRACE_ERROR, "ERROR", ProbeKind::Error),
    ];
    probes.extend(PROBES.iter().map(|p| ProbeDef {
        id: p.id,
        provider: p.provider.into(),
        module: String::new(),
        function: p.function.into(),
        name: p.name.into(),
        kind: ProbeKind::Event { layout: p.layout },
        args: (p.args)(),
        unavailable: None,
    }));

    let int_const = |(name, value): (&str, i64)| ConstDef {
        name: name.into(),
        value,
        ty: Type::Int(IntType::INT),
    };
    let mut constants: Vec<ConstDef> = TH_FLAGS.iter().copied().map(int_const).collect();
    constants.extend(IPH_FLAGS.iter().copied().map(int_const));
    constants.extend(
        TCP_STATES
            .iter()
            .map(|&(name, value, _)| int_const((name, value))),
    );

    Catalog {
        probes,
        structs: structs(),
        layouts: vec![
            Layout {
                id: LAYOUT_HEADER,
                members: Vec::new(),
                builtins: header_builtins(),
            },
            Layout {
                id: LAYOUT_TCP,
                members: tcp_members(),
                builtins: header_builtins(),
            },
            Layout {
                id: LAYOUT_IP,
                members: ip_members(),
                builtins: header_builtins(),
            },
            Layout {
                id: LAYOUT_UDP,
                members: udp_members(),
                builtins: header_builtins(),
            },
        ],
        constants,
        string_tables: vec![StringTable {
            name: "tcp_state_string".into(),
            entries: TCP_STATES.iter().map(|&(_, _, s)| s.to_string()).collect(),
        }],
    }
}

fn special(id: u32, name: &str, kind: ProbeKind) -> ProbeDef {
    let args = if kind == ProbeKind::Error {
        error_args()
    } else {
        Vec::new()
    };
    ProbeDef {
        id,
        provider: "dtrace".into(),
        module: String::new(),
        function: String::new(),
        name: name.into(),
        kind,
        args,
        unavailable: None,
    }
}

/// `dtrace:::ERROR`'s arg0..arg5: six u64 right after the [`EventHeader`] of
/// the record the runtime builds for it (`rdtrace_runtime::ERROR_ARGS_OFFSET`):
/// arg1 epid, arg2 action index, arg3 DIF offset, arg4 fault code, arg5 address.
fn error_args() -> Vec<ArgDef> {
    (0..6)
        .map(|i| ArgDef {
            ty: Type::Int(IntType::UINT64),
            display: "uint64_t".into(),
            source: Some(load(
                std::mem::size_of::<EventHeader>() + 8 * i,
                IntType::UINT64,
            )),
        })
        .collect()
}

fn ptr_arg(st: &str) -> ArgDef {
    ArgDef {
        ty: Type::StructPtr(st.into()),
        display: format!("{st} *"),
        source: None,
    }
}

fn ptr_args(structs: &[&str]) -> Vec<ArgDef> {
    structs.iter().map(|st| ptr_arg(st)).collect()
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

fn udp_args() -> Vec<ArgDef> {
    ptr_args(&[
        "pktinfo_t",
        "csinfo_t",
        "ipinfo_t",
        "udpsinfo_t",
        "udpinfo_t",
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

fn int(t: IntType) -> Type {
    Type::Int(t)
}

fn structs() -> Vec<StructDef> {
    use IntType as I;
    let def = |name: &str, members: &[(&str, Type)]| StructDef {
        name: name.into(),
        members: members
            .iter()
            .map(|(n, ty)| MemberDef {
                name: n.to_string(),
                ty: ty.clone(),
            })
            .collect(),
    };
    let (u8t, u16t, u32t, i32t) = (int(I::UINT8), int(I::UINT16), int(I::UINT32), int(I::INT));
    let (ptr, string) = (int(UINTPTR), Type::String);
    vec![
        def("pktinfo_t", &[("pkt_addr", ptr.clone())]),
        def(
            "csinfo_t",
            &[
                ("cs_addr", ptr.clone()),
                ("cs_cid", int(I::UINT64)),
                ("cs_pid", int(PID_T)),
            ],
        ),
        def(
            "ipinfo_t",
            &[
                ("ip_ver", u8t.clone()),
                ("ip_plength", u32t.clone()),
                ("ip_saddr", string.clone()),
                ("ip_daddr", string.clone()),
            ],
        ),
        def(
            "tcpsinfo_t",
            &[
                ("tcps_addr", ptr.clone()),
                ("tcps_local", i32t.clone()),
                ("tcps_active", i32t.clone()),
                ("tcps_lport", u16t.clone()),
                ("tcps_rport", u16t.clone()),
                ("tcps_laddr", string.clone()),
                ("tcps_raddr", string.clone()),
                ("tcps_state", i32t.clone()),
                ("tcps_iss", u32t.clone()),
                ("tcps_irs", u32t.clone()),
                ("tcps_suna", u32t.clone()),
                ("tcps_snxt", u32t.clone()),
                ("tcps_rack", u32t.clone()),
                ("tcps_rnxt", u32t.clone()),
                ("tcps_swnd", u32t.clone()),
                ("tcps_snd_ws", i32t.clone()),
                ("tcps_rwnd", u32t.clone()),
                ("tcps_rcv_ws", i32t.clone()),
                ("tcps_cwnd", u32t.clone()),
                ("tcps_cwnd_ssthresh", u32t.clone()),
                ("tcps_sack_fack", u32t.clone()),
                ("tcps_sack_snxt", u32t.clone()),
                ("tcps_rto", u32t.clone()),
                ("tcps_mss", u32t.clone()),
                ("tcps_retransmit", i32t.clone()),
                ("tcps_rtt", i32t.clone()),
                ("tcps_rtt_sd", i32t.clone()),
            ],
        ),
        def("tcplsinfo_t", &[("tcps_state", i32t.clone())]),
        def(
            "tcpinfo_t",
            &[
                ("tcp_sport", u16t.clone()),
                ("tcp_dport", u16t.clone()),
                ("tcp_seq", u32t.clone()),
                ("tcp_ack", u32t.clone()),
                ("tcp_offset", u8t.clone()),
                ("tcp_flags", u8t.clone()),
                ("tcp_window", u16t.clone()),
                ("tcp_checksum", u16t.clone()),
                ("tcp_urgent", u16t.clone()),
                ("tcp_hdr", ptr.clone()),
            ],
        ),
        def(
            "ifinfo_t",
            &[
                ("if_name", string.clone()),
                ("if_local", int(I::CHAR)),
                ("if_ipstack", i32t.clone()),
                ("if_addr", ptr.clone()),
            ],
        ),
        def(
            "ipv4info_t",
            &[
                ("ipv4_ver", u8t.clone()),
                ("ipv4_ihl", u8t.clone()),
                ("ipv4_tos", u8t.clone()),
                ("ipv4_length", u16t.clone()),
                ("ipv4_ident", u16t.clone()),
                ("ipv4_flags", u8t.clone()),
                ("ipv4_offset", u16t.clone()),
                ("ipv4_ttl", u8t.clone()),
                ("ipv4_protocol", u8t.clone()),
                ("ipv4_protostr", string.clone()),
                ("ipv4_checksum", u16t.clone()),
                ("ipv4_src", u32t.clone()),
                ("ipv4_dst", u32t.clone()),
                ("ipv4_saddr", string.clone()),
                ("ipv4_daddr", string.clone()),
                ("ipv4_hdr", ptr.clone()),
            ],
        ),
        def(
            "ipv6info_t",
            &[
                ("ipv6_ver", u8t.clone()),
                ("ipv6_tclass", u8t.clone()),
                ("ipv6_flow", u32t.clone()),
                ("ipv6_plen", u16t.clone()),
                ("ipv6_nexthdr", u8t.clone()),
                ("ipv6_nextstr", string.clone()),
                ("ipv6_hlim", u8t.clone()),
                ("ipv6_src", ptr.clone()),
                ("ipv6_dst", ptr.clone()),
                ("ipv6_saddr", string.clone()),
                ("ipv6_daddr", string.clone()),
                ("ipv6_hdr", ptr.clone()),
            ],
        ),
        def(
            "udpinfo_t",
            &[
                ("udp_sport", u16t.clone()),
                ("udp_dport", u16t.clone()),
                ("udp_length", u16t.clone()),
                ("udp_checksum", u16t),
                ("udp_hdr", ptr.clone()),
            ],
        ),
        def(
            "udpsinfo_t",
            &[
                ("udps_addr", ptr),
                ("udps_lport", int(I::UINT16)),
                ("udps_rport", int(I::UINT16)),
                ("udps_laddr", string.clone()),
                ("udps_raddr", string),
            ],
        ),
    ]
}

fn load(offset: usize, int: IntType) -> FieldSource {
    FieldSource::Load {
        offset: offset as u32,
        int,
    }
}

/// An address at `addr` whose IP version byte is at `version`.
fn inet(addr: usize, version: usize) -> FieldSource {
    FieldSource::InetAddr {
        addr: addr as u32,
        version: version as u32,
    }
}

type Members = Vec<(String, String, FieldSource)>;

/// The rows every packet record shares: pktinfo_t, csinfo_t (the socket
/// address as `cs_addr`/`cs_cid`, stable for the connection's life;
/// `cs_pid` from `$pid`) and ipinfo_t, from a record type with `sk`,
/// `ipver`, `ip_plength`, `saddr` and `daddr`.
macro_rules! packet_members {
    ($ev:ty, $pid:expr) => {{
        let sk = offset_of!($ev, sk);
        let ver = offset_of!($ev, ipver);
        vec![
            member("pktinfo_t", "pkt_addr", FieldSource::Const(0)),
            member("csinfo_t", "cs_addr", load(sk, UINTPTR)),
            member("csinfo_t", "cs_cid", load(sk, IntType::UINT64)),
            member("csinfo_t", "cs_pid", $pid),
            member("ipinfo_t", "ip_ver", load(ver, IntType::UINT8)),
            member(
                "ipinfo_t",
                "ip_plength",
                load(offset_of!($ev, ip_plength), IntType::UINT32),
            ),
            member("ipinfo_t", "ip_saddr", inet(offset_of!($ev, saddr), ver)),
            member("ipinfo_t", "ip_daddr", inet(offset_of!($ev, daddr), ver)),
        ]
    }};
}

fn member(st: &str, name: &str, src: FieldSource) -> (String, String, FieldSource) {
    (st.to_string(), name.to_string(), src)
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
        m(
            "tcpsinfo_t",
            "tcps_local",
            load(sock(offset_of!(TcpSockState, local)), I::UINT8),
        ),
        m(
            "tcpsinfo_t",
            "tcps_active",
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
        m(
            "tcpsinfo_t",
            "tcps_snd_ws",
            load(sock(offset_of!(TcpSockState, snd_ws)), I::UINT8),
        ),
        m(
            "tcpsinfo_t",
            "tcps_rwnd",
            load(sock(offset_of!(TcpSockState, rwnd)), I::UINT32),
        ),
        m(
            "tcpsinfo_t",
            "tcps_rcv_ws",
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
    ]);
    members
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
    ]);
    members
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
    ]);
    members
}

/// Built-in variables every record provides through its [`EventHeader`].
/// `timestamp` comes from the runtime (it adjusts `ts_ns`), so it is not here.
/// In softirq context (most receives, some sends) pid/tid/ppid/uid/gid/execname
/// describe whichever task the interrupt happened to hit.
fn header_builtins() -> Vec<(String, FieldSource)> {
    let h = |name: &str, src: FieldSource| (name.to_string(), src);
    vec![
        h("cpu", load(offset_of!(EventHeader, cpu), IntType::INT)),
        h("pid", load(offset_of!(EventHeader, pid), PID_T)),
        h("tid", load(offset_of!(EventHeader, tid), PID_T)),
        h("ppid", load(offset_of!(EventHeader, ppid), PID_T)),
        h("uid", load(offset_of!(EventHeader, uid), IntType::UINT32)),
        h("gid", load(offset_of!(EventHeader, gid), IntType::UINT32)),
        h(
            "execname",
            FieldSource::Chars {
                offset: offset_of!(EventHeader, comm) as u32,
                len: 16,
            },
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_every_probe_is_available() {
        let c = catalog();
        let mut ids: Vec<u32> = c.probes.iter().map(|p| p.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), c.probes.len());
        assert!(c.probes.iter().all(|p| p.unavailable.is_none()));
        let send = c.probe(TCP_SEND).unwrap();
        assert_eq!(
            (send.provider.as_str(), send.name.as_str()),
            ("tcp", "send")
        );
        assert_eq!(send.args[2].display, "ipinfo_t *");
        let names: Vec<String> = c
            .probes
            .iter()
            .map(|p| format!("{}:::{}", p.provider, p.name))
            .collect();
        for want in [
            "tcp:::state-change",
            "tcp:::connect-request",
            "tcp:::connect-established",
            "tcp:::connect-refused",
            "tcp:::accept-established",
            "tcp:::accept-refused",
            "ip:::send",
            "ip:::receive",
            "udp:::send",
            "udp:::receive",
        ] {
            assert!(names.iter().any(|n| n == want), "{want} missing");
        }
    }

    #[test]
    fn argument_types_are_illumos_ones() {
        let c = catalog();
        let display = |id| -> Vec<String> {
            c.probe(id)
                .unwrap()
                .args
                .iter()
                .map(|a| a.display.clone())
                .collect()
        };
        assert_eq!(
            display(TCP_STATE_CHANGE),
            [
                "pktinfo_t *",
                "csinfo_t *",
                "void",
                "tcpsinfo_t *",
                "void",
                "tcplsinfo_t *"
            ]
        );
        assert_eq!(
            display(IP_RECEIVE),
            [
                "pktinfo_t *",
                "csinfo_t *",
                "ipinfo_t *",
                "ifinfo_t *",
                "ipv4info_t *",
                "ipv6info_t *"
            ]
        );
        assert_eq!(
            display(UDP_SEND),
            [
                "pktinfo_t *",
                "csinfo_t *",
                "ipinfo_t *",
                "udpsinfo_t *",
                "udpinfo_t *"
            ]
        );
    }

    /// Every declared member of the structs a layout's probes use is either
    /// provided or deliberately a kernel pointer rdtrace cannot follow.
    #[test]
    fn only_kernel_pointers_are_unavailable() {
        let c = catalog();
        let pointers = [
            "tcp_hdr", "ipv4_hdr", "ipv6_src", "ipv6_dst", "ipv6_hdr", "udp_hdr",
        ];
        for (layout, structs) in [
            (
                LAYOUT_TCP,
                &[
                    "pktinfo_t",
                    "csinfo_t",
                    "ipinfo_t",
                    "tcpsinfo_t",
                    "tcplsinfo_t",
                    "tcpinfo_t",
                ][..],
            ),
            (
                LAYOUT_IP,
                &[
                    "pktinfo_t",
                    "csinfo_t",
                    "ipinfo_t",
                    "ifinfo_t",
                    "ipv4info_t",
                    "ipv6info_t",
                ][..],
            ),
            (
                LAYOUT_UDP,
                &[
                    "pktinfo_t",
                    "csinfo_t",
                    "ipinfo_t",
                    "udpsinfo_t",
                    "udpinfo_t",
                ][..],
            ),
        ] {
            for st in structs {
                for m in &c.struct_def(st).unwrap().members {
                    let src = c.member_source(layout, st, &m.name);
                    assert_eq!(
                        src == FieldSource::Unavailable,
                        pointers.contains(&m.name.as_str()),
                        "layout {layout}: {st}.{}",
                        m.name
                    );
                }
            }
        }
    }

    #[test]
    fn every_layout_member_is_declared_with_a_fitting_type() {
        let c = catalog();
        let size = |l: u32| match l {
            LAYOUT_TCP => std::mem::size_of::<TcpEvent>(),
            LAYOUT_IP => std::mem::size_of::<IpEvent>(),
            LAYOUT_UDP => std::mem::size_of::<UdpEvent>(),
            _ => std::mem::size_of::<EventHeader>(),
        };
        for layout in &c.layouts {
            for (st, member, src) in &layout.members {
                let def = c
                    .struct_def(st)
                    .unwrap_or_else(|| panic!("{st} not declared"));
                let m = def
                    .members
                    .iter()
                    .find(|m| &m.name == member)
                    .unwrap_or_else(|| panic!("{st}.{member}"));
                match src {
                    FieldSource::Load { int, offset } => {
                        let Type::Int(decl) = m.ty else {
                            panic!("{st}.{member} is not an integer")
                        };
                        // Narrower loads are unsigned flags/shifts widened to `int`.
                        assert!(
                            *int == decl || (int.size < decl.size && !int.signed),
                            "{st}.{member}: load {int:?} for {decl:?}"
                        );
                        assert!(*offset as usize + int.size as usize <= size(layout.id));
                    }
                    FieldSource::InetAddr { addr, version } => {
                        assert_eq!(m.ty, Type::String, "{st}.{member}");
                        assert!(*addr as usize + 16 <= size(layout.id));
                        assert!((*version as usize) < size(layout.id));
                    }
                    FieldSource::Chars { offset, len } => {
                        assert_eq!(m.ty, Type::String, "{st}.{member}");
                        assert!((*offset + *len) as usize <= size(layout.id));
                    }
                    FieldSource::Const(_) => assert!(matches!(m.ty, Type::Int(_))),
                    FieldSource::Unavailable => panic!("{st}.{member} listed as unavailable"),
                }
            }
        }
    }

    #[test]
    fn constants_and_state_strings() {
        let c = catalog();
        assert_eq!(
            c.constant("TH_PSH").unwrap().value,
            c.constant("TH_PUSH").unwrap().value
        );
        assert_eq!(c.constant("TH_CWR").unwrap().value, 0x80);
        assert_eq!(c.constant("IPH_DF").unwrap().value, 0x40);
        let est = c.constant("TCP_STATE_ESTABLISHED").unwrap().value as usize;
        let table = c.string_table("tcp_state_string").unwrap();
        assert_eq!(table.entries[est], "state-established");
        let tw = c.constant("TCP_STATE_TIME_WAIT").unwrap().value as usize;
        assert_eq!(table.entries[tw], "state-time-wait");
        assert_eq!(
            table.entries[c.constant("TCP_STATE_CLOSED").unwrap().value as usize],
            "state-closed"
        );
    }

    #[test]
    fn state_members_read_the_socket_snapshot() {
        let c = catalog();
        let sock = offset_of!(TcpEvent, sock);
        assert_eq!(
            c.member_source(LAYOUT_TCP, "tcpsinfo_t", "tcps_state"),
            load(sock + offset_of!(TcpSockState, state), IntType::INT)
        );
        assert_eq!(
            c.member_source(LAYOUT_TCP, "tcplsinfo_t", "tcps_state"),
            load(sock + offset_of!(TcpSockState, prev_state), IntType::INT)
        );
        assert_eq!(
            c.member_source(LAYOUT_HEADER, "ipinfo_t", "ip_saddr"),
            FieldSource::Unavailable
        );
        assert!(matches!(
            c.builtin_source(LAYOUT_HEADER, "execname"),
            Some(FieldSource::Chars { len: 16, .. })
        ));
        assert!(c.builtin_source(LAYOUT_TCP, "timestamp").is_none());
    }
}
