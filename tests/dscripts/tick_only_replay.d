/*
 * A script with only BEGIN and tick-N over a capture in which no probe
 * fires: ticks still follow the capture's clock (from its first frame to
 * its last), as they would follow wall time live.
 */
#pragma D option quiet

BEGIN
{
	start = timestamp;
}

tick-1s
{
	printf("%d ms tick-1s\n", (timestamp - start) / 1000000);
}
