//! Declared type names → [`Type`], and C's integer conversion rules as D
//! applies them (LP64: `long` is 64 bits).

use super::Checker;
use crate::ast::{BaseType, TypeName};
use crate::diag::Diagnostic;
use crate::types::{IntType, Type};

/// The integer type a C/D type name denotes, or why it is not one.
pub(crate) fn resolve(t: &TypeName) -> Result<Type, String> {
    if t.pointers > 0 {
        // Name an unknown type before saying pointers are not supported.
        if let BaseType::Named(w) = &t.base {
            if let [one] = w.as_slice() {
                let known = named(one).is_some()
                    || c_words(w).is_ok()
                    || matches!(one.as_str(), "void" | "in6_addr_t" | "float" | "double");
                if !known {
                    return Err(format!("unknown type {one}"));
                }
            }
        }
        return Err("pointer types are not supported by rdtrace".into());
    }
    let words = match &t.base {
        BaseType::Struct(name) => return Err(format!("struct {name} types are not supported yet")),
        BaseType::Named(w) => w,
    };
    if let [one] = words.as_slice() {
        if let Some(ty) = named(one) {
            return Ok(ty);
        }
        match one.as_str() {
            "float" | "double" => {
                return Err("floating-point types are not supported by rdtrace".into())
            }
            "void" => return Err("void is not a value type".into()),
            "in6_addr_t" => return Err("in6_addr_t types are not supported yet".into()),
            "string" | "char" | "short" | "int" | "long" | "signed" | "unsigned" => {}
            other => return Err(format!("unknown type {other}")),
        }
    }
    c_words(words)
}

fn named(n: &str) -> Option<Type> {
    let i = |size, signed| Some(Type::Int(IntType { size, signed }));
    match n {
        "string" => Some(Type::String),
        "int8_t" => i(1, true),
        "int16_t" => i(2, true),
        "int32_t" | "pid_t" | "id_t" | "zoneid_t" | "processorid_t" | "boolean_t" => i(4, true),
        "int64_t" | "intptr_t" | "ssize_t" | "off_t" | "loff_t" | "hrtime_t" | "time_t"
        | "longlong_t" => i(8, true),
        "uint8_t" | "uchar_t" => i(1, false),
        // Linux's widths (umode_t is the kernel's mode, sa_family_t the
        // socket address family).
        "uint16_t" | "ushort_t" | "in_port_t" | "umode_t" | "sa_family_t" => i(2, false),
        "uint32_t" | "uint_t" | "uid_t" | "gid_t" | "ipaddr_t" | "in_addr_t" | "socklen_t"
        | "mode_t" => i(4, false),
        "uint64_t" | "uintptr_t" | "size_t" | "ulong_t" | "u_longlong_t" | "caddr_t" | "dev_t"
        | "ino_t" | "nlink_t" => i(8, false),
        _ => None,
    }
}

/// `unsigned long long`, `short int`, `char` …
fn c_words(words: &[String]) -> Result<Type, String> {
    let (mut signed, mut unsigned, mut chars, mut shorts, mut ints, mut longs) = (0, 0, 0, 0, 0, 0);
    for w in words {
        match w.as_str() {
            "signed" => signed += 1,
            "unsigned" => unsigned += 1,
            "char" => chars += 1,
            "short" => shorts += 1,
            "int" => ints += 1,
            "long" => longs += 1,
            other => return Err(format!("unknown type {other}")),
        }
    }
    let bad = || Err(format!("invalid type {}", words.join(" ")));
    if signed + unsigned > 1 || chars > 1 || shorts > 1 || ints > 1 || longs > 2 {
        return bad();
    }
    let size = match (chars, shorts, longs) {
        (1, 0, 0) if ints == 0 => 1,
        (0, 1, 0) => 2,
        (0, 0, 0) => 4,
        (0, 0, _) => 8,
        _ => return bad(),
    };
    Ok(Type::Int(IntType {
        size,
        signed: unsigned == 0,
    }))
}

/// C's integer promotion: anything narrower than `int` becomes `int`.
pub(crate) fn promote(t: IntType) -> IntType {
    if t.size < 4 {
        IntType::INT
    } else {
        t
    }
}

/// C's usual arithmetic conversions on two integer types.
pub(crate) fn usual(a: IntType, b: IntType) -> IntType {
    let (a, b) = (promote(a), promote(b));
    if a.signed == b.signed {
        return if a.size >= b.size { a } else { b };
    }
    let (s, u) = if a.signed { (a, b) } else { (b, a) };
    if u.size >= s.size {
        u
    } else {
        // The signed type is wider and holds every value of the unsigned one.
        s
    }
}

/// Whether a value of type `from` may be stored in a place of type `to`:
/// integers convert to each other (truncating, as in D), strings to strings.
pub(crate) fn assignable(to: &Type, from: &Type) -> bool {
    matches!(
        (to, from),
        (Type::Int(_), Type::Int(_)) | (Type::String, Type::String) | (Type::Buf(_), Type::Buf(_))
    )
}

impl Checker<'_> {
    /// Resolves a declared type, reporting why it is not usable.
    pub(crate) fn value_type(&mut self, t: &TypeName) -> Option<Type> {
        match resolve(t) {
            Ok(ty) => Some(ty),
            Err(msg) => {
                self.error(Diagnostic::new(msg, t.span).with_label("this type"));
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usual_conversions_follow_c() {
        let u8_ = IntType::UINT8;
        assert_eq!(usual(u8_, u8_), IntType::INT);
        assert_eq!(usual(IntType::UINT32, IntType::INT), IntType::UINT32);
        assert_eq!(usual(IntType::UINT32, IntType::INT64), IntType::INT64);
        assert_eq!(usual(IntType::UINT64, IntType::INT64), IntType::UINT64);
        assert_eq!(usual(IntType::UINT16, IntType::UINT8), IntType::INT);
    }
}
