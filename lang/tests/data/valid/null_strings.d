BEGIN
/strchr("abc", 'z') == NULL && NULL != strtok("a b", " ")/
{
	trace(strtok(NULL, " "));
	@q = quantize(3, 2);
	@l = lquantize(3, 0, 10, 1, 5);
	@ll = llquantize(3, 10, 0, 2, 10, 7);
}
