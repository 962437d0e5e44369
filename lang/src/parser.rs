//! Text → [`ast::Script`]: runs the pest grammar (`d.pest`) and turns its
//! pairs into the AST, decoding literals and `#pragma` lines on the way.

use pest::iterators::{Pair, Pairs};
use pest::Parser as _;
use pest_derive::Parser;

use crate::ast::*;
use crate::diag::{Diagnostic, Diagnostics};
use crate::span::{SourceId, Span};

#[derive(Parser)]
#[grammar = "d.pest"]
struct DParser;

/// Parses a whole D script as source 0. Errors carry spans but no source
/// text; callers attach it with [`Diagnostics::with_source`] (as
/// [`crate::compile`] does).
pub fn parse(src: &str) -> Result<Script, Diagnostics> {
    parse_source(src, 0)
}

/// Parses a whole D script as source `source` of a program: every span of
/// the AST (and of its errors) names it.
pub fn parse_source(src: &str, source: SourceId) -> Result<Script, Diagnostics> {
    let in_source = |d: Diagnostics| d.in_source(source);
    check_nesting(src).map_err(in_source)?;
    let mut pairs =
        DParser::parse(Rule::script, src).map_err(|e| in_source(syntax_error(e, src)))?;
    let script = pairs
        .next()
        .expect("the script rule always produces one pair");
    let mut b = Builder {
        errors: Vec::new(),
        depth: 0,
        source,
    };
    let span = b.span(&script);
    let mut items = Vec::new();
    for p in script.into_inner() {
        match p.as_rule() {
            Rule::shebang | Rule::EOI => {}
            Rule::directive => items.push(Item::Pragma(b.directive(p))),
            Rule::unsupported_decl => {
                let what = p
                    .clone()
                    .into_inner()
                    .next()
                    .map(|k| k.as_str().to_string())
                    .unwrap_or_default();
                items.push(Item::Unsupported {
                    what,
                    span: b.span(&p),
                });
            }
            Rule::inline_decl => items.push(Item::Inline(b.inline_decl(p))),
            Rule::var_decl => items.extend(b.var_decl(p).into_iter().map(Item::Decl)),
            Rule::clause => items.push(Item::Clause(b.clause(p))),
            r => unreachable!("unexpected top-level rule {r:?}"),
        }
    }
    if b.errors.is_empty() {
        Ok(Script { items, span })
    } else {
        Err(Diagnostics { items: b.errors })
    }
}

/// Turns pest's error into a diagnostic that names tokens, not rule names.
fn syntax_error(e: pest::error::Error<Rule>, src: &str) -> Diagnostics {
    use pest::error::{ErrorVariant, InputLocation};
    let mut span = match e.location {
        InputLocation::Pos(p) => Span::new(p, p),
        InputLocation::Span((a, b)) => Span::new(a, b),
    };
    // At the end of the input there is nothing to underline: point at the
    // last token instead and say what happened.
    let end = src.trim_end().len();
    let at_end = span.start as usize >= end;
    if at_end {
        let last = src[..end].chars().next_back().map_or(0, char::len_utf8);
        span = Span::new(end - last, end);
    }
    let expected = match &e.variant {
        ErrorVariant::ParsingError { positives, .. } => {
            let mut names: Vec<&str> = positives.iter().filter_map(|r| rule_name(*r)).collect();
            names.sort_unstable();
            names.dedup();
            names
        }
        ErrorVariant::CustomError { .. } => vec![],
    };
    let mut expected = expected;
    if expected.contains(&"a statement") {
        expected.push("`}`");
    }
    if expected == ["an operator"] {
        expected.push("`;`");
    }
    let label = if expected.is_empty() {
        "unexpected text here".to_string()
    } else {
        format!("expected {}", join_or(&expected))
    };
    // dtrace's words for a predicate with no actions after it (its
    // grammar has a rule for exactly this).
    let predicate_without_actions = at_end && src.trim_end().ends_with('/');
    let message = if predicate_without_actions {
        "expected actions { } following probe description and predicate"
    } else if at_end {
        "syntax error: unexpected end of input"
    } else {
        "syntax error"
    };
    let mut d = Diagnostic::new(message, span).with_label(label);
    if src[span.start as usize..].starts_with("//") {
        d = d.with_help("D has no // comments; write /* … */");
    }
    // A bracket left open shows up far from where it was opened: say where.
    let at = if at_end {
        src.len()
    } else {
        span.start as usize
    };
    let next = src[at..].chars().next();
    let mut items = vec![d];
    if let Some((open, c)) = unclosed_bracket(src, at) {
        let blames = at_end || (matches!(c, '(' | '[') && matches!(next, Some(';' | '}')));
        if blames {
            items.push(
                Diagnostic::new(format!("unclosed `{c}`"), Span::new(open, open + 1))
                    .with_label("opened here and never closed"),
            );
        }
    }
    Diagnostics { items }
}

