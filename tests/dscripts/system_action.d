/*
 * system() with -w runs its command through sh when the clause completes;
 * the command's output comes after what was printed before it and before
 * what comes after. A clause abandoned by a fault runs no command.
 */
#pragma D option quiet

BEGIN
{
	printf("before\n");
	system("echo '%s %d'", "from sh", 42);
	printf("after\n");
	zero = 0;
}

BEGIN
{
	system("echo never run");
	x = 1 / zero;
}

BEGIN
{
	raise(0);	/* signal 0 checks the process exists; it sends nothing */
	exit(0);
}
