#!/usr/sbin/dtrace -s
/*
 * tcpbytes.d - TCP payload bytes by remote host and local port.
 *
 * USAGE:	rdtrace -s tcpbytes.d		# hit Ctrl-C to end
 *
 * Sums the payload (IP payload minus the TCP header) of every segment
 * sent and received, keyed by the remote address, the local port and the
 * direction, and prints the totals when tracing ends, largest last.
 * Segments without payload (pure ACKs, SYNs, FINs) add nothing.
 *
 * FIELDS:
 *		HOST		remote IP address
 *		LPORT		local TCP port
 *		DIR		in (received) or out (sent)
 *		BYTES		payload bytes
 *
 * Written for rdtrace in the style of the DTraceToolkit network scripts.
 */

#pragma D option quiet

dtrace:::BEGIN
{
	printf("Tracing TCP payload bytes... Hit Ctrl-C to end.\n");
}

tcp:::receive
{
	@bytes[args[2]->ip_saddr, args[4]->tcp_dport, "in"] =
	    sum(args[2]->ip_plength - args[4]->tcp_offset);
}

tcp:::send
{
	@bytes[args[2]->ip_daddr, args[4]->tcp_sport, "out"] =
	    sum(args[2]->ip_plength - args[4]->tcp_offset);
}

dtrace:::END
{
	printf("%-39s %6s %4s %12s\n", "HOST", "LPORT", "DIR", "BYTES");
	printa("%-39s %6d %4s %@12d\n", @bytes);
}
