/* An integer args[N] (ip:::send's args[3]) and argN. */
ip:::send
{
	trace(args[3]);
	trace(args[3] + 1);
	trace(arg3);
	trace(args[2]->ip_saddr);
	trace((*args[2]).ip_daddr);
}
