//! The per-firing contract shared by the JIT ([`crate::CompiledProgram`]) and
//! the reference interpreter ([`crate::interp::Interpreter`]): which clauses
//! run, in what order, how their output is committed or discarded, how a D
//! runtime fault is reported and how `ERROR` fires.

use std::io::Write;

use rdtrace_lang::catalog::ProbeKind;
use rdtrace_lang::plan::capture_plan;
use rdtrace_lang::typed::{Clause, ProbeIndex, Program, Stmt};
use rdtrace_lang::visit::any_stmt;
use rdtrace_record::{header_of, ErrorRecord, EventHeader, Record};

use crate::deferred::{self, Deferred};
use crate::error::RuntimeError;

/// dtrace's aggsort* options: how `printa()` and the exit-time print order
/// rows. By default by value (several aggregations: the first one's, then
/// the next…), ties by key, ascending.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AggSort {
    /// `aggsortkey`: by key first, then by value.
    pub key: bool,
    /// `aggsortkeypos`: the key position compared first (then the following
    /// ones, wrapping around).
    pub keypos: usize,
    /// `aggsortpos`: in a printa of several aggregations, the one whose
    /// value is compared first.
    pub pos: usize,
    /// `aggsortrev`: the whole order reversed.
    pub rev: bool,
}

/// Per-source facts a firing needs.
#[derive(Debug, Clone, Copy, Default)]
pub struct FireContext {
    /// `walltimestamp = header.ts_ns + wall_offset_ns`.
    pub wall_offset_ns: i64,
}

/// What a firing asks of the consumer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FireResult {
    /// `exit(n)` was executed (by a clause that completed).
    pub exit: Option<i32>,
}

pub use rdtrace_record::ERROR_ARGS_OFFSET;
/// Length of an `ERROR` record.
pub const ERROR_RECORD_LEN: usize = std::mem::size_of::<ErrorRecord>();

/// A D runtime fault: what went wrong and where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fault {
    pub kind: FaultKind,
    /// 0 for the predicate, else the 1-based action (statement) index.
    pub action: u32,
    /// The faulting address (invalid address), else 0.
    pub addr: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum FaultKind {
    DivZero = 1,
    /// The printf engine refused its arguments.
    BadPrintf = 2,
    /// copyin/copyinstr of memory that could not be read.
    BadAddr = 3,
    /// copyin of more than the kernel copies for one call.
    NoScratch = 4,
}

impl FaultKind {
    pub(crate) fn from_code(code: u32) -> FaultKind {
        match code {
            1 => FaultKind::DivZero,
            3 => FaultKind::BadAddr,
            4 => FaultKind::NoScratch,
            _ => FaultKind::BadPrintf,
        }
    }
    /// DTrace's DTRACEFLT_* code (ERROR's arg4).
    fn dtrace_code(self) -> u64 {
        match self {
            FaultKind::DivZero => 4,   // DTRACEFLT_DIVZERO
            FaultKind::BadPrintf => 3, // DTRACEFLT_ILLOP
            FaultKind::BadAddr => 1,   // DTRACEFLT_BADADDR
            FaultKind::NoScratch => 5, // DTRACEFLT_NOSCRATCH
        }
    }
    /// dtrace's words for the fault (dt_fault.c).
    fn text(self, addr: u64) -> String {
        match self {
            FaultKind::DivZero => "divide-by-zero".into(),
            FaultKind::BadPrintf => "illegal operation".into(),
            FaultKind::BadAddr => format!("invalid address (0x{addr:x})"),
            FaultKind::NoScratch => "out of scratch space".into(),
        }
    }
}

/// How one clause ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClauseOutcome {
    /// The predicate was false: nothing happened.
    Skipped,
    /// The body ran; `exit` is the status of its last `exit()`, if any.
    Done { exit: Option<i32> },
    /// Abandoned by a fault: its output and exit are discarded.
    Faulted(Fault),
}

