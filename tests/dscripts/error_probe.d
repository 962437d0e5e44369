/*
 * A division by a zero known only at run time abandons its clause (and
 * what the clause printed in this firing), reports dtrace's message on
 * stderr and fires ERROR with arg1 = the enabled probe ID, arg2 = the
 * action number and arg4 = the fault code (DTRACEFLT_DIVZERO, 4); the
 * next clause of the same firing still runs.
 */
#pragma D option quiet

BEGIN
{
	x = 0;
}

BEGIN
{
	printf("discarded ");
	y = 1 / x;
	printf("never printed\n");
}

BEGIN
{
	printf("the next clause runs\n");
}

ERROR
{
	printf("ERROR: epid %d, action %d, fault %d, divide-by-zero %d\n", arg1, arg2, arg4, arg4 == DTRACEFLT_DIVZERO);
}
