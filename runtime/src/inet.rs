//! IP addresses as D strings, byte for byte as DTrace prints them.

/// IPv4 dotted quad of the four address bytes (network order).
pub fn format_ipv4(addr: [u8; 4], out: &mut Vec<u8>) {
    for (i, b) in addr.iter().enumerate() {
        if i > 0 {
            out.push(b'.');
        }
        push_decimal(*b as u64, out);
    }
}

/// IPv6 as DTrace's non-strict `inet_ntoa6`: 16-bit hex groups in lower
/// case with one run of zero groups compressed to `::`; v4-mapped
/// (`::ffff:a.b.c.d`) and v4-compatible (`::a.b.c.d`) addresses print as
/// the bare dotted quad.
///
/// The zero-run choice follows DTrace's own loop (dtrace_dif_subr,
/// DIF_SUBR_INET_NTOA6), which differs from RFC 5952 in small ways: the
/// first longest run wins, a run must be longer than one group unless it is
/// trailing, and a single trailing zero group is not compressed.
pub fn format_ipv6(a: [u8; 16], out: &mut Vec<u8>) {
    if is_v4_mapped(&a) || is_v4_compat(&a) {
        format_ipv4([a[12], a[13], a[14], a[15]], out);
        return;
    }
    let (firstzero, numzero) = zero_run(&a);
    // DTrace builds the string backwards; collect groups the same way.
    let mut rev: Vec<u8> = Vec::with_capacity(40);
    let mut i: i32 = 14;
    while i >= 0 {
        if i == firstzero + numzero - 2 {
            rev.extend_from_slice(b"::");
            i -= numzero - 2;
            i -= 2;
            continue;
        }
        if i < 14 && i != firstzero - 2 {
            rev.push(b':');
        }
        let mut val = ((a[i as usize] as u16) << 8) | a[i as usize + 1] as u16;
        if val == 0 {
            rev.push(b'0');
        } else {
            while val != 0 {
                rev.push(b"0123456789abcdef"[(val % 16) as usize]);
                val /= 16;
            }
        }
        i -= 2;
    }
    out.extend(rev.iter().rev());
}

/// (first byte of the compressed zero run, its length in bytes); -1/1 when
/// nothing is compressed. A transcription of DTrace's search.
fn zero_run(a: &[u8; 16]) -> (i32, i32) {
    let (mut firstzero, mut tryzero, mut numzero) = (-1i32, -1i32, 1i32);
    for i in 0..16i32 {
        let b = a[i as usize];
        if b == 0 && tryzero == -1 && i % 2 == 0 {
            tryzero = i;
            continue;
        }
        if tryzero != -1 && (b != 0 || i == 15) {
            if i - tryzero <= numzero {
                tryzero = -1;
                continue;
            }
            firstzero = tryzero;
            numzero = i - i % 2 - tryzero;
            tryzero = -1;
            if b == 0 && i == 15 {
                numzero += 2;
            }
        }
    }
    (firstzero, numzero)
}

fn is_v4_mapped(a: &[u8; 16]) -> bool {
    a[..10].iter().all(|&b| b == 0) && a[10] == 0xff && a[11] == 0xff
}

/// `::a.b.c.d` with the last word above 1 (so `::` and `::1` are not).
fn is_v4_compat(a: &[u8; 16]) -> bool {
    a[..12].iter().all(|&b| b == 0) && u32::from_be_bytes([a[12], a[13], a[14], a[15]]) > 1
}

fn push_decimal(mut v: u64, out: &mut Vec<u8>) {
    let mut buf = [0u8; 20];
    let mut n = 0;
    loop {
        buf[n] = b'0' + (v % 10) as u8;
        n += 1;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend(buf[..n].iter().rev());
}

/// An address field of an event record: IPv4 when `version` is 4, else IPv6.
pub fn format_addr(addr: &[u8; 16], version: u8, out: &mut Vec<u8>) {
    if version == 4 {
        format_ipv4([addr[0], addr[1], addr[2], addr[3]], out);
    } else {
        format_ipv6(*addr, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v6(s: &str) -> String {
        let a: std::net::Ipv6Addr = s.parse().unwrap();
        let mut out = Vec::new();
        format_ipv6(a.octets(), &mut out);
        String::from_utf8(out).unwrap()
    }

    // Expected strings from dtrace-utils test/unittest/funcs/inet_ntoa6/tst.inet_ntoa6.r
    #[test]
    fn dtrace_utils_cases() {
        assert_eq!(v6("fe80::214:4fff:fe0b:76c8"), "fe80::214:4fff:fe0b:76c8");
        assert_eq!(v6("1080::808:c:417a"), "1080::808:c:417a");
        assert_eq!(v6("::1"), "::1");
        assert_eq!(v6("::"), "::");
        assert_eq!(v6("::127.0.0.1"), "127.0.0.1");
        assert_eq!(v6("::ffff:127.0.0.1"), "127.0.0.1");
        assert_eq!(v6("::fffe:7f00:1"), "::fffe:7f00:1");
        assert_eq!(v6("fe12:3456:789a:bcde:214::"), "fe12:3456:789a:bcde:214::");
        assert_eq!(
            v6("fe12:3456:789a:bcde:214:4fff::"),
            "fe12:3456:789a:bcde:214:4fff::"
        );
        assert_eq!(
            v6("fe12:3456:789a:bcde:214:4fff:fe0b:0"),
            "fe12:3456:789a:bcde:214:4fff:fe0b:0"
        );
    }

    #[test]
    fn common_addresses() {
        assert_eq!(v6("fe80::1"), "fe80::1");
        assert_eq!(v6("2001:db8::8"), "2001:db8::8");
        assert_eq!(v6("::ffff:192.0.2.8"), "192.0.2.8");
        let mut out = Vec::new();
        format_ipv4([192, 0, 2, 40], &mut out);
        assert_eq!(out, b"192.0.2.40");
    }
}
