//! printf format strings, parsed once at compile time. The checker uses the
//! parsed conversions to check argument types (as dtrace does); the runtime's
//! printf engine renders them.

use crate::span::Span;

/// A parsed format: literal bytes and conversions, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Format {
    pub pieces: Vec<Piece>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Literal bytes (escapes already decoded, `%%` already turned into `%`).
    Lit(Vec<u8>),
    Conv(Conv),
}

/// One `%…` conversion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conv {
    pub minus: bool,
    pub plus: bool,
    pub space: bool,
    pub hash: bool,
    pub zero: bool,
    pub width: Count,
    pub precision: Option<Count>,
    pub size: SizePrefix,
    pub kind: ConvKind,
    /// `%@d` and friends: formats an aggregation value in `printa`.
    pub aggregation: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    None,
    Fixed(u32),
    /// `*`: taken from an integer argument.
    Star,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SizePrefix {
    None,
    H,
    Hh,
    L,
    Ll,
    /// `L` (long double for floats; treated as `ll` for integers)
    BigL,
    /// `%?` — pointer-width field (16 on 64-bit)
    Question,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConvKind {
    /// %d %i
    Signed,
    /// %u
    Unsigned,
    /// %o
    Octal,
    /// %x
    HexLower,
    /// %X
    HexUpper,
    /// %c
    Char,
    /// %s
    Str,
    /// %e %E %f %g %G (integers converted to double, as dtrace does)
    Float(u8),
    /// %p
    Pointer,
    /// %Y (nanoseconds since epoch → local time)
    Date,
}

/// A format that cannot be parsed, with the offset of the bad conversion in
/// the (decoded) format string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatError {
    pub message: String,
    pub span: Span,
}

/// Parses a printf format (bytes after string-escape decoding).
/// TEMPORARY: replaced by the printf engine work; do not rely on this body.
pub fn parse(_fmt: &[u8]) -> Result<Format, FormatError> {
    unimplemented!("format::parse is being written")
}
