// SPDX-License-Identifier: GPL-2.0
/* tcp:::send and tcp:::receive: one record per TCP segment that a TCP stack
 * on this host sends or receives, in every network namespace.
 *
 *   send:    tp_btf/net_dev_queue     (raw_tp/net_dev_queue as fallback)
 *   receive: tp_btf/netif_receive_skb (raw_tp/netif_receive_skb as fallback)
 *
 * Forwarded and bridged copies are not reported: a receive on a device with
 * an rx_handler (bridge/bond/macvlan port) is passed on to the upper device
 * and reported there; a send that arrived from an interface (skb_iif set)
 * and has no socket is forwarded or bridged (the skb was orphaned when it
 * crossed a namespace). A local send without a socket is still reported:
 * IPv6 RSTs answering a SYN to a closed port carry no skb->sk (IPv4 ones use
 * a per-CPU control socket). A GSO/GRO super-packet is one record.
 *
 * The task fields (pid, tid, ppid, uid, gid, comm) describe the current
 * task: on send usually the sending process, but in softirq context (most
 * receives, ACKs sent from timers or on packet arrival) whatever task the
 * interrupt happened to hit.
 */
#include "vmlinux_min.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
#include "event.h"

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define IPPROTO_HOPOPTS 0
#define IPPROTO_TCP 6
#define IPPROTO_ROUTING 43
#define IPPROTO_FRAGMENT 44
#define IPPROTO_AH 51
#define IPPROTO_DSTOPTS 60
/* IPv6 extension headers walked before giving up on finding TCP. */
#define MAX_IPV6_EXT 8

/* Size is set by the loader (power of two, page multiple). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);
} events SEC(".maps");

/* Per-CPU count of records lost because the ring buffer was full. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

/* 0 = all namespaces; otherwise only devices in this netns (inode). */
const volatile __u32 target_netns = 0;

static __always_inline void count_drop(void)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&drops, &key);
	if (v)
		*v += 1;
}

/* Userspace drains the buffer on its own schedule (switchrate); wake it
 * early only when the buffer is more than half full. */
static __always_inline __u64 wakeup_flags(void)
{
	__u64 avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	__u64 size = bpf_ringbuf_query(&events, BPF_RB_RING_SIZE);
	return avail > size / 2 ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

/* The sk_buff fields the handler needs, read once: with plain (CO-RE
 * relocated) loads in tp_btf programs, where the skb is a BTF pointer, and
 * with probe reads in raw_tp programs, where it is an untyped value. */
struct skb_fields {
	unsigned char *head;
	unsigned char *data;
	__u64 sk;
	__u64 rx_handler;
	__u32 len;
	__s32 iif;
	__s32 ifindex;
	__u32 netns;
	__u16 protocol; /* host order */
	__u16 network_header;
	__u32 ppid;     /* current task's parent */
	char comm[16];  /* current task's name */
};

static __always_inline void fields_btf(struct sk_buff *skb, struct skb_fields *f)
{
	struct net_device *dev = skb->dev;
	struct task_struct *task = bpf_get_current_task_btf();

	f->head = skb->head;
	f->data = skb->data;
	f->sk = (__u64)skb->sk;
	f->len = skb->len;
	f->iif = skb->skb_iif;
	f->protocol = bpf_ntohs(skb->protocol);
	f->network_header = skb->network_header;
	f->rx_handler = (__u64)dev->rx_handler;
	f->ifindex = dev->ifindex;
	f->netns = dev->nd_net.net->ns.inum;
	f->ppid = task->real_parent->tgid;
	__builtin_memcpy(f->comm, task->comm, sizeof(f->comm));
}

static __always_inline void fields_raw(struct sk_buff *skb, struct skb_fields *f)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();

	f->head = BPF_CORE_READ(skb, head);
	f->data = BPF_CORE_READ(skb, data);
	f->sk = (__u64)BPF_CORE_READ(skb, sk);
	f->len = BPF_CORE_READ(skb, len);
	f->iif = BPF_CORE_READ(skb, skb_iif);
	f->protocol = bpf_ntohs(BPF_CORE_READ(skb, protocol));
	f->network_header = BPF_CORE_READ(skb, network_header);
	f->rx_handler = (__u64)BPF_CORE_READ(skb, dev, rx_handler);
	f->ifindex = BPF_CORE_READ(skb, dev, ifindex);
	f->netns = BPF_CORE_READ(skb, dev, nd_net.net, ns.inum);
	f->ppid = BPF_CORE_READ(task, real_parent, tgid);
	bpf_get_current_comm(f->comm, sizeof(f->comm));
}

