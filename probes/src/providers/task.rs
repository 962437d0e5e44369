//! What the proc, sched, io and sdt providers share: their record
//! ([`TaskEvent`], layout 5; kernel part `bpf/task.h`), its member rows
//! (`psinfo_t`/`lwpsinfo_t` of an argument and of `curpsinfo`/
//! `curlwpsinfo`, `cpuinfo_t` of `curcpu`, the io structs), its built-ins
//! (`arg0` …, `vtimestamp`), and the probe rows' builder.
//!
//! The member types are dtrace-utils' (`procfs.d`, `io.d`); where Linux
//! has nothing to say the value is the constant dtrace-utils gives
//! (`pr_projid`, `pr_zoneid` … 0, `pr_dmodel` PR_MODEL_LP64). Approximations:
//! `pr_start` is nanoseconds since boot (a `uint64_t`, not a
//! `timestruc_t`); another thread's `pr_psargs` is its `pr_fname` (only the
//! running task's memory can be read when the probe fires).

use std::mem::offset_of;

use super::Hook;
use crate::catalog::{
    load, member, member_as, ptr_arg, record_layout, through, Members, TypedLayout,
};
use crate::event::{IoInfo, TaskEvent, TaskInfo};
use rdtrace_lang::catalog::{ArgDef, FieldSource, ProbeDef, ProbeKind};
use rdtrace_lang::types::{IntType, Type};

/// Layout of [`TaskEvent`] records.
pub const LAYOUT_TASK: u32 = 5;

/// One probe of a task provider: its id, name, arguments and kernel hooks,
/// or why it does not exist on Linux.
pub(crate) struct TaskProbe {
    pub id: u32,
    pub name: &'static str,
    pub args: fn() -> Vec<ArgDef>,
    /// (tracepoint, program) of each `tp_btf` hook it needs.
    pub hooks: &'static [BtfHook],
    /// Set: the probe is known but has no tracepoint to stand on.
    pub missing: Option<&'static str>,
}

/// A probe on the `tp_btf` hooks `hooks` (or, with none, on the hooks its
/// provider's `hooks()` names).
pub(crate) const fn present(
    id: u32,
    name: &'static str,
    args: fn() -> Vec<ArgDef>,
    hooks: &'static [BtfHook],
) -> TaskProbe {
    TaskProbe {
        id,
        name,
        args,
        hooks,
        missing: None,
    }
}

/// A probe Linux has no tracepoint for, and why.
pub(crate) const fn missing(id: u32, name: &'static str, why: &'static str) -> TaskProbe {
    TaskProbe {
        id,
        name,
        args: no_args,
        hooks: &[],
        missing: Some(why),
    }
}

/// The catalog rows of a task provider's probes (module `vmlinux`, as
/// dtrace-utils names kernel probes).
pub(crate) fn task_probe_defs(provider: &str, probes: &[TaskProbe]) -> Vec<ProbeDef> {
    probes
        .iter()
        .map(|p| ProbeDef {
            unavailable: p
                .missing
                .map(|why| format!("{provider}:::{}: {why}", p.name)),
            ..task_probe_def(p.id, [provider, "vmlinux", "", p.name], (p.args)())
        })
        .collect()
}

/// One probe `provider:module:function:name` of a task provider.
pub(crate) fn task_probe_def(
    id: u32,
    [provider, module, function, name]: [&str; 4],
    args: Vec<ArgDef>,
) -> ProbeDef {
    ProbeDef {
        id,
        provider: provider.into(),
        module: module.into(),
        function: function.into(),
        name: name.into(),
        kind: ProbeKind::Event {
            layout: LAYOUT_TASK,
        },
        args,
        unavailable: None,
    }
}

pub(crate) fn hooks_of(probes: &[TaskProbe], id: u32) -> Vec<Hook> {
    probes
        .iter()
        .find(|p| p.id == id && p.missing.is_none())
        .map_or_else(Vec::new, |p| {
            p.hooks
                .iter()
                .map(|&(tracepoint, prog)| Hook::Btf { tracepoint, prog })
                .collect()
        })
}

/// A BTF-typed tracepoint and its program in `bpf/task.h`.
pub(crate) type BtfHook = (&'static str, &'static str);

pub(crate) const fn btf(tracepoint: &'static str, prog: &'static str) -> BtfHook {
    (tracepoint, prog)
}

/// Record offset of `args[i]`.
pub fn arg_offset(i: usize) -> usize {
    offset_of!(TaskEvent, args) + 8 * i
}

/// Record offset of the raw area (sdt's tracepoint record, exec's path).
pub fn raw_offset() -> usize {
    offset_of!(TaskEvent, raw)
}

