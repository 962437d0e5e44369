/*
 * Prints every tcp provider probe that concerns port $1 as
 * "probe key=value ...", for the provider tests.
 */
#pragma D option quiet
#pragma D option switchrate=20hz

dtrace:::BEGIN
{
	printf("ready\n");
}

tcp:::state-change
/args[3]->tcps_lport == $1 || args[3]->tcps_rport == $1/
{
	printf("state-change laddr=%s lport=%d raddr=%s rport=%d old=%s new=%s ",
	    args[3]->tcps_laddr, args[3]->tcps_lport,
	    args[3]->tcps_raddr, args[3]->tcps_rport,
	    tcp_state_string[args[5]->tcps_state],
	    tcp_state_string[args[3]->tcps_state]);
	printf("cid=%x active=%d iss=%u irs=%u\n", args[1]->cs_cid,
	    args[3]->tcps_active, args[3]->tcps_iss, args[3]->tcps_irs);
}

tcp:::send, tcp:::receive,
tcp:::connect-request, tcp:::connect-established, tcp:::connect-refused,
tcp:::accept-established, tcp:::accept-refused
/args[4]->tcp_sport == $1 || args[4]->tcp_dport == $1/
{
	printf("%s laddr=%s lport=%d raddr=%s rport=%d state=%s ",
	    probename, args[3]->tcps_laddr, args[3]->tcps_lport,
	    args[3]->tcps_raddr, args[3]->tcps_rport,
	    tcp_state_string[args[3]->tcps_state]);
	printf("saddr=%s sport=%d daddr=%s dport=%d flags=%d seq=%u ack=%u ",
	    args[2]->ip_saddr, args[4]->tcp_sport,
	    args[2]->ip_daddr, args[4]->tcp_dport,
	    args[4]->tcp_flags, args[4]->tcp_seq, args[4]->tcp_ack);
	printf("iss=%u irs=%u snxt=%u rnxt=%u mss=%u cid=%x pid=%d\n",
	    args[3]->tcps_iss, args[3]->tcps_irs, args[3]->tcps_snxt,
	    args[3]->tcps_rnxt, args[3]->tcps_mss, args[1]->cs_cid,
	    args[1]->cs_pid);
}
