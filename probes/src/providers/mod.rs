//! The providers: one module each, registered in [`PROVIDERS`]. A provider
//! gives its probe table, the struct types its arguments point to, where
//! each member lives in its record (its layouts), its constants, the
//! kernel hooks each probe needs and whether replay decodes it.
//! [`crate::catalog()`] and the live loader's hook choice are folds over
//! the registry.

use crate::catalog::TypedLayout;
use rdtrace_lang::catalog::{ConstDef, ParamProbe, ProbeDef, StringTable};

pub mod dtrace;
pub mod io;
pub mod ip;
pub mod net;
pub mod proc;
pub mod profile;
pub mod sched;
pub mod sdt;
pub mod stability;
pub mod syscall;
pub mod sysconsts;
pub mod task;
pub mod tcp;
pub mod udp;

/// Every provider rdtrace knows, in `-l` order.
pub const PROVIDERS: &[&dyn Provider] = &[
    &dtrace::Dtrace,
    &tcp::Tcp,
    &ip::Ip,
    &udp::Udp,
    &profile::Profile,
    &syscall::Syscall,
    &proc::Proc,
    &sched::Sched,
    &io::Io,
    &sdt::Sdt,
];

/// A kernel program a probe may need. Each provider defines the hooks of
/// its BPF part; the live loader attaches whichever the enabled probes ask
/// for, each once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hook {
    /// A raw tracepoint: the `tp_btf` program `btf_prog`, and the `raw_tp`
    /// twin `raw_prog` the loader falls back to when the BTF-typed attach
    /// fails.
    Raw {
        tracepoint: &'static str,
        btf_prog: &'static str,
        raw_prog: &'static str,
    },
    /// A raw tracepoint serving many probes of a provider through the
    /// table `map` the loader fills with `entries` (key, value words), e.g.
    /// raw_syscalls:sys_enter with the traced syscall numbers.
    RawTable {
        tracepoint: &'static str,
        btf_prog: &'static str,
        raw_prog: &'static str,
        map: &'static str,
        entries: Vec<(u32, [u32; 4])>,
    },
    /// A BTF-typed tracepoint (`tp_btf`) program serving the enabled
    /// probes of the task providers (which ones, from the `enabled`
    /// global).
    Btf {
        tracepoint: &'static str,
        prog: &'static str,
    },
    /// The tracefs tracepoint `category:name` run by the program `prog`
    /// for probe `probe`: the loader tells the program which probe each
    /// tracepoint's events fire (by its event id), with `flags` (what the
    /// program needs to know of the tracepoint, e.g. its argument count).
    Tracepoint {
        category: &'static str,
        name: String,
        prog: &'static str,
        probe: u32,
        flags: u32,
    },
}

/// One provider. Everything but `name` defaults to "none".
pub trait Provider: Sync {
    /// The provider field of its probes.
    fn name(&self) -> &'static str;
    /// Its fixed probes.
    fn probes(&self) -> Vec<ProbeDef> {
        Vec::new()
    }
    /// Its fixed probes, where those that `wanted` (given provider,
    /// module, function, name) rejects may come without arguments: a
    /// provider whose arguments are costly to learn (sdt reads a tracefs
    /// file per probe) learns only those a program may enable.
    fn probes_for(&self, wanted: &dyn Fn(&[&str; 4]) -> bool) -> Vec<ProbeDef> {
        let _ = wanted;
        self.probes()
    }
    /// Its parametrised probe families (`tick-N`, …).
    fn param_probes(&self) -> Vec<ParamProbe> {
        Vec::new()
    }
    /// Its record layouts: every member of its argument structs, with its
    /// D type and where the record holds it (the structs the checker sees
    /// are derived from these rows), and the record-backed built-ins.
    fn layouts(&self) -> Vec<TypedLayout> {
        Vec::new()
    }
    fn constants(&self) -> Vec<ConstDef> {
        Vec::new()
    }
    fn string_tables(&self) -> Vec<StringTable> {
        Vec::new()
    }
    /// The kernel hooks `probe` (one of its ids) needs, given whether a
    /// clause reads the socket state. Empty: not a kernel probe.
    fn hooks(&self, _probe: u32, _socket_state: bool) -> Vec<Hook> {
        Vec::new()
    }
    /// The hooks for all of its enabled `probes` at once, when that is
    /// better than each probe's own (`hooks`); `flags` gives each probe's
    /// kernel flags (`SAVE_ENTRY_ARGS`, `TASK_INFO`, `TASK_PSARGS`).
    fn hooks_of_set(&self, _probes: &[u32], _flags: &dyn Fn(u32) -> u32) -> Option<Vec<Hook>> {
        None
    }
    /// Whether probe `id` is one of its fixed probes (a provider with many
    /// probes answers without building them).
    fn owns(&self, id: u32) -> bool {
        self.probes().iter().any(|d| d.id == id)
    }
    /// Whether the pcap replay source decodes its probes (`replay.rs`,
    /// `replay_tcp.rs`).
    fn replays(&self) -> bool {
        false
    }
    /// Its stability attributes (`-lv`), as dtrace-utils declares them;
    /// most kernel providers share one set.
    fn attributes(&self) -> stability::ProviderAttributes {
        stability::KERNEL_ISA
    }
}

/// The provider named `name`.
pub fn provider_named(name: &str) -> Option<&'static dyn Provider> {
    PROVIDERS.iter().copied().find(|p| p.name() == name)
}

/// The provider owning probe `id` (fixed probes only).
pub fn provider_of(id: u32) -> Option<&'static dyn Provider> {
    PROVIDERS.iter().copied().find(|p| p.owns(id))
}

/// The kernel hooks probe `id` needs (empty for a probe without any).
pub fn hooks_for(id: u32, socket_state: bool) -> Vec<Hook> {
    provider_of(id).map_or_else(Vec::new, |p| p.hooks(id, socket_state))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::*;

    #[test]
    fn hooks_come_from_the_owning_provider() {
        use net::{RECEIVE as Receive, SEND as Send};
        use tcp::STATE_CHANGE as StateChange;
        assert_eq!(hooks_for(TCP_SEND, false), [Send, Receive]);
        assert_eq!(hooks_for(TCP_SEND, true), [Send, Receive, StateChange]);
        assert_eq!(
            hooks_for(TCP_STATE_CHANGE, false),
            [Send, Receive, StateChange]
        );
        assert_eq!(hooks_for(IP_SEND, true), [Send]);
        assert_eq!(hooks_for(UDP_RECEIVE, false), [Receive]);
        assert!(hooks_for(DTRACE_BEGIN, true).is_empty());
        assert!(hooks_for(999, true).is_empty());
    }

    #[test]
    fn catalog_is_the_fold_of_the_registry() {
        let c = catalog();
        let from_registry: usize = PROVIDERS.iter().map(|p| p.probes().len()).sum();
        assert_eq!(c.probes.len(), from_registry);
        for p in PROVIDERS {
            for d in p.probes() {
                assert_eq!(d.provider, p.name());
                assert_eq!(provider_of(d.id).map(|q| q.name()), Some(p.name()));
            }
        }
        let prefixes: Vec<&str> = c.param_probes.iter().map(|p| p.prefix.as_str()).collect();
        assert_eq!(prefixes, ["tick-", "profile-"]);
    }
}
