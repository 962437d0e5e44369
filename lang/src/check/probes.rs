//! Probe descriptions: macro substitution, `provider:module:function:name`
//! field splitting (missing leading fields and empty fields are wildcards),
//! glob matching against the catalog, and the synthesised `tick-N` /
//! `profile-N` probes of the profile provider.

use super::{Checker, SynthProbe};
use crate::ast;
use crate::catalog::{ParamKind, ParamProbe, ProbeDef, ProbeKind};
use crate::diag::Diagnostic;
use crate::span::Span;
use crate::typed::{EnabledProbe, ProbeIndex};

/// The four fields of a description; missing leading fields are empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fields {
    pub provider: String,
    pub module: String,
    pub function: String,
    pub name: String,
}

impl Fields {
    pub fn split(text: &str) -> Option<Fields> {
        let parts: Vec<&str> = text.split(':').collect();
        if parts.len() > 4 {
            return None;
        }
        let mut f = vec![""; 4 - parts.len()];
        f.extend(parts);
        Some(Fields {
            provider: f[0].to_string(),
            module: f[1].to_string(),
            function: f[2].to_string(),
            name: f[3].to_string(),
        })
    }

    fn full(&self) -> String {
        format!(
            "{}:{}:{}:{}",
            self.provider, self.module, self.function, self.name
        )
    }

    fn matches(&self, p: &ProbeDef) -> bool {
        glob(&self.provider, &p.provider)
            && glob(&self.module, &p.module)
            && glob(&self.function, &p.function)
            && glob(&self.name, &p.name)
    }
}

/// Whether a program whose clauses have probe descriptions `descs` (as
/// written) may enable the probe named `probe` (provider, module,
/// function, name): a description that names it, or one with a macro
/// (`$1`, `$target`), whose expansion is not known yet.
pub fn may_enable(descs: &[&str], probe: &[&str; 4]) -> bool {
    descs.iter().any(|d| {
        d.contains('$')
            || Fields::split(d.trim()).is_some_and(|f| {
                glob(&f.provider, probe[0])
                    && glob(&f.module, probe[1])
                    && glob(&f.function, probe[2])
                    && glob(&f.name, probe[3])
            })
    })
}

/// dtrace's `gmatch`: `*`, `?`, `[set]` with ranges and `!` negation, `\`
/// quoting. An empty pattern matches anything.
pub(crate) fn glob(pat: &str, s: &str) -> bool {
    pat.is_empty() || gmatch(pat.as_bytes(), s.as_bytes())
}

