//! Copied-in user memory (`copyin`'s value) seen through C types: casts to
//! a socket address struct or an integer pointer, `->`/`.` members, `&` of
//! a member, `*`, `stringof`, and the address printers. The value is the
//! copied bytes ([`Type::Buf`]); reads are bounds-checked by the runtime.

use super::ctypes::{self, CType};
use super::expr::Cx;
use super::types::resolve;
use super::Checker;
use crate::ast::{self, BaseType, ExprKind as A, TypeName};
use crate::diag::Diagnostic;
use crate::span::Span;
use crate::typed::{Expr, ExprKind as T};
use crate::types::{IntType, Type};

/// How `Type::Buf` spells a C type.
fn type_text(t: CType) -> String {
    match t {
        CType::Int(i) => i.name().to_string(),
        CType::Struct("in6_addr") => "in6_addr_t".into(),
        CType::Struct(s) => format!("struct {s}"),
        CType::Bytes(_) => "char".into(),
    }
}

/// The C type a buffer type points to.
fn pointee_of(ty: &Type) -> Option<CType> {
    let Type::Buf(name) = ty else { return None };
    ctypes::pointee(name).or_else(|| {
        // An integer pointee is written by its D name (`uint32_t`).
        let int = super::types::resolve(&TypeName {
            base: BaseType::Named(vec![name.clone()]),
            pointers: 0,
            span: Span::default(),
        });
        match int {
            Ok(Type::Int(i)) => Some(CType::Int(i)),
            _ => None,
        }
    })
}

