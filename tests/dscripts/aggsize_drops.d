/*
 * Aggregation storage is bounded by aggsize, counted as rdtrace really
 * stores it: 400 bytes hold one table with three integer-keyed counts
 * (a table of 4 slots, 288 bytes, and 32 bytes per key); a second
 * aggregation's table does not fit, nor does a fourth key (the table
 * would double). A new key that does not fit is dropped and reported on
 * stderr (charged to the CPU of the event: 0 in a replay), existing keys
 * still update, and trunc() frees room.
 */
#pragma D option quiet
#pragma D option aggsize=400

tcp:::receive
{
	@n[1] = count();
	@n[2] = count();
	@s["a"] = count();		/* another table: no room */
	@n[3] = count();
	@n[4] = count();					/* no room */
	@n[1] = count();
	printa(@n);
	trunc(@n, 1);
	@n[5] = count();
	printa(@n);
}
