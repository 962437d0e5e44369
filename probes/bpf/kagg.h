/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* Aggregations kept in the kernel: a probe whose clauses only count or
 * sum record fields (under no predicate, or one the kernel filter decides
 * exactly) adds to per-CPU totals here instead of sending its record;
 * user space folds the totals into its aggregations (runtime/src/
 * kernel_aggs.rs). Included by net.bpf.c before the providers using it. */
#ifndef RDTRACE_KAGG_H
#define RDTRACE_KAGG_H

/* By probe id (syscall ids are below 4096): an array lookup, which the
 * verifier inlines, where a hash lookup took ~4% of a syscall storm. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, RDT_LOW_PROBES);
	__type(key, __u32); /* probe id */
	__type(value, struct kagg_plan);
} kagg_plans SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct kagg_key);
	__type(value, __s64);
} kagg_totals SEC(".maps");

/* New keys that did not fit in kagg_totals: aggregation drops. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} kagg_drops SEC(".maps");

/* Field `f` of the record at `rec` (`len` bytes, a constant bound). */
static __always_inline __s64 kagg_load(const __u8 *rec, const struct kagg_field *f, __u32 len)
{
	__u32 off = f->offset;
	if (off > len - 8)
		return 0;
	asm volatile("%0 &= 1023" : "+r"(off));
	switch (f->size) {
	case 1: return f->sign ? (__s64) * (const __s8 *)(rec + off) : *(const __u8 *)(rec + off);
	case 2: return f->sign ? (__s64) * (const __s16 *)(rec + off) : *(const __u16 *)(rec + off);
	case 4: return f->sign ? (__s64) * (const __s32 *)(rec + off) : *(const __u32 *)(rec + off);
	}
	return *(const __s64 *)(rec + off);
}

static __always_inline void kagg_add(const struct kagg_key *k, __s64 v)
{
	for (int tries = 0; tries < 2; tries++) {
		__s64 *t = bpf_map_lookup_elem(&kagg_totals, k);
		if (t) {
			/* This CPU's slot: no other program writes it meanwhile. */
			*t += v;
			return;
		}
		long err = bpf_map_update_elem(&kagg_totals, k, &v, BPF_NOEXIST);
		if (!err)
			return;
		if (err != -17 /* EEXIST: another CPU added it first */)
			break;
	}
	__u32 zero = 0;
	__u64 *d = bpf_map_lookup_elem(&kagg_drops, &zero);
	if (d)
		*d += 1;
}

/* Performs a plan's updates on the record at `rec` (`len` bytes, a
 * constant bound) or, `direct` (a constant), without one: a plan without
 * RDT_KNEED_RECORD has key parts that are the task's name (`comm`, 16
 * bytes) or the probe id and constant values, so the commonest one-liners
 * (@[execname] = count(), @[probefunc] = count()) skip building the
 * record. */
static __always_inline void kagg_update(const struct kagg_plan *plan, const __u8 *rec, __u32 len,
					int direct, __u32 probe, const char *comm)
{
	for (int i = 0; i < RDT_KAGG_PER_PROBE; i++) {
		if (i >= plan->n)
			break;
		const struct kagg_action *a = &plan->actions[i];
		struct kagg_key k = {};
		k.action = a->id;
		int ni = 0;
		for (int j = 0; j < RDT_KAGG_PARTS; j++) {
			if (j >= a->nparts)
				break;
			const struct kagg_field *f = &a->parts[j];
			if (f->kind == RDT_KPART_CHARS && direct) {
				__builtin_memcpy(k.chars, comm, 16);
				continue;
			}
			if (f->kind == RDT_KPART_CHARS) {
				__u32 off = f->offset;
				if (off > len - 16)
					continue;
				asm volatile("%0 &= 1023" : "+r"(off));
				__builtin_memcpy(k.chars, rec + off, 16);
				continue;
			}
			__s64 v = direct ? probe : kagg_load(rec, f, len);
			if (ni == 0)
				k.ints[0] = v;
			else if (ni == 1)
				k.ints[1] = v;
			else
				k.ints[2] = v;
			ni++;
		}
		__s64 v = 1;
		if (a->value_kind == RDT_KVAL_CONST)
			v = a->value_const;
		else if (a->value_kind == RDT_KVAL_FIELD && !direct)
			v = kagg_load(rec, &a->value, len);
		kagg_add(&k, v);
	}
}

#endif
