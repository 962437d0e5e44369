#!/usr/sbin/dtrace -s
/*
 * 200lines.d - the compile benchmark of bench/run.sh (section 5).
 *
 * A TCP segment classifier in the style of the DTrace Toolkit: every segment
 * is sorted by direction, size, flags, address class and port range, running
 * totals are kept in globals, and one line per interesting segment is printed.
 * It uses what most tcp-provider scripts use: predicates, clause-local
 * this-> variables, globals, ternaries, if/else, arithmetic, comparisons,
 * string functions on the addresses and printf. (No aggregations, so that it
 * measures the compiler rather than the aggregation code.)
 */

#pragma D option quiet
#pragma D option switchrate=10hz

inline int MSS = 1448;
inline int SMALL = 64;

dtrace:::BEGIN
{
	segments = 0;
	sent = 0;
	received = 0;
	bytes_out = 0;
	bytes_in = 0;
	syns = 0;
	fins = 0;
	rsts = 0;
	pushes = 0;
	urgents = 0;
	ecn = 0;
	pure_acks = 0;
	small = 0;
	full = 0;
	large = 0;
	loopback = 0;
	private = 0;
	documentation = 0;
	other = 0;
	well_known = 0;
	ephemeral = 0;
	last_seq = 0;
	out_of_order = 0;
	biggest = 0;
	printf("%-4s %3s %16s:%-5s %16s:%-5s %6s %-6s %s\n", "DIR", "CPU",
	    "SADDR", "SPORT", "DADDR", "DPORT", "BYTES", "SIZE", "FLAGS");
}

/* Per-segment facts shared by the clauses below. */
tcp:::send,
tcp:::receive
{
	this->len = args[2]->ip_plength - args[4]->tcp_offset;
	this->flags = args[4]->tcp_flags;
	this->syn = (this->flags & TH_SYN) != 0;
	this->fin = (this->flags & TH_FIN) != 0;
	this->rst = (this->flags & TH_RST) != 0;
	this->ack = (this->flags & TH_ACK) != 0;
	this->psh = (this->flags & TH_PUSH) != 0;
	this->urg = (this->flags & TH_URG) != 0;
	this->ece = (this->flags & (TH_ECE | TH_CWR)) != 0;
	this->size = this->len == 0 ? "empty" : this->len < SMALL ? "small" :
	    this->len < MSS ? "medium" : this->len == MSS ? "full" : "large";
	this->hdr_words = args[4]->tcp_offset / 4;
	this->options = args[4]->tcp_offset > 20 ? args[4]->tcp_offset - 20 : 0;
	segments++;
}

tcp:::send
{
	this->dir = "->";
	this->local = args[2]->ip_saddr;
	this->remote = args[2]->ip_daddr;
	this->lport = args[4]->tcp_sport;
	this->rport = args[4]->tcp_dport;
	sent++;
	bytes_out += this->len;
}

tcp:::receive
{
	this->dir = "<-";
	this->local = args[2]->ip_daddr;
	this->remote = args[2]->ip_saddr;
	this->lport = args[4]->tcp_dport;
	this->rport = args[4]->tcp_sport;
	received++;
	bytes_in += this->len;
}

/* Flag counters. */
tcp:::send,
tcp:::receive
/this->syn/
{
	syns++;
	this->what = this->ack ? "SYN|ACK" : "SYN";
}

tcp:::send,
tcp:::receive
/this->fin || this->rst/
{
	fins += this->fin ? 1 : 0;
	rsts += this->rst ? 1 : 0;
}

tcp:::send,
tcp:::receive
/this->psh/
{
	pushes++;
}

tcp:::send,
tcp:::receive
/this->urg || this->ece/
{
	urgents += this->urg;
	ecn += this->ece;
}

tcp:::send,
tcp:::receive
/this->ack && this->len == 0 && !(this->syn || this->fin || this->rst)/
{
	pure_acks++;
}

/* Sizes. */
tcp:::send,
tcp:::receive
/this->len > 0/
{
	if (this->len < SMALL) {
		small++;
	} else if (this->len <= MSS) {
		full++;
	} else {
		large++;
	}
	biggest = this->len > biggest ? this->len : biggest;
}

