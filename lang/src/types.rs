//! D value types as the checker and the runtime see them.

/// The type of a D expression or variable. Integers are computed in 64 bits;
/// `size`/`signed` say how a value is loaded, stored and printed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Type {
    Int(IntType),
    /// D `string` (bounded by the `strsize` option at run time).
    String,
    /// Pointer to a catalog struct, e.g. `args[2]` is `ipinfo_t *`.
    /// Only valid as the operand of `->`; never stored or printed.
    StructPtr(String),
    /// A catalog struct reached by value (`*args[2]`): only `.` applies.
    Struct(String),
    /// Result of actions like `printf` used in expression position.
    Void,
    /// User memory copied in when the probe fired (`copyin`), seen as a
    /// pointer to the C type named here (`void`, `struct sockaddr_in`,
    /// `ipaddr_t` …). Lives for the firing: only `this->` may hold it.
    Buf(String),
    /// A value the consumer prints by symbolising addresses: a stack
    /// captured when the probe fired, or the symbol or module of an
    /// address. Only a trace() argument, an aggregation key or an action.
    Symbolic(Symbolic),
}

/// What a [`Type::Symbolic`] value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Symbolic {
    /// `stack()`: kernel frames.
    Stack,
    /// `ustack()`: the process's frames.
    UStack,
    /// `func()`, `sym()`: the kernel symbol of an address.
    Sym,
    /// `mod()`: its kernel module.
    Mod,
    /// `ufunc()`, `usym()`: the user symbol.
    USym,
    /// `umod()`: the user object.
    UMod,
    /// `uaddr()`: the user symbol and offset.
    UAddr,
    /// printf's `%a`: the kernel symbol and offset.
    Addr,
}

impl Symbolic {
    /// Whether its addresses are the process's.
    pub fn user(self) -> bool {
        matches!(
            self,
            Symbolic::UStack | Symbolic::USym | Symbolic::UMod | Symbolic::UAddr
        )
    }
    pub fn is_stack(self) -> bool {
        matches!(self, Symbolic::Stack | Symbolic::UStack)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IntType {
    /// Width in bytes: 1, 2, 4 or 8.
    pub size: u8,
    pub signed: bool,
}

impl IntType {
    pub const INT: IntType = IntType {
        size: 4,
        signed: true,
    };
    pub const UINT: IntType = IntType {
        size: 4,
        signed: false,
    };
    pub const INT64: IntType = IntType {
        size: 8,
        signed: true,
    };
    pub const UINT64: IntType = IntType {
        size: 8,
        signed: false,
    };
    pub const CHAR: IntType = IntType {
        size: 1,
        signed: true,
    };
    pub const UINT8: IntType = IntType {
        size: 1,
        signed: false,
    };
    pub const INT16: IntType = IntType {
        size: 2,
        signed: true,
    };
    pub const UINT16: IntType = IntType {
        size: 2,
        signed: false,
    };
    pub const UINT32: IntType = IntType {
        size: 4,
        signed: false,
    };

    /// Truncates/extends a 64-bit value to this type and back, as a store to
    /// a variable of this type would.
    pub fn normalize(self, v: i64) -> i64 {
        let bits = self.size as u32 * 8;
        if bits >= 64 {
            return v;
        }
        let shift = 64 - bits;
        if self.signed {
            (v << shift) >> shift
        } else {
            ((v as u64) << shift >> shift) as i64
        }
    }

    /// D/C name of the type, for diagnostics and `-lv`.
    pub fn name(self) -> &'static str {
        match (self.size, self.signed) {
            (1, true) => "char",
            (1, false) => "uint8_t",
            (2, true) => "int16_t",
            (2, false) => "uint16_t",
            (4, true) => "int",
            (4, false) => "uint32_t",
            (8, true) => "int64_t",
            _ => "uint64_t",
        }
    }
}

impl Type {
    pub const fn int(size: u8, signed: bool) -> Type {
        Type::Int(IntType { size, signed })
    }
    pub fn is_int(&self) -> bool {
        matches!(self, Type::Int(_))
    }
    pub fn is_string(&self) -> bool {
        matches!(self, Type::String)
    }
    pub fn as_int(&self) -> Option<IntType> {
        match self {
            Type::Int(i) => Some(*i),
            _ => None,
        }
    }
    pub fn name(&self) -> String {
        match self {
            Type::Int(i) => i.name().to_string(),
            Type::String => "string".into(),
            Type::StructPtr(s) => format!("{s} *"),
            Type::Struct(s) => s.clone(),
            Type::Void => "void".into(),
            Type::Symbolic(Symbolic::Stack | Symbolic::UStack) => "stack".into(),
            Type::Symbolic(_) => "symbol".into(),
            Type::Buf(t) => format!("{t} *"),
        }
    }
}
