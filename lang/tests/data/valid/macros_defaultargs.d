/* Missing macro arguments read as 0 and "" with defaultargs. */
#pragma D option defaultargs
BEGIN
{
	port = $1;
	name = $$2;
}
