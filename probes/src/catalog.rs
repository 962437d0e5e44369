//! The provider catalog: every probe rdtrace knows (with stable dtrace-like
//! IDs, as `rdtrace -l` prints them), the argument structs with illumos/Oracle
//! member names and types, where each member lives in the event record, and
//! the tcp provider's constants.

use crate::event::{EventHeader, TcpEvent};
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

/// Layout of records that carry only an [`EventHeader`].
pub const LAYOUT_HEADER: u32 = 0;
/// Layout of [`TcpEvent`] records (`tcp:::send`, `tcp:::receive`).
pub const LAYOUT_TCP: u32 = 1;

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

const UINTPTR: IntType = IntType::UINT64;
const PID_T: IntType = IntType::INT;

/// The full catalog: dtrace and tcp providers.
pub fn catalog() -> Catalog {
    let mut probes = vec![
        special(DTRACE_BEGIN, "BEGIN", ProbeKind::Begin),
        special(DTRACE_END, "END", ProbeKind::End),
        special(DTRACE_ERROR, "ERROR", ProbeKind::Error),
    ];
    let not_yet = |name: &str| Some(format!("tcp:::{name} is not available yet in rdtrace"));
    for (id, function, name, available, args) in [
        (TCP_SEND, "net_dev_queue", "send", true, tcp_args()),
        (
            TCP_RECEIVE,
            "netif_receive_skb",
            "receive",
            true,
            tcp_args(),
        ),
        (
            TCP_STATE_CHANGE,
            "inet_sock_set_state",
            "state-change",
            false,
            state_change_args(),
        ),
        (
            TCP_CONNECT_REQUEST,
            "net_dev_queue",
            "connect-request",
            false,
            tcp_args(),
        ),
        (
            TCP_CONNECT_ESTABLISHED,
            "netif_receive_skb",
            "connect-established",
            false,
            tcp_args(),
        ),
        (
            TCP_CONNECT_REFUSED,
            "netif_receive_skb",
            "connect-refused",
            false,
            tcp_args(),
        ),
        (
            TCP_ACCEPT_ESTABLISHED,
            "netif_receive_skb",
            "accept-established",
            false,
            tcp_args(),
        ),
        (
            TCP_ACCEPT_REFUSED,
            "net_dev_queue",
            "accept-refused",
            false,
            tcp_args(),
        ),
    ] {
        probes.push(ProbeDef {
            id,
            provider: "tcp".into(),
            module: String::new(),
            function: function.into(),
            name: name.into(),
            kind: ProbeKind::Event { layout: LAYOUT_TCP },
            args,
            unavailable: if available { None } else { not_yet(name) },
        });
    }

    let mut constants: Vec<ConstDef> = TH_FLAGS
        .iter()
        .map(|&(name, value)| ConstDef {
            name: name.into(),
            value,
            ty: Type::Int(IntType::INT),
        })
        .collect();
    constants.extend(TCP_STATES.iter().map(|&(name, value, _)| ConstDef {
        name: name.into(),
        value,
        ty: Type::Int(IntType::INT),
    }));

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
        ],
        constants,
        string_tables: vec![StringTable {
            name: "tcp_state_string".into(),
            entries: TCP_STATES.iter().map(|&(_, _, s)| s.to_string()).collect(),
        }],
    }
}

fn special(id: u32, name: &str, kind: ProbeKind) -> ProbeDef {
    ProbeDef {
        id,
        provider: "dtrace".into(),
        module: String::new(),
        function: String::new(),
        name: name.into(),
        kind,
        args: Vec::new(),
        unavailable: None,
    }
}

fn ptr_arg(st: &str) -> ArgDef {
    ArgDef {
        ty: Type::StructPtr(st.into()),
        display: format!("{st} *"),
        source: None,
    }
}

