//! The capture plan: for each enabled probe, what the clauses enabled on it
//! read, so that the kernel side captures only that and the engines (JIT
//! and interpreter) pad short records the same way. Computed once from the
//! checked program by [`capture_plan`] with the [`crate::visit`] walker.
//!
//! A probe's plan is the record bytes its clauses read and the user memory
//! they copy in (`copyin`/`copyinstr`: address and length as values the
//! kernel knows when the probe fires). Stacks and task fields will be more
//! fields of [`ProbePlan`], filled by the same walk in [`Reads`].

use std::collections::HashMap;
use std::ops::Range;

use crate::catalog::FieldSource;
use crate::span::Span;
use crate::typed::{CopyKind, Expr, ExprKind, Place, ProbeIndex, Program, VarId};
use crate::visit::{self, Visitor};

/// What each enabled probe's clauses read, indexed by [`ProbeIndex`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CapturePlan {
    probes: Vec<ProbePlan>,
    /// copyin/copyinstr calls whose memory cannot be captured: where and why.
    pub problems: Vec<(Span, String)>,
}

/// What the clauses enabled on one probe read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProbePlan {
    /// Record byte ranges read by field accesses (`args[i]->member` and the
    /// record-backed built-in variables), sorted and merged.
    pub record: Vec<Range<usize>>,
    /// User memory to copy when the probe fires, one per copyin/copyinstr
    /// call of its clauses.
    pub user: Vec<UserCapture>,
    /// The kernel and user stacks to capture: the most frames a clause
    /// asks for (`Some(None)`: as many as the stackframes /
    /// ustackframes option says), None when no clause uses one.
    pub kstack: Option<Option<u32>>,
    pub ustack: Option<Option<u32>>,
}

/// The larger ask of two stack uses (None inside: the option's count).
fn more_frames(a: Option<Option<u32>>, b: Option<u32>) -> Option<Option<u32>> {
    Some(match (a, b) {
        (None, b) => b,
        (Some(None), _) | (_, None) => None,
        (Some(Some(x)), Some(y)) => Some(x.max(y)),
    })
}

impl ProbePlan {
    /// The frames of the kernel and the user stack to capture, with the
    /// options' counts for stacks that name none (0: no stack).
    pub fn stack_frames(&self, stackframes: u32, ustackframes: u32) -> (u32, u32) {
        let n = |s: Option<Option<u32>>, opt: u32| s.map_or(0, |f| f.unwrap_or(opt).max(1));
        (n(self.kstack, stackframes), n(self.ustack, ustackframes))
    }
}

/// One copyin/copyinstr the kernel side performs for a probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserCapture {
    pub site: u16,
    pub kind: CopyKind,
    pub addr: PlanValue,
    /// None: copyinstr without a bound (`strsize`).
    pub len: Option<PlanValue>,
}

/// A value the kernel side knows when the probe fires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanValue {
    /// The u64 at this record offset (a probe argument).
    Record(u32),
    Const(i64),
    /// A `self->` variable, set from the record offset given at each of
    /// these probes (the provider decides whether it can keep it, e.g. a
    /// syscall's entry arguments for its return).
    SelfVar {
        var: VarId,
        set_at: Vec<(ProbeIndex, u32)>,
    },
}

impl ProbePlan {
    /// Bytes of record the clauses need: the end of the last range read
    /// (0 if none). The event header is not counted: the runtime always
    /// has it.
    pub fn record_len(&self) -> usize {
        self.record.last().map_or(0, |r| r.end)
    }

    /// Whether any byte of `range` is read.
    pub fn reads(&self, range: Range<usize>) -> bool {
        self.record
            .iter()
            .any(|r| r.start < range.end && range.start < r.end)
    }
}

impl CapturePlan {
    /// The plan of probe `i` (an empty plan for an index out of range).
    pub fn probe(&self, i: ProbeIndex) -> &ProbePlan {
        static EMPTY: ProbePlan = ProbePlan {
            kstack: None,
            ustack: None,
            record: Vec::new(),
            user: Vec::new(),
        };
        self.probes.get(i).unwrap_or(&EMPTY)
    }

    /// The longest record any probe's clauses need.
    pub fn record_len(&self) -> usize {
        self.probes
            .iter()
            .map(ProbePlan::record_len)
            .max()
            .unwrap_or(0)
    }
}

