/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* Event records written to the ring buffer. Mirrors probes/src/event.rs
 * field for field (explicit padding, no implicit holes); the test
 * probes/tests/event_layout.rs compiles this header with the host C compiler
 * and compares every offsetof() with Rust's offset_of!().
 * Include after something that defines __u8/__u16/__u32/__u64/__s32
 * (vmlinux_min.h in BPF code, <linux/types.h> on the host). */
#ifndef RDTRACE_EVENT_H
#define RDTRACE_EVENT_H

#define RDT_DIR_SEND 0
#define RDT_DIR_RECEIVE 1

/* Catalog probe ids carried in event_header.probe (see src/catalog.rs). */
#define RDT_PROBE_TCP_SEND 4
#define RDT_PROBE_TCP_RECEIVE 5

/* At offset 0 of every record. */
struct event_header {
	__u64 ts_ns;   /* bpf_ktime_get_ns(); replay: epoch ns */
	__u32 probe;   /* catalog probe id */
	__u32 cpu;
	__u32 pid;     /* tgid of the current task (softirq: the interrupted task) */
	__u32 tid;
	__u32 ppid;
	__u32 uid;
	__u32 gid;
	__u32 netns;   /* netns inode of the device */
	char comm[16];
};

/* tcp:::send / tcp:::receive (layout 1). Host byte order except addresses. */
struct tcp_event {
	struct event_header hdr;
	__s32 ifindex;
	__u8 dir;         /* RDT_DIR_* */
	__u8 ipver;       /* 4 or 6 */
	__u8 tcp_offset;  /* bytes */
	__u8 tcp_flags;
	__u8 saddr[16];   /* IPv4 in the first 4 bytes */
	__u8 daddr[16];
	__u8 laddr[16];   /* local: saddr on send, daddr on receive */
	__u8 raddr[16];
	__u32 ip_plength;
	__u32 seq;
	__u32 ack;
	__u16 sport;
	__u16 dport;
	__u16 lport;
	__u16 rport;
	__u16 window;
	__u16 checksum;
	__u16 urgent;
	__u8 ttl;         /* TTL / hop limit */
	__u8 pad0;
	__u32 pad1;
	__u64 sk;         /* skb->sk or 0 */
	__u8 reserved[88];
};

_Static_assert(sizeof(struct event_header) == 56, "event_header size");
_Static_assert(sizeof(struct tcp_event) == 256, "tcp_event size");

#endif
