BEGIN { @a = llquantize(3, 10, 0, 2, 5); }
