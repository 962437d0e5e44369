//! The compiled form of a checked program: one native function per clause
//! (cranelift-jit), one JIT module per program, finalised once and freed on
//! drop. [`CompiledProgram::fire`] runs the clauses of a probe on a record.

mod abi;
mod ctx;
mod expr;
mod gen;
mod helpers;
mod interned;
mod scratch;
mod stmt;

use cranelift_codegen::ir::{types, AbiParam, UserFuncName};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_codegen::Context;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{default_libcall_names, Linkage, Module};
use rdtrace_lang::typed::{EnabledProbe, ProbeIndex, Program};
use rdtrace_record::header_of;

use self::abi::Helper;
use self::ctx::{FiringCtx, Runtime};
use self::gen::{Env, FnGen, STATUS_DONE, STATUS_SKIPPED};
use self::interned::Interned;
use self::scratch::Scratch;
use crate::aggs::Aggregations;
use crate::error::RuntimeError;
use crate::firing::{
    self, ClauseOutcome, ClauseRunner, DriverInfo, Fault, FaultKind, FireContext, FireResult,
};
use crate::options::Options;
use crate::state::{DynVars, VarArea, RAND_SEED};

/// A clause as native code: `(context, record) -> status`.
type ClauseFn = unsafe extern "C" fn(*mut FiringCtx, *const u8) -> u32;

pub struct CompiledProgram {
    program: Program,
    info: DriverInfo,
    fns: Vec<ClauseFn>,
    ctx: Box<FiringCtx>,
    /// Addresses of probeprov/probemod/probefunc/probename per probe.
    probe_strs: Vec<[*const u8; 4]>,
    /// Owns the constants generated code points at.
    _interned: Interned,
    /// Reusable clause output buffer.
    buf: Vec<u8>,
    module: Option<JITModule>,
    /// Each clause's Cranelift IR, kept for `-S` (`Options::keep_ir`).
    ir: Vec<String>,
}

// SAFETY: every raw pointer in a CompiledProgram points into memory the
// CompiledProgram itself owns (its context, variable areas, constants and
// JIT code); nothing is shared with another thread.
unsafe impl Send for CompiledProgram {}

impl CompiledProgram {
    /// Each clause's Cranelift IR, in program order (empty unless
    /// `Options::keep_ir`).
    pub fn ir(&self) -> &[String] {
        &self.ir
    }

