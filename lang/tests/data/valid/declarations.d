/* Item 6: declarations and inline definitions. */
int x;
int last[int];
this int n;
self string s;
unsigned long long big;
uint16_t port;
static int st;
string names[string, int];
inline int LIMIT = 10 * 2;
inline string GREETING = "hello";
inline uint8_t SMALL = 300;

BEGIN
{
	x = LIMIT;
	last[1] = x;
	this->n = 3;
	self->s = GREETING;
	big = 1;
	port = SMALL;
	names["a", 1] = "b";
	trace(last[1] + this->n);
}
