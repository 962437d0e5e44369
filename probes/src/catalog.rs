//! The provider catalog: every probe rdtrace knows (with stable dtrace-like
//! IDs, as `rdtrace -l` prints them), the argument structs with illumos/Oracle
//! member names and types, where each member lives in the event record, and
//! the providers' constants.

use crate::event::EventHeader;
use crate::providers::PROVIDERS;
use rdtrace_lang::catalog::{
    ArgDef, Catalog, ConstDef, FieldSource, Layout, MemberDef, ProbeDef, ProbeKind, StructDef,
};
use rdtrace_lang::types::{IntType, Type};
use std::mem::offset_of;

pub use crate::providers::dtrace::{DTRACE_BEGIN, DTRACE_END, DTRACE_ERROR};
pub use crate::providers::ip::{IP_RECEIVE, IP_SEND, LAYOUT_IP};
pub use crate::providers::tcp::{
    LAYOUT_TCP, TCP_ACCEPT_ESTABLISHED, TCP_ACCEPT_REFUSED, TCP_CONNECT_ESTABLISHED,
    TCP_CONNECT_REFUSED, TCP_CONNECT_REQUEST, TCP_RECEIVE, TCP_SEND, TCP_STATE_CHANGE,
};
pub use crate::providers::udp::{LAYOUT_UDP, UDP_RECEIVE, UDP_SEND};

/// Layout of records that carry only an [`EventHeader`].
pub const LAYOUT_HEADER: u32 = 0;

/// Structs every packet provider shares (`args[0..3]`).
const PACKET_STRUCTS: [&str; 3] = ["pktinfo_t", "csinfo_t", "ipinfo_t"];

pub(crate) const UINTPTR: IntType = IntType::UINT64;
pub(crate) const PID_T: IntType = IntType::INT;

/// The full catalog: the fold of every registered provider's probes,
/// structs, layouts, constants and string tables.
pub fn catalog() -> Catalog {
    let all_structs = structs();
    let declared = |names: &[&str]| -> Vec<StructDef> {
        names
            .iter()
            .map(|n| {
                all_structs
                    .iter()
                    .find(|s| s.name == *n)
                    .cloned()
                    .unwrap_or_else(|| panic!("struct {n} has no definition"))
            })
            .collect()
    };
    let mut c = Catalog {
        structs: declared(&PACKET_STRUCTS),
        layouts: vec![Layout {
            id: LAYOUT_HEADER,
            members: Vec::new(),
            builtins: header_builtins(),
        }],
        ..Catalog::default()
    };
    for p in PROVIDERS {
        c.probes.extend(p.probes());
        c.structs.extend(declared(p.struct_names()));
        c.layouts.extend(p.layouts());
        c.constants.extend(p.constants());
        c.string_tables.extend(p.string_tables());
        c.param_probes.extend(p.param_probes());
    }
    c
}

/// One event probe of a provider: id, function (the kernel hook), name,
/// layout and argument types.
pub(crate) struct Spec {
    id: u32,
    function: &'static str,
    name: &'static str,
    layout: u32,
    args: fn() -> Vec<ArgDef>,
}

impl Spec {
    pub(crate) const fn new(
        id: u32,
        function: &'static str,
        name: &'static str,
        layout: u32,
        args: fn() -> Vec<ArgDef>,
    ) -> Spec {
        Spec {
            id,
            function,
            name,
            layout,
            args,
        }
    }
}

/// The catalog rows of `provider`'s event probes.
pub(crate) fn probe_defs(provider: &str, specs: &[Spec]) -> Vec<ProbeDef> {
    specs
        .iter()
        .map(|p| ProbeDef {
            id: p.id,
            provider: provider.into(),
            module: String::new(),
            function: p.function.into(),
            name: p.name.into(),
            kind: ProbeKind::Event { layout: p.layout },
            args: (p.args)(),
            unavailable: None,
        })
        .collect()
}

/// A packet record's layout: its members plus the header's built-ins.
pub(crate) fn packet_layout(id: u32, members: Members) -> Layout {
    Layout {
        id,
        members,
        builtins: header_builtins(),
    }
}

pub(crate) fn int_const((name, value): (&str, i64)) -> ConstDef {
    ConstDef {
        name: name.into(),
        value,
        ty: Type::Int(IntType::INT),
    }
}

pub(crate) fn ptr_arg(st: &str) -> ArgDef {
    ArgDef {
        ty: Type::StructPtr(st.into()),
        display: format!("{st} *"),
        source: None,
    }
}

pub(crate) fn ptr_args(structs: &[&str]) -> Vec<ArgDef> {
    structs.iter().map(|st| ptr_arg(st)).collect()
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

pub(crate) fn load(offset: usize, int: IntType) -> FieldSource {
    FieldSource::Load {
        offset: offset as u32,
        int,
    }
}

/// An address at `addr` whose IP version byte is at `version`.
pub(crate) fn inet(addr: usize, version: usize) -> FieldSource {
    FieldSource::InetAddr {
        addr: addr as u32,
        version: version as u32,
    }
}

pub(crate) type Members = Vec<(String, String, FieldSource)>;

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

pub(crate) use packet_members;

pub(crate) fn member(st: &str, name: &str, src: FieldSource) -> (String, String, FieldSource) {
    (st.to_string(), name.to_string(), src)
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
    use crate::event::{IpEvent, TcpEvent, TcpSockState, UdpEvent};

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
