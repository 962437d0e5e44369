//! Compiling the program and running it: options from the command line and
//! pragmas, the event source (live eBPF or a capture), the consumer.

use std::io::Write;
use std::net::IpAddr;

use rdtrace_lang::catalog::{Catalog, ProbeKind};
use rdtrace_lang::typed::Program;
use rdtrace_lang::CheckOptions;
use rdtrace_runtime::consumer::{Consumer, Interrupts};
use rdtrace_runtime::options::{NetnsFilter, OptionError, Options};
use rdtrace_runtime::CompiledProgram;

use crate::args::Args;
use crate::target::Target;
use crate::{Failure, LoadedSource};

pub struct Compiled {
    pub program: Program,
    pub options: Options,
    /// The program JIT-compiled, once (`$target` is set when the target starts).
    pub jit: CompiledProgram,
}

fn check_options(args: &Args) -> CheckOptions {
    let script = args.sources.first().map(|s| match s {
        crate::args::ProgramSource::Script(p) => p.clone(),
        crate::args::ProgramSource::Clause(_) => "rdtrace".to_string(),
    });
    let mut macro_args = vec![script.unwrap_or_else(|| "rdtrace".into())];
    macro_args.extend(args.macro_args.iter().cloned());
    CheckOptions {
        allow_zero_matches: args.zero_matches_ok,
        destructive: args.destructive,
        macro_args,
        ..Default::default()
    }
}

/// The program text as the compiler sees it: dtrace accepts a bare probe
/// description on `-n` (the default action), which the grammar only takes
/// with a body.
fn source_text(s: &LoadedSource) -> String {
    if !s.is_script && !s.text.contains('{') {
        format!("{} {{}}", s.text)
    } else {
        s.text.clone()
    }
}

pub fn compile(
    args: &Args,
    sources: &[LoadedSource],
    catalog: &Catalog,
) -> Result<Compiled, Failure> {
    let copts = check_options(args);
    let texts: Vec<(String, String)> = sources
        .iter()
        .map(|s| (s.name.clone(), source_text(s)))
        .collect();
    let refs: Vec<(&str, &str)> = texts
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    let program = rdtrace_lang::compile_many(&refs, catalog, &copts)
        .map_err(|d| Failure::rendered(d.render()))?;

    // As in dtrace: -b and -x are set before the program is compiled, its
    // pragmas after them (so a pragma wins); -q and -w only turn options on.
    let mut options = Options::default();
    if let Some(b) = &args.bufsize {
        options.set("bufsize", Some(b)).map_err(Failure::new)?;
    }
    for (name, value) in &args.options {
        options.set(name, value.as_deref()).map_err(Failure::new)?;
    }
    for o in &program.options {
        options
            .set(&o.name, o.value.as_deref())
            .map_err(|e| pragma_error(&texts, o, e))?;
    }
    options.quiet |= args.quiet;
    options.destructive |= args.destructive;

    // JIT now so that -e also reports what the runtime refuses.
    let jit = CompiledProgram::new(&program, &options).map_err(Failure::new)?;
    Ok(Compiled {
        program,
        options,
        jit,
    })
}

/// dtrace's `script 'x.d' matched N probes` notices, one per source, from
/// the counts the checker made while checking the whole program.
fn notices(sources: &[LoadedSource], program: &Program) -> Vec<String> {
    sources
        .iter()
        .zip(&program.matched_per_source)
        .map(|(s, &n)| {
            let kind = if s.is_script { "script" } else { "description" };
            format!(
                "dtrace: {kind} '{}' matched {n} probe{}",
                s.name,
                if n == 1 { "" } else { "s" }
            )
        })
        .collect()
}

fn pragma_error(
    texts: &[(String, String)],
    o: &rdtrace_lang::typed::OptionSetting,
    e: OptionError,
) -> Failure {
    // The pragma's span names its source.
    let (name, text) = &texts[usize::from(o.span.source).min(texts.len() - 1)];
    let report = miette::miette!(
        labels = vec![miette::LabeledSpan::at(o.span, "this option")],
        "{e}"
    )
    .with_source_code(miette::NamedSource::new(name, text.clone()));
    Failure::rendered(format!("{report:?}"))
}

fn netns_inode(f: NetnsFilter) -> Result<u32, Failure> {
    match f {
        NetnsFilter::Inode(i) => Ok(i),
        NetnsFilter::SelfNs => {
            use std::os::unix::fs::MetadataExt;
            std::fs::metadata("/proc/self/ns/net")
                .map(|m| m.ino() as u32)
                .map_err(|e| Failure::new(format!("cannot read /proc/self/ns/net: {e}")))
        }
    }
}

pub fn run(args: &Args, sources: &[LoadedSource], c: Compiled) -> Result<u8, Failure> {
    let target = Target::start(args.command.as_deref(), args.pid.as_deref())?;
    let target_pid = target.as_ref().map_or(0, |t| t.pid() as i64);
    let target = target.map(std::cell::RefCell::new);
    let mut sink: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| Failure::new(format!("failed to open output file '{path}': {e}")))?,
        ),
        None => Box::new(std::io::stdout().lock()),
    };
    let event_probes: Vec<u32> = c
        .program
        .probes
        .iter()
        .filter(|p| matches!(p.kind, ProbeKind::Event { .. }))
        .map(|p| p.id)
        .collect();

    let interrupts = Interrupts::install()
        .map_err(|e| Failure::new(format!("cannot install signal handlers: {e}")))?;
    let mut source: Box<dyn rdtrace_probes::Source> = match &args.replay {
        Some(path) => {
            if args.local.is_empty() {
                return Err(Failure::new(
                    "--replay needs --local ADDR[,ADDR...]: the addresses of the traced host",
                ));
            }
            let locals = args
                .local
                .iter()
                .map(|a| {
                    a.parse::<IpAddr>()
                        .map_err(|_| Failure::new(format!("--local: '{a}' is not an IP address")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let src = rdtrace_probes::ReplaySource::open(
                std::path::Path::new(path),
                &locals,
                &event_probes,
            )
            .map_err(Failure::new)?;
            Box::new(src)
        }
        None => {
            let netns = c.options.netns.map(netns_inode).transpose()?;
            let socket_state = rdtrace_probes::needs_socket_state(&c.program);
            let profile = c
                .program
                .probes
                .iter()
                .filter_map(|p| match p.kind {
                    ProbeKind::Profile { interval_ns } => Some((p.id, interval_ns)),
                    _ => None,
                })
                .collect();
            let opts = rdtrace_probes::LiveOptions {
                probes: event_probes.clone(),
                bufsize: c.options.bufsize,
                netns,
                socket_state,
                profile,
            };
            Box::new(rdtrace_probes::LiveSource::open(&opts).map_err(Failure::new)?)
        }
    };
    if !c.options.quiet {
        if c.options.destructive {
            eprintln!("dtrace: allowing destructive actions");
        }
        for n in notices(sources, &c.program) {
            eprintln!("{n}");
        }
    }
    // Compiled once, before the target existed: `$target` is read at run time.
    let mut program = c.jit;
    program.set_target_pid(target_pid);
    let mut consumer = Consumer::new(&mut program, &c.options, interrupts);
    if let Some(t) = &target {
        consumer = consumer.on_begin(|| t.borrow().resume()).watch(|| {
            let exited = t.borrow_mut().exited();
            exited.then(|| format!("pid {} has exited", t.borrow().pid()))
        });
    }
    let mut stderr = std::io::stderr();
    let status = consumer
        .run(source.as_mut(), &mut sink, &mut stderr)
        .map_err(Failure::new)?;
    Ok(status as u8)
}
