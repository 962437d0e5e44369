//! DTrace's stability attributes of a provider's probes, as `-lv` prints
//! them: five rows (provider, module, function, name, arguments) as each
//! dtrace-utils `dt_prov_*.c` declares its `pattr`, combined as
//! `dt_probe_info()` does.

/// dtrace_stability_t, in its order (lower is less stable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stability {
    Internal,
    Private,
    Obsolete,
    External,
    Unstable,
    Evolving,
    Stable,
    Standard,
}

/// dtrace_class_t, in its order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DepClass {
    Unknown,
    Cpu,
    Platform,
    Group,
    Isa,
    Common,
}

/// One row: identifier names, data semantics, dependency class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attr(pub Stability, pub Stability, pub DepClass);

impl Attr {
    /// dt_attr_min: each field's minimum.
    fn min(self, o: Attr) -> Attr {
        Attr(self.0.min(o.0), self.1.min(o.1), self.2.min(o.2))
    }
}

/// A provider's `pattr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProviderAttributes {
    pub provider: Attr,
    pub module: Attr,
    pub function: Attr,
    pub name: Attr,
    pub args: Attr,
}

use DepClass::*;
use Stability::*;

/// proc, sched, io, ip, tcp, udp (dtrace-utils gives all six this one).
pub const KERNEL_ISA: ProviderAttributes = ProviderAttributes {
    provider: Attr(Evolving, Evolving, Isa),
    module: Attr(Private, Private, Unknown),
    function: Attr(Private, Private, Unknown),
    name: Attr(Evolving, Evolving, Isa),
    args: Attr(Evolving, Evolving, Isa),
};

pub const DTRACE: ProviderAttributes = ProviderAttributes {
    provider: Attr(Stable, Stable, Common),
    module: Attr(Private, Private, Unknown),
    function: Attr(Private, Private, Unknown),
    name: Attr(Stable, Stable, Common),
    args: Attr(Stable, Stable, Common),
};

pub const PROFILE: ProviderAttributes = ProviderAttributes {
    provider: Attr(Evolving, Evolving, Common),
    module: Attr(Unstable, Unstable, Unknown),
    function: Attr(Private, Private, Unknown),
    name: Attr(Evolving, Evolving, Common),
    args: Attr(Evolving, Evolving, Common),
};

pub const SYSCALL: ProviderAttributes = ProviderAttributes {
    provider: Attr(Evolving, Evolving, Common),
    module: Attr(Private, Private, Unknown),
    function: Attr(Private, Private, Isa),
    name: Attr(Evolving, Evolving, Common),
    args: Attr(Private, Private, Isa),
};

pub const SDT: ProviderAttributes = ProviderAttributes {
    provider: Attr(Evolving, Evolving, Isa),
    module: Attr(Private, Private, Unknown),
    function: Attr(Private, Private, Unknown),
    name: Attr(Private, Private, Isa),
    args: Attr(Private, Private, Isa),
};

impl ProviderAttributes {
    /// "Probe Description Attributes" of `module:function:name`: the
    /// provider row, lowered by the row of each non-empty part.
    pub fn description(&self, module: &str, function: &str, name: &str) -> Attr {
        let mut a = self.provider;
        for (part, row) in [
            (module, self.module),
            (function, self.function),
            (name, self.name),
        ] {
            if !part.is_empty() {
                a = a.min(row);
            }
        }
        a
    }
}

pub fn stability_name(s: Stability) -> &'static str {
    match s {
        Internal => "Internal",
        Private => "Private",
        Obsolete => "Obsolete",
        External => "External",
        Unstable => "Unstable",
        Evolving => "Evolving",
        Stable => "Stable",
        Standard => "Standard",
    }
}

pub fn class_name(c: DepClass) -> &'static str {
    match c {
        Unknown => "Unknown",
        Cpu => "CPU",
        Platform => "Platform",
        Group => "Group",
        Isa => "ISA",
        Common => "Common",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// dtrace-utils' test/unittest/ip/tst.lv-send.r: Private/Private/Unknown
    /// for ip:vmlinux::send, arguments Evolving/Evolving/ISA.
    #[test]
    fn kernel_probe_description_takes_the_module_row() {
        assert_eq!(
            KERNEL_ISA.description("vmlinux", "", "send"),
            Attr(Private, Private, Unknown)
        );
        assert_eq!(KERNEL_ISA.args, Attr(Evolving, Evolving, Isa));
        assert_eq!(
            DTRACE.description("", "", "BEGIN"),
            Attr(Stable, Stable, Common)
        );
        assert_eq!(
            PROFILE.description("", "", "tick-1s"),
            Attr(Evolving, Evolving, Common)
        );
    }
}
