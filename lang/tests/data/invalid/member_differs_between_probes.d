tcp:::send, ip:::send
{
	trace(args[2]->ip_saddr);
}
