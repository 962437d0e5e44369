//! D's built-in variables. Record-backed ones (`cpu`, `pid`, `execname`…)
//! come from the catalog's layout of each probe (layout 0, the event header,
//! for BEGIN/END/ERROR/tick/profile); runtime-supplied ones (`timestamp`,
//! `probename`…) become [`ExprKind::Builtin`]; the ones that need kernel
//! memory are refused.

use super::expr::Cx;
use super::Checker;
use crate::catalog::{FieldSource, ProbeDef, ProbeKind};
use crate::diag::Diagnostic;
use crate::span::Span;
use crate::typed::{Builtin, Expr, ExprKind};
use crate::types::{IntType, Type};

/// The D type of a record-backed built-in variable.
fn record_type(name: &str) -> Option<Type> {
    Some(match name {
        "cpu" | "pid" | "tid" | "ppid" | "errno" | "projid" | "taskid" => Type::Int(IntType::INT),
        "uid" | "gid" => Type::Int(IntType::UINT32),
        "execname" | "cwd" => Type::String,
        "timestamp" | "vtimestamp" => Type::Int(IntType::UINT64),
        "walltimestamp" => Type::Int(IntType::INT64),
        n if arg_index(n).is_some() => Type::Int(IntType::INT64),
        _ => return None,
    })
}

/// `arg0` … `arg9`.
fn arg_index(name: &str) -> Option<usize> {
    let d = name.strip_prefix("arg")?;
    if d.len() == 1 {
        d.parse().ok()
    } else {
        None
    }
}

fn runtime_builtin(name: &str) -> Option<(Builtin, Type)> {
    let s = Type::String;
    Some(match name {
        "timestamp" => (Builtin::Timestamp, Type::Int(IntType::UINT64)),
        "walltimestamp" => (Builtin::WallTimestamp, Type::Int(IntType::INT64)),
        "probeprov" => (Builtin::ProbeProv, s),
        "probemod" => (Builtin::ProbeMod, s),
        "probefunc" => (Builtin::ProbeFunc, s),
        "probename" => (Builtin::ProbeName, s),
        "epid" => (Builtin::Epid, Type::Int(IntType::UINT32)),
        "id" => (Builtin::Id, Type::Int(IntType::UINT32)),
        _ => return None,
    })
}

/// Built-ins that need kernel state at probe time.
fn out_of_scope(name: &str) -> bool {
    matches!(
        name,
        "stackdepth"
            | "ustackdepth"
            | "caller"
            | "ucaller"
            | "regs"
            | "uregs"
            | "ipl"
            | "root"
            | "uthread"
    )
}

/// The built-in pointers to structs the kernel part fills at probe time,
/// and the struct each points to. Their members are read through the
/// layouts' rows of the pointer's own name (`curpsinfo`), as the record
/// may hold the same struct for an argument too.
pub(crate) fn builtin_pointer(name: &str) -> Option<&'static str> {
    Some(match name {
        "curpsinfo" => "psinfo_t",
        "curlwpsinfo" => "lwpsinfo_t",
        "curcpu" => "cpuinfo_t",
        _ => return None,
    })
}

/// Integer constants D programs get from dtrace's own headers and
/// libraries: the fault codes ERROR's arg4 carries (sys/dtrace.h) and the
/// address families of net.d (Linux's numbers).
pub(crate) fn d_constant(name: &str) -> Option<i64> {
    Some(match name {
        "DTRACEFLT_UNKNOWN" => 0,
        "DTRACEFLT_BADADDR" => 1,
        "DTRACEFLT_BADALIGN" => 2,
        "DTRACEFLT_ILLOP" => 3,
        "DTRACEFLT_DIVZERO" => 4,
        "DTRACEFLT_NOSCRATCH" => 5,
        "DTRACEFLT_KPRIV" => 6,
        "DTRACEFLT_UPRIV" => 7,
        "DTRACEFLT_TUPOFLOW" => 8,
        "DTRACEFLT_BADSTACK" => 9,
        "AF_INET" => 2,
        "AF_INET6" => 10,
        _ => return None,
    })
}

/// Every built-in variable's name, for suggestions.
pub(crate) const NAMES: &[&str] = &[
    "arg0",
    "arg1",
    "arg2",
    "arg3",
    "arg4",
    "arg5",
    "arg6",
    "arg7",
    "arg8",
    "arg9",
    "args",
    "cpu",
    "curcpu",
    "curlwpsinfo",
    "curpsinfo",
    "cwd",
    "epid",
    "errno",
    "execname",
    "gid",
    "id",
    "pid",
    "ppid",
    "probefunc",
    "probemod",
    "probename",
    "probeprov",
    "tid",
    "timestamp",
    "uid",
    "vtimestamp",
    "walltimestamp",
    "zonename",
];

