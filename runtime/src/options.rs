//! dtrace(1) options (`-x name=value`, `#pragma D option name=value`):
//! which exist, which rdtrace implements, and how their values parse.

use std::time::Duration;

/// Options rdtrace implements, with their values resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub quiet: bool,
    /// How often buffers are drained and output is flushed.
    pub switchrate: Duration,
    /// How often drops are reported (dtrace's status interval).
    pub statusrate: Duration,
    /// How often the aggregations the kernel keeps are folded in while
    /// tracing (dtrace's `aggrate`; here 10hz by default, so that printa
    /// from a tick shows counts at most 100 ms old).
    pub aggrate: Duration,
    /// Ring buffer size in bytes.
    pub bufsize: usize,
    pub strsize: usize,
    pub dynvarsize: usize,
    /// Bytes of aggregation storage.
    pub aggsize: usize,
    /// aggsortkey, aggsortkeypos, aggsortpos, aggsortrev.
    pub aggsort: crate::firing::AggSort,
    pub destructive: bool,
    pub zdefs: bool,
    /// `netns=self|<inode>`: restrict network probes to one namespace.
    pub netns: Option<NetnsFilter>,
    /// Frames of `stack()` / `ustack()` without a count (dtrace: 20).
    pub stackframes: u32,
    pub ustackframes: u32,
    /// `-S`: keep each clause's Cranelift IR to show it.
    pub keep_ir: bool,
    /// `-F`: indent the prefix of entry and return probes.
    pub flowindent: bool,
    /// `stackformat=folded`: print stack aggregations as folded lines
    /// (`frame;frame;frame count`, outermost frame first) for flame graphs.
    pub folded_stacks: bool,
    /// `metrics=ADDR:PORT` (`--metrics`): serve the aggregations to
    /// Prometheus there.
    pub metrics: Option<std::net::SocketAddr>,
    /// `metriclabels=AGG:NAME,NAME…`: label names of an aggregation's keys
    /// (aggregation as the checker names it, `_` for `@`), in order set.
    pub metric_labels: Vec<(String, Vec<String>)>,
    /// `metricslinger=TIME`: keep serving the final values this long once
    /// tracing has ended on its own.
    pub metrics_linger: Duration,
    /// `oformat=json|xml|text`: structured output (FreeBSD dtrace's).
    pub oformat: crate::oformat::Oformat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetnsFilter {
    /// The namespace rdtrace itself runs in.
    SelfNs,
    Inode(u32),
}

impl Default for Options {
    fn default() -> Self {
        Options {
            quiet: false,
            switchrate: Duration::from_secs(1),
            statusrate: Duration::from_secs(1),
            aggrate: Duration::from_millis(100),
            bufsize: 4 << 20,
            strsize: 256,
            dynvarsize: 1 << 20,
            aggsize: crate::aggs::DEFAULT_AGGSIZE,
            aggsort: Default::default(),
            destructive: false,
            zdefs: false,
            netns: None,
            stackframes: 20,
            ustackframes: 20,
            folded_stacks: false,
            keep_ir: false,
            flowindent: false,
            metrics: None,
            metric_labels: Vec::new(),
            metrics_linger: Duration::ZERO,
            oformat: Default::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptionError {
    /// Not a dtrace option at all.
    Invalid(String),
    /// A real dtrace option that rdtrace does not implement.
    Unsupported(String),
    /// The value does not parse for this option.
    BadValue {
        name: String,
        value: String,
        expected: &'static str,
    },
}

impl std::fmt::Display for OptionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OptionError::Invalid(n) => write!(f, "failed to set option '{n}': Invalid option name"),
            OptionError::Unsupported(n) => {
                write!(f, "failed to set option '{n}': option is not supported by rdtrace")
            }
            OptionError::BadValue { name, value, expected } => write!(
                f,
                "failed to set option '{name}' to '{value}': Invalid value for specified option (expected {expected})"
            ),
        }
    }
}

impl std::error::Error for OptionError {}

/// dtrace options that rdtrace accepts but which change nothing here (their
/// effect is inherent or irrelevant in a user-space evaluator).
const ACCEPTED_NOOP: &[&str] = &[
    "cleanrate",
    "nspec",
    "specsize",
    "bufresize",
    "cpp",
    "defaultargs",
];

