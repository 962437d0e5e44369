//! The JIT on hand-built typed programs: loads, arithmetic, variables,
//! strings, addresses, faults, non-quiet layout, exit. Every case also runs
//! through the interpreter, which must agree byte for byte.

mod jit_support;

use jit_support::*;
use rdtrace_lang::catalog::ProbeKind;
use rdtrace_lang::typed::*;
use rdtrace_lang::types::{IntType, Type};
use rdtrace_runtime::Options;

fn begin() -> EnabledProbe {
    probe(1, "dtrace", "", "BEGIN", ProbeKind::Begin)
}

fn one_clause(body: Vec<Stmt>) -> Program {
    program(vec![begin()], vec![clause(0, vec![0], None, body)])
}

fn run(p: &Program, payload: &[u8]) -> Fired {
    let (mut j, mut i) = both(p, &quiet());
    fire_both(&mut j, &mut i, 0, &record(1, 0, 7, payload))
}

#[test]
fn loads_of_every_width_and_signedness() {
    let payload = [0xffu8; 16];
    let o = HDR;
    let p = one_clause(vec![printf(
        "%d %d %d %d %d %d %d %d\n",
        vec![
            field(o, IntType::CHAR),
            field(o, IntType::UINT8),
            field(
                o,
                IntType {
                    size: 2,
                    signed: true,
                },
            ),
            field(o, IntType::UINT16),
            field(o, IntType::INT),
            field(o, IntType::UINT),
            field(o, IntType::INT64),
            field(o, IntType::UINT64),
        ],
    )]);
    assert_eq!(
        run(&p, &payload).out,
        "-1 255 -1 65535 -1 4294967295 -1 18446744073709551615\n"
    );

    // Little-endian layout, offsets inside the payload.
    let mut payload = vec![0u8; 16];
    payload[1..3].copy_from_slice(&0x1234u16.to_le_bytes());
    payload[4..8].copy_from_slice(&(-5i32).to_le_bytes());
    payload[8..16].copy_from_slice(&0x0102_0304_0506_0708u64.to_le_bytes());
    let p = one_clause(vec![printf(
        "%x %d %x\n",
        vec![
            field(o + 1, IntType::UINT16),
            field(o + 4, IntType::INT),
            field(o + 8, IntType::UINT64),
        ],
    )]);
    assert_eq!(run(&p, &payload).out, "1234 -5 102030405060708\n");
}

#[test]
fn signed_and_unsigned_division_and_comparison() {
    let i64t = Type::Int(IntType::INT64);
    let u64t = Type::Int(IntType::UINT64);
    let p = one_clause(vec![printf(
        "%d %d %d %d %u %d %d %d\n",
        vec![
            bin(BinOp::Div, false, i64c(-7), i64c(2), i64t.clone()),
            bin(BinOp::Rem, false, i64c(-7), i64c(2), i64t.clone()),
            cmp(BinOp::Lt, false, i64c(-1), i64c(1)),
            cmp(BinOp::Lt, true, i64c(-1), i64c(1)),
            bin(BinOp::Div, true, i64c(-8), i64c(2), u64t.clone()),
            bin(BinOp::Shr, false, i64c(-16), i64c(2), i64t.clone()),
            bin(BinOp::Div, false, i64c(i64::MIN), i64c(-1), i64t.clone()),
            bin(BinOp::Rem, false, i64c(i64::MIN), i64c(-1), i64t),
        ],
    )]);
    assert_eq!(
        run(&p, &[]).out,
        "-3 -1 1 0 9223372036854775804 -4 -9223372036854775808 0\n"
    );
}

#[test]
fn stores_narrow_to_the_variable_type() {
    let char_t = Type::Int(IntType::CHAR);
    let u8_t = Type::Int(IntType::UINT8);
    let mut p = one_clause(vec![
        expr(assign(Place::Global(0), int(300), char_t.clone())),
        expr(assign(Place::Global(1), int(-1), u8_t.clone())),
        printf(
            "%d %d %d\n",
            vec![
                load(Place::Global(0), char_t.clone()),
                load(Place::Global(1), u8_t.clone()),
                assign(Place::Global(0), int(200), char_t.clone()),
            ],
        ),
    ]);
    p.globals = vec![var("c", char_t), var("u", u8_t)];
    assert_eq!(run(&p, &[]).out, "44 255 -56\n");
}