    pub fn new(program: &Program, opts: &Options) -> Result<CompiledProgram, RuntimeError> {
        firing::check_destructive(program, opts.destructive)?;
        let jit_err = |e: &dyn std::fmt::Display| RuntimeError::Jit(e.to_string());
        let mut flags = settings::builder();
        // Clauses are short straight-line code around helper calls: the
        // optimiser saved no measurable work per event (callgrind, tcpio.d
        // replay) but cost ~1.5 ms per 200 script lines. The IR verifier cost
        // ~1 ms more; the generator is checked by the JIT-vs-interpreter test.
        flags.set("opt_level", "none").map_err(|e| jit_err(&e))?;
        flags
            .set("enable_verifier", "false")
            .map_err(|e| jit_err(&e))?;
        flags
            .set("use_colocated_libcalls", "false")
            .map_err(|e| jit_err(&e))?;
        flags.set("is_pic", "false").map_err(|e| jit_err(&e))?;
        let isa = cranelift_native::builder()
            .map_err(|e| jit_err(&e))?
            .finish(settings::Flags::new(flags))
            .map_err(|e| jit_err(&e))?;
        let mut builder = JITBuilder::with_isa(isa, default_libcall_names());
        // Every helper is registered under its symbol; clauses call them
        // through imports declared with the same table's signatures.
        for h in Helper::ALL {
            let d = h.decl();
            builder.symbol(d.symbol, d.addr);
        }
        let module = JITModule::new(builder);

        let mut env = Env {
            program,
            interned: Interned::default(),
            sites: Vec::new(),
            printa_sites: Vec::new(),
            call_conv: module.isa().default_call_conv(),
            module,
            helper_ids: Default::default(),
            abi_error: None,
        };
        let mut sig = env.module.make_signature();
        sig.params.push(AbiParam::new(types::I64));
        sig.params.push(AbiParam::new(types::I64));
        sig.returns.push(AbiParam::new(types::I32));

        let mut cctx = Context::new();
        let mut fctx = FunctionBuilderContext::new();
        let mut ids = Vec::new();
        let mut ir = Vec::new();
        for (i, clause) in program.clauses.iter().enumerate() {
            // A body of more than PART_LEN statements is compiled in parts
            // first: Cranelift's memory and time grow faster than a
            // function's length.
            let mut parts = Vec::new();
            let mut clause_ir = String::new();
            if clause.body.len() > PART_LEN {
                let mut action = 0;
                for (k, run) in clause.body.chunks(PART_LEN).enumerate() {
                    let id = env
                        .module
                        .declare_function(&format!("clause{i}_part{k}"), Linkage::Local, &sig)
                        .map_err(|e| jit_err(&e))?;
                    action = define_function(&mut env, &mut cctx, &mut fctx, &sig, id, i, |g| {
                        g.clause_part(run, action)
                    })?;
                    if opts.keep_ir {
                        clause_ir.push_str(&cctx.func.display().to_string());
                    }
                    env.module.clear_context(&mut cctx);
                    parts.push(id);
                }
            }
            let id = env
                .module
                .declare_function(&format!("clause{i}"), Linkage::Local, &sig)
                .map_err(|e| jit_err(&e))?;
            define_function(&mut env, &mut cctx, &mut fctx, &sig, id, i, |g| {
                g.clause(clause, &parts)
            })?;
            if opts.keep_ir {
                ir.push(cctx.func.display().to_string() + &clause_ir);
            }
            env.module.clear_context(&mut cctx);
            ids.push(id);
        }
        if let Some(e) = env.abi_error.take() {
            return Err(jit_err(&format!(
                "helper call does not match its declaration: {e}"
            )));
        }
        let mut module = env.module;
        module.finalize_definitions().map_err(|e| jit_err(&e))?;
        let fns = ids
            .iter()
            .map(|id| {
                let p = module.get_finalized_function(*id);
                // SAFETY: generated with exactly this signature above.
                unsafe { std::mem::transmute::<*const u8, ClauseFn>(p) }
            })
            .collect();

        let probe_strs = program
            .probes
            .iter()
            .map(|p| {
                [&p.provider, &p.module, &p.function, &p.name]
                    .map(|s| env.interned.str_ptr(s.as_bytes()) as *const u8)
            })
            .collect();
        let info = DriverInfo::new(program, opts.quiet, opts.flowindent).with_oformat(opts.oformat);
        let rt = Runtime {
            scratch: Scratch::new(),
            out: std::ptr::null_mut(),
            exit: None,
            globals: VarArea::new(&program.globals, opts.strsize),
            this_outer: VarArea::new(&program.this_vars, opts.strsize),
            this_error: VarArea::new(&program.this_vars, opts.strsize),
            dynvars: DynVars::new(opts.dynvarsize, opts.strsize),
            tid: 0,
            strsize: opts.strsize,
            quiet: opts.quiet,
            oformat: opts.oformat,
            sites: std::mem::take(&mut env.sites),
            self_is_str: program.self_vars.iter().map(|v| v.ty.is_string()).collect(),
            assoc_is_str: program.assocs.iter().map(|a| a.value.is_string()).collect(),
            assoc_key_is_str: program
                .assocs
                .iter()
                .map(|a| a.keys.iter().map(|k| k.is_string()).collect())
                .collect(),
            rand: RAND_SEED,
            tmp: Vec::new(),
            strtok: (Vec::new(), 0),
            aggs: Aggregations::new(&program.aggs, opts.aggsize, opts.aggsort)?.with_symbols(
                crate::symbols::Symbols::new(
                    opts.stackframes,
                    opts.ustackframes,
                    opts.folded_stacks,
                ),
            ),
            agg_key_is_str: program
                .aggs
                .iter()
                .map(|a| a.keys.iter().map(|k| k.is_string()).collect())
                .collect(),
            printa_sites: std::mem::take(&mut env.printa_sites),
            deferred: Vec::new(),
            record_len: 0,
            bufs: Vec::new(),
            trap: None,
            trapped: 0,
        };
        let mut ctx = Box::new(FiringCtx {
            this_slots: std::ptr::null_mut(),
            global_slots: std::ptr::null_mut(),
            wall_offset: 0,
            probe_id: 0,
            target_pid: 0,
            probe_strs: [std::ptr::null(); 4],
            fault_kind: 0,
            fault_action: 0,
            rt,
        });
        ctx.global_slots = ctx.rt.globals.slots.as_mut_ptr();
        ctx.this_slots = ctx.rt.this_outer.slots.as_mut_ptr();
        Ok(CompiledProgram {
            program: program.clone(),
            info,
            fns,
            ctx,
            probe_strs,
            _interned: env.interned,
            buf: Vec::new(),
            module: Some(module),
            ir,
        })
    }

