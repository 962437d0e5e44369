//! A small tree-walking interpreter of the typed program with the same
//! `fire()` contract as [`crate::CompiledProgram`]. It is the test oracle
//! for the JIT: both run on the same records and must print the same bytes.
//! It favours being obviously right over being fast.

use rdtrace_lang::catalog::FieldSource;
use rdtrace_lang::format::Format;
use rdtrace_lang::typed::{
    Builtin, Expr, ExprKind, Func, LogicalOp, Place, ProbeIndex, Program, Stmt, UnOp,
};
use rdtrace_lang::types::{IntType, Type};
use rdtrace_record::header_of;

use crate::aggs::Aggregations;
use crate::arith::{self, is_comparison, usual_unsigned};
use crate::deferred::Deferred;
use crate::error::RuntimeError;
use crate::firing::{
    self, ClauseOutcome, ClauseRunner, DriverInfo, Fault, FaultKind, FireContext, FireResult,
};
use crate::options::Options;
use crate::printf::{format_printf, PrintfArg};
use crate::state::{next_rand, DynValue, DynVars, KeyRef, ValueRef, RAND_SEED};
use crate::trace::{trace_int, trace_str};
use crate::usermem::Trap;
use crate::{inet, strfuncs};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Value {
    Int(i64),
    Str(Vec<u8>),
    /// Copied-in user memory (`Type::Buf`).
    Bytes(Vec<u8>),
}

impl Value {
    fn int(&self) -> i64 {
        match self {
            Value::Int(v) => *v,
            // A string or a buffer is a non-null pointer: true in a condition.
            Value::Str(_) | Value::Bytes(_) => 1,
        }
    }
    fn bytes(&self) -> &[u8] {
        match self {
            Value::Str(s) | Value::Bytes(s) => s,
            Value::Int(_) => &[],
        }
    }
    fn zero(ty: &Type) -> Value {
        match ty {
            Type::String => Value::Str(Vec::new()),
            Type::Buf(_) => Value::Bytes(Vec::new()),
            _ => Value::Int(0),
        }
    }
}

pub struct Interpreter {
    program: Program,
    info: DriverInfo,
    st: InterpState,
    buf: Vec<u8>,
}

struct InterpState {
    globals: Vec<Value>,
    this_outer: Vec<Value>,
    this_error: Vec<Value>,
    nested: bool,
    dynvars: DynVars,
    rand: u64,
    strsize: usize,
    quiet: bool,
    target: i64,
    wall_offset: i64,
    probe: ProbeIndex,
    saved_probe: ProbeIndex,
    /// 1-based index of the statement being run; 0 in the predicate.
    action: u32,
    exit: Option<i32>,
    aggs: Aggregations,
    strtok: (Vec<u8>, usize),
    /// Destructive actions the clause being run asked for.
    deferred: Vec<Deferred>,
}

type Eval<T> = Result<T, Trap>;

impl Interpreter {
    /// Accepts the same programs as the JIT (and refuses the same ones).
    pub fn new(program: &Program, opts: &Options) -> Result<Interpreter, RuntimeError> {
        // The compiled program's checks are the reference for what is supported.
        let jit = crate::CompiledProgram::new(program, opts)?;
        drop(jit);
        Ok(Interpreter {
            program: program.clone(),
            info: DriverInfo::new(program, opts.quiet, opts.flowindent),
            st: InterpState {
                globals: program.globals.iter().map(|v| Value::zero(&v.ty)).collect(),
                this_outer: program
                    .this_vars
                    .iter()
                    .map(|v| Value::zero(&v.ty))
                    .collect(),
                this_error: program
                    .this_vars
                    .iter()
                    .map(|v| Value::zero(&v.ty))
                    .collect(),
                nested: false,
                dynvars: DynVars::new(opts.dynvarsize, opts.strsize),
                rand: RAND_SEED,
                strsize: opts.strsize,
                quiet: opts.quiet,
                target: 0,
                wall_offset: 0,
                probe: 0,
                saved_probe: 0,
                action: 0,
                exit: None,
                aggs: Aggregations::new(&program.aggs, opts.aggsize, opts.aggsort)?.with_symbols(
                    crate::symbols::Symbols::new(
                        opts.stackframes,
                        opts.ustackframes,
                        opts.folded_stacks,
                    ),
                ),
                strtok: (Vec::new(), 0),
                deferred: Vec::new(),
            },
            buf: Vec::new(),
        })
    }

