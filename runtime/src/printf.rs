//! DTrace's printf, byte for byte.
//!
//! dtrace renders each conversion by building a C format and calling the C
//! library's printf with the value read from the trace record
//! (`dt_printf_format` in libdtrace). This engine produces the same bytes
//! without going through C or `std::fmt`: integers and strings are written
//! digit by digit into the output buffer, with no allocation other than
//! the output growing.
//!
//! The rules taken from dtrace, beyond C printf itself:
//! - a value is first narrowed to its D type: signed types sign-extend,
//!   unsigned ones zero-extend (a `char` -1 is -1 with `%d` but `ff` with
//!   `%x`, an `int` -1 is `ffffffff`);
//! - `%d`/`%i` of an unsigned type prints it as `%u` would;
//! - `%p` is `%x` (no `0x` unless `#`);
//! - a precision is used only when it is greater than zero (`%.0d` and
//!   `%.0f` print as `%d` and `%f`), and a `*` width that is negative means
//!   left-justify;
//! - a `*` width or precision is the argument's value sign-extended from its
//!   size and truncated to a C `int`;
//! - `%s` prints the string up to its first NUL byte;
//! - `%Y` formats nanoseconds since the epoch as local time,
//!   `1973 Dec  3 17:20:00`, then prints that as `%s` would.
//!
//! Floating-point conversions format the argument converted to a double
//! (the checker, like dtrace, accepts no argument type for them today).

use rdtrace_lang::format::{Conv, ConvKind, Count, Format, Piece, MAX_COUNT};
use rdtrace_lang::types::IntType;

/// One printf argument, as evaluated for one firing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrintfArg<'a> {
    /// A 64-bit value and the D type it has (which decides width and
    /// signedness when printing).
    Int(i64, IntType),
    /// String bytes; only the part before the first NUL byte is printed.
    Str(&'a [u8]),
}

/// An argument list that does not fit the format. The checker rules these
/// out; they are reported instead of panicking.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrintfError {
    #[error("printf( ) conversion #{conv} is missing an argument")]
    MissingArgument { conv: u32 },
    #[error("printf( ) conversion #{conv} needs {expected}, got {got}")]
    WrongArgument {
        conv: u32,
        expected: &'static str,
        got: &'static str,
    },
}

/// Appends the rendering of `fmt` with `args` to `out`. On error `out` is
/// left as it was.
pub fn format_printf(
    out: &mut Vec<u8>,
    fmt: &Format,
    args: &[PrintfArg],
) -> Result<(), PrintfError> {
    let mut it = args.iter().copied();
    format_printf_with(out, fmt, || it.next())
}

/// Like [`format_printf`], with the arguments produced one at a time in
/// order by `next_arg` — the JIT's helpers use it to convert argument slots
/// lazily instead of building an argument array per call.
pub fn format_printf_with<'a>(
    out: &mut Vec<u8>,
    fmt: &Format,
    mut next_arg: impl FnMut() -> Option<PrintfArg<'a>>,
) -> Result<(), PrintfError> {
    let start = out.len();
    let result = render(out, fmt, &mut next_arg);
    if result.is_err() {
        out.truncate(start);
    }
    result
}

fn render<'a>(
    out: &mut Vec<u8>,
    fmt: &Format,
    args: &mut impl FnMut() -> Option<PrintfArg<'a>>,
) -> Result<(), PrintfError> {
    for piece in &fmt.pieces {
        match piece {
            Piece::Lit(bytes) => out.extend_from_slice(bytes),
            Piece::Conv(conv) => {
                let mut next = || args().ok_or(PrintfError::MissingArgument { conv: conv.number });
                let width = match conv.width {
                    Count::Star => Some(star_value(conv, next()?)?),
                    _ => None,
                };
                let precision = match conv.precision {
                    Some(Count::Star) => Some(star_value(conv, next()?)?),
                    _ => None,
                };
                let spec = Spec::new(conv, width, precision);
                render_conv(out, conv, &spec, next()?)?;
            }
        }
    }
    Ok(())
}

/// A `*` argument as dtrace reads it into a C `int`.
fn star_value(conv: &Conv, arg: PrintfArg) -> Result<i64, PrintfError> {
    match arg {
        PrintfArg::Int(v, ty) => Ok(i64::from(
            IntType {
                size: ty.size,
                signed: true,
            }
            .normalize(v) as i32,
        )),
        PrintfArg::Str(_) => Err(wrong(conv, "an integer for '*'", "a string")),
    }
}

