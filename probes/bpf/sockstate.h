/* SPDX-License-Identifier: GPL-2.0 */
/* A TCP socket as the tcp provider describes it: its connection key (the
 * 4-tuple and network namespace) and its state (struct tcp_sockstate).
 * Each reader exists twice, generated from one body: with typed BTF loads
 * for tp_btf programs (the socket is a BTF pointer) and with probe reads for
 * raw_tp programs (an untyped value). */
#ifndef RDTRACE_SOCKSTATE_H
#define RDTRACE_SOCKSTATE_H

#define AF_INET 2
#define AF_INET6 10
#define SOCK_STREAM 1

/* Linux TCP states (include/net/tcp_states.h). */
#define TCP_ESTABLISHED 1
#define TCP_SYN_SENT 2
#define TCP_SYN_RECV 3
#define TCP_FIN_WAIT1 4
#define TCP_FIN_WAIT2 5
#define TCP_TIME_WAIT 6
#define TCP_CLOSE 7
#define TCP_CLOSE_WAIT 8
#define TCP_LAST_ACK 9
#define TCP_LISTEN 10
#define TCP_CLOSING 11
#define TCP_NEW_SYN_RECV 12

/* A connection as packets and sockets both name it. Addresses as in the
 * records (IPv4 in the first 4 bytes); ports host order. */
struct conn_key {
	__u32 netns;
	__u16 lport;
	__u16 rport;
	__u8 laddr[16];
	__u8 raddr[16];
};

/* Ticks per second of icsk_rto; set by the loader (CLOCK_*_COARSE resolution). */
const volatile __u32 jiffies_hz = 250;

#define RD_BTF(p, field) ((p)->field)
#define RD_CORE(p, field) BPF_CORE_READ(p, field)
#define NETNS_BTF(sk) ((sk)->__sk_common.skc_net.net->ns.inum)
#define NETNS_CORE(sk) BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum)
#define BITS_BTF(s, field) BPF_CORE_READ_BITFIELD(s, field)

static __always_inline int is_v4mapped(const __u8 *a)
{
	__u32 w[3];
	__builtin_memcpy(w, a, sizeof(w));
	return w[0] == 0 && w[1] == 0 && w[2] == bpf_htonl(0xffff);
}

/* The socket's key; returns the IP version of its packets (4 or 6). `tp`
 * (the same socket as a full TCP socket, or NULL) supplies the local port
 * when closing has already released it (skc_num 0, inet_sport kept). */
#define DEFINE_KEY_OF_SOCK(suffix, RD, NETNS)                                                 \
static __always_inline __u8 key_of_sock_##suffix(struct sock *sk, struct tcp_sock *tp,  \
						 struct conn_key *k)                     \
{                                                                                        \
	__u16 family = RD(sk, __sk_common.skc_family);                                   \
	k->netns = NETNS(sk);                                                              \
	k->lport = RD(sk, __sk_common.skc_num);                                          \
	if (!k->lport && tp)                                                             \
		k->lport = bpf_ntohs(RD(tp, inet_conn.icsk_inet.inet_sport));            \
	k->rport = bpf_ntohs(RD(sk, __sk_common.skc_dport));                             \
	__builtin_memset(k->laddr, 0, 16);                                               \
	__builtin_memset(k->raddr, 0, 16);                                               \
	if (family == AF_INET6) {                                                        \
		struct in6_addr d = RD(sk, __sk_common.skc_v6_daddr);                    \
		if (!is_v4mapped(d.in6_u.u6_addr8)) {                                    \
			struct in6_addr l = RD(sk, __sk_common.skc_v6_rcv_saddr);        \
			__builtin_memcpy(k->laddr, l.in6_u.u6_addr8, 16);                \
			__builtin_memcpy(k->raddr, d.in6_u.u6_addr8, 16);                \
			return 6;                                                        \
		}                                                                        \
	}                                                                                \
	__u32 l4 = RD(sk, __sk_common.skc_rcv_saddr);                                    \
	__u32 d4 = RD(sk, __sk_common.skc_daddr);                                        \
	__builtin_memcpy(k->laddr, &l4, 4);                                              \
	__builtin_memcpy(k->raddr, &d4, 4);                                              \
	return 4;                                                                        \
}

/* The socket's state, except what the connection map keeps (iss, irs,
 * active, pid): those fall back to what the counters imply. */
#define DEFINE_READ_TCP(suffix, RD, BITS)                                                \
static __always_inline void read_tcp_##suffix(struct tcp_sock *tp, struct tcp_sockstate *st) \
{                                                                                        \
	__u32 una = RD(tp, snd_una);                                                     \
	__u32 nxt = RD(tp, snd_nxt);                                                     \
	__u32 rnxt = RD(tp, rcv_nxt);                                                    \
	st->suna = una;                                                                  \
	st->snxt = nxt;                                                                  \
	st->rnxt = rnxt;                                                                 \
	st->rack = RD(tp, rcv_wup);                                                      \
	st->swnd = RD(tp, snd_wnd);                                                      \
	st->rwnd = RD(tp, rcv_wnd);                                                      \
	st->cwnd = RD(tp, snd_cwnd);                                                     \
	st->ssthresh = RD(tp, snd_ssthresh);                                             \
	st->mss = RD(tp, mss_cache);                                                     \
	st->sack_fack = una;                                                             \
	st->sack_snxt = RD(tp, sacked_out) ? nxt : una;                                  \
	st->rto = (__u32)((__u64)RD(tp, inet_conn.icsk_rto) * 1000 / jiffies_hz);      \
	st->rtt = (RD(tp, srtt_us) >> 3) / 1000;                                         \
	st->rtt_sd = (RD(tp, mdev_us) >> 2) / 1000;                                      \
	st->snd_ws = BITS(tp, rx_opt.snd_wscale);                                        \
	st->rcv_ws = BITS(tp, rx_opt.rcv_wscale);                                        \
	/* bytes_acked counts the SYN of an active open; bytes_received      \
	 * never counts the peer's SYN. Exact values come from the map. */   \
	st->iss = una - (__u32)RD(tp, bytes_acked);                                      \
	st->irs = rnxt ? rnxt - (__u32)RD(tp, bytes_received) - 1 : 0;                   \
}

