/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* The proc, sched, io and sdt providers' kernel part (included by
 * net.bpf.c after syscall.h): BTF-typed tracepoints for proc, sched and
 * io, each writing a task_event for the enabled probes it serves; one
 * tracefs program for every sdt probe (the tracepoint's record copied);
 * the execve tracepoints for proc:::exec and exec-failure.
 *
 * Every record describes the thread the probe fires for in `hdr` and
 * `cur` (curpsinfo, curlwpsinfo, vtimestamp) and, where an argument points
 * to another thread, that one in `other`. The command line (pr_psargs) is
 * user memory: it is read only for the probes whose clauses use it
 * (want_psargs, or RDT_TASK_PSARGS in an sdt probe's flags) and only for
 * the task running on this CPU; another task's is its pr_fname. */
#ifndef RDTRACE_TASK_H
#define RDTRACE_TASK_H

/* Bit (1 << probe id) of the proc/sched/io probes whose clauses read
 * curpsinfo->pr_psargs (or an argument's). */
const volatile __u64 want_psargs = 0;

#define RDT_CLONE_THREAD 0x00010000

/* Threads created while proc:::start or lwp-start is enabled and not yet
 * run: value 1 for a thread of an existing process (lwp-start). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u32);
} new_tasks SEC(".maps");

/* The record without its raw area, for the probes that have none: user
 * space reads the missing bytes as zeros. */
#define TASK_EVENT_SHORT __builtin_offsetof(struct task_event, raw)

/* A zeroed task_event of `size` bytes (sizeof or TASK_EVENT_SHORT) for
 * probe `probe` firing for thread `t` (`on_cpu`: the thread runs on this
 * CPU), or NULL when the ring buffer is full. */
static __always_inline struct task_event *task_record_of(__u32 size, __u32 probe, struct task_struct *t,
							 int on_cpu, int psargs, __u32 stacks)
{
	/* With stacks the record is built whole in the per-CPU buffer, the
	 * stacks after it (task_submit). */
	struct task_event *e = stacks ? stack_buffer() : reserve(size);
	if (!e)
		return 0;
	if (stacks)
		__builtin_memset(e, 0, sizeof(*e));
	else
		__builtin_memset(e, 0, size);
	struct event_header *h = &e->hdr;
	h->ts_ns = bpf_ktime_get_ns();
	h->probe = probe;
	h->cpu = bpf_get_smp_processor_id();
	h->pid = BPF_CORE_READ(t, tgid);
	h->tid = BPF_CORE_READ(t, pid);
	h->ppid = BPF_CORE_READ(t, real_parent, tgid);
	h->uid = BPF_CORE_READ(t, cred, uid.val);
	h->gid = BPF_CORE_READ(t, cred, gid.val);
	h->netns = BPF_CORE_READ(t, nsproxy, net_ns, ns.inum);
	BPF_CORE_READ_STR_INTO(&h->comm, t, comm);
	read_task_info(&e->cur, t, on_cpu, psargs);
	__u32 cpu = h->cpu;
	__s32 *chip = bpf_map_lookup_elem(&cpu_chips, &cpu);
	e->chip = chip ? *chip : 0;
	e->lgrp = bpf_get_numa_node_id();
	return e;
}

static __always_inline struct task_event *task_record(__u32 probe, struct task_struct *t, int on_cpu,
						      int psargs, __u32 stacks)
{
	return task_record_of(sizeof(struct task_event), probe, t, on_cpu, psargs, stacks);
}

static __always_inline struct task_event *short_task_record(__u32 probe, struct task_struct *t,
							    int on_cpu, int psargs, __u32 stacks)
{
	return task_record_of(TASK_EVENT_SHORT, probe, t, on_cpu, psargs, stacks);
}

/* Sends a record task_record made: reserved ones as they are, built ones
 * with their stacks. */
static __always_inline void task_submit(void *ctx, struct task_event *e, __u32 stacks, __u32 len)
{
	/* Records every clause's predicate rejects are not sent. */
	if (!filter_passes(filter_of(e->hdr.probe), (const __u8 *)e, stacks ? sizeof(*e) : len)) {
		if (!stacks)
			bpf_ringbuf_discard(e, 0);
		return;
	}
	if (!stacks) {
		bpf_ringbuf_submit(e, wakeup_flags());
		return;
	}
	__u32 size = append_stacks(ctx, (__u8 *)e, sizeof(*e), stacks);
	e->captures = size - sizeof(*e);
	size &= RDT_STACK_BUF - 1;
	if (size < sizeof(*e))
		return;
	if (bpf_ringbuf_output(&events, e, size, wakeup_flags()))
		count_drop();
}

#define TP_STACKS(tp) ((tp)->flags & (RDT_KSTACK | RDT_USTACK))

#define WANT_PSARGS(id) (want_psargs & (1ULL << (id)))

static __always_inline struct task_struct *current_task(void)
{
	return (struct task_struct *)bpf_get_current_task();
}

/* A record of the current thread with `other` (may be NULL) in args. */
static __always_inline void emit_task(void *ctx, __u32 probe, struct task_struct *other, __s64 arg0,
				      __s64 arg1, __s64 arg2)
{
	__u32 stacks = stack_flags_of(probe);
	struct task_event *e = short_task_record(probe, current_task(), 1, WANT_PSARGS(probe), stacks);
	if (!e)
		return;
	e->args[0] = arg0;
	e->args[1] = arg1;
	e->args[2] = arg2;
	read_task_info(&e->other, other, 0, 0);
	task_submit(ctx, e, stacks, TASK_EVENT_SHORT);
}

/* --------------------------------------------------------------- sched */

SEC("tp_btf/sched_switch")
int BPF_PROG(task_sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next,
	     unsigned int prev_state)
{
	if (ENABLED(RDT_PROBE_SCHED_SLEEP) && !preempt &&
	    (prev_state & (RDT_TASK_INTERRUPTIBLE | RDT_TASK_UNINTERRUPTIBLE)))
		emit_task(ctx, RDT_PROBE_SCHED_SLEEP, 0, 0, 0, 0);
	if (ENABLED(RDT_PROBE_SCHED_PREEMPT) && preempt)
		emit_task(ctx, RDT_PROBE_SCHED_PREEMPT, 0, 0, 0, 0);
	if (ENABLED(RDT_PROBE_SCHED_OFF_CPU))
		emit_task(ctx, RDT_PROBE_SCHED_OFF_CPU, next, (__s64)next, (__s64)next, 0);
	if (ENABLED(RDT_PROBE_SCHED_ON_CPU)) {
		/* The stacks are prev's: the one on the CPU when it fires. */
		__u32 stacks = stack_flags_of(RDT_PROBE_SCHED_ON_CPU);
		struct task_event *e = short_task_record(RDT_PROBE_SCHED_ON_CPU, next, 1, 0, stacks);
		if (e)
			task_submit(ctx, e, stacks, TASK_EVENT_SHORT);
	}
	if (ENABLED(RDT_PROBE_PROC_START) || ENABLED(RDT_PROBE_PROC_LWP_START)) {
		__u32 tid = BPF_CORE_READ(next, pid);
		__u32 *thread = bpf_map_lookup_elem(&new_tasks, &tid);
		if (thread) {
			__u32 probe = *thread ? RDT_PROBE_PROC_LWP_START : RDT_PROBE_PROC_START;
			bpf_map_delete_elem(&new_tasks, &tid);
			__u32 stacks = stack_flags_of(probe);
			struct task_event *e = short_task_record(probe, next, 1, 0, stacks);
			if (e)
				task_submit(ctx, e, stacks, TASK_EVENT_SHORT);
		}
	}
	return 0;
}

SEC("tp_btf/sched_waking")
int BPF_PROG(task_sched_waking, struct task_struct *p)
{
	if (ENABLED(RDT_PROBE_SCHED_WAKEUP))
		emit_task(ctx, RDT_PROBE_SCHED_WAKEUP, p, (__s64)p, (__s64)p, 0);
	return 0;
}

SEC("tp_btf/sched_pi_setprio")
int BPF_PROG(task_sched_pi_setprio, struct task_struct *tsk, struct task_struct *pi_task)
{
	/* The priority the tracepoint reports as newprio. */
	int pri = BPF_CORE_READ(tsk, normal_prio);
	if (pi_task) {
		int boost = BPF_CORE_READ(pi_task, prio);
		if (boost < pri)
			pri = boost;
	}
	if (ENABLED(RDT_PROBE_SCHED_CHANGE_PRI))
		emit_task(ctx, RDT_PROBE_SCHED_CHANGE_PRI, tsk, (__s64)tsk, (__s64)tsk, pri);
	return 0;
}

/* ---------------------------------------------------------------- proc */

SEC("tp_btf/task_newtask")
int BPF_PROG(task_newtask, struct task_struct *task, __u64 clone_flags)
{
	__u32 thread = (clone_flags & RDT_CLONE_THREAD) ? 1 : 0;
	if (thread && ENABLED(RDT_PROBE_PROC_LWP_CREATE))
		emit_task(ctx, RDT_PROBE_PROC_LWP_CREATE, task, (__s64)task, (__s64)task, 0);
	if (!thread && ENABLED(RDT_PROBE_PROC_CREATE))
		emit_task(ctx, RDT_PROBE_PROC_CREATE, task, (__s64)task, 0, 0);
	if ((thread && ENABLED(RDT_PROBE_PROC_LWP_START)) ||
	    (!thread && ENABLED(RDT_PROBE_PROC_START))) {
		__u32 tid = BPF_CORE_READ(task, pid);
		bpf_map_update_elem(&new_tasks, &tid, &thread, BPF_ANY);
	}
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(task_process_exec, struct task_struct *p, int old_pid, struct linux_binprm *bprm)
{
	if (ENABLED(RDT_PROBE_PROC_EXEC_SUCCESS))
		emit_task(ctx, RDT_PROBE_PROC_EXEC_SUCCESS, 0, 0, 0, 0);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(task_process_exit, struct task_struct *p, bool group_dead)
{
	if (!group_dead) {
		if (ENABLED(RDT_PROBE_PROC_LWP_EXIT))
			emit_task(ctx, RDT_PROBE_PROC_LWP_EXIT, 0, 0, 0, 0);
		return 0;
	}
	if (!ENABLED(RDT_PROBE_PROC_EXIT))
		return 0;
	/* As illumos: CLD_EXITED 1, CLD_KILLED 2, CLD_DUMPED 3. */
	int code = BPF_CORE_READ(p, exit_code);
	__s64 why = (code & 0x7f) == 0 ? 1 : (code & 0x80) ? 3 : 2;
	emit_task(ctx, RDT_PROBE_PROC_EXIT, 0, why, 0, 0);
	return 0;
}

SEC("tp_btf/signal_generate")
int BPF_PROG(task_signal_generate, int sig, struct kernel_siginfo *info, struct task_struct *task,
	     int group, int result)
{
	/* TRACE_SIGNAL_IGNORED: the target ignores it and it is dropped. */
	__u32 probe = result == 1 ? RDT_PROBE_PROC_SIGNAL_DISCARD : RDT_PROBE_PROC_SIGNAL_SEND;
	if (ENABLED(probe))
		emit_task(ctx, probe, task, (__s64)task, (__s64)task, sig);
	return 0;
}

SEC("tp_btf/signal_deliver")
int BPF_PROG(task_signal_deliver, int sig, struct kernel_siginfo *info, struct k_sigaction *ka)
{
	if (!ENABLED(RDT_PROBE_PROC_SIGNAL_HANDLE))
		return 0;
	/* A fatal signal makes the kernel kill the group with SIGKILL and
	 * keep the signal in group_exit_code: report that one. */
	if (sig == 9) {
		int code = BPF_CORE_READ(current_task(), signal, group_exit_code) & 0x7f;
		if (code)
			sig = code;
	}
	emit_task(ctx, RDT_PROBE_PROC_SIGNAL_HANDLE, 0, sig, (__s64)info,
		  (__s64)BPF_CORE_READ(ka, sa.sa_handler));
	return 0;
}

/* proc:::exec (the path, at execve's or execveat's entry: the filename is
 * argument `i`) and exec-failure (their return with an error), on the
 * syscalls tracepoints; the cookie is the probe. */
static __always_inline int proc_exec(void *ctx, __u32 i)
{
	struct tp_probe *tp = tp_probe_of(ctx);
	if (!tp)
		return 0;
	__u64 name = 0;
	bpf_probe_read_kernel(&name, sizeof(name),
			      ctx + __builtin_offsetof(struct syscall_enter_ctx, args) + i * 8);
	/* One read of the flags: the verifier must see the record's kind
	 * (reserved or built) decided once. */
	__u32 stacks = TP_STACKS(tp);
	struct task_event *e =
		task_record(tp->probe, current_task(), 1, tp->flags & RDT_TASK_PSARGS, stacks);
	if (!e)
		return 0;
	long n = bpf_probe_read_user_str(e->raw, 256, (const void *)name);
	e->raw_len = n > 0 ? n : 0;
	e->args[0] = name;
	task_submit(ctx, e, stacks, sizeof(*e));
	return 0;
}

SEC("tracepoint")
int proc_exec_entry(void *ctx)
{
	return proc_exec(ctx, 0);
}

SEC("tracepoint")
int proc_execat_entry(void *ctx)
{
	return proc_exec(ctx, 1);
}

SEC("tracepoint")
int proc_exec_return(void *ctx)
{
	struct tp_probe *tp = tp_probe_of(ctx);
	if (!tp)
		return 0;
	__s64 ret = 0;
	bpf_probe_read_kernel(&ret, sizeof(ret),
			      ctx + __builtin_offsetof(struct syscall_exit_ctx, ret));
	if (ret >= 0)
		return 0;
	__u32 stacks = TP_STACKS(tp);
	struct task_event *e =
		short_task_record(tp->probe, current_task(), 1, tp->flags & RDT_TASK_PSARGS, stacks);
	if (!e)
		return 0;
	e->args[0] = -ret;
	task_submit(ctx, e, stacks, TASK_EVENT_SHORT);
	return 0;
}

/* ------------------------------------------------------------------ io */

/* blk_status_t as errno (blk_status_to_errno). */
static __always_inline __s32 blk_errno(__u8 status)
{
	switch (status) {
	case 0: return 0;
	case 1: return 95;  /* EOPNOTSUPP */
	case 2: return 110; /* ETIMEDOUT */
	case 3: return 28;  /* ENOSPC */
	case 4: return 67;  /* ENOLINK */
	case 5: return 121; /* EREMOTEIO */
	case 6: return 52;  /* EBADE */
	case 7: return 61;  /* ENODATA */
	case 8: return 84;  /* EILSEQ */
	case 9: return 12;  /* ENOMEM */
	case 11: return 78; /* EREMCHG */
	case 12: return 11; /* EAGAIN */
	}
	return 5; /* EIO */
}

/* Appends the decimal `n` (< 1000) at s[at]. Returns the new end. */
static __always_inline __u32 put_small(char *s, __u32 at, __u32 n)
{
	if (n >= 100 && at < 38)
		s[at++] = '0' + n / 100;
	if (n >= 10 && at < 38)
		s[at++] = '0' + n / 10 % 10;
	if (at < 38)
		s[at++] = '0' + n % 10;
	return at;
}

static __always_inline void emit_io(void *ctx, __u32 probe, struct request *rq, int done, __u8 status,
				    __u32 nr_bytes)
{
	__u32 stacks = stack_flags_of(probe);
	struct task_event *e = task_record(probe, current_task(), 1, WANT_PSARGS(probe), stacks);
	if (!e)
		return;
	struct io_info *io = (struct io_info *)e->raw;
	e->raw_len = sizeof(*io);
	io->blkno = BPF_CORE_READ(rq, __sector);
	io->bcount = BPF_CORE_READ(rq, __data_len);
	unsigned int op = BPF_CORE_READ(rq, cmd_flags);
	/* REQ_OP_WRITE and the other odd operations write; REQ_SYNC (bit 11)
	 * is what is not B_ASYNC (dtrace-utils' bio translator). */
	io->flags = ((op & 1) ? RDT_B_WRITE : RDT_B_READ) | ((op & (1 << 11)) ? 0 : RDT_B_ASYNC);
	if (done) {
		io->error = blk_errno(status);
		io->resid = nr_bytes < io->bcount ? io->bcount - nr_bytes : 0;
		io->flags |= RDT_B_DONE | (io->error ? RDT_B_ERROR : 0);
	}
	struct gendisk *disk = BPF_CORE_READ(rq, q, disk);
	struct block_device *part = BPF_CORE_READ(rq, part);
	__u32 dev = part ? BPF_CORE_READ(part, bd_dev) : 0;
	io->dev = dev;
	io->major = dev >> 20;
	io->minor = dev & 0xfffff;
	BPF_CORE_READ_STR_INTO(&io->statname, disk, disk_name);
	__u32 partno = io->minor - BPF_CORE_READ(disk, first_minor);
	__u32 end = 0;
	for (int i = 0; i < 32; i++) {
		if (!io->statname[i])
			break;
		end = i + 1;
	}
	if (partno > 0 && partno < 1000)
		put_small(io->statname, end & 31, partno);
	__builtin_memcpy(io->pathname, "/dev/", 5);
	bpf_probe_read_kernel_str(io->pathname + 5, 40, io->statname);
	/* The driver, as dtrace-utils: of the disk's parent device, else of
	 * the disk itself. */
	struct device *d = &BPF_CORE_READ(disk, part0)->bd_device;
	struct device *parent = BPF_CORE_READ(d, parent);
	struct device_driver *drv = parent ? BPF_CORE_READ(parent, driver) : BPF_CORE_READ(d, driver);
	const char *name = drv ? BPF_CORE_READ(drv, name) : 0;
	if (!name || bpf_probe_read_kernel_str(io->name, sizeof(io->name), name) <= 0)
		__builtin_memcpy(io->name, "<none>", 7);
	__builtin_memcpy(io->unknown, "<unknown>", 10);
	e->args[0] = (__s64)rq;
	task_submit(ctx, e, stacks, sizeof(*e));
}

SEC("tp_btf/block_rq_issue")
int BPF_PROG(task_block_rq_issue, struct request *rq)
{
	if (ENABLED(RDT_PROBE_IO_START))
		emit_io(ctx, RDT_PROBE_IO_START, rq, 0, 0, 0);
	return 0;
}

SEC("tp_btf/block_rq_complete")
int BPF_PROG(task_block_rq_complete, struct request *rq, __u8 error, unsigned int nr_bytes)
{
	if (ENABLED(RDT_PROBE_IO_DONE))
		emit_io(ctx, RDT_PROBE_IO_DONE, rq, 1, error, nr_bytes);
	return 0;
}

/* ----------------------------------------------------------------- sdt */

/* Every sdt probe: the tracepoint's record (its size in the flags) after
 * the task fields. The record is the tracepoint's own memory, copied with
 * a helper: a program may not read a context past its event's fields. */
SEC("tracepoint")
int sdt_event(void *ctx)
{
	struct tp_probe *tp = tp_probe_of(ctx);
	if (!tp)
		return 0;
	__u32 stacks = TP_STACKS(tp);
	__u32 flags = tp->flags;
	struct task_event *e =
		task_record(tp->probe, current_task(), 1, flags & RDT_TASK_PSARGS, stacks);
	if (!e)
		return 0;
	__u32 len = flags & RDT_SDT_SIZE_MASK;
	if (len > RDT_RAW_MAX)
		len = RDT_RAW_MAX;
	/* __data_loc strings follow the fixed fields: take all the room
	 * there is when the record has some (the perf buffer the record is
	 * built in is larger), its fixed part if that cannot be read. */
	if ((flags & RDT_SDT_DYNAMIC) && bpf_probe_read_kernel(e->raw, RDT_RAW_MAX, ctx) == 0)
		e->raw_len = RDT_RAW_MAX;
	else if (len > 0 && bpf_probe_read_kernel(e->raw, len, ctx) == 0)
		e->raw_len = len;
	task_submit(ctx, e, stacks, sizeof(*e));
	return 0;
}

#endif