/* Parsed network and transport headers of one segment. */
struct seg {
	__u8 saddr[16];
	__u8 daddr[16];
	__u8 th[20];
	__u32 plen;
	__u8 ipver;
	__u8 ttl;
};

/* IPv4 at nh; 0 when it is a TCP segment with its header in s->th. */
static __always_inline int parse_ipv4(const struct skb_fields *f, unsigned char *nh, struct seg *s)
{
	__u8 iph[20];
	if (bpf_probe_read_kernel(iph, sizeof(iph), nh))
		return -1;
	if ((iph[0] >> 4) != 4 || iph[9] != IPPROTO_TCP)
		return -1;
	__u32 ihl = (iph[0] & 0x0f) * 4;
	if (ihl < 20)
		return -1;
	/* a non-first fragment carries no TCP header */
	if ((((__u32)iph[6] & 0x1f) << 8 | iph[7]) != 0)
		return -1;
	__u32 tot = (__u32)iph[2] << 8 | iph[3];
	if (tot == 0) /* BIG TCP GSO packet: the header has no length */
		tot = f->len - (__u32)(nh - f->data);
	s->plen = tot - ihl;
	s->ttl = iph[8];
	s->ipver = 4;
	__builtin_memcpy(s->saddr, &iph[12], 4);
	__builtin_memcpy(s->daddr, &iph[16], 4);
	return bpf_probe_read_kernel(s->th, sizeof(s->th), nh + ihl) ? -1 : 0;
}

/* IPv6 at nh, walking extension headers to TCP. */
static __always_inline int parse_ipv6(const struct skb_fields *f, unsigned char *nh, struct seg *s)
{
	__u8 ip6h[40];
	if (bpf_probe_read_kernel(ip6h, sizeof(ip6h), nh))
		return -1;
	if ((ip6h[0] >> 4) != 6)
		return -1;
	__u32 plen = (__u32)ip6h[4] << 8 | ip6h[5];
	if (plen == 0) /* BIG TCP / jumbogram */
		plen = f->len - (__u32)(nh - f->data) - 40;
	__u8 next = ip6h[6];
	__u32 off = 40;
	for (int i = 0; i < MAX_IPV6_EXT && next != IPPROTO_TCP; i++) {
		__u8 ext[4];
		if (next != IPPROTO_HOPOPTS && next != IPPROTO_ROUTING && next != IPPROTO_DSTOPTS &&
		    next != IPPROTO_FRAGMENT && next != IPPROTO_AH)
			return -1;
		if (bpf_probe_read_kernel(ext, sizeof(ext), nh + off))
			return -1;
		if (next == IPPROTO_FRAGMENT) {
			/* only the first fragment has the TCP header */
			if ((((__u32)ext[2] << 8 | ext[3]) & 0xfff8) != 0)
				return -1;
			off += 8;
		} else if (next == IPPROTO_AH) {
			off += ((__u32)ext[1] + 2) * 4;
		} else {
			off += ((__u32)ext[1] + 1) * 8;
		}
		next = ext[0];
	}
	if (next != IPPROTO_TCP)
		return -1;
	s->plen = plen;
	s->ttl = ip6h[7];
	s->ipver = 6;
	__builtin_memcpy(s->saddr, &ip6h[8], 16);
	__builtin_memcpy(s->daddr, &ip6h[24], 16);
	return bpf_probe_read_kernel(s->th, sizeof(s->th), nh + off) ? -1 : 0;
}

static __always_inline void fill_header(struct event_header *h, __u32 probe, const struct skb_fields *f)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 uid_gid = bpf_get_current_uid_gid();

	h->ts_ns = bpf_ktime_get_ns();
	h->probe = probe;
	h->cpu = bpf_get_smp_processor_id();
	h->pid = pid_tgid >> 32;
	h->tid = (__u32)pid_tgid;
	h->ppid = f->ppid;
	h->uid = (__u32)uid_gid;
	h->gid = uid_gid >> 32;
	h->netns = f->netns;
	__builtin_memcpy(h->comm, f->comm, sizeof(h->comm));
}

