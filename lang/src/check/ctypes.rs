//! The C types of user memory D scripts read through `copyin`: the socket
//! address structs of `<sys/socket.h>`/`<netinet/in.h>` with Linux's
//! layout (x86_64), and the scalar types a copied buffer can be cast to.

use crate::types::IntType;

/// What a member (or a whole pointed-to type) is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CType {
    Int(IntType),
    /// A struct of the table below.
    Struct(&'static str),
    /// A byte array of this length (`sin_zero`, `sa_data`, `s6_addr`).
    Bytes(u32),
}

/// (member, offset, type) of each member of a struct.
type Members = &'static [(&'static str, u32, CType)];

const U16: CType = CType::Int(IntType::UINT16);
const U32: CType = CType::Int(IntType::UINT32);

/// Linux's socket address structs: name, size, members.
const STRUCTS: &[(&str, u32, Members)] = &[
    (
        "sockaddr",
        16,
        &[("sa_family", 0, U16), ("sa_data", 2, CType::Bytes(14))],
    ),
    (
        "sockaddr_in",
        16,
        &[
            ("sin_family", 0, U16),
            ("sin_port", 2, U16),
            ("sin_addr", 4, CType::Struct("in_addr")),
            ("sin_zero", 8, CType::Bytes(8)),
        ],
    ),
    (
        "sockaddr_in6",
        28,
        &[
            ("sin6_family", 0, U16),
            ("sin6_port", 2, U16),
            ("sin6_flowinfo", 4, U32),
            ("sin6_addr", 8, CType::Struct("in6_addr")),
            ("sin6_scope_id", 24, U32),
        ],
    ),
    ("in_addr", 4, &[("s_addr", 0, U32)]),
    ("in6_addr", 16, &[("s6_addr", 0, CType::Bytes(16))]),
];

/// `struct name`'s size and members.
pub(crate) fn struct_def(name: &str) -> Option<(u32, Members)> {
    STRUCTS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|&(_, size, members)| (size, members))
}

pub(crate) fn size_of(t: CType) -> u32 {
    match t {
        CType::Int(i) => u32::from(i.size),
        CType::Struct(s) => struct_def(s).map_or(0, |(size, _)| size),
        CType::Bytes(n) => n,
    }
}

/// The pointed-to type named by a cast's type words (`struct sockaddr_in`,
/// `ipaddr_t`, `in6_addr_t`, an integer type), as written in `Type::Buf`.
pub(crate) fn pointee(name: &str) -> Option<CType> {
    if let Some(s) = name.strip_prefix("struct ") {
        return STRUCTS
            .iter()
            .find(|(n, _, _)| *n == s)
            .map(|&(n, _, _)| CType::Struct(n));
    }
    Some(match name {
        "in6_addr_t" => CType::Struct("in6_addr"),
        "ipaddr_t" | "in_addr_t" => U32,
        "void" | "char" => CType::Bytes(0),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_fit_their_structs() {
        for (name, size, members) in STRUCTS {
            for (m, off, t) in *members {
                assert!(off + size_of(*t) <= *size, "{name}.{m}");
            }
        }
        assert_eq!(size_of(CType::Struct("sockaddr_in6")), 28);
    }
}