DEFINE_KEY_OF_SOCK(btf, RD_BTF, NETNS_BTF)
DEFINE_KEY_OF_SOCK(core, RD_CORE, NETNS_CORE)
DEFINE_READ_TCP(btf, RD_BTF, BITS_BTF)

/* Without a typed pointer, one probe read per field would cost more than
 * the rest of the program: read the stretch of tcp_sock that holds every
 * field once, into per-CPU scratch, and take the fields from there. The
 * offsets are CO-RE relocated constants, so the verifier knows them. */
#define SOCK_WINDOW 2048

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u8[SOCK_WINDOW]);
} sock_window SEC(".maps");

#define TP_OFF(field) ((__u32)bpf_core_field_offset(struct tcp_sock, field))
#define TP_END(field) (TP_OFF(field) + (__u32)bpf_core_field_size(struct tcp_sock, field))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define W32(w, lo, field) (*(__u32 *)((w) + TP_OFF(field) - (lo)))
#define W64(w, lo, field) (*(__u64 *)((w) + TP_OFF(field) - (lo)))
/* A bitfield, the way BPF_CORE_READ_BITFIELD extracts it. */
#define WBITS(w, lo, field)                                                              \
	({                                                                               \
		__u64 v = 0;                                                             \
		const __u8 *p = (w) + TP_OFF(field) - (lo);                              \
		switch (bpf_core_field_size(struct tcp_sock, field)) {                   \
		case 1: v = *(__u8 *)p; break;                                           \
		case 2: v = *(__u16 *)p; break;                                          \
		case 4: v = *(__u32 *)p; break;                                          \
		default: v = *(__u64 *)p;                                                \
		}                                                                        \
		v <<= __builtin_preserve_field_info(((struct tcp_sock *)0)->field,       \
						    BPF_FIELD_LSHIFT_U64);               \
		v >>= __builtin_preserve_field_info(((struct tcp_sock *)0)->field,       \
						    BPF_FIELD_RSHIFT_U64);               \
		v;                                                                       \
	})

/* Like read_tcp_btf() for a socket known only by address; 0 when read. */
static __always_inline int read_tcp_window(const void *tp, struct tcp_sockstate *st)
{
	__u32 lo = TP_OFF(inet_conn.icsk_rto), hi = TP_END(inet_conn.icsk_rto);
#define SPAN(field) lo = MIN(lo, TP_OFF(field)); hi = MAX(hi, TP_END(field));
	SPAN(snd_una) SPAN(snd_nxt) SPAN(rcv_nxt) SPAN(rcv_wup) SPAN(snd_wnd) SPAN(rcv_wnd)
	SPAN(snd_cwnd) SPAN(snd_ssthresh) SPAN(srtt_us) SPAN(mdev_us) SPAN(mss_cache)
	SPAN(sacked_out) SPAN(bytes_received) SPAN(bytes_acked)
	SPAN(rx_opt.snd_wscale) SPAN(rx_opt.rcv_wscale)
#undef SPAN
	__u32 zero = 0;
	__u8 *w = bpf_map_lookup_elem(&sock_window, &zero);
	if (!w || hi - lo > SOCK_WINDOW || bpf_probe_read_kernel(w, hi - lo, tp + lo))
		return -1;
	__u32 una = W32(w, lo, snd_una);
	__u32 nxt = W32(w, lo, snd_nxt);
	__u32 rnxt = W32(w, lo, rcv_nxt);
	st->suna = una;
	st->snxt = nxt;
	st->rnxt = rnxt;
	st->rack = W32(w, lo, rcv_wup);
	st->swnd = W32(w, lo, snd_wnd);
	st->rwnd = W32(w, lo, rcv_wnd);
	st->cwnd = W32(w, lo, snd_cwnd);
	st->ssthresh = W32(w, lo, snd_ssthresh);
	st->mss = W32(w, lo, mss_cache);
	st->sack_fack = una;
	st->sack_snxt = W32(w, lo, sacked_out) ? nxt : una;
	st->rto = (__u32)((__u64)W32(w, lo, inet_conn.icsk_rto) * 1000 / jiffies_hz);
	st->rtt = (W32(w, lo, srtt_us) >> 3) / 1000;
	st->rtt_sd = (W32(w, lo, mdev_us) >> 2) / 1000;
	st->snd_ws = WBITS(w, lo, rx_opt.snd_wscale);
	st->rcv_ws = WBITS(w, lo, rx_opt.rcv_wscale);
	st->iss = una - (__u32)W64(w, lo, bytes_acked);
	st->irs = rnxt ? rnxt - (__u32)W64(w, lo, bytes_received) - 1 : 0;
	return 0;
}

/* Both ends on this host: the same address, or a loopback one. */
static __always_inline __u8 is_local(const struct conn_key *k, __u8 ipver)
{
	__u32 l[4], r[4];
	__builtin_memcpy(l, k->laddr, 16);
	__builtin_memcpy(r, k->raddr, 16);
	if (ipver == 4)
		return k->raddr[0] == 127 || l[0] == r[0];
	if (r[0] == 0 && r[1] == 0 && r[2] == 0 && r[3] == bpf_htonl(1))
		return 1;
	return l[0] == r[0] && l[1] == r[1] && l[2] == r[2] && l[3] == r[3];
}

#endif
