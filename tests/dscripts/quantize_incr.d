/*
 * The optional weight of quantize(value, incr), lquantize(..., incr) and
 * llquantize(..., incr); a value in quantize's last bucket (2^62 and up)
 * shows the bucket before it and no row after.
 */
#pragma D option quiet

BEGIN
{
	@q["weighted"] = quantize(5, 3);
	@q["weighted"] = quantize(1, 1);
	@q["top"] = quantize(0x7fffffffffffffff, 2);
	@l = lquantize(3, 0, 10, 5, 4);
	@ll = llquantize(20, 10, 1, 2, 10, 7);
	exit(0);
}
