//! The sdt provider: every kernel tracepoint as `sdt:GROUP::NAME` (as
//! Oracle's DTrace names them), `args[i]` the tracepoint's fields in the
//! order of its format description, typed from it (integers by size and
//! sign, pointers as `uintptr_t`, `char` arrays and `__data_loc char[]`
//! as strings). Kernel part: `sdt_event` in `bpf/task.h`, attached to
//! each enabled probe's tracepoint with the probe id as cookie; it copies
//! the tracepoint's record (at most [`RAW_MAX`] bytes: fields past it are
//! not available). The `syscalls` group is the syscall provider's, and
//! `ftrace`'s events are not tracepoints.

use std::sync::OnceLock;

use super::task::{raw_offset, task_probe_def};
use super::{Hook, Provider};
use crate::event::RAW_MAX;
use rdtrace_lang::catalog::{ArgDef, FieldSource, ProbeDef};
use rdtrace_lang::types::{IntType, Type};

/// The id of the first sdt probe (in group, name order).
pub const FIRST_ID: u32 = 100_000;

/// One field of a tracepoint's format description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TpField {
    /// The C declaration's type (`pid_t`, `char`, `__data_loc char[]`).
    pub ty: String,
    pub name: String,
    /// Elements, for an array field (`char comm[16]`: 16).
    pub array: Option<usize>,
    pub offset: usize,
    pub size: usize,
    pub signed: bool,
}

/// A tracepoint: its group and name; its fields (common ones left out)
/// and the size of its record are read from its format file when first
/// asked for. (Reading all ~1,800 format files cost every start 45 ms and
/// 10 MB, for scripts that name no tracepoint.)
#[derive(Debug)]
pub struct Tracepoint {
    pub group: String,
    pub name: String,
    format: OnceLock<(Vec<TpField>, usize)>,
}

impl Tracepoint {
    fn new(group: String, name: String) -> Tracepoint {
        Tracepoint {
            group,
            name,
            format: OnceLock::new(),
        }
    }

    fn format(&self) -> &(Vec<TpField>, usize) {
        self.format.get_or_init(|| {
            crate::tracefs::mounted()
                .ok()
                .and_then(|t| {
                    let path = t.join("events").join(&self.group).join(&self.name);
                    std::fs::read_to_string(path.join("format")).ok()
                })
                .map(|text| parse_format(&text))
                .unwrap_or_default()
        })
    }

    /// Its fields (none when its format cannot be read).
    pub fn fields(&self) -> &[TpField] {
        &self.format().0
    }

    /// The size of its record.
    pub fn size(&self) -> usize {
        self.format().1
    }
}

/// Parses a tracefs format description.
pub fn parse_format(text: &str) -> (Vec<TpField>, usize) {
    let mut fields = Vec::new();
    let mut size = 0;
    for line in text.lines() {
        let Some(rest) = line.trim().strip_prefix("field:") else {
            continue;
        };
        let mut parts = rest.split(';').map(str::trim);
        let decl = parts.next().unwrap_or_default();
        let mut num =
            |key: &str| -> Option<usize> { parts.next()?.strip_prefix(key)?.parse().ok() };
        let (Some(offset), Some(fsize), Some(signed)) =
            (num("offset:"), num("size:"), num("signed:"))
        else {
            continue;
        };
        size = size.max(offset + fsize);
        let Some((ty, name)) = decl.rsplit_once(' ') else {
            continue;
        };
        if name.starts_with("common_") {
            continue;
        }
        let (name, array) = match name.split_once('[') {
            Some((n, len)) => (n, len.trim_end_matches(']').parse().ok()),
            None => (name, None),
        };
        fields.push(TpField {
            ty: ty.trim().to_string(),
            name: name.to_string(),
            array,
            offset,
            size: fsize,
            signed: signed == 1,
        });
    }
    (fields, size)
}

/// `args[i]` of a field: its D type, how `-lv` shows it, where it is.
fn field_arg(f: &TpField) -> ArgDef {
    let at = (raw_offset() + f.offset) as u32;
    let fits = f.offset + f.size <= RAW_MAX;
    let is_char =
        f.ty.trim_start_matches("const ").starts_with("char") || f.ty.contains("unsigned char");
    let (ty, display, source) = if f.ty.starts_with("__data_loc") {
        let source = fits.then_some(FieldSource::DataLoc {
            loc: at,
            base: raw_offset() as u32,
            max: RAW_MAX as u32,
        });
        (Type::String, "string".to_string(), source)
    } else if let Some(n) = f.array {
        if is_char {
            let source = fits.then_some(FieldSource::Chars {
                offset: at,
                len: f.size as u32,
            });
            (Type::String, "string".to_string(), source)
        } else {
            // Arrays of numbers have no D value; shown, not readable.
            (Type::Int(IntType::UINT64), format!("{}[{n}]", f.ty), None)
        }
    } else {
        let int = if f.ty.contains('*') {
            IntType::UINT64
        } else {
            match (f.size, f.signed) {
                (1, true) => IntType::CHAR,
                (1, false) => IntType::UINT8,
                (2, true) => IntType::INT16,
                (2, false) => IntType::UINT16,
                (4, true) => IntType::INT,
                (4, false) => IntType::UINT32,
                (8, true) => IntType::INT64,
                _ => IntType::UINT64,
            }
        };
        let readable = fits && matches!(f.size, 1 | 2 | 4 | 8);
        let source = readable.then(|| crate::catalog::load(at as usize, int));
        (Type::Int(int), f.ty.clone(), source)
    };
    ArgDef {
        ty,
        display,
        source: Some(source.unwrap_or(FieldSource::Unavailable)),
    }
}