/// An integer argument held in `args[i]`.
pub(crate) fn int_arg(i: usize, int: IntType, display: &str) -> ArgDef {
    ArgDef {
        ty: Type::Int(int),
        display: display.into(),
        source: Some(load(arg_offset(i), int)),
    }
}

/// `lwpsinfo_t *`, `psinfo_t *` of the other thread.
pub(crate) fn thread_args() -> Vec<ArgDef> {
    vec![ptr_arg("lwpsinfo_t"), ptr_arg("psinfo_t")]
}

pub(crate) fn no_args() -> Vec<ArgDef> {
    Vec::new()
}

/// `psinfo_t` and `lwpsinfo_t` rows of the [`TaskInfo`] at record offset
/// `at`.
pub(crate) fn task_rows(at: usize) -> Members {
    let f = |off: usize| at + off;
    let int = |off: usize| load(f(off), IntType::INT);
    let uint = |off: usize| load(f(off), IntType::UINT32);
    let chars = |off: usize, len: usize| FieldSource::Chars {
        offset: f(off) as u32,
        len: len as u32,
    };
    let zero = |st, name| member_as(st, name, IntType::INT, FieldSource::Const(0));
    let ps = "psinfo_t";
    let lwp = "lwpsinfo_t";
    vec![
        zero(ps, "pr_flag"),
        member(ps, "pr_nlwp", int(offset_of!(TaskInfo, nlwp))),
        member(ps, "pr_pid", int(offset_of!(TaskInfo, pid))),
        member(ps, "pr_ppid", int(offset_of!(TaskInfo, ppid))),
        member(ps, "pr_pgid", int(offset_of!(TaskInfo, pgid))),
        member(ps, "pr_sid", int(offset_of!(TaskInfo, sid))),
        member(ps, "pr_uid", uint(offset_of!(TaskInfo, uid))),
        member(ps, "pr_euid", uint(offset_of!(TaskInfo, euid))),
        member(ps, "pr_gid", uint(offset_of!(TaskInfo, gid))),
        member(ps, "pr_egid", uint(offset_of!(TaskInfo, egid))),
        member(
            ps,
            "pr_addr",
            load(f(offset_of!(TaskInfo, addr)), IntType::UINT64),
        ),
        member(
            ps,
            "pr_start",
            load(f(offset_of!(TaskInfo, start_ns)), IntType::UINT64),
        ),
        member(ps, "pr_fname", chars(offset_of!(TaskInfo, fname), 16)),
        member(
            ps,
            "pr_psargs",
            chars(offset_of!(TaskInfo, psargs), crate::event::PSARGS),
        ),
        zero(ps, "pr_wstat"),
        member(
            ps,
            "pr_dmodel",
            load(f(offset_of!(TaskInfo, dmodel)), IntType::CHAR),
        ),
        zero(ps, "pr_taskid"),
        zero(ps, "pr_projid"),
        zero(ps, "pr_nzomb"),
        zero(ps, "pr_poolid"),
        zero(ps, "pr_zoneid"),
        zero(ps, "pr_contract"),
        member(lwp, "pr_flag", int(offset_of!(TaskInfo, flag))),
        member(lwp, "pr_lwpid", int(offset_of!(TaskInfo, lwpid))),
        member(
            lwp,
            "pr_addr",
            load(f(offset_of!(TaskInfo, addr)), IntType::UINT64),
        ),
        member_as(lwp, "pr_wchan", IntType::UINT64, FieldSource::Const(0)),
        member_as(lwp, "pr_stype", IntType::CHAR, FieldSource::Const(0)),
        member(
            lwp,
            "pr_state",
            load(f(offset_of!(TaskInfo, state)), IntType::CHAR),
        ),
        member(
            lwp,
            "pr_sname",
            load(f(offset_of!(TaskInfo, sname)), IntType::CHAR),
        ),
        member(lwp, "pr_pri", int(offset_of!(TaskInfo, pri))),
        member(lwp, "pr_clname", chars(offset_of!(TaskInfo, clname), 8)),
        member(lwp, "pr_name", chars(offset_of!(TaskInfo, fname), 16)),
        member(lwp, "pr_onpro", int(offset_of!(TaskInfo, onpro))),
    ]
}

