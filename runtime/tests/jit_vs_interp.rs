//! The oracle test: random typed programs over random event records run on
//! the JIT and on the interpreter; stdout, stderr and exit must agree byte
//! for byte, firing after firing (variables carry state across firings).

mod jit_support;

use jit_support::*;
use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use rdtrace_lang::catalog::ProbeKind;
use rdtrace_lang::typed::*;
use rdtrace_lang::types::{IntType, Type};

const PAYLOAD: usize = 64;
const VER: u32 = HDR; // address version byte (4 or 6)
const ADDR: u32 = HDR + 8; // 16 address bytes

fn i64t() -> Type {
    Type::Int(IntType::INT64)
}

fn int_types() -> impl Strategy<Value = IntType> {
    prop_oneof![
        Just(IntType::CHAR),
        Just(IntType::UINT8),
        Just(IntType {
            size: 2,
            signed: true
        }),
        Just(IntType::UINT16),
        Just(IntType::INT),
        Just(IntType::UINT),
        Just(IntType::INT64),
        Just(IntType::UINT64),
    ]
}

fn binops() -> impl Strategy<Value = BinOp> {
    prop::sample::select(vec![
        BinOp::Add,
        BinOp::Sub,
        BinOp::Mul,
        BinOp::Div,
        BinOp::Rem,
        BinOp::Shl,
        BinOp::Shr,
        BinOp::BitAnd,
        BinOp::BitOr,
        BinOp::BitXor,
        BinOp::Eq,
        BinOp::Ne,
        BinOp::Lt,
        BinOp::Le,
        BinOp::Gt,
        BinOp::Ge,
    ])
}

fn comparisons() -> impl Strategy<Value = BinOp> {
    prop::sample::select(vec![
        BinOp::Eq,
        BinOp::Ne,
        BinOp::Lt,
        BinOp::Le,
        BinOp::Gt,
        BinOp::Ge,
    ])
}

/// Integer variables: global 0, this 0, self 0, assoc 0 keyed by an int.
fn int_places() -> impl Strategy<Value = Place> {
    prop_oneof![
        Just(Place::Global(0)),
        Just(Place::This(0)),
        Just(Place::SelfVar(0)),
        (0i64..3).prop_map(|k| Place::Assoc(0, vec![i64c(k)])),
    ]
}

/// String variables: global 1, this 1, self 1.
fn str_places() -> impl Strategy<Value = Place> {
    prop_oneof![
        Just(Place::Global(1)),
        Just(Place::This(1)),
        Just(Place::SelfVar(1))
    ]
}

fn int_leaf() -> BoxedStrategy<Expr> {
    prop_oneof![
        (-5i64..5).prop_map(i64c),
        prop::sample::select(vec![i64::MIN, i64::MAX, -1, 0, 1, 255, 65536, 1 << 40])
            .prop_map(i64c),
        (0u32..(PAYLOAD as u32 - 8), int_types()).prop_map(|(o, t)| field(HDR + o, t)),
        int_places().prop_map(|p| load(p, i64t())),
        Just(builtin(Builtin::Timestamp, Type::Int(IntType::UINT64))),
        Just(cpu()),
    ]
    .boxed()
}

fn str_leaf() -> BoxedStrategy<Expr> {
    prop_oneof![
        prop::sample::select(vec!["", "a", "abc", "hello world", "ABC-def"]).prop_map(s),
        Just(inet(ADDR, VER)),
        (0u32..PAYLOAD as u32 - 8).prop_map(|o| chars(HDR + o, 8)),
        str_places().prop_map(|p| load(p, Type::String)),
        Just(builtin(Builtin::ProbeName, Type::String)),
    ]
    .boxed()
}

