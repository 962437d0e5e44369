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
