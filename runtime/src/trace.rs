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
