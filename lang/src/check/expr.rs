//! Typing of expressions: names, operators with C's conversions, `args[]`
//! and their members, string tables, casts, subroutine calls, assignments.
//! Integer constant expressions are folded on the way (see `consts`).

use super::funcs::{self, Callee};
use super::types::{assignable, promote, resolve, usual};
use super::{consts, Checker};
use crate::ast::{self, BinaryOp, ExprKind as A, UnaryOp};
use crate::catalog::{FieldSource, ProbeDef, ProbeKind};
use crate::diag::Diagnostic;
use crate::span::Span;
use crate::typed::{BinOp, Builtin, Expr, ExprKind as T, Func, LogicalOp, Place, UnOp};
use crate::types::{IntType, Type};

/// Where an expression is checked.
pub(crate) struct Cx {
    /// The probes the clause enables (empty in an inline definition or a
    /// clause that matched nothing under -Z).
    pub probes: Vec<ProbeDef>,
    pub in_inline_def: bool,
}

impl Cx {
    pub fn clause(probes: Vec<ProbeDef>) -> Cx {
        Cx {
            probes,
            in_inline_def: false,
        }
    }
    pub fn inline_def() -> Cx {
        Cx {
            probes: vec![],
            in_inline_def: true,
        }
    }
}

fn int(v: i64, it: IntType, span: Span) -> Expr {
    Expr {
        kind: T::Int(v),
        ty: Type::Int(it),
        span,
    }
}

pub(crate) fn const_int(e: &Expr) -> Option<i64> {
    match e.kind {
        T::Int(v) => Some(v),
        _ => None,
    }
}

/// C's rule for the type of an integer literal (LP64).
fn literal_type(value: u64, suffix: ast::IntSuffix, decimal: bool) -> Option<IntType> {
    use IntType as I;
    let cands: &[IntType] = match (suffix.unsigned, suffix.long > 0, decimal) {
        (false, false, true) => &[I::INT, I::INT64, I::UINT64],
        (false, false, false) => &[I::INT, I::UINT32, I::INT64, I::UINT64],
        (true, false, _) => &[I::UINT32, I::UINT64],
        (false, true, _) => &[I::INT64, I::UINT64],
        (true, true, _) => &[I::UINT64],
    };
    cands.iter().copied().find(|t| {
        let max = match (t.size, t.signed) {
            (4, true) => i32::MAX as u64,
            (4, false) => u32::MAX as u64,
            (8, true) => i64::MAX as u64,
            _ => u64::MAX,
        };
        value <= max
    })
}

fn binop(op: BinaryOp) -> Option<BinOp> {
    Some(match op {
        BinaryOp::Add => BinOp::Add,
        BinaryOp::Sub => BinOp::Sub,
        BinaryOp::Mul => BinOp::Mul,
        BinaryOp::Div => BinOp::Div,
        BinaryOp::Rem => BinOp::Rem,
        BinaryOp::Shl => BinOp::Shl,
        BinaryOp::Shr => BinOp::Shr,
        BinaryOp::BitAnd => BinOp::BitAnd,
        BinaryOp::BitOr => BinOp::BitOr,
        BinaryOp::BitXor => BinOp::BitXor,
        BinaryOp::Eq => BinOp::Eq,
        BinaryOp::Ne => BinOp::Ne,
        BinaryOp::Lt => BinOp::Lt,
        BinaryOp::Le => BinOp::Le,
        BinaryOp::Gt => BinOp::Gt,
        BinaryOp::Ge => BinOp::Ge,
        BinaryOp::LogAnd | BinaryOp::LogOr | BinaryOp::LogXor => return None,
    })
}

pub(crate) fn op_text(op: BinOp) -> &'static str {
    match op {
        BinOp::Add => "+",
        BinOp::Sub => "-",
        BinOp::Mul => "*",
        BinOp::Div => "/",
        BinOp::Rem => "%",
        BinOp::Shl => "<<",
        BinOp::Shr => ">>",
        BinOp::BitAnd => "&",
        BinOp::BitOr => "|",
        BinOp::BitXor => "^",
        BinOp::Eq => "==",
        BinOp::Ne => "!=",
        BinOp::Lt => "<",
        BinOp::Le => "<=",
        BinOp::Gt => ">",
        BinOp::Ge => ">=",
    }
}

fn is_comparison(op: BinOp) -> bool {
    matches!(
        op,
        BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge
    )
}

/// `args[N]` with a constant N, as written in the AST.
/// `args[N]->m` or `(*args[N]).m` (chains included).
fn is_args_member(e: &ast::Expr) -> bool {
    match &e.kind {
        A::Member { base, arrow, .. } => {
            if *arrow {
                args_index(base).is_some()
            } else {
                match &base.kind {
                    A::Unary(UnaryOp::Deref, inner) => args_index(inner).is_some(),
                    _ => is_args_member(base),
                }
            }
        }
        _ => false,
    }
}

fn args_index(e: &ast::Expr) -> Option<&ast::Expr> {
    match &e.kind {
        A::Index { base, index } if index.len() == 1 => match &base.kind {
            A::Ident(n) if n == "args" => Some(&index[0]),
            _ => None,
        },
        _ => None,
    }
}

