//! What a called name is: a subroutine (with its signature), an action, an
//! aggregating function, or something rdtrace refuses.

use crate::typed::Func;
use crate::types::{IntType, Type};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Callee {
    Sub(Func),
    /// copyin, copyinstr: user memory captured when the probe fires.
    CopyIn,
    /// Statements only: printf, trace, exit …
    Action,
    /// Destructive actions (need `-w`).
    Destructive,
    /// Only as `@a[…] = f(…)`.
    Aggregating,
    /// stack(), ustack(): frames captured when the probe fires.
    Stack(bool),
    /// func(), sym(), mod(), ufunc(), usym(), umod(), uaddr().
    Symbol(crate::types::Symbolic),
    /// Exists in DTrace but needs kernel memory or features rdtrace lacks.
    Unsupported(&'static str),
}

/// The functions and actions D has, for suggestions.
pub(crate) const NAMES: &[&str] = &[
    "strlen",
    "strjoin",
    "substr",
    "index",
    "rindex",
    "strchr",
    "strrchr",
    "strstr",
    "strtok",
    "lltostr",
    "toupper",
    "tolower",
    "inet_ntoa",
    "inet_ntop",
    "inet_ntoa6",
    "ntohs",
    "ntohl",
    "htons",
    "htonl",
    "rand",
    "printf",
    "printa",
    "trace",
    "tracemem",
    "copyinto",
    "exit",
    "clear",
    "trunc",
    "normalize",
    "denormalize",
    "system",
    "raise",
    "stop",
    "count",
    "sum",
    "avg",
    "min",
    "max",
    "stddev",
    "quantize",
    "lquantize",
    "llquantize",
    "copyin",
    "copyinstr",
    "alloca",
    "stack",
    "ustack",
    "func",
    "sym",
    "mod",
    "ufunc",
    "usym",
    "umod",
    "uaddr",
];

pub(crate) fn classify(name: &str) -> Option<Callee> {
    use Callee::*;
    Some(match name {
        "strlen" => Sub(Func::Strlen),
        "strjoin" => Sub(Func::Strjoin),
        "substr" => Sub(Func::Substr),
        "index" => Sub(Func::Index),
        "rindex" => Sub(Func::Rindex),
        "strchr" => Sub(Func::Strchr),
        "strrchr" => Sub(Func::Strrchr),
        "strstr" => Sub(Func::Strstr),
        "strtok" => Sub(Func::Strtok),
        "lltostr" => Sub(Func::Lltostr),
        "toupper" => Sub(Func::Toupper),
        "tolower" => Sub(Func::Tolower),
        "inet_ntoa" => Sub(Func::InetNtoa),
        "inet_ntop" => Sub(Func::InetNtop),
        "inet_ntoa6" => Sub(Func::InetNtoa6),
        "ntohs" => Sub(Func::Ntohs),
        "ntohl" => Sub(Func::Ntohl),
        "htons" => Sub(Func::Htons),
        "htonl" => Sub(Func::Htonl),
        "rand" => Sub(Func::Rand),
        "printf" | "printa" | "trace" | "tracemem" | "copyinto" | "exit" | "clear" | "trunc"
        | "normalize" | "denormalize" => Action,
        "system" | "raise" | "stop" => Destructive,
        "count" | "sum" | "avg" | "min" | "max" | "stddev" | "quantize" | "lquantize"
        | "llquantize" => Aggregating,
        "copyin" | "copyinstr" | "alloca" => CopyIn,
        "copyout"
        | "copyoutstr"
        | "bcopy"
        | "msgsize"
        | "msgdsize"
        | "mutex_owned"
        | "mutex_owner"
        | "mutex_type_adaptive"
        | "mutex_type_spin"
        | "rw_read_held"
        | "rw_write_held"
        | "rw_iswriter"
        | "progenyof"
        | "getmajor"
        | "getminor"
        | "ddi_pathname"
        | "basename"
        | "dirname"
        | "cleanpath"
        | "strtoll"
        | "panic"
        | "breakpoint"
        | "chill" => Unsupported("reads or writes kernel memory"),
        "stack" => Stack(false),
        "ustack" => Stack(true),
        "func" | "sym" => Symbol(crate::types::Symbolic::Sym),
        "mod" => Symbol(crate::types::Symbolic::Mod),
        "ufunc" | "usym" => Symbol(crate::types::Symbolic::USym),
        "umod" => Symbol(crate::types::Symbolic::UMod),
        "uaddr" => Symbol(crate::types::Symbolic::UAddr),
        "jstack" => Unsupported("needs a Java VM's stack helper"),
        "speculation" | "speculate" | "commit" | "discard" => {
            Unsupported("speculative tracing is not implemented")
        }
        "print" | "printm" | "freopen" | "ftruncate" | "setopt" | "xlate" => {
            Unsupported("not implemented")
        }
        _ => return None,
    })
}

/// Argument kinds of a subroutine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Arg {
    Str,
    Int,
}

impl Arg {
    pub fn name(self) -> &'static str {
        match self {
            Arg::Str => "string",
            Arg::Int => "int",
        }
    }
    pub fn accepts(self, t: &Type) -> bool {
        match self {
            Arg::Str => t.is_string(),
            Arg::Int => t.is_int(),
        }
    }
}

/// (required args, optional args, return type)
pub(crate) fn signature(f: Func) -> (&'static [Arg], &'static [Arg], Type) {
    use Arg::*;
    let s = Type::String;
    match f {
        Func::Strlen => (&[Str], &[], Type::Int(IntType::UINT64)),
        Func::Strjoin => (&[Str, Str], &[], s),
        Func::Substr => (&[Str, Int], &[Int], s),
        Func::Index | Func::Rindex => (&[Str, Str], &[Int], Type::Int(IntType::INT)),
        Func::Strchr | Func::Strrchr => (&[Str, Int], &[], s),
        Func::Strstr | Func::Strtok => (&[Str, Str], &[], s),
        Func::Lltostr => (&[Int], &[Int], s),
        Func::Toupper | Func::Tolower => (&[Str], &[], s),
        Func::InetNtoa => (&[Int], &[], s),
        Func::InetNtoa6 => (&[Str], &[], s),
        // inet_ntop(af, addr): the checker turns the AF_INET form into
        // inet_ntoa(addr) and refuses AF_INET6.
        Func::InetNtop => (&[Int, Int], &[], s),
        Func::Ntohs | Func::Htons => (&[Int], &[], Type::Int(IntType::UINT16)),
        Func::Ntohl | Func::Htonl => (&[Int], &[], Type::Int(IntType::UINT32)),
        Func::Rand => (&[], &[], Type::Int(IntType::INT)),
    }
}