/// The innermost bracket (`(`, `[`, `{`) still open at byte `upto`, with
/// its offset; strings, character literals and comments are skipped.
fn unclosed_bracket(src: &str, upto: usize) -> Option<(usize, char)> {
    let b = src.as_bytes();
    let mut stack: Vec<(usize, char)> = Vec::new();
    let mut i = 0;
    while i < upto.min(b.len()) {
        match b[i] {
            q @ (b'"' | b'\'') => {
                i += 1;
                while i < b.len() && b[i] != q && b[i] != b'\n' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                    i += 1;
                }
                i += 1;
            }
            c @ (b'(' | b'[' | b'{') => stack.push((i, c as char)),
            b')' | b']' | b'}' => {
                stack.pop();
            }
            _ => {}
        }
        i += 1;
    }
    stack.pop()
}

fn join_or(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} or {}", init.join(", "), last),
    }
}

/// Friendly names for the rules pest reports as expected.
fn rule_name(r: Rule) -> Option<&'static str> {
    Some(match r {
        Rule::EOI => "end of input",
        Rule::probe_desc | Rule::probe_list | Rule::clause => "a probe description",
        Rule::predicate => "a predicate",
        Rule::body => "`{`",
        Rule::block => "a statement",
        Rule::expr | Rule::assign_expr | Rule::ident => "an expression",
        Rule::int_lit | Rule::float_lit | Rule::char_lit | Rule::string_lit => "an expression",
        Rule::this_var | Rule::self_var | Rule::aggregation | Rule::macro_var => "an expression",
        Rule::paren | Rule::sizeof_type | Rule::offsetof | Rule::kernel_sym => "an expression",
        Rule::ternary_op | Rule::binop => "an operator",
        Rule::index | Rule::call_args | Rule::arrow | Rule::dot => "an operator",
        Rule::post_inc | Rule::post_dec => "an operator",
        Rule::empty_stmt | Rule::if_stmt | Rule::expr_stmt => "a statement",
        Rule::type_name | Rule::int_word | Rule::type_word | Rule::struct_type => "a type name",
        Rule::directive => "`#pragma`",
        Rule::var_decl | Rule::inline_decl | Rule::unsupported_decl => "a declaration",
        Rule::declarator => "a variable name",
        _ => return None,
    })
}

/// Deepest bracket nesting accepted; beyond it pest's recursion (and ours)
/// could exhaust the stack. Real scripts nest a handful of levels.
const MAX_BRACKETS: usize = 100;
/// Most `else if` arms of one `if` statement (each nests one level deeper
/// for the checker and the code generator).
const MAX_ELSE_IF: usize = 1000;
/// Bound on the depth of an expression tree (operators along one path), so
/// that checking and dropping it cannot exhaust the stack.
const MAX_EXPR_DEPTH: usize = 400;

/// Refuses bracket nesting deeper than [`MAX_BRACKETS`] before pest runs.
/// Brackets inside strings, character constants and comments do not count.
fn check_nesting(src: &str) -> Result<(), Diagnostics> {
    let b = src.as_bytes();
    let (mut i, mut depth) = (0, 0usize);
    // `if` statements nested without braces (`if (a) if (b) …`) since the
    // last statement boundary: pest recurses on each.
    let mut open_ifs = 0usize;
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i = src[i + 2..].find("*/").map_or(b.len(), |e| i + 2 + e + 2);
                continue;
            }
            q @ (b'"' | b'\'') => {
                i += 1;
                while i < b.len() && b[i] != q && b[i] != b'\n' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > MAX_BRACKETS {
                    let d = Diagnostic::new(
                        format!("nesting deeper than {MAX_BRACKETS} levels is not supported"),
                        Span::new(i, i + 1),
                    )
                    .with_label("too deep");
                    return Err(Diagnostics::one(d));
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            b'i' if b.get(i + 1) == Some(&b'f')
                && (i == 0 || !ident(b[i - 1]))
                && !b.get(i + 2).is_some_and(|&c| ident(c)) =>
            {
                open_ifs += 1;
                if open_ifs > MAX_BRACKETS {
                    let d = Diagnostic::new(
                        format!("if statements nested deeper than {MAX_BRACKETS} levels are not supported"),
                        Span::new(i, i + 2),
                    )
                    .with_label("too deep")
                    .with_help("use braces and && in the conditions");
                    return Err(Diagnostics::one(d));
                }
            }
            _ => {}
        }
        if matches!(b.get(i), Some(b';' | b'{' | b'}')) {
            open_ifs = 0;
        }
        i += 1;
    }
    Ok(())
}

