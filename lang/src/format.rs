//! printf format strings, parsed once at compile time. The checker uses the
//! parsed conversions to check argument types (as dtrace does); the runtime's
//! printf engine renders them.

use crate::span::Span;
use crate::types::Type;

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
    /// dtrace's conversion number for messages ("conversion #N"): 1-based,
    /// counting every `%` sequence of the format, `%%` included.
    pub number: u32,
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
    /// `%?` — pointer-width field (16 on 64-bit). Not produced by `parse`:
    /// as in dtrace, `?` sets the width to 16 (`Count::Fixed(16)`).
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
    /// %a, %A: a kernel / user symbol (`func()`, `usym()` … keys of printa)
    Sym(bool),
    /// %k: a stack (stack(), ustack() keys of printa)
    Stack,
}

/// A format that cannot be parsed, with the offset of the bad conversion in
/// the (decoded) format string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatError {
    pub message: String,
    pub span: Span,
}

/// Widths and precisions above this are clamped (dtrace's own parse would
/// overflow an `int`; nobody needs a field wider than this).
pub const MAX_COUNT: u32 = 65_536;

/// Parses a printf format (bytes after string-escape decoding), following
/// dtrace's `dt_printf_create`: flags, width, `.precision`, `*`, `?`, `@`
/// and size letters may come in any order before the conversion letter, a
/// `0` before any width digit is the zero-pad flag, and the size letters
/// plus the conversion letter must name one of dtrace's conversions
/// (`hhd` or `lf`, for example, do not exist in dtrace). As in dtrace (which
/// works on C strings) the format ends at the first NUL byte.
pub fn parse(fmt: &[u8]) -> Result<Format, FormatError> {
    let fmt = match fmt.iter().position(|&b| b == 0) {
        Some(nul) => &fmt[..nul],
        None => fmt,
    };
    let mut pieces = Vec::new();
    let mut lit = Vec::new();
    let mut number = 0u32;
    let mut i = 0;
    while i < fmt.len() {
        if fmt[i] != b'%' {
            lit.push(fmt[i]);
            i += 1;
            continue;
        }
        number += 1;
        match parse_conv(fmt, i, number)? {
            (Parsed::Percent, next) => {
                lit.push(b'%');
                i = next;
            }
            (Parsed::Conv(conv), next) => {
                if !lit.is_empty() {
                    pieces.push(Piece::Lit(std::mem::take(&mut lit)));
                }
                pieces.push(Piece::Conv(conv));
                i = next;
            }
        }
    }
    if !lit.is_empty() {
        pieces.push(Piece::Lit(lit));
    }
    Ok(Format { pieces })
}

enum Parsed {
    Percent,
    Conv(Conv),
}

