/* opts: -Z */
/* With -Z a description that matches nothing is allowed. */
tcp:::no-such-probe, tcp:::send
{
	trace(args[4]->tcp_sport);
}
nothing:::here
{
	trace(pid);
}