fn wrong(conv: &Conv, expected: &'static str, got: &'static str) -> PrintfError {
    PrintfError::WrongArgument {
        conv: conv.number,
        expected,
        got,
    }
}

/// The C conversion specification dtrace hands to printf, resolved.
#[derive(Clone, Copy)]
struct Spec {
    left: bool,
    plus: bool,
    space: bool,
    alt: bool,
    zero: bool,
    width: usize,
    /// Only precisions above zero; dtrace drops the others.
    precision: Option<usize>,
}

impl Spec {
    fn new(conv: &Conv, dyn_width: Option<i64>, dyn_precision: Option<i64>) -> Spec {
        let max = i64::from(MAX_COUNT);
        let (width, negative_width) = match (conv.width, dyn_width) {
            (_, Some(w)) => (w.abs().min(max), w < 0),
            (Count::Fixed(w), None) => (i64::from(w.min(MAX_COUNT)), false),
            _ => (0, false),
        };
        let precision = match (conv.precision, dyn_precision) {
            (_, Some(p)) => p,
            (Some(Count::Fixed(p)), None) => i64::from(p),
            _ => 0,
        };
        Spec {
            left: conv.minus || negative_width,
            plus: conv.plus,
            space: conv.space,
            alt: conv.hash,
            zero: conv.zero,
            width: width as usize,
            precision: (precision > 0).then(|| precision.min(max) as usize),
        }
    }
}

fn render_conv(
    out: &mut Vec<u8>,
    conv: &Conv,
    spec: &Spec,
    arg: PrintfArg,
) -> Result<(), PrintfError> {
    match conv.kind {
        // Symbols and stacks come as their text.
        ConvKind::Str | ConvKind::Sym(_) | ConvKind::Stack => match arg {
            PrintfArg::Str(s) => {
                let s = match s.iter().position(|&b| b == 0) {
                    Some(nul) => &s[..nul],
                    None => s,
                };
                write_str(out, spec, s);
                Ok(())
            }
            PrintfArg::Int(..) => Err(wrong(conv, "a string", "an integer")),
        },
        kind => {
            let PrintfArg::Int(v, ty) = arg else {
                return Err(wrong(conv, "an integer", "a string"));
            };
            match kind {
                ConvKind::Signed if ty.signed => {
                    let n = ty.normalize(v);
                    write_int(out, spec, IntForm::signed(n < 0), n.unsigned_abs(), 10);
                }
                ConvKind::Signed | ConvKind::Unsigned => {
                    write_int(out, spec, IntForm::UNSIGNED, unsigned_value(v, ty), 10)
                }
                ConvKind::Octal => write_int(out, spec, IntForm::OCTAL, unsigned_value(v, ty), 8),
                ConvKind::HexLower | ConvKind::Pointer => {
                    write_int(out, spec, IntForm::HEX_LOWER, unsigned_value(v, ty), 16)
                }
                ConvKind::HexUpper => {
                    write_int(out, spec, IntForm::HEX_UPPER, unsigned_value(v, ty), 16)
                }
                ConvKind::Char => write_str(
                    out,
                    &Spec {
                        precision: None,
                        ..*spec
                    },
                    &[v as u8],
                ),
                ConvKind::Float(letter) => {
                    let n = ty.normalize(v);
                    let x = if ty.signed { n as f64 } else { n as u64 as f64 };
                    write_float(out, spec, letter, x);
                }
                ConvKind::Date => {
                    let mut buf = [0u8; 64];
                    let len = date_text(v, &mut buf);
                    write_str(out, spec, &buf[..len]);
                }
                ConvKind::Str | ConvKind::Sym(_) | ConvKind::Stack => {
                    unreachable!("handled above")
                }
            }
            Ok(())
        }
    }
}

/// The value's bytes as its unsigned type: zero-extended from its size.
fn unsigned_value(v: i64, ty: IntType) -> u64 {
    IntType {
        size: ty.size,
        signed: false,
    }
    .normalize(v) as u64
}

/// `%s` (and `%c`, `%Y`): at most `precision` bytes, space-padded to the
/// width (glibc ignores `0`, `+`, space and `#` here).
fn write_str(out: &mut Vec<u8>, spec: &Spec, s: &[u8]) {
    let s = match spec.precision {
        Some(p) if p < s.len() => &s[..p],
        _ => s,
    };
    let pad = spec.width.saturating_sub(s.len());
    if !spec.left {
        out.resize(out.len() + pad, b' ');
    }
    out.extend_from_slice(s);
    if spec.left {
        out.resize(out.len() + pad, b' ');
    }
}