/// Parses the conversion starting at `fmt[start] == b'%'`; returns it and
/// the index just past it.
fn parse_conv(fmt: &[u8], start: usize, number: u32) -> Result<(Parsed, usize), FormatError> {
    let mut conv = Conv {
        minus: false,
        plus: false,
        space: false,
        hash: false,
        zero: false,
        width: Count::None,
        precision: None,
        size: SizePrefix::None,
        kind: ConvKind::Signed,
        aggregation: false,
        number,
    };
    // The size letters (h l L w) and the conversion letter, as dtrace
    // collects them into the conversion's name (at most 6 size letters).
    let mut name = [0u8; 7];
    let mut name_len = 0;
    let mut digits = 0;
    let mut dot = false;
    let mut i = start + 1;
    let err = |end: usize, message: String| FormatError {
        message,
        span: Span::new(start, end),
    };
    loop {
        let Some(&c) = fmt.get(i) else {
            return Err(err(
                i,
                format!("format conversion #{number} name expected before end of format string"),
            ));
        };
        match c {
            b'0' if !dot && digits == 0 => {
                conv.zero = true;
                conv.minus = false;
                i += 1;
            }
            b'0'..=b'9' => {
                let mut n: u32 = 0;
                while let Some(d @ b'0'..=b'9') = fmt.get(i) {
                    n = n.saturating_mul(10).saturating_add(u32::from(d - b'0'));
                    i += 1;
                }
                let n = n.min(MAX_COUNT);
                if dot {
                    // A `*` already given wins over digits, as at run time
                    // in dtrace (the argument replaces the fixed value).
                    if conv.precision != Some(Count::Star) {
                        conv.precision = Some(Count::Fixed(n));
                    }
                } else if conv.width != Count::Star {
                    conv.width = Count::Fixed(n);
                }
                digits += 1;
            }
            b'#' => {
                conv.hash = true;
                i += 1;
            }
            b'*' => {
                let already = if dot {
                    conv.precision == Some(Count::Star)
                } else {
                    conv.width == Count::Star
                };
                if already {
                    let what = if dot { "precision" } else { "width" };
                    return Err(err(
                        i + 1,
                        format!(
                            "format conversion #{number} has more than one '*' specified for the output {what}"
                        ),
                    ));
                }
                if dot {
                    conv.precision = Some(Count::Star);
                } else {
                    conv.width = Count::Star;
                }
                i += 1;
            }
            b'+' => {
                conv.plus = true;
                i += 1;
            }
            b'-' => {
                conv.minus = true;
                conv.zero = false;
                i += 1;
            }
            b'.' => {
                if dot {
                    return Err(err(
                        i + 1,
                        format!("format conversion #{number} has more than one '.' specified"),
                    ));
                }
                dot = true;
                digits = 0;
                if conv.precision.is_none() {
                    // `%.d` is a precision of 0 (which dtrace then ignores).
                    conv.precision = Some(Count::Fixed(0));
                }
                i += 1;
            }
            b'?' => {
                if conv.width != Count::Star {
                    conv.width = Count::Fixed(16);
                }
                i += 1;
            }
            b'@' => {
                conv.aggregation = true;
                i += 1;
            }
            // Thousands grouping: no effect in the C locale dtrace prints in.
            b'\'' => i += 1,
            b' ' => {
                conv.space = true;
                i += 1;
            }
            b'$' => {
                return Err(err(
                    i + 1,
                    format!("format conversion #{number} uses unsupported positional format (%n$)"),
                ));
            }
            b'%' => {
                if i == start + 1 {
                    return Ok((Parsed::Percent, i + 1));
                }
                return Err(err(
                    i + 1,
                    format!("format conversion #{number} cannot be combined with other format flags: %%"),
                ));
            }
            b'h' | b'l' | b'L' | b'w' => {
                if name_len < name.len() - 1 {
                    name[name_len] = c;
                    name_len += 1;
                }
                i += 1;
            }
            _ => {
                name[name_len] = c;
                name_len += 1;
                let name = &name[..name_len];
                let end = i + 1;
                return match lookup(name) {
                    Lookup::Conv(size, kind) => {
                        conv.size = size;
                        conv.kind = kind;
                        Ok((Parsed::Conv(conv), end))
                    }
                    Lookup::Unsupported => Err(err(
                        end,
                        format!(
                            "format conversion #{number} is not supported by rdtrace: %{}",
                            String::from_utf8_lossy(name)
                        ),
                    )),
                    Lookup::Undefined => Err(err(
                        end,
                        format!(
                            "format conversion #{number} is undefined: %{}",
                            String::from_utf8_lossy(name)
                        ),
                    )),
                };
            }
        }
    }
}

enum Lookup {
    Conv(SizePrefix, ConvKind),
    /// A dtrace conversion rdtrace does not implement (symbols, stacks,
    /// escaped or wide strings, RFC 822 time).
    Unsupported,
    Undefined,
}

