//! Live events from the kernel: loads the BPF object (aya), attaches the
//! programs for the enabled probes and drains the ring buffer.
//!
//! Hooks: packets sent on `tp_btf/net_dev_queue`, received on
//! `tp_btf/netif_receive_skb`, TCP state changes on
//! `tp_btf/inet_sock_set_state`; each falls back to the `raw_tp` twin when
//! the BTF-typed attach fails. Every tcp probe needs all three (the
//! connection map that receives read is kept by sends and state changes);
//! ip and udp probes need the packet hook of their direction. The programs
//! learn which probes are enabled from a read-only global, so the verifier
//! drops the code of the others. Records are submitted without waking
//! userspace (the consumer drains at its switchrate) unless the buffer is
//! more than half full.
//!
//! profile-N probes: a perf_event program on a cpu-clock event of every
//! online CPU (all processes), one event per probe and CPU, attached only
//! when a script enables one. CPUs brought online later are not sampled.

use crate::event::{CapturePlanMap, TpProbe, SAVE_ENTRY_ARGS};
use crate::providers::{hooks_for, Hook};
use aya::maps::HashMap as BpfHashMap;
use aya::maps::{Array, MapData, PerCpuArray, PerCpuHashMap, RingBuf};
use aya::programs::perf_event::{PerfEventConfig, PerfEventScope, SamplePolicy, SoftwareEvent};
use aya::programs::{BtfTracePoint, PerfEvent, ProgramError, RawTracePoint, TracePoint};
use aya::{Btf, Ebpf, EbpfError, EbpfLoader};
use rdtrace_record::{Clock, Poll, ProbeError, ProbeErrorKind, Source};
use std::os::fd::{AsFd, AsRawFd};
use std::path::Path;
use std::time::Duration;

static NET_OBJECT: &[u8] = aya::include_bytes_aligned!(concat!(env!("OUT_DIR"), "/net.bpf.o"));

const BTF_PATH: &str = "/sys/kernel/btf/vmlinux";
/// Verifier log lines kept in an error message.
const VERIFIER_TAIL: usize = 25;

/// What to trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveOptions {
    /// Catalog ids of the enabled probes. dtrace:::BEGIN/END/ERROR need no
    /// kernel program and are ignored here.
    pub probes: Vec<u32>,
    /// Ring buffer size in bytes; rounded up to a power of two ≥ one page.
    pub bufsize: usize,
    /// Only this network namespace (inode), or all when None.
    pub netns: Option<u32>,
    /// Follow TCP connections so that tcp records carry the socket state
    /// (tcpsinfo_t, cs_cid…). Without it, and without tcp probes other than
    /// send/receive, each segment costs less and those fields read 0. See
    /// [`crate::needs_socket_state`].
    pub socket_state: bool,
    /// `profile-N` probes: (probe id, interval in ns). Each fires on every
    /// online CPU once per interval with a header-only record.
    pub profile: Vec<(u32, u64)>,
    /// The user memory each probe copies when it fires (probe id, plan):
    /// built from the program's capture plan by `probes::capture_maps`.
    pub captures: Vec<(u32, CapturePlanMap)>,
    /// Entry probes whose arguments their return probe's captures read.
    pub save_entry_args: Vec<u32>,
    /// What the kernel captures for each probe beyond its record (the
    /// thread, the command line, stacks) and the stacks' frames, from
    /// [`crate::kernel_flags`].
    pub kernel: crate::KernelFlags,
    /// The predicates the kernel evaluates (probe, conditions), from
    /// [`crate::kernel_filters`].
    pub filters: Vec<(u32, crate::event::ProbeFilter)>,
    /// The probes the kernel aggregates (probe, its updates), from
    /// [`crate::kernel_aggs`]: they send no records.
    pub kernel_aggs: Vec<(u32, crate::event::KaggPlan)>,
}

impl LiveOptions {
    /// The kernel flags of `probe`'s programs.
    fn kernel_flags(&self, probe: u32) -> u32 {
        let save = if self.save_entry_args.contains(&probe) {
            SAVE_ENTRY_ARGS
        } else {
            0
        };
        let task = self
            .kernel
            .probes
            .iter()
            .find(|(p, _)| *p == probe)
            .map_or(0, |f| f.1);
        let filtered = if self.filters.iter().any(|(p, _)| *p == probe) {
            crate::event::FILTERED
        } else {
            0
        };
        let kagg = if self.kernel_aggs.iter().any(|(p, _)| *p == probe) {
            crate::event::KAGG
        } else {
            0
        };
        save | task | filtered | kagg
    }
}

impl Default for LiveOptions {
    fn default() -> Self {
        LiveOptions {
            probes: Vec::new(),
            bufsize: 4 << 20,
            netns: None,
            socket_state: true,
            profile: Vec::new(),
            captures: Vec::new(),
            save_entry_args: Vec::new(),
            kernel: crate::KernelFlags::default(),
            filters: Vec::new(),
            kernel_aggs: Vec::new(),
        }
    }
}

/// Inode of this process's network namespace, for `-x netns=self`.
pub fn current_netns() -> Result<u32, ProbeError> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self/ns/net")
        .map(|m| m.ino() as u32)
        .map_err(|e| ProbeError::new(ProbeErrorKind::Io, format!("/proc/self/ns/net: {e}")))
}

