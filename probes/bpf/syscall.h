/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* The syscall provider's kernel part (included by net.bpf.c, after the
 * ring buffer and fill_header): one tracepoint program for every
 * syscalls:sys_enter_* and one for every sys_exit_* the enabled probes
 * name. The loader maps each attached tracepoint's event id (the records'
 * common_type) to its probe, and each probe to its capture plan: the user
 * memory its clauses read, copied here while the probe fires. */
#ifndef RDTRACE_SYSCALL_H
#define RDTRACE_SYSCALL_H

/* The records of syscalls:sys_enter_* / sys_exit_* (their format files):
 * common fields, the syscall number, then each argument (or the return
 * value) as 8 bytes. */
struct syscall_tp_common {
	__u16 common_type;
	__u8 common_flags;
	__u8 common_preempt_count;
	__s32 common_pid;
	__s32 nr;
	__u32 pad;
};

struct syscall_enter_ctx {
	struct syscall_tp_common common;
	__u64 args[6];
};

struct syscall_exit_ctx {
	struct syscall_tp_common common;
	__s64 ret;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32); /* probe id (the attach cookie) */
	__type(value, struct tp_probe);
} tp_probes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32); /* probe id */
	__type(value, struct capture_plan);
} capture_plans SEC(".maps");

/* Saved entry arguments, by thread, for RDT_FROM_ENTRY captures. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct syscall_entry_args);
} entry_args SEC(".maps");

/* A record is built here, then copied to the ring buffer with its size. */
#define RDT_SYSCALL_BUF (4 * RDT_CAPTURE_MAX)
struct syscall_buf {
	__u8 data[RDT_SYSCALL_BUF];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct syscall_buf);
} syscall_scratch SEC(".maps");

/* The tp_probes entry of the probe a tracefs tracepoint program was
 * attached for (its BPF cookie), or NULL when it is not traced (any more). */
static __always_inline struct tp_probe *tp_probe_of(void *ctx)
{
	__u32 probe = bpf_get_attach_cookie(ctx);
	return bpf_map_lookup_elem(&tp_probes, &probe);
}

/* args[i] with constant indexes only, which the verifier can check. */
static __always_inline __u64 arg_at(const __u64 *args, __u32 i)
{
	switch (i) {
	case 0: return args[0];
	case 1: return args[1];
	case 2: return args[2];
	case 3: return args[3];
	case 4: return args[4];
	case 5: return args[5];
	}
	return 0;
}

/* The u64 at record offset `off` of the event (RDT_FROM_RECORD) or of the
 * saved entry (RDT_FROM_ENTRY); 0 with *ok cleared when there is none. */
static __always_inline __u64 plan_value(const struct syscall_event *e,
					const struct syscall_entry_args *saved, int have_saved,
					__u8 from, __u16 off, int *ok)
{
	__u32 i = (off - __builtin_offsetof(struct syscall_event, args)) / 8;
	if (i >= 6) {
		*ok = 0;
		return 0;
	}
	if (from == RDT_FROM_RECORD)
		return arg_at(e->args, i);
	if (from == RDT_FROM_ENTRY && have_saved)
		return arg_at(saved->args, i);
	*ok = 0;
	return 0;
}

/* Copies the plan's user memory after the record; returns the record's
 * total size. */
