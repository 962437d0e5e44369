//! The capture plan: for each enabled probe, what the clauses enabled on it
//! read, so that the kernel side captures only that and the engines (JIT
//! and interpreter) pad short records the same way. Computed once from the
//! checked program by [`capture_plan`] with the [`crate::visit`] walker.
//!
//! Today a probe's plan is the record bytes its clauses read. The next
//! providers extend [`ProbePlan`] here, one field per kind of capture, each
//! filled by the same walk in [`Reads`]: user memory to copy in
//! (`copyin`/`copyinstr`, syscall issue), stack captures, task fields.

use std::ops::Range;

use crate::catalog::FieldSource;
use crate::typed::{Expr, ExprKind, ProbeIndex, Program};
use crate::visit::{self, Visitor};

/// What each enabled probe's clauses read, indexed by [`ProbeIndex`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CapturePlan {
    probes: Vec<ProbePlan>,
}

/// What the clauses enabled on one probe read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProbePlan {
    /// Record byte ranges read by field accesses (`args[i]->member` and the
    /// record-backed built-in variables), sorted and merged.
    pub record: Vec<Range<usize>>,
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
        static EMPTY: ProbePlan = ProbePlan { record: Vec::new() };
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
    let mut probes = vec![ProbePlan::default(); program.probes.len()];
    for clause in &program.clauses {
        let mut reads = Reads::default();
        visit::walk_clause(&mut reads, clause);
        for &p in &clause.probes {
            if let Some(plan) = probes.get_mut(p) {
                plan.record.extend(reads.record.iter().cloned());
            }
        }
    }
    for plan in &mut probes {
        plan.record = merge(std::mem::take(&mut plan.record));
    }
    CapturePlan { probes }
}

/// What one clause reads.
#[derive(Default)]
struct Reads {
    record: Vec<Range<usize>>,
}

impl Visitor for Reads {
    fn visit_expr(&mut self, e: &Expr) {
        if let ExprKind::Field(src) = &e.kind {
            self.record.extend(field_ranges(src));
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
