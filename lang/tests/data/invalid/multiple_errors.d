BEGIN
{
	trace(undefined_one);
	trace(undefined_two);
}
