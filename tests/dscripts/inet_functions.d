/*
 * Address and byte-order subroutines. rdtrace has no pointers, so
 * inet_ntoa() and inet_ntop(AF_INET, …) take the IPv4 address as an
 * integer holding its bytes in network order (htonl of the host-order
 * number); the IPv6 forms are refused at compile time (see
 * unsupported_inet_ntoa6.d).
 */
#pragma D option quiet

BEGIN
{
	printf("%s %s\n", inet_ntoa(htonl(0xc0000208)), inet_ntop(AF_INET, htonl(0xc6336405)));
	printf("%d %d %d %d\n", ntohs(0x1234), htons(0x1234), ntohl(1), htonl(0x01020304));
	printf("%d %d\n", ntohs(htons(443)), ntohl(htonl(0xdeadbeef)) == 0xdeadbeef);
	exit(0);
}
