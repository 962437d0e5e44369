// SPDX-License-Identifier: GPL-2.0
/* The network providers: tcp, ip and udp.
 *
 *   packets sent:     tp_btf/net_dev_queue          (raw_tp/net_dev_queue)
 *   packets received: tp_btf/netif_receive_skb      (raw_tp/netif_receive_skb)
 *   TCP states:       tp_btf/inet_sock_set_state    (raw_tp/inet_sock_set_state)
 *   profile-N:        perf_event (cpu-clock, every online CPU)
 *
 * Packets: once per packet that a stack on this host sends or receives, in
 * every network namespace. Forwarded and bridged copies are not reported: a
 * receive on a device with an rx_handler (bridge/bond/macvlan port) is
 * passed on to the upper device and reported there; a send that arrived
 * from an interface (skb_iif set) and has no socket is forwarded or bridged.
 * A GSO/GRO super-packet is one record.
 *
 * TCP connections: the receive hook runs before the kernel looks the
 * socket up, so a map keyed by the connection (4-tuple and netns) keeps
 * what is known of each one: its socket, a snapshot of its state refreshed
 * by every send and state change, the initial sequence numbers seen in the
 * SYNs, the owning process, and what the handshake and teardown have
 * shown. Receives report the snapshot (the state before the segment is
 * processed, as of the connection's last send or state change).
 *
 * TIME_WAIT: Linux moves a connection into a timewait socket and sets the
 * full socket to CLOSE without a TIME_WAIT state change; for an orphaned
 * socket it does so when its FIN is acked, before the peer's FIN. So
 * FIN_WAIT2/CLOSING -> CLOSE is reported as -> TIME_WAIT, at once when the
 * peer's FIN has already been received, else when it is.
 *
 * The task fields describe the current task: on send usually the sending
 * process, but in softirq context (most receives, ACKs sent from timers or
 * on packet arrival) whatever task the interrupt happened to hit.
 */
#include "vmlinux_min.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
#include "event.h"
#include "protocols.h"
#include "packet.h"
#include "sockstate.h"
#include "stacks.h"
#include "filter.h"
#include "kagg.h"

/* The local and remote ends of a packet record `e` from its source and
 * destination, by direction: one definition for tcp and udp records (replay
 * derives them the same way, in replay.rs `local_remote`). */
#define LOCAL_REMOTE(e, dir)                                                                \
	do {                                                                               \
		int send_ = (dir) == RDT_DIR_SEND;                                         \
		__builtin_memcpy((e)->laddr, send_ ? (e)->saddr : (e)->daddr, 16);         \
		__builtin_memcpy((e)->raddr, send_ ? (e)->daddr : (e)->saddr, 16);         \
		(e)->lport = send_ ? (e)->sport : (e)->dport;                              \
		(e)->rport = send_ ? (e)->dport : (e)->sport;                              \
	} while (0)

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_ACK 0x10

/* Size is set by the loader (power of two, page multiple). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);
} events SEC(".maps");

/* Per-CPU count of records lost because the ring buffer was full. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

/* conn.flags */
#define CONN_HAVE_ISS 0x01   /* st.iss is the SYN's sequence number */
#define CONN_HAVE_IRS 0x02   /* st.irs is the peer's SYN's */
#define CONN_FIN_IN 0x04     /* the peer's FIN has been received */
#define CONN_RST_IN 0x08     /* an RST has been received */
#define CONN_TW_PENDING 0x10 /* FIN_WAIT2 -> TIME_WAIT waits for the peer's FIN */
#define CONN_HS 0x20         /* hs holds the segment completing the handshake */

/* The received segment that completes the handshake (the SYN|ACK on the
 * client, the ACK on the server), for connect-/accept-established. */
struct hs_seg {
	__u32 ip_plength;
	__u32 seq;
	__u32 ack;
	__s32 ifindex;
	__u16 window;
	__u16 checksum;
	__u16 urgent;
	__u8 tcp_offset;
	__u8 tcp_flags;
	__u8 ttl;
	__u8 pad[3];
};

struct conn {
	__u64 sk;  /* full socket; the request socket before the handshake ends */
	struct tcp_sockstate st;
	struct hs_seg hs;
	__u8 flags;
	__u8 ipver;
	__u8 pad[6];
};

/* Connections being traced; the least recently used go first when full. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct conn_key);
	__type(value, struct conn);
} conns SEC(".maps");

/* Room for the connection a sent segment describes (too big for the
 * stack with the rest). Per CPU; a program does not nest in itself. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct conn);
} send_scratch SEC(".maps");

static __always_inline struct conn *scratch_conn(void)
{
	__u32 zero = 0;
	struct conn *n = bpf_map_lookup_elem(&send_scratch, &zero);
	if (n)
		__builtin_memset(n, 0, sizeof(*n));
	return n;
}

/* 0 = all namespaces; otherwise only devices/sockets in this netns (inode). */
const volatile __u32 target_netns = 0;
/* Bit (1 << probe id) for each enabled probe; the verifier drops the code
 * of disabled ones. */