/// dtrace's conversion dictionary (`_dtrace_conversions`), by name.
fn lookup(name: &[u8]) -> Lookup {
    use ConvKind::*;
    let (size, letter) = match name {
        [c] => (SizePrefix::None, *c),
        [b'h', c] => (SizePrefix::H, *c),
        [b'l', b'l', c] => (SizePrefix::Ll, *c),
        [b'l', c] => (SizePrefix::L, *c),
        [b'L', c] => (SizePrefix::BigL, *c),
        _ => (SizePrefix::Hh, 0), // never a valid name; `Hh` is unused here
    };
    let kind = match letter {
        b'd' | b'i' => Signed,
        b'u' => Unsigned,
        b'o' => Octal,
        b'x' => HexLower,
        b'X' => HexUpper,
        b'c' => Char,
        b's' => Str,
        b'e' | b'E' | b'f' | b'g' | b'G' => Float(letter),
        b'p' => Pointer,
        b'Y' => Date,
        b'a' => Sym(false),
        b'A' => Sym(true),
        b'k' => Stack,
        _ => Signed,
    };
    let known_letter = b"diuoxXcseEfgGpYaAk".contains(&letter);
    match (size, letter) {
        (SizePrefix::None, _) if known_letter => Lookup::Conv(size, kind),
        (
            SizePrefix::H | SizePrefix::L | SizePrefix::Ll,
            b'd' | b'i' | b'o' | b'u' | b'x' | b'X',
        ) => Lookup::Conv(size, kind),
        (SizePrefix::BigL, b'e' | b'E' | b'f' | b'g' | b'G') => Lookup::Conv(size, kind),
        _ => match name {
            b"C" | b"S" | b"T" | b"lc" | b"ls" | b"wc" | b"ws" => Lookup::Unsupported,
            _ => Lookup::Undefined,
        },
    }
}

impl Format {
    /// Number of arguments the format consumes (values plus `*` counts).
    pub fn arg_count(&self) -> usize {
        self.convs().map(Conv::consumes_args).sum()
    }

    /// The conversions, in order.
    pub fn convs(&self) -> impl Iterator<Item = &Conv> {
        self.pieces.iter().filter_map(|p| match p {
            Piece::Conv(c) => Some(c),
            Piece::Lit(_) => None,
        })
    }
}

const PROTO_XINT: &str = "char, short, int, long, or long long";

impl Conv {
    /// Arguments this conversion takes: its value, preceded by the width
    /// (`*`) and then the precision (`.*`) when those are dynamic. For a
    /// `%@` conversion the value is the aggregation's, passed in the same
    /// position by `printa`.
    pub fn consumes_args(&self) -> usize {
        1 + usize::from(self.width == Count::Star)
            + usize::from(self.precision == Some(Count::Star))
    }

