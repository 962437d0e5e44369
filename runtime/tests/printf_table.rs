//! DTrace's printf, table-driven. Every expected string below was produced
//! once by glibc's printf (a throwaway C program that builds the C format
//! the way libdtrace's dt_printf_format does: `ll` for 8-byte values, `%u`
//! for `%d` of an unsigned type, precision only when above zero, the
//! record's bytes read as the unsigned type of their size for %u %o %x %p)
//! and written down here; nothing is computed by the code under test.

use rdtrace_lang::format::parse;
use rdtrace_lang::types::IntType;
use rdtrace_runtime::printf::{format_printf, PrintfArg, PrintfArg::Str};

const fn ty(size: u8, signed: bool) -> IntType {
    IntType { size, signed }
}
const fn chr(v: i64) -> PrintfArg<'static> {
    PrintfArg::Int(v, ty(1, true))
}
const fn u8v(v: i64) -> PrintfArg<'static> {
    PrintfArg::Int(v, ty(1, false))
}
const fn i16v(v: i64) -> PrintfArg<'static> {
    PrintfArg::Int(v, ty(2, true))
}
const fn u16v(v: i64) -> PrintfArg<'static> {
    PrintfArg::Int(v, ty(2, false))
}
const fn int(v: i64) -> PrintfArg<'static> {
    PrintfArg::Int(v, ty(4, true))
}
const fn uint(v: i64) -> PrintfArg<'static> {
    PrintfArg::Int(v, ty(4, false))
}
const fn i64v(v: i64) -> PrintfArg<'static> {
    PrintfArg::Int(v, ty(8, true))
}
const fn u64v(v: u64) -> PrintfArg<'static> {
    PrintfArg::Int(v as i64, ty(8, false))
}

