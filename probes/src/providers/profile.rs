//! The profile provider: `tick-N` (one CPU) and `profile-N` (every CPU)
//! probes, created by the checker when a script names one. Live part:
//! the perf_event program in `bpf/net.bpf.c` (`live.rs` attaches it).

use super::Provider;
use rdtrace_lang::catalog::{ParamKind, ParamProbe};

pub struct Profile;

impl Provider for Profile {
    fn name(&self) -> &'static str {
        "profile"
    }
    fn param_probes(&self) -> Vec<ParamProbe> {
        [("tick-", ParamKind::Tick), ("profile-", ParamKind::Profile)]
            .into_iter()
            .map(|(prefix, kind)| ParamProbe {
                provider: "profile".into(),
                prefix: prefix.into(),
                kind,
            })
            .collect()
    }
}
