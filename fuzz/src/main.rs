//! rdtrace-fuzz SECONDS [SEED]: mutates the repository's D scripts and a
//! generated capture for SECONDS and feeds them to the compiler, the two
//! engines and the replay reader. A panic (caught per input), or the JIT
//! and the interpreter printing different things for BEGIN, is a failure;
//! each is saved under fuzz/failures/ to become a regression test.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rdtrace_lang::CheckOptions;
use rdtrace_record::{EventHeader, Record};
use rdtrace_runtime::{CompiledProgram, FireContext, Interpreter, Options};

/// xorshift64*: small, seedable, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Fragments of D spliced into programs: operators, keywords, literals and
/// built-ins the grammar knows, so mutations reach past the parser.
const FRAGMENTS: &[&str] = &[
    "(",
    ")",
    "{",
    "}",
    "[",
    "]",
    ";",
    ",",
    "->",
    ".",
    "+",
    "-",
    "*",
    "/",
    "%",
    "<<",
    ">>",
    "&&",
    "||",
    "^^",
    "!",
    "~",
    "?",
    ":",
    "=",
    "+=",
    "==",
    "!=",
    "<",
    ">=",
    "++",
    "--",
    "if",
    "else",
    "this->x",
    "self->y",
    "@a",
    "@b[1, \"k\"]",
    "x",
    "0",
    "1",
    "-1",
    "9223372036854775807",
    "0xffffffff",
    "\"s\"",
    "\"\"",
    "'c'",
    "probename",
    "probefunc",
    "timestamp",
    "pid",
    "execname",
    "arg0",
    "args[0]",
    "strlen(\"ab\")",
    "substr(\"abc\", 1)",
    "strjoin(\"a\", \"b\")",
    "lltostr(42)",
    "count()",
    "sum(1)",
    "quantize(3)",
    "lquantize(1, 0, 10, 1)",
    "printf(\"%d\\n\", 1)",
    "trace(1)",
    "exit(0)",
    "stringof(1)",
    "copyinstr(arg0)",
    "inet_ntoa(0)",
    "BEGIN",
    "END",
    "tick-1s",
    "/1/",
    "#pragma D option quiet\n",
];

fn corpus(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for dir in ["lang/tests/data/valid", "scripts", "tests/dscripts"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "d") {
                if let Ok(t) = std::fs::read_to_string(&p) {
                    out.push(t);
                }
            }
        }
    }
    out.push("BEGIN { x = 1; printf(\"%d\\n\", x); exit(0); }".into());
    out
}

/// One random edit: insert a fragment, delete or duplicate a span, or
/// flip a byte (kept UTF-8: rdtrace refuses non-UTF-8 scripts earlier).
fn mutate(rng: &mut Rng, text: &str) -> String {
    let mut s = text.to_string();
    for _ in 0..1 + rng.below(4) {
        let b = s.as_bytes();
        let at = (0..=b.len())
            .map(|_| rng.below(b.len() + 1))
            .find(|&i| s.is_char_boundary(i))
            .unwrap_or(0);
        match rng.below(4) {
            0 => s.insert_str(at, FRAGMENTS[rng.below(FRAGMENTS.len())]),
            1 => {
                let end = (at + rng.below(16)).min(s.len());
                if s.is_char_boundary(end) {
                    s.replace_range(at..end, "");
                }
            }
            2 => {
                let end = (at + rng.below(32)).min(s.len());
                if s.is_char_boundary(end) {
                    let piece = s[at..end].to_string();
                    s.insert_str(end, &piece);
                }
            }
            _ => {
                let c = (b' ' + rng.below(95) as u8) as char;
                s.insert(at, c);
            }
        }
    }
    s
}

/// Compiles `text`; when it compiles, fires BEGIN on both engines and
/// returns a description of any disagreement.
fn program_case(
    catalog: &rdtrace_lang::catalog::Catalog,
    text: &str,
    fired: &mut u64,
) -> Option<String> {
    let program = rdtrace_lang::compile("fuzz.d", text, catalog, &CheckOptions::default()).ok()?;
    let opts = Options {
        quiet: true,
        ..Options::default()
    };
    let (Ok(mut jit), Ok(mut interp)) = (
        CompiledProgram::new(&program, &opts),
        Interpreter::new(&program, &opts),
    ) else {
        return None;
    };
    let begin = program
        .probes
        .iter()
        .position(|p| p.kind == rdtrace_lang::catalog::ProbeKind::Begin)?;
    let hdr = EventHeader {
        probe: program.probes[begin].id,
        ..EventHeader::default()
    };
    let rec = hdr.as_bytes().to_vec();
    let ctx = FireContext { wall_offset_ns: 0 };
    *fired += 1;
    let (mut a, mut ae, mut b, mut be) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let ra = jit.fire(begin, &rec, &ctx, &mut a, &mut ae);
    let rb = interp.fire(begin, &rec, &ctx, &mut b, &mut be);
    jit.print_aggregations(&mut a);
    interp.print_aggregations(&mut b);
    (a != b || ae != be || ra.exit != rb.exit).then(|| {
        format!(
            "JIT and interpreter disagree:\n--- jit\n{}{}--- interpreter\n{}{}",
            String::from_utf8_lossy(&a),
            String::from_utf8_lossy(&ae),
            String::from_utf8_lossy(&b),
            String::from_utf8_lossy(&be)
        )
    })
}

