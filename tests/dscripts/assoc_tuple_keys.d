/*
 * Associative arrays keyed by tuples of strings and integers: keys compare
 * by value (a string built at run time finds the entry a literal made),
 * an unset element reads as 0 or "", ++ and += work on elements.
 */
#pragma D option quiet

BEGIN
{
	port["http", 80] = 1;
	port["http", 8080] = 2;
	port["ssh", 22] = 3;
	port[strjoin("ht", "tp"), 80] += 10;
	port["ssh", 22]++;
	name[443] = "https";
	name[22] = "ssh";
	printf("%d %d %d %d\n", port["http", 80], port["http", 8080], port["ssh", 22], port["ssh", 23]);
	printf("[%s] [%s] [%s]\n", name[443], name[22], name[80]);
	exit(0);
}
