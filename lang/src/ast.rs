//! The syntax tree of a D script, as parsed. Every node carries the byte span
//! of the text it came from. Nothing is resolved here: names, types and probe
//! descriptions are interpreted by the checker.

use crate::span::Span;

#[derive(Debug, Clone, PartialEq)]
pub struct Script {
    pub items: Vec<Item>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Pragma(Pragma),
    Clause(Clause),
    Decl(Decl),
    Inline(Inline),
    /// `translator`, `struct`, `union`, `enum`, `typedef`, `provider`
    /// definitions: parsed whole, refused by the checker.
    Unsupported {
        what: String,
        span: Span,
    },
}

/// A `#` line other than the `#!` first line.
#[derive(Debug, Clone, PartialEq)]
pub struct Pragma {
    pub kind: PragmaKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PragmaKind {
    /// `#pragma D option name[=value]`
    Option { name: String, value: Option<String> },
    /// Any other `#` line (`#pragma D binding …`, `#include …`): its text.
    Other(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Clause {
    pub probes: Vec<ProbeDesc>,
    pub predicate: Option<Expr>,
    /// `None` for a bare description (`dtrace -n BEGIN`): the default action.
    pub body: Option<Vec<Stmt>>,
    pub span: Span,
}

/// A probe description exactly as written (`tcp:::send`, `tick-1s`, `$1`).
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeDesc {
    pub text: String,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Global,
    This,
    Self_,
}

/// `int x;`, `this int x;`, `self string s;`, `int last[int];`
#[derive(Debug, Clone, PartialEq)]
pub struct Decl {
    pub scope: Scope,
    pub ty: TypeName,
    pub name: Ident,
    /// Key types for an associative array declaration.
    pub keys: Option<Vec<TypeName>>,
    pub span: Span,
}

/// `inline type name = expr;`
#[derive(Debug, Clone, PartialEq)]
pub struct Inline {
    pub ty: TypeName,
    pub name: Ident,
    pub value: Expr,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TypeName {
    pub base: BaseType,
    /// Number of `*`.
    pub pointers: u8,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum BaseType {
    /// Words of a C integer type, e.g. `["unsigned", "long", "long"]`, or a
    /// single named type such as `uint32_t`, `string`, `void`.
    Named(Vec<String>),
    /// `struct name`
    Struct(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Stmt {
    Empty(Span),
    Expr(Expr),
    If {
        cond: Expr,
        then: Vec<Stmt>,
        els: Option<Vec<Stmt>>,
        span: Span,
    },
    Block(Vec<Stmt>, Span),
}

impl Stmt {
    pub fn span(&self) -> Span {
        match self {
            Stmt::Empty(s) | Stmt::Block(_, s) => *s,
            Stmt::Expr(e) => e.span,
            Stmt::If { span, .. } => *span,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntSuffix {
    pub unsigned: bool,
    /// 0, 1 (`l`) or 2 (`ll`)
    pub long: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    Neg,
    Plus,
    Not,
    BitNot,
    Deref,
    AddrOf,
    Sizeof,
    Stringof,
    PreInc,
    PreDec,
    PostInc,
    PostDec,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Shl,
    Shr,
    BitAnd,
    BitOr,
    BitXor,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    LogAnd,
    LogOr,
    LogXor,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// Integer literal; `text` as written (for messages).
    Int {
        value: u64,
        suffix: IntSuffix,
        text: String,
    },
    /// Character constant, already converted to its value.
    Char(i64),
    /// String literal with escapes decoded.
    Str(Vec<u8>),
    /// Floating-point literal: parsed so the checker can refuse it clearly.
    Float(String),
    Ident(String),
    /// `this->name`
    This(Ident),
    /// `self->name`
    SelfVar(Ident),
    /// `@name`; `@` alone has the name `_`.
    Agg(String),
    /// `$1`, `$$1`, `$target`: the text after the first `$` (e.g. `1`, `$1`).
    Macro(String),
    /// `` `sym `` kernel symbol.
    KernelSym(String),
    Unary(UnaryOp, Box<Expr>),
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    /// `lhs = rhs` (op None) or `lhs op= rhs`.
    Assign {
        op: Option<BinaryOp>,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    Ternary {
        cond: Box<Expr>,
        then: Box<Expr>,
        els: Box<Expr>,
    },
    Cast(TypeName, Box<Expr>),
    SizeofType(TypeName),
    Offsetof(TypeName, Ident),
    /// `base->member` (arrow) or `base.member`.
    Member {
        base: Box<Expr>,
        member: Ident,
        arrow: bool,
    },
    Index {
        base: Box<Expr>,
        index: Vec<Expr>,
    },
    Call {
        func: Box<Expr>,
        args: Vec<Expr>,
    },
    /// `a, b`
    Comma(Box<Expr>, Box<Expr>),
}

impl Expr {
    /// Direct children, for generic walks (span nesting, tests).
    pub fn children(&self) -> Vec<&Expr> {
        match &self.kind {
            ExprKind::Int { .. }
            | ExprKind::Char(_)
            | ExprKind::Str(_)
            | ExprKind::Float(_)
            | ExprKind::Ident(_)
            | ExprKind::This(_)
            | ExprKind::SelfVar(_)
            | ExprKind::Agg(_)
            | ExprKind::Macro(_)
            | ExprKind::KernelSym(_)
            | ExprKind::SizeofType(_)
            | ExprKind::Offsetof(..) => vec![],
            ExprKind::Unary(_, e) | ExprKind::Cast(_, e) | ExprKind::Member { base: e, .. } => {
                vec![e]
            }
            ExprKind::Binary(_, a, b)
            | ExprKind::Assign { lhs: a, rhs: b, .. }
            | ExprKind::Comma(a, b) => vec![a, b],
            ExprKind::Ternary { cond, then, els } => vec![cond, then, els],
            ExprKind::Index { base, index } => {
                std::iter::once(&**base).chain(index.iter()).collect()
            }
            ExprKind::Call { func, args } => std::iter::once(&**func).chain(args.iter()).collect(),
        }
    }
}
