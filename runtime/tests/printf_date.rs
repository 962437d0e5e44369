//! `%Y`: nanoseconds since the epoch as local time, "1973 Dec  3 17:20:00",
//! honouring TZ. Expected strings were produced once by a C program doing
//! what libdtrace's pfprint_time does (ctime_r, year moved to the front)
//! under each TZ, then written down here.
//!
//! One test function only: it changes the process's TZ.

use rdtrace_lang::format::parse;
use rdtrace_lang::types::IntType;
use rdtrace_runtime::printf::{format_printf, PrintfArg};

const fn i64v(v: i64) -> PrintfArg<'static> {
    PrintfArg::Int(v, IntType::INT64)
}
const fn u64v(v: u64) -> PrintfArg<'static> {
    PrintfArg::Int(v as i64, IntType::UINT64)
}

type Row = (&'static [u8], &'static [PrintfArg<'static>], &'static [u8]);

extern "C" {
    fn tzset();
}

fn check(rows: &[Row]) {
    for &(fmt, args, expected) in rows {
        let mut out = Vec::new();
        format_printf(&mut out, &parse(fmt).unwrap(), args).unwrap();
        assert_eq!(
            out.escape_ascii().to_string(),
            expected.escape_ascii().to_string()
        );
    }
}

#[test]
fn date_in_local_time() {
    // A POSIX TZ rule, so no zoneinfo files are needed.
    std::env::set_var("TZ", "EST5EDT,M3.2.0,M11.1.0");
    check(EST5EDT);
    std::env::set_var("TZ", "UTC");
    // SAFETY: re-reads TZ into libc's time zone state; no other thread of
    // this test binary formats times.
    unsafe { tzset() };
    check(UTC);
}

const EST5EDT: &[Row] = &[
    (b"%Y", &[i64v(0)], b"1969 Dec 31 19:00:00"),
    (b"%Y", &[u64v(123456789000000000)], b"1973 Nov 29 16:33:09"),
    (b"[%25Y]", &[i64v(0)], b"[     1969 Dec 31 19:00:00]"),
    (b"[%-25Y]", &[i64v(0)], b"[1969 Dec 31 19:00:00     ]"),
    (b"[%.4Y]", &[i64v(0)], b"[1969]"),
    (b"%Y", &[i64v(-1)], b"1969 Dec 31 19:00:00"),
    (b"%Y", &[i64v(-1000000000)], b"1969 Dec 31 18:59:59"),
    (b"%Y", &[u64v(1700000000999999999)], b"2023 Nov 14 17:13:20"),
    (b"%Y", &[i64v(1720000000000000000)], b"2024 Jul  3 05:46:40"),
    (b"%Y", &[i64v(1234567890123456789)], b"2009 Feb 13 18:31:30"),
];

const UTC: &[Row] = &[
    (b"%Y", &[i64v(0)], b"1970 Jan  1 00:00:00"),
    (b"%Y", &[u64v(123456789000000000)], b"1973 Nov 29 21:33:09"),
    (b"[%25Y]", &[i64v(0)], b"[     1970 Jan  1 00:00:00]"),
    (b"[%-25Y]", &[i64v(0)], b"[1970 Jan  1 00:00:00     ]"),
    (b"[%.4Y]", &[i64v(0)], b"[1970]"),
    (b"%Y", &[i64v(-1)], b"1970 Jan  1 00:00:00"),
    (b"%Y", &[i64v(-1000000000)], b"1969 Dec 31 23:59:59"),
    (b"%Y", &[u64v(1700000000999999999)], b"2023 Nov 14 22:13:20"),
    (b"%Y", &[i64v(1720000000000000000)], b"2024 Jul  3 09:46:40"),
    (b"%Y", &[i64v(1234567890123456789)], b"2009 Feb 13 23:31:30"),
];
