//! Compact, stable text forms of the AST and of the typed program, for
//! snapshot files. S-expressions, one clause/statement per line.

use rdtrace_lang::ast;
use rdtrace_lang::catalog::FieldSource;
use rdtrace_lang::format::Format;
use rdtrace_lang::typed::*;
use rdtrace_lang::types::Type;

pub fn program(p: &Program) -> String {
    let mut o = String::new();
    for opt in &p.options {
        match &opt.value {
            Some(v) => o += &format!("option {}={}\n", opt.name, v),
            None => o += &format!("option {}\n", opt.name),
        }
    }
    for (i, pr) in p.probes.iter().enumerate() {
        o += &format!(
            "probe #{i} id={} {}:{}:{}:{} {:?}\n",
            pr.id, pr.provider, pr.module, pr.function, pr.name, pr.kind
        );
    }
    let decls = |o: &mut String, what: &str, v: &[VarDecl]| {
        for (i, d) in v.iter().enumerate() {
            *o += &format!("{what} {i} {}: {}\n", d.name, d.ty.name());
        }
    };
    decls(&mut o, "global", &p.globals);
    decls(&mut o, "this", &p.this_vars);
    decls(&mut o, "self", &p.self_vars);
    for (i, a) in p.assocs.iter().enumerate() {
        let keys: Vec<String> = a.keys.iter().map(Type::name).collect();
        o += &format!(
            "assoc {i} {}[{}]: {}\n",
            a.name,
            keys.join(", "),
            a.value.name()
        );
    }
    for (i, a) in p.aggs.iter().enumerate() {
        let keys: Vec<String> = a.keys.iter().map(Type::name).collect();
        o += &format!("agg {i} @{}[{}] {:?}\n", a.name, keys.join(", "), a.func);
    }
    for c in &p.clauses {
        o += &format!("clause {} probes={:?}\n", c.index, c.probes);
        if let Some(pr) = &c.predicate {
            o += &format!("  pred {}\n", expr(pr));
        }
        for s in &c.body {
            stmt(&mut o, s, 1);
        }
    }
    o
}

fn stmt(o: &mut String, s: &Stmt, depth: usize) {
    let ind = "  ".repeat(depth);
    let line = match s {
        Stmt::Expr(e) => expr(e),
        Stmt::Tracemem {
            buf, size, dsize, ..
        } => format!(
            "tracemem {} {size} {}",
            expr(buf),
            dsize.as_ref().map_or("-".to_string(), expr)
        ),
        Stmt::If {
            cond, then, els, ..
        } => {
            *o += &format!("{ind}if {}\n", expr(cond));
            for s in then {
                stmt(o, s, depth + 1);
            }
            if !els.is_empty() {
                *o += &format!("{ind}else\n");
                for s in els {
                    stmt(o, s, depth + 1);
                }
            }
            return;
        }
        Stmt::Printf { format, args, .. } => format!("printf {} {}", fmt(format), exprs(args)),
        Stmt::Trace { arg, .. } => format!("trace {}", expr(arg)),
        Stmt::Printa { format, aggs, .. } => {
            format!(
                "printa {} {:?}",
                format.as_ref().map_or("-".to_string(), fmt),
                aggs
            )
        }
        Stmt::Exit { status, .. } => format!("exit {}", expr(status)),
        Stmt::AggUpdate {
            agg, keys, args, ..
        } => format!(
            "agg-update @{agg} keys {} args {}",
            exprs(keys),
            exprs(args)
        ),
        Stmt::Clear { agg, .. } => format!("clear @{agg}"),
        Stmt::Trunc { agg, keep, .. } => {
            format!("trunc @{agg} {}", keep.as_ref().map_or("-".into(), expr))
        }
        Stmt::Normalize { agg, factor, .. } => format!(
            "normalize @{agg} {}",
            factor.as_ref().map_or("-".into(), expr)
        ),
        Stmt::System { format, args, .. } => format!("system {} {}", fmt(format), exprs(args)),
        Stmt::Raise { signal, .. } => format!("raise {}", expr(signal)),
        Stmt::Stop { .. } => "stop".into(),
    };
    *o += &format!("{ind}{line}\n");
}

fn fmt(f: &Format) -> String {
    let convs = f.convs().count();
    format!("<{} pieces, {} convs>", f.pieces.len(), convs)
}

fn exprs(v: &[Expr]) -> String {
    let s: Vec<String> = v.iter().map(expr).collect();
    format!("[{}]", s.join(" "))
}

