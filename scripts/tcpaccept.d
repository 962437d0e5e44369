#!/usr/sbin/dtrace -s
/*
 * tcpaccept.d - inbound TCP connections by remote host and local port.
 *
 * USAGE:	rdtrace -s tcpaccept.d		# hit Ctrl-C to end
 *
 * Counts the connections this host accepted (tcp:::accept-established:
 * the final ACK of a handshake we answered arrived), keyed by the remote
 * address and the local port it connected to, and prints them when
 * tracing ends, busiest last.
 *
 * FIELDS:
 *		HOST		remote IP address
 *		LPORT		local TCP port (the service)
 *		ACCEPTS		connections accepted
 *
 * Written for rdtrace in the style of the DTraceToolkit network scripts.
 */

#pragma D option quiet

dtrace:::BEGIN
{
	printf("Tracing inbound TCP connections... Hit Ctrl-C to end.\n");
}

tcp:::accept-established
{
	@accepts[args[3]->tcps_raddr, args[3]->tcps_lport] = count();
}

dtrace:::END
{
	printf("%-39s %6s %10s\n", "HOST", "LPORT", "ACCEPTS");
	printa("%-39s %6d %@10d\n", @accepts);
}
