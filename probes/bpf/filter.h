/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* Predicates in the kernel: a probe's records that fail a condition every
 * clause's predicate implies (lang/src/filter.rs picks them) are not sent.
 * The user-space predicate still runs on what is sent. Included by
 * net.bpf.c before the providers that filter (syscall, task). */
#ifndef RDTRACE_FILTER_H
#define RDTRACE_FILTER_H

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32); /* probe id */
	__type(value, struct probe_filter);
} probe_filters SEC(".maps");

/* The same for probe ids below RDT_LOW_PROBES (syscall probes): an
 * array, whose lookup the verifier inlines, where the hash lookup cost a
 * few percent of a syscall storm. An entry without conditions (n == 0)
 * passes everything. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, RDT_LOW_PROBES);
	__type(key, __u32); /* probe id */
	__type(value, struct probe_filter);
} low_probe_filters SEC(".maps");

/* Probe `probe`'s conditions (looked up once per event), or NULL. */
static __always_inline const struct probe_filter *filter_of(__u32 probe)
{
	if (probe < RDT_LOW_PROBES)
		return bpf_map_lookup_elem(&low_probe_filters, &probe);
	return bpf_map_lookup_elem(&probe_filters, &probe);
}

/* The same for a probe known to be below RDT_LOW_PROBES (syscall
 * probes). One map per call site: where clang merges filter_of's two
 * lookups into one call on a selected map, the verifier cannot inline
 * it, and the call (through a retpoline) cost ~7% of a syscall storm. */
static __always_inline const struct probe_filter *low_filter_of(__u32 probe)
{
	return bpf_map_lookup_elem(&low_probe_filters, &probe);
}

/* Whether value `v` (already extended) meets condition `c`. */
static __always_inline int cond_holds(const struct filter_cond *c, __s64 v)
{
	__s64 x = c->value;
	int uns = c->flags & RDT_COND_UNSIGNED;
	int lt = uns ? (__u64)v < (__u64)x : v < x;
	int gt = uns ? (__u64)v > (__u64)x : v > x;
	switch (c->op) {
	case RDT_OP_EQ: return v == x;
	case RDT_OP_NE: return v != x;
	case RDT_OP_LT: return lt;
	case RDT_OP_LE: return !gt;
	case RDT_OP_GT: return gt;
	case RDT_OP_GE: return !lt;
	}
	return 1;
}

/* The conditions on the header's pid, tid, uid and gid, tested before a
 * record is built (their values come from two helper calls): most
 * rejected events cost no more than this. */
static __always_inline int ids_pass(const struct probe_filter *f, __u64 pid_tgid, __u64 uid_gid)
{
	if (!f)
		return 1;
	for (int i = 0; i < RDT_MAX_CONDS; i++) {
		if (i >= f->n)
			break;
		const struct filter_cond *c = &f->conds[i];
		__u32 v;
		switch (c->offset) {
		case __builtin_offsetof(struct event_header, pid): v = pid_tgid >> 32; break;
		case __builtin_offsetof(struct event_header, tid): v = (__u32)pid_tgid; break;
		case __builtin_offsetof(struct event_header, uid): v = (__u32)uid_gid; break;
		case __builtin_offsetof(struct event_header, gid): v = uid_gid >> 32; break;
		default: continue;
		}
		if (c->size != 4)
			continue;
		__s64 x = (c->flags & RDT_COND_SIGNED) ? (__s64)(__s32)v : (__s64)v;
		if (!cond_holds(c, x))
			return 0;
	}
	return 1;
}

/* Whether the record of `len` bytes at `rec` (len a constant bound of
 * the caller's buffer) meets probe's conditions. */
static __always_inline int filter_passes(const struct probe_filter *f, const __u8 *rec, __u32 len)
{
	if (!f)
		return 1;
	for (int i = 0; i < RDT_MAX_CONDS; i++) {
		if (i >= f->n)
			break;
		const struct filter_cond *c = &f->conds[i];
		__u32 off = c->offset;
		/* A field the record does not hold: leave it to user space. */
		if (off > len - 8)
			continue;
		asm volatile("%0 &= 1023" : "+r"(off));
		__s64 v = 0;
		int sign = c->flags & RDT_COND_SIGNED;
		switch (c->size) {
		case 1: v = sign ? (__s64) * (const __s8 *)(rec + off) : *(const __u8 *)(rec + off); break;
		case 2: v = sign ? (__s64) * (const __s16 *)(rec + off) : *(const __u16 *)(rec + off); break;
		case 4: v = sign ? (__s64) * (const __s32 *)(rec + off) : *(const __u32 *)(rec + off); break;
		default: v = *(const __s64 *)(rec + off); break;
		}
		if (!cond_holds(c, v))
			return 0;
	}
	return 1;
}

#endif
