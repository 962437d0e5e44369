#!/usr/sbin/dtrace -s
/*
 * tcpsize.d - distributions of TCP payload sizes, by direction.
 *
 * USAGE:	rdtrace -s tcpsize.d		# hit Ctrl-C to end
 *
 * For every segment that carries data, records its payload size (IP
 * payload minus the TCP header) in a power-of-two distribution, one for
 * segments sent and one for segments received. The distributions are
 * printed when tracing ends, in dtrace's quantize layout: each row is a
 * bucket from its value up to the next row's, with a bar of '@' for its
 * share of the segments and the count.
 *
 * Written for rdtrace in the style of the DTraceToolkit network scripts.
 */

#pragma D option quiet

dtrace:::BEGIN
{
	printf("Tracing TCP payload sizes... Hit Ctrl-C to end.\n");
}

tcp:::send
/args[2]->ip_plength - args[4]->tcp_offset > 0/
{
	@size["sent (bytes)"] = quantize(args[2]->ip_plength - args[4]->tcp_offset);
}

tcp:::receive
/args[2]->ip_plength - args[4]->tcp_offset > 0/
{
	@size["received (bytes)"] = quantize(args[2]->ip_plength - args[4]->tcp_offset);
}
