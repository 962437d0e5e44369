/* curpsinfo is read in the kernel when a kernel probe fires: BEGIN has none. */
BEGIN
{
	trace(curpsinfo->pr_psargs);
}
