//! dtrace(1)'s command line, with clap. Program sources (`-s`, `-n`) keep
//! their command-line order, as dtrace compiles them in that order.

use clap::{Arg, ArgAction, ArgMatches, Command};
pub use rdtrace_session::{ProgramSource, Request};

/// The command line: what to do (`-l`, `-e`, `-V`, `-h`) and the session
/// request everything else fills in.
#[derive(Debug, Clone, Default)]
pub struct Args {
    pub request: Request,
    pub compile_only: bool,
    pub list: bool,
    pub verbose: bool,
    pub version: bool,
    pub header_gen: bool,
    /// `-A`, `-a`, `-G`: dtrace modes rdtrace does not have.
    pub refused: Option<&'static str>,
    /// `--man`: print the manual page (roff).
    pub man: bool,
    /// `--completions SHELL`: print the shell's completion script.
    pub completions: Option<clap_complete::Shell>,
}

/// Examples `--help` ends with, as bpftrace's does.
const EXAMPLES: &str = "\
Examples:
  rdtrace -s tcpio.d                         every TCP segment, as DTrace's tcp provider shows it
  rdtrace -n 'syscall::openat:entry { printf(\"%s %s\\n\", execname, copyinstr(arg1)); }'
  rdtrace -n 'proc:::exec-success { trace(curpsinfo->pr_psargs); }'
  rdtrace -n 'profile-997 { @[stack()] = count(); }'
  rdtrace -x stackformat=folded -n 'profile-997 /pid == $target/ { @[ustack()] = count(); }' -c ./prog
  rdtrace -n 'io:::start { @[args[1]->dev_statname] = sum(args[0]->b_bcount); }'
  rdtrace -l -P sched                        list the sched provider's probes
  rdtrace -s tcpio.d --replay dump.pcap --local 10.0.0.1
  rdtrace -n 'syscall:::entry { @[execname] = count(); }' --metrics 127.0.0.1:9464
  rdtrace --man > rdtrace.1; rdtrace --completions bash > rdtrace.bash
";