    pub fn fire(
        &mut self,
        probe: ProbeIndex,
        record: &[u8],
        ctx: &FireContext,
        out: &mut Vec<u8>,
        err: &mut Vec<u8>,
    ) -> FireResult {
        let mut runner = Runner {
            program: &self.program,
            st: &mut self.st,
        };
        firing::fire(
            &mut runner,
            &self.program,
            &self.info,
            probe,
            record,
            ctx,
            out,
            err,
            &mut self.buf,
        )
    }

    pub fn take_dynvar_drops(&mut self) -> u64 {
        self.st.dynvars.take_drops()
    }

    pub fn take_agg_drops(&mut self) -> Vec<(u32, u64)> {
        self.st.aggs.take_drops()
    }

    /// Sets `$target` once the traced process exists (`-c`, `-p`).
    pub fn set_target_pid(&mut self, pid: i64) {
        self.st.target = pid;
    }

    pub fn print_aggregations(&mut self, out: &mut Vec<u8>) {
        self.st.aggs.print_unprinted(out, &mut |_| {});
    }

    /// The same, handing `out` to `flush` every 64 KiB or so.
    pub fn print_aggregations_streaming(
        &mut self,
        out: &mut Vec<u8>,
        flush: &mut dyn FnMut(&mut Vec<u8>),
    ) {
        self.st.aggs.print_unprinted(out, flush);
    }
}

struct Runner<'a> {
    program: &'a Program,
    st: &'a mut InterpState,
}

impl ClauseRunner for Runner<'_> {
    fn begin_firing(&mut self, probe: ProbeIndex, record: &[u8], ctx: &FireContext, nested: bool) {
        let st = &mut *self.st;
        st.aggs.set_cpu(header_of(record).unwrap_or_default().cpu);
        let fresh: Vec<Value> = self
            .program
            .this_vars
            .iter()
            .map(|v| Value::zero(&v.ty))
            .collect();
        if nested {
            st.this_error = fresh;
            st.saved_probe = st.probe;
        } else {
            st.this_outer = fresh;
            st.strtok.1 = usize::MAX;
        }
        st.nested = nested;
        st.probe = probe;
        st.wall_offset = ctx.wall_offset_ns;
    }

    fn end_firing(&mut self, nested: bool) {
        if nested {
            self.st.nested = false;
            self.st.probe = self.st.saved_probe;
        }
    }

    fn run_clause(&mut self, clause: usize, record: &[u8], buf: &mut Vec<u8>) -> ClauseOutcome {
        let c = &self.program.clauses[clause];
        let mut ev = Evaluator {
            program: self.program,
            st: self.st,
            record,
            clause,
            out: buf,
        };
        ev.st.exit = None;
        ev.st.action = 0;
        if let Some(p) = &c.predicate {
            match ev.expr(p) {
                Ok(v) if v.int() == 0 => return ClauseOutcome::Skipped,
                Ok(_) => {}
                Err(t) => {
                    return ClauseOutcome::Faulted(Fault {
                        kind: t.kind,
                        action: 0,
                        addr: t.addr,
                    })
                }
            }
        }
        match ev.stmts(&c.body) {
            Ok(()) => ClauseOutcome::Done { exit: ev.st.exit },
            Err(t) => ClauseOutcome::Faulted(Fault {
                kind: t.kind,
                action: ev.st.action,
                addr: t.addr,
            }),
        }
    }

    fn take_deferred(&mut self, into: &mut Vec<Deferred>) {
        into.append(&mut self.st.deferred);
    }
}

struct Evaluator<'a, 'b> {
    program: &'a Program,
    st: &'b mut InterpState,
    record: &'b [u8],
    clause: usize,
    out: &'b mut Vec<u8>,
}

