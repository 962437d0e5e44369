//! The probe catalog as plain data. `rdtrace-probes` fills it in (providers,
//! probes, argument types, where each member lives in the event record); the
//! checker only reads it, so parser and checker tests need neither aya nor
//! cranelift.

use crate::types::{IntType, Type};

/// Where the value of a struct member or a built-in variable comes from, in
/// the event record the probe delivers. The runtime compiles each variant to
/// a load or a helper call; the checker only carries it through.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FieldSource {
    /// Integer stored native-endian at `offset` in the record, of type `int`
    /// (loads sign- or zero-extend to 64 bits by `int.signed`).
    Load { offset: u32, int: IntType },
    /// An IP address as a D string: 16 address bytes at `addr` (IPv4 in the
    /// first 4), IP version byte (4 or 6) at `version`. IPv4 prints as a
    /// dotted quad, IPv6 as DTrace's non-strict `inet_ntoa6`.
    InetAddr { addr: u32, version: u32 },
    /// A NUL-padded fixed char array (task comm, interface name) as a string.
    Chars { offset: u32, len: u32 },
    /// A tracepoint's `__data_loc char[]` string: the u32 at `loc` holds
    /// its offset (low 16 bits, from `base`) and length (high 16 bits);
    /// the bytes lie within `max` bytes from `base`.
    DataLoc { loc: u32, base: u32, max: u32 },
    /// A value fixed for the probe (e.g. `ip_ver` on an IPv4-only probe).
    Const(i64),
    /// The probe does not provide this member (e.g. `args[4]` on
    /// `tcp:::state-change`). Using it is a compile-time error.
    Unavailable,
}

/// How a probe fires; decides which source delivers it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ProbeKind {
    Begin,
    End,
    Error,
    /// Delivered as an event record of layout `layout` (see [`Layout`]).
    Event {
        layout: u32,
    },
    /// `tick-N`: once per interval on one CPU.
    Tick {
        interval_ns: u64,
    },
    /// `profile-N`: once per interval on every CPU, a record of `layout`.
    Profile {
        interval_ns: u64,
        layout: u32,
    },
}

/// One probe `provider:module:function:name`.
#[derive(Debug, Clone)]
pub struct ProbeDef {
    /// dtrace's probe ID, as `-l` shows it and the per-clause prefix prints it.
    pub id: u32,
    pub provider: String,
    pub module: String,
    pub function: String,
    pub name: String,
    pub kind: ProbeKind,
    /// `args[0]`, `args[1]`, …
    pub args: Vec<ArgDef>,
    /// When set, the probe is known but not usable yet: the checker reports
    /// this text (e.g. "the syscall provider is not available yet").
    pub unavailable: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ArgDef {
    /// The D type of `args[i]`: a `StructPtr` for translated structs.
    pub ty: Type,
    /// The type as `-lv` prints it (`pktinfo_t *`).
    pub display: String,
    /// For integer args: where the value lives (also `argN`).
    pub source: Option<FieldSource>,
}

/// A struct type seen through `args[i]->member`.
#[derive(Debug, Clone)]
pub struct StructDef {
    pub name: String,
    pub members: Vec<MemberDef>,
}

#[derive(Debug, Clone)]
pub struct MemberDef {
    pub name: String,
    pub ty: Type,
}

/// Where members and record-backed built-in variables live for one kind of
/// event record. Probes with the same layout share compiled field accesses.
#[derive(Debug, Clone)]
pub struct Layout {
    pub id: u32,
    /// (view, member name) → source. The view is the struct's name for a
    /// probe argument (`psinfo_t` of `args[0]`), or the built-in pointer
    /// (`curpsinfo`) when the record holds that struct a second time. A
    /// member missing here but declared in the struct is
    /// [`FieldSource::Unavailable`] for this layout.
    pub members: Vec<(String, String, FieldSource)>,
    /// Built-in variables backed by the record: `cpu`, `pid`, `tid`, `ppid`,
    /// `uid`, `gid`, `execname`, `timestamp` …
    pub builtins: Vec<(String, FieldSource)>,
    /// Where records of this layout carry user memory copied when the
    /// probe fired (`copyin`, `copyinstr`); None: they cannot.
    pub captures: Option<CaptureArea>,
}

/// Where a record keeps its captured user memory: a u32 byte count at
/// `count_at`, the captures from `data_at` on (each a capture header of
/// the record ABI, then its bytes padded to 8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CaptureArea {
    pub count_at: u32,
    pub data_at: u32,
    /// Whether the kernel copies user memory there (copyin, copyinstr)
    /// or only stacks.
    pub user: bool,
}

