#!/usr/sbin/dtrace -s
/*
 * tcpsummary.d - a per-second summary of TCP activity.
 *
 * USAGE:	rdtrace -s tcpsummary.d		# hit Ctrl-C to end
 *
 * Every second prints the time, then the segments and payload bytes
 * received and sent in that second, the connections opened and accepted,
 * and the three remote hosts that exchanged the most payload with this
 * host; then starts the next second from zero (trunc). A direction or
 * host with no traffic in a second is not shown.
 *
 * Written for rdtrace in the style of the DTraceToolkit network scripts.
 */

#pragma D option quiet

dtrace:::BEGIN
{
	printf("Summarising TCP activity every second... Hit Ctrl-C to end.\n");
}

tcp:::receive
{
	this->bytes = args[2]->ip_plength - args[4]->tcp_offset;
	@segments["received"] = count();
	@bytes["received"] = sum(this->bytes);
	@hosts[args[2]->ip_saddr] = sum(this->bytes);
}

tcp:::send
{
	this->bytes = args[2]->ip_plength - args[4]->tcp_offset;
	@segments["sent"] = count();
	@bytes["sent"] = sum(this->bytes);
	@hosts[args[2]->ip_daddr] = sum(this->bytes);
}

tcp:::connect-established
{
	@connections["opened"] = count();
}

tcp:::accept-established
{
	@connections["accepted"] = count();
}

profile:::tick-1s
{
	printf("%Y\n", walltimestamp);
	printa("  %-10s %@8d segments %@10d bytes\n", @segments, @bytes);
	printa("  %-10s %@8d connections\n", @connections);
	trunc(@hosts, 3);
	printa("  top host %-39s %@10d bytes\n", @hosts);
	trunc(@segments);
	trunc(@bytes);
	trunc(@connections);
	trunc(@hosts);
}
