/* SPDX-License-Identifier: GPL-2.0 */
/* Hand-written minimal subset of kernel types for CO-RE (instead of a
 * 100k-line vmlinux.h). Only the fields the programs touch are declared;
 * preserve_access_index makes clang emit CO-RE relocations, so the loader
 * (aya) resolves offsets against the running kernel's BTF. Field order and
 * offsets here are irrelevant; names and compatible types matter. Fields
 * that live in anonymous unions/structs in the kernel (sk_buff->dev,
 * network_header inside struct_group(headers)) are declared flat: the loader
 * searches anonymous members recursively. */
#ifndef RDTRACE_VMLINUX_MIN_H
#define RDTRACE_VMLINUX_MIN_H

typedef unsigned char __u8;
typedef signed char __s8;
typedef unsigned short __u16;
typedef short __s16;
typedef unsigned int __u32;
typedef int __s32;
typedef unsigned long long __u64;
typedef long long __s64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;
typedef _Bool bool;
#define true 1
#define false 0

enum bpf_map_type {
	BPF_MAP_TYPE_ARRAY = 2,
	BPF_MAP_TYPE_PERCPU_ARRAY = 6,
	BPF_MAP_TYPE_RINGBUF = 27,
};

/* bpf_ringbuf_submit() flags and bpf_ringbuf_query() selectors (uapi). */
enum {
	BPF_RB_NO_WAKEUP = 1,
	BPF_RB_FORCE_WAKEUP = 2,
};
enum {
	BPF_RB_AVAIL_DATA = 0,
	BPF_RB_RING_SIZE = 1,
};

struct ns_common {
	unsigned int inum;
} __attribute__((preserve_access_index));

struct net {
	struct ns_common ns;
} __attribute__((preserve_access_index));

typedef struct {
	struct net *net;
} possible_net_t;

struct net_device {
	int ifindex;
	void *rx_handler; /* set on bridge/bond/macvlan/ovs lower devices */
	possible_net_t nd_net;
} __attribute__((preserve_access_index));

struct sock;

struct sk_buff {
	struct net_device *dev;
	struct sock *sk;
	unsigned int len;
	int skb_iif; /* ifindex the skb arrived on; 0 when built locally */
	__be16 protocol;
	__u16 transport_header;
	__u16 network_header;
	__u16 mac_header;
	unsigned char *head;
	unsigned char *data;
} __attribute__((preserve_access_index));

struct task_struct {
	int tgid;
	struct task_struct *real_parent;
	char comm[16];
} __attribute__((preserve_access_index));

#endif
