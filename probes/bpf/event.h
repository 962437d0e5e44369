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
#define RDT_PROBE_TCP_STATE_CHANGE 6
#define RDT_PROBE_TCP_CONNECT_REQUEST 7
#define RDT_PROBE_TCP_CONNECT_ESTABLISHED 8
#define RDT_PROBE_TCP_CONNECT_REFUSED 9
#define RDT_PROBE_TCP_ACCEPT_ESTABLISHED 10
#define RDT_PROBE_TCP_ACCEPT_REFUSED 11
#define RDT_PROBE_IP_SEND 12
#define RDT_PROBE_IP_RECEIVE 13
#define RDT_PROBE_UDP_SEND 14
#define RDT_PROBE_UDP_RECEIVE 15

/* proc, sched and io (layout 5, struct task_event). */
#define RDT_PROBE_PROC_EXEC 16
#define RDT_PROBE_PROC_EXEC_SUCCESS 17
#define RDT_PROBE_PROC_EXEC_FAILURE 18
#define RDT_PROBE_PROC_EXIT 19
#define RDT_PROBE_PROC_CREATE 20
#define RDT_PROBE_PROC_START 21
#define RDT_PROBE_PROC_LWP_CREATE 22
#define RDT_PROBE_PROC_LWP_START 23
#define RDT_PROBE_PROC_LWP_EXIT 24
#define RDT_PROBE_PROC_SIGNAL_SEND 25
#define RDT_PROBE_PROC_SIGNAL_HANDLE 26
#define RDT_PROBE_PROC_SIGNAL_DISCARD 27
#define RDT_PROBE_SCHED_ON_CPU 28
#define RDT_PROBE_SCHED_OFF_CPU 29
#define RDT_PROBE_SCHED_SLEEP 30
#define RDT_PROBE_SCHED_PREEMPT 31
#define RDT_PROBE_SCHED_WAKEUP 32
#define RDT_PROBE_SCHED_CHANGE_PRI 33
#define RDT_PROBE_IO_START 40
#define RDT_PROBE_IO_DONE 41

/* Probe sets the BPF program tests in `enabled` (compared with the Rust
 * providers' ids by probes/tests/event_layout.rs). */
#define TCP_PROBES (0xffULL << RDT_PROBE_TCP_SEND) /* ids 4..11 */
#define SEGMENT_PROBES ((1ULL << RDT_PROBE_TCP_SEND) | (1ULL << RDT_PROBE_TCP_RECEIVE))
#define IP_PROBES ((1ULL << RDT_PROBE_IP_SEND) | (1ULL << RDT_PROBE_IP_RECEIVE))

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

/* What the kernel socket says about a TCP connection (tcpsinfo_t,
 * tcplsinfo_t, csinfo_t.cs_pid). All zero when the socket is unknown. */
struct tcp_sockstate {
	__s32 pid;        /* owning process when known, else 0 */
	__u32 iss;        /* initial sequence numbers sent / received */
	__u32 irs;
	__u32 suna;       /* snd_una */
	__u32 snxt;       /* snd_nxt */
	__u32 rack;       /* rcv_wup: rcv_nxt when the last window was sent */
	__u32 rnxt;       /* rcv_nxt */
	__u32 swnd;       /* snd_wnd, bytes */
	__u32 rwnd;       /* rcv_wnd, bytes */
	__u32 cwnd;       /* snd_cwnd, segments */
	__u32 ssthresh;   /* snd_ssthresh, segments */
	__u32 sack_fack;  /* snd_una (Linux keeps no forward-ack sequence) */
	__u32 sack_snxt;  /* snd_una without SACKed data, else snd_nxt */
	__u32 rto;        /* icsk_rto, ms */
	__u32 mss;        /* mss_cache */
	__s32 retransmit; /* send: 1 when the segment is a retransmission */
	__s32 rtt;        /* srtt, ms */
	__s32 rtt_sd;     /* mdev, ms */
	__s32 state;      /* Linux TCP state (TCP_STATE_*), 0 when unknown */
	__s32 prev_state; /* state-change: the state left */
	__u8 active;      /* this host opened the connection */
	__u8 local;       /* both ends on this host (same address or loopback) */
	__u8 snd_ws;      /* window scale shifts */
	__u8 rcv_ws;
	__u32 pad;
};

