//! A small probe catalog for parser and checker tests, shaped like the real
//! one (probes/src/catalog.rs) but independent of it: dtrace:::BEGIN/END/ERROR,
//! tcp:::send/receive with illumos' argument structs, an unavailable
//! tcp:::state-change, ip:::send whose ipinfo_t lives elsewhere in its record,
//! and a syscall probe that is not available yet.
#![allow(dead_code)]

pub mod print;

use rdtrace_lang::catalog::*;
use rdtrace_lang::types::{IntType, Type};

fn int(size: u8, signed: bool) -> Type {
    Type::Int(IntType { size, signed })
}

fn member(name: &str, ty: Type) -> MemberDef {
    MemberDef {
        name: name.into(),
        ty,
    }
}

fn ptr_arg(s: &str) -> ArgDef {
    ArgDef {
        ty: Type::StructPtr(s.into()),
        display: format!("{s} *"),
        source: None,
    }
}

fn probe(
    id: u32,
    provider: &str,
    function: &str,
    name: &str,
    kind: ProbeKind,
    args: Vec<ArgDef>,
) -> ProbeDef {
    ProbeDef {
        id,
        provider: provider.into(),
        module: String::new(),
        function: function.into(),
        name: name.into(),
        kind,
        args,
        unavailable: None,
    }
}

fn load(offset: u32, int: IntType) -> FieldSource {
    FieldSource::Load { offset, int }
}

fn tcp_args() -> Vec<ArgDef> {
    [
        "pktinfo_t",
        "csinfo_t",
        "ipinfo_t",
        "tcpsinfo_t",
        "tcpinfo_t",
    ]
    .iter()
    .map(|s| ptr_arg(s))
    .collect()
}

fn builtins() -> Vec<(String, FieldSource)> {
    vec![
        ("cpu".into(), load(0, IntType::INT)),
        ("pid".into(), load(4, IntType::INT)),
        ("tid".into(), load(8, IntType::INT)),
        ("uid".into(), load(12, IntType::UINT32)),
        ("gid".into(), load(16, IntType::UINT32)),
        (
            "execname".into(),
            FieldSource::Chars {
                offset: 20,
                len: 16,
            },
        ),
        ("timestamp".into(), load(40, IntType::UINT64)),
    ]
}

/// Members of the tcp record (layout 1) and, shifted, of the ip record
/// (layout 2).
fn members(base: u32, with_tcp: bool) -> Vec<(String, String, FieldSource)> {
    let m = |s: &str, n: &str, src| (s.to_string(), n.to_string(), src);
    let mut v = vec![
        m("pktinfo_t", "pkt_addr", load(base, IntType::UINT64)),
        m("csinfo_t", "cs_addr", load(base + 8, IntType::UINT64)),
        m("csinfo_t", "cs_cid", load(base + 16, IntType::UINT64)),
        m("csinfo_t", "cs_pid", load(base + 24, IntType::INT)),
        m("ipinfo_t", "ip_ver", load(base + 28, IntType::UINT8)),
        m("ipinfo_t", "ip_plength", load(base + 32, IntType::UINT32)),
        m(
            "ipinfo_t",
            "ip_saddr",
            FieldSource::InetAddr {
                addr: base + 36,
                version: base + 28,
            },
        ),
        m(
            "ipinfo_t",
            "ip_daddr",
            FieldSource::InetAddr {
                addr: base + 52,
                version: base + 28,
            },
        ),
    ];
    if with_tcp {
        v.extend([
            m("tcpsinfo_t", "tcps_state", load(base + 68, IntType::INT)),
            m(
                "tcpsinfo_t",
                "tcps_laddr",
                FieldSource::InetAddr {
                    addr: base + 72,
                    version: base + 28,
                },
            ),
            m(
                "tcpsinfo_t",
                "tcps_raddr",
                FieldSource::InetAddr {
                    addr: base + 88,
                    version: base + 28,
                },
            ),
            m(
                "tcpsinfo_t",
                "tcps_lport",
                load(base + 104, IntType::UINT16),
            ),
            m(
                "tcpsinfo_t",
                "tcps_rport",
                load(base + 106, IntType::UINT16),
            ),
            m("tcpinfo_t", "tcp_sport", load(base + 108, IntType::UINT16)),
            m("tcpinfo_t", "tcp_dport", load(base + 110, IntType::UINT16)),
            m("tcpinfo_t", "tcp_seq", load(base + 112, IntType::UINT32)),
            m("tcpinfo_t", "tcp_ack", load(base + 116, IntType::UINT32)),
            m("tcpinfo_t", "tcp_offset", load(base + 120, IntType::UINT8)),
            m("tcpinfo_t", "tcp_flags", load(base + 121, IntType::UINT8)),
            m("tcpinfo_t", "tcp_window", load(base + 122, IntType::UINT16)),
            m(
                "tcpinfo_t",
                "tcp_checksum",
                load(base + 124, IntType::UINT16),
            ),
            m("tcpinfo_t", "tcp_urgent", load(base + 126, IntType::UINT16)),
        ]);
    }
    v
}

