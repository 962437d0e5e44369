//! Builders for hand-made typed programs and event records, shared by the
//! runtime's JIT tests.
#![allow(dead_code)]

use rdtrace_lang::catalog::{FieldSource, ProbeKind};
use rdtrace_lang::format;
use rdtrace_lang::span::Span;
use rdtrace_lang::typed::*;
use rdtrace_lang::types::{IntType, Type};
use rdtrace_probes::event::EventHeader;
use rdtrace_runtime::{CompiledProgram, FireContext, Interpreter, Options};

pub const HDR: u32 = std::mem::size_of::<EventHeader>() as u32;

/// `src` checked against the full catalog (a test's script must compile).
pub fn compile(src: &str) -> Program {
    rdtrace_lang::compile(
        "t.d",
        src,
        &rdtrace_probes::catalog(),
        &rdtrace_lang::CheckOptions::default(),
    )
    .unwrap_or_else(|e| panic!("{src}: {}", e.render()))
}

pub fn e(kind: ExprKind, ty: Type) -> Expr {
    Expr {
        kind,
        ty,
        span: Span::default(),
    }
}
pub fn int(v: i64) -> Expr {
    e(ExprKind::Int(v), Type::Int(IntType::INT))
}
pub fn i64c(v: i64) -> Expr {
    e(ExprKind::Int(v), Type::Int(IntType::INT64))
}
pub fn s(v: &str) -> Expr {
    e(ExprKind::Str(v.as_bytes().to_vec()), Type::String)
}
/// An integer member at `offset` of the record.
pub fn field(offset: u32, it: IntType) -> Expr {
    e(
        ExprKind::Field(FieldSource::Load { offset, int: it }),
        Type::Int(it),
    )
}
pub fn inet(addr: u32, version: u32) -> Expr {
    e(
        ExprKind::Field(FieldSource::InetAddr { addr, version }),
        Type::String,
    )
}
pub fn chars(offset: u32, len: u32) -> Expr {
    e(
        ExprKind::Field(FieldSource::Chars { offset, len }),
        Type::String,
    )
}
pub fn builtin(b: Builtin, ty: Type) -> Expr {
    e(ExprKind::Builtin(b), ty)
}
/// `cpu` as the catalog's layouts provide it (header field).
pub fn cpu() -> Expr {
    field(std::mem::offset_of!(EventHeader, cpu) as u32, IntType::UINT)
}
pub fn bin(op: BinOp, unsigned: bool, l: Expr, r: Expr, ty: Type) -> Expr {
    e(
        ExprKind::Binary {
            op,
            unsigned,
            lhs: Box::new(l),
            rhs: Box::new(r),
        },
        ty,
    )
}
pub fn cmp(op: BinOp, unsigned: bool, l: Expr, r: Expr) -> Expr {
    bin(op, unsigned, l, r, Type::Int(IntType::INT))
}
pub fn ternary(c: Expr, t: Expr, f: Expr) -> Expr {
    let ty = t.ty.clone();
    e(
        ExprKind::Ternary {
            cond: Box::new(c),
            then: Box::new(t),
            els: Box::new(f),
        },
        ty,
    )
}
pub fn load(place: Place, ty: Type) -> Expr {
    e(ExprKind::Load(place), ty)
}
pub fn assign(place: Place, value: Expr, ty: Type) -> Expr {
    e(
        ExprKind::Assign {
            place,
            op: None,
            value: Box::new(value),
        },
        ty,
    )
}
pub fn call(f: Func, args: Vec<Expr>, ty: Type) -> Expr {
    e(ExprKind::Call(f, args), ty)
}

pub fn printf(fmt: &str, args: Vec<Expr>) -> Stmt {
    Stmt::Printf {
        format: format::parse(fmt.as_bytes()).expect("format"),
        args,
        span: Span::default(),
    }
}
pub fn trace(arg: Expr) -> Stmt {
    Stmt::Trace {
        arg,
        span: Span::default(),
    }
}
pub fn exit(v: i64) -> Stmt {
    Stmt::Exit {
        status: int(v),
        span: Span::default(),
    }
}
pub fn expr(x: Expr) -> Stmt {
    Stmt::Expr(x)
}

