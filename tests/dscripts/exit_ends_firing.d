/*
 * exit() ends the tracing at once: the later clauses of the same tcp
 * firing do not run and no later event is processed, but END still runs
 * (and the rest of a BEGIN or END firing too, being dtrace-provider probes).
 */
#pragma D option quiet

BEGIN
{
	exit(3);
}

BEGIN
{
	printf("BEGIN goes on after exit()\n");
}

tcp:::receive
{
	printf("never: BEGIN exited before the first event\n");
}

END
{
	printf("END\n");
}