pub fn catalog() -> Catalog {
    let mut state_change = probe(
        6,
        "tcp",
        "inet_sock_set_state",
        "state-change",
        ProbeKind::Event { layout: 3 },
        tcp_args(),
    );
    state_change.unavailable = Some("tcp:::state-change is not available yet in rdtrace".into());
    let mut read_entry = probe(
        20,
        "syscall",
        "read",
        "entry",
        ProbeKind::Event { layout: 0 },
        vec![],
    );
    read_entry.unavailable = Some("the syscall provider is not available yet".into());
    let ip_args = vec![
        ptr_arg("pktinfo_t"),
        ptr_arg("csinfo_t"),
        ptr_arg("ipinfo_t"),
        ArgDef {
            ty: int(4, false),
            display: "uint32_t".into(),
            source: Some(load(300, IntType::UINT32)),
        },
    ];
    let tcp_kind = ProbeKind::Event { layout: 1 };
    Catalog {
        probes: vec![
            probe(1, "dtrace", "", "BEGIN", ProbeKind::Begin, vec![]),
            probe(2, "dtrace", "", "END", ProbeKind::End, vec![]),
            probe(3, "dtrace", "", "ERROR", ProbeKind::Error, vec![]),
            probe(
                4,
                "tcp",
                "net_dev_queue",
                "send",
                tcp_kind.clone(),
                tcp_args(),
            ),
            probe(
                5,
                "tcp",
                "netif_receive_skb",
                "receive",
                tcp_kind,
                tcp_args(),
            ),
            state_change,
            probe(
                10,
                "ip",
                "net_dev_queue",
                "send",
                ProbeKind::Event { layout: 2 },
                ip_args,
            ),
            read_entry,
        ],
        structs: vec![
            StructDef {
                name: "pktinfo_t".into(),
                members: vec![member("pkt_addr", int(8, false))],
            },
            StructDef {
                name: "csinfo_t".into(),
                members: vec![
                    member("cs_addr", int(8, false)),
                    member("cs_cid", int(8, false)),
                    member("cs_pid", int(4, true)),
                ],
            },
            StructDef {
                name: "ipinfo_t".into(),
                members: vec![
                    member("ip_ver", int(1, false)),
                    member("ip_plength", int(4, false)),
                    member("ip_saddr", Type::String),
                    member("ip_daddr", Type::String),
                ],
            },
            StructDef {
                name: "tcpsinfo_t".into(),
                members: vec![
                    member("tcps_state", int(4, true)),
                    member("tcps_laddr", Type::String),
                    member("tcps_raddr", Type::String),
                    member("tcps_lport", int(2, false)),
                    member("tcps_rport", int(2, false)),
                ],
            },
            StructDef {
                name: "tcpinfo_t".into(),
                members: vec![
                    member("tcp_sport", int(2, false)),
                    member("tcp_dport", int(2, false)),
                    member("tcp_seq", int(4, false)),
                    member("tcp_ack", int(4, false)),
                    member("tcp_offset", int(1, false)),
                    member("tcp_flags", int(1, false)),
                    member("tcp_window", int(2, false)),
                    member("tcp_checksum", int(2, false)),
                    member("tcp_urgent", int(2, false)),
                ],
            },
        ],
        layouts: vec![
            Layout {
                id: 0,
                members: vec![],
                builtins: builtins(),
                captures: None,
            },
            Layout {
                id: 1,
                members: members(64, true),
                builtins: builtins(),
                captures: None,
            },
            Layout {
                id: 2,
                members: members(128, false),
                builtins: builtins(),
                captures: None,
            },
        ],
        constants: [
            ("TH_FIN", 1),
            ("TH_SYN", 2),
            ("TH_RST", 4),
            ("TH_PUSH", 8),
            ("TH_PSH", 8),
            ("TH_ACK", 16),
            ("TH_URG", 32),
            ("TH_ECE", 64),
            ("TH_CWR", 128),
            ("TCP_STATE_CLOSED", 7),
            ("TCP_STATE_ESTABLISHED", 1),
        ]
        .iter()
        .map(|(n, v)| ConstDef {
            name: n.to_string(),
            value: *v,
            ty: int(4, true),
        })
        .collect(),
        param_probes: ["tick-", "profile-"]
            .into_iter()
            .zip([ParamKind::Tick, ParamKind::Profile])
            .map(|(prefix, kind)| ParamProbe {
                provider: "profile".into(),
                prefix: prefix.into(),
                kind,
                layout: 0,
            })
            .collect(),
        string_tables: vec![StringTable {
            name: "tcp_state_string".into(),
            entries: [
                "state-idle",
                "state-established",
                "state-syn-sent",
                "state-syn-received",
                "state-fin-wait-1",
                "state-fin-wait-2",
                "state-time-wait",
                "state-closed",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        }],
    }
}
