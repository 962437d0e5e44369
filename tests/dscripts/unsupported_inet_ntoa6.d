/* inet_ntoa6() reads an in6_addr from memory: a clear compile error. */
tcp:::receive
{
	trace(inet_ntoa6(args[2]->ip_saddr));
}
