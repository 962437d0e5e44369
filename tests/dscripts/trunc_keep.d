/*
 * trunc(@a, n) keeps the n largest values, trunc(@a, -n) the n smallest,
 * trunc(@a) removes every key; printa() prints what is left, smallest
 * value first, after its leading newline.
 */
#pragma D option quiet

BEGIN
{
	@big["a"] = sum(1);
	@big["b"] = sum(5);
	@big["c"] = sum(-3);
	@big["d"] = sum(9);
	@big["e"] = sum(2);

	@small["a"] = sum(1);
	@small["b"] = sum(5);
	@small["c"] = sum(-3);
	@small["d"] = sum(9);
	@small["e"] = sum(2);

	@gone["x"] = count();

	trunc(@big, 2);
	trunc(@small, -2);
	trunc(@gone);
	printf("largest two:");
	printa(@big);
	printf("smallest two:");
	printa(@small);
	printf("none:");
	printa(@gone);
	exit(0);
}
