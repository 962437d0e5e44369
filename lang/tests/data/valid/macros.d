/* opts: $1=42 $2=hello $3=0x10 $4=-5 */
/* Macro variables: integers, strings with $$, $target. */
BEGIN
{
	a = $1 + $3 + $4;
	b = $$2;
	c = $$1;
	d = $target;
	e = $$0;
}