/// Real dtrace options that rdtrace does not implement.
const UNSUPPORTED: &[&str] = &[
    "aggpercpu",
    "aggzoom",
    "aggpack",
    "agghist",
    "amin",
    "argref",
    "core",
    "cpu",
    "cpphdrs",
    "cpppath",
    "ctypes",
    "define",
    "disasm",
    "droptags",
    "dtypes",
    "encoding",
    "errtags",
    "evaltime",
    "grabanon",
    "incdir",
    "iregs",
    "jstackframes",
    "jstackstrsize",
    "knodefs",
    "lazyload",
    "ld_path",
    "libdir",
    "linkmode",
    "linktype",
    "maxframes",
    "modpath",
    "pgmax",
    "preallocate",
    "quietresize",
    "rawbytes",
    "stackindent",
    "stdc",
    "temporal",
    "tree",
    "undef",
    "unodefs",
    "verbose",
    "version",
    "bpflog",
    "scratchsize",
    "lockmem",
    "noresolve",
    "pspec",
];

impl Options {
    /// Applies one option as given on the command line or in a pragma.
    pub fn set(&mut self, name: &str, value: Option<&str>) -> Result<(), OptionError> {
        let bad = |expected| OptionError::BadValue {
            name: name.to_string(),
            value: value.unwrap_or("").to_string(),
            expected,
        };
        match name {
            "quiet" => self.quiet = parse_flag(value).ok_or_else(|| bad("no value"))?,
            "flowindent" => self.flowindent = parse_flag(value).ok_or_else(|| bad("no value"))?,
            "destructive" => self.destructive = parse_flag(value).ok_or_else(|| bad("no value"))?,
            "zdefs" => self.zdefs = parse_flag(value).ok_or_else(|| bad("no value"))?,
            "switchrate" => {
                self.switchrate = value
                    .and_then(parse_rate)
                    .ok_or_else(|| bad("a rate such as 10hz, 100ms or nanoseconds"))?
            }
            "aggrate" => {
                self.aggrate = value
                    .and_then(parse_rate)
                    .ok_or_else(|| bad("a rate such as 10hz, 100ms or nanoseconds"))?
            }
            "statusrate" => {
                self.statusrate = value
                    .and_then(parse_rate)
                    .ok_or_else(|| bad("a rate such as 10hz, 100ms or nanoseconds"))?
            }
            "bufsize" => {
                self.bufsize = value
                    .and_then(parse_size)
                    .filter(|s| *s >= 4096)
                    .ok_or_else(|| bad("a size of at least 4k such as 4m"))?
            }
            "strsize" => {
                // Every string variable and value takes strsize bytes: a
                // bound keeps an option from asking for gigabytes.
                self.strsize = value
                    .and_then(parse_size)
                    .filter(|s| (1..=MAX_STRSIZE).contains(s))
                    .ok_or_else(|| bad("a size from 1 to 16m"))?
            }
            "dynvarsize" => {
                self.dynvarsize = value.and_then(parse_size).ok_or_else(|| bad("a size"))?
            }
            "aggsize" => self.aggsize = value.and_then(parse_size).ok_or_else(|| bad("a size"))?,
            // The kernel walks at most perf_event_max_stack (127) frames.
            "stackframes" | "ustackframes" => {
                let n = value
                    .and_then(|v| v.parse::<u32>().ok())
                    .filter(|n| (1..=127).contains(n))
                    .ok_or_else(|| bad("a number of frames from 1 to 127"))?;
                if name == "stackframes" {
                    self.stackframes = n;
                } else {
                    self.ustackframes = n;
                }
            }
            "stackformat" => {
                self.folded_stacks = match value {
                    Some("folded") => true,
                    Some("dtrace") => false,
                    _ => return Err(bad("folded or dtrace")),
                }
            }
            "aggsortkey" => self.aggsort.key = parse_flag(value).ok_or_else(|| bad("no value"))?,
            "aggsortrev" => self.aggsort.rev = parse_flag(value).ok_or_else(|| bad("no value"))?,
            "aggsortkeypos" => {
                self.aggsort.keypos = value
                    .and_then(|v| v.parse().ok())
                    .ok_or_else(|| bad("a key position"))?
            }
            "aggsortpos" => {
                self.aggsort.pos = value
                    .and_then(|v| v.parse().ok())
                    .ok_or_else(|| bad("an aggregation position"))?
            }
            "netns" => {
                self.netns = Some(match value {
                    Some("self") => NetnsFilter::SelfNs,
                    Some(v) => NetnsFilter::Inode(
                        v.parse()
                            .map_err(|_| bad("self or a namespace inode number"))?,
                    ),
                    None => return Err(bad("self or a namespace inode number")),
                })
            }
            "metrics" => {
                self.metrics = Some(
                    value
                        .and_then(parse_socket_addr)
                        .ok_or_else(|| bad("an address and port such as 127.0.0.1:9464"))?,
                )
            }
            "metriclabels" => {
                let expected = "an aggregation and label names such as @bytes:daddr,dport";
                let (agg, names) = value
                    .and_then(parse_metric_labels)
                    .ok_or_else(|| bad(expected))?;
                self.metric_labels.retain(|(a, _)| *a != agg);
                self.metric_labels.push((agg, names));
            }
            "oformat" => {
                use crate::oformat::Oformat;
                // FreeBSD passes the value to libxo: `json,pretty` is JSON.
                self.oformat = match value.map(|v| v.split(',').next().unwrap_or("")) {
                    Some("json") => Oformat::Json,
                    Some("xml") => Oformat::Xml,
                    Some("text") => Oformat::Text,
                    _ => return Err(bad("json, xml or text")),
                }
            }
            "metricslinger" => {
                self.metrics_linger = match value {
                    Some("0") => Duration::ZERO,
                    v => v
                        .and_then(parse_rate)
                        .ok_or_else(|| bad("a time such as 30s"))?,
                }
            }
            n if ACCEPTED_NOOP.contains(&n) => {}
            n if UNSUPPORTED.contains(&n) => return Err(OptionError::Unsupported(n.to_string())),
            n => return Err(OptionError::Invalid(n.to_string())),
        }
        Ok(())
    }
}

