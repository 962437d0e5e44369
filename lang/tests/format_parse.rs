//! Parsing printf formats: dtrace's grammar for conversions, its error
//! messages, and its argument-type rules.

use rdtrace_lang::format::{parse, Conv, ConvKind, Count, Format, Piece, SizePrefix};
use rdtrace_lang::types::{IntType, Type};

fn convs(fmt: &str) -> Vec<Conv> {
    parse(fmt.as_bytes()).unwrap().convs().copied().collect()
}

fn one(fmt: &str) -> Conv {
    let c = convs(fmt);
    assert_eq!(c.len(), 1, "{fmt}");
    c[0]
}

fn error(fmt: &[u8]) -> (String, u32, u32) {
    let e = parse(fmt).unwrap_err();
    (e.message, e.span.start, e.span.end)
}

#[test]
fn literals_and_percent() {
    let f = parse(b"a %% b\x08)\n").unwrap();
    assert_eq!(f.pieces, vec![Piece::Lit(b"a % b\x08)\n".to_vec())]);
    assert_eq!(f.arg_count(), 0);
    assert_eq!(parse(b"").unwrap(), Format { pieces: vec![] });
}

#[test]
fn tcpio_format() {
    let f = parse(b" %3d %16s:%-5d -> %16s:%-5d %6d (").unwrap();
    assert_eq!(f.arg_count(), 6);
    let c: Vec<Conv> = f.convs().copied().collect();
    assert_eq!(c[0].width, Count::Fixed(3));
    assert_eq!(c[0].kind, ConvKind::Signed);
    assert_eq!(c[1].width, Count::Fixed(16));
    assert_eq!(c[1].kind, ConvKind::Str);
    assert!(c[2].minus);
    assert_eq!(c[2].width, Count::Fixed(5));
    assert_eq!(c[5].width, Count::Fixed(6));
    assert_eq!(
        c.iter().map(|c| c.number).collect::<Vec<_>>(),
        vec![1, 2, 3, 4, 5, 6]
    );
    assert_eq!(f.pieces[0], Piece::Lit(b" ".to_vec()));
    assert_eq!(f.pieces[4], Piece::Lit(b":".to_vec()));
    assert_eq!(f.pieces[6], Piece::Lit(b" -> ".to_vec()));
    assert_eq!(f.pieces.last(), Some(&Piece::Lit(b" (".to_vec())));
}

#[test]
fn flags_width_precision() {
    let c = one("%-+ #08.3x");
    // `-` then `0`: in dtrace the later zero flag clears left-justify.
    assert!(!c.minus && c.zero && c.plus && c.space && c.hash);
    assert_eq!(c.width, Count::Fixed(8));
    assert_eq!(c.precision, Some(Count::Fixed(3)));
    assert_eq!(c.kind, ConvKind::HexLower);

    let c = one("%0-5d");
    assert!(c.minus && !c.zero);
    assert_eq!(c.width, Count::Fixed(5));

    let c = one("%10d");
    assert!(!c.zero);
    assert_eq!(c.width, Count::Fixed(10));
    assert_eq!(c.precision, None);

    // `.` alone is a zero precision; a `0` after `.` is a digit, not a flag.
    let c = one("%.d");
    assert_eq!(c.precision, Some(Count::Fixed(0)));
    let c = one("%.0d");
    assert!(!c.zero);
    assert_eq!(c.precision, Some(Count::Fixed(0)));

    let c = one("%*.*s");
    assert_eq!(c.width, Count::Star);
    assert_eq!(c.precision, Some(Count::Star));
    assert_eq!(c.consumes_args(), 3);
    assert_eq!(parse(b"%*d %.*s %d").unwrap().arg_count(), 5);

    // `%?` is a width of 16; later digits replace it.
    assert_eq!(one("%?p").width, Count::Fixed(16));
    assert_eq!(one("%?5p").width, Count::Fixed(5));

    // Flags may follow the width, as dtrace's parser allows.
    let c = one("%5-d");
    assert!(c.minus);
    assert_eq!(c.width, Count::Fixed(5));

    // Thousands grouping is accepted and has no effect.
    assert_eq!(one("%'d").kind, ConvKind::Signed);

    // Huge counts are clamped, not overflowed.
    let c = one("%99999999999999999999.99999999999999d");
    assert_eq!(c.width, Count::Fixed(rdtrace_lang::format::MAX_COUNT));
    assert_eq!(
        c.precision,
        Some(Count::Fixed(rdtrace_lang::format::MAX_COUNT))
    );
}