pub fn command() -> Command {
    let flag = |id: &'static str, short: char, help: &'static str| {
        Arg::new(id)
            .short(short)
            .action(ArgAction::SetTrue)
            .help(help)
    };
    Command::new("rdtrace")
        .version(env!("CARGO_PKG_VERSION"))
        .about("DTrace's D language on Linux, on eBPF")
        .override_usage("rdtrace [-eqlvwZV] [-s script] [-n probe-clause] [-P provider] [-m module] [-f function] [-i id] [-x opt[=val]] [-o file] [-b bufsize] [--replay capture --local addr[,addr...]] [--metrics addr:port] [args ...]")
        .disable_help_flag(true)
        .disable_version_flag(true)
        .after_help(EXAMPLES)
        .arg(Arg::new("help").long("help").action(ArgAction::Help).help("Print help"))
        .arg(Arg::new("script").short('s').value_name("FILE").action(ArgAction::Append).help("compile the D program in FILE (or the bundled script of that name)"))
        .arg(Arg::new("clause").short('n').value_name("PROBE-CLAUSE").action(ArgAction::Append).help("compile a probe clause given on the command line"))
        .arg(Arg::new("provider").short('P').value_name("PROVIDER").action(ArgAction::Append).help("enable (or with -l list) the probes of PROVIDER"))
        .arg(Arg::new("module").short('m').value_name("[PROVIDER:]MODULE").action(ArgAction::Append).help("enable (or list) the probes of MODULE"))
        .arg(Arg::new("function").short('f').value_name("[[PROVIDER:]MODULE:]FUNCTION").action(ArgAction::Append).help("enable (or list) the probes of FUNCTION"))
        .arg(Arg::new("id").short('i').value_name("ID").action(ArgAction::Append).help("enable (or list) the probe with this id"))
        .arg(flag("cpp", 'C', "run the C preprocessor (cpp) on the program first"))
        .arg(Arg::new("define").short('D').value_name("NAME[=VALUE]").action(ArgAction::Append).help("with -C: define NAME"))
        .arg(Arg::new("undef").short('U').value_name("NAME").action(ArgAction::Append).help("with -C: undefine NAME"))
        .arg(Arg::new("include").short('I').value_name("DIR").action(ArgAction::Append).help("with -C: search DIR for #include files"))
        .arg(flag("show_includes", 'H', "with -C: print the name of each included file"))
        .arg(flag("compile", 'e', "exit after compiling the program"))
        .arg(flag("show_program", 'S', "print each clause's intermediate code (Cranelift IR) to stderr"))
        .arg(flag("list", 'l', "list probes matching the program (or all) instead of tracing"))
        .arg(flag("verbose", 'v', "with -l: also list argument types"))
        .arg(flag("quiet", 'q', "quiet: output only what printf/trace ask for"))
        .arg(flag("flowindent", 'F', "indent the output of entry and return probes (flowindent option)"))
        .arg(Arg::new("output").short('o').value_name("FILE").help("append trace output to FILE"))
        .arg(Arg::new("option").short('x').value_name("OPT[=VAL]").action(ArgAction::Append).help("set a dtrace option"))
        .arg(flag("destructive", 'w', "allow destructive actions"))
        .arg(flag("zdefs", 'Z', "allow probe descriptions that match no probes"))
        .arg(Arg::new("bufsize").short('b').value_name("SIZE").help("ring buffer size (bufsize option)"))
        .arg(Arg::new("cmd").short('c').value_name("CMD").help("run CMD and trace until it exits"))
        .arg(Arg::new("pid").short('p').value_name("PID").help("trace until process PID exits"))
        .arg(flag("version", 'V', "print the D version and exit").long("version"))
        .arg(flag("header", 'h', "generate a header file (not supported by rdtrace)"))
        .arg(flag("anon", 'A', "anonymous tracing (not supported by rdtrace)"))
        .arg(flag("claim", 'a', "claim anonymous state (not supported by rdtrace)"))
        .arg(flag("elf", 'G', "generate an ELF file (not supported by rdtrace)"))
        .arg(Arg::new("xpg").short('X').value_name("a|c|s|t").value_parser(["a", "c", "s", "t"]).help("ISO C conformance of the preprocessor (accepted; rdtrace has no preprocessor step yet)"))
        .arg(Arg::new("metrics").long("metrics").value_name("ADDR:PORT").help("serve the aggregations as Prometheus metrics on http://ADDR:PORT/metrics (also -x metrics=ADDR:PORT)"))
        .arg(Arg::new("replay").long("replay").value_name("CAPTURE").help("run over a pcap/pcapng capture instead of live events"))
        .arg(Arg::new("local").long("local").value_name("ADDR[,ADDR...]").value_delimiter(',').action(ArgAction::Append).help("with --replay: the addresses of the traced host"))
        .arg(Arg::new("man").long("man").action(ArgAction::SetTrue).help("print the manual page (roff) and exit"))
        .arg(Arg::new("completions").long("completions").value_name("SHELL").value_parser(clap::value_parser!(clap_complete::Shell)).help("print the completion script of SHELL (bash, zsh, fish, elvish, powershell) and exit"))
        .arg(Arg::new("args").value_name("ARGS").num_args(0..).trailing_var_arg(true).help("macro arguments $1, $2, ..."))
}

/// Parses the command line (exits with status 2 on a usage error).
pub fn parse() -> Args {
    from_matches(&command().get_matches_from(without_data_model(std::env::args_os())))
}

/// `-32` and `-64` (the data model, as macOS dtrace takes them) mean
/// nothing on a 64-bit kernel: accepted and dropped before clap sees them.
pub fn without_data_model(
    args: impl IntoIterator<Item = std::ffi::OsString>,
) -> Vec<std::ffi::OsString> {
    let mut out = Vec::new();
    let mut rest = false;
    for a in args {
        if !rest && (a == "-32" || a == "-64") {
            continue;
        }
        rest |= a == "--";
        out.push(a);
    }
    out
}