    /// dtrace's name of the conversion (size letters and conversion letter),
    /// as shown in its messages: `d`, `lld`, `hx`, `s`, …
    pub fn name(&self) -> &'static str {
        let letter = self.letter();
        let names: &[(&str, u8)] = match self.size {
            SizePrefix::H => &[
                ("hd", b'd'),
                ("hi", b'i'),
                ("ho", b'o'),
                ("hu", b'u'),
                ("hx", b'x'),
                ("hX", b'X'),
            ],
            SizePrefix::L => &[
                ("ld", b'd'),
                ("li", b'i'),
                ("lo", b'o'),
                ("lu", b'u'),
                ("lx", b'x'),
                ("lX", b'X'),
            ],
            SizePrefix::Ll | SizePrefix::Hh => &[
                ("lld", b'd'),
                ("lli", b'i'),
                ("llo", b'o'),
                ("llu", b'u'),
                ("llx", b'x'),
                ("llX", b'X'),
            ],
            SizePrefix::BigL => &[
                ("Le", b'e'),
                ("LE", b'E'),
                ("Lf", b'f'),
                ("Lg", b'g'),
                ("LG", b'G'),
            ],
            SizePrefix::None | SizePrefix::Question => &[
                ("d", b'd'),
                ("i", b'i'),
                ("u", b'u'),
                ("o", b'o'),
                ("x", b'x'),
                ("X", b'X'),
                ("c", b'c'),
                ("s", b's'),
                ("e", b'e'),
                ("E", b'E'),
                ("f", b'f'),
                ("g", b'g'),
                ("G", b'G'),
                ("p", b'p'),
                ("Y", b'Y'),
                ("a", b'a'),
                ("A", b'A'),
                ("k", b'k'),
            ],
        };
        names
            .iter()
            .find(|(_, l)| *l == letter)
            .map_or("?", |(n, _)| n)
    }

    /// The conversion letter. `%i` parses as `Signed` like `%d` and prints
    /// the same, so it is named `d`.
    fn letter(&self) -> u8 {
        match self.kind {
            ConvKind::Signed => b'd',
            ConvKind::Unsigned => b'u',
            ConvKind::Octal => b'o',
            ConvKind::HexLower => b'x',
            ConvKind::HexUpper => b'X',
            ConvKind::Char => b'c',
            ConvKind::Str => b's',
            ConvKind::Float(l) => l,
            ConvKind::Pointer => b'p',
            ConvKind::Date => b'Y',
            ConvKind::Sym(false) => b'a',
            ConvKind::Sym(true) => b'A',
            ConvKind::Stack => b'k',
        }
    }

    /// dtrace's description of the argument types the conversion takes, as
    /// in its "prototype:" line.
    pub fn prototype(&self) -> &'static str {
        use ConvKind::*;
        match (self.size, self.kind) {
            (SizePrefix::H, Signed | HexLower | HexUpper) => "short",
            (SizePrefix::H, _) => "unsigned short",
            (SizePrefix::L, Signed | HexLower | HexUpper) => "long",
            (SizePrefix::L, _) => "unsigned long",
            (SizePrefix::Ll | SizePrefix::Hh, Signed | HexLower | HexUpper) => "long long",
            (SizePrefix::Ll | SizePrefix::Hh, _) => "unsigned long long",
            (SizePrefix::BigL, _) => "long double",
            (_, Signed | Unsigned | Octal | HexLower | HexUpper) => PROTO_XINT,
            (_, Char) => "char, short, or int",
            (_, Str) => "char [] or string (or use stringof)",
            (_, Float(_)) => "float, double, or long double",
            (_, Pointer) => "pointer or integer",
            (_, Date) => "int64_t",
            (_, Sym(_)) => {
                "a symbol: func( ), sym( ), mod( ), usym( ), umod( ) or uaddr( ) (printa keys)"
            }
            (_, Stack) => "stack( ) or ustack( ) (printa keys)",
        }
    }

    /// Whether a value of type `ty` may be printed with this conversion
    /// (dtrace's `pfcheck_*` rules). D has no floating-point values here, so
    /// `%e %f %g` accept nothing, exactly as dtrace rejects an integer for
    /// them. rdtrace's integer types carry only size and signedness, so
    /// `long` and `long long` are both "8 bytes".
    pub fn accepts(&self, ty: &Type) -> bool {
        use ConvKind::*;
        if let Type::Symbolic(s) = ty {
            return self.size == SizePrefix::None
                && if s.is_stack() {
                    self.kind == Stack
                } else {
                    matches!(self.kind, Str | Sym(_))
                };
        }
        let Type::Int(int) = ty else {
            return self.kind == Str && ty.is_string() && self.size == SizePrefix::None;
        };
        match (self.size, self.kind) {
            (
                SizePrefix::None | SizePrefix::Question,
                Signed | Unsigned | Octal | HexLower | HexUpper | Pointer,
            ) => true,
            (SizePrefix::None | SizePrefix::Question, Char) => int.size <= 4,
            (SizePrefix::None | SizePrefix::Question, Date) => int.size == 8,
            // printf("%a", addr): the checker makes the address a symbol.
            (SizePrefix::None, Sym(_)) => int.size == 8,
            (_, Str | Float(_) | Sym(_) | Stack) => false,
            (SizePrefix::H, Signed) => int.size == 2 && int.signed,
            (SizePrefix::H, Unsigned | Octal) => int.size == 2 && !int.signed,
            (SizePrefix::H, _) => int.size == 2,
            (SizePrefix::L | SizePrefix::Ll, Signed) => int.size == 8 && int.signed,
            (SizePrefix::L | SizePrefix::Ll, Unsigned | Octal) => int.size == 8 && !int.signed,
            (SizePrefix::L | SizePrefix::Ll, _) => int.size == 8,
            _ => false,
        }
    }
}