/// Boolean options take no value (dtrace also accepts an explicit value).
fn parse_flag(value: Option<&str>) -> Option<bool> {
    match value {
        None | Some("") | Some("set") | Some("1") | Some("true") | Some("yes") => Some(true),
        Some("unset") | Some("0") | Some("false") | Some("no") => Some(false),
        _ => None,
    }
}

/// A size with dtrace's optional k/m/g/t suffix (either case).
/// The largest `strsize` rdtrace accepts.
pub const MAX_STRSIZE: usize = 16 << 20;

pub fn parse_size(s: &str) -> Option<usize> {
    let s = s.trim();
    let (digits, mult) = match s.char_indices().last()? {
        (i, 'k' | 'K') => (&s[..i], 1usize << 10),
        (i, 'm' | 'M') => (&s[..i], 1 << 20),
        (i, 'g' | 'G') => (&s[..i], 1 << 30),
        (i, 't' | 'T') => (&s[..i], 1 << 40),
        _ => (s, 1),
    };
    digits.parse::<usize>().ok()?.checked_mul(mult)
}

/// A rate as dtrace takes it for `switchrate` etc.: `10hz`, or a time with a
/// unit (`ns us ms s m h d`, long forms too); a bare number is nanoseconds.
pub fn parse_rate(s: &str) -> Option<Duration> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let n: u64 = s[..split].parse().ok()?;
    let ns = match &s[split..] {
        "hz" => {
            if n == 0 {
                return None;
            }
            1_000_000_000 / n
        }
        unit => n.checked_mul(unit_ns(unit)?)?,
    };
    (ns > 0).then(|| Duration::from_nanos(ns))
}

pub use rdtrace_lang::units::unit_ns;

/// `ADDR:PORT` (`[::1]:9464` for IPv6; a host name is resolved).
fn parse_socket_addr(s: &str) -> Option<std::net::SocketAddr> {
    use std::net::ToSocketAddrs;
    if let Ok(a) = s.parse() {
        return Some(a);
    }
    // Only names with a port: ToSocketAddrs would also look up odd forms.
    let (host, port) = s.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    if host.is_empty() {
        return None;
    }
    s.to_socket_addrs().ok()?.next()
}