type Row = (&'static [u8], &'static [PrintfArg<'static>], &'static [u8]);

fn show(b: &[u8]) -> String {
    b.escape_ascii().to_string()
}

fn check(rows: &[Row]) {
    let mut failures = Vec::new();
    for &(fmt, args, expected) in rows {
        let parsed = parse(fmt).unwrap_or_else(|e| panic!("{}: {}", show(fmt), e.message));
        assert_eq!(parsed.arg_count(), args.len(), "{}", show(fmt));
        let mut out = b"prefix:".to_vec();
        format_printf(&mut out, &parsed, args).unwrap();
        if &out[7..] != expected {
            failures.push(format!(
                "{}: got \"{}\", expected \"{}\"",
                show(fmt),
                show(&out[7..]),
                show(expected)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn glibc_table() {
    check(TABLE);
}

const TABLE: &[Row] = &[
    (b"%d", &[int(0)], b"0"),
    (b"%d", &[int(42)], b"42"),
    (b"%d", &[int(-42)], b"-42"),
    (b"%d", &[int(2147483647)], b"2147483647"),
    (b"%d", &[int(-2147483648)], b"-2147483648"),
    (b"%i", &[int(-7)], b"-7"),
    (b"%d", &[i64v(-1)], b"-1"),
    (
        b"%d",
        &[i64v(-9223372036854775808)],
        b"-9223372036854775808",
    ),
    (b"%d", &[i64v(9223372036854775807)], b"9223372036854775807"),
    (
        b"%d",
        &[u64v(18446744073709551615)],
        b"18446744073709551615",
    ),
    (b"%d", &[uint(4294967295)], b"4294967295"),
    (b"%d", &[u8v(255)], b"255"),
    (b"%d", &[chr(-1)], b"-1"),
    (b"%d", &[i16v(-32768)], b"-32768"),
    (b"%d", &[u16v(65535)], b"65535"),
    (b"%i", &[u64v(9223372036854775808)], b"9223372036854775808"),
    (b"%d", &[chr(300)], b"44"),
    (b"%d", &[u8v(-1)], b"255"),
    (b"%d", &[int(4294967297)], b"1"),
    (b"%u", &[u16v(70000)], b"4464"),
    (b"%u", &[int(-1)], b"4294967295"),
    (b"%u", &[chr(-1)], b"255"),
    (b"%u", &[i64v(-1)], b"18446744073709551615"),
    (b"%u", &[uint(7)], b"7"),
    (b"%u", &[i16v(-2)], b"65534"),
    (b"%o", &[int(8)], b"10"),
    (b"%o", &[int(-1)], b"37777777777"),
    (
        b"%o",
        &[u64v(18446744073709551615)],
        b"1777777777777777777777",
    ),
    (b"%o", &[u8v(255)], b"377"),
    (b"%o", &[int(0)], b"0"),
    (b"%x", &[int(-1)], b"ffffffff"),
    (b"%x", &[i64v(-1)], b"ffffffffffffffff"),
    (b"%x", &[chr(-1)], b"ff"),
    (b"%x", &[int(255)], b"ff"),
    (b"%x", &[i16v(-1)], b"ffff"),
    (b"%x", &[u64v(244837814094590)], b"deadbeefcafe"),
    (b"%X", &[int(11259375)], b"ABCDEF"),
    (b"%X", &[i64v(-2)], b"FFFFFFFFFFFFFFFE"),
    (b"%p", &[i64v(-131391334099336)], b"ffff888012345678"),
    (b"%p", &[int(-1)], b"ffffffff"),
    (b"%p", &[u64v(0)], b"0"),
    (b"%#p", &[u64v(4660)], b"0x1234"),
    (b"%#p", &[u64v(0)], b"0"),
    (b"%?p|", &[u64v(18446744071578845184)], b"ffffffff81000000|"),
    (b"%?p|", &[u64v(4660)], b"            1234|"),
    (b"%?d|", &[int(5)], b"               5|"),
    (b"%c", &[int(65)], b"A"),
    (b"%c", &[chr(122)], b"z"),
    (b"%c", &[int(321)], b"A"),
    (b"[%5c]", &[int(65)], b"[    A]"),
    (b"[%-5c]", &[int(65)], b"[A    ]"),
    (b"[%c]", &[int(0)], b"[\x00]"),
    (b"%c", &[chr(-1)], b"\xff"),
    (b"[%05c]", &[int(66)], b"[    B]"),
    (b"[%.3c]", &[int(67)], b"[C]"),
    (b"%c%c", &[int(111), u16v(107)], b"ok"),
    (b"%s", &[Str(b"hello")], b"hello"),
    (b"[%16s]", &[Str(b"192.0.2.8")], b"[       192.0.2.8]"),
    (b"[%-16s]", &[Str(b"192.0.2.8")], b"[192.0.2.8       ]"),
    (b"[%.3s]", &[Str(b"abcdef")], b"[abc]"),
    (b"[%10.3s]", &[Str(b"abcdef")], b"[       abc]"),
    (b"[%-10.3s]", &[Str(b"abcdef")], b"[abc       ]"),
    (b"[%s]", &[Str(b"ab\x00cd")], b"[ab]"),
    (b"[%s]", &[Str(b"")], b"[]"),
    (b"[%5s]", &[Str(b"")], b"[     ]"),
    (
        b"[%16s]",
        &[Str(b"a string longer than sixteen")],
        b"[a string longer than sixteen]",
    ),
    (b"[%05s]", &[Str(b"ab")], b"[   ab]"),
    (b"[%.0s]", &[Str(b"abc")], b"[abc]"),
    (b"[%+ #s]", &[Str(b"x")], b"[x]"),
    (b"[%.10s]", &[Str(b"abc")], b"[abc]"),
    (b"[%s]", &[Str(b"\xff\x08\x01")], b"[\xff\x08\x01]"),
    (b"%+d", &[int(5)], b"+5"),
    (b"%+d", &[int(-5)], b"-5"),
    (b"[% d]", &[int(5)], b"[ 5]"),
    (b"[% d]", &[int(-5)], b"[-5]"),
    (b"[%+ d]", &[int(5)], b"[+5]"),
    (b"[% +d]", &[int(0)], b"[+0]"),
    (b"[%05d]", &[int(42)], b"[00042]"),
    (b"[%05d]", &[int(-42)], b"[-0042]"),
    (b"[%-5d]", &[int(42)], b"[42   ]"),
    (b"[%-05d]", &[int(42)], b"[00042]"),
    (b"[%0-5d]", &[int(42)], b"[42   ]"),
    (b"[%+05d]", &[int(42)], b"[+0042]"),
    (b"[% 05d]", &[int(42)], b"[ 0042]"),
    (b"[%5.3d]", &[int(7)], b"[  007]"),
    (b"[%05.3d]", &[int(7)], b"[  007]"),
    (b"[%.5d]", &[int(-42)], b"[-00042]"),
    (b"[%+.3d]", &[int(5)], b"[+005]"),
    (b"[%.0d]", &[int(0)], b"[0]"),
    (b"[%.d]", &[int(0)], b"[0]"),
    (b"[%5.0d]", &[int(0)], b"[    0]"),
    (b"[%.0x]", &[int(0)], b"[0]"),
    (b"[%#o]", &[int(8)], b"[010]"),
    (b"[%#o]", &[int(0)], b"[0]"),
    (b"[%#x]", &[int(255)], b"[0xff]"),
    (b"[%#X]", &[int(255)], b"[0XFF]"),
    (b"[%#x]", &[int(0)], b"[0]"),
    (b"[%#08x]", &[int(255)], b"[0x0000ff]"),
    (b"[%#.4x]", &[int(255)], b"[0x00ff]"),
    (b"[%#5o]", &[int(8)], b"[  010]"),
    (b"[%#.3o]", &[int(8)], b"[010]"),
    (b"[%#.2o]", &[int(8)], b"[010]"),
    (b"[%#-8X]", &[int(48879)], b"[0XBEEF  ]"),
    (b"[%#08o]", &[int(8)], b"[00000010]"),
    (b"[%+u]", &[int(5)], b"[5]"),
    (b"[% x]", &[int(5)], b"[5]"),
    (b"[%+x]", &[int(5)], b"[5]"),
    (b"[%+d]", &[uint(5)], b"[5]"),
    (b"[% d]", &[u64v(5)], b"[5]"),
    (b"[%#d]", &[int(5)], b"[5]"),
    (b"[%#u]", &[int(5)], b"[5]"),
    (b"[%'d]", &[int(1234567)], b"[1234567]"),
    (b"[%1d]", &[int(12345)], b"[12345]"),
    (
        b"[%20d]",
        &[i64v(-9223372036854775808)],
        b"[-9223372036854775808]",
    ),
    (
        b"[%-22u]",
        &[u64v(18446744073709551615)],
        b"[18446744073709551615  ]",
    ),
    (b"[%24o]", &[i64v(-1)], b"[  1777777777777777777777]"),
    (b"[%030x]", &[i64v(-1)], b"[00000000000000ffffffffffffffff]"),
    (b"[%5-d]", &[int(3)], b"[3    ]"),
    (b"%hd", &[i16v(-5)], b"-5"),
    (b"%hi", &[i16v(32767)], b"32767"),
    (b"%hu", &[u16v(65535)], b"65535"),
    (b"%ho", &[u16v(8)], b"10"),
    (b"%hx", &[i16v(-1)], b"ffff"),
    (b"%hX", &[u16v(48879)], b"BEEF"),
    (b"%ld", &[i64v(-5)], b"-5"),
    (
        b"%li",
        &[i64v(-9223372036854775808)],
        b"-9223372036854775808",
    ),
    (
        b"%lu",
        &[u64v(18446744073709551615)],
        b"18446744073709551615",
    ),
    (b"%lo", &[u64v(8)], b"10"),
    (b"%lx", &[u64v(18446612682375452280)], b"ffff888012345678"),
    (b"%lX", &[i64v(-1)], b"FFFFFFFFFFFFFFFF"),
    (
        b"%lld",
        &[i64v(-9223372036854775808)],
        b"-9223372036854775808",
    ),
    (b"%lli", &[i64v(12)], b"12"),
    (
        b"%llu",
        &[u64v(18446744073709551615)],
        b"18446744073709551615",
    ),
    (b"%llo", &[u64v(511)], b"777"),
    (b"%llx", &[i64v(-1)], b"ffffffffffffffff"),
    (b"%llX", &[u64v(2748)], b"ABC"),
    (b"[%-+8ld]", &[i64v(77)], b"[+77     ]"),
    (b"[%*d]", &[int(5), int(42)], b"[   42]"),
    (b"[%*d]", &[int(-5), int(42)], b"[42   ]"),
    (b"[%-*d]", &[int(5), int(42)], b"[42   ]"),
    (b"[%*d]", &[int(0), int(42)], b"[42]"),
    (b"[%.*d]", &[int(3), int(7)], b"[007]"),
    (b"[%.*d]", &[int(-3), int(7)], b"[7]"),
    (b"[%.*d]", &[int(0), int(0)], b"[0]"),
    (b"[%.*s]", &[int(2), Str(b"abc")], b"[ab]"),
    (b"[%*.*s]", &[int(6), int(2), Str(b"abcdef")], b"[    ab]"),
    (b"[%*s]", &[u8v(255), Str(b"x")], b"[x]"),
    (b"[%*d]", &[i64v(4294967301), int(42)], b"[   42]"),
    (b"[%*d]", &[u16v(65535), int(42)], b"[42]"),
    (b"[%0*d]", &[int(6), int(-42)], b"[-00042]"),
    (b"[%*.*d]", &[int(-8), int(4), int(42)], b"[0042    ]"),
    (
        b"[%*x|%.*o]",
        &[int(4), int(255), u64v(3), int(8)],
        b"[  ff|010]",
    ),
    (b"[%5*d]", &[int(2), int(1)], b"[ 1]"),
    (b"[%.*5d]", &[int(2), int(1)], b"[01]"),
    (b"100%%", &[], b"100%"),
    (b"%d%%", &[int(5)], b"5%"),
    (b"%%d%%%s", &[Str(b"x")], b"%d%x"),
    (
        b" %3s %15s:%-5s %15s:%-5s %6s %s\x0a",
        &[
            Str(b"CPU"),
            Str(b"LADDR"),
            Str(b"LPORT"),
            Str(b"RADDR"),
            Str(b"RPORT"),
            Str(b"BYTES"),
            Str(b"FLAGS"),
        ],
        b" CPU           LADDR:LPORT           RADDR:RPORT  BYTES FLAGS\x0a",
    ),
    (
        b" %3d %16s:%-5d -> %16s:%-5d %6d (",
        &[
            int(1),
            Str(b"192.0.2.8"),
            u16v(22),
            Str(b"192.0.2.40"),
            u16v(60337),
            int(464),
        ],
        b"   1        192.0.2.8:22    ->       192.0.2.40:60337    464 (",
    ),
    (
        b" %3d %16s:%-5d <- %16s:%-5d %6d (",
        &[
            int(3),
            Str(b"192.0.2.8"),
            u16v(22),
            Str(b"192.0.2.40"),
            u16v(60337),
            int(0),
        ],
        b"   3        192.0.2.8:22    <-       192.0.2.40:60337      0 (",
    ),
    (
        b" %3d %16s:%-5d -> %16s:%-5d %6d (",
        &[
            int(12),
            Str(b"2001:db8::1"),
            u16v(65535),
            Str(b"fe80::1234:5678:9abc"),
            u16v(443),
            int(-20),
        ],
        b"  12      2001:db8::1:65535 -> fe80::1234:5678:9abc:443      -20 (",
    ),
    (b"%s", &[Str(b"PUSH|")], b"PUSH|"),
    (b"\x08)\x0a", &[], b"\x08)\x0a"),
    (b"%f", &[int(0)], b"0.000000"),
    (b"%f", &[int(1)], b"1.000000"),
    (b"%f", &[int(-1)], b"-1.000000"),
    (b"%f", &[int(123456789)], b"123456789.000000"),
    (b"%e", &[int(0)], b"0.000000e+00"),
    (b"%e", &[int(1)], b"1.000000e+00"),
    (b"%e", &[int(12345)], b"1.234500e+04"),
    (b"%e", &[int(-12345)], b"-1.234500e+04"),
    (b"%e", &[int(99999999)], b"1.000000e+08"),
    (b"%e", &[int(123456789)], b"1.234568e+08"),
    (b"%.2e", &[int(125)], b"1.25e+02"),
    (b"%.1e", &[int(125)], b"1.2e+02"),
    (b"%.1e", &[int(135)], b"1.4e+02"),
    (b"%.1e", &[int(1250001)], b"1.3e+06"),
    (b"%.3e", &[int(12345)], b"1.234e+04"),
    (b"%.3e", &[int(12355)], b"1.236e+04"),
    (b"%E", &[int(31415)], b"3.141500E+04"),
    (b"%g", &[int(0)], b"0"),
    (b"%g", &[int(100000)], b"100000"),
    (b"%g", &[int(1000000)], b"1e+06"),
    (b"%g", &[int(123456789)], b"1.23457e+08"),
    (b"%g", &[int(999999)], b"999999"),
    (b"%g", &[int(9999995)], b"1e+07"),
    (b"%g", &[int(9999985)], b"9.99998e+06"),
    (b"%G", &[int(1000000)], b"1E+06"),
    (b"%#g", &[int(1)], b"1.00000"),
    (b"%#g", &[int(1000000)], b"1.00000e+06"),
    (b"%.3g", &[int(1234)], b"1.23e+03"),
    (b"%.3g", &[int(999)], b"999"),
    (b"%.3g", &[int(9995)], b"1e+04"),
    (b"%.1g", &[int(15)], b"2e+01"),
    (b"%.1g", &[int(25)], b"2e+01"),
    (b"%.10g", &[int(123456)], b"123456"),
    (b"[%10.2f]", &[int(42)], b"[     42.00]"),
    (b"[%-10.1e]", &[int(42)], b"[4.2e+01   ]"),
    (b"%+f", &[int(3)], b"+3.000000"),
    (b"[% e]", &[int(3)], b"[ 3.000000e+00]"),
    (b"[%010.2f]", &[int(-42)], b"[-000042.00]"),
    (b"[%-010.2f]", &[int(-42)], b"[-000042.00]"),
    (b"[%+012e]", &[int(42)], b"[+4.200000e+01]"),
    (b"%#.0f", &[int(3)], b"3.000000"),
    (b"%.0e", &[int(25)], b"2.500000e+01"),
    (b"%#.0e", &[int(25)], b"2.500000e+01"),
    (b"%e", &[u64v(18446744073709551615)], b"1.844674e+19"),
    (
        b"%f",
        &[u64v(18446744073709551615)],
        b"18446744073709551616.000000",
    ),
    (
        b"%f",
        &[i64v(-9223372036854775808)],
        b"-9223372036854775808.000000",
    ),
    (
        b"%.20g",
        &[u64v(18446744073709551615)],
        b"18446744073709551616",
    ),
    (b"%.25g", &[int(1)], b"1"),
    (b"%#.25g", &[int(1)], b"1.000000000000000000000000"),
    (b"%.30f", &[int(1)], b"1.000000000000000000000000000000"),
    (
        b"%.25e",
        &[i64v(9007199254740993)],
        b"9.0071992547409920000000000e+15",
    ),
    (b"%f", &[chr(-1)], b"-1.000000"),
    (b"%f", &[u8v(-1)], b"255.000000"),
    (b"%Lf", &[int(2)], b"2.000000"),
    (b"%LE", &[int(2)], b"2.000000E+00"),
    (b"%.*f", &[int(2), int(5)], b"5.00"),
    (b"%g", &[i64v(100000000000000000)], b"1e+17"),
    (b"%G", &[i64v(-123456789012)], b"-1.23457E+11"),
    (b"%.2g", &[int(95)], b"95"),
    (b"%.2g", &[int(85)], b"85"),
    (b"%.15g", &[i64v(9007199254740993)], b"9.00719925474099e+15"),
];