const volatile __u64 enabled = 0;

/* Whether tcp records must carry the socket state; the loader clears it
 * when no clause reads it. */
const volatile __u8 want_sockstate = 1;

#define ENABLED(id) (enabled & (1ULL << (id)))
/* The connection map is needed for the socket state and for every tcp
 * probe but send and receive. */
#define TRACK_CONNS (want_sockstate || (enabled & TCP_PROBES & ~SEGMENT_PROBES))

static __always_inline void count_drop(void)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&drops, &key);
	if (v)
		*v += 1;
}

/* Userspace drains the buffer on its own schedule (switchrate); wake it
 * early only when the buffer is more than half full. */
static __always_inline __u64 wakeup_flags(void)
{
	__u64 avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	__u64 size = bpf_ringbuf_query(&events, BPF_RB_RING_SIZE);
	return avail > size / 2 ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

static __always_inline void *reserve(__u64 size)
{
	void *e = bpf_ringbuf_reserve(&events, size, 0);
	if (!e)
		count_drop();
	return e;
}

/* The current task's fields that are not helpers' results. */
struct task_fields {
	__u32 ppid;
	char comm[16];
};

static __always_inline void fill_header(struct event_header *h, __u32 probe, __u32 netns,
					__u32 ppid, const char *comm)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 uid_gid = bpf_get_current_uid_gid();

	h->ts_ns = bpf_ktime_get_ns();
	h->probe = probe;
	h->cpu = bpf_get_smp_processor_id();
	h->pid = pid_tgid >> 32;
	h->tid = (__u32)pid_tgid;
	h->ppid = ppid;
	h->uid = (__u32)uid_gid;
	h->gid = uid_gid >> 32;
	h->netns = netns;
	__builtin_memcpy(h->comm, comm, sizeof(h->comm));
}

/* ------------------------------------------------------------ tcp records */

/* A record describing segment `th` of packet `p` and the connection's state. */
static __always_inline void emit_tcp(__u32 probe, const struct skb_fields *f, const struct pkt *p,
				     const __u8 *th, int dir, const struct tcp_sockstate *st, __u64 sk)
{
	struct tcp_event *e = reserve(sizeof(*e));
	if (!e)
		return;
	fill_header(&e->hdr, probe, f->netns, f->ppid, f->comm);
	e->ifindex = f->ifindex;
	e->dir = dir;
	e->ipver = p->ipver;
	e->tcp_offset = (th[12] >> 4) * 4;
	e->tcp_flags = th[13];
	__builtin_memcpy(e->saddr, p->saddr, 16);
	__builtin_memcpy(e->daddr, p->daddr, 16);
	e->ip_plength = p->plen;
	e->sport = (__u16)th[0] << 8 | th[1];
	e->dport = (__u16)th[2] << 8 | th[3];
	e->seq = (__u32)th[4] << 24 | (__u32)th[5] << 16 | (__u32)th[6] << 8 | th[7];
	e->ack = (__u32)th[8] << 24 | (__u32)th[9] << 16 | (__u32)th[10] << 8 | th[11];
	e->window = (__u16)th[14] << 8 | th[15];
	e->checksum = (__u16)th[16] << 8 | th[17];
	e->urgent = (__u16)th[18] << 8 | th[19];
	LOCAL_REMOTE(e, dir);
	e->ttl = p->ttl;
	e->pad0 = 0;
	e->pad1 = 0;
	e->sk = sk;
	__builtin_memcpy(&e->sock, st, sizeof(e->sock));
	bpf_ringbuf_submit(e, wakeup_flags());
}

/* A record for connection `k` without a segment (state-change), or with the
 * stored handshake segment `hs` (received from the peer) when not NULL. */
