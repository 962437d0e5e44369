/* x++ and op= create int64 variables; a predicate may use what its own
   clause's actions create */
BEGIN
/y == 0/
{
	x++;
	n[1, "a"] += 2;
	y = 1;
}
