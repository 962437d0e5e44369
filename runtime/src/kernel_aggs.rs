//! Folding the aggregations the kernel keeps (`lang::kagg`, `bpf/kagg.h`)
//! into the program's own: the source hands out running totals per kernel
//! key; what grew since the last fold is added to the key it decodes to,
//! exactly as that many `count()`s or that much `sum()` would have been.
//! Keys made this way are charged to `aggsize` like any other, so printa,
//! clear, trunc, the exit print and metrics see no difference.

use std::time::{Duration, Instant};

use hashbrown::HashMap;
use rdtrace_lang::kagg::{KernelAgg, KernelAggPlan, KeySource};
use rdtrace_lang::typed::{Builtin, Program};
use rdtrace_record::{KernelAggKey, Source};

use crate::aggs::Aggregations;
use crate::state::KeyRef;

pub(crate) struct KernelAggFold {
    actions: Vec<KernelAgg>,
    /// Probe id → provider, module, function, name.
    probes: HashMap<u32, [String; 4]>,
    /// The total of each kernel key at the last fold.
    last: HashMap<KernelAggKey, i64>,
    drops_seen: HashMap<u32, u64>,
    strsize: usize,
    /// How stale a fold may be while tracing (the `aggrate` option).
    every: Duration,
    folded_at: Option<Instant>,
}

impl KernelAggFold {
    /// None when no probe is aggregated in the kernel.
    pub(crate) fn new(
        plan: KernelAggPlan,
        program: &Program,
        strsize: usize,
        every: Duration,
    ) -> Option<Self> {
        if plan.is_empty() {
            return None;
        }
        let probes = program
            .probes
            .iter()
            .map(|p| {
                let names = [&p.provider, &p.module, &p.function, &p.name].map(|s| s.clone());
                (p.id, names)
            })
            .collect();
        Some(KernelAggFold {
            actions: plan.actions,
            probes,
            last: HashMap::new(),
            drops_seen: HashMap::new(),
            strsize,
            every,
            folded_at: None,
        })
    }

    /// Folds what grew since the last fold, if that was `every` ago
    /// or `now` is set (tracing has ended).
    pub(crate) fn fold(&mut self, source: &mut dyn Source, aggs: &mut Aggregations, now: bool) {
        if !now && self.folded_at.is_some_and(|t| t.elapsed() < self.every) {
            return;
        }
        self.folded_at = Some(Instant::now());
        let mut grown = Vec::new();
        source.kernel_agg_totals(&mut |key, total| {
            let before = self.last.insert(*key, total);
            if before != Some(total) {
                grown.push((*key, total.wrapping_sub(before.unwrap_or(0))));
            }
        });
        for (key, delta) in grown {
            self.add(aggs, &key, delta);
        }
        for (cpu, total) in source.kernel_agg_drops() {
            let seen = self.drops_seen.entry(cpu).or_insert(0);
            if total > *seen {
                aggs.add_drops(cpu, total - *seen);
                *seen = total;
            }
        }
    }

    fn add(&self, aggs: &mut Aggregations, key: &KernelAggKey, delta: i64) {
        let Some(action) = self.actions.get(key.action as usize) else {
            return;
        };
        let mut parts = [KeyRef::Int(0); 4];
        let mut ints = key.ints.iter();
        for (part, source) in parts.iter_mut().zip(&action.keys) {
            *part = match *source {
                KeySource::Int { .. } => KeyRef::Int(*ints.next().unwrap_or(&0) as i64),
                KeySource::Chars { len, .. } => {
                    let bytes = &key.chars[..(len as usize).min(16)];
                    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
                    KeyRef::Str(&bytes[..end.min(self.strsize)])
                }
                KeySource::Probe(b) => {
                    let id = *ints.next().unwrap_or(&0) as u32;
                    let names = self.probes.get(&id);
                    let name = |i: usize| names.map_or(&b""[..], |n| n[i].as_bytes());
                    match b {
                        Builtin::ProbeProv => KeyRef::Str(name(0)),
                        Builtin::ProbeMod => KeyRef::Str(name(1)),
                        Builtin::ProbeFunc => KeyRef::Str(name(2)),
                        Builtin::ProbeName => KeyRef::Str(name(3)),
                        _ => KeyRef::Int(i64::from(id)),
                    }
                }
            };
        }
        aggs.add_folded(action.agg, &parts[..action.keys.len().min(4)], delta);
    }
}