/// A named integer constant such as `TH_SYN` or `TCP_STATE_ESTABLISHED`.
#[derive(Debug, Clone)]
pub struct ConstDef {
    pub name: String,
    pub value: i64,
    pub ty: Type,
}

/// An inline string array such as `tcp_state_string[]`; out-of-range indexes
/// read as the empty string... unless `default` says otherwise.
#[derive(Debug, Clone)]
pub struct StringTable {
    pub name: String,
    pub entries: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Catalog {
    pub probes: Vec<ProbeDef>,
    pub structs: Vec<StructDef>,
    pub layouts: Vec<Layout>,
    pub constants: Vec<ConstDef>,
    pub string_tables: Vec<StringTable>,
    /// Probes named by a parameter (`tick-1s`, `profile-997`): the checker
    /// creates one on first use for a name `prefix` + interval.
    pub param_probes: Vec<ParamProbe>,
}

/// A family of probes whose name carries a parameter, e.g. the profile
/// provider's `tick-N`/`profile-N`.
#[derive(Debug, Clone)]
pub struct ParamProbe {
    pub provider: String,
    /// The name up to the parameter, `tick-` or `profile-`.
    pub prefix: String,
    pub kind: ParamKind,
    /// The layout of its records (the header's, 0, when they are only that).
    pub layout: u32,
}

/// What the parameter means and how the probe fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// An interval: fires once per interval on one CPU ([`ProbeKind::Tick`]).
    Tick,
    /// An interval: fires once per interval on every CPU ([`ProbeKind::Profile`]).
    Profile,
}

impl Catalog {
    pub fn probe(&self, id: u32) -> Option<&ProbeDef> {
        self.probes.iter().find(|p| p.id == id)
    }
    pub fn struct_def(&self, name: &str) -> Option<&StructDef> {
        self.structs.iter().find(|s| s.name == name)
    }
    pub fn layout(&self, id: u32) -> Option<&Layout> {
        self.layouts.iter().find(|l| l.id == id)
    }
    pub fn constant(&self, name: &str) -> Option<&ConstDef> {
        self.constants.iter().find(|c| c.name == name)
    }
    pub fn string_table(&self, name: &str) -> Option<&StringTable> {
        self.string_tables.iter().find(|t| t.name == name)
    }
    /// Source of `member` of the struct seen through `view` (a struct name,
    /// or a built-in pointer such as `curpsinfo`) in records of `layout`.
    pub fn member_source(&self, layout: u32, view: &str, member: &str) -> FieldSource {
        self.layout(layout)
            .and_then(|l| l.members.iter().find(|(s, m, _)| s == view && m == member))
            .map(|(_, _, src)| src.clone())
            .unwrap_or(FieldSource::Unavailable)
    }
    /// Where records of `layout` carry captured user memory.
    pub fn capture_area(&self, layout: u32) -> Option<CaptureArea> {
        self.layout(layout).and_then(|l| l.captures)
    }
    /// Source of a record-backed built-in variable in records of `layout`.
    pub fn builtin_source(&self, layout: u32, name: &str) -> Option<FieldSource> {
        self.layout(layout)
            .and_then(|l| l.builtins.iter().find(|(n, _)| n == name))
            .map(|(_, s)| s.clone())
    }
}