/// (integer expressions, string expressions), mutually recursive.
fn exprs() -> (BoxedStrategy<Expr>, BoxedStrategy<Expr>) {
    let int =
        int_leaf().prop_recursive(3, 24, 3, |inner| {
            let strs = str_leaf();
            prop_oneof![
                (binops(), any::<bool>(), inner.clone(), inner.clone())
                    .prop_map(|(op, u, l, r)| bin(op, u, l, r, i64t())),
                (
                    prop::sample::select(vec![UnOp::Neg, UnOp::Not, UnOp::BitNot, UnOp::Plus]),
                    inner.clone()
                )
                    .prop_map(|(op, x)| e(ExprKind::Unary(op, Box::new(x)), i64t())),
                (
                    prop::sample::select(vec![LogicalOp::And, LogicalOp::Or, LogicalOp::Xor]),
                    inner.clone(),
                    inner.clone()
                )
                    .prop_map(|(op, l, r)| e(
                        ExprKind::Logical {
                            op,
                            lhs: Box::new(l),
                            rhs: Box::new(r)
                        },
                        Type::Int(IntType::INT)
                    )),
                (inner.clone(), inner.clone(), inner.clone())
                    .prop_map(|(c, t, f)| ternary(c, t, f)),
                (int_types(), inner.clone())
                    .prop_map(|(t, x)| e(ExprKind::Cast(t, Box::new(x)), Type::Int(t))),
                (int_places(), inner.clone()).prop_map(|(p, v)| assign(p, v, i64t())),
                (int_places(), prop::option::of(binops()), inner.clone()).prop_map(|(p, op, v)| e(
                    ExprKind::Assign {
                        place: p,
                        op,
                        value: Box::new(v)
                    },
                    i64t()
                )),
                (
                    int_places(),
                    prop::sample::select(vec![1i64, -1]),
                    any::<bool>()
                )
                    .prop_map(|(p, d, post)| e(
                        ExprKind::IncDec {
                            place: p,
                            delta: d,
                            post
                        },
                        i64t()
                    )),
                strs.clone()
                    .prop_map(|x| call(Func::Strlen, vec![x], Type::Int(IntType::UINT64))),
                (comparisons(), strs.clone(), strs.clone())
                    .prop_map(|(op, l, r)| cmp(op, false, l, r)),
                (strs.clone(), strs.clone(), prop::option::of(-3i64..12)).prop_map(|(a, b, st)| {
                    let mut args = vec![a, b];
                    args.extend(st.map(i64c));
                    call(Func::Index, args, i64t())
                }),
                inner
                    .clone()
                    .prop_map(|x| call(Func::Ntohs, vec![x], Type::Int(IntType::UINT16))),
                inner
                    .clone()
                    .prop_map(|x| call(Func::Htonl, vec![x], Type::Int(IntType::UINT32))),
            ]
        });
    let int2 = int.clone();
    let strs = str_leaf().prop_recursive(2, 12, 3, move |inner| {
        prop_oneof![
            (int2.clone(), inner.clone(), inner.clone()).prop_map(|(c, t, f)| ternary(c, t, f)),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| call(
                Func::Strjoin,
                vec![a, b],
                Type::String
            )),
            (inner.clone(), -8i64..8, prop::option::of(-8i64..8)).prop_map(|(x, i, l)| {
                let mut args = vec![x, i64c(i)];
                args.extend(l.map(i64c));
                call(Func::Substr, args, Type::String)
            }),
            inner
                .clone()
                .prop_map(|x| call(Func::Toupper, vec![x], Type::String)),
            (inner.clone(), any::<bool>()).prop_map(|(x, first)| {
                let text = if first {
                    x
                } else {
                    e(ExprKind::Int(0), i64t())
                };
                call(Func::Strtok, vec![text, s(" .l")], Type::String)
            }),
            int2.clone()
                .prop_map(|x| call(Func::Lltostr, vec![x], Type::String)),
            (inner.clone(), prop::sample::select(vec![b'a', b'l', b'.'])).prop_map(|(x, c)| call(
                Func::Strchr,
                vec![x, jit_support::int(c as i64)],
                Type::String
            )),
            (str_places(), inner.clone()).prop_map(|(p, v)| assign(p, v, Type::String)),
            int2.clone().prop_map(|i| e(
                ExprKind::StringTable {
                    entries: vec!["zero".into(), "one".into(), "two".into()],
                    index: Box::new(i)
                },
                Type::String
            )),
        ]
    });
    (int.boxed(), strs.boxed())
}

fn stmts() -> impl Strategy<Value = Stmt> {
    let (int, strs) = exprs();
    prop_oneof![
        (int.clone(), strs.clone()).prop_map(|(i, s)| printf("%d [%s]\n", vec![i, s])),
        (int.clone(), int_types()).prop_map(|(i, t)| printf(
            "%x %u\n",
            vec![e(ExprKind::Cast(t, Box::new(i.clone())), Type::Int(t)), i]
        )),
        int.clone().prop_map(expr),
        strs.clone().prop_map(expr),
        int.clone().prop_map(trace),
        strs.clone().prop_map(trace),
        (int.clone(), int.clone(), strs.clone()).prop_map(|(c, a, b)| Stmt::If {
            cond: c,
            then: vec![printf("then %d\n", vec![a])],
            els: vec![printf("else %s\n", vec![b])],
            span: Default::default(),
        }),
        int.clone().prop_map(|i| Stmt::Exit {
            status: bin(BinOp::BitAnd, false, i, i64c(0xff), i64t()),
            span: Default::default()
        }),
        (int.clone(), int.clone()).prop_map(|(k, v)| Stmt::AggUpdate {
            agg: 0,
            keys: vec![k],
            args: vec![v],
            span: Default::default()
        }),
        (strs.clone(), int.clone()).prop_map(|(k, v)| Stmt::AggUpdate {
            agg: 1,
            keys: vec![k],
            args: vec![v],
            span: Default::default()
        }),
        int.clone().prop_map(|v| Stmt::AggUpdate {
            agg: 2,
            keys: vec![],
            args: vec![v],
            span: Default::default()
        }),
        (int.clone(), int.clone()).prop_map(|(v, w)| Stmt::AggUpdate {
            agg: 3,
            keys: vec![],
            args: vec![v, w],
            span: Default::default()
        }),
        (strs.clone(), int).prop_map(|(k, v)| Stmt::AggUpdate {
            agg: 4,
            keys: vec![k],
            args: vec![v],
            span: Default::default()
        }),
        (0usize..5).prop_map(|a| Stmt::Printa {
            format: None,
            aggs: vec![a],
            span: Default::default()
        }),
        Just(Stmt::Printa {
            format: None,
            aggs: vec![2, 3],
            span: Default::default()
        }),
        Just(Stmt::Printa {
            format: Some(rdtrace_lang::format::parse(b"%s=%@d;").unwrap()),
            aggs: vec![1],
            span: Default::default()
        }),
        (0usize..5, prop::option::of(-3i64..3)).prop_map(|(a, n)| Stmt::Trunc {
            agg: a,
            keep: n.map(i64c),
            span: Default::default()
        }),
        (0usize..5).prop_map(|a| Stmt::Clear {
            agg: a,
            span: Default::default()
        }),
        (0usize..2, prop::option::of(0i64..4)).prop_map(|(a, n)| Stmt::Normalize {
            agg: a,
            factor: n.map(i64c),
            span: Default::default()
        }),
    ]
}

