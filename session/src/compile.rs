//! Compiling the whole program once: the checker over every source, then
//! the options (command line first, pragmas after, as dtrace), then the JIT.

use rdtrace_lang::catalog::Catalog;
use rdtrace_lang::typed::Program;
use rdtrace_lang::CheckOptions;
use rdtrace_runtime::metrics::MetricsPlan;
use rdtrace_runtime::options::{OptionError, Options};
use rdtrace_runtime::CompiledProgram;

use crate::request::{ProgramSource, Request};
use crate::sources::LoadedSource;
use crate::Failure;

pub struct Compiled {
    pub program: Program,
    pub options: Options,
    /// The user memory each probe copies when it fires, as the BPF maps
    /// take it, and the entry probes keeping their arguments for it.
    pub captures: rdtrace_probes::CaptureMaps,
    /// The program JIT-compiled, once (`$target` is set when the target starts).
    pub jit: CompiledProgram,
    /// `--metrics`: what each aggregation exports as.
    pub metrics: Option<MetricsPlan>,
}

fn check_options(args: &Request) -> CheckOptions {
    let script = args.sources.first().map(|s| match s {
        ProgramSource::Script(p) => p.clone(),
        _ => "rdtrace".to_string(),
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

/// Compiles the sources with a catalog made for them (whose probes that
/// the program cannot enable may lack their arguments); returns both.
pub fn compile(args: &Request, sources: &[LoadedSource]) -> Result<(Compiled, Catalog), Failure> {
    let copts = check_options(args);
    let texts: Vec<(String, String)> = sources
        .iter()
        .map(|s| (s.diagnostic_name().to_string(), s.program_text()))
        .collect();
    let refs: Vec<(&str, &str)> = texts
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    let (program, made) =
        rdtrace_lang::compile_many_for(&refs, |wanted| rdtrace_probes::catalog_for(wanted), &copts)
            .map_err(|d| Failure::rendered(format!("{}\n{}", headline(&d, sources), d.render())))?;
    if !program.warnings.is_empty() {
        let w = rdtrace_lang::diag::Diagnostics {
            items: program.warnings.clone(),
        }
        .with_sources(&refs, 0);
        eprint!("{}", w.render());
    }

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
    options.keep_ir = args.show_program;

    // What the kernel must copy when probes fire: refused now (-e too)
    // when it cannot be done.
    let plan = rdtrace_lang::plan::capture_plan(&program);
    if !plan.problems.is_empty() {
        let items = plan
            .problems
            .iter()
            .map(|(span, why)| {
                rdtrace_lang::diag::Diagnostic::new("user memory cannot be copied here", *span)
                    .with_label("not known when the probe fires")
                    .with_help(why.clone())
            })
            .collect();
        let d = rdtrace_lang::diag::Diagnostics { items }.with_sources(&refs, 0);
        return Err(Failure::rendered(d.render()));
    }
    let captures =
        rdtrace_probes::capture_maps(&program, &plan, options.strsize).map_err(Failure::new)?;

    // Metric names and labels are checked with the program (-e too), so
    // a clash is an error before anything is attached.
    let metrics = if options.metrics.is_some() || !options.metric_labels.is_empty() {
        Some(MetricsPlan::new(&program, &options.metric_labels).map_err(Failure::new)?)
    } else {
        None
    };

    // JIT now so that -e also reports what the runtime refuses.
    let jit = CompiledProgram::new(&program, &options).map_err(Failure::new)?;
    let compiled = Compiled {
        program,
        options,
        captures,
        jit,
        metrics,
    };
    Ok((compiled, made))
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

/// dtrace's first line for a program that does not compile, the one
/// scripts and people grep: `dtrace: failed to compile script x.d: line 3:
/// message`, or for `-n` text `dtrace: invalid probe specifier TEXT:
/// message`. The full report follows it.
fn headline(d: &rdtrace_lang::Diagnostics, sources: &[LoadedSource]) -> String {
    let Some(first) = d.items.first() else {
        return "dtrace: failed to compile the program".to_string();
    };
    let at = first
        .span
        .and_then(|sp| sources.get(usize::from(sp.source)).map(|s| (s, sp)));
    match at {
        Some((s, sp)) if s.is_script => {
            let upto = (sp.start as usize).min(s.text.len());
            let line = s.text.as_bytes()[..upto]
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
                + 1;
            format!(
                "dtrace: failed to compile script {}: line {line}: {}",
                s.name, first.message
            )
        }
        Some((s, _)) => format!(
            "dtrace: invalid probe specifier {}: {}",
            s.text, first.message
        ),
        None => match sources.first() {
            Some(s) if s.is_script => {
                format!(
                    "dtrace: failed to compile script {}: {}",
                    s.name, first.message
                )
            }
            Some(s) => format!(
                "dtrace: invalid probe specifier {}: {}",
                s.text, first.message
            ),
            None => format!("dtrace: {}", first.message),
        },
    }
}
