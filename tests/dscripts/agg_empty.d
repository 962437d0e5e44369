/*
 * An aggregation whose clause never fires has no keys: printa() without a
 * format prints just its leading newline, with a format nothing, and the
 * exit-time print skips it. A truncated aggregation is empty too.
 */
#pragma D option quiet

tcp:::send
/0/
{
	@never = count();
	@never_keyed[args[2]->ip_daddr] = sum(args[2]->ip_plength);
}

BEGIN
{
	@gone["x"] = count();
	trunc(@gone);
	printf("[");
	printa(@never);
	printf("][");
	printa("%s %@d\n", @never_keyed);
	printf("]\n");
	exit(0);
}