fn gmatch(p: &[u8], s: &[u8]) -> bool {
    // Iterative with one backtrack point for the last `*`: linear-ish, no
    // exponential blowup on patterns like `*a*a*a*b`.
    let (mut pi, mut si) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() {
            match p[pi] {
                b'*' => {
                    star = Some((pi + 1, si));
                    pi += 1;
                    continue;
                }
                b'?' => {
                    pi += 1;
                    si += 1;
                    continue;
                }
                b'[' => {
                    if let Some((ok, next)) = class(&p[pi..], s[si]) {
                        if ok {
                            pi += next;
                            si += 1;
                            continue;
                        }
                    } else if s[si] == b'[' {
                        // An unterminated `[` matches itself.
                        pi += 1;
                        si += 1;
                        continue;
                    }
                }
                b'\\' if pi + 1 < p.len() => {
                    if p[pi + 1] == s[si] {
                        pi += 2;
                        si += 1;
                        continue;
                    }
                }
                c => {
                    if c == s[si] {
                        pi += 1;
                        si += 1;
                        continue;
                    }
                }
            }
        }
        match star {
            Some((sp, ss)) => {
                pi = sp;
                si = ss + 1;
                star = Some((sp, ss + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

/// Matches `c` against the class at the start of `p` (`[...]`). Returns
/// whether it matched and the class's length, or None if unterminated.
fn class(p: &[u8], c: u8) -> Option<(bool, usize)> {
    let mut i = 1;
    let negate = matches!(p.get(i), Some(b'!') | Some(b'^'));
    if negate {
        i += 1;
    }
    let mut hit = false;
    let mut first = true;
    while i < p.len() {
        if p[i] == b']' && !first {
            return Some((hit != negate, i + 1));
        }
        first = false;
        let lo = p[i];
        if i + 2 < p.len() && p[i + 1] == b'-' && p[i + 2] != b']' {
            if lo <= c && c <= p[i + 2] {
                hit = true;
            }
            i += 3;
        } else {
            if lo == c {
                hit = true;
            }
            i += 1;
        }
    }
    None
}

/// Providers whose probes need kernel or process instrumentation rdtrace
/// does not do.
/// illumos providers whose probes Linux has no tracepoints for: why, and
/// the nearest rdtrace probes, for probe `name` (empty: the provider).
fn counter_provider(provider: &str, name: &str) -> Option<(&'static str, &'static str)> {
    let nearest = match (provider, name) {
        ("mib", "tcpActiveOpens") => "tcp:::connect-request",
        ("mib", "tcpPassiveOpens") => "tcp:::accept-established",
        ("mib", "tcpAttemptFails") => "tcp:::connect-refused",
        ("mib", "tcpOutRsts") => "tcp:::send with args[4]->tcp_flags & TH_RST",
        ("mib", n) if n.starts_with("tcpIn") => "tcp:::receive",
        ("mib", n) if n.starts_with("tcpOut") || n.starts_with("tcpRetrans") => "tcp:::send",
        ("mib", n) if n.starts_with("udpIn") => "udp:::receive",
        ("mib", n) if n.starts_with("udpOut") => "udp:::send",
        ("mib", n) if n.starts_with("ipIn") || n.starts_with("ipv6In") => "ip:::receive",
        ("mib", n) if n.starts_with("ipOut") || n.starts_with("ipv6Out") => "ip:::send",
        ("mib", _) => "the tcp, udp and ip providers",
        ("sysinfo", "readch" | "sysread") => "syscall::read:return",
        ("sysinfo", "writech" | "syswrite") => "syscall::write:return",
        ("sysinfo", "pswitch") => "sched:::off-cpu",
        ("sysinfo", "sysfork" | "sysvfork") => "proc:::create",
        ("sysinfo", "sysexec") => "proc:::exec-success",
        ("sysinfo", "syscall") => "syscall:::entry",
        ("sysinfo", _) => "the syscall, sched and proc providers",
        ("vminfo", "pgfault" | "as_fault" | "maj_fault") => "sdt:exceptions::page_fault_user",
        ("vminfo", _) => "the sdt provider's kmem, vmscan and exceptions tracepoints",
        ("lockstat", _) => "sched:::off-cpu and sched:::sleep (threads that block); sdt:lock:: where the kernel has lock tracepoints",
        _ => return None,
    };
    let why = match provider {
        "mib" => "Linux keeps its SNMP counters without hooks rdtrace can attach to",
        "sysinfo" => "Linux has no hooks for illumos's per-CPU statistics",
        "vminfo" => "Linux has no hooks for illumos's virtual memory statistics",
        _ => "Linux's lock hooks need kprobes",
    };
    Some((why, nearest))
}

fn unsupported_provider(provider: &str) -> Option<&'static str> {
    let pid_like = provider
        .strip_prefix("pid")
        .is_some_and(|r| r.bytes().all(|b| b.is_ascii_digit()));
    if pid_like {
        return Some("the pid provider");
    }
    match provider {
        "fbt" => Some("the fbt provider"),
        "kinst" => Some("the kinst provider"),
        "fasttrap" => Some("the fasttrap provider"),
        "plockstat" => Some("the plockstat provider"),
        "cpc" => Some("the cpc provider"),
        _ => None,
    }
}

/// `tick-1s`, `profile-997`, `tick-10hz` → (the family, interval in ns),
/// for a name of one of the catalog's parametrised probe families whose
/// parameter is an interval. `Ok(None)` when the name is not of that form.
pub(crate) fn param_interval<'c>(
    families: &'c [ParamProbe],
    provider: &str,
    name: &str,
) -> Result<Option<(&'c ParamProbe, u64)>, String> {
    let Some((family, rest)) = families
        .iter()
        .filter(|f| provider.is_empty() || f.provider == provider)
        .find_map(|f| name.strip_prefix(f.prefix.as_str()).map(|r| (f, r)))
    else {
        return Ok(None);
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return Ok(None);
    }
    let n: u64 = rest[..digits]
        .parse()
        .map_err(|_| format!("interval in {name} is too large"))?;
    if n == 0 {
        return Err(format!("interval in {name} must be greater than zero"));
    }
    let unit = &rest[digits..];
    let ns = if unit.is_empty() || unit == "hz" {
        1_000_000_000 / n.min(1_000_000_000)
    } else {
        let per = crate::units::unit_ns(unit)
            .ok_or_else(|| format!("{name}: unknown time unit \"{unit}\""))?;
        n.checked_mul(per)
            .ok_or_else(|| format!("interval in {name} is too large"))?
    };
    // dtrace keeps intervals in an hrtime_t (signed 64-bit ns).
    if ns > i64::MAX as u64 {
        return Err(format!("interval in {name} is too large"));
    }
    // The profile provider's floor (illumos: profile_interval_min); faster
    // timers would only keep the consumer busy firing them.
    if ns < MIN_INTERVAL_NS {
        return Err(format!(
            "interval in {name} is below the minimum of 200us (5000hz)"
        ));
    }
    Ok(Some((family, ns)))
}

/// Shortest `tick-N`/`profile-N` interval, as dtrace's profile provider has.
const MIN_INTERVAL_NS: u64 = 200_000;

impl Checker<'_> {
    /// Matches every description of a clause; returns the indexes into
    /// `Program::probes` (each probe once, in order).
    pub(crate) fn clause_probes(&mut self, c: &ast::Clause) -> Vec<ProbeIndex> {
        let mut out: Vec<ProbeIndex> = Vec::new();
        for d in &c.probes {
            for id in self.match_desc(d) {
                let idx = self.enable(id);
                if !out.contains(&idx) {
                    out.push(idx);
                }
            }
        }
        out
    }

    /// The catalog (or synthesised) definition of an enabled probe.
    pub(crate) fn probe_def_of(&self, idx: ProbeIndex) -> ProbeDef {
        let id = self.program.probes[idx].id;
        self.catalog
            .probe(id)
            .cloned()
            .or_else(|| {
                self.synth
                    .iter()
                    .find(|s| s.def.id == id)
                    .map(|s| s.def.clone())
            })
            .expect("enabled probes come from the catalog or were synthesised")
    }

    fn enable(&mut self, id: u32) -> ProbeIndex {
        if let Some(&i) = self.enabled.get(&id) {
            return i;
        }
        let def = self
            .catalog
            .probe(id)
            .or_else(|| self.synth.iter().find(|s| s.def.id == id).map(|s| &s.def))
            .expect("matched probes exist");
        let e = EnabledProbe {
            id,
            provider: def.provider.clone(),
            module: def.module.clone(),
            function: def.function.clone(),
            name: def.name.clone(),
            kind: def.kind.clone(),
        };
        let i = self.program.probes.len();
        self.program.probes.push(e);
        self.enabled.insert(id, i);
        i
    }

    /// Probe IDs a description names; reports errors and returns none on
    /// failure.
    fn match_desc(&mut self, d: &ast::ProbeDesc) -> Vec<u32> {
        let Some(text) = self.substitute_macros(&d.text, d.span) else {
            return vec![];
        };
        let Some(f) = Fields::split(&text) else {
            self.error(
                Diagnostic::new(
                    format!("invalid probe description \"{text}\": too many fields"),
                    d.span,
                )
                .with_help("a probe description is provider:module:function:name"),
            );
            return vec![];
        };
        if let Some(what) = unsupported_provider(&f.provider) {
            self.error(
                Diagnostic::new(format!("{what} is not supported by rdtrace"), d.span)
                    .with_label("needs kernel instrumentation rdtrace does not do"),
            );
            return vec![];
        }
        if let Some((why, nearest)) = counter_provider(&f.provider, &f.name) {
            self.error(
                Diagnostic::new(
                    format!("the {} provider is not available in rdtrace", f.provider),
                    d.span,
                )
                .with_label(why)
                .with_help(format!("the nearest rdtrace probe: {nearest}")),
            );
            return vec![];
        }
        if f.module.is_empty() && f.function.is_empty() {
            match param_interval(&self.catalog.param_probes, &f.provider, &f.name) {
                Ok(Some((family, ns))) => {
                    let family = family.clone();
                    return vec![self.synth_param(&family, &f.name, ns)];
                }
                Ok(None) => {}
                Err(msg) => {
                    self.err(msg, d.span);
                    return vec![];
                }
            }
        }
        let matched: Vec<&ProbeDef> = self
            .catalog
            .probes
            .iter()
            .filter(|p| f.matches(p))
            .collect();
        if matched.is_empty() {
            if !self.opts.allow_zero_matches {
                let near = self.nearest_probe(&f);
                let help = match near {
                    Some(p) => format!("did you mean {p}?"),
                    None => {
                        "`rdtrace -l` lists the probes; -Z permits descriptions that match none"
                            .to_string()
                    }
                };
                self.error(
                    Diagnostic::new(
                        format!("probe description {} does not match any probes", f.full()),
                        d.span,
                    )
                    .with_label("no such probe")
                    .with_help(help),
                );
            }
            return vec![];
        }
        // A probe Linux cannot give (sched:::remain-cpu) is refused when a
        // description names only such probes; a wider one (sched:::)
        // matches the others.
        if matched.iter().all(|p| p.unavailable.is_some()) {
            let p = matched[0];
            let msg = p.unavailable.clone().unwrap_or_default();
            let label = format!("{}:{}:{}:{}", p.provider, p.module, p.function, p.name);
            self.error(Diagnostic::new(msg, d.span).with_label(label));
            return vec![];
        }
        matched
            .iter()
            .filter(|p| p.unavailable.is_none())
            .map(|p| p.id)
            .collect()
    }

    /// A description like `f` that names a probe: its misspelt function or
    /// name replaced by the nearest one of its provider's probes.
    fn nearest_probe(&self, f: &Fields) -> Option<String> {
        let plain = |s: &str| !s.is_empty() && !s.contains(['*', '?', '[']);
        let probes: Vec<&ProbeDef> = self
            .catalog
            .probes
            .iter()
            .filter(|p| {
                (f.provider.is_empty() || p.provider == f.provider) && p.unavailable.is_none()
            })
            .collect();
        let mut fixed = Fields {
            provider: f.provider.clone(),
            module: f.module.clone(),
            function: f.function.clone(),
            name: f.name.clone(),
        };
        if plain(&f.function) && !probes.iter().any(|p| p.function == f.function) {
            fixed.function =
                super::suggest::nearest(&f.function, probes.iter().map(|p| p.function.as_str()))?
                    .to_string();
        } else if plain(&f.name) {
            let same_fn: Vec<&&ProbeDef> = probes
                .iter()
                .filter(|p| f.function.is_empty() || p.function == f.function)
                .collect();
            fixed.name = super::suggest::nearest(&f.name, same_fn.iter().map(|p| p.name.as_str()))?
                .to_string();
        } else {
            return None;
        }
        Some(fixed.full())
    }

    /// The probe `name` of parametrised family `family`, made on first use.
    fn synth_param(&mut self, family: &ParamProbe, name: &str, interval_ns: u64) -> u32 {
        if let Some(s) = self.synth.iter().find(|s| s.def.name == name) {
            return s.def.id;
        }
        let id = self.next_synth_id;
        self.next_synth_id += 1;
        let kind = match family.kind {
            ParamKind::Tick => ProbeKind::Tick { interval_ns },
            ParamKind::Profile => ProbeKind::Profile {
                interval_ns,
                layout: family.layout,
            },
        };
        self.synth.push(SynthProbe {
            def: ProbeDef {
                id,
                provider: family.provider.clone(),
                module: String::new(),
                function: String::new(),
                name: name.to_string(),
                kind,
                args: vec![],
                unavailable: None,
            },
        });
        id
    }

    /// Replaces `$1`, `$$1`, `$target` in a probe description.
    fn substitute_macros(&mut self, text: &str, span: Span) -> Option<String> {
        if !text.contains('$') {
            return Some(text.to_string());
        }
        let mut out = String::new();
        let mut rest = text;
        while let Some(pos) = rest.find('$') {
            out.push_str(&rest[..pos]);
            let after = rest[pos + 1..].trim_start_matches('$');
            let len = after
                .bytes()
                .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
                .count();
            let name = &after[..len];
            match self.macro_text(name, true) {
                Ok(v) => out.push_str(&v),
                Err(msg) => {
                    self.err(msg, span);
                    return None;
                }
            }
            rest = &after[len..];
        }
        out.push_str(rest);
        Some(out)
    }

    /// The text of a macro variable (`1`, `target`, …). With `defaultargs`
    /// a missing argument is "" when wanted as a string, else "0".
    pub(crate) fn macro_text(&self, name: &str, as_string: bool) -> Result<String, String> {
        if let Ok(n) = name.parse::<usize>() {
            return match self.opts.macro_args.get(n) {
                Some(v) => Ok(v.clone()),
                None if self.default_args => Ok(if as_string { String::new() } else { "0".into() }),
                None => Err(format!("macro argument ${n} is not defined")),
            };
        }
        // $uid and $gid: the owner of /proc/self is the process's
        // effective uid and gid.
        let proc_self = || {
            use std::os::unix::fs::MetadataExt;
            std::fs::metadata("/proc/self")
                .map(|m| (m.uid(), m.gid()))
                .unwrap_or((0, 0))
        };
        match name {
            "target" => Ok("0".into()),
            "pid" => Ok(std::process::id().to_string()),
            "ppid" => Ok(std::os::unix::process::parent_id().to_string()),
            "uid" => Ok(proc_self().0.to_string()),
            "gid" => Ok(proc_self().1.to_string()),
            "" => Err("$ must be followed by a macro variable name".into()),
            other => Err(format!(
                "macro variable ${other} is not supported by rdtrace"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_patterns() {
        assert!(glob("", "send"));
        assert!(glob("s*", "send"));
        assert!(glob("*d", "send"));
        assert!(glob("s?nd", "send"));
        assert!(glob("[rs]end", "send"));
        assert!(glob("[a-s]end", "send"));
        assert!(!glob("[!s]end", "send"));
        assert!(glob("\\*", "*"));
        assert!(!glob("\\*", "a"));
        assert!(!glob("receive", "send"));
        assert!(glob("*a*a*b", "aaaaaaaaaaab"));
        assert!(!glob("*a*a*b", "aaaaaaaaaaaa"));
    }

    #[test]
    fn a_program_may_enable_what_its_descriptions_name_or_any_probe_with_a_macro() {
        let fork = ["sdt", "sched", "", "sched_process_fork"];
        for yes in [
            &["sdt:sched::sched_process_fork"][..],
            &["BEGIN", "sched_process_*"],
            &[":::"],
            &["sdt:::"],
            &["sdt:sched::"],
            &["sdt:$1::"],
            &["$1"],
        ] {
            assert!(may_enable(yes, &fork), "{yes:?}");
        }
        for no in [
            &["BEGIN", "END", "tick-1s"][..],
            &["tcp:::send"],
            &["sdt:sched::sched_switch"],
            &["syscall:::entry", "proc:::exec-success"],
            &[],
        ] {
            assert!(!may_enable(no, &fork), "{no:?}");
        }
    }

    #[test]
    fn fields_fill_from_the_right() {
        let f = Fields::split("read:entry").unwrap();
        assert_eq!(
            (f.provider.as_str(), f.function.as_str(), f.name.as_str()),
            ("", "read", "entry")
        );
        assert!(Fields::split("a:b:c:d:e").is_none());
    }

    fn family(provider: &str, prefix: &str, kind: ParamKind) -> ParamProbe {
        ParamProbe {
            provider: provider.into(),
            prefix: prefix.into(),
            kind,
            layout: 0,
        }
    }

    /// The profile provider's families, as rdtrace-probes registers them.
    fn tick_interval(name: &str) -> Result<Option<(bool, u64)>, String> {
        let families = [
            family("profile", "tick-", ParamKind::Tick),
            family("profile", "profile-", ParamKind::Profile),
        ];
        param_interval(&families, "", name)
            .map(|r| r.map(|(f, ns)| (f.kind == ParamKind::Tick, ns)))
    }

    #[test]
    fn families_come_from_the_catalog() {
        let families = [family("timer", "every-", ParamKind::Tick)];
        let (f, ns) = param_interval(&families, "", "every-2s").unwrap().unwrap();
        assert_eq!((f.provider.as_str(), ns), ("timer", 2_000_000_000));
        assert!(param_interval(&families, "timer", "every-1s")
            .unwrap()
            .is_some());
        assert_eq!(
            param_interval(&families, "profile", "every-1s")
                .unwrap()
                .map(|(_, n)| n),
            None
        );
        assert_eq!(
            param_interval(&[], "", "tick-1s").unwrap().map(|(_, n)| n),
            None
        );
    }

    #[test]
    fn tick_units() {
        assert_eq!(
            tick_interval("tick-1s").unwrap(),
            Some((true, 1_000_000_000))
        );
        assert_eq!(
            tick_interval("profile-997").unwrap(),
            Some((false, 1_000_000_000 / 997))
        );
        assert_eq!(
            tick_interval("tick-10hz").unwrap(),
            Some((true, 100_000_000))
        );
        assert_eq!(
            tick_interval("tick-5min").unwrap(),
            Some((true, 300_000_000_000))
        );
        assert!(tick_interval("tick-0s").is_err());
        assert!(tick_interval("tick-1ns").is_err());
        assert!(tick_interval("profile-5001").is_err());
        assert_eq!(
            tick_interval("profile-5000").unwrap(),
            Some((false, 200_000))
        );
        assert!(tick_interval("tick-1fortnight").is_err());
        assert_eq!(tick_interval("ticker").unwrap(), None);
    }
}
