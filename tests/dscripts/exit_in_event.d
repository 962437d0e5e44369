/*
 * exit() in a tcp:::receive clause: the clauses after it in that firing
 * and every later event are skipped; END sees the state exit() left.
 */
#pragma D option quiet

tcp:::receive
{
	n++;
}

tcp:::receive
/n == 2/
{
	exit(0);
}

tcp:::receive
{
	printf("receive %d\n", n);
}

END
{
	printf("END after %d receives\n", n);
}
