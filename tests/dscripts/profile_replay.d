/*
 * profile-N in a replay: a capture has no CPUs to sample, so profile
 * probes fire like tick-N, once per interval of capture time from BEGIN,
 * on CPU 0. Probes of equal intervals (profile-2hz, profile-500ms) both
 * fire; ties fire in program order.
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

profile-2hz
{
	printf("%4d ms profile-2hz on CPU %d\n", (timestamp - start) / 1000000, cpu);
}

tick-1s
{
	printf("%4d ms tick-1s\n", (timestamp - start) / 1000000);
}

profile-500ms
{
	printf("%4d ms profile-500ms\n", (timestamp - start) / 1000000);
}

profile-1500ms
{
	@fired[probename] = count();
}