pub fn from_matches(m: &ArgMatches) -> Args {
    let mut sources: Vec<(usize, ProgramSource)> = Vec::new();
    for (id, make) in [
        (
            "script",
            ProgramSource::Script as fn(String) -> ProgramSource,
        ),
        ("clause", ProgramSource::Clause),
        ("provider", |a: String| ProgramSource::from_flag('P', &a)),
        ("module", |a: String| ProgramSource::from_flag('m', &a)),
        ("function", |a: String| ProgramSource::from_flag('f', &a)),
        ("id", ProgramSource::ProbeId),
    ] {
        if let (Some(vals), Some(idx)) = (m.get_many::<String>(id), m.indices_of(id)) {
            sources.extend(idx.zip(vals).map(|(i, v)| (i, make(v.clone()))));
        }
    }
    sources.sort_by_key(|(i, _)| *i);
    let strings = |id: &str| {
        m.get_many::<String>(id)
            .map(|v| v.cloned().collect::<Vec<_>>())
            .unwrap_or_default()
    };
    Args {
        request: Request {
            sources: sources.into_iter().map(|(_, s)| s).collect(),
            quiet: m.get_flag("quiet"),
            output: m.get_one::<String>("output").cloned(),
            options: m
                .get_flag("flowindent")
                .then(|| "flowindent".to_string())
                .into_iter()
                .chain(strings("option"))
                .chain(
                    strings("metrics")
                        .into_iter()
                        .map(|a| format!("metrics={a}")),
                )
                .map(|o| match o.split_once('=') {
                    Some((n, v)) => (n.to_string(), Some(v.to_string())),
                    None => (o, None),
                })
                .collect(),
            destructive: m.get_flag("destructive"),
            zero_matches_ok: m.get_flag("zdefs"),
            bufsize: m.get_one::<String>("bufsize").cloned(),
            command: m.get_one::<String>("cmd").cloned(),
            pid: m.get_one::<String>("pid").cloned(),
            replay: m.get_one::<String>("replay").cloned(),
            local: strings("local"),
            macro_args: strings("args"),
            show_program: m.get_flag("show_program"),
            cpp: m.get_flag("cpp").then(|| rdtrace_session::CppOptions {
                defines: strings("define"),
                undefines: strings("undef"),
                include_dirs: strings("include"),
                show_includes: m.get_flag("show_includes"),
            }),
        },
        compile_only: m.get_flag("compile"),
        list: m.get_flag("list"),
        verbose: m.get_flag("verbose"),
        version: m.get_flag("version"),
        header_gen: m.get_flag("header"),
        man: m.get_flag("man"),
        completions: m.get_one::<clap_complete::Shell>("completions").copied(),
        refused: if m.get_flag("anon") {
            Some("-A (anonymous tracing, enabled at boot) is not supported by rdtrace")
        } else if m.get_flag("claim") {
            Some("-a (claiming anonymous tracing state) is not supported by rdtrace")
        } else if m.get_flag("elf") {
            Some("-G (generating an ELF file with the program) is not supported by rdtrace")
        } else {
            None
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: &[&str]) -> Args {
        from_matches(&command().try_get_matches_from(v).unwrap())
    }

    #[test]
    fn sources_keep_command_line_order() {
        let a = parse(&["rdtrace", "-n", "BEGIN", "-s", "a.d", "-n", "END"]);
        assert_eq!(
            a.request.sources,
            vec![
                ProgramSource::Clause("BEGIN".into()),
                ProgramSource::Script("a.d".into()),
                ProgramSource::Clause("END".into())
            ]
        );
    }

    #[test]
    fn clustered_flags_options_and_macro_args() {
        let a = parse(&[
            "rdtrace",
            "-lv",
            "-qx",
            "switchrate=10hz",
            "-x",
            "quiet",
            "-s",
            "x.d",
            "foo",
            "42",
        ]);
        assert!(a.list && a.verbose && a.request.quiet);
        assert_eq!(
            a.request.options,
            vec![
                ("switchrate".into(), Some("10hz".into())),
                ("quiet".into(), None)
            ]
        );
        assert_eq!(a.request.macro_args, vec!["foo", "42"]);
    }

    #[test]
    fn replay_with_locals() {
        let a = parse(&[
            "rdtrace",
            "-s",
            "tcpio.d",
            "--replay",
            "c.pcap",
            "--local",
            "192.0.2.8,::1",
        ]);
        assert_eq!(a.request.replay.as_deref(), Some("c.pcap"));
        assert_eq!(a.request.local, vec!["192.0.2.8", "::1"]);
    }

    #[test]
    fn unknown_flag_is_a_usage_error() {
        let e = command()
            .try_get_matches_from(["rdtrace", "--no-such-flag"])
            .unwrap_err();
        assert_eq!(e.exit_code(), 2);
    }

    #[test]
    fn data_model_flags_are_dropped_before_the_macro_arguments_only() {
        let os = |v: &[&str]| v.iter().map(std::ffi::OsString::from).collect::<Vec<_>>();
        assert_eq!(
            without_data_model(os(&["rdtrace", "-64", "-n", "BEGIN", "--", "-32"])),
            os(&["rdtrace", "-n", "BEGIN", "--", "-32"])
        );
    }
}
