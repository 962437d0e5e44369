/*
 * String subroutines, including dtrace's NULL results: strchr, strrchr,
 * strstr and strtok return NULL when nothing is found (rdtrace: the empty
 * string, which compares equal to NULL); strtok(NULL, …) goes on with the
 * previous string; index/rindex return -1 when not found, and rindex finds
 * nothing before a negative start.
 */
#pragma D option quiet

BEGIN
{
	s = "fooeyfooeyfoo";
	printf("[%s] [%s] [%s]\n", strchr(s, 'y'), strrchr(s, 'y'), strstr(s, "eyf"));
	printf("%d %d %d\n", strchr(s, 'z') == NULL, strstr(s, "zz") != NULL, strchr(s, 'f') != NULL);

	printf("[%s]", strtok("a,b,,c", ","));
	printf("[%s]", strtok(NULL, ","));
	printf("[%s]", strtok(NULL, ","));
	printf("[%s] %d\n", strtok(NULL, ","), strtok(NULL, ",") == NULL);

	printf("%d %d %d %d\n", index(s, "ey"), index(s, "ey", 4), index(s, "zz"), index(s, "", 200));
	printf("%d %d %d %d\n", rindex(s, "ey"), rindex(s, "ey", 8), rindex(s, "ey", -1), rindex("", "a"));

	printf("%d [%s] [%s] [%s]\n", strlen(s), substr(s, 5), substr(s, -3), substr(s, 1, 3));
	printf("[%s] [%s] [%s]\n", strjoin("tcp", "/80"), toupper("Mixed 1"), tolower("Mixed 1"));
	printf("[%s] [%s] [%s]\n", lltostr(-42), lltostr(255, 16), lltostr(8, 2));
	exit(0);
}