impl Checker<'_> {
    /// `(T *)buf`: the same bytes seen as a `T`.
    pub(crate) fn buf_cast(&mut self, t: &TypeName, v: Expr, span: Span) -> Option<Expr> {
        let pointee = if t.pointers == 1 {
            match &t.base {
                BaseType::Struct(s) => ctypes::pointee(&format!("struct {s}")),
                BaseType::Named(w) if w.len() == 1 && ctypes::pointee(&w[0]).is_some() => {
                    ctypes::pointee(&w[0])
                }
                BaseType::Named(_) => match resolve(&TypeName {
                    pointers: 0,
                    ..t.clone()
                }) {
                    Ok(Type::Int(i)) => Some(CType::Int(i)),
                    _ => None,
                },
            }
        } else {
            None
        };
        let Some(p) = pointee else {
            self.err(
                "copied-in memory can be cast to a pointer to a socket address struct \
                 (struct sockaddr, sockaddr_in, sockaddr_in6, in_addr, in6_addr), \
                 in6_addr_t, ipaddr_t or an integer type",
                t.span,
            );
            return None;
        };
        let text = match t.base {
            BaseType::Named(ref w) if w.len() == 1 && w[0] == "void" => "void".to_string(),
            _ => type_text(p),
        };
        Some(Expr {
            ty: Type::Buf(text),
            span,
            ..v
        })
    }

    /// A member of copied-in memory: the buffer, the member's offset and
    /// type. `e` is `buf->m` or `(…).m`; None (with an error) otherwise.
    pub(crate) fn buf_place(&mut self, cx: &mut Cx, e: &ast::Expr) -> Option<(Expr, u32, CType)> {
        let A::Member {
            base,
            member,
            arrow,
        } = &e.kind
        else {
            let v = self.expr(cx, e)?;
            self.err(format!("{} has no members", v.ty.name()), e.span);
            return None;
        };
        // `x.m` of something that is not a member itself: say so as C does.
        if !*arrow && !matches!(base.kind, A::Member { .. }) {
            let b = self.expr(cx, base)?;
            self.err(
                format!(
                    "operator . cannot be applied to a value of type {}",
                    b.ty.name()
                ),
                e.span,
            );
            return None;
        }
        let (buf, offset, st) = if *arrow {
            let b = self.expr(cx, base)?;
            match pointee_of(&b.ty) {
                Some(CType::Struct(s)) => (b, 0, s),
                _ => {
                    self.err(
                        format!(
                            "operator -> cannot be applied to a value of type {}",
                            b.ty.name()
                        ),
                        e.span,
                    );
                    return None;
                }
            }
        } else {
            match self.buf_place(cx, base)? {
                (b, off, CType::Struct(s)) => (b, off, s),
                (_, _, t) => {
                    self.err(
                        format!(
                            "operator . cannot be applied to a value of type {}",
                            type_text(t)
                        ),
                        e.span,
                    );
                    return None;
                }
            }
        };
        let (_, members) = ctypes::struct_def(st)?;
        let Some(&(_, moff, mty)) = members.iter().find(|(n, _, _)| *n == member.name) else {
            let names: Vec<&str> = members.iter().map(|m| m.0).collect();
            self.error(
                Diagnostic::new(
                    format!("{} is not a member of struct {st}", member.name),
                    member.span,
                )
                .with_label("unknown member")
                .with_help(format!(
                    "the members of struct {st} are: {}",
                    names.join(", ")
                )),
            );
            return None;
        };
        Some((buf, offset + moff, mty))
    }

    /// The value of a member of copied-in memory (integers only).
    pub(crate) fn buf_member(&mut self, cx: &mut Cx, e: &ast::Expr) -> Option<Expr> {
        let (buf, offset, ty) = self.buf_place(cx, e)?;
        match ty {
            CType::Int(int) => Some(load(buf, offset, int, e.span)),
            other => {
                self.err(
                    format!(
                        "member of type {} has no value here: take its address with & or one of its members with .",
                        type_text(other)
                    ),
                    e.span,
                );
                None
            }
        }
    }

    /// `&buf->member`.
    pub(crate) fn buf_addr_of(
        &mut self,
        cx: &mut Cx,
        inner: &ast::Expr,
        span: Span,
    ) -> Option<Expr> {
        let (buf, offset, ty) = self.buf_place(cx, inner)?;
        Some(Expr {
            kind: T::BufSlice {
                buf: Box::new(buf),
                offset,
                len: ctypes::size_of(ty),
            },
            ty: Type::Buf(type_text(ty)),
            span,
        })
    }

    /// `*buf` of an integer pointer.
    pub(crate) fn buf_deref(&mut self, v: Expr, span: Span) -> Option<Expr> {
        match pointee_of(&v.ty) {
            Some(CType::Int(int)) => Some(load(v, 0, int, span)),
            _ => {
                self.err(
                    format!(
                        "{} cannot be dereferenced: cast it to an integer pointer or use ->",
                        v.ty.name()
                    ),
                    span,
                );
                None
            }
        }
    }

    /// inet_ntoa(buf) / inet_ntoa6(buf): the address bytes the buffer
    /// points to, 4 or 16 of them.
    pub(crate) fn buf_inet(&mut self, name: &str, v: Expr, v6: bool, span: Span) -> Option<Expr> {
        let want = if v6 { 16 } else { 4 };
        let ok = match pointee_of(&v.ty) {
            Some(t @ (CType::Int(_) | CType::Struct(_))) => ctypes::size_of(t) == want,
            Some(CType::Bytes(_)) => true,
            None => false,
        };
        if !ok {
            self.err(
                format!(
                    "{name}( ) takes a pointer to {}, not {}",
                    if v6 { "an in6_addr_t" } else { "an ipaddr_t" },
                    v.ty.name()
                ),
                v.span,
            );
            return None;
        }
        Some(Expr {
            kind: T::BufInet {
                buf: Box::new(v),
                v6,
            },
            ty: Type::String,
            span,
        })
    }

    /// inet_ntoa(addr), inet_ntoa6(addr), inet_ntop(af, addr): of an
    /// IPv4 address as an integer, or of address bytes copied in.
    pub(crate) fn inet_call(
        &mut self,
        cx: &mut Cx,
        name: &str,
        args: &[ast::Expr],
        span: Span,
    ) -> Option<Expr> {
        let want = if name == "inet_ntop" { 2 } else { 1 };
        if !self.subr_arity(name, args, want, want, span) {
            return None;
        }
        let mut vals = Vec::new();
        for a in args {
            vals.push(self.expr(cx, a)?);
        }
        let addr = vals.pop()?;
        let v6 = match name {
            "inet_ntoa" => false,
            "inet_ntoa6" => true,
            _ => match super::expr::const_int(&vals[0]) {
                Some(2) => false,
                Some(10) => true,
                _ => {
                    self.err(
                        "inet_ntop( ) address family must be the constant AF_INET or AF_INET6",
                        vals[0].span,
                    );
                    return None;
                }
            },
        };
        match (&addr.ty, v6) {
            (Type::Buf(_), _) => self.buf_inet(name, addr, v6, span),
            (Type::Int(_), false) => Some(Expr {
                kind: T::Call(crate::typed::Func::InetNtoa, vec![addr]),
                ty: Type::String,
                span,
            }),
            _ => {
                self.error(
                    Diagnostic::new(
                        format!(
                            "{name}( ) argument #{} is incompatible with prototype:\n\tprototype: in6_addr_t *\n\t argument: {}",
                            args.len(),
                            addr.ty.name()
                        ),
                        addr.span,
                    )
                    .with_help(
                        "copy the address in first, e.g. (in6_addr_t *)copyin(addr, 16); \
                         ip_saddr, ip_daddr, tcps_laddr and tcps_raddr are already strings",
                    ),
                );
                None
            }
        }
    }

    /// `sizeof (struct sockaddr_in)` and friends.
    pub(crate) fn c_struct_size(&self, t: &TypeName) -> Option<u32> {
        match &t.base {
            BaseType::Struct(s) if t.pointers == 0 => ctypes::struct_def(s).map(|(size, _)| size),
            BaseType::Named(w) if t.pointers == 0 && w.len() == 1 && w[0] == "in6_addr_t" => {
                Some(16)
            }
            _ => None,
        }
    }
}

fn load(buf: Expr, offset: u32, int: IntType, span: Span) -> Expr {
    Expr {
        kind: T::BufLoad {
            buf: Box::new(buf),
            offset,
            int,
        },
        ty: Type::Int(int),
        span,
    }
}
