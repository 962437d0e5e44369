//! Code generation for statements (actions) and whole clauses.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{types, InstBuilder};
use cranelift_module::{FuncId, Module};
use rdtrace_lang::format::Format;
use rdtrace_lang::typed::{Clause, Expr, Stmt};

use super::abi::Helper;
use super::ctx::{ArgKind, PrintfSite};
use super::expr::int_type;
use super::gen::{FnGen, R, STATUS_DONE, STATUS_SKIPPED};
use super::helpers as h;
use crate::error::RuntimeError;
use crate::firing::FaultKind;

impl FnGen<'_, '_, '_> {
    /// The clause body: predicate, then statements; returns a status.
    /// A long body runs as `parts` (functions compiled before this one,
    /// each running a run of its statements): calling them in order keeps
    /// every function Cranelift compiles small.
    pub fn clause(&mut self, clause: &Clause, parts: &[FuncId]) -> R<()> {
        self.predicate(clause)?;
        if parts.is_empty() {
            self.stmts(&clause.body)?;
        }
        for &part in parts {
            let f = self.env.module.declare_func_in_func(part, self.b.func);
            let (c, r) = (self.ctx, self.rec);
            let call = self.b.ins().call(f, &[c, r]);
            let st = self.b.inst_results(call)[0];
            // A fault in a part ends the clause with its status.
            let (stop, next) = (self.b.create_block(), self.b.create_block());
            let failed = self.b.ins().icmp_imm_s(IntCC::NotEqual, st, STATUS_DONE);
            self.b.ins().brif(failed, stop, &[], next, &[]);
            self.b.switch_to_block(stop);
            self.b.ins().return_(&[st]);
            self.b.switch_to_block(next);
        }
        let st = self.b.ins().iconst(types::I32, STATUS_DONE);
        self.b.ins().return_(&[st]);
        Ok(())
    }

    /// One part of a long clause body: `stmts`, numbered on from `action`.
    pub fn clause_part(&mut self, stmts: &[Stmt], action: u32) -> R<u32> {
        self.action = action;
        self.stmts(stmts)?;
        let st = self.b.ins().iconst(types::I32, STATUS_DONE);
        self.b.ins().return_(&[st]);
        Ok(self.action)
    }

    fn predicate(&mut self, clause: &Clause) -> R<()> {
        if let Some(pred) = &clause.predicate {
            self.action = 0;
            let p = self.expr(pred)?;
            let (skip, body) = (self.b.create_block(), self.b.create_block());
            let t = self.b.ins().icmp_imm_s(IntCC::NotEqual, p, 0);
            self.b.ins().brif(t, body, &[], skip, &[]);
            self.b.switch_to_block(skip);
            let st = self.b.ins().iconst(types::I32, STATUS_SKIPPED);
            self.b.ins().return_(&[st]);
            self.b.switch_to_block(body);
        }
        Ok(())
    }

    /// printf and system: a format site with its argument slots, handed to
    /// `helper`, which returns non-zero when the arguments do not fit.
    fn formatted(&mut self, helper: Helper, format: &Format, args: &[Expr]) -> R<()> {
        let kinds = args
            .iter()
            .map(|a| {
                if matches!(a.ty, rdtrace_lang::types::Type::Symbolic(_)) {
                    ArgKind::Symbol
                } else if a.ty.is_string() {
                    ArgKind::Str
                } else {
                    ArgKind::Int(int_type(&a.ty))
                }
            })
            .collect();
        let vals = args.iter().map(|a| self.expr(a)).collect::<R<Vec<_>>>()?;
        let site = self.env.sites.len();
        self.env.sites.push(PrintfSite::new(format.clone(), kinds));
        let arr = self.spill(&vals);
        let site = self.iconst(site as i64);
        let failed = self.call(helper, &[site, arr]);
        let f = self.b.ins().icmp_imm_s(IntCC::NotEqual, failed, 0);
        self.fault_if(f, FaultKind::BadPrintf);
        Ok(())
    }

    fn stmts(&mut self, stmts: &[Stmt]) -> R<()> {
        for s in stmts {
            self.stmt(s)?;
        }
        Ok(())
    }

    fn stmt(&mut self, s: &Stmt) -> R<()> {
        self.action += 1;
        match s {
            Stmt::Expr(e) => {
                self.expr(e)?;
            }
            Stmt::If {
                cond, then, els, ..
            } => {
                let c = self.expr(cond)?;
                let (tb, eb, done) = (
                    self.b.create_block(),
                    self.b.create_block(),
                    self.b.create_block(),
                );
                self.b.ins().brif(c, tb, &[], eb, &[]);
                self.b.switch_to_block(tb);
                self.stmts(then)?;
                self.b.ins().jump(done, &[]);
                self.b.switch_to_block(eb);
                self.stmts(els)?;
                self.b.ins().jump(done, &[]);
                self.b.switch_to_block(done);
            }
            Stmt::Printf { format, args, .. } => {
                self.formatted(Helper::Printf, format, args)?;
            }
            Stmt::Trace { arg, .. } => {
                let v = self.expr(arg)?;
                if let rdtrace_lang::types::Type::Symbolic(kind) = arg.ty {
                    let k = self.iconst(crate::symbols::code(kind));
                    self.call_void(Helper::TraceSymbolic, &[v, k]);
                } else if arg.ty.is_string() {
                    self.call_void(Helper::TraceStr, &[v]);
                } else {
                    let size = self.iconst(int_type(&arg.ty).size as i64);
                    self.call_void(Helper::TraceInt, &[v, size]);
                }
            }
            Stmt::Exit { status, .. } => {
                let v = self.expr(status)?;
                self.call_void(Helper::Exit, &[v]);
            }
            Stmt::Tracemem {
                buf, size, dsize, ..
            } => {
                let b = self.expr(buf)?;
                let n = self.iconst(i64::from(*size));
                let (d, has) = match dsize {
                    Some(d) => (self.expr(d)?, self.iconst(1)),
                    None => (self.iconst(0), self.iconst(0)),
                };
                self.call(Helper::Tracemem, &[b, n, d, has]);
            }
            Stmt::AggUpdate {
                agg, keys, args, ..
            } => {
                let decl = self.env.program.aggs.get(*agg).ok_or_else(|| {
                    RuntimeError::Invalid("aggregation index out of range".into())
                })?;
                if keys.len() != decl.keys.len() || keys.len() > h::MAX_KEYS {
                    return Err(RuntimeError::NotImplemented(format!(
                        "aggregation @{} with {} keys (at most {})",
                        decl.name,
                        keys.len(),
                        h::MAX_KEYS
                    )));
                }
                let kv = keys.iter().map(|k| self.expr(k)).collect::<R<Vec<_>>>()?;
                let vals = args.iter().map(|a| self.expr(a)).collect::<R<Vec<_>>>()?;
                let karr = self.spill(&kv);
                let value = match vals.first() {
                    Some(v) => *v,
                    None => self.iconst(0),
                };
                let incr = match vals.get(1) {
                    Some(v) => *v,
                    None => self.iconst(1),
                };
                let a = self.iconst(*agg as i64);
                self.call_void(Helper::AggUpdate, &[a, karr, value, incr]);
            }
            Stmt::Printa { format, aggs, .. } => {
                if aggs.is_empty() {
                    return Err(RuntimeError::Invalid(
                        "printa() without an aggregation".into(),
                    ));
                }
                let site = self.env.printa_sites.len();
                self.env.printa_sites.push((format.clone(), aggs.clone()));
                let site = self.iconst(site as i64);
                let failed = self.call(Helper::Printa, &[site]);
                let f = self.b.ins().icmp_imm_s(IntCC::NotEqual, failed, 0);
                self.fault_if(f, FaultKind::BadPrintf);
            }
            Stmt::Clear { agg, .. } => self.agg_op(*agg, 0, None)?,
            Stmt::Trunc { agg, keep, .. } => self.agg_op(*agg, 1, keep.as_ref())?,
            Stmt::Normalize { agg, factor, .. } => self.agg_op(*agg, 2, factor.as_ref())?,
            Stmt::System { format, args, .. } => {
                self.formatted(Helper::System, format, args)?;
            }
            Stmt::Raise { signal, .. } => {
                let v = self.expr(signal)?;
                let no = self.iconst(0);
                self.call_void(Helper::Raise, &[v, no]);
            }
            Stmt::Stop { .. } => {
                let (zero, yes) = (self.iconst(0), self.iconst(1));
                self.call_void(Helper::Raise, &[zero, yes]);
            }
        }
        Ok(())
    }

    fn agg_op(&mut self, agg: usize, op: i64, n: Option<&Expr>) -> R<()> {
        if agg >= self.env.program.aggs.len() {
            return Err(RuntimeError::Invalid(
                "aggregation index out of range".into(),
            ));
        }
        let (v, has) = match n {
            Some(e) => (self.expr(e)?, self.iconst(1)),
            None => (self.iconst(0), self.iconst(0)),
        };
        let (a, o) = (self.iconst(agg as i64), self.iconst(op));
        self.call_void(Helper::AggOp, &[a, o, v, has]);
        Ok(())
    }
}
