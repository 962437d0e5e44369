//! The C (`bpf/event.h`) and Rust (`src/event.rs`) records must agree byte for
//! byte: compile a tiny C program with the host compiler that prints
//! offsetof()/sizeof() of every field, and compare with Rust. The probe ids,
//! probe sets, TCP states and flags and protocol names both sides use are
//! compared the same way.

use rdtrace_probes::event::{
    CaptureHeader, CapturePlanMap, CaptureSite, EventHeader, IoInfo, IpEvent, SyscallEvent,
    TaskEvent, TaskInfo, TcpEvent, TcpSockState, TpProbe, UdpEvent,
};
use std::mem::{offset_of, size_of};
use std::path::Path;
use std::process::Command;

/// (C expression prefix, field, Rust offset, Rust size) for every field.
macro_rules! fields {
    ($ty:ty, $cty:literal, [$($f:ident),* $(,)?]) => {{
        let mut v: Vec<(String, String, usize, usize)> = Vec::new();
        $(
            let size = {
                // SAFETY: event records are plain integers and byte arrays,
                // for which all-zero bytes are a valid value.
                let x: $ty = unsafe { std::mem::zeroed() };
                std::mem::size_of_val(&x.$f)
            };
            v.push(($cty.to_string(), stringify!($f).to_string(), offset_of!($ty, $f), size));
        )*
        v
    }};
}

fn host_cc() -> String {
    std::env::var("CC").unwrap_or_else(|_| "cc".to_string())
}