static __always_inline void emit_tcp_conn(__u32 probe, const struct conn_key *k, __u8 ipver,
					  const struct task_fields *t, const struct hs_seg *hs,
					  const struct tcp_sockstate *st, __u64 sk)
{
	struct tcp_event *e = reserve(sizeof(*e));
	if (!e)
		return;
	fill_header(&e->hdr, probe, k->netns, t->ppid, t->comm);
	__builtin_memcpy(e->laddr, k->laddr, 16);
	__builtin_memcpy(e->raddr, k->raddr, 16);
	e->lport = k->lport;
	e->rport = k->rport;
	e->ipver = ipver;
	e->dir = RDT_DIR_RECEIVE;
	e->pad0 = 0;
	e->pad1 = 0;
	e->sk = sk;
	if (hs) {
		__builtin_memcpy(e->saddr, k->raddr, 16);
		__builtin_memcpy(e->daddr, k->laddr, 16);
		e->sport = k->rport;
		e->dport = k->lport;
		e->ifindex = hs->ifindex;
		e->ip_plength = hs->ip_plength;
		e->seq = hs->seq;
		e->ack = hs->ack;
		e->window = hs->window;
		e->checksum = hs->checksum;
		e->urgent = hs->urgent;
		e->tcp_offset = hs->tcp_offset;
		e->tcp_flags = hs->tcp_flags;
		e->ttl = hs->ttl;
	} else {
		__builtin_memset(e->saddr, 0, 16);
		__builtin_memset(e->daddr, 0, 16);
		e->sport = 0;
		e->dport = 0;
		e->ifindex = 0;
		e->ip_plength = 0;
		e->seq = 0;
		e->ack = 0;
		e->window = 0;
		e->checksum = 0;
		e->urgent = 0;
		e->tcp_offset = 0;
		e->tcp_flags = 0;
		e->ttl = 0;
	}
	__builtin_memcpy(&e->sock, st, sizeof(e->sock));
	bpf_ringbuf_submit(e, wakeup_flags());
}

/* ------------------------------------------------------------ tcp segments */

/* The full TCP socket behind `sk`, or NULL (request, timewait, control
 * sockets, none). With `btf`, `sk` must be a trusted BTF pointer (a
 * tracepoint argument); skb->sk is not one (an RCU pointer the helper
 * refuses), so packets read their socket with probe reads. */
static __always_inline __u8 sk_state(struct sock *sk)
{
	return BPF_CORE_READ((struct sock_common *)sk, skc_state);
}

static __always_inline struct tcp_sock *tcp_full_sock(struct sock *sk, int btf, __u8 *state_out)
{
	if (!sk)
		return NULL;
	if (btf)
		return bpf_skc_to_tcp_sock(sk);
	/* The packet is TCP: a stream socket sending it is a TCP (or MPTCP
	 * subflow) socket; request and timewait sockets have their own
	 * states, and the control socket that sends RSTs is a raw one. */
	__u8 state = sk_state(sk);
	if (state == TCP_TIME_WAIT || state == TCP_NEW_SYN_RECV || state == 0 ||
	    BPF_CORE_READ(sk, sk_type) != SOCK_STREAM)
		return NULL;
	*state_out = state;
	return (struct tcp_sock *)sk;
}

/* The listener that connection `k` was (or is being) made to: bound to its
 * local address, or to the wildcard. */
static __always_inline struct conn *find_listener(const struct conn_key *k)
{
	struct conn_key l = {.netns = k->netns, .lport = k->lport};
	__builtin_memcpy(l.laddr, k->laddr, 16);
	struct conn *lc = bpf_map_lookup_elem(&conns, &l);
	if (lc)
		return lc;
	__builtin_memset(l.laddr, 0, 16);
	return bpf_map_lookup_elem(&conns, &l);
}

/* A segment sent: refresh (or start) the connection's entry from the socket
 * and report. Sockets without a full TCP socket (SYN|ACK from a request
 * socket, RSTs from the control socket, timewait ACKs) use the entry. */