static __always_inline __u32 capture_user_memory(struct syscall_buf *b, __u32 probe,
						 const struct syscall_entry_args *saved,
						 int have_saved, __u32 off)
{
	struct syscall_event *e = (struct syscall_event *)b->data;
	struct capture_plan *plan = bpf_map_lookup_elem(&capture_plans, &probe);
	if (!plan) {
		e->captures = off - sizeof(*e);
		return off;
	}
	for (int i = 0; i < RDT_MAX_CAPTURES; i++) {
		if (i >= plan->n)
			break;
		struct capture_site *s = &plan->sites[i];
		int ok = 1;
		__u64 addr = plan_value(e, saved, have_saved, s->addr_from, s->addr_off, &ok);
		__u64 len = s->len_max;
		if (s->len_from != RDT_FROM_CONST) {
			len = plan_value(e, saved, have_saved, s->len_from, s->len_off, &ok);
			if (len > s->len_max)
				len = s->len_max;
		}
		if (len > RDT_CAPTURE_MAX)
			len = RDT_CAPTURE_MAX;
		/* Bound the offset where the verifier sees it (clang would
		 * otherwise fold the mask into the loop's arithmetic). */
		asm volatile("%0 &= 4095" : "+r"(off));
		struct capture_header *h = (struct capture_header *)(b->data + off);
		h->site = s->site;
		h->addr = addr;
		h->status = RDT_CAPTURE_OK;
		h->len = 0;
		long n = 0;
		__u8 *dst = b->data + off + sizeof(*h);
		if (!ok) {
			h->status = RDT_CAPTURE_FAULT;
		} else if (len > 0) {
			__u32 want = len;
			asm volatile("%0 &= 4095" : "+r"(want));
			if (want == 0)
				want = RDT_CAPTURE_MAX;
			if (s->kind == RDT_COPY_STR)
				n = bpf_probe_read_user_str(dst, want, (const void *)addr);
			else
				n = bpf_probe_read_user(dst, want, (const void *)addr) ? -1 : want;
			if (n < 0) {
				h->status = RDT_CAPTURE_FAULT;
				n = 0;
			}
		}
		h->len = n;
		off += sizeof(*h) + ((n + 7) & ~7);
		if (off > RDT_SYSCALL_BUF / 4 - sizeof(*h))
			break;
	}
	e->captures = off - sizeof(*e);
	return off;
}

/* Writes the record of syscall probe `probe`: entry `args` (at a return,
 * `ret` instead), the user memory its plan copies; submits it. `btf`
 * (a constant): a tp_btf program, which reads the current task's ids and
 * name with plain loads instead of two helper calls (~4% of a storm). */