/// The hooks `probes` need, in the order the probes ask for them, each once.
/// A provider may serve all its enabled probes with other hooks than each
/// probe's own (`Provider::hooks_of_set`: syscall's raw mode).
fn needed_hooks(probes: &[u32], socket_state: bool, flags: &dyn Fn(u32) -> u32) -> Vec<Hook> {
    let mut hooks: Vec<Hook> = Vec::new();
    let mut add = |h: Hook| {
        if !hooks.contains(&h) {
            hooks.push(h);
        }
    };
    let mut done: Vec<&str> = Vec::new();
    for &p in probes {
        let Some(provider) = crate::providers::provider_of(p) else {
            continue;
        };
        if done.contains(&provider.name()) {
            continue;
        }
        let mine: Vec<u32> = probes
            .iter()
            .copied()
            .filter(|&q| provider.owns(q))
            .collect();
        match provider.hooks_of_set(&mine, flags) {
            Some(set) => set.into_iter().for_each(&mut add),
            None => mine
                .iter()
                .flat_map(|&q| provider.hooks(q, socket_state))
                .for_each(&mut add),
        }
        done.push(provider.name());
    }
    hooks
}

/// Whether `probe` is delivered by the kernel programs.
fn is_kernel_probe(probe: u32) -> bool {
    !hooks_for(probe, false).is_empty()
}

/// Ticks per second of the kernel's jiffies (CONFIG_HZ): the coarse
/// clocks advance once per tick. 250 when the clock cannot be read.
fn jiffies_hz() -> u32 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: valid out pointer.
    let r = unsafe { libc::clock_getres(libc::CLOCK_MONOTONIC_COARSE, &mut ts) };
    if r != 0 || ts.tv_sec != 0 || ts.tv_nsec <= 0 {
        return 250;
    }
    (1_000_000_000 / ts.tv_nsec) as u32
}

/// A [`Source`] reading the kernel's events. Dropping it (or
/// [`Source::stop`]) detaches every program.
pub struct LiveSource {
    /// None when no kernel probe is enabled or after stop.
    ebpf: Option<Ebpf>,
    /// Tracepoints attached with a cookie (dropped with `ebpf` on stop).
    tp_links: Vec<crate::tp_attach::TracepointLink>,
    /// Table maps of `Hook::RawTable`s and the keys filled in them.
    tables: Vec<(&'static str, Vec<u32>)>,
    ring: Option<RingBuf<MapData>>,
    drops: Option<PerCpuArray<MapData, u64>>,
    /// The kernel's aggregation totals and its drops of new keys (taken
    /// from the object: they outlive `stop`, the final fold reads them).
    kagg_totals: Option<PerCpuHashMap<MapData, crate::event::KaggKey, i64>>,
    kagg_drops: Option<PerCpuArray<MapData, u64>>,
    /// "tp_btf/net_dev_queue", … for each attached program.
    hooks: Vec<String>,
    prog_ids: Vec<u32>,
    wall_offset_ns: i64,
    /// Records handed out per poll at most, so a busy ring cannot keep the
    /// consumer from its other duties.
    max_per_poll: usize,
}

impl LiveSource {
    /// Loads the programs for `opts.probes` and attaches them (tp_btf,
    /// falling back to raw_tp per hook).
    pub fn open(opts: &LiveOptions) -> Result<LiveSource, ProbeError> {
        Self::open_with(opts, true)
    }

    /// Like [`LiveSource::open`] but attaches the raw_tp programs directly:
    /// the fallback path, for tests and for kernels whose tp_btf misbehaves.
    pub fn open_raw_tp(opts: &LiveOptions) -> Result<LiveSource, ProbeError> {
        Self::open_with(opts, false)
    }

