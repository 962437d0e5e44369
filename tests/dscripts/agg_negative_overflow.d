/*
 * Negative values sort before positive ones; avg() truncates toward zero
 * like C; sum() wraps around at 64 bits as dtrace's does; min/max keep
 * negative extremes.
 */
#pragma D option quiet

BEGIN
{
	@s["minus ten"] = sum(-10);
	@s["three"] = sum(3);
	@s["minus five"] = sum(-5);

	@a = avg(-7);
	@a = avg(-8);

	big = 0x7fffffffffffffff;
	@wrap = sum(big);
	@wrap = sum(1);

	@lo = min(-9223372036854775807 - 1);
	@hi = max(-1);
	exit(0);
}