static __always_inline int emit_syscall(void *ctx, __u32 probe, __u32 flags, const __u64 *args,
					__s64 ret, int is_return, int btf)
{
	/* What a kernel filter tests first: the ids, then (in the record)
	 * the arguments; the rest of the header only for records that pass. */
	/* A probe aggregated in the kernel reads only what its updates and
	 * its filter need. (An entry saving its arguments takes the full
	 * path; it is never aggregated.) */
	const struct kagg_plan *kplan = NULL;
	__u32 needs = RDT_KNEED_ALL;
	if ((flags & RDT_KAGG) && !(flags & RDT_SAVE_ENTRY_ARGS)) {
		kplan = bpf_map_lookup_elem(&kagg_plans, &probe);
		if (kplan && kplan->n)
			needs = kplan->needs;
		else
			kplan = NULL;
	}
	struct task_struct *cur = btf ? bpf_get_current_task_btf() : NULL;
	__u64 pid_tgid = btf ? ((__u64)cur->tgid << 32) | (__u32)cur->pid
			     : bpf_get_current_pid_tgid();
	__u64 uid_gid = (needs & RDT_KNEED_IDS) ? bpf_get_current_uid_gid() : 0;
	/* An entry that saves its arguments for its return must save them
	 * even when the entry itself is filtered out. */
	const struct probe_filter *filter = (flags & RDT_FILTERED) ? low_filter_of(probe) : NULL;
	if (!(flags & RDT_SAVE_ENTRY_ARGS) && !is_return && !ids_pass(filter, pid_tgid, uid_gid))
		return 0;
	/* Keys of only the task's name and the probe: no record to build. */
	if (btf && kplan && !(kplan->needs & RDT_KNEED_RECORD)) {
		kagg_update(kplan, NULL, 0, 1, probe, cur->comm);
		return 0;
	}
	__u32 zero = 0;
	struct syscall_buf *b = bpf_map_lookup_elem(&syscall_scratch, &zero);
	if (!b)
		return 0;
	struct syscall_event *e = (struct syscall_event *)b->data;
	e->hdr.pid = pid_tgid >> 32;
	e->hdr.tid = (__u32)pid_tgid;
	e->hdr.uid = (__u32)uid_gid;
	e->hdr.gid = uid_gid >> 32;
	/* The task only when something reads it: a helper call per event. */
	e->hdr.ppid = 0;
	if ((needs & RDT_KNEED_PPID) && btf) {
		e->hdr.ppid = cur->real_parent->tgid;
	} else if (needs & RDT_KNEED_PPID) {
		struct task_struct *t = (struct task_struct *)bpf_get_current_task();
		e->hdr.ppid = BPF_CORE_READ(t, real_parent, tgid);
	}
	e->err = 0;
	e->captures = 0;
	__u32 tid = e->hdr.tid;
	/* The entry's arguments, copied (a map value may go away). */
	struct syscall_entry_args saved = {};
	int have_saved = 0;
	if (is_return) {
		__builtin_memset(e->args, 0, sizeof(e->args));
		e->args[0] = ret;
		e->args[1] = ret;
		if (ret < 0 && ret > -2048)
			e->err = -ret;
		struct syscall_entry_args *p = bpf_map_lookup_elem(&entry_args, &tid);
		if (p) {
			saved = *p;
			have_saved = 1;
			bpf_map_delete_elem(&entry_args, &tid);
		}
	} else {
		for (int i = 0; i < 6; i++)
			e->args[i] = args[i];
		if (flags & RDT_SAVE_ENTRY_ARGS)
			bpf_map_update_elem(&entry_args, &tid, (struct syscall_entry_args *)e->args,
					    BPF_ANY);
	}
	/* Records every clause's predicate rejects go no further. */
	if (!filter_passes(filter, b->data, sizeof(*e)))
		return 0;
	e->hdr.probe = probe;
	e->hdr.cpu = bpf_get_smp_processor_id();
	if ((needs & RDT_KNEED_COMM) && btf)
		__builtin_memcpy(e->hdr.comm, cur->comm, sizeof(e->hdr.comm));
	else if (needs & RDT_KNEED_COMM)
		bpf_get_current_comm(e->hdr.comm, sizeof(e->hdr.comm));
	/* Counted or summed here: nothing to send. */
	if (kplan) {
		kagg_update(kplan, b->data, sizeof(*e), 0, 0, NULL);
		return 0;
	}
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	e->hdr.ts_ns = bpf_ktime_get_ns();
	e->hdr.netns = BPF_CORE_READ(task, nsproxy, net_ns, ns.inum);
	/* curpsinfo / curlwpsinfo: the first capture. */
	__u32 start = sizeof(*e);
	if (flags & RDT_TASK_INFO) {
		struct capture_header *h = (struct capture_header *)(b->data + start);
		h->site = RDT_TASK_SITE;
		h->status = RDT_CAPTURE_OK;
		h->len = sizeof(struct task_info);
		h->addr = 0;
		struct task_info *ti = (struct task_info *)(b->data + start + sizeof(*h));
		__builtin_memset(ti, 0, sizeof(*ti));
		read_task_info(ti, task, 1, flags & RDT_TASK_PSARGS);
		start += sizeof(*h) + sizeof(*ti);
	}
	__u32 size = capture_user_memory(b, probe, &saved, have_saved, start);
	if (flags & (RDT_KSTACK | RDT_USTACK)) {
		size = append_stacks(ctx, b->data, size, flags);
		e->captures = size - sizeof(*e);
	}
	size &= RDT_SYSCALL_BUF - 1;
	if (size < sizeof(*e))
		return 0;
	if (bpf_ringbuf_output(&events, b->data, size, wakeup_flags()))
		count_drop();
	return 0;
}

