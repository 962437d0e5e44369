//! The consumer loop: BEGIN, events in arrival order, ticks, periodic drain
//! and flush at `switchrate`, and the orderly end dtrace(1) has (stop, drain,
//! END, newline, aggregations, exit status).

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rdtrace_lang::catalog::ProbeKind;
use rdtrace_record::{header_of, Clock, EventHeader, Poll, Record, Source};

use crate::metrics::{Hub, MetricsPlan, Snapshot, TracerStats};
use crate::options::Options;
use crate::{CompiledProgram, FireContext};

/// With `--metrics`, the longest a live drain waits for events, so that a
/// scrape gets fresh values within about this long.
pub const METRICS_POLL: Duration = Duration::from_millis(100);

/// In a replay, more missed ticks than this (a clock that jumps) fire once.
const MAX_CATCH_UP: u64 = 100_000;

/// Counts SIGINT/SIGTERM deliveries. The first asks for an orderly stop;
/// a second SIGINT makes the consumer quit without printing aggregations.
#[derive(Clone, Default)]
pub struct Interrupts(Arc<AtomicUsize>);

impl Interrupts {
    /// Installs handlers for SIGINT and SIGTERM. The first asks for an
    /// orderly end; the second ends the process at once, whatever it is
    /// doing (blocked writing to a full pipe, draining, replaying): the
    /// kernel detaches the BPF programs with the process's descriptors and
    /// a `-c` child dies with it (PR_SET_PDEATHSIG).
    pub fn install() -> std::io::Result<Interrupts> {
        let count = Arc::new(AtomicUsize::new(0));
        for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            let c = Arc::clone(&count);
            // SAFETY: the handler touches an atomic and calls _exit, both
            // async-signal-safe.
            unsafe {
                signal_hook::low_level::register(sig, move || {
                    if c.fetch_add(1, Ordering::SeqCst) >= 1 {
                        libc::_exit(1);
                    }
                })?;
            }
        }
        Ok(Interrupts(count))
    }
    pub fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

#[derive(Debug)]
pub enum ConsumeError {
    Source(rdtrace_record::ProbeError),
    Output(std::io::Error),
}

impl std::fmt::Display for ConsumeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConsumeError::Source(e) => write!(f, "{e}"),
            ConsumeError::Output(e) => write!(f, "failed to write output: {e}"),
        }
    }
}

impl std::error::Error for ConsumeError {}

/// A tick probe and when it is next due (in the driving clock's ns).
/// In a replay `profile-N` probes are ticks too: a capture has no CPUs to
/// sample, so they fire once per interval of capture time, on CPU 0.
struct Tick {
    probe: usize,
    interval: u64,
    next: u64,
    /// The CPU the firing reports; None: the one rdtrace runs on.
    cpu: Option<u32>,
}

/// Runs the program against `source` until `exit()`, an interrupt or the end
/// of the source; returns the exit status.
pub struct Consumer<'a> {
    program: &'a mut CompiledProgram,
    opts: &'a Options,
    clock: Clock,
    /// The capture's clock jumped past MAX_CATCH_UP ticks (said once).
    warned_clock_jump: bool,
    interrupts: Interrupts,
    /// catalog probe ID → index into `Program::probes`
    by_id: hashbrown::HashMap<u32, usize>,
    ticks: Vec<Tick>,
    out: Vec<u8>,
    err: Vec<u8>,
    drops_seen: hashbrown::HashMap<u32, u64>,
    exit: Option<i32>,
    /// ts_ns of the newest event: the time in a replay.
    last_ts: u64,
    heading_done: bool,
    /// Called once BEGIN has fired (`-c` resumes its command then).
    on_begin: Option<Box<dyn FnOnce() + 'a>>,
    /// Checked after every drain: Some(notice) ends tracing in order (the
    /// `-c`/`-p` process has exited).
    watch: Option<Box<dyn FnMut() -> Option<String> + 'a>>,
    /// `--metrics`: where scrapes get their snapshots, and what each
    /// aggregation exports as.
    metrics: Option<(Arc<Hub>, MetricsPlan)>,
    /// Records processed, and the drops reported so far (for metrics).
    events: u64,
    agg_drops_total: std::collections::BTreeMap<u32, u64>,
    dynvar_drops_total: u64,
    /// The aggregations the kernel keeps for some probes, folded in
    /// after drains.
    kernel_aggs: Option<crate::kernel_aggs::KernelAggFold>,
}

