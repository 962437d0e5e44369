/* opts: -w */
/* Destructive actions are accepted with -w. */
tick-1s
{
	system("echo %d %s", pid, execname);
	raise(9);
	stop();
	exit(1);
}
