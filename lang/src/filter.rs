//! Predicates the kernel can evaluate before a record crosses the ring
//! buffer: comparisons of a record field with a constant (or `$target`),
//! joined by `&&`. A probe gets the conditions every one of its clauses'
//! predicates implies; an event failing one of them would be rejected by
//! every clause, so dropping it in the kernel changes no output. Anything
//! else in a predicate (`||`, strings, variables, arithmetic) is left to
//! the user-space predicate, which always runs too.
//!
//! [`passes`] is the kernel's evaluation (`bpf/filter.h`) in Rust: field
//! loaded by its integer type and extended to 64 bits, compared as the
//! typed program compares (`unsigned` orderings), exactly what the JIT and
//! the interpreter do.

use crate::catalog::FieldSource;
use crate::typed::{BinOp, Builtin, Expr, ExprKind, LogicalOp, Program};
use crate::types::IntType;

/// The most conditions the kernel tests per probe.
pub const MAX_CONDS: usize = 4;

/// `field op value` on a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilterCond {
    pub offset: u32,
    pub int: IntType,
    pub op: BinOp,
    /// Ordering compared as unsigned 64-bit values.
    pub unsigned: bool,
    pub value: i64,
}

/// Per enabled probe (index into `Program::probes`), the conditions its
/// records must meet (at most [`MAX_CONDS`]; empty: no filter).
pub fn kernel_filters(program: &Program, target: i64) -> Vec<Vec<FilterCond>> {
    let mut per_probe: Vec<Option<Vec<FilterCond>>> = vec![None; program.probes.len()];
    for clause in &program.clauses {
        let mut conds = Vec::new();
        if let Some(p) = &clause.predicate {
            conjuncts(p, target, &mut conds);
        }
        for &p in &clause.probes {
            let Some(slot) = per_probe.get_mut(p) else {
                continue;
            };
            *slot = Some(match slot.take() {
                None => conds.clone(),
                // What every clause implies.
                Some(prev) => prev.into_iter().filter(|c| conds.contains(c)).collect(),
            });
        }
    }
    per_probe
        .into_iter()
        .map(|c| {
            let mut c = c.unwrap_or_default();
            c.truncate(MAX_CONDS);
            c
        })
        .collect()
}

/// The comparisons among the `&&` operands of `e`, each once.
fn conjuncts(e: &Expr, target: i64, out: &mut Vec<FilterCond>) {
    for c in and_operands(e).filter_map(|x| comparison(x, target)) {
        if !out.contains(&c) {
            out.push(c);
        }
    }
}

/// The operands of the `&&` chain `e` (`e` itself when it is not one).
fn and_operands(e: &Expr) -> impl Iterator<Item = &Expr> {
    let mut stack = vec![e];
    std::iter::from_fn(move || {
        while let Some(x) = stack.pop() {
            match &x.kind {
                ExprKind::Logical {
                    op: LogicalOp::And,
                    lhs,
                    rhs,
                } => {
                    stack.push(rhs);
                    stack.push(lhs);
                }
                _ => return Some(x),
            }
        }
        None
    })
}

/// `e` as one condition: a comparison of a record field with a constant
/// (or `$target`), either way round.
pub(crate) fn comparison(e: &Expr, target: i64) -> Option<FilterCond> {
    let ExprKind::Binary {
        op,
        unsigned,
        lhs,
        rhs,
    } = &e.kind
    else {
        return None;
    };
    if !is_comparison(*op) {
        return None;
    }
    let constant = |x: &Expr| match x.kind {
        ExprKind::Int(v) => Some(v),
        ExprKind::Builtin(Builtin::Target) => Some(target),
        _ => None,
    };
    let field = |x: &Expr| match x.kind {
        ExprKind::Field(FieldSource::Load { offset, int }) => Some((offset, int)),
        _ => None,
    };
    let (offset, int, op, value) =
        if let (Some((offset, int)), Some(value)) = (field(lhs), constant(rhs)) {
            (offset, int, *op, value)
        } else if let (Some(value), Some((offset, int))) = (constant(lhs), field(rhs)) {
            (offset, int, flip(*op), value)
        } else {
            return None;
        };
    Some(FilterCond {
        offset,
        int,
        op,
        unsigned: *unsigned,
        value,
    })
}

/// The conditions `e` is exactly (a comparison, or `&&` of them), or None
/// when any part of it is something else: the kernel's evaluation then
/// decides the predicate, not just narrows it.
pub(crate) fn exact_conds(e: &Expr, target: i64) -> Option<Vec<FilterCond>> {
    let mut all = Vec::new();
    for x in and_operands(e) {
        let c = comparison(x, target)?;
        if !all.contains(&c) {
            all.push(c);
        }
    }
    Some(all)
}

fn is_comparison(op: BinOp) -> bool {
    matches!(
        op,
        BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge
    )
}

/// `c op x` as `x op' c`.
fn flip(op: BinOp) -> BinOp {
    match op {
        BinOp::Lt => BinOp::Gt,
        BinOp::Le => BinOp::Ge,
        BinOp::Gt => BinOp::Lt,
        BinOp::Ge => BinOp::Le,
        other => other,
    }
}

/// Whether `record` meets every condition (a field past its end passes:
/// the kernel cannot read it either).
pub fn passes(conds: &[FilterCond], record: &[u8]) -> bool {
    conds.iter().all(|c| {
        let at = c.offset as usize;
        let size = c.int.size as usize;
        let Some(bytes) = record.get(at..at + size) else {
            return true;
        };
        let mut b = [0u8; 8];
        b[..size].copy_from_slice(bytes);
        let v = c.int.normalize(i64::from_le_bytes(b));
        let ord = if c.unsigned {
            (v as u64).cmp(&(c.value as u64))
        } else {
            v.cmp(&c.value)
        };
        match c.op {
            BinOp::Eq => v == c.value,
            BinOp::Ne => v != c.value,
            BinOp::Lt => ord.is_lt(),
            BinOp::Le => ord.is_le(),
            BinOp::Gt => ord.is_gt(),
            BinOp::Ge => ord.is_ge(),
            _ => true,
        }
    })
}
