BEGIN
{
	x = 1; // D has no line comments
}
