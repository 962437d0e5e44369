/* vtimestamp needs the kernel's per-thread CPU time: a clear compile error. */
BEGIN
{
	trace(vtimestamp);
}