/// Compiles the C program `source` with the host compiler, runs it and
/// returns what it printed.
fn run_host_c(source: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("prog.c");
    let exe = dir.path().join("prog");
    std::fs::write(&src, source).unwrap();
    let out = Command::new(host_cc())
        .arg("-Wall")
        .arg("-o")
        .arg(&exe)
        .arg(&src)
        .output()
        .expect("a host C compiler (cc, or $CC) is needed for this test");
    assert!(
        out.status.success(),
        "cc failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = Command::new(&exe).output().unwrap();
    assert!(run.status.success());
    String::from_utf8(run.stdout).unwrap()
}

fn bpf_file(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("bpf").join(name)
}

/// `#define NAME VALUE` lines of a C file whose value is a plain number.
fn numeric_defines(file: &str) -> Vec<(String, i64)> {
    let text = std::fs::read_to_string(bpf_file(file)).unwrap();
    text.lines()
        .filter_map(|l| {
            let mut w = l.strip_prefix("#define ")?.split_whitespace();
            let (name, value) = (w.next()?, w.next()?);
            let v = match value.strip_prefix("0x") {
                Some(hex) => i64::from_str_radix(hex, 16).ok()?,
                None => value.parse().ok()?,
            };
            Some((name.to_string(), v))
        })
        .collect()
}

const C_PRELUDE: &str = "#include <stdio.h>\n#include <stddef.h>\n#include <stdint.h>\n\
     typedef uint8_t __u8; typedef uint16_t __u16; typedef uint32_t __u32;\n\
     typedef uint64_t __u64; typedef int32_t __s32; typedef int8_t __s8;\n\
     typedef int64_t __s64;\n\
     #define __always_inline inline\n";

/// Every probe id the BPF program writes (`RDT_PROBE_<PROVIDER>_<NAME>` in
/// event.h) is the id the Rust provider gives that probe, every kernel
/// probe of the catalog has one, and the probe sets the program tests
/// (`TCP_PROBES`, …) are exactly the providers' ids.
#[test]
fn c_probe_ids_and_sets_are_the_providers() {
    let catalog = rdtrace_probes::catalog();
    let c_ids: Vec<(String, i64)> = numeric_defines("event.h")
        .into_iter()
        .filter(|(n, _)| n.starts_with("RDT_PROBE_"))
        .collect();
    let kernel_probes: Vec<_> = catalog
        .probes
        .iter()
        // Syscall probes are numbered when the catalog is built; the BPF
        // side learns theirs from a map, not from event.h.
        .filter(|p| p.provider != "syscall" && p.provider != "sdt")
        .filter(|p| !rdtrace_probes::providers::hooks_for(p.id, false).is_empty())
        .collect();
    assert_eq!(c_ids.len(), kernel_probes.len(), "{c_ids:?}");
    for p in &kernel_probes {
        let name = format!("RDT_PROBE_{}_{}", p.provider, p.name)
            .to_uppercase()
            .replace('-', "_");
        let c = c_ids.iter().find(|(n, _)| *n == name);
        assert_eq!(c.map(|c| c.1), Some(i64::from(p.id)), "{name}");
    }
    let mask = |provider: &str, names: &[&str]| -> u64 {
        catalog
            .probes
            .iter()
            .filter(|p| {
                p.provider == provider && (names.is_empty() || names.contains(&p.name.as_str()))
            })
            .map(|p| 1u64 << p.id)
            .sum()
    };
    let mut c = format!(
        "{C_PRELUDE}#include \"{}\"\nint main(void) {{\n",
        bpf_file("event.h").display()
    );
    for set in ["TCP_PROBES", "SEGMENT_PROBES", "IP_PROBES"] {
        c += &format!("  printf(\"%llu\\n\", (unsigned long long)({set}));\n");
    }
    c += "  return 0;\n}\n";
    let want = [
        mask("tcp", &[]),
        mask("tcp", &["send", "receive"]),
        mask("ip", &[]),
    ]
    .map(|m| format!("{m}\n"))
    .concat();
    assert_eq!(
        run_host_c(&c),
        want,
        "TCP_PROBES, SEGMENT_PROBES, IP_PROBES"
    );
}

/// The TCP states (Linux names in sockstate.h) and header flags the BPF
/// program uses have the values of the Rust tables.
#[test]
fn c_tcp_states_and_flags_are_the_providers() {
    use rdtrace_probes::providers::tcp::{flag, state};
    let states = numeric_defines("sockstate.h");
    for (c_name, value) in [
        ("TCP_ESTABLISHED", state::ESTABLISHED),
        ("TCP_SYN_SENT", state::SYN_SENT),
        ("TCP_SYN_RECV", state::SYN_RECEIVED),
        ("TCP_FIN_WAIT1", state::FIN_WAIT_1),
        ("TCP_FIN_WAIT2", state::FIN_WAIT_2),
        ("TCP_TIME_WAIT", state::TIME_WAIT),
        ("TCP_CLOSE", state::CLOSED),
        ("TCP_CLOSE_WAIT", state::CLOSE_WAIT),
        ("TCP_LAST_ACK", state::LAST_ACK),
        ("TCP_LISTEN", state::LISTEN),
        ("TCP_CLOSING", state::CLOSING),
        ("TCP_NEW_SYN_RECV", state::NEW_SYN_RECEIVED),
    ] {
        let c = states.iter().find(|(n, _)| n == c_name).map(|c| c.1);
        assert_eq!(c, Some(i64::from(value)), "{c_name}");
    }
    let flags: Vec<_> = numeric_defines("net.bpf.c")
        .into_iter()
        .filter(|(n, _)| n.starts_with("TH_"))
        .collect();
    assert!(!flags.is_empty());
    for (name, value) in flags {
        let rust = rdtrace_probes::providers::tcp::TH_FLAGS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|f| i64::from(f.1));
        assert_eq!(rust, Some(value), "{name}");
    }
    assert_eq!(flag::PUSH, 0x08);
}

/// ipv4_protostr/ipv6_nextstr: the BPF program's table (protocols.h) and
/// replay's give the same 8 bytes for every protocol number.
#[test]
fn c_and_rust_protocol_names_agree() {
    let c = format!(
        "{C_PRELUDE}#include \"{}\"\nint main(void) {{\n  for (int i = 0; i < 256; i++)\n    printf(\"%llu\\n\", (unsigned long long)proto_name((__u8)i));\n  return 0;\n}}\n",
        bpf_file("protocols.h").display()
    );
    let want: String = (0..=255u8)
        .map(|p| {
            format!(
                "{}\n",
                u64::from_le_bytes(rdtrace_probes::providers::ip::protocol_name(p))
            )
        })
        .collect();
    assert_eq!(run_host_c(&c), want);
}