impl Evaluator<'_, '_> {
    /// printf and system: renders `format` with `args` into `into`, or into
    /// the clause's output when None.
    fn format(&mut self, format: &Format, args: &[Expr], into: Option<&mut Vec<u8>>) -> Eval<()> {
        let vals = self.operands(args)?;
        let texts: Vec<Vec<u8>> = args
            .iter()
            .zip(&vals)
            .map(|(a, v)| match (&a.ty, v) {
                (Type::Symbolic(_), Value::Int(id)) => {
                    self.st.aggs.symbols.symbol_text(*id).into_bytes()
                }
                _ => Vec::new(),
            })
            .collect();
        let pargs: Vec<PrintfArg> = args
            .iter()
            .zip(&vals)
            .zip(&texts)
            .map(|((a, v), text)| match v {
                _ if matches!(a.ty, Type::Symbolic(_)) => PrintfArg::Str(text),
                // The checker gives printf no buffers; as bytes if it did.
                Value::Str(s) | Value::Bytes(s) => PrintfArg::Str(s),
                Value::Int(i) => PrintfArg::Int(*i, a.ty.as_int().unwrap_or(IntType::INT64)),
            })
            .collect();
        let out = match into {
            Some(buf) => buf,
            None => &mut *self.out,
        };
        format_printf(out, format, &pargs).map_err(|_| FaultKind::BadPrintf.into())
    }

    fn stmts(&mut self, stmts: &[Stmt]) -> Eval<()> {
        for s in stmts {
            self.st.action += 1;
            match s {
                Stmt::Expr(e) => {
                    self.expr(e)?;
                }
                Stmt::If {
                    cond, then, els, ..
                } => {
                    if self.expr(cond)?.int() != 0 {
                        self.stmts(then)?;
                        // Keep numbering as the code generator does: the
                        // untaken branch's statements still own their indexes.
                        self.st.action += count(els);
                    } else {
                        self.st.action += count(then);
                        self.stmts(els)?;
                    }
                }
                Stmt::Printf { format, args, .. } => {
                    self.format(format, args, None)?;
                }
                Stmt::Trace { arg, .. } if matches!(arg.ty, Type::Symbolic(_)) => {
                    let Type::Symbolic(kind) = arg.ty else {
                        unreachable!("matched above")
                    };
                    let id = self.expr(arg)?.int();
                    self.st.aggs.symbols.print(id, kind, self.out);
                }
                Stmt::Trace { arg, .. } => match self.expr(arg)? {
                    Value::Str(s) | Value::Bytes(s) => trace_str(self.out, &s, self.st.quiet),
                    Value::Int(v) => trace_int(
                        self.out,
                        v,
                        arg.ty.as_int().unwrap_or(IntType::INT64).size,
                        self.st.quiet,
                    ),
                },
                Stmt::Tracemem {
                    buf, size, dsize, ..
                } => {
                    let b = self.expr(buf)?;
                    let d = match dsize {
                        Some(d) => Some(self.expr(d)?.int()),
                        None => None,
                    };
                    let n = crate::usermem::buf::tracemem_len(i64::from(*size), d);
                    let bytes = crate::usermem::buf::slice(b.bytes(), 0, n as u32)?;
                    crate::trace::tracemem(self.out, bytes);
                }
                Stmt::Exit { status, .. } => {
                    let v = self.expr(status)?.int();
                    self.st.exit = Some(v as i32);
                }
                Stmt::AggUpdate {
                    agg, keys, args, ..
                } => {
                    let kv = keys
                        .iter()
                        .map(|k| self.expr(k))
                        .collect::<Eval<Vec<_>>>()?;
                    let vals = args
                        .iter()
                        .map(|a| Ok(self.expr(a)?.int()))
                        .collect::<Eval<Vec<_>>>()?;
                    let k = self.key_refs(&kv);
                    self.st.aggs.update(
                        *agg,
                        &k,
                        vals.first().copied().unwrap_or(0),
                        vals.get(1).copied().unwrap_or(1),
                    );
                }
                Stmt::Printa { format, aggs, .. } => {
                    self.st
                        .aggs
                        .printa(aggs, format.as_ref(), self.out)
                        .map_err(|_| FaultKind::BadPrintf)?;
                }
                Stmt::Clear { agg, .. } => self.st.aggs.clear(*agg),
                Stmt::Trunc { agg, keep, .. } => {
                    let n = keep
                        .as_ref()
                        .map(|e| self.expr(e))
                        .transpose()?
                        .map(|v| v.int());
                    self.st.aggs.trunc(*agg, n)
                }
                Stmt::Normalize { agg, factor, .. } => {
                    let n = factor
                        .as_ref()
                        .map(|e| self.expr(e))
                        .transpose()?
                        .map(|v| v.int());
                    self.st.aggs.normalize(*agg, n)
                }
                Stmt::System { format, args, .. } => {
                    let mut cmd = Vec::new();
                    self.format(format, args, Some(&mut cmd))?;
                    self.st.deferred.push(Deferred::System {
                        at: self.out.len(),
                        cmd,
                    });
                }
                Stmt::Raise { signal, .. } => {
                    let sig = self.expr(signal)?.int() as i32;
                    self.st.deferred.push(Deferred::Raise(sig));
                }
                Stmt::Stop { .. } => self.st.deferred.push(Deferred::Stop),
            }
        }
        Ok(())
    }

