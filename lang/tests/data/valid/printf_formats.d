/* printf conversions checked against argument types. */
tcp:::send
{
	printf("%d %i %u %x %X %o %c\n", 1, 2, 3u, 4, 5, 6, 'c');
	printf("%s %16s %-16s %.3s\n", execname, execname, args[2]->ip_saddr, "abcdef");
	printf("%*d %-*d %.*s\n", 5, 1, 6, 2, 3, "abc");
	printf("%lld %llu %ld %hd %hu\n", (long long)timestamp, timestamp, 1l, (short)1, (unsigned short)2);
	printf("%p %%\n", 0x1000);
	printf("%Y\n", walltimestamp);
	printf("no conversions\n");
	@c[execname] = count();
}
END
{
	printa("%-16s %@8u\n", @c);
}