/// The io structs, read from the [`IoInfo`] in the raw area.
fn io_rows() -> Members {
    let at = |off: usize| raw_offset() + off;
    let chars = |off: usize, len: usize| FieldSource::Chars {
        offset: at(off) as u32,
        len: len as u32,
    };
    let unknown = || chars(offset_of!(IoInfo, unknown), 16);
    let (b, d, fi) = ("bufinfo_t", "devinfo_t", "fileinfo_t");
    vec![
        member(
            b,
            "b_flags",
            load(at(offset_of!(IoInfo, flags)), IntType::INT),
        ),
        member(
            b,
            "b_bcount",
            load(at(offset_of!(IoInfo, bcount)), IntType::UINT64),
        ),
        member_as(b, "b_addr", IntType::UINT64, FieldSource::Const(0)),
        member(
            b,
            "b_lblkno",
            load(at(offset_of!(IoInfo, blkno)), IntType::UINT64),
        ),
        member(
            b,
            "b_blkno",
            load(at(offset_of!(IoInfo, blkno)), IntType::UINT64),
        ),
        member(
            b,
            "b_resid",
            load(at(offset_of!(IoInfo, resid)), IntType::UINT64),
        ),
        member(
            b,
            "b_bufsize",
            load(at(offset_of!(IoInfo, bcount)), IntType::UINT64),
        ),
        member_as(b, "b_iodone", IntType::UINT64, FieldSource::Const(0)),
        member(
            b,
            "b_error",
            load(at(offset_of!(IoInfo, error)), IntType::INT),
        ),
        member(
            b,
            "b_edev",
            load(at(offset_of!(IoInfo, dev)), IntType::UINT32),
        ),
        member(
            d,
            "dev_major",
            load(at(offset_of!(IoInfo, major)), IntType::INT),
        ),
        member(
            d,
            "dev_minor",
            load(at(offset_of!(IoInfo, minor)), IntType::INT),
        ),
        member_as(d, "dev_instance", IntType::INT, FieldSource::Const(0)),
        member(d, "dev_name", chars(offset_of!(IoInfo, name), 32)),
        member(d, "dev_statname", chars(offset_of!(IoInfo, statname), 40)),
        member(d, "dev_pathname", chars(offset_of!(IoInfo, pathname), 48)),
        member(fi, "fi_name", unknown()),
        member(fi, "fi_dirname", unknown()),
        member(fi, "fi_pathname", unknown()),
        member_as(fi, "fi_offset", IntType::INT64, FieldSource::Const(0)),
        member(fi, "fi_fs", unknown()),
        member(fi, "fi_mount", unknown()),
        member_as(fi, "fi_oflags", IntType::INT, FieldSource::Const(0)),
    ]
}

/// `cpuinfo_t` of `curcpu` beyond what every record has (`cpu_id`,
/// `cpu_pset`): the CPU's package and NUMA node.
fn cpu_rows() -> Members {
    let c = "cpuinfo_t";
    through(
        "curcpu",
        vec![
            member(
                c,
                "cpu_chip",
                load(offset_of!(TaskEvent, chip), IntType::INT),
            ),
            member(
                c,
                "cpu_lgrp",
                load(offset_of!(TaskEvent, lgrp), IntType::INT),
            ),
        ],
    )
}

/// `curpsinfo` and `curlwpsinfo` of the [`TaskInfo`] at record offset
/// `at`.
pub(crate) fn current_thread_rows(at: usize) -> Members {
    let (ps, lwp): (Members, Members) = task_rows(at).into_iter().partition(|r| r.st == "psinfo_t");
    let mut rows = through("curpsinfo", ps);
    rows.extend(through("curlwpsinfo", lwp));
    rows
}

/// `vtimestamp` of the [`TaskInfo`] at record offset `at`.
pub(crate) fn vtimestamp_at(at: usize) -> (String, FieldSource) {
    (
        "vtimestamp".into(),
        load(at + offset_of!(TaskInfo, vtime_ns), IntType::UINT64),
    )
}

/// The layout every task provider's probes share.
pub fn task_layout() -> TypedLayout {
    let mut rows = task_rows(offset_of!(TaskEvent, other));
    rows.extend(current_thread_rows(offset_of!(TaskEvent, cur)));
    rows.extend(cpu_rows());
    rows.extend(io_rows());
    let mut builtins: Vec<(String, FieldSource)> = (0..6)
        .map(|i| (format!("arg{i}"), load(arg_offset(i), IntType::INT64)))
        .collect();
    builtins.push(vtimestamp_at(offset_of!(TaskEvent, cur)));
    let mut layout = record_layout(LAYOUT_TASK, rows, builtins);
    // Stacks, when a clause uses them, follow the whole record.
    layout.captures = Some(rdtrace_lang::catalog::CaptureArea {
        count_at: offset_of!(TaskEvent, captures) as u32,
        data_at: std::mem::size_of::<TaskEvent>() as u32,
        user: false,
    });
    layout
}

