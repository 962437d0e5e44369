//! One walk over the checked program ([`crate::typed`]), as bpftrace's
//! `ast/visitor.h`: an analysis implements [`Visitor`], overrides the
//! `visit_*` methods for the nodes it cares about and calls the matching
//! `walk_*` function inside them to keep descending. The defaults descend
//! into every child, so a new variant is handled here once and every
//! analysis sees it.

use crate::typed::{Clause, Expr, ExprKind, Place, Stmt};

pub trait Visitor {
    fn visit_expr(&mut self, e: &Expr) {
        walk_expr(self, e)
    }
    fn visit_stmt(&mut self, s: &Stmt) {
        walk_stmt(self, s)
    }
    fn visit_place(&mut self, p: &Place) {
        walk_place(self, p)
    }
}

/// Visits a clause's predicate, then its statements in order.
pub fn walk_clause<V: Visitor + ?Sized>(v: &mut V, c: &Clause) {
    if let Some(p) = &c.predicate {
        v.visit_expr(p);
    }
    for s in &c.body {
        v.visit_stmt(s);
    }
}

pub fn walk_expr<V: Visitor + ?Sized>(v: &mut V, e: &Expr) {
    match &e.kind {
        ExprKind::Int(_)
        | ExprKind::Str(_)
        | ExprKind::Field(_)
        | ExprKind::Builtin(_)
        | ExprKind::BufAlloc(_) => {}
        ExprKind::Load(p) | ExprKind::IncDec { place: p, .. } => v.visit_place(p),
        ExprKind::Assign { place, value, .. } => {
            v.visit_place(place);
            v.visit_expr(value);
        }
        ExprKind::Unary(_, x) | ExprKind::Cast(_, x) => v.visit_expr(x),
        ExprKind::Binary { lhs, rhs, .. } | ExprKind::Logical { lhs, rhs, .. } => {
            v.visit_expr(lhs);
            v.visit_expr(rhs);
        }
        ExprKind::Ternary { cond, then, els } => {
            v.visit_expr(cond);
            v.visit_expr(then);
            v.visit_expr(els);
        }
        ExprKind::StringTable { index, .. } => v.visit_expr(index),
        ExprKind::Call(_, args) => args.iter().for_each(|a| v.visit_expr(a)),
        ExprKind::BufLoad { buf, .. }
        | ExprKind::BufSlice { buf, .. }
        | ExprKind::BufString(buf)
        | ExprKind::BufInet { buf, .. } => v.visit_expr(buf),
        ExprKind::Stack { .. } => {}
        ExprKind::Symbol { addr, .. } => v.visit_expr(addr),
        ExprKind::CopyIn(c) => {
            v.visit_expr(&c.addr);
            if let Some(len) = &c.len {
                v.visit_expr(len);
            }
        }
    }
}

pub fn walk_stmt<V: Visitor + ?Sized>(v: &mut V, s: &Stmt) {
    match s {
        Stmt::Expr(e)
        | Stmt::Trace { arg: e, .. }
        | Stmt::Exit { status: e, .. }
        | Stmt::Raise { signal: e, .. } => v.visit_expr(e),
        Stmt::If {
            cond, then, els, ..
        } => {
            v.visit_expr(cond);
            then.iter().chain(els).for_each(|s| v.visit_stmt(s));
        }
        Stmt::Printf { args, .. } | Stmt::System { args, .. } => {
            args.iter().for_each(|a| v.visit_expr(a))
        }
        Stmt::Tracemem { buf, dsize, .. } => {
            v.visit_expr(buf);
            if let Some(d) = dsize {
                v.visit_expr(d);
            }
        }
        Stmt::AggUpdate { keys, args, .. } => keys.iter().chain(args).for_each(|a| v.visit_expr(a)),
        Stmt::Trunc { keep: e, .. } | Stmt::Normalize { factor: e, .. } => {
            if let Some(e) = e {
                v.visit_expr(e);
            }
        }
        Stmt::Printa { .. } | Stmt::Clear { .. } | Stmt::Stop { .. } => {}
    }
}

pub fn walk_place<V: Visitor + ?Sized>(v: &mut V, p: &Place) {
    match p {
        Place::Assoc(_, keys) => keys.iter().for_each(|k| v.visit_expr(k)),
        Place::Global(_) | Place::This(_) | Place::SelfVar(_) => {}
    }
}

