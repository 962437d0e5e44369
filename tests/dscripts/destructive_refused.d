/* Without -w (or #pragma D option destructive) dtrace will not enable a
   program with destructive actions. */
BEGIN
{
	system("echo never");
	exit(0);
}
