//! Aggregations the kernel can keep: a probe whose every clause does
//! nothing but `@a[keys] = count()` / `sum(v)` on record fields, under no
//! predicate or one the kernel decides exactly (comparisons of fields with
//! constants joined by `&&`, see [`crate::filter`]), never needs its events
//! in user space. The BPF program adds them to a per-CPU map instead of
//! sending a record; the consumer folds the map's totals into the same
//! aggregations the JIT updates, so printa, the exit print and metrics see
//! what they would have seen.
//!
//! This module decides which probes qualify and what each update reads
//! (offsets in the record, probe-derived strings); the loader
//! (`probes::kernel_aggs`) decides whether their provider's BPF side can do
//! it, and the consumer decodes the kernel's keys with [`KernelAgg`].

use crate::catalog::{FieldSource, ProbeKind};
use crate::filter::{exact_conds, FilterCond, MAX_CONDS};
use crate::typed::{AggFunc, AggId, Builtin, Expr, ExprKind, Program, Stmt};
use crate::types::IntType;

/// Updates the kernel does per probe at most.
pub const MAX_PER_PROBE: usize = 4;
/// Integer key parts (fields, probe id) a kernel key holds at most.
pub const MAX_INT_PARTS: usize = 3;
/// Bytes of the one string key part a kernel key may hold (a task's comm).
pub const MAX_CHARS: u32 = 16;

/// Where one key part comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    /// An integer field of the record.
    Int { offset: u32, int: IntType },
    /// A NUL-padded char array of the record (`execname`).
    Chars { offset: u32, len: u32 },
    /// A string or id of the probe that fired (`probefunc`, `id` …): the
    /// kernel keys by the probe's id, user space maps it back.
    Probe(Builtin),
}

/// What one update adds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueSource {
    /// `count()`.
    One,
    /// `sum(constant)`.
    Const(i64),
    /// `sum(field)`.
    Int { offset: u32, int: IntType },
}

/// One `@a[keys] = count()/sum(v)` statement the kernel performs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelAgg {
    pub agg: AggId,
    pub keys: Vec<KeySource>,
    pub value: ValueSource,
}

/// What a kernel-aggregated probe does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeAggs {
    /// Indexes into [`KernelAggPlan::actions`].
    pub actions: Vec<usize>,
    /// The predicate every clause of the probe has, exactly (the kernel
    /// filter of the probe is these conditions).
    pub conds: Vec<FilterCond>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KernelAggPlan {
    /// Every update some kernel-aggregated probe performs; the kernel keys
    /// its map by the index here.
    pub actions: Vec<KernelAgg>,
    /// Per enabled probe (index into `Program::probes`): Some when all its
    /// clauses can be done in the kernel.
    pub probes: Vec<Option<ProbeAggs>>,
}

impl KernelAggPlan {
    pub fn is_empty(&self) -> bool {
        self.probes.iter().all(Option::is_none)
    }
}

/// Which probes of `program` the kernel can aggregate, with `$target` =
/// `target` in predicates.
pub fn kernel_aggregations(program: &Program, target: i64) -> KernelAggPlan {
    let mut plan = KernelAggPlan {
        actions: Vec::new(),
        probes: vec![None; program.probes.len()],
    };
    // Per clause: its updates (indexes into plan.actions) and conditions.
    let clauses: Vec<Option<(Vec<usize>, Vec<FilterCond>)>> = program
        .clauses
        .iter()
        .map(|c| {
            let conds = match &c.predicate {
                None => Vec::new(),
                Some(p) => exact_conds(p, target)?,
            };
            if conds.len() > MAX_CONDS || c.body.is_empty() {
                return None;
            }
            let updates = c
                .body
                .iter()
                .map(|s| update_of(program, s))
                .collect::<Option<Vec<_>>>()?;
            let first = plan.actions.len();
            plan.actions.extend(updates);
            Some(((first..plan.actions.len()).collect(), conds))
        })
        .collect();
    for (i, probe) in program.probes.iter().enumerate() {
        if !matches!(probe.kind, ProbeKind::Event { .. }) {
            continue;
        }
        let mut on_probe = program.clauses.iter().filter(|c| c.probes.contains(&i));
        let Some(first) = on_probe.next() else {
            continue;
        };
        let Some((mut actions, conds)) = clauses[first.index].clone() else {
            continue;
        };
        let mut ok = true;
        for c in on_probe {
            match &clauses[c.index] {
                Some((a, k)) if same_set(k, &conds) => actions.extend(a),
                _ => ok = false,
            }
        }
        if ok && actions.len() <= MAX_PER_PROBE {
            plan.probes[i] = Some(ProbeAggs { actions, conds });
        }
    }
    plan
}

fn same_set(a: &[FilterCond], b: &[FilterCond]) -> bool {
    a.len() == b.len() && a.iter().all(|c| b.contains(c))
}

/// `s` as a kernel update, if it is one.
fn update_of(program: &Program, s: &Stmt) -> Option<KernelAgg> {
    let Stmt::AggUpdate {
        agg, keys, args, ..
    } = s
    else {
        return None;
    };
    let value = match (program.aggs.get(*agg)?.func, args.as_slice()) {
        (AggFunc::Count, []) => ValueSource::One,
        (AggFunc::Sum, [v]) => match v.kind {
            ExprKind::Int(c) => ValueSource::Const(c),
            ExprKind::Field(FieldSource::Load { offset, int }) => ValueSource::Int { offset, int },
            _ => return None,
        },
        _ => return None,
    };
    let keys = keys.iter().map(key_of).collect::<Option<Vec<_>>>()?;
    let ints = keys
        .iter()
        .filter(|k| !matches!(k, KeySource::Chars { .. }))
        .count();
    let chars = keys.len() - ints;
    (ints <= MAX_INT_PARTS && chars <= 1).then_some(KernelAgg {
        agg: *agg,
        keys,
        value,
    })
}

fn key_of(e: &Expr) -> Option<KeySource> {
    match e.kind {
        ExprKind::Field(FieldSource::Load { offset, int }) => Some(KeySource::Int { offset, int }),
        ExprKind::Field(FieldSource::Chars { offset, len }) if len <= MAX_CHARS => {
            Some(KeySource::Chars { offset, len })
        }
        ExprKind::Builtin(
            b @ (Builtin::ProbeProv
            | Builtin::ProbeMod
            | Builtin::ProbeFunc
            | Builtin::ProbeName
            | Builtin::Id),
        ) => Some(KeySource::Probe(b)),
        _ => None,
    }
}
