/* Subroutines with their arities and types. */
tcp:::send
{
	a = strlen(execname);
	b = strjoin(args[2]->ip_saddr, ":");
	c = substr(b, 1);
	c = substr(b, 1, 3);
	d = index(b, ".") + rindex(b, ".", 2);
	e = strchr(b, '.');
	e = strrchr(b, '.');
	e = strstr(b, "10");
	e = strtok(b, ".");
	f = lltostr(args[2]->ip_plength);
	f = lltostr(42, 16);
	g = toupper(execname);
	g = tolower(execname);
	h = ntohs(args[4]->tcp_sport) + htons(80) + ntohl(1) + htonl(1);
	i = inet_ntoa(0x0100007f);
	j = rand();
	strlen("traced");
}
