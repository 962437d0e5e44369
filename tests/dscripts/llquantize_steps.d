/*
 * llquantize(value, 10, 0, 2, 10): "< 1", then ten linear steps per order
 * of magnitude (1..9, 10..90, 100..900), then ">= 1000".
 */
#pragma D option quiet

BEGIN
{
	@ll = llquantize(0, 10, 0, 2, 10);
	@ll = llquantize(5, 10, 0, 2, 10);
	@ll = llquantize(55, 10, 0, 2, 10);
	@ll = llquantize(55, 10, 0, 2, 10);
	@ll = llquantize(999, 10, 0, 2, 10);
	@ll = llquantize(5000, 10, 0, 2, 10);
	exit(0);
}