fn tcp_args() -> Vec<ArgDef> {
    [
        "pktinfo_t",
        "csinfo_t",
        "ipinfo_t",
        "tcpsinfo_t",
        "tcpinfo_t",
    ]
    .into_iter()
    .map(ptr_arg)
    .collect()
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
    let def = |name: &str, members: Vec<(&str, Type)>| StructDef {
        name: name.into(),
        members: members
            .into_iter()
            .map(|(n, ty)| MemberDef { name: n.into(), ty })
            .collect(),
    };
    let u32t = int(IntType::UINT32);
    let i32t = int(IntType::INT);
    vec![
        def("pktinfo_t", vec![("pkt_addr", int(UINTPTR))]),
        def(
            "csinfo_t",
            vec![
                ("cs_addr", int(UINTPTR)),
                ("cs_cid", int(IntType::UINT64)),
                ("cs_pid", int(PID_T)),
            ],
        ),
        def(
            "ipinfo_t",
            vec![
                ("ip_ver", int(IntType::UINT8)),
                ("ip_plength", u32t.clone()),
                ("ip_saddr", Type::String),
                ("ip_daddr", Type::String),
            ],
        ),
        def(
            "tcpsinfo_t",
            vec![
                ("tcps_addr", int(UINTPTR)),
                ("tcps_local", i32t.clone()),
                ("tcps_active", i32t.clone()),
                ("tcps_lport", int(IntType::UINT16)),
                ("tcps_rport", int(IntType::UINT16)),
                ("tcps_laddr", Type::String),
                ("tcps_raddr", Type::String),
                ("tcps_state", i32t.clone()),
                ("tcps_iss", u32t.clone()),
                ("tcps_irs", u32t.clone()),
                ("tcps_suna", u32t.clone()),
                ("tcps_snxt", u32t.clone()),
                ("tcps_rnxt", u32t.clone()),
                ("tcps_swnd", u32t.clone()),
                ("tcps_snd_ws", i32t.clone()),
                ("tcps_rwnd", u32t.clone()),
                ("tcps_rcv_ws", i32t.clone()),
                ("tcps_cwnd", u32t.clone()),
                ("tcps_cwnd_ssthresh", u32t.clone()),
                ("tcps_sack_snxt", u32t.clone()),
                ("tcps_rto", u32t.clone()),
                ("tcps_mss", u32t.clone()),
                ("tcps_retransmit", i32t.clone()),
                ("tcps_rtt", i32t.clone()),
                ("tcps_rtt_sd", i32t.clone()),
            ],
        ),
        def("tcplsinfo_t", vec![("tcps_state", i32t)]),
        def(
            "tcpinfo_t",
            vec![
                ("tcp_sport", int(IntType::UINT16)),
                ("tcp_dport", int(IntType::UINT16)),
                ("tcp_seq", u32t.clone()),
                ("tcp_ack", u32t),
                ("tcp_offset", int(IntType::UINT8)),
                ("tcp_flags", int(IntType::UINT8)),
                ("tcp_window", int(IntType::UINT16)),
                ("tcp_checksum", int(IntType::UINT16)),
                ("tcp_urgent", int(IntType::UINT16)),
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

fn inet(addr: usize) -> FieldSource {
    FieldSource::InetAddr {
        addr: addr as u32,
        version: offset_of!(TcpEvent, ipver) as u32,
    }
}

/// Members a [`TcpEvent`] provides. Members declared in [`structs`] but absent
/// here (pkt_addr, cs_pid, tcps_local, tcps_active, tcps_state and the
/// socket's sequence/window state) are Unavailable until the kernel side
/// records them.
fn tcp_members() -> Vec<(String, String, FieldSource)> {
    use IntType as I;
    let m = |st: &str, name: &str, src: FieldSource| (st.to_string(), name.to_string(), src);
    let sk = offset_of!(TcpEvent, sk);
    vec![
        m("csinfo_t", "cs_addr", load(sk, UINTPTR)),
        // The socket address is stable for the connection's life.
        m("csinfo_t", "cs_cid", load(sk, I::UINT64)),
        m(
            "ipinfo_t",
            "ip_ver",
            load(offset_of!(TcpEvent, ipver), I::UINT8),
        ),
        m(
            "ipinfo_t",
            "ip_plength",
            load(offset_of!(TcpEvent, ip_plength), I::UINT32),
        ),
        m("ipinfo_t", "ip_saddr", inet(offset_of!(TcpEvent, saddr))),
        m("ipinfo_t", "ip_daddr", inet(offset_of!(TcpEvent, daddr))),
        m("tcpsinfo_t", "tcps_addr", load(sk, UINTPTR)),
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
            inet(offset_of!(TcpEvent, laddr)),
        ),
        m(
            "tcpsinfo_t",
            "tcps_raddr",
            inet(offset_of!(TcpEvent, raddr)),
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
    ]
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
    fn ids_are_unique_and_probe_fields_resolve() {
        let c = catalog();
        let mut ids: Vec<u32> = c.probes.iter().map(|p| p.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), c.probes.len());
        let send = c.probe(TCP_SEND).unwrap();
        assert_eq!(
            (send.provider.as_str(), send.name.as_str()),
            ("tcp", "send")
        );
        assert!(send.unavailable.is_none());
        assert_eq!(send.args[2].display, "ipinfo_t *");
        let refused = c.probe(TCP_CONNECT_REFUSED).unwrap();
        assert_eq!(
            refused.unavailable.as_deref(),
            Some("tcp:::connect-refused is not available yet in rdtrace")
        );
    }

    #[test]
    fn every_layout_member_is_declared_with_a_matching_type() {
        let c = catalog();
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
                        assert_eq!(m.ty, Type::Int(*int), "{st}.{member}");
                        assert!((*offset as usize) < std::mem::size_of::<TcpEvent>());
                    }
                    FieldSource::InetAddr { .. } => assert_eq!(m.ty, Type::String, "{st}.{member}"),
                    other => panic!("unexpected source {other:?} for {st}.{member}"),
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
    fn unfilled_members_are_unavailable() {
        let c = catalog();
        assert_eq!(
            c.member_source(LAYOUT_TCP, "tcpsinfo_t", "tcps_state"),
            FieldSource::Unavailable
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
