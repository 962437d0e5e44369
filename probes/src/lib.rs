//! rdtrace-probes: the provider catalog, the event records, the BPF programs
//! (C, CO-RE) and their aya loader, and the pcap replay source.

pub mod event;