#[test]
fn this_is_shared_by_clauses_and_reset_between_firings() {
    let it = Type::Int(IntType::INT64);
    let this0 = || load(Place::This(0), it.clone());
    let mut p = program(
        vec![begin()],
        vec![
            clause(
                0,
                vec![0],
                None,
                vec![
                    printf("before=%d ", vec![this0()]),
                    expr(assign(Place::This(0), i64c(5), it.clone())),
                ],
            ),
            clause(1, vec![0], None, vec![printf("after=%d\n", vec![this0()])]),
        ],
    );
    p.this_vars = vec![var("x", it.clone())];
    let (mut j, mut i) = both(&p, &quiet());
    let rec = record(1, 0, 7, &[]);
    assert_eq!(fire_both(&mut j, &mut i, 0, &rec).out, "before=0 after=5\n");
    assert_eq!(fire_both(&mut j, &mut i, 0, &rec).out, "before=0 after=5\n");
}

#[test]
fn string_variables_copy_and_ternary_yields_strings() {
    let mut p = one_clause(vec![
        expr(assign(Place::Global(0), s("first"), Type::String)),
        expr(assign(
            Place::This(0),
            load(Place::Global(0), Type::String),
            Type::String,
        )),
        expr(assign(Place::Global(0), s("second"), Type::String)),
        printf(
            "%s %s %s %s\n",
            vec![
                load(Place::This(0), Type::String),
                load(Place::Global(0), Type::String),
                ternary(
                    cmp(
                        BinOp::Eq,
                        false,
                        load(Place::This(0), Type::String),
                        s("first"),
                    ),
                    s("yes"),
                    s("no"),
                ),
                ternary(cmp(BinOp::Lt, false, s("abc"), s("abd")), s("lt"), s("ge")),
            ],
        ),
    ]);
    p.globals = vec![var("g", Type::String)];
    p.this_vars = vec![var("t", Type::String)];
    assert_eq!(run(&p, &[]).out, "first second yes lt\n");
}

#[test]
fn strings_are_bounded_by_strsize() {
    let mut p = one_clause(vec![
        expr(assign(Place::Global(0), s("abcdefghij"), Type::String)),
        printf(
            "%s|%s\n",
            vec![
                load(Place::Global(0), Type::String),
                call(Func::Strjoin, vec![s("12345"), s("67890")], Type::String),
            ],
        ),
    ]);
    p.globals = vec![var("g", Type::String)];
    let opts = Options {
        quiet: true,
        strsize: 4,
        ..Default::default()
    };
    let (mut j, mut i) = both(&p, &opts);
    assert_eq!(
        fire_both(&mut j, &mut i, 0, &record(1, 0, 7, &[])).out,
        "abcd|1234\n"
    );
}

fn addr_payload(version: u8, addr: &[u8]) -> Vec<u8> {
    let mut v = vec![0u8; 17];
    v[0] = version;
    v[1..1 + addr.len()].copy_from_slice(addr);
    v
}

#[test]
fn inet_addresses_v4_and_v6() {
    let p = one_clause(vec![printf("%s\n", vec![inet(HDR + 1, HDR)])]);
    let cases: [(u8, &str, &str); 5] = [
        (4, "192.0.2.8", "192.0.2.8"),
        (6, "::1", "::1"),
        (6, "fe80::1", "fe80::1"),
        (6, "::ffff:192.0.2.8", "192.0.2.8"),
        (6, "2001:db8::8", "2001:db8::8"),
    ];
    for (ver, text, want) in cases {
        let bytes = if ver == 4 {
            text.parse::<std::net::Ipv4Addr>()
                .unwrap()
                .octets()
                .to_vec()
        } else {
            text.parse::<std::net::Ipv6Addr>()
                .unwrap()
                .octets()
                .to_vec()
        };
        assert_eq!(
            run(&p, &addr_payload(ver, &bytes)).out,
            format!("{want}\n"),
            "{text}"
        );
    }
}