    fn open_with(opts: &LiveOptions, prefer_btf: bool) -> Result<LiveSource, ProbeError> {
        let wall_offset_ns = wall_offset_ns();
        let hooks = needed_hooks(&opts.probes, opts.socket_state, &|p| opts.kernel_flags(p));
        if let Some(&bad) = opts
            .probes
            .iter()
            .find(|&&p| p > crate::DTRACE_ERROR && !is_kernel_probe(p))
        {
            return Err(ProbeError::new(
                ProbeErrorKind::Invalid,
                format!("probe id {bad} has no kernel program in rdtrace"),
            ));
        }
        let mut live = LiveSource {
            ebpf: None,
            tp_links: Vec::new(),
            tables: Vec::new(),
            ring: None,
            drops: None,
            kagg_totals: None,
            kagg_drops: None,
            hooks: Vec::new(),
            prog_ids: Vec::new(),
            wall_offset_ns,
            max_per_poll: 0,
        };
        if hooks.is_empty() && opts.profile.is_empty() {
            return Ok(live);
        }
        let ring_size = ring_size(opts.bufsize)?;
        live.max_per_poll = 2 * ring_size as usize / std::mem::size_of::<crate::event::TcpEvent>();
        if !Path::new(BTF_PATH).exists() {
            return Err(ProbeError::new(
                ProbeErrorKind::Unsupported,
                format!("kernel BTF is missing ({BTF_PATH}): rdtrace needs a kernel built with CONFIG_DEBUG_INFO_BTF"),
            ));
        }
        let read_btf = || {
            Btf::from_sys_fs().map_err(|e| {
                ProbeError::new(
                    ProbeErrorKind::Unsupported,
                    format!("cannot read kernel BTF ({BTF_PATH}): {e}"),
                )
            })
        };
        let netns = opts.netns.unwrap_or(0);
        let enabled: u64 = opts
            .probes
            .iter()
            // Only the fixed probes (ids < 64) are bits; tracepoint probes
            // are found through the tp_probes map.
            .filter(|&&p| p < 64 && is_kernel_probe(p))
            .fold(0, |m, &p| m | 1 << p);
        // Bits of the fixed probes (ids < 64) with a flag.
        let bits = |flag: u32| -> u64 {
            opts.kernel
                .probes
                .iter()
                .filter(|&&(p, f)| p < 64 && f & flag != 0)
                .fold(0, |m, &(p, _)| m | 1 << p)
        };
        let want_psargs = bits(crate::event::TASK_PSARGS);
        let want_kstack = bits(crate::event::KSTACK);
        let want_ustack = bits(crate::event::USTACK);
        let (kframes, uframes) = (opts.kernel.kstack_frames, opts.kernel.ustack_frames);
        let hz = jiffies_hz();
        let want_sockstate = opts.socket_state as u8;
        // The parsed kernel BTF is most of rdtrace's memory (~20 MB: the 5.5 MB
        // file and aya's types). `EbpfLoader::new()` always parses its own copy,
        // so let it relocate with that one and free it before parsing again for
        // the tp_btf attach IDs: two copies never coexist.
        let mut loader = EbpfLoader::new();
        loader
            .map_max_entries("events", ring_size)
            .override_global("target_netns", &netns, true)
            .override_global("enabled", &enabled, true)
            .override_global("want_psargs", &want_psargs, true)
            .override_global("want_kstack", &want_kstack, true)
            .override_global("want_ustack", &want_ustack, true)
            .override_global("kstack_frames", &kframes, true)
            .override_global("ustack_frames", &uframes, true)
            .override_global("jiffies_hz", &hz, true)
            .override_global("want_sockstate", &want_sockstate, true);
        // The tracepoint providers' maps are sized for use only when one of
        // their probes is enabled: a network-only script pays nothing.
        if !hooks
            .iter()
            .any(|h| matches!(h, Hook::Tracepoint { .. } | Hook::RawTable { .. }))
        {
            for map in ["tp_probes", "capture_plans", "entry_args", "nr_probes"] {
                loader.map_max_entries(map, 1);
            }
        }
        let task_hooks = hooks.iter().any(|h| {
            matches!(h, Hook::Btf { .. })
                || matches!(h, Hook::Tracepoint { prog, .. } if prog.starts_with("sdt") || prog.starts_with("proc"))
        });
        if !task_hooks {
            for map in ["new_tasks", "cpu_chips"] {
                loader.map_max_entries(map, 1);
            }
        }
        if opts.filters.is_empty() {
            loader.map_max_entries("probe_filters", 1);
            loader.map_max_entries("low_probe_filters", 1);
        }
        if opts.kernel_aggs.is_empty() {
            for map in ["kagg_plans", "kagg_totals"] {
                loader.map_max_entries(map, 1);
            }
        }
        let mut ebpf = loader
            .load(NET_OBJECT)
            .map_err(|e| load_error("loading the BPF object", &e))?;
        drop(loader);
        // Plans first: a tracepoint fires as soon as it is attached.
        set_capture_plans(&mut ebpf, &opts.captures)?;
        set_filters(&mut ebpf, &opts.filters)?;
        set_kernel_aggs(&mut ebpf, &opts.kernel_aggs)?;
        if task_hooks {
            set_cpu_chips(&mut ebpf)?;
        }
        let mut btf = None;
        let mut loaded = Vec::new();
        for hook in &hooks {
            let name = match hook {
                Hook::Raw {
                    tracepoint,
                    btf_prog,
                    raw_prog,
                } => {
                    if btf.is_none() {
                        btf = Some(read_btf()?);
                    }
                    let btf = btf.as_ref().expect("just read");
                    attach_raw(&mut ebpf, btf, (tracepoint, btf_prog, raw_prog), prefer_btf)?
                }
                Hook::RawTable {
                    tracepoint,
                    btf_prog,
                    raw_prog,
                    map,
                    entries,
                } => {
                    fill_table(&mut ebpf, map, entries)?;
                    live.tables
                        .push((map, entries.iter().map(|e| e.0).collect()));
                    if btf.is_none() {
                        btf = Some(read_btf()?);
                    }
                    let btf = btf.as_ref().expect("just read");
                    attach_raw(&mut ebpf, btf, (tracepoint, btf_prog, raw_prog), prefer_btf)?
                }
                Hook::Btf { tracepoint, prog } => {
                    if btf.is_none() {
                        btf = Some(read_btf()?);
                    }
                    let btf = btf.as_ref().expect("just read");
                    attach_btf(&mut ebpf, btf, tracepoint, prog)?
                }
                Hook::Tracepoint {
                    category,
                    name,
                    prog,
                    probe,
                    flags,
                } => {
                    let flags = flags | opts.kernel_flags(*probe);
                    attach_tracepoint(
                        &mut ebpf,
                        &mut loaded,
                        &mut live.tp_links,
                        (category, name, prog, *probe, flags),
                    )?
                }
            };
            live.hooks.push(name);
        }
        drop(btf);
        if !opts.profile.is_empty() {
            live.hooks
                .push(attach_profile(&mut ebpf, &opts.profile, &|p| {
                    opts.kernel_flags(p)
                })?);
        }
        // Hand the freed BTF memory back to the kernel: it is not needed
        // again while tracing.
        // SAFETY: malloc_trim only releases free heap pages.
        unsafe { libc::malloc_trim(0) };
        for (_, prog) in ebpf.programs() {
            if let Ok(info) = prog.info() {
                live.prog_ids.push(info.id());
            }
        }
        let missing = |name: &str| {
            ProbeError::new(
                ProbeErrorKind::Unsupported,
                format!("BPF object has no map {name}"),
            )
        };
        let ring = ebpf.take_map("events").ok_or_else(|| missing("events"))?;
        live.ring = Some(RingBuf::try_from(ring).map_err(|e| io_err("ring buffer", e))?);
        let drops = ebpf.take_map("drops").ok_or_else(|| missing("drops"))?;
        live.drops = Some(PerCpuArray::try_from(drops).map_err(|e| io_err("drop counters", e))?);
        if !opts.kernel_aggs.is_empty() {
            let totals = ebpf
                .take_map("kagg_totals")
                .ok_or_else(|| missing("kagg_totals"))?;
            live.kagg_totals =
                Some(PerCpuHashMap::try_from(totals).map_err(|e| io_err("kagg_totals", e))?);
            let drops = ebpf
                .take_map("kagg_drops")
                .ok_or_else(|| missing("kagg_drops"))?;
            live.kagg_drops =
                Some(PerCpuArray::try_from(drops).map_err(|e| io_err("kagg_drops", e))?);
        }
        live.ebpf = Some(ebpf);
        Ok(live)
    }

