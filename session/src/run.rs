//! Running the compiled program: the event source (live eBPF or a
//! capture), dtrace's notices, the `-c`/`-p` target, the consumer.

use std::io::Write;
use std::net::IpAddr;

use rdtrace_lang::catalog::ProbeKind;
use rdtrace_lang::typed::Program;
use rdtrace_runtime::consumer::{Consumer, Interrupts};
use rdtrace_runtime::metrics::server::MetricsServer;
use rdtrace_runtime::metrics::Hub;
use rdtrace_runtime::options::{NetnsFilter, Options};
use std::sync::Arc;
use std::time::Duration;

use crate::compile::Compiled;
use crate::request::Request;
use crate::sources::LoadedSource;
use crate::target::Target;
use crate::Failure;

/// dtrace's `script 'x.d' matched N probes` notices, one per source, from
/// the counts the checker made while checking the whole program.
fn notices(sources: &[LoadedSource], program: &Program) -> Vec<String> {
    sources
        .iter()
        .zip(&program.matched_per_source)
        .map(|(s, &n)| {
            let (kind, name) = if s.is_script {
                ("script", s.name.as_str())
            } else {
                // dtrace crops a description for reporting at its first
                // `{`, `/` or `;` (compile_str in cmd/dtrace.c).
                let end = s.name.find(['{', '/', ';']).unwrap_or(s.name.len());
                ("description", &s.name[..end])
            };
            format!(
                "dtrace: {kind} '{name}' matched {n} probe{}",
                if n == 1 { "" } else { "s" }
            )
        })
        .collect()
}

/// The providers of enabled probes that a capture cannot show, each once.
fn not_replayed(program: &Program) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for p in &program.probes {
        let replayed = match p.kind {
            ProbeKind::Event { .. } => {
                rdtrace_probes::providers::provider_of(p.id).is_none_or(|prov| prov.replays())
            }
            _ => true,
        };
        if !replayed && !out.contains(&p.provider) {
            out.push(p.provider.clone());
        }
    }
    out
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

pub fn run(args: &Request, sources: &[LoadedSource], c: Compiled) -> Result<u8, Failure> {
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
    // Bound before tracing starts: a bad address or a port in use is an
    // error now, with nothing attached.
    let mut metrics = match (c.options.metrics, &c.metrics) {
        (Some(addr), Some(plan)) => Some((MetricsServer::bind(addr).map_err(Failure::new)?, plan)),
        _ => None,
    };
    let mut progress = None;
    let mut kernel_aggs = rdtrace_lang::kagg::KernelAggPlan::default();
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
            let src = rdtrace_probes::ReplaySource::open_interruptible(
                std::path::Path::new(path),
                &locals,
                &event_probes,
                &|| interrupts.count() > 0,
            )
            .map_err(Failure::new)?;
            // The size of a capture file (not of a pipe) for the progress line.
            let size = std::fs::metadata(path)
                .ok()
                .filter(|m| m.is_file())
                .map(|m| m.len());
            progress =
                crate::progress::Progress::start(size, src.bytes_read(), args.output.is_some());
            for provider in not_replayed(&c.program) {
                eprintln!(
                    "dtrace: {provider} probes never fire in a replay: a capture holds packets only"
                );
            }
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
                    ProbeKind::Profile { interval_ns, .. } => Some((p.id, interval_ns)),
                    _ => None,
                })
                .collect();
            // Both off for side-by-side benchmarks: every event then
            // crosses the ring buffer. A probe aggregated in the kernel
            // relies on its filter being the predicate.
            let in_kernel = std::env::var_os("RDTRACE_NO_KERNEL_FILTER").is_none();
            let aggs = if in_kernel && std::env::var_os("RDTRACE_NO_KERNEL_AGG").is_none() {
                rdtrace_probes::kernel_aggs(&c.program, target_pid)
            } else {
                rdtrace_probes::KernelAggs::default()
            };
            kernel_aggs = aggs.plan;
            let opts = rdtrace_probes::LiveOptions {
                probes: event_probes.clone(),
                bufsize: c.options.bufsize,
                netns,
                socket_state,
                profile,
                captures: c.captures.plans.clone(),
                save_entry_args: c.captures.save_entry_args.clone(),
                filters: if in_kernel {
                    rdtrace_probes::kernel_filters(&c.program, target_pid)
                } else {
                    Vec::new()
                },
                kernel_aggs: aggs.maps,
                kernel: rdtrace_probes::kernel_flags(
                    &c.program,
                    c.options.stackframes,
                    c.options.ustackframes,
                ),
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
    let hub = Hub::new();
    if let Some((server, plan)) = &mut metrics {
        // A scrape waits at most this for the consumer, which looks after
        // every drain (at least every METRICS_POLL); then it gets the
        // newest snapshot there is.
        let wait = Duration::from_secs(1);
        server
            .serve(Arc::clone(&hub), wait)
            .map_err(|e| Failure::new(format!("cannot start the metrics server: {e}")))?;
        if !c.options.quiet {
            eprintln!(
                "dtrace: serving {} aggregation{} as metrics on http://{}/metrics",
                plan.aggs.len(),
                if plan.aggs.len() == 1 { "" } else { "s" },
                server.local_addr()
            );
        }
    }
    // Compiled once, before the target existed: `$target` is read at run time.
    let mut program = c.jit;
    program.set_target_pid(target_pid);
    let mut consumer = Consumer::new(&mut program, &c.options, interrupts.clone());
    if !kernel_aggs.is_empty() {
        consumer = consumer.with_kernel_aggs(kernel_aggs);
    }
    if let Some((_, plan)) = &metrics {
        consumer = consumer.with_metrics(Arc::clone(&hub), (*plan).clone());
    }
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
    drop(consumer);
    drop(progress);
    if let Some((server, _)) = &metrics {
        linger(&c.options, server, &interrupts);
    }
    Ok(status as u8)
}

/// `metricslinger`: once tracing has ended on its own (the capture or the
/// `-c` command ended, `exit()`), the final values stay served for a while
/// so that Prometheus scrapes them; SIGINT/SIGTERM end it at once.
fn linger(options: &Options, server: &MetricsServer, interrupts: &Interrupts) {
    let linger = options.metrics_linger;
    if linger.is_zero() || interrupts.count() > 0 {
        return;
    }
    if !options.quiet {
        eprintln!(
            "dtrace: tracing has ended; serving the final metrics on http://{}/metrics for {:?} (^C stops)",
            server.local_addr(),
            linger
        );
    }
    let until = std::time::Instant::now() + linger;
    while interrupts.count() == 0 {
        let left = until.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            break;
        }
        std::thread::sleep(left.min(Duration::from_millis(50)));
    }
}
