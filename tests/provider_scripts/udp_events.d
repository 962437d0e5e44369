/*
 * Prints every udp provider probe for datagrams from or to port $1 as
 * "probe key=value ...", for the provider tests.
 */
#pragma D option quiet
#pragma D option switchrate=20hz

dtrace:::BEGIN
{
	printf("ready\n");
}

udp:::send, udp:::receive
/args[4]->udp_sport == $1 || args[4]->udp_dport == $1/
{
	printf("%s saddr=%s sport=%d daddr=%s dport=%d length=%d plen=%d ",
	    probename, args[2]->ip_saddr, args[4]->udp_sport,
	    args[2]->ip_daddr, args[4]->udp_dport, args[4]->udp_length,
	    args[2]->ip_plength);
	printf("laddr=%s lport=%d raddr=%s rport=%d\n",
	    args[3]->udps_laddr, args[3]->udps_lport,
	    args[3]->udps_raddr, args[3]->udps_rport);
}