/// A small capture (Ethernet, IPv4, TCP) to mutate.
fn capture() -> Vec<u8> {
    let mut c = Vec::new();
    c.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    c.extend_from_slice(&2u16.to_le_bytes());
    c.extend_from_slice(&4u16.to_le_bytes());
    c.extend_from_slice(&[0; 8]);
    c.extend_from_slice(&65535u32.to_le_bytes());
    c.extend_from_slice(&1u32.to_le_bytes());
    for i in 0..4u32 {
        let mut frame = vec![0u8; 14];
        frame[12] = 0x08;
        let mut ip = vec![
            0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0, 192, 0, 2, 8, 192, 0, 2, 40,
        ];
        let tcp = [
            0x9c, 0x40, 0, 22, 0, 0, 0, i as u8, 0, 0, 0, 0, 0x50, 0x12, 0xff, 0xff, 0, 0, 0, 0,
        ];
        ip.extend_from_slice(&tcp);
        frame.extend_from_slice(&ip);
        c.extend_from_slice(&(1_700_000_000 + i).to_le_bytes());
        c.extend_from_slice(&0u32.to_le_bytes());
        c.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        c.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        c.extend_from_slice(&frame);
    }
    c
}

fn capture_case(dir: &Path, bytes: &[u8]) {
    let path = dir.join("fuzz.pcap");
    if std::fs::write(&path, bytes).is_err() {
        return;
    }
    let locals = ["192.0.2.8".parse().expect("address")];
    let probes = [
        rdtrace_probes::TCP_SEND,
        rdtrace_probes::TCP_RECEIVE,
        rdtrace_probes::IP_RECEIVE,
    ];
    let Ok(mut src) = rdtrace_probes::ReplaySource::open(&path, &locals, &probes) else {
        return;
    };
    use rdtrace_probes::Source;
    for _ in 0..64 {
        match src.poll(Duration::ZERO, &mut |_| {}) {
            Ok(rdtrace_probes::Poll::More) => {}
            _ => break,
        }
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let secs: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(60);
    let seed: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
            | 1
    });
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let failures_dir = root.join("fuzz/failures");
    let scratch = std::env::temp_dir().join(format!("rdtrace-fuzz-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&scratch);
    // Panics are the findings: keep their messages short.
    std::panic::set_hook(Box::new(|_| {}));
    let catalog = rdtrace_probes::catalog();
    let corpus = corpus(&root);
    let pcap = capture();
    let mut rng = Rng(seed);
    let (mut inputs, mut failures, mut fired) = (0u64, 0u64, 0u64);
    let end = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < end {
        inputs += 1;
        let (kind, input, outcome) = if rng.below(8) == 0 {
            let mut bytes = pcap.clone();
            for _ in 0..1 + rng.below(8) {
                let at = rng.below(bytes.len());
                bytes[at] = rng.next() as u8;
            }
            let r = catch_unwind(AssertUnwindSafe(|| capture_case(&scratch, &bytes)));
            ("capture", bytes, r.err().map(|_| "panic".to_string()))
        } else {
            let base = &corpus[rng.below(corpus.len())];
            let text = mutate(&mut rng, base);
            let r = catch_unwind(AssertUnwindSafe(|| {
                program_case(&catalog, &text, &mut fired)
            }));
            let outcome = match r {
                Ok(d) => d,
                Err(_) => Some("panic".to_string()),
            };
            ("program", text.into_bytes(), outcome)
        };
        if let Some(why) = outcome {
            failures += 1;
            let _ = std::fs::create_dir_all(&failures_dir);
            let name = format!("{kind}-{seed:x}-{inputs}");
            let ext = if kind == "capture" { "pcap" } else { "d" };
            let _ = std::fs::write(failures_dir.join(format!("{name}.{ext}")), &input);
            let _ = std::fs::write(failures_dir.join(format!("{name}.why")), why);
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    println!("fuzz: seed {seed}; {fired} programs compiled and fired on both engines");
    println!("fuzz: {inputs} inputs, {failures} failures");
}
