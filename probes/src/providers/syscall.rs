//! The syscall provider: `syscall:vmlinux:NAME:entry` and `:return` for
//! every system call of the running kernel, on its per-call tracepoints
//! `syscalls:sys_enter_NAME` / `sys_exit_NAME` (as dtrace-utils maps them).
//! A call nobody traces costs nothing: only the enabled calls' tracepoints
//! are attached. Kernel part: `bpf/syscall.h` (one program for every entry,
//! one for every return; a map from the tracepoint's event id to the
//! probe). No replay: a capture holds no system calls.
//!
//! Names come from the running kernel (tracefs' `events/syscalls/`,
//! mounted when absent and rdtrace runs as root); argument types from the
//! committed table `syscall_table.txt` (written from this kernel kind's
//! format files by `probes/tools/syscall-table.sh`), or, for a call the
//! table lacks, from its own format file. Without tracefs the table is the
//! list.

use std::mem::offset_of;
use std::sync::OnceLock;

use super::{Hook, Provider};
use crate::catalog::{load, record_layout, TypedLayout};
use crate::event::{
    from, CaptureHeader, CapturePlanMap, CaptureSite, NrProbe, SyscallEvent, CAPTURE_MAX,
    COPY_BYTES, COPY_STR, MAX_CAPTURES, MAX_SYSCALL_NR,
};
use rdtrace_lang::catalog::{ArgDef, CaptureArea, ConstDef, FieldSource, ProbeDef, ProbeKind};
use rdtrace_lang::plan::{CapturePlan, PlanValue};
use rdtrace_lang::typed::{CopyKind, Program};
use rdtrace_lang::types::{IntType, Type};

/// Layout of [`SyscallEvent`] records.
pub const LAYOUT_SYSCALL: u32 = 4;

/// The id of the first syscall probe; call `i` (in name order) has
/// `FIRST_ID + 2i` (entry) and `FIRST_ID + 2i + 1` (return).
pub const FIRST_ID: u32 = 1000;

/// The BPF programs behind every entry and every return probe.
const ENTRY_PROG: &str = "syscall_entry";
const RETURN_PROG: &str = "syscall_return";

/// One system call: its name, its x86_64 number when known, and its entry
/// arguments (C type, name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyscallDef {
    pub name: String,
    pub nr: Option<u32>,
    pub args: Vec<(String, String)>,
}

/// More enabled syscall probes than this are served by the two
/// raw_syscalls hooks: detaching hundreds of per-call tracepoints takes the
/// kernel seconds (a grace period each), and past a few calls per-call
/// tracepoints save little.
pub const RAW_MODE_ABOVE: usize = 16;

const RAW_ENTER: (&str, &str, &str) = ("sys_enter", "raw_sys_enter", "raw_sys_enter_raw");
const RAW_EXIT: (&str, &str, &str) = ("sys_exit", "raw_sys_exit", "raw_sys_exit_raw");

const TABLE: &str = include_str!("syscall_table.txt");

/// The committed table, in its (name) order.
pub fn committed_table() -> Vec<SyscallDef> {
    TABLE
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let mut cols = l.split('\t');
            let name = cols.next().unwrap_or_default().to_string();
            let nr = cols.next().and_then(|n| n.parse().ok());
            let args = cols
                .filter_map(|a| a.rsplit_once(' '))
                .map(|(t, n)| (t.trim().to_string(), n.to_string()))
                .collect();
            SyscallDef { name, nr, args }
        })
        .collect()
}

/// The running kernel's system calls, sorted by name; the committed table
/// when tracefs cannot be read. Read once per process.
pub fn syscalls() -> &'static [SyscallDef] {
    static LIST: OnceLock<Vec<SyscallDef>> = OnceLock::new();
    LIST.get_or_init(|| running_kernel().unwrap_or_else(committed_table))
}