static __always_inline void tcp_sent(const struct skb_fields *f, const struct pkt *p,
				     const __u8 *th, const struct conn_key *k)
{
	__u8 flags = th[13];
	__u32 seq = (__u32)th[4] << 24 | (__u32)th[5] << 16 | (__u32)th[6] << 8 | th[7];
	__u32 ack = (__u32)th[8] << 24 | (__u32)th[9] << 16 | (__u32)th[10] << 8 | th[11];
	__u8 state = 0;
	struct tcp_sock *tp = tcp_full_sock(f->sk, 0, &state);
	struct conn *n = scratch_conn();
	if (!n)
		return;
	struct conn *c = bpf_map_lookup_elem(&conns, k);
	int opened = 0;

	if (tp) {
		read_tcp_window(tp, &n->st);
		n->st.state = state;
		n->st.local = is_local(k, p->ipver);
		n->sk = (__u64)f->sk;
		if (c && (flags & (TH_SYN | TH_ACK)) == TH_SYN && state == TCP_SYN_SENT &&
		    c->st.state != TCP_SYN_SENT) {
			/* a new connection on the 4-tuple of one whose end we
			 * did not see (e.g. a timewait socket reset) */
			bpf_map_delete_elem(&conns, k);
			c = NULL;
		}
		if (c) {
			if (c->flags & CONN_HAVE_ISS)
				n->st.iss = c->st.iss;
			if (c->flags & CONN_HAVE_IRS)
				n->st.irs = c->st.irs;
			n->st.active = c->st.active;
			n->st.pid = c->st.pid;
			c->sk = n->sk;
			__builtin_memcpy(&c->st, &n->st, sizeof(n->st));
		} else {
			if ((flags & (TH_SYN | TH_ACK)) == TH_SYN && n->st.state == TCP_SYN_SENT) {
				/* connect(): this task owns the socket */
				opened = 1;
				n->st.active = 1;
				n->st.iss = seq;
				n->st.pid = bpf_get_current_pid_tgid() >> 32;
				n->flags = CONN_HAVE_ISS;
			}
			n->ipver = p->ipver;
			bpf_map_update_elem(&conns, k, n, BPF_NOEXIST);
		}
		/* the send hook runs before snd_nxt moves past new data */
		__u32 len = p->plen - (th[12] >> 4) * 4 + !!(flags & (TH_SYN | TH_FIN));
		n->st.retransmit = len && (__s32)(seq - n->st.snxt) < 0;
	} else if (c) {
		__builtin_memcpy(&n->st, &c->st, sizeof(n->st));
		n->sk = c->sk;
	} else if ((flags & (TH_SYN | TH_ACK)) == (TH_SYN | TH_ACK) && f->sk &&
		   sk_state(f->sk) == TCP_NEW_SYN_RECV) {
		/* SYN|ACK of a request socket: the server's side of a handshake */
		n->sk = (__u64)f->sk;
		n->st.state = TCP_SYN_RECV;
		n->st.iss = seq;
		n->st.irs = ack - 1;
		n->st.suna = seq;
		n->st.snxt = seq + 1;
		n->st.rnxt = ack;
		n->st.local = is_local(k, p->ipver);
		/* as on illumos, an accepted connection belongs to the
		 * listener's process until told otherwise */
		struct conn *lc = find_listener(k);
		if (lc)
			n->st.pid = lc->st.pid;
		n->flags = CONN_HAVE_ISS | CONN_HAVE_IRS;
		n->ipver = p->ipver;
		bpf_map_update_elem(&conns, k, n, BPF_NOEXIST);
	} else if ((flags & (TH_RST | TH_ACK)) == (TH_RST | TH_ACK) && seq == 0) {
		/* the answer to a SYN for a port nobody listens on */
		n->st.state = TCP_CLOSE;
		n->st.local = is_local(k, p->ipver);
		if (ENABLED(RDT_PROBE_TCP_ACCEPT_REFUSED))
			emit_tcp(RDT_PROBE_TCP_ACCEPT_REFUSED, f, p, th, RDT_DIR_SEND, &n->st, 0);
	}

	if (opened) {
		if (ENABLED(RDT_PROBE_TCP_STATE_CHANGE)) {
			/* reported here rather than at connect()'s state change,
			 * which happens before the local port is chosen */
			n->st.prev_state = TCP_CLOSE;
			emit_tcp(RDT_PROBE_TCP_STATE_CHANGE, f, p, th, RDT_DIR_SEND, &n->st, n->sk);
			n->st.prev_state = 0;
		}
		if (ENABLED(RDT_PROBE_TCP_CONNECT_REQUEST))
			emit_tcp(RDT_PROBE_TCP_CONNECT_REQUEST, f, p, th, RDT_DIR_SEND, &n->st, n->sk);
	}
	if (ENABLED(RDT_PROBE_TCP_SEND))
		emit_tcp(RDT_PROBE_TCP_SEND, f, p, th, RDT_DIR_SEND, &n->st, n->sk);
}

/* A segment received: report it with the connection's snapshot, then note
 * what it means for the handshake and the teardown. */
