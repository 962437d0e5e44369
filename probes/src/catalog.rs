//! The provider catalog: every probe rdtrace knows (with stable dtrace-like
//! IDs, as `rdtrace -l` prints them), the argument structs with illumos/Oracle
//! member names and types, where each member lives in the event record, and
//! the providers' constants.

use crate::event::EventHeader;
use crate::providers::PROVIDERS;
use rdtrace_lang::catalog::{
    ArgDef, CaptureArea, Catalog, ConstDef, FieldSource, Layout, MemberDef, ProbeDef, ProbeKind,
    StructDef,
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

pub(crate) const UINTPTR: IntType = IntType::UINT64;
pub(crate) const PID_T: IntType = IntType::INT;

/// The full catalog: the fold of every registered provider's probes,
/// layouts, constants and string tables. The struct types are the union of
/// the layouts' member rows, so each member is written once, with its type,
/// where its value lives.
pub fn catalog() -> Catalog {
    catalog_for(&|_| true)
}

/// The catalog for a program that may enable only probes `wanted` accepts
/// (provider, module, function, name): the others are listed, but a
/// provider may leave out their arguments ([`crate::providers::Provider::probes_for`]).
pub fn catalog_for(wanted: &dyn Fn(&[&str; 4]) -> bool) -> Catalog {
    let mut c = Catalog {
        layouts: vec![Layout {
            id: LAYOUT_HEADER,
            members: curcpu_rows()
                .into_iter()
                .map(|r| (r.view.to_string(), r.name.to_string(), r.src))
                .collect(),
            builtins: header_builtins(),
            captures: None,
        }],
        ..Catalog::default()
    };
    for p in PROVIDERS {
        c.probes.extend(p.probes_for(wanted));
        for layout in p.layouts() {
            declare_members(&mut c.structs, &layout.members);
            c.layouts.push(layout.into_layout());
        }
        c.constants.extend(p.constants());
        c.string_tables.extend(p.string_tables());
        c.param_probes.extend(p.param_probes());
    }
    c
}

/// Adds every row's member to its struct (in first-seen order). Two
/// layouts that type one member differently are a bug in a provider.
fn declare_members(structs: &mut Vec<StructDef>, rows: &[MemberRow]) {
    for row in rows {
        let def = match structs.iter().position(|s| s.name == row.st) {
            Some(i) => &mut structs[i],
            None => {
                structs.push(StructDef {
                    name: row.st.into(),
                    members: Vec::new(),
                });
                structs.last_mut().expect("just pushed")
            }
        };
        match def.members.iter().find(|m| m.name == row.name) {
            Some(m) => assert_eq!(
                m.ty, row.ty,
                "{}.{} is typed differently by two layouts",
                row.st, row.name
            ),
            None => def.members.push(MemberDef {
                name: row.name.into(),
                ty: row.ty.clone(),
            }),
        }
    }
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
            // As dtrace-utils names kernel probes.
            module: "vmlinux".into(),
            function: p.function.into(),
            name: p.name.into(),
            kind: ProbeKind::Event { layout: p.layout },
            args: (p.args)(),
            unavailable: None,
        })
        .collect()
}

/// A layout as a provider writes it: typed member rows plus built-ins.
pub struct TypedLayout {
    pub id: u32,
    pub members: Members,
    pub builtins: Vec<(String, FieldSource)>,
    /// Where its records carry captured user memory, if they can.
    pub captures: Option<CaptureArea>,
}

impl TypedLayout {
    fn into_layout(self) -> Layout {
        Layout {
            id: self.id,
            members: self
                .members
                .into_iter()
                .map(|r| (r.view.to_string(), r.name.to_string(), r.src))
                .collect(),
            builtins: self.builtins,
            captures: self.captures,
        }
    }
}

