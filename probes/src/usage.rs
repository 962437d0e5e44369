//! What a checked program reads of the tcp records, so that the kernel side
//! does only the work the script needs: following connections (a map
//! lookup and a read of the socket per segment) is skipped when no clause
//! of a tcp probe reads the socket state or the socket address. Decided
//! from the program's capture plan ([`rdtrace_lang::plan`]).

use crate::catalog::{LAYOUT_TCP, TCP_RECEIVE, TCP_SEND};
use crate::event::TcpEvent;
use rdtrace_lang::catalog::ProbeKind;
use rdtrace_lang::plan::capture_plan;
use rdtrace_lang::typed::Program;
use std::mem::{offset_of, size_of};

/// Whether the kernel must follow TCP connections for `program`: any tcp
/// probe other than send/receive is enabled, or a clause of a tcp probe
/// reads `TcpEvent::sk` or `TcpEvent::sock` (tcpsinfo_t, tcplsinfo_t,
/// cs_cid, cs_addr, cs_pid).
pub fn needs_socket_state(program: &Program) -> bool {
    let tcp = ProbeKind::Event { layout: LAYOUT_TCP };
    let plan = capture_plan(program);
    let sk = offset_of!(TcpEvent, sk);
    let sock = offset_of!(TcpEvent, sock);
    program
        .probes
        .iter()
        .enumerate()
        .filter(|(_, p)| p.kind == tcp)
        .any(|(i, p)| {
            let reads = plan.probe(i);
            (p.id != TCP_SEND && p.id != TCP_RECEIVE)
                || reads.reads(sk..sk + 8)
                || reads.reads(sock..size_of::<TcpEvent>())
        })
}

/// What the kernel must capture for each probe of `program` beyond its
/// record, and how many stack frames.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KernelFlags {
    /// (probe, flags) of the probes that need something: `TASK_PSARGS`,
    /// `TASK_INFO`, `KSTACK`, `USTACK`.
    pub probes: Vec<(u32, u32)>,
    /// Frames of the kernel / user stacks captured (the most any clause
    /// asks for; `stack()` alone asks for the stackframes option's).
    pub kstack_frames: u32,
    pub ustack_frames: u32,
}

/// [`task_flags`] and the probes' stacks (`KSTACK`, `USTACK`), with the
/// stackframes / ustackframes options' counts for stacks naming none.
pub fn kernel_flags(program: &Program, stackframes: u32, ustackframes: u32) -> KernelFlags {
    use crate::event::{KSTACK, USTACK};
    let plan = capture_plan(program);
    let mut out = KernelFlags::default();
    let task = task_flags(program);
    for (i, p) in program.probes.iter().enumerate() {
        let (k, u) = plan.probe(i).stack_frames(stackframes, ustackframes);
        let mut flags = task.iter().find(|t| t.0 == p.id).map_or(0, |t| t.1);
        if k > 0 {
            flags |= KSTACK;
            // A few frames more for the tracing machinery between the
            // probe's site and the program, which the runtime leaves out.
            out.kstack_frames = out.kstack_frames.max((k + 4).min(crate::event::MAX_FRAMES));
        }
        if u > 0 {
            flags |= USTACK;
            out.ustack_frames = out.ustack_frames.max(u);
        }
        if flags != 0 {
            out.probes.push((p.id, flags));
        }
    }
    out
}

/// The in-kernel predicate filters of `program`'s syscall and task probes
/// (probe id, map value), with `$target` = `target`: see
/// [`rdtrace_lang::filter`].
pub fn kernel_filters(program: &Program, target: i64) -> Vec<(u32, crate::event::ProbeFilter)> {
    use crate::event::{filter_op, FilterCond, ProbeFilter, COND_SIGNED, COND_UNSIGNED};
    use crate::providers::{syscall::LAYOUT_SYSCALL, task::LAYOUT_TASK};
    use rdtrace_lang::typed::BinOp;
    let filters = rdtrace_lang::filter::kernel_filters(program, target);
    let mut out = Vec::new();
    for (p, conds) in program.probes.iter().zip(filters) {
        let filtered = matches!(
            p.kind,
            ProbeKind::Event {
                layout: LAYOUT_SYSCALL | LAYOUT_TASK
            }
        );
        if !filtered || conds.is_empty() {
            continue;
        }
        let mut f = ProbeFilter::default();
        for c in conds.iter().filter(|c| c.offset < 1024) {
            let op = match c.op {
                BinOp::Eq => filter_op::EQ,
                BinOp::Ne => filter_op::NE,
                BinOp::Lt => filter_op::LT,
                BinOp::Le => filter_op::LE,
                BinOp::Gt => filter_op::GT,
                _ => filter_op::GE,
            };
            f.conds[f.n as usize] = FilterCond {
                offset: c.offset as u16,
                size: c.int.size,
                flags: if c.int.signed { COND_SIGNED } else { 0 }
                    | if c.unsigned { COND_UNSIGNED } else { 0 },
                op,
                pad: [0; 3],
                value: c.value,
            };
            f.n += 1;
        }
        if f.n > 0 {
            out.push((p.id, f));
        }
    }
    out
}

