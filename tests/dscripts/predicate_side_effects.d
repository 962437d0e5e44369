/*
 * Clauses of one firing run in program order: a predicate sees what the
 * earlier clauses of the same firing did (the counter n, the this->data
 * flag), and this-> variables die with the firing.
 */
#pragma D option quiet

tcp:::receive
{
	n++;
}

tcp:::receive
/n == 2/
{
	printf("receive #2 carries %d bytes\n", args[2]->ip_plength - args[4]->tcp_offset);
}

tcp:::receive
/args[2]->ip_plength - args[4]->tcp_offset > 0/
{
	this->data = 1;
	bytes += args[2]->ip_plength - args[4]->tcp_offset;
}

tcp:::receive
/this->data/
{
	printf("receive #%d: data, %d bytes so far\n", n, bytes);
}

tcp:::receive
/!this->data/
{
	printf("receive #%d: no data\n", n);
}

END
{
	printf("%d receives, %d bytes\n", n, bytes);
}