/// A record's layout: its members, the header's built-ins and `builtins`
/// the record adds (`arg0`, `errno` …).
pub(crate) fn record_layout(
    id: u32,
    members: Members,
    builtins: Vec<(String, FieldSource)>,
) -> TypedLayout {
    let mut all = header_builtins();
    all.extend(builtins);
    let mut members = members;
    members.extend(curcpu_rows());
    TypedLayout {
        id,
        members,
        builtins: all,
        captures: None,
    }
}

/// A packet record's layout: its members plus the header's built-ins.
pub(crate) fn packet_layout(id: u32, members: Members) -> TypedLayout {
    let mut members = members;
    members.extend(curcpu_rows());
    TypedLayout {
        id,
        members,
        builtins: header_builtins(),
        captures: None,
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

/// One member of an argument struct: its D type and where records of one
/// layout hold its value. The only place a member is written.
#[derive(Debug, Clone)]
pub struct MemberRow {
    pub st: &'static str,
    /// What the checker looks the member up through: the struct's name
    /// for probe arguments, a built-in pointer (`curpsinfo`) otherwise.
    pub view: &'static str,
    pub name: &'static str,
    pub ty: Type,
    pub src: FieldSource,
}

pub type Members = Vec<MemberRow>;

/// A member whose D type is the one its source gives: the loaded integer,
/// or `string` for addresses and char arrays.
pub(crate) fn member(st: &'static str, name: &'static str, src: FieldSource) -> MemberRow {
    let ty = match &src {
        FieldSource::Load { int, .. } => Type::Int(*int),
        FieldSource::InetAddr { .. } | FieldSource::Chars { .. } | FieldSource::DataLoc { .. } => {
            Type::String
        }
        FieldSource::Const(_) | FieldSource::Unavailable => {
            panic!("{st}.{name}: a constant or missing member needs its type (member_as)")
        }
    };
    MemberRow {
        st,
        view: st,
        name,
        ty,
        src,
    }
}

/// The same rows seen through the built-in pointer `view` (`curpsinfo`).
pub(crate) fn through(view: &'static str, rows: Members) -> Members {
    rows.into_iter().map(|r| MemberRow { view, ..r }).collect()
}

/// A member declared as `ty` (a constant, or a narrower unsigned load
/// widened to `int`).
pub(crate) fn member_as(
    st: &'static str,
    name: &'static str,
    ty: IntType,
    src: FieldSource,
) -> MemberRow {
    MemberRow {
        st,
        view: st,
        name,
        ty: Type::Int(ty),
        src,
    }
}

/// A pointer into kernel memory (`tcp_hdr`, `ipv6_src` …): declared as
/// illumos has it, but rdtrace cannot follow it, so reading it is a
/// compile-time error.
pub(crate) fn kernel_pointer(st: &'static str, name: &'static str) -> MemberRow {
    MemberRow {
        st,
        view: st,
        name,
        ty: Type::Int(UINTPTR),
        src: FieldSource::Unavailable,
    }
}

/// The rows every packet record shares: pktinfo_t, csinfo_t (the socket
/// address as `cs_addr`/`cs_cid`, stable for the connection's life;
/// `cs_pid` from `$pid`) and ipinfo_t, from a record type with `sk`,
/// `ipver`, `ip_plength`, `saddr` and `daddr`.
macro_rules! packet_members {
    ($ev:ty, $pid:expr) => {{
        let sk = offset_of!($ev, sk);
        let ver = offset_of!($ev, ipver);
        vec![
            member_as(
                "pktinfo_t",
                "pkt_addr",
                $crate::catalog::UINTPTR,
                FieldSource::Const(0),
            ),
            member("csinfo_t", "cs_addr", load(sk, UINTPTR)),
            member("csinfo_t", "cs_cid", load(sk, IntType::UINT64)),
            member_as("csinfo_t", "cs_pid", $crate::catalog::PID_T, $pid),
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

/// `curcpu->cpu_id` (the header's CPU) and `cpu_pset` (no processor sets
/// on Linux: illumos's PS_NONE) of every record; the task records add
/// `cpu_chip` and `cpu_lgrp`.
fn curcpu_rows() -> Members {
    through(
        "curcpu",
        vec![
            member(
                "cpuinfo_t",
                "cpu_id",
                load(offset_of!(EventHeader, cpu), IntType::INT),
            ),
            member_as(
                "cpuinfo_t",
                "cpu_pset",
                IntType::INT,
                FieldSource::Const(-1),
            ),
        ],
    )
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
pub(crate) mod tests {
    use super::*;
    use crate::event::{IpEvent, TcpEvent, TcpSockState, UdpEvent};

    #[test]
    fn ids_are_unique_and_only_probes_linux_lacks_are_unavailable() {
        let c = catalog();
        let mut ids: Vec<u32> = c.probes.iter().map(|p| p.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), c.probes.len());
        assert!(c
            .probes
            .iter()
            .filter(|p| p.unavailable.is_some())
            .all(|p| p.provider == "sched" || p.provider == "io"));
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

    /// Every member of every struct a probe's arguments point to has a row
    /// in the probe's layout, and only kernel pointers are unavailable.
    #[test]
    fn layouts_cover_their_probes_structs_and_only_kernel_pointers_are_unavailable() {
        let c = catalog();
        let pointers = [
            "tcp_hdr", "ipv4_hdr", "ipv6_src", "ipv6_dst", "ipv6_hdr", "udp_hdr",
        ];
        let mut checked = 0;
        for probe in &c.probes {
            let ProbeKind::Event { layout } = probe.kind else {
                continue;
            };
            let rows = &c.layout(layout).unwrap().members;
            for arg in &probe.args {
                let Type::StructPtr(st) = &arg.ty else {
                    continue;
                };
                for m in &c.struct_def(st).unwrap().members {
                    let (_, _, src) = rows
                        .iter()
                        .find(|(s, n, _)| s == st && n == &m.name)
                        .unwrap_or_else(|| panic!("{}: no row for {st}.{}", probe.name, m.name));
                    assert_eq!(
                        *src == FieldSource::Unavailable,
                        pointers.contains(&m.name.as_str()),
                        "layout {layout}: {st}.{}",
                        m.name
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked > 100, "{checked}");
    }

    /// The member types illumos declares (`/usr/lib/dtrace/{ip,tcp,udp}.d`),
    /// as the checker sees them (`uintptr_t` is uint64_t, `ipaddr_t`
    /// uint32_t, `pid_t` and `int32_t` int).
    /// A struct of the catalog as `type member; …` (for the member-type
    /// tests of every provider).
    pub(crate) fn decl(st: &str) -> String {
        catalog()
            .struct_def(st)
            .unwrap_or_else(|| panic!("{st}"))
            .members
            .iter()
            .map(|m| format!("{} {}", m.ty.name(), m.name))
            .collect::<Vec<_>>()
            .join("; ")
    }

    #[test]
    fn struct_types_are_illumos_ones() {
        assert_eq!(decl("pktinfo_t"), "uint64_t pkt_addr");
        assert_eq!(
            decl("csinfo_t"),
            "uint64_t cs_addr; uint64_t cs_cid; int cs_pid"
        );
        assert_eq!(
            decl("ipinfo_t"),
            "uint8_t ip_ver; uint32_t ip_plength; string ip_saddr; string ip_daddr"
        );
        assert_eq!(
            decl("tcpsinfo_t"),
            "uint64_t tcps_addr; int tcps_local; int tcps_active; uint16_t tcps_lport; \
             uint16_t tcps_rport; string tcps_laddr; string tcps_raddr; int tcps_state; \
             uint32_t tcps_iss; uint32_t tcps_irs; uint32_t tcps_suna; uint32_t tcps_snxt; \
             uint32_t tcps_rack; uint32_t tcps_rnxt; uint32_t tcps_swnd; int tcps_snd_ws; \
             uint32_t tcps_rwnd; int tcps_rcv_ws; uint32_t tcps_cwnd; \
             uint32_t tcps_cwnd_ssthresh; uint32_t tcps_sack_fack; uint32_t tcps_sack_snxt; \
             uint32_t tcps_rto; uint32_t tcps_mss; int tcps_retransmit; int tcps_rtt; \
             int tcps_rtt_sd"
        );
        assert_eq!(decl("tcplsinfo_t"), "int tcps_state");
        assert_eq!(
            decl("tcpinfo_t"),
            "uint16_t tcp_sport; uint16_t tcp_dport; uint32_t tcp_seq; uint32_t tcp_ack; \
             uint8_t tcp_offset; uint8_t tcp_flags; uint16_t tcp_window; \
             uint16_t tcp_checksum; uint16_t tcp_urgent; uint64_t tcp_hdr"
        );
        assert_eq!(
            decl("ifinfo_t"),
            "string if_name; char if_local; int if_ipstack; uint64_t if_addr"
        );
        assert_eq!(
            decl("ipv4info_t"),
            "uint8_t ipv4_ver; uint8_t ipv4_ihl; uint8_t ipv4_tos; uint16_t ipv4_length; \
             uint16_t ipv4_ident; uint8_t ipv4_flags; uint16_t ipv4_offset; uint8_t ipv4_ttl; \
             uint8_t ipv4_protocol; string ipv4_protostr; uint16_t ipv4_checksum; \
             uint32_t ipv4_src; uint32_t ipv4_dst; string ipv4_saddr; string ipv4_daddr; \
             uint64_t ipv4_hdr"
        );
        assert_eq!(
            decl("ipv6info_t"),
            "uint8_t ipv6_ver; uint8_t ipv6_tclass; uint32_t ipv6_flow; uint16_t ipv6_plen; \
             uint8_t ipv6_nexthdr; string ipv6_nextstr; uint8_t ipv6_hlim; \
             string ipv6_saddr; string ipv6_daddr; uint64_t ipv6_src; uint64_t ipv6_dst; \
             uint64_t ipv6_hdr"
        );
        assert_eq!(
            decl("udpinfo_t"),
            "uint16_t udp_sport; uint16_t udp_dport; uint16_t udp_length; \
             uint16_t udp_checksum; uint64_t udp_hdr"
        );
        assert_eq!(
            decl("udpsinfo_t"),
            "uint64_t udps_addr; uint16_t udps_lport; uint16_t udps_rport; \
             string udps_laddr; string udps_raddr"
        );
    }

    #[test]
    fn every_layout_member_is_declared_with_a_fitting_type() {
        let c = catalog();
        let size = |l: u32| match l {
            LAYOUT_TCP => std::mem::size_of::<TcpEvent>(),
            LAYOUT_IP => std::mem::size_of::<IpEvent>(),
            LAYOUT_UDP => std::mem::size_of::<UdpEvent>(),
            crate::providers::task::LAYOUT_TASK => std::mem::size_of::<crate::event::TaskEvent>(),
            // The thread, when read, is the record's first capture.
            crate::providers::syscall::LAYOUT_SYSCALL => {
                std::mem::size_of::<crate::event::SyscallEvent>()
                    + std::mem::size_of::<crate::event::CaptureHeader>()
                    + std::mem::size_of::<crate::event::TaskInfo>()
            }
            _ => std::mem::size_of::<EventHeader>(),
        };
        for layout in &c.layouts {
            for (view, member, src) in &layout.members {
                // A built-in pointer's rows are its struct's.
                let st = match view.as_str() {
                    "curpsinfo" => "psinfo_t",
                    "curlwpsinfo" => "lwpsinfo_t",
                    "curcpu" => "cpuinfo_t",
                    st => st,
                };
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
                    FieldSource::DataLoc { .. } => {
                        panic!("{st}.{member}: no member is a __data_loc")
                    }
                    FieldSource::Const(_) => assert!(matches!(m.ty, Type::Int(_))),
                    FieldSource::Unavailable => assert!(
                        matches!(m.ty, Type::Int(i) if i == UINTPTR),
                        "{st}.{member}: only kernel pointers are unavailable"
                    ),
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
