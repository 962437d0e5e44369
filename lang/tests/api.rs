//! The library entry points: compile, compile_many/check_many, and what the
//! typed program promises the runtime.

mod common;

use rdtrace_lang::typed::{ExprKind, Stmt};
use rdtrace_lang::{check, check_many, compile, compile_many, parser, CheckOptions};

#[test]
fn several_sources_make_one_program_in_order() {
    let cat = common::catalog();
    let a = "BEGIN { n = 1; }";
    let b = "tcp:::send { n++; @c = count(); }";
    let c = "END { printa(@c); trace(n); }";
    let p = compile_many(
        &[("a.d", a), ("-n b", b), ("-n c", c)],
        &cat,
        &CheckOptions::default(),
    )
    .unwrap();
    assert_eq!(p.clauses.len(), 3);
    assert_eq!(
        p.clauses.iter().map(|c| c.index).collect::<Vec<_>>(),
        [0, 1, 2]
    );
    let names: Vec<&str> = p.probes.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["BEGIN", "send", "END"]);
    // The global and the aggregation of one source are those of the others.
    assert_eq!(p.globals.len(), 1);
    assert_eq!(p.aggs.len(), 1);
}

#[test]
fn diagnostics_point_into_the_source_they_come_from() {
    let cat = common::catalog();
    let err = compile_many(
        &[
            ("first.d", "BEGIN { x = 1; }"),
            ("second.d", "END { trace(y); }"),
        ],
        &cat,
        &Default::default(),
    )
    .unwrap_err();
    assert_eq!(err.len(), 1);
    assert_eq!(err.items[0].source_name(), Some("second.d"));
    let text = err.render();
    assert!(text.contains("second.d:1:13"), "{text}");
    // Parse errors of every source are reported together.
    let err = compile_many(
        &[("p.d", "BEGIN {"), ("q.d", "END }")],
        &cat,
        &Default::default(),
    )
    .unwrap_err();
    let names: Vec<_> = err
        .items
        .iter()
        .map(|d| d.source_name().unwrap().to_string())
        .collect();
    // p.d's error, then where its `{` was opened, then q.d's.
    assert_eq!(names, ["p.d", "p.d", "q.d"]);
}

#[test]
fn check_many_keeps_state_across_scripts() {
    let cat = common::catalog();
    let s1 = parser::parse("inline int LIMIT = 3;").unwrap();
    let s2 = parser::parse("BEGIN { x = LIMIT; }").unwrap();
    let p = check_many(
        &[
            ("1.d", "inline int LIMIT = 3;", &s1),
            ("2.d", "BEGIN { x = LIMIT; }", &s2),
        ],
        &cat,
        &Default::default(),
    )
    .unwrap();
    let Stmt::Expr(e) = &p.clauses[0].body[0] else {
        panic!("assignment")
    };
    let ExprKind::Assign { value, .. } = &e.kind else {
        panic!("assignment")
    };
    assert!(matches!(value.kind, ExprKind::Int(3)));
    // check() alone reports without source text; rendering still works.
    let bad = parser::parse("BEGIN { trace(nope); }").unwrap();
    let err = check(&bad, &cat, &Default::default()).unwrap_err();
    assert!(err.render().contains("failed to resolve nope"));
}

#[test]
fn zero_match_clauses_are_checked_but_not_emitted() {
    let cat = common::catalog();
    let opts = CheckOptions {
        allow_zero_matches: true,
        ..Default::default()
    };
    let p = compile(
        "z.d",
        "tcp:::nothing { trace(1); } BEGIN { trace(2); }",
        &cat,
        &opts,
    )
    .unwrap();
    assert_eq!(p.clauses.len(), 1);
    assert_eq!(p.clauses[0].index, 0);
    // …but their errors are still errors.
    assert!(compile("z.d", "tcp:::nothing { trace(nope); }", &cat, &opts).is_err());
}

#[test]
fn synthesised_ticks_get_fresh_ids_above_the_catalog() {
    let cat = common::catalog();
    let max = cat.probes.iter().map(|p| p.id).max().unwrap();
    let p = compile(
        "t.d",
        "tick-1s {} tick-1s {} profile-10ms {}",
        &cat,
        &Default::default(),
    )
    .unwrap();
    let ids: Vec<u32> = p.probes.iter().map(|p| p.id).collect();
    assert_eq!(ids, [max + 1, max + 2]);
    assert_eq!(p.clauses[0].probes, p.clauses[1].probes);
}
