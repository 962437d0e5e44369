//! copyin/copyinstr on records carrying captured user memory (as the
//! syscall programs write them): both engines read the capture of the
//! call's site, and report an unreadable address as dtrace does.

mod jit_support;

use jit_support::*;
use rdtrace_probes::event::{CaptureHeader, Record, SyscallEvent, CAPTURE_FAULT, CAPTURE_OK};

/// A syscall record of `probe` with `args` and the captures (site,
/// status, address, bytes) after it.
fn syscall_record(probe: u32, args: [u64; 6], caps: &[(u16, u16, u64, &[u8])]) -> Vec<u8> {
    let mut tail = Vec::new();
    for &(site, status, addr, bytes) in caps {
        let h = CaptureHeader {
            site,
            status,
            len: bytes.len() as u32,
            addr,
        };
        tail.extend_from_slice(h.as_bytes());
        tail.extend_from_slice(bytes);
        tail.resize(tail.len().div_ceil(8) * 8, 0);
    }
    let mut e = SyscallEvent {
        args,
        captures: tail.len() as u32,
        ..SyscallEvent::default()
    };
    e.hdr.probe = probe;
    e.hdr.tid = 7;
    let mut rec = e.as_bytes().to_vec();
    rec.extend_from_slice(&tail);
    rec
}

fn openat_entry_id() -> u32 {
    let c = rdtrace_probes::catalog();
    c.probes
        .iter()
        .find(|p| p.provider == "syscall" && p.function == "openat" && p.name == "entry")
        .unwrap()
        .id
}

#[test]
fn copyinstr_reads_the_sites_capture_up_to_the_nul() {
    let p = compile(
        r#"syscall::openat:entry { printf("[%s] [%s]\n", copyinstr(arg1), copyinstr(arg1, 3)); }"#,
    );
    let (mut jit, mut interp) = both(&p, &quiet());
    let id = openat_entry_id();
    let rec = syscall_record(
        id,
        [0, 0x7000, 0, 0, 0, 0],
        &[
            (1, CAPTURE_OK, 0x7000, b"/etc/hosts\0"),
            (2, CAPTURE_OK, 0x7000, b"/etc\0"),
        ],
    );
    let f = fire_both(&mut jit, &mut interp, 0, &rec);
    assert_eq!(f.out, "[/etc/hosts] [/et]\n");
    assert_eq!(f.err, "");
}

#[test]
fn copyin_bytes_through_stringof() {
    let p = compile(r#"syscall::openat:entry { printf("<%s>", stringof(copyin(arg1, arg2))); }"#);
    let (mut jit, mut interp) = both(&p, &quiet());
    let rec = syscall_record(
        openat_entry_id(),
        [0, 0x9000, 5, 0, 0, 0],
        &[(1, CAPTURE_OK, 0x9000, b"hello")],
    );
    assert_eq!(fire_both(&mut jit, &mut interp, 0, &rec).out, "<hello>");
}

#[test]
fn an_unreadable_address_is_dtraces_invalid_address_error() {
    let p = compile(
        r#"syscall::openat:entry { printf("not printed"); printf("%s", copyinstr(arg1)); }
           syscall::openat:entry { printf("next clause\n"); }"#,
    );
    let (mut jit, mut interp) = both(&p, &quiet());
    let id = openat_entry_id();
    let rec = syscall_record(
        id,
        [0, 0xdead, 0, 0, 0, 0],
        &[(1, CAPTURE_FAULT, 0xdead, b"")],
    );
    let f = fire_both(&mut jit, &mut interp, 0, &rec);
    // The faulting clause's output is dropped; the next clause runs.
    assert_eq!(f.out, "next clause\n");
    assert_eq!(
        f.err,
        format!(
            "dtrace: error on enabled probe ID 1 (ID {id}: syscall:vmlinux:openat:entry): \
             invalid address (0xdead) in action #2\n"
        )
    );
}

#[test]
fn copyin_longer_than_was_copied_is_out_of_scratch_space() {
    let p = compile(r#"syscall::openat:entry { trace(stringof(copyin(arg1, 100000))); }"#);
    let (mut jit, mut interp) = both(&p, &quiet());
    let id = openat_entry_id();
    let rec = syscall_record(
        id,
        [0, 0x10, 0, 0, 0, 0],
        &[(1, CAPTURE_OK, 0x10, &[b'x'; 64])],
    );
    let f = fire_both(&mut jit, &mut interp, 0, &rec);
    assert!(
        f.err.ends_with("out of scratch space in action #1\n"),
        "{}",
        f.err
    );
}

fn connect_entry_id() -> u32 {
    let c = rdtrace_probes::catalog();
    c.probes
        .iter()
        .find(|p| p.provider == "syscall" && p.function == "connect" && p.name == "entry")
        .unwrap()
        .id
}

/// A sockaddr_in as connect(2) gets it: family, port and address in
/// network order.
fn sockaddr_in(port: u16, addr: [u8; 4]) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&2u16.to_ne_bytes());
    b.extend_from_slice(&port.to_be_bytes());
    b.extend_from_slice(&addr);
    b.extend_from_slice(&[0; 8]);
    b
}