/// Computes the plan of every probe in `program.probes`.
pub fn capture_plan(program: &Program) -> CapturePlan {
    let sets = self_sets(program);
    let mut probes = vec![ProbePlan::default(); program.probes.len()];
    let mut problems = Vec::new();
    for clause in &program.clauses {
        let mut reads = Reads {
            sets: &sets,
            record: Vec::new(),
            user: Vec::new(),
            kstack: None,
            ustack: None,
            problems: &mut problems,
        };
        visit::walk_clause(&mut reads, clause);
        let (record, user) = (reads.record, reads.user);
        for &p in &clause.probes {
            if let Some(plan) = probes.get_mut(p) {
                plan.record.extend(record.iter().cloned());
                plan.user.extend(user.iter().cloned());
                if let Some(k) = reads.kstack {
                    plan.kstack = more_frames(plan.kstack, k);
                }
                if let Some(u) = reads.ustack {
                    plan.ustack = more_frames(plan.ustack, u);
                }
            }
        }
    }
    for plan in &mut probes {
        plan.record = merge(std::mem::take(&mut plan.record));
    }
    CapturePlan { probes, problems }
}

/// How each `self->` variable is set: from which record offset at which
/// probes; None when some assignment is not a probe argument (clearing it
/// with 0 does not count).
type SelfSets = HashMap<VarId, Option<Vec<(ProbeIndex, u32)>>>;

fn self_sets(program: &Program) -> SelfSets {
    struct Sets<'a> {
        probes: &'a [ProbeIndex],
        sets: SelfSets,
    }
    impl Visitor for Sets<'_> {
        fn visit_expr(&mut self, e: &Expr) {
            if let ExprKind::Assign {
                place: Place::SelfVar(var),
                op,
                value,
            } = &e.kind
            {
                let entry = self.sets.entry(*var).or_insert_with(|| Some(Vec::new()));
                match (op, record_offset(value)) {
                    _ if matches!(value.kind, ExprKind::Int(0)) && op.is_none() => {}
                    (None, Some(off)) => {
                        if let Some(list) = entry {
                            list.extend(self.probes.iter().map(|&p| (p, off)));
                        }
                    }
                    _ => *entry = None,
                }
            }
            visit::walk_expr(self, e)
        }
    }
    let mut s = Sets {
        probes: &[],
        sets: HashMap::new(),
    };
    for clause in &program.clauses {
        s.probes = &clause.probes;
        visit::walk_clause(&mut s, clause);
    }
    s.sets
}

/// The record offset of a 64-bit probe argument (through casts).
fn record_offset(e: &Expr) -> Option<u32> {
    match &e.kind {
        ExprKind::Field(FieldSource::Load { offset, int }) if int.size == 8 => Some(*offset),
        ExprKind::Cast(_, inner) => record_offset(inner),
        _ => None,
    }
}

/// What one clause reads.
struct Reads<'a> {
    sets: &'a SelfSets,
    record: Vec<Range<usize>>,
    user: Vec<UserCapture>,
    kstack: Option<Option<u32>>,
    ustack: Option<Option<u32>>,
    problems: &'a mut Vec<(Span, String)>,
}

impl Reads<'_> {
    fn value(&mut self, e: &Expr) -> Option<PlanValue> {
        if let Some(off) = record_offset(e) {
            return Some(PlanValue::Record(off));
        }
        match &e.kind {
            ExprKind::Int(v) => Some(PlanValue::Const(*v)),
            ExprKind::Cast(_, inner) => self.value(inner),
            ExprKind::Load(Place::SelfVar(var)) => match self.sets.get(var) {
                Some(Some(set_at)) if !set_at.is_empty() => Some(PlanValue::SelfVar {
                    var: *var,
                    set_at: set_at.clone(),
                }),
                _ => {
                    self.problems.push((
                        e.span,
                        "this self-> variable must be set from an argument of a probe \
                         (e.g. self->p = arg1 at the system call's entry): rdtrace copies \
                         user memory in the kernel when the probe fires"
                            .into(),
                    ));
                    None
                }
            },
            _ => None,
        }
    }
}

