//! What the user asked for, as plain data: the command line (or any other
//! front end) fills it in; the session never sees flags.

/// One piece of the D program, in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProgramSource {
    /// `-s FILE` (a path, or the name of a bundled script)
    Script(String),
    /// `-n 'probe-description [/pred/] [{ actions }]'`
    Clause(String),
}

#[derive(Debug, Clone, Default)]
pub struct Request {
    pub sources: Vec<ProgramSource>,
    /// `-q`
    pub quiet: bool,
    /// `-o FILE`: append the trace output there instead of stdout.
    pub output: Option<String>,
    /// `-x name[=value]`, in order
    pub options: Vec<(String, Option<String>)>,
    /// `-w`
    pub destructive: bool,
    /// `-Z`
    pub zero_matches_ok: bool,
    /// `-b`
    pub bufsize: Option<String>,
    /// `-c CMD`
    pub command: Option<String>,
    /// `-p PID`
    pub pid: Option<String>,
    /// `--replay CAPTURE`
    pub replay: Option<String>,
    /// `--local ADDR,...` (with `--replay`)
    pub local: Vec<String>,
    /// Trailing arguments: `$1`, `$2`, …
    pub macro_args: Vec<String>,
}
