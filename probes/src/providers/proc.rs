//! The proc provider: processes and threads created, exec'd, exiting and
//! signalled, on tracepoints only (Oracle's DTrace builds `exit`, `start`,
//! `lwp-start` and `signal-send` on kprobes). Kernel part: `bpf/task.h`.
//!
//! | probe | tracepoint | fires in |
//! |---|---|---|
//! | `exec` | `syscalls:sys_enter_execve`, `sys_enter_execveat` | the caller, args[0] the path |
//! | `exec-success` | `sched:sched_process_exec` | the new image |
//! | `exec-failure` | `syscalls:sys_exit_execve(at)` with an error | the caller, args[0] the errno |
//! | `exit` | `sched:sched_process_exit`, last thread | the exiting process, args[0] CLD_EXITED/KILLED/DUMPED |
//! | `lwp-exit` | `sched:sched_process_exit`, other threads | the exiting thread |
//! | `create`, `lwp-create` | `task:task_newtask` (without / with CLONE_THREAD) | the parent, args[0] the child |
//! | `start`, `lwp-start` | `sched:sched_switch` to a thread `task_newtask` saw | the new thread, before it runs |
//! | `signal-send`, `signal-discard` | `signal:signal_generate` (discard: the target ignores it) | the sender |
//! | `signal-handle` | `signal:signal_deliver` | the receiver, args[2] the handler (0: default action) |

use super::task::{
    btf, hooks_of, int_arg, no_args, present, task_probe_defs, thread_args, BtfHook, TaskProbe,
};
use super::{Hook, Provider};
use crate::catalog::ptr_arg;
use crate::event::RAW_MAX;
use rdtrace_lang::catalog::{ArgDef, FieldSource, ProbeDef};
use rdtrace_lang::types::{IntType, Type};

pub const PROC_EXEC: u32 = 16;
pub const PROC_EXEC_SUCCESS: u32 = 17;
pub const PROC_EXEC_FAILURE: u32 = 18;
pub const PROC_EXIT: u32 = 19;
pub const PROC_CREATE: u32 = 20;
pub const PROC_START: u32 = 21;
pub const PROC_LWP_CREATE: u32 = 22;
pub const PROC_LWP_START: u32 = 23;
pub const PROC_LWP_EXIT: u32 = 24;
pub const PROC_SIGNAL_SEND: u32 = 25;
pub const PROC_SIGNAL_HANDLE: u32 = 26;
pub const PROC_SIGNAL_DISCARD: u32 = 27;

const SWITCH: BtfHook = btf("sched_switch", "task_sched_switch");
const NEWTASK: BtfHook = btf("task_newtask", "task_newtask");
const EXIT: BtfHook = btf("sched_process_exit", "task_process_exit");
const GENERATE: BtfHook = btf("signal_generate", "task_signal_generate");

/// `exec`: the path is copied at execve's entry into the raw area
/// (at most 256 bytes with its NUL).
fn exec_args() -> Vec<ArgDef> {
    vec![ArgDef {
        ty: Type::String,
        display: "string".into(),
        source: Some(FieldSource::Chars {
            offset: super::task::raw_offset() as u32,
            len: 256.min(RAW_MAX as u32),
        }),
    }]
}

fn errno_arg() -> Vec<ArgDef> {
    vec![int_arg(0, IntType::INT, "int")]
}

fn create_args() -> Vec<ArgDef> {
    vec![ptr_arg("psinfo_t")]
}

fn signal_args() -> Vec<ArgDef> {
    let mut a = thread_args();
    a.push(int_arg(2, IntType::INT, "int"));
    a
}

fn handle_args() -> Vec<ArgDef> {
    vec![
        int_arg(0, IntType::INT, "int"),
        int_arg(1, IntType::UINT64, "siginfo_t *"),
        int_arg(2, IntType::UINT64, "void (*)(void)"),
    ]
}

