//! Output of the `trace()` action, as dtrace(1)'s consumer prints a
//! recorded value: integers by the size of their type (`%d`, or in
//! non-quiet mode right-justified in a field), strings as they are (or
//! left-justified in 33 columns after two spaces).

use std::io::Write;

/// `trace()` of an integer of `size` bytes. dtrace passes 1- and 2-byte
/// values unsigned and 4-byte values as `int` to its printf, so a 4-byte
/// -1 prints `-1` but a 2-byte -1 prints `65535`.
pub(crate) fn trace_int(out: &mut Vec<u8>, v: i64, size: u8, quiet: bool) {
    let _ = match (size, quiet) {
        (8, true) => write!(out, "{v}"),
        (8, false) => write!(out, " {v:>16}"),
        (4, true) => write!(out, "{}", v as i32),
        (4, false) => write!(out, " {:>8}", v as i32),
        (2, true) => write!(out, "{}", v as u16),
        (2, false) => write!(out, " {:>5}", v as u16),
        (_, true) => write!(out, "{}", v as u8),
        (_, false) => write!(out, " {:>3}", v as u8),
    };
}

/// `trace()` of a string.
pub(crate) fn trace_str(out: &mut Vec<u8>, s: &[u8], quiet: bool) {
    if quiet {
        out.extend_from_slice(s);
    } else {
        out.extend_from_slice(b"  ");
        out.extend_from_slice(s);
        for _ in s.len()..33 {
            out.push(b' ');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts() {
        let mut o = Vec::new();
        trace_int(&mut o, 42, 4, false);
        assert_eq!(o, b"       42");
        o.clear();
        trace_int(&mut o, -1, 2, true);
        assert_eq!(o, b"65535");
        o.clear();
        trace_int(&mut o, -1, 8, false);
        assert_eq!(o, b"               -1");
        o.clear();
        trace_str(&mut o, b"abc", false);
        assert_eq!(o.len(), 2 + 33);
        assert!(o.starts_with(b"  abc "));
    }
}

/// `tracemem()`: the bytes as dtrace's raw dump prints them — a header
/// of column digits, then per 16 bytes the offset, the bytes in hex and
/// as characters ('.' for unprintable ones).
pub(crate) fn tracemem(out: &mut Vec<u8>, bytes: &[u8]) {
    if bytes.is_empty() {
        return;
    }
    const MARGIN: usize = 5;
    let _ = write!(out, "\n{:MARGIN$}      ", "");
    for d in "0123456789abcdef".chars() {
        let _ = write!(out, "  {d}");
    }
    out.extend_from_slice(b"  0123456789abcdef\n");
    for (row, chunk) in bytes.chunks(16).enumerate() {
        let _ = write!(out, "{:MARGIN$}{:5x}:", "", row * 16);
        for b in chunk {
            let _ = write!(out, " {b:02x}");
        }
        for _ in chunk.len()..16 {
            out.extend_from_slice(b"   ");
        }
        out.extend_from_slice(b"  ");
        out.extend(
            chunk
                .iter()
                .map(|&c| if (b' '..=b'~').contains(&c) { c } else { b'.' }),
        );
        out.push(b'\n');
    }
}

#[cfg(test)]
mod tracemem_tests {
    #[test]
    fn rows_of_sixteen_with_dtraces_margins() {
        let mut out = Vec::new();
        super::tracemem(&mut out, b"hello, world\n\x00\x01\x02\x7fabc");
        let header = format!(
            "\n{}{}  0123456789abcdef\n",
            " ".repeat(11),
            "0123456789abcdef"
                .chars()
                .map(|c| format!("  {c}"))
                .collect::<String>()
        );
        let want = header
            + "         0: 68 65 6c 6c 6f 2c 20 77 6f 72 6c 64 0a 00 01 02  hello, world....\n"
            + "        10: 7f 61 62 63                                      .abc\n";
        assert_eq!(String::from_utf8(out).unwrap(), want);
    }
}