/* tcp:::* (layout 1). Host byte order except addresses. */
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
	__u64 sk;         /* the connection's socket, or 0 */
	struct tcp_sockstate sock;
};

/* ip:::send / ip:::receive (layout 2): every IPv4/IPv6 packet. */
struct ip_event {
	struct event_header hdr;
	__s32 ifindex;
	__u8 dir;
	__u8 ipver;
	__u8 protocol;    /* IPv4 protocol / IPv6 next header */
	__s8 if_local;    /* loopback device */
	__u8 saddr[16];
	__u8 daddr[16];
	__u32 ip_plength;
	__u32 v6_flow;    /* flow label */
	__u16 v4_length;  /* total length */
	__u16 v4_ident;
	__u16 v4_offset;  /* fragment offset, 8-byte units */
	__u16 v4_checksum;
	__u16 v6_plen;
	__u8 v4_ihl;      /* header length, bytes */
	__u8 v4_tos;
	__u8 v4_flags;    /* IPH_DF 0x40, IPH_MF 0x20 */
	__u8 ttl;         /* TTL / hop limit */
	__u8 v6_tclass;
	__u8 pad0;
	__u64 sk;
	__u64 dev;        /* struct net_device address (if_addr) */
	char if_name[16];
	char protostr[8]; /* name of `protocol`, as illumos spells it */
	__u8 reserved[32];
};

/* udp:::send / udp:::receive (layout 3). */
struct udp_event {
	struct event_header hdr;
	__s32 ifindex;
	__u8 dir;
	__u8 ipver;
	__u8 ttl;
	__u8 pad0;
	__u8 saddr[16];
	__u8 daddr[16];
	__u8 laddr[16];
	__u8 raddr[16];
	__u32 ip_plength;
	__u16 sport;
	__u16 dport;
	__u16 lport;
	__u16 rport;
	__u16 length;     /* UDP header's length */
	__u16 checksum;
	__u64 sk;
};

/* syscall::NAME:entry / syscall::NAME:return (layout 4). Entry: args are
 * the argument registers. Return: args[0] = args[1] = the return value,
 * err = -ret when -2048 < ret < 0 (as dtrace-utils), else 0. Followed by
 * `captures` bytes of user memory copied at probe time: capture_header +
 * bytes, each padded to 8. */
struct syscall_event {
	struct event_header hdr;
	__u64 args[6];
	__s32 err;
	__u32 captures;
};

/* A syscall's entry arguments, kept until its return. */
struct syscall_entry_args {
	__u64 args[6];
};

/* profile-N (layout 6): the interrupted PCs (as DTrace's arg0 and arg1),
 * then `captures` bytes of stacks. */
struct profile_event {
	struct event_header hdr;
	__u64 kpc;        /* kernel PC, 0 when the CPU was in user mode */
	__u64 upc;        /* user PC, 0 for a kernel thread */
	__u32 captures;
	__u32 pad;
};

/* One piece of user memory in a syscall_event's captures. */
struct capture_header {
	__u16 site;   /* the capture plan's site (the copyin/copyinstr call) */
	__u16 status; /* RDT_CAPTURE_* */
	__u32 len;    /* bytes that follow (copyinstr: with the NUL) */
	__u64 addr;   /* the user address read */
};

/* The syscall provider's map values (bpf/syscall.h), filled by the loader. */
/* tp_probes value: the probe a tracepoint fires. */
struct tp_probe {
	__u32 probe;
	__u32 flags; /* RDT_SAVE_ENTRY_ARGS | nargs << RDT_NARGS_SHIFT */
};
/* An entry whose return probe's plan reads memory at an entry argument:
 * keep the arguments until the return. */