fn running_kernel() -> Option<Vec<SyscallDef>> {
    let dir = crate::tracefs::mounted().ok()?.join("events/syscalls");
    let table = committed_table();
    let mut list: Vec<SyscallDef> = std::fs::read_dir(&dir)
        .ok()?
        .filter_map(|e| {
            let file = e.ok()?.file_name();
            let name = file.to_str()?.strip_prefix("sys_enter_")?.to_string();
            let (nr, args) = match table.iter().find(|d| d.name == name) {
                Some(d) => (d.nr, d.args.clone()),
                None => {
                    let format =
                        std::fs::read_to_string(dir.join(format!("sys_enter_{name}/format")))
                            .ok()?;
                    (None, crate::tracefs::format_fields(&format, "__syscall_nr"))
                }
            };
            Some(SyscallDef { name, nr, args })
        })
        .collect();
    if list.is_empty() {
        return None;
    }
    list.sort_by(|a, b| a.name.cmp(&b.name));
    Some(list)
}

/// The D integer type of a syscall argument's C type (pointers are
/// addresses, `uintptr_t`); every argument is stored as 8 bytes and read
/// by its declared width, so `int fd` sign-extends from its low 32 bits.
pub fn c_type(c: &str) -> IntType {
    use IntType as I;
    if c.contains('*') || c.starts_with("cap_user_") || c.contains(" cap_user_") {
        return I::UINT64;
    }
    let bare = c
        .trim_start_matches("const ")
        .trim_start_matches("volatile ");
    match bare {
        "int" | "pid_t" | "clockid_t" | "timer_t" | "mqd_t" | "key_t" | "key_serial_t"
        | "rwf_t" | "__s32" | "qid_t" => I::INT,
        "unsigned int" | "unsigned" | "u32" | "__u32" | "uid_t" | "gid_t" => I::UINT32,
        "umode_t" | "unsigned short" | "u16" => I::UINT16,
        "char" => I::CHAR,
        "long" | "loff_t" | "off_t" | "ssize_t" | "__s64" | "time_t" => I::INT64,
        _ => I::UINT64,
    }
}

/// Record offset of `args[i]`.
pub fn arg_offset(i: usize) -> usize {
    offset_of!(SyscallEvent, args) + 8 * i
}

fn entry_args(def: &SyscallDef) -> Vec<ArgDef> {
    def.args
        .iter()
        .enumerate()
        .map(|(i, (ty, _))| {
            let int = c_type(ty);
            ArgDef {
                ty: Type::Int(int),
                display: ty.clone(),
                source: Some(load(arg_offset(i), int)),
            }
        })
        .collect()
}

/// As in dtrace-utils (the sys_exit format): `long ret`.
fn return_args() -> Vec<ArgDef> {
    vec![ArgDef {
        ty: Type::Int(IntType::INT64),
        display: "long".into(),
        source: Some(load(arg_offset(0), IntType::INT64)),
    }]
}

/// The system call and direction of syscall probe `id`.
pub fn probe_of(id: u32) -> Option<(&'static SyscallDef, bool)> {
    let i = id.checked_sub(FIRST_ID)? as usize;
    syscalls().get(i / 2).map(|d| (d, i.is_multiple_of(2)))
}

