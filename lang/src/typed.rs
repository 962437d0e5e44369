//! The checked program: what `check` produces and the runtime compiles.
//! Names are resolved, every expression has a type, probe descriptions are
//! matched against the catalog, `args[i]->member` is resolved to a
//! [`FieldSource`], constants are folded, printf formats are parsed.

use crate::catalog::{FieldSource, ProbeKind};
use crate::format::Format;
use crate::span::Span;
use crate::types::{IntType, Type};

#[derive(Debug, Clone)]
pub struct Program {
    /// Options from `#pragma D option` (the CLI's `-x`/`-q` are merged by the
    /// caller): name, value (None for a bare flag), span of the pragma.
    pub options: Vec<OptionSetting>,
    /// Every probe some clause enabled, each once, in order of first use.
    pub probes: Vec<EnabledProbe>,
    /// Clauses in program order.
    pub clauses: Vec<Clause>,
    /// Global scalar variables (`x = 1`, `int x;`), indexed by `VarId`.
    pub globals: Vec<VarDecl>,
    /// Clause-local `this->` variables (shared by the clauses of one firing).
    pub this_vars: Vec<VarDecl>,
    /// Thread-local `self->` variables (keyed by tid).
    pub self_vars: Vec<VarDecl>,
    /// Global associative arrays `a[k1, k2]`.
    pub assocs: Vec<AssocDecl>,
    /// Aggregations `@name[keys]`; `@` alone is named `_`.
    pub aggs: Vec<AggDecl>,
    /// For each source given to `check_many`, in order: how many distinct
    /// probes its clauses enabled (dtrace's `matched N probes` notice).
    pub matched_per_source: Vec<usize>,
    /// What the checker warns of (the program is valid): printed, not fatal.
    pub warnings: Vec<crate::diag::Diagnostic>,
}

#[derive(Debug, Clone)]
pub struct OptionSetting {
    pub name: String,
    pub value: Option<String>,
    pub span: Span,
}

/// A catalog probe (or a synthesised `tick-N`/`profile-N`) that at least one
/// clause enabled.
#[derive(Debug, Clone)]
pub struct EnabledProbe {
    /// dtrace probe ID (catalog ID; synthesised ticks get fresh IDs).
    pub id: u32,
    pub provider: String,
    pub module: String,
    pub function: String,
    pub name: String,
    pub kind: ProbeKind,
}

pub type ProbeIndex = usize; // index into Program::probes
pub type VarId = usize;
pub type AssocId = usize;
pub type AggId = usize;

#[derive(Debug, Clone)]
pub struct Clause {
    /// Position in the program (0-based); DTrace's `epid` is derived from it.
    pub index: usize,
    pub span: Span,
    /// Indexes into `Program::probes` this clause runs for.
    pub probes: Vec<ProbeIndex>,
    pub predicate: Option<Expr>,
    pub body: Vec<Stmt>,
}

#[derive(Debug, Clone)]
pub struct VarDecl {
    pub name: String,
    pub ty: Type,
}

#[derive(Debug, Clone)]
pub struct AssocDecl {
    pub name: String,
    pub keys: Vec<Type>,
    pub value: Type,
}

