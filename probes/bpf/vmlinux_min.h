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
	BPF_MAP_TYPE_HASH = 1,
	BPF_MAP_TYPE_ARRAY = 2,
	BPF_MAP_TYPE_PERCPU_HASH = 5,
	BPF_MAP_TYPE_PERCPU_ARRAY = 6,
	BPF_MAP_TYPE_LRU_HASH = 9,
	BPF_MAP_TYPE_RINGBUF = 27,
};

/* bpf_map_update_elem() flags (uapi). */
enum {
	BPF_ANY = 0,
	BPF_NOEXIST = 1,
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
	char name[16];
	unsigned int flags; /* IFF_* */
	int ifindex;
	void *rx_handler; /* set on bridge/bond/macvlan/ovs lower devices */
	possible_net_t nd_net;
} __attribute__((preserve_access_index));

struct in6_addr {
	union {
		__u8 u6_addr8[16];
		__be32 u6_addr32[4];
	} in6_u;
};

/* Declared flat: the kernel nests the address/port pairs in anonymous
 * unions, which the loader searches. */
struct sock_common {
	__be32 skc_daddr;
	__be32 skc_rcv_saddr;
	__be16 skc_dport;
	__u16 skc_num;             /* local port, host order */
	unsigned short skc_family;
	volatile unsigned char skc_state;
	possible_net_t skc_net;
	struct in6_addr skc_v6_daddr;
	struct in6_addr skc_v6_rcv_saddr;
} __attribute__((preserve_access_index));

struct sock {
	struct sock_common __sk_common;
	__u16 sk_protocol;
	__u16 sk_type;
} __attribute__((preserve_access_index));

struct inet_sock {
	__be16 inet_sport; /* kept when the port is released at close */
} __attribute__((preserve_access_index));

struct inet_connection_sock {
	struct inet_sock icsk_inet;
	__u32 icsk_rto; /* jiffies */
} __attribute__((preserve_access_index));

struct tcp_options_received {
	__u16 snd_wscale : 4;
	__u16 rcv_wscale : 4;
} __attribute__((preserve_access_index));

struct tcp_sock {
	struct inet_connection_sock inet_conn;
	__u32 snd_una;
	__u32 snd_nxt;
	__u32 rcv_nxt;
	__u32 rcv_wup;
	__u32 snd_wnd;
	__u32 rcv_wnd;
	__u32 snd_cwnd;
	__u32 snd_ssthresh;
	__u32 srtt_us;  /* smoothed RTT << 3, microseconds */
	__u32 mdev_us;  /* RTT deviation << 2, microseconds */
	__u32 mss_cache;
	__u32 sacked_out;
	__u32 total_retrans;
	__u64 bytes_received;
	__u64 bytes_acked;
	struct tcp_options_received rx_opt;
} __attribute__((preserve_access_index));

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

struct nsproxy {
	struct net *net_ns;
} __attribute__((preserve_access_index));

typedef struct {
	unsigned int val;
} kuid_t;

typedef struct {
	unsigned int val;
} kgid_t;

struct cred {
	kuid_t uid;
	kgid_t gid;
	kuid_t euid;
	kgid_t egid;
} __attribute__((preserve_access_index));

struct upid {
	int nr;
} __attribute__((preserve_access_index));

struct pid {
	struct upid numbers[1];
} __attribute__((preserve_access_index));

enum pid_type {
	PIDTYPE_PID,
	PIDTYPE_TGID,
	PIDTYPE_PGID,
	PIDTYPE_SID,
	PIDTYPE_MAX,
};

struct signal_struct {
	int nr_threads;
	int group_exit_code;
	struct pid *pids[PIDTYPE_MAX];
} __attribute__((preserve_access_index));

struct mm_struct {
	unsigned long arg_start;
	unsigned long arg_end;
} __attribute__((preserve_access_index));

struct sched_entity {
	__u64 sum_exec_runtime;
} __attribute__((preserve_access_index));

struct thread_info {
	__u32 cpu;
} __attribute__((preserve_access_index));

struct task_struct {
	struct thread_info thread_info;
	unsigned int __state;
	int prio;
	int normal_prio;
	unsigned int policy;
	struct sched_entity se;
	struct mm_struct *mm;
	int exit_state;
	int exit_code;
	int pid;
	int tgid;
	struct task_struct *real_parent;
	__u64 start_time;
	const struct cred *cred;
	char comm[16];
	struct nsproxy *nsproxy; /* NULL once the task is exiting */
	struct signal_struct *signal;
} __attribute__((preserve_access_index));

struct kernel_siginfo;

struct sigaction {
	void *sa_handler;
} __attribute__((preserve_access_index));

struct k_sigaction {
	struct sigaction sa;
} __attribute__((preserve_access_index));

struct linux_binprm;

struct device_driver {
	const char *name;
} __attribute__((preserve_access_index));

struct device {
	struct device *parent;
	struct device_driver *driver;
} __attribute__((preserve_access_index));

struct gendisk;

struct block_device {
	__u32 bd_dev;
	struct gendisk *bd_disk;
	struct device bd_device;
} __attribute__((preserve_access_index));

struct gendisk {
	int major;
	int first_minor;
	char disk_name[32];
	struct block_device *part0;
} __attribute__((preserve_access_index));

struct request_queue {
	struct gendisk *disk;
} __attribute__((preserve_access_index));

struct request {
	struct request_queue *q;
	unsigned int cmd_flags;
	unsigned int __data_len;
	__u64 __sector;
	struct block_device *part;
} __attribute__((preserve_access_index));

/* x86_64 registers at a system call: the arguments (di, si, dx, r10, r8,
 * r9) and the call's number (orig_ax). */
struct pt_regs {
	unsigned long ip;
	unsigned long cs;
	unsigned long r10;
	unsigned long r9;
	unsigned long r8;
	unsigned long dx;
	unsigned long si;
	unsigned long di;
	unsigned long orig_ax;
} __attribute__((preserve_access_index));

/* The context of perf_event programs (uapi). Its regs member comes first
 * and its size depends on the architecture; CO-RE finds sample_period in
 * the kernel's BTF, so one object serves every architecture. */
struct bpf_perf_event_data {
	__u64 sample_period;
} __attribute__((preserve_access_index));

#define BPF_F_USER_STACK (1ULL << 8)

#endif
