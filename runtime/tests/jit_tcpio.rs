//! A tcpio.d-shaped program (field loads, addresses, this->, string
//! ternaries on flag bits, printf with widths and "\b") built by hand over
//! a test layout, on the JIT and the interpreter.

mod jit_support;

use jit_support::*;
use rdtrace_lang::catalog::ProbeKind;
use rdtrace_lang::typed::*;
use rdtrace_lang::types::{IntType, Type};

// Test layout of the payload after the header.
const PLEN: u32 = HDR; // u32 ip_plength
const TCP_OFF: u32 = HDR + 4; // u8 tcp_offset
const FLAGS: u32 = HDR + 5; // u8 tcp_flags
const SPORT: u32 = HDR + 6; // u16
const DPORT: u32 = HDR + 8; // u16
const VER: u32 = HDR + 10; // u8
const SADDR: u32 = HDR + 16; // [u8; 16]
const DADDR: u32 = HDR + 32;

fn payload(
    plen: u32,
    off: u8,
    flags: u8,
    sport: u16,
    dport: u16,
    s: [u8; 4],
    d: [u8; 4],
) -> Vec<u8> {
    let mut v = vec![0u8; 48];
    v[0..4].copy_from_slice(&plen.to_ne_bytes());
    v[4] = off;
    v[5] = flags;
    v[6..8].copy_from_slice(&sport.to_ne_bytes());
    v[8..10].copy_from_slice(&dport.to_ne_bytes());
    v[10] = 4;
    v[16..20].copy_from_slice(&s);
    v[32..36].copy_from_slice(&d);
    v
}

fn flag(bit: i64, text: &str) -> Stmt {
    let f = field(FLAGS, IntType::UINT8);
    printf(
        "%s",
        vec![ternary(
            bin(BinOp::BitAnd, false, f, int(bit), Type::Int(IntType::INT)),
            s(text),
            s(""),
        )],
    )
}

fn tcpio() -> Program {
    let int_t = Type::Int(IntType::INT);
    let length = || load(Place::This(0), Type::Int(IntType::INT));
    let set_length = expr(assign(
        Place::This(0),
        bin(
            BinOp::Sub,
            false,
            field(PLEN, IntType::UINT),
            field(TCP_OFF, IntType::UINT8),
            Type::Int(IntType::UINT),
        ),
        int_t.clone(),
    ));
    let probes = vec![
        probe(1, "dtrace", "", "BEGIN", ProbeKind::Begin),
        probe(100, "tcp", "", "send", ProbeKind::Event { layout: 1 }),
        probe(101, "tcp", "", "receive", ProbeKind::Event { layout: 1 }),
    ];
    let mut last = vec![
        flag(0x01, "FIN|"),
        flag(0x02, "SYN|"),
        flag(0x04, "RST|"),
        flag(0x08, "PUSH|"),
        flag(0x10, "ACK|"),
        flag(0x20, "URG|"),
        flag(0x40, "ECE|"),
        flag(0x80, "CWR|"),
    ];
    last.push(printf(
        "%s",
        vec![ternary(
            cmp(BinOp::Eq, false, field(FLAGS, IntType::UINT8), int(0)),
            s("null "),
            s(""),
        )],
    ));
    last.push(printf("\x08)\n", vec![]));
    let mut p = program(
        probes,
        vec![
            clause(
                0,
                vec![0],
                None,
                vec![printf(
                    " %3s %15s:%-5s %15s:%-5s %6s %s\n",
                    ["CPU", "LADDR", "LPORT", "RADDR", "RPORT", "BYTES", "FLAGS"]
                        .iter()
                        .map(|x| s(x))
                        .collect(),
                )],
            ),
            clause(
                1,
                vec![1],
                None,
                vec![
                    set_length.clone(),
                    printf(
                        " %3d %16s:%-5d -> %16s:%-5d %6d (",
                        vec![
                            cpu(),
                            inet(SADDR, VER),
                            field(SPORT, IntType::UINT16),
                            inet(DADDR, VER),
                            field(DPORT, IntType::UINT16),
                            length(),
                        ],
                    ),
                ],
            ),
            clause(
                2,
                vec![2],
                None,
                vec![
                    set_length,
                    printf(
                        " %3d %16s:%-5d <- %16s:%-5d %6d (",
                        vec![
                            cpu(),
                            inet(DADDR, VER),
                            field(DPORT, IntType::UINT16),
                            inet(SADDR, VER),
                            field(SPORT, IntType::UINT16),
                            length(),
                        ],
                    ),
                ],
            ),
            clause(3, vec![1, 2], None, last),
        ],
    );
    p.this_vars = vec![var("length", int_t)];
    p
}

#[test]
fn tcpio_lines() {
    let p = tcpio();
    let (mut j, mut i) = both(&p, &quiet());
    let server = [192, 0, 2, 8];
    let client = [192, 0, 2, 40];
    let mut out = String::new();
    out += &fire_both(&mut j, &mut i, 0, &record(1, 0, 0, &[])).out;
    out += &fire_both(
        &mut j,
        &mut i,
        1,
        &record(
            100,
            1,
            0,
            &payload(484, 20, 0x18, 22, 60337, server, client),
        ),
    )
    .out;
    out += &fire_both(
        &mut j,
        &mut i,
        2,
        &record(101, 3, 0, &payload(32, 32, 0x02, 60337, 22, client, server)),
    )
    .out;
    out += &fire_both(
        &mut j,
        &mut i,
        2,
        &record(101, 3, 0, &payload(20, 20, 0x00, 60337, 22, client, server)),
    )
    .out;
    let want = concat!(
        " CPU           LADDR:LPORT           RADDR:RPORT  BYTES FLAGS\n",
        "   1        192.0.2.8:22    ->       192.0.2.40:60337    464 (PUSH|ACK|\x08)\n",
        "   3        192.0.2.8:22    <-       192.0.2.40:60337      0 (SYN|\x08)\n",
        "   3        192.0.2.8:22    <-       192.0.2.40:60337      0 (null \x08)\n",
    );
    assert_eq!(out, want);
}
