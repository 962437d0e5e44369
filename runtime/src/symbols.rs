//! Stacks and symbols: the values of `stack()`, `ustack()`, `func()`,
//! `mod()`, `usym()` … Each distinct one is interned (its value is the id,
//! so aggregations group by identity) and printed as dtrace's consumer
//! prints it (`dt_print_stack`, `dt_print_sym` …), symbolised with
//! blazesym: kernel addresses through `/proc/kallsyms` when printed (the
//! kernel stays), user addresses through the process's mappings, ELF
//! symbols and DWARF when first seen (the process may be gone when the
//! aggregation is printed), cached per process and address. An address
//! nothing resolves prints as hex, as dtrace prints it.

use std::io::Write;

use blazesym::symbolize::source::{Kernel, Process, Source};
use blazesym::symbolize::{Input, Symbolized, Symbolizer};
use blazesym::{MaybeDefault, Pid};
use hashbrown::HashMap;
use rdtrace_lang::types::Symbolic;

/// Where x86_64's kernel half of the address space starts.
const KERNEL_SPACE: u64 = 0xffff_8000_0000_0000;

/// dtrace's stack indentation (`_dtrace_stkindent`).
const INDENT: usize = 14;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Captured {
    Kernel(Box<[u64]>),
    User {
        pid: u32,
        frames: Box<[u64]>,
    },
    /// A symbol value: its text, so that an aggregation groups `func()`
    /// by function and `mod()` by module, as libdtrace does.
    Sym {
        kind: Symbolic,
        text: String,
    },
}

/// One resolved address: its object (`vmlinux`, `libc.so.6`), symbol and
/// offset into it, as far as they are known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Frame {
    pub module: Option<String>,
    pub name: Option<String>,
    pub offset: u64,
}

impl Frame {
    /// dt_print_stack's text: ``mod`name+0xoff``, ``mod`name``,
    /// ``mod`0xpc`` or `0xpc`.
    pub fn text(&self, pc: u64) -> String {
        match (&self.module, &self.name) {
            (Some(m), Some(n)) if self.offset > 0 => format!("{m}`{n}+0x{:x}", self.offset),
            (Some(m), Some(n)) => format!("{m}`{n}"),
            (None, Some(n)) if self.offset > 0 => format!("{n}+0x{:x}", self.offset),
            (None, Some(n)) => n.clone(),
            (Some(m), None) => format!("{m}`0x{pc:x}"),
            (None, None) => format!("0x{pc:x}"),
        }
    }
    /// The symbol alone (``mod`name``), as `sym()`, `usym()` and folded
    /// stacks show it.
    pub fn symbol(&self, pc: u64) -> String {
        Frame {
            offset: 0,
            ..self.clone()
        }
        .text(pc)
    }
}

/// Stack ids by the stack's captured bytes.
type StackIds = HashMap<Box<[u8]>, i64>;

/// The interned stacks and symbols of a tracing session.
#[derive(Default)]
pub(crate) struct Symbols {
    ids: HashMap<Captured, i64>,
    values: Vec<Captured>,
    /// The id of each captured stack as the kernel gave it, by (user, pid,
    /// frames kept): an event seen before costs one lookup of its bytes,
    /// no symbol work and no allocation.
    raw_stacks: HashMap<(bool, u32, u32), StackIds>,
    /// The id of each symbol value, by (kind, pid, address).
    raw_symbols: HashMap<(Symbolic, u32, u64), i64>,
    user: HashMap<(u32, u64), Frame>,
    kernel: HashMap<u64, Frame>,
    symbolizer: Option<Symbolizer>,
    /// Kernel modules' address ranges (`/proc/modules`), read once.
    modules: Option<Vec<(u64, u64, String)>>,
    /// Frames of stack() / ustack() without a count.
    pub stackframes: u32,
    pub ustackframes: u32,
    /// `stackformat=folded`.
    pub folded: bool,
}

impl Symbols {
    pub fn new(stackframes: u32, ustackframes: u32, folded: bool) -> Symbols {
        Symbols {
            stackframes,
            ustackframes,
            folded,
            ..Symbols::default()
        }
    }

    fn intern(&mut self, c: Captured) -> i64 {
        if let Some(&id) = self.ids.get(&c) {
            return id;
        }
        self.values.push(c.clone());
        let id = self.values.len() as i64;
        self.ids.insert(c, id);
        id
    }

    /// The stack whose frames (u64 program counters, 0 ending them) are
    /// `bytes`, at most `frames` of them (0: the option's count).
    pub fn stack(&mut self, bytes: &[u8], user: bool, pid: u32, frames: u32) -> i64 {
        let limit = match frames {
            0 if user => self.ustackframes,
            0 => self.stackframes,
            n => n,
        };
        let key = (user, if user { pid } else { 0 }, limit);
        if let Some(&id) = self.raw_stacks.get(&key).and_then(|m| m.get(bytes)) {
            return id;
        }
        let id = self.new_stack(bytes, user, pid, limit as usize);
        self.raw_stacks
            .entry(key)
            .or_default()
            .insert(bytes.into(), id);
        id
    }