static __always_inline void tcp_received(const struct skb_fields *f, const struct pkt *p,
					 const __u8 *th, const struct conn_key *k)
{
	__u8 flags = th[13];
	struct conn *c = bpf_map_lookup_elem(&conns, k);
	struct tcp_sockstate st = {};
	__u64 sk = 0;

	if (c && c->st.state == TCP_TIME_WAIT && (flags & (TH_SYN | TH_ACK)) == TH_SYN) {
		/* a new connection on the 4-tuple of one in time-wait */
		bpf_map_delete_elem(&conns, k);
		c = NULL;
	}
	if (c) {
		__builtin_memcpy(&st, &c->st, sizeof(st));
		sk = c->sk;
	} else if ((flags & (TH_SYN | TH_ACK)) == TH_SYN) {
		/* a connection request: the listener's state */
		struct conn *lc = find_listener(k);
		if (lc) {
			__builtin_memcpy(&st, &lc->st, sizeof(st));
			sk = lc->sk;
		}
	}
	if (ENABLED(RDT_PROBE_TCP_RECEIVE))
		emit_tcp(RDT_PROBE_TCP_RECEIVE, f, p, th, RDT_DIR_RECEIVE, &st, sk);
	if (!c)
		return;

	__u32 seq = (__u32)th[4] << 24 | (__u32)th[5] << 16 | (__u32)th[6] << 8 | th[7];
	__u32 ack = (__u32)th[8] << 24 | (__u32)th[9] << 16 | (__u32)th[10] << 8 | th[11];
	int acks_syn = (flags & TH_ACK) && ack == st.iss + 1;
	if (flags & TH_RST) {
		if (c->flags & CONN_TW_PENDING) {
			/* the reset ends the timewait socket */
			bpf_map_delete_elem(&conns, k);
			return;
		}
		c->flags |= CONN_RST_IN;
		if (st.state == TCP_SYN_SENT && acks_syn && ENABLED(RDT_PROBE_TCP_CONNECT_REFUSED))
			emit_tcp(RDT_PROBE_TCP_CONNECT_REFUSED, f, p, th, RDT_DIR_RECEIVE, &st, sk);
		return;
	}
	int completes = acks_syn &&
		(st.state == TCP_SYN_SENT ? (flags & TH_SYN) : st.state == TCP_SYN_RECV && !(flags & TH_SYN));
	if (completes) {
		if (st.state == TCP_SYN_SENT) {
			c->st.irs = seq;
			c->flags |= CONN_HAVE_IRS;
		}
		c->hs.ip_plength = p->plen;
		c->hs.seq = seq;
		c->hs.ack = ack;
		c->hs.ifindex = f->ifindex;
		c->hs.window = (__u16)th[14] << 8 | th[15];
		c->hs.checksum = (__u16)th[16] << 8 | th[17];
		c->hs.urgent = (__u16)th[18] << 8 | th[19];
		c->hs.tcp_offset = (th[12] >> 4) * 4;
		c->hs.tcp_flags = flags;
		c->hs.ttl = p->ttl;
		c->flags |= CONN_HS;
	}
	if (flags & TH_FIN) {
		if (c->flags & CONN_TW_PENDING) {
			struct task_fields t = {.ppid = f->ppid};
			__builtin_memcpy(t.comm, f->comm, sizeof(t.comm));
			st.prev_state = TCP_FIN_WAIT2;
			st.state = TCP_TIME_WAIT;
			if (ENABLED(RDT_PROBE_TCP_STATE_CHANGE))
				emit_tcp_conn(RDT_PROBE_TCP_STATE_CHANGE, k, p->ipver, &t, NULL, &st, sk);
			/* Kept in time-wait (the LRU map ages it out): the
			 * timewait socket's ACK of this FIN is sent next. */
			c->st.prev_state = 0;
			c->st.state = TCP_TIME_WAIT;
			c->flags &= ~CONN_TW_PENDING;
			return;
		}
		c->flags |= CONN_FIN_IN;
	}
}

static __always_inline void tcp_packet(const struct skb_fields *f, const struct pkt *p, int dir)
{
	__u8 th[20];
	if (bpf_probe_read_kernel(th, sizeof(th), p->nh + p->l4off))
		return;
	if (!TRACK_CONNS) {
		struct tcp_sockstate none = {};
		__u32 probe = dir == RDT_DIR_SEND ? RDT_PROBE_TCP_SEND : RDT_PROBE_TCP_RECEIVE;
		if (ENABLED(probe))
			emit_tcp(probe, f, p, th, dir, &none, (__u64)f->sk);
		return;
	}
	struct conn_key k = {.netns = f->netns};
	if (dir == RDT_DIR_SEND) {
		__builtin_memcpy(k.laddr, p->saddr, 16);
		__builtin_memcpy(k.raddr, p->daddr, 16);
		k.lport = (__u16)th[0] << 8 | th[1];
		k.rport = (__u16)th[2] << 8 | th[3];
		tcp_sent(f, p, th, &k);
	} else {
		__builtin_memcpy(k.laddr, p->daddr, 16);
		__builtin_memcpy(k.raddr, p->saddr, 16);
		k.lport = (__u16)th[2] << 8 | th[3];
		k.rport = (__u16)th[0] << 8 | th[1];
		tcp_received(f, p, th, &k);
	}
}

/* ------------------------------------------------------------ tcp states */

