/*
 * Prints every ip provider probe for packets from or to address $$1 as
 * "probe key=value ...", for the provider tests.
 */
#pragma D option quiet
#pragma D option switchrate=20hz

dtrace:::BEGIN
{
	printf("ready\n");
}

ip:::send, ip:::receive
/args[2]->ip_saddr == $$1 || args[2]->ip_daddr == $$1/
{
	printf("%s ver=%d plen=%d saddr=%s daddr=%s if=%s local=%d ",
	    probename, args[2]->ip_ver, args[2]->ip_plength,
	    args[2]->ip_saddr, args[2]->ip_daddr,
	    args[3]->if_name, args[3]->if_local);
	printf("v4proto=%s v4protocol=%d v4len=%d v4ihl=%d v4ttl=%d v4saddr=%s ",
	    args[4]->ipv4_protostr, args[4]->ipv4_protocol,
	    args[4]->ipv4_length, args[4]->ipv4_ihl, args[4]->ipv4_ttl,
	    args[4]->ipv4_saddr);
	printf("v6next=%s v6nexthdr=%d v6plen=%d v6hlim=%d v6daddr=%s\n",
	    args[5]->ipv6_nextstr, args[5]->ipv6_nexthdr,
	    args[5]->ipv6_plen, args[5]->ipv6_hlim, args[5]->ipv6_daddr);
}
