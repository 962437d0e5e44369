/*
 * tick-N in a replay follows the capture's clock: ticks are due every
 * interval from BEGIN (the first packet's time) and fire, in time order
 * with the events, when the capture reaches them. A bare number is Hz;
 * ms, s and hz are units. Ticks due after the last packet never fire.
 */
#pragma D option quiet

BEGIN
{
	start = timestamp;
}

tcp:::receive
{
	printf("%4d ms receive\n", (timestamp - start) / 1000000);
}

tick-500ms
{
	printf("%4d ms tick-500ms\n", (timestamp - start) / 1000000);
}

tick-1s
{
	printf("%4d ms tick-1s\n", (timestamp - start) / 1000000);
}

tick-4
{
	printf("%4d ms tick-4 (4 Hz)\n", (timestamp - start) / 1000000);
}

tick-2hz
{
	@two_hz = count();
}
