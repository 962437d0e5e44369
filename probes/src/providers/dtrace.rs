//! The dtrace provider: BEGIN, END and ERROR, fired by the runtime
//! itself (no kernel hook, no replay decoder).

use super::Provider;
use crate::catalog::load;
use rdtrace_lang::catalog::{ArgDef, ProbeDef, ProbeKind};
use rdtrace_lang::types::{IntType, Type};
use rdtrace_record::ERROR_ARGS_OFFSET;

pub const DTRACE_BEGIN: u32 = 1;
pub const DTRACE_END: u32 = 2;
pub const DTRACE_ERROR: u32 = 3;

pub struct Dtrace;

impl Provider for Dtrace {
    fn name(&self) -> &'static str {
        "dtrace"
    }
    fn attributes(&self) -> super::stability::ProviderAttributes {
        super::stability::DTRACE
    }
    fn probes(&self) -> Vec<ProbeDef> {
        vec![
            special(DTRACE_BEGIN, "BEGIN", ProbeKind::Begin),
            special(DTRACE_END, "END", ProbeKind::End),
            special(DTRACE_ERROR, "ERROR", ProbeKind::Error),
        ]
    }
}

fn special(id: u32, name: &str, kind: ProbeKind) -> ProbeDef {
    let args = if kind == ProbeKind::Error {
        error_args()
    } else {
        Vec::new()
    };
    ProbeDef {
        id,
        provider: "dtrace".into(),
        module: String::new(),
        function: String::new(),
        name: name.into(),
        kind,
        args,
        unavailable: None,
    }
}

/// `dtrace:::ERROR`'s arg0..arg5: the `args` of the [`rdtrace_record::ErrorRecord`] the
/// runtime builds for it: arg1 epid, arg2 action index, arg3 DIF offset,
/// arg4 fault code, arg5 address.
fn error_args() -> Vec<ArgDef> {
    (0..6)
        .map(|i| ArgDef {
            ty: Type::Int(IntType::UINT64),
            display: "uint64_t".into(),
            source: Some(load(ERROR_ARGS_OFFSET + 8 * i, IntType::UINT64)),
        })
        .collect()
}
