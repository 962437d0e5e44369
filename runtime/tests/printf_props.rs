//! Property tests: the printf engine never panics, whatever format (that
//! parses) and arguments it gets, and it reports rather than guesses when
//! the arguments do not fit.

use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use rdtrace_lang::format::{parse, ConvKind, Count};
use rdtrace_lang::types::IntType;
use rdtrace_runtime::printf::{format_printf, PrintfArg};

/// One `%…` conversion built from dtrace's pieces, valid or not.
fn conversion() -> impl Strategy<Value = Vec<u8>> {
    let flags = prop::collection::vec(prop::sample::select(b"-+ #0'@".to_vec()), 0..4);
    let width = prop_oneof![
        Just(Vec::new()),
        Just(b"*".to_vec()),
        Just(b"?".to_vec()),
        (0u64..100_000_000_000).prop_map(|n| n.to_string().into_bytes()),
    ];
    let precision = prop_oneof![
        Just(Vec::new()),
        Just(b".".to_vec()),
        Just(b".*".to_vec()),
        (0u64..100_000).prop_map(|n| format!(".{n}").into_bytes()),
    ];
    let size = prop::sample::select(vec!["", "h", "hh", "l", "ll", "L", "w"]);
    let letter = prop::sample::select(b"diuoxXcseEfgGpY%qaS".to_vec());
    (flags, width, precision, size, letter).prop_map(|(f, w, p, s, l)| {
        let mut c = vec![b'%'];
        c.extend(f);
        c.extend(w);
        c.extend(p);
        c.extend(s.as_bytes());
        c.push(l);
        c
    })
}

fn format_bytes() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..6),
        conversion(),
        conversion(),
    ];
    prop::collection::vec(piece, 0..6).prop_map(|p| p.concat())
}

/// An integer (value and type) or, when `None`, the string bytes.
type RawArg = (Option<(i64, IntType)>, Vec<u8>);

fn arg() -> impl Strategy<Value = RawArg> {
    let int_type = (prop::sample::select(vec![1u8, 2, 4, 8]), any::<bool>())
        .prop_map(|(size, signed)| IntType { size, signed });
    let value = prop_oneof![any::<i64>(), -300i64..300, Just(i64::MIN), Just(i64::MAX)];
    prop_oneof![
        (value, int_type).prop_map(|v| (Some(v), Vec::new())),
        prop::collection::vec(any::<u8>(), 0..40).prop_map(|s| (None, s)),
    ]
}

fn to_args(raw: &[RawArg]) -> Vec<PrintfArg<'_>> {
    raw.iter()
        .map(|(int, s)| match int {
            Some((v, t)) => PrintfArg::Int(*v, *t),
            None => PrintfArg::Str(s),
        })
        .collect()
}

/// The RNG seed of this property test: fixed, so that CI runs the same cases
/// on every clone (a random seed once failed a fresh CI run).
/// `PROPTEST_RNG_SEED=N` picks another seed; `RDTRACE_FUZZ=1` draws a random
/// one, for long fuzzing runs (`RDTRACE_FUZZ=1 PROPTEST_CASES=100000`).
fn rng_seed() -> RngSeed {
    match ProptestConfig::default().rng_seed {
        RngSeed::Random if std::env::var_os("RDTRACE_FUZZ").is_some() => RngSeed::Random,
        RngSeed::Random => RngSeed::Fixed(0x7264_7472_6163_6531),
        fixed => fixed,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, rng_seed: rng_seed(), ..ProptestConfig::default() })]

    #[test]
    fn never_panics(fmt in format_bytes(), raw in prop::collection::vec(arg(), 0..8)) {
        let Ok(parsed) = parse(&fmt) else { return Ok(()) };
        let args = to_args(&raw);
        let mut out = b"kept".to_vec();
        match format_printf(&mut out, &parsed, &args) {
            Ok(()) => prop_assert!(out.starts_with(b"kept")),
            Err(_) => prop_assert_eq!(&out, b"kept"),
        }
    }

    /// With arguments of the kinds the conversions need, formatting succeeds.
    #[test]
    fn fitting_arguments_succeed(fmt in format_bytes(), v in any::<i64>(), s in prop::collection::vec(any::<u8>(), 0..20)) {
        let Ok(parsed) = parse(&fmt) else { return Ok(()) };
        let mut args = Vec::new();
        for conv in parsed.convs() {
            // `*` values are kept small so that the output stays small.
            let star = PrintfArg::Int(v % 50, IntType::INT);
            if conv.width == Count::Star {
                args.push(star);
            }
            if conv.precision == Some(Count::Star) {
                args.push(star);
            }
            args.push(match conv.kind {
                // Symbols and stacks are given as their text.
                ConvKind::Str | ConvKind::Sym(_) | ConvKind::Stack => PrintfArg::Str(&s),
                _ => PrintfArg::Int(v, IntType::INT64),
            });
        }
        let mut out = Vec::new();
        prop_assert!(format_printf(&mut out, &parsed, &args).is_ok());
    }

    /// A fixed width is a minimum, never a truncation.
    #[test]
    fn width_is_a_minimum(w in 0u32..300, v in any::<i64>(), letter in prop::sample::select(b"dioxXuc".to_vec())) {
        let fmt = format!("%{w}{}", letter as char);
        let parsed = parse(fmt.as_bytes()).unwrap();
        let mut out = Vec::new();
        format_printf(&mut out, &parsed, &[PrintfArg::Int(v, IntType::INT)]).unwrap();
        prop_assert!(out.len() >= w as usize);
        prop_assert!(out.len() <= (w as usize).max(12));
    }
}

#[test]
fn huge_counts_are_clamped() {
    let parsed = parse(b"%99999999999d|%.99999999999d|%*s").unwrap();
    let mut out = Vec::new();
    let args = [
        PrintfArg::Int(1, IntType::INT),
        PrintfArg::Int(1, IntType::INT),
        PrintfArg::Int(i64::from(i32::MIN), IntType::INT),
        PrintfArg::Str(b"x"),
    ];
    format_printf(&mut out, &parsed, &args).unwrap();
    let max = rdtrace_lang::format::MAX_COUNT as usize;
    assert_eq!(out.len(), 3 * max + 2);
    // Right-justified 1, zero-extended 1, then "x" left-justified (a
    // negative `*` width) in the clamped width.
    assert!(out[..max].ends_with(b" 1") && out[..max].starts_with(b"  "));
    assert_eq!(out[max], b'|');
    assert!(out[max + 1..2 * max + 1].starts_with(b"00") && out[..2 * max + 1].ends_with(b"01"));
    assert_eq!(&out[2 * max + 1..2 * max + 4], b"|x ");
}

#[test]
fn mismatched_arguments_are_errors() {
    let parsed = parse(b"a%db%s").unwrap();
    let mut out = b"x".to_vec();
    assert!(format_printf(&mut out, &parsed, &[PrintfArg::Int(1, IntType::INT)]).is_err());
    assert!(format_printf(
        &mut out,
        &parsed,
        &[PrintfArg::Str(b"s"), PrintfArg::Str(b"s")]
    )
    .is_err());
    let two_ints = [
        PrintfArg::Int(1, IntType::INT),
        PrintfArg::Int(2, IntType::INT),
    ];
    assert!(format_printf(&mut out, &parsed, &two_ints).is_err());
    assert_eq!(out, b"x");
}
