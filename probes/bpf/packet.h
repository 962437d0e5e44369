/* SPDX-License-Identifier: GPL-2.0 */
/* Reading a packet at the two device hooks: the sk_buff fields the handlers
 * need (typed BTF loads in tp_btf programs, probe reads in raw_tp ones) and
 * the IPv4/IPv6 header, with the transport header located behind any IPv6
 * extension headers. */
#ifndef RDTRACE_PACKET_H
#define RDTRACE_PACKET_H

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define IFF_LOOPBACK 0x8
/* IPv6 extension headers walked before giving up on the transport header. */
#define MAX_IPV6_EXT 8

/* The sk_buff and device fields the handlers need, read once. */
struct skb_fields {
	unsigned char *head;
	unsigned char *data;
	struct sock *sk;
	__u64 rx_handler;
	__u64 dev;
	__u32 len;
	__s32 iif;
	__s32 ifindex;
	__u32 netns;
	__u32 dev_flags;
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
	f->sk = skb->sk;
	f->len = skb->len;
	f->iif = skb->skb_iif;
	f->protocol = bpf_ntohs(skb->protocol);
	f->network_header = skb->network_header;
	f->dev = (__u64)dev;
	f->rx_handler = (__u64)dev->rx_handler;
	f->ifindex = dev->ifindex;
	f->dev_flags = dev->flags;
	f->netns = dev->nd_net.net->ns.inum;
	f->ppid = task->real_parent->tgid;
	__builtin_memcpy(f->comm, task->comm, sizeof(f->comm));
}

static __always_inline void fields_raw(struct sk_buff *skb, struct skb_fields *f)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();

	f->head = BPF_CORE_READ(skb, head);
	f->data = BPF_CORE_READ(skb, data);
	f->sk = BPF_CORE_READ(skb, sk);
	f->len = BPF_CORE_READ(skb, len);
	f->iif = BPF_CORE_READ(skb, skb_iif);
	f->protocol = bpf_ntohs(BPF_CORE_READ(skb, protocol));
	f->network_header = BPF_CORE_READ(skb, network_header);
	f->dev = (__u64)BPF_CORE_READ(skb, dev);
	f->rx_handler = (__u64)BPF_CORE_READ(skb, dev, rx_handler);
	f->ifindex = BPF_CORE_READ(skb, dev, ifindex);
	f->dev_flags = BPF_CORE_READ(skb, dev, flags);
	f->netns = BPF_CORE_READ(skb, dev, nd_net.net, ns.inum);
	f->ppid = BPF_CORE_READ(task, real_parent, tgid);
	bpf_get_current_comm(f->comm, sizeof(f->comm));
}

/* The network header of one packet and where its transport header is. */
struct pkt {
	unsigned char *nh;  /* network header */
	__u8 saddr[16];     /* IPv4 in the first 4 bytes */
	__u8 daddr[16];
	__u32 plen;         /* IP payload length */
	__u32 l4off;        /* transport header offset from nh */
	__u8 ipver;
	__u8 ttl;
	__u8 proto;         /* IPv4 protocol / IPv6 next header (first) */
	__u8 l4proto;       /* transport protocol after extension headers */
	__u8 first_frag;    /* the transport header is in this packet */
	__u8 hdr[40];       /* the IPv4 (first 20 bytes) or IPv6 header */
};

static __always_inline int parse_ipv4(const struct skb_fields *f, struct pkt *p)
{
	__u8 *iph = p->hdr;
	if (bpf_probe_read_kernel(iph, 20, p->nh))
		return -1;
	if ((iph[0] >> 4) != 4)
		return -1;
	__u32 ihl = (iph[0] & 0x0f) * 4;
	if (ihl < 20)
		return -1;
	__u32 tot = (__u32)iph[2] << 8 | iph[3];
	if (tot == 0) /* BIG TCP GSO packet: the header has no length */
		tot = f->len - (__u32)(p->nh - f->data);
	p->plen = tot - ihl;
	p->l4off = ihl;
	p->ttl = iph[8];
	p->proto = iph[9];
	p->l4proto = iph[9];
	/* a non-first fragment carries no transport header */
	p->first_frag = ((((__u32)iph[6] & 0x1f) << 8) | iph[7]) == 0;
	p->ipver = 4;
	__builtin_memcpy(p->saddr, &iph[12], 4);
	__builtin_memcpy(p->daddr, &iph[16], 4);
	return 0;
}

static __always_inline int parse_ipv6(const struct skb_fields *f, struct pkt *p)
{
	__u8 *ip6h = p->hdr;
	if (bpf_probe_read_kernel(ip6h, 40, p->nh))
		return -1;
	if ((ip6h[0] >> 4) != 6)
		return -1;
	__u32 plen = (__u32)ip6h[4] << 8 | ip6h[5];
	if (plen == 0) /* BIG TCP / jumbogram */
		plen = f->len - (__u32)(p->nh - f->data) - 40;
	p->plen = plen;
	p->ttl = ip6h[7];
	p->proto = ip6h[6];
	p->ipver = 6;
	p->first_frag = 1;
	__builtin_memcpy(p->saddr, &ip6h[8], 16);
	__builtin_memcpy(p->daddr, &ip6h[24], 16);
	__u8 next = ip6h[6];
	__u32 off = 40;
	for (int i = 0; i < MAX_IPV6_EXT; i++) {
		__u8 ext[4];
		if (next != IPPROTO_HOPOPTS && next != IPPROTO_ROUTING && next != IPPROTO_DSTOPTS &&
		    next != IPPROTO_FRAGMENT && next != IPPROTO_AH)
			break;
		if (bpf_probe_read_kernel(ext, sizeof(ext), p->nh + off))
			return -1;
		if (next == IPPROTO_FRAGMENT) {
			/* only the first fragment has the transport header */
			if ((((__u32)ext[2] << 8 | ext[3]) & 0xfff8) != 0)
				p->first_frag = 0;
			off += 8;
		} else if (next == IPPROTO_AH) {
			off += ((__u32)ext[1] + 2) * 4;
		} else {
			off += ((__u32)ext[1] + 1) * 8;
		}
		next = ext[0];
	}
	p->l4proto = next;
	p->l4off = off;
	return 0;
}

/* Locates the IP header (at skb->head + network_header on send; at
 * skb->data on receive, where network_header is only reset after the
 * tracepoint) and parses it. 0 when it is an IPv4/IPv6 packet. */
static __always_inline int parse_packet(const struct skb_fields *f, int dir, struct pkt *p)
{
	if (f->protocol != ETH_P_IP && f->protocol != ETH_P_IPV6)
		return -1;
	if (dir == RDT_DIR_SEND) {
		if (f->network_header == (__u16)~0U)
			return -1;
		p->nh = f->head + f->network_header;
	} else {
		p->nh = f->data;
	}
	return f->protocol == ETH_P_IP ? parse_ipv4(f, p) : parse_ipv6(f, p);
}

#endif
