#!/usr/sbin/dtrace -s
/*
 * tcprefused.d - refused TCP connections, in both directions.
 *
 * USAGE:	rdtrace -s tcprefused.d		# hit Ctrl-C to end
 *
 * Counts connection attempts that were refused with a RST: ours, refused
 * by a remote host (tcp:::connect-refused, keyed by the remote address
 * and the port we tried), and remote hosts' attempts this host refused
 * (tcp:::accept-refused, e.g. nothing listens on the port; keyed by the
 * remote address and the local port they tried). Both tables are printed
 * when tracing ends, most refusals last.
 *
 * The probes fire on the RST segment: for connect-refused it is received
 * (its source is the remote host), for accept-refused it is sent (its
 * destination is the remote host, its source port the refused port).
 *
 * Written for rdtrace in the style of the DTraceToolkit network scripts.
 */

#pragma D option quiet

dtrace:::BEGIN
{
	printf("Tracing refused TCP connections... Hit Ctrl-C to end.\n");
}

tcp:::connect-refused
{
	@refused_us[args[2]->ip_saddr, args[4]->tcp_sport] = count();
}

tcp:::accept-refused
{
	@refused_them[args[2]->ip_daddr, args[4]->tcp_sport] = count();
}

dtrace:::END
{
	printf("Connections refused by remote hosts:\n");
	printf("%-39s %6s %8s\n", "HOST", "PORT", "REFUSED");
	printa("%-39s %6d %@8d\n", @refused_us);
	printf("\nConnections refused by this host:\n");
	printf("%-39s %6s %8s\n", "HOST", "LPORT", "REFUSED");
	printa("%-39s %6d %@8d\n", @refused_them);
}
