//! The record header and plain-data access to records. The C side of the
//! header is `probes/bpf/event.h`; `probes/tests/event_layout.rs` compares
//! them field by field.

/// A probe's catalog id (dtrace's probe ID, as `-l` prints it), carried in
/// every record's header.
pub type ProbeId = u32;

/// Common header at offset 0 of every record. Built-in variables such as
/// `cpu`, `pid`, `execname` and `timestamp` read from here.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventHeader {
    /// Live: `bpf_ktime_get_ns()` (CLOCK_MONOTONIC). Replay: capture time,
    /// nanoseconds since the epoch.
    pub ts_ns: u64,
    /// The probe this record fires.
    pub probe: ProbeId,
    pub cpu: u32,
    /// Current task (tgid, pid in Linux terms); 0 in softirq context and in replay.
    pub pid: u32,
    pub tid: u32,
    pub ppid: u32,
    pub uid: u32,
    pub gid: u32,
    /// Network namespace inode of the device the packet crossed.
    pub netns: u32,
    pub comm: [u8; 16],
}

/// Plain-old-data records that can be viewed as and read from raw bytes.
///
/// # Safety
/// Implementors are `#[repr(C)]`, have no implicit padding and accept every
/// bit pattern.
pub unsafe trait Record: Copy + Sized {
    /// The record's bytes, as the ring buffer carries them.
    fn as_bytes(&self) -> &[u8] {
        // SAFETY: Record types are repr(C) without implicit padding, so all
        // size_of::<Self>() bytes are initialised; the slice borrows self.
        unsafe {
            std::slice::from_raw_parts(
                self as *const Self as *const u8,
                std::mem::size_of::<Self>(),
            )
        }
    }
    /// Reads a record from the start of `bytes`; None when too short.
    fn read_from(bytes: &[u8]) -> Option<Self> {
        if bytes.len() < std::mem::size_of::<Self>() {
            return None;
        }
        // SAFETY: length checked; every bit pattern is valid; unaligned read.
        Some(unsafe { std::ptr::read_unaligned(bytes.as_ptr() as *const Self) })
    }
}

// SAFETY: repr(C), every field an integer or byte array, no implicit
// padding (8 + 8 * 4 + 16 = 56 bytes, checked below).
unsafe impl Record for EventHeader {}

/// The header of any record; None when `bytes` is shorter than a header.
pub fn header_of(bytes: &[u8]) -> Option<EventHeader> {
    EventHeader::read_from(bytes)
}

/// The record the runtime builds to fire `dtrace:::ERROR`: the faulting
/// record's header (probe id replaced by ERROR's) and dtrace's arguments
/// (arg1 = epid, arg2 = action index, arg3 = DIF offset (0), arg4 = fault
/// code, arg5 = faulting address).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ErrorRecord {
    pub hdr: EventHeader,
    pub args: [u64; 6],
}

// SAFETY: repr(C), a Record header followed by u64s at an 8-aligned offset:
// no implicit padding.
unsafe impl Record for ErrorRecord {}

/// `CaptureHeader::status` of memory that was read.
pub const CAPTURE_OK: u16 = 0;
/// `CaptureHeader::status` of an address that could not be read.
pub const CAPTURE_FAULT: u16 = 1;

/// One piece of user memory a record carries after its fixed part, copied
/// when the probe fired: this header, then `len` bytes padded to 8.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CaptureHeader {
    /// The capture site: which `copyin`/`copyinstr` call it is for.
    pub site: u16,
    /// [`CAPTURE_OK`] or [`CAPTURE_FAULT`].
    pub status: u16,
    /// Bytes that follow (for a string, with its NUL).
    pub len: u32,
    /// The user address read.
    pub addr: u64,
}

// SAFETY: repr(C), integers only, no implicit padding (2 + 2 + 4 + 8).
unsafe impl Record for CaptureHeader {}

/// The captures in `area` (the record's bytes from `data_at`, `count`
/// long): (header, its bytes) each, stopping at anything malformed.
pub fn captures(record: &[u8], data_at: usize, count: usize) -> Vec<(CaptureHeader, &[u8])> {
    let end = data_at.saturating_add(count).min(record.len());
    let mut out = Vec::new();
    let mut at = data_at;
    let head = std::mem::size_of::<CaptureHeader>();
    while at + head <= end {
        let Some(h) = CaptureHeader::read_from(&record[at..end]) else {
            break;
        };
        let body = at + head;
        let Some(stop) = body.checked_add(h.len as usize).filter(|&s| s <= end) else {
            break;
        };
        out.push((h, &record[body..stop]));
        at = body + (h.len as usize).div_ceil(8) * 8;
    }
    out
}

/// Byte offset of `arg0` in an [`ErrorRecord`].
pub const ERROR_ARGS_OFFSET: usize = std::mem::offset_of!(ErrorRecord, args);

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::size_of;

    #[test]
    fn header_and_error_record_have_no_padding() {
        assert_eq!(size_of::<EventHeader>(), 8 + 8 * 4 + 16);
        assert_eq!(ERROR_ARGS_OFFSET, size_of::<EventHeader>());
        assert_eq!(size_of::<ErrorRecord>(), size_of::<EventHeader>() + 48);
    }

    #[test]
    fn captures_are_walked_and_malformed_ones_dropped() {
        let mut rec = vec![0u8; 8];
        let a = CaptureHeader {
            site: 1,
            status: CAPTURE_OK,
            len: 3,
            addr: 0x1000,
        };
        rec.extend_from_slice(a.as_bytes());
        rec.extend_from_slice(b"ab\0\0\0\0\0\0");
        let b = CaptureHeader {
            site: 2,
            status: CAPTURE_FAULT,
            len: 0,
            addr: 0,
        };
        rec.extend_from_slice(b.as_bytes());
        let all = captures(&rec, 8, rec.len() - 8);
        assert_eq!(all.len(), 2);
        assert_eq!((all[0].0, all[0].1), (a, &b"ab\0"[..]));
        assert_eq!(all[1].0.status, CAPTURE_FAULT);
        // A length past the end stops the walk.
        let mut bad = rec.clone();
        bad[8 + 4] = 200;
        assert!(captures(&bad, 8, bad.len() - 8).is_empty());
    }

    #[test]
    fn header_round_trips_and_short_records_have_none() {
        let h = EventHeader {
            ts_ns: 7,
            probe: 4,
            pid: 42,
            comm: *b"cat\0\0\0\0\0\0\0\0\0\0\0\0\0",
            ..EventHeader::default()
        };
        let mut bytes = h.as_bytes().to_vec();
        bytes.extend_from_slice(&[1, 2, 3]);
        assert_eq!(header_of(&bytes), Some(h));
        assert_eq!(header_of(&bytes[..55]), None);
    }
}