impl<'a> Consumer<'a> {
    pub fn new(
        program: &'a mut CompiledProgram,
        opts: &'a Options,
        interrupts: Interrupts,
    ) -> Self {
        let by_id = program
            .program()
            .probes
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id, i))
            .collect();
        Consumer {
            program,
            opts,
            // Set from the source by `run`.
            clock: Clock::Monotonic,
            interrupts,
            by_id,
            ticks: Vec::new(),
            warned_clock_jump: false,
            out: Vec::with_capacity(1 << 16),
            err: Vec::new(),
            drops_seen: hashbrown::HashMap::new(),
            exit: None,
            last_ts: 0,
            heading_done: false,
            on_begin: None,
            watch: None,
            metrics: None,
            events: 0,
            agg_drops_total: Default::default(),
            dynvar_drops_total: 0,
            kernel_aggs: None,
        }
    }

    /// Folds the counts and sums the kernel keeps for `plan`'s probes
    /// (their records never come) into the aggregations.
    pub fn with_kernel_aggs(mut self, plan: rdtrace_lang::kagg::KernelAggPlan) -> Self {
        self.kernel_aggs = crate::kernel_aggs::KernelAggFold::new(
            plan,
            self.program.program(),
            self.opts.strsize,
            self.opts.aggrate,
        );
        self
    }

    fn fold_kernel_aggs(&mut self, source: &mut dyn Source, now: bool) {
        if let Some(k) = &mut self.kernel_aggs {
            k.fold(source, self.program.aggregations_mut(), now);
        }
    }

    /// Serves the aggregations to scrapes through `hub` while tracing.
    pub fn with_metrics(mut self, hub: Arc<Hub>, plan: MetricsPlan) -> Self {
        self.metrics = Some((hub, plan));
        self
    }

    /// Hands a snapshot to the metrics server when a scrape waits for
    /// one (always when `last`: tracing has ended).
    fn publish_metrics(&mut self, source: &mut dyn Source, last: bool) {
        let Some((hub, plan)) = &self.metrics else {
            return;
        };
        if !last && !hub.wanted() {
            return;
        }
        let mut drops: Vec<(u32, u64)> = source.drops();
        drops.sort_unstable();
        let snapshot = Snapshot {
            families: self.program.export_aggregations(plan),
            stats: TracerStats {
                events: self.events,
                drops,
                aggregation_drops: self.agg_drops_total.iter().map(|(&c, &n)| (c, n)).collect(),
                dynvar_drops: self.dynvar_drops_total,
                probes_enabled: plan.probes_enabled,
                tracing: !last,
            },
        };
        hub.publish(snapshot, last);
    }

    /// Runs `f` once BEGIN has fired.
    pub fn on_begin(mut self, f: impl FnOnce() + 'a) -> Self {
        self.on_begin = Some(Box::new(f));
        self
    }

    /// Ends tracing (like `exit(0)`) once `f` returns a notice, which is
    /// printed to stderr unless quiet.
    pub fn watch(mut self, f: impl FnMut() -> Option<String> + 'a) -> Self {
        self.watch = Some(Box::new(f));
        self
    }

    fn probe_index(&self, kind: &ProbeKind) -> Option<usize> {
        self.program
            .program()
            .probes
            .iter()
            .position(|p| &p.kind == kind)
    }

    /// Fires a probe that has no event record of its own (BEGIN, END, ticks).
    fn fire_synthetic(&mut self, probe: usize, ts: u64, ctx: &FireContext) {
        self.fire_synthetic_on(probe, ts, current_cpu(), ctx);
    }

    fn fire_synthetic_on(&mut self, probe: usize, ts: u64, cpu: u32, ctx: &FireContext) {
        let hdr = EventHeader {
            ts_ns: ts,
            probe: self.program.program().probes[probe].id,
            cpu,
            pid: std::process::id(),
            tid: std::process::id(),
            ppid: std::os::unix::process::parent_id(),
            // SAFETY: getuid/getgid take no arguments and cannot fail.
            uid: unsafe { libc::getuid() },
            // SAFETY: as above.
            gid: unsafe { libc::getgid() },
            netns: 0,
            comm: *b"rdtrace\0\0\0\0\0\0\0\0\0",
        };
        self.fire(probe, hdr.as_bytes(), ctx);
    }

    /// Fires one probe; prints dtrace's column heading before the first
    /// record when not quiet.
    fn fire(&mut self, probe: usize, rec: &[u8], ctx: &FireContext) {
        let before = self.out.len();
        let r = self
            .program
            .fire(probe, rec, ctx, &mut self.out, &mut self.err);
        let structured = self.opts.oformat.structured();
        if !self.heading_done && !self.opts.quiet && !structured && self.out.len() > before {
            let heading = if self.opts.flowindent {
                format!("{:>3} {:<41}\n", "CPU", "FUNCTION")
            } else {
                format!("{:>3} {:>6} {:>32}\n", "CPU", "ID", "FUNCTION:NAME")
            };
            self.out.splice(before..before, heading.into_bytes());
            self.heading_done = true;
        }
        self.exit = self.exit.or(r.exit);
    }

    fn now(&self) -> u64 {
        match self.clock {
            Clock::Monotonic => monotonic_ns(),
            Clock::Capture => self.last_ts,
        }
    }

    /// In a replay, time also passes with frames that fire no probe: ticks
    /// due up to the latest frame read fire now.
    fn advance_capture_clock(&mut self, source: &dyn Source, ctx: &FireContext) {
        if let Some((_, latest)) = source.capture_span_ns() {
            if latest > self.last_ts && self.exit.is_none() {
                self.last_ts = latest;
                self.fire_ticks(latest, ctx);
            }
        }
    }

    /// Fires every tick due at or before `t`, in time order (ties in
    /// program order).
    fn fire_ticks(&mut self, t: u64, ctx: &FireContext) {
        while self.exit.is_none() {
            let Some(i) = (0..self.ticks.len())
                .filter(|&i| self.ticks[i].next <= t)
                .min_by_key(|&i| self.ticks[i].next)
            else {
                break;
            };
            let (probe, due, cpu) = (self.ticks[i].probe, self.ticks[i].next, self.ticks[i].cpu);
            let interval = self.ticks[i].interval;
            // Live, a consumer that fell behind fires a late tick once (as
            // a timer would) instead of replaying the backlog; so does a
            // replay whose clock jumps by more than MAX_CATCH_UP ticks.
            let missed = (t - due) / interval;
            let skip = |due: u64| due.saturating_add(interval.saturating_mul(missed + 1));
            self.ticks[i].next = match self.clock {
                // A replay fires every tick the capture's time passes.
                Clock::Capture if missed < MAX_CATCH_UP => due.saturating_add(interval),
                Clock::Capture => {
                    if !self.warned_clock_jump {
                        self.warned_clock_jump = true;
                        let _ = writeln!(
                            self.err,
                            "dtrace: the capture's clock jumps by {} s: ticks fire once for the gap",
                            (t - due) / 1_000_000_000
                        );
                    }
                    skip(due)
                }
                Clock::Monotonic => skip(due),
            };
            self.fire_synthetic_on(probe, due, cpu.unwrap_or_else(current_cpu), ctx);
        }
    }

    fn flush(&mut self, sink: &mut dyn Write, errsink: &mut dyn Write) -> Result<(), ConsumeError> {
        if !self.err.is_empty() {
            let _ = errsink.write_all(&self.err);
            self.err.clear();
        }
        if !self.out.is_empty() {
            sink.write_all(&self.out).map_err(ConsumeError::Output)?;
            self.out.clear();
        }
        sink.flush().map_err(ConsumeError::Output)
    }

    /// Reports drops that happened since the last report, as dtrace does.
    fn report_drops(&mut self, source: &mut dyn Source) {
        use crate::oformat::{DROP_AGGREGATION, DROP_DYNAMIC, DROP_PRINCIPAL};
        for (cpu, total) in source.drops() {
            let seen = self.drops_seen.entry(cpu).or_insert(0);
            if total > *seen {
                let n = total - *seen;
                let msg = format!("{n} drop{} on CPU {cpu}", if n == 1 { "" } else { "s" });
                *seen = total;
                self.drop_report(n, DROP_PRINCIPAL, &msg);
            }
        }
        for (cpu, n) in self.program.take_agg_drops() {
            *self.agg_drops_total.entry(cpu).or_insert(0) += n;
            let msg = format!(
                "{n} aggregation drop{} on CPU {cpu}",
                if n == 1 { "" } else { "s" }
            );
            self.drop_report(n, DROP_AGGREGATION, &msg);
        }
        let dyn_drops = self.program.take_dynvar_drops();
        self.dynvar_drops_total += dyn_drops;
        if dyn_drops > 0 {
            let msg = format!(
                "{dyn_drops} dynamic variable drop{}",
                if dyn_drops == 1 { "" } else { "s" }
            );
            self.drop_report(dyn_drops, DROP_DYNAMIC, &msg);
        }
    }

    /// A drop report: `dtrace: msg` on stderr, or under `-x oformat` a
    /// DROP element of the document.
    fn drop_report(&mut self, count: u64, kind: i64, msg: &str) {
        let f = self.opts.oformat;
        if f.structured() {
            let first = self.program.oformat_first_record();
            crate::oformat::drop_record(f, &mut self.out, first, count, kind, msg);
        } else {
            let _ = writeln!(self.err, "dtrace: {msg}");
        }
    }

    fn deliver(&mut self, rec: &[u8], ctx: &FireContext) {
        if self.exit.is_some() {
            return;
        }
        let Some(hdr) = header_of(rec) else {
            return;
        };
        self.events += 1;
        if self.clock == Clock::Capture {
            self.last_ts = hdr.ts_ns;
        }
        // Ticks due before this event fire before it. Live records are
        // stamped with CLOCK_MONOTONIC (bpf_ktime_get_ns), the ticks' clock.
        self.fire_ticks(hdr.ts_ns, ctx);
        if let Some(&probe) = self.by_id.get(&hdr.probe) {
            if self.exit.is_none() {
                self.fire(probe, rec, ctx);
            }
        }
    }

    /// The whole run. `sink` gets the trace output, `errsink` dtrace's
    /// messages (drops, runtime errors).
    pub fn run(
        &mut self,
        source: &mut dyn Source,
        sink: &mut dyn Write,
        errsink: &mut dyn Write,
    ) -> Result<i32, ConsumeError> {
        self.clock = source.clock();
        let ctx = FireContext {
            wall_offset_ns: source.wall_offset_ns(),
        };
        let mut first_ts = None;

        // In a replay BEGIN happens at the capture's first timestamp; find it
        // by pulling the first batch before firing anything.
        let mut pending: Vec<Vec<u8>> = Vec::new();
        let mut ended = false;
        // A source that fails mid-run (a capture cut off while being
        // written) still gets the orderly end — END, aggregations — before
        // the error is returned.
        let mut source_error = None;
        if self.clock == Clock::Capture {
            let r = source.poll(Duration::ZERO, &mut |rec| {
                if first_ts.is_none() {
                    first_ts = header_of(rec).map(|h| h.ts_ns);
                }
                pending.push(rec.to_vec());
            });
            ended = !matches!(r, Ok(Poll::More));
            source_error = r.err();
            // BEGIN happens at the capture's start even when its first
            // frames fire no probe.
            self.last_ts = source
                .capture_span_ns()
                .map(|(first, _)| first)
                .or(first_ts)
                .unwrap_or(0);
        }
        let start = self.now();
        for (i, p) in self.program.program().probes.iter().enumerate() {
            // Live, profile probes come from the kernel's perf events.
            let (interval_ns, cpu) = match p.kind {
                ProbeKind::Tick { interval_ns } => (interval_ns, None),
                ProbeKind::Profile { interval_ns, .. } if self.clock == Clock::Capture => {
                    (interval_ns, Some(0))
                }
                _ => continue,
            };
            let interval = interval_ns.max(1);
            self.ticks.push(Tick {
                probe: i,
                interval,
                next: start.saturating_add(interval),
                cpu,
            });
        }
        crate::oformat::document_start(self.opts.oformat, &mut self.out);
        if let Some(begin) = self.probe_index(&ProbeKind::Begin) {
            self.fire_synthetic(begin, start, &ctx);
        }
        if let Some(f) = self.on_begin.take() {
            f();
        }
        for rec in pending.drain(..) {
            self.deliver(&rec, &ctx);
        }
        self.advance_capture_clock(source, &ctx);
        self.flush(sink, errsink)?;

        let mut interrupted_at = 0;
        let mut last_status = std::time::Instant::now();
        while self.exit.is_none() && !ended {
            let signals = self.interrupts.count();
            if signals > 0 {
                interrupted_at = signals;
                break;
            }
            let timeout = match self.clock {
                Clock::Capture => Duration::ZERO,
                Clock::Monotonic => {
                    let now = monotonic_ns();
                    let next_tick = self.ticks.iter().map(|t| t.next).min().unwrap_or(u64::MAX);
                    // A scrape waits for the next drain: keep that short.
                    let rate = match self.metrics {
                        Some(_) => self.opts.switchrate.min(METRICS_POLL),
                        None => self.opts.switchrate,
                    };
                    rate.min(Duration::from_nanos(next_tick.saturating_sub(now)))
                }
            };
            let mut batch_exit = None;
            let r = {
                let this = &mut *self;
                source.poll(timeout, &mut |rec| {
                    this.deliver(rec, &ctx);
                    batch_exit = batch_exit.or(this.exit);
                })
            };
            ended = !matches!(r, Ok(Poll::More));
            if let Err(e) = r {
                source_error = Some(e);
            }
            self.fold_kernel_aggs(source, false);
            match self.clock {
                Clock::Monotonic => self.fire_ticks(monotonic_ns(), &ctx),
                Clock::Capture => self.advance_capture_clock(source, &ctx),
            }
            // As dtrace: drops are summed per CPU over a status interval,
            // not reported per poll.
            if last_status.elapsed() >= self.opts.statusrate {
                self.report_drops(source);
                last_status = std::time::Instant::now();
            }
            self.flush(sink, errsink)?;
            self.publish_metrics(source, false);
            if let Some(notice) = self.watch.as_mut().and_then(|w| w()) {
                if !self.opts.quiet {
                    let _ = writeln!(errsink, "dtrace: {notice}");
                }
                break;
            }
        }

        // Orderly end: a newline after ^C (dtrace prints it even when quiet),
        // stop the probes, drain what is buffered, END, a newline, aggregations.
        if interrupted_at > 0 {
            self.out.push(b'\n');
        }
        source.stop();
        if self.exit.is_none() && self.interrupts.count() < 2 {
            let _ = source.poll(Duration::ZERO, &mut |rec| self.deliver(rec, &ctx));
        }
        self.fold_kernel_aggs(source, true);
        self.report_drops(source);
        for notice in source.end_notices() {
            let _ = writeln!(self.err, "{notice}");
        }
        let agg_drops: u64 = self.agg_drops_total.values().sum();
        if agg_drops > 0 {
            let _ = writeln!(
                self.err,
                "dtrace: {agg_drops} aggregation drop{} in all: new keys did not fit in aggsize \
                 ({}); raise it (-x aggsize=…) to keep them",
                if agg_drops == 1 { "" } else { "s" },
                size_text(self.opts.aggsize)
            );
        }
        if let Some(end) = self.probe_index(&ProbeKind::End) {
            let ts = self.now();
            let saved = self.exit;
            self.exit = None;
            self.fire_synthetic(end, ts, &ctx);
            // exit() in END only sets the status.
            self.exit = saved.or(self.exit);
        }
        let structured = self.opts.oformat.structured();
        if !structured {
            self.out.push(b'\n');
        }
        self.flush(sink, errsink)?;
        // With oformat, aggregations are printed only by printa (as dtrace).
        if self.interrupts.count() < 2 && !structured {
            // Streamed to the sink as it is printed: a large aggregation
            // is not held twice.
            let mut failed = None;
            self.program
                .print_aggregations_streaming(&mut self.out, &mut |buf| {
                    if failed.is_none() {
                        failed = sink.write_all(buf).err();
                    }
                    buf.clear();
                });
            if let Some(e) = failed {
                return Err(ConsumeError::Output(e));
            }
        }
        crate::oformat::document_end(self.opts.oformat, &mut self.out);
        self.flush(sink, errsink)?;
        self.publish_metrics(source, true);
        match source_error {
            Some(e) => Err(ConsumeError::Source(e)),
            None => Ok(self.exit.unwrap_or(0)),
        }
    }
}

/// A size as dtrace's options write it: `4m`, `512k`, or bytes.
fn size_text(n: usize) -> String {
    match n {
        n if n > 0 && n % (1 << 30) == 0 => format!("{}g", n >> 30),
        n if n > 0 && n % (1 << 20) == 0 => format!("{}m", n >> 20),
        n if n > 0 && n % (1 << 10) == 0 => format!("{}k", n >> 10),
        n => format!("{n} bytes"),
    }
}

fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: valid pointer to a timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

fn current_cpu() -> u32 {
    // SAFETY: no arguments; returns -1 on failure.
    let c = unsafe { libc::sched_getcpu() };
    c.max(0) as u32
}