/// An engine that can run one clause (JIT or interpreter).
pub(crate) trait ClauseRunner {
    /// Starts a firing of `probe`: zero `this->`, reset scratch space.
    /// `nested` is true for the `ERROR` firing inside another firing, which
    /// gets its own `this->` variables.
    fn begin_firing(&mut self, probe: ProbeIndex, record: &[u8], ctx: &FireContext, nested: bool);
    /// Ends the firing begun last (restores the outer one after `ERROR`).
    fn end_firing(&mut self, nested: bool);
    /// Runs clause `clause`; whatever it prints goes to `buf`.
    fn run_clause(&mut self, clause: usize, record: &[u8], buf: &mut Vec<u8>) -> ClauseOutcome;
    /// Moves the destructive actions the last clause asked for to `into`.
    fn take_deferred(&mut self, into: &mut Vec<Deferred>);
}

/// What the driver precomputes about a program.
#[derive(Debug, Clone)]
pub(crate) struct DriverInfo {
    /// For each probe, the clauses enabled on it, in program order.
    pub clauses_of: Vec<Vec<usize>>,
    /// For each clause, whether it records data (and so gets the
    /// non-quiet prefix line).
    pub records: Vec<bool>,
    pub error_probe: Option<ProbeIndex>,
    /// For each probe, whether exit() ends its firing (every probe but
    /// the dtrace provider's).
    pub stop_on_exit: Vec<bool>,
    /// Records shorter than this are copied into a zero-padded buffer so
    /// that field loads never read past the end: the longest record the
    /// capture plan says a clause reads (at least a header and an `ERROR`
    /// record). The JIT and the interpreter both get it from here.
    pub min_record_len: usize,
    pub quiet: bool,
    /// `function:name` of each probe, for the non-quiet prefix.
    pub prefix_names: Vec<String>,
    /// `-x oformat`: each clause's output is one structured record.
    pub oformat: crate::oformat::Oformat,
    /// Records written to the structured document so far.
    pub records_out: std::cell::Cell<u64>,
    /// `-F` (the flowindent option): the prefix shows entries and returns
    /// indented; its state changes with every record printed.
    pub flow: Option<std::cell::RefCell<FlowState>>,
}

/// `-F`'s state: the indentation of each CPU's output and the last
/// (probe, clause) printed, as libdtrace's `dt_flowindent` keeps them.
#[derive(Debug, Clone, Default)]
pub(crate) struct FlowState {
    indent: std::collections::HashMap<u32, usize>,
    last: Option<(ProbeIndex, usize)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Entry,
    Return,
    None,
}

impl FlowState {
    /// The prefix column of a record of `probe` (clause `clause`) on
    /// `cpu`, as dtrace's `chew()` prints it with `-F`: `%3d %-41s `, the
    /// function indented 2 per open entry, `->`/`<-` (`=>`/`<=` for
    /// syscalls) before entries and returns, `| ` before other probes.
    fn prefix(
        &mut self,
        p: &rdtrace_lang::typed::EnabledProbe,
        key: (ProbeIndex, usize),
        cpu: u32,
    ) -> String {
        let named = |suffix: &str| {
            p.name == suffix
                || p.name
                    .strip_suffix(suffix)
                    .is_some_and(|r| r.ends_with('-'))
        };
        let mut flow = if named("entry") {
            Flow::Entry
        } else if named("return") {
            Flow::Return
        } else {
            Flow::None
        };
        // A second clause of the same probe is not a deeper call.
        if flow == Flow::Entry && self.last.is_some_and(|l| l != key && l.0 == key.0) {
            flow = Flow::None;
        }
        let syscall = p.provider == "syscall";
        let indent = self.indent.entry(cpu).or_insert(0);
        if flow == Flow::Return {
            *indent = indent.saturating_sub(2);
        }
        let name = match flow {
            Flow::Entry => format!(
                "{:w$}{}{}",
                "",
                if syscall { " => " } else { " -> " },
                p.function,
                w = *indent
            ),
            Flow::Return => format!(
                "{:w$}{}{}",
                "",
                if syscall { " <= " } else { " <- " },
                p.function,
                w = *indent
            ),
            Flow::None => format!("{:w$}| {}:{}", "", p.function, p.name, w = *indent),
        };
        if flow == Flow::Entry {
            *indent += 2;
        }
        self.last = Some(key);
        format!("{cpu:>3} {name:<41} ")
    }
}

