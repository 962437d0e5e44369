//! Parser properties: spans nest, operators bind as in C, the predicate
//! `/` rule, literals, and limits that keep hostile input from exhausting
//! the stack.

mod common;

use std::path::Path;

use rdtrace_lang::ast::{self, Expr, Item, Stmt};
use rdtrace_lang::parser::parse;
use rdtrace_lang::span::Span;

fn check_expr(parent: Span, e: &Expr, bad: &mut Vec<String>) {
    if !parent.contains(e.span) {
        bad.push(format!(
            "{:?} not inside {:?}: {}",
            e.span,
            parent,
            common::print::aexpr(e)
        ));
    }
    for c in e.children() {
        check_expr(e.span, c, bad);
    }
}

fn check_stmts(parent: Span, stmts: &[Stmt], bad: &mut Vec<String>) {
    for s in stmts {
        if !parent.contains(s.span()) {
            bad.push(format!("statement {:?} not inside {:?}", s.span(), parent));
        }
        match s {
            Stmt::Empty(_) => {}
            Stmt::Expr(e) => check_expr(s.span(), e, bad),
            Stmt::Block(b, sp) => check_stmts(*sp, b, bad),
            Stmt::If {
                cond,
                then,
                els,
                span,
            } => {
                check_expr(*span, cond, bad);
                check_stmts(*span, then, bad);
                if let Some(e) = els {
                    check_stmts(*span, e, bad);
                }
            }
        }
    }
}

/// Every node's span lies inside its parent's span.
fn span_nesting_errors(script: &ast::Script) -> Vec<String> {
    let mut bad = Vec::new();
    for item in &script.items {
        let (span, exprs, stmts): (Span, Vec<&Expr>, Option<&Vec<Stmt>>) = match item {
            Item::Clause(c) => {
                for p in &c.probes {
                    if !c.span.contains(p.span) {
                        bad.push(format!("probe {:?} not inside clause {:?}", p.span, c.span));
                    }
                }
                (c.span, c.predicate.iter().collect(), c.body.as_ref())
            }
            Item::Inline(i) => (i.span, vec![&i.value], None),
            Item::Decl(d) => {
                if !d.span.contains(d.name.span) || !d.span.contains(d.ty.span) {
                    bad.push(format!("declaration parts not inside {:?}", d.span));
                }
                (d.span, vec![], None)
            }
            Item::Pragma(p) => (p.span, vec![], None),
            Item::Unsupported { span, .. } => (*span, vec![], None),
        };
        if !script.span.contains(span) {
            bad.push(format!("item {span:?} not inside the script"));
        }
        for e in exprs {
            check_expr(span, e, &mut bad);
        }
        if let Some(s) = stmts {
            check_stmts(span, s, &mut bad);
        }
    }
    bad
}