/// Carries errors found while building (bad escapes, bad integers) so that
/// all of them are reported, not just the first.
struct Builder {
    errors: Vec<Diagnostic>,
    /// Expression tree depth of the operands being built (see MAX_EXPR_DEPTH).
    depth: usize,
    /// The source every span is stamped with.
    source: SourceId,
}

impl Builder {
    fn span(&self, p: &Pair<Rule>) -> Span {
        let s = p.as_span();
        Span::new(s.start(), s.end()).in_source(self.source)
    }

    fn ident(&self, p: Pair<Rule>) -> Ident {
        Ident {
            name: p.as_str().to_string(),
            span: self.span(&p),
        }
    }

    fn err(&mut self, d: Diagnostic) {
        self.errors.push(d);
    }

    fn directive(&mut self, p: Pair<Rule>) -> Pragma {
        let span = self.span(&p);
        let text = p.as_str().trim_end();
        let words: Vec<&str> = text[1..].split_whitespace().collect();
        let kind = match words.as_slice() {
            ["pragma", "D", "option", opt] => match opt.split_once('=') {
                Some((n, v)) => PragmaKind::Option {
                    name: n.to_string(),
                    value: Some(v.to_string()),
                },
                None => PragmaKind::Option {
                    name: opt.to_string(),
                    value: None,
                },
            },
            _ => PragmaKind::Other(text.to_string()),
        };
        Pragma { kind, span }
    }

    fn inline_decl(&mut self, p: Pair<Rule>) -> Inline {
        let span = self.span(&p);
        let mut it = p.into_inner().filter(|p| p.as_rule() != Rule::kw_inline);
        let ty = self.type_name(it.next().unwrap());
        let name = self.ident(it.next().unwrap());
        let value = self.assign_expr(it.next().unwrap());
        Inline {
            ty,
            name,
            value,
            span,
        }
    }

    fn var_decl(&mut self, p: Pair<Rule>) -> Vec<Decl> {
        let span = self.span(&p);
        let mut scope = Scope::Global;
        let mut ty = None;
        let mut out = Vec::new();
        for c in p.into_inner() {
            match c.as_rule() {
                Rule::var_scope => {
                    scope = if c.as_str() == "this" {
                        Scope::This
                    } else {
                        Scope::Self_
                    }
                }
                Rule::storage_class => {}
                Rule::type_name => ty = Some(self.type_name(c)),
                Rule::declarator => {
                    let mut d = c.into_inner();
                    let name = self.ident(d.next().unwrap());
                    let keys: Vec<TypeName> = d.map(|t| self.type_name(t)).collect();
                    out.push(Decl {
                        scope,
                        ty: ty.clone().expect("grammar puts the type first"),
                        name,
                        keys: if keys.is_empty() { None } else { Some(keys) },
                        span,
                    });
                }
                r => unreachable!("var_decl child {r:?}"),
            }
        }
        out
    }

    fn type_name(&mut self, p: Pair<Rule>) -> TypeName {
        let span = self.span(&p);
        let mut base = BaseType::Named(vec![]);
        let mut pointers = 0u8;
        for c in p.into_inner() {
            match c.as_rule() {
                Rule::struct_type => {
                    let name = c.into_inner().find(|c| c.as_rule() == Rule::ident).unwrap();
                    base = BaseType::Struct(name.as_str().to_string());
                }
                Rule::int_words => {
                    base = BaseType::Named(c.into_inner().map(|w| w.as_str().to_string()).collect())
                }
                Rule::type_word | Rule::unknown_ptr_type => {
                    base = BaseType::Named(vec![c.as_str().to_string()])
                }
                Rule::pointer => pointers = pointers.saturating_add(1),
                r => unreachable!("type_name child {r:?}"),
            }
        }
        TypeName {
            base,
            pointers,
            span,
        }
    }

