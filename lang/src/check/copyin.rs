//! `copyinstr(addr[, len])` and `copyin(addr, len)`. rdtrace runs clauses
//! after the event, so the memory must be copied while the probe fires:
//! each call becomes a capture site of the probe's capture plan
//! ([`crate::plan`]), and its address and length must be values the kernel
//! side knows then — an argument of the probe, a constant, or a `self->`
//! variable set from an argument (at a syscall's entry, for its return).

use super::expr::Cx;
use super::Checker;
use crate::ast;
use crate::catalog::{CaptureArea, FieldSource, ProbeKind};
use crate::diag::Diagnostic;
use crate::span::Span;
use crate::typed::{CopyIn, CopyKind, Expr, ExprKind, Place};
use crate::types::Type;

/// Whether the kernel side can know `e` when the probe fires: a probe
/// argument (a 64-bit record field), a `self->` variable (resolved by the
/// plan from its assignments) or a constant.
fn known_at_probe_time(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Field(FieldSource::Load { int, .. }) => int.size == 8,
        ExprKind::Load(Place::SelfVar(_)) | ExprKind::Int(_) => true,
        ExprKind::Cast(_, inner) => known_at_probe_time(inner),
        _ => false,
    }
}

impl Checker<'_> {
    pub(crate) fn copyin(
        &mut self,
        cx: &mut Cx,
        name: &str,
        args: &[ast::Expr],
        span: Span,
    ) -> Option<Expr> {
        if name == "alloca" {
            return self.alloca(cx, args, span);
        }
        let kind = if name == "copyinstr" {
            CopyKind::Str
        } else {
            CopyKind::Bytes
        };
        let (min, max) = match kind {
            CopyKind::Str => (1, 2),
            CopyKind::Bytes => (2, 2),
        };
        if !self.subr_arity(name, args, min, max, span) {
            return None;
        }
        let area = self.capture_area(cx, name, span)?;
        let mut typed = Vec::new();
        for (i, a) in args.iter().enumerate() {
            let v = self.expr(cx, a)?;
            if !v.ty.is_int() {
                self.err(
                    format!(
                        "{name}( ) argument #{} is incompatible with prototype:\n\tprototype: {}\n\t argument: {}",
                        i + 1,
                        if i == 0 { "uintptr_t" } else { "size_t" },
                        v.ty.name()
                    ),
                    v.span,
                );
                return None;
            }
            if !known_at_probe_time(&v) {
                self.error(
                    Diagnostic::new(
                        format!(
                            "{name}( ) {} must be known when the probe fires",
                            if i == 0 { "address" } else { "length" }
                        ),
                        v.span,
                    )
                    .with_label("computed after the event")
                    .with_help(
                        "rdtrace copies user memory in the kernel as the probe fires, before the clause runs: \
                         use an argument of the probe (argN, args[N]), a constant, or a self-> variable set \
                         from an argument at the system call's entry",
                    ),
                );
                return None;
            }
            typed.push(v);
        }
        let Some(site) = self.copy_sites.checked_add(1) else {
            self.err(format!("too many {name}( ) calls in one program"), span);
            return None;
        };
        self.copy_sites = site;
        let mut typed = typed.into_iter();
        let addr = Box::new(typed.next()?);
        let len = typed.next().map(Box::new);
        // copyinstr gives a string; copyin the bytes, as a `void *` to
        // cast to what they are.
        let ty = match kind {
            CopyKind::Str => Type::String,
            CopyKind::Bytes => Type::Buf("void".into()),
        };
        Some(Expr {
            kind: ExprKind::CopyIn(CopyIn {
                site,
                kind,
                addr,
                len,
                area,
            }),
            ty,
            span,
        })
    }

    /// `alloca(n)`: scratch bytes for `copyinto` (a constant size).
    fn alloca(&mut self, cx: &mut Cx, args: &[ast::Expr], span: Span) -> Option<Expr> {
        if !self.subr_arity("alloca", args, 1, 1, span) {
            return None;
        }
        let n = self.expr(cx, &args[0])?;
        let Some(n) = super::expr::const_int(&n).filter(|n| (0..=1 << 20).contains(n)) else {
            self.err("alloca( ) size must be an integer constant", n.span);
            return None;
        };
        Some(Expr {
            kind: ExprKind::BufAlloc(n as u32),
            ty: Type::Buf("void".into()),
            span,
        })
    }

    /// `copyinto(addr, size, this->buf)`: copies like copyin into the
    /// this-> buffer (which keeps its type), as an assignment.
    pub(crate) fn copyinto(
        &mut self,
        cx: &mut Cx,
        args: &[ast::Expr],
        span: Span,
    ) -> Option<crate::typed::Stmt> {
        if !self.subr_arity("copyinto", args, 3, 3, span) {
            return None;
        }
        let dest = self.expr(cx, &args[2])?;
        let (ExprKind::Load(place @ Place::This(_)), Type::Buf(_)) = (&dest.kind, &dest.ty) else {
            self.err(
                "copyinto( ) copies into a this-> variable holding alloca( ) space",
                dest.span,
            );
            return None;
        };
        let mut value = self.copyin(cx, "copyin", &args[..2], span)?;
        value.ty = dest.ty.clone();
        Some(crate::typed::Stmt::Expr(Expr {
            kind: ExprKind::Assign {
                place: place.clone(),
                op: None,
                value: Box::new(value),
            },
            ty: dest.ty,
            span,
        }))
    }

    /// The one capture area every probe of the clause has; an error when
    /// one of them cannot capture user memory.
    fn capture_area(&mut self, cx: &Cx, name: &str, span: Span) -> Option<CaptureArea> {
        self.common_area(
            cx,
            true,
            name,
            span,
            "no user memory is copied when this probe fires",
            "rdtrace copies user memory for syscall probes",
        )
    }

    /// The capture area every probe of the clause shares (one that holds
    /// user memory when `user`), or an error saying `why` and `help`.
    pub(crate) fn common_area(
        &mut self,
        cx: &Cx,
        user: bool,
        name: &str,
        span: Span,
        why: &str,
        help: &str,
    ) -> Option<CaptureArea> {
        let mut area = None;
        for p in &cx.probes {
            let here = match p.kind {
                ProbeKind::Event { layout } | ProbeKind::Profile { layout, .. } => {
                    self.catalog.capture_area(layout)
                }
                _ => None,
            }
            .filter(|a| a.user || !user);
            match (here, area) {
                (Some(h), None) => area = Some(h),
                (Some(h), Some(a)) if h == a => {}
                (Some(_), Some(_)) => {
                    self.error(
                        Diagnostic::new(
                            format!("{name}( ) is kept in different places by the probes of this clause"),
                            span,
                        )
                        .with_help("split the clause so that each part matches probes of one provider"),
                    );
                    return None;
                }
                (None, _) => {
                    self.error(
                        Diagnostic::new(
                            format!(
                                "{name}( ) cannot be used in probe {}:{}:{}:{}",
                                p.provider, p.module, p.function, p.name
                            ),
                            span,
                        )
                        .with_label(why.to_string())
                        .with_help(help.to_string()),
                    );
                    return None;
                }
            }
        }
        // An inline definition (or a clause matching nothing under -Z) is
        // checked again where it is used.
        Some(area.unwrap_or(CaptureArea {
            count_at: 0,
            data_at: 0,
            user,
        }))
    }
}