#[test]
fn every_conversion() {
    use ConvKind::*;
    let table: &[(&str, SizePrefix, ConvKind, &str)] = &[
        ("%d", SizePrefix::None, Signed, "d"),
        ("%i", SizePrefix::None, Signed, "d"),
        ("%u", SizePrefix::None, Unsigned, "u"),
        ("%o", SizePrefix::None, Octal, "o"),
        ("%x", SizePrefix::None, HexLower, "x"),
        ("%X", SizePrefix::None, HexUpper, "X"),
        ("%c", SizePrefix::None, Char, "c"),
        ("%s", SizePrefix::None, Str, "s"),
        ("%e", SizePrefix::None, Float(b'e'), "e"),
        ("%E", SizePrefix::None, Float(b'E'), "E"),
        ("%f", SizePrefix::None, Float(b'f'), "f"),
        ("%g", SizePrefix::None, Float(b'g'), "g"),
        ("%G", SizePrefix::None, Float(b'G'), "G"),
        ("%p", SizePrefix::None, Pointer, "p"),
        ("%Y", SizePrefix::None, Date, "Y"),
        ("%hd", SizePrefix::H, Signed, "hd"),
        ("%hu", SizePrefix::H, Unsigned, "hu"),
        ("%hx", SizePrefix::H, HexLower, "hx"),
        ("%ld", SizePrefix::L, Signed, "ld"),
        ("%lo", SizePrefix::L, Octal, "lo"),
        ("%lX", SizePrefix::L, HexUpper, "lX"),
        ("%lld", SizePrefix::Ll, Signed, "lld"),
        ("%llu", SizePrefix::Ll, Unsigned, "llu"),
        ("%llx", SizePrefix::Ll, HexLower, "llx"),
        ("%Lf", SizePrefix::BigL, Float(b'f'), "Lf"),
        ("%LG", SizePrefix::BigL, Float(b'G'), "LG"),
    ];
    for &(fmt, size, kind, name) in table {
        let c = one(fmt);
        assert_eq!((c.size, c.kind, c.name()), (size, kind, name), "{fmt}");
        assert!(!c.aggregation);
    }
    let c = one("%@d");
    assert!(c.aggregation);
    assert_eq!(c.kind, ConvKind::Signed);
    assert!(one("%@-10u").aggregation);
}

#[test]
fn conversion_numbers_count_percent() {
    let c = convs("%% %d %s");
    assert_eq!(c[0].number, 2);
    assert_eq!(c[1].number, 3);
}

#[test]
fn stops_at_nul() {
    let f = parse(b"ab\0%q").unwrap();
    assert_eq!(f.pieces, vec![Piece::Lit(b"ab".to_vec())]);
}

#[test]
fn errors_use_dtrace_wording() {
    assert_eq!(
        error(b"x %q"),
        ("format conversion #1 is undefined: %q".into(), 2, 4)
    );
    assert_eq!(
        error(b"%d %hhd"),
        ("format conversion #2 is undefined: %hhd".into(), 3, 7)
    );
    assert_eq!(error(b"%lf").0, "format conversion #1 is undefined: %lf");
    assert_eq!(error(b"%Ld").0, "format conversion #1 is undefined: %Ld");
    assert_eq!(error(b"%-5z").0, "format conversion #1 is undefined: %z");
    assert_eq!(
        error(b"%5").0,
        "format conversion #1 name expected before end of format string"
    );
    assert_eq!(
        error(b"abc%").0,
        "format conversion #1 name expected before end of format string"
    );
    assert_eq!(
        error(b"%-%").0,
        "format conversion #1 cannot be combined with other format flags: %%"
    );
    assert_eq!(
        error(b"%1$d").0,
        "format conversion #1 uses unsupported positional format (%n$)"
    );
    assert_eq!(
        error(b"%1.2.3d").0,
        "format conversion #1 has more than one '.' specified"
    );
    assert_eq!(
        error(b"%**d").0,
        "format conversion #1 has more than one '*' specified for the output width"
    );
    assert_eq!(
        error(b"%.**d").0,
        "format conversion #1 has more than one '*' specified for the output precision"
    );
    // %a, %A and %k exist: they print printa keys of stacks and symbols.
    for bad in ["S", "C", "T", "lc", "ls", "wc", "ws"] {
        assert_eq!(
            error(format!("%{bad}").as_bytes()).0,
            format!("format conversion #1 is not supported by rdtrace: %{bad}"),
        );
    }
}