    fn expr(&mut self, e: &Expr) -> Eval<Value> {
        Ok(match &e.kind {
            ExprKind::Int(v) => Value::Int(*v),
            ExprKind::Str(s) => Value::Str(s.clone()),
            ExprKind::Field(src) => self.field(src),
            ExprKind::Builtin(b) => self.builtin(*b),
            ExprKind::Load(place) => {
                let keys = self.keys(place)?;
                self.load(place, &keys)
            }
            ExprKind::Assign { place, op, value } => {
                let keys = self.keys(place)?;
                let ty = self.place_type(place);
                let v = match op {
                    None => self.expr(value)?,
                    Some(op) => {
                        let old = self.load(place, &keys).int();
                        let r = self.expr(value)?.int();
                        Value::Int(
                            arith::binop(*op, usual_unsigned(&ty, &value.ty), old, r)
                                .ok_or(FaultKind::DivZero)?,
                        )
                    }
                };
                self.store(place, &keys, &ty, v)
            }
            ExprKind::IncDec { place, delta, post } => {
                let keys = self.keys(place)?;
                let ty = self.place_type(place);
                let old = self.load(place, &keys).int();
                let new = self.store(place, &keys, &ty, Value::Int(old.wrapping_add(*delta)));
                if *post {
                    Value::Int(old)
                } else {
                    new
                }
            }
            ExprKind::Unary(op, x) => {
                let v = self.expr(x)?.int();
                Value::Int(match op {
                    UnOp::Neg => v.wrapping_neg(),
                    UnOp::Plus => v,
                    UnOp::BitNot => !v,
                    UnOp::Not => (v == 0) as i64,
                })
            }
            ExprKind::Binary {
                op,
                unsigned,
                lhs,
                rhs,
            } => {
                let l = self.expr(lhs)?;
                let r = self.expr(rhs)?;
                if lhs.ty.is_string() && rhs.ty.is_string() && is_comparison(*op) {
                    Value::Int(arith::compare(*op, l.bytes().cmp(r.bytes())))
                } else {
                    Value::Int(
                        arith::binop(*op, *unsigned, l.int(), r.int()).ok_or(FaultKind::DivZero)?,
                    )
                }
            }
            ExprKind::Logical { op, lhs, rhs } => {
                let l = self.expr(lhs)?.int() != 0;
                Value::Int(match op {
                    LogicalOp::And => l && self.expr(rhs)?.int() != 0,
                    LogicalOp::Or => l || self.expr(rhs)?.int() != 0,
                    LogicalOp::Xor => l != (self.expr(rhs)?.int() != 0),
                } as i64)
            }
            ExprKind::Ternary { cond, then, els } => {
                if self.expr(cond)?.int() != 0 {
                    self.expr(then)?
                } else {
                    self.expr(els)?
                }
            }
            ExprKind::Cast(it, x) => Value::Int(it.normalize(self.expr(x)?.int())),
            ExprKind::StringTable { entries, index } => {
                let i = self.expr(index)?.int() as u64;
                Value::Str(
                    entries
                        .get(i as usize)
                        .filter(|_| i < entries.len() as u64)
                        .map_or(Vec::new(), |s| s.as_bytes().to_vec()),
                )
            }
            ExprKind::Call(f, args) => self.call(*f, args)?,
            ExprKind::Stack { user, frames, area } => {
                let bytes = crate::symbols::captured_stack(self.record, *area, *user);
                let pid = crate::symbols::record_pid(self.record);
                Value::Int(
                    self.st
                        .aggs
                        .symbols
                        .stack(bytes, *user, pid, frames.unwrap_or(0)),
                )
            }
            ExprKind::Symbol { kind, addr } => {
                let a = self.expr(addr)?.int() as u64;
                let pid = crate::symbols::record_pid(self.record);
                Value::Int(self.st.aggs.symbols.symbol(*kind, pid, a))
            }
            ExprKind::CopyIn(c) => {
                let addr = self.expr(&c.addr)?.int() as u64;
                let len = match &c.len {
                    Some(l) => Some(self.expr(l)?.int()),
                    None => None,
                };
                let bytes = crate::usermem::copied(
                    self.record,
                    c.area,
                    c.site,
                    c.kind,
                    addr,
                    len,
                    self.st.strsize,
                )?;
                match c.kind {
                    rdtrace_lang::typed::CopyKind::Str => Value::Str(bytes.to_vec()),
                    rdtrace_lang::typed::CopyKind::Bytes => Value::Bytes(bytes.to_vec()),
                }
            }
            ExprKind::BufLoad { buf, offset, int } => {
                let b = self.expr(buf)?;
                Value::Int(crate::usermem::buf::load(b.bytes(), *offset, *int)?)
            }
            ExprKind::BufSlice { buf, offset, len } => {
                let b = self.expr(buf)?;
                Value::Bytes(crate::usermem::buf::slice(b.bytes(), *offset, *len)?.to_vec())
            }
            ExprKind::BufAlloc(n) => Value::Bytes(vec![0; *n as usize]),
            ExprKind::BufString(buf) => {
                let b = self.expr(buf)?;
                Value::Str(crate::usermem::buf::string(b.bytes(), self.st.strsize).to_vec())
            }
            ExprKind::BufInet { buf, v6 } => {
                let b = self.expr(buf)?;
                let mut out = Vec::new();
                crate::usermem::buf::inet(b.bytes(), *v6, &mut out)?;
                Value::Str(out)
            }
        })
    }