impl DriverInfo {
    pub fn new(program: &Program, quiet: bool, flowindent: bool) -> DriverInfo {
        let min_record_len = capture_plan(program)
            .record_len()
            .max(std::mem::size_of::<EventHeader>());
        let mut clauses_of = vec![Vec::new(); program.probes.len()];
        for (i, c) in program.clauses.iter().enumerate() {
            for &p in &c.probes {
                if let Some(list) = clauses_of.get_mut(p) {
                    list.push(i);
                }
            }
        }
        DriverInfo {
            clauses_of,
            records: program.clauses.iter().map(clause_records).collect(),
            error_probe: program
                .probes
                .iter()
                .position(|p| p.kind == ProbeKind::Error),
            stop_on_exit: program
                .probes
                .iter()
                .map(|p| !matches!(p.kind, ProbeKind::Begin | ProbeKind::End | ProbeKind::Error))
                .collect(),
            min_record_len: min_record_len.max(ERROR_RECORD_LEN),
            quiet,
            prefix_names: program
                .probes
                .iter()
                .map(|p| format!("{}:{}", p.function, p.name))
                .collect(),
            flow: flowindent.then(Default::default),
            oformat: Default::default(),
            records_out: Default::default(),
        }
    }

    /// Clause output as `-x oformat` structured records.
    pub fn with_oformat(mut self, f: crate::oformat::Oformat) -> DriverInfo {
        self.oformat = f;
        self
    }

    /// Whether the next `probes` element is the document's first (and
    /// counts it).
    pub fn take_first_record(&self) -> bool {
        let n = self.records_out.get();
        self.records_out.set(n + 1);
        n == 0
    }
}

/// Whether DTrace would record data for this clause in its buffer: any
/// data-recording action, or no statement at all (the default action).
/// Variable assignments and aggregations record nothing.
pub(crate) fn clause_records(c: &Clause) -> bool {
    c.body.is_empty()
        || any_stmt(&c.body, |s| {
            !matches!(s, Stmt::Expr(_) | Stmt::AggUpdate { .. } | Stmt::If { .. })
        })
}

/// Fires `probe` on `record`: runs its clauses in program order. `buf` is
/// reusable space for one clause's output.
#[allow(clippy::too_many_arguments)]
pub(crate) fn fire<R: ClauseRunner>(
    runner: &mut R,
    program: &Program,
    info: &DriverInfo,
    probe: ProbeIndex,
    record: &[u8],
    ctx: &FireContext,
    out: &mut Vec<u8>,
    err: &mut Vec<u8>,
    buf: &mut Vec<u8>,
) -> FireResult {
    let padded;
    let record = if record.len() < info.min_record_len {
        let mut v = record.to_vec();
        v.resize(info.min_record_len, 0);
        padded = v;
        &padded[..]
    } else {
        record
    };
    let mut result = FireResult::default();
    if probe >= info.clauses_of.len() {
        return result;
    }
    let mut deferred = Vec::new();
    runner.begin_firing(probe, record, ctx, false);
    for &clause in &info.clauses_of[probe] {
        buf.clear();
        let outcome = runner.run_clause(clause, record, buf);
        runner.take_deferred(&mut deferred);
        match outcome {
            ClauseOutcome::Skipped => deferred.clear(),
            ClauseOutcome::Done { exit } => {
                deferred::run(&mut deferred, buf, pid_of(record), info.oformat);
                commit(program, info, probe, clause, record, buf, out);
                if exit.is_some() {
                    result.exit = exit;
                    // exit() makes dtrace's state DRAINING at once: the rest
                    // of this firing runs only for dtrace-provider probes
                    // (BEGIN, END, ERROR), as dtrace_probe() skips the other ECBs.
                    if info.stop_on_exit[probe] {
                        break;
                    }
                }
            }
            ClauseOutcome::Faulted(fault) => {
                deferred.clear();
                report_fault(program, probe, clause, fault, err);
                if let Some(ep) = info.error_probe.filter(|&ep| ep != probe) {
                    let ex = fire_error(
                        runner, program, info, ep, probe, clause, fault, record, ctx, out, err,
                    );
                    if ex.is_some() {
                        result.exit = ex;
                    }
                }
            }
        }
    }
    runner.end_firing(false);
    result
}

