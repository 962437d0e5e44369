//! rdtrace-probes: the provider catalog, the event records, the BPF programs
//! (C, CO-RE) and their aya loader, and the pcap replay source.
//!
//! # tcp:::send and tcp:::receive
//!
//! | probe | kernel hook (fallback) | IP header read at |
//! |---|---|---|
//! | `tcp:::send` (id 4) | `tp_btf/net_dev_queue` (`raw_tp/net_dev_queue`) | `skb->head + skb->network_header` |
//! | `tcp:::receive` (id 5) | `tp_btf/netif_receive_skb` (`raw_tp/netif_receive_skb`) | `skb->data` |
//!
//! One record ([`event::TcpEvent`], 256 bytes) per TCP segment a TCP stack
//! on this host sends or receives, in every network namespace (or one, with
//! [`LiveOptions::netns`]); on loopback a segment is a send and then a
//! receive. Not reported: receives on a device with an rx_handler (bridge,
//! bond, macvlan ports; the upper device reports them) and sends that have
//! no socket and came in from an interface (forwarded, bridged). A GSO
//! super-packet is one send; the receiver may see it split differently
//! (GRO), lengths adding up. IPv4 and IPv6 (extension headers walked).
//!
//! A record carries: time (`bpf_ktime_get_ns`, add
//! [`Source::wall_offset_ns`] for epoch), cpu, the current task's pid, tid,
//! ppid, uid, gid and comm (in softirq context, i.e. most receives and
//! ACKs sent on packet arrival, whatever task was interrupted), the device's
//! netns inode and ifindex, direction, IP version, source/destination and
//! local/remote addresses and ports, ip_plength (IPv6: payload length,
//! extension headers included), TTL/hop limit, seq, ack, TCP header length,
//! flags, raw window, checksum (on send with checksum offload: the partial
//! pseudo-header sum the NIC completes) and urgent pointer, and `skb->sk`
//! (0 on receive: the socket is looked up after the hook; on a SYN|ACK the
//! request socket; on an IPv4 RST the per-CPU control socket; 0 on an IPv6
//! RST answering a SYN to a closed port).

pub mod catalog;
pub mod event;
pub mod live;
pub mod replay;
mod replay_tcp;
mod source;
mod usage;

pub use catalog::{
    catalog, DTRACE_BEGIN, DTRACE_END, DTRACE_ERROR, IP_RECEIVE, IP_SEND, LAYOUT_HEADER, LAYOUT_IP,
    LAYOUT_TCP, LAYOUT_UDP, TCP_ACCEPT_ESTABLISHED, TCP_ACCEPT_REFUSED, TCP_CONNECT_ESTABLISHED,
    TCP_CONNECT_REFUSED, TCP_CONNECT_REQUEST, TCP_RECEIVE, TCP_SEND, TCP_STATE_CHANGE, UDP_RECEIVE,
    UDP_SEND,
};
pub use live::{current_netns, LiveOptions, LiveSource};
pub use replay::ReplaySource;
pub use source::{Poll, ProbeError, ProbeErrorKind, Source};
pub use usage::needs_socket_state;