#[test]
fn accepts_follows_dtrace_checks() {
    let int = Type::Int(IntType::INT);
    let uint = Type::Int(IntType::UINT);
    let i64t = Type::Int(IntType::INT64);
    let u64t = Type::Int(IntType::UINT64);
    let chr = Type::Int(IntType::CHAR);
    let i16t = Type::int(2, true);
    let u16t = Type::Int(IntType::UINT16);
    let s = Type::String;
    let ptr = Type::StructPtr("ipinfo_t".into());

    let ints = [&int, &uint, &i64t, &u64t, &chr, &i16t, &u16t];
    for f in ["%d", "%i", "%u", "%o", "%x", "%X", "%p"] {
        let c = one(f);
        assert!(ints.iter().all(|t| c.accepts(t)), "{f}");
        assert!(
            !c.accepts(&s) && !c.accepts(&ptr) && !c.accepts(&Type::Void),
            "{f}"
        );
    }
    let c = one("%c");
    assert!(c.accepts(&chr) && c.accepts(&int) && c.accepts(&u16t));
    assert!(!c.accepts(&i64t) && !c.accepts(&s));

    let c = one("%s");
    assert!(c.accepts(&s));
    assert!(!c.accepts(&int) && !c.accepts(&chr));

    let c = one("%Y");
    assert!(c.accepts(&u64t) && c.accepts(&i64t));
    assert!(!c.accepts(&int) && !c.accepts(&s));

    for f in ["%e", "%E", "%f", "%g", "%G", "%Lf"] {
        let c = one(f);
        assert!(ints.iter().all(|t| !c.accepts(t)) && !c.accepts(&s), "{f}");
    }

    assert!(one("%hd").accepts(&i16t) && !one("%hd").accepts(&u16t) && !one("%hd").accepts(&int));
    assert!(one("%hu").accepts(&u16t) && !one("%hu").accepts(&i16t));
    assert!(one("%hx").accepts(&u16t) && one("%hx").accepts(&i16t) && !one("%hx").accepts(&chr));
    assert!(one("%ld").accepts(&i64t) && !one("%ld").accepts(&u64t) && !one("%ld").accepts(&int));
    assert!(one("%llu").accepts(&u64t) && !one("%llu").accepts(&i64t));
    assert!(one("%lx").accepts(&u64t) && one("%llX").accepts(&i64t) && !one("%lx").accepts(&uint));
}

#[test]
fn prototypes_are_dtrace_text() {
    let table = [
        ("%d", "char, short, int, long, or long long"),
        ("%u", "char, short, int, long, or long long"),
        ("%x", "char, short, int, long, or long long"),
        ("%c", "char, short, or int"),
        ("%s", "char [] or string (or use stringof)"),
        ("%p", "pointer or integer"),
        ("%Y", "int64_t"),
        ("%f", "float, double, or long double"),
        ("%Le", "long double"),
        ("%hd", "short"),
        ("%hu", "unsigned short"),
        ("%hx", "short"),
        ("%ld", "long"),
        ("%lo", "unsigned long"),
        ("%lld", "long long"),
        ("%llu", "unsigned long long"),
        ("%llx", "long long"),
    ];
    for (f, proto) in table {
        assert_eq!(one(f).prototype(), proto, "{f}");
    }
}