/// Whether `pred` holds for any statement of `stmts`, nested ones (inside
/// `if`/`else`) included: the statement-level questions the runtime asks of
/// a clause (does it record data, is it destructive) all take this form.
pub fn any_stmt(stmts: &[Stmt], pred: impl Fn(&Stmt) -> bool) -> bool {
    struct AnyStmt<F> {
        pred: F,
        found: bool,
    }
    impl<F: Fn(&Stmt) -> bool> Visitor for AnyStmt<F> {
        fn visit_stmt(&mut self, s: &Stmt) {
            if !self.found {
                self.found = (self.pred)(s);
                walk_stmt(self, s);
            }
        }
        // Expressions hold no statements: not descending keeps this cheap.
        fn visit_expr(&mut self, _: &Expr) {}
    }
    let mut v = AnyStmt { pred, found: false };
    stmts.iter().for_each(|s| v.visit_stmt(s));
    v.found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::span::Span;
    use crate::types::{IntType, Type};

    fn int(v: i64) -> Expr {
        Expr {
            kind: ExprKind::Int(v),
            ty: Type::Int(IntType::INT64),
            span: Span::default(),
        }
    }
    fn node(kind: ExprKind) -> Expr {
        Expr {
            kind,
            ty: Type::Int(IntType::INT64),
            span: Span::default(),
        }
    }

    /// Collects the integer constants it meets, in visit order.
    #[derive(Default)]
    struct Ints(Vec<i64>);
    impl Visitor for Ints {
        fn visit_expr(&mut self, e: &Expr) {
            if let ExprKind::Int(v) = e.kind {
                self.0.push(v);
            }
            walk_expr(self, e);
        }
    }

    #[test]
    fn default_walk_reaches_every_child_in_order() {
        let sp = Span::default();
        let assoc = Place::Assoc(0, vec![int(1)]);
        let body = vec![
            Stmt::Expr(node(ExprKind::Assign {
                place: assoc.clone(),
                op: None,
                value: Box::new(node(ExprKind::Ternary {
                    cond: Box::new(int(2)),
                    then: Box::new(node(ExprKind::Unary(
                        crate::typed::UnOp::Neg,
                        Box::new(int(3)),
                    ))),
                    els: Box::new(node(ExprKind::Call(crate::typed::Func::Rand, vec![int(4)]))),
                })),
            })),
            Stmt::If {
                cond: int(5),
                then: vec![Stmt::Trace {
                    arg: int(6),
                    span: sp,
                }],
                els: vec![Stmt::Exit {
                    status: int(7),
                    span: sp,
                }],
                span: sp,
            },
            Stmt::AggUpdate {
                agg: 0,
                keys: vec![int(8)],
                args: vec![int(9)],
                span: sp,
            },
            Stmt::Trunc {
                agg: 0,
                keep: Some(int(10)),
                span: sp,
            },
            Stmt::Expr(node(ExprKind::IncDec {
                place: Place::Assoc(0, vec![int(11)]),
                delta: 1,
                post: true,
            })),
            Stmt::Expr(node(ExprKind::StringTable {
                entries: vec![],
                index: Box::new(node(ExprKind::Load(Place::Assoc(0, vec![int(12)])))),
            })),
            Stmt::Raise {
                signal: int(13),
                span: sp,
            },
        ];
        let clause = Clause {
            index: 0,
            span: sp,
            probes: vec![0],
            predicate: Some(int(0)),
            body,
        };
        let mut v = Ints::default();
        walk_clause(&mut v, &clause);
        assert_eq!(v.0, (0..=13).collect::<Vec<_>>());
    }

    /// An override that does not call walk_* stops the descent there.
    #[test]
    fn overriding_without_walking_prunes() {
        struct Stmts(usize);
        impl Visitor for Stmts {
            fn visit_stmt(&mut self, s: &Stmt) {
                self.0 += 1;
                if !matches!(s, Stmt::If { .. }) {
                    walk_stmt(self, s);
                }
            }
        }
        let sp = Span::default();
        let s = Stmt::If {
            cond: int(1),
            then: vec![Stmt::Trace {
                arg: int(1),
                span: sp,
            }],
            els: vec![],
            span: sp,
        };
        let mut v = Stmts(0);
        v.visit_stmt(&s);
        assert_eq!(v.0, 1);
    }
}
