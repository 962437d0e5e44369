//! Shared machinery for generating one clause function: the builder, the
//! environment (program, interned constants, printf sites), helper calls,
//! fault exits and integer narrowing.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    types, AbiParam, InstBuilder, MemFlagsData, SigRef, Signature, StackSlotData, StackSlotKind,
    Value,
};
use cranelift_codegen::isa::CallConv;
use cranelift_frontend::FunctionBuilder;
use hashbrown::HashMap;
use rdtrace_lang::typed::Program;
use rdtrace_lang::types::IntType;

use super::ctx::PrintfSite;
use super::interned::Interned;
use crate::error::RuntimeError;
use crate::firing::FaultKind;

pub(crate) type R<T> = Result<T, RuntimeError>;

/// Clause function results.
pub(crate) const STATUS_DONE: i64 = 0;
pub(crate) const STATUS_SKIPPED: i64 = 1;
pub(crate) const STATUS_FAULT: i64 = 2;

/// What the generator needs besides the function being built.
pub(crate) struct Env<'p> {
    pub program: &'p Program,
    pub interned: Interned,
    pub sites: Vec<PrintfSite>,
    pub printa_sites: Vec<(Option<rdtrace_lang::format::Format>, Vec<usize>)>,
    pub call_conv: CallConv,
    pub target_pid: i64,
}

pub(crate) struct FnGen<'f, 'e, 'p> {
    pub b: FunctionBuilder<'f>,
    pub env: &'e mut Env<'p>,
    pub ctx: Value,
    pub rec: Value,
    /// Index of the clause in `Program::clauses`.
    pub clause: usize,
    /// 1-based index of the statement being generated; 0 in the predicate.
    pub action: u32,
    sigs: HashMap<(usize, bool), SigRef>,
}

impl<'f, 'e, 'p> FnGen<'f, 'e, 'p> {
    pub fn new(
        b: FunctionBuilder<'f>,
        env: &'e mut Env<'p>,
        ctx: Value,
        rec: Value,
        clause: usize,
    ) -> Self {
        FnGen {
            b,
            env,
            ctx,
            rec,
            clause,
            action: 0,
            sigs: HashMap::new(),
        }
    }

    pub fn iconst(&mut self, v: i64) -> Value {
        self.b.ins().iconst(types::I64, v)
    }

    /// Calls helper `f` with i64 arguments; returns its i64 result if any.
    pub fn call(&mut self, f: *const u8, args: &[Value], returns: bool) -> Option<Value> {
        let key = (args.len(), returns);
        let sig = match self.sigs.get(&key) {
            Some(s) => *s,
            None => {
                let mut s = Signature::new(self.env.call_conv);
                s.params
                    .extend((0..args.len()).map(|_| AbiParam::new(types::I64)));
                if returns {
                    s.returns.push(AbiParam::new(types::I64));
                }
                let r = self.b.import_signature(s);
                self.sigs.insert(key, r);
                r
            }
        };
        let callee = self.iconst(f as i64);
        let inst = self.b.ins().call_indirect(sig, callee, args);
        returns.then(|| self.b.inst_results(inst)[0])
    }

    /// Loads an i64 field of the firing context.
    pub fn ctx_load(&mut self, offset: usize) -> Value {
        self.b
            .ins()
            .load(types::I64, MemFlagsData::trusted(), self.ctx, offset as i32)
    }

    /// Truncates then sign- or zero-extends to `it`, as a store would.
    pub fn normalize(&mut self, v: Value, it: IntType) -> Value {
        let narrow = match it.size {
            1 => types::I8,
            2 => types::I16,
            4 => types::I32,
            _ => return v,
        };
        let n = self.b.ins().ireduce(narrow, v);
        if it.signed {
            self.b.ins().sextend(types::I64, n)
        } else {
            self.b.ins().uextend(types::I64, n)
        }
    }

    /// 0/1 as i64 from a condition.
    pub fn bool_to_i64(&mut self, c: Value) -> Value {
        self.b.ins().uextend(types::I64, c)
    }

    /// Branches to a fault exit when `cond` (an i8 truth value) holds.
    pub fn fault_if(&mut self, cond: Value, kind: FaultKind) {
        let fault = self.b.create_block();
        let cont = self.b.create_block();
        self.b.ins().brif(cond, fault, &[], cont, &[]);
        self.b.switch_to_block(fault);
        let k = self.b.ins().iconst(types::I32, kind as i64);
        let a = self.b.ins().iconst(types::I32, self.action as i64);
        let (ko, ao) = (
            std::mem::offset_of!(super::ctx::FiringCtx, fault_kind),
            std::mem::offset_of!(super::ctx::FiringCtx, fault_action),
        );
        self.b
            .ins()
            .store(MemFlagsData::trusted(), k, self.ctx, ko as i32);
        self.b
            .ins()
            .store(MemFlagsData::trusted(), a, self.ctx, ao as i32);
        let st = self.b.ins().iconst(types::I32, STATUS_FAULT);
        self.b.ins().return_(&[st]);
        self.b.switch_to_block(cont);
    }

    /// Branches to a fault exit when the i64 `v` is zero.
    pub fn fault_if_zero(&mut self, v: Value, kind: FaultKind) {
        let z = self.b.ins().icmp_imm_s(IntCC::Equal, v, 0);
        self.fault_if(z, kind);
    }

    /// Stores `vals` into a fresh stack array; returns its address.
    pub fn spill(&mut self, vals: &[Value]) -> Value {
        if vals.is_empty() {
            return self.iconst(0);
        }
        let slot = self.b.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            8 * vals.len() as u32,
            3,
        ));
        for (i, v) in vals.iter().enumerate() {
            self.b.ins().stack_store(types::I64, *v, slot, 8 * i as i32);
        }
        self.b.ins().stack_addr(types::I64, slot, 0)
    }
}
