//! The seed script must parse and check cleanly, and its typed program must
//! have the shape the runtime relies on.

mod common;

use rdtrace_lang::typed::{ExprKind, Stmt};
use rdtrace_lang::types::{IntType, Type};
use rdtrace_lang::{compile, CheckOptions};

const TCPIO: &str = include_str!("../../scripts/tcpio.d");

#[test]
fn tcpio_checks_cleanly() {
    let opts = CheckOptions {
        macro_args: vec!["tcpio.d".into()],
        ..Default::default()
    };
    let p = match compile("tcpio.d", TCPIO, &common::catalog(), &opts) {
        Ok(p) => p,
        Err(d) => panic!("{}", d.render()),
    };
    let opts: Vec<(&str, Option<&str>)> = p
        .options
        .iter()
        .map(|o| (o.name.as_str(), o.value.as_deref()))
        .collect();
    assert_eq!(opts, [("quiet", None), ("switchrate", Some("10hz"))]);
    let names: Vec<&str> = p.probes.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["BEGIN", "send", "receive"]);
    assert_eq!(p.clauses.len(), 4);
    assert_eq!(p.clauses[3].probes, [1, 2]);
    // this->length = ip_plength (uint32_t) - tcp_offset (uint8_t → int): uint32_t.
    assert_eq!(p.this_vars.len(), 1);
    assert_eq!(p.this_vars[0].ty, Type::Int(IntType::UINT32));
    let Stmt::Expr(assign) = &p.clauses[1].body[0] else {
        panic!("assignment first")
    };
    let ExprKind::Assign { value, .. } = &assign.kind else {
        panic!("an assignment")
    };
    assert!(matches!(
        value.kind,
        ExprKind::Binary { unsigned: true, .. }
    ));
    // Every printf of the last clause got its format parsed and its argument typed.
    assert_eq!(p.clauses[3].body.len(), 10);
    assert!(p.clauses[3]
        .body
        .iter()
        .all(|s| matches!(s, Stmt::Printf { .. })));
}