fn clauses() -> impl Strategy<Value = Vec<(Option<Expr>, Vec<Stmt>)>> {
    let (int, _) = exprs();
    prop::collection::vec(
        (
            prop::option::weighted(0.3, int),
            prop::collection::vec(stmts(), 0..4),
        ),
        1..4,
    )
}

fn build(cls: Vec<(Option<Expr>, Vec<Stmt>)>, error_clause: Option<Vec<Stmt>>) -> Program {
    let probes = vec![
        probe(100, "tcp", "", "send", ProbeKind::Event { layout: 1 }),
        probe(3, "dtrace", "", "ERROR", ProbeKind::Error),
    ];
    let mut clauses: Vec<Clause> = cls
        .into_iter()
        .enumerate()
        .map(|(i, (p, b))| clause(i, vec![0], p, b))
        .collect();
    if let Some(body) = error_clause {
        clauses.push(clause(clauses.len(), vec![1], None, body));
    }
    let mut p = program(probes, clauses);
    p.globals = vec![var("gi", i64t()), var("gs", Type::String)];
    p.this_vars = vec![var("ti", i64t()), var("ts", Type::String)];
    p.self_vars = vec![var("si", i64t()), var("ss", Type::String)];
    p.assocs = vec![AssocDecl {
        name: "a".into(),
        keys: vec![i64t()],
        value: i64t(),
    }];
    p.aggs = vec![
        AggDecl {
            name: "c".into(),
            keys: vec![Type::Int(IntType::INT)],
            func: AggFunc::Avg,
        },
        AggDecl {
            name: "s".into(),
            keys: vec![Type::String],
            func: AggFunc::Sum,
        },
        AggDecl {
            name: "q".into(),
            keys: vec![],
            func: AggFunc::Quantize,
        },
        AggDecl {
            name: "l".into(),
            keys: vec![],
            func: AggFunc::Lquantize {
                low: -10,
                high: 50,
                step: 7,
            },
        },
        AggDecl {
            name: "ll".into(),
            keys: vec![Type::String],
            func: AggFunc::Llquantize {
                factor: 4,
                low: 1,
                high: 5,
                steps: 16,
            },
        },
    ];
    p
}

fn records() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(
        (
            0u32..4,
            1u32..4,
            prop::collection::vec(any::<u8>(), PAYLOAD),
            any::<bool>(),
        ),
        1..5,
    )
    .prop_map(|rs| {
        rs.into_iter()
            .map(|(cpu, tid, mut payload, v4)| {
                payload[0] = if v4 { 4 } else { 6 };
                record(100, cpu, tid, &payload)
            })
            .collect()
    })
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
    #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, rng_seed: rng_seed(), ..ProptestConfig::default() })]

    #[test]
    fn jit_matches_interpreter(
        cls in clauses(),
        error_clause in prop::option::of(prop::collection::vec(stmts(), 0..2)),
        recs in records(),
        quiet_mode in any::<bool>(),
        strsize in prop::sample::select(vec![4usize, 256]),
    ) {
        let p = build(cls, error_clause);
        let opts = rdtrace_runtime::Options { quiet: quiet_mode, strsize, ..Default::default() };
        let (mut j, mut i) = both(&p, &opts);
        for r in &recs {
            let a = fire_jit(&mut j, 0, r);
            let b = fire_interp(&mut i, 0, r);
            prop_assert_eq!(a, b);
        }
        let (mut a, mut b) = (Vec::new(), Vec::new());
        j.print_aggregations(&mut a);
        i.print_aggregations(&mut b);
        prop_assert_eq!(String::from_utf8_lossy(&a), String::from_utf8_lossy(&b));
    }
}
