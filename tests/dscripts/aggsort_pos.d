/*
 * aggsortpos=1 sorts a printa of several aggregations by the second one's
 * values first (ties by the others', in turn); aggsortkeypos=1 breaks ties
 * by the second key first.
 */
#pragma D option quiet
#pragma D option aggsortpos=1
#pragma D option aggsortkeypos=1

BEGIN
{
	@x["p", 3] = sum(1);
	@y["p", 3] = sum(30);
	@x["q", 1] = sum(2);
	@y["q", 1] = sum(10);
	@x["r", 2] = sum(3);
	@y["r", 2] = sum(20);
	@x["s", 0] = sum(4);
	@y["s", 0] = sum(20);
	printa("%s %d %@d %@d\n", @x, @y);

	@z["p", 3] = count();
	@z["q", 1] = count();
	@z["q", 1] = count();
	@z["r", 2] = count();
	@z["s", 0] = count();
	printa("%s %d %@d\n", @z);
	exit(0);
}