    /// The hooks the programs attached to, e.g. `tp_btf/net_dev_queue`.
    pub fn hooks(&self) -> &[String] {
        &self.hooks
    }

    fn drain(&mut self, f: &mut dyn FnMut(&[u8])) -> usize {
        let Some(ring) = self.ring.as_mut() else {
            return 0;
        };
        let mut n = 0;
        while n < self.max_per_poll {
            let Some(item) = ring.next() else { break };
            f(&item);
            n += 1;
        }
        n
    }
}

impl Source for LiveSource {
    fn clock(&self) -> Clock {
        Clock::Monotonic
    }
    fn poll(&mut self, timeout: Duration, f: &mut dyn FnMut(&[u8])) -> Result<Poll, ProbeError> {
        if self.drain(f) > 0 {
            return Ok(Poll::More);
        }
        match &self.ring {
            Some(ring) => {
                let mut pfd = libc::pollfd {
                    fd: ring.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                };
                let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
                // SAFETY: one valid pollfd for the duration of the call.
                let r = unsafe { libc::poll(&mut pfd, 1, ms) };
                if r < 0 {
                    let e = std::io::Error::last_os_error();
                    if e.kind() != std::io::ErrorKind::Interrupted {
                        return Err(ProbeError::new(
                            ProbeErrorKind::Io,
                            format!("waiting for events: {e}"),
                        ));
                    }
                }
            }
            None => std::thread::sleep(timeout),
        }
        self.drain(f);
        Ok(Poll::More)
    }

    fn drops(&mut self) -> Vec<(u32, u64)> {
        per_cpu_counts(self.drops.as_ref())
    }

    fn wall_offset_ns(&self) -> i64 {
        self.wall_offset_ns
    }

    fn kernel_agg_totals(&mut self, f: &mut dyn FnMut(&rdtrace_record::KernelAggKey, i64)) {
        let Some(map) = &self.kagg_totals else {
            return;
        };
        for (k, values) in map.iter().flatten() {
            let total = values.iter().fold(0i64, |t, v| t.wrapping_add(*v));
            let key = rdtrace_record::KernelAggKey {
                action: k.action,
                ints: k.ints,
                chars: k.chars,
            };
            f(&key, total);
        }
    }

    fn kernel_agg_drops(&mut self) -> Vec<(u32, u64)> {
        per_cpu_counts(self.kagg_drops.as_ref())
    }

    fn program_ids(&self) -> Vec<u32> {
        self.prog_ids.clone()
    }

    /// Unloads the programs (detaching them); what is already in the ring
    /// buffer can still be drained.
    fn stop(&mut self) {
        self.silence_tracepoints();
        self.tp_links.clear();
        self.ebpf = None;
    }
}

impl LiveSource {
    /// Makes the tracepoint programs return at once (their probes leave
    /// `tp_probes`), so that nothing fires while they are detached, which
    /// takes a while.
    fn silence_tracepoints(&mut self) {
        if let Some(map) = self.ebpf.as_mut().and_then(|e| e.map_mut("tp_probes")) {
            if let Ok(mut tp) = BpfHashMap::<&mut MapData, u32, TpProbe>::try_from(map) {
                let keys: Vec<u32> = tp.keys().filter_map(Result::ok).collect();
                for k in keys {
                    let _ = tp.remove(&k);
                }
            }
        }
        // And the raw hooks' tables.
        let Some(ebpf) = self.ebpf.as_mut() else {
            return;
        };
        for (map, keys) in &self.tables {
            let Some(m) = ebpf.map_mut(map) else { continue };
            let Ok(mut a) = Array::<&mut MapData, [u32; 4]>::try_from(m) else {
                continue;
            };
            for &k in keys {
                let _ = a.set(k, [0u32; 4], 0);
            }
        }
    }
}

/// Loads and attaches the program for a raw tracepoint hook, preferring
/// tp_btf and falling back to raw_tp. Returns the hook's name.
fn attach_raw(
    ebpf: &mut Ebpf,
    btf: &Btf,
    (tracepoint, btf_prog, raw_prog): (&str, &str, &str),
    prefer_btf: bool,
) -> Result<String, ProbeError> {
    let mut btf_error = None;
    if prefer_btf {
        let name = format!("tp_btf/{tracepoint}");
        let prog: &mut BtfTracePoint = program(ebpf, btf_prog)?;
        match prog
            .load(tracepoint, btf)
            .and_then(|()| prog.attach().map(|_| ()))
        {
            Ok(()) => return Ok(name),
            Err(e) => {
                let err = program_error(&name, &e);
                if err.kind == ProbeErrorKind::Permission {
                    return Err(err);
                }
                btf_error = Some(err);
            }
        }
    }
    let name = format!("raw_tp/{tracepoint}");
    let prog: &mut RawTracePoint = program(ebpf, raw_prog)?;
    match prog
        .load()
        .and_then(|()| prog.attach(tracepoint).map(|_| ()))
    {
        Ok(()) => Ok(name),
        // A verifier log of the preferred program says more than the fallback's.
        Err(e) => Err(match btf_error {
            Some(first) if first.kind == ProbeErrorKind::Verifier => first,
            _ => program_error(&name, &e),
        }),
    }
}

/// Loads and attaches the `tp_btf` program `prog` (no raw_tp twin: the
/// task providers read typed kernel structs). Returns the hook's name.
fn attach_btf(
    ebpf: &mut Ebpf,
    btf: &Btf,
    tracepoint: &str,
    prog: &str,
) -> Result<String, ProbeError> {
    let name = format!("tp_btf/{tracepoint}");
    let p: &mut BtfTracePoint = program(ebpf, prog)?;
    p.load(tracepoint, btf)
        .and_then(|()| p.attach().map(|_| ()))
        .map_err(|e| program_error(&name, &e))?;
    Ok(name)
}

/// The object's map `name` (an error if the object lacks it).
fn object_map<'a>(ebpf: &'a mut Ebpf, name: &str) -> Result<&'a mut aya::maps::Map, ProbeError> {
    ebpf.map_mut(name).ok_or_else(|| {
        ProbeError::new(
            ProbeErrorKind::Unsupported,
            format!("BPF object has no map {name}"),
        )
    })
}

