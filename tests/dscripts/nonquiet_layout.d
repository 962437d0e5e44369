/*
 * Without quiet, dtrace prints a heading before the first record, then a
 * line per clause that records something: CPU, probe ID and
 * FUNCTION:NAME, then what the clause traced (integers by size: a uint16_t
 * in 5 columns after a space). A clause with no actions records the bare
 * line; a clause that only aggregates records nothing.
 */

BEGIN
{
}

tcp:::receive
{
	trace(args[4]->tcp_dport);
}

tcp:::receive
{
	@segments = count();
}

END
{
	printa(@segments);
}