#[test]
fn child_spans_nest_in_parent_spans() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/valid");
    let mut sources: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "d"))
        .map(|p| {
            (
                p.display().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    sources.push((
        "tcpio.d".into(),
        include_str!("../../scripts/tcpio.d").into(),
    ));
    assert!(sources.len() > 5);
    for (name, src) in sources {
        let script = parse(&src).unwrap_or_else(|d| panic!("{name}: {d}"));
        let bad = span_nesting_errors(&script);
        assert!(bad.is_empty(), "{name}:\n{}", bad.join("\n"));
    }
}

/// The expression of `BEGIN { EXPR; }` as an S-expression.
fn expr_of(src: &str) -> String {
    let script = parse(&format!("BEGIN {{ {src}; }}")).unwrap_or_else(|d| panic!("{src}: {d}"));
    let Item::Clause(c) = &script.items[0] else {
        panic!("a clause")
    };
    let Stmt::Expr(e) = &c.body.as_ref().unwrap()[0] else {
        panic!("an expression")
    };
    common::print::aexpr(e)
}

#[test]
fn operators_follow_c_precedence_and_associativity() {
    let cases = [
        ("a - b - c", "(Sub (Sub a b) c)"),
        ("a = b = c", "(= a (= b c))"),
        ("a ? b : c ? d : e", "(? a b (? c d e))"),
        ("a || b && c", "(LogOr a (LogAnd b c))"),
        ("a ^^ b || c", "(LogOr (LogXor a b) c)"),
        ("a && b ^^ c", "(LogXor (LogAnd a b) c)"),
        ("a | b ^ c & d", "(BitOr a (BitXor b (BitAnd c d)))"),
        ("a == b < c", "(Eq a (Lt b c))"),
        ("a << b + c", "(Shl a (Add b c))"),
        ("a + b * c % d", "(Add a (Rem (Mul b c) d))"),
        ("-a[1]", "(Neg (index a 1))"),
        ("!a->b", "(Not (-> a b))"),
        ("*p++", "(Deref (PostInc p))"),
        ("(int)a + b", "(Add (cast int a) b)"),
        ("sizeof a + 1", "(Add (Sizeof a) 1)"),
        ("sizeof(int) * 2", "(Mul (sizeof-type int) 2)"),
        ("a += b -= c", "(=Add a (=Sub b c))"),
        ("x = a > b ? a : b", "(= x (? (Gt a b) a b))"),
        ("f(a, b)[0]", "(index (call f a b) 0)"),
        ("a - -b", "(Sub a (Neg b))"),
        ("a+++b", "(Add (PostInc a) b)"),
        ("a & &b", "(BitAnd a (AddrOf b))"),
    ];
    for (src, want) in cases {
        assert_eq!(expr_of(src), want, "{src}");
    }
}

fn predicate_of(src: &str) -> String {
    let script = parse(src).unwrap_or_else(|d| panic!("{src}: {d}"));
    let Item::Clause(c) = &script.items[0] else {
        panic!("a clause")
    };
    common::print::aexpr(c.predicate.as_ref().expect("a predicate"))
}

#[test]
fn slash_closes_a_predicate_only_before_brace_semicolon_slash_or_end() {
    assert_eq!(predicate_of("BEGIN /a / b/ {}"), "(Div a b)");
    assert_eq!(predicate_of("BEGIN /a /\n\t{}"), "a");
    assert_eq!(predicate_of("BEGIN /a/{}"), "a");
    assert_eq!(predicate_of("BEGIN /a / 2 / 3/ {}"), "(Div (Div a 2) 3)");
    assert_eq!(predicate_of("BEGIN /a/ /* comment */ {}"), "a");
    assert_eq!(predicate_of("BEGIN /(a / b)/ {}"), "(Div a b)");
}

#[test]
fn literals_decode() {
    assert_eq!(expr_of("0x1f"), "31");
    assert_eq!(expr_of("0777"), "511");
    assert_eq!(expr_of("10UL"), "10ul");
    assert_eq!(expr_of("7llu"), "7ull");
    assert_eq!(expr_of("'\\t'"), "'9'");
    assert_eq!(expr_of("'\\x41'"), "'65'");
    assert_eq!(
        expr_of("\"\\a\\b\\f\\v\\101\\x42\\?\""),
        "\"\\u{7}\\u{8}\\u{c}\\u{b}AB?\""
    );
}

#[test]
fn last_statement_may_omit_its_semicolon() {
    assert!(parse("BEGIN { x = 1 }").is_ok());
    assert!(parse("BEGIN { x = 1; y = 2 }").is_ok());
    assert!(parse("BEGIN { if (x) y = 1; else y = 2 }").is_ok());
    assert!(parse("BEGIN { x = 1 y = 2 }").is_err());
}

#[test]
fn keywords_are_not_identifiers_but_prefixes_are() {
    assert_eq!(
        expr_of("iffy + elsewhere + int_x + selfish"),
        "(Add (Add (Add iffy elsewhere) int_x) selfish)"
    );
    assert!(parse("BEGIN { if = 1; }").is_err());
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let deep = format!("BEGIN {{ x = {}1{}; }}", "(".repeat(5000), ")".repeat(5000));
    let e = parse(&deep).unwrap_err();
    assert!(e.to_string().contains("nesting deeper than"), "{e}");
    let long = format!("BEGIN {{ x = 1{}; }}", " + 1".repeat(5000));
    let e = parse(&long).unwrap_err();
    assert!(
        e.to_string().contains("too deeply nested or too long"),
        "{e}"
    );
    let negs = format!("BEGIN {{ x = {}1; }}", "- ".repeat(5000));
    assert!(parse(&negs).is_err());
    // Just under the limits, the checker (on a small test-thread stack) copes.
    let ok = format!("BEGIN {{ x = 1{}; }}", " + 1".repeat(150));
    let p = rdtrace_lang::compile("ok.d", &ok, &common::catalog(), &Default::default());
    assert!(p.is_ok());
}

#[test]
fn the_longest_accepted_expression_checks_on_a_test_thread_stack() {
    // Nested parentheses and operator chains together, just inside both limits.
    let chain = " + x".repeat(3);
    let inner = format!("{}x{chain}{}", "(".repeat(90), ")".repeat(90));
    let src = format!("BEGIN {{ x = 1; y = {inner}{}; }}", " - x".repeat(20));
    match parse(&src) {
        Ok(_) => {
            let p = rdtrace_lang::compile("deep.d", &src, &common::catalog(), &Default::default());
            assert!(p.is_ok());
        }
        Err(e) => assert!(e.to_string().contains("too deeply nested"), "{e}"),
    }
    let src = format!("BEGIN {{ x = 1; y = x{}; }}", " * x".repeat(195));
    let p = rdtrace_lang::compile("long.d", &src, &common::catalog(), &Default::default());
    assert!(p.is_ok(), "{}", p.unwrap_err());
}
