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
use crate::event::SyscallEvent;
use rdtrace_lang::catalog::{ArgDef, FieldSource, ProbeDef, ProbeKind};
use rdtrace_lang::types::{IntType, Type};

/// Layout of [`SyscallEvent`] records.
pub const LAYOUT_SYSCALL: u32 = 4;

/// The id of the first syscall probe; call `i` (in name order) has
/// `FIRST_ID + 2i` (entry) and `FIRST_ID + 2i + 1` (return).
pub const FIRST_ID: u32 = 1000;

/// The BPF programs behind every entry and every return probe.
const ENTRY_PROG: &str = "syscall_entry";
const RETURN_PROG: &str = "syscall_return";

/// One system call: its name and entry arguments (C type, name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyscallDef {
    pub name: String,
    pub args: Vec<(String, String)>,
}

const TABLE: &str = include_str!("syscall_table.txt");

/// The committed table, in its (name) order.
pub fn committed_table() -> Vec<SyscallDef> {
    TABLE
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let mut cols = l.split('\t');
            let name = cols.next().unwrap_or_default().to_string();
            let args = cols
                .filter_map(|a| a.rsplit_once(' '))
                .map(|(t, n)| (t.trim().to_string(), n.to_string()))
                .collect();
            SyscallDef { name, args }
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
            let args = match table.iter().find(|d| d.name == name) {
                Some(d) => d.args.clone(),
                None => {
                    let format =
                        std::fs::read_to_string(dir.join(format!("sys_enter_{name}/format")))
                            .ok()?;
                    crate::tracefs::format_fields(&format, "__syscall_nr")
                }
            };
            Some(SyscallDef { name, args })
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

pub struct Syscall;

impl Provider for Syscall {
    fn name(&self) -> &'static str {
        "syscall"
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
    fn layouts(&self) -> Vec<TypedLayout> {
        let mut builtins: Vec<(String, FieldSource)> = (0..6)
            .map(|i| (format!("arg{i}"), load(arg_offset(i), IntType::INT64)))
            .collect();
        builtins.push((
            "errno".into(),
            load(offset_of!(SyscallEvent, err), IntType::INT),
        ));
        vec![record_layout(LAYOUT_SYSCALL, Vec::new(), builtins)]
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
