/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* psinfo_t and lwpsinfo_t of a thread, read in the kernel when a probe
 * fires (included by net.bpf.c before syscall.h and task.h: the syscall
 * records carry them too, as their first capture, when a clause reads
 * curpsinfo or curlwpsinfo). */
#ifndef RDTRACE_TASKINFO_H
#define RDTRACE_TASKINFO_H

#define RDT_TASK_INTERRUPTIBLE 0x1
#define RDT_TASK_UNINTERRUPTIBLE 0x2
#define RDT_TASK_STOPPED 0x4
#define RDT_TASK_TRACED 0x8
#define RDT_TASK_DEAD 0x80
#define RDT_TASK_WAKEKILL 0x100
#define RDT_TASK_WAKING 0x200

/* cpuinfo_t.cpu_chip of each CPU, filled by the loader from sysfs. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __s32);
} cpu_chips SEC(".maps");

/* The command line of the running task: its argument area with the NULs
 * between arguments as spaces (as illumos's pr_psargs), cut at 79 bytes. */
static __always_inline void read_psargs(char *out, struct task_struct *t)
{
	struct mm_struct *mm = BPF_CORE_READ(t, mm);
	if (!mm)
		return;
	unsigned long start = BPF_CORE_READ(mm, arg_start);
	unsigned long end = BPF_CORE_READ(mm, arg_end);
	if (end <= start)
		return;
	__u32 len = end - start;
	if (len > RDT_PSARGS - 1)
		len = RDT_PSARGS - 1;
	if (bpf_probe_read_user(out, len & 127, (const void *)start)) {
		__builtin_memset(out, 0, RDT_PSARGS);
		return;
	}
	/* The area ends with its last argument's NUL. */
	for (int i = 0; i < RDT_PSARGS - 1; i++) {
		if (i + 1 >= len)
			break;
		if (out[i] == 0)
			out[i] = ' ';
	}
	out[len & 127] = 0;
}

static __always_inline __s32 pid_nr(struct signal_struct *sig, int type)
{
	struct pid *p = BPF_CORE_READ(sig, pids[type]);
	return p ? BPF_CORE_READ(p, numbers[0].nr) : 0;
}

/* psinfo_t and lwpsinfo_t of `t` (as dtrace-utils' procfs.d translators,
 * with the thread on a CPU as illumos's SONPROC). */
static __always_inline void read_task_info(struct task_info *ti, struct task_struct *t,
					   int on_cpu, int psargs)
{
	if (!t)
		return;
	ti->addr = (__u64)t;
	ti->start_ns = BPF_CORE_READ(t, start_time);
	ti->vtime_ns = BPF_CORE_READ(t, se.sum_exec_runtime);
	ti->pid = BPF_CORE_READ(t, tgid);
	ti->lwpid = BPF_CORE_READ(t, pid);
	ti->ppid = BPF_CORE_READ(t, real_parent, tgid);
	struct signal_struct *sig = BPF_CORE_READ(t, signal);
	if (sig) {
		ti->pgid = pid_nr(sig, PIDTYPE_PGID);
		ti->sid = pid_nr(sig, PIDTYPE_SID);
		ti->nlwp = BPF_CORE_READ(sig, nr_threads);
	}
	const struct cred *c = BPF_CORE_READ(t, cred);
	if (c) {
		ti->uid = BPF_CORE_READ(c, uid.val);
		ti->euid = BPF_CORE_READ(c, euid.val);
		ti->gid = BPF_CORE_READ(c, gid.val);
		ti->egid = BPF_CORE_READ(c, egid.val);
	}
	ti->pri = BPF_CORE_READ(t, prio);
	ti->onpro = BPF_CORE_READ(t, thread_info.cpu);
	unsigned int st = BPF_CORE_READ(t, __state);
	int exiting = BPF_CORE_READ(t, exit_state);
	ti->flag = (st & RDT_TASK_STOPPED) ? 1 : 0;
	if (on_cpu) {
		ti->state = 6;
		ti->sname = 'O';
	} else if (st & (RDT_TASK_INTERRUPTIBLE | RDT_TASK_UNINTERRUPTIBLE)) {
		ti->state = 1;
		ti->sname = 'S';
	} else if (st & (RDT_TASK_STOPPED | RDT_TASK_TRACED)) {
		ti->state = 4;
		ti->sname = 'T';
	} else if (exiting || (st & RDT_TASK_DEAD)) {
		ti->state = 3;
		ti->sname = 'Z';
	} else if (st & (RDT_TASK_WAKEKILL | RDT_TASK_WAKING)) {
		ti->state = 7;
		ti->sname = 'W';
	} else {
		ti->state = 2;
		ti->sname = 'R';
	}
	ti->dmodel = 2; /* PR_MODEL_LP64 */
	/* SCHED_NORMAL, SCHED_BATCH: time sharing; FIFO, RR: real time;
	 * DEADLINE; IDLE: the idle class. */
	unsigned int policy = BPF_CORE_READ(t, policy);
	if (policy == 1 || policy == 2)
		__builtin_memcpy(ti->clname, "RT", 3);
	else if (policy == 6)
		__builtin_memcpy(ti->clname, "DL", 3);
	else if (policy == 5)
		__builtin_memcpy(ti->clname, "IA", 3);
	else
		__builtin_memcpy(ti->clname, "TS", 3);
	BPF_CORE_READ_STR_INTO(&ti->fname, t, comm);
	if (psargs && (void *)t == (void *)bpf_get_current_task())
		read_psargs(ti->psargs, t);
	if (!ti->psargs[0])
		__builtin_memcpy(ti->psargs, ti->fname, sizeof(ti->fname));
}

#endif