/// The BPF maps' view of the program's capture plan: each syscall probe's
/// captures (`capture_plans`) and the entry probes that must keep their
/// arguments for their return (`RDT_SAVE_ENTRY_ARGS`). A `self->`
/// address must have been set from an argument at this probe or at this
/// call's entry; anything else is refused, naming the probes.
pub fn capture_maps(
    program: &Program,
    plan: &CapturePlan,
    strsize: usize,
) -> Result<CaptureMaps, String> {
    let mut maps = Vec::new();
    let mut save = Vec::new();
    for (i, p) in program.probes.iter().enumerate() {
        let user = &plan.probe(i).user;
        if user.is_empty() {
            continue;
        }
        if user.len() > MAX_CAPTURES {
            return Err(format!(
                "{}:{}:{}:{}: rdtrace copies at most {MAX_CAPTURES} pieces of user memory per probe, \
                 this one's clauses read {}",
                p.provider, p.module, p.function, p.name,
                user.len()
            ));
        }
        let entry_of_this = probe_of(p.id).filter(|(_, entry)| !entry).map(|_| p.id - 1);
        let mut m = CapturePlanMap::default();
        let mut value = |v: &PlanValue, what: &str| -> Result<(u8, u16, u32), String> {
            Ok(match v {
                PlanValue::Record(off) => (from::RECORD, *off as u16, 0),
                PlanValue::Const(c) => {
                    (from::CONST, 0, (*c).clamp(0, i64::from(CAPTURE_MAX)) as u32)
                }
                PlanValue::SelfVar { var, set_at } => {
                    let name = &program.self_vars[*var].name;
                    let mut from_kind = None;
                    for &(at, off) in set_at {
                        let at_id = program.probes[at].id;
                        let k = if at == i {
                            from::RECORD
                        } else if Some(at_id) == entry_of_this {
                            from::ENTRY
                        } else {
                            let q = &program.probes[at];
                            return Err(format!(
                                "the {what} self->{name} read at {}:{}:{}:{} is set at {}:{}:{}:{}: \
                                 rdtrace can copy user memory at an address saved at the same probe \
                                 or at the system call's own entry only",
                                p.provider, p.module, p.function, p.name,
                                q.provider, q.module, q.function, q.name
                            ));
                        };
                        if from_kind.is_some_and(|f: (u8, u16)| f != (k, off as u16)) {
                            return Err(format!(
                                "self->{name} is set from different arguments: rdtrace cannot tell \
                                 which one to copy user memory at for {}:{}:{}:{}",
                                p.provider, p.module, p.function, p.name
                            ));
                        }
                        from_kind = Some((k, off as u16));
                        if k == from::ENTRY && !save.contains(&at_id) {
                            save.push(at_id);
                        }
                    }
                    let (k, off) = from_kind.ok_or_else(|| format!("self->{name} is never set"))?;
                    (k, off, 0)
                }
            })
        };
        let mut sites = Vec::new();
        for u in user {
            // NULL is never readable: nothing to copy, and the clause gets
            // dtrace's "invalid address (0x0)" when it runs.
            if u.addr == PlanValue::Const(0) {
                continue;
            }
            let (addr_from, addr_off, _) = value(&u.addr, "address")?;
            if addr_from == from::CONST {
                return Err(format!(
                    "{}:{}:{}:{}: rdtrace copies user memory at a probe argument, not at a constant address",
                    p.provider, p.module, p.function, p.name
                ));
            }
            let (len_from, len_off, len_max) = match (&u.len, u.kind) {
                (None, _) => (
                    from::CONST,
                    0,
                    strsize.min(CAPTURE_MAX as usize - 1) as u32 + 1,
                ),
                (Some(v), CopyKind::Str) => {
                    let (f, o, c) = value(v, "length")?;
                    let bound = strsize.min(CAPTURE_MAX as usize - 1) as u32 + 1;
                    (
                        f,
                        o,
                        if f == from::CONST {
                            (c + 1).min(bound)
                        } else {
                            bound
                        },
                    )
                }
                // One byte more than the kernel copies tells user space the
                // length was too long (out of scratch space) rather than
                // shortening the value.
                (Some(v), CopyKind::Bytes) => {
                    let (f, o, c) = value(v, "length")?;
                    (f, o, if f == from::CONST { c } else { CAPTURE_MAX })
                }
            };
            sites.push(CaptureSite {
                site: u.site,
                kind: match u.kind {
                    CopyKind::Str => COPY_STR,
                    CopyKind::Bytes => COPY_BYTES,
                },
                addr_from,
                addr_off,
                len_from,
                len_off,
                len_max,
                ..CaptureSite::default()
            });
        }
        m.n = sites.len() as u32;
        for (slot, site) in m.sites.iter_mut().zip(sites) {
            *slot = site;
        }
        maps.push((p.id, m));
    }
    Ok(CaptureMaps {
        plans: maps,
        save_entry_args: save,
    })
}

/// What [`capture_maps`] gives the live loader.
#[derive(Debug, Clone, Default)]
pub struct CaptureMaps {
    /// Each probe's captures (the `capture_plans` map).
    pub plans: Vec<(u32, CapturePlanMap)>,
    /// Entry probes whose arguments their return's captures read.
    pub save_entry_args: Vec<u32>,
}