/// Appends a completed clause's output, with the non-quiet prefix line.
fn commit(
    program: &Program,
    info: &DriverInfo,
    probe: ProbeIndex,
    clause: usize,
    record: &[u8],
    buf: &[u8],
    out: &mut Vec<u8>,
) {
    if info.oformat.structured() {
        if info.records[clause] || !buf.is_empty() {
            let p = &program.probes[probe];
            let h = crate::oformat::Header {
                cpu: i64::from(header_of(record).unwrap_or_default().cpu),
                id: i64::from(p.id),
                provider: &p.provider,
                module: &p.module,
                function: &p.function,
                name: &p.name,
            };
            crate::oformat::record(info.oformat, out, info.take_first_record(), &h, buf);
        }
        return;
    }
    if info.quiet || !info.records[clause] {
        out.extend_from_slice(buf);
        return;
    }
    let cpu = header_of(record).unwrap_or_default().cpu;
    if let Some(flow) = &info.flow {
        let prefix = flow
            .borrow_mut()
            .prefix(&program.probes[probe], (probe, clause), cpu);
        out.extend_from_slice(prefix.as_bytes());
        out.extend_from_slice(buf);
        out.push(b'\n');
        return;
    }
    let _ = write!(
        out,
        "{:>3} {:>6} {:>32} ",
        cpu, program.probes[probe].id, info.prefix_names[probe]
    );
    out.extend_from_slice(buf);
    out.push(b'\n');
}

/// The pid a record's header names (records reaching here are padded to
/// at least a header).
fn pid_of(record: &[u8]) -> u32 {
    header_of(record).unwrap_or_default().pid
}

/// dtrace's message for a fault (rdtrace has no DIF offsets to add).
pub(crate) fn report_fault(
    program: &Program,
    probe: ProbeIndex,
    clause: usize,
    fault: Fault,
    err: &mut Vec<u8>,
) {
    let p = &program.probes[probe];
    let place = if fault.action == 0 {
        "predicate".to_string()
    } else {
        format!("action #{}", fault.action)
    };
    err.extend_from_slice(
        format!(
            "dtrace: error on enabled probe ID {} (ID {}: {}:{}:{}:{}): {} in {}\n",
            clause + 1,
            p.id,
            p.provider,
            p.module,
            p.function,
            p.name,
            fault.kind.text(fault.addr),
            place
        )
        .as_bytes(),
    );
}