#[derive(Debug, Clone)]
pub struct AggDecl {
    pub name: String,
    pub keys: Vec<Type>,
    pub func: AggFunc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggFunc {
    Count,
    Sum,
    Avg,
    Min,
    Max,
    Stddev,
    Quantize,
    /// `lquantize(v, low, high, step)`: the constant arguments.
    Lquantize {
        low: i64,
        high: i64,
        step: i64,
    },
    /// `llquantize(v, factor, low, high, steps)`.
    Llquantize {
        factor: i64,
        low: i64,
        high: i64,
        steps: i64,
    },
}

#[derive(Debug, Clone)]
pub enum Stmt {
    /// An expression evaluated for its side effects (assignments, `++`).
    Expr(Expr),
    If {
        cond: Expr,
        then: Vec<Stmt>,
        els: Vec<Stmt>,
        span: Span,
    },
    /// `printf(fmt, args…)`; `args[i].ty` decides signedness/width per conversion.
    Printf {
        format: Format,
        args: Vec<Expr>,
        span: Span,
    },
    /// `trace(expr)`.
    Trace {
        arg: Expr,
        span: Span,
    },
    /// `tracemem(buf, size[, dsize])` of copied-in memory: `size` bytes
    /// (a constant) at most, `dsize` when given and smaller.
    Tracemem {
        buf: Expr,
        size: u32,
        dsize: Option<Expr>,
        span: Span,
    },
    /// `printa([fmt,] @a, @b…)`.
    Printa {
        format: Option<Format>,
        aggs: Vec<AggId>,
        span: Span,
    },
    /// `exit(status)`.
    Exit {
        status: Expr,
        span: Span,
    },
    /// `@a[keys] = func(args)`: `args` are the non-constant arguments
    /// (the value; for avg/sum etc. one, for count none).
    AggUpdate {
        agg: AggId,
        keys: Vec<Expr>,
        args: Vec<Expr>,
        span: Span,
    },
    /// `clear(@a)`
    Clear {
        agg: AggId,
        span: Span,
    },
    /// `trunc(@a)` / `trunc(@a, n)`
    Trunc {
        agg: AggId,
        keep: Option<Expr>,
        span: Span,
    },
    /// `normalize(@a, n)` / `denormalize(@a)`
    Normalize {
        agg: AggId,
        factor: Option<Expr>,
        span: Span,
    },
    /// Destructive actions (only with `-w`): `system(fmt, args…)`.
    System {
        format: Format,
        args: Vec<Expr>,
        span: Span,
    },
    Raise {
        signal: Expr,
        span: Span,
    },
    Stop {
        span: Span,
    },
}

/// An assignable location.
#[derive(Debug, Clone)]
pub enum Place {
    Global(VarId),
    This(VarId),
    SelfVar(VarId),
    Assoc(AssocId, Vec<Expr>),
}

#[derive(Debug, Clone)]
pub struct Expr {
    pub kind: ExprKind,
    pub ty: Type,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum ExprKind {
    /// An integer constant (already folded), of `Expr::ty`.
    Int(i64),
    /// A string constant (escapes already decoded; bytes, no NUL).
    Str(Vec<u8>),
    /// `args[i]->member` or a record-backed built-in variable.
    Field(FieldSource),
    /// A built-in variable the runtime provides (not from the record).
    Builtin(Builtin),
    /// Reading a variable; unset variables read as 0 / "".
    Load(Place),
    /// `place = value` or, with `op`, `place op= value`. The value of the
    /// expression is the stored value (converted to the place's type).
    Assign {
        place: Place,
        op: Option<BinOp>,
        value: Box<Expr>,
    },
    /// `++x`, `x--` …: `delta` is +1/-1, `post` true for the suffix forms.
    IncDec {
        place: Place,
        delta: i64,
        post: bool,
    },
    Unary(UnOp, Box<Expr>),
    /// Arithmetic, bitwise, shift, comparison. `unsigned` says whether the
    /// operation (division, remainder, right shift, ordering comparison) is
    /// done on unsigned 64-bit values (C's usual arithmetic conversions).
    /// Comparisons of two strings compare bytes (`strcmp`).
    Binary {
        op: BinOp,
        unsigned: bool,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    /// `&&`, `||`, `^^` with short-circuit (`^^` evaluates both).
    Logical {
        op: LogicalOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    Ternary {
        cond: Box<Expr>,
        then: Box<Expr>,
        els: Box<Expr>,
    },
    /// Conversion to an integer type (truncate then extend).
    Cast(IntType, Box<Expr>),
    /// `tcp_state_string[i]`: an inline string table; out of range reads "".
    StringTable {
        entries: Vec<String>,
        index: Box<Expr>,
    },
    /// A D subroutine returning a value.
    Call(Func, Vec<Expr>),
    /// `copyinstr(addr[, len])` or `copyin(addr, len)`: user memory the
    /// probe's record carries, copied when the probe fired (see
    /// [`crate::plan`]).
    CopyIn(CopyIn),
    /// `stack([n])`, `ustack([n[, strsize]])`: the frames captured when the
    /// probe fired, at most `frames` (None: the stackframes/ustackframes
    /// option), found in the record's captures (`area`).
    Stack {
        user: bool,
        frames: Option<u32>,
        area: crate::catalog::CaptureArea,
    },
    /// `func(a)`, `mod(a)`, `usym(a)` …: the address, symbolised when printed.
    Symbol {
        kind: crate::types::Symbolic,
        addr: Box<Expr>,
    },
    /// An integer in copied-in memory (`this->s->sin_port`, `*(int *)p`):
    /// `int` at `offset` of the buffer `buf`.
    BufLoad {
        buf: Box<Expr>,
        offset: u32,
        int: IntType,
    },
    /// `&buf->member`: the member's bytes as a buffer of their own.
    BufSlice {
        buf: Box<Expr>,
        offset: u32,
        len: u32,
    },
    /// `alloca(n)`: `n` zero bytes, a buffer for `copyinto`.
    BufAlloc(u32),
    /// `stringof(buf)`: the bytes up to the first NUL.
    BufString(Box<Expr>),
    /// `inet_ntoa(buf)` (4 address bytes) or `inet_ntoa6(buf)` (16).
    BufInet {
        buf: Box<Expr>,
        v6: bool,
    },
}

/// One `copyin`/`copyinstr` call: its capture site and where in the record
/// captured memory is.
#[derive(Debug, Clone)]
pub struct CopyIn {
    /// The capture site (unique in the program, from 1): the record's
    /// captures are tagged with it.
    pub site: u16,
    pub kind: CopyKind,
    pub addr: Box<Expr>,
    /// copyinstr's optional bound, copyin's length.
    pub len: Option<Box<Expr>>,
    pub area: crate::catalog::CaptureArea,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyKind {
    /// copyinstr: a string, up to its NUL (at most `strsize` or `len`).
    Str,
    /// copyin: `len` bytes.
    Bytes,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnOp {
    Neg,
    Plus,
    Not,
    BitNot,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogicalOp {
    And,
    Or,
    Xor,
}

/// Built-in variables the runtime supplies from its own state rather than
/// from the event record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    /// Nanoseconds since an arbitrary origin (event time; capture time in replay).
    Timestamp,
    /// Nanoseconds since the epoch.
    WallTimestamp,
    ProbeProv,
    ProbeMod,
    ProbeFunc,
    ProbeName,
    /// Enabled probe ID of the clause.
    Epid,
    /// Probe ID.
    Id,
    /// `$target` (pid of `-c`/`-p`, else 0).
    Target,
}

/// D subroutines that return a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    Strlen,
    Strjoin,
    Substr,
    Index,
    Rindex,
    Strchr,
    Strrchr,
    Strstr,
    Strtok,
    Lltostr,
    Toupper,
    Tolower,
    InetNtoa,
    InetNtoa6,
    InetNtop,
    Ntohs,
    Ntohl,
    Htons,
    Htonl,
    Rand,
}
