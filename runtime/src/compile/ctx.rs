//! The context every compiled clause receives. Its first fields are read
//! by generated code at fixed offsets (`#[repr(C)]`, offsets taken with
//! `offset_of!`); the rest is only touched by the Rust helpers.

use rdtrace_lang::format::Format;
use rdtrace_lang::types::IntType;

use super::scratch::Scratch;
use crate::aggs::Aggregations;
use crate::deferred::Deferred;
use crate::state::{DynVars, VarArea};

#[repr(C)]
pub(crate) struct FiringCtx {
    /// Slots of the current firing's `this->` variables.
    pub this_slots: *mut i64,
    /// Slots of the global variables.
    pub global_slots: *mut i64,
    /// `walltimestamp - timestamp`.
    pub wall_offset: i64,
    /// dtrace probe ID of the probe being fired (`id`).
    pub probe_id: i64,
    /// `$target`: the pid of `-c`'s command or `-p`'s process (0 without).
    /// Read at run time, so that the program is compiled once, before the
    /// target exists.
    pub target_pid: i64,
    /// `probeprov`, `probemod`, `probefunc`, `probename` of that probe.
    pub probe_strs: [*const u8; 4],
    /// Set by generated code when it abandons a clause (see `Fault`).
    pub fault_kind: u32,
    pub fault_action: u32,
    pub rt: Runtime,
}

/// How a printf argument slot is to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ArgKind {
    Int(IntType),
    Str,
    /// A symbol's id (printf's %a, %A): printed as its text.
    Symbol,
}

/// A printf statement: its format (parsed at compile time) and arguments.
pub(crate) struct PrintfSite {
    pub format: Format,
    pub args: Vec<ArgKind>,
    pub plain: Plain,
}

/// Formats whose output needs no formatting engine. Scripts are full of
/// them (tcpio.d prints each TCP flag with `printf("%s", …)` and ends the
/// line with `printf("\b)\n")`), and they are most of its printf calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Plain {
    /// Literal text only (no argument).
    Lit(Vec<u8>),
    /// Exactly `%s` of one string argument: the string's bytes.
    Str,
    /// Anything else: the engine.
    No,
}

impl PrintfSite {
    pub fn new(format: Format, args: Vec<ArgKind>) -> PrintfSite {
        use rdtrace_lang::format::{ConvKind, Count, Piece};
        let plain = match (format.pieces.as_slice(), args.as_slice()) {
            ([], []) => Plain::Lit(Vec::new()),
            ([Piece::Lit(text)], []) => Plain::Lit(text.clone()),
            ([Piece::Conv(c)], [ArgKind::Str])
                if c.kind == ConvKind::Str
                    && c.width == Count::None
                    && c.precision.is_none()
                    && !c.minus =>
            {
                Plain::Str
            }
            _ => Plain::No,
        };
        PrintfSite {
            format,
            args,
            plain,
        }
    }
}

/// Rust-side state of a firing, reached by helpers through the context.
pub(crate) struct Runtime {
    pub scratch: Scratch,
    /// Output buffer of the clause being run (valid during `run_clause`).
    pub out: *mut Vec<u8>,
    /// Status of the last `exit()` of the clause being run.
    pub exit: Option<i32>,
    pub globals: VarArea,
    /// `this->` of the firing, and of an `ERROR` firing nested in it.
    pub this_outer: VarArea,
    pub this_error: VarArea,
    pub dynvars: DynVars,
    /// Thread ID of the current record (key of `self->`).
    pub tid: u64,
    pub strsize: usize,
    pub quiet: bool,
    /// `-x oformat`: actions write structured output items.
    pub oformat: crate::oformat::Oformat,
    pub sites: Vec<PrintfSite>,
    /// Per `self->` variable / associative array: is the value a string.
    pub self_is_str: Vec<bool>,
    pub assoc_is_str: Vec<bool>,
    /// Per associative array: which key parts are strings.
    pub assoc_key_is_str: Vec<Vec<bool>>,
    pub rand: u64,
    pub aggs: Aggregations,
    /// Per aggregation: which key parts are strings.
    pub agg_key_is_str: Vec<Vec<bool>>,
    /// printa statements: optional format and the aggregations printed.
    pub printa_sites: Vec<(Option<Format>, Vec<usize>)>,
    /// Reusable buffer for building derived strings.
    pub tmp: Vec<u8>,
    /// strtok() state: the string being tokenised and how far it is consumed.
    pub strtok: (Vec<u8>, usize),
    /// Destructive actions the clause being run asked for.
    pub deferred: Vec<Deferred>,
    /// Length of the record of the clause being run.
    pub record_len: usize,
    /// Copied-in buffers of the firing (`Type::Buf` values are handles:
    /// index + 1, 0 for none); cleared with the scratch space.
    pub bufs: Vec<Vec<u8>>,
    /// A fault a helper found (kind and address), read when the clause
    /// returns its fault status; `trapped` is 1 then, which generated code
    /// checks after every helper call.
    pub trap: Option<crate::usermem::Trap>,
    pub trapped: u8,
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdtrace_lang::format::parse;

    fn plain(fmt: &str, args: &[ArgKind]) -> Plain {
        PrintfSite::new(parse(fmt.as_bytes()).expect("format"), args.to_vec()).plain
    }

    #[test]
    fn only_literal_text_and_a_bare_percent_s_skip_the_engine() {
        assert_eq!(plain("\\b)\n", &[]), Plain::Lit(b"\\b)\n".to_vec()));
        assert_eq!(plain("", &[]), Plain::Lit(Vec::new()));
        assert_eq!(plain("100%%", &[]), Plain::Lit(b"100%".to_vec()));
        assert_eq!(plain("%s", &[ArgKind::Str]), Plain::Str);
        // Widths, precisions, other text or conversions: the engine.
        assert_eq!(plain("%5s", &[ArgKind::Str]), Plain::No);
        assert_eq!(plain("%.2s", &[ArgKind::Str]), Plain::No);
        assert_eq!(
            plain("%*s", &[ArgKind::Int(IntType::INT), ArgKind::Str]),
            Plain::No
        );
        assert_eq!(plain("%s\n", &[ArgKind::Str]), Plain::No);
        assert_eq!(plain("%d", &[ArgKind::Int(IntType::INT)]), Plain::No);
        assert_eq!(plain("%s", &[ArgKind::Symbol]), Plain::No);
    }
}