#define RDT_SAVE_ENTRY_ARGS 1
/* flags >> RDT_NARGS_SHIFT: the entry's number of arguments. */
#define RDT_NARGS_SHIFT 8

/* Where a capture's address or length comes from. */
#define RDT_FROM_CONST 0  /* len: `len_max` itself */
#define RDT_FROM_RECORD 1 /* the u64 at record offset `*_off` */
#define RDT_FROM_ENTRY 2  /* the same, in the entry record of this call */

#define RDT_COPY_STR 1   /* copyinstr: up to a NUL, at most len bytes */
#define RDT_COPY_BYTES 2 /* copyin: len bytes */

#define RDT_MAX_CAPTURES 4
/* A capture's bytes at most; more is refused in user space (out of
 * scratch space), never silently cut. */
#define RDT_CAPTURE_MAX 4096

struct capture_site {
	__u16 site;
	__u8 kind;      /* RDT_COPY_* */
	__u8 addr_from; /* RDT_FROM_RECORD or RDT_FROM_ENTRY */
	__u16 addr_off;
	__u8 len_from;  /* RDT_FROM_* */
	__u8 pad;
	__u16 len_off;
	__u16 pad2;
	__u32 len_max;  /* the length (RDT_FROM_CONST) or its bound */
};

struct capture_plan {
	__u32 n;
	__u32 pad;
	struct capture_site sites[RDT_MAX_CAPTURES];
};

/* nr_probes value (raw_syscalls mode): the probes of one call number. */
struct nr_probe {
	__u32 entry;       /* entry probe id, 0: not traced */
	__u32 ret;         /* return probe id, 0: not traced */
	__u32 entry_flags; /* RDT_SAVE_ENTRY_ARGS, RDT_TASK_INFO, RDT_TASK_PSARGS */
	__u32 ret_flags;   /* RDT_TASK_INFO, RDT_TASK_PSARGS */
};

#define RDT_MAX_SYSCALL_NR 1024

/* psinfo_t and lwpsinfo_t of one thread, read when the probe fires. */
#define RDT_PSARGS 80
struct task_info {
	__u64 addr;     /* the task_struct: pr_addr */
	__u64 start_ns; /* start_time, ns since boot */
	__u64 vtime_ns; /* se.sum_exec_runtime: on-CPU ns (vtimestamp) */
	__s32 pid;      /* tgid */
	__s32 ppid;
	__s32 pgid;
	__s32 sid;
	__u32 uid;
	__u32 euid;
	__u32 gid;
	__u32 egid;
	__s32 lwpid;    /* the thread (task->pid) */
	__s32 pri;      /* task->prio */
	__s32 nlwp;     /* signal->nr_threads */
	__s32 onpro;    /* CPU it runs or last ran on */
	__s32 flag;     /* PR_STOPPED when stopped */
	__u8 state;     /* SSLEEP 1, SRUN 2, SZOMB 3, SSTOP 4, SONPROC 6, SWAIT 7 */
	__u8 sname;     /* 'S', 'R', 'Z', 'T', 'O', 'W' */
	__u8 dmodel;    /* PR_MODEL_LP64 */
	__u8 pad;
	char fname[16]; /* comm */
	char psargs[RDT_PSARGS]; /* the command line, NULs as spaces */
	char clname[8]; /* scheduling class: TS, RT, DL, IA */
};

/* The tracepoint's own record (sdt), the exec path (proc:::exec) or the
 * block request (io, struct io_info). */
#define RDT_RAW_MAX 512

/* proc, sched, io and sdt probes (layout 5). `hdr` and `cur` describe the
 * thread the probe fires for (for sched:::on-cpu and proc:::start the one
 * switched in), `other` the thread an argument points to (the child of
 * proc:::create, the target of signal-send, the next thread of off-cpu,
 * the woken one of wakeup). */
