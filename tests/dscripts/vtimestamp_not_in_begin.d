/* vtimestamp is read in the kernel when a probe fires: BEGIN has none, a clear compile error. */
BEGIN
{
	trace(vtimestamp);
}
