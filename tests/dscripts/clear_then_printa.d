/*
 * clear() zeroes the values but keeps the keys: printa() then shows every
 * key with 0 (sorted by key, as all values tie), and a later update starts
 * from zero. avg/min/max/quantize clear the same way.
 */
#pragma D option quiet

BEGIN
{
	@n["beta"] = sum(20);
	@n["alpha"] = sum(10);
	@n["gamma"] = sum(30);
	@mean = avg(100);
	clear(@n);
	clear(@mean);
	printf("after clear:");
	printa(@n);
	@n["gamma"] = sum(3);
	printf("after update:");
	printa("%s=%@d\n", @n);
	exit(0);
}
