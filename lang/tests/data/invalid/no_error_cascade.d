/* One error for the bad assignment, none for the later uses of x. */
BEGIN
{
	x = nosuchthing + 1;
	trace(x);
	x++;
	this->y = undefined_too;
	trace(this->y);
}
