//! What the user asked for, as plain data: the command line (or any other
//! front end) fills it in; the session never sees flags.

/// One piece of the D program, in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProgramSource {
    /// `-s FILE` (a path, or the name of a bundled script)
    Script(String),
    /// `-n 'probe-description [/pred/] [{ actions }]'`
    Clause(String),
    /// `-P provider`, `-m [provider:]module`, `-f [[provider:]module:]function`:
    /// the probe description those name (`shown` is the argument, as
    /// dtrace's notice names it).
    Described { shown: String, description: String },
    /// `-i id`: the probe with that id.
    ProbeId(String),
}

impl ProgramSource {
    /// The description `-P`, `-m` or `-f` (`flag`) names with `arg`:
    /// the missing fields on the left are empty, those on the right match
    /// everything.
    pub fn from_flag(flag: char, arg: &str) -> ProgramSource {
        let given = match flag {
            'P' => 1,
            'm' => 2,
            _ => 3,
        };
        let parts: Vec<&str> = arg.splitn(given, ':').collect();
        let mut fields = [""; 4];
        let start = given - parts.len();
        for (i, p) in parts.iter().enumerate() {
            fields[start + i] = p;
        }
        ProgramSource::Described {
            shown: arg.to_string(),
            description: fields.join(":"),
        }
    }
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
    /// `-C` (with `-D`, `-U`, `-I`, `-H`): run cpp on the program first.
    pub cpp: Option<crate::cpp::CppOptions>,
    /// `-S`: keep each clause's intermediate code to show it.
    pub show_program: bool,
}
