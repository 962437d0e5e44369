//! D text through the real front end (`rdtrace_lang::compile` with the
//! probes catalog) into the JIT: the seed script on hand-built TCP
//! records, non-quiet layout, and a runtime division by zero.

mod jit_support;

use jit_support::Fired;
use rdtrace_lang::CheckOptions;
use rdtrace_probes::catalog::{catalog, DTRACE_BEGIN, TCP_RECEIVE, TCP_SEND};
use rdtrace_probes::event::{EventHeader, TcpEvent};
use rdtrace_runtime::{CompiledProgram, FireContext, Interpreter, Options};

fn compile(src: &str) -> rdtrace_lang::typed::Program {
    match rdtrace_lang::compile("test.d", src, &catalog(), &CheckOptions::default()) {
        Ok(p) => p,
        Err(d) => panic!("{d:?}"),
    }
}

fn quiet_of(p: &rdtrace_lang::typed::Program) -> bool {
    p.options.iter().any(|o| o.name == "quiet")
}

struct Run {
    jit: CompiledProgram,
    interp: Interpreter,
    program: rdtrace_lang::typed::Program,
}

impl Run {
    fn new(src: &str) -> Run {
        let program = compile(src);
        let opts = Options {
            quiet: quiet_of(&program),
            ..Default::default()
        };
        Run {
            jit: CompiledProgram::new(&program, &opts).expect("jit"),
            interp: Interpreter::new(&program, &opts).expect("interp"),
            program,
        }
    }

    /// Fires the probe with catalog ID `id` on `rec` in both engines.
    fn fire(&mut self, id: u32, rec: &[u8]) -> Fired {
        let Some(probe) = self.program.probes.iter().position(|p| p.id == id) else {
            return Fired {
                out: String::new(),
                err: String::new(),
                exit: None,
            };
        };
        let ctx = FireContext::default();
        let (mut o1, mut e1, mut o2, mut e2) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let r1 = self.jit.fire(probe, rec, &ctx, &mut o1, &mut e1);
        let r2 = self.interp.fire(probe, rec, &ctx, &mut o2, &mut e2);
        assert_eq!(
            (&o1, &e1, r1),
            (&o2, &e2, r2),
            "JIT and interpreter disagree"
        );
        Fired {
            out: String::from_utf8_lossy(&o1).into(),
            err: String::from_utf8_lossy(&e1).into(),
            exit: r1.exit,
        }
    }
}

fn header(id: u32, cpu: u32) -> Vec<u8> {
    let h = EventHeader {
        ts_ns: 5,
        probe: id,
        cpu,
        ..Default::default()
    };
    as_bytes(&h).to_vec()
}

fn as_bytes<T>(v: &T) -> &[u8] {
    // SAFETY: plain #[repr(C)] data read as bytes.
    unsafe { std::slice::from_raw_parts(v as *const T as *const u8, std::mem::size_of::<T>()) }
}

#[allow(clippy::too_many_arguments)]
fn tcp(
    id: u32,
    cpu: u32,
    src: [u8; 4],
    sport: u16,
    dst: [u8; 4],
    dport: u16,
    payload: u32,
    flags: u8,
) -> Vec<u8> {
    // SAFETY: TcpEvent is plain data; all-zero is a valid value.
    let mut ev: TcpEvent = unsafe { std::mem::zeroed() };
    ev.hdr = EventHeader {
        ts_ns: 5,
        probe: id,
        cpu,
        ..Default::default()
    };
    ev.ipver = 4;
    ev.tcp_offset = 20;
    ev.tcp_flags = flags;
    ev.saddr[..4].copy_from_slice(&src);
    ev.daddr[..4].copy_from_slice(&dst);
    ev.ip_plength = payload + 20;
    ev.sport = sport;
    ev.dport = dport;
    as_bytes(&ev).to_vec()
}

#[test]
fn seed_script_lines() {
    let src = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/tcpio.d"))
        .unwrap();
    let mut r = Run::new(&src);
    let (server, client) = ([192, 0, 2, 8], [192, 0, 2, 40]);
    let mut out = String::new();
    out += &r.fire(DTRACE_BEGIN, &header(DTRACE_BEGIN, 0)).out;
    out += &r
        .fire(
            TCP_RECEIVE,
            &tcp(TCP_RECEIVE, 3, client, 60337, server, 22, 0, 0x02),
        )
        .out;
    out += &r
        .fire(
            TCP_SEND,
            &tcp(TCP_SEND, 3, server, 22, client, 60337, 0, 0x12),
        )
        .out;
    out += &r
        .fire(
            TCP_SEND,
            &tcp(TCP_SEND, 1, server, 22, client, 60337, 464, 0x18),
        )
        .out;
    out += &r
        .fire(
            TCP_RECEIVE,
            &tcp(TCP_RECEIVE, 3, client, 60337, server, 22, 0, 0x11),
        )
        .out;
    let want = concat!(
        " CPU           LADDR:LPORT           RADDR:RPORT  BYTES FLAGS\n",
        "   3        192.0.2.8:22    <-       192.0.2.40:60337      0 (SYN|\x08)\n",
        "   3        192.0.2.8:22    ->       192.0.2.40:60337      0 (SYN|ACK|\x08)\n",
        "   1        192.0.2.8:22    ->       192.0.2.40:60337    464 (PUSH|ACK|\x08)\n",
        "   3        192.0.2.8:22    <-       192.0.2.40:60337      0 (FIN|ACK|\x08)\n",
    );
    assert_eq!(out, want);
}

#[test]
fn non_quiet_layout() {
    let mut r = Run::new(
        "BEGIN { printf(\"hi\"); } BEGIN { x = 1; } BEGIN { } BEGIN { trace(1); exit(0); }",
    );
    let f = r.fire(DTRACE_BEGIN, &header(DTRACE_BEGIN, 0));
    assert_eq!(
        f.out,
        concat!(
            "  0      1                           :BEGIN hi\n",
            "  0      1                           :BEGIN \n",
            "  0      1                           :BEGIN         1\n",
        )
    );
    assert_eq!(f.exit, Some(0));
}

#[test]
fn runtime_division_by_zero() {
    let mut r = Run::new(
        "#pragma D option quiet\n\
         int zero;\n\
         tcp:::send { printf(\"lost\"); n = 1 / zero; }\n\
         tcp:::send { printf(\"kept\\n\"); }\n",
    );
    let rec = tcp(TCP_SEND, 0, [10, 0, 0, 1], 1, [10, 0, 0, 2], 2, 0, 0x10);
    for _ in 0..2 {
        let f = r.fire(TCP_SEND, &rec);
        assert_eq!(f.out, "kept\n");
        assert_eq!(
            f.err,
            "dtrace: error on enabled probe ID 1 (ID 4: tcp:vmlinux:net_dev_queue:send): divide-by-zero in action #2\n"
        );
    }
}