#[test]
fn c_and_rust_layouts_agree() {
    let mut all = fields!(
        EventHeader,
        "struct event_header",
        [ts_ns, probe, cpu, pid, tid, ppid, uid, gid, netns, comm]
    );
    all.extend(fields!(
        TcpEvent,
        "struct tcp_event",
        [
            hdr, ifindex, dir, ipver, tcp_offset, tcp_flags, saddr, daddr, laddr, raddr,
            ip_plength, seq, ack, sport, dport, lport, rport, window, checksum, urgent, ttl, pad0,
            pad1, sk, sock
        ]
    ));
    all.extend(fields!(
        TcpSockState,
        "struct tcp_sockstate",
        [
            pid, iss, irs, suna, snxt, rack, rnxt, swnd, rwnd, cwnd, ssthresh, sack_fack,
            sack_snxt, rto, mss, retransmit, rtt, rtt_sd, state, prev_state, active, local, snd_ws,
            rcv_ws, pad
        ]
    ));
    all.extend(fields!(
        IpEvent,
        "struct ip_event",
        [
            hdr,
            ifindex,
            dir,
            ipver,
            protocol,
            if_local,
            saddr,
            daddr,
            ip_plength,
            v6_flow,
            v4_length,
            v4_ident,
            v4_offset,
            v4_checksum,
            v6_plen,
            v4_ihl,
            v4_tos,
            v4_flags,
            ttl,
            v6_tclass,
            pad0,
            sk,
            dev,
            if_name,
            protostr,
            reserved
        ]
    ));
    all.extend(fields!(
        UdpEvent,
        "struct udp_event",
        [
            hdr, ifindex, dir, ipver, ttl, pad0, saddr, daddr, laddr, raddr, ip_plength, sport,
            dport, lport, rport, length, checksum, sk
        ]
    ));
    all.extend(fields!(
        SyscallEvent,
        "struct syscall_event",
        [hdr, args, err, captures]
    ));
    all.extend(fields!(
        TaskInfo,
        "struct task_info",
        [
            addr, start_ns, vtime_ns, pid, ppid, pgid, sid, uid, euid, gid, egid, lwpid, pri, nlwp,
            onpro, flag, state, sname, dmodel, pad, fname, psargs, clname
        ]
    ));
    all.extend(fields!(
        TaskEvent,
        "struct task_event",
        [hdr, args, chip, lgrp, raw_len, captures, cur, other, raw]
    ));
    all.extend(fields!(
        rdtrace_probes::event::ProfileEvent,
        "struct profile_event",
        [hdr, kpc, upc, captures, pad]
    ));
    all.extend(fields!(
        IoInfo,
        "struct io_info",
        [
            blkno, bcount, resid, flags, error, dev, major, minor, pad, name, statname, pathname,
            unknown
        ]
    ));
    all.extend(fields!(
        CaptureHeader,
        "struct capture_header",
        [site, status, len, addr]
    ));
    all.extend(fields!(TpProbe, "struct tp_probe", [probe, flags]));
    all.extend(fields!(
        rdtrace_probes::event::NrProbe,
        "struct nr_probe",
        [entry, ret, entry_flags, ret_flags]
    ));
    all.extend(fields!(
        CaptureSite,
        "struct capture_site",
        [site, kind, addr_from, addr_off, len_from, pad, len_off, pad2, len_max]
    ));
    all.extend(fields!(
        rdtrace_probes::event::FilterCond,
        "struct filter_cond",
        [offset, size, flags, op, pad, value]
    ));
    all.extend(fields!(
        rdtrace_probes::event::ProbeFilter,
        "struct probe_filter",
        [n, pad, conds]
    ));
    all.extend(fields!(
        rdtrace_probes::event::KaggField,
        "struct kagg_field",
        [offset, kind, size, sign, pad]
    ));
    all.extend(fields!(
        rdtrace_probes::event::KaggAction,
        "struct kagg_action",
        [id, nparts, value_kind, pad, value, value_const, parts]
    ));
    all.extend(fields!(
        rdtrace_probes::event::KaggPlan,
        "struct kagg_plan",
        [n, needs, actions]
    ));
    all.extend(fields!(
        rdtrace_probes::event::KaggKey,
        "struct kagg_key",
        [action, pad, ints, chars]
    ));
    all.extend(fields!(
        CapturePlanMap,
        "struct capture_plan",
        [n, pad, sites]
    ));
    let sizes = [
        ("struct tp_probe", size_of::<TpProbe>()),
        ("struct capture_site", size_of::<CaptureSite>()),
        ("struct capture_plan", size_of::<CapturePlanMap>()),
        ("struct syscall_event", size_of::<SyscallEvent>()),
        ("struct task_info", size_of::<TaskInfo>()),
        ("struct task_event", size_of::<TaskEvent>()),
        ("struct io_info", size_of::<IoInfo>()),
        (
            "struct kagg_action",
            size_of::<rdtrace_probes::event::KaggAction>(),
        ),
        (
            "struct kagg_plan",
            size_of::<rdtrace_probes::event::KaggPlan>(),
        ),
        (
            "struct kagg_key",
            size_of::<rdtrace_probes::event::KaggKey>(),
        ),
        (
            "struct probe_filter",
            size_of::<rdtrace_probes::event::ProbeFilter>(),
        ),
        (
            "struct profile_event",
            size_of::<rdtrace_probes::event::ProfileEvent>(),
        ),
        ("struct capture_header", size_of::<CaptureHeader>()),
        ("struct event_header", size_of::<EventHeader>()),
        ("struct tcp_sockstate", size_of::<TcpSockState>()),
        ("struct tcp_event", size_of::<TcpEvent>()),
        ("struct ip_event", size_of::<IpEvent>()),
        ("struct udp_event", size_of::<UdpEvent>()),
    ];

    let header = Path::new(env!("CARGO_MANIFEST_DIR")).join("bpf/event.h");
    let mut c = String::from(C_PRELUDE);
    c += &format!("#include \"{}\"\nint main(void) {{\n", header.display());
    for (ty, f, _, _) in &all {
        c += &format!(
            "  printf(\"%s.%s %zu %zu\\n\", \"{ty}\", \"{f}\", offsetof({ty}, {f}), sizeof((({ty} *)0)->{f}));\n"
        );
    }
    for (ty, _) in &sizes {
        c += &format!("  printf(\"%s %zu\\n\", \"{ty}\", sizeof({ty}));\n");
    }
    c += "  return 0;\n}\n";
    let text = run_host_c(&c);

    let mut expected = String::new();
    for (ty, f, off, size) in &all {
        expected += &format!("{ty}.{f} {off} {size}\n");
    }
    for (ty, size) in &sizes {
        expected += &format!("{ty} {size}\n");
    }
    assert_eq!(
        text, expected,
        "C layout (left) differs from Rust layout (right)"
    );
}

