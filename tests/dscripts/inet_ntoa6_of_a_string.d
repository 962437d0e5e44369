/* inet_ntoa6() takes a pointer to an in6_addr_t (copied in), not a string. */
tcp:::receive
{
	trace(inet_ntoa6(args[2]->ip_saddr));
}
