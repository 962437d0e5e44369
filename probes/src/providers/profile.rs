//! The profile provider: `tick-N` (one CPU) and `profile-N` (every CPU)
//! probes, created by the checker when a script names one. Live part:
//! the perf_event program in `bpf/net.bpf.c` (`live.rs` attaches it).

use std::mem::offset_of;

use super::Provider;
use crate::catalog::{load, record_layout, TypedLayout};
use crate::event::ProfileEvent;
use rdtrace_lang::catalog::{CaptureArea, ParamKind, ParamProbe};
use rdtrace_lang::types::IntType;

/// Layout of [`ProfileEvent`] records (`profile-N`; `tick-N` records are
/// the header alone, layout 0).
pub const LAYOUT_PROFILE: u32 = 6;

pub struct Profile;

impl Provider for Profile {
    fn name(&self) -> &'static str {
        "profile"
    }
    fn attributes(&self) -> super::stability::ProviderAttributes {
        super::stability::PROFILE
    }
    fn param_probes(&self) -> Vec<ParamProbe> {
        [
            ("tick-", ParamKind::Tick, 0),
            ("profile-", ParamKind::Profile, LAYOUT_PROFILE),
        ]
        .into_iter()
        .map(|(prefix, kind, layout)| ParamProbe {
            provider: "profile".into(),
            prefix: prefix.into(),
            kind,
            layout,
        })
        .collect()
    }
    /// arg0: the kernel PC (0 in user mode), arg1: the user PC (0 for a
    /// kernel thread), as DTrace's profile provider; stacks as captures.
    fn layouts(&self) -> Vec<TypedLayout> {
        let builtins = vec![
            (
                "arg0".to_string(),
                load(offset_of!(ProfileEvent, kpc), IntType::UINT64),
            ),
            (
                "arg1".to_string(),
                load(offset_of!(ProfileEvent, upc), IntType::UINT64),
            ),
        ];
        let mut layout = record_layout(LAYOUT_PROFILE, Vec::new(), builtins);
        layout.captures = Some(CaptureArea {
            count_at: offset_of!(ProfileEvent, captures) as u32,
            data_at: std::mem::size_of::<ProfileEvent>() as u32,
            user: false,
        });
        vec![layout]
    }
}