    fn clause(&mut self, p: Pair<Rule>) -> Clause {
        let span = self.span(&p);
        let mut probes = Vec::new();
        let mut predicate = None;
        let mut body = None;
        for c in p.into_inner() {
            match c.as_rule() {
                Rule::probe_list => {
                    probes = c
                        .into_inner()
                        .map(|d| ProbeDesc {
                            text: d.as_str().to_string(),
                            span: self.span(&d),
                        })
                        .collect()
                }
                Rule::predicate => predicate = Some(self.expr(c.into_inner().next().unwrap())),
                Rule::body => body = Some(self.stmts(c.into_inner())),
                r => unreachable!("clause child {r:?}"),
            }
        }
        Clause {
            probes,
            predicate,
            body,
            span,
        }
    }

    fn stmts(&mut self, pairs: Pairs<Rule>) -> Vec<Stmt> {
        pairs.map(|p| self.stmt(p)).collect()
    }

    fn stmt(&mut self, p: Pair<Rule>) -> Stmt {
        let span = self.span(&p);
        match p.as_rule() {
            Rule::empty_stmt => Stmt::Empty(span),
            Rule::block => Stmt::Block(self.stmts(p.into_inner()), span),
            Rule::expr_stmt => Stmt::Expr(self.expr(p.into_inner().next().unwrap())),
            Rule::if_stmt => {
                // (condition, branch) of the `if` and of each `else if`,
                // then the final `else`.
                let mut arms: Vec<(Expr, Vec<Stmt>, Span)> = Vec::new();
                let mut els = None;
                let mut it = p
                    .into_inner()
                    .filter(|c| !matches!(c.as_rule(), Rule::kw_if | Rule::kw_else))
                    .peekable();
                let cond = self.expr(it.next().unwrap());
                let then = self.branch(it.next().unwrap());
                arms.push((cond, then, span));
                for c in it {
                    if c.as_rule() == Rule::else_if {
                        let arm_span = self.span(&c);
                        let mut inner = c
                            .into_inner()
                            .filter(|c| !matches!(c.as_rule(), Rule::kw_if | Rule::kw_else));
                        let cond = self.expr(inner.next().unwrap());
                        let then = self.branch(inner.next().unwrap());
                        arms.push((cond, then, arm_span));
                    } else {
                        els = Some(self.branch(c));
                    }
                }
                if arms.len() > MAX_ELSE_IF {
                    self.err(
                        Diagnostic::new(
                            format!("an if statement with more than {MAX_ELSE_IF} else if arms is too long"),
                            arms[MAX_ELSE_IF].2,
                        )
                        .with_label("arm beyond the limit")
                        .with_help("use an associative array or a lookup table"),
                    );
                    return Stmt::Empty(span);
                }
                // Nest from the last arm: `else if` is `else { if … }`.
                let mut stmt = None;
                for (cond, then, arm_span) in arms.into_iter().rev() {
                    let els = match stmt.take() {
                        Some(inner) => Some(vec![inner]),
                        None => els.take(),
                    };
                    stmt = Some(Stmt::If {
                        cond,
                        then,
                        els,
                        span: arm_span.to(span),
                    });
                }
                stmt.expect("an if statement has an arm")
            }
            Rule::branch => self.stmt(p.into_inner().next().unwrap()),
            r => unreachable!("statement rule {r:?}"),
        }
    }

    /// The body of an `if`/`else` arm: a block's statements or one statement.
    fn branch(&mut self, p: Pair<Rule>) -> Vec<Stmt> {
        let inner = p.into_inner().next().unwrap();
        if inner.as_rule() == Rule::block {
            self.stmts(inner.into_inner())
        } else {
            vec![self.stmt(inner)]
        }
    }

    /// Reports an expression past MAX_EXPR_DEPTH; a 0 stands in for it.
    fn too_deep(&mut self, span: Span, help: &str) -> Expr {
        self.err(
            Diagnostic::new("expression is too deeply nested or too long", span).with_help(help),
        );
        Expr {
            kind: ExprKind::Int {
                value: 0,
                suffix: IntSuffix {
                    unsigned: false,
                    long: 0,
                },
                text: "0".into(),
            },
            span,
        }
    }