impl Checker<'_> {
    /// Types one expression. `None` means an error was reported.
    pub(crate) fn expr(&mut self, cx: &mut Cx, e: &ast::Expr) -> Option<Expr> {
        let span = e.span;
        if !self.poisoned.is_empty() && var_name(e).is_some_and(|n| self.poisoned.contains(&n)) {
            return None;
        }
        match &e.kind {
            A::Int {
                value,
                suffix,
                text,
            } => {
                let decimal = !(text.starts_with('0') && text.len() > 1);
                match literal_type(*value, *suffix, decimal) {
                    Some(t) => Some(int(*value as i64, t, span)),
                    None => {
                        self.err(
                            format!("integer constant {text} does not fit its type"),
                            span,
                        );
                        None
                    }
                }
            }
            A::Char(v) => Some(int(*v, IntType::INT, span)),
            A::Str(bytes) => {
                // D strings end at the first NUL, as C strings do.
                let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
                Some(Expr {
                    kind: T::Str(bytes[..end].to_vec()),
                    ty: Type::String,
                    span,
                })
            }
            A::Float(_) => {
                self.err("floating-point constants are not permitted", span);
                None
            }
            A::Ident(name) => self.ident(cx, name, span),
            A::This(id) => {
                let (v, ty) = match self.vars.this.get(&id.name) {
                    Some((v, ty)) => (v, ty.clone()),
                    // Read before any assignment: an int that reads as 0.
                    None => (
                        self.vars.this.add(&id.name, Type::Int(IntType::INT64)),
                        Type::Int(IntType::INT64),
                    ),
                };
                Some(Expr {
                    kind: T::Load(Place::This(v)),
                    ty,
                    span,
                })
            }
            A::SelfVar(id) => {
                let (v, ty) = match self.vars.selfs.get(&id.name) {
                    Some((v, ty)) => (v, ty.clone()),
                    None => (
                        self.vars.selfs.add(&id.name, Type::Int(IntType::INT64)),
                        Type::Int(IntType::INT64),
                    ),
                };
                Some(Expr {
                    kind: T::Load(Place::SelfVar(v)),
                    ty,
                    span,
                })
            }
            A::Agg(name) => {
                self.error(
                    Diagnostic::new(format!("aggregation {} cannot be used as a value", super::vars::agg_shown(name)), span).with_help(
                        "aggregations are updated with @name[keys] = func(…) and read with printa( )",
                    ),
                );
                None
            }
            A::Macro(name) => self.macro_var(name, span),
            A::KernelSym(s) => {
                self.err(
                    format!("kernel symbol `{s} is not supported by rdtrace"),
                    span,
                );
                None
            }
            A::Unary(op, inner) => self.unary(cx, *op, inner, span),
            A::Binary(op, a, b) => self.binary(cx, *op, a, b, span),
            A::Assign { op, lhs, rhs } => self.assign(cx, *op, lhs, rhs, span),
            A::Ternary { cond, then, els } => self.ternary(cx, cond, then, els, span),
            A::Cast(t, inner) => {
                let v = self.expr(cx, inner)?;
                if matches!(v.ty, Type::Buf(_)) {
                    return self.buf_cast(t, v, span);
                }
                let target = match resolve(t) {
                    Ok(ty) => ty,
                    Err(msg) => {
                        self.error(Diagnostic::new(msg, t.span));
                        return None;
                    }
                };
                match (&target, &v.ty) {
                    (Type::Int(it), Type::Int(_)) => Some(match const_int(&v) {
                        Some(c) => int(it.normalize(c), *it, span),
                        None => Expr {
                            kind: T::Cast(*it, Box::new(v)),
                            ty: target.clone(),
                            span,
                        },
                    }),
                    (Type::String, Type::String) => Some(Expr { span, ..v }),
                    _ => {
                        self.err(
                            format!("invalid cast of {} to {}", v.ty.name(), target.name()),
                            span,
                        );
                        None
                    }
                }
            }
            A::SizeofType(t) => {
                if let Some(size) = self.c_struct_size(t) {
                    return Some(int(i64::from(size), IntType::UINT64, span));
                }
                let ty = match resolve(t) {
                    Ok(ty) => ty,
                    Err(msg) => {
                        self.error(Diagnostic::new(msg, t.span));
                        return None;
                    }
                };
                self.size_of(&ty, span)
            }
            A::Offsetof(..) => {
                self.err("offsetof is not supported by rdtrace", span);
                None
            }
            A::Member {
                base,
                member,
                arrow,
            } => self.member(cx, base, member, *arrow, span),
            A::Index { base, index } => self.index(cx, base, index, span),
            A::Call { func, args } => self.call_value(cx, func, args, span),
            A::Comma(..) => {
                self.error(
                    Diagnostic::new("the comma operator is not supported by rdtrace here", span)
                        .with_help("use separate statements"),
                );
                None
            }
        }
    }

    pub(crate) fn require_int(&mut self, e: &Expr, what: &str) -> bool {
        if e.ty.is_int() {
            return true;
        }
        self.err(
            format!("{what} must be of integer type, not {}", e.ty.name()),
            e.span,
        );
        false
    }

    fn size_of(&mut self, ty: &Type, span: Span) -> Option<Expr> {
        match ty {
            Type::Int(it) => Some(int(it.size as i64, IntType::UINT64, span)),
            _ => {
                self.err(
                    format!("sizeof of type {} is not supported by rdtrace", ty.name()),
                    span,
                );
                None
            }
        }
    }

    fn ident(&mut self, cx: &mut Cx, name: &str, span: Span) -> Option<Expr> {
        if let Some((v, ty)) = self.vars.globals.get(name) {
            return Some(Expr {
                kind: T::Load(Place::Global(v)),
                ty: ty.clone(),
                span,
            });
        }
        if self.vars.assoc(name).is_some() {
            self.err(
                format!("associative array {name} must be indexed: {name}[key]"),
                span,
            );
            return None;
        }
        if self.inlines.contains_key(name) {
            return self.expand_inline(cx, name, span);
        }
        if let Some(c) = self.catalog.constant(name) {
            return Some(Expr {
                kind: T::Int(c.value),
                ty: c.ty.clone(),
                span,
            });
        }
        if let Some(v) = super::builtins::d_constant(name) {
            return Some(int(v, IntType::INT, span));
        }
        if name == "NULL" {
            // rdtrace has no pointers: NULL is the integer 0, which a string
            // may be compared with (see `binop`) and strtok() takes.
            return Some(int(0, IntType::UINT64, span));
        }
        if super::builtins::is_builtin(name) && name != "args" {
            return self.builtin(cx, name, span);
        }
        if name == "args" {
            self.err("args must be indexed: args[N]", span);
            return None;
        }
        if self.catalog.string_table(name).is_some() {
            self.err(
                format!("{name} is an array of strings and must be indexed: {name}[i]"),
                span,
            );
            return None;
        }
        if funcs::classify(name).is_some() {
            self.err(format!("{name} is a function: call it as {name}( )"), span);
            return None;
        }
        let mut d = Diagnostic::new(
            format!("failed to resolve {name}: Unknown variable name"),
            span,
        )
        .with_label("not declared or assigned before this point");
        let known = self.known_names();
        if let Some(help) = super::suggest::did_you_mean(name, known.iter().map(String::as_str)) {
            d = d.with_help(help);
        }
        self.error(d);
        None
    }

    /// Built-ins, the program's variables and the catalog's constants: what
    /// a misspelt name may have meant.
    fn known_names(&self) -> Vec<String> {
        let mut names: Vec<String> = super::builtins::NAMES
            .iter()
            .map(|s| s.to_string())
            .collect();
        names.extend(self.vars.names());
        names.extend(self.catalog.constants.iter().map(|c| c.name.clone()));
        names.extend(self.inlines.keys().cloned());
        names
    }

    fn expand_inline(&mut self, cx: &mut Cx, name: &str, span: Span) -> Option<Expr> {
        if self.expanding.iter().any(|n| n == name) {
            self.err(format!("inline {name} refers to itself"), span);
            return None;
        }
        let def = self.inlines.get(name)?;
        let (ty, value) = (def.ty.clone(), def.value.clone());
        self.expanding.push(name.to_string());
        let v = self.expr(cx, &value);
        self.expanding.pop();
        let v = v?;
        Some(match (&ty, const_int(&v)) {
            (Type::Int(it), Some(c)) => int(it.normalize(c), *it, span),
            (Type::Int(it), None) if v.ty != ty => Expr {
                kind: T::Cast(*it, Box::new(v)),
                ty,
                span,
            },
            _ => Expr { span, ..v },
        })
    }

    fn macro_var(&mut self, name: &str, span: Span) -> Option<Expr> {
        if name == "target" {
            return Some(Expr {
                kind: T::Builtin(Builtin::Target),
                ty: Type::Int(IntType::INT),
                span,
            });
        }
        if let Some(n) = name.strip_prefix('$') {
            return match self.macro_text(n, true) {
                Ok(s) => Some(Expr {
                    kind: T::Str(s.into_bytes()),
                    ty: Type::String,
                    span,
                }),
                Err(m) => {
                    self.err(m, span);
                    None
                }
            };
        }
        let text = match self.macro_text(name, false) {
            Ok(t) => t,
            Err(m) => {
                self.err(m, span);
                return None;
            }
        };
        // An integer argument is an integer constant; anything else must be
        // asked for as a string with $$N.
        let parsed = text
            .strip_prefix('-')
            .map(|t| (true, t))
            .unwrap_or((false, text.as_str()));
        match crate::parser::parse_int(parsed.1) {
            Ok((v, suf)) if parsed.1.bytes().next().is_some_and(|b| b.is_ascii_digit()) => {
                let t = literal_type(v, suf, !parsed.1.starts_with('0') || parsed.1 == "0")
                    .unwrap_or(IntType::UINT64);
                let v = if parsed.0 {
                    (v as i64).wrapping_neg()
                } else {
                    v as i64
                };
                Some(int(
                    v,
                    if parsed.0 {
                        promote(IntType { signed: true, ..t })
                    } else {
                        t
                    },
                    span,
                ))
            }
            _ => {
                self.error(
                    Diagnostic::new(
                        format!("macro argument ${name} is not an integer: \"{text}\""),
                        span,
                    )
                    .with_help(format!("use $${name} to get the argument as a string")),
                );
                None
            }
        }
    }

    fn unary(&mut self, cx: &mut Cx, op: UnaryOp, inner: &ast::Expr, span: Span) -> Option<Expr> {
        let simple = match op {
            UnaryOp::Neg => Some(UnOp::Neg),
            UnaryOp::Plus => Some(UnOp::Plus),
            UnaryOp::Not => Some(UnOp::Not),
            UnaryOp::BitNot => Some(UnOp::BitNot),
            _ => None,
        };
        if let Some(u) = simple {
            let v = self.expr(cx, inner)?;
            let Type::Int(it) = v.ty else {
                self.err(
                    format!(
                        "operator {} requires an integer operand, not {}",
                        unop_text(op),
                        v.ty.name()
                    ),
                    span,
                );
                return None;
            };
            let rt = if u == UnOp::Not {
                IntType::INT
            } else {
                promote(it)
            };
            return Some(match const_int(&v) {
                Some(c) => int(consts::unary(u, c), rt, span),
                None => Expr {
                    kind: T::Unary(u, Box::new(v)),
                    ty: Type::Int(rt),
                    span,
                },
            });
        }
        match op {
            UnaryOp::PreInc | UnaryOp::PreDec | UnaryOp::PostInc | UnaryOp::PostDec => {
                let (place, ty) = self.place(cx, inner, None)?;
                if !ty.is_int() {
                    self.err(
                        format!(
                            "operator {} requires an integer variable, not {}",
                            unop_text(op),
                            ty.name()
                        ),
                        span,
                    );
                    return None;
                }
                let delta = if matches!(op, UnaryOp::PreInc | UnaryOp::PostInc) {
                    1
                } else {
                    -1
                };
                let post = matches!(op, UnaryOp::PostInc | UnaryOp::PostDec);
                Some(Expr {
                    kind: T::IncDec { place, delta, post },
                    ty,
                    span,
                })
            }
            UnaryOp::Sizeof => {
                let v = self.expr(cx, inner)?;
                self.size_of(&v.ty, span)
            }
            UnaryOp::Stringof => {
                let v = self.expr(cx, inner)?;
                if matches!(v.ty, Type::Buf(_)) {
                    return Some(Expr {
                        kind: T::BufString(Box::new(v)),
                        ty: Type::String,
                        span,
                    });
                }
                if v.ty.is_string() {
                    Some(Expr { span, ..v })
                } else {
                    self.err(
                        format!("stringof( ) operand must be a string, not {}", v.ty.name()),
                        span,
                    );
                    None
                }
            }
            UnaryOp::Deref if !matches!(inner.kind, A::Index { .. }) => {
                let v = self.expr(cx, inner)?;
                if matches!(v.ty, Type::Buf(_)) {
                    return self.buf_deref(v, span);
                }
                self.error(
                    Diagnostic::new("pointer dereference is not supported by rdtrace", span)
                        .with_label("reads kernel memory")
                        .with_help("members of args[N] are read with args[N]->member"),
                );
                None
            }
            UnaryOp::Deref => {
                self.error(
                    Diagnostic::new("pointer dereference is not supported by rdtrace", span)
                        .with_label("reads kernel memory")
                        .with_help("members of args[N] are read with args[N]->member"),
                );
                None
            }
            UnaryOp::AddrOf => {
                // Only members of copied-in memory have an address here.
                if matches!(inner.kind, A::Member { .. }) && !is_args_member(inner) {
                    return self.buf_addr_of(cx, inner, span);
                }
                self.err(
                    "the address-of operator & is not supported by rdtrace",
                    span,
                );
                None
            }
            _ => unreachable!("simple unary operators handled above"),
        }
    }

    fn binary(
        &mut self,
        cx: &mut Cx,
        op: BinaryOp,
        a: &ast::Expr,
        b: &ast::Expr,
        span: Span,
    ) -> Option<Expr> {
        let l = self.expr(cx, a);
        let r = self.expr(cx, b);
        let (l, r) = (l?, r?);
        let Some(bop) = binop(op) else {
            let lop = match op {
                BinaryOp::LogAnd => LogicalOp::And,
                BinaryOp::LogOr => LogicalOp::Or,
                _ => LogicalOp::Xor,
            };
            let text = match lop {
                LogicalOp::And => "&&",
                LogicalOp::Or => "||",
                LogicalOp::Xor => "^^",
            };
            for v in [&l, &r] {
                if !v.ty.is_int() {
                    self.err(
                        format!(
                            "operator {text} requires integer operands, not {}",
                            v.ty.name()
                        ),
                        v.span,
                    );
                    return None;
                }
            }
            if let (Some(x), Some(y)) = (const_int(&l), const_int(&r)) {
                let (x, y) = (x != 0, y != 0);
                let v = match lop {
                    LogicalOp::And => x && y,
                    LogicalOp::Or => x || y,
                    LogicalOp::Xor => x ^ y,
                };
                return Some(int(v as i64, IntType::INT, span));
            }
            return Some(Expr {
                kind: T::Logical {
                    op: lop,
                    lhs: Box::new(l),
                    rhs: Box::new(r),
                },
                ty: Type::Int(IntType::INT),
                span,
            });
        };
        // `s == NULL`, `s != NULL`: rdtrace's strings are values, and the
        // subroutines that return NULL in dtrace (strchr, strrchr, strstr,
        // strtok) return "" instead; so a string is NULL when it is empty.
        let is_null = |e: &ast::Expr| matches!(&e.kind, A::Ident(n) if n == "NULL");
        if matches!(bop, BinOp::Eq | BinOp::Ne)
            && self.vars.globals.get("NULL").is_none()
            && ((is_null(a) && r.ty.is_string()) || (is_null(b) && l.ty.is_string()))
        {
            let s = if l.ty.is_string() { l } else { r };
            let sspan = s.span;
            let len = Expr {
                kind: T::Call(Func::Strlen, vec![s]),
                ty: Type::Int(IntType::UINT64),
                span: sspan,
            };
            let kind = T::Binary {
                op: bop,
                unsigned: true,
                lhs: Box::new(len),
                rhs: Box::new(int(0, IntType::UINT64, sspan)),
            };
            return Some(Expr {
                kind,
                ty: Type::Int(IntType::INT),
                span,
            });
        }
        self.binop(bop, l, r, span)
    }

    /// Types `l op r` (also used by compound assignment).
    pub(crate) fn binop(&mut self, op: BinOp, l: Expr, r: Expr, span: Span) -> Option<Expr> {
        let (lt, rt) = match (&l.ty, &r.ty) {
            (Type::Int(x), Type::Int(y)) => (*x, *y),
            (Type::String, Type::String) if is_comparison(op) => {
                let kind = T::Binary {
                    op,
                    unsigned: false,
                    lhs: Box::new(l),
                    rhs: Box::new(r),
                };
                return Some(Expr {
                    kind,
                    ty: Type::Int(IntType::INT),
                    span,
                });
            }
            (x, y) => {
                self.error(Diagnostic::new(
                    format!(
                        "operator {} operands have incompatible types: \"{}\" {} \"{}\"",
                        op_text(op),
                        x.name(),
                        op_text(op),
                        y.name()
                    ),
                    span,
                ));
                return None;
            }
        };
        if matches!(op, BinOp::Div | BinOp::Rem) && const_int(&r) == Some(0) {
            self.error(
                Diagnostic::new("expression contains division by zero", span)
                    .with_label("divides by zero"),
            );
            return None;
        }
        let (ty, unsigned) = match op {
            BinOp::Shl | BinOp::Shr => (promote(lt), !promote(lt).signed),
            _ if is_comparison(op) => (IntType::INT, !usual(lt, rt).signed),
            _ => {
                let u = usual(lt, rt);
                (u, !u.signed)
            }
        };
        if let (Some(x), Some(y)) = (const_int(&l), const_int(&r)) {
            let v =
                consts::binary(op, unsigned, x, y).expect("division by zero was rejected above");
            return Some(int(v, ty, span));
        }
        Some(Expr {
            kind: T::Binary {
                op,
                unsigned,
                lhs: Box::new(l),
                rhs: Box::new(r),
            },
            ty: Type::Int(ty),
            span,
        })
    }

    fn ternary(
        &mut self,
        cx: &mut Cx,
        c: &ast::Expr,
        t: &ast::Expr,
        e: &ast::Expr,
        span: Span,
    ) -> Option<Expr> {
        let c = self.expr(cx, c);
        let t = self.expr(cx, t);
        let e = self.expr(cx, e);
        let (c, t, e) = (c?, t?, e?);
        if !self.require_int(&c, "the condition of ?:") {
            return None;
        }
        let ty = match (&t.ty, &e.ty) {
            (Type::Int(a), Type::Int(b)) => Type::Int(usual(*a, *b)),
            (Type::String, Type::String) => Type::String,
            (a, b) => {
                self.err(
                    format!(
                        "operator ?: operands must have compatible types: \"{}\" and \"{}\"",
                        a.name(),
                        b.name()
                    ),
                    span,
                );
                return None;
            }
        };
        if let (Some(cv), Some(tv), Some(ev)) = (const_int(&c), const_int(&t), const_int(&e)) {
            let Type::Int(it) = ty else {
                unreachable!("constant branches are integers")
            };
            return Some(int(if cv != 0 { tv } else { ev }, it, span));
        }
        Some(Expr {
            kind: T::Ternary {
                cond: Box::new(c),
                then: Box::new(t),
                els: Box::new(e),
            },
            ty,
            span,
        })
    }

    /// `args[N]->member`, `(*args[N]).member` and the built-in pointers'
    /// members (`curpsinfo->pr_psargs`).
    fn member(
        &mut self,
        cx: &mut Cx,
        base: &ast::Expr,
        member: &ast::Ident,
        arrow: bool,
        span: Span,
    ) -> Option<Expr> {
        let pointee = if arrow {
            Some(base)
        } else {
            match &base.kind {
                A::Unary(UnaryOp::Deref, inner) => Some(&**inner),
                _ => None,
            }
        };
        if let Some(A::Ident(name)) = pointee.map(|p| &p.kind) {
            if let Some(st) = super::builtins::builtin_pointer(name) {
                return self.struct_member(cx, name, st, name, member, span);
            }
        }
        let Some(nexpr) = pointee.and_then(args_index) else {
            // Not args[N]: a member of copied-in memory, or an error.
            let whole = ast::Expr {
                kind: A::Member {
                    base: Box::new(base.clone()),
                    member: member.clone(),
                    arrow,
                },
                span,
            };
            return self.buf_member(cx, &whole);
        };
        let n = self.arg_number(cx, nexpr)?;
        let ty = self.arg_type(cx, n, base.span)?;
        let Type::StructPtr(sname) = &ty else {
            self.err(
                format!("args[{n}] is of type {}: it has no members", ty.name()),
                base.span,
            );
            return None;
        };
        self.struct_member(cx, &format!("args[{n}]"), sname, sname, member, span)
    }

    /// `member` of the struct `sname` that `what` (`args[1]`, `curpsinfo`)
    /// points to, read through the layouts' rows of `view` in every probe
    /// of the clause (they must agree).
    fn struct_member(
        &mut self,
        cx: &Cx,
        what: &str,
        sname: &str,
        view: &str,
        member: &ast::Ident,
        span: Span,
    ) -> Option<Expr> {
        let Some(sdef) = self.catalog.struct_def(sname) else {
            self.err(
                format!("struct type {sname} is not described by the probe catalog"),
                span,
            );
            return None;
        };
        let Some(m) = sdef.members.iter().find(|m| m.name == member.name) else {
            let names: Vec<&str> = sdef.members.iter().map(|m| m.name.as_str()).collect();
            let help = match super::suggest::nearest(&member.name, names.iter().copied()) {
                Some(near) => format!("did you mean {near}?"),
                None => format!("the members of {sname} are: {}", names.join(", ")),
            };
            self.error(
                Diagnostic::new(
                    format!("{} is not a member of {sname}", member.name),
                    member.span,
                )
                .with_label("unknown member")
                .with_help(help),
            );
            return None;
        };
        let mty = m.ty.clone();
        let mut found: Option<FieldSource> = None;
        if cx.probes.is_empty() && view != sname {
            // Without -Z the description's own error was reported: one
            // error, not a cascade.
            if self.opts.allow_zero_matches {
                self.err(
                    format!("{what} cannot be used in a clause that matches no probes"),
                    span,
                );
            }
            return None;
        }
        for p in &cx.probes {
            let layout = match p.kind {
                ProbeKind::Event { layout } | ProbeKind::Profile { layout, .. } => layout,
                _ => 0,
            };
            let src = self.catalog.member_source(layout, view, &member.name);
            let pname = format!("{}:{}:{}:{}", p.provider, p.module, p.function, p.name);
            if src == FieldSource::Unavailable {
                self.error(
                    Diagnostic::new(
                        format!("{what}->{} is not available in probe {pname}", member.name),
                        span,
                    )
                    .with_label("not provided by this probe"),
                );
                return None;
            }
            match &found {
                None => found = Some(src),
                Some(f) if *f == src => {}
                Some(_) => {
                    self.error(
                        Diagnostic::new(
                            format!(
                                "{what}->{} differs between the probes of this clause",
                                member.name
                            ),
                            span,
                        )
                        .with_help("split the clause so that each part matches probes of one kind"),
                    );
                    return None;
                }
            }
        }
        Some(Expr {
            kind: T::Field(found.unwrap_or(FieldSource::Unavailable)),
            ty: mty,
            span,
        })
    }

    fn arg_number(&mut self, cx: &mut Cx, n: &ast::Expr) -> Option<usize> {
        let v = self.expr(cx, n)?;
        match const_int(&v) {
            Some(i) if (0..64).contains(&i) => Some(i as usize),
            Some(i) => {
                self.err(format!("index {i} is out of range for args[ ]"), n.span);
                None
            }
            None => {
                self.err("args[ ] requires a constant index", n.span);
                None
            }
        }
    }

    /// The type of `args[n]` in every probe of the clause (they must agree);
    /// `None` after reporting why there is none.
    fn arg_type(&mut self, cx: &Cx, n: usize, span: Span) -> Option<Type> {
        if cx.probes.is_empty() {
            let why = if cx.in_inline_def {
                "in an inline definition"
            } else if self.opts.allow_zero_matches {
                "in a clause that matches no probes"
            } else {
                // The description's own error says it: no cascade.
                return None;
            };
            self.err(format!("args[{n}] cannot be used {why}"), span);
            return None;
        }
        let mut ty: Option<Type> = None;
        for p in &cx.probes {
            let pname = format!("{}:{}:{}:{}", p.provider, p.module, p.function, p.name);
            let Some(a) = p.args.get(n) else {
                let d = Diagnostic::new(
                    format!("index {n} is out of range for {pname} args[ ]"),
                    span,
                )
                .with_help(format!(
                    "{pname} has {} argument{}",
                    p.args.len(),
                    if p.args.len() == 1 { "" } else { "s" }
                ));
                self.error(d);
                return None;
            };
            match &ty {
                None => ty = Some(a.ty.clone()),
                Some(t) if *t == a.ty => {}
                Some(t) => {
                    self.err(
                        format!(
                            "args[{n}] is {} in one probe of this clause and {} in {pname}",
                            t.name(),
                            a.ty.name()
                        ),
                        span,
                    );
                    return None;
                }
            }
        }
        ty
    }

    fn index(
        &mut self,
        cx: &mut Cx,
        base: &ast::Expr,
        index: &[ast::Expr],
        span: Span,
    ) -> Option<Expr> {
        let name = match &base.kind {
            A::Ident(n) => n.as_str(),
            A::Agg(n) => {
                self.err(format!("aggregation @{n} cannot be used as a value"), span);
                return None;
            }
            _ => {
                let b = self.expr(cx, base)?;
                self.err(
                    format!(
                        "operator [ ] cannot be applied to a value of type {}",
                        b.ty.name()
                    ),
                    span,
                );
                return None;
            }
        };
        if name == "args" {
            if index.len() != 1 {
                self.err("args[ ] takes one index", span);
                return None;
            }
            let n = self.arg_number(cx, &index[0])?;
            let ty = self.arg_type(cx, n, span)?;
            if let Type::StructPtr(s) = &ty {
                self.error(
                    Diagnostic::new(
                        format!("args[{n}] is a pointer to {s} and cannot be used as a value"),
                        span,
                    )
                    .with_help(format!("read its members with args[{n}]->member")),
                );
                return None;
            }
            let mut found: Option<FieldSource> = None;
            for p in &cx.probes {
                let src = p.args[n].source.clone().unwrap_or(FieldSource::Unavailable);
                if src == FieldSource::Unavailable || found.as_ref().is_some_and(|f| *f != src) {
                    self.err(
                        format!(
                            "args[{n}] is not available in probe {}:{}:{}:{}",
                            p.provider, p.module, p.function, p.name
                        ),
                        span,
                    );
                    return None;
                }
                found = Some(src);
            }
            return Some(Expr {
                kind: T::Field(found?),
                ty,
                span,
            });
        }
        if let Some(t) = self.catalog.string_table(name) {
            let entries = t.entries.clone();
            if index.len() != 1 {
                self.err(format!("{name}[ ] takes one index"), span);
                return None;
            }
            let i = self.expr(cx, &index[0])?;
            if !self.require_int(&i, &format!("the index of {name}[ ]")) {
                return None;
            }
            return Some(Expr {
                kind: T::StringTable {
                    entries,
                    index: Box::new(i),
                },
                ty: Type::String,
                span,
            });
        }
        let Some((id, decl)) = self.vars.assoc(name) else {
            if self.vars.globals.get(name).is_some() {
                self.err(
                    format!("{name} is a scalar variable and cannot be indexed"),
                    span,
                );
            } else {
                self.error(
                    Diagnostic::new(
                        format!("failed to resolve {name}: Unknown variable name"),
                        base.span,
                    )
                    .with_label("not declared or assigned before this point"),
                );
            }
            return None;
        };
        let (keys_ty, value_ty) = (decl.keys.clone(), decl.value.clone());
        let keys = self.keys(cx, name, index, Some(&keys_ty))?;
        Some(Expr {
            kind: T::Load(Place::Assoc(id, keys)),
            ty: value_ty,
            span,
        })
    }

    /// Checks the keys of an associative array or aggregation against the
    /// expected key types (when known).
    pub(crate) fn keys(
        &mut self,
        cx: &mut Cx,
        name: &str,
        index: &[ast::Expr],
        expect: Option<&[Type]>,
    ) -> Option<Vec<Expr>> {
        let mut out = Vec::new();
        let mut ok = true;
        for k in index {
            match self.expr(cx, k) {
                Some(v) if v.ty.is_int() || v.ty.is_string() => out.push(v),
                // Stacks and symbols group an aggregation (by identity).
                Some(v) if matches!(v.ty, Type::Symbolic(_)) && name.starts_with('@') => {
                    out.push(v)
                }
                Some(v) => {
                    self.err(
                        format!("a key of {name}[ ] cannot be of type {}", v.ty.name()),
                        v.span,
                    );
                    ok = false;
                }
                None => ok = false,
            }
        }
        if !ok {
            return None;
        }
        if let Some(exp) = expect {
            if exp.len() != out.len() {
                let span = index
                    .first()
                    .map(|f| f.span.to(index.last().unwrap().span))
                    .unwrap_or_default();
                self.err(
                    format!(
                        "{name}[ ] takes {} key{}, {} given",
                        exp.len(),
                        if exp.len() == 1 { "" } else { "s" },
                        out.len()
                    ),
                    span,
                );
                return None;
            }
            for (i, (t, v)) in exp.iter().zip(&out).enumerate() {
                if !assignable(t, &v.ty) {
                    self.err(
                        format!(
                            "key #{} of {name}[ ] must be {}, not {}",
                            i + 1,
                            t.name(),
                            v.ty.name()
                        ),
                        v.span,
                    );
                    return None;
                }
            }
        }
        Some(out)
    }

    /// A subroutine call used for its value.
    fn call_value(
        &mut self,
        cx: &mut Cx,
        func: &ast::Expr,
        args: &[ast::Expr],
        span: Span,
    ) -> Option<Expr> {
        let A::Ident(name) = &func.kind else {
            self.err("only named functions can be called", func.span);
            return None;
        };
        match funcs::classify(name) {
            Some(Callee::Sub(Func::InetNtoa | Func::InetNtoa6 | Func::InetNtop)) => {
                self.inet_call(cx, name, args, span)
            }
            Some(Callee::Sub(f)) => self.subroutine(cx, name, f, args, span),
            Some(Callee::CopyIn) => self.copyin(cx, name, args, span),
            Some(Callee::Stack(user)) => self.stack(cx, name, user, args, span),
            Some(Callee::Symbol(kind)) => self.symbol(cx, name, kind, args, span),
            Some(Callee::Action) | Some(Callee::Destructive) => {
                self.err(
                    format!("{name}( ) is an action and cannot be used as a value"),
                    span,
                );
                None
            }
            Some(Callee::Aggregating) => {
                self.error(
                    Diagnostic::new(
                        format!("{name}( ) may only be used as the value of an aggregation"),
                        span,
                    )
                    .with_help(format!("write @name[keys] = {name}(…);")),
                );
                None
            }
            Some(Callee::Unsupported(why)) => {
                let mut d = Diagnostic::new(format!("{name}( ) is not supported by rdtrace"), span)
                    .with_label(why);
                if name == "inet_ntoa6" {
                    d = d.with_help(
                        "ip_saddr, ip_daddr, tcps_laddr and tcps_raddr are already strings",
                    );
                }
                self.error(d);
                None
            }
            None => {
                let mut d = Diagnostic::new(format!("unknown function {name}( )"), func.span)
                    .with_label("no such function");
                if let Some(near) = super::suggest::nearest(name, funcs::NAMES.iter().copied()) {
                    d = d.with_help(format!("did you mean {near}( )?"));
                }
                self.error(d);
                None
            }
        }
    }

    /// Whether a subroutine got `min..=max` arguments; else dtrace's
    /// prototype mismatch error ("N to M" expected).
    pub(crate) fn subr_arity(
        &mut self,
        name: &str,
        args: &[ast::Expr],
        min: usize,
        max: usize,
        span: Span,
    ) -> bool {
        self.count_args(name, args, min..=max, format!("{min} to {max}"), span)
    }

    /// Whether `args` has a count in `range`; else the prototype mismatch
    /// error with `range_words` (the count itself when the range is one).
    pub(crate) fn count_args(
        &mut self,
        name: &str,
        args: &[ast::Expr],
        range: std::ops::RangeInclusive<usize>,
        range_words: String,
        span: Span,
    ) -> bool {
        if range.contains(&args.len()) {
            return true;
        }
        let expected = if range.start() == range.end() {
            range.start().to_string()
        } else {
            range_words
        };
        self.err(
            format!(
                "{name}( ) prototype mismatch: {} args passed, {expected} expected",
                args.len()
            ),
            span,
        );
        false
    }

    fn subroutine(
        &mut self,
        cx: &mut Cx,
        name: &str,
        f: crate::typed::Func,
        args: &[ast::Expr],
        span: Span,
    ) -> Option<Expr> {
        let (req, opt, ret) = funcs::signature(f);
        if !self.subr_arity(name, args, req.len(), req.len() + opt.len(), span) {
            return None;
        }
        let mut out = Vec::new();
        for (i, (a, kind)) in args.iter().zip(req.iter().chain(opt)).enumerate() {
            let v = self.expr(cx, a)?;
            // strtok(NULL, delims) goes on with the previous string.
            let continues = f == Func::Strtok && i == 0 && const_int(&v) == Some(0);
            if !kind.accepts(&v.ty) && !continues {
                self.err(
                    format!(
                        "{name}( ) argument #{} is incompatible with prototype:\n\tprototype: {}\n\t argument: {}",
                        i + 1,
                        kind.name(),
                        v.ty.name()
                    ),
                    v.span,
                );
                return None;
            }
            if f == Func::Lltostr && i == 1 && const_int(&v).is_some_and(|b| !(2..=36).contains(&b))
            {
                self.err("lltostr( ) base must be between 2 and 36", v.span);
                return None;
            }
            out.push(v);
        }
        Some(Expr {
            kind: T::Call(f, out),
            ty: ret,
            span,
        })
    }

    /// Resolves an assignable location; creates the variable on first
    /// assignment with `value_ty` (None for `++`/`--` and compound ops,
    /// which need an existing integer variable… or a fresh `this`/`self`).
    pub(crate) fn place(
        &mut self,
        cx: &mut Cx,
        e: &ast::Expr,
        value_ty: Option<&Type>,
    ) -> Option<(Place, Type)> {
        if !self.poisoned.is_empty() && var_name(e).is_some_and(|n| self.poisoned.contains(&n)) {
            return None;
        }
        let fresh = value_ty.cloned().unwrap_or(Type::Int(IntType::INT64));
        match &e.kind {
            A::Ident(name) => {
                if let Some((v, ty)) = self.vars.globals.get(name) {
                    return Some((Place::Global(v), ty.clone()));
                }
                if let Some(why) = self.not_assignable(name) {
                    self.err(format!("cannot assign to {name}: {why}"), e.span);
                    return None;
                }
                if self.vars.assoc(name).is_some() {
                    self.err(
                        format!("associative array {name} must be indexed: {name}[key]"),
                        e.span,
                    );
                    return None;
                }
                // `x++`, `x += n` on a new variable create it as int64_t,
                // as dtrace does.
                Some((
                    Place::Global(self.vars.globals.add(name, fresh.clone())),
                    fresh,
                ))
            }
            A::This(id) => Some(match self.vars.this.get(&id.name) {
                Some((v, ty)) => (Place::This(v), ty.clone()),
                None => (
                    Place::This(self.vars.this.add(&id.name, fresh.clone())),
                    fresh,
                ),
            }),
            A::SelfVar(id) => Some(match self.vars.selfs.get(&id.name) {
                Some((v, ty)) => (Place::SelfVar(v), ty.clone()),
                None => (
                    Place::SelfVar(self.vars.selfs.add(&id.name, fresh.clone())),
                    fresh,
                ),
            }),
            A::Index { base, index } => {
                let name = match &base.kind {
                    A::Ident(n) => n.clone(),
                    A::This(_) | A::SelfVar(_) => {
                        self.err("associative arrays of this-> and self-> variables are not supported by rdtrace", e.span);
                        return None;
                    }
                    _ => {
                        self.err("left-hand side of = is not assignable", e.span);
                        return None;
                    }
                };
                if let Some(why) = self.not_assignable(&name) {
                    self.err(format!("cannot assign to {name}[ ]: {why}"), e.span);
                    return None;
                }
                if self.vars.globals.get(&name).is_some() {
                    self.err(
                        format!("{name} is a scalar variable and cannot be indexed"),
                        e.span,
                    );
                    return None;
                }
                if let Some((id, d)) = self.vars.assoc(&name) {
                    let (kt, vt) = (d.keys.clone(), d.value.clone());
                    let keys = self.keys(cx, &name, index, Some(&kt))?;
                    return Some((Place::Assoc(id, keys), vt));
                }
                let vt = fresh;
                let keys = self.keys(cx, &name, index, None)?;
                let kt = keys.iter().map(|k| k.ty.clone()).collect();
                let id = self.vars.add_assoc(&name, kt, vt.clone());
                Some((Place::Assoc(id, keys), vt))
            }
            _ => {
                self.err("left-hand side of the assignment is not a variable", e.span);
                None
            }
        }
    }

    /// Why a global name cannot be assigned, if it cannot.
    fn not_assignable(&self, name: &str) -> Option<&'static str> {
        if super::builtins::is_reserved(name) {
            Some("it is a built-in variable")
        } else if self.catalog.constant(name).is_some() {
            Some("it is a constant")
        } else if self.inlines.contains_key(name) {
            Some("it is an inline")
        } else if self.catalog.string_table(name).is_some() {
            Some("it is a built-in array")
        } else if funcs::classify(name).is_some() {
            Some("it is a function")
        } else {
            None
        }
    }

    fn assign(
        &mut self,
        cx: &mut Cx,
        op: Option<BinaryOp>,
        lhs: &ast::Expr,
        rhs: &ast::Expr,
        span: Span,
    ) -> Option<Expr> {
        if matches!(lhs.kind, A::Agg(_))
            || matches!(&lhs.kind, A::Index { base, .. } if matches!(base.kind, A::Agg(_)))
        {
            self.error(
                Diagnostic::new(
                    "aggregations may only be updated in a statement of their own",
                    span,
                )
                .with_help("write @name[keys] = func(…); as a statement"),
            );
            return None;
        }
        let Some(value) = self.expr(cx, rhs) else {
            // The error is reported; a variable this would have created is
            // not reported again as unknown at its later uses.
            if let Some(name) = var_name(lhs) {
                self.poisoned.insert(name);
            }
            return None;
        };
        if matches!(value.ty, Type::Buf(_)) && !matches!(&lhs.kind, A::This(_)) {
            self.error(
                Diagnostic::new(
                    format!(
                        "a value of type {} can only be kept in a this-> variable",
                        value.ty.name()
                    ),
                    value.span,
                )
                .with_label("copied-in memory lives for this firing")
                .with_help("keep a member, or stringof( ) of it, in other variables"),
            );
            return None;
        }
        if !(value.ty.is_int() || value.ty.is_string() || matches!(value.ty, Type::Buf(_))) {
            self.err(
                format!("a value of type {} cannot be stored", value.ty.name()),
                value.span,
            );
            return None;
        }
        let (place, ty) = self.place(cx, lhs, if op.is_none() { Some(&value.ty) } else { None })?;
        let bop = op.and_then(binop);
        if let Some(b) = bop {
            if !ty.is_int() || !value.ty.is_int() {
                self.err(
                    format!(
                        "operator {}= operands have incompatible types: \"{}\" {}= \"{}\"",
                        op_text(b),
                        ty.name(),
                        op_text(b),
                        value.ty.name()
                    ),
                    span,
                );
                return None;
            }
            if matches!(b, BinOp::Div | BinOp::Rem) && const_int(&value) == Some(0) {
                self.error(
                    Diagnostic::new("expression contains division by zero", span)
                        .with_label("divides by zero"),
                );
                return None;
            }
        } else if !assignable(&ty, &value.ty) {
            self.err(
                format!(
                    "operator = operands have incompatible types: \"{}\" = \"{}\"",
                    ty.name(),
                    value.ty.name()
                ),
                span,
            );
            return None;
        }
        Some(Expr {
            kind: T::Assign {
                place,
                op: bop,
                value: Box::new(value),
            },
            ty,
            span,
        })
    }
}

/// The variable an assignment target names (`x`, `this->x`, `self->x`,
/// `a[…]`), as the poisoned set spells it.
fn var_name(e: &ast::Expr) -> Option<String> {
    match &e.kind {
        A::Ident(n) => Some(n.clone()),
        A::This(i) => Some(format!("this->{}", i.name)),
        A::SelfVar(i) => Some(format!("self->{}", i.name)),
        A::Index { base, .. } => var_name(base),
        _ => None,
    }
}

fn unop_text(op: UnaryOp) -> &'static str {
    match op {
        UnaryOp::Neg => "-",
        UnaryOp::Plus => "+",
        UnaryOp::Not => "!",
        UnaryOp::BitNot => "~",
        UnaryOp::Deref => "*",
        UnaryOp::AddrOf => "&",
        UnaryOp::Sizeof => "sizeof",
        UnaryOp::Stringof => "stringof",
        UnaryOp::PreInc | UnaryOp::PostInc => "++",
        UnaryOp::PreDec | UnaryOp::PostDec => "--",
    }
}
