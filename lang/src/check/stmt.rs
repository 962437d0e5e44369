//! Statements and actions: assignments, `if`, printf/printa/trace/exit,
//! aggregation updates, the aggregation-management actions and the
//! destructive ones. A bare expression statement is traced, as in D.

use super::expr::{const_int, Cx};
use super::funcs::{self, Callee};
use super::printf::{agg_value_type, Values};
use super::Checker;
use crate::ast::{self, ExprKind as A};
use crate::diag::Diagnostic;
use crate::span::Span;
use crate::typed::{AggFunc, AggId, Expr, Stmt};
use crate::types::Type;

impl Checker<'_> {
    pub(crate) fn stmts(&mut self, cx: &mut Cx, stmts: &[ast::Stmt]) -> Vec<Stmt> {
        let mut out = Vec::new();
        for s in stmts {
            self.stmt(cx, s, &mut out);
        }
        out
    }

    fn stmt(&mut self, cx: &mut Cx, s: &ast::Stmt, out: &mut Vec<Stmt>) {
        match s {
            ast::Stmt::Empty(_) => {}
            ast::Stmt::Block(b, _) => {
                for s in b {
                    self.stmt(cx, s, out);
                }
            }
            ast::Stmt::If {
                cond,
                then,
                els,
                span,
            } => {
                let c = self.expr(cx, cond);
                let then = self.stmts(cx, then);
                let els = els.as_ref().map(|e| self.stmts(cx, e)).unwrap_or_default();
                if let Some(c) = c {
                    if self.require_int(&c, "the condition of if") {
                        out.push(Stmt::If {
                            cond: c,
                            then,
                            els,
                            span: *span,
                        });
                    }
                }
            }
            ast::Stmt::Expr(e) => self.expr_stmt(cx, e, out),
        }
    }

    fn expr_stmt(&mut self, cx: &mut Cx, e: &ast::Expr, out: &mut Vec<Stmt>) {
        match &e.kind {
            A::Comma(a, b) => {
                self.expr_stmt(cx, a, out);
                self.expr_stmt(cx, b, out);
            }
            A::Call { func, args } => {
                if let A::Ident(name) = &func.kind {
                    match funcs::classify(name) {
                        Some(Callee::Action) => {
                            if let Some(s) = self.action(cx, name, args, e.span) {
                                out.push(s);
                            }
                            return;
                        }
                        // Allowed or not is decided when tracing is enabled
                        // (dtrace's "could not enable tracing: Destructive
                        // actions not allowed"), where `#pragma D option
                        // destructive` counts as much as -w.
                        Some(Callee::Destructive) => {
                            if let Some(s) = self.destructive(cx, name, args, e.span) {
                                out.push(s);
                            }
                            return;
                        }
                        _ => {}
                    }
                }
                self.traced(cx, e, out);
            }
            A::Assign { op: None, lhs, rhs } if agg_target(lhs).is_some() => {
                if let Some(s) = self.agg_update(cx, lhs, rhs, e.span) {
                    out.push(s);
                }
            }
            A::Assign { .. }
            | A::Unary(
                ast::UnaryOp::PreInc
                | ast::UnaryOp::PreDec
                | ast::UnaryOp::PostInc
                | ast::UnaryOp::PostDec,
                _,
            ) => {
                if let Some(v) = self.expr(cx, e) {
                    out.push(Stmt::Expr(v));
                }
            }
            _ => self.traced(cx, e, out),
        }
    }

    /// A bare expression: D traces its value.
    fn traced(&mut self, cx: &mut Cx, e: &ast::Expr, out: &mut Vec<Stmt>) {
        let Some(v) = self.expr(cx, e) else { return };
        if self.traceable(&v, "trace( )") {
            out.push(Stmt::Trace {
                span: v.span,
                arg: v,
            });
        }
    }

    fn traceable(&mut self, v: &Expr, what: &str) -> bool {
        if v.ty.is_int() || v.ty.is_string() || matches!(v.ty, Type::Symbolic(_)) {
            return true;
        }
        self.err(
            format!("{what} cannot trace a value of type {}", v.ty.name()),
            v.span,
        );
        false
    }

    /// Whether an action got `min..=max` arguments (dtrace words its
    /// range as "at least"/"no more than").
    fn arity(
        &mut self,
        name: &str,
        args: &[ast::Expr],
        min: usize,
        max: usize,
        span: Span,
    ) -> bool {
        let expected = if args.len() < min {
            format!("at least {min}")
        } else {
            format!("no more than {max}")
        };
        self.count_args(name, args, min..=max, expected, span)
    }

    /// An argument that must name an aggregation: `@a`.
    fn agg_arg(&mut self, func: &str, n: usize, a: &ast::Expr) -> Option<AggId> {
        let A::Agg(name) = &a.kind else {
            // Only for the message: errors found while typing it are dropped.
            let before = self.errors.len();
            let shown = self.expr(&mut Cx::inline_def(), a).map(|e| e.ty.name());
            self.errors.truncate(before);
            self.err(
                format!(
                    "{func}( ) argument #{n} is incompatible with prototype:\n\tprototype: aggregation\n\t argument: {}",
                    shown.unwrap_or_else(|| "expression".into())
                ),
                a.span,
            );
            return None;
        };
        match self.vars.agg(name) {
            Some((id, _)) => Some(id),
            None => {
                self.error(
                    Diagnostic::new(
                        format!(
                            "failed to resolve {}: Unknown aggregation",
                            super::vars::agg_shown(name)
                        ),
                        a.span,
                    )
                    .with_label("not updated before this point"),
                );
                None
            }
        }
    }

    fn int_arg(&mut self, cx: &mut Cx, func: &str, n: usize, a: &ast::Expr) -> Option<Expr> {
        let v = self.expr(cx, a)?;
        if v.ty.is_int() {
            return Some(v);
        }
        self.err(
            format!("{func}( ) argument #{n} is incompatible with prototype:\n\tprototype: int\n\t argument: {}", v.ty.name()),
            v.span,
        );
        None
    }

    fn action(&mut self, cx: &mut Cx, name: &str, args: &[ast::Expr], span: Span) -> Option<Stmt> {
        match name {
            "printf" => {
                if !self.arity(name, args, 1, usize::MAX, span) {
                    return None;
                }
                let (format, vals) = self.printf_like(cx, name, args, span)?;
                Some(Stmt::Printf {
                    args: symbolise_addresses(&format, vals),
                    format,
                    span,
                })
            }
            "printa" => self.printa(cx, args, span),
            "trace" => {
                if !self.arity(name, args, 1, 1, span) {
                    return None;
                }
                let v = self.expr(cx, &args[0])?;
                self.traceable(&v, "trace( )")
                    .then_some(Stmt::Trace { arg: v, span })
            }
            "copyinto" => self.copyinto(cx, args, span),
            "tracemem" => {
                if !self.arity(name, args, 2, 3, span) {
                    return None;
                }
                let buf = self.expr(cx, &args[0])?;
                if !matches!(buf.ty, Type::Buf(_)) {
                    self.error(
                        Diagnostic::new(
                            format!("tracemem( ) of {} is not supported by rdtrace", buf.ty.name()),
                            buf.span,
                        )
                        .with_help("rdtrace traces user memory copied in when the probe fired: tracemem(copyin(addr, n), n)"),
                    );
                    return None;
                }
                let size = self.expr(cx, &args[1])?;
                let Some(size) =
                    super::expr::const_int(&size).filter(|n| (1..=1 << 20).contains(n))
                else {
                    self.err(
                        "tracemem( ) size must be a positive integer constant",
                        size.span,
                    );
                    return None;
                };
                let dsize = match args.get(2) {
                    Some(a) => Some(self.int_arg(cx, name, 3, a)?),
                    None => None,
                };
                Some(Stmt::Tracemem {
                    buf,
                    size: size as u32,
                    dsize,
                    span,
                })
            }
            "exit" => {
                if !self.arity(name, args, 1, 1, span) {
                    return None;
                }
                let status = self.int_arg(cx, name, 1, &args[0])?;
                Some(Stmt::Exit { status, span })
            }
            "clear" => {
                if !self.arity(name, args, 1, 1, span) {
                    return None;
                }
                Some(Stmt::Clear {
                    agg: self.agg_arg(name, 1, &args[0])?,
                    span,
                })
            }
            "denormalize" => {
                if !self.arity(name, args, 1, 1, span) {
                    return None;
                }
                Some(Stmt::Normalize {
                    agg: self.agg_arg(name, 1, &args[0])?,
                    factor: None,
                    span,
                })
            }
            "normalize" => {
                if !self.arity(name, args, 2, 2, span) {
                    return None;
                }
                let agg = self.agg_arg(name, 1, &args[0]);
                let factor = self.int_arg(cx, name, 2, &args[1]);
                if let Some(0) = factor.as_ref().and_then(const_int) {
                    self.err(
                        "normalize( ) factor must be greater than zero",
                        args[1].span,
                    );
                    return None;
                }
                Some(Stmt::Normalize {
                    agg: agg?,
                    factor: Some(factor?),
                    span,
                })
            }
            "trunc" => {
                if !self.arity(name, args, 1, 2, span) {
                    return None;
                }
                let agg = self.agg_arg(name, 1, &args[0]);
                let keep = match args.get(1) {
                    Some(a) => Some(self.int_arg(cx, name, 2, a)?),
                    None => None,
                };
                Some(Stmt::Trunc {
                    agg: agg?,
                    keep,
                    span,
                })
            }
            _ => unreachable!("classify() lists the actions"),
        }
    }

    fn destructive(
        &mut self,
        cx: &mut Cx,
        name: &str,
        args: &[ast::Expr],
        span: Span,
    ) -> Option<Stmt> {
        match name {
            "system" => {
                if !self.arity(name, args, 1, usize::MAX, span) {
                    return None;
                }
                let (format, vals) = self.printf_like(cx, name, args, span)?;
                Some(Stmt::System {
                    format,
                    args: vals,
                    span,
                })
            }
            "raise" => {
                if !self.arity(name, args, 1, 1, span) {
                    return None;
                }
                Some(Stmt::Raise {
                    signal: self.int_arg(cx, name, 1, &args[0])?,
                    span,
                })
            }
            "stop" => self
                .arity(name, args, 0, 0, span)
                .then_some(Stmt::Stop { span }),
            _ => unreachable!("classify() lists the destructive actions"),
        }
    }

    /// printf/system: format constant + values checked against it.
    fn printf_like(
        &mut self,
        cx: &mut Cx,
        name: &str,
        args: &[ast::Expr],
        span: Span,
    ) -> Option<(crate::format::Format, Vec<Expr>)> {
        let fmt = self.expr(cx, &args[0]);
        let mut vals = Vec::new();
        let mut ok = true;
        for a in &args[1..] {
            match self.expr(cx, a) {
                Some(v) => vals.push(v),
                None => ok = false,
            }
        }
        let format = self.format_of(name, &fmt?)?;
        if !ok || !self.validate_format(name, &format, Values::Args(&vals), span, args[0].span) {
            return None;
        }
        Some((format, vals))
    }

    fn printa(&mut self, cx: &mut Cx, args: &[ast::Expr], span: Span) -> Option<Stmt> {
        let name = "printa";
        if !self.arity(name, args, 1, usize::MAX, span) {
            return None;
        }
        let has_format = !matches!(args[0].kind, A::Agg(_));
        let format = if has_format {
            let f = self.expr(cx, &args[0])?;
            Some(self.format_of(name, &f)?)
        } else {
            None
        };
        let first = usize::from(has_format);
        if args.len() <= first {
            self.err(
                format!(
                    "printa( ) prototype mismatch: {} args passed, 2 expected",
                    args.len()
                ),
                span,
            );
            return None;
        }
        let mut aggs = Vec::new();
        for (i, a) in args[first..].iter().enumerate() {
            aggs.push(self.agg_arg(name, first + i + 1, a)?);
        }
        let decls: Vec<_> = aggs
            .iter()
            .map(|&id| self.vars.agg_decl(id).clone())
            .collect();
        for d in &decls[1..] {
            if d.keys.len() != decls[0].keys.len() {
                self.err(
                    format!(
                        "printa( ): {a} and {b} do not have matching key signatures: {a} has {} key{}, {b} has {} key{}",
                        decls[0].keys.len(), plural(decls[0].keys.len()),
                        d.keys.len(), plural(d.keys.len()),
                        a = super::vars::agg_shown(&decls[0].name),
                        b = super::vars::agg_shown(&d.name),
                    ),
                    span,
                );
                return None;
            }
        }
        if let Some(f) = &format {
            let value = agg_value_type(decls[0].func);
            if !self.validate_format(
                name,
                f,
                Values::Agg {
                    keys: &decls[0].keys,
                    value,
                },
                span,
                args[0].span,
            ) {
                return None;
            }
        }
        Some(Stmt::Printa { format, aggs, span })
    }

    /// `@name[keys] = func(args)`.
    fn agg_update(
        &mut self,
        cx: &mut Cx,
        lhs: &ast::Expr,
        rhs: &ast::Expr,
        span: Span,
    ) -> Option<Stmt> {
        let (name, index) = agg_target(lhs)?;
        let shown = super::vars::agg_shown(name);
        let keys = self.keys(cx, &shown, index, None);
        let A::Call { func, args } = &rhs.kind else {
            self.error(
                Diagnostic::new(format!("{shown} must be assigned an aggregating function"), rhs.span)
                    .with_help("count( ), sum( ), avg( ), min( ), max( ), stddev( ), quantize( ), lquantize( ), llquantize( )"),
            );
            return None;
        };
        let fname = match &func.kind {
            A::Ident(f) if funcs::classify(f) == Some(Callee::Aggregating) => f.as_str(),
            _ => {
                self.error(
                    Diagnostic::new(format!("{shown} must be assigned an aggregating function"), func.span)
                        .with_help("count( ), sum( ), avg( ), min( ), max( ), stddev( ), quantize( ), lquantize( ), llquantize( )"),
                );
                return None;
            }
        };
        let (func_kind, values) = self.agg_func(cx, fname, args, rhs.span)?;
        let keys = keys?;
        let key_types: Vec<Type> = keys.iter().map(|k| k.ty.clone()).collect();
        match self.vars.use_agg(name, key_types, func_kind) {
            Ok(agg) => Some(Stmt::AggUpdate {
                agg,
                keys,
                args: values,
                span,
            }),
            Err(msg) => {
                self.err(msg, span);
                None
            }
        }
    }

    fn agg_func(
        &mut self,
        cx: &mut Cx,
        f: &str,
        args: &[ast::Expr],
        span: Span,
    ) -> Option<(AggFunc, Vec<Expr>)> {
        let simple = match f {
            "count" => Some(AggFunc::Count),
            "sum" => Some(AggFunc::Sum),
            "avg" => Some(AggFunc::Avg),
            "min" => Some(AggFunc::Min),
            "max" => Some(AggFunc::Max),
            "stddev" => Some(AggFunc::Stddev),
            "quantize" => Some(AggFunc::Quantize),
            _ => None,
        };
        if let Some(k) = simple {
            let n = usize::from(k != AggFunc::Count);
            // quantize(value, incr): the optional weight is the second value.
            let max = if k == AggFunc::Quantize { 2 } else { n };
            if !self.arity(f, args, n, max, span) {
                return None;
            }
            let mut vals = Vec::new();
            for (i, a) in args.iter().enumerate() {
                vals.push(self.int_arg(cx, f, i + 1, a)?);
            }
            return Some((k, vals));
        }
        // lquantize(value, low, high [, step [, incr]]),
        // llquantize(value, factor, low, high, steps [, incr]).
        let (min, max, consts) = if f == "lquantize" {
            (3, 5, 3)
        } else {
            (5, 6, 4)
        };
        if !self.arity(f, args, min, max, span) {
            return None;
        }
        let value = self.int_arg(cx, f, 1, &args[0])?;
        let incr = match args.get(consts + 1) {
            Some(a) => Some(self.int_arg(cx, f, consts + 2, a)?),
            None => None,
        };
        let mut c = Vec::new();
        for (i, a) in args[1..].iter().take(consts).enumerate() {
            let v = self.int_arg(cx, f, i + 2, a)?;
            match const_int(&v) {
                Some(x) => c.push(x),
                None => {
                    self.error(
                        Diagnostic::new(
                            format!("{f}( ) argument #{} must be an integer constant", i + 2),
                            a.span,
                        )
                        .with_label("non-constant arguments where constants are required"),
                    );
                    return None;
                }
            }
        }
        let kind = if f == "lquantize" {
            let (low, high, step) = (c[0], c[1], c.get(2).copied().unwrap_or(1));
            if step <= 0 {
                self.err("lquantize( ) step must be greater than zero", span);
                return None;
            }
            // dtrace's bounds (dt_cc.c): 32-bit base and limit, a 16-bit
            // number of levels, so the buckets always fit in memory.
            let int32 = i64::from(i32::MIN)..=i64::from(i32::MAX);
            if !int32.contains(&low) {
                self.err(
                    "lquantize( ) base (argument #2) must be a 32-bit quantity",
                    span,
                );
                return None;
            }
            if !int32.contains(&high) {
                self.err(
                    "lquantize( ) limit (argument #3) must be a 32-bit quantity",
                    span,
                );
                return None;
            }
            if high <= low {
                self.err(
                    "lquantize( ) upper bound must be greater than lower bound",
                    span,
                );
                return None;
            }
            let levels = (high - low) / step;
            if levels == 0 {
                self.err(
                    "lquantize( ) step (argument #4) too large: must have at least one quantization level",
                    span,
                );
                return None;
            }
            if levels > i64::from(u16::MAX) {
                self.err(
                    "lquantize( ) step (argument #4) too small: number of quantization levels must be a 16-bit quantity",
                    span,
                );
                return None;
            }
            AggFunc::Lquantize { low, high, step }
        } else {
            let (factor, low, high, steps) = (c[0], c[1], c[2], c[3]);
            if factor < 2 {
                self.err("llquantize( ) factor must be greater than one", span);
                return None;
            }
            if low < 0 || high <= low || steps <= 0 {
                self.err("llquantize( ) requires 0 <= low < high and steps > 0", span);
                return None;
            }
            if steps < factor || steps % factor != 0 {
                self.err("llquantize( ) steps must be a multiple of the factor", span);
                return None;
            }
            if u32::try_from(high)
                .ok()
                .and_then(|h| factor.checked_pow(h))
                .is_none()
            {
                self.err(
                    "llquantize( ) factor raised to the high magnitude overflows 64 bits",
                    span,
                );
                return None;
            }
            AggFunc::Llquantize {
                factor,
                low,
                high,
                steps,
            }
        };
        Some((kind, std::iter::once(value).chain(incr).collect()))
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// `@name` or `@name[keys]` on the left of `=`.
fn agg_target(lhs: &ast::Expr) -> Option<(&str, &[ast::Expr])> {
    match &lhs.kind {
        A::Agg(name) => Some((name.as_str(), &[])),
        A::Index { base, index } => match &base.kind {
            A::Agg(name) => Some((name.as_str(), index.as_slice())),
            _ => None,
        },
        _ => None,
    }
}

/// printf's `%a` and `%A` of an address print its symbol and offset: the
/// argument becomes that symbol (the kernel's, or the process's).
fn symbolise_addresses(format: &crate::format::Format, mut args: Vec<Expr>) -> Vec<Expr> {
    use crate::format::{ConvKind, Count};
    use crate::types::Symbolic;
    let mut j = 0;
    for conv in format.convs() {
        j += usize::from(conv.width == Count::Star)
            + usize::from(conv.precision == Some(Count::Star));
        if conv.aggregation {
            continue;
        }
        if let (ConvKind::Sym(user), Some(arg)) = (conv.kind, args.get_mut(j)) {
            if arg.ty.is_int() {
                let kind = if user {
                    Symbolic::UAddr
                } else {
                    Symbolic::Addr
                };
                let addr = std::mem::replace(
                    arg,
                    Expr {
                        kind: crate::typed::ExprKind::Int(0),
                        ty: Type::Int(crate::types::IntType::INT64),
                        span: arg.span,
                    },
                );
                *arg = Expr {
                    span: addr.span,
                    kind: crate::typed::ExprKind::Symbol {
                        kind,
                        addr: Box::new(addr),
                    },
                    ty: Type::Symbolic(kind),
                };
            }
        }
        j += 1;
    }
    args
}
