/* Item 7: operators with C precedence and associativity, ?:, casts,
 * sizeof, stringof, literals and escapes. */
BEGIN
{
	a = 1 + 2 * 3 - 4 / 2 % 3;
	b = 1 << 2 + 1;
	c = 1 < 2 == 1;
	d = 6 & 3 ^ 1 | 8;
	e = 1 || 0 && 0;
	f = 1 ^^ 1;
	g = !0 + ~0 + -1 + +1;
	h = a ? b : c ? d : e;
	i = (char)300 + (unsigned char)255 + (short)-1 + (uint32_t)-1 + (long long)1;
	j = sizeof(int) + sizeof (uint64_t) + sizeof a + sizeof(char);
	k = 0x1F + 017 + 10u + 10l + 10ul + 10ll + 10ULL + 0;
	l = 'a' + '\n' + '\0' + '\377' + 'ab';
	m = "\a\b\f\n\r\t\v\\\"\'\?\101\x41";
	n = stringof("s");
	o = a = b = 3;
	p = 18446744073709551615 + 4294967295 + 2147483648;
	q = a++ + ++a - b-- - --b;
	r = (a + b) * (c - d);
	s2 = -9 / 2 + -9 % 2 + 9u / 2;
	t = a > b ? "yes" : "no";
	u = a >= b && a <= b || a != b;
	v = a >> 1 | b << 1;
	trace(a);
}
