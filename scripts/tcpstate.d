#!/usr/sbin/dtrace -s
/*
 * tcpstate.d - TCP state transitions, with the time spent in each state.
 *
 * USAGE:	rdtrace -s tcpstate.d		# hit Ctrl-C to end
 *
 * Prints a line for every tcp:::state-change: the connection, the state
 * it left and the state it entered, and how long (in microseconds) it had
 * been in the state it left: since its previous transition, or since
 * tracing began for the first transition seen. A connection is forgotten
 * once it is closed (or in TIME_WAIT, which Linux ends without an event).
 *
 * FIELDS:
 *		DELTA(us)	time in the previous state, microseconds
 *		LOCAL		local address:port
 *		REMOTE		remote address:port
 *		OLD -> NEW	the transition
 *
 * Written for rdtrace in the style of the DTraceToolkit network scripts.
 */

#pragma D option quiet
#pragma D option switchrate=10hz

/* When each connection last changed state, by its addresses and ports. */
uint64_t last[string, int, string, int];

dtrace:::BEGIN
{
	start = timestamp;
	printf("%10s %-26s %-26s %s\n", "DELTA(us)", "LOCAL", "REMOTE", "OLD -> NEW");
}

tcp:::state-change
{
	this->key_last = last[args[3]->tcps_laddr, args[3]->tcps_lport,
	    args[3]->tcps_raddr, args[3]->tcps_rport];
	this->since = this->key_last ? this->key_last : start;
	printf("%10d %-26s %-26s %s -> %s\n", (timestamp - this->since) / 1000,
	    strjoin(strjoin(args[3]->tcps_laddr, ":"), lltostr(args[3]->tcps_lport)),
	    strjoin(strjoin(args[3]->tcps_raddr, ":"), lltostr(args[3]->tcps_rport)),
	    tcp_state_string[args[5]->tcps_state],
	    tcp_state_string[args[3]->tcps_state]);
	last[args[3]->tcps_laddr, args[3]->tcps_lport,
	    args[3]->tcps_raddr, args[3]->tcps_rport] = timestamp;
}

tcp:::state-change
/args[3]->tcps_state == TCP_STATE_CLOSED || args[3]->tcps_state == TCP_STATE_TIME_WAIT/
{
	last[args[3]->tcps_laddr, args[3]->tcps_lport,
	    args[3]->tcps_raddr, args[3]->tcps_rport] = 0;
}
