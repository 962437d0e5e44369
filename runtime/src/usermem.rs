//! The value of `copyin`/`copyinstr`: the user memory the record carries
//! for the call's capture site, copied by the kernel when the probe fired.
//! Shared by the JIT's helper and the interpreter.

use rdtrace_lang::catalog::CaptureArea;
use rdtrace_lang::typed::CopyKind;
use rdtrace_record::{captures, CAPTURE_OK};

use crate::firing::FaultKind;

/// Why the memory is not there: DTrace's fault and the address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trap {
    pub kind: FaultKind,
    pub addr: u64,
}

impl From<FaultKind> for Trap {
    fn from(kind: FaultKind) -> Trap {
        Trap { kind, addr: 0 }
    }
}

/// The bytes of `copyinstr(addr[, len])` (without the NUL, at most
/// `strsize` or `len`) or `copyin(addr, len)` for capture `site`.
pub fn copied(
    record: &[u8],
    area: CaptureArea,
    site: u16,
    kind: CopyKind,
    addr: u64,
    len: Option<i64>,
    strsize: usize,
) -> Result<&[u8], Trap> {
    let bad = Trap {
        kind: FaultKind::BadAddr,
        addr,
    };
    let at = area.count_at as usize;
    let count = record
        .get(at..at + 4)
        .map_or(0, |b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]) as usize);
    // The capture of this site for this address (a clause's address can
    // only differ from the captured one when a self-> variable changed
    // between the capture and the clause).
    let Some((h, bytes)) = captures(record, area.data_at as usize, count)
        .into_iter()
        .find(|(h, _)| h.site == site && h.addr == addr)
    else {
        return Err(bad);
    };
    if h.status != CAPTURE_OK {
        return Err(bad);
    }
    match kind {
        CopyKind::Str => {
            let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
            let limit = len.map_or(strsize, |l| (l.max(0) as usize).min(strsize));
            Ok(&bytes[..end.min(limit)])
        }
        CopyKind::Bytes => {
            let want = len.unwrap_or(0).max(0) as usize;
            // The kernel copies at most one page per call: more is DTrace's
            // "out of scratch space", never a short value.
            bytes.get(..want).ok_or(Trap {
                kind: FaultKind::NoScratch,
                addr,
            })
        }
    }
}

/// Reading copied-in memory through C types (`Type::Buf` values): every
/// read is bounds-checked; past the copied bytes is DTrace's invalid
/// address (the offset past the end stands for the address).
pub mod buf {
    use super::Trap;
    use crate::firing::FaultKind;
    use rdtrace_lang::types::IntType;

    fn past_end(offset: usize) -> Trap {
        Trap {
            kind: FaultKind::BadAddr,
            addr: offset as u64,
        }
    }

    /// The integer `int` at `offset`, native-endian as in memory.
    pub fn load(bytes: &[u8], offset: u32, int: IntType) -> Result<i64, Trap> {
        let (at, size) = (offset as usize, int.size as usize);
        let b = bytes.get(at..at + size).ok_or(past_end(at + size))?;
        let mut raw = [0u8; 8];
        raw[..size].copy_from_slice(b);
        Ok(int.normalize(i64::from_ne_bytes(raw)))
    }

    /// `len` bytes at `offset` (`&p->member`).
    pub fn slice(bytes: &[u8], offset: u32, len: u32) -> Result<&[u8], Trap> {
        let (at, n) = (offset as usize, len as usize);
        bytes.get(at..at + n).ok_or(past_end(at + n))
    }

    /// How many of tracemem's `size` bytes are printed: `dsize` when it is
    /// given, not negative and smaller (as dtrace's dt_print_tracemem).
    pub fn tracemem_len(size: i64, dsize: Option<i64>) -> usize {
        let size = size.max(0) as usize;
        match dsize {
            Some(d) if d >= 0 && (d as usize) < size => d as usize,
            _ => size,
        }
    }

    /// `stringof`: the bytes up to the first NUL, at most `strsize`.
    pub fn string(bytes: &[u8], strsize: usize) -> &[u8] {
        let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
        &bytes[..end.min(strsize)]
    }

    /// inet_ntoa (4 bytes) or inet_ntoa6 (16 bytes) of the address bytes.
    pub fn inet(bytes: &[u8], v6: bool, out: &mut Vec<u8>) -> Result<(), Trap> {
        if v6 {
            let a: [u8; 16] = slice(bytes, 0, 16)?.try_into().unwrap_or([0; 16]);
            crate::inet::format_ipv6(a, out);
        } else {
            let a: [u8; 4] = slice(bytes, 0, 4)?.try_into().unwrap_or([0; 4]);
            crate::inet::format_ipv4(a, out);
        }
        Ok(())
    }
}