/// The syscall tracepoints of exec (a program per call: the filename is
/// execve's first argument, execveat's second) and exec-failure.
fn exec_hooks(entry: bool) -> Vec<Hook> {
    let (prefix, progs, probe) = if entry {
        (
            "sys_enter_",
            ["proc_exec_entry", "proc_execat_entry"],
            PROC_EXEC,
        )
    } else {
        ("sys_exit_", ["proc_exec_return"; 2], PROC_EXEC_FAILURE)
    };
    ["execve", "execveat"]
        .into_iter()
        .zip(progs)
        .map(|(call, prog)| Hook::Tracepoint {
            category: "syscalls",
            name: format!("{prefix}{call}"),
            prog,
            probe,
            flags: 0,
        })
        .collect()
}

const PROBES: &[TaskProbe] = &[
    present(PROC_EXEC, "exec", exec_args, &[]),
    present(
        PROC_EXEC_SUCCESS,
        "exec-success",
        no_args,
        &[btf("sched_process_exec", "task_process_exec")],
    ),
    present(PROC_EXEC_FAILURE, "exec-failure", errno_arg, &[]),
    present(PROC_EXIT, "exit", errno_arg, &[EXIT]),
    present(PROC_CREATE, "create", create_args, &[NEWTASK]),
    present(PROC_START, "start", no_args, &[NEWTASK, SWITCH]),
    present(PROC_LWP_CREATE, "lwp-create", thread_args, &[NEWTASK]),
    present(PROC_LWP_START, "lwp-start", no_args, &[NEWTASK, SWITCH]),
    present(PROC_LWP_EXIT, "lwp-exit", no_args, &[EXIT]),
    present(PROC_SIGNAL_SEND, "signal-send", signal_args, &[GENERATE]),
    present(
        PROC_SIGNAL_HANDLE,
        "signal-handle",
        handle_args,
        &[btf("signal_deliver", "task_signal_deliver")],
    ),
    present(
        PROC_SIGNAL_DISCARD,
        "signal-discard",
        signal_args,
        &[GENERATE],
    ),
];

pub struct Proc;

impl Provider for Proc {
    fn name(&self) -> &'static str {
        "proc"
    }
    fn probes(&self) -> Vec<ProbeDef> {
        task_probe_defs("proc", PROBES)
    }
    fn layouts(&self) -> Vec<crate::catalog::TypedLayout> {
        vec![super::task::task_layout()]
    }
    /// dtrace-utils' procfs.d: exit reasons, lwp states, data models.
    fn constants(&self) -> Vec<rdtrace_lang::catalog::ConstDef> {
        let char_const = |(name, value): (&str, i64)| rdtrace_lang::catalog::ConstDef {
            name: name.into(),
            value,
            ty: Type::Int(IntType::CHAR),
        };
        let ints = [
            ("CLD_EXITED", 1),
            ("CLD_KILLED", 2),
            ("CLD_DUMPED", 3),
            ("CLD_TRAPPED", 4),
            ("CLD_STOPPED", 5),
            ("CLD_CONTINUED", 6),
            ("PR_STOPPED", 1),
        ];
        let chars = [
            ("SSLEEP", 1),
            ("SRUN", 2),
            ("SZOMB", 3),
            ("SSTOP", 4),
            ("SIDL", 5),
            ("SONPROC", 6),
            ("SWAIT", 7),
            ("PR_MODEL_ILP32", 1),
            ("PR_MODEL_LP64", 2),
        ];
        ints.into_iter()
            .chain(super::sysconsts::SIGNALS.iter().copied())
            .map(crate::catalog::int_const)
            .chain(chars.into_iter().map(char_const))
            .collect()
    }
    fn hooks(&self, probe: u32, _socket_state: bool) -> Vec<Hook> {
        match probe {
            PROC_EXEC => exec_hooks(true),
            PROC_EXEC_FAILURE => exec_hooks(false),
            _ => hooks_of(PROBES, probe),
        }
    }
}