static __always_inline void state_change(struct sock *sk, int old, int new, int btf)
{
	__u16 proto = btf ? sk->sk_protocol : BPF_CORE_READ(sk, sk_protocol);
	if (proto != IPPROTO_TCP)
		return;
	/* connect(): reported when the SYN leaves, once the port is chosen */
	if (old == TCP_CLOSE && new == TCP_SYN_SENT)
		return;
	__u8 state = 0;
	struct tcp_sock *tp = tcp_full_sock(sk, btf, &state);
	struct conn_key k = {};
	__u8 ipver = btf ? key_of_sock_btf(sk, tp, &k) : key_of_sock_core(sk, tp, &k);
	if (target_netns && k.netns != target_netns)
		return;
	struct conn n = {};
	if (tp) {
		if (btf)
			read_tcp_btf(tp, &n.st);
		else
			read_tcp_window(tp, &n.st);
	}
	n.st.state = new;
	n.st.prev_state = old;
	n.st.local = is_local(&k, ipver);
	n.sk = (__u64)sk;
	struct task_fields t = {};
	if (btf)
		t.ppid = bpf_get_current_task_btf()->real_parent->tgid;
	else
		t.ppid = BPF_CORE_READ((struct task_struct *)bpf_get_current_task(), real_parent, tgid);
	bpf_get_current_comm(t.comm, sizeof(t.comm));

	struct conn *c = k.rport ? bpf_map_lookup_elem(&conns, &k) : NULL;
	if (c) {
		if (c->flags & CONN_HAVE_ISS)
			n.st.iss = c->st.iss;
		if (c->flags & CONN_HAVE_IRS)
			n.st.irs = c->st.irs;
		n.st.active = c->st.active;
		n.st.pid = c->st.pid;
		/* close() and shutdown() run in the owner's context */
		if (!n.st.pid && ((old == TCP_ESTABLISHED && new == TCP_FIN_WAIT1) ||
				  (old == TCP_CLOSE_WAIT && new == TCP_LAST_ACK)))
			n.st.pid = bpf_get_current_pid_tgid() >> 32;
	} else if (old == TCP_SYN_SENT && new == TCP_CLOSE && ENABLED(RDT_PROBE_TCP_STATE_CHANGE)) {
		/* connect() failed before its SYN left: report the opening too */
		n.st.state = TCP_SYN_SENT;
		n.st.prev_state = TCP_CLOSE;
		emit_tcp_conn(RDT_PROBE_TCP_STATE_CHANGE, &k, ipver, &t, NULL, &n.st, n.sk);
		n.st.state = new;
		n.st.prev_state = old;
	}

	if (new == TCP_CLOSE && (old == TCP_FIN_WAIT2 || old == TCP_CLOSING) && c &&
	    !(c->flags & CONN_RST_IN)) {
		/* tcp_time_wait(): the connection lives on in a timewait socket */
		if (old == TCP_FIN_WAIT2 && !(c->flags & CONN_FIN_IN)) {
			n.st.state = old;
			n.st.prev_state = c->st.prev_state;
			__builtin_memcpy(&c->st, &n.st, sizeof(n.st));
			c->flags |= CONN_TW_PENDING;
			return;
		}
		n.st.state = TCP_TIME_WAIT;
		if (ENABLED(RDT_PROBE_TCP_STATE_CHANGE))
			emit_tcp_conn(RDT_PROBE_TCP_STATE_CHANGE, &k, ipver, &t, NULL, &n.st, n.sk);
		bpf_map_delete_elem(&conns, &k);
		return;
	}
	if (ENABLED(RDT_PROBE_TCP_STATE_CHANGE))
		emit_tcp_conn(RDT_PROBE_TCP_STATE_CHANGE, &k, ipver, &t, NULL, &n.st, n.sk);
	if (new == TCP_ESTABLISHED && c && (c->flags & CONN_HS)) {
		struct hs_seg hs = c->hs;
		c->flags &= ~CONN_HS;
		n.st.prev_state = 0;
		if (old == TCP_SYN_SENT && ENABLED(RDT_PROBE_TCP_CONNECT_ESTABLISHED))
			emit_tcp_conn(RDT_PROBE_TCP_CONNECT_ESTABLISHED, &k, ipver, &t, &hs, &n.st, n.sk);
		if (old == TCP_SYN_RECV && ENABLED(RDT_PROBE_TCP_ACCEPT_ESTABLISHED))
			emit_tcp_conn(RDT_PROBE_TCP_ACCEPT_ESTABLISHED, &k, ipver, &t, &hs, &n.st, n.sk);
	}
	if (!k.rport) {
		/* listeners are found by connection requests (SYNs received) */
		if (new == TCP_LISTEN) {
			/* listen() runs in the owner's context */
			n.st.pid = bpf_get_current_pid_tgid() >> 32;
			n.ipver = ipver;
			bpf_map_update_elem(&conns, &k, &n, BPF_ANY);
		} else if (old == TCP_LISTEN) {
			bpf_map_delete_elem(&conns, &k);
		}
		return;
	}
	if (new == TCP_CLOSE) {
		if (c)
			bpf_map_delete_elem(&conns, &k);
		return;
	}
	if (c) {
		c->sk = n.sk;
		__builtin_memcpy(&c->st, &n.st, sizeof(n.st));
	} else {
		n.ipver = ipver;
		bpf_map_update_elem(&conns, &k, &n, BPF_NOEXIST);
	}
}

/* ------------------------------------------------------------ ip, udp */