pub fn var(name: &str, ty: Type) -> VarDecl {
    VarDecl {
        name: name.into(),
        ty,
    }
}

pub fn probe(id: u32, provider: &str, function: &str, name: &str, kind: ProbeKind) -> EnabledProbe {
    EnabledProbe {
        id,
        provider: provider.into(),
        module: String::new(),
        function: function.into(),
        name: name.into(),
        kind,
    }
}

pub fn clause(
    index: usize,
    probes: Vec<ProbeIndex>,
    predicate: Option<Expr>,
    body: Vec<Stmt>,
) -> Clause {
    Clause {
        index,
        span: Span::default(),
        probes,
        predicate,
        body,
    }
}

/// A program over `probes` with `clauses`; variables are added by the caller.
pub fn program(probes: Vec<EnabledProbe>, clauses: Vec<Clause>) -> Program {
    Program {
        options: Vec::new(),
        probes,
        clauses,
        globals: Vec::new(),
        this_vars: Vec::new(),
        self_vars: Vec::new(),
        assocs: Vec::new(),
        aggs: Vec::new(),
        matched_per_source: Vec::new(),
        warnings: Vec::new(),
    }
}

/// A record: header (probe id, cpu, tid …) followed by `payload`.
pub fn record(probe_id: u32, cpu: u32, tid: u32, payload: &[u8]) -> Vec<u8> {
    let h = EventHeader {
        ts_ns: 1_000,
        probe: probe_id,
        cpu,
        pid: tid,
        tid,
        comm: *b"sshd\0\0\0\0\0\0\0\0\0\0\0\0",
        ..Default::default()
    };
    let mut r = vec![0u8; HDR as usize];
    // SAFETY: EventHeader is repr(C) plain data.
    let bytes =
        unsafe { std::slice::from_raw_parts(&h as *const EventHeader as *const u8, HDR as usize) };
    r.copy_from_slice(bytes);
    r.extend_from_slice(payload);
    r
}

pub fn quiet() -> Options {
    Options {
        quiet: true,
        ..Default::default()
    }
}

/// Output of one firing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fired {
    pub out: String,
    pub err: String,
    pub exit: Option<i32>,
}

pub fn fire_jit(p: &mut CompiledProgram, probe: ProbeIndex, rec: &[u8]) -> Fired {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let r = p.fire(
        probe,
        rec,
        &FireContext { wall_offset_ns: 0 },
        &mut out,
        &mut err,
    );
    Fired {
        out: String::from_utf8_lossy(&out).into(),
        err: String::from_utf8_lossy(&err).into(),
        exit: r.exit,
    }
}

pub fn fire_interp(p: &mut Interpreter, probe: ProbeIndex, rec: &[u8]) -> Fired {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let r = p.fire(
        probe,
        rec,
        &FireContext { wall_offset_ns: 0 },
        &mut out,
        &mut err,
    );
    Fired {
        out: String::from_utf8_lossy(&out).into(),
        err: String::from_utf8_lossy(&err).into(),
        exit: r.exit,
    }
}

/// Fires on both engines, asserts they agree, returns the JIT's output.
pub fn fire_both(
    jit: &mut CompiledProgram,
    interp: &mut Interpreter,
    probe: ProbeIndex,
    rec: &[u8],
) -> Fired {
    let a = fire_jit(jit, probe, rec);
    let b = fire_interp(interp, probe, rec);
    assert_eq!(a, b, "JIT and interpreter disagree");
    a
}

pub fn both(p: &Program, opts: &Options) -> (CompiledProgram, Interpreter) {
    (
        CompiledProgram::new(p, opts).expect("compile"),
        Interpreter::new(p, opts).expect("interp"),
    )
}

pub const I: fn(IntType) -> Type = Type::Int;