#[cfg(test)]
mod tests {
    use crate::catalog::catalog;
    use crate::catalog::tests::decl;
    use rdtrace_lang::catalog::FieldSource;

    /// dtrace-utils' procfs.d and io.d declare these members (the ones
    /// Linux can give), with these types.
    #[test]
    fn structs_are_dtrace_utils_ones() {
        assert_eq!(
            decl("psinfo_t"),
            "int pr_flag; int pr_nlwp; int pr_pid; int pr_ppid; int pr_pgid; int pr_sid; \
             uint32_t pr_uid; uint32_t pr_euid; uint32_t pr_gid; uint32_t pr_egid; \
             uint64_t pr_addr; uint64_t pr_start; string pr_fname; string pr_psargs; \
             int pr_wstat; char pr_dmodel; int pr_taskid; int pr_projid; int pr_nzomb; \
             int pr_poolid; int pr_zoneid; int pr_contract"
        );
        assert_eq!(
            decl("lwpsinfo_t"),
            "int pr_flag; int pr_lwpid; uint64_t pr_addr; uint64_t pr_wchan; char pr_stype; \
             char pr_state; char pr_sname; int pr_pri; string pr_clname; string pr_name; \
             int pr_onpro"
        );
        assert_eq!(
            decl("bufinfo_t"),
            "int b_flags; uint64_t b_bcount; uint64_t b_addr; uint64_t b_lblkno; \
             uint64_t b_blkno; uint64_t b_resid; uint64_t b_bufsize; uint64_t b_iodone; \
             int b_error; uint32_t b_edev"
        );
        assert_eq!(
            decl("devinfo_t"),
            "int dev_major; int dev_minor; int dev_instance; string dev_name; \
             string dev_statname; string dev_pathname"
        );
        assert_eq!(
            decl("fileinfo_t"),
            "string fi_name; string fi_dirname; string fi_pathname; int64_t fi_offset; \
             string fi_fs; string fi_mount; int fi_oflags"
        );
        assert_eq!(
            decl("cpuinfo_t"),
            "int cpu_id; int cpu_pset; int cpu_chip; int cpu_lgrp"
        );
    }

    /// `curpsinfo->m` and `args[1]->m` are the same member of two threads.
    #[test]
    fn curpsinfo_and_an_argument_read_different_threads() {
        use crate::event::{TaskEvent, TaskInfo};
        use std::mem::offset_of;
        let c = catalog();
        let at = |view: &str| c.member_source(super::LAYOUT_TASK, view, "pr_pid");
        let pid = offset_of!(TaskInfo, pid);
        assert_eq!(
            at("curpsinfo"),
            crate::catalog::load(
                offset_of!(TaskEvent, cur) + pid,
                rdtrace_lang::types::IntType::INT
            )
        );
        assert_eq!(
            at("psinfo_t"),
            crate::catalog::load(
                offset_of!(TaskEvent, other) + pid,
                rdtrace_lang::types::IntType::INT
            )
        );
        // Other records have neither.
        assert_eq!(
            c.member_source(crate::catalog::LAYOUT_TCP, "curpsinfo", "pr_pid"),
            FieldSource::Unavailable
        );
    }

    #[test]
    fn probes_linux_cannot_give_are_known_and_refused() {
        let c = catalog();
        let find = |prov: &str, name: &str| {
            c.probes
                .iter()
                .find(|p| p.provider == prov && p.name == name)
                .unwrap_or_else(|| panic!("{prov}:::{name}"))
        };
        assert!(find("sched", "remain-cpu").unavailable.is_some());
        assert!(find("io", "wait-start").unavailable.is_some());
        assert!(find("sched", "on-cpu").unavailable.is_none());
        let shown = |prov: &str, name: &str| -> Vec<String> {
            find(prov, name)
                .args
                .iter()
                .map(|a| a.display.clone())
                .collect()
        };
        assert_eq!(
            shown("proc", "signal-send"),
            ["lwpsinfo_t *", "psinfo_t *", "int"]
        );
        assert_eq!(shown("proc", "create"), ["psinfo_t *"]);
        assert_eq!(shown("proc", "exec"), ["string"]);
        assert_eq!(shown("proc", "exit"), ["int"]);
        assert_eq!(shown("sched", "off-cpu"), ["lwpsinfo_t *", "psinfo_t *"]);
        assert_eq!(
            shown("io", "start"),
            ["bufinfo_t *", "devinfo_t *", "fileinfo_t *"]
        );
    }
}
