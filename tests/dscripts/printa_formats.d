/*
 * printa() with a format: conversions take the keys in order, each %@
 * the next aggregation's value; several aggregations join on their keys
 * (a missing value is 0) and sort by the first one's values. %@u shows a
 * negative sum as unsigned; a %@ beyond the last aggregation repeats
 * it; %@d of a distribution prints the whole
 * distribution in place. No leading newline with a format.
 */
#pragma D option quiet

BEGIN
{
	@c["tcp", 80] = count();
	@c["tcp", 80] = count();
	@c["udp", 53] = count();
	@s["tcp", 80] = sum(-1000);
	@s["udp", 53] = sum(512);
	@s["sctp", 9] = sum(7);

	printa("%-6s %5d %@8d\n", @c);
	printa("%s:%d count=%@d sum=%@d\n", @c, @s);
	printa("%s %@u %@x\n", @s, @s);
	printa("%s %@d %@d\n", @s);

	@q = quantize(3);
	printa("q:%@d|\n", @q);
	exit(0);
}
