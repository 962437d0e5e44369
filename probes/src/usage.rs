//! What a checked program reads of the tcp records, so that the kernel side
//! does only the work the script needs: following connections (a map
//! lookup and a read of the socket per segment) is skipped when no clause
//! of a tcp probe reads the socket state or the socket address.

use crate::catalog::{LAYOUT_TCP, TCP_RECEIVE, TCP_SEND};
use crate::event::TcpEvent;
use rdtrace_lang::catalog::{FieldSource, ProbeKind};
use rdtrace_lang::typed::{Expr, ExprKind, Place, Program, Stmt};
use std::mem::{offset_of, size_of};
use std::ops::Range;

/// Whether the kernel must follow TCP connections for `program`: any tcp
/// probe other than send/receive is enabled, or a clause of a tcp probe
/// reads `TcpEvent::sk` or `TcpEvent::sock` (tcpsinfo_t, tcplsinfo_t,
/// cs_cid, cs_addr, cs_pid).
pub fn needs_socket_state(program: &Program) -> bool {
    let is_tcp = |i: &usize| {
        program
            .probes
            .get(*i)
            .is_some_and(|p| p.kind == ProbeKind::Event { layout: LAYOUT_TCP })
    };
    if program.probes.iter().any(|p| {
        p.kind == (ProbeKind::Event { layout: LAYOUT_TCP })
            && p.id != TCP_SEND
            && p.id != TCP_RECEIVE
    }) {
        return true;
    }
    let sk = offset_of!(TcpEvent, sk);
    let sock = offset_of!(TcpEvent, sock);
    let ranges = [sk..sk + 8, sock..size_of::<TcpEvent>()];
    program
        .clauses
        .iter()
        .filter(|c| c.probes.iter().any(is_tcp))
        .any(|c| {
            c.predicate.as_ref().is_some_and(|e| expr_reads(e, &ranges))
                || c.body.iter().any(|s| stmt_reads(s, &ranges))
        })
}

fn overlaps(offset: u32, len: u32, ranges: &[Range<usize>]) -> bool {
    let (a, b) = (offset as usize, (offset + len) as usize);
    ranges.iter().any(|r| a < r.end && r.start < b)
}

fn stmt_reads(s: &Stmt, r: &[Range<usize>]) -> bool {
    let any = |es: &[Expr]| es.iter().any(|e| expr_reads(e, r));
    match s {
        Stmt::Expr(e) | Stmt::Trace { arg: e, .. } | Stmt::Exit { status: e, .. } => {
            expr_reads(e, r)
        }
        Stmt::Raise { signal: e, .. } => expr_reads(e, r),
        Stmt::If {
            cond, then, els, ..
        } => expr_reads(cond, r) || then.iter().chain(els).any(|s| stmt_reads(s, r)),
        Stmt::Printf { args, .. } | Stmt::System { args, .. } => any(args),
        Stmt::AggUpdate { keys, args, .. } => any(keys) || any(args),
        Stmt::Trunc { keep: e, .. } | Stmt::Normalize { factor: e, .. } => {
            e.as_ref().is_some_and(|e| expr_reads(e, r))
        }
        Stmt::Printa { .. } | Stmt::Clear { .. } | Stmt::Stop { .. } => false,
    }
}

fn place_reads(p: &Place, r: &[Range<usize>]) -> bool {
    match p {
        Place::Assoc(_, keys) => keys.iter().any(|e| expr_reads(e, r)),
        Place::Global(_) | Place::This(_) | Place::SelfVar(_) => false,
    }
}

fn expr_reads(e: &Expr, r: &[Range<usize>]) -> bool {
    match &e.kind {
        ExprKind::Field(src) => match src {
            FieldSource::Load { offset, int } => overlaps(*offset, int.size as u32, r),
            FieldSource::InetAddr { addr, version } => {
                overlaps(*addr, 16, r) || overlaps(*version, 1, r)
            }
            FieldSource::Chars { offset, len } => overlaps(*offset, *len, r),
            FieldSource::Const(_) | FieldSource::Unavailable => false,
        },
        ExprKind::Int(_) | ExprKind::Str(_) | ExprKind::Builtin(_) => false,
        ExprKind::Load(p) | ExprKind::IncDec { place: p, .. } => place_reads(p, r),
        ExprKind::Assign { place, value, .. } => place_reads(place, r) || expr_reads(value, r),
        ExprKind::Unary(_, a) | ExprKind::Cast(_, a) => expr_reads(a, r),
        ExprKind::StringTable { index, .. } => expr_reads(index, r),
        ExprKind::Binary { lhs, rhs, .. } | ExprKind::Logical { lhs, rhs, .. } => {
            expr_reads(lhs, r) || expr_reads(rhs, r)
        }
        ExprKind::Ternary { cond, then, els } => {
            expr_reads(cond, r) || expr_reads(then, r) || expr_reads(els, r)
        }
        ExprKind::Call(_, args) => args.iter().any(|a| expr_reads(a, r)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdtrace_lang::CheckOptions;

    fn needs(src: &str) -> bool {
        let program =
            rdtrace_lang::compile("t.d", src, &crate::catalog(), &CheckOptions::default())
                .unwrap_or_else(|e| panic!("{src}: {}", e.render()));
        needs_socket_state(&program)
    }

    #[test]
    fn segment_fields_alone_need_no_connection_tracking() {
        let tcpio = include_str!("../../scripts/tcpio.d");
        assert!(!needs(tcpio));
        assert!(!needs(
            "tcp:::send { @[args[3]->tcps_raddr, args[3]->tcps_rport] = count(); }"
        ));
        assert!(!needs("ip:::send { trace(args[1]->cs_cid); }"));
    }

    #[test]
    fn socket_state_or_connection_probes_need_it() {
        assert!(needs("tcp:::send { trace(args[3]->tcps_state); }"));
        assert!(needs("tcp:::receive /args[3]->tcps_snxt > 0/ { }"));
        assert!(needs("tcp:::receive { this->c = args[1]->cs_cid; }"));
        assert!(needs("tcp:::state-change { }"));
        assert!(needs("tcp:::accept-established { }"));
    }
}