/// Names the user may not declare or assign.
pub(crate) fn is_reserved(name: &str) -> bool {
    name == "args"
        || record_type(name).is_some()
        || runtime_builtin(name).is_some()
        || out_of_scope(name)
        || builtin_pointer(name).is_some()
        || matches!(name, "curthread" | "zonename")
}

pub(crate) fn is_builtin(name: &str) -> bool {
    is_reserved(name)
}

/// Layout whose record carries the built-ins of a probe.
fn layout_of(p: &ProbeDef) -> u32 {
    match p.kind {
        ProbeKind::Event { layout } | ProbeKind::Profile { layout, .. } => layout,
        _ => 0,
    }
}

impl Checker<'_> {
    /// Resolves a built-in variable; `None` (with an error reported) when it
    /// cannot be used here.
    pub(crate) fn builtin(&mut self, cx: &Cx, name: &str, span: Span) -> Option<Expr> {
        if let Some(st) = builtin_pointer(name) {
            self.error(
                Diagnostic::new(
                    format!("{name} is a pointer to {st} and cannot be used as a value"),
                    span,
                )
                .with_help(format!("read its members with {name}->member")),
            );
            return None;
        }
        if name == "curthread" {
            self.error(
                Diagnostic::new("curthread is not supported by rdtrace", span)
                    .with_label("a struct task_struct * rdtrace does not let D programs follow")
                    .with_help(
                        "curpsinfo (psinfo_t) and curlwpsinfo (lwpsinfo_t) give the process and \
                         thread, read in the kernel when the probe fires; pid, tid, ppid, uid, \
                         gid and execname too",
                    ),
            );
            return None;
        }
        if name == "zonename" {
            // Linux has no zones: every process is in the global one, as
            // dtrace-utils reports.
            return Some(Expr {
                kind: ExprKind::Str(b"global".to_vec()),
                ty: Type::String,
                span,
            });
        }
        if out_of_scope(name) {
            self.error(
                Diagnostic::new(format!("{name} is not supported by rdtrace"), span)
                    .with_label("needs kernel memory at probe time")
                    .with_help("rdtrace evaluates D in user space on captured events"),
            );
            return None;
        }
        if let Some(ty) = record_type(name) {
            match self.record_builtin(cx, name) {
                Ok(Some(src)) => {
                    return Some(Expr {
                        kind: ExprKind::Field(src),
                        ty,
                        span,
                    })
                }
                Ok(None) => {}
                Err(msg) => {
                    // A runtime-supplied fallback (timestamp) still works.
                    if runtime_builtin(name).is_none() {
                        self.err(msg, span);
                        return None;
                    }
                }
            }
        }
        if let Some((b, ty)) = runtime_builtin(name) {
            return Some(Expr {
                kind: ExprKind::Builtin(b),
                ty,
                span,
            });
        }
        if record_type(name).is_some() {
            // Only reached for a clause that enables no probe (-Z) or an
            // inline definition: the type is known, the source is not.
            return Some(Expr {
                kind: ExprKind::Field(FieldSource::Unavailable),
                ty: record_type(name)?,
                span,
            });
        }
        None
    }

    /// The one source every probe of the clause agrees on, `Ok(None)` when
    /// there are no probes to ask, or an error message.
    fn record_builtin(&self, cx: &Cx, name: &str) -> Result<Option<FieldSource>, String> {
        let mut found: Option<FieldSource> = None;
        for p in &cx.probes {
            let src = self.catalog.builtin_source(layout_of(p), name).or_else(|| {
                arg_index(name)
                    .and_then(|i| p.args.get(i))
                    .and_then(|a| a.source.clone())
            });
            let Some(src) = src.filter(|s| *s != FieldSource::Unavailable) else {
                return Err(format!(
                    "built-in variable {name} is not available in probe {}:{}:{}:{}",
                    p.provider, p.module, p.function, p.name
                ));
            };
            match &found {
                None => found = Some(src),
                Some(f) if *f == src => {}
                Some(_) => {
                    return Err(format!(
                        "built-in variable {name} comes from different places in the probes of this clause; \
                         split the clause"
                    ))
                }
            }
        }
        Ok(found)
    }
}