static __always_inline void emit_ip(const struct skb_fields *f, const struct pkt *p, int dir,
				    const char *if_name)
{
	struct ip_event *e = reserve(sizeof(*e));
	if (!e)
		return;
	const __u8 *h = p->hdr;
	fill_header(&e->hdr, dir == RDT_DIR_SEND ? RDT_PROBE_IP_SEND : RDT_PROBE_IP_RECEIVE,
		    f->netns, f->ppid, f->comm);
	e->ifindex = f->ifindex;
	e->dir = dir;
	e->ipver = p->ipver;
	e->protocol = p->proto;
	e->if_local = (f->dev_flags & IFF_LOOPBACK) != 0;
	__builtin_memcpy(e->saddr, p->saddr, 16);
	__builtin_memcpy(e->daddr, p->daddr, 16);
	e->ip_plength = p->plen;
	e->ttl = p->ttl;
	if (p->ipver == 4) {
		__u16 frag = (__u16)h[6] << 8 | h[7];
		e->v4_length = (__u16)h[2] << 8 | h[3];
		e->v4_ident = (__u16)h[4] << 8 | h[5];
		e->v4_offset = frag & 0x1fff;
		e->v4_flags = (frag & 0xe000) >> 8;
		e->v4_checksum = (__u16)h[10] << 8 | h[11];
		e->v4_ihl = (h[0] & 0x0f) * 4;
		e->v4_tos = h[1];
		e->v6_flow = 0;
		e->v6_plen = 0;
		e->v6_tclass = 0;
	} else {
		e->v4_length = 0;
		e->v4_ident = 0;
		e->v4_offset = 0;
		e->v4_flags = 0;
		e->v4_checksum = 0;
		e->v4_ihl = 0;
		e->v4_tos = 0;
		e->v6_flow = ((__u32)h[1] & 0x0f) << 16 | (__u32)h[2] << 8 | h[3];
		e->v6_plen = (__u16)h[4] << 8 | h[5];
		e->v6_tclass = (h[0] & 0x0f) << 4 | h[1] >> 4;
	}
	e->pad0 = 0;
	e->sk = (__u64)f->sk;
	e->dev = f->dev;
	__builtin_memcpy(e->if_name, if_name, sizeof(e->if_name));
	__u64 name = proto_name(p->proto);
	__builtin_memcpy(e->protostr, &name, sizeof(name));
	__builtin_memset(e->reserved, 0, sizeof(e->reserved));
	bpf_ringbuf_submit(e, wakeup_flags());
}

static __always_inline void emit_udp(const struct skb_fields *f, const struct pkt *p, int dir)
{
	__u8 uh[8];
	if (bpf_probe_read_kernel(uh, sizeof(uh), p->nh + p->l4off))
		return;
	struct udp_event *e = reserve(sizeof(*e));
	if (!e)
		return;
	fill_header(&e->hdr, dir == RDT_DIR_SEND ? RDT_PROBE_UDP_SEND : RDT_PROBE_UDP_RECEIVE,
		    f->netns, f->ppid, f->comm);
	e->ifindex = f->ifindex;
	e->dir = dir;
	e->ipver = p->ipver;
	e->ttl = p->ttl;
	e->pad0 = 0;
	__builtin_memcpy(e->saddr, p->saddr, 16);
	__builtin_memcpy(e->daddr, p->daddr, 16);
	e->ip_plength = p->plen;
	e->sport = (__u16)uh[0] << 8 | uh[1];
	e->dport = (__u16)uh[2] << 8 | uh[3];
	e->length = (__u16)uh[4] << 8 | uh[5];
	e->checksum = (__u16)uh[6] << 8 | uh[7];
	LOCAL_REMOTE(e, dir);
	e->sk = (__u64)f->sk;
	bpf_ringbuf_submit(e, wakeup_flags());
}

/* ------------------------------------------------------------ packets */

static __always_inline int on_packet(const struct skb_fields *f, int dir, const char *if_name)
{
	if (dir == RDT_DIR_SEND) {
		if (!f->sk && f->iif) /* forwarded or bridged */
			return 0;
	} else if (f->rx_handler) {
		return 0; /* port of a bridge/bond/macvlan: reported on the upper device */
	}
	if (target_netns && f->netns != target_netns)
		return 0;
	struct pkt p = {};
	if (parse_packet(f, dir, &p))
		return 0;
	if (ENABLED(dir == RDT_DIR_SEND ? RDT_PROBE_IP_SEND : RDT_PROBE_IP_RECEIVE))
		emit_ip(f, &p, dir, if_name);
	if (!p.first_frag)
		return 0;
	if (p.l4proto == IPPROTO_TCP && (enabled & TCP_PROBES))
		tcp_packet(f, &p, dir);
	else if (p.l4proto == IPPROTO_UDP &&
		 ENABLED(dir == RDT_DIR_SEND ? RDT_PROBE_UDP_SEND : RDT_PROBE_UDP_RECEIVE))
		emit_udp(f, &p, dir);
	return 0;
}

static __always_inline int packet_btf(struct sk_buff *skb, int dir)
{
	struct skb_fields f;
	char if_name[16] = {};
	fields_btf(skb, &f);
	if (enabled & IP_PROBES)
		__builtin_memcpy(if_name, skb->dev->name, sizeof(if_name));
	return on_packet(&f, dir, if_name);
}