/// The running kernel's tracepoints, by group and name; none when tracefs
/// cannot be read. Read once per process.
pub fn tracepoints() -> &'static [Tracepoint] {
    static LIST: OnceLock<Vec<Tracepoint>> = OnceLock::new();
    LIST.get_or_init(|| read_tracepoints().unwrap_or_default())
}

fn read_tracepoints() -> Option<Vec<Tracepoint>> {
    let events = crate::tracefs::mounted().ok()?.join("events");
    let mut list = Vec::new();
    for group in std::fs::read_dir(&events).ok()?.flatten() {
        let gname = group.file_name().to_string_lossy().into_owned();
        if gname == "syscalls" || gname == "ftrace" || !group.path().is_dir() {
            continue;
        }
        let Ok(entries) = std::fs::read_dir(group.path()) else {
            continue;
        };
        // Each event is a directory (beside the group's enable and
        // filter files); its format is read when needed.
        for ev in entries.flatten() {
            if ev.file_type().is_ok_and(|t| t.is_dir()) {
                let name = ev.file_name().to_string_lossy().into_owned();
                list.push(Tracepoint::new(gname.clone(), name));
            }
        }
    }
    list.sort_by(|a, b| (&a.group, &a.name).cmp(&(&b.group, &b.name)));
    Some(list)
}

fn tracepoint_of(id: u32) -> Option<&'static Tracepoint> {
    tracepoints().get(id.checked_sub(FIRST_ID)? as usize)
}

pub struct Sdt;

impl Provider for Sdt {
    fn name(&self) -> &'static str {
        "sdt"
    }
    fn attributes(&self) -> super::stability::ProviderAttributes {
        super::stability::SDT
    }
    fn probes(&self) -> Vec<ProbeDef> {
        self.probes_for(&|_| true)
    }
    /// Every tracepoint by name (for matching and suggestions), the
    /// arguments only of those `wanted` says a program may enable: only
    /// their format files are read.
    fn probes_for(&self, wanted: &dyn Fn(&[&str; 4]) -> bool) -> Vec<ProbeDef> {
        tracepoints()
            .iter()
            .enumerate()
            .map(|(i, tp)| {
                let names = ["sdt", tp.group.as_str(), "", tp.name.as_str()];
                let args = if wanted(&names) {
                    tp.fields().iter().map(field_arg).collect()
                } else {
                    Vec::new()
                };
                task_probe_def(FIRST_ID + i as u32, names, args)
            })
            .collect()
    }
    fn owns(&self, id: u32) -> bool {
        tracepoint_of(id).is_some()
    }
    fn hooks(&self, probe: u32, _socket_state: bool) -> Vec<Hook> {
        let Some(tp) = tracepoint_of(probe) else {
            return Vec::new();
        };
        vec![Hook::Tracepoint {
            category: tp.group.as_str(),
            name: tp.name.clone(),
            prog: "sdt_event",
            probe,
            flags: tp.size().min(RAW_MAX) as u32
                | if tp.fields().iter().any(|f| f.ty.starts_with("__data_loc")) {
                    crate::event::SDT_DYNAMIC
                } else {
                    0
                },
        }]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FORK: &str = "name: sched_process_fork\nID: 310\nformat:\n\
        \tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\
        \tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n\
        \tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n\
        \tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n\
        \tfield:__data_loc char[] parent_comm;\toffset:8;\tsize:4;\tsigned:0;\n\
        \tfield:pid_t parent_pid;\toffset:12;\tsize:4;\tsigned:1;\n\
        \tfield:__data_loc char[] child_comm;\toffset:16;\tsize:4;\tsigned:0;\n\
        \tfield:pid_t child_pid;\toffset:20;\tsize:4;\tsigned:1;\n\n\
        print fmt: \"comm=%s pid=%d child_comm=%s child_pid=%d\"\n";

    #[test]
    fn format_fields_become_typed_arguments() {
        let (fields, size) = parse_format(FORK);
        assert_eq!(size, 24);
        let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            ["parent_comm", "parent_pid", "child_comm", "child_pid"]
        );
        let args: Vec<ArgDef> = fields.iter().map(field_arg).collect();
        assert_eq!(args[0].ty, Type::String);
        assert_eq!(
            args[0].source,
            Some(FieldSource::DataLoc {
                loc: raw_offset() as u32 + 8,
                base: raw_offset() as u32,
                max: RAW_MAX as u32
            })
        );
        assert_eq!(args[3].ty, Type::Int(IntType::INT));
        assert_eq!(args[3].display, "pid_t");
        assert_eq!(
            args[3].source,
            Some(crate::catalog::load(raw_offset() + 20, IntType::INT))
        );
    }

    #[test]
    fn char_arrays_are_strings_and_other_arrays_unreadable() {
        let text = "\tfield:char comm[16];\toffset:8;\tsize:16;\tsigned:0;\n\
                    \tfield:u8 saddr[4];\toffset:24;\tsize:4;\tsigned:0;\n\
                    \tfield:const void * skbaddr;\toffset:32;\tsize:8;\tsigned:0;\n";
        let (fields, size) = parse_format(text);
        assert_eq!(size, 40);
        let args: Vec<ArgDef> = fields.iter().map(field_arg).collect();
        assert_eq!(args[0].ty, Type::String);
        assert!(matches!(
            args[0].source,
            Some(FieldSource::Chars { len: 16, .. })
        ));
        assert_eq!(args[1].display, "u8[4]");
        assert_eq!(args[1].source, Some(FieldSource::Unavailable));
        assert_eq!(args[2].ty, Type::Int(IntType::UINT64));
    }
}