impl Visitor for Reads<'_> {
    fn visit_expr(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::Field(src) => self.record.extend(field_ranges(src)),
            ExprKind::Stack { user, frames, area } => {
                let at = area.count_at as usize;
                self.record.push(at..at + 4);
                let s = if *user {
                    &mut self.ustack
                } else {
                    &mut self.kstack
                };
                *s = more_frames(*s, *frames);
            }

            ExprKind::CopyIn(c) => {
                // The byte count of the captures is read from the record.
                let at = c.area.count_at as usize;
                self.record.push(at..at + 4);
                let addr = self.value(&c.addr);
                let len = match &c.len {
                    Some(l) => self.value(l).map(Some),
                    None => Some(None),
                };
                if let (Some(addr), Some(len)) = (addr, len) {
                    self.user.push(UserCapture {
                        site: c.site,
                        kind: c.kind,
                        addr,
                        len,
                    });
                }
            }
            _ => {}
        }
        visit::walk_expr(self, e)
    }
}

/// The record bytes a field source reads.
fn field_ranges(src: &FieldSource) -> Vec<Range<usize>> {
    let at = |offset: u32, len: usize| offset as usize..offset as usize + len;
    match src {
        FieldSource::Load { offset, int } => vec![at(*offset, int.size as usize)],
        FieldSource::InetAddr { addr, version } => vec![at(*addr, 16), at(*version, 1)],
        FieldSource::Chars { offset, len } => vec![at(*offset, *len as usize)],
        FieldSource::DataLoc { loc, base, max } => vec![at(*loc, 4), at(*base, *max as usize)],
        FieldSource::Const(_) | FieldSource::Unavailable => Vec::new(),
    }
}

/// Sorts ranges and merges the overlapping or touching ones.
fn merge(mut ranges: Vec<Range<usize>>) -> Vec<Range<usize>> {
    ranges.sort_by_key(|r| (r.start, r.end));
    let mut out: Vec<Range<usize>> = Vec::new();
    for r in ranges {
        match out.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => out.push(r),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Catalog, Layout, ProbeDef, ProbeKind};
    use crate::types::IntType;
    use crate::CheckOptions;

    /// Two probes of one layout with a u32 at 40, an address at 48 (version
    /// byte at 44) and 8 chars at 64; `pid` at 8.
    fn catalog() -> Catalog {
        let mut c = Catalog::default();
        let probe = |id, name: &str| ProbeDef {
            id,
            provider: "p".into(),
            module: String::new(),
            function: String::new(),
            name: name.into(),
            kind: ProbeKind::Event { layout: 1 },
            args: Vec::new(),
            unavailable: None,
        };
        c.probes = vec![probe(10, "a"), probe(11, "b")];
        c.layouts = vec![Layout {
            id: 1,
            members: Vec::new(),
            builtins: vec![
                (
                    "pid".into(),
                    FieldSource::Load {
                        offset: 8,
                        int: IntType::UINT,
                    },
                ),
                ("execname".into(), FieldSource::Chars { offset: 64, len: 8 }),
            ],
            captures: None,
        }];
        c
    }

    fn plan(src: &str) -> CapturePlan {
        let p = crate::compile("t.d", src, &catalog(), &CheckOptions::default())
            .unwrap_or_else(|e| panic!("{src}: {}", e.render()));
        capture_plan(&p)
    }

    #[test]
    fn each_probe_gets_the_reads_of_its_own_clauses() {
        let p = plan("p:::a { trace(pid); } p:::b { @[execname] = count(); }");
        assert_eq!(p.probe(0).record, vec![8..12]);
        assert_eq!(p.probe(1).record, vec![64..72]);
        assert_eq!(p.probe(0).record_len(), 12);
        assert_eq!(p.record_len(), 72);
        assert!(p.probe(1).reads(70..80));
        assert!(!p.probe(1).reads(72..80));
    }

    #[test]
    fn predicates_keys_and_nested_statements_count_and_ranges_merge() {
        let p = plan(
            "p:::a /pid > 0/ { if (1) { printf(\"%s\", execname); } } p:::a,p:::b { x[pid] = 1; }",
        );
        assert_eq!(p.probe(0).record, vec![8..12, 64..72]);
        assert_eq!(p.probe(1).record, vec![8..12]);
    }

    #[test]
    fn probes_without_field_reads_have_empty_plans() {
        let p = plan("p:::a { trace(1); } p:::b { trace(timestamp); }");
        assert_eq!(p.probe(0), &ProbePlan::default());
        assert_eq!(p.probe(1).record_len(), 0);
        assert_eq!(p.probe(99).record_len(), 0);
    }
}