    /// `expr`: assignment expressions joined by the comma operator.
    fn expr(&mut self, p: Pair<Rule>) -> Expr {
        let span = self.span(&p);
        let mut it = p.into_inner();
        // Each comma nests the tree one level deeper.
        if self.depth + it.len() > MAX_EXPR_DEPTH {
            return self.too_deep(span, "split it into statements");
        }
        let mut acc = self.assign_expr(it.next().unwrap());
        for next in it {
            let rhs = self.assign_expr(next);
            let span = acc.span.to(rhs.span);
            acc = Expr {
                kind: ExprKind::Comma(Box::new(acc), Box::new(rhs)),
                span,
            };
        }
        acc
    }

    fn assign_expr(&mut self, p: Pair<Rule>) -> Expr {
        let span = self.span(&p);
        let inner = p.into_inner();
        // A chain of n operators can build a tree n deep; unary operands add
        // their prefix/postfix counts (measured in `unary`).
        let cost = inner.len();
        if self.depth + cost > MAX_EXPR_DEPTH {
            return self.too_deep(span, "split it with temporary variables (this->x)");
        }
        self.depth += cost;
        // Operands and operators alternate; fold them by precedence
        // (shunting-yard): `ops` holds operators waiting for their right side.
        let mut operands: Vec<Expr> = Vec::new();
        let mut ops: Vec<(Infix, u8)> = Vec::new();
        // The pairs of the operand being read: prefixes, primary, postfixes.
        let mut operand: Vec<Pair<Rule>> = Vec::new();
        for c in inner {
            match c.as_rule() {
                Rule::ternary_op | Rule::binop => {
                    operands.push(self.unary(std::mem::take(&mut operand)));
                    let op = self.infix_op(c);
                    let (prec, right) = op.precedence();
                    while let Some(&(_, top)) = ops.last() {
                        if top > prec || (top == prec && !right) {
                            let (o, _) = ops.pop().expect("checked non-empty");
                            reduce(&mut operands, o);
                        } else {
                            break;
                        }
                    }
                    ops.push((op, prec));
                }
                _ => operand.push(c),
            }
        }
        operands.push(self.unary(operand));
        while let Some((o, _)) = ops.pop() {
            reduce(&mut operands, o);
        }
        self.depth -= cost;
        operands.pop().expect("an expression has an operand")
    }

    fn infix_op(&mut self, op: Pair<Rule>) -> Infix {
        if op.as_rule() == Rule::ternary_op {
            return Infix::Ternary(self.expr(op.into_inner().next().unwrap()));
        }
        let b = Infix::Binary;
        let a = |o| Infix::Assign(Some(o));
        match op.as_str() {
            "=" => Infix::Assign(None),
            "+=" => a(BinaryOp::Add),
            "-=" => a(BinaryOp::Sub),
            "*=" => a(BinaryOp::Mul),
            "/=" => a(BinaryOp::Div),
            "%=" => a(BinaryOp::Rem),
            "&=" => a(BinaryOp::BitAnd),
            "|=" => a(BinaryOp::BitOr),
            "^=" => a(BinaryOp::BitXor),
            "<<=" => a(BinaryOp::Shl),
            ">>=" => a(BinaryOp::Shr),
            "||" => b(BinaryOp::LogOr),
            "^^" => b(BinaryOp::LogXor),
            "&&" => b(BinaryOp::LogAnd),
            "|" => b(BinaryOp::BitOr),
            "^" => b(BinaryOp::BitXor),
            "&" => b(BinaryOp::BitAnd),
            "==" => b(BinaryOp::Eq),
            "!=" => b(BinaryOp::Ne),
            "<" => b(BinaryOp::Lt),
            "<=" => b(BinaryOp::Le),
            ">" => b(BinaryOp::Gt),
            ">=" => b(BinaryOp::Ge),
            "<<" => b(BinaryOp::Shl),
            ">>" => b(BinaryOp::Shr),
            "+" => b(BinaryOp::Add),
            "-" => b(BinaryOp::Sub),
            "*" => b(BinaryOp::Mul),
            "/" => b(BinaryOp::Div),
            "%" => b(BinaryOp::Rem),
            s => unreachable!("binary operator {s}"),
        }
    }