    /// A stack not seen before: its frames resolved and interned.
    fn new_stack(&mut self, bytes: &[u8], user: bool, pid: u32, limit: usize) -> i64 {
        let pcs: Vec<u64> = bytes
            .chunks_exact(8)
            .map(|c| u64::from_ne_bytes(c.try_into().unwrap_or([0; 8])))
            .take_while(|&pc| pc != 0)
            .collect();
        if user {
            let pcs: Box<[u64]> = pcs.into_iter().take(limit).collect();
            self.resolve_user(pid, &pcs);
            self.intern(Captured::User { pid, frames: pcs })
        } else {
            // The stack starts where the probe fired, not in the tracing
            // machinery that ran rdtrace's program (the kernel part
            // captures a few frames more for it).
            let frames = self.kernel_frames(&pcs);
            let skip = frames.iter().take_while(|f| is_tracing_frame(f)).count();
            let pcs: Box<[u64]> = pcs.into_iter().skip(skip).take(limit).collect();
            self.intern(Captured::Kernel(pcs))
        }
    }

    /// `func(addr)`, `umod(addr)` …
    pub fn symbol(&mut self, kind: Symbolic, pid: u32, addr: u64) -> i64 {
        let key = (kind, if kind.user() { pid } else { 0 }, addr);
        if let Some(&id) = self.raw_symbols.get(&key) {
            return id;
        }
        let id = self.new_symbol(kind, pid, addr);
        self.raw_symbols.insert(key, id);
        id
    }

    fn new_symbol(&mut self, kind: Symbolic, pid: u32, addr: u64) -> i64 {
        let frame = if kind.user() {
            self.resolve_user(pid, &[addr]);
            self.user.get(&(pid, addr)).cloned().unwrap_or_default()
        } else {
            self.kernel_frames(&[addr]).pop().unwrap_or_default()
        };
        let text = match kind {
            Symbolic::Mod | Symbolic::UMod => frame
                .module
                .clone()
                .unwrap_or_else(|| format!("0x{addr:x}")),
            Symbolic::UAddr | Symbolic::Addr => frame.text(addr),
            _ => frame.symbol(addr),
        };
        self.intern(Captured::Sym { kind, text })
    }

    fn symbolizer(&mut self) -> &Symbolizer {
        self.symbolizer.get_or_insert_with(Symbolizer::new)
    }

    /// Resolves the frames of process `pid` not seen yet, while it lives.
    fn resolve_user(&mut self, pid: u32, pcs: &[u64]) {
        let new: Vec<u64> = pcs
            .iter()
            .copied()
            .filter(|pc| !self.user.contains_key(&(pid, *pc)))
            .collect();
        if new.is_empty() {
            return;
        }
        let mut src = Process::new(Pid::from(pid));
        src.perf_map = false;
        let found = resolve(self.symbolizer(), &Source::Process(src), &new);
        // Symbols found in separate debug info name the debug file: the
        // object is the one mapped at the address.
        let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap_or_default();
        for (pc, mut frame) in new.into_iter().zip(found) {
            if let Some(object) = mapped_object(&maps, pc) {
                frame.module = Some(object);
            }
            self.user.insert((pid, pc), frame);
        }
    }

    fn kernel_frames(&mut self, pcs: &[u64]) -> Vec<Frame> {
        let new: Vec<u64> = pcs
            .iter()
            .copied()
            .filter(|pc| !self.kernel.contains_key(pc))
            .collect();
        if !new.is_empty() {
            let k = Kernel {
                vmlinux: MaybeDefault::None,
                debug_syms: false,
                ..Default::default()
            };
            let found = resolve(self.symbolizer(), &Source::Kernel(k), &new);
            for (pc, mut frame) in new.into_iter().zip(found) {
                // A kernel address is in the kernel or a module.
                frame.module =
                    (pc >= KERNEL_SPACE && frame.name.is_some()).then(|| self.kernel_module(pc));
                if pc < KERNEL_SPACE {
                    frame.name = None;
                }
                self.kernel.insert(pc, frame);
            }
        }
        pcs.iter()
            .map(|pc| self.kernel.get(pc).cloned().unwrap_or_default())
            .collect()
    }

    /// The module holding kernel address `pc`: a loaded module's name, or
    /// `vmlinux` (as dtrace-utils names the kernel).
    fn kernel_module(&mut self, pc: u64) -> String {
        let modules = self.modules.get_or_insert_with(|| {
            std::fs::read_to_string("/proc/modules")
                .map(|t| parse_modules(&t))
                .unwrap_or_default()
        });
        modules
            .iter()
            .find(|(start, size, _)| (*start..start + size).contains(&pc))
            .map_or_else(|| "vmlinux".to_string(), |m| m.2.clone())
    }