struct task_event {
	struct event_header hdr;
	__s64 args[6];    /* the probe's integer arguments, also arg0 … arg5 */
	__s32 chip;       /* curcpu->cpu_chip: the CPU's package */
	__s32 lgrp;       /* curcpu->cpu_lgrp: its NUMA node */
	__u32 raw_len;    /* bytes of `raw` filled */
	__u32 captures;   /* bytes of captures (stacks) after the whole record */
	struct task_info cur;
	struct task_info other;
	__u8 raw[RDT_RAW_MAX];
};

/* io:::start / io:::done: the request, at the start of task_event.raw. */
struct io_info {
	__u64 blkno;      /* first sector */
	__u64 bcount;     /* bytes */
	__u64 resid;      /* bytes not transferred (done) */
	__s32 flags;      /* B_READ | B_WRITE | B_ASYNC | B_DONE | B_ERROR */
	__s32 error;      /* errno of the completion */
	__u32 dev;        /* dev_t of the partition (major << 20 | minor) */
	__s32 major;
	__s32 minor;
	__s32 pad;
	char name[32];     /* devinfo_t.dev_name: the driver, or "<none>" */
	char statname[40]; /* disk name and partition number */
	char pathname[48]; /* /dev/ and the statname */
	char unknown[16];  /* "<unknown>": fileinfo_t's strings */
};

/* tp_probes flags of sdt and proc:::exec probes. */
#define RDT_SDT_SIZE_MASK 0x7fff /* sdt: the record's fixed size */
#define RDT_SDT_DYNAMIC 0x8000   /* sdt: the record has __data_loc fields */
#define RDT_TASK_PSARGS 0x10000 /* read curpsinfo->pr_psargs */
/* tp_probes / nr_probe flags of a syscall probe whose clauses read
 * curpsinfo or curlwpsinfo: its record's first capture is a task_info
 * with site RDT_TASK_SITE. */
#define RDT_TASK_INFO 0x20000
#define RDT_TASK_SITE 0xffff
/* tp_probes / nr_probe flags: capture the kernel / user stack when the
 * probe fires, as a capture of site RDT_KSTACK_SITE / RDT_USTACK_SITE
 * (the frames' addresses, 8 bytes each). */
#define RDT_KSTACK 0x40000
#define RDT_USTACK 0x80000
/* tp_probes / nr_probe flags of a syscall probe: it has a probe_filters
 * entry; it has a kagg_plans entry (its records are aggregated, not sent). */
#define RDT_FILTERED 0x100000
#define RDT_KAGG 0x200000
#define RDT_KSTACK_SITE 0xfffe
#define RDT_USTACK_SITE 0xfffd
/* A predicate's condition the kernel tests before sending a record
 * (bpf/filter.h; lang/src/filter.rs): the integer of `size` bytes at
 * record offset `offset`, extended (RDT_COND_SIGNED) to 64 bits, compared
 * with `value` (RDT_COND_UNSIGNED: orderings as unsigned). */
#define RDT_COND_SIGNED 1
#define RDT_COND_UNSIGNED 2
#define RDT_OP_EQ 0
#define RDT_OP_NE 1
#define RDT_OP_LT 2
#define RDT_OP_LE 3
#define RDT_OP_GT 4
#define RDT_OP_GE 5
#define RDT_MAX_CONDS 4
struct filter_cond {
	__u16 offset;
	__u8 size;
	__u8 flags;
	__u8 op;
	__u8 pad[3];
	__s64 value;
};

struct probe_filter {
	__u32 n;
	__u32 pad;
	struct filter_cond conds[RDT_MAX_CONDS];
};

/* Aggregations kept in the kernel (lang/src/kagg.rs): per probe up to
 * RDT_KAGG_PER_PROBE updates `@a[parts] = count()/sum(value)`, each part
 * and the value read from the built record. */
