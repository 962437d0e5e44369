//! D string subroutines on byte strings (no NUL inside), shared by the JIT's
//! helpers and the reference interpreter. Results are bounded by `strsize`
//! as DTrace bounds them.

/// `strjoin(a, b)`.
pub fn strjoin(a: &[u8], b: &[u8], strsize: usize, out: &mut Vec<u8>) {
    out.extend_from_slice(a);
    out.extend_from_slice(b);
    out.truncate(strsize);
}

/// `substr(s, index [, length])`, following DTrace (negative `index` counts
/// from the end; negative `length` leaves that many characters off the end).
pub fn substr(s: &[u8], index: i64, length: Option<i64>, strsize: usize, out: &mut Vec<u8>) {
    // In 128 bits, so that no index or length a script gives can overflow.
    let len = s.len() as i128;
    let size = strsize as i128;
    let mut index = i128::from(index);
    let mut remaining = length.map_or(size, i128::from);
    if index < 0 {
        index += len;
        if index < 0 && index + remaining > 0 {
            remaining += index;
            index = 0;
        }
    }
    if index >= len || index < 0 {
        remaining = 0;
    } else if remaining < 0 {
        remaining += len - index;
    } else if index + remaining > size {
        remaining = size - index;
    }
    if remaining > 0 {
        let end = (index + remaining).min(len) as usize;
        out.extend_from_slice(&s[index as usize..end]);
    }
}

/// `index(s, sub [, start])`: first position >= start (clamped to the
/// string) where `sub` occurs, else -1. Like Perl's index, which D follows.
pub fn index(s: &[u8], sub: &[u8], start: Option<i64>) -> i64 {
    let len = s.len() as i64;
    let start = start.unwrap_or(0).clamp(0, len) as usize;
    if sub.is_empty() {
        return start as i64;
    }
    (start..s.len())
        .find(|&i| s[i..].starts_with(sub))
        .map_or(-1, |i| i as i64)
}

/// `rindex(s, sub [, start])`: last position <= start where `sub` occurs.
pub fn rindex(s: &[u8], sub: &[u8], start: Option<i64>) -> i64 {
    let len = s.len() as i64;
    // dtrace: a negative start finds nothing (an empty `sub` is at 0).
    if start.is_some_and(|p| p < 0) {
        return if sub.is_empty() { 0 } else { -1 };
    }
    let start = start.unwrap_or(len).clamp(0, len) as usize;
    if sub.is_empty() {
        return start as i64;
    }
    (0..=start.min(s.len()))
        .rev()
        .find(|&i| s[i..].starts_with(sub))
        .map_or(-1, |i| i as i64)
}

/// `strchr(s, c)`: offset of the first `c`.
pub fn strchr(s: &[u8], c: u8) -> Option<usize> {
    s.iter().position(|&b| b == c)
}

/// `strrchr(s, c)`: offset of the last `c`.
pub fn strrchr(s: &[u8], c: u8) -> Option<usize> {
    s.iter().rposition(|&b| b == c)
}

/// `strstr(s, sub)`: offset of the first occurrence of `sub`.
pub fn strstr(s: &[u8], sub: &[u8]) -> Option<usize> {
    if sub.is_empty() {
        return Some(0);
    }
    s.windows(sub.len()).position(|w| w == sub)
}

/// `lltostr(v [, base])`: signed decimal, or unsigned digits in `base`
/// (2..=36; the checker refuses a constant outside, a computed one is
/// clamped) with "0x" for hex and "0" for octal, as illumos prints them.
pub fn lltostr(v: i64, base: Option<i64>, out: &mut Vec<u8>) {
    match base {
        None | Some(10) => out.extend_from_slice(v.to_string().as_bytes()),
        Some(b) => {
            let b = b.clamp(2, 36) as u64;
            let mut x = v as u64;
            let mut digits = Vec::new();
            loop {
                digits.push(b"0123456789abcdefghijklmnopqrstuvwxyz"[(x % b) as usize]);
                x /= b;
                if x == 0 {
                    break;
                }
            }
            // illumos' DIF_SUBR_LLTOSTR: hex gets "0x", octal a leading
            // 0 (zero is "0x0" in hex, "0" in octal).
            match b {
                16 => out.extend_from_slice(b"0x"),
                8 if v != 0 => out.push(b'0'),
                _ => {}
            }
            out.extend(digits.iter().rev());
        }
    }
}

