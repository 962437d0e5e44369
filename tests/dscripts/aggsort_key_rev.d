/*
 * aggsortkey sorts rows by key instead of by value, aggsortrev reverses
 * the order (and the order in which the exit-time print takes the
 * aggregations).
 */
#pragma D option quiet
#pragma D option aggsortkey
#pragma D option aggsortrev

BEGIN
{
	@a["b", 1] = sum(5);
	@a["a", 2] = sum(1);
	@a["a", 1] = sum(9);
	@c = count();
	@d = sum(3);
	printa(@a);
	exit(0);
}
