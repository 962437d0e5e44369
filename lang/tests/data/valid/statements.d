/* Item 4: expression statements, assignment and compound assignment,
 * ++/--, if/else, empty statements, a last statement without `;`. */
BEGIN
{
	x = 1;
	x += 2; x -= 1; x *= 3; x /= 2; x %= 5;
	x <<= 2; x >>= 1; x &= 0xff; x |= 0x100; x ^= 3;
	x++; x--; ++x; --x;
	;;
	if (x > 3) y = 1; else y = 2;
	if (x == 1) {
		y = 10;
	} else if (x == 2) {
		y = 20;
	} else {
		y = 30;
	}
	if (y) { trace(y); }
	x, y;
	trace(x)
}
