//! rdtrace-probes: the provider catalog, the event records, the BPF programs
//! (C, CO-RE, one object `bpf/net.bpf.o`: the network hooks and, in
//! `bpf/syscall.h`, the syscall provider's) and their aya loader, and the
//! pcap replay source.
//!
//! # Probes and kernel hooks
//!
//! | probe | id | kernel hook (raw_tp fallback) | record |
//! |---|---|---|---|
//! | `tcp:::send`, `connect-request`, `accept-refused` | 4, 7, 11 | `tp_btf/net_dev_queue` | [`event::TcpEvent`] |
//! | `tcp:::receive`, `connect-refused` | 5, 9 | `tp_btf/netif_receive_skb` | [`event::TcpEvent`] |
//! | `tcp:::state-change`, `connect-established`, `accept-established` | 6, 8, 10 | `tp_btf/inet_sock_set_state` | [`event::TcpEvent`] |
//! | `ip:::send`, `ip:::receive` | 12, 13 | `net_dev_queue`, `netif_receive_skb` | [`event::IpEvent`] |
//! | `udp:::send`, `udp:::receive` | 14, 15 | `net_dev_queue`, `netif_receive_skb` | [`event::UdpEvent`] |
//! | `syscall::NAME:entry`, `:return` | 1000 + 2i, + 1 | `tracepoint/syscalls/sys_enter_NAME`, `sys_exit_NAME` | [`event::SyscallEvent`] + captured user memory |
//! | `proc:::*` | 16–27 | `tp_btf/sched_process_exec`, `sched_process_exit`, `task_newtask`, `sched_switch`, `signal_generate`, `signal_deliver`; `tracepoint/syscalls/sys_{enter,exit}_execve(at)` (see `providers/proc.rs`) | [`event::TaskEvent`] |
//! | `sched:::*` | 28–33 | `tp_btf/sched_switch`, `sched_waking`, `sched_pi_setprio` | [`event::TaskEvent`] |
//! | `io:::start`, `io:::done` | 40, 41 | `tp_btf/block_rq_issue`, `block_rq_complete` | [`event::TaskEvent`] + [`event::IoInfo`] |
//! | `sdt:GROUP::NAME` | 100000 + i | `tracepoint/GROUP/NAME` | [`event::TaskEvent`] + the tracepoint's record |
//!
//! Only the programs the enabled probes need are attached; a read-only
//! global tells them which probes are on, so the verifier drops the rest.
//! The IP header is read at `skb->head + skb->network_header` on send and
//! at `skb->data` on receive.
//!
//! # Packets
//!
//! One record per packet (tcp: segment, udp: datagram) a stack on this host
//! sends or receives, in every network namespace (or one, with
//! [`LiveOptions::netns`]); on loopback a packet is a send and then a
//! receive. Not reported: receives on a device with an rx_handler (bridge,
//! bond, macvlan ports; the upper device reports them) and sends that have
//! no socket and came in from an interface (forwarded, bridged). A GSO
//! super-packet is one send; the receiver may see it split differently
//! (GRO), lengths adding up. IPv4 and IPv6 (extension headers walked; the
//! ip provider reports every fragment, tcp and udp only first ones).
//!
//! Every record carries: time (`bpf_ktime_get_ns`, add
//! [`Source::wall_offset_ns`] for epoch), cpu, the current task's pid, tid,
//! ppid, uid, gid and comm (in softirq context, i.e. most receives and
//! ACKs sent on packet arrival, whatever task was interrupted), the netns
//! inode and ifindex, direction, IP version, addresses and ip_plength
//! (IPv6: payload length, extension headers included), TTL/hop limit. TCP
//! records add the TCP header (seq, ack, offset, flags, raw window,
//! checksum — on send with offload the partial pseudo-header sum — urgent),
//! ip records the IPv4/IPv6 header fields, the device name and address,
//! udp records the UDP header.
//!
//! # TCP connections (tcpsinfo_t, tcplsinfo_t, csinfo_t)
//!
//! The receive hook runs before the kernel looks the socket up. A BPF LRU
//! hash map (65536 connections) keyed by netns and 4-tuple keeps, per
//! connection: the socket, a snapshot of its state (refreshed by every send
//! and state change, read from the socket with CO-RE), iss/irs from the
//! SYNs seen, the owner, and what the handshake and teardown showed.
//! Entries are made by the first SYN, SYN|ACK or segment of a connection
//! (and by listen()) and deleted when it closes. So:
//! - send: the socket state as the kernel has it when the segment leaves
//!   (`snd_nxt` not yet past it); `tcps_retransmit` is 1 for a segment
//!   that starts before `snd_nxt`.
//! - receive: the snapshot of the connection's last send or state change
//!   (the segment is not processed yet); for a SYN, the listener's (bound
//!   to the address or the wildcard; listeners enter the map when they
//!   start listening); all zero (state 0, `state-idle`) when unknown, e.g.
//!   a connection opened before tracing that has not sent since.
//! - `cs_cid`/`cs_addr`/`tcps_addr`: the socket's address. A server
//!   connection is a request socket until the handshake completes (its
//!   SYN|ACK), then the child socket.
//! - `cs_pid`: the process that called connect(); for an accepted
//!   connection, as on illumos, the process that called listen(); else
//!   (connections older than the trace) the process that closes or shuts
//!   down its side once it does; 0 until known.
//! - `tcps_iss`/`tcps_irs`: from the SYNs seen; for connections opened
//!   before tracing, implied by `snd_una - bytes_acked` and `rcv_nxt -
//!   bytes_received - 1` (off by one for a passive open's iss).
//! - Units: windows in bytes (raw `snd_wnd`, `rcv_wnd`), `tcps_cwnd` and
//!   `tcps_cwnd_ssthresh` in segments (Linux), `tcps_rto`, `tcps_rtt`
//!   (smoothed) and `tcps_rtt_sd` in ms, `tcps_mss` = `mss_cache`.
//!   Approximations: `tcps_rack` is `rcv_wup` (rcv_nxt at the last window
//!   sent), `tcps_sack_fack` is `snd_una`, `tcps_sack_snxt` is `snd_una`
//!   without SACKed data and `snd_nxt` with. `tcps_local`: both ends have
//!   the same address or the remote one is loopback.
//!
//! Without any tcp probe but send/receive and with no clause reading the
//! socket state ([`needs_socket_state`]), none of this is done (the map
//! and the state-change program are not used) and those fields read 0.
//!
//! # State changes
//!
//! `sock:inet_sock_set_state` with Linux states (`TCP_STATE_*`):
//! - `closed → syn-sent` is reported when the SYN leaves (connect() changes
//!   the state before choosing the local port), just before
//!   `connect-request`; if connect() fails before sending, at its close.
//! - Linux enters TIME_WAIT by handing the connection to a timewait socket
//!   and closing the full one, without a TIME_WAIT state change; for an
//!   orphaned socket as soon as its FIN is acked (FIN_WAIT2). So
//!   `fin-wait-2 → closed` and `closing → closed` are reported as
//!   `… → time-wait`, when the peer's FIN has been (or, for an orphan,
//!   once it is) received; `time-wait → closed` is never reported (the
//!   timewait socket dies without a tracepoint). The connection stays in
//!   the map in time-wait, so the timewait socket's last ACK reports
//!   `state-time-wait`; a new SYN on the same 4-tuple starts afresh.
//! - On kernels ≥ 6.14 an accepted connection shows `listen →
//!   syn-received` when the child socket is created (at the final ACK).
//! - `connect-established` and `accept-established` fire right after the
//!   state change to ESTABLISHED, describing in `args[2]`/`args[4]` the
//!   segment that completed the handshake (the SYN|ACK received by the
//!   client, the ACK received by the server; kept from the receive hook).
//!   `connect-refused` fires after the receive of an RST acking our SYN;
//!   `accept-refused` before the send of an RST|ACK with sequence 0 from
//!   no full socket (the answer to a SYN for a closed port).
//!
//! Replay ([`ReplaySource`]) follows connections through the capture's
//! segments instead; see `replay_tcp.rs` for what a capture cannot tell.