/* Address classes, from the text of the remote address. */
tcp:::send,
tcp:::receive
{
	this->first = substr(this->remote, 0, index(this->remote, "."));
	this->v6 = index(this->remote, ":") >= 0;
	if (this->remote == "127.0.0.1" || this->remote == "::1") {
		loopback++;
		this->class = "loop";
	} else if (this->first == "10" || this->first == "192" && substr(this->remote, 0, 8) == "192.168.") {
		private++;
		this->class = "private";
	} else if (substr(this->remote, 0, 10) == "192.0.2." || substr(this->remote, 0, 11) == "198.51.100."
	    || substr(this->remote, 0, 12) == "203.0.113.") {
		documentation++;
		this->class = "doc";
	} else {
		other++;
		this->class = this->v6 ? "ipv6" : "ipv4";
	}
}

/* Port ranges. */
tcp:::send,
tcp:::receive
{
	this->service = this->rport < 1024 ? this->rport : this->lport < 1024 ? this->lport : 0;
	well_known += this->service != 0 ? 1 : 0;
	ephemeral += this->service == 0 ? 1 : 0;
	this->name = this->service == 22 ? "ssh" : this->service == 80 ? "http" :
	    this->service == 443 ? "https" : this->service == 53 ? "dns" :
	    this->service == 25 ? "smtp" : this->service == 0 ? "-" : "other";
	this->endpoint = strjoin(strjoin(this->remote, ":"), lltostr(this->rport));
}

/* Sequence numbers: a crude out-of-order detector for data we send. */
tcp:::send
/this->len > 0/
{
	this->seq = args[4]->tcp_seq;
	this->expected = last_seq;
	out_of_order += this->expected != 0 && this->seq < this->expected &&
	    this->expected - this->seq < 1000000 ? 1 : 0;
	last_seq = this->seq + this->len;
}

/* One line per connection event. */
tcp:::send,
tcp:::receive
/this->syn || this->fin || this->rst/
{
	printf("%-4s %3d %16s:%-5d %16s:%-5d %6d %-6s %s%s%s%s%s\n", this->dir, cpu,
	    args[2]->ip_saddr, args[4]->tcp_sport, args[2]->ip_daddr, args[4]->tcp_dport,
	    this->len, this->size,
	    this->syn ? "SYN " : "", this->fin ? "FIN " : "", this->rst ? "RST " : "",
	    this->ack ? "ACK " : "", this->ece ? "ECN " : "");
}

/* Unusual segments get a longer description. */
tcp:::send,
tcp:::receive
/this->urg || this->len > MSS || this->options > 20/
{
	printf("%-4s %s %s (%s, %s) len=%d hdr=%d words opts=%d seq=%u ack=%u win=%d%s\n",
	    this->dir, this->class, this->endpoint, this->name, this->size,
	    this->len, this->hdr_words, this->options,
	    args[4]->tcp_seq, args[4]->tcp_ack, args[4]->tcp_window,
	    this->urg ? " URGENT" : "");
}

/* Every 100000 segments, the running totals. */
tcp:::send,
tcp:::receive
/segments % 100000 == 0/
{
	printf("%d segments: %d sent (%d bytes), %d received (%d bytes)\n",
	    segments, sent, bytes_out, received, bytes_in);
	printf("  flags: %d SYN, %d FIN, %d RST, %d PUSH, %d URG, %d ECN, %d pure ACK\n",
	    syns, fins, rsts, pushes, urgents, ecn, pure_acks);
	printf("  sizes: %d small, %d up to MSS, %d larger (biggest %d)\n", small, full, large, biggest);
	printf("  peers: %d loopback, %d private, %d documentation, %d other\n",
	    loopback, private, documentation, other);
	printf("  ports: %d well-known, %d ephemeral; %d out of order\n", well_known, ephemeral, out_of_order);
}

dtrace:::END
{
	printf("\n%d segments (%d out, %d in), %d bytes out, %d bytes in\n",
	    segments, sent, received, bytes_out, bytes_in);
	printf("SYN %d  FIN %d  RST %d  PUSH %d  URG %d  ECN %d  pure ACK %d\n",
	    syns, fins, rsts, pushes, urgents, ecn, pure_acks);
	printf("average payload %d bytes\n", segments > 0 ? (bytes_out + bytes_in) / segments : 0);
}