#[test]
fn a_copied_in_sockaddr_in_through_its_members() {
    let p = compile(
        r#"syscall::connect:entry
        {
            this->s = (struct sockaddr_in *)copyin(arg1, sizeof (struct sockaddr_in));
            printf("%s:%d family %d\n", inet_ntoa((ipaddr_t *)&this->s->sin_addr),
                ntohs(this->s->sin_port), this->s->sin_family);
            printf("%d\n", this->s->sin_addr.s_addr == *(uint32_t *)&this->s->sin_addr);
        }"#,
    );
    let (mut jit, mut interp) = both(&p, &quiet());
    let sa = sockaddr_in(8080, [192, 0, 2, 40]);
    let rec = syscall_record(
        connect_entry_id(),
        [3, 0x5000, 16, 0, 0, 0],
        &[(1, CAPTURE_OK, 0x5000, &sa)],
    );
    let f = fire_both(&mut jit, &mut interp, 0, &rec);
    assert_eq!(f.err, "");
    assert_eq!(f.out, "192.0.2.40:8080 family 2\n1\n");
}

#[test]
fn reading_past_the_copied_bytes_is_an_invalid_address() {
    let p = compile(
        r#"syscall::connect:entry
        {
            this->s = (struct sockaddr_in6 *)copyin(arg1, 8);
            trace(this->s->sin6_scope_id);
        }"#,
    );
    let (mut jit, mut interp) = both(&p, &quiet());
    let rec = syscall_record(
        connect_entry_id(),
        [3, 0x5000, 8, 0, 0, 0],
        &[(1, CAPTURE_OK, 0x5000, &[0u8; 8])],
    );
    let f = fire_both(&mut jit, &mut interp, 0, &rec);
    assert!(
        f.err.ends_with("invalid address (0x1c) in action #2\n"),
        "{}",
        f.err
    );
}

#[test]
fn tracemem_prints_dtraces_raw_dump() {
    let p = compile(r#"syscall::openat:entry { tracemem(copyin(arg1, arg2), 32, arg2); }"#);
    let (mut jit, mut interp) = both(&p, &quiet());
    let rec = syscall_record(
        openat_entry_id(),
        [0, 0x9000, 18, 0, 0, 0],
        &[(1, CAPTURE_OK, 0x9000, b"GET / HTTP/1.1\r\n\0\x01")],
    );
    let f = fire_both(&mut jit, &mut interp, 0, &rec);
    let digits: String = "0123456789abcdef"
        .chars()
        .map(|c| format!("  {c}"))
        .collect();
    assert_eq!(
        f.out,
        format!(
            "\n{}{digits}  0123456789abcdef\n\
             {:>10}: 47 45 54 20 2f 20 48 54 54 50 2f 31 2e 31 0d 0a  GET / HTTP/1.1..\n\
             {:>10}: 00 01{}  ..\n",
            " ".repeat(11),
            "0",
            "10",
            " ".repeat(14 * 3)
        )
    );
}

#[test]
fn copyinto_fills_alloca_space_of_its_type() {
    let p = compile(
        r#"syscall::connect:entry
        {
            this->sa = (struct sockaddr_in *)alloca(sizeof (struct sockaddr_in));
            copyinto(arg1, sizeof (struct sockaddr_in), this->sa);
            printf("%d %s\n", ntohs(this->sa->sin_port), inet_ntoa(&this->sa->sin_addr));
        }"#,
    );
    let (mut jit, mut interp) = both(&p, &quiet());
    let sa = sockaddr_in(443, [198, 51, 100, 7]);
    let rec = syscall_record(
        connect_entry_id(),
        [3, 0x5000, 16, 0, 0, 0],
        &[(1, CAPTURE_OK, 0x5000, &sa)],
    );
    assert_eq!(
        fire_both(&mut jit, &mut interp, 0, &rec).out,
        "443 198.51.100.7\n"
    );
}
