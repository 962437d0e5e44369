/*
 * Dynamic variables are bounded by dynvarsize: 48 bytes hold three
 * integer-keyed integers (8 + 8 each). Two more are dropped and reported
 * on stderr; storing 0 frees a variable, so a later one fits again.
 * Reading a dropped variable gives 0.
 */
#pragma D option quiet
#pragma D option dynvarsize=48

BEGIN
{
	a[1] = 10;
	a[2] = 20;
	a[3] = 30;
	a[4] = 40;
	a[5] = 50;
	a[1] = 0;
	a[6] = 60;
	printf("%d %d %d %d %d %d\n", a[1], a[2], a[3], a[4], a[5], a[6]);
	exit(0);
}