#[test]
fn chars_and_builtins() {
    let comm = std::mem::offset_of!(rdtrace_probes::event::EventHeader, comm) as u32;
    let p = one_clause(vec![printf(
        "%s %s:%s:%s:%s %d %d %d\n",
        vec![
            chars(comm, 16),
            builtin(Builtin::ProbeProv, Type::String),
            builtin(Builtin::ProbeMod, Type::String),
            builtin(Builtin::ProbeFunc, Type::String),
            builtin(Builtin::ProbeName, Type::String),
            builtin(Builtin::Id, Type::Int(IntType::UINT)),
            builtin(Builtin::Epid, Type::Int(IntType::UINT)),
            builtin(Builtin::Timestamp, Type::Int(IntType::UINT64)),
        ],
    )]);
    assert_eq!(run(&p, &[]).out, "sshd dtrace:::BEGIN 1 1 1000\n");
}

#[test]
fn divide_by_zero_abandons_the_clause_and_fires_error() {
    let it = Type::Int(IntType::INT64);
    let error_probe = probe(3, "dtrace", "", "ERROR", ProbeKind::Error);
    let arg = |n: u32| {
        field(
            rdtrace_runtime::ERROR_ARGS_OFFSET as u32 + 8 * n,
            IntType::UINT64,
        )
    };
    let mut p = program(
        vec![begin(), error_probe],
        vec![
            clause(
                0,
                vec![0],
                None,
                vec![
                    printf("discarded ", vec![]),
                    expr(assign(
                        Place::Global(0),
                        bin(
                            BinOp::Div,
                            false,
                            i64c(1),
                            load(Place::Global(1), it.clone()),
                            it.clone(),
                        ),
                        it.clone(),
                    )),
                    printf("never\n", vec![]),
                ],
            ),
            clause(1, vec![0], None, vec![printf("next clause runs\n", vec![])]),
            clause(
                2,
                vec![1],
                None,
                vec![printf(
                    "ERROR epid=%d action=%d fault=%d\n",
                    vec![arg(1), arg(2), arg(4)],
                )],
            ),
        ],
    );
    p.globals = vec![var("x", it.clone()), var("zero", it)];
    let r = run(&p, &[]);
    assert_eq!(r.out, "ERROR epid=1 action=2 fault=4\nnext clause runs\n");
    assert_eq!(
        r.err,
        "dtrace: error on enabled probe ID 1 (ID 1: dtrace:::BEGIN): divide-by-zero in action #2\n"
    );
}

#[test]
fn divide_by_zero_in_a_predicate() {
    let it = Type::Int(IntType::INT64);
    let mut p = program(
        vec![begin()],
        vec![clause(
            0,
            vec![0],
            Some(bin(
                BinOp::Rem,
                true,
                i64c(1),
                load(Place::Global(0), it.clone()),
                it.clone(),
            )),
            vec![printf("x", vec![])],
        )],
    );
    p.globals = vec![var("zero", it)];
    let r = run(&p, &[]);
    assert_eq!(r.out, "");
    assert_eq!(
        r.err,
        "dtrace: error on enabled probe ID 1 (ID 1: dtrace:::BEGIN): divide-by-zero in predicate\n"
    );
}

#[test]
fn non_quiet_prefix_lines() {
    let send = probe(76543, "tcp", "", "send", ProbeKind::Event { layout: 1 });
    let it = Type::Int(IntType::INT64);
    let mut p = program(
        vec![begin(), send],
        vec![
            clause(0, vec![0], None, vec![]),
            clause(
                1,
                vec![0],
                None,
                vec![expr(assign(Place::Global(0), i64c(1), it.clone()))],
            ),
            clause(
                2,
                vec![0, 1],
                None,
                vec![printf("hello", vec![]), trace(int(42)), trace(s("str"))],
            ),
            clause(3, vec![0], Some(int(0)), vec![printf("skipped", vec![])]),
            clause(4, vec![0], None, vec![exit(3)]),
        ],
    );
    p.globals = vec![var("x", it)];
    let (mut j, mut i) = both(&p, &Options::default());
    let r = fire_both(&mut j, &mut i, 0, &record(1, 2, 7, &[]));
    let str_field = format!("  {:<33}", "str");
    assert_eq!(
        r.out,
        format!(
            "  2      1                           :BEGIN \n  2      1                           :BEGIN hello       42{str_field}\n  2      1                           :BEGIN \n"
        )
    );
    assert_eq!(r.exit, Some(3));
    let r = fire_both(&mut j, &mut i, 1, &record(76543, 0, 7, &[]));
    assert_eq!(
        r.out,
        format!("  0  76543                            :send hello       42{str_field}\n")
    );
    assert_eq!(r.exit, None);
}