    fn field(&self, src: &FieldSource) -> Value {
        let r = self.record;
        match src {
            FieldSource::Load { offset, int } => {
                let o = *offset as usize;
                let mut b = [0u8; 8];
                b[..int.size as usize].copy_from_slice(&r[o..o + int.size as usize]);
                // Native-endian (little-endian hosts): the low bytes come first.
                let raw = i64::from_le_bytes(b);
                Value::Int(int.normalize(raw))
            }
            FieldSource::InetAddr { addr, version } => {
                let a: [u8; 16] = r[*addr as usize..*addr as usize + 16]
                    .try_into()
                    .unwrap_or([0; 16]);
                let mut out = Vec::new();
                inet::format_addr(&a, r[*version as usize], &mut out);
                Value::Str(self.bound(out))
            }
            FieldSource::Chars { offset, len } => {
                let bytes = &r[*offset as usize..(*offset + *len) as usize];
                let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
                Value::Str(self.bound(bytes[..end].to_vec()))
            }
            FieldSource::DataLoc { loc, base, max } => {
                let bytes = data_loc(r, *loc, *base, *max);
                let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
                Value::Str(self.bound(bytes[..end].to_vec()))
            }
            FieldSource::Const(v) => Value::Int(*v),
            FieldSource::Unavailable => Value::Int(0),
        }
    }

    fn bound(&self, mut s: Vec<u8>) -> Vec<u8> {
        s.truncate(self.st.strsize);
        s
    }

    fn builtin(&self, b: Builtin) -> Value {
        let p = &self.program.probes[self.st.probe];
        let ts = i64::from_ne_bytes(self.record[0..8].try_into().unwrap_or([0; 8]));
        match b {
            Builtin::Timestamp => Value::Int(ts),
            Builtin::WallTimestamp => Value::Int(ts.wrapping_add(self.st.wall_offset)),
            Builtin::ProbeProv => Value::Str(p.provider.as_bytes().to_vec()),
            Builtin::ProbeMod => Value::Str(p.module.as_bytes().to_vec()),
            Builtin::ProbeFunc => Value::Str(p.function.as_bytes().to_vec()),
            Builtin::ProbeName => Value::Str(p.name.as_bytes().to_vec()),
            Builtin::Epid => Value::Int(self.clause as i64 + 1),
            Builtin::Id => Value::Int(p.id as i64),
            Builtin::Target => Value::Int(self.st.target),
        }
    }