fn place(p: &Place) -> String {
    match p {
        Place::Global(i) => format!("global{i}"),
        Place::This(i) => format!("this{i}"),
        Place::SelfVar(i) => format!("self{i}"),
        Place::Assoc(i, k) => format!("assoc{i}{}", exprs(k)),
    }
}

fn source(s: &FieldSource) -> String {
    match s {
        FieldSource::Load { offset, int } => format!("load@{offset}:{}", int.name()),
        FieldSource::InetAddr { addr, version } => format!("inet@{addr}/v@{version}"),
        FieldSource::Chars { offset, len } => format!("chars@{offset}+{len}"),
        FieldSource::DataLoc { loc, base, max } => format!("dataloc@{loc}/{base}+{max}"),
        FieldSource::Const(v) => format!("const{v}"),
        FieldSource::Unavailable => "unavailable".into(),
    }
}

pub fn expr(e: &Expr) -> String {
    let t = e.ty.name();
    match &e.kind {
        ExprKind::Int(v) => format!("{v}:{t}"),
        ExprKind::Str(b) => format!("{:?}", String::from_utf8_lossy(b)),
        ExprKind::Field(s) => format!("(field {}):{t}", source(s)),
        ExprKind::Builtin(b) => format!("{b:?}:{t}"),
        ExprKind::Load(p) => format!("{}:{t}", place(p)),
        ExprKind::Assign {
            place: p,
            op,
            value,
        } => {
            format!(
                "(= {} {} {}):{t}",
                place(p),
                op.map_or("".into(), |o| format!("{o:?}")),
                expr(value)
            )
        }
        ExprKind::IncDec {
            place: p,
            delta,
            post,
        } => format!("(incdec {} {delta} post={post}):{t}", place(p)),
        ExprKind::Unary(op, a) => format!("({op:?} {}):{t}", expr(a)),
        ExprKind::Binary {
            op,
            unsigned,
            lhs,
            rhs,
        } => {
            format!(
                "({op:?}{} {} {}):{t}",
                if *unsigned { "/u" } else { "" },
                expr(lhs),
                expr(rhs)
            )
        }
        ExprKind::Logical { op, lhs, rhs } => format!("({op:?} {} {}):{t}", expr(lhs), expr(rhs)),
        ExprKind::Ternary { cond, then, els } => {
            format!("(? {} {} {}):{t}", expr(cond), expr(then), expr(els))
        }
        ExprKind::Cast(it, a) => format!("(cast {} {}):{t}", it.name(), expr(a)),
        ExprKind::StringTable { entries, index } => {
            format!("(strtab[{}] {}):{t}", entries.len(), expr(index))
        }
        ExprKind::Call(f, args) => format!("({f:?} {}):{t}", exprs(args)),
        ExprKind::BufLoad { buf, offset, int } => {
            format!("(buf-load {} @{offset} {}):{t}", expr(buf), int.name())
        }
        ExprKind::BufSlice { buf, offset, len } => {
            format!("(buf-slice {} @{offset}+{len}):{t}", expr(buf))
        }
        ExprKind::BufAlloc(n) => format!("(alloca {n}):{t}"),
        ExprKind::Stack { user, frames, .. } => {
            format!(
                "({} {frames:?}):{t}",
                if *user { "ustack" } else { "stack" }
            )
        }
        ExprKind::Symbol { kind, addr } => format!("({kind:?} {}):{t}", expr(addr)),
        ExprKind::BufString(buf) => format!("(buf-string {}):{t}", expr(buf)),
        ExprKind::BufInet { buf, v6 } => {
            format!("(buf-inet{} {}):{t}", if *v6 { "6" } else { "" }, expr(buf))
        }
        ExprKind::CopyIn(c) => format!(
            "(copyin#{} {:?} {} {}):{t}",
            c.site,
            c.kind,
            expr(&c.addr),
            c.len.as_deref().map_or("-".to_string(), expr)
        ),
    }
}

