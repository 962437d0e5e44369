/*
 * normalize(@a, n) divides what printa shows (the data is kept: after
 * denormalize the raw values print again); avg and quantize counts are
 * normalized too. The exit-time print honours the normalization.
 */
#pragma D option quiet

BEGIN
{
	@s["a"] = sum(1000);
	@s["b"] = sum(3500);
	@q = quantize(8, 4000);
	@m = avg(6000);
	normalize(@s, 1000);
	normalize(@q, 1000);
	normalize(@m, 1000);
	printa(@s);
	printa("%s=%@d\n", @s);
	denormalize(@s);
	printa("%s=%@d\n", @s);
	exit(0);
}