static __always_inline int handle(const struct skb_fields *f, int dir)
{
	unsigned char *nh;

	if (dir == RDT_DIR_SEND) {
		if (!f->sk && f->iif) /* forwarded or bridged */
			return 0;
	} else if (f->rx_handler) {
		return 0; /* port of a bridge/bond/macvlan: reported on the upper device */
	}
	if (target_netns && f->netns != target_netns)
		return 0;
	if (f->protocol != ETH_P_IP && f->protocol != ETH_P_IPV6)
		return 0;

	if (dir == RDT_DIR_SEND) {
		/* TX: the IP layer set network_header; skb->data is at L2. */
		if (f->network_header == (__u16)~0U)
			return 0;
		nh = f->head + f->network_header;
	} else {
		/* RX: L2 is pulled, but network_header is only reset after
		 * this tracepoint: the IP header is at skb->data. */
		nh = f->data;
	}

	struct seg s = {};
	if (f->protocol == ETH_P_IP ? parse_ipv4(f, nh, &s) : parse_ipv6(f, nh, &s))
		return 0;

	struct tcp_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_drop();
		return 0;
	}
	fill_header(&e->hdr, dir == RDT_DIR_SEND ? RDT_PROBE_TCP_SEND : RDT_PROBE_TCP_RECEIVE, f);
	e->ifindex = f->ifindex;
	e->dir = dir;
	e->ipver = s.ipver;
	e->tcp_offset = (s.th[12] >> 4) * 4;
	e->tcp_flags = s.th[13];
	__builtin_memcpy(e->saddr, s.saddr, 16);
	__builtin_memcpy(e->daddr, s.daddr, 16);
	e->ip_plength = s.plen;
	e->sport = (__u16)s.th[0] << 8 | s.th[1];
	e->dport = (__u16)s.th[2] << 8 | s.th[3];
	e->seq = (__u32)s.th[4] << 24 | (__u32)s.th[5] << 16 | (__u32)s.th[6] << 8 | s.th[7];
	e->ack = (__u32)s.th[8] << 24 | (__u32)s.th[9] << 16 | (__u32)s.th[10] << 8 | s.th[11];
	e->window = (__u16)s.th[14] << 8 | s.th[15];
	e->checksum = (__u16)s.th[16] << 8 | s.th[17];
	e->urgent = (__u16)s.th[18] << 8 | s.th[19];
	if (dir == RDT_DIR_SEND) {
		__builtin_memcpy(e->laddr, s.saddr, 16);
		__builtin_memcpy(e->raddr, s.daddr, 16);
		e->lport = e->sport;
		e->rport = e->dport;
	} else {
		__builtin_memcpy(e->laddr, s.daddr, 16);
		__builtin_memcpy(e->raddr, s.saddr, 16);
		e->lport = e->dport;
		e->rport = e->sport;
	}
	e->ttl = s.ttl;
	e->pad0 = 0;
	e->pad1 = 0;
	e->sk = f->sk;
	__builtin_memset(e->reserved, 0, sizeof(e->reserved));
	bpf_ringbuf_submit(e, wakeup_flags());
	return 0;
}

SEC("tp_btf/net_dev_queue")
int BPF_PROG(tcp_send, struct sk_buff *skb)
{
	struct skb_fields f;
	fields_btf(skb, &f);
	return handle(&f, RDT_DIR_SEND);
}

SEC("tp_btf/netif_receive_skb")
int BPF_PROG(tcp_receive, struct sk_buff *skb)
{
	struct skb_fields f;
	fields_btf(skb, &f);
	return handle(&f, RDT_DIR_RECEIVE);
}

/* Plain raw tracepoints, for kernels where tp_btf cannot attach. */
SEC("raw_tp/net_dev_queue")
int tcp_send_raw(__u64 *ctx)
{
	struct skb_fields f;
	fields_raw((struct sk_buff *)ctx[0], &f);
	return handle(&f, RDT_DIR_SEND);
}

SEC("raw_tp/netif_receive_skb")
int tcp_receive_raw(__u64 *ctx)
{
	struct skb_fields f;
	fields_raw((struct sk_buff *)ctx[0], &f);
	return handle(&f, RDT_DIR_RECEIVE);
}

char LICENSE[] SEC("license") = "GPL";