    pub fn program(&self) -> &Program {
        &self.program
    }

    /// Runs, in program order, every clause enabled for `probe` on one
    /// event record. Appends stdout bytes to `out` and D runtime error
    /// messages to `err`.
    pub fn fire(
        &mut self,
        probe: ProbeIndex,
        record: &[u8],
        ctx: &FireContext,
        out: &mut Vec<u8>,
        err: &mut Vec<u8>,
    ) -> FireResult {
        let mut runner = JitRunner {
            ctx: &mut self.ctx,
            fns: &self.fns,
            probe_strs: &self.probe_strs,
            probes: &self.program.probes,
            saved: None,
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

    /// Sets `$target` once the traced process exists (`-c`, `-p`).
    pub fn set_target_pid(&mut self, pid: i64) {
        self.ctx.target_pid = pid;
    }

    /// Dynamic variable drops since the last call.
    pub fn take_dynvar_drops(&mut self) -> u64 {
        self.ctx.rt.dynvars.take_drops()
    }

    /// Aggregation drops (new keys that did not fit in `aggsize`) per CPU
    /// since the last call.
    pub fn take_agg_drops(&mut self) -> Vec<(u32, u64)> {
        self.ctx.rt.aggs.take_drops()
    }

    /// Under `-x oformat`: the separator a new `probes` element needs, and
    /// counts it (the first element of the document has none).
    pub fn oformat_first_record(&self) -> bool {
        self.info.take_first_record()
    }

    /// The aggregations, for folding the kernel's counts into them.
    pub(crate) fn aggregations_mut(&mut self) -> &mut crate::aggs::Aggregations {
        &mut self.ctx.rt.aggs
    }

    /// Every aggregation as a metric family (`--metrics`).
    pub fn export_aggregations(
        &mut self,
        plan: &crate::metrics::MetricsPlan,
    ) -> Vec<crate::metrics::Family> {
        self.ctx.rt.aggs.export(plan)
    }

    /// Prints every aggregation not printed by `printa()`, sorted by value,
    /// as dtrace does at exit.
    pub fn print_aggregations(&mut self, out: &mut Vec<u8>) {
        self.ctx.rt.aggs.print_unprinted(out, &mut |_| {});
    }

    /// The same, handing `out` to `flush` every 64 KiB or so.
    pub fn print_aggregations_streaming(
        &mut self,
        out: &mut Vec<u8>,
        flush: &mut dyn FnMut(&mut Vec<u8>),
    ) {
        self.ctx.rt.aggs.print_unprinted(out, flush);
    }
}

/// Statements of a clause body compiled as one function at most.
const PART_LEN: usize = 256;

/// Generates function `id` of clause `clause` with `body` and defines it
/// in the module; `cctx` keeps its IR until cleared.
fn define_function<T>(
    env: &mut Env<'_>,
    cctx: &mut Context,
    fctx: &mut FunctionBuilderContext,
    sig: &cranelift_codegen::ir::Signature,
    id: cranelift_module::FuncId,
    clause: usize,
    body: impl FnOnce(&mut FnGen<'_, '_, '_>) -> Result<T, RuntimeError>,
) -> Result<T, RuntimeError> {
    let frontend = env.module.target_config();
    cctx.func.signature = sig.clone();
    cctx.func.name = UserFuncName::user(0, id.as_u32());
    let result = {
        let mut b = FunctionBuilder::new(&mut cctx.func, fctx);
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        let (c, r) = (b.block_params(entry)[0], b.block_params(entry)[1]);
        let mut g = FnGen::new(b, env, c, r, clause);
        let result = body(&mut g)?;
        g.b.seal_all_blocks();
        g.b.finalize(frontend);
        result
    };
    env.module
        .define_function(id, cctx)
        .map_err(|e| RuntimeError::Jit(format!("{e:?}")))?;
    Ok(result)
}

impl Drop for CompiledProgram {
    fn drop(&mut self) {
        if let Some(m) = self.module.take() {
            // SAFETY: the clause functions are only reachable through
            // `self.fns`, which dies with `self`; none is running.
            unsafe { m.free_memory() };
        }
    }
}

/// What an `ERROR` firing nested in another firing saves and restores.
struct SavedFiring {
    this_slots: *mut i64,
    probe_id: i64,
    probe_strs: [*const u8; 4],
    tid: u64,
}

struct JitRunner<'a> {
    ctx: &'a mut FiringCtx,
    fns: &'a [ClauseFn],
    probe_strs: &'a [[*const u8; 4]],
    probes: &'a [EnabledProbe],
    saved: Option<SavedFiring>,
}

impl ClauseRunner for JitRunner<'_> {
    fn begin_firing(&mut self, probe: ProbeIndex, record: &[u8], fctx: &FireContext, nested: bool) {
        let c = &mut *self.ctx;
        if nested {
            self.saved = Some(SavedFiring {
                this_slots: c.this_slots,
                probe_id: c.probe_id,
                probe_strs: c.probe_strs,
                tid: c.rt.tid,
            });
            c.rt.this_error.reset();
            c.this_slots = c.rt.this_error.slots.as_mut_ptr();
        } else {
            c.rt.scratch.reset();
            c.rt.bufs.clear();
            c.rt.strtok.1 = usize::MAX;
            c.rt.this_outer.reset();
            c.this_slots = c.rt.this_outer.slots.as_mut_ptr();
        }
        c.wall_offset = fctx.wall_offset_ns;
        c.probe_id = self.probes[probe].id as i64;
        c.probe_strs = self.probe_strs[probe];
        let hdr = header_of(record).unwrap_or_default();
        c.rt.tid = u64::from(hdr.tid);
        c.rt.aggs.set_cpu(hdr.cpu);
    }

    fn end_firing(&mut self, nested: bool) {
        if nested {
            if let Some(s) = self.saved.take() {
                let c = &mut *self.ctx;
                c.this_slots = s.this_slots;
                c.probe_id = s.probe_id;
                c.probe_strs = s.probe_strs;
                c.rt.tid = s.tid;
            }
        }
    }

    fn run_clause(&mut self, clause: usize, record: &[u8], buf: &mut Vec<u8>) -> ClauseOutcome {
        let c = &mut *self.ctx;
        c.rt.out = buf;
        c.rt.exit = None;
        c.rt.record_len = record.len();
        c.rt.trap = None;
        c.rt.trapped = 0;
        // SAFETY: the function was generated for this context layout; the
        // driver made `record` at least as long as any load in it.
        let status = unsafe { (self.fns[clause])(c, record.as_ptr()) } as i64;
        c.rt.out = std::ptr::null_mut();
        match status {
            STATUS_DONE => ClauseOutcome::Done { exit: c.rt.exit },
            STATUS_SKIPPED => ClauseOutcome::Skipped,
            _ => {
                // A helper's fault (copyin) says what and where itself.
                let trap = c.rt.trap.take();
                ClauseOutcome::Faulted(Fault {
                    kind: trap.map_or(FaultKind::from_code(c.fault_kind), |t| t.kind),
                    action: c.fault_action,
                    addr: trap.map_or(0, |t| t.addr),
                })
            }
        }
    }

    fn take_deferred(&mut self, into: &mut Vec<crate::deferred::Deferred>) {
        into.append(&mut self.ctx.rt.deferred);
    }
}