    /// `prefix* primary postfix*`: postfix operators bind tighter than prefix.
    /// One operand: `prefix* primary postfix*` (the grammar guarantees the
    /// primary); postfix operators bind tighter than prefix ones.
    fn unary(&mut self, inner: Vec<Pair<Rule>>) -> Expr {
        let mut prefixes = Vec::new();
        let mut it = inner.into_iter().peekable();
        while let Some(c) = it.peek() {
            if is_primary(c.as_rule()) {
                break;
            }
            prefixes.push(it.next().unwrap());
        }
        let mut e = self.primary(it.next().expect("grammar requires a primary"));
        for post in it {
            let span = e.span.to(self.span(&post));
            let kind = match post.as_rule() {
                Rule::post_inc => ExprKind::Unary(UnaryOp::PostInc, Box::new(e)),
                Rule::post_dec => ExprKind::Unary(UnaryOp::PostDec, Box::new(e)),
                Rule::index => {
                    let index = post.into_inner().map(|a| self.assign_expr(a)).collect();
                    ExprKind::Index {
                        base: Box::new(e),
                        index,
                    }
                }
                Rule::call_args => {
                    let args = post.into_inner().map(|a| self.assign_expr(a)).collect();
                    ExprKind::Call {
                        func: Box::new(e),
                        args,
                    }
                }
                Rule::arrow | Rule::dot => {
                    let arrow = post.as_rule() == Rule::arrow;
                    let member = self.ident(post.into_inner().next().unwrap());
                    ExprKind::Member {
                        base: Box::new(e),
                        member,
                        arrow,
                    }
                }
                r => unreachable!("postfix rule {r:?}"),
            };
            e = Expr { kind, span };
        }
        for pre in prefixes.into_iter().rev() {
            let span = self.span(&pre).to(e.span);
            let op = match pre.as_rule() {
                Rule::pre_inc => UnaryOp::PreInc,
                Rule::pre_dec => UnaryOp::PreDec,
                Rule::neg => UnaryOp::Neg,
                Rule::plus => UnaryOp::Plus,
                Rule::not => UnaryOp::Not,
                Rule::bit_not => UnaryOp::BitNot,
                Rule::deref => UnaryOp::Deref,
                Rule::addr_of => UnaryOp::AddrOf,
                Rule::sizeof_op => UnaryOp::Sizeof,
                Rule::stringof_op => UnaryOp::Stringof,
                Rule::cast => {
                    let ty = self.type_name(pre.into_inner().next().unwrap());
                    e = Expr {
                        kind: ExprKind::Cast(ty, Box::new(e)),
                        span,
                    };
                    continue;
                }
                r => unreachable!("prefix rule {r:?}"),
            };
            e = Expr {
                kind: ExprKind::Unary(op, Box::new(e)),
                span,
            };
        }
        e
    }

