//! rdtrace: the command line. Parses dtrace(1)'s flags, compiles the D
//! program, and runs it live (eBPF) or over a capture (`--replay`).

mod args;
mod bundled;
mod list;
mod target;
mod trace;

use std::process::ExitCode;

use args::{Args, ProgramSource};
use rdtrace_lang::catalog::Catalog;

/// Why rdtrace stops early: the message (already formatted) and exit status.
pub struct Failure {
    pub message: String,
    pub status: u8,
}

impl Failure {
    /// A runtime or setup error: `rdtrace: message`, status 1.
    pub fn new(message: impl std::fmt::Display) -> Failure {
        Failure {
            message: format!("rdtrace: {message}"),
            status: 1,
        }
    }
    /// Already-rendered diagnostics (compile errors), status 1.
    pub fn rendered(text: String) -> Failure {
        Failure {
            message: text,
            status: 1,
        }
    }
}

/// A piece of the program with the name diagnostics and notices use.
pub struct LoadedSource {
    pub name: String,
    pub text: String,
    pub is_script: bool,
}

fn load_sources(args: &Args) -> Result<Vec<LoadedSource>, Failure> {
    args.sources
        .iter()
        .map(|s| match s {
            ProgramSource::Script(path) => {
                let text = match std::fs::read_to_string(path) {
                    Ok(t) => t,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                        bundled::find(path).map(str::to_string).ok_or_else(|| {
                            Failure::new(format!(
                                "failed to open {path}: No such file or directory"
                            ))
                        })?
                    }
                    Err(e) => return Err(Failure::new(format!("failed to open {path}: {e}"))),
                };
                Ok(LoadedSource {
                    name: path.clone(),
                    text,
                    is_script: true,
                })
            }
            ProgramSource::Clause(text) => Ok(LoadedSource {
                name: text.clone(),
                text: text.clone(),
                is_script: false,
            }),
        })
        .collect()
}

fn run(args: Args) -> Result<u8, Failure> {
    if args.header_gen {
        return Err(Failure::new(
            "-h (generating a header file for a provider) is not supported by rdtrace",
        ));
    }
    if args.version {
        println!("rdtrace: D 1.13 (rdtrace {})", env!("CARGO_PKG_VERSION"));
        return Ok(0);
    }
    let catalog: Catalog = rdtrace_probes::catalog();
    let sources = load_sources(&args)?;

    if args.list && sources.is_empty() {
        print!("{}", list::listing(&catalog, None, args.verbose));
        return Ok(0);
    }
    if sources.is_empty() {
        let _ = args::command().print_help();
        return Ok(2);
    }
    let compiled = trace::compile(&args, &sources, &catalog)?;
    if args.list {
        let ids: Vec<u32> = compiled.program.probes.iter().map(|p| p.id).collect();
        print!("{}", list::listing(&catalog, Some(&ids), args.verbose));
        return Ok(0);
    }
    if args.compile_only {
        return Ok(0);
    }
    trace::run(&args, &sources, compiled)
}

fn main() -> ExitCode {
    // Like dtrace and other filters: `rdtrace ... | head` ends quietly when
    // the reader goes away (the kernel frees the BPF programs with the fds).
    // SAFETY: restoring the default disposition before any thread starts.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    // A bug must still end with one clear line, not a backtrace.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("rdtrace: internal error: {info}; please report it");
    }));
    let args = args::parse();
    match run(args) {
        Ok(status) => ExitCode::from(status),
        Err(f) => {
            eprintln!("{}", f.message.trim_end());
            ExitCode::from(f.status)
        }
    }
}
