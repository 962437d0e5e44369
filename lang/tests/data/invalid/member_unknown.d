tcp:::send
{
	printf("%d\n", args[4]->tcp_bogus);
}
