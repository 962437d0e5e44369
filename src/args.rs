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
    /// `--test DIR`: run the golden-output cases in DIR (`--bless`: record them).
    pub test_dir: Option<String>,
    pub bless: bool,
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
  rdtrace --test tests/                      run the golden-output tests of your scripts
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
        .arg(Arg::new("test").long("test").value_name("DIR").help("run every test case in DIR (NAME.d over NAME.pcap, compared with NAME.out/.err/.status) and exit"))
        .arg(Arg::new("bless").long("bless").action(ArgAction::SetTrue).requires("test").help("with --test: write the expected files from what the scripts print"))
        .arg(Arg::new("man").long("man").action(ArgAction::SetTrue).help("print the manual page (roff) and exit"))
        .arg(Arg::new("completions").long("completions").value_name("SHELL").value_parser(clap::value_parser!(clap_complete::Shell)).help("print the completion script of SHELL (bash, zsh, fish, elvish, powershell) and exit"))
        .arg(Arg::new("args").value_name("ARGS").num_args(0..).trailing_var_arg(true).help("macro arguments $1, $2, ..."))
}

/// Parses the command line. A usage error prints what is wrong and
/// dtrace's usage summary, and exits with status 2 (E_USAGE), as dtrace.
pub fn parse() -> Args {
    match command().try_get_matches_from(without_data_model(std::env::args_os())) {
        Ok(m) => from_matches(&m),
        Err(e) => match e.kind() {
            clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                e.exit()
            }
            _ => {
                let text = e.to_string();
                let what = text
                    .lines()
                    .next()
                    .unwrap_or("")
                    .trim_start_matches("error: ");
                eprint!("{}: {what}\n{}", program_name(), usage(&program_name()));
                std::process::exit(2)
            }
        },
    }
}

/// The name rdtrace was run as (`dtrace` through a link), as dtrace's
/// messages name it.
pub fn program_name() -> String {
    std::env::args_os()
        .next()
        .and_then(|a| {
            std::path::Path::new(&a)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "rdtrace".into())
}

/// dtrace's usage summary (cmd/dtrace.c usage()), with rdtrace's flags.
pub fn usage(pname: &str) -> String {
    let pa = "[[ predicate ] action ]";
    format!(
        "Usage: {pname} [-32|-64] [-aACeFGhHlqSvVwZ] [-b bufsz] [-c cmd] [-D name[=def]]\n\
         \t[-I path] [-o output] [-p pid] [-s script] [-U name]\n\
         \t[-x opt[=val]] [-X a|c|s|t] [--replay capture --local addr[,addr...]]\n\
         \t[--metrics addr:port]\n\n\
         \t[-P provider {pa}]\n\
         \t[-m [ provider: ] module {pa}]\n\
         \t[-f [[ provider: ] module: ] func {pa}]\n\
         \t[-n [[[ provider: ] module: ] func: ] name {pa}]\n\
         \t[-i probe-id {pa}] [ args ... ]\n\n\
         \tpredicate -> '/' D-expression '/'\n\
         \t   action -> '{{' D-statements '}}'\n\n\
         \t-32 generate 32-bit D programs (ignored: the kernel is 64-bit)\n\
         \t-64 generate 64-bit D programs\n\n\
         \t-a  claim anonymous tracing state (not supported)\n\
         \t-A  generate directives for anonymous tracing (not supported)\n\
         \t-b  set trace buffer size\n\
         \t-c  run specified command and exit upon its completion\n\
         \t-C  run cpp(1) preprocessor on script files\n\
         \t-D  define symbol when invoking preprocessor\n\
         \t-e  exit after compiling request but prior to enabling probes\n\
         \t-f  enable or list probes matching the specified function name\n\
         \t-F  coalesce trace output by function\n\
         \t-G  generate an ELF file containing embedded dtrace program (not supported)\n\
         \t-h  generate a header file with definitions for static probes (not supported)\n\
         \t-H  print included files when invoking preprocessor\n\
         \t-i  enable or list probes matching the specified probe id\n\
         \t-I  add include directory to preprocessor search path\n\
         \t-l  list probes matching specified criteria\n\
         \t-m  enable or list probes matching the specified module name\n\
         \t-n  enable or list probes matching the specified probe name\n\
         \t-o  set output file\n\
         \t-p  grab specified process-ID and cache its symbol tables\n\
         \t-P  enable or list probes matching the specified provider name\n\
         \t-q  set quiet mode (only output explicitly traced data)\n\
         \t-s  enable or list probes according to the specified D script\n\
         \t-S  print D compiler intermediate code\n\
         \t-U  undefine symbol when invoking preprocessor\n\
         \t-v  set verbose mode (report stability attributes, arguments)\n\
         \t-V  report DTrace API version\n\
         \t-w  permit destructive actions\n\
         \t-x  enable or modify compiler and tracing options\n\
         \t-X  specify ISO C conformance settings for preprocessor\n\
         \t-Z  permit probe descriptions that match zero probes\n\n\
         \t--replay  run over a pcap/pcapng capture (with --local: the traced host's addresses)\n\
         \t--metrics serve the aggregations to Prometheus on http://addr:port/metrics\n\
         \t--help    rdtrace's full help, with examples; --man its manual page\n"
    )
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
        test_dir: m.get_one::<String>("test").cloned(),
        bless: m.get_flag("bless"),
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