#[test]
fn quiet_trace_and_exit() {
    let p = one_clause(vec![trace(int(-1)), trace(s(" x ")), exit(0)]);
    let r = run(&p, &[]);
    assert_eq!(r.out, "-1 x ");
    assert_eq!(r.exit, Some(0));
}

#[test]
fn self_and_associative_arrays() {
    let it = Type::Int(IntType::INT64);
    let tid_field = field(
        std::mem::offset_of!(rdtrace_probes::event::EventHeader, tid) as u32,
        IntType::UINT,
    );
    let mut p = one_clause(vec![
        printf(
            "%d %s ",
            vec![
                load(Place::SelfVar(0), it.clone()),
                load(
                    Place::Assoc(0, vec![s("k"), tid_field.clone()]),
                    Type::String,
                ),
            ],
        ),
        expr(assign(
            Place::SelfVar(0),
            bin(
                BinOp::Add,
                false,
                load(Place::SelfVar(0), it.clone()),
                i64c(1),
                it.clone(),
            ),
            it.clone(),
        )),
        expr(assign(
            Place::Assoc(0, vec![s("k"), tid_field]),
            s("seen"),
            Type::String,
        )),
    ]);
    p.self_vars = vec![var("n", it.clone())];
    p.assocs = vec![AssocDecl {
        name: "a".into(),
        keys: vec![Type::String, Type::Int(IntType::UINT)],
        value: Type::String,
    }];
    let (mut j, mut i) = both(&p, &quiet());
    assert_eq!(
        fire_both(&mut j, &mut i, 0, &record(1, 0, 7, &[])).out,
        "0  "
    );
    assert_eq!(
        fire_both(&mut j, &mut i, 0, &record(1, 0, 7, &[])).out,
        "1 seen "
    );
    assert_eq!(
        fire_both(&mut j, &mut i, 0, &record(1, 0, 8, &[])).out,
        "0  "
    );
}

#[test]
fn invalid_llquantize_parameters_are_refused() {
    let mut p = one_clause(vec![Stmt::AggUpdate {
        agg: 0,
        keys: vec![],
        args: vec![int(1)],
        span: Default::default(),
    }]);
    p.aggs = vec![AggDecl {
        name: "_".into(),
        keys: vec![],
        func: AggFunc::Llquantize {
            factor: 1,
            low: 0,
            high: 6,
            steps: 20,
        },
    }];
    let err = rdtrace_runtime::CompiledProgram::new(&p, &quiet())
        .err()
        .expect("refused");
    assert!(err.to_string().contains("llquantize"), "{err}");
}

#[test]
fn strtok_continues_from_null() {
    let null = || e(ExprKind::Int(0), Type::Int(IntType::INT64));
    let tok = |first: Expr| call(Func::Strtok, vec![first, s(", ")], Type::String);
    let p = one_clause(vec![printf(
        "%s|%s|%s|%s\n",
        vec![tok(s(" ab, c,,d")), tok(null()), tok(null()), tok(null())],
    )]);
    assert_eq!(run(&p, &[]).out, "ab|c|d|\n");
}

/// `$target` is read when the clause runs: the program is compiled once,
/// before `-c`'s command or `-p`'s process is known, and told the pid later.
#[test]
fn target_is_set_after_compiling() {
    let p = one_clause(vec![printf(
        "%d\n",
        vec![builtin(Builtin::Target, Type::Int(IntType::INT))],
    )]);
    let (mut j, mut i) = both(&p, &quiet());
    let rec = record(1, 0, 7, &[]);
    assert_eq!(fire_both(&mut j, &mut i, 0, &rec).out, "0\n");
    j.set_target_pid(4321);
    i.set_target_pid(4321);
    assert_eq!(fire_both(&mut j, &mut i, 0, &rec).out, "4321\n");
}
