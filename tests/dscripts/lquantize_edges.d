/*
 * lquantize(): values below the range count in "< low", values at or above
 * high in ">= high"; the rows around the data are clipped at those two
 * buckets. An aggregation entirely below the range shows "< low" and the
 * first level; entirely above, the last level and ">= high".
 */
#pragma D option quiet

BEGIN
{
	@l["spread"] = lquantize(-5, 0, 100, 10);
	@l["spread"] = lquantize(0, 0, 100, 10);
	@l["spread"] = lquantize(55, 0, 100, 10);
	@l["spread"] = lquantize(100, 0, 100, 10);
	@l["spread"] = lquantize(1000, 0, 100, 10);

	@l["below"] = lquantize(-20, 0, 100, 10);
	@l["above"] = lquantize(500, 0, 100, 10);
	@l["middle"] = lquantize(42, 0, 100, 10);
	exit(0);
}
