//! rdtrace-probes: the provider catalog, the event records, the BPF programs
//! (C, CO-RE) and their aya loader, and the pcap replay source.

pub mod catalog;
pub mod event;
pub mod live;
pub mod replay;
mod source;

pub use catalog::{
    catalog, DTRACE_BEGIN, DTRACE_END, DTRACE_ERROR, LAYOUT_HEADER, LAYOUT_TCP, TCP_ACCEPT_ESTABLISHED,
    TCP_ACCEPT_REFUSED, TCP_CONNECT_ESTABLISHED, TCP_CONNECT_REFUSED, TCP_CONNECT_REQUEST, TCP_RECEIVE, TCP_SEND,
    TCP_STATE_CHANGE,
};
pub use live::{LiveOptions, LiveSource};
pub use replay::ReplaySource;
pub use source::{Poll, ProbeError, ProbeErrorKind, Source};
