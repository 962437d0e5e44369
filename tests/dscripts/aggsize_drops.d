/*
 * Aggregation storage is bounded by aggsize: 48 bytes hold three
 * integer-keyed counts (8 for the key + 8 for the count, each; a string
 * key takes strsize bytes, as in dtrace). A new key that does not fit is
 * dropped and reported on stderr (charged to the CPU of the event: 0 in a
 * replay), existing keys still update, and trunc() frees room.
 */
#pragma D option quiet
#pragma D option aggsize=48

tcp:::receive
{
	@n[1] = count();
	@n[2] = count();
	@s["a"] = count();		/* a string key takes strsize (256) bytes: no room */
	@n[3] = count();
	@n[4] = count();					/* no room */
	@n[1] = count();
	printa(@n);
	trunc(@n, 1);
	@n[5] = count();
	printa(@n);
}