#[test]
fn c_and_rust_capture_constants_agree() {
    use rdtrace_probes::event::*;
    let defines = numeric_defines("event.h");
    let get = |n: &str| defines.iter().find(|(d, _)| d == n).map(|d| d.1);
    for (c, rust) in [
        ("RDT_SAVE_ENTRY_ARGS", i64::from(SAVE_ENTRY_ARGS)),
        ("RDT_NARGS_SHIFT", i64::from(NARGS_SHIFT)),
        ("RDT_FROM_CONST", i64::from(from::CONST)),
        ("RDT_FROM_RECORD", i64::from(from::RECORD)),
        ("RDT_FROM_ENTRY", i64::from(from::ENTRY)),
        ("RDT_COPY_STR", i64::from(COPY_STR)),
        ("RDT_COPY_BYTES", i64::from(COPY_BYTES)),
        ("RDT_MAX_CAPTURES", MAX_CAPTURES as i64),
        ("RDT_CAPTURE_MAX", i64::from(CAPTURE_MAX)),
        ("RDT_MAX_SYSCALL_NR", i64::from(MAX_SYSCALL_NR)),
        ("RDT_TASK_PSARGS", i64::from(TASK_PSARGS)),
        ("RDT_TASK_INFO", i64::from(TASK_INFO)),
        ("RDT_TASK_SITE", i64::from(TASK_SITE)),
        ("RDT_KSTACK", i64::from(KSTACK)),
        ("RDT_USTACK", i64::from(USTACK)),
        ("RDT_KSTACK_SITE", i64::from(KSTACK_SITE)),
        ("RDT_USTACK_SITE", i64::from(USTACK_SITE)),
        ("RDT_MAX_FRAMES", i64::from(MAX_FRAMES)),
        ("RDT_KAGG_PER_PROBE", KAGG_PER_PROBE as i64),
        ("RDT_KAGG_PARTS", KAGG_PARTS as i64),
        ("RDT_LOW_PROBES", i64::from(LOW_PROBES)),
        ("RDT_KAGG_INTS", KAGG_INTS as i64),
        ("RDT_KPART_INT", i64::from(KPART_INT)),
        ("RDT_KPART_CHARS", i64::from(KPART_CHARS)),
        ("RDT_KVAL_ONE", i64::from(KVAL_ONE)),
        ("RDT_KVAL_CONST", i64::from(KVAL_CONST)),
        ("RDT_KVAL_FIELD", i64::from(KVAL_FIELD)),
        ("RDT_KNEED_IDS", i64::from(KNEED_IDS)),
        ("RDT_KNEED_PPID", i64::from(KNEED_PPID)),
        ("RDT_KNEED_COMM", i64::from(KNEED_COMM)),
        ("RDT_KNEED_ALL", i64::from(KNEED_ALL)),
        ("RDT_FILTERED", i64::from(FILTERED)),
        ("RDT_KAGG", i64::from(KAGG)),
        ("RDT_COND_SIGNED", i64::from(COND_SIGNED)),
        ("RDT_COND_UNSIGNED", i64::from(COND_UNSIGNED)),
        ("RDT_OP_EQ", i64::from(filter_op::EQ)),
        ("RDT_OP_NE", i64::from(filter_op::NE)),
        ("RDT_OP_LT", i64::from(filter_op::LT)),
        ("RDT_OP_LE", i64::from(filter_op::LE)),
        ("RDT_OP_GT", i64::from(filter_op::GT)),
        ("RDT_OP_GE", i64::from(filter_op::GE)),
        ("RDT_MAX_CONDS", rdtrace_lang::filter::MAX_CONDS as i64),
        ("RDT_SDT_DYNAMIC", i64::from(SDT_DYNAMIC)),
        ("RDT_PSARGS", PSARGS as i64),
        ("RDT_RAW_MAX", RAW_MAX as i64),
    ] {
        assert_eq!(get(c), Some(rust), "{c}");
    }
    assert_eq!(
        get("RDT_CAPTURE_OK"),
        Some(i64::from(rdtrace_probes::event::CAPTURE_OK))
    );
    assert_eq!(
        get("RDT_CAPTURE_FAULT"),
        Some(i64::from(rdtrace_probes::event::CAPTURE_FAULT))
    );
}

#[test]
fn c_ip_protocol_numbers_are_the_rust_ones() {
    let table = rdtrace_probes::providers::sysconsts::IP_PROTOCOLS;
    let c: Vec<(String, i64)> = numeric_defines("protocols.h")
        .into_iter()
        .filter(|(n, _)| n.starts_with("IPPROTO_"))
        .collect();
    assert!(!c.is_empty());
    for (name, value) in &c {
        let rust = table.iter().find(|(n, _)| n == name).map(|t| t.1);
        assert_eq!(rust, Some(*value), "{name}");
    }
}