static __always_inline int packet_raw(struct sk_buff *skb, int dir)
{
	struct skb_fields f;
	char if_name[16] = {};
	fields_raw(skb, &f);
	if (enabled & IP_PROBES)
		BPF_CORE_READ_INTO(&if_name, skb, dev, name);
	return on_packet(&f, dir, if_name);
}

SEC("tp_btf/net_dev_queue")
int BPF_PROG(net_send, struct sk_buff *skb)
{
	return packet_btf(skb, RDT_DIR_SEND);
}

SEC("tp_btf/netif_receive_skb")
int BPF_PROG(net_receive, struct sk_buff *skb)
{
	return packet_btf(skb, RDT_DIR_RECEIVE);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tcp_state, const struct sock *sk, const int oldstate, const int newstate)
{
	state_change((struct sock *)sk, oldstate, newstate, 1);
	return 0;
}

/* Plain raw tracepoints, for kernels where tp_btf cannot attach. */
SEC("raw_tp/net_dev_queue")
int net_send_raw(__u64 *ctx)
{
	return packet_raw((struct sk_buff *)ctx[0], RDT_DIR_SEND);
}

SEC("raw_tp/netif_receive_skb")
int net_receive_raw(__u64 *ctx)
{
	return packet_raw((struct sk_buff *)ctx[0], RDT_DIR_RECEIVE);
}

SEC("raw_tp/inet_sock_set_state")
int tcp_state_raw(__u64 *ctx)
{
	state_change((struct sock *)ctx[0], (int)ctx[1], (int)ctx[2], 0);
	return 0;
}

/* ------------------------------------------------------------ profile */

/* profile-N: sample period (ns) -> probe id, filled by the loader. Perf
 * events are attached without a BPF cookie, so the period tells the probes
 * apart; the loader gives probes of equal periods distinct ones (1 ns
 * apart). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u64);
	__type(value, __u32);
} profile_ids SEC(".maps");

/* Probes whose clauses use stack() / ustack() (probe ids are synthesised
 * per program, so a map rather than the want_* bits): value RDT_KSTACK |
 * RDT_USTACK. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u32);
} profile_stacks SEC(".maps");

/* One record per sample, describing the interrupted task (the idle task,
 * pid 0, when the CPU was idle; netns is the task's) and its PCs, with its
 * stacks when a clause uses them. */
SEC("perf_event")
int profile(struct bpf_perf_event_data *ctx)
{
	__u64 period = ctx->sample_period;
	__u32 *id = bpf_map_lookup_elem(&profile_ids, &period);
	if (!id)
		return 0;
	__u32 probe = *id;
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct task_fields t = {};
	t.ppid = BPF_CORE_READ(task, real_parent, tgid);
	bpf_get_current_comm(t.comm, sizeof(t.comm));
	__u32 netns = BPF_CORE_READ(task, nsproxy, net_ns, ns.inum);
	__u32 *sf = bpf_map_lookup_elem(&profile_stacks, &probe);
	__u32 stacks = sf ? *sf : 0;
	struct profile_event *e = stacks ? stack_buffer() : reserve(sizeof(*e));
	if (!e)
		return 0;
	fill_header(&e->hdr, probe, netns, t.ppid, t.comm);
	/* arg0: the kernel PC, 0 in user mode; arg1: the user PC, 0 for a
	 * kernel thread (its user registers, when the kernel was running). */
	/* Context fields are read directly (the verifier rewrites these
	 * loads); the context is not the kernel's struct. */
	/* The context starts with x86_64's user-visible pt_regs (ip is word
	 * 16, cs word 17): read as whole words, not through CO-RE, which would
	 * narrow cs to the kernel's u16 and the verifier refuses narrow
	 * context loads. */
	const volatile __u64 *words = (const volatile __u64 *)ctx;
	__u64 ip = words[16];
	int user = (words[17] & 3) == 3;
	e->kpc = user ? 0 : ip;
	e->upc = user ? ip : 0;
	if (!user && BPF_CORE_READ(task, mm)) {
		struct pt_regs *uregs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
		e->upc = uregs ? BPF_CORE_READ(uregs, ip) : 0;
	}
	e->captures = 0;
	e->pad = 0;
	if (!stacks) {
		bpf_ringbuf_submit(e, wakeup_flags());
		return 0;
	}
	__u32 size = append_stacks(ctx, (__u8 *)e, sizeof(*e), stacks);
	e->captures = size - sizeof(*e);
	size &= RDT_STACK_BUF - 1;
	if (size < sizeof(*e))
		return 0;
	if (bpf_ringbuf_output(&events, e, size, wakeup_flags()))
		count_drop();
	return 0;
}

#include "taskinfo.h"
#include "syscall.h"
#include "task.h"

char LICENSE[] SEC("license") = "GPL";
