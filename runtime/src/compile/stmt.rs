//! Code generation for statements (actions) and whole clauses.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{types, InstBuilder};
use rdtrace_lang::typed::{Clause, Stmt};

use super::ctx::{ArgKind, PrintfSite};
use super::expr::int_type;
use super::gen::{FnGen, R, STATUS_DONE, STATUS_SKIPPED};
use super::helpers as h;
use crate::error::RuntimeError;
use crate::firing::FaultKind;

impl FnGen<'_, '_, '_> {
    /// The clause body: predicate, then statements; returns a status.
    pub fn clause(&mut self, clause: &Clause) -> R<()> {
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
        self.stmts(&clause.body)?;
        let st = self.b.ins().iconst(types::I32, STATUS_DONE);
        self.b.ins().return_(&[st]);
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
        let ctx = self.ctx;
        match s {
            Stmt::Expr(e) => {
                self.expr(e)?;
            }
            Stmt::If { cond, then, els, .. } => {
                let c = self.expr(cond)?;
                let (tb, eb, done) = (self.b.create_block(), self.b.create_block(), self.b.create_block());
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
                let kinds = args
                    .iter()
                    .map(|a| if a.ty.is_string() { ArgKind::Str } else { ArgKind::Int(int_type(&a.ty)) })
                    .collect();
                let vals = args.iter().map(|a| self.expr(a)).collect::<R<Vec<_>>>()?;
                let site = self.env.sites.len();
                self.env.sites.push(PrintfSite { format: format.clone(), args: kinds });
                let arr = self.spill(&vals);
                let site = self.iconst(site as i64);
                let failed = self.call(h::rt_printf as *const u8, &[ctx, site, arr], true).unwrap();
                let f = self.b.ins().icmp_imm_s(IntCC::NotEqual, failed, 0);
                self.fault_if(f, FaultKind::BadPrintf);
            }
            Stmt::Trace { arg, .. } => {
                let v = self.expr(arg)?;
                if arg.ty.is_string() {
                    self.call(h::rt_trace_str as *const u8, &[ctx, v], false);
                } else {
                    let size = self.iconst(int_type(&arg.ty).size as i64);
                    self.call(h::rt_trace_int as *const u8, &[ctx, v, size], false);
                }
            }
            Stmt::Exit { status, .. } => {
                let v = self.expr(status)?;
                self.call(h::rt_exit as *const u8, &[ctx, v], false);
            }
            Stmt::AggUpdate { .. } | Stmt::Printa { .. } | Stmt::Clear { .. } | Stmt::Trunc { .. } | Stmt::Normalize { .. } => {
                return Err(RuntimeError::NotImplemented("aggregations (@, printa, clear, trunc, normalize)".into()))
            }
            Stmt::System { .. } => return Err(RuntimeError::NotImplemented("system()".into())),
            Stmt::Raise { .. } => return Err(RuntimeError::NotImplemented("raise()".into())),
            Stmt::Stop { .. } => return Err(RuntimeError::NotImplemented("stop()".into())),
        }
        Ok(())
    }
}
