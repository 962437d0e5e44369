//! The sched provider: threads going on and off CPU, sleeping, preempted,
//! woken, boosted. Kernel part: `bpf/task.h`.
//!
//! | probe | tracepoint | fires in |
//! |---|---|---|
//! | `on-cpu` | `sched:sched_switch` | the thread switched in |
//! | `off-cpu` | `sched:sched_switch` | the thread switched out; args: the next one |
//! | `sleep` | `sched:sched_switch`, the thread blocks | the thread going to sleep |
//! | `preempt` | `sched:sched_switch`, preempted | the preempted thread |
//! | `wakeup` | `sched:sched_waking` | the waker; args: the woken thread |
//! | `change-pri` | `sched:sched_pi_setprio` (priority inheritance) | args: the thread and its new priority |
//!
//! Linux has no tracepoint for `enqueue`, `dequeue`, `remain-cpu`,
//! `tick`, `surrender` and the `schedctl-*` probes: they are known and
//! refused with the reason.

use super::task::{
    btf, hooks_of, int_arg, missing, no_args, present, task_probe_defs, thread_args, BtfHook,
    TaskProbe,
};
use super::{Hook, Provider};
use rdtrace_lang::catalog::{ArgDef, ProbeDef};
use rdtrace_lang::types::IntType;

pub const SCHED_ON_CPU: u32 = 28;
pub const SCHED_OFF_CPU: u32 = 29;
pub const SCHED_SLEEP: u32 = 30;
pub const SCHED_PREEMPT: u32 = 31;
pub const SCHED_WAKEUP: u32 = 32;
pub const SCHED_CHANGE_PRI: u32 = 33;

const SWITCH: BtfHook = btf("sched_switch", "task_sched_switch");

fn pri_args() -> Vec<ArgDef> {
    let mut a = thread_args();
    a.push(int_arg(2, IntType::INT, "int"));
    a
}

const NO_RUNQUEUE: &str = "Linux has no tracepoint for run queue changes \
     (without kprobes); sched:::wakeup and sched:::on-cpu show when a thread becomes runnable and runs";

const PROBES: &[TaskProbe] = &[
    present(SCHED_ON_CPU, "on-cpu", no_args, &[SWITCH]),
    present(SCHED_OFF_CPU, "off-cpu", thread_args, &[SWITCH]),
    present(SCHED_SLEEP, "sleep", no_args, &[SWITCH]),
    present(SCHED_PREEMPT, "preempt", no_args, &[SWITCH]),
    present(
        SCHED_WAKEUP,
        "wakeup",
        thread_args,
        &[btf("sched_waking", "task_sched_waking")],
    ),
    present(
        SCHED_CHANGE_PRI,
        "change-pri",
        pri_args,
        &[btf("sched_pi_setprio", "task_sched_pi_setprio")],
    ),
    missing(34, "enqueue", NO_RUNQUEUE),
    missing(35, "dequeue", NO_RUNQUEUE),
    missing(
        36,
        "remain-cpu",
        "the kernel fires no tracepoint when the scheduler keeps the running thread",
    ),
    missing(
        37,
        "tick",
        "Linux has no tracepoint for the scheduler tick; profile-N samples every CPU",
    ),
    missing(
        38,
        "surrender",
        "Linux has no tracepoint for a thread asked to give up its CPU",
    ),
    missing(
        39,
        "schedctl-nopreempt",
        "schedctl is an illumos interface Linux does not have",
    ),
];

pub struct Sched;

impl Provider for Sched {
    fn name(&self) -> &'static str {
        "sched"
    }
    fn probes(&self) -> Vec<ProbeDef> {
        task_probe_defs("sched", PROBES)
    }
    fn hooks(&self, probe: u32, _socket_state: bool) -> Vec<Hook> {
        hooks_of(PROBES, probe)
    }
}