/// `[@]agg:label,label…` (`@:label` or `:label` for the anonymous
/// aggregation), labels valid Prometheus label names.
fn parse_metric_labels(s: &str) -> Option<(String, Vec<String>)> {
    let (agg, labels) = s.split_once(':')?;
    let agg = agg.strip_prefix('@').unwrap_or(agg);
    let agg = if agg.is_empty() { "_" } else { agg };
    if !agg.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    let names: Vec<String> = labels.split(',').map(str::to_string).collect();
    names
        .iter()
        .all(|n| crate::metrics::plan::valid_label_name(n))
        .then(|| (agg.to_string(), names))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates() {
        assert_eq!(parse_rate("10hz"), Some(Duration::from_millis(100)));
        assert_eq!(parse_rate("1s"), Some(Duration::from_secs(1)));
        assert_eq!(parse_rate("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_rate("5000"), Some(Duration::from_nanos(5000)));
        assert_eq!(parse_rate("0hz"), None);
        assert_eq!(parse_rate("10parsecs"), None);
        assert_eq!(parse_rate(""), None);
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("4m"), Some(4 << 20));
        assert_eq!(parse_size("512K"), Some(512 << 10));
        assert_eq!(parse_size("100"), Some(100));
        assert_eq!(parse_size("m"), None);
        assert_eq!(parse_size("99999999999999999999g"), None);
    }

    #[test]
    fn option_kinds() {
        let mut o = Options::default();
        o.set("quiet", None).unwrap();
        assert!(o.quiet);
        o.set("switchrate", Some("10hz")).unwrap();
        assert_eq!(o.switchrate, Duration::from_millis(100));
        assert_eq!(o.aggrate, Duration::from_millis(100));
        o.set("aggrate", Some("1s")).unwrap();
        assert_eq!(o.aggrate, Duration::from_secs(1));
        assert!(o.set("aggrate", Some("fast")).is_err());
        assert_eq!(
            o.set("nosuch", None),
            Err(OptionError::Invalid("nosuch".into()))
        );
        assert_eq!(
            o.set("aggpack", None),
            Err(OptionError::Unsupported("aggpack".into()))
        );
        o.set("flowindent", None).unwrap();
        assert!(o.flowindent);
        o.set("stackframes", Some("5")).unwrap();
        assert_eq!(o.stackframes, 5);
        assert!(o.set("ustackframes", Some("128")).is_err());
        o.set("stackformat", Some("folded")).unwrap();
        assert!(o.folded_stacks);
        assert!(matches!(
            o.set("bufsize", Some("lots")),
            Err(OptionError::BadValue { .. })
        ));
        o.set("netns", Some("self")).unwrap();
        assert_eq!(o.netns, Some(NetnsFilter::SelfNs));
    }

    #[test]
    fn metrics_options() {
        let mut o = Options::default();
        o.set("metrics", Some("127.0.0.1:9464")).unwrap();
        assert_eq!(o.metrics, Some("127.0.0.1:9464".parse().unwrap()));
        o.set("metrics", Some("[::1]:0")).unwrap();
        assert_eq!(o.metrics, Some("[::1]:0".parse().unwrap()));
        for bad in ["127.0.0.1", "127.0.0.1:99999", ":9464", "no such host", ""] {
            assert!(
                matches!(
                    o.set("metrics", Some(bad)),
                    Err(OptionError::BadValue { .. })
                ),
                "{bad}"
            );
        }
        o.set("metriclabels", Some("@bytes:daddr,dport")).unwrap();
        o.set("metriclabels", Some("@:execname")).unwrap();
        o.set("metriclabels", Some("bytes:host,port")).unwrap();
        assert_eq!(
            o.metric_labels,
            [
                ("_".to_string(), vec!["execname".to_string()]),
                (
                    "bytes".to_string(),
                    vec!["host".to_string(), "port".to_string()]
                ),
            ]
        );
        for bad in [
            "bytes",
            "@bytes:",
            "@bytes:1x",
            "@bytes:a,,b",
            "@by-tes:a",
            "@b:__x",
        ] {
            assert!(o.set("metriclabels", Some(bad)).is_err(), "{bad}");
        }
        o.set("metricslinger", Some("30s")).unwrap();
        assert_eq!(o.metrics_linger, Duration::from_secs(30));
        assert!(o.set("metricslinger", Some("soon")).is_err());
    }
}