#define RDT_KAGG_PER_PROBE 4
#define RDT_LOW_PROBES 4096 /* probe ids below it (syscall) have array-indexed plans and filters */
#define RDT_KAGG_PARTS 4
#define RDT_KAGG_INTS 3
#define RDT_KPART_INT 1   /* an integer field, extended to 64 bits */
#define RDT_KPART_CHARS 2 /* 16 bytes of a char array (execname) */
#define RDT_KVAL_ONE 0
#define RDT_KVAL_CONST 1
#define RDT_KVAL_FIELD 2
struct kagg_field {
	__u16 offset;
	__u8 kind;
	__u8 size;
	__u8 sign;
	__u8 pad[3];
};

struct kagg_action {
	__u32 id; /* the key's action: which update of the program */
	__u8 nparts;
	__u8 value_kind;
	__u8 pad[2];
	struct kagg_field value;
	__s64 value_const;
	struct kagg_field parts[RDT_KAGG_PARTS];
};

/* kagg_plan.needs: the header fields the updates and the filter read
 * beyond pid, tid, probe, cpu and the arguments (each costs helper calls). */
#define RDT_KNEED_IDS 1  /* uid, gid */
#define RDT_KNEED_PPID 2
#define RDT_KNEED_COMM 4
#define RDT_KNEED_ALL 7
/* A key part or value other than the task's name, the probe and
 * constants, or a filter: the updates need the record built. */
#define RDT_KNEED_RECORD 8
struct kagg_plan {
	__u32 n;
	__u32 needs;
	struct kagg_action actions[RDT_KAGG_PER_PROBE];
};

/* The per-CPU totals' key: the action, its integer parts in order, its
 * char-array part. */
struct kagg_key {
	__u32 action;
	__u32 pad;
	__u64 ints[RDT_KAGG_INTS];
	__u8 chars[16];
};

/* The most frames a captured stack has (perf_event_max_stack's default). */
#define RDT_MAX_FRAMES 127

/* illumos's bufinfo_t flags (io.d). */
#define RDT_B_DONE 0x2
#define RDT_B_ERROR 0x4
#define RDT_B_READ 0x40
#define RDT_B_WRITE 0x100
#define RDT_B_ASYNC 0x400

#define RDT_CAPTURE_OK 0
#define RDT_CAPTURE_FAULT 1 /* the address could not be read */

_Static_assert(sizeof(struct event_header) == 56, "event_header size");
_Static_assert(sizeof(struct syscall_event) == 112, "syscall_event size");
_Static_assert(sizeof(struct capture_header) == 16, "capture_header size");
_Static_assert(sizeof(struct capture_site) == 16, "capture_site size");
_Static_assert(sizeof(struct nr_probe) == 16, "nr_probe size");
_Static_assert(sizeof(struct capture_plan) == 8 + 16 * RDT_MAX_CAPTURES, "capture_plan size");
_Static_assert(sizeof(struct task_info) == 184, "task_info size");
_Static_assert(sizeof(struct task_event) == 56 + 48 + 16 + 2 * 184 + RDT_RAW_MAX, "task_event size");
_Static_assert(sizeof(struct io_info) == 184, "io_info size");
_Static_assert(sizeof(struct profile_event) == 80, "profile_event size");
_Static_assert(sizeof(struct filter_cond) == 16, "filter_cond size");
_Static_assert(sizeof(struct probe_filter) == 8 + 16 * RDT_MAX_CONDS, "probe_filter size");
_Static_assert(sizeof(struct kagg_action) == 56, "kagg_action size");
_Static_assert(sizeof(struct kagg_plan) == 8 + 56 * RDT_KAGG_PER_PROBE, "kagg_plan size");
_Static_assert(sizeof(struct kagg_key) == 48, "kagg_key size");
_Static_assert(sizeof(struct tcp_sockstate) == 88, "tcp_sockstate size");
_Static_assert(sizeof(struct tcp_event) == 256, "tcp_event size");
_Static_assert(sizeof(struct ip_event) == 192, "ip_event size");
_Static_assert(sizeof(struct udp_event) == 152, "udp_event size");

#endif