    /// The frames of a stack id, innermost first, with their PCs.
    fn frames(&mut self, id: i64) -> Option<(bool, Vec<(u64, Frame)>)> {
        let c = self.values.get((id - 1) as usize)?.clone();
        Some(match c {
            Captured::Kernel(pcs) => {
                let frames = self.kernel_frames(&pcs);
                (false, pcs.iter().copied().zip(frames).collect())
            }
            Captured::User { pid, frames } => (
                true,
                frames
                    .iter()
                    .map(|pc| (*pc, self.user.get(&(pid, *pc)).cloned().unwrap_or_default()))
                    .collect(),
            ),
            Captured::Sym { .. } => return None,
        })
    }

    /// Prints value `id` of kind `kind` as dtrace prints it in trace()
    /// and as an aggregation key.
    pub fn print(&mut self, id: i64, kind: Symbolic, out: &mut Vec<u8>) {
        if kind.is_stack() {
            out.push(b'\n');
            for (pc, f) in self.frames(id).map(|f| f.1).unwrap_or_default() {
                let _ = writeln!(out, "{:INDENT$}{}", "", f.text(pc));
            }
            return;
        }
        let text = self.symbol_text(id);
        let _ = write!(out, "  {text:<50}");
    }

    /// The text of a symbol value: `sym()` ``mod`name``, `mod()` the
    /// module, `uaddr()` with the offset.
    pub fn symbol_text(&self, id: i64) -> String {
        match self.values.get((id - 1) as usize) {
            Some(Captured::Sym { text, .. }) => text.clone(),
            _ => String::new(),
        }
    }

    /// A stack as one folded line's frames: outermost first, `;` between
    /// them, symbols without offsets (flame graph tools' input).
    pub fn folded_text(&mut self, id: i64) -> String {
        let frames = self.frames(id).map(|f| f.1).unwrap_or_default();
        frames
            .iter()
            .rev()
            .map(|(pc, f)| f.symbol(*pc))
            .collect::<Vec<_>>()
            .join(";")
    }
}

/// The frames of `addrs` in `src`; unresolved ones empty. blazesym takes
/// a process's addresses in ascending order.
fn resolve(symbolizer: &Symbolizer, src: &Source, addrs: &[u64]) -> Vec<Frame> {
    let mut sorted = addrs.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let found = symbolizer
        .symbolize(src, Input::AbsAddr(&sorted))
        .unwrap_or_default();
    addrs
        .iter()
        .map(
            |a| match sorted.binary_search(a).ok().and_then(|i| found.get(i)) {
                Some(Symbolized::Sym(s)) => Frame {
                    module: s.module.as_deref().map(basename),
                    name: Some(s.name.to_string()),
                    offset: s.offset as u64,
                },
                _ => Frame::default(),
            },
        )
        .collect()
}

/// Frames of the kernel's tracing machinery between a probe's site and
/// rdtrace's program (the program itself resolves to no symbol or a huge
/// offset past the last one: it lives outside the kernel's text).
fn is_tracing_frame(f: &Frame) -> bool {
    const MACHINERY: &[&str] = &[
        "bpf_trace_run",
        "__bpf_trace_",
        "bpf_prog_",
        "trace_call_bpf",
        "perf_trace_",
        "perf_syscall_",
        "__traceiter_",
        "syscall_trace_enter",
        "syscall_exit_work",
        "trace_event_raw_event_",
    ];
    match &f.name {
        None => true,
        Some(_) if f.offset > 0x10_0000 => true,
        Some(n) => MACHINERY.iter().any(|m| n.starts_with(m)),
    }
}

/// [`Symbolic`] as the number generated code passes.
pub(crate) fn code(kind: Symbolic) -> i64 {
    match kind {
        Symbolic::Stack => 0,
        Symbolic::UStack => 1,
        Symbolic::Sym => 2,
        Symbolic::Mod => 3,
        Symbolic::USym => 4,
        Symbolic::UMod => 5,
        Symbolic::UAddr => 6,
        Symbolic::Addr => 7,
    }
}

pub(crate) fn from_code(code: i64) -> Symbolic {
    match code {
        1 => Symbolic::UStack,
        2 => Symbolic::Sym,
        3 => Symbolic::Mod,
        4 => Symbolic::USym,
        5 => Symbolic::UMod,
        6 => Symbolic::UAddr,
        7 => Symbolic::Addr,
        _ => Symbolic::Stack,
    }
}

/// Capture sites of the stacks in a record's captures (the kernel
/// part's RDT_KSTACK_SITE / RDT_USTACK_SITE).
const KSTACK_SITE: u16 = 0xfffe;
const USTACK_SITE: u16 = 0xfffd;

