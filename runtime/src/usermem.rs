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
