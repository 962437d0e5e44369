//! `stack()`, `ustack()` and the symbol functions (`func`, `mod`, `usym`
//! …). A stack is captured in the kernel when the probe fires (the record
//! carries it as a capture, see `crate::plan`), so only probes whose
//! records can carry captures may use one; the symbol functions take any
//! integer and are symbolised when printed. Their values are only trace()
//! arguments, aggregation keys or actions of their own.

use super::expr::Cx;
use super::Checker;
use crate::ast;
use crate::catalog::CaptureArea;
use crate::span::Span;
use crate::typed::{Expr, ExprKind};
use crate::types::{Symbolic, Type};

/// The most frames a stack holds (the kernel's perf_event_max_stack).
pub(crate) const MAX_FRAMES: i64 = 127;

impl Checker<'_> {
    pub(crate) fn stack(
        &mut self,
        cx: &mut Cx,
        name: &str,
        user: bool,
        args: &[ast::Expr],
        span: Span,
    ) -> Option<Expr> {
        let max = if user { 2 } else { 1 };
        if !self.subr_arity(name, args, 0, max, span) {
            return None;
        }
        let mut frames = None;
        for (i, a) in args.iter().enumerate() {
            let v = self.expr(cx, a)?;
            let Some(n) = super::expr::const_int(&v) else {
                self.err(
                    format!("{name}( ) argument #{} must be a constant", i + 1),
                    a.span,
                );
                return None;
            };
            if i == 0 {
                if !(0..=MAX_FRAMES).contains(&n) {
                    self.err(
                        format!("{name}( ): {n} frames is out of range (0 to {MAX_FRAMES})"),
                        a.span,
                    );
                    return None;
                }
                frames = Some(n as u32);
            }
            // ustack's strsize names frames of interpreted code through a
            // ustack helper; Linux processes have none, so it is accepted
            // and changes nothing.
        }
        let area = self.stack_area(cx, name, span)?;
        Some(Expr {
            kind: ExprKind::Stack { user, frames, area },
            ty: Type::Symbolic(if user {
                Symbolic::UStack
            } else {
                Symbolic::Stack
            }),
            span,
        })
    }

    pub(crate) fn symbol(
        &mut self,
        cx: &mut Cx,
        name: &str,
        kind: Symbolic,
        args: &[ast::Expr],
        span: Span,
    ) -> Option<Expr> {
        if !self.subr_arity(name, args, 1, 1, span) {
            return None;
        }
        let addr = self.expr(cx, &args[0])?;
        if !addr.ty.is_int() {
            self.err(
                format!(
                    "{name}( ) argument #1 is incompatible with prototype:\n\tprototype: uintptr_t\n\t argument: {}",
                    addr.ty.name()
                ),
                addr.span,
            );
            return None;
        }
        Some(Expr {
            kind: ExprKind::Symbol {
                kind,
                addr: Box::new(addr),
            },
            ty: Type::Symbolic(kind),
            span,
        })
    }

    /// Where every probe of the clause keeps its captured stacks.
    fn stack_area(&mut self, cx: &Cx, name: &str, span: Span) -> Option<CaptureArea> {
        self.common_area(
            cx,
            false,
            name,
            span,
            "no stack is captured when this probe fires",
            "rdtrace captures stacks for syscall, proc, sched, io, sdt and profile probes",
        )
    }
}
