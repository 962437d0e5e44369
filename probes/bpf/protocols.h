/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* IP protocol numbers and illumos's names for them (ipv4_protostr,
 * ipv6_nextstr). Plain C: probes/tests/event_layout.rs compiles it on the
 * host and compares every name with the Rust table replay uses
 * (providers::ip::protocol_name). Include after __u8/__u64 exist. */
#ifndef RDTRACE_PROTOCOLS_H
#define RDTRACE_PROTOCOLS_H

#define IPPROTO_HOPOPTS 0
#define IPPROTO_ICMP 1
#define IPPROTO_IGMP 2
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define IPPROTO_IPV6 41
#define IPPROTO_ROUTING 43
#define IPPROTO_FRAGMENT 44
#define IPPROTO_ESP 50
#define IPPROTO_AH 51
#define IPPROTO_ICMPV6 58
#define IPPROTO_NONE 59
#define IPPROTO_DSTOPTS 60
#define IPPROTO_SCTP 132
#define IPPROTO_RAW 255

#define STR2(a, b) ((__u64)(a) | (__u64)(b) << 8)
#define STR3(a, b, c) (STR2(a, b) | (__u64)(c) << 16)
#define STR4(a, b, c, d) (STR3(a, b, c) | (__u64)(d) << 24)
#define STR5(a, b, c, d, e) (STR4(a, b, c, d) | (__u64)(e) << 32)
#define STR6(a, b, c, d, e, f) (STR5(a, b, c, d, e) | (__u64)(f) << 40)
#define STR7(a, b, c, d, e, f, g) (STR6(a, b, c, d, e, f) | (__u64)(g) << 48)
#define STR8(a, b, c, d, e, f, g, h) (STR7(a, b, c, d, e, f, g) | (__u64)(h) << 56)

/* illumos's name of an IP protocol, else its number in decimal. 8 bytes,
 * little-endian, NUL-padded (FRAGMENT fills them). */
static __always_inline __u64 proto_name(__u8 proto)
{
	switch (proto) {
	case IPPROTO_HOPOPTS: return STR7('H', 'O', 'P', 'O', 'P', 'T', 'S');
	case IPPROTO_ICMP: return STR4('I', 'C', 'M', 'P');
	case IPPROTO_IGMP: return STR4('I', 'G', 'M', 'P');
	case IPPROTO_TCP: return STR3('T', 'C', 'P');
	case IPPROTO_UDP: return STR3('U', 'D', 'P');
	case IPPROTO_IPV6: return STR4('I', 'P', 'v', '6');
	case IPPROTO_ROUTING: return STR5('R', 'O', 'U', 'T', 'E');
	case IPPROTO_FRAGMENT: return STR8('F', 'R', 'A', 'G', 'M', 'E', 'N', 'T');
	case IPPROTO_ESP: return STR3('E', 'S', 'P');
	case IPPROTO_AH: return STR2('A', 'H');
	case IPPROTO_ICMPV6: return STR6('I', 'C', 'M', 'P', 'v', '6');
	case IPPROTO_NONE: return STR4('N', 'O', 'N', 'E');
	case IPPROTO_DSTOPTS: return STR7('D', 'S', 'T', 'O', 'P', 'T', 'S');
	case IPPROTO_SCTP: return STR4('S', 'C', 'T', 'P');
	case IPPROTO_RAW: return STR3('R', 'A', 'W');
	}
	if (proto >= 100)
		return STR3('0' + proto / 100, '0' + proto / 10 % 10, '0' + proto % 10);
	if (proto >= 10)
		return STR2('0' + proto / 10, '0' + proto % 10);
	return '0' + proto;
}

#endif