/// The AST as S-expressions (spans left out; the span test checks them).
pub fn script(s: &ast::Script) -> String {
    let mut o = String::new();
    for item in &s.items {
        match item {
            ast::Item::Pragma(p) => o += &format!("pragma {:?}\n", p.kind),
            ast::Item::Decl(d) => {
                let keys = d
                    .keys
                    .as_ref()
                    .map(|k| k.iter().map(ty).collect::<Vec<_>>().join(", "));
                o += &format!(
                    "decl {:?} {} {}{}\n",
                    d.scope,
                    ty(&d.ty),
                    d.name.name,
                    keys.map_or("".into(), |k| format!("[{k}]"))
                );
            }
            ast::Item::Inline(i) => {
                o += &format!(
                    "inline {} {} = {}\n",
                    ty(&i.ty),
                    i.name.name,
                    aexpr(&i.value)
                )
            }
            ast::Item::Unsupported { what, .. } => o += &format!("unsupported {what}\n"),
            ast::Item::Clause(c) => {
                let probes: Vec<&str> = c.probes.iter().map(|p| p.text.as_str()).collect();
                o += &format!("clause {}\n", probes.join(", "));
                if let Some(p) = &c.predicate {
                    o += &format!("  pred {}\n", aexpr(p));
                }
                match &c.body {
                    None => o += "  (no body)\n",
                    Some(b) => astmts(&mut o, b, 1),
                }
            }
        }
    }
    o
}

fn ty(t: &ast::TypeName) -> String {
    let base = match &t.base {
        ast::BaseType::Named(w) => w.join(" "),
        ast::BaseType::Struct(n) => format!("struct {n}"),
    };
    format!("{base}{}", "*".repeat(t.pointers as usize))
}

fn astmts(o: &mut String, b: &[ast::Stmt], depth: usize) {
    let ind = "  ".repeat(depth);
    for s in b {
        match s {
            ast::Stmt::Empty(_) => *o += &format!("{ind};\n"),
            ast::Stmt::Expr(e) => *o += &format!("{ind}{}\n", aexpr(e)),
            ast::Stmt::Block(b, _) => {
                *o += &format!("{ind}block\n");
                astmts(o, b, depth + 1);
            }
            ast::Stmt::If {
                cond, then, els, ..
            } => {
                *o += &format!("{ind}if {}\n", aexpr(cond));
                astmts(o, then, depth + 1);
                if let Some(e) = els {
                    *o += &format!("{ind}else\n");
                    astmts(o, e, depth + 1);
                }
            }
        }
    }
}

pub fn aexpr(e: &ast::Expr) -> String {
    use ast::ExprKind as A;
    match &e.kind {
        A::Int { value, suffix, .. } => {
            let s = format!(
                "{}{}",
                if suffix.unsigned { "u" } else { "" },
                "l".repeat(suffix.long as usize)
            );
            format!("{value}{s}")
        }
        A::Char(v) => format!("'{v}'"),
        A::Str(b) => format!("{:?}", String::from_utf8_lossy(b)),
        A::Float(f) => format!("float:{f}"),
        A::Ident(n) => n.clone(),
        A::This(i) => format!("this->{}", i.name),
        A::SelfVar(i) => format!("self->{}", i.name),
        A::Agg(n) => format!("@{n}"),
        A::Macro(m) => format!("${m}"),
        A::KernelSym(s) => format!("`{s}"),
        A::Unary(op, a) => format!("({op:?} {})", aexpr(a)),
        A::Binary(op, a, b) => format!("({op:?} {} {})", aexpr(a), aexpr(b)),
        A::Assign { op, lhs, rhs } => format!(
            "(={} {} {})",
            op.map_or("".into(), |o| format!("{o:?}")),
            aexpr(lhs),
            aexpr(rhs)
        ),
        A::Ternary { cond, then, els } => {
            format!("(? {} {} {})", aexpr(cond), aexpr(then), aexpr(els))
        }
        A::Cast(t, a) => format!("(cast {} {})", ty(t), aexpr(a)),
        A::SizeofType(t) => format!("(sizeof-type {})", ty(t)),
        A::Offsetof(t, m) => format!("(offsetof {} {})", ty(t), m.name),
        A::Member {
            base,
            member,
            arrow,
        } => format!(
            "({} {} {})",
            if *arrow { "->" } else { "." },
            aexpr(base),
            member.name
        ),
        A::Index { base, index } => format!(
            "(index {} {})",
            aexpr(base),
            index.iter().map(aexpr).collect::<Vec<_>>().join(" ")
        ),
        A::Call { func, args } => format!(
            "(call {} {})",
            aexpr(func),
            args.iter().map(aexpr).collect::<Vec<_>>().join(" ")
        ),
        A::Comma(a, b) => format!("(, {} {})", aexpr(a), aexpr(b)),
    }
}
