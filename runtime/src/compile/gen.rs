//! Shared machinery for generating one clause function: the builder, the
//! environment (program, interned constants, printf sites), helper calls,
//! fault exits and integer narrowing.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    types, FuncRef, InstBuilder, MemFlagsData, StackSlotData, StackSlotKind, Value,
};
use cranelift_codegen::isa::CallConv;
use cranelift_frontend::FunctionBuilder;
use cranelift_jit::JITModule;
use cranelift_module::{FuncId, Linkage, Module};
use hashbrown::HashMap;
use rdtrace_lang::typed::Program;
use rdtrace_lang::types::IntType;

use super::abi::Helper;
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
    /// The JIT module; helpers are declared in it as imports.
    pub module: JITModule,
    /// Helpers declared in `module` so far.
    pub helper_ids: HashMap<Helper, FuncId>,
    /// The first call that did not match its helper's declaration.
    pub abi_error: Option<String>,
}

impl Env<'_> {
    /// The import of helper `h` (declared on first use).
    fn helper_id(&mut self, h: Helper) -> R<FuncId> {
        if let Some(id) = self.helper_ids.get(&h) {
            return Ok(*id);
        }
        let decl = h.decl();
        let sig = decl.signature(self.call_conv);
        let id = self
            .module
            .declare_function(decl.symbol, Linkage::Import, &sig)
            .map_err(|e| RuntimeError::Jit(e.to_string()))?;
        self.helper_ids.insert(h, id);
        Ok(id)
    }
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
    /// Helpers imported into this function.
    helper_refs: HashMap<Helper, FuncRef>,
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
            helper_refs: HashMap::new(),
        }
    }

    pub fn iconst(&mut self, v: i64) -> Value {
        self.b.ins().iconst(types::I64, v)
    }

    /// Calls helper `h` (the context is passed first); returns its result.
    /// A call that does not match the helper's declared signature is
    /// recorded in `Env::abi_error` (compilation then fails).
    fn call_helper(&mut self, h: Helper, args: &[Value], wants_result: bool) -> Option<Value> {
        let mut all = Vec::with_capacity(args.len() + 1);
        all.push(self.ctx);
        all.extend_from_slice(args);
        let arg_types: Vec<_> = all.iter().map(|v| self.b.func.dfg.value_type(*v)).collect();
        if let Err(e) = h.decl().check_call(&arg_types, wants_result) {
            self.env.abi_error.get_or_insert(e);
            return None;
        }
        let callee = match self.helper_refs.get(&h) {
            Some(r) => *r,
            None => {
                let id = match self.env.helper_id(h) {
                    Ok(id) => id,
                    Err(e) => {
                        self.env.abi_error.get_or_insert(e.to_string());
                        return None;
                    }
                };
                let r = self.env.module.declare_func_in_func(id, self.b.func);
                self.helper_refs.insert(h, r);
                r
            }
        };
        let inst = self.b.ins().call(callee, &all);
        let result = self.b.inst_results(inst).first().copied();
        // A helper that found a fault (or panicked) left it in the
        // runtime: the clause is abandoned with it.
        let at = std::mem::offset_of!(super::ctx::FiringCtx, rt.trapped) as i32;
        let trapped = self
            .b
            .ins()
            .load(types::I8, MemFlagsData::trusted(), self.ctx, at);
        self.fault_if(trapped, FaultKind::BadPrintf);
        result
    }

    /// Calls a helper that returns a value.
    pub fn call(&mut self, h: Helper, args: &[Value]) -> Value {
        match self.call_helper(h, args, true) {
            Some(v) => v,
            // Placeholder so generation can go on; the recorded ABI error
            // fails the compilation.
            None => self.iconst(0),
        }
    }

    /// Calls a helper that returns nothing.
    pub fn call_void(&mut self, h: Helper, args: &[Value]) {
        self.call_helper(h, args, false);
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