/// How an integer conversion writes its value.
#[derive(Clone, Copy)]
struct IntForm {
    /// Signed conversion (takes `+`/space and may be negative).
    signed: bool,
    negative: bool,
    upper: bool,
}

impl IntForm {
    const UNSIGNED: IntForm = IntForm {
        signed: false,
        negative: false,
        upper: false,
    };
    const OCTAL: IntForm = IntForm::UNSIGNED;
    const HEX_LOWER: IntForm = IntForm::UNSIGNED;
    const HEX_UPPER: IntForm = IntForm {
        signed: false,
        negative: false,
        upper: true,
    };

    fn signed(negative: bool) -> IntForm {
        IntForm {
            signed: true,
            negative,
            upper: false,
        }
    }
}

/// Writes `magnitude` in `base` with C's rules for `%d %u %o %x %X`.
fn write_int(out: &mut Vec<u8>, spec: &Spec, form: IntForm, magnitude: u64, base: u64) {
    // 22 octal digits hold any u64.
    let mut buf = [0u8; 22];
    let mut pos = buf.len();
    let alphabet: &[u8; 16] = if form.upper {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    let mut m = magnitude;
    // C prints no digits for a zero with precision 0 (never reached through
    // dtrace, which drops zero precisions, but kept exact).
    if !(m == 0 && spec.precision == Some(0)) {
        // Constant divisors let the compiler turn each step into a multiply
        // or a shift; this loop runs for every integer printf prints.
        macro_rules! digits {
            ($base:expr) => {
                loop {
                    pos -= 1;
                    buf[pos] = alphabet[(m % $base) as usize];
                    m /= $base;
                    if m == 0 {
                        break;
                    }
                }
            };
        }
        match base {
            10 => digits!(10),
            16 => digits!(16),
            8 => digits!(8),
            _ => digits!(base),
        }
    }
    let digits = &buf[pos..];
    let mut zeros = spec.precision.unwrap_or(0).saturating_sub(digits.len());
    // `%#o` makes sure the first digit is a zero.
    if base == 8 && spec.alt && zeros == 0 && digits.first() != Some(&b'0') {
        zeros = 1;
    }
    let prefix: &[u8] = if form.signed {
        if form.negative {
            b"-"
        } else if spec.plus {
            b"+"
        } else if spec.space {
            b" "
        } else {
            b""
        }
    } else if base == 16 && spec.alt && magnitude != 0 {
        if form.upper {
            b"0X"
        } else {
            b"0x"
        }
    } else {
        b""
    };
    let body = prefix.len() + zeros + digits.len();
    let pad = spec.width.saturating_sub(body);
    // The `0` flag is ignored with `-` or with a precision.
    let zero_pad = spec.zero && !spec.left && spec.precision.is_none();
    if !spec.left && !zero_pad {
        out.resize(out.len() + pad, b' ');
    }
    out.extend_from_slice(prefix);
    if zero_pad {
        zeros += pad;
    }
    out.resize(out.len() + zeros, b'0');
    out.extend_from_slice(digits);
    if spec.left {
        out.resize(out.len() + pad, b' ');
    }
}

/// A small fixed-capacity byte buffer, to build pieces without allocating.
struct Buf<const N: usize> {
    bytes: [u8; N],
    len: usize,
}

impl<const N: usize> Buf<N> {
    fn new() -> Self {
        Buf {
            bytes: [0; N],
            len: 0,
        }
    }
    fn push(&mut self, b: u8) {
        if self.len < N {
            self.bytes[self.len] = b;
            self.len += 1;
        }
    }
    fn extend(&mut self, s: &[u8]) {
        for &b in s {
            self.push(b);
        }
    }
    fn as_slice(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// Decimal digits of `v` (no leading zeros; "0" for zero).
fn decimal(mut v: u128, out: &mut Buf<40>) {
    let mut tmp = [0u8; 40];
    let mut pos = tmp.len();
    loop {
        pos -= 1;
        tmp[pos] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend(&tmp[pos..]);
}

/// A float rendering: `int` digits, then (if `dot`) `frac` digits and
/// `frac_zeros` zeros, then the exponent part.
struct FloatBody {
    int: Buf<40>,
    dot: bool,
    frac: Buf<40>,
    frac_zeros: usize,
    exp: Buf<8>,
}

impl FloatBody {
    fn len(&self) -> usize {
        self.int.len + usize::from(self.dot) + self.frac.len + self.frac_zeros + self.exp.len
    }
}

/// `%e %E %f %g %G` of `x`, which is integral (an integer converted to a
/// double), with glibc's exact decimal rounding (ties to even).
fn write_float(out: &mut Vec<u8>, spec: &Spec, letter: u8, x: f64) {
    let negative = x < 0.0;
    // Integral and below 2^64 in magnitude, so exact in a u128.
    let magnitude = x.abs() as u128;
    let mut digits = Buf::<40>::new();
    decimal(magnitude, &mut digits);
    let precision = spec.precision.unwrap_or(6);
    let upper = letter.is_ascii_uppercase();
    let body = match letter {
        b'f' => fixed_body(digits.as_slice(), precision, spec.alt),
        b'e' | b'E' => exp_body(
            digits.as_slice(),
            magnitude == 0,
            precision,
            spec.alt,
            upper,
        ),
        _ => general_body(
            digits.as_slice(),
            magnitude == 0,
            precision,
            spec.alt,
            upper,
        ),
    };
    let sign: &[u8] = if negative {
        b"-"
    } else if spec.plus {
        b"+"
    } else if spec.space {
        b" "
    } else {
        b""
    };
    let pad = spec.width.saturating_sub(sign.len() + body.len());
    let zero_pad = spec.zero && !spec.left;
    if !spec.left && !zero_pad {
        out.resize(out.len() + pad, b' ');
    }
    out.extend_from_slice(sign);
    if zero_pad {
        out.resize(out.len() + pad, b'0');
    }
    out.extend_from_slice(body.int.as_slice());
    if body.dot {
        out.push(b'.');
    }
    out.extend_from_slice(body.frac.as_slice());
    out.resize(out.len() + body.frac_zeros, b'0');
    out.extend_from_slice(body.exp.as_slice());
    if spec.left {
        out.resize(out.len() + pad, b' ');
    }
}

/// `%f`: the integer digits, and `precision` zeros after the point.
fn fixed_body(digits: &[u8], precision: usize, alt: bool) -> FloatBody {
    let mut int = Buf::new();
    int.extend(digits);
    FloatBody {
        int,
        dot: precision > 0 || alt,
        frac: Buf::new(),
        frac_zeros: precision,
        exp: Buf::new(),
    }
}

/// Rounds `digits` to `keep` significant digits, ties to even. Returns the
/// kept digits and whether rounding carried into a new leading digit
/// (then the digits are `1000…`).
fn round_digits(digits: &[u8], keep: usize) -> (Buf<40>, bool) {
    let mut kept = Buf::<40>::new();
    if digits.len() <= keep {
        kept.extend(digits);
        return (kept, false);
    }
    kept.extend(&digits[..keep]);
    let rest = &digits[keep..];
    let round_up = match rest[0] {
        b'6'..=b'9' => true,
        b'5' => {
            rest[1..].iter().any(|&d| d != b'0') || (keep > 0 && (digits[keep - 1] - b'0') % 2 == 1)
        }
        _ => false,
    };
    if !round_up {
        return (kept, false);
    }
    for i in (0..kept.len).rev() {
        if kept.bytes[i] == b'9' {
            kept.bytes[i] = b'0';
        } else {
            kept.bytes[i] += 1;
            return (kept, false);
        }
    }
    // All nines: 99.. became 00..; the value is 1 followed by zeros.
    let mut carried = Buf::<40>::new();
    carried.push(b'1');
    carried.extend(&kept.as_slice()[..kept.len.saturating_sub(1)]);
    (carried, true)
}

/// Decimal exponent of the value once rounded to `keep` significant digits.
fn rounded_exponent(digits: &[u8], zero: bool, keep: usize) -> usize {
    if zero {
        return 0;
    }
    let (_, carried) = round_digits(digits, keep);
    digits.len() - 1 + usize::from(carried)
}

/// `%e`: one digit, the point, `precision` digits, `e±XX`.
fn exp_body(digits: &[u8], zero: bool, precision: usize, alt: bool, upper: bool) -> FloatBody {
    // At most 20 significant digits exist; the rest of the precision is zeros.
    let keep = precision.saturating_add(1).min(digits.len());
    let (kept, _) = round_digits(digits, keep);
    let exponent = rounded_exponent(digits, zero, keep);
    let kept = kept.as_slice();
    let mut int = Buf::new();
    int.push(kept[0]);
    let mut frac = Buf::new();
    frac.extend(&kept[1..]);
    let frac_zeros = precision - frac.len;
    let mut exp = Buf::new();
    exp.push(if upper { b'E' } else { b'e' });
    exp.push(b'+');
    if exponent < 10 {
        exp.push(b'0');
    }
    let mut e = Buf::<40>::new();
    decimal(exponent as u128, &mut e);
    exp.extend(e.as_slice());
    FloatBody {
        int,
        dot: precision > 0 || alt,
        frac,
        frac_zeros,
        exp,
    }
}

/// `%g`: `%e` or `%f` by the exponent, then (without `#`) trailing zeros
/// and a trailing point removed.
fn general_body(digits: &[u8], zero: bool, precision: usize, alt: bool, upper: bool) -> FloatBody {
    let p = precision.max(1);
    let x = rounded_exponent(digits, zero, p.min(digits.len()));
    let mut body = if x < p {
        fixed_body(digits, p - 1 - x, alt)
    } else {
        exp_body(digits, zero, p - 1, alt, upper)
    };
    if !alt {
        body.frac_zeros = 0;
        while body.frac.len > 0 && body.frac.bytes[body.frac.len - 1] == b'0' {
            body.frac.len -= 1;
        }
        body.dot = body.frac.len > 0;
    }
    body
}

extern "C" {
    /// glibc's; not bound by the libc crate.
    fn tzset();
}

/// `%Y`'s text for `nanos` since the epoch, written into `buf`; returns its
/// length. dtrace takes ctime's "Wed Dec  3 17:20:00 1973\n", moves the
/// year (bytes 20..24) to the front and keeps bytes 3..19 (" Dec  3
/// 17:20:00"), reading it as a C string.
fn date_text(nanos: i64, buf: &mut [u8; 64]) -> usize {
    static TZ: std::sync::Once = std::sync::Once::new();
    // localtime_r need not read TZ itself; dtrace's ctime_r does once.
    // SAFETY: tzset only initialises libc's time zone state.
    TZ.call_once(|| unsafe { tzset() });
    let seconds = (nanos / 1_000_000_000) as libc::time_t;
    // SAFETY: an all-zero `tm` is valid, and localtime_r writes only into it.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are valid for the call.
    if unsafe { libc::localtime_r(&seconds, &mut tm) }.is_null() {
        // dtrace would print uninitialised memory; print nothing instead.
        return 0;
    }
    let ctime = ctime_text(&tm);
    let ctime = ctime.as_slice();
    let byte = |i: usize| ctime.get(i).copied().unwrap_or(0);
    let mut len = 0;
    for i in (20..24).chain(3..19) {
        let b = byte(i);
        if b == 0 {
            break;
        }
        buf[len] = b;
        len += 1;
    }
    len
}

/// asctime's "%.3s %.3s%3d %.2d:%.2d:%.2d %d\n".
fn ctime_text(tm: &libc::tm) -> Buf<64> {
    const DAYS: [&[u8; 3]; 7] = [b"Sun", b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat"];
    const MONTHS: [&[u8; 3]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    let mut s = Buf::<64>::new();
    let name = |names: &[&'static [u8; 3]], i: i32| -> &'static [u8] {
        usize::try_from(i)
            .ok()
            .and_then(|i| names.get(i))
            .map_or(b"???", |n| &n[..])
    };
    s.extend(name(&DAYS, tm.tm_wday));
    s.push(b' ');
    s.extend(name(&MONTHS, tm.tm_mon));
    let mday = tm.tm_mday.clamp(0, 99) as u8;
    s.push(b' ');
    s.push(if mday >= 10 { b'0' + mday / 10 } else { b' ' });
    s.push(b'0' + mday % 10);
    s.push(b' ');
    for (i, field) in [tm.tm_hour, tm.tm_min, tm.tm_sec].into_iter().enumerate() {
        if i > 0 {
            s.push(b':');
        }
        let f = field.clamp(0, 99) as u8;
        s.push(b'0' + f / 10);
        s.push(b'0' + f % 10);
    }
    s.push(b' ');
    let year = i64::from(tm.tm_year) + 1900;
    if year < 0 {
        s.push(b'-');
    }
    let mut digits = Buf::<40>::new();
    decimal(u128::from(year.unsigned_abs()), &mut digits);
    s.extend(digits.as_slice());
    s.push(b'\n');
    s
}