/// The in-kernel predicates, before any probe fires.
fn set_filters(
    ebpf: &mut Ebpf,
    filters: &[(u32, crate::event::ProbeFilter)],
) -> Result<(), ProbeError> {
    if filters.is_empty() {
        return Ok(());
    }
    let (low, high): (Vec<_>, Vec<_>) = filters
        .iter()
        .partition(|(probe, _)| *probe < crate::event::LOW_PROBES);
    let map = object_map(ebpf, "probe_filters")?;
    let mut m: BpfHashMap<&mut MapData, u32, crate::event::ProbeFilter> =
        BpfHashMap::try_from(map).map_err(|e| io_err("probe_filters", e))?;
    for (probe, f) in high {
        m.insert(probe, f, 0)
            .map_err(|e| io_err("probe_filters", e))?;
    }
    let map = object_map(ebpf, "low_probe_filters")?;
    let mut m: Array<&mut MapData, crate::event::ProbeFilter> =
        Array::try_from(map).map_err(|e| io_err("low_probe_filters", e))?;
    for (probe, f) in low {
        m.set(probe, f, 0)
            .map_err(|e| io_err("low_probe_filters", e))?;
    }
    Ok(())
}

/// A per-CPU counter's values, (cpu, count).
fn per_cpu_counts(map: Option<&PerCpuArray<MapData, u64>>) -> Vec<(u32, u64)> {
    let Some(map) = map else {
        return Vec::new();
    };
    match map.get(&0, 0) {
        Ok(values) => values
            .iter()
            .enumerate()
            .map(|(cpu, &n)| (cpu as u32, n))
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// The kernel aggregations' plans, before any probe fires.
fn set_kernel_aggs(
    ebpf: &mut Ebpf,
    plans: &[(u32, crate::event::KaggPlan)],
) -> Result<(), ProbeError> {
    if plans.is_empty() {
        return Ok(());
    }
    let map = object_map(ebpf, "kagg_plans")?;
    let mut m: Array<&mut MapData, crate::event::KaggPlan> =
        Array::try_from(map).map_err(|e| io_err("kagg_plans", e))?;
    for (probe, p) in plans {
        m.set(*probe, p, 0).map_err(|e| io_err("kagg_plans", e))?;
    }
    Ok(())
}

/// `curcpu->cpu_chip` of every CPU: its physical package, from sysfs.
fn set_cpu_chips(ebpf: &mut Ebpf) -> Result<(), ProbeError> {
    let map = object_map(ebpf, "cpu_chips")?;
    let mut chips: aya::maps::Array<&mut MapData, i32> =
        aya::maps::Array::try_from(map).map_err(|e| io_err("cpu_chips", e))?;
    for cpu in 0..chips.len().min(1024) {
        let path = format!("/sys/devices/system/cpu/cpu{cpu}/topology/physical_package_id");
        let Some(chip) = std::fs::read_to_string(path)
            .ok()
            .and_then(|t| t.trim().parse::<i32>().ok())
        else {
            continue;
        };
        chips
            .set(cpu, chip, 0)
            .map_err(|e| io_err("cpu_chips", e))?;
    }
    Ok(())
}

/// Attaches program `prog` (loaded on first use) to the tracefs tracepoint
/// `category:name` with the probe id as its BPF cookie, and records the
/// probe's flags in `tp_probes`. Returns the hook's name.
fn attach_tracepoint(
    ebpf: &mut Ebpf,
    loaded: &mut Vec<&'static str>,
    links: &mut Vec<crate::tp_attach::TracepointLink>,
    (category, name, prog_name, probe, flags): (&str, &str, &'static str, u32, u32),
) -> Result<String, ProbeError> {
    let hook = format!("tracepoint/{category}/{name}");
    let event_id = crate::tracefs::event_id(category, name)?;
    {
        let map = ebpf.map_mut("tp_probes").ok_or_else(|| {
            ProbeError::new(
                ProbeErrorKind::Unsupported,
                "BPF object has no map tp_probes",
            )
        })?;
        let mut tp: BpfHashMap<&mut MapData, u32, TpProbe> =
            BpfHashMap::try_from(map).map_err(|e| io_err("tp_probes", e))?;
        tp.insert(probe, TpProbe { probe, flags }, 0)
            .map_err(|e| io_err("tp_probes", e))?;
    }
    let prog: &mut TracePoint = program(ebpf, prog_name)?;
    if !loaded.contains(&prog_name) {
        prog.load().map_err(|e| program_error(&hook, &e))?;
        loaded.push(prog_name);
    }
    let fd = prog.fd().map_err(|e| program_error(&hook, &e))?.as_fd();
    let link = crate::tp_attach::attach(fd, event_id, u64::from(probe)).map_err(|e| {
        match e.raw_os_error() {
            Some(libc::EPERM) | Some(libc::EACCES) => ProbeError::new(
                ProbeErrorKind::Permission,
                permission_message(&format!("attaching {hook}")),
            ),
            _ => ProbeError::new(
                ProbeErrorKind::Attach,
                format!("cannot attach to {hook}: {e}"),
            ),
        }
    })?;
    links.push(link);
    Ok(hook)
}

/// Fills a `Hook::RawTable`'s array map.
fn fill_table(ebpf: &mut Ebpf, map: &str, entries: &[(u32, [u32; 4])]) -> Result<(), ProbeError> {
    let m = ebpf.map_mut(map).ok_or_else(|| {
        ProbeError::new(
            ProbeErrorKind::Unsupported,
            format!("BPF object has no map {map}"),
        )
    })?;
    let mut a: Array<&mut MapData, [u32; 4]> = Array::try_from(m).map_err(|e| io_err(map, e))?;
    for (key, value) in entries {
        a.set(*key, *value, 0).map_err(|e| io_err(map, e))?;
    }
    Ok(())
}

/// Hands every probe's capture plan to the programs (`capture_plans`).
fn set_capture_plans(ebpf: &mut Ebpf, plans: &[(u32, CapturePlanMap)]) -> Result<(), ProbeError> {
    if plans.is_empty() {
        return Ok(());
    }
    let map = ebpf.map_mut("capture_plans").ok_or_else(|| {
        ProbeError::new(
            ProbeErrorKind::Unsupported,
            "BPF object has no map capture_plans",
        )
    })?;
    let mut m: BpfHashMap<&mut MapData, u32, CapturePlanMap> =
        BpfHashMap::try_from(map).map_err(|e| io_err("capture_plans", e))?;
    for (probe, plan) in plans {
        m.insert(probe, plan, 0)
            .map_err(|e| io_err("capture_plans", e))?;
    }
    Ok(())
}

/// Perf events carry no BPF cookie in aya 0.14: the program tells probes
/// apart by their sample period, so probes of equal intervals get periods
/// 1 ns apart (probes in order: the first keeps its interval).
fn distinct_periods(probes: &[(u32, u64)]) -> Vec<(u32, u64)> {
    let mut used = std::collections::HashSet::new();
    probes
        .iter()
        .map(|&(id, ns)| {
            let mut period = ns.max(1);
            while !used.insert(period) {
                period += 1;
            }
            (id, period)
        })
        .collect()
}

/// Room in the `profile_ids` map (net.bpf.c).
const MAX_PROFILE_PROBES: usize = 256;

/// Loads the perf_event program and attaches it to a cpu-clock event per
/// profile probe on every online CPU. Returns the hook's name.
fn attach_profile(
    ebpf: &mut Ebpf,
    probes: &[(u32, u64)],
    flags: &dyn Fn(u32) -> u32,
) -> Result<String, ProbeError> {
    let name = "perf_event/cpu-clock";
    if probes.len() > MAX_PROFILE_PROBES {
        return Err(ProbeError::new(
            ProbeErrorKind::Invalid,
            format!(
                "{} profile probes enabled; rdtrace supports {MAX_PROFILE_PROBES} at most",
                probes.len()
            ),
        ));
    }
    let periods = distinct_periods(probes);
    if let Some(&(_, p)) = periods.iter().find(|&&(_, p)| p >= 1 << 63) {
        return Err(ProbeError::new(
            ProbeErrorKind::Invalid,
            format!("profile interval of {p} ns is too long for a perf event"),
        ));
    }
    {
        let map = ebpf.map_mut("profile_ids").ok_or_else(|| {
            ProbeError::new(
                ProbeErrorKind::Unsupported,
                "BPF object has no map profile_ids",
            )
        })?;
        let mut ids: BpfHashMap<_, u64, u32> =
            BpfHashMap::try_from(map).map_err(|e| io_err("profile probe map", e))?;
        for &(id, period) in &periods {
            ids.insert(period, id, 0)
                .map_err(|e| io_err("profile probe map", e))?;
        }
    }
    {
        let map = ebpf.map_mut("profile_stacks").ok_or_else(|| {
            ProbeError::new(
                ProbeErrorKind::Unsupported,
                "BPF object has no map profile_stacks",
            )
        })?;
        let mut stacks: BpfHashMap<_, u32, u32> =
            BpfHashMap::try_from(map).map_err(|e| io_err("profile stack map", e))?;
        for &(id, _) in probes {
            let f = flags(id) & (crate::event::KSTACK | crate::event::USTACK);
            if f != 0 {
                stacks
                    .insert(id, f, 0)
                    .map_err(|e| io_err("profile stack map", e))?;
            }
        }
    }
    let cpus = aya::util::online_cpus().map_err(|(path, e)| {
        ProbeError::new(
            ProbeErrorKind::Io,
            format!("cannot read the online CPUs ({path}): {e}"),
        )
    })?;
    let prog: &mut PerfEvent = program(ebpf, "profile")?;
    prog.load().map_err(|e| program_error(name, &e))?;
    for &(_, period) in &periods {
        for &cpu in &cpus {
            prog.attach(
                PerfEventConfig::Software(SoftwareEvent::CpuClock),
                PerfEventScope::AllProcessesOneCpu { cpu },
                SamplePolicy::Period(period),
                false,
            )
            .map_err(|e| perf_error(cpu, &e))?;
        }
    }
    Ok(name.to_string())
}

/// perf_event_open or the attach failed for `cpu`.
fn perf_error(cpu: u32, e: &ProgramError) -> ProbeError {
    let what = format!("cannot sample the CPU clock on CPU {cpu} for profile probes");
    match os_error(e) {
        Some(libc::EPERM) | Some(libc::EACCES) => {
            let paranoid = std::fs::read_to_string("/proc/sys/kernel/perf_event_paranoid")
                .map(|s| format!(" (kernel.perf_event_paranoid is {})", s.trim()))
                .unwrap_or_default();
            ProbeError::new(
                ProbeErrorKind::Permission,
                format!("{what}: permission denied; system-wide sampling needs root or CAP_PERFMON{paranoid}"),
            )
        }
        Some(libc::EMFILE) | Some(libc::ENFILE) => ProbeError::new(
            ProbeErrorKind::Io,
            format!("{what}: too many open files (one perf event per profile probe and CPU; raise `ulimit -n`)"),
        ),
        Some(libc::ENOENT) | Some(libc::ENODEV) | Some(libc::EOPNOTSUPP) => ProbeError::new(
            ProbeErrorKind::Unsupported,
            format!("{what}: this kernel has no cpu-clock perf event ({})", chain(e)),
        ),
        _ => ProbeError::new(ProbeErrorKind::Attach, format!("{what}: {}", chain(e))),
    }
}

fn program<'a, T>(ebpf: &'a mut Ebpf, name: &str) -> Result<&'a mut T, ProbeError>
where
    &'a mut T: TryFrom<&'a mut aya::programs::Program, Error = ProgramError>,
{
    let p = ebpf.program_mut(name).ok_or_else(|| {
        ProbeError::new(
            ProbeErrorKind::Unsupported,
            format!("BPF object has no program {name}"),
        )
    })?;
    p.try_into().map_err(|e: ProgramError| {
        ProbeError::new(ProbeErrorKind::Unsupported, format!("program {name}: {e}"))
    })
}

/// Rounds a requested buffer size to what BPF ring buffers accept.
fn ring_size(bufsize: usize) -> Result<u32, ProbeError> {
    if bufsize == 0 {
        return Err(ProbeError::new(
            ProbeErrorKind::Invalid,
            "buffer size must not be 0",
        ));
    }
    // SAFETY: sysconf has no memory-safety preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(4096) as usize;
    let size = bufsize
        .max(page)
        .checked_next_power_of_two()
        .filter(|&s| s <= 1 << 30);
    size.map(|s| s as u32).ok_or_else(|| {
        ProbeError::new(
            ProbeErrorKind::Invalid,
            format!("buffer size {bufsize} is too large (max 1 GiB)"),
        )
    })
}

/// CLOCK_REALTIME − CLOCK_MONOTONIC (bpf_ktime_get_ns), from the closest of
/// a few samples.
fn wall_offset_ns() -> i64 {
    fn now(clock: libc::clockid_t) -> i64 {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: valid out pointer.
        unsafe { libc::clock_gettime(clock, &mut ts) };
        ts.tv_sec * 1_000_000_000 + ts.tv_nsec
    }
    (0..5)
        .map(|_| {
            let m0 = now(libc::CLOCK_MONOTONIC);
            let r = now(libc::CLOCK_REALTIME);
            let m1 = now(libc::CLOCK_MONOTONIC);
            (m1 - m0, r - (m0 + (m1 - m0) / 2))
        })
        .min_by_key(|&(gap, _)| gap)
        .map(|(_, off)| off)
        .unwrap_or(0)
}

/// The first OS error in an error's source chain.
fn os_error(e: &(dyn std::error::Error + 'static)) -> Option<i32> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            if let Some(code) = io.raw_os_error() {
                return Some(code);
            }
        }
        cur = err.source();
    }
    None
}

fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut msg = e.to_string();
    let mut cur = e.source();
    while let Some(err) = cur {
        let s = err.to_string();
        if !msg.contains(&s) {
            msg += &format!(": {s}");
        }
        cur = err.source();
    }
    msg
}

fn permission_message(what: &str) -> String {
    format!("{what}: permission denied; rdtrace needs root (or CAP_BPF and CAP_PERFMON) to trace the kernel")
}

fn load_error(what: &str, e: &EbpfError) -> ProbeError {
    if let EbpfError::ProgramError(p) = e {
        return program_error(what, p);
    }
    match os_error(e) {
        Some(libc::EPERM) | Some(libc::EACCES) => {
            ProbeError::new(ProbeErrorKind::Permission, permission_message(what))
        }
        Some(libc::ENOSYS) => ProbeError::new(
            ProbeErrorKind::Unsupported,
            format!("{what}: this kernel has no BPF support (bpf(2): ENOSYS)"),
        ),
        _ => ProbeError::new(ProbeErrorKind::Unsupported, format!("{what}: {}", chain(e))),
    }
}

fn program_error(hook: &str, e: &ProgramError) -> ProbeError {
    if let ProgramError::LoadError {
        io_error,
        verifier_log,
    } = e
    {
        return rejected(hook, io_error, &verifier_log.to_string());
    }
    match os_error(e) {
        Some(libc::EPERM) | Some(libc::EACCES) => ProbeError::new(
            ProbeErrorKind::Permission,
            permission_message(&format!("attaching {hook}")),
        ),
        _ => ProbeError::new(
            ProbeErrorKind::Attach,
            format!("cannot attach to {hook}: {}", chain(e)),
        ),
    }
}

