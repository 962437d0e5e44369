/*
 * self-> variables belong to a thread (keyed by tid): what BEGIN stores is
 * seen again in END (both run in rdtrace's own thread) but not in the
 * receives, which a capture replays with tid 0. Assigning 0 frees one.
 */
#pragma D option quiet

BEGIN
{
	self->mine = 1;
	self->gone = 5;
	self->gone = 0;
}

tcp:::receive
/self->mine/
{
	printf("never: a receive does not run on BEGIN's thread\n");
}

tcp:::receive
/!self->seen/
{
	self->seen = 1;
	printf("first receive on tid %d\n", tid);
}

tcp:::receive
{
	self->n++;
}

END
{
	printf("END: mine=%d gone=%d seen=%d n=%d\n", self->mine, self->gone, self->seen, self->n);
}