/* A per-call tracepoint (syscalls:sys_enter_NAME / sys_exit_NAME). */
static __always_inline int syscall_event(void *ctx, int is_return)
{
	/* The loader attached this tracepoint with its probe id as cookie
	 * (a syscall tracepoint's context starts with a pt_regs pointer, so
	 * it cannot tell its event id). */
	struct tp_probe *tp = tp_probe_of(ctx);
	if (!tp)
		return 0;
	/* Fields are copied, not read as context: a program reading past an
	 * event's own fields may not attach to it (EACCES), and the calls
	 * have different numbers of arguments. */
	__u64 args[6] = {};
	__s64 ret = 0;
	if (is_return) {
		bpf_probe_read_kernel(&ret, sizeof(ret),
				      ctx + __builtin_offsetof(struct syscall_exit_ctx, ret));
	} else {
		__u32 nargs = tp->flags >> RDT_NARGS_SHIFT;
		if (nargs > 6)
			nargs = 6;
		if (nargs > 0)
			bpf_probe_read_kernel(args, nargs * 8,
					      ctx + __builtin_offsetof(struct syscall_enter_ctx, args));
	}
	return emit_syscall(ctx, tp->probe, tp->flags, args, ret, is_return, 0);
}

/* Many calls at once: raw_syscalls:sys_enter/sys_exit, which fire for
 * every call, with `nr_probes` telling which calls are traced (one array
 * lookup for the others). Attaching and detaching two hooks is quick
 * where hundreds of per-call tracepoints take seconds to detach. */

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, RDT_MAX_SYSCALL_NR);
	__type(key, __u32);
	__type(value, struct nr_probe);
} nr_probes SEC(".maps");

static __always_inline int raw_syscall(void *ctx, __u64 nr, struct pt_regs *regs, __s64 ret,
				       int is_return, int btf)
{
	if (nr >= RDT_MAX_SYSCALL_NR)
		return 0;
	__u32 k = nr;
	struct nr_probe *np = bpf_map_lookup_elem(&nr_probes, &k);
	if (!np)
		return 0;
	__u32 probe = is_return ? np->ret : np->entry;
	if (!probe)
		return 0;
	__u64 args[6] = {};
	if (!is_return && btf) {
		/* A tp_btf program's regs are a trusted pointer: plain loads,
		 * not one helper call per register. */
		args[0] = regs->di;
		args[1] = regs->si;
		args[2] = regs->dx;
		args[3] = regs->r10;
		args[4] = regs->r8;
		args[5] = regs->r9;
	} else if (!is_return) {
		args[0] = BPF_CORE_READ(regs, di);
		args[1] = BPF_CORE_READ(regs, si);
		args[2] = BPF_CORE_READ(regs, dx);
		args[3] = BPF_CORE_READ(regs, r10);
		args[4] = BPF_CORE_READ(regs, r8);
		args[5] = BPF_CORE_READ(regs, r9);
	}
	return emit_syscall(ctx, probe, is_return ? np->ret_flags : np->entry_flags, args, ret,
			    is_return, btf);
}

SEC("tp_btf/sys_enter")
int BPF_PROG(raw_sys_enter, struct pt_regs *regs, long id)
{
	return raw_syscall(ctx, id, regs, 0, 0, 1);
}

SEC("tp_btf/sys_exit")
int BPF_PROG(raw_sys_exit, struct pt_regs *regs, long ret)
{
	return raw_syscall(ctx, regs->orig_ax, regs, ret, 1, 1);
}

SEC("raw_tp/sys_enter")
int raw_sys_enter_raw(__u64 *ctx)
{
	return raw_syscall(ctx, ctx[1], (struct pt_regs *)ctx[0], 0, 0, 0);
}

SEC("raw_tp/sys_exit")
int raw_sys_exit_raw(__u64 *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)ctx[0];
	return raw_syscall(ctx, BPF_CORE_READ(regs, orig_ax), regs, (__s64)ctx[1], 1, 0);
}

SEC("tracepoint")
int syscall_entry(void *ctx)
{
	return syscall_event(ctx, 0);
}

SEC("tracepoint")
int syscall_return(void *ctx)
{
	return syscall_event(ctx, 1);
}

#endif