pub struct Syscall;

impl Provider for Syscall {
    fn name(&self) -> &'static str {
        "syscall"
    }
    fn attributes(&self) -> super::stability::ProviderAttributes {
        super::stability::SYSCALL
    }
    fn probes(&self) -> Vec<ProbeDef> {
        let probe = |id: u32, def: &SyscallDef, entry: bool| ProbeDef {
            id,
            provider: "syscall".into(),
            module: "vmlinux".into(),
            function: def.name.clone(),
            name: if entry { "entry" } else { "return" }.into(),
            kind: ProbeKind::Event {
                layout: LAYOUT_SYSCALL,
            },
            args: if entry {
                entry_args(def)
            } else {
                return_args()
            },
            unavailable: None,
        };
        syscalls()
            .iter()
            .enumerate()
            .flat_map(|(i, def)| {
                let id = FIRST_ID + 2 * i as u32;
                [probe(id, def, true), probe(id + 1, def, false)]
            })
            .collect()
    }
    fn owns(&self, id: u32) -> bool {
        probe_of(id).is_some()
    }
    /// Many probes: raw_syscalls' sys_enter/sys_exit and a table of the
    /// traced call numbers (when every traced call has a number).
    fn hooks_of_set(&self, probes: &[u32], flags: &dyn Fn(u32) -> u32) -> Option<Vec<Hook>> {
        if probes.len() <= RAW_MODE_ABOVE {
            return None;
        }
        let mut rows: Vec<(u32, NrProbe)> = Vec::new();
        let (mut entries, mut returns) = (false, false);
        for &id in probes {
            let (def, entry) = probe_of(id)?;
            let nr = def.nr.filter(|&n| n < MAX_SYSCALL_NR)?;
            let row = match rows.iter().position(|(n, _)| *n == nr) {
                Some(i) => &mut rows[i].1,
                None => {
                    rows.push((nr, NrProbe::default()));
                    &mut rows.last_mut().expect("just pushed").1
                }
            };
            if entry {
                row.entry = id;
                row.entry_flags = flags(id);
                entries = true;
            } else {
                row.ret = id;
                row.ret_flags = flags(id);
                returns = true;
            }
        }
        let table: Vec<(u32, [u32; 4])> = rows.iter().map(|(n, r)| (*n, r.words())).collect();
        let hook =
            |(tracepoint, btf_prog, raw_prog): (&'static str, &'static str, &'static str)| {
                Hook::RawTable {
                    tracepoint,
                    btf_prog,
                    raw_prog,
                    map: "nr_probes",
                    entries: table.clone(),
                }
            };
        let mut hooks = Vec::new();
        if entries {
            hooks.push(hook(RAW_ENTER));
        }
        if returns {
            hooks.push(hook(RAW_EXIT));
        }
        Some(hooks)
    }
    /// errno values, open flags, socket families and types, as
    /// dtrace's errno.d and socket.d.
    fn constants(&self) -> Vec<ConstDef> {
        use super::sysconsts::*;
        [ERRNO, OPEN_FLAGS, ADDRESS_FAMILIES, SOCKET_TYPES]
            .into_iter()
            .flatten()
            .copied()
            .map(crate::catalog::int_const)
            .collect()
    }
    fn layouts(&self) -> Vec<TypedLayout> {
        let mut builtins: Vec<(String, FieldSource)> = (0..6)
            .map(|i| (format!("arg{i}"), load(arg_offset(i), IntType::INT64)))
            .collect();
        builtins.push((
            "errno".into(),
            load(offset_of!(SyscallEvent, err), IntType::INT),
        ));
        // curpsinfo / curlwpsinfo: the first capture when a clause reads
        // them (TASK_INFO), after its capture header.
        let task_at = std::mem::size_of::<SyscallEvent>() + std::mem::size_of::<CaptureHeader>();
        builtins.push(super::task::vtimestamp_at(task_at));
        let mut layout = record_layout(
            LAYOUT_SYSCALL,
            super::task::current_thread_rows(task_at),
            builtins,
        );
        layout.captures = Some(CaptureArea {
            count_at: offset_of!(SyscallEvent, captures) as u32,
            data_at: std::mem::size_of::<SyscallEvent>() as u32,
            user: true,
        });
        vec![layout]
    }
    fn hooks(&self, probe: u32, _socket_state: bool) -> Vec<Hook> {
        let Some((def, entry)) = probe_of(probe) else {
            return Vec::new();
        };
        let (prefix, prog) = if entry {
            ("sys_enter_", ENTRY_PROG)
        } else {
            ("sys_exit_", RETURN_PROG)
        };
        vec![Hook::Tracepoint {
            category: "syscalls",
            name: format!("{prefix}{}", def.name),
            prog,
            probe,
            // The program copies this many arguments (none at return).
            flags: if entry {
                (def.args.len() as u32) << crate::event::NARGS_SHIFT
            } else {
                0
            },
        }]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_types_openat_as_tracefs_does() {
        let t = committed_table();
        let openat = t.iter().find(|d| d.name == "openat").unwrap();
        let types: Vec<&str> = openat.args.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(types, ["int", "const char *", "int", "umode_t"]);
        assert!(t.len() > 300);
        assert!(t.iter().any(|d| d.name == "getpid" && d.args.is_empty()));
    }

    #[test]
    fn many_probes_share_the_raw_syscalls_hooks() {
        let id = |name: &str, entry: bool| {
            let i = syscalls().iter().position(|d| d.name == name).unwrap() as u32;
            FIRST_ID + 2 * i + u32::from(!entry)
        };
        let few = [id("openat", true), id("openat", false)];
        assert!(Syscall.hooks_of_set(&few, &|_| 0).is_none());
        let all: Vec<u32> = (0..syscalls().len() as u32)
            .map(|i| FIRST_ID + 2 * i)
            .collect();
        let openat = id("openat", true);
        let flags = |p: u32| {
            if p == openat {
                crate::event::SAVE_ENTRY_ARGS
            } else {
                0
            }
        };
        let hooks = Syscall.hooks_of_set(&all, &flags).unwrap();
        let [Hook::RawTable {
            tracepoint: "sys_enter",
            map: "nr_probes",
            entries,
            ..
        }] = hooks.as_slice()
        else {
            panic!("{hooks:?}")
        };
        let openat = entries.iter().find(|(nr, _)| *nr == 257).unwrap();
        assert_eq!(
            openat.1,
            [id("openat", true), 0, crate::event::SAVE_ENTRY_ARGS, 0]
        );
        assert_eq!(entries.len(), syscalls().len());
    }

    #[test]
    fn c_types_map_to_d_integers() {
        assert_eq!(c_type("int"), IntType::INT);
        assert_eq!(c_type("const char *"), IntType::UINT64);
        assert_eq!(c_type("size_t"), IntType::UINT64);
        assert_eq!(c_type("unsigned int"), IntType::UINT32);
        assert_eq!(c_type("umode_t"), IntType::UINT16);
        assert_eq!(c_type("const clockid_t"), IntType::INT);
        assert_eq!(c_type("loff_t"), IntType::INT64);
    }

    #[test]
    fn ids_name_entry_then_return_of_each_call() {
        let probes = Syscall.probes();
        assert_eq!(probes.len(), 2 * syscalls().len());
        let read = probes
            .iter()
            .find(|p| p.function == "read" && p.name == "entry")
            .unwrap();
        assert_eq!(
            probe_of(read.id).map(|(d, e)| (d.name.as_str(), e)),
            Some(("read", true))
        );
        assert_eq!(
            probe_of(read.id + 1).map(|(d, e)| (d.name.as_str(), e)),
            Some(("read", false))
        );
        assert_eq!(read.module, "vmlinux");
        let shown: Vec<&str> = read.args.iter().map(|a| a.display.as_str()).collect();
        assert_eq!(shown, ["unsigned int", "char *", "size_t"]);
        assert!(matches!(
            Syscall.hooks(read.id + 1, false).as_slice(),
            [Hook::Tracepoint { category: "syscalls", name, prog: "syscall_return", .. }]
                if name == "sys_exit_read"
        ));
    }
}