/// What the kernel must read of the current thread for each probe of
/// `program`: `TASK_PSARGS` when its clauses read the command line
/// (`curpsinfo->pr_psargs`, user memory), and, for a syscall probe,
/// `TASK_INFO` when they read `curpsinfo`, `curlwpsinfo` or `vtimestamp`
/// at all (the task records always carry them). Probes needing neither
/// are left out.
pub fn task_flags(program: &Program) -> Vec<(u32, u32)> {
    use crate::event::{
        CaptureHeader, SyscallEvent, TaskEvent, TaskInfo, PSARGS, TASK_INFO, TASK_PSARGS,
    };
    use crate::providers::{syscall::LAYOUT_SYSCALL, task::LAYOUT_TASK};
    let plan = capture_plan(program);
    let psargs = offset_of!(TaskInfo, psargs);
    let in_syscall = size_of::<SyscallEvent>() + size_of::<CaptureHeader>();
    let mut out = Vec::new();
    for (i, p) in program.probes.iter().enumerate() {
        let reads = plan.probe(i);
        let flags = match p.kind {
            ProbeKind::Event {
                layout: LAYOUT_TASK,
            } => {
                let at = offset_of!(TaskEvent, cur) + psargs;
                if reads.reads(at..at + PSARGS) {
                    TASK_PSARGS
                } else {
                    0
                }
            }
            ProbeKind::Event {
                layout: LAYOUT_SYSCALL,
            } => {
                let at = in_syscall + psargs;
                let info = if reads.reads(in_syscall..in_syscall + size_of::<TaskInfo>()) {
                    TASK_INFO
                } else {
                    0
                };
                info | if reads.reads(at..at + PSARGS) {
                    TASK_PSARGS
                } else {
                    0
                }
            }
            _ => 0,
        };
        if flags != 0 {
            out.push((p.id, flags));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdtrace_lang::CheckOptions;

    fn flags(src: &str) -> Vec<(u32, u32)> {
        let program =
            rdtrace_lang::compile("t.d", src, &crate::catalog(), &CheckOptions::default())
                .unwrap_or_else(|e| panic!("{src}: {}", e.render()));
        task_flags(&program)
    }

    fn psargs(src: &str) -> Vec<u32> {
        flags(src)
            .into_iter()
            .filter(|f| f.1 & crate::event::TASK_PSARGS != 0)
            .map(|f| f.0)
            .collect()
    }

    #[test]
    fn syscall_probes_carry_the_thread_only_when_read() {
        use crate::event::{TASK_INFO, TASK_PSARGS};
        assert!(flags("syscall::read:entry { trace(pid); }").is_empty());
        let f = flags("syscall::read:entry { trace(curpsinfo->pr_ppid); }");
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].1, TASK_INFO);
        let f = flags("syscall::execve:return { trace(curpsinfo->pr_psargs); }");
        assert_eq!(f[0].1, TASK_INFO | TASK_PSARGS);
        let f = flags("syscall::read:entry { trace(vtimestamp); }");
        assert_eq!(f[0].1, TASK_INFO);
    }

    #[test]
    fn only_probes_reading_the_command_line_read_it() {
        use crate::providers::proc::{PROC_EXEC_SUCCESS, PROC_EXIT};
        assert_eq!(
            psargs(
                "proc:::exec-success { trace(curpsinfo->pr_psargs); } proc:::exit { trace(pid); }"
            ),
            [PROC_EXEC_SUCCESS]
        );
        assert!(psargs("proc:::exit { trace(curpsinfo->pr_fname); }").is_empty());
        assert_eq!(
            psargs("proc:::exit { trace(curpsinfo->pr_psargs); }"),
            [PROC_EXIT]
        );
        // Another thread's command line is its name: nothing to read.
        assert!(psargs("proc:::create { trace(args[0]->pr_psargs); }").is_empty());
    }

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