/// BPF_PROG_LOAD failed: a verifier rejection (with its log's last lines),
/// or missing privileges when the kernel gave no log.
fn rejected(hook: &str, io_error: &std::io::Error, log: &str) -> ProbeError {
    let lines: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
    if lines.is_empty()
        && matches!(
            io_error.raw_os_error(),
            Some(libc::EPERM) | Some(libc::EACCES)
        )
    {
        return ProbeError::new(
            ProbeErrorKind::Permission,
            permission_message(&format!("loading {hook}")),
        );
    }
    let tail = lines[lines.len().saturating_sub(VERIFIER_TAIL)..].join("\n");
    ProbeError::new(
        ProbeErrorKind::Verifier,
        format!("the kernel's BPF verifier rejected the program for {hook} ({io_error}); verifier log (last lines):\n{tail}"),
    )
}

fn io_err(what: &str, e: impl std::fmt::Display) -> ProbeError {
    ProbeError::new(ProbeErrorKind::Io, format!("{what}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::{net, tcp};

    #[test]
    fn each_hook_is_attached_once_and_only_when_asked_for() {
        use crate::catalog::*;
        assert_eq!(
            needed_hooks(&[IP_RECEIVE, UDP_RECEIVE], true, &|_| 0),
            [net::RECEIVE]
        );
        assert_eq!(
            needed_hooks(&[UDP_SEND, TCP_SEND, TCP_RECEIVE], false, &|_| 0),
            [net::SEND, net::RECEIVE]
        );
        assert_eq!(
            needed_hooks(&[DTRACE_BEGIN, TCP_STATE_CHANGE], false, &|_| 0),
            [net::SEND, net::RECEIVE, tcp::STATE_CHANGE]
        );
        assert!(needed_hooks(&[DTRACE_BEGIN, DTRACE_END], true, &|_| 0).is_empty());
    }

    #[test]
    fn ring_sizes_are_powers_of_two() {
        assert_eq!(ring_size(1).unwrap(), 4096);
        assert_eq!(ring_size(4 << 20).unwrap(), 4 << 20);
        assert_eq!(ring_size((4 << 20) + 1).unwrap(), 8 << 20);
        assert_eq!(ring_size(0).unwrap_err().kind, ProbeErrorKind::Invalid);
        assert_eq!(
            ring_size(usize::MAX).unwrap_err().kind,
            ProbeErrorKind::Invalid
        );
    }

    #[test]
    fn wall_offset_is_plausible() {
        // Realtime is decades past the epoch; monotonic starts near boot.
        assert!(wall_offset_ns() > 1_000_000_000 * 1_000_000_000);
    }

    #[test]
    fn no_kernel_probes_needs_no_bpf() {
        let opts = LiveOptions {
            probes: vec![crate::DTRACE_BEGIN, crate::DTRACE_END],
            ..Default::default()
        };
        let mut src = LiveSource::open(&opts).unwrap();
        assert!(src.program_ids().is_empty());
        let mut n = 0;
        assert_eq!(
            src.poll(Duration::from_millis(1), &mut |_| n += 1).unwrap(),
            Poll::More
        );
        assert_eq!(n, 0);
    }

    #[test]
    fn verifier_rejections_show_the_log_tail() {
        let log: String = (1..=40).map(|i| format!("line {i}\n")).collect();
        let e = rejected(
            "tp_btf/net_dev_queue",
            &std::io::Error::from_raw_os_error(libc::EACCES),
            &log,
        );
        assert_eq!(e.kind, ProbeErrorKind::Verifier);
        assert!(e.message.contains("tp_btf/net_dev_queue"), "{e}");
        assert!(e.message.ends_with("line 40"), "{e}");
        assert!(
            e.message.contains("line 16\n") && !e.message.contains("line 15\n"),
            "{e}"
        );
        let e = rejected(
            "raw_tp/x",
            &std::io::Error::from_raw_os_error(libc::EPERM),
            "",
        );
        assert_eq!(e.kind, ProbeErrorKind::Permission);
        assert!(e.message.contains("root"), "{e}");
    }

    #[test]
    fn equal_profile_intervals_get_distinct_periods() {
        assert_eq!(
            distinct_periods(&[(20, 100), (21, 100), (22, 101), (23, 0), (24, 100)]),
            [(20, 100), (21, 101), (22, 102), (23, 1), (24, 103)]
        );
    }

    #[test]
    fn perf_event_failures_say_why() {
        let failed = |errno| {
            perf_error(
                1,
                &ProgramError::SyscallError(aya::sys::SyscallError {
                    call: "perf_event_open",
                    io_error: std::io::Error::from_raw_os_error(errno),
                }),
            )
        };
        let e = failed(libc::EACCES);
        assert_eq!(e.kind, ProbeErrorKind::Permission);
        assert!(
            e.message.contains("CPU 1") && e.message.contains("CAP_PERFMON"),
            "{e}"
        );
        assert!(e.message.contains("perf_event_paranoid"), "{e}");
        let e = failed(libc::ENOENT);
        assert_eq!(e.kind, ProbeErrorKind::Unsupported);
        assert!(e.message.contains("no cpu-clock perf event"), "{e}");
        assert!(failed(libc::EMFILE).message.contains("ulimit -n"));
    }

    #[test]
    fn current_netns_is_an_inode() {
        assert!(current_netns().unwrap() > 0);
    }

    #[test]
    fn unknown_probe_is_rejected() {
        let opts = LiveOptions {
            probes: vec![999],
            ..Default::default()
        };
        assert_eq!(
            LiveSource::open(&opts).err().unwrap().kind,
            ProbeErrorKind::Invalid
        );
    }
}
