//! Property test: random token soups and mutations of the valid corpus (and
//! tcpio.d) go through parse + check without panicking. The case count is
//! fixed so that CI runs are bounded and reproducible.

mod common;

use std::path::Path;
use std::sync::OnceLock;

use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use rdtrace_lang::{compile, CheckOptions};

const TOKENS: &[&str] = &[
    "BEGIN",
    "END",
    "tcp:::send",
    "tcp:::receive",
    "tick-1s",
    "profile-99",
    "ip:::send",
    "::",
    ":",
    ",",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    "/",
    ";",
    "=",
    "+=",
    "/=",
    "%",
    "++",
    "--",
    "->",
    ".",
    "?",
    ":",
    "!",
    "~",
    "&&",
    "||",
    "^^",
    "<<",
    ">>",
    "<",
    ">=",
    "==",
    "!=",
    "&",
    "|",
    "^",
    "*",
    "-",
    "+",
    "args",
    "[4]",
    "args[2]->ip_saddr",
    "args[4]->tcp_flags",
    "this->x",
    "self->y",
    "@",
    "@a",
    "@b[pid]",
    "count()",
    "sum(1)",
    "lquantize(x, 0, 10, 1)",
    "printf",
    "printa",
    "trace",
    "exit",
    "\"%d\\n\"",
    "\"%s\"",
    "\"%@d\"",
    "\"\\x4\"",
    "'a'",
    "0",
    "1",
    "0x1f",
    "077",
    "10ul",
    "1.5",
    "x",
    "y",
    "pid",
    "execname",
    "timestamp",
    "TH_SYN",
    "tcp_state_string",
    "$1",
    "$$1",
    "$target",
    "int",
    "string",
    "self",
    "this",
    "inline",
    "if",
    "else",
    "sizeof",
    "stringof",
    "(int)",
    "struct",
    "typedef",
    "translator",
    "#pragma D option quiet\n",
    "/* c */",
    "\n",
    "copyin",
    "curthread",
    "strlen",
    "system",
    "`sym",
];

/// 256 by default; `FUZZ_CASES=N` for a longer local hunt.
fn cases() -> u32 {
    std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

fn corpus() -> &'static [String] {
    static C: OnceLock<Vec<String>> = OnceLock::new();
    C.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/valid");
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "d"))
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect();
        v.push(include_str!("../../scripts/tcpio.d").to_string());
        v
    })
}

fn run(src: &str) {
    let catalog = common::catalog();
    for opts in [
        CheckOptions::default(),
        CheckOptions {
            allow_zero_matches: true,
            destructive: true,
            macro_args: vec!["f.d".into(), "7".into()],
            default_args: true,
        },
    ] {
        // Either outcome is fine; a panic fails the property.
        let r = compile("fuzz.d", src, &catalog, &opts);
        if let Err(d) = r {
            let _ = d.render();
        }
    }
}

#[derive(Debug, Clone)]
enum Edit {
    Delete { at: usize, len: usize },
    Insert { at: usize, token: usize },
    Duplicate { at: usize, len: usize },
    Replace { at: usize, token: usize },
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), 1usize..12).prop_map(|(at, len)| Edit::Delete { at, len }),
        (any::<usize>(), 0..TOKENS.len()).prop_map(|(at, token)| Edit::Insert { at, token }),
        (any::<usize>(), 1usize..40).prop_map(|(at, len)| Edit::Duplicate { at, len }),
        (any::<usize>(), 0..TOKENS.len()).prop_map(|(at, token)| Edit::Replace { at, token }),
    ]
}

fn apply(src: &str, edits: &[Edit]) -> String {
    let mut b = src.as_bytes().to_vec();
    for e in edits {
        let n = b.len().max(1);
        match *e {
            Edit::Delete { at, len } => {
                let at = at % n;
                let end = (at + len).min(b.len());
                b.drain(at.min(b.len())..end);
            }
            Edit::Insert { at, token } => {
                let at = (at % n).min(b.len());
                b.splice(at..at, TOKENS[token].bytes());
            }
            Edit::Duplicate { at, len } => {
                let at = (at % n).min(b.len());
                let end = (at + len).min(b.len());
                let piece = b[at..end].to_vec();
                b.splice(end..end, piece);
            }
            Edit::Replace { at, token } => {
                let at = (at % n).min(b.len());
                let end = (at + TOKENS[token].len()).min(b.len());
                b.splice(at..end, TOKENS[token].bytes());
            }
        }
    }
    String::from_utf8_lossy(&b).into_owned()
}

/// The RNG seed of this property test: fixed, so that CI runs the same cases
/// on every clone (a random seed once failed a fresh CI run).
/// `PROPTEST_RNG_SEED=N` picks another seed; `RDTRACE_FUZZ=1` draws a random
/// one, for long fuzzing runs (`RDTRACE_FUZZ=1 PROPTEST_CASES=100000`).
fn rng_seed() -> RngSeed {
    match ProptestConfig::default().rng_seed {
        RngSeed::Random if std::env::var_os("RDTRACE_FUZZ").is_some() => RngSeed::Random,
        RngSeed::Random => RngSeed::Fixed(0x7264_7472_6163_6531),
        fixed => fixed,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, rng_seed: rng_seed(), ..ProptestConfig::default() })]

    #[test]
    fn random_token_soup_never_panics(tokens in prop::collection::vec(0..TOKENS.len(), 0..80)) {
        let src: Vec<&str> = tokens.iter().map(|&t| TOKENS[t]).collect();
        run(&src.join(" "));
    }

    #[test]
    fn mutated_corpus_never_panics(which in any::<usize>(), edits in prop::collection::vec(edit(), 1..6)) {
        let c = corpus();
        let src = apply(&c[which % c.len()], &edits);
        run(&src);
    }

    #[test]
    fn arbitrary_text_never_panics(src in "\\PC{0,200}") {
        run(&src);
    }
}
