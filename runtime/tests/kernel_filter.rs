//! The in-kernel predicate (`lang::filter`, evaluated by `bpf/filter.h`
//! exactly as `filter::passes` does) may let through an event the
//! predicate rejects, never drop one it accepts: random predicates over
//! pid, uid, arguments and `$target`, random syscall records, checked
//! against both engines. A fixed RNG seed in CI (as the other property
//! tests).

mod jit_support;

use jit_support::*;
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, RngSeed};
use rdtrace_lang::CheckOptions;
use rdtrace_probes::event::{Record, SyscallEvent};

fn rng_seed() -> RngSeed {
    match ProptestConfig::default().rng_seed {
        RngSeed::Random if std::env::var_os("RDTRACE_FUZZ").is_some() => RngSeed::Random,
        RngSeed::Random => RngSeed::Fixed(0x6b66_696c_7465_7231),
        fixed => fixed,
    }
}

const TARGET: i64 = 4242;

/// One comparison of a field with a constant (either side).
fn cond() -> impl Strategy<Value = String> {
    let field = prop::sample::select(vec![
        "pid",
        "tid",
        "uid",
        "gid",
        "ppid",
        "arg0",
        "arg1",
        "(int)arg2",
        "args[0]",
    ]);
    let op = prop::sample::select(vec!["==", "!=", "<", "<=", ">", ">="]);
    let value = prop_oneof![
        Just("$target".to_string()),
        (-3i64..3).prop_map(|v| v.to_string()),
        (0i64..5000).prop_map(|v| v.to_string()),
        Just("-1".to_string()),
        Just("0xffffffff".to_string()),
    ];
    (field, op, value, any::<bool>()).prop_map(|(f, o, v, flip)| {
        if flip {
            format!("{v} {o} {f}")
        } else {
            format!("{f} {o} {v}")
        }
    })
}

/// A predicate: conditions joined by && and ||, some negated.
fn predicate() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![cond(), cond().prop_map(|c| format!("!({c})"))];
    leaf.prop_recursive(3, 8, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) && ({b})")),
            (inner.clone(), inner).prop_map(|(a, b)| format!("({a}) || ({b})")),
        ]
    })
}

fn value() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(TARGET as u64),
        0u64..5,
        0u64..5000,
        Just(u64::MAX),
        Just(0xffff_ffff),
        any::<u64>()
    ]
}

fn read_entry() -> u32 {
    rdtrace_probes::catalog()
        .probes
        .iter()
        .find(|p| p.provider == "syscall" && p.function == "read" && p.name == "entry")
        .unwrap()
        .id
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, rng_seed: rng_seed(), ..ProptestConfig::default() })]

    #[test]
    fn the_kernel_filter_never_drops_an_accepted_event(
        preds in prop::collection::vec(predicate(), 1..3),
        ids in prop::collection::vec(value(), 5),
        args in prop::collection::vec(value(), 3),
    ) {
        let src: String = preds
            .iter()
            .map(|p| format!("syscall::read:entry /{p}/ {{ printf(\"hit\\n\"); }}\n"))
            .collect();
        let program = rdtrace_lang::compile("t.d", &src, &rdtrace_probes::catalog(), &CheckOptions::default())
            .unwrap_or_else(|e| panic!("{src}: {}", e.render()));
        let filters = rdtrace_lang::filter::kernel_filters(&program, TARGET);
        let mut e = SyscallEvent::default();
        e.hdr.probe = read_entry();
        e.hdr.pid = ids[0] as u32;
        e.hdr.tid = ids[1] as u32;
        e.hdr.uid = ids[2] as u32;
        e.hdr.gid = ids[3] as u32;
        e.hdr.ppid = ids[4] as u32;
        e.args[..3].copy_from_slice(&args);
        let rec = e.as_bytes().to_vec();
        let (mut jit, mut interp) = both(&program, &quiet());
        jit.set_target_pid(TARGET);
        interp.set_target_pid(TARGET);
        let fired = fire_both(&mut jit, &mut interp, 0, &rec);
        let accepted = fired.out.contains("hit");
        let passes = rdtrace_lang::filter::passes(&filters[0], &rec);
        prop_assert!(!accepted || passes, "{src}\nrecord pid={} tid={} uid={} gid={} ppid={} args={:x?}\nfilter {:?}", e.hdr.pid, e.hdr.tid, e.hdr.uid, e.hdr.gid, e.hdr.ppid, &args, filters[0]);
    }
}

/// The filter does say something: `pid == $target` alone rejects other
/// pids, and a clause without a predicate leaves nothing to filter.
#[test]
fn simple_predicates_become_filters() {
    let compile = |src: &str| {
        rdtrace_lang::compile(
            "t.d",
            src,
            &rdtrace_probes::catalog(),
            &CheckOptions::default(),
        )
        .unwrap()
    };
    let p = compile("syscall::read:entry /pid == $target && arg2 > 100/ { }");
    let f = &rdtrace_lang::filter::kernel_filters(&p, TARGET)[0];
    assert_eq!(f.len(), 2);
    let mut e = SyscallEvent::default();
    e.hdr.pid = TARGET as u32;
    e.args[2] = 101;
    assert!(rdtrace_lang::filter::passes(f, e.as_bytes()));
    e.hdr.pid = 1;
    assert!(!rdtrace_lang::filter::passes(f, e.as_bytes()));
    let p = compile("syscall::read:entry /pid == 1/ { } syscall::read:entry { }");
    assert!(rdtrace_lang::filter::kernel_filters(&p, TARGET)[0].is_empty());
    let p = compile("syscall::read:entry /pid == 1 || uid == 0/ { }");
    assert!(rdtrace_lang::filter::kernel_filters(&p, TARGET)[0].is_empty());
}
