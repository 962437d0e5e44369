#!/usr/sbin/dtrace -s
/*
 * tcpconnect.d - outbound TCP connections by remote host and port.
 *
 * USAGE:	rdtrace -s tcpconnect.d		# hit Ctrl-C to end
 *
 * Counts the connections this host opened whose handshake completed
 * (tcp:::connect-established: our SYN was answered by a SYN|ACK), keyed
 * by the remote address and port, and prints them when tracing ends,
 * busiest last.
 *
 * FIELDS:
 *		HOST		remote IP address
 *		PORT		remote TCP port
 *		CONNECTS	connections established
 *
 * Written for rdtrace in the style of the DTraceToolkit network scripts.
 */

#pragma D option quiet

dtrace:::BEGIN
{
	printf("Tracing outbound TCP connections... Hit Ctrl-C to end.\n");
}

tcp:::connect-established
{
	@connects[args[3]->tcps_raddr, args[3]->tcps_rport] = count();
}

dtrace:::END
{
	printf("%-39s %6s %10s\n", "HOST", "PORT", "CONNECTS");
	printa("%-39s %6d %@10d\n", @connects);
}
