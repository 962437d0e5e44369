/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* Stacks captured when a probe fires (included by net.bpf.c before the
 * providers that use them): appended to a record being built in a
 * per-CPU buffer as captures of sites RDT_KSTACK_SITE / RDT_USTACK_SITE,
 * for the probes whose clauses use stack() or ustack(). */
#ifndef RDTRACE_STACKS_H
#define RDTRACE_STACKS_H

/* Frames to capture (the most any clause asks for, or the
 * stackframes / ustackframes options), set by the loader. */
const volatile __u32 kstack_frames = 0;
const volatile __u32 ustack_frames = 0;
/* Bit (1 << probe id) of the fixed probes (ids < 64) that capture a
 * kernel / user stack. */
const volatile __u64 want_kstack = 0;
const volatile __u64 want_ustack = 0;

/* Flags of fixed probe `id`: RDT_KSTACK, RDT_USTACK. */
static __always_inline __u32 stack_flags_of(__u32 id)
{
	__u32 f = 0;
	if (want_kstack & (1ULL << (id & 63)))
		f |= RDT_KSTACK;
	if (want_ustack & (1ULL << (id & 63)))
		f |= RDT_USTACK;
	return f;
}

/* A record with stacks is built here, then copied to the ring buffer. */
#define RDT_STACK_BUF 16384
struct stack_buf {
	__u8 data[RDT_STACK_BUF];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct stack_buf);
} stack_scratch SEC(".maps");

static __always_inline void *stack_buffer(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&stack_scratch, &zero);
}

/* One stack as a capture at `off` of `buf`; returns the offset after it. */
static __always_inline __u32 append_stack(void *ctx, __u8 *buf, __u32 off, __u16 site, __u32 frames,
					  __u64 flags)
{
	if (off > RDT_STACK_BUF - 2048)
		return off;
	asm volatile("%0 &= 16383" : "+r"(off));
	struct capture_header *h = (struct capture_header *)(buf + off);
	h->site = site;
	h->status = RDT_CAPTURE_OK;
	h->addr = 0;
	__u32 size = frames * 8;
	if (size > RDT_MAX_FRAMES * 8)
		size = RDT_MAX_FRAMES * 8;
	if (size < 8)
		size = 8;
	long n = bpf_get_stack(ctx, buf + off + sizeof(*h), size, flags);
	if (n < 0) {
		h->status = RDT_CAPTURE_FAULT;
		n = 0;
	}
	h->len = n;
	return off + sizeof(*h) + ((n + 7) & ~7);
}

/* The stacks `flags` asks for, from `off` on; returns the end. */
static __always_inline __u32 append_stacks(void *ctx, __u8 *buf, __u32 off, __u32 flags)
{
	if (flags & RDT_KSTACK)
		off = append_stack(ctx, buf, off, RDT_KSTACK_SITE, kstack_frames, 0);
	if (flags & RDT_USTACK)
		off = append_stack(ctx, buf, off, RDT_USTACK_SITE, ustack_frames, BPF_F_USER_STACK);
	return off;
}

#endif
