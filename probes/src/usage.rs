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

/// The task probes (proc, sched, io, sdt) whose clauses read the command
/// line of the thread they fire for (`curpsinfo->pr_psargs`): reading it
/// is a read of user memory, done only for these.
pub fn needs_psargs(program: &Program) -> Vec<u32> {
    use crate::event::{TaskEvent, TaskInfo, PSARGS};
    use crate::providers::task::LAYOUT_TASK;
    let task = ProbeKind::Event {
        layout: LAYOUT_TASK,
    };
    let at = offset_of!(TaskEvent, cur) + offset_of!(TaskInfo, psargs);
    let plan = capture_plan(program);
    program
        .probes
        .iter()
        .enumerate()
        .filter(|(i, p)| p.kind == task && plan.probe(*i).reads(at..at + PSARGS))
        .map(|(_, p)| p.id)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdtrace_lang::CheckOptions;

    fn psargs(src: &str) -> Vec<u32> {
        let program =
            rdtrace_lang::compile("t.d", src, &crate::catalog(), &CheckOptions::default())
                .unwrap_or_else(|e| panic!("{src}: {}", e.render()));
        needs_psargs(&program)
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
