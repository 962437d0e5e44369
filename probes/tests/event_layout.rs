//! The C (`bpf/event.h`) and Rust (`src/event.rs`) records must agree byte for
//! byte: compile a tiny C program with the host compiler that prints
//! offsetof()/sizeof() of every field, and compare with Rust.

use rdtrace_probes::event::{EventHeader, IpEvent, TcpEvent, TcpSockState, UdpEvent};
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
    let sizes = [
        ("struct event_header", size_of::<EventHeader>()),
        ("struct tcp_sockstate", size_of::<TcpSockState>()),
        ("struct tcp_event", size_of::<TcpEvent>()),
        ("struct ip_event", size_of::<IpEvent>()),
        ("struct udp_event", size_of::<UdpEvent>()),
    ];

    let dir = tempfile::tempdir().unwrap();
    let header = Path::new(env!("CARGO_MANIFEST_DIR")).join("bpf/event.h");
    let mut c = String::from(
        "#include <stdio.h>\n#include <stddef.h>\n#include <stdint.h>\n\
         typedef uint8_t __u8; typedef uint16_t __u16; typedef uint32_t __u32;\n\
         typedef uint64_t __u64; typedef int32_t __s32; typedef int8_t __s8;\n",
    );
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
    let src = dir.path().join("layout.c");
    let exe = dir.path().join("layout");
    std::fs::write(&src, c).unwrap();
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
    let text = String::from_utf8(run.stdout).unwrap();

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