/// Fires `ERROR` for a fault of `clause`, nested in the current firing.
#[allow(clippy::too_many_arguments)]
fn fire_error<R: ClauseRunner>(
    runner: &mut R,
    program: &Program,
    info: &DriverInfo,
    error_probe: ProbeIndex,
    _faulting_probe: ProbeIndex,
    clause: usize,
    fault: Fault,
    record: &[u8],
    ctx: &FireContext,
    out: &mut Vec<u8>,
    err: &mut Vec<u8>,
) -> Option<i32> {
    let mut hdr = header_of(record).unwrap_or_default();
    hdr.probe = program.probes[error_probe].id;
    let error = ErrorRecord {
        hdr,
        args: [
            0,
            clause as u64 + 1,
            fault.action as u64,
            0,
            fault.kind.dtrace_code(),
            fault.addr,
        ],
    };
    // Padded like any record, so clauses reading past arg5 read zeros.
    let mut rec = vec![0u8; info.min_record_len.max(ERROR_RECORD_LEN)];
    rec[..ERROR_RECORD_LEN].copy_from_slice(error.as_bytes());
    let mut exit = None;
    let mut buf = Vec::new();
    let mut deferred = Vec::new();
    runner.begin_firing(error_probe, &rec, ctx, true);
    for &c in &info.clauses_of[error_probe] {
        buf.clear();
        let outcome = runner.run_clause(c, &rec, &mut buf);
        runner.take_deferred(&mut deferred);
        match outcome {
            ClauseOutcome::Skipped => deferred.clear(),
            ClauseOutcome::Done { exit: e } => {
                deferred::run(&mut deferred, &mut buf, pid_of(&rec), info.oformat);
                commit(program, info, error_probe, c, &rec, &buf, out);
                if e.is_some() {
                    exit = e;
                }
            }
            // A fault inside ERROR is reported but does not fire ERROR again.
            ClauseOutcome::Faulted(f) => {
                deferred.clear();
                report_fault(program, error_probe, c, f, err)
            }
        }
    }
    runner.end_firing(true);
    exit
}

/// dtrace refuses to enable a program with destructive actions unless they
/// are allowed (`-w` or `#pragma D option destructive`).
pub(crate) fn check_destructive(program: &Program, allowed: bool) -> Result<(), RuntimeError> {
    let destructive = |s: &Stmt| {
        matches!(
            s,
            Stmt::System { .. } | Stmt::Raise { .. } | Stmt::Stop { .. }
        )
    };
    if !allowed
        && program
            .clauses
            .iter()
            .any(|c| any_stmt(&c.body, destructive))
    {
        return Err(RuntimeError::NotEnabled(
            "Destructive actions not allowed".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod flow_tests {
    use super::FlowState;
    use rdtrace_lang::catalog::ProbeKind;
    use rdtrace_lang::typed::EnabledProbe;

    fn probe(provider: &str, function: &str, name: &str) -> EnabledProbe {
        EnabledProbe {
            id: 1,
            provider: provider.into(),
            module: String::new(),
            function: function.into(),
            name: name.into(),
            kind: ProbeKind::Begin,
        }
    }

    /// dtrace -F: entries indent what follows by two, returns take it
    /// back; `=>`/`<=` for syscalls, `->`/`<-` otherwise, `| ` for other
    /// probes; the column is 41 wide after the CPU.
    #[test]
    fn entries_indent_and_returns_unindent() {
        let mut f = FlowState::default();
        let open = probe("syscall", "openat", "entry");
        let open_ret = probe("syscall", "openat", "return");
        let start = probe("fake", "work", "op-entry");
        let tick = probe("profile", "", "tick-1s");
        let lines = [
            f.prefix(&start, (0, 0), 1),
            f.prefix(&open, (1, 1), 1),
            f.prefix(&tick, (2, 2), 1),
            f.prefix(&open_ret, (3, 3), 1),
            f.prefix(&probe("fake", "work", "op-return"), (4, 4), 1),
        ];
        let want = [
            "  1  -> work",
            "  1    => openat",
            "  1     | :tick-1s",
            "  1    <= openat",
            "  1  <- work",
        ];
        for (line, want) in lines.iter().zip(want) {
            assert_eq!(line.trim_end(), want);
            assert_eq!(line.len(), 3 + 1 + 41 + 1, "{line:?}");
        }
        // A second clause on the same entry probe does not indent again.
        let mut f = FlowState::default();
        f.prefix(&open, (1, 0), 0);
        assert_eq!(
            f.prefix(&open, (1, 1), 0).trim_end(),
            "  0   | openat:entry"
        );
    }
}