    fn primary(&mut self, p: Pair<Rule>) -> Expr {
        let span = self.span(&p);
        let text = p.as_str();
        let kind = match p.as_rule() {
            Rule::paren => return self.expr(p.into_inner().next().unwrap()).with_span(span),
            Rule::sizeof_type => {
                let t = p
                    .into_inner()
                    .find(|c| c.as_rule() == Rule::type_name)
                    .unwrap();
                ExprKind::SizeofType(self.type_name(t))
            }
            Rule::offsetof => {
                let mut it = p.into_inner().filter(|c| c.as_rule() != Rule::kw_offsetof);
                let t = self.type_name(it.next().unwrap());
                ExprKind::Offsetof(t, self.ident(it.next().unwrap()))
            }
            Rule::this_var => ExprKind::This(self.ident(p.into_inner().nth(1).unwrap())),
            Rule::self_var => ExprKind::SelfVar(self.ident(p.into_inner().nth(1).unwrap())),
            Rule::aggregation => {
                let name = &text[1..];
                ExprKind::Agg(if name.is_empty() {
                    "_".to_string()
                } else {
                    name.to_string()
                })
            }
            Rule::macro_var => ExprKind::Macro(text[1..].to_string()),
            Rule::kernel_sym => ExprKind::KernelSym(text[1..].to_string()),
            Rule::float_lit => ExprKind::Float(text.to_string()),
            Rule::int_lit => match parse_int(text) {
                Ok((value, suffix)) => ExprKind::Int {
                    value,
                    suffix,
                    text: text.to_string(),
                },
                Err(why) => {
                    self.err(
                        Diagnostic::new(format!("invalid integer constant {text}"), span)
                            .with_label(why),
                    );
                    ExprKind::Int {
                        value: 0,
                        suffix: IntSuffix {
                            unsigned: false,
                            long: 0,
                        },
                        text: text.to_string(),
                    }
                }
            },
            Rule::char_lit => match decode_escapes(&text[1..text.len() - 1]) {
                Ok(bytes) if bytes.len() <= 8 => {
                    // Multi-character constants pack big-endian, as in C.
                    let v = match bytes.as_slice() {
                        [one] => *one as i8 as i64,
                        many => many.iter().fold(0i64, |acc, &b| (acc << 8) | b as i64),
                    };
                    ExprKind::Char(v)
                }
                Ok(_) => {
                    self.err(Diagnostic::new("character constant is too long", span));
                    ExprKind::Char(0)
                }
                Err((msg, off, len)) => {
                    let s = span.start as usize + 1 + off;
                    self.err(
                        Diagnostic::new(msg, Span::new(s, s + len).in_source(self.source))
                            .with_label("here"),
                    );
                    ExprKind::Char(0)
                }
            },
            Rule::string_lit => match decode_escapes(&text[1..text.len() - 1]) {
                Ok(bytes) => ExprKind::Str(bytes),
                Err((msg, off, len)) => {
                    let s = span.start as usize + 1 + off;
                    self.err(
                        Diagnostic::new(msg, Span::new(s, s + len).in_source(self.source))
                            .with_label("here")
                            .with_help(
                                r#"D escapes are \a \b \f \n \r \t \v \\ \" \' \? \ooo \xhh"#,
                            ),
                    );
                    ExprKind::Str(vec![])
                }
            },
            Rule::ident if is_keyword(text) => {
                self.err(
                    Diagnostic::new(format!("syntax error: unexpected keyword {text}"), span)
                        .with_label("a keyword cannot be used here"),
                );
                ExprKind::Ident(text.to_string())
            }
            Rule::ident => ExprKind::Ident(text.to_string()),
            r => unreachable!("primary rule {r:?}"),
        };
        Expr { kind, span }
    }
}

/// A binary operator between two operands, as the parser folds them.
enum Infix {
    Binary(BinaryOp),
    /// `=` (None) or a compound assignment.
    Assign(Option<BinaryOp>),
    /// `? then :`, with its middle expression.
    Ternary(Expr),
}

impl Infix {
    /// C's precedence (higher binds tighter) and whether it is right
    /// associative. D adds `^^` between `||` and `&&`.
    fn precedence(&self) -> (u8, bool) {
        match self {
            Infix::Assign(_) => (1, true),
            Infix::Ternary(_) => (2, true),
            Infix::Binary(op) => (
                match op {
                    BinaryOp::LogOr => 3,
                    BinaryOp::LogXor => 4,
                    BinaryOp::LogAnd => 5,
                    BinaryOp::BitOr => 6,
                    BinaryOp::BitXor => 7,
                    BinaryOp::BitAnd => 8,
                    BinaryOp::Eq | BinaryOp::Ne => 9,
                    BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => 10,
                    BinaryOp::Shl | BinaryOp::Shr => 11,
                    BinaryOp::Add | BinaryOp::Sub => 12,
                    BinaryOp::Mul | BinaryOp::Div | BinaryOp::Rem => 13,
                },
                false,
            ),
        }
    }
}

/// Applies `op` to the two topmost operands.
fn reduce(operands: &mut Vec<Expr>, op: Infix) {
    let rhs = operands.pop().expect("an operator has a right operand");
    let lhs = operands.pop().expect("an operator has a left operand");
    let span = lhs.span.to(rhs.span);
    let (l, r) = (Box::new(lhs), Box::new(rhs));
    let kind = match op {
        Infix::Binary(o) => ExprKind::Binary(o, l, r),
        Infix::Assign(o) => ExprKind::Assign {
            op: o,
            lhs: l,
            rhs: r,
        },
        Infix::Ternary(then) => ExprKind::Ternary {
            cond: l,
            then: Box::new(then),
            els: r,
        },
    };
    operands.push(Expr { kind, span });
}

