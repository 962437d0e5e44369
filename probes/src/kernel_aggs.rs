//! Which probes the kernel aggregates ([`rdtrace_lang::kagg`]), as the
//! `kagg_plans` map holds them (`bpf/kagg.h`). Only syscall probes do it
//! (their BPF side builds the whole record before deciding), and only when
//! every field an update or the predicate reads lies where the kernel reads
//! it: otherwise the probe's events go to user space as before.

use crate::event::{
    KaggAction, KaggField, KaggPlan, SyscallEvent, KPART_CHARS, KPART_INT, KVAL_CONST, KVAL_FIELD,
    KVAL_ONE,
};
use crate::providers::syscall::LAYOUT_SYSCALL;
use rdtrace_lang::catalog::ProbeKind;
use rdtrace_lang::kagg::{kernel_aggregations, KernelAggPlan, KeySource, ValueSource};
use rdtrace_lang::typed::Program;
use rdtrace_lang::types::IntType;

/// The program's kernel aggregation: the plan the consumer decodes the
/// totals with, and the map entries (probe id, its updates).
#[derive(Debug, Clone, Default)]
pub struct KernelAggs {
    pub plan: KernelAggPlan,
    pub maps: Vec<(u32, KaggPlan)>,
}

/// `bpf/kagg.h` and `bpf/filter.h` read an integer at offset `off` only if
/// `off <= len - 8`, 16 bytes of chars only if `off <= len - 16`.
const RECORD_LEN: u32 = size_of::<SyscallEvent>() as u32;

fn int_field(offset: u32, int: IntType, kind: u8) -> Option<KaggField> {
    (offset + 8 <= RECORD_LEN).then_some(KaggField {
        offset: offset as u16,
        kind,
        size: int.size,
        sign: u8::from(int.signed),
        pad: [0; 3],
    })
}

/// The kernel aggregation of `program` with `$target` = `target`.
pub fn kernel_aggs(program: &Program, target: i64) -> KernelAggs {
    let mut plan = kernel_aggregations(program, target);
    let mut maps = Vec::new();
    for (i, p) in program.probes.iter().enumerate() {
        let Some(aggs) = &plan.probes[i] else {
            continue;
        };
        let syscall = p.kind
            == ProbeKind::Event {
                layout: LAYOUT_SYSCALL,
            };
        let entry = (syscall && p.id < crate::event::LOW_PROBES)
            .then(|| map_entry(&plan, &aggs.actions))
            .flatten()
            .filter(|_| aggs.conds.iter().all(|c| c.offset + 8 <= RECORD_LEN))
            .zip(needs(&plan, aggs));
        match entry {
            Some((mut e, needs)) => {
                e.needs = needs;
                maps.push((p.id, e))
            }
            None => plan.probes[i] = None,
        }
    }
    KernelAggs { plan, maps }
}

/// The header fields beyond pid, tid, probe and cpu that a probe's
/// updates and filter read (the kernel reads only those); None when they
/// read one the kernel does not fill before aggregating (time, netns).
fn needs(plan: &KernelAggPlan, aggs: &rdtrace_lang::kagg::ProbeAggs) -> Option<u32> {
    use crate::event::{KNEED_COMM, KNEED_IDS, KNEED_PPID, KNEED_RECORD};
    use rdtrace_record::EventHeader;
    use std::mem::offset_of;
    let mut offsets: Vec<u32> = aggs.conds.iter().map(|c| c.offset).collect();
    let mut needs = if aggs.conds.is_empty() {
        0
    } else {
        KNEED_RECORD
    };
    let comm = offset_of!(EventHeader, comm) as u32;
    for &a in &aggs.actions {
        let agg = &plan.actions[a];
        for k in &agg.keys {
            match *k {
                KeySource::Chars { offset, .. } if offset == comm => offsets.push(offset),
                KeySource::Int { offset, .. } | KeySource::Chars { offset, .. } => {
                    needs |= KNEED_RECORD;
                    offsets.push(offset)
                }
                KeySource::Probe(_) => {}
            }
        }
        if let ValueSource::Int { offset, .. } = agg.value {
            needs |= KNEED_RECORD;
            offsets.push(offset);
        }
    }
    for off in offsets {
        let off = off as usize;
        if off < offset_of!(EventHeader, probe) || off == offset_of!(EventHeader, netns) {
            return None;
        }
        if off == offset_of!(EventHeader, uid) || off == offset_of!(EventHeader, gid) {
            needs |= KNEED_IDS;
        } else if off == offset_of!(EventHeader, ppid) {
            needs |= KNEED_PPID;
        } else if (offset_of!(EventHeader, comm)..size_of::<EventHeader>()).contains(&off) {
            needs |= KNEED_COMM;
        }
    }
    Some(needs)
}

fn map_entry(plan: &KernelAggPlan, actions: &[usize]) -> Option<KaggPlan> {
    let mut m = KaggPlan {
        n: actions.len() as u32,
        ..Default::default()
    };
    for (slot, &a) in m.actions.iter_mut().zip(actions) {
        let agg = &plan.actions[a];
        let mut act = KaggAction {
            id: a as u32,
            nparts: agg.keys.len() as u8,
            ..Default::default()
        };
        for (part, k) in act.parts.iter_mut().zip(&agg.keys) {
            *part = match *k {
                KeySource::Int { offset, int } => int_field(offset, int, KPART_INT)?,
                KeySource::Chars { offset, len } => {
                    if offset + 16 > RECORD_LEN || len > 16 {
                        return None;
                    }
                    KaggField {
                        offset: offset as u16,
                        kind: KPART_CHARS,
                        size: len as u8,
                        ..Default::default()
                    }
                }
                // The probe id, from the header.
                KeySource::Probe(_) => int_field(
                    std::mem::offset_of!(rdtrace_record::EventHeader, probe) as u32,
                    IntType {
                        size: 4,
                        signed: false,
                    },
                    KPART_INT,
                )?,
            };
        }
        match agg.value {
            ValueSource::One => act.value_kind = KVAL_ONE,
            ValueSource::Const(c) => {
                act.value_kind = KVAL_CONST;
                act.value_const = c;
            }
            ValueSource::Int { offset, int } => {
                act.value_kind = KVAL_FIELD;
                act.value = int_field(offset, int, KPART_INT)?;
            }
        }
        *slot = act;
    }
    Some(m)
}