/// `toupper(s)` / `tolower(s)`: ASCII only, as DTrace.
pub fn change_case(s: &[u8], upper: bool, out: &mut Vec<u8>) {
    out.extend(s.iter().map(|b| {
        if upper {
            b.to_ascii_uppercase()
        } else {
            b.to_ascii_lowercase()
        }
    }));
}

/// `strtok(s, delims)` over saved state: `text` holds the string being
/// tokenised and `pos` how far it has been consumed. Skips delimiters,
/// returns the next token (bounded by `strsize - 1` as DTrace's copy is)
/// or None at the end of the string.
pub fn strtok_next<'a>(
    text: &'a [u8],
    pos: &mut usize,
    delims: &[u8],
    strsize: usize,
) -> Option<&'a [u8]> {
    let is_delim = |c: u8| delims.contains(&c);
    let mut i = (*pos).min(text.len());
    while i < text.len() && is_delim(text[i]) {
        i += 1;
    }
    if i == text.len() {
        *pos = text.len();
        return None;
    }
    let start = i;
    while i < text.len() && !is_delim(text[i]) && i - start < strsize.saturating_sub(1) {
        i += 1;
    }
    *pos = i;
    Some(&text[start..i])
}

/// Byte-order conversions on x86-64/aarch64 (little-endian hosts).
pub fn swap16(v: i64) -> i64 {
    (v as u16).swap_bytes() as i64
}
pub fn swap32(v: i64) -> i64 {
    (v as u32).swap_bytes() as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub(s: &str, i: i64, l: Option<i64>) -> String {
        let mut o = Vec::new();
        substr(s.as_bytes(), i, l, 256, &mut o);
        String::from_utf8(o).unwrap()
    }

    #[test]
    fn substr_never_overflows() {
        for i in [i64::MIN, i64::MIN + 1, -1, 0, 1, i64::MAX] {
            for l in [
                None,
                Some(i64::MIN),
                Some(-1),
                Some(0),
                Some(1),
                Some(i64::MAX),
            ] {
                let _ = sub("abc", i, l);
            }
        }
        assert_eq!(sub("abc", 1, Some(i64::MAX)), "bc");
        assert_eq!(sub("abc", i64::MAX, Some(i64::MAX)), "");
    }

    #[test]
    fn substr_cases() {
        // From the D guide's substr() examples.
        assert_eq!(sub("coconut", 3, None), "onut");
        assert_eq!(sub("coconut", 3, Some(2)), "on");
        assert_eq!(sub("coconut", -2, None), "ut");
        assert_eq!(sub("coconut", 0, Some(-3)), "coco");
        assert_eq!(sub("coconut", 10, None), "");
        assert_eq!(sub("coconut", -10, Some(5)), "co");
    }

    #[test]
    fn index_cases() {
        assert_eq!(index(b"hello hello", b"llo", None), 2);
        assert_eq!(index(b"hello hello", b"llo", Some(3)), 8);
        assert_eq!(index(b"hello", b"z", None), -1);
        assert_eq!(rindex(b"hello hello", b"llo", None), 8);
        assert_eq!(rindex(b"hello hello", b"llo", Some(7)), 2);
        assert_eq!(strchr(b"abcabc", b'c'), Some(2));
        assert_eq!(strrchr(b"abcabc", b'c'), Some(5));
        assert_eq!(strstr(b"abcabc", b"ca"), Some(2));
    }

    #[test]
    fn strtok_tokens() {
        let (text, mut pos) = (b"  a,b,,c ", 0);
        let mut toks = Vec::new();
        while let Some(t) = strtok_next(text, &mut pos, b" ,", 256) {
            toks.push(t.to_vec());
        }
        assert_eq!(toks, vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]);
    }

    #[test]
    fn numbers() {
        let mut o = Vec::new();
        lltostr(-42, None, &mut o);
        assert_eq!(o, b"-42");
        for (v, base, text) in [
            (255, 16, "0xff"),
            (0, 16, "0x0"),
            (8, 8, "010"),
            (0, 8, "0"),
            (5, 2, "101"),
            (-1, 16, "0xffffffffffffffff"),
        ] {
            o.clear();
            lltostr(v, Some(base), &mut o);
            assert_eq!(o, text.as_bytes(), "lltostr({v}, {base})");
        }
        assert_eq!(swap16(0x1234), 0x3412);
        assert_eq!(swap32(0x11223344), 0x44332211);
    }
}
