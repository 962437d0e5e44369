//! rdtrace-record: what an event source and the runtime agree on, and
//! nothing else — the header every record starts with, plain-data access
//! to records, the `ERROR` record, and the [`Source`] trait with its clock.
//! `rdtrace-probes` (live BPF, capture replay) implements sources and adds
//! provider records after the header; `rdtrace-runtime` consumes them
//! without depending on aya or pcap.

mod header;
mod source;

pub use header::{
    captures, header_of, CaptureHeader, ErrorRecord, EventHeader, ProbeId, Record, CAPTURE_FAULT,
    CAPTURE_OK, ERROR_ARGS_OFFSET,
};
pub use source::{Clock, KernelAggKey, Poll, ProbeError, ProbeErrorKind, Source};
