//! The packet hooks of `bpf/net.bpf.c` that the tcp, ip and udp providers
//! share (not a provider itself).

use super::Hook;

/// `net_dev_queue`: packets sent.
pub const SEND: Hook = Hook::Raw {
    tracepoint: "net_dev_queue",
    btf_prog: "net_send",
    raw_prog: "net_send_raw",
};

/// `netif_receive_skb`: packets received.
pub const RECEIVE: Hook = Hook::Raw {
    tracepoint: "netif_receive_skb",
    btf_prog: "net_receive",
    raw_prog: "net_receive_raw",
};