pub mod catalog;
pub mod event;
pub mod kernel_aggs;
pub mod live;
pub mod providers;
pub mod replay;
mod replay_input;
mod replay_pcap;
mod replay_tcp;
mod tp_attach;
pub mod tracefs;
mod usage;

pub use catalog::{
    catalog, catalog_for, DTRACE_BEGIN, DTRACE_END, DTRACE_ERROR, IP_RECEIVE, IP_SEND,
    LAYOUT_HEADER, LAYOUT_IP, LAYOUT_TCP, LAYOUT_UDP, TCP_ACCEPT_ESTABLISHED, TCP_ACCEPT_REFUSED,
    TCP_CONNECT_ESTABLISHED, TCP_CONNECT_REFUSED, TCP_CONNECT_REQUEST, TCP_RECEIVE, TCP_SEND,
    TCP_STATE_CHANGE, UDP_RECEIVE, UDP_SEND,
};
pub use kernel_aggs::{kernel_aggs, KernelAggs};
pub use live::{current_netns, LiveOptions, LiveSource};
pub use providers::syscall::{capture_maps, CaptureMaps};
pub use rdtrace_record::{Clock, Poll, ProbeError, ProbeErrorKind, Source};
pub use replay::ReplaySource;
pub use usage::{kernel_filters, kernel_flags, needs_socket_state, task_flags, KernelFlags};
