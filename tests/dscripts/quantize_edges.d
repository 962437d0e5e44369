/*
 * quantize(): 0 has its own bucket; powers of two start a bucket; negative
 * values fall in the bucket of the power of two at or below them (-3 in -2);
 * one empty row is shown on each side of the data. Keys print before their
 * distribution; distributions sort by their weighted sum.
 */
#pragma D option quiet

BEGIN
{
	@q["zero"] = quantize(0);

	@q["pow2"] = quantize(1);
	@q["pow2"] = quantize(2);
	@q["pow2"] = quantize(3);
	@q["pow2"] = quantize(4);
	@q["pow2"] = quantize(7);
	@q["pow2"] = quantize(8);
	@q["pow2"] = quantize(1024);

	@q["negative"] = quantize(-1);
	@q["negative"] = quantize(-2);
	@q["negative"] = quantize(-3);
	@q["negative"] = quantize(-5);
	exit(0);
}
