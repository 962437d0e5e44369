//! rdtrace: the command line. Parses dtrace(1)'s flags into a session
//! request, runs the session (`rdtrace-session`: compile, plan, run) and
//! maps the outcome to an exit status.

mod args;
mod golden;

use std::process::ExitCode;

use args::Args;
use rdtrace_session::{Failure, Session};

fn run(args: Args) -> Result<u8, Failure> {
    if let Some(why) = args.refused {
        return Err(Failure::new(why));
    }
    if args.header_gen {
        return Err(Failure::new(
            "-h (generating a header file for a provider) is not supported by rdtrace",
        ));
    }
    if args.man {
        let mut out = Vec::new();
        clap_mangen::Man::new(args::command())
            .render(&mut out)
            .map_err(|e| Failure::new(format!("rdtrace: cannot write the manual page: {e}")))?;
        std::io::Write::write_all(&mut std::io::stdout(), &out)
            .map_err(|e| Failure::new(format!("rdtrace: {e}")))?;
        return Ok(0);
    }
    if let Some(shell) = args.completions {
        clap_complete::generate(
            shell,
            &mut args::command(),
            "rdtrace",
            &mut std::io::stdout(),
        );
        return Ok(0);
    }
    if let Some(dir) = &args.test_dir {
        return Ok(golden::run(std::path::Path::new(dir), args.bless));
    }
    if args.version {
        println!("rdtrace: D 1.13 (rdtrace {})", env!("CARGO_PKG_VERSION"));
        return Ok(0);
    }
    if args.request.sources.is_empty() {
        if args.list {
            print!("{}", rdtrace_session::listing_all(args.verbose));
            return Ok(0);
        }
        // As dtrace without arguments: the usage summary, E_USAGE.
        eprint!("{}", args::usage(&args::program_name()));
        return Ok(2);
    }
    let show_program = args.request.show_program;
    let session = Session::compile(args.request)?;
    if show_program {
        eprint!("{}", session.program_text());
    }
    if args.list {
        print!("{}", session.listing(args.verbose));
        return Ok(0);
    }
    if args.compile_only {
        return Ok(0);
    }
    session.run()
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
