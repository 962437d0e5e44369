//! Code generation for expressions. Every value is an i64: an integer, or
//! the address of a NUL-terminated string.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{types, InstBuilder, MemFlagsData, Value};
use rdtrace_lang::catalog::FieldSource;
use rdtrace_lang::typed::{BinOp, Builtin, Expr, ExprKind, Func, LogicalOp, Place, UnOp};
use rdtrace_lang::types::{IntType, Type};

use super::abi::Helper;
use super::ctx::FiringCtx;
use super::gen::{FnGen, R};
use super::helpers as h;
use crate::arith::{is_comparison, usual_unsigned};
use crate::error::RuntimeError;
use crate::firing::FaultKind;

/// A place resolved once (keys evaluated), for load-modify-store.
#[derive(Clone, Copy)]
enum PlaceRef {
    /// A fixed slot: base pointer's offset in the context, slot index.
    Slot {
        base: usize,
        index: usize,
    },
    SelfVar(usize),
    Assoc {
        assoc: usize,
        keys: Value,
    },
}

impl FnGen<'_, '_, '_> {
    pub fn expr(&mut self, e: &Expr) -> R<Value> {
        Ok(match &e.kind {
            ExprKind::Int(v) => self.iconst(*v),
            ExprKind::Str(s) => {
                let p = self.env.interned.str_ptr(s);
                self.iconst(p)
            }
            ExprKind::Field(src) => self.field(src)?,
            ExprKind::Builtin(b) => self.builtin(*b),
            ExprKind::Load(place) => {
                let p = self.resolve(place)?;
                self.load(p)
            }
            ExprKind::Assign { place, op, value } => self.assign(place, *op, value)?,
            ExprKind::IncDec { place, delta, post } => self.incdec(place, *delta, *post)?,
            ExprKind::Unary(op, x) => {
                let v = self.expr(x)?;
                match op {
                    UnOp::Neg => self.b.ins().ineg(v),
                    UnOp::Plus => v,
                    UnOp::BitNot => self.b.ins().bnot(v),
                    UnOp::Not => {
                        let c = self.b.ins().icmp_imm_s(IntCC::Equal, v, 0);
                        self.bool_to_i64(c)
                    }
                }
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
                    let ord = self.call(Helper::Strcmp, &[l, r]);
                    let zero = self.iconst(0);
                    self.compare(*op, false, ord, zero)
                } else {
                    self.binop(*op, *unsigned, l, r)
                }
            }
            ExprKind::Logical { op, lhs, rhs } => self.logical(*op, lhs, rhs)?,
            ExprKind::Ternary { cond, then, els } => {
                let c = self.expr(cond)?;
                let result = self.b.declare_var(types::I64);
                let (tb, eb, done) = (
                    self.b.create_block(),
                    self.b.create_block(),
                    self.b.create_block(),
                );
                self.b.ins().brif(c, tb, &[], eb, &[]);
                self.b.switch_to_block(tb);
                let t = self.expr(then)?;
                self.b.def_var(result, t);
                self.b.ins().jump(done, &[]);
                self.b.switch_to_block(eb);
                let f = self.expr(els)?;
                self.b.def_var(result, f);
                self.b.ins().jump(done, &[]);
                self.b.switch_to_block(done);
                self.b.use_var(result)
            }
            ExprKind::Cast(it, x) => {
                let v = self.expr(x)?;
                self.normalize(v, *it)
            }
            ExprKind::StringTable { entries, index } => {
                let base = self.env.interned.table(entries);
                let i = self.expr(index)?;
                let n = self.iconst(entries.len() as i64);
                let inside = self.b.ins().icmp(IntCC::UnsignedLessThan, i, n);
                let i = self.b.ins().select(inside, i, n);
                let off = self.b.ins().ishl_imm_u(i, 3);
                let base = self.iconst(base);
                let addr = self.b.ins().iadd(base, off);
                self.b
                    .ins()
                    .load(types::I64, MemFlagsData::trusted(), addr, 0)
            }
            ExprKind::Call(f, args) => self.call_func(*f, args)?,
            ExprKind::BufLoad { buf, offset, int } => {
                let b = self.expr(buf)?;
                let o = self.iconst(i64::from(*offset));
                // Size in the low 3 bits (0 for 8), 8 when signed.
                let code = i64::from(int.size & 7) | if int.signed { 8 } else { 0 };
                let k = self.iconst(code);
                // A read past the copied bytes faults in the helper.
                self.call(Helper::BufLoad, &[b, o, k])
            }
            ExprKind::BufSlice { buf, offset, len } => {
                let b = self.expr(buf)?;
                let (o, n) = (
                    self.iconst(i64::from(*offset)),
                    self.iconst(i64::from(*len)),
                );
                self.call(Helper::BufSlice, &[b, o, n])
            }
            ExprKind::BufAlloc(n) => {
                let n = self.iconst(i64::from(*n));
                self.call(Helper::BufAlloc, &[n])
            }
            ExprKind::BufString(buf) => {
                let b = self.expr(buf)?;
                self.call(Helper::BufString, &[b])
            }
            ExprKind::BufInet { buf, v6 } => {
                let b = self.expr(buf)?;
                let v = self.iconst(i64::from(*v6));
                self.call(Helper::BufInet, &[b, v])
            }
            ExprKind::Stack { user, frames, area } => {
                let area = self.iconst((i64::from(area.count_at) << 32) | i64::from(area.data_at));
                let user = self.iconst(i64::from(*user));
                let frames = self.iconst(i64::from(frames.unwrap_or(0)));
                self.call(Helper::Stack, &[self.rec, area, user, frames])
            }
            ExprKind::Symbol { kind, addr } => {
                let a = self.expr(addr)?;
                let k = self.iconst(crate::symbols::code(*kind));
                self.call(Helper::Symbol, &[self.rec, k, a])
            }
            ExprKind::CopyIn(c) => {
                let addr = self.expr(&c.addr)?;
                let (len, has_len) = match &c.len {
                    Some(l) => (self.expr(l)?, 4),
                    None => (self.iconst(0), 0),
                };
                let kind = match c.kind {
                    rdtrace_lang::typed::CopyKind::Str => 1,
                    rdtrace_lang::typed::CopyKind::Bytes => 2,
                };
                let site = self.iconst(i64::from(c.site));
                let area =
                    self.iconst((i64::from(c.area.count_at) << 32) | i64::from(c.area.data_at));
                let mode = self.iconst(kind | has_len);
                self.call(Helper::CopyIn, &[self.rec, site, area, mode, addr, len])
            }
        })
    }

    fn field(&mut self, src: &FieldSource) -> R<Value> {
        Ok(match src {
            FieldSource::Load { offset, int } => {
                let ty = match int.size {
                    1 => types::I8,
                    2 => types::I16,
                    4 => types::I32,
                    8 => types::I64,
                    n => return Err(RuntimeError::Invalid(format!("field of {n} bytes"))),
                };
                let v = self
                    .b
                    .ins()
                    .load(ty, MemFlagsData::new(), self.rec, *offset as i32);
                match (int.size, int.signed) {
                    (8, _) => v,
                    (_, true) => self.b.ins().sextend(types::I64, v),
                    (_, false) => self.b.ins().uextend(types::I64, v),
                }
            }
            FieldSource::InetAddr { addr, version } => {
                let (a, v) = (self.iconst(*addr as i64), self.iconst(*version as i64));
                self.call(Helper::Inet, &[self.rec, a, v])
            }
            FieldSource::Chars { offset, len } => {
                let (o, n) = (self.iconst(*offset as i64), self.iconst(*len as i64));
                self.call(Helper::Chars, &[self.rec, o, n])
            }
            FieldSource::DataLoc { loc, base, max } => {
                let (l, b, m) = (
                    self.iconst(*loc as i64),
                    self.iconst(*base as i64),
                    self.iconst(*max as i64),
                );
                self.call(Helper::DataLoc, &[self.rec, l, b, m])
            }
            FieldSource::Const(v) => self.iconst(*v),
            FieldSource::Unavailable => {
                return Err(RuntimeError::Invalid("use of an unavailable field".into()))
            }
        })
    }

    fn builtin(&mut self, b: Builtin) -> Value {
        let strs = std::mem::offset_of!(FiringCtx, probe_strs);
        match b {
            Builtin::Timestamp => self
                .b
                .ins()
                .load(types::I64, MemFlagsData::new(), self.rec, 0),
            Builtin::WallTimestamp => {
                let ts = self
                    .b
                    .ins()
                    .load(types::I64, MemFlagsData::new(), self.rec, 0);
                let off = self.ctx_load(std::mem::offset_of!(FiringCtx, wall_offset));
                self.b.ins().iadd(ts, off)
            }
            Builtin::ProbeProv => self.ctx_load(strs),
            Builtin::ProbeMod => self.ctx_load(strs + 8),
            Builtin::ProbeFunc => self.ctx_load(strs + 16),
            Builtin::ProbeName => self.ctx_load(strs + 24),
            Builtin::Epid => self.iconst(self.clause as i64 + 1),
            Builtin::Id => self.ctx_load(std::mem::offset_of!(FiringCtx, probe_id)),
            Builtin::Target => self.ctx_load(std::mem::offset_of!(FiringCtx, target_pid)),
        }
    }

    pub fn binop(&mut self, op: BinOp, unsigned: bool, l: Value, r: Value) -> Value {
        let ins = self.b.ins();
        match op {
            BinOp::Add => ins.iadd(l, r),
            BinOp::Sub => ins.isub(l, r),
            BinOp::Mul => ins.imul(l, r),
            BinOp::BitAnd => ins.band(l, r),
            BinOp::BitOr => ins.bor(l, r),
            BinOp::BitXor => ins.bxor(l, r),
            BinOp::Shl => ins.ishl(l, r),
            BinOp::Shr if unsigned => ins.ushr(l, r),
            BinOp::Shr => ins.sshr(l, r),
            BinOp::Div | BinOp::Rem => self.divide(op == BinOp::Div, unsigned, l, r),
            _ => self.compare(op, unsigned, l, r),
        }
    }

    /// Division with D's runtime check for zero; signed INT64_MIN / -1
    /// wraps (the hardware would trap).
    fn divide(&mut self, quotient: bool, unsigned: bool, l: Value, r: Value) -> Value {
        self.fault_if_zero(r, FaultKind::DivZero);
        if unsigned {
            return if quotient {
                self.b.ins().udiv(l, r)
            } else {
                self.b.ins().urem(l, r)
            };
        }
        let minus_one = self.b.ins().icmp_imm_s(IntCC::Equal, r, -1);
        let one = self.iconst(1);
        let safe = self.b.ins().select(minus_one, one, r);
        if quotient {
            let q = self.b.ins().sdiv(l, safe);
            let neg = self.b.ins().ineg(l);
            self.b.ins().select(minus_one, neg, q)
        } else {
            let m = self.b.ins().srem(l, safe);
            let zero = self.iconst(0);
            self.b.ins().select(minus_one, zero, m)
        }
    }

    fn compare(&mut self, op: BinOp, unsigned: bool, l: Value, r: Value) -> Value {
        let cc = match (op, unsigned) {
            (BinOp::Eq, _) => IntCC::Equal,
            (BinOp::Ne, _) => IntCC::NotEqual,
            (BinOp::Lt, false) => IntCC::SignedLessThan,
            (BinOp::Le, false) => IntCC::SignedLessThanOrEqual,
            (BinOp::Gt, false) => IntCC::SignedGreaterThan,
            (BinOp::Ge, false) => IntCC::SignedGreaterThanOrEqual,
            (BinOp::Lt, true) => IntCC::UnsignedLessThan,
            (BinOp::Le, true) => IntCC::UnsignedLessThanOrEqual,
            (BinOp::Gt, true) => IntCC::UnsignedGreaterThan,
            _ => IntCC::UnsignedGreaterThanOrEqual,
        };
        let c = self.b.ins().icmp(cc, l, r);
        self.bool_to_i64(c)
    }

    fn logical(&mut self, op: LogicalOp, lhs: &Expr, rhs: &Expr) -> R<Value> {
        let l = self.expr(lhs)?;
        let lt = self.b.ins().icmp_imm_s(IntCC::NotEqual, l, 0);
        if op == LogicalOp::Xor {
            let r = self.expr(rhs)?;
            let rt = self.b.ins().icmp_imm_s(IntCC::NotEqual, r, 0);
            let x = self.b.ins().bxor(lt, rt);
            return Ok(self.bool_to_i64(x));
        }
        let result = self.b.declare_var(types::I64);
        let short = self.iconst((op == LogicalOp::Or) as i64);
        self.b.def_var(result, short);
        let (rhs_block, done) = (self.b.create_block(), self.b.create_block());
        match op {
            LogicalOp::And => self.b.ins().brif(lt, rhs_block, &[], done, &[]),
            _ => self.b.ins().brif(lt, done, &[], rhs_block, &[]),
        };
        self.b.switch_to_block(rhs_block);
        let r = self.expr(rhs)?;
        let rt = self.b.ins().icmp_imm_s(IntCC::NotEqual, r, 0);
        let rv = self.bool_to_i64(rt);
        self.b.def_var(result, rv);
        self.b.ins().jump(done, &[]);
        self.b.switch_to_block(done);
        Ok(self.b.use_var(result))
    }

    fn place_type(&self, place: &Place) -> Type {
        let p = self.env.program;
        match place {
            Place::Global(i) => p.globals[*i].ty.clone(),
            Place::This(i) => p.this_vars[*i].ty.clone(),
            Place::SelfVar(i) => p.self_vars[*i].ty.clone(),
            Place::Assoc(i, _) => p.assocs[*i].value.clone(),
        }
    }

    fn resolve(&mut self, place: &Place) -> R<PlaceRef> {
        let p = self.env.program;
        let bad = || RuntimeError::Invalid("variable index out of range".into());
        Ok(match place {
            Place::Global(i) => {
                p.globals.get(*i).ok_or_else(bad)?;
                PlaceRef::Slot {
                    base: std::mem::offset_of!(FiringCtx, global_slots),
                    index: *i,
                }
            }
            Place::This(i) => {
                p.this_vars.get(*i).ok_or_else(bad)?;
                PlaceRef::Slot {
                    base: std::mem::offset_of!(FiringCtx, this_slots),
                    index: *i,
                }
            }
            Place::SelfVar(i) => {
                p.self_vars.get(*i).ok_or_else(bad)?;
                PlaceRef::SelfVar(*i)
            }
            Place::Assoc(i, keys) => {
                let decl = p.assocs.get(*i).ok_or_else(bad)?;
                if keys.len() != decl.keys.len() || keys.len() > h::MAX_KEYS {
                    return Err(RuntimeError::NotImplemented(format!(
                        "associative array '{}' with {} keys (at most {})",
                        decl.name,
                        keys.len(),
                        h::MAX_KEYS
                    )));
                }
                let vals = keys.iter().map(|k| self.expr(k)).collect::<R<Vec<_>>>()?;
                let keys = self.spill(&vals);
                PlaceRef::Assoc { assoc: *i, keys }
            }
        })
    }

    fn load(&mut self, p: PlaceRef) -> Value {
        match p {
            PlaceRef::Slot { base, index } => {
                let slots = self.ctx_load(base);
                self.b
                    .ins()
                    .load(types::I64, MemFlagsData::trusted(), slots, 8 * index as i32)
            }
            PlaceRef::SelfVar(i) => {
                let v = self.iconst(i as i64);
                self.call(Helper::SelfLoad, &[v])
            }
            PlaceRef::Assoc { assoc, keys } => {
                let a = self.iconst(assoc as i64);
                self.call(Helper::AssocLoad, &[a, keys])
            }
        }
    }

    /// Stores `v` (already converted to the place's type); returns the
    /// value the assignment expression has.
    fn store(&mut self, p: PlaceRef, ty: &Type, v: Value) -> Value {
        match p {
            PlaceRef::Slot { base, index } => {
                let slots = self.ctx_load(base);
                if ty.is_string() {
                    let buf = self.b.ins().load(
                        types::I64,
                        MemFlagsData::trusted(),
                        slots,
                        8 * index as i32,
                    );
                    self.call(Helper::StrcpyVar, &[buf, v])
                } else {
                    self.b
                        .ins()
                        .store(MemFlagsData::trusted(), v, slots, 8 * index as i32);
                    v
                }
            }
            PlaceRef::SelfVar(i) => {
                let var = self.iconst(i as i64);
                self.call(Helper::SelfStore, &[var, v])
            }
            PlaceRef::Assoc { assoc, keys } => {
                let a = self.iconst(assoc as i64);
                self.call(Helper::AssocStore, &[a, keys, v])
            }
        }
    }

    fn convert(&mut self, v: Value, ty: &Type) -> Value {
        match ty.as_int() {
            Some(it) => self.normalize(v, it),
            None => v,
        }
    }

    fn assign(&mut self, place: &Place, op: Option<BinOp>, value: &Expr) -> R<Value> {
        let ty = self.place_type(place);
        let p = self.resolve(place)?;
        let v = match op {
            None => self.expr(value)?,
            Some(op) => {
                let old = self.load(p);
                let r = self.expr(value)?;
                self.binop(op, usual_unsigned(&ty, &value.ty), old, r)
            }
        };
        let v = self.convert(v, &ty);
        Ok(self.store(p, &ty, v))
    }

    fn incdec(&mut self, place: &Place, delta: i64, post: bool) -> R<Value> {
        let ty = self.place_type(place);
        let p = self.resolve(place)?;
        let old = self.load(p);
        let new = self.b.ins().iadd_imm_s(old, delta);
        let new = self.convert(new, &ty);
        self.store(p, &ty, new);
        Ok(if post { old } else { new })
    }

    fn call_func(&mut self, f: Func, args: &[Expr]) -> R<Value> {
        let unsupported = |what: &str| Err(RuntimeError::NotImplemented(what.to_string()));
        let arity = |lo: usize, hi: usize| -> R<()> {
            if args.len() < lo || args.len() > hi {
                return Err(RuntimeError::Invalid(format!(
                    "{f:?} with {} arguments",
                    args.len()
                )));
            }
            Ok(())
        };
        match f {
            Func::InetNtoa6 | Func::InetNtop => {
                return unsupported("inet_ntoa6()/inet_ntop() on addresses in memory")
            }
            Func::Rand => {
                arity(0, 0)?;
                return Ok(self.call(Helper::Rand, &[]));
            }
            _ => {}
        }
        let vals = args.iter().map(|a| self.expr(a)).collect::<R<Vec<_>>>()?;
        let opt = |g: &mut Self, i: usize| -> (Value, Value) {
            match vals.get(i) {
                Some(v) => (*v, g.iconst(1)),
                None => (g.iconst(0), g.iconst(0)),
            }
        };
        let r = match f {
            Func::Strlen => {
                arity(1, 1)?;
                Some(self.call(Helper::Strlen, &[vals[0]]))
            }
            Func::Strjoin => {
                arity(2, 2)?;
                Some(self.call(Helper::Strjoin, &[vals[0], vals[1]]))
            }
            Func::Substr => {
                arity(2, 3)?;
                let (len, has) = opt(self, 2);
                Some(self.call(Helper::Substr, &[vals[0], vals[1], len, has]))
            }
            Func::Index | Func::Rindex => {
                arity(2, 3)?;
                let (start, has) = opt(self, 2);
                let rev = self.iconst((f == Func::Rindex) as i64);
                Some(self.call(Helper::Index, &[vals[0], vals[1], start, has, rev]))
            }
            Func::Strchr | Func::Strrchr | Func::Strstr => {
                arity(2, 2)?;
                Some(match f {
                    Func::Strstr => self.call(Helper::Strstr, &[vals[0], vals[1]]),
                    _ => {
                        let rev = self.iconst((f == Func::Strrchr) as i64);
                        self.call(Helper::Strchr, &[vals[0], vals[1], rev])
                    }
                })
            }
            Func::Strtok => {
                arity(2, 2)?;
                Some(self.call(Helper::Strtok, &[vals[0], vals[1]]))
            }
            Func::Lltostr => {
                arity(1, 2)?;
                let (base, has) = opt(self, 1);
                Some(self.call(Helper::Lltostr, &[vals[0], base, has]))
            }
            Func::Toupper | Func::Tolower => {
                arity(1, 1)?;
                let up = self.iconst((f == Func::Toupper) as i64);
                Some(self.call(Helper::Case, &[vals[0], up]))
            }
            Func::InetNtoa => {
                arity(1, 1)?;
                Some(self.call(Helper::InetNtoa, &[vals[0]]))
            }
            Func::Ntohs | Func::Htons => {
                arity(1, 1)?;
                let n = self.b.ins().ireduce(types::I16, vals[0]);
                let s = self.b.ins().bswap(n);
                Some(self.b.ins().uextend(types::I64, s))
            }
            Func::Ntohl | Func::Htonl => {
                arity(1, 1)?;
                let n = self.b.ins().ireduce(types::I32, vals[0]);
                let s = self.b.ins().bswap(n);
                Some(self.b.ins().uextend(types::I64, s))
            }
            Func::InetNtoa6 | Func::InetNtop | Func::Rand => None,
        };
        r.ok_or_else(|| RuntimeError::Invalid(format!("{f:?}")))
    }
}

/// The integer type of an expression, for narrowing and printing.
pub(crate) fn int_type(ty: &Type) -> IntType {
    ty.as_int().unwrap_or(IntType::INT64)
}