    fn place_type(&self, place: &Place) -> Type {
        let p = self.program;
        match place {
            Place::Global(i) => p.globals[*i].ty.clone(),
            Place::This(i) => p.this_vars[*i].ty.clone(),
            Place::SelfVar(i) => p.self_vars[*i].ty.clone(),
            Place::Assoc(i, _) => p.assocs[*i].value.clone(),
        }
    }

    fn keys(&mut self, place: &Place) -> Eval<Vec<Value>> {
        match place {
            Place::Assoc(_, keys) => keys.iter().map(|k| self.expr(k)).collect(),
            _ => Ok(Vec::new()),
        }
    }

    fn tid(&self) -> u64 {
        u64::from(header_of(self.record).unwrap_or_default().tid)
    }

    fn key_refs<'k>(&self, keys: &'k [Value]) -> Vec<KeyRef<'k>> {
        keys.iter()
            .map(|k| match k {
                Value::Int(v) => KeyRef::Int(*v),
                Value::Str(s) | Value::Bytes(s) => KeyRef::Str(&s[..s.len().min(self.st.strsize)]),
            })
            .collect()
    }

    fn load(&self, place: &Place, keys: &[Value]) -> Value {
        let ty = self.place_type(place);
        let from_dyn = |v: Option<&DynValue>| match v {
            Some(DynValue::Int(i)) => Value::Int(*i),
            Some(DynValue::Str(s)) => Value::Str(s.to_vec()),
            None => Value::zero(&ty),
        };
        match place {
            Place::Global(i) => self.st.globals[*i].clone(),
            Place::This(i) => self.this()[*i].clone(),
            Place::SelfVar(i) => from_dyn(self.st.dynvars.self_get(self.tid(), *i)),
            Place::Assoc(i, _) => from_dyn(self.st.dynvars.assoc_get(*i, &self.key_refs(keys))),
        }
    }

    fn this(&self) -> &Vec<Value> {
        if self.st.nested {
            &self.st.this_error
        } else {
            &self.st.this_outer
        }
    }

    /// Converts `v` to the place's type, stores it, returns the stored value.
    fn store(&mut self, place: &Place, keys: &[Value], ty: &Type, v: Value) -> Value {
        let v = match (ty.as_int(), v) {
            (Some(it), v) => Value::Int(it.normalize(v.int())),
            (None, Value::Str(s)) => Value::Str(self.bound(s)),
            (None, v) => v,
        };
        let vref = match &v {
            Value::Int(i) => ValueRef::Int(*i),
            // Buffers are kept in this-> only (the checker's rule).
            Value::Str(s) | Value::Bytes(s) => ValueRef::Str(s),
        };
        match place {
            Place::Global(i) => self.st.globals[*i] = v.clone(),
            Place::This(i) => {
                if self.st.nested {
                    self.st.this_error[*i] = v.clone()
                } else {
                    self.st.this_outer[*i] = v.clone()
                }
            }
            Place::SelfVar(i) => {
                let tid = self.tid();
                self.st.dynvars.self_set(tid, *i, vref)
            }
            Place::Assoc(i, _) => {
                let k = self.key_refs(keys);
                self.st.dynvars.assoc_set(*i, &k, vref)
            }
        }
        v
    }

    /// Evaluates operands left to right. In DTrace a string variable is a
    /// reference to its storage, so an operand that assigns a global or
    /// `this->` string has the variable's value once all operands are
    /// evaluated (`strjoin(g = "", g = probename)` joins probename twice),
    /// as the JIT passes the variable's buffer.
    fn operands(&mut self, args: &[Expr]) -> Eval<Vec<Value>> {
        let mut vals = args
            .iter()
            .map(|a| self.expr(a))
            .collect::<Eval<Vec<_>>>()?;
        for (a, v) in args.iter().zip(vals.iter_mut()) {
            if let ExprKind::Assign {
                place: place @ (Place::Global(_) | Place::This(_)),
                ..
            } = &a.kind
            {
                if a.ty.is_string() {
                    *v = self.load(place, &[]);
                }
            }
        }
        Ok(vals)
    }

    fn call(&mut self, f: Func, args: &[Expr]) -> Eval<Value> {
        if f == Func::Rand {
            return Ok(Value::Int(next_rand(&mut self.st.rand)));
        }
        let vals = self.operands(args)?;
        let s = |i: usize| vals[i].bytes();
        let n = |i: usize| vals[i].int();
        let opt = |i: usize| vals.get(i).map(Value::int);
        let strsize = self.st.strsize;
        let mut out = Vec::new();
        let find = |at: Option<usize>, text: &[u8]| at.map_or(Vec::new(), |o| text[o..].to_vec());
        Ok(match f {
            Func::Strlen => Value::Int(s(0).len().min(strsize) as i64),
            Func::Strjoin => {
                strfuncs::strjoin(s(0), s(1), strsize, &mut out);
                Value::Str(out)
            }
            Func::Substr => {
                strfuncs::substr(s(0), n(1), opt(2), strsize, &mut out);
                Value::Str(out)
            }
            Func::Index => Value::Int(strfuncs::index(s(0), s(1), opt(2))),
            Func::Rindex => Value::Int(strfuncs::rindex(s(0), s(1), opt(2))),
            Func::Strchr => Value::Str(find(strfuncs::strchr(s(0), n(1) as u8), s(0))),
            Func::Strrchr => Value::Str(find(strfuncs::strrchr(s(0), n(1) as u8), s(0))),
            Func::Strstr => Value::Str(find(strfuncs::strstr(s(0), s(1)), s(0))),
            Func::Strtok => {
                if !matches!(args[0].ty, Type::Int(_)) {
                    let text = s(0);
                    self.st.strtok.0 = text[..text.len().min(strsize)].to_vec();
                    self.st.strtok.1 = 0;
                }
                let (text, pos) = (&self.st.strtok.0, &mut self.st.strtok.1);
                Value::Str(
                    strfuncs::strtok_next(text, pos, s(1), strsize)
                        .map_or(Vec::new(), |t| t.to_vec()),
                )
            }
            Func::Lltostr => {
                strfuncs::lltostr(n(0), opt(1), &mut out);
                Value::Str(out)
            }
            Func::Toupper | Func::Tolower => {
                strfuncs::change_case(s(0), f == Func::Toupper, &mut out);
                Value::Str(out)
            }
            Func::InetNtoa => {
                inet::format_ipv4((n(0) as u32).to_ne_bytes(), &mut out);
                Value::Str(out)
            }
            Func::Ntohs | Func::Htons => Value::Int(strfuncs::swap16(n(0))),
            Func::Ntohl | Func::Htonl => Value::Int(strfuncs::swap32(n(0))),
            // Refused by Interpreter::new.
            Func::InetNtoa6 | Func::InetNtop | Func::Rand => Value::Int(0),
        })
        .map(|v| match v {
            Value::Str(s) => Value::Str(self.bound(s)),
            v => v,
        })
    }
}

/// Statements (at any depth) in a list, as numbered for action indexes.
fn count(stmts: &[Stmt]) -> u32 {
    stmts
        .iter()
        .map(|s| match s {
            Stmt::If { then, els, .. } => 1 + count(then) + count(els),
            _ => 1,
        })
        .sum()
}

/// The bytes of a `__data_loc` string of record `r` (see
/// [`FieldSource::DataLoc`]), kept within `max` bytes of `base`.
pub(crate) fn data_loc(r: &[u8], loc: u32, base: u32, max: u32) -> &[u8] {
    let word = r
        .get(loc as usize..loc as usize + 4)
        .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    let (off, len) = ((word & 0xffff) as usize, (word >> 16) as usize);
    let start = (base as usize + off).min(base as usize + max as usize);
    let end = (start + len).min(base as usize + max as usize).min(r.len());
    r.get(start.min(end)..end).unwrap_or(&[])
}