/// The captured frames of the kernel or user stack in `record` (empty
/// when it has none: the kernel could not walk it).
pub(crate) fn captured_stack(
    record: &[u8],
    area: rdtrace_lang::catalog::CaptureArea,
    user: bool,
) -> &[u8] {
    let at = area.count_at as usize;
    let count = record
        .get(at..at + 4)
        .map_or(0, |b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]) as usize);
    let site = if user { USTACK_SITE } else { KSTACK_SITE };
    rdtrace_record::captures(record, area.data_at as usize, count)
        .into_iter()
        .find(|(h, _)| h.site == site && h.status == rdtrace_record::CAPTURE_OK)
        .map_or(&[], |(_, bytes)| bytes)
}

/// The pid of a record's header (0 for a short one).
pub(crate) fn record_pid(record: &[u8]) -> u32 {
    rdtrace_record::header_of(record).map_or(0, |h| h.pid)
}

fn basename(path: &std::ffi::OsStr) -> String {
    let p = std::path::Path::new(path);
    p.file_name().unwrap_or(path).to_string_lossy().into_owned()
}

/// The basename of the file mapped at `pc` in a `/proc/PID/maps` text.
fn mapped_object(maps: &str, pc: u64) -> Option<String> {
    maps.lines().find_map(|l| {
        let mut w = l.split_whitespace();
        let (start, end) = w.next()?.split_once('-')?;
        let range = u64::from_str_radix(start, 16).ok()?..u64::from_str_radix(end, 16).ok()?;
        let path = w.nth(4)?;
        (range.contains(&pc) && path.starts_with('/')).then(|| basename(path.as_ref()))
    })
}

/// `/proc/modules` lines: `name size refs deps state address`.
fn parse_modules(text: &str) -> Vec<(u64, u64, String)> {
    text.lines()
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            let size = w.get(1)?.parse().ok()?;
            let addr = u64::from_str_radix(w.get(5)?.trim_start_matches("0x"), 16).ok()?;
            (addr != 0).then(|| (addr, size, w[0].to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_print_as_dt_print_stack_does() {
        let f = |m: Option<&str>, n: Option<&str>, offset| Frame {
            module: m.map(str::to_string),
            name: n.map(str::to_string),
            offset,
        };
        assert_eq!(
            f(Some("vmlinux"), Some("ksys_write"), 0x6b).text(1),
            "vmlinux`ksys_write+0x6b"
        );
        assert_eq!(
            f(Some("libc.so.6"), Some("write"), 0).text(1),
            "libc.so.6`write"
        );
        assert_eq!(f(Some("a.out"), None, 0).text(0x401000), "a.out`0x401000");
        assert_eq!(f(None, None, 0).text(0xdead), "0xdead");
        assert_eq!(
            f(Some("vmlinux"), Some("ksys_write"), 0x6b).symbol(1),
            "vmlinux`ksys_write"
        );
    }

    /// A stack prints a newline, then one frame per line indented 14
    /// columns; unresolved frames as hex; the same frames intern once.
    #[test]
    fn stacks_intern_by_identity_and_print_indented() {
        let mut s = Symbols::new(20, 20, false);
        let pcs: Vec<u8> = [0x10u64, 0x20, 0, 0x30]
            .iter()
            .flat_map(|v| v.to_ne_bytes())
            .collect();
        // PID 0 has no mappings: nothing resolves.
        let a = s.stack(&pcs, true, 0, 0);
        let b = s.stack(&pcs, true, 0, 0);
        assert_eq!(a, b);
        let one = s.stack(&pcs, true, 0, 1);
        assert_ne!(a, one);
        let mut out = Vec::new();
        s.print(a, Symbolic::UStack, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!("\n{0:14}0x10\n{0:14}0x20\n", "")
        );
        assert_eq!(s.folded_text(a), "0x20;0x10");
    }

    #[test]
    fn objects_come_from_the_mappings() {
        let maps = "55d0c1a00000-55d0c1a01000 r-xp 00001000 fe:00 123 /tmp/st/prog\n\
                    7f00000000-7f00001000 r-xp 00000000 00:00 0 [vdso]\n";
        assert_eq!(mapped_object(maps, 0x55d0c1a00010).as_deref(), Some("prog"));
        assert_eq!(mapped_object(maps, 0x7f00000010), None);
        assert_eq!(mapped_object(maps, 1), None);
    }

    #[test]
    fn modules_parse_from_proc_modules() {
        let m = parse_modules(
            "loop 40960 0 - Live 0xffffffffc0a00000\nx 1 0 - Live 0x0000000000000000\n",
        );
        assert_eq!(m, [(0xffffffffc0a00000, 40960, "loop".to_string())]);
    }
}