impl Expr {
    fn with_span(mut self, span: Span) -> Expr {
        self.span = span;
        self
    }
}

fn is_primary(r: Rule) -> bool {
    matches!(
        r,
        Rule::sizeof_type
            | Rule::offsetof
            | Rule::paren
            | Rule::this_var
            | Rule::self_var
            | Rule::aggregation
            | Rule::macro_var
            | Rule::float_lit
            | Rule::int_lit
            | Rule::char_lit
            | Rule::string_lit
            | Rule::kernel_sym
            | Rule::ident
    )
}

/// Words that cannot name a variable, member or function.
const KEYWORDS: &[&str] = &[
    "auto",
    "break",
    "case",
    "char",
    "const",
    "continue",
    "counter",
    "default",
    "do",
    "double",
    "else",
    "enum",
    "extern",
    "float",
    "for",
    "goto",
    "if",
    "import",
    "inline",
    "int",
    "long",
    "offsetof",
    "probe",
    "provider",
    "register",
    "restrict",
    "return",
    "self",
    "short",
    "signed",
    "sizeof",
    "static",
    "string",
    "stringof",
    "struct",
    "switch",
    "this",
    "translator",
    "typedef",
    "union",
    "unsigned",
    "userland",
    "void",
    "volatile",
    "while",
    "xlate",
];

fn is_keyword(s: &str) -> bool {
    KEYWORDS.contains(&s)
}

/// Parses an integer literal with its C suffix.
pub(crate) fn parse_int(text: &str) -> Result<(u64, IntSuffix), &'static str> {
    const BIG: &str = "does not fit in 64 bits";
    let digits_end = text.find(['u', 'U', 'l', 'L']).unwrap_or(text.len());
    let (digits, suf) = text.split_at(digits_end);
    let value = if let Some(h) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        u64::from_str_radix(h, 16).map_err(|_| BIG)?
    } else if digits.len() > 1 && digits.starts_with('0') {
        if digits.bytes().any(|b| b == b'8' || b == b'9') {
            return Err("8 and 9 are not octal digits");
        }
        u64::from_str_radix(&digits[1..], 8).map_err(|_| BIG)?
    } else {
        digits.parse::<u64>().map_err(|_| BIG)?
    };
    let lower = suf.to_ascii_lowercase();
    let suffix = IntSuffix {
        unsigned: lower.contains('u'),
        long: lower.matches('l').count() as u8,
    };
    Ok((value, suffix))
}

/// Decodes D string escapes. On error returns the message and the byte
/// offset/length of the bad escape within `s`.
pub(crate) fn decode_escapes(s: &str) -> Result<Vec<u8>, (String, usize, usize)> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            out.push(b[i]);
            i += 1;
            continue;
        }
        let start = i;
        i += 1;
        let Some(&c) = b.get(i) else {
            return Err(("incomplete escape sequence".into(), start, 1));
        };
        i += 1;
        let byte = match c {
            b'a' => 0x07,
            b'b' => 0x08,
            b'f' => 0x0c,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'v' => 0x0b,
            b'\\' => b'\\',
            b'"' => b'"',
            b'\'' => b'\'',
            b'?' => b'?',
            b'0'..=b'7' => {
                let mut v = (c - b'0') as u32;
                let mut n = 1;
                while n < 3 && i < b.len() && (b'0'..=b'7').contains(&b[i]) {
                    v = v * 8 + (b[i] - b'0') as u32;
                    i += 1;
                    n += 1;
                }
                if v > 0xff {
                    return Err((
                        "octal escape sequence out of range".into(),
                        start,
                        i - start,
                    ));
                }
                v as u8
            }
            b'x' => {
                let hs = i;
                while i < b.len() && b[i].is_ascii_hexdigit() && i - hs < 2 {
                    i += 1;
                }
                if i == hs {
                    return Err((r"\x used with no following hex digits".into(), start, 2));
                }
                u8::from_str_radix(&s[hs..i], 16).expect("at most two hex digits")
            }
            _ => {
                let len = s[start + 1..].chars().next().map_or(1, |ch| ch.len_utf8()) + 1;
                return Err((
                    format!("invalid escape sequence \\{}", &s[start + 1..start + len]),
                    start,
                    len,
                ));
            }
        };
        out.push(byte);
    }
    Ok(out)
}
