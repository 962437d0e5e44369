/* #pragma D option destructive allows system() as -w does. */
#pragma D option quiet
#pragma D option destructive

BEGIN
{
	system("printf 'allowed by the pragma\\n'");
	exit(0);
}
